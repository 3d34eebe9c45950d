/* engine.c: the claim and lease engine of both boards — claim, extend,
 * release, progress (large items), complete and review — for HTTP callers
 * (who present an actor's key) and for member units acting through the
 * city platform (LargeItemAction, stage "bounty").
 *
 * Every transition goes the same way. A read gathers the facts (the entry,
 * its board, who completed it, whether the unit fits its category) and the
 * eligibility rules; rules.c decides; then one write changes the entry
 * with an UPDATE guarded by the state the decision relied on (status,
 * claimant, an unexpired lease, the evidence reviewed), adds the step to
 * the entry's history (whose trigger appends it to the board's change
 * feed), and emits the messages that follow from it in the same
 * transaction. A guard that matched nothing means someone else got there
 * first: claims of wishes are answered 409 from the empty RETURNING (no
 * exception, so a batch of a thousand racing claims commits in one go);
 * writes that emit messages call bounty.expect_changed_as(), which fails
 * the unit (HL409 → 409 for HTTP; 40001 for the platform, whose message is
 * then decided again on what is there now), so no message ever leaves for
 * a transition that did not happen.
 *
 * A platform action is applied once per action_id (bounty.action_once):
 * a second delivery finds it recorded and changes nothing. A refused one
 * is recorded too and answered with PlatformEvent action.refused naming
 * the rule. */
#include "bounty.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One transition in flight. */
typedef struct {
    bounty_t *b;                    /* service */
    bounty_kind_t kind;             /* board of the entry */
    bounty_do_t what;               /* the transition */
    hl_http_req_t *req;             /* HTTP caller, or NULL */
    hl_inmsg_t *msg;                /* platform action being applied, or NULL */
    json_t *json;                   /* parsed body, owned; note points into it */
    const char *note;               /* evidence, progress report, reviewer's or release note */
    bool approve;                   /* review: approve (else reject) */
    char id[HL_UUID_LEN + 1];       /* entry id (HTTP) or triage item id (platform) */
    bounty_actor_t actor;           /* who acts */
    PGresult *row;                  /* the facts row, owned */
    PGresult *rules;                /* eligibility rules of the kind, owned */
    bounty_facts_t facts;           /* decided on */
    int64_t now_us;                 /* the decision's clock */
    int64_t until_us;               /* new lease end (claim, extend, reject) */
    char award_id[HL_UUID_LEN + 1]; /* approval */
    char *at;                       /* the write's timestamp when it won, owned */
    bool wrote;                     /* the write's row came back */
    /* platform actions */
    char *action_id;  /* webhook id, owned */
    char *partner;    /* platform partner, owned */
    char *kind_text;  /* kind as sent, owned */
    bool action_seen; /* the action id was recorded before */
} s_op_t;

/* Columns of the facts queries. */
enum {
    F_STATUS,           /* status */
    F_PUBLISHED,        /* board published */
    F_MICRO_GRID,       /* wish's micro-grid */
    F_COMPOUND,         /* wish's compound */
    F_COMMUNITY,        /* community */
    F_CATEGORY,         /* category */
    F_FITS,             /* large: unit fits */
    F_CLAIMANT,         /* claimant account */
    F_CLAIMANT_KIND,    /* its kind */
    F_COMPLETED_BY,     /* actor that completed */
    F_COMPLETER_PERSON, /* that actor's person */
    F_LEASE_US,         /* lease end, microseconds */
    F_LEASE_EXTENDED,   /* extended already */
    F_TITLE,            /* title */
    F_EVIDENCE,         /* evidence */
    F_ITEM_ID,          /* triage item */
    F_APPEAL_ID,        /* wish's first appeal */
    F_DIFFICULTY,       /* difficulty */
    F_BOARD_ID,         /* board now */
    F_AWARD_UNIT,       /* org unit credited */
    F_ID,               /* entry id */
    F_UNIT_KNOWN,       /* large: the acting member unit exists */
    F_CLAIMED_BY,       /* actor that made the claim */
};

static const char s_sql_wish_facts[] =
    "SELECT w.status, b.published_at IS NOT NULL, w.micro_grid, w.org_unit, c.parent, w.category,"
    " false, w.claimant, w.claimant_kind, w.completed_by, ca.person,"
    " (extract(epoch FROM w.lease_until) * 1000000)::bigint, w.lease_extended, w.title, w.evidence,"
    " w.item_id::text, w.appeal_id::text, w.difficulty, b.id::text,"
    " coalesce(CASE cu.level WHEN 'compound' THEN cu.code WHEN 'micro_grid' THEN cu.parent END,"
    "          w.org_unit),"
    " w.id::text, true, w.claimed_by"
    " FROM bounty.wish w JOIN bounty.board b ON b.id = w.board_id"
    " JOIN org.org_unit c ON c.code = w.org_unit"
    " LEFT JOIN bounty.actor ca ON ca.name = w.completed_by"
    " LEFT JOIN org.org_unit cu ON w.claimant_kind IN ('grid_org', 'org_unit') AND cu.code = "
    "w.claimant"
    " WHERE w.id = $1::uuid";

