/* test_cfg: the declarative config table — defaults, bounds, booleans,
 * unknown HL_* variables, password masking and --help. Each test sets the
 * variables it needs and removes them again; the group hides any HL_*
 * variables of the caller (tests/run.sh exports HL_TEST_PG) while it runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hl_alloc.h"
#include "hl_cfg.h"
#include "hl_err.h"
#include "hl_log.h"

#include <unistd.h>

extern char **environ;

typedef struct {
    const char *url;  /* HL_T_URL */
    long long port;   /* HL_T_PORT */
    long long neg;    /* HL_T_NEG */
    bool flag;        /* HL_T_FLAG */
    bool on;          /* HL_T_ON */
    const char *name; /* HL_T_NAME */
} t_cfg_t;

static const hl_cfg_entry_t s_table[] = {
    {"HL_T_URL", HL_CFG_STR, "postgresql://localhost/x", 0, 0, offsetof(t_cfg_t, url), false,
     "database URL"},
    {"HL_T_PORT", HL_CFG_INT, "8080", 1, 65535, offsetof(t_cfg_t, port), false, "listen port"},
    {"HL_T_NEG", HL_CFG_INT, "-5", -10, 10, offsetof(t_cfg_t, neg), false, "a signed number"},
    {"HL_T_FLAG", HL_CFG_BOOL, "0", 0, 0, offsetof(t_cfg_t, flag), false, "a switch"},
    {"HL_T_ON", HL_CFG_BOOL, "yes", 0, 0, offsetof(t_cfg_t, on), false, "another switch"},
    {"HL_T_NAME", HL_CFG_STR, "", 0, 0, offsetof(t_cfg_t, name), true, "a secret name"},
};
#define S_N (sizeof s_table / sizeof s_table[0])

static const char *const s_extra[] = {"HL_T_OTHER", "HL_T_THIRD", NULL};

/* The caller's HL_* variables, hidden while the group runs. */
static char *s_saved[64];
static int s_nsaved;

static int s_group_setup(void **state)
{
    (void)state;
    bool again = true;
    while (again) {
        again = false;
        for (char **e = environ; e && *e; e++) {
            if (strncmp(*e, "HL_", 3) != 0)
                continue;
            if (s_nsaved < 64)
                s_saved[s_nsaved++] = hl_strdup(*e);
            char *key = hl_strndup(*e, strcspn(*e, "="));
            unsetenv(key);
            free(key);
            again = true;
            break;
        }
    }
    return 0;
}

static int s_group_teardown(void **state)
{
    (void)state;
    for (int i = 0; i < s_nsaved; i++) {
        char *eq = strchr(s_saved[i], '=');
        *eq = '\0';
        setenv(s_saved[i], eq + 1, 1);
        free(s_saved[i]);
    }
    s_nsaved = 0;
    return 0;
}

static void s_unset_all(void)
{
    for (size_t i = 0; i < S_N; i++)
        unsetenv(s_table[i].key);
    unsetenv("HL_T_OTHER");
    unsetenv("HL_T_THIRD");
    unsetenv("HL_T_TYPO");
    unsetenv("HL_T_POR");
}

static int s_setup(void **state)
{
    (void)state;
    s_unset_all();
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    s_unset_all();
    return 0;
}

static int s_load(t_cfg_t *c, char *err, size_t errlen)
{
    memset(c, 0xa5, sizeof *c);
    err[0] = '\0';
    return hl_cfg_load(s_table, S_N, c, s_extra, err, errlen);
}

static void test_defaults(void **state)
{
    (void)state;
    t_cfg_t c;
    char err[256];
    assert_int_equal(s_load(&c, err, sizeof err), 0);
    assert_string_equal(c.url, "postgresql://localhost/x");
    assert_int_equal(c.port, 8080);
    assert_int_equal(c.neg, -5);
    assert_false(c.flag);
    assert_true(c.on);
    assert_string_equal(c.name, "");
    assert_string_equal(err, "");
}

static void test_values_from_environment(void **state)
{
    (void)state;
    setenv("HL_T_URL", "postgresql://db.example/hongling", 1);
    setenv("HL_T_PORT", "65535", 1);
    setenv("HL_T_NEG", "-10", 1);
    setenv("HL_T_FLAG", "TRUE", 1);
    setenv("HL_T_ON", "off", 1);
    t_cfg_t c;
    char err[256];
    assert_int_equal(s_load(&c, err, sizeof err), 0);
    assert_string_equal(c.url, "postgresql://db.example/hongling");
    assert_int_equal(c.port, 65535);
    assert_int_equal(c.neg, -10);
    assert_true(c.flag);
    assert_false(c.on);
    setenv("HL_T_PORT", "1", 1);
    setenv("HL_T_NEG", "10", 1);
    assert_int_equal(s_load(&c, err, sizeof err), 0);
    assert_int_equal(c.port, 1);
    assert_int_equal(c.neg, 10);
}

