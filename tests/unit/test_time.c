/* test_time: ISO 8601 date-times as every daemon parses and writes them
 * (hl_time.h): offsets, fractions, bare dates at 00:00 UTC+8, calendar
 * checks, and the refusals (no offset, junk, fields out of range). */
#include "hl_time.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define S 1000000LL
/* 2026-11-28T00:00:00Z */
#define NOW_US (1795824000LL * S)

static int64_t s_parse(const char *s)
{
    int64_t us = -42;
    if (!hl_time_parse(s, &us))
        fail_msg("refused %s", s);
    return us;
}

static void test_offsets(void **state)
{
    (void)state;
    assert_int_equal(s_parse("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(s_parse("2026-11-28T00:00:00z"), NOW_US);
    assert_int_equal(s_parse("2026-11-28T08:00:00+08:00"), NOW_US);
    assert_int_equal(s_parse("2026-11-28T08:00:00+0800"), NOW_US);
    assert_int_equal(s_parse("2026-11-28T08:00:00+08"), NOW_US);
    assert_int_equal(s_parse("2026-11-27T18:30:00-05:30"), NOW_US);
    assert_int_equal(s_parse("2026-11-28 08:00+08:00"), NOW_US); /* space, no seconds */
    assert_int_equal(s_parse("2026-11-28t00:00Z"), NOW_US);
    assert_int_equal(s_parse("1994-11-05T08:15:30-05:00"), 784041330LL * S);
    assert_int_equal(s_parse("2024-05-01T19:30:00+14:59"), s_parse("2024-05-01T04:31:00Z"));
}

static void test_fractions(void **state)
{
    (void)state;
    assert_int_equal(s_parse("2026-11-28T00:00:00.5Z"), NOW_US + 500000);
    assert_int_equal(s_parse("2026-11-28T00:00:00,25Z"), NOW_US + 250000);
    assert_int_equal(s_parse("2026-11-28T00:00:00.123456Z"), NOW_US + 123456);
    /* Past the microsecond the digits are read and dropped, up to nine. */
    assert_int_equal(s_parse("2026-11-28T00:00:00.123456789Z"), NOW_US + 123456);
    assert_int_equal(s_parse("2026-11-28T08:00:00.000001+08:00"), NOW_US + 1);
}

static void test_dates(void **state)
{
    (void)state;
    /* A bare date is the day that starts at 00:00 China time (UTC+8). */
    assert_int_equal(s_parse("2026-11-28"), NOW_US - 8 * 3600 * S);
    int y = 0, m = 0, d = 0;
    assert_true(hl_date_parse("2024-05-31", &y, &m, &d));
    assert_int_equal(y, 2024);
    assert_int_equal(m, 5);
    assert_int_equal(d, 31);
    assert_true(hl_date_parse("2000-02-29", &y, &m, &d));
    static const char *const bad[] = {"1900-02-29", "2100-02-29",       "2024-06-31",
                                      "31/05/2024", "2024-5-31",        "2024-05-31 ",
                                      "",           "2024-05-31T00:00", "1899-12-31"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        y = -1;
        if (hl_date_parse(bad[i], &y, &m, &d))
            fail_msg("accepted %s", bad[i]);
        assert_int_equal(y, -1); /* untouched */
    }
    assert_false(hl_date_parse(NULL, &y, &m, &d));
}

static void test_leap_days(void **state)
{
    (void)state;
    int y, m, d;
    int64_t us;
    assert_true(hl_date_parse("2024-02-29", &y, &m, &d));
    assert_true(hl_time_parse("2024-02-29", &us));
    assert_true(hl_time_parse("2024-02-29T12:00-0130", &us));
    assert_int_equal(us, s_parse("2024-02-29T13:30:00Z"));
    assert_int_equal(s_parse("2024-03-01T00:00:00Z") - s_parse("2024-02-28T00:00:00Z"),
                     2 * 86400 * S);
    assert_false(hl_date_parse("2026-02-29", &y, &m, &d));
    assert_false(hl_time_parse("2026-02-29", &us));
    assert_false(hl_time_parse("2026-02-29T00:00:00Z", &us));
    assert_false(hl_time_parse("2023-02-29T00:00:00Z", &us));
    assert_false(hl_time_parse("2100-02-29T00:00:00Z", &us));
    assert_true(hl_time_parse("2000-02-29T00:00:00Z", &us));
}

static void test_refusals(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "yesterday",
        "2026-11-28T08:00:00",       /* no offset: ambiguous */
        "2026-11-28T08:00",          /* no offset */
        "2026-11-28 08:00:00",       /* no offset */
        "2026-13-01",                /* month */
        "2026-00-10",                /* month */
        "2026-11-31",                /* day */
        "2026-11-00",                /* day */
        "1899-12-31T00:00:00Z",      /* before 1900 */
        "2026-11-28T24:00:00Z",      /* hour */
        "2026-11-28T08:60Z",         /* minute */
        "2026-11-28T08:00:60Z",      /* second */
        "2026-11-28T08:00:00+15:00", /* offset hours */
        "2026-11-28T08:00:00+08:60", /* offset minutes */
        "2026-11-28T08:00:00+8",     /* one-digit offset */
        "2026-11-28T08:00:00+08:0",
        "2026-11-28T08:00:00Zjunk", /* trailing garbage */
        "2026-11-28T08:00:00+08:00x",
        "2026-11-28x",
        "2026-11-28T",
        "2026-11-28T8:00Z",
        "2026-11-28T08:00:00.Z",           /* empty fraction */
        "2026-11-28T08:00:00.1234567890Z", /* ten fraction digits */
        "26-11-28",
        "2026/11/28",
        "2026-1-28",
        "9999999999-01-01",
        "1' OR '1'='1",
    };
    int64_t us = 7;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (hl_time_parse(bad[i], &us))
            fail_msg("accepted %s", bad[i]);
    assert_int_equal(us, 7); /* untouched */
    assert_false(hl_time_parse(NULL, &us));
}

static void test_format_round_trip(void **state)
{
    (void)state;
    char out[40];
    hl_time_format(NOW_US + 123456, out);
    assert_string_equal(out, "2026-11-28T00:00:00.123456Z");
    hl_time_format(0, out);
    assert_string_equal(out, "1970-01-01T00:00:00.000000Z");
    hl_time_format(-1, out);
    assert_string_equal(out, "1969-12-31T23:59:59.999999Z");
    static const char *const in[] = {"2024-02-29T23:59:59.999999+08:00", "2026-11-28",
                                     "1900-01-01T00:00:00Z", "2099-12-31T23:59:59-14:00",
                                     "2000-02-29T12:34:56.5Z"};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        int64_t us = s_parse(in[i]), again;
        hl_time_format(us, out);
        assert_true(hl_time_parse(out, &again));
        assert_int_equal(again, us);
    }
    hl_time_format(s_parse("2024-02-29T23:59:59.999999+08:00"), out);
    assert_string_equal(out, "2024-02-29T15:59:59.999999Z");
    hl_time_format(s_parse("2026-11-28"), out);
    assert_string_equal(out, "2026-11-27T16:00:00.000000Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offsets),  cmocka_unit_test(test_fractions),
        cmocka_unit_test(test_dates),    cmocka_unit_test(test_leap_days),
        cmocka_unit_test(test_refusals), cmocka_unit_test(test_format_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
