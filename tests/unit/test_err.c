/* test_err: every HL_E* code has its own name, and hl_strerror() says
 * "success" for 0 and "unknown error" for anything outside the list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "hl_err.h"

#define HL_T_CODE(name, text) HL_##name,
static const int s_codes[] = {HL_ERRNO_MAP(HL_T_CODE)};
#undef HL_T_CODE
#define HL_T_TEXT(name, text) text,
static const char *const s_texts[] = {HL_ERRNO_MAP(HL_T_TEXT)};
#undef HL_T_TEXT
#define S_NCODES (sizeof s_codes / sizeof s_codes[0])

static void test_success(void **state)
{
    (void)state;
    assert_string_equal(hl_strerror(0), "success");
    assert_string_equal(hl_strerror(HL_OK), "success");
}

static void test_codes_negative_and_distinct(void **state)
{
    (void)state;
    assert_int_equal(S_NCODES, 16);
    for (size_t i = 0; i < S_NCODES; i++) {
        assert_true(s_codes[i] < 0);
        /* Clear of errno values a caller might pass by mistake. */
        assert_true(s_codes[i] < -200);
        for (size_t j = i + 1; j < S_NCODES; j++)
            assert_int_not_equal(s_codes[i], s_codes[j]);
    }
}

static void test_strings_distinct_and_known(void **state)
{
    (void)state;
    for (size_t i = 0; i < S_NCODES; i++) {
        const char *s = hl_strerror(s_codes[i]);
        assert_non_null(s);
        assert_true(strlen(s) > 0);
        assert_string_not_equal(s, "unknown error");
        assert_string_not_equal(s, "success");
        assert_string_equal(s, s_texts[i]);
        for (size_t j = i + 1; j < S_NCODES; j++)
            assert_string_not_equal(s, hl_strerror(s_codes[j]));
    }
}

static void test_named_codes(void **state)
{
    (void)state;
    assert_string_equal(hl_strerror(HL_EINVAL), "invalid argument");
    assert_string_equal(hl_strerror(HL_EFORBIDDEN), "refused by a rule");
    assert_string_equal(hl_strerror(HL_EAGAIN), "resource temporarily unavailable");
    assert_string_equal(hl_strerror(HL_EDBCONN), "database connection lost");
    assert_string_equal(hl_strerror(HL_EFAULT), "injected fault");
}

static void test_unknown(void **state)
{
    (void)state;
    int outside[] = {1, -1, 42, -1000, HL_EINVAL - 1, HL_EFAULT + 1, 1 << 30, -(1 << 30)};
    for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
        int known = 0;
        for (size_t j = 0; j < S_NCODES; j++)
            known |= s_codes[j] == outside[i];
        if (known)
            continue;
        assert_string_equal(hl_strerror(outside[i]), "unknown error");
    }
    /* Just past either end of the list. */
    assert_string_equal(hl_strerror(HL_EFAULT + 1), "unknown error");
    assert_string_equal(hl_strerror(HL_EINVAL - 1), "unknown error");
    assert_string_equal(hl_strerror(1), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_success),
        cmocka_unit_test(test_codes_negative_and_distinct),
        cmocka_unit_test(test_strings_distinct_and_known),
        cmocka_unit_test(test_named_codes),
        cmocka_unit_test(test_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
