/* test_log: every hl_log call is exactly one line of valid JSON on stderr
 * with ts, level, service, the object concerned and msg; levels filter.
 * stderr is pointed at a pipe while a test logs, then restored. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "hl_alloc.h"
#include "hl_log.h"

static int s_pipe[2] = {-1, -1};
static int s_saved_stderr = -1;

static void s_capture_start(void)
{
    assert_int_equal(pipe(s_pipe), 0);
    /* Large enough for every test's output; non-blocking so a read of an
     * empty pipe returns at once. */
    fcntl(s_pipe[0], F_SETFL, O_NONBLOCK);
    fcntl(s_pipe[0], F_SETPIPE_SZ, 1 << 20);
    s_saved_stderr = dup(STDERR_FILENO);
    assert_true(s_saved_stderr >= 0);
    assert_int_equal(dup2(s_pipe[1], STDERR_FILENO), STDERR_FILENO);
}

/* Restores stderr and returns everything written meanwhile (caller frees). */
static char *s_capture_end(size_t *len_out)
{
    dup2(s_saved_stderr, STDERR_FILENO);
    close(s_saved_stderr);
    close(s_pipe[1]);
    hl_buf_t b = {0};
    hl_buf_append(&b, "", 0);
    char chunk[4096];
    ssize_t n;
    while ((n = read(s_pipe[0], chunk, sizeof chunk)) > 0)
        hl_buf_append(&b, chunk, (size_t)n);
    close(s_pipe[0]);
    if (len_out)
        *len_out = b.len;
    return b.data;
}

static int s_teardown(void **state)
{
    (void)state;
    hl_log_init("hl", HL_LOG_INFO);
    return 0;
}

/* Parses `line` (exactly one line, ending in '\n') as a JSON object. */
static json_t *s_parse_one_line(const char *text, size_t len)
{
    assert_true(len > 0);
    assert_int_equal(text[len - 1], '\n');
    assert_ptr_equal(strchr(text, '\n'), text + len - 1);
    json_error_t err;
    json_t *j = json_loadb(text, len - 1, JSON_REJECT_DUPLICATES, &err);
    if (!j)
        fail_msg("log line is not JSON (%s): %s", err.text, text);
    assert_true(json_is_object(j));
    return j;
}

static const char *s_str(json_t *j, const char *key)
{
    json_t *v = json_object_get(j, key);
    if (!json_is_string(v))
        fail_msg("log line lacks string \"%s\"", key);
    return json_string_value(v);
}

static void test_one_line_of_json(void **state)
{
    (void)state;
    hl_log_init("hl-test", HL_LOG_DEBUG);
    /* The clock hl_log reads (time(NULL) is coarser and may lag it). */
    struct timeval tv;
    gettimeofday(&tv, NULL);
    time_t before = tv.tv_sec;
    s_capture_start();
    hl_log(HL_LOG_WARN, "appeal", "5f0c2e1a-0000-4000-8000-000000000001",
           "could not insert appeal %d: %s", 812, "duplicate key");
    size_t len;
    char *out = s_capture_end(&len);
    gettimeofday(&tv, NULL);
    time_t after = tv.tv_sec;
    json_t *j = s_parse_one_line(out, len);
    assert_int_equal(json_object_size(j), 5);
    assert_string_equal(s_str(j, "level"), "warn");
    assert_string_equal(s_str(j, "service"), "hl-test");
    assert_string_equal(s_str(j, "appeal"), "5f0c2e1a-0000-4000-8000-000000000001");
    assert_string_equal(s_str(j, "msg"), "could not insert appeal 812: duplicate key");
    /* ts: 2026-11-28T12:00:00.123Z, UTC, now. */
    const char *ts = s_str(j, "ts");
    assert_int_equal(strlen(ts), 24);
    struct tm tm = {0};
    const char *rest = strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm);
    assert_non_null(rest);
    assert_int_equal(rest[0], '.');
    for (int i = 1; i <= 3; i++)
        assert_true(rest[i] >= '0' && rest[i] <= '9');
    assert_string_equal(rest + 4, "Z");
    time_t t = timegm(&tm);
    assert_true(t >= before && t <= after);
    /* Key order as documented: ts, level, service, object, msg. */
    assert_ptr_equal(strstr(out, "{\"ts\":"), out);
    assert_true(strstr(out, "\"level\"") < strstr(out, "\"service\""));
    assert_true(strstr(out, "\"appeal\"") < strstr(out, "\"msg\""));
    json_decref(j);
    free(out);
}