#define S_LARGE_FACTS                                                                              \
    "SELECT l.status, b.published_at IS NOT NULL, NULL, NULL, l.community, l.category,"            \
    " org.unit_fits_category($2, l.category), l.claimant, 'member_unit', l.completed_by,"          \
    " ca.person, (extract(epoch FROM l.lease_until) * 1000000)::bigint, l.lease_extended,"         \
    " l.title, l.evidence, l.item_id::text, NULL, l.difficulty, b.id::text, l.org_unit,"           \
    " l.id::text, EXISTS (SELECT 1 FROM org.member_unit m WHERE m.code = $2), l.claimed_by"        \
    " FROM bounty.large_item l JOIN bounty.board b ON b.id = l.board_id"                           \
    " LEFT JOIN bounty.actor ca ON ca.name = l.completed_by"

static const char s_sql_large_facts[] = S_LARGE_FACTS " WHERE l.id = $1::uuid";
static const char s_sql_large_facts_by_item[] = S_LARGE_FACTS " WHERE l.item_id = $1::uuid";

static const char s_sql_rules[] =
    "SELECT code, actor_kind, scope, description FROM bounty.eligibility_rule"
    " WHERE entry_kind = $1 AND active ORDER BY code";

static const char s_sql_action_seen[] =
    "SELECT outcome FROM bounty.platform_action WHERE action_id = $1";

static const char s_sql_action_once[] = "SELECT bounty.action_once($1, $2, $3, $4, $5, $6, $7)";

/* ---- the writes ------------------------------------------------------------ */

/* Every write takes the same ten parameters, typed once here. */
#define S_P                                                                                        \
    "WITH p AS (SELECT $1::uuid AS id, $2::text AS account, $3::text AS account_kind,"             \
    " $4::text AS actor, $5::text AS actor_kind, $6::bigint AS until_us, $7::text AS note,"        \
    " $8::text AS sqlstate, $9::text AS guard, $10::uuid AS award_id)"
#define S_UNTIL "'epoch'::timestamptz + p.until_us * interval '1 microsecond'"
/* The final row: the write's timestamp (NULL when the guard matched
 * nothing), failing the unit then when p.sqlstate is set. */
#define S_END(what)                                                                                \
    " SELECT (SELECT to_json(v)#>>'{}' FROM u),"                                                   \
    " bounty.expect_changed_as((SELECT count(*) FROM u), " what ", p.sqlstate) FROM p"

/* A transition's UPDATE of table T ("wish" / "large_item"), its history
 * step into E ("wish_event (wish_id" / "large_item_event (item_id"). */
#define S_STEP(T, E, SET, GUARD, V, ACTION, STATUS, NOTE)                                          \
    S_P ", u AS (UPDATE bounty." T " x SET " SET " FROM p WHERE x.id = p.id AND " GUARD            \
        " RETURNING x.id, " V " AS v),"                                                            \
        " e AS (INSERT INTO bounty." E ", action, status, actor, actor_kind, note)"                \
        " SELECT u.id, '" ACTION "', '" STATUS "', p.actor, p.actor_kind, " NOTE                   \
        " FROM u, p)" S_END("'the entry changed meanwhile'")

#define S_HOLDS "x.status = 'claimed' AND x.claimant = p.account AND x.lease_until > now()"
#define S_RELEASE_SET                                                                              \
    "status = 'open', claimant = NULL, claimed_at = NULL, claimed_by = NULL,"                      \
    " lease_until = NULL, lease_extended = false"

typedef struct {
    const char *claim, *extend, *release, *progress, *complete, *approve, *reject;
} s_sqls_t;

static const s_sqls_t s_wish_sql = {
    .claim = S_STEP("wish", "wish_event (wish_id",
                    "status = 'claimed', claimant = p.account, claimant_kind = p.account_kind,"
                    " claimed_by = p.actor, claimed_at = now(), lease_until = " S_UNTIL ","
                    " lease_extended = false",
                    "x.status = 'open' AND EXISTS (SELECT 1 FROM bounty.board b"
                    " WHERE b.id = x.board_id AND b.published_at IS NOT NULL)",
                    "x.lease_until", "claimed", "claimed", "'lease until ' || u.v"),
    .extend =
        S_STEP("wish", "wish_event (wish_id", "lease_until = " S_UNTIL ", lease_extended = true",
               S_HOLDS " AND NOT x.lease_extended", "x.lease_until", "extended", "claimed",
               "'lease until ' || u.v"),
    .release = S_STEP("wish", "wish_event (wish_id", S_RELEASE_SET ", claimant_kind = NULL",
                      S_HOLDS, "now()", "released", "open", "p.note"),
    .progress = NULL,
    .complete = S_STEP("wish", "wish_event (wish_id",
                       "status = 'completed', evidence = p.note, completed_at = now(),"
                       " completed_by = p.actor, lease_until = NULL",
                       S_HOLDS, "x.completed_at", "completed", "completed", "p.note"),
    .approve = S_STEP("wish", "wish_event (wish_id",
                      "status = 'approved', reviewer = p.actor, review_note = p.note,"
                      " award_id = p.award_id, reviewed_at = now()",
                      "x.status = 'completed' AND x.claimant = p.account AND x.evidence = p.guard",
                      "x.reviewed_at", "approved", "approved", "p.note"),
    .reject = S_STEP("wish", "wish_event (wish_id",
                     "status = 'claimed', reviewer = p.actor, review_note = p.note,"
                     " reviewed_at = now(), lease_until = " S_UNTIL ", lease_extended = false",
                     "x.status = 'completed' AND x.claimant = p.account AND x.evidence = p.guard",
                     "x.lease_until", "rejected", "claimed", "p.note"),
};

