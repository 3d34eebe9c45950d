/* test_points_grade: the contest's arithmetic (services/points/grade.c) —
 * each criterion's score from the system's aggregates or a manual score,
 * the weighted total over the criteria that have a score, the A/B/C grade
 * by the thresholds, and the quarter a URL names. Every expected number is
 * worked out by hand in the comments. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "points.h"

#include <string.h>

static const double s_weights[POINTS_C_COUNT] = {30, 20, 25, 25};

static void s_score(const points_grade_t *g, int c, points_source_t src, double want)
{
    assert_int_equal(g->source[c], src);
    assert_true(g->score[c] > want - 0.001 && g->score[c] < want + 0.001);
}

static void test_all_four_criteria(void **state)
{
    (void)state;
    points_inputs_t in = {.items = 10,
                          .items_resolved = 8,
                          .resolve_hours = 96,
                          .item_reopens = 2,
                          .confirms = 9,
                          .feedback_reopens = 1,
                          .wishes_done = 3,
                          .councils_held = 2};
    in.manual[POINTS_C_SANITATION] = true;
    in.manual_score[POINTS_C_SANITATION] = 80;
    points_grade_t g;
    points_grade_compute(&in, s_weights, 85, 70, &g);
    /* party building 50 + 10 x 2 + 5 x 3 = 85 */
    s_score(&g, POINTS_C_PARTY_BUILDING, POINTS_SRC_SYSTEM, 85);
    s_score(&g, POINTS_C_SANITATION, POINTS_SRC_MANUAL, 80);
    /* 50 x 8/10 + 30 x 1 (4 days) + 20 x (1 - 2/8) = 40 + 30 + 15 = 85 */
    s_score(&g, POINTS_C_PETITIONS_STABILITY, POINTS_SRC_SYSTEM, 85);
    /* 100 x 9 / 10 */
    s_score(&g, POINTS_C_SATISFACTION, POINTS_SRC_SYSTEM, 90);
    /* (30 x 85 + 20 x 80 + 25 x 85 + 25 x 90) / 100 = 85.25 -> 85.3 */
    assert_true(g.has_total);
    assert_true(g.total > 85.29 && g.total < 85.31);
    assert_int_equal(g.grade, 'A');
}

static void test_missing_criteria_leave_the_total(void **state)
{
    (void)state;
    points_inputs_t in = {.items = 4, .items_resolved = 2, .resolve_hours = 444};
    points_grade_t g;
    points_grade_compute(&in, s_weights, 85, 70, &g);
    s_score(&g, POINTS_C_PARTY_BUILDING, POINTS_SRC_SYSTEM, 50);
    assert_int_equal(g.source[POINTS_C_SANITATION], POINTS_SRC_NONE);
    assert_int_equal(g.source[POINTS_C_SATISFACTION], POINTS_SRC_NONE);
    /* 444 h: speed 1 - 276/552 = 0.5; 50 x 0.5 + 30 x 0.5 + 20 x 1 = 60 */
    s_score(&g, POINTS_C_PETITIONS_STABILITY, POINTS_SRC_SYSTEM, 60);
    /* (30 x 50 + 25 x 60) / 55 = 54.545 -> 54.5 */
    assert_true(g.total > 54.49 && g.total < 54.51);
    assert_int_equal(g.grade, 'C');
}

static void test_manual_scores_win(void **state)
{
    (void)state;
    points_inputs_t in = {.confirms = 1, .feedback_reopens = 3};
    in.manual[POINTS_C_PARTY_BUILDING] = true;
    in.manual_score[POINTS_C_PARTY_BUILDING] = 95;
    in.manual[POINTS_C_SATISFACTION] = true;
    in.manual_score[POINTS_C_SATISFACTION] = 70; /* the survey, not the 25 of the feedback */
    points_grade_t g;
    points_grade_compute(&in, s_weights, 85, 70, &g);
    s_score(&g, POINTS_C_PARTY_BUILDING, POINTS_SRC_MANUAL, 95);
    s_score(&g, POINTS_C_SATISFACTION, POINTS_SRC_MANUAL, 70);
    assert_int_equal(g.source[POINTS_C_PETITIONS_STABILITY], POINTS_SRC_NONE); /* no items */
    /* (30 x 95 + 25 x 70) / 55 = 83.636 -> 83.6 */
    assert_true(g.total > 83.59 && g.total < 83.61);
    assert_int_equal(g.grade, 'B');
}

