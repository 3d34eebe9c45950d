/* test_bounty_engine: the board engine's pure decisions (services/bounty/rules.c):
 * eligibility by rule and scope, lease arithmetic, and who may extend,
 * release, complete, review and publish. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "bounty.h"

#define S_DAY_US (86400LL * 1000000LL)
#define S_WEEK_S 604800LL

/* The rules migration 031 seeds. */
static const bounty_rule_t s_rules[] = {
    {"wish.grid_org.community", "grid_org", "community", "the party committee"},
    {"wish.grid_org.compound", "grid_org", "compound", "the party branch"},
    {"wish.grid_org.micro_grid", "grid_org", "micro_grid", "the party group"},
    {"wish.party_member.community", "party_member", "community", "a party member"},
    {"wish.volunteer.community", "volunteer", "community", "a volunteer"},
};
#define S_NRULES (sizeof s_rules / sizeof s_rules[0])

static const bounty_rule_t s_large_rules[] = {
    {"large.member_unit.category_domain", "member_unit", "category_domain", "fits"},
};

static bounty_actor_t s_actor(bounty_actor_kind_t kind, const char *name, const char *unit,
                              const char *level, const char *compound, const char *community)
{
    bounty_actor_t a;
    memset(&a, 0, sizeof a);
    snprintf(a.name, sizeof a.name, "%s", name);
    a.kind = kind;
    snprintf(a.unit, sizeof a.unit, "%s", unit);
    snprintf(a.level, sizeof a.level, "%s", level);
    snprintf(a.compound, sizeof a.compound, "%s", compound);
    snprintf(a.community, sizeof a.community, "%s", community);
    return a;
}

/* An open wish of micro-grid mg013 in compound cp005 of community cm02. */
static bounty_facts_t s_wish(void)
{
    return (bounty_facts_t){.found = true,
                            .kind = BOUNTY_WISH,
                            .status = BOUNTY_OPEN,
                            .published = true,
                            .micro_grid = "mg013",
                            .compound = "cp005",
                            .community = "cm02"};
}

static int s_eligible(const bounty_actor_t *a, const bounty_facts_t *f, const char **rule)
{
    hl_refusal_t v = bounty_eligible(a, f, s_rules, S_NRULES, rule);
    return v.status;
}

static void test_eligible_grid_orgs(void **state)
{
    (void)state;
    bounty_facts_t f = s_wish();
    const char *rule;
    bounty_actor_t mg =
        s_actor(BOUNTY_ACTOR_GRID_ORG, "g-mg013", "mg013", "micro_grid", "cp005", "cm02");
    assert_int_equal(s_eligible(&mg, &f, &rule), 0);
    assert_string_equal(rule, "wish.grid_org.micro_grid");
    bounty_actor_t cp =
        s_actor(BOUNTY_ACTOR_GRID_ORG, "g-cp005", "cp005", "compound", "cp005", "cm02");
    assert_int_equal(s_eligible(&cp, &f, &rule), 0);
    assert_string_equal(rule, "wish.grid_org.compound");
    bounty_actor_t cm = s_actor(BOUNTY_ACTOR_GRID_ORG, "g-cm02", "cm02", "community", "", "cm02");
    assert_int_equal(s_eligible(&cm, &f, &rule), 0);
    assert_string_equal(rule, "wish.grid_org.community");

    /* Another micro-grid of the same compound: not the wish's micro-grid. */
    bounty_actor_t other =
        s_actor(BOUNTY_ACTOR_GRID_ORG, "g-mg014", "mg014", "micro_grid", "cp005", "cm02");
    assert_int_equal(s_eligible(&other, &f, &rule), 403);
    assert_null(rule);
    /* ... but a wish anchored to the whole compound is any of its micro-grids'. */
    f.micro_grid = NULL;
    assert_int_equal(s_eligible(&other, &f, &rule), 0);
    assert_string_equal(rule, "wish.grid_org.micro_grid");
    /* A compound or community elsewhere is not. */
    bounty_actor_t far =
        s_actor(BOUNTY_ACTOR_GRID_ORG, "g-cp006", "cp006", "compound", "cp006", "cm02");
    assert_int_equal(s_eligible(&far, &f, &rule), 403);
    bounty_actor_t cm3 = s_actor(BOUNTY_ACTOR_GRID_ORG, "g-cm03", "cm03", "community", "", "cm03");
    assert_int_equal(s_eligible(&cm3, &f, &rule), 403);
    bounty_actor_t mg_far =
        s_actor(BOUNTY_ACTOR_GRID_ORG, "g-mg099", "mg099", "micro_grid", "cp031", "cm05");
    assert_int_equal(s_eligible(&mg_far, &f, &rule), 403);
}

