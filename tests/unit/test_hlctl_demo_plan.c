/* test_hlctl_demo_plan: the demo's plan (services/hlctl/demo_plan.c) has
 * the report's shape at 2,100 appeals, scales to any number of appeals
 * without losing one, and keeps matters apart that triage must not
 * consolidate. */
#include "hlctl.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define S_COMMUNITIES 14

static const char *s_size(const hlctl_matter_t *m)
{
    return hlctl_demo_templates[m->template].size;
}

static const char *s_category(const hlctl_matter_t *m)
{
    return hlctl_demo_templates[m->template].category;
}

/* Whether two matters would be candidates for one item: same size, same
 * community, same category. */
static bool s_same_key(const hlctl_matter_t *a, const hlctl_matter_t *b)
{
    return a->community == b->community && strcmp(s_size(a), s_size(b)) == 0 &&
           strcmp(s_category(a), s_category(b)) == 0;
}

static void test_report_shape(void **state)
{
    (void)state;
    hlctl_plan_t p;
    assert_int_equal(hlctl_demo_plan(2100, S_COMMUNITIES, &p), 0);
    assert_int_equal(p.rounds, 12);
    int matters[3] = {0}, appeals[3] = {0}, open[3] = {0}, total = 0;
    for (size_t i = 0; i < p.n; i++) {
        const hlctl_matter_t *m = &p.matters[i];
        int k = strcmp(s_size(m), "wish") == 0 ? 0 : strcmp(s_size(m), "small") == 0 ? 1 : 2;
        matters[k]++;
        appeals[k] += m->appeals;
        total += m->appeals;
        if (m->left_open) {
            open[k]++;
            assert_int_equal(m->round, p.rounds - 1);
        }
    }
    assert_int_equal(total, 2100);
    /* 345 wishes, 336 completed; 366 items, 360 resolved; 698 appeals to councils. */
    assert_int_equal(matters[0], 345);
    assert_int_equal(open[0], 9);
    assert_int_equal(matters[1] + matters[2], 366);
    assert_int_equal(open[1] + open[2], 6);
    assert_int_equal(appeals[1], 698);
    assert_int_equal(matters[2] - open[2], 28);
    hlctl_demo_plan_close(&p);
    assert_null(p.matters);
}

static void test_matters_kept_apart(void **state)
{
    (void)state;
    static const int sizes[] = {300, 2100, 5000};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        hlctl_plan_t p;
        assert_int_equal(hlctl_demo_plan(sizes[s], S_COMMUNITIES, &p), 0);
        for (size_t i = 0; i < p.n; i++)
            for (size_t j = i + 1; j < p.n; j++) {
                const hlctl_matter_t *a = &p.matters[i], *b = &p.matters[j];
                int apart = a->round > b->round ? a->round - b->round : b->round - a->round;
                if (apart <= 1 && s_same_key(a, b))
                    fail_msg("%d appeals: matters %zu and %zu (rounds %d, %d) share community %d, "
                             "size %s and category %s",
                             sizes[s], i, j, a->round, b->round, a->community, s_size(a),
                             s_category(a));
            }
        hlctl_demo_plan_close(&p);
    }
}

static void test_every_appeal_planned(void **state)
{
    (void)state;
    static const int sizes[] = {1, 2, 3, 7, 50, 300, 2099, 2101, 50000};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        hlctl_plan_t p;
        assert_int_equal(hlctl_demo_plan(sizes[s], S_COMMUNITIES, &p), 0);
        assert_true(p.rounds >= 1);
        int total = 0;
        for (size_t i = 0; i < p.n; i++) {
            const hlctl_matter_t *m = &p.matters[i];
            assert_true(m->template >= 0 && (size_t)m->template <hlctl_demo_ntemplates);
            assert_in_range(m->community, 0, S_COMMUNITIES - 1);
            assert_in_range(m->round, 0, p.rounds - 1);
            assert_true(m->appeals >= 1);
            total += m->appeals;
        }
        assert_int_equal(total, sizes[s]);
        hlctl_demo_plan_close(&p);
    }
}

static void test_bad_input(void **state)
{
    (void)state;
    hlctl_plan_t p;
    assert_int_equal(hlctl_demo_plan(0, S_COMMUNITIES, &p), HL_EINVAL);
    assert_int_equal(hlctl_demo_plan(100, 0, &p), HL_EINVAL);
    assert_null(p.matters);
}

static void test_templates_cover_every_category(void **state)
{
    (void)state;
    static const char *const categories[] = {"environment", "property",  "parking", "roads",
                                             "safety",      "neighbour", "elderly", "utilities",
                                             "greening",    "market",    "housing", "other"};
    for (size_t c = 0; c < sizeof categories / sizeof categories[0]; c++) {
        bool found = false;
        for (size_t t = 0; t < hlctl_demo_ntemplates; t++)
            found = found || strcmp(hlctl_demo_templates[t].category, categories[c]) == 0;
        if (!found)
            fail_msg("no demo template of category %s", categories[c]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_shape),
        cmocka_unit_test(test_matters_kept_apart),
        cmocka_unit_test(test_every_appeal_planned),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_templates_cover_every_category),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