static void test_levels_named(void **state)
{
    (void)state;
    static const char *const names[] = {"debug", "info", "warn", "error"};
    hl_log_init("hl-test", HL_LOG_DEBUG);
    for (int level = HL_LOG_DEBUG; level <= HL_LOG_ERROR; level++) {
        s_capture_start();
        hl_log((hl_log_level_t)level, NULL, NULL, "level %d", level);
        size_t len;
        char *out = s_capture_end(&len);
        json_t *j = s_parse_one_line(out, len);
        assert_string_equal(s_str(j, "level"), names[level]);
        assert_int_equal(json_object_size(j), 4); /* no object without a kind */
        json_decref(j);
        free(out);
    }
    s_capture_start();
    hl_debug("x", "1", "d");
    hl_info("x", "2", "i");
    hl_warn("x", "3", "w");
    hl_error("x", "4", "e");
    size_t len;
    char *out = s_capture_end(&len);
    int lines = 0;
    for (char *p = out; (p = strchr(p, '\n')); p++)
        lines++;
    assert_int_equal(lines, 4);
    free(out);
}

static void test_escaping(void **state)
{
    (void)state;
    hl_log_init("hl \"quoted\" service", HL_LOG_INFO);
    const char *msg = "he said \"stop\"\nsecond line\r\ttab \\ backslash \x01 街道";
    s_capture_start();
    hl_info("ki\"nd", "id\nwith newline", "%s", msg);
    size_t len;
    char *out = s_capture_end(&len);
    json_t *j = s_parse_one_line(out, len);
    assert_string_equal(s_str(j, "msg"), msg);
    assert_string_equal(s_str(j, "service"), "hl \"quoted\" service");
    assert_string_equal(s_str(j, "ki\"nd"), "id\nwith newline");
    json_decref(j);
    free(out);
}

static void test_kind_without_id(void **state)
{
    (void)state;
    hl_log_init("hl-test", HL_LOG_INFO);
    s_capture_start();
    hl_info("db", NULL, "ready");
    size_t len;
    char *out = s_capture_end(&len);
    json_t *j = s_parse_one_line(out, len);
    assert_string_equal(s_str(j, "db"), "");
    assert_string_equal(s_str(j, "msg"), "ready");
    json_decref(j);
    free(out);
}

static void test_long_message(void **state)
{
    (void)state;
    hl_log_init("hl-test", HL_LOG_INFO);
    size_t n = 20000;
    char *big = hl_malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)('a' + i % 26);
    big[n] = '\0';
    s_capture_start();
    hl_info("appeal", "x", "start %s end", big);
    size_t len;
    char *out = s_capture_end(&len);
    json_t *j = s_parse_one_line(out, len);
    const char *m = s_str(j, "msg");
    assert_int_equal(strlen(m), n + 10);
    assert_int_equal(strncmp(m, "start abc", 9), 0);
    assert_string_equal(m + n + 6, " end");
    json_decref(j);
    free(out);
    free(big);
}

static void test_level_filtering(void **state)
{
    (void)state;
    hl_log_init("hl-test", HL_LOG_WARN);
    s_capture_start();
    hl_debug(NULL, NULL, "not shown");
    hl_info(NULL, NULL, "not shown either");
    size_t len;
    char *out = s_capture_end(&len);
    assert_int_equal(len, 0);
    free(out);
    s_capture_start();
    hl_warn(NULL, NULL, "shown");
    hl_error(NULL, NULL, "shown too");
    out = s_capture_end(&len);
    assert_non_null(strstr(out, "\"msg\":\"shown\""));
    assert_non_null(strstr(out, "\"msg\":\"shown too\""));
    assert_null(strstr(out, "not shown"));
    free(out);
    hl_log_init("hl-test", HL_LOG_ERROR);
    s_capture_start();
    hl_warn(NULL, NULL, "hidden");
    out = s_capture_end(&len);
    assert_int_equal(len, 0);
    free(out);
}

static void test_level_parse(void **state)
{
    (void)state;
    assert_int_equal(hl_log_level_parse("debug"), HL_LOG_DEBUG);
    assert_int_equal(hl_log_level_parse("info"), HL_LOG_INFO);
    assert_int_equal(hl_log_level_parse("warn"), HL_LOG_WARN);
    assert_int_equal(hl_log_level_parse("error"), HL_LOG_ERROR);
    assert_int_equal(hl_log_level_parse("warning"), -1);
    assert_int_equal(hl_log_level_parse(""), -1);
    assert_int_equal(hl_log_level_parse("INFO"), -1);
}

static void test_time_us(void **state)
{
    (void)state;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    int64_t a = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
    int64_t t = hl_time_us();
    assert_true(t >= a && t - a < 5000000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_one_line_of_json, s_teardown),
        cmocka_unit_test_teardown(test_levels_named, s_teardown),
        cmocka_unit_test_teardown(test_escaping, s_teardown),
        cmocka_unit_test_teardown(test_kind_without_id, s_teardown),
        cmocka_unit_test_teardown(test_long_message, s_teardown),
        cmocka_unit_test_teardown(test_level_filtering, s_teardown),
        cmocka_unit_test(test_level_parse),
        cmocka_unit_test(test_time_us),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