static void test_bools(void **state)
{
    (void)state;
    static const char *const yes[] = {"1", "true", "yes", "on", "Yes", "ON"};
    static const char *const no[] = {"0", "false", "no", "off", "False", "NO"};
    t_cfg_t c;
    char err[256];
    for (size_t i = 0; i < 6; i++) {
        setenv("HL_T_FLAG", yes[i], 1);
        assert_int_equal(s_load(&c, err, sizeof err), 0);
        assert_true(c.flag);
        setenv("HL_T_FLAG", no[i], 1);
        assert_int_equal(s_load(&c, err, sizeof err), 0);
        assert_false(c.flag);
    }
}

static void test_bad_bools(void **state)
{
    (void)state;
    static const char *const bad[] = {"2", "", "maybe", "y", "n", "truee", " 1", "1 "};
    t_cfg_t c;
    char err[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("HL_T_ON", bad[i], 1);
        assert_int_equal(s_load(&c, err, sizeof err), HL_ECONFIG);
        assert_non_null(strstr(err, "HL_T_ON"));
        assert_non_null(strstr(err, "boolean"));
    }
}

static void test_int_out_of_range(void **state)
{
    (void)state;
    static const char *const bad[] = {"0", "65536", "-1", "100000000000"};
    t_cfg_t c;
    char err[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("HL_T_PORT", bad[i], 1);
        assert_int_equal(s_load(&c, err, sizeof err), HL_ECONFIG);
        assert_non_null(strstr(err, "HL_T_PORT"));
        assert_non_null(strstr(err, "out of range"));
        assert_non_null(strstr(err, "[1, 65535]"));
    }
    unsetenv("HL_T_PORT");
    setenv("HL_T_NEG", "-11", 1);
    assert_int_equal(s_load(&c, err, sizeof err), HL_ECONFIG);
    assert_non_null(strstr(err, "HL_T_NEG"));
    assert_non_null(strstr(err, "-11"));
}

static void test_int_not_a_number(void **state)
{
    (void)state;
    static const char *const bad[] = {"",   "abc", "80x", "8.5", "0x50", "99999999999999999999999",
                                      "1e3"};
    t_cfg_t c;
    char err[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("HL_T_PORT", bad[i], 1);
        assert_int_equal(s_load(&c, err, sizeof err), HL_ECONFIG);
        assert_non_null(strstr(err, "HL_T_PORT"));
        assert_non_null(strstr(err, "whole number"));
    }
}

static void test_unknown_variable_refused(void **state)
{
    (void)state;
    t_cfg_t c;
    char err[256];
    setenv("HL_T_TYPO", "1", 1);
    assert_int_equal(s_load(&c, err, sizeof err), HL_ECONFIG);
    assert_non_null(strstr(err, "\"HL_T_TYPO\""));
    unsetenv("HL_T_TYPO");
    /* A prefix of a known key is not that key. */
    setenv("HL_T_POR", "80", 1);
    assert_int_equal(s_load(&c, err, sizeof err), HL_ECONFIG);
    assert_non_null(strstr(err, "\"HL_T_POR\""));
    unsetenv("HL_T_POR");
    assert_int_equal(s_load(&c, err, sizeof err), 0);
}

static void test_other_prefixes_ignored(void **state)
{
    (void)state;
    t_cfg_t c;
    char err[256];
    setenv("HLX_T_WHATEVER", "1", 1);
    setenv("hl_t_lower", "1", 1);
    assert_int_equal(s_load(&c, err, sizeof err), 0);
    unsetenv("HLX_T_WHATEVER");
    unsetenv("hl_t_lower");
}

static void test_extra_known_accepted(void **state)
{
    (void)state;
    t_cfg_t c;
    char err[256];
    setenv("HL_T_OTHER", "anything", 1);
    setenv("HL_T_THIRD", "", 1);
    assert_int_equal(s_load(&c, err, sizeof err), 0);
    assert_int_equal(c.port, 8080);
    /* Without the extra list the same keys are refused. */
    assert_int_equal(hl_cfg_load(s_table, S_N, &c, NULL, err, sizeof err), HL_ECONFIG);
    assert_non_null(strstr(err, "HL_T_"));
}

static void s_mask(const char *in, const char *want)
{
    char out[256];
    hl_cfg_mask_url(in, out, sizeof out);
    assert_string_equal(out, want);
}

