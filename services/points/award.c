/* award.c: paying an award. Awards arrive on the "points" stage as
 * PointsAwarded (from hl-bounty for wishes and large items, from
 * hl-triage for councils held) or over HTTP (activity.c: study pairs,
 * events attended); both go through the same two steps:
 *
 * 1. points_award_plan reads the versions of the award's rule and what the
 *    award names (the account's kind if it has one, the community of the
 *    credited org unit) and decides: the rule in force at the event's time
 *    (points_rule_pick) and its amount, or why the award cannot be paid
 *    (no rule for its kind and basis, an account of another kind, an org
 *    unit or community that does not exist). A refused message is
 *    dead-lettered with a log line and a metric; nothing is stored.
 * 2. points_award_add writes it with points.award(): the ledger row (the
 *    transaction, citing rule id and version, source and reviewer), its two
 *    postings (the community's budget pays, the earner receives) and the
 *    balances, in one statement inside the message's own unit, so the
 *    claim, the rows and the balances commit together. An award_id seen
 *    before (the same award re-sent under a new message id) moves nothing;
 *    a message delivered twice is stopped earlier by the claim. */
#include "points.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One plan being read. */
typedef struct {
    points_t *pt;            /* service */
    points_plan_fn *fn;      /* called with the plan */
    void *arg;               /* passed to fn */
    points_plan_t plan;      /* the plan; its award's strings point into `text` */
    char *text[12];          /* owned copies of the award's strings */
    points_rule_t *rules;    /* versions read, owned */
    size_t nrules;           /* how many */
    char known_kind[16];     /* kind of the account when it exists */
    char inferred_kind[16];  /* kind its code suggests (legacy awards) */
    char unit_community[40]; /* community of the credited org unit */
    bool unit_found;         /* the credited org unit exists */
    bool community_found;    /* the named community exists */
    bool facts;              /* the facts row was read */
} s_plan_t;

static char *s_copy(s_plan_t *p, int slot, const char *s)
{
    if (!s || !*s)
        return NULL;
    p->text[slot] = hl_strdup(s);
    return p->text[slot];
}

static void s_plan_free(s_plan_t *p)
{
    for (size_t i = 0; i < sizeof p->text / sizeof p->text[0]; i++)
        free(p->text[i]);
    free(p->rules);
    free(p);
}

static const char s_sql_rules[] =
    "SELECT id, version, source_kind, coalesce(basis, ''), coalesce(amount, 0), active,"
    " (extract(epoch FROM valid_from) * 1000000)::bigint"
    " FROM points.rule WHERE source_kind = $1 OR source_kind = 'fixed'";

/* $1 account, $2 credited org unit, $3 named community. */
static const char s_sql_facts[] =
    "SELECT (SELECT kind FROM points.account WHERE code = $1),"
    " CASE WHEN EXISTS (SELECT 1 FROM org.member_unit WHERE code = $1) THEN 'member_unit'"
    "      WHEN EXISTS (SELECT 1 FROM org.org_unit WHERE code = $1) THEN 'grid_org'"
    "      ELSE 'volunteer' END,"
    " (SELECT CASE u.level WHEN 'community' THEN u.code WHEN 'compound' THEN u.parent"
    "         WHEN 'micro_grid' THEN p.parent WHEN 'household' THEN g.parent END"
    "    FROM org.org_unit u LEFT JOIN org.org_unit p ON p.code = u.parent"
    "    LEFT JOIN org.org_unit g ON g.code = p.parent WHERE u.code = $2),"
    " $2::text IS NULL OR EXISTS (SELECT 1 FROM org.org_unit WHERE code = $2),"
    " $3::text IS NULL OR EXISTS (SELECT 1 FROM org.org_unit WHERE code = $3"
    "                              AND level = 'community')";

static void s_rules_rows(void *arg, const PGresult *res)
{
    s_plan_t *p = arg;
    int n = PQntuples(res);
    p->rules = hl_calloc(n ? (size_t)n : 1, sizeof *p->rules);
    for (int i = 0; i < n; i++) {
        points_rule_t *r = &p->rules[p->nrules];
        snprintf(r->id, sizeof r->id, "%s", PQgetvalue(res, i, 0));
        r->version = atoi(PQgetvalue(res, i, 1));
        snprintf(r->kind, sizeof r->kind, "%s", PQgetvalue(res, i, 2));
        snprintf(r->basis, sizeof r->basis, "%s", PQgetvalue(res, i, 3));
        r->amount = atoi(PQgetvalue(res, i, 4));
        r->active = strcmp(PQgetvalue(res, i, 5), "t") == 0;
        r->valid_from_us = strtoll(PQgetvalue(res, i, 6), NULL, 10);
        p->nrules++;
    }
}