static const s_sqls_t s_large_sql = {
    .claim = S_STEP("large_item", "large_item_event (item_id",
                    "status = 'claimed', claimant = p.account, claimed_by = p.actor,"
                    " claimed_at = now(), lease_until = " S_UNTIL ", lease_extended = false",
                    "x.status = 'open' AND p.account_kind = 'member_unit'"
                    " AND EXISTS (SELECT 1 FROM bounty.board b"
                    " WHERE b.id = x.board_id AND b.published_at IS NOT NULL)",
                    "x.lease_until", "claimed", "claimed", "'lease until ' || u.v"),
    .extend = S_STEP("large_item", "large_item_event (item_id",
                     "lease_until = " S_UNTIL ", lease_extended = true",
                     S_HOLDS " AND NOT x.lease_extended", "x.lease_until", "extended", "claimed",
                     "'lease until ' || u.v"),
    .release = S_STEP("large_item", "large_item_event (item_id", S_RELEASE_SET, S_HOLDS, "now()",
                      "released", "open", "p.note"),
    .progress =
        S_STEP("large_item", "large_item_event (item_id", "progress = p.note, progress_at = now()",
               S_HOLDS, "x.progress_at", "progress", "claimed", "p.note"),
    .complete = S_STEP("large_item", "large_item_event (item_id",
                       "status = 'completed', evidence = p.note, completed_at = now(),"
                       " completed_by = p.actor, lease_until = NULL",
                       S_HOLDS, "x.completed_at", "completed", "completed", "p.note"),
    .approve = S_STEP("large_item", "large_item_event (item_id",
                      "status = 'approved', reviewer = p.actor, review_note = p.note,"
                      " award_id = p.award_id, reviewed_at = now()",
                      "x.status = 'completed' AND x.claimant = p.account AND x.evidence = p.guard",
                      "x.reviewed_at", "approved", "approved", "p.note"),
    .reject = S_STEP("large_item", "large_item_event (item_id",
                     "status = 'claimed', reviewer = p.actor, review_note = p.note,"
                     " reviewed_at = now(), lease_until = " S_UNTIL ", lease_extended = false",
                     "x.status = 'completed' AND x.claimant = p.account AND x.evidence = p.guard",
                     "x.lease_until", "rejected", "claimed", "p.note"),
};

/* ---- the op ---------------------------------------------------------------- */

static void s_op_free(void *arg)
{
    s_op_t *op = arg;
    json_decref(op->json);
    PQclear(op->row);
    PQclear(op->rules);
    free(op->at);
    free(op->action_id);
    free(op->partner);
    free(op->kind_text);
    free(op);
}

static const char *s_col(const s_op_t *op, int col)
{
    if (!op->row || PQgetisnull(op->row, 0, col))
        return NULL;
    return PQgetvalue(op->row, 0, col);
}

static const char *s_entry_name(const s_op_t *op)
{
    return op->kind == BOUNTY_LARGE ? "large item" : "wish";
}

static void s_facts_rows(void *arg, const PGresult *res)
{
    s_op_t *op = arg;
    if (PQntuples(res) != 1)
        return;
    op->row = PQcopyResult(res, PG_COPYRES_ATTRS | PG_COPYRES_TUPLES);
    if (!op->row)
        abort(); /* out of memory, like every other allocation */
}

static void s_rules_rows(void *arg, const PGresult *res)
{
    s_op_t *op = arg;
    op->rules = PQcopyResult(res, PG_COPYRES_ATTRS | PG_COPYRES_TUPLES);
    if (!op->rules)
        abort();
}

static void s_seen_rows(void *arg, const PGresult *res)
{
    s_op_t *op = arg;
    op->action_seen = PQntuples(res) > 0;
}

/* Fills op->facts from op->row. */
static void s_fill_facts(s_op_t *op)
{
    bounty_facts_t *f = &op->facts;
    memset(f, 0, sizeof *f);
    f->kind = op->kind;
    if (!op->row)
        return;
    f->found = true;
    f->status = bounty_status_parse(s_col(op, F_STATUS));
    f->published = s_col(op, F_PUBLISHED)[0] == 't';
    f->micro_grid = s_col(op, F_MICRO_GRID);
    f->compound = s_col(op, F_COMPOUND);
    f->community = s_col(op, F_COMMUNITY);
    f->category = s_col(op, F_CATEGORY);
    f->fits = s_col(op, F_FITS) && s_col(op, F_FITS)[0] == 't';
    f->claimant = s_col(op, F_CLAIMANT);
    f->claimant_kind = s_col(op, F_CLAIMANT_KIND);
    f->completed_by = s_col(op, F_COMPLETED_BY);
    f->completer_person = s_col(op, F_COMPLETER_PERSON);
    f->lease_until_us = s_col(op, F_LEASE_US) ? atoll(s_col(op, F_LEASE_US)) : 0;
    f->lease_extended = s_col(op, F_LEASE_EXTENDED)[0] == 't';
}