static void test_mask_url(void **state)
{
    (void)state;
    s_mask("postgresql://alice:s3cret@db.example:5432/hongling",
           "postgresql://alice:***@db.example:5432/hongling");
    s_mask("postgres://u:p@h/d", "postgres://u:***@h/d");
    /* No password: unchanged (the port's colon is after the '@'). */
    s_mask("postgresql://alice@db.example:5432/hongling",
           "postgresql://alice@db.example:5432/hongling");
    s_mask("postgresql://db.example:5432/hongling", "postgresql://db.example:5432/hongling");
    s_mask("tcp://127.0.0.1:7100", "tcp://127.0.0.1:7100");
    s_mask("", "");
    /* Keyword form. */
    s_mask("host=db port=5432 password=s3cret dbname=hongling",
           "host=db port=5432 password=*** dbname=hongling");
    s_mask("password=s3cret", "password=***");
    s_mask("host=db dbname=hongling", "host=db dbname=hongling");
}

static void test_mask_url_query_password(void **state)
{
    (void)state;
    /* libpq also takes the password as a URL parameter; what follows it
     * must survive the masking. */
    s_mask("postgresql://alice@db/hongling?password=s3cret&sslmode=disable",
           "postgresql://alice@db/hongling?password=***&sslmode=disable");
    s_mask("postgresql://alice@db/passwords?password=s3cret",
           "postgresql://alice@db/passwords?password=***");
}

static void test_mask_keyword_forms(void **state)
{
    (void)state;
    /* libpq allows spaces around '=' and quoted values. */
    s_mask("host=db password = s3cret dbname=h", "host=db password = *** dbname=h");
    s_mask("host=db password='a b\\' c' dbname=h", "host=db password=*** dbname=h");
    /* Every occurrence, sslpassword included. */
    s_mask("sslpassword=k1 host=db password=s3cret", "sslpassword=*** host=db password=***");
    /* An '@' in the query is not the end of a user:password part. */
    s_mask("postgresql://db:5432/h?user=a@b", "postgresql://db:5432/h?user=a@b");
}

static void test_mask_url_truncates_safely(void **state)
{
    (void)state;
    char out[16];
    memset(out, 'x', sizeof out);
    hl_cfg_mask_url("postgresql://alice:s3cret@db.example/hongling", out, sizeof out);
    assert_int_equal(strlen(out), sizeof out - 1);
    assert_null(strstr(out, "s3cret"));
}

static void test_help_lists_every_key(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    hl_cfg_help(f, "hl-test", s_table, S_N);
    fclose(f);
    assert_non_null(strstr(text, "hl-test"));
    for (size_t i = 0; i < S_N; i++) {
        assert_non_null(strstr(text, s_table[i].key));
        assert_non_null(strstr(text, s_table[i].desc));
    }
    assert_non_null(strstr(text, "1..65535"));
    assert_non_null(strstr(text, "\"8080\""));
    free(text);
}

static void test_log_masks_secrets(void **state)
{
    (void)state;
    setenv("HL_T_URL", "postgresql://alice:s3cret@db/h", 1);
    setenv("HL_T_NAME", "very-secret", 1);
    t_cfg_t c;
    char err[256];
    assert_int_equal(s_load(&c, err, sizeof err), 0);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    int saved = dup(STDERR_FILENO);
    dup2(fds[1], STDERR_FILENO);
    hl_log_init("test_cfg", HL_LOG_INFO);
    hl_cfg_log(s_table, S_N, &c);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fds[1]);
    char out[4096];
    ssize_t n = read(fds[0], out, sizeof out - 1);
    close(fds[0]);
    assert_true(n > 0);
    out[n] = '\0';
    assert_ptr_equal(strchr(out, '\n'), out + n - 1); /* one line */
    assert_null(strstr(out, "s3cret"));
    assert_null(strstr(out, "very-secret"));
    assert_non_null(strstr(out, "HL_T_URL=postgresql://alice:***@db/h"));
    assert_non_null(strstr(out, "HL_T_NAME=***"));
    assert_non_null(strstr(out, "HL_T_PORT=8080"));
    assert_non_null(strstr(out, "HL_T_ON=1"));
    assert_non_null(strstr(out, "HL_T_FLAG=0"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_values_from_environment, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_bools, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_bad_bools, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_int_out_of_range, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_int_not_a_number, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_variable_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_other_prefixes_ignored, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_extra_known_accepted, s_setup, s_teardown),
        cmocka_unit_test(test_mask_url),
        cmocka_unit_test(test_mask_url_query_password),
        cmocka_unit_test(test_mask_keyword_forms),
        cmocka_unit_test(test_mask_url_truncates_safely),
        cmocka_unit_test(test_help_lists_every_key),
        cmocka_unit_test_setup_teardown(test_log_masks_secrets, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
