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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_len_counts_characters),
        cmocka_unit_test(test_utf8_refuses_what_is_not_utf8),
        cmocka_unit_test(test_text_problem),
        cmocka_unit_test(test_text_check_names_the_field),
    };
    return cmocka_run_group_tests_name("hl_text", tests, NULL, NULL);
}