/* Decides the op on its facts: a refusal, or go with op->until_us set. */
static hl_refusal_t s_decide(s_op_t *op)
{
    s_fill_facts(op);
    op->now_us = hl_time_us();
    const bounty_facts_t *f = &op->facts;
    if (op->msg && f->found && s_col(op, F_UNIT_KNOWN)[0] != 't') {
        hl_refusal_t v;
        hl_refuse(&v, 422, "unit", "unit %s is not a member unit", op->actor.unit);
        return v;
    }
    hl_refusal_t v = {0, "", ""};
    /* Who may claim is decided before whether the entry is free: an
     * ineligible actor hears 403 whether or not someone was faster. */
    if (op->what == BOUNTY_DO_CLAIM && f->found) {
        size_t n = op->rules ? (size_t)PQntuples(op->rules) : 0;
        bounty_rule_t *rules = hl_calloc(n ? n : 1, sizeof *rules);
        for (size_t i = 0; i < n; i++)
            rules[i] =
                (bounty_rule_t){PQgetvalue(op->rules, (int)i, 0), PQgetvalue(op->rules, (int)i, 1),
                                PQgetvalue(op->rules, (int)i, 2), PQgetvalue(op->rules, (int)i, 3)};
        const char *rule;
        v = bounty_eligible(&op->actor, f, rules, n, &rule);
        free(rules);
        if (v.status != 0)
            return v;
    }
    v = bounty_transition_verdict(op->what, &op->actor, f, op->now_us);
    if (v.status != 0)
        return v;
    if (op->what == BOUNTY_DO_CLAIM) {
        op->until_us = bounty_lease_until(op->now_us, op->b->cfg->lease_s);
    } else if (op->what == BOUNTY_DO_EXTEND) {
        op->until_us = bounty_lease_extend(f->lease_until_us, op->b->cfg->lease_s);
    } else if (op->what == BOUNTY_DO_REVIEW && !op->approve) {
        op->until_us = bounty_lease_until(op->now_us, op->b->cfg->lease_s);
    }
    return v;
}

/* ---- messages ------------------------------------------------------------ */

/* The trace id of the entry's messages: the wish's first appeal, else the item. */
static const char *s_trace(const s_op_t *op)
{
    const char *appeal = s_col(op, F_APPEAL_ID);
    return appeal ? appeal : s_col(op, F_ITEM_ID);
}

/* Adds a PlatformEvent of `type` about this large item to `u`. */
static void s_platform_event(s_op_t *op, hl_dbu_t *u, const char *type, json_t *data)
{
    char event_id[HL_UUID_LEN + 1];
    hl_uuid_new(event_id);
    const char *entry = s_col(op, F_ID);
    json_object_set_new(data, "item_id",
                        json_string(s_col(op, F_ITEM_ID) ? s_col(op, F_ITEM_ID) : op->id));
    if (entry)
        json_object_set_new(data, "entry_id", json_string(entry));
    if (op->action_id)
        json_object_set_new(data, "action_id", json_string(op->action_id));
    char *text = json_dumps(data, JSON_COMPACT);
    json_decref(data);
    Hl__PlatformEvent ev = HL__PLATFORM_EVENT__INIT;
    ev.event_id = event_id;
    ev.type = (char *)type;
    ev.subject_id = (char *)(entry ? entry : op->id);
    ev.community = (char *)s_col(op, F_COMMUNITY);
    ev.unit = op->actor.unit[0] ? op->actor.unit : NULL;
    ev.has_occurred_at_us = 1;
    ev.occurred_at_us = op->now_us ? op->now_us : hl_time_us();
    ev.data_json = text;
    hl_pipeline_send(op->b->svc->pipeline, u, HL_STAGE_PLATFORM,
                     s_col(op, F_ITEM_ID) ? s_col(op, F_ITEM_ID) : op->id, &ev.base, NULL);
    free(text);
}

