/* resolve.c: closing items. hl-alliance reports a large item resolved
 * (ItemResolved) and hl-bounty a wish completed and approved (TaskApproved),
 * both on stage "resolution"; council.c records a small item's hearing. In
 * every case the item is marked resolved once and hl-intake is told, on
 * stage "status", which appeals that closes (ItemResolved with appeal_ids).
 *
 * The appeals are read first (a read unit), then the message's own unit
 * resolves. An item found resolved already gets nothing but the claim. Two
 * resolutions racing past that read (two replicas, or a council hearing
 * and an alliance report in the same moment) are settled by the UPDATE's
 * guard: only the one whose UPDATE finds the item unresolved stamps its
 * outgoing message id on the item, and the message is sent with
 * hl_pipeline_send_if guarded by that stamp, so the other unit writes no
 * message row and pushes nothing. */
#include "triage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether a resolution unit won, known after commit. */
typedef struct {
    triage_t *t; /* service */
    bool won;    /* this unit resolved the item */
} s_outcome_t;

static const char s_sql_resolve[] =
    "UPDATE triage.item SET status = 'resolved', outcome = $2, resolved_by = $3,"
    " resolved_at = COALESCE(to_timestamp($5::float8 / 1e6), now()), resolved_message = $4::uuid"
    " WHERE id = $1::uuid AND status <> 'resolved' RETURNING id";
/* The guard of the ItemResolved: this unit's UPDATE stamped it on the item. */
static const char s_guard_won[] =
    "SELECT 1 FROM triage.item WHERE id = $2::uuid AND resolved_message = $1::uuid";

static void s_resolve_rows(void *arg, const PGresult *res)
{
    s_outcome_t *o = arg;
    o->won = PQntuples(res) == 1;
}

static void s_resolved_cb(void *arg)
{
    s_outcome_t *o = arg;
    if (o->won)
        hl_metric_add(o->t->resolved, 1);
}

/* As declared in triage.h, plus the time of resolution (0: now) and the
 * trace id; returns the outcome record kept with the unit. */
static s_outcome_t *s_resolve_add(triage_t *t, hl_dbu_t *u, const char *item_id,
                                  const char *outcome, const char *resolved_by,
                                  char *const *appeal_ids, size_t n, int64_t resolved_at_us,
                                  const char *trace_id, char msg_id[HL_UUID_LEN + 1])
{
    if (resolved_at_us <= 0)
        resolved_at_us = hl_time_us();
    triage_index_remove(t->index, item_id); /* no appeal may join it any more */
    Hl__ItemResolved r = HL__ITEM_RESOLVED__INIT;
    r.item_id = (char *)item_id;
    r.outcome = (char *)outcome;
    r.resolved_by = (char *)resolved_by;
    r.has_resolved_at_us = 1;
    r.resolved_at_us = resolved_at_us;
    r.n_appeal_ids = n;
    r.appeal_ids = (char **)appeal_ids;
    hl_uuid_new(msg_id);
    s_outcome_t *o = hl_dbu_keep(u, &(s_outcome_t){t, false}, sizeof(s_outcome_t));
    char at[24];
    snprintf(at, sizeof at, "%lld", (long long)resolved_at_us);
    HL_DBU(u, s_sql_resolve, s_resolve_rows, o, item_id, outcome, resolved_by, msg_id, at);
    hl_pipeline_send_if(t->svc->pipeline, u, HL_STAGE_STATUS, trace_id, &r.base, msg_id,
                        s_guard_won, item_id);
    hl_dbu_on_commit(u, s_resolved_cb, o);
    return o;
}

const bool *triage_resolve_add(triage_t *t, hl_dbu_t *u, const char *item_id, const char *outcome,
                               const char *resolved_by, char *const *appeal_ids,
                               size_t n_appeal_ids, char msg_id[HL_UUID_LEN + 1])
{
    const char *trace = n_appeal_ids ? appeal_ids[0] : item_id;
    s_outcome_t *o = s_resolve_add(t, u, item_id, outcome, resolved_by, appeal_ids, n_appeal_ids, 0,
                                   trace, msg_id);
    return &o->won;
}

/* ---- the "resolution" stage ------------------------------------------ */

/* One resolution message being applied. */
typedef struct {
    triage_t *t;                   /* service */
    hl_inmsg_t *m;                 /* the message */
    char item_id[HL_UUID_LEN + 1]; /* the item */
    char *outcome;                 /* owned */
    char *resolved_by;             /* owned */
    int64_t resolved_at_us;        /* 0: now */
    bool found;                    /* the item exists */
    bool already;                  /* it is resolved already */
    hl_strlist_t appeals;          /* its appeal ids, owned */
} s_resolution_t;