static void s_facts_rows(void *arg, const PGresult *res)
{
    s_plan_t *p = arg;
    if (PQntuples(res) != 1)
        return;
    p->facts = true;
    snprintf(p->known_kind, sizeof p->known_kind, "%s", PQgetvalue(res, 0, 0));
    snprintf(p->inferred_kind, sizeof p->inferred_kind, "%s", PQgetvalue(res, 0, 1));
    snprintf(p->unit_community, sizeof p->unit_community, "%s", PQgetvalue(res, 0, 2));
    p->unit_found = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
    p->community_found = strcmp(PQgetvalue(res, 0, 4), "t") == 0;
}

/* Fills the plan's decision from what was read. */
static void s_decide(s_plan_t *p)
{
    points_plan_t *plan = &p->plan;
    const points_award_t *a = &plan->award;
    if (!p->facts) {
        snprintf(plan->refused, sizeof plan->refused, "the award's facts could not be read");
        return;
    }
    if (!p->unit_found) {
        snprintf(plan->refused, sizeof plan->refused, "org_unit \"%.32s\" is not an org unit",
                 a->org_unit);
        return;
    }
    if (!p->community_found) {
        snprintf(plan->refused, sizeof plan->refused, "community \"%.32s\" is not a community",
                 a->community);
        return;
    }
    if (a->community && *p->unit_community && strcmp(a->community, p->unit_community) != 0) {
        snprintf(plan->refused, sizeof plan->refused,
                 "org_unit \"%.32s\" is in community %.32s, not %.32s", a->org_unit,
                 p->unit_community, a->community);
        return;
    }
    snprintf(plan->community, sizeof plan->community, "%s",
             a->community ? a->community : p->unit_community);
    snprintf(plan->account_kind, sizeof plan->account_kind, "%s",
             a->account_kind  ? a->account_kind
             : *p->known_kind ? p->known_kind
                              : p->inferred_kind);
    if (*p->known_kind && strcmp(p->known_kind, plan->account_kind) != 0) {
        snprintf(plan->refused, sizeof plan->refused,
                 "account \"%.64s\" is a %s account, not %.16s", a->account, p->known_kind,
                 plan->account_kind);
        return;
    }
    char why[160];
    int i = points_rule_pick(p->rules, p->nrules, a->source_kind, a->basis, a->at_us, a->has_amount,
                             why, sizeof why);
    if (i < 0) {
        plan->unruled = true;
        snprintf(plan->refused, sizeof plan->refused, "%s", why);
        return;
    }
    snprintf(plan->rule_id, sizeof plan->rule_id, "%s", p->rules[i].id);
    plan->rule_version = p->rules[i].version;
    plan->amount = a->has_amount ? a->amount : p->rules[i].amount;
}

static void s_plan_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_plan_t *p = arg;
    p->plan.rc = rc;
    if (rc != 0)
        p->plan.db_message = err->message;
    else
        s_decide(p);
    p->fn(p->arg, &p->plan);
    s_plan_free(p);
}

void points_award_plan(points_t *pt, const points_award_t *a, points_plan_fn *fn, void *arg)
{
    s_plan_t *p = hl_calloc(1, sizeof *p);
    p->pt = pt;
    p->fn = fn;
    p->arg = arg;
    points_award_t *c = &p->plan.award;
    *c = *a;
    c->award_id = s_copy(p, 0, a->award_id);
    c->account = s_copy(p, 1, a->account);
    c->account_kind = s_copy(p, 2, a->account_kind);
    c->reason = s_copy(p, 3, a->reason);
    c->source_kind = s_copy(p, 4, a->source_kind);
    c->source_id = s_copy(p, 5, a->source_id);
    c->org_unit = s_copy(p, 6, a->org_unit);
    c->basis = s_copy(p, 7, a->basis);
    c->reviewer = s_copy(p, 8, a->reviewer);
    c->community = s_copy(p, 9, a->community);
    c->message_id = s_copy(p, 10, a->message_id);
    hl_dbu_t *u = hl_dbu_new(pt->svc->db, s_plan_done, p);
    HL_DBU(u, s_sql_rules, s_rules_rows, p, c->source_kind ? c->source_kind : "");
    HL_DBU(u, s_sql_facts, s_facts_rows, p, c->account, c->org_unit, c->community);
    hl_dbu_submit(&u);
}

static const char s_sql_award[] =
    "SELECT points.award($1::uuid, $2, $3, $4::int, $5, $6, $7, $8,"
    " timestamptz 'epoch' + $9::bigint * interval '1 microsecond', $10::uuid, $11, $12::int,"
    " $13, $14, $15)";

static void s_award_rows(void *arg, const PGresult *res)
{
    char *outcome = arg;
    if (PQntuples(res) == 1)
        snprintf(outcome, 24, "%s", PQgetvalue(res, 0, 0));
}