/* The award and the resolution that follow an approval. */
static void s_approval_messages(s_op_t *op, hl_dbu_t *u)
{
    hl_pipeline_t *p = op->b->svc->pipeline;
    const char *claimant = s_col(op, F_CLAIMANT);
    const char *claimant_kind = s_col(op, F_CLAIMANT_KIND);
    /* Claims made before actors named an org unit: a grid organisation. */
    const char *account_kind =
        claimant_kind && strcmp(claimant_kind, "org_unit") == 0 ? "grid_org" : claimant_kind;
    char reason[1024];
    if (op->kind == BOUNTY_WISH) {
        bounty_award_reason(s_col(op, F_TITLE), reason, sizeof reason);
    } else {
        snprintf(reason, sizeof reason, "large item resolved: %.900s", s_col(op, F_TITLE));
    }
    Hl__PointsAwarded award = HL__POINTS_AWARDED__INIT;
    award.award_id = op->award_id;
    award.account = (char *)claimant;
    award.account_kind = (char *)account_kind;
    award.basis = (char *)s_col(op, F_DIFFICULTY);
    award.reviewer = op->actor.name;
    award.community = (char *)s_col(op, F_COMMUNITY);
    award.reason = reason;
    award.source_kind = op->kind == BOUNTY_WISH ? "wish" : "large_item";
    award.source_id = (char *)s_col(op, F_ID);
    award.org_unit = (char *)s_col(op, F_AWARD_UNIT);
    hl_pipeline_send(p, u, HL_STAGE_POINTS, s_trace(op), &award.base, NULL);

    if (op->kind == BOUNTY_WISH) {
        Hl__TaskApproved done = HL__TASK_APPROVED__INIT;
        done.wish_id = (char *)s_col(op, F_ID);
        done.item_id = (char *)s_col(op, F_ITEM_ID);
        done.claimant = (char *)claimant;
        done.reviewer = op->actor.name;
        done.evidence = (char *)s_col(op, F_EVIDENCE);
        done.has_approved_at_us = 1;
        done.approved_at_us = op->now_us;
        hl_pipeline_send(p, u, HL_STAGE_RESOLUTION, s_trace(op), &done.base, NULL);
        return;
    }
    char outcome[2400], by[80];
    snprintf(outcome, sizeof outcome, "completed by member unit %s: %s", claimant,
             s_col(op, F_EVIDENCE));
    snprintf(by, sizeof by, "member unit %s", claimant);
    Hl__ItemResolved res = HL__ITEM_RESOLVED__INIT;
    res.item_id = (char *)s_col(op, F_ITEM_ID);
    res.outcome = outcome;
    res.resolved_by = by;
    res.has_resolved_at_us = 1;
    res.resolved_at_us = op->now_us;
    hl_pipeline_send(p, u, HL_STAGE_RESOLUTION, s_trace(op), &res.base, NULL);
    s_platform_event(op, u, "large_item.resolved",
                     json_pack("{s:s, s:s, s:s}", "unit", claimant, "confirmed_by", op->actor.name,
                               "title", s_col(op, F_TITLE)));
}

/* ---- the write ------------------------------------------------------------- */

static void s_won_rows(void *arg, const PGresult *res)
{
    s_op_t *op = arg;
    if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
        op->wrote = true;
        op->at = hl_strdup(PQgetvalue(res, 0, 0));
    }
}

/* Adds the write of the decided op to `u`; `sqlstate` is what a guard that
 * matched nothing raises (NULL: nothing, the empty result says it). */
static void s_add_write(s_op_t *op, hl_dbu_t *u, const char *sqlstate)
{
    const s_sqls_t *sql = op->kind == BOUNTY_WISH ? &s_wish_sql : &s_large_sql;
    const char *text = NULL;
    const char *account_kind = NULL;
    const char *account = bounty_account_of(&op->actor, &account_kind);
    const char *guard = NULL;
    const char *award = NULL;
    switch (op->what) {
    case BOUNTY_DO_CLAIM:
        text = sql->claim;
        break;
    case BOUNTY_DO_EXTEND:
        text = sql->extend;
        break;
    case BOUNTY_DO_RELEASE:
        text = sql->release;
        break;
    case BOUNTY_DO_PROGRESS:
        text = sql->progress;
        break;
    case BOUNTY_DO_COMPLETE:
        text = sql->complete;
        break;
    case BOUNTY_DO_REVIEW:
        text = op->approve ? sql->approve : sql->reject;
        /* The review decides on the claimant and evidence it read. */
        account = s_col(op, F_CLAIMANT);
        guard = s_col(op, F_EVIDENCE);
        if (op->approve) {
            hl_uuid_new(op->award_id);
            award = op->award_id;
        }
        break;
    }
    char until[24];
    snprintf(until, sizeof until, "%lld", (long long)op->until_us);
    const char *id = s_col(op, F_ID);
    HL_DBU(u, text, s_won_rows, op, id, account, account_kind, op->actor.name,
           bounty_actor_kind_name((bounty_actor_kind_t)op->actor.kind), until, op->note, sqlstate,
           guard, award);
    if (op->what == BOUNTY_DO_REVIEW && op->approve)
        s_approval_messages(op, u);
    if (op->kind == BOUNTY_LARGE && op->what == BOUNTY_DO_CLAIM)
        s_platform_event(op, u, "large_item.claimed",
                         json_pack("{s:s, s:s, s:I}", "unit", op->actor.unit, "title",
                                   s_col(op, F_TITLE), "lease_until_us", (json_int_t)op->until_us));
    if (op->kind == BOUNTY_LARGE && op->what == BOUNTY_DO_PROGRESS)
        s_platform_event(op, u, "large_item.progress",
                         json_pack("{s:s, s:s}", "unit", op->actor.unit, "note", op->note));
}

/* True when the op's write emits messages (so its guard must fail the unit). */
static bool s_emits(const s_op_t *op)
{
    return (op->what == BOUNTY_DO_REVIEW && op->approve) ||
           (op->kind == BOUNTY_LARGE &&
            (op->what == BOUNTY_DO_CLAIM || op->what == BOUNTY_DO_PROGRESS));
}

