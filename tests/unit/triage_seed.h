/* triage_seed.h: the seed rules of migrations/020_triage.sql as a rule set,
 * for the hl-triage unit tests (test_triage_rules.c, test_triage_consolidate.c).
 * A header of static functions because tests/support links into every test
 * and only the test_triage_* binaries link services/triage. Include after
 * <cmocka.h> and triage.h. */
#ifndef TRIAGE_SEED_H
#define TRIAGE_SEED_H

#include "hl_sample.h"

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

/* One scope cue of migrations/023_triage_scope.sql: id, priority,
 * keywords, exclude, size, weight (and the note). */
static void s_cue_row(char **v, void *arg)
{
    triage_rule_spec_t spec = {.id = atoll(v[0]),
                               .version = 1,
                               .priority = atoi(v[1]),
                               .keywords = v[2],
                               .exclude = v[3],
                               .size = v[4],
                               .weight = atof(v[5])};
    s_add(arg, spec);
}

/* The size model's row (066): id, priority, model, note. */
static void s_model_row(char **v, void *arg)
{
    triage_rule_spec_t spec = {
        .id = atoll(v[0]), .version = 1, .priority = atoi(v[1]), .model = v[2]};
    s_add(arg, spec);
}

/* A retired rule's id, gathered to leave it out. */
static void s_retired_row(char **v, void *arg)
{
    long long *ids = arg;
    for (int i = 0; i < 63; i++)
        if (ids[i] == 0) {
            ids[i] = atoll(v[0]);
            return;
        }
}

static long long *s_retired;

static void s_seed_row_active(char **v, void *arg)
{
    for (int i = 0; s_retired && s_retired[i]; i++)
        if (s_retired[i] == atoll(v[0]))
            return;
    s_seed_row(v, arg);
}

/* Loads the seed rules as the migrations leave them active: the rules of
 * 020 (one per line between the "seed rules" markers) less those 023
 * retires, the scope cues of 023, 024 and 063, and the size model's row of
 * 066, into a new rule set. */
static triage_rules_t *s_seed_rules(void)
{
    long long retired[64] = {0};
    triage_rules_t *rs = triage_rules_new();
    hl_test_sql_rows("migrations/023_triage_scope.sql", "retired rules", 1, s_retired_row, retired);
    s_retired = retired;
    hl_test_sql_rows("migrations/020_triage.sql", "seed rules", 9, s_seed_row_active, rs);
    s_retired = NULL;
    hl_test_sql_rows("migrations/023_triage_scope.sql", "scope cues", 7, s_cue_row, rs);
    hl_test_sql_rows("migrations/024_triage_case_once.sql", "scope cues", 7, s_cue_row, rs);
    hl_test_sql_rows("migrations/063_triage_cues.sql", "scope cues", 7, s_cue_row, rs);
    hl_test_sql_rows("migrations/066_triage_size_model.sql", "size model", 4, s_model_row, rs);
    return rs;
}

#endif
