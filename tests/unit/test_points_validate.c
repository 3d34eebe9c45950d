/* test_points_validate: the pure checks of hl-points (services/points/
 * validate.c) — what a PointsAwarded must hold before it reaches the ledger,
 * the account code of GET /v1/balances/{account}, and the numbers in a
 * query string. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "points.h"

#include <string.h>

#define S_AWARD_ID "0b7e9a52-3c41-4e55-9d0a-6f1f2b3c4d5e"

/* A valid award; each test breaks one field. */
static Hl__PointsAwarded s_award(void)
{
    Hl__PointsAwarded a = HL__POINTS_AWARDED__INIT;
    a.award_id = S_AWARD_ID;
    a.account = "mu017";
    a.has_amount = 1;
    a.amount = 20;
    a.reason = "修好了楼道灯";
    a.source_kind = "wish";
    a.source_id = "w-1";
    a.org_unit = "cp006";
    return a;
}

static void s_refused(const Hl__PointsAwarded *a, const char *want_in_reason)
{
    char why[160] = "";
    assert_false(points_award_check(a, why, sizeof why));
    if (!strstr(why, want_in_reason))
        print_error("reason \"%s\" lacks \"%s\"\n", why, want_in_reason);
    assert_non_null(strstr(why, want_in_reason));
}

static void test_award_valid(void **state)
{
    (void)state;
    char why[160];
    Hl__PointsAwarded a = s_award();
    assert_true(points_award_check(&a, why, sizeof why));
    /* Optional fields may be absent or empty. */
    a.source_kind = a.source_id = a.org_unit = NULL;
    assert_true(points_award_check(&a, why, sizeof why));
    a.source_kind = a.source_id = a.org_unit = "";
    assert_true(points_award_check(&a, why, sizeof why));
    /* Corrections are negative; the bounds are inclusive. */
    a.amount = -5;
    assert_true(points_award_check(&a, why, sizeof why));
    a.amount = 10000;
    assert_true(points_award_check(&a, why, sizeof why));
    a.amount = -10000;
    assert_true(points_award_check(&a, why, sizeof why));
}

static void test_award_id(void **state)
{
    (void)state;
    s_refused(NULL, "not a PointsAwarded");
    Hl__PointsAwarded a = s_award();
    a.award_id = NULL;
    s_refused(&a, "award_id is missing");
    a.award_id = "award-1";
    s_refused(&a, "award_id is not a UUID");
    a.award_id = "";
    s_refused(&a, "award_id is not a UUID");
}

static void test_award_account(void **state)
{
    (void)state;
    Hl__PointsAwarded a = s_award();
    a.account = NULL;
    s_refused(&a, "account is missing");
    a.account = "";
    s_refused(&a, "account is empty");
    a.account = "   ";
    s_refused(&a, "account is blank");
    char long_account[66];
    memset(long_account, 'x', 65);
    long_account[65] = '\0';
    a.account = long_account;
    s_refused(&a, "account is too long");
    long_account[64] = '\0'; /* exactly 64 is fine */
    char why[160];
    assert_true(points_award_check(&a, why, sizeof why));
    a.account = "mu\n017";
    s_refused(&a, "account contains control characters");
    a.account = "mu\xff";
    s_refused(&a, "account is not valid UTF-8");
}

static void test_award_amount(void **state)
{
    (void)state;
    Hl__PointsAwarded a = s_award();
    a.amount = 0;
    s_refused(&a, "amount is zero");
    /* Without an amount the rule of source_kind pays: a kind is needed. */
    a.has_amount = 0;
    char why[160];
    assert_true(points_award_check(&a, why, sizeof why));
    a.source_kind = "";
    s_refused(&a, "amount is missing and source_kind is empty");
    a.source_kind = "wish";
    a.has_amount = 1;
    a.amount = 10001;
    s_refused(&a, "out of range");
    a.amount = -10001;
    s_refused(&a, "out of range");
}

static void test_award_rule_fields(void **state)
{
    (void)state;
    char why[160];
    Hl__PointsAwarded a = s_award();
    a.has_amount = 0;
    a.basis = "hard";
    a.account_kind = "grid_org";
    a.reviewer = "cm01-reviewer";
    a.community = "cm01";
    assert_true(points_award_check(&a, why, sizeof why));
    a.account_kind = "";
    assert_true(points_award_check(&a, why, sizeof why)); /* inferred for legacy awards */
    a.account_kind = "resident";
    s_refused(&a, "account_kind is none of");
    a.account_kind = "volunteer";
    a.basis = "a basis far longer than thirty-two characters";
    s_refused(&a, "basis");
    a.basis = "hard";
    a.reviewer = "line\nbreak";
    s_refused(&a, "reviewer");
}

static void test_award_texts(void **state)
{
    (void)state;
    Hl__PointsAwarded a = s_award();
    a.reason = NULL;
    s_refused(&a, "reason is missing");
    a.reason = "";
    s_refused(&a, "reason is empty");
    char long_reason[3 * 201 + 1] = "";
    for (int i = 0; i < 201; i++)
        strcat(long_reason, "灯");
    a.reason = long_reason;
    s_refused(&a, "reason is too long");
    /* 200 Chinese characters are 600 bytes and still fine. */
    long_reason[3 * 200] = '\0';
    char why[160];
    assert_true(points_award_check(&a, why, sizeof why));
    a = s_award();
    a.source_kind = "a-kind-name-that-is-longer-than-32";
    s_refused(&a, "source_kind is too long");
    a = s_award();
    a.org_unit = "cp\t006";
    s_refused(&a, "org_unit contains control characters");
}

static void test_text_problem_utf8(void **state)
{
    (void)state;
    assert_null(hl_text_problem("党员中心户", 5, true, false));
    assert_string_equal(hl_text_problem("党员中心户", 4, true, false), "is too long");
    assert_string_equal(hl_text_problem("\xc0\xaf", 8, true, false), "is not valid UTF-8");
    assert_string_equal(hl_text_problem("\xed\xa0\x80", 8, true, false), "is not valid UTF-8");
    assert_string_equal(hl_text_problem("\xe5\x85", 8, true, false), "is not valid UTF-8");
    assert_string_equal(hl_text_problem("a\xc2\x85", 8, true, false),
                        "contains control characters");
    assert_string_equal(hl_text_problem("a\x7f", 8, true, false), "contains control characters");
    assert_null(hl_text_problem(NULL, 8, false, false));
    assert_null(hl_text_problem("", 8, false, false));
}

static void test_account_from_url(void **state)
{
    (void)state;
    char why[128];
    assert_true(points_account_check("vol-2", why, sizeof why));
    assert_true(points_account_check("mu017", why, sizeof why));
    assert_false(points_account_check("", why, sizeof why));
    assert_string_equal(why, "account is empty");
    assert_false(points_account_check(NULL, why, sizeof why));
    assert_false(points_account_check(" ", why, sizeof why));
    assert_false(points_account_check("a\x01"
                                      "b",
                                      why, sizeof why));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_award_valid),       cmocka_unit_test(test_award_id),
        cmocka_unit_test(test_award_account),     cmocka_unit_test(test_award_amount),
        cmocka_unit_test(test_award_rule_fields), cmocka_unit_test(test_award_texts),
        cmocka_unit_test(test_text_problem_utf8), cmocka_unit_test(test_account_from_url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
