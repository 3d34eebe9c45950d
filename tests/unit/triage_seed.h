/* triage_seed.h: the seed rules of migrations/020_triage.sql as a rule set,
 * for the hl-triage unit tests (test_triage_rules.c, test_triage_consolidate.c).
 * A header of static functions because tests/support links into every test
 * and only the test_triage_* binaries link services/triage. Include after
 * <cmocka.h> and triage.h. */
#ifndef TRIAGE_SEED_H
#define TRIAGE_SEED_H

#include "../support/hl_sample.h"

#include <stdlib.h>

/* Adds a rule, failing the test when it is refused. */
static void s_add(triage_rules_t *rs, triage_rule_spec_t spec)
{
    char err[256] = "";
    int rc = triage_rules_add(rs, &spec, err, sizeof err);
    if (rc != 0)
        fail_msg("rule %lld refused: %s", spec.id, err);
}

/* One seed row: id, priority, category, channel, keywords, exclude, size,
 * set_category (and a ninth column the rule set does not take). */
static void s_seed_row(char **v, void *arg)
{
    assert_non_null(v[0]);
    assert_non_null(v[1]);
    triage_rule_spec_t spec = {.id = atoll(v[0]),
                               .version = 1,
                               .priority = atoi(v[1]),
                               .category = v[2],
                               .channel = v[3],
                               .keywords = v[4],
                               .exclude = v[5],
                               .size = v[6],
                               .set_category = v[7]};
    s_add(arg, spec);
}

/* Loads the seed rules (one rule per line between the "seed rules"
 * markers) into a new rule set. */
static triage_rules_t *s_seed_rules(void)
{
    triage_rules_t *rs = triage_rules_new();
    hl_test_sql_rows("migrations/020_triage.sql", "seed rules", 9, s_seed_row, rs);
    return rs;
}

#endif