static void test_edges_of_the_formulas(void **state)
{
    (void)state;
    points_grade_t g;
    /* Nothing resolved: speed 0, no reopen rate: 0 + 0 + 20. Capped party building. */
    points_inputs_t in = {.items = 3, .resolve_hours = -1, .councils_held = 10, .wishes_done = 4};
    points_grade_compute(&in, s_weights, 85, 70, &g);
    s_score(&g, POINTS_C_PETITIONS_STABILITY, POINTS_SRC_SYSTEM, 20);
    s_score(&g, POINTS_C_PARTY_BUILDING, POINTS_SRC_SYSTEM, 100);
    /* 30 days or more: speed 0; more reopenings than resolutions: rate 1. */
    points_inputs_t slow = {
        .items = 2, .items_resolved = 2, .resolve_hours = 900, .item_reopens = 5};
    points_grade_compute(&slow, s_weights, 85, 70, &g);
    s_score(&g, POINTS_C_PETITIONS_STABILITY, POINTS_SRC_SYSTEM, 50);
}

static void test_thresholds_are_inclusive_and_data(void **state)
{
    (void)state;
    points_inputs_t in = {0};
    for (int c = 0; c < POINTS_C_COUNT; c++) {
        in.manual[c] = true;
        in.manual_score[c] = 70;
    }
    points_grade_t g;
    points_grade_compute(&in, s_weights, 85, 70, &g);
    assert_int_equal(g.grade, 'B'); /* exactly B's minimum */
    points_grade_compute(&in, s_weights, 70, 60, &g);
    assert_int_equal(g.grade, 'A'); /* other thresholds, other grade */
    in.manual_score[0] = 69.9;
    points_grade_compute(&in, (double[]){1, 0, 0, 0}, 85, 70, &g);
    assert_int_equal(g.grade, 'C');
    /* Weights all zero: no total, no grade. */
    points_grade_compute(&in, (double[]){0, 0, 0, 0}, 85, 70, &g);
    assert_false(g.has_total);
    assert_int_equal(g.grade, 0);
}

static void test_criteria_codes(void **state)
{
    (void)state;
    for (int c = 0; c < POINTS_C_COUNT; c++)
        assert_int_equal(points_criterion_parse(points_criterion_code(c)), c);
    assert_int_equal(points_criterion_parse("beauty"), -1);
    assert_int_equal(points_criterion_parse(NULL), -1);
}

static void test_quarters(void **state)
{
    (void)state;
    char first[11], next[11];
    assert_true(points_quarter_parse("2026Q4", first, next));
    assert_string_equal(first, "2026-10-01");
    assert_string_equal(next, "2027-01-01");
    assert_true(points_quarter_parse("2024-q2", first, next));
    assert_string_equal(first, "2024-04-01");
    assert_string_equal(next, "2024-07-01");
    const char *bad[] = {"2026Q0", "2026Q5", "2026", "26Q1", "2026Q1x", "1999Q4", "", "Q12026"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(points_quarter_parse(bad[i], first, next));
    assert_false(points_quarter_parse(NULL, first, next));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_four_criteria),
        cmocka_unit_test(test_missing_criteria_leave_the_total),
        cmocka_unit_test(test_manual_scores_win),
        cmocka_unit_test(test_edges_of_the_formulas),
        cmocka_unit_test(test_thresholds_are_inclusive_and_data),
        cmocka_unit_test(test_criteria_codes),
        cmocka_unit_test(test_quarters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