static void s_count(s_op_t *op)
{
    bounty_t *b = op->b;
    switch (op->what) {
    case BOUNTY_DO_CLAIM:
        hl_metric_add(op->kind == BOUNTY_WISH ? b->claimed_wish : b->claimed_large, 1);
        break;
    case BOUNTY_DO_EXTEND:
        hl_metric_add(b->extended, 1);
        break;
    case BOUNTY_DO_RELEASE:
        hl_metric_add(b->released, 1);
        break;
    case BOUNTY_DO_PROGRESS:
        hl_metric_add(b->progressed, 1);
        break;
    case BOUNTY_DO_COMPLETE:
        hl_metric_add(b->completed, 1);
        break;
    case BOUNTY_DO_REVIEW:
        hl_metric_add(op->approve ? b->approved : b->rejected, 1);
        break;
    }
}

/* ---- HTTP ---------------------------------------------------------------- */

static void s_reply_verdict(s_op_t *op, const hl_refusal_t *v)
{
    if (v->status == 403 && op->what == BOUNTY_DO_CLAIM)
        hl_metric_add(op->b->ineligible, 1);
    if (v->status == 409 && op->what == BOUNTY_DO_CLAIM)
        hl_metric_add(op->b->claim_refused, 1);
    hl_req_reply(op->req, v);
}

static void s_http_write_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_op_t *op = arg;
    if (rc == HL_ECONFLICT || (rc == 0 && !op->wrote)) {
        hl_refusal_t v;
        if (op->what == BOUNTY_DO_CLAIM)
            hl_refuse(&v, 409, "id", "the %s is already claimed", s_entry_name(op));
        else
            hl_refuse(&v, 409, "id",
                      "the %s changed while this was being decided; read it and try again",
                      s_entry_name(op));
        s_reply_verdict(op, &v);
    } else if (rc != 0) {
        hl_req_reply_db(op->req, s_entry_name(op), "record the step", err);
    } else {
        s_count(op);
        hl_info(op->kind == BOUNTY_WISH ? "wish" : "large_item", s_col(op, F_ID), "%s%s by %s",
                bounty_do_name(op->what),
                op->what == BOUNTY_DO_REVIEW ? (op->approve ? " (approve)" : " (reject)") : "",
                op->actor.name);
        static const char *const status_after[] = {"claimed", "claimed",   "open",
                                                   "claimed", "completed", "approved"};
        const char *status =
            op->what == BOUNTY_DO_REVIEW && !op->approve ? "claimed" : status_after[op->what];
        json_t *body =
            json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", s_col(op, F_ID), "kind",
                      bounty_kind_name(op->kind), "status", status, "actor", op->actor.name,
                      "actor_kind", bounty_actor_kind_name((bounty_actor_kind_t)op->actor.kind));
        bool leased = op->what == BOUNTY_DO_CLAIM || op->what == BOUNTY_DO_EXTEND ||
                      (op->what == BOUNTY_DO_REVIEW && !op->approve);
        json_object_set_new(body, leased ? "lease_until" : "at", hl_json_text(op->at));
        if (op->what == BOUNTY_DO_CLAIM) {
            const char *kind;
            json_object_set_new(body, "claimant",
                                json_string(bounty_account_of(&op->actor, &kind)));
            json_object_set_new(body, "claimant_kind", json_string(kind));
        }
        if (op->what == BOUNTY_DO_REVIEW) {
            json_object_set_new(body, "claimant", hl_json_text(s_col(op, F_CLAIMANT)));
            json_object_set_new(body, "note", op->note ? json_string(op->note) : json_null());
            if (op->approve)
                json_object_set_new(body, "award_id", json_string(op->award_id));
        }
        hl_http_reply_json(op->req, 200, body);
    }
    s_op_free(op);
}

static void s_http_facts_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_op_t *op = arg;
    if (rc != 0) {
        hl_req_reply_db(op->req, s_entry_name(op), "read the entry", err);
        s_op_free(op);
        return;
    }
    hl_refusal_t v = s_decide(op);
    if (v.status != 0) {
        s_reply_verdict(op, &v);
        s_op_free(op);
        return;
    }
    hl_dbu_t *u = hl_dbu_new(op->b->svc->db, s_http_write_done, op);
    s_add_write(op, u, s_emits(op) ? "HL409" : NULL);
    hl_dbu_submit(&u);
}

/* Adds the facts read of the op to `u`. */
static void s_add_facts(s_op_t *op, hl_dbu_t *u, bool by_item)
{
    if (op->kind == BOUNTY_WISH) {
        HL_DBU(u, s_sql_wish_facts, s_facts_rows, op, op->id);
    } else {
        HL_DBU(u, by_item ? s_sql_large_facts_by_item : s_sql_large_facts, s_facts_rows, op, op->id,
               op->actor.unit);
    }
    if (op->what == BOUNTY_DO_CLAIM)
        HL_DBU(u, s_sql_rules, s_rules_rows, op, bounty_kind_name(op->kind));
}

static void s_http_authenticated(hl_http_req_t *req, const bounty_actor_t *actor, void *arg)
{
    s_op_t *op = arg;
    (void)req;
    if (!actor) {
        s_op_free(op);
        return;
    }
    op->actor = *actor;
    hl_dbu_t *u = hl_dbu_new(op->b->svc->db, s_http_facts_done, op);
    s_add_facts(op, u, false);
    hl_dbu_submit(&u);
}

/* What the bodies of the transitions carry. */
typedef struct {
    const char *note;     /* release, progress: a note; complete: the evidence */
    const char *decision; /* review: approve or reject */
} s_body_t;

