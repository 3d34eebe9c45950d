/* test_id: UUIDv4 text, tracking codes and their validators. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hl_alloc.h"
#include "hl_id.h"

#define S_MANY 10000

static int s_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts `n` strings and asserts no two are equal. */
static void s_assert_unique(char **v, size_t n)
{
    qsort(v, n, sizeof *v, s_cmp);
    for (size_t i = 1; i < n; i++)
        assert_string_not_equal(v[i - 1], v[i]);
}

static void test_uuid_format(void **state)
{
    (void)state;
    for (int k = 0; k < 1000; k++) {
        char u[HL_UUID_LEN + 1];
        memset(u, 'x', sizeof u);
        hl_uuid_new(u);
        assert_int_equal(strlen(u), 36);
        for (int i = 0; i < 36; i++) {
            if (i == 8 || i == 13 || i == 18 || i == 23)
                assert_int_equal(u[i], '-');
            else
                assert_non_null(strchr("0123456789abcdef", u[i]));
        }
        /* Version 7, RFC 9562 variant (10xx). */
        assert_int_equal(u[14], '7');
        assert_non_null(strchr("89ab", u[19]));
        assert_true(hl_uuid_valid(u));
    }
}

/* The first 48 bits are the time in ms: now, and ids made later sort
 * after ids made a few milliseconds earlier. */