static void s_resolution_free(s_resolution_t *x)
{
    free(x->outcome);
    free(x->resolved_by);
    hl_strlist_close(&x->appeals);
    free(x);
}

static const char s_sql_item[] = "SELECT status FROM triage.item WHERE id = $1::uuid";
static const char s_sql_appeals[] =
    "SELECT appeal_id::text FROM triage.case WHERE item_id = $1::uuid"
    " ORDER BY received_at, appeal_id";

static void s_item_rows(void *arg, const PGresult *res)
{
    s_resolution_t *x = arg;
    if (PQntuples(res) != 1)
        return;
    x->found = true;
    x->already = strcmp(PQgetvalue(res, 0, 0), "resolved") == 0;
}

static void s_read_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_resolution_t *x = arg;
    triage_t *t = x->t;
    if (rc != 0) {
        char why[256];
        snprintf(why, sizeof why, "could not read item %s: %s", x->item_id, err->message);
        triage_inmsg_defer(t, &x->m, why);
    } else if (!x->found) {
        char why[96];
        snprintf(why, sizeof why, "unknown item %s", x->item_id);
        hl_inmsg_reject(&x->m, why);
    } else if (x->already) {
        hl_info("item", x->item_id, "item is resolved already: %s from %s changes nothing",
                x->m->env->type, x->resolved_by);
        hl_inmsg_apply(&x->m);
    } else {
        const char *trace = x->m->env->trace_id && hl_uuid_valid(x->m->env->trace_id)
                                ? x->m->env->trace_id
                                : x->item_id;
        char msg[HL_UUID_LEN + 1];
        s_resolve_add(t, x->m->unit, x->item_id, x->outcome, x->resolved_by, x->appeals.v,
                      x->appeals.n, x->resolved_at_us, trace, msg);
        hl_inmsg_apply(&x->m);
    }
    s_resolution_free(x);
}

static void s_start(triage_t *t, hl_inmsg_t *m, const char *item_id, const char *outcome,
                    const char *resolved_by, int64_t resolved_at_us)
{
    s_resolution_t *x = hl_calloc(1, sizeof *x);
    x->t = t;
    x->m = m;
    snprintf(x->item_id, sizeof x->item_id, "%s", item_id);
    x->outcome = hl_strdup(outcome);
    x->resolved_by = hl_strdup(resolved_by);
    x->resolved_at_us = resolved_at_us;
    hl_dbu_t *u = hl_dbu_new(t->svc->db, s_read_done, x);
    HL_DBU(u, s_sql_item, s_item_rows, x, x->item_id);
    HL_DBU(u, s_sql_appeals, hl_db_rows_column, &x->appeals, x->item_id);
    hl_dbu_submit(&u);
}

static const char *s_or(const char *s, const char *fallback)
{
    return s && *s ? s : fallback;
}

const char *triage_item_resolved_check(const void *msg)
{
    const Hl__ItemResolved *r = msg;
    return !r || !hl_uuid_valid(r->item_id) ? "ItemResolved lacks a valid item_id" : NULL;
}

const char *triage_task_approved_check(const void *msg)
{
    const Hl__TaskApproved *a = msg;
    return !a || !hl_uuid_valid(a->item_id) ? "TaskApproved lacks a valid item_id" : NULL;
}

static void s_item_resolved(hl_inmsg_t *m, const void *msg, void *arg)
{
    const Hl__ItemResolved *r = msg;
    s_start(arg, m, r->item_id, s_or(r->outcome, "resolved"), s_or(r->resolved_by, "alliance"),
            r->has_resolved_at_us ? r->resolved_at_us : 0);
}

static void s_task_approved(hl_inmsg_t *m, const void *msg, void *arg)
{
    const Hl__TaskApproved *a = msg;
    s_start(arg, m, a->item_id, s_or(a->evidence, "wish completed and approved"),
            s_or(a->claimant, "claimant"), a->has_approved_at_us ? a->approved_at_us : 0);
}

int triage_resolution_consume(triage_t *t)
{
    const hl_msg_handler_t handlers[] = {
        {&hl__item_resolved__descriptor, triage_item_resolved_check, s_item_resolved, t, NULL},
        {&hl__task_approved__descriptor, triage_task_approved_check, s_task_approved, t, NULL},
        {&hl__action_overdue__descriptor, triage_action_overdue_check, triage_action_overdue, t,
         NULL},
    };
    return hl_pipeline_consume_msgs(t->svc->pipeline, HL_STAGE_RESOLUTION, handlers,
                                    sizeof handlers / sizeof handlers[0]);
}