static void test_eligible_people(void **state)
{
    (void)state;
    bounty_facts_t f = s_wish();
    const char *rule;
    bounty_actor_t v = s_actor(BOUNTY_ACTOR_VOLUNTEER, "vol-1", "cm02", "community", "", "cm02");
    assert_int_equal(s_eligible(&v, &f, &rule), 0);
    assert_string_equal(rule, "wish.volunteer.community");
    bounty_actor_t pm = s_actor(BOUNTY_ACTOR_PARTY_MEMBER, "pm-1", "cm02", "community", "", "cm02");
    assert_int_equal(s_eligible(&pm, &f, &rule), 0);
    assert_string_equal(rule, "wish.party_member.community");

    /* A volunteer of another community: refused, naming the rule. */
    bounty_actor_t v3 = s_actor(BOUNTY_ACTOR_VOLUNTEER, "vol-3", "cm03", "community", "", "cm03");
    hl_refusal_t r = bounty_eligible(&v3, &f, s_rules, S_NRULES, &rule);
    assert_int_equal(r.status, 403);
    assert_string_equal(r.field, "wish.volunteer.community");
    assert_non_null(strstr(r.message, "wish.volunteer.community"));
    assert_non_null(strstr(r.message, "vol-3"));

    /* Reviewers, commissioners and member units are no claimants of wishes. */
    bounty_actor_t rv = s_actor(BOUNTY_ACTOR_REVIEWER, "rev-1", "cm02", "community", "", "cm02");
    r = bounty_eligible(&rv, &f, s_rules, S_NRULES, &rule);
    assert_int_equal(r.status, 403);
    assert_string_equal(r.field, "rule");
    assert_non_null(strstr(r.message, "no eligibility rule lets a reviewer claim a wish"));
    bounty_actor_t mu = s_actor(BOUNTY_ACTOR_MEMBER_UNIT, "mu-1", "mu001", "", "", "");
    assert_int_equal(s_eligible(&mu, &f, &rule), 403);
}

static void test_eligible_rules_are_data(void **state)
{
    (void)state;
    bounty_facts_t f = s_wish();
    const char *rule;
    bounty_actor_t v = s_actor(BOUNTY_ACTOR_VOLUNTEER, "vol-1", "cm02", "community", "", "cm02");
    /* Without the volunteer rule (deactivated: not loaded), volunteers claim nothing. */
    assert_int_equal(bounty_eligible(&v, &f, s_rules, S_NRULES - 1, &rule).status, 403);
    /* With no rules at all nobody may claim. */
    bounty_actor_t mg =
        s_actor(BOUNTY_ACTOR_GRID_ORG, "g-mg013", "mg013", "micro_grid", "cp005", "cm02");
    assert_int_equal(bounty_eligible(&mg, &f, s_rules, 0, &rule).status, 403);
}

static void test_eligible_large(void **state)
{
    (void)state;
    bounty_facts_t f = {.found = true,
                        .kind = BOUNTY_LARGE,
                        .status = BOUNTY_OPEN,
                        .published = true,
                        .community = "cm02",
                        .category = "parking",
                        .fits = true};
    const char *rule;
    bounty_actor_t mu = s_actor(BOUNTY_ACTOR_MEMBER_UNIT, "mu-traffic", "mu007", "", "", "");
    assert_int_equal(bounty_eligible(&mu, &f, s_large_rules, 1, &rule).status, 0);
    assert_string_equal(rule, "large.member_unit.category_domain");
    f.fits = false;
    hl_refusal_t v = bounty_eligible(&mu, &f, s_large_rules, 1, &rule);
    assert_int_equal(v.status, 403);
    assert_string_equal(v.field, "large.member_unit.category_domain");
    assert_non_null(strstr(v.message, "parking"));
    /* A grid organisation never claims a large item. */
    f.fits = true;
    bounty_actor_t mg = s_actor(BOUNTY_ACTOR_GRID_ORG, "g", "mg013", "micro_grid", "cp005", "cm02");
    assert_int_equal(bounty_eligible(&mg, &f, s_large_rules, 1, &rule).status, 403);
}

static void test_account_of(void **state)
{
    (void)state;
    const char *kind;
    bounty_actor_t mg =
        s_actor(BOUNTY_ACTOR_GRID_ORG, "staff-7", "mg013", "micro_grid", "cp005", "cm02");
    assert_string_equal(bounty_account_of(&mg, &kind), "mg013"); /* the organisation earns */
    assert_string_equal(kind, "grid_org");
    bounty_actor_t v = s_actor(BOUNTY_ACTOR_VOLUNTEER, "vol-1", "cm02", "community", "", "cm02");
    assert_string_equal(bounty_account_of(&v, &kind), "vol-1"); /* the person earns */
    assert_string_equal(kind, "volunteer");
    bounty_actor_t mu = s_actor(BOUNTY_ACTOR_MEMBER_UNIT, "mu-key", "mu007", "", "", "");
    assert_string_equal(bounty_account_of(&mu, &kind), "mu007");
    assert_string_equal(kind, "member_unit");
    for (int k = BOUNTY_ACTOR_GRID_ORG; k <= BOUNTY_ACTOR_MEMBER_UNIT; k++)
        assert_int_equal(bounty_actor_kind_parse(bounty_actor_kind_name((bounty_actor_kind_t)k)),
                         k);
    assert_int_equal(bounty_actor_kind_parse("admin"), -1);
}

