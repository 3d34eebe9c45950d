/* test_points_rules: which version of which points rule pays an event
 * (services/points/rules.c, points_rule_pick) — exact kind and basis, the
 * version in force at the event's time (not at arrival), a retired rule,
 * the fixed rule for legacy amounts, and the reasons given for a refusal;
 * and the leaderboard periods in Beijing time (grade.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "points.h"

#include <string.h>

/* 2024-01-01 00:00 +08:00 and 2025-07-01 00:00 +08:00, in microseconds. */
#define S_2024 INT64_C(1704038400000000)
#define S_2025 INT64_C(1751299200000000)
#define S_DAY  INT64_C(86400000000)

static const points_rule_t s_rules[] = {
    {"wish.hard", 1, "wish", "hard", 20, true, S_2024},
    {"wish.hard", 2, "wish", "hard", 30, true, S_2025},
    {"wish.easy", 1, "wish", "easy", 5, true, S_2024},
    {"wish", 1, "wish", "", 10, true, S_2024},
    {"council", 1, "council", "", 8, true, S_2024},
    {"council", 2, "council", "", 0, false, S_2025}, /* retired */
    {"fixed", 1, "fixed", "", 0, true, 0},
};
#define S_N (sizeof s_rules / sizeof s_rules[0])

static int s_pick(const char *kind, const char *basis, int64_t at, bool fixed, char *why)
{
    return points_rule_pick(s_rules, S_N, kind, basis, at, fixed, why, 160);
}

static void test_exact_kind_and_basis(void **state)
{
    (void)state;
    char why[160];
    assert_int_equal(s_pick("wish", "easy", S_2024 + S_DAY, false, why), 2);
    assert_int_equal(s_pick("wish", "hard", S_2024 + S_DAY, false, why), 0);
    /* No basis: the kind's own rule, not one of its bases. */
    assert_int_equal(s_pick("wish", "", S_2024 + S_DAY, false, why), 3);
    assert_int_equal(s_pick("wish", NULL, S_2024 + S_DAY, false, why), 3);
}

static void test_version_in_force_at_event_time(void **state)
{
    (void)state;
    char why[160];
    /* The day before version 2 takes effect, version 1 pays; from its
     * first microsecond on, version 2. */
    assert_int_equal(s_pick("wish", "hard", S_2025 - 1, false, why), 0);
    assert_int_equal(s_pick("wish", "hard", S_2025, false, why), 1);
    assert_int_equal(s_rules[s_pick("wish", "hard", S_2025 + 100 * S_DAY, false, why)].amount, 30);
}

static void test_before_any_version(void **state)
{
    (void)state;
    char why[160] = "";
    assert_int_equal(s_pick("wish", "hard", S_2024 - 1, false, why), -1);
    assert_non_null(strstr(why, "was in force at the event's time"));
    assert_non_null(strstr(why, "basis \"hard\""));
}

static void test_unknown_kind_or_basis(void **state)
{
    (void)state;
    char why[160] = "";
    assert_int_equal(s_pick("wish", "heroic", S_2025, false, why), -1);
    assert_string_equal(why, "no points rule for source_kind \"wish\" with basis \"heroic\"");
    assert_int_equal(s_pick("lottery", NULL, S_2025, false, why), -1);
    assert_string_equal(why, "no points rule for source_kind \"lottery\" without a basis");
    /* A kind's basis rule does not pay an event that names another basis
     * of another kind. */
    assert_int_equal(s_pick("council", "hard", S_2025, false, why), -1);
}

static void test_retired_rule(void **state)
{
    (void)state;
    char why[160] = "";
    assert_int_equal(s_pick("council", NULL, S_2025 - 1, false, why), 4);
    assert_int_equal(s_pick("council", NULL, S_2025, false, why), -1);
    assert_non_null(strstr(why, "retired (version 2)"));
}

static void test_fixed_amount_cites_fixed(void **state)
{
    (void)state;
    char why[160];
    /* Whatever kind it names, an award with its own amount is the fixed rule's. */
    assert_int_equal(s_pick("wish", "hard", S_2025, true, why), 6);
    assert_int_equal(s_pick(NULL, NULL, S_2024, true, why), 6);
    assert_int_equal(points_rule_pick(s_rules, 4, "wish", NULL, S_2025, true, why, sizeof why), -1);
}

static void test_account_kinds(void **state)
{
    (void)state;
    const char *ok[] = {"grid_org",    "party_member", "volunteer",
                        "member_unit", "compound",     "chain"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        assert_true(points_account_kind_valid(ok[i]));
    assert_false(points_account_kind_valid("budget")); /* payers are not earners */
    assert_false(points_account_kind_valid(""));
    assert_false(points_account_kind_valid(NULL));
}

static void test_periods_beijing_time(void **state)
{
    (void)state;
    char first[11], next[11], label[12];
    /* 2026-12-31 16:30 UTC is 2027-01-01 00:30 in Beijing: next year's month and quarter. */
    int64_t now = INT64_C(1798734600000000);
    assert_true(points_period_parse("month", NULL, now, first, next, label));
    assert_string_equal(first, "2027-01-01");
    assert_string_equal(next, "2027-02-01");
    assert_string_equal(label, "2027-01");
    assert_true(points_period_parse("quarter", NULL, now, first, next, label));
    assert_string_equal(label, "2027Q1");
    assert_string_equal(next, "2027-04-01");
    assert_true(points_period_parse("month", "2026-12", now, first, next, label));
    assert_string_equal(first, "2026-12-01");
    assert_string_equal(next, "2027-01-01");
    assert_true(points_period_parse("quarter", "2026Q3", now, first, next, label));
    assert_string_equal(first, "2026-07-01");
    assert_string_equal(next, "2026-10-01");
    assert_string_equal(label, "2026Q3");
    assert_true(points_period_parse(NULL, NULL, now, first, next, label));
    assert_string_equal(first, "");
    assert_string_equal(label, "all");
    assert_false(points_period_parse("all", "2026-12", now, first, next, label));
    assert_false(points_period_parse("month", "2026-13", now, first, next, label));
    assert_false(points_period_parse("month", "2026Q1", now, first, next, label));
    assert_false(points_period_parse("week", NULL, now, first, next, label));
    assert_false(points_period_parse("quarter", "2026Q5", now, first, next, label));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_kind_and_basis),
        cmocka_unit_test(test_version_in_force_at_event_time),
        cmocka_unit_test(test_before_any_version),
        cmocka_unit_test(test_unknown_kind_or_basis),
        cmocka_unit_test(test_retired_rule),
        cmocka_unit_test(test_fixed_amount_cites_fixed),
        cmocka_unit_test(test_account_kinds),
        cmocka_unit_test(test_periods_beijing_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