const char *points_award_add(hl_dbu_t *u, const points_plan_t *plan)
{
    const points_award_t *a = &plan->award;
    char *outcome = hl_dbu_keep(u, (char[24]){0}, 24);
    char amount[16], at[24], version[16];
    snprintf(amount, sizeof amount, "%d", plan->amount);
    snprintf(at, sizeof at, "%" PRId64, a->at_us);
    snprintf(version, sizeof version, "%d", plan->rule_version);
    HL_DBU(u, s_sql_award, s_award_rows, outcome, a->award_id, a->account, plan->account_kind,
           amount, a->reason, a->source_kind, a->source_id, a->org_unit, at, a->message_id,
           plan->rule_id, version, a->basis, a->reviewer,
           *plan->community ? plan->community : NULL);
    return outcome;
}

/* ---- the "points" stage ------------------------------------------------ */

/* What the after-commit callback needs; kept alive by the unit. */
typedef struct {
    points_t *pt;                         /* service */
    char award_id[HL_UUID_LEN + 1];       /* the award */
    char message_id[HL_UUID_LEN + 1];     /* the message that carried it */
    char rule_id[POINTS_RULE_ID_MAX + 1]; /* the rule applied */
    int rule_version;                     /* its version */
    int amount;                           /* points paid */
    const char *outcome;                  /* points.award()'s answer, kept by the unit */
} s_award_t;

static void s_award_committed(void *arg)
{
    s_award_t *a = arg;
    if (strcmp(a->outcome, "recorded") == 0) {
        hl_metric_add(a->pt->recorded, 1);
        hl_debug("award", a->award_id, "recorded award: %d points by rule %s v%d", a->amount,
                 a->rule_id, a->rule_version);
    } else if (strcmp(a->outcome, "repeated") == 0) {
        hl_metric_add(a->pt->repeated, 1);
        hl_info("award", a->award_id, "award was recorded already: message %s changed no balance",
                a->message_id);
    } else {
        /* The account was opened with another kind between plan and write. */
        hl_metric_add(a->pt->refused, 1);
        hl_warn("award", a->award_id, "award not recorded: account is of %s (message %s)",
                a->outcome, a->message_id);
    }
}

static void s_planned(void *arg, const points_plan_t *plan)
{
    hl_inmsg_t *m = arg;
    points_t *pt = m->user;
    m->user = NULL;
    if (plan->rc != 0) {
        char why[200];
        snprintf(why, sizeof why, "could not read the award's rule: %s", plan->db_message);
        hl_inmsg_retry(&m, why);
        return;
    }
    if (*plan->refused) {
        hl_metric_add(plan->unruled ? pt->unruled : pt->refused, 1);
        char reason[240];
        snprintf(reason, sizeof reason, "PointsAwarded refused: %s", plan->refused);
        hl_inmsg_reject(&m, reason);
        return;
    }
    s_award_t st = {.pt = pt, .rule_version = plan->rule_version, .amount = plan->amount};
    snprintf(st.award_id, sizeof st.award_id, "%s", plan->award.award_id);
    snprintf(st.message_id, sizeof st.message_id, "%s", m->env->id);
    snprintf(st.rule_id, sizeof st.rule_id, "%s", plan->rule_id);
    st.outcome = points_award_add(m->unit, plan);
    hl_dbu_on_commit(m->unit, s_award_committed, hl_dbu_keep(m->unit, &st, sizeof st));
    hl_inmsg_apply(&m);
}

/* The library unpacked the payload (and frees it with the message); the
 * checks name the field and value, so they run here rather than as the
 * handler's static-text check. */
static void s_awarded(hl_inmsg_t *m, const void *msg, void *arg)
{
    points_t *pt = arg;
    const Hl__PointsAwarded *a = msg;
    char why[160];
    if (!points_award_check(a, why, sizeof why)) {
        char reason[200];
        snprintf(reason, sizeof reason, "PointsAwarded refused: %s", why);
        hl_metric_add(pt->refused, 1);
        hl_inmsg_reject(&m, reason);
        return;
    }
    /* The event's time is the producer's: a re-sent message is paid by
     * the rule that was in force when the award was made. */
    int64_t at = m->env->has_created_at_us && m->env->created_at_us > 0 ? m->env->created_at_us
                                                                        : hl_time_us();
    points_award_t award = {
        .award_id = a->award_id,
        .account = a->account,
        .account_kind = a->account_kind,
        .has_amount = a->has_amount,
        .amount = a->amount,
        .reason = a->reason,
        .source_kind = a->source_kind,
        .source_id = a->source_id,
        .org_unit = a->org_unit,
        .basis = a->basis,
        .reviewer = a->reviewer,
        .community = a->community,
        .at_us = at,
        .message_id = m->env->id,
    };
    m->user = pt;
    points_award_plan(pt, &award, s_planned, m); /* copies the strings */
}

int points_award_consume(points_t *pt)
{
    const hl_msg_handler_t handlers[] = {
        {&hl__points_awarded__descriptor, NULL, s_awarded, pt, NULL},
    };
    return hl_pipeline_consume_msgs(pt->svc->pipeline, HL_STAGE_POINTS, handlers,
                                    sizeof handlers / sizeof handlers[0]);
}