static void test_lease_arithmetic(void **state)
{
    (void)state;
    int64_t now = 1764806400LL * 1000000LL; /* 2025-12-04 00:00 UTC */
    int64_t until = bounty_lease_until(now, S_WEEK_S);
    assert_true(until == now + 7 * S_DAY_US);
    assert_false(bounty_lease_expired(until, now));
    assert_false(bounty_lease_expired(until, until - 1));
    assert_true(bounty_lease_expired(until, until)); /* ends at the instant */
    assert_true(bounty_lease_expired(until, until + 1));
    /* Extending adds one more period to the current end, not to now. */
    assert_true(bounty_lease_extend(until, S_WEEK_S) == now + 14 * S_DAY_US);
    /* A rejection renews from the rejection, not from the old end. */
    int64_t later = now + 10 * S_DAY_US;
    assert_true(bounty_lease_until(later, S_WEEK_S) == now + 17 * S_DAY_US);
    assert_true(bounty_lease_until(now, 1) == now + 1000000);
}

/* A wish claimed by micro-grid mg013 with a lease ending in a day. */
static bounty_facts_t s_claimed(int64_t now)
{
    bounty_facts_t f = s_wish();
    f.status = BOUNTY_CLAIMED;
    f.claimant = "mg013";
    f.claimant_kind = "grid_org";
    f.lease_until_us = now + S_DAY_US;
    return f;
}

static void test_extend_release(void **state)
{
    (void)state;
    int64_t now = 1764806400LL * 1000000LL;
    bounty_facts_t f = s_claimed(now);
    bounty_actor_t holder =
        s_actor(BOUNTY_ACTOR_GRID_ORG, "staff-2", "mg013", "micro_grid", "cp005", "cm02");
    bounty_actor_t other =
        s_actor(BOUNTY_ACTOR_VOLUNTEER, "vol-1", "cm02", "community", "", "cm02");
    assert_int_equal(bounty_transition_verdict(BOUNTY_DO_EXTEND, &holder, &f, now).status, 0);
    assert_int_equal(bounty_transition_verdict(BOUNTY_DO_RELEASE, &holder, &f, now).status, 0);
    assert_int_equal(bounty_transition_verdict(BOUNTY_DO_EXTEND, &other, &f, now).status, 403);
    assert_int_equal(bounty_transition_verdict(BOUNTY_DO_RELEASE, &other, &f, now).status, 403);
    /* Once only. */
    f.lease_extended = true;
    hl_refusal_t v = bounty_transition_verdict(BOUNTY_DO_EXTEND, &holder, &f, now);
    assert_int_equal(v.status, 409);
    assert_non_null(strstr(v.message, "once"));
    /* A lapsed lease can be neither extended nor completed. */
    f.lease_extended = false;
    int64_t late = now + 2 * S_DAY_US;
    assert_int_equal(bounty_transition_verdict(BOUNTY_DO_EXTEND, &holder, &f, late).status, 409);
    assert_int_equal(bounty_transition_verdict(BOUNTY_DO_COMPLETE, &holder, &f, late).status, 409);
    /* Nothing to extend on an open wish. */
    bounty_facts_t open = s_wish();
    assert_int_equal(bounty_transition_verdict(BOUNTY_DO_EXTEND, &holder, &open, now).status, 409);
    /* Claims made before actors named the org unit with kind org_unit. */
    f.claimant_kind = "org_unit";
    assert_int_equal(bounty_transition_verdict(BOUNTY_DO_COMPLETE, &holder, &f, now).status, 0);
}