static const char *const s_decisions[] = {"approve", "reject", NULL};

static const hl_req_field_t s_spec_none[] = {{0}};
static const hl_req_field_t s_spec_release[] = {{.name = "note",
                                                 .type = HL_REQ_TEXT,
                                                 .flags = HL_REQ_MULTILINE,
                                                 .max = BOUNTY_NOTE_MAX,
                                                 HL_REQ_AT(s_body_t, note)},
                                                {0}};
static const hl_req_field_t s_spec_progress[] = {{.name = "note",
                                                  .type = HL_REQ_TEXT,
                                                  .flags = HL_REQ_REQUIRED | HL_REQ_MULTILINE,
                                                  .max = BOUNTY_EVIDENCE_MAX,
                                                  HL_REQ_AT(s_body_t, note)},
                                                 {0}};
static const hl_req_field_t s_spec_complete[] = {{.name = "evidence",
                                                  .type = HL_REQ_TEXT,
                                                  .flags = HL_REQ_REQUIRED | HL_REQ_MULTILINE,
                                                  .max = BOUNTY_EVIDENCE_MAX,
                                                  HL_REQ_AT(s_body_t, note)},
                                                 {0}};
static const hl_req_field_t s_spec_review[] = {{.name = "decision",
                                                .type = HL_REQ_TEXT,
                                                .flags = HL_REQ_REQUIRED,
                                                .max = 16,
                                                .allowed = s_decisions,
                                                HL_REQ_AT(s_body_t, decision)},
                                               {.name = "note",
                                                .type = HL_REQ_TEXT,
                                                .flags = HL_REQ_MULTILINE,
                                                .max = BOUNTY_NOTE_MAX,
                                                HL_REQ_AT(s_body_t, note)},
                                               {0}};

/* Parses the request of transition `what` on an entry of `kind` and starts it. */
static void s_http_start(hl_http_req_t *req, bounty_t *b, bounty_kind_t kind, bounty_do_t what)
{
    static const hl_req_field_t *const specs[] = {
        [BOUNTY_DO_CLAIM] = s_spec_none,        [BOUNTY_DO_EXTEND] = s_spec_none,
        [BOUNTY_DO_RELEASE] = s_spec_release,   [BOUNTY_DO_PROGRESS] = s_spec_progress,
        [BOUNTY_DO_COMPLETE] = s_spec_complete, [BOUNTY_DO_REVIEW] = s_spec_review,
    };
    char id[HL_REQ_ID_MAX];
    if (!hl_req_path_id(req, 0, HL_REQ_ID_UUID, kind == BOUNTY_WISH ? "wish" : "large item", id))
        return;
    s_body_t body = {0};
    json_t *j = bounty_optional_body(req, specs[what], &body);
    if (!j)
        return;
    if (what == BOUNTY_DO_REVIEW && strcmp(body.decision, "reject") == 0 && !body.note) {
        hl_http_reply_error(req, 422, "note", "a rejection needs a note saying why");
        json_decref(j);
        return;
    }
    s_op_t *op = hl_calloc(1, sizeof *op);
    op->b = b;
    op->kind = kind;
    op->what = what;
    op->req = req;
    op->json = j;
    op->note = body.note;
    op->approve = body.decision && strcmp(body.decision, "approve") == 0;
    memcpy(op->id, id, HL_UUID_LEN + 1);
    bounty_authenticate(b, req, s_http_authenticated, op);
}

#define S_ROUTE(fn, kind, what)                                                                    \
    void fn(hl_http_req_t *req, void *arg)                                                         \
    {                                                                                              \
        s_http_start(req, arg, kind, what);                                                        \
    }
S_ROUTE(bounty_wish_claim_post, BOUNTY_WISH, BOUNTY_DO_CLAIM)
S_ROUTE(bounty_wish_extend_post, BOUNTY_WISH, BOUNTY_DO_EXTEND)
S_ROUTE(bounty_wish_release_post, BOUNTY_WISH, BOUNTY_DO_RELEASE)
S_ROUTE(bounty_wish_complete_post, BOUNTY_WISH, BOUNTY_DO_COMPLETE)
S_ROUTE(bounty_wish_review_post, BOUNTY_WISH, BOUNTY_DO_REVIEW)
S_ROUTE(bounty_large_claim_post, BOUNTY_LARGE, BOUNTY_DO_CLAIM)
S_ROUTE(bounty_large_extend_post, BOUNTY_LARGE, BOUNTY_DO_EXTEND)
S_ROUTE(bounty_large_release_post, BOUNTY_LARGE, BOUNTY_DO_RELEASE)
S_ROUTE(bounty_large_progress_post, BOUNTY_LARGE, BOUNTY_DO_PROGRESS)
S_ROUTE(bounty_large_complete_post, BOUNTY_LARGE, BOUNTY_DO_COMPLETE)
S_ROUTE(bounty_large_review_post, BOUNTY_LARGE, BOUNTY_DO_REVIEW)

/* ---- the city platform (LargeItemAction) ------------------------------------ */

static void s_action_read(s_op_t *op);

static void s_action_redo(hl_inmsg_t *m, const hl_dberr_t *err, void *arg)
{
    s_op_t *op = arg;
    (void)err;
    op->msg = m;
    s_action_read(op);
}