static void test_uuid_time_ordered(void **state)
{
    (void)state;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long long now =
        (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
    char a[HL_UUID_LEN + 1], b[HL_UUID_LEN + 1];
    hl_uuid_new(a);
    char hex[13];
    memcpy(hex, a, 8);
    memcpy(hex + 8, a + 9, 4);
    hex[12] = '\0';
    unsigned long long ms = strtoull(hex, NULL, 16);
    assert_true(ms >= now && ms < now + 60000);
    struct timespec pause = {0, 3000000};
    nanosleep(&pause, NULL);
    hl_uuid_new(b);
    assert_true(strcmp(a, b) < 0);
}

static void test_uuid_unique(void **state)
{
    (void)state;
    char **v = hl_calloc(S_MANY, sizeof *v);
    for (size_t i = 0; i < S_MANY; i++) {
        v[i] = hl_malloc(HL_UUID_LEN + 1);
        hl_uuid_new(v[i]);
    }
    s_assert_unique(v, S_MANY);
    /* Random bits really vary: every hex position after the time (the
     * first 12 digits) and the version takes several values. */
    for (int i = 14; i < 36; i++) {
        if (i == 18 || i == 23 || i == 14)
            continue;
        int seen[128] = {0}, distinct = 0;
        for (size_t k = 0; k < S_MANY; k++)
            if (!seen[(int)v[k][i]]++)
                distinct++;
        assert_true(distinct >= (i == 19 ? 4 : 16));
    }
    for (size_t i = 0; i < S_MANY; i++)
        free(v[i]);
    free(v);
}

static void test_uuid_valid(void **state)
{
    (void)state;
    assert_true(hl_uuid_valid("123e4567-e89b-42d3-a456-426614174000"));
    assert_true(hl_uuid_valid("123E4567-E89B-42D3-A456-426614174000"));
    assert_true(hl_uuid_valid("00000000-0000-0000-0000-000000000000"));
    static const char *const bad[] = {
        "",
        "123e4567-e89b-42d3-a456-42661417400",    /* 35 */
        "123e4567-e89b-42d3-a456-4266141740000",  /* 37 */
        "123e4567e89b42d3a456426614174000",       /* no dashes */
        "123e4567-e89b-42d3-a456_426614174000",   /* wrong separator */
        "123e456-7e89b-42d3-a456-426614174000",   /* dash misplaced */
        "123e4567-e89b-42d3-a456-42661417400g",   /* not hex */
        "{123e4567-e89b-42d3-a456-426614174000}", /* braces */
        " 23e4567-e89b-42d3-a456-426614174000",   /* space */
        "123e4567-e89b-42d3-a456-42661417400\n",  /* newline */
        "123e4567-e89b-42d3-a456-4266141740'0",   /* quote */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(hl_uuid_valid(bad[i]));
    assert_false(hl_uuid_valid(NULL));
}

static void test_tracking_format(void **state)
{
    (void)state;
    for (int k = 0; k < 1000; k++) {
        char t[HL_TRACKING_LEN + 1];
        memset(t, 'x', sizeof t);
        hl_tracking_new(t);
        assert_int_equal(strlen(t), 12);
        assert_int_equal(t[0], 'H');
        assert_int_equal(t[1], 'L');
        for (int i = 2; i < 12; i++) {
            assert_non_null(strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", t[i]));
            assert_null(strchr("ILOU", t[i]));
        }
        assert_true(hl_tracking_valid(t));
    }
}

static void test_tracking_unique(void **state)
{
    (void)state;
    char **v = hl_calloc(S_MANY, sizeof *v);
    int seen[128] = {0}, distinct = 0;
    for (size_t i = 0; i < S_MANY; i++) {
        v[i] = hl_malloc(HL_TRACKING_LEN + 1);
        hl_tracking_new(v[i]);
        assert_true(hl_tracking_valid(v[i]));
        for (int k = 2; k < 12; k++)
            if (!seen[(int)v[i][k]]++)
                distinct++;
    }
    /* The whole 32-character alphabet is used. */
    assert_int_equal(distinct, 32);
    s_assert_unique(v, S_MANY);
    for (size_t i = 0; i < S_MANY; i++)
        free(v[i]);
    free(v);
}

static void test_tracking_valid(void **state)
{
    (void)state;
    assert_true(hl_tracking_valid("HL0123456789"));
    assert_true(hl_tracking_valid("HLABCDEFGHJK"));
    assert_true(hl_tracking_valid("HLMNPQRSTVWX"));
    assert_true(hl_tracking_valid("HLYZ00000000"));
    static const char *const bad[] = {
        "",
        "HL",
        "hl0123456789",  /* lower-case prefix */
        "HLabcdefghjk",  /* lower case */
        "HL0123456789A", /* 13 */
        "HL012345678",   /* 11 */
        "HL012345678I",  /* ambiguous I */
        "HL012345678L",  /* ambiguous L */
        "HL012345678O",  /* ambiguous O */
        "HL012345678U",  /* ambiguous U */
        "HX0123456789",  /* wrong prefix */
        "LH0123456789",  /* wrong prefix */
        "AB0123456789",  /* wrong prefix */
        "HL-123456789",  /* separator */
        "HL 123456789",  /* space */
        "HL01234'6789",  /* quote */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(hl_tracking_valid(bad[i]));
    assert_false(hl_tracking_valid(NULL));
}

static void test_random_bytes(void **state)
{
    (void)state;
    unsigned char a[64], b[64];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    hl_random_bytes(a, sizeof a);
    hl_random_bytes(b, sizeof b);
    assert_memory_not_equal(a, b, sizeof a);
    int zeros = 0;
    for (size_t i = 0; i < sizeof a; i++)
        zeros += a[i] == 0;
    assert_true(zeros < 16);
    hl_random_bytes(a, 0); /* nothing to do, must not hang */
}

static void test_uuid_canonical(void **state)
{
    (void)state;
    char out[HL_UUID_LEN + 1] = "untouched";
    assert_false(hl_uuid_canonical(NULL, out));
    assert_false(hl_uuid_canonical("not-a-uuid", out));
    assert_string_equal(out, "untouched");
    assert_true(hl_uuid_canonical("5F0C0E6C-7C43-4A43-9B0C-2F6D3B1A0E11", out));
    assert_string_equal(out, "5f0c0e6c-7c43-4a43-9b0c-2f6d3b1a0e11");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid_canonical),  cmocka_unit_test(test_uuid_format),
        cmocka_unit_test(test_uuid_unique),     cmocka_unit_test(test_uuid_time_ordered),
        cmocka_unit_test(test_uuid_valid),      cmocka_unit_test(test_tracking_format),
        cmocka_unit_test(test_tracking_unique), cmocka_unit_test(test_tracking_valid),
        cmocka_unit_test(test_random_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