static void test_claim_state(void **state)
{
    (void)state;
    int64_t now = 1764806400LL * 1000000LL;
    bounty_actor_t a = s_actor(BOUNTY_ACTOR_VOLUNTEER, "vol-1", "cm02", "community", "", "cm02");
    bounty_facts_t f = s_wish();
    assert_int_equal(bounty_transition_verdict(BOUNTY_DO_CLAIM, &a, &f, now).status, 0);
    f.published = false;
    hl_refusal_t v = bounty_transition_verdict(BOUNTY_DO_CLAIM, &a, &f, now);
    assert_int_equal(v.status, 409);
    assert_non_null(strstr(v.message, "not published"));
    f = s_claimed(now);
    assert_int_equal(bounty_transition_verdict(BOUNTY_DO_CLAIM, &a, &f, now).status, 409);
    f.found = false;
    assert_int_equal(bounty_transition_verdict(BOUNTY_DO_CLAIM, &a, &f, now).status, 404);
    /* Progress is for large items only. */
    f = s_claimed(now);
    assert_int_equal(bounty_transition_verdict(BOUNTY_DO_PROGRESS, &a, &f, now).status, 404);
}

static void test_review(void **state)
{
    (void)state;
    int64_t now = 1764806400LL * 1000000LL;
    bounty_facts_t f = s_claimed(now);
    f.status = BOUNTY_COMPLETED;
    f.completed_by = "staff-2";
    f.completer_person = "p-zhang";
    bounty_actor_t rev =
        s_actor(BOUNTY_ACTOR_REVIEWER, "rev-cm02", "cm02", "community", "", "cm02");
    assert_int_equal(bounty_transition_verdict(BOUNTY_DO_REVIEW, &rev, &f, now).status, 0);
    /* The same person holding a reviewer's key: refused. */
    snprintf(rev.person, sizeof rev.person, "p-zhang");
    hl_refusal_t v = bounty_transition_verdict(BOUNTY_DO_REVIEW, &rev, &f, now);
    assert_int_equal(v.status, 403);
    assert_non_null(strstr(v.message, "your own completion"));
    rev.person[0] = '\0';
    /* A reviewer of another community, a claimant: refused. */
    bounty_actor_t rev3 =
        s_actor(BOUNTY_ACTOR_REVIEWER, "rev-cm03", "cm03", "community", "", "cm03");
    assert_int_equal(bounty_transition_verdict(BOUNTY_DO_REVIEW, &rev3, &f, now).status, 403);
    bounty_actor_t holder =
        s_actor(BOUNTY_ACTOR_GRID_ORG, "staff-2", "mg013", "micro_grid", "cp005", "cm02");
    assert_int_equal(bounty_transition_verdict(BOUNTY_DO_REVIEW, &holder, &f, now).status, 403);
    /* The commissioner reviews too. */
    bounty_actor_t com =
        s_actor(BOUNTY_ACTOR_COMMISSIONER, "com-cm02", "cm02", "community", "", "cm02");
    assert_int_equal(bounty_transition_verdict(BOUNTY_DO_REVIEW, &com, &f, now).status, 0);
    /* Nothing to review before completion or after approval. */
    f.status = BOUNTY_CLAIMED;
    assert_int_equal(bounty_transition_verdict(BOUNTY_DO_REVIEW, &rev, &f, now).status, 409);
    f.status = BOUNTY_APPROVED;
    assert_int_equal(bounty_transition_verdict(BOUNTY_DO_REVIEW, &rev, &f, now).status, 409);
}

static void test_publish(void **state)
{
    (void)state;
    bounty_actor_t com =
        s_actor(BOUNTY_ACTOR_COMMISSIONER, "com-cm02", "cm02", "community", "", "cm02");
    bounty_actor_t rev =
        s_actor(BOUNTY_ACTOR_REVIEWER, "rev-cm02", "cm02", "community", "", "cm02");
    assert_int_equal(bounty_publish_verdict(&com, true, "cm02", false).status, 0);
    assert_int_equal(bounty_publish_verdict(&com, true, "cm02", true).status, 409);
    assert_int_equal(bounty_publish_verdict(&com, true, "cm03", false).status, 403);
    assert_int_equal(bounty_publish_verdict(&rev, true, "cm02", false).status, 403);
    assert_int_equal(bounty_publish_verdict(&com, false, NULL, false).status, 404);
}

static void test_difficulty(void **state)
{
    (void)state;
    assert_string_equal(bounty_difficulty_parse(NULL), "normal");
    assert_string_equal(bounty_difficulty_parse(""), "normal");
    assert_string_equal(bounty_difficulty_parse("easy"), "easy");
    assert_string_equal(bounty_difficulty_parse("hard"), "hard");
    assert_null(bounty_difficulty_parse("extreme"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eligible_grid_orgs),
        cmocka_unit_test(test_eligible_people),
        cmocka_unit_test(test_eligible_rules_are_data),
        cmocka_unit_test(test_eligible_large),
        cmocka_unit_test(test_account_of),
        cmocka_unit_test(test_lease_arithmetic),
        cmocka_unit_test(test_extend_release),
        cmocka_unit_test(test_claim_state),
        cmocka_unit_test(test_review),
        cmocka_unit_test(test_publish),
        cmocka_unit_test(test_difficulty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