/* Records the action's outcome and applies the message's unit. */
static void s_action_apply(s_op_t *op, const hl_refusal_t *v)
{
    hl_inmsg_t *m = op->msg;
    op->msg = NULL;
    const char *item = s_col(op, F_ITEM_ID) ? s_col(op, F_ITEM_ID) : op->id;
    if (v->status != 0) {
        hl_metric_add(op->b->platform_refused, 1);
        if (op->what == BOUNTY_DO_CLAIM && v->status == 403)
            hl_metric_add(op->b->ineligible, 1);
        hl_info("platform", op->action_id, "refused %s of item %s by %s: %s", op->kind_text, item,
                op->actor.unit, v->message);
        HL_DBU(m->unit, s_sql_action_once, NULL, NULL, op->action_id, op->kind_text, item,
               op->actor.unit, op->partner, "refused", v->message);
        json_t *data = json_pack("{s:s, s:i, s:s, s:s}", "kind", op->kind_text, "status", v->status,
                                 "reason", v->message, "rule", v->field);
        s_platform_event(op, m->unit, "action.refused", data);
    } else {
        hl_metric_add(op->b->platform_applied, 1);
        s_count(op);
        hl_info("platform", op->action_id, "applied %s of item %s by %s", op->kind_text, item,
                op->actor.unit);
        HL_DBU(m->unit, s_sql_action_once, NULL, NULL, op->action_id, op->kind_text, item,
               op->actor.unit, op->partner, "applied", NULL);
        s_add_write(op, m->unit, "40001");
    }
    hl_inmsg_apply_redo(&m, s_action_redo, op);
}

static void s_action_facts_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_op_t *op = arg;
    hl_inmsg_t *m = op->msg;
    if (rc != 0) {
        op->msg = NULL;
        hl_inmsg_retry(&m, err && err->message ? err->message : "could not read the item");
        return;
    }
    if (op->action_seen) {
        hl_debug("platform", op->action_id, "action applied before: nothing to do");
        op->msg = NULL;
        hl_inmsg_apply(&m);
        return;
    }
    hl_refusal_t v;
    if (!op->kind_text || strcmp(op->kind_text, bounty_do_name(op->what)) != 0) {
        hl_refuse(&v, 422, "kind", "kind must be claim, progress or complete");
    } else {
        v = s_decide(op);
    }
    s_action_apply(op, &v);
}

/* Reads what the action is decided on (again, after a redo). */
static void s_action_read(s_op_t *op)
{
    PQclear(op->row);
    PQclear(op->rules);
    op->row = op->rules = NULL;
    op->action_seen = false;
    op->wrote = false;
    free(op->at);
    op->at = NULL;
    hl_dbu_t *u = hl_dbu_new(op->b->svc->db, s_action_facts_done, op);
    s_add_facts(op, u, true);
    HL_DBU(u, s_sql_action_seen, s_seen_rows, op, op->action_id);
    hl_dbu_submit(&u);
}

const char *bounty_large_action_check(const void *msg)
{
    const Hl__LargeItemAction *a = msg;
    if (!a)
        return "payload is not a LargeItemAction";
    if (!a->action_id || !*a->action_id || strlen(a->action_id) > 128)
        return "action_id is missing or longer than 128 bytes";
    if (!a->item_id || !hl_uuid_valid(a->item_id))
        return "item_id is missing or not a UUID";
    if (!bounty_code_valid(a->unit))
        return "unit is missing or not a member unit code";
    if (!a->kind || strlen(a->kind) > 32)
        return "kind is missing";
    if (a->partner && strlen(a->partner) > 64)
        return "partner is longer than 64 bytes";
    return NULL;
}

void bounty_large_action(hl_inmsg_t *m, const void *msg, void *arg)
{
    bounty_t *b = arg;
    const Hl__LargeItemAction *a = msg;
    s_op_t *op = hl_calloc(1, sizeof *op);
    op->b = b;
    op->kind = BOUNTY_LARGE;
    op->msg = m;
    op->what = strcmp(a->kind, "progress") == 0   ? BOUNTY_DO_PROGRESS
               : strcmp(a->kind, "complete") == 0 ? BOUNTY_DO_COMPLETE
                                                  : BOUNTY_DO_CLAIM;
    op->kind_text = hl_strdup(a->kind);
    op->action_id = hl_strdup(a->action_id);
    op->partner = hl_strdup(a->partner && *a->partner ? a->partner : "platform");
    memcpy(op->id, a->item_id, HL_UUID_LEN);
    snprintf(op->actor.name, sizeof op->actor.name, "platform:%s", op->partner);
    op->actor.kind = BOUNTY_ACTOR_MEMBER_UNIT;
    snprintf(op->actor.unit, sizeof op->actor.unit, "%s", a->unit);
    if (a->note && *a->note) {
        op->json = json_string(a->note); /* holds the note's copy */
        op->note = json_string_value(op->json);
    }
    if (!op->note && op->what != BOUNTY_DO_CLAIM)
        op->note = op->what == BOUNTY_DO_COMPLETE ? "completed (reported through the platform)"
                                                  : "progress reported through the platform";
    m->user = op;
    m->user_free = s_op_free; /* with the message, after its last redo */
    s_action_read(op);
}
