/* test_text: the UTF-8 and text-field rules every daemon applies. */
#include "hl_text.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void test_utf8_len_counts_characters(void **state)
{
    (void)state;
    assert_int_equal(hl_utf8_len(""), 0);
    assert_int_equal(hl_utf8_len("abc"), 3);
    assert_int_equal(hl_utf8_len("春江花城"), 4);
    assert_int_equal(hl_utf8_len("a\xf0\x9f\x98\x80z"), 3); /* U+1F600 is one character */
}

static void test_utf8_refuses_what_is_not_utf8(void **state)
{
    (void)state;
    assert_int_equal(hl_utf8_len("\xc0\xaf"), -1);         /* overlong '/' */
    assert_int_equal(hl_utf8_len("\xed\xa0\x80"), -1);     /* surrogate U+D800 */
    assert_int_equal(hl_utf8_len("\xf4\x90\x80\x80"), -1); /* past U+10FFFF */
    assert_int_equal(hl_utf8_len("\xe6\x98"), -1);         /* truncated */
    assert_int_equal(hl_utf8_len("\xff"), -1);
    assert_int_equal(hl_utf8_len("\x80"), -1); /* lone continuation byte */
}

/* What a message quoting a client's bytes goes through before it is sent
 * as JSON or stored as text (fuzz_appeal_json and friends found replies
 * that lost their body to such bytes). */
static void test_utf8_repair(void **state)
{
    (void)state;
    char cut[] = "\"春江花\xe5\x9f\""; /* "%.12s" of "春江花城": the 城 cut in two */
    hl_utf8_repair(cut);
    assert_string_equal(cut, "\"春江花??\"");
    char raw[] = "a\xff\xc0\xaf"
                 "b\xed\xa0\x80\xf0\x9f\x98\x80";
    hl_utf8_repair(raw);
    assert_string_equal(raw, "a???b???\xf0\x9f\x98\x80"); /* the emoji is kept */
    char fine[] = "路灯 ok";
    hl_utf8_repair(fine);
    assert_string_equal(fine, "路灯 ok");
    char empty[] = "";
    hl_utf8_repair(empty);
    assert_string_equal(empty, "");
}

static void test_text_problem(void **state)
{
    (void)state;
    assert_null(hl_text_problem(NULL, 10, false, false));
    assert_string_equal(hl_text_problem(NULL, 10, true, false), "is missing");
    assert_string_equal(hl_text_problem("", 10, true, false), "is empty");
    assert_null(hl_text_problem("", 10, false, false));
    assert_string_equal(hl_text_problem("  \t", 10, true, false), "contains control characters");
    assert_string_equal(hl_text_problem("   ", 10, true, false), "is blank");
    assert_string_equal(hl_text_problem("\xe3\x80\x80", 10, true, false), "is blank"); /* U+3000 */
    assert_string_equal(hl_text_problem("a\x01", 10, true, false), "contains control characters");
    assert_string_equal(hl_text_problem("a\xc2\x85", 10, true, false),
                        "contains control characters");
    assert_null(hl_text_problem("第一行\n第二行", 10, true, true));
    assert_string_equal(hl_text_problem("第一行\n第二行", 10, true, false),
                        "contains control characters");
    assert_null(hl_text_problem("党员中心户", 5, true, false));
    assert_string_equal(hl_text_problem("党员中心户", 4, true, false), "is too long");
    assert_string_equal(hl_text_problem("\xc0\xaf", 8, true, false), "is not valid UTF-8");
}

static void test_text_check_names_the_field(void **state)
{
    (void)state;
    char why[128] = "";
    assert_true(hl_text_check("title", "好", 5, true, false, why, sizeof why));
    assert_false(hl_text_check("title", "好好好好好好", 5, true, false, why, sizeof why));
    assert_string_equal(why, "title is too long (the limit is 5 characters)");
    assert_false(hl_text_check("reason", NULL, 5, true, false, why, sizeof why));
    assert_string_equal(why, "reason is missing");
}

static void test_text_cut(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(hl_text_cut(out, sizeof out, "  路灯\n\n  不亮了\t ", 20),
                     strlen("路灯 不亮了"));
    assert_string_equal(out, "路灯 不亮了");
    hl_text_cut(out, sizeof out, "一二三四五六", 4);
    assert_string_equal(out, "一二三四…");
    hl_text_cut(out, sizeof out, "一二三四", 4);
    assert_string_equal(out, "一二三四"); /* nothing left out: no "…" */
    hl_text_cut(out, sizeof out, "ab   cd ef", 3);
    assert_string_equal(out, "ab…"); /* no space before "…" */
    hl_text_cut(out, sizeof out,
                "a\xff"
                "b",
                10);
    assert_string_equal(out, "a?b");
    hl_text_cut(out, sizeof out, "\xe3\x80\x80x\xe3\x80\x80", 10);
    assert_string_equal(out, "x");
    hl_text_cut(out, sizeof out, NULL, 10);
    assert_string_equal(out, "");
    /* The buffer bounds it too, at a character boundary, with room for "…". */
    char small[11];
    hl_text_cut(small, sizeof small, "一二三四五六", 100);
    assert_string_equal(small, "一二…"); /* 6 + 3 bytes + NUL */
    char tiny[3];
    hl_text_cut(tiny, sizeof tiny, "一二", 100);
    assert_string_equal(tiny, "");
    char exact[10];
    hl_text_cut(exact, sizeof exact, "一二三", 100);
    assert_string_equal(exact, "一二三"); /* fits exactly: nothing cut */
}

static void test_parse_long(void **state)
{
    (void)state;
    long v = -1;
    assert_true(hl_parse_long(NULL, 10, 1, 100, &v));
    assert_int_equal(v, 10);
    assert_true(hl_parse_long("1", 10, 1, 100, &v));
    assert_int_equal(v, 1);
    assert_true(hl_parse_long("100", 10, 1, 100, &v));
    assert_int_equal(v, 100);
    assert_true(hl_parse_long("0", 24, 0, 8760, &v)); /* a zero minimum */
    assert_int_equal(v, 0);
    assert_true(hl_parse_long("007", 10, 1, 100, &v));
    assert_int_equal(v, 7);
    assert_true(hl_parse_long("999999999", 0, 0, 999999999, &v)); /* nine digits */
    assert_int_equal(v, 999999999);
    static const char *const bad[] = {"0",          "101", "-1",  "+5", " 5",          "5 ",
                                      "abc",        "",    "1e2", "5x", "99999999999", "0x10",
                                      "0000000001", "-0",  "1.0", "１"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = 42;
        if (hl_parse_long(bad[i], 10, 1, 100, &v))
            print_error("\"%s\" was accepted\n", bad[i]);
        assert_false(hl_parse_long(bad[i], 10, 1, 100, &v));
        assert_int_equal(v, 42); /* untouched on failure */
    }
    assert_false(hl_parse_long("1000000000", 0, 0, 2000000000, &v)); /* ten digits */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_len_counts_characters),
        cmocka_unit_test(test_utf8_refuses_what_is_not_utf8),
        cmocka_unit_test(test_utf8_repair),
        cmocka_unit_test(test_text_problem),
        cmocka_unit_test(test_text_check_names_the_field),
        cmocka_unit_test(test_text_cut),
        cmocka_unit_test(test_parse_long),
    };
    return cmocka_run_group_tests_name("hl_text", tests, NULL, NULL);
}
