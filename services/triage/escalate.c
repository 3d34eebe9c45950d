/* escalate.c: time limits (DOMAIN.md workflow 2: "each stage has a time
 * limit; an item that overruns it climbs one level of the hierarchy").
 *
 * Every routed item carries a deadline (triage.item.due_at), set when it
 * is routed from triage.time_limit in working days (triage.deadline(),
 * which skips weekends and triage.holiday). A uv timer looks every
 * HL_DEADLINE_SCAN_MS for items past it — one read (FOR UPDATE SKIP LOCKED,
 * so replicas scanning at once mostly take different items), then one
 * write unit per item:
 *
 *   - triage.item_claim_version() (a replica or a commissioner that changed
 *     the item first makes this unit roll back: it is skipped, not retried);
 *   - the item climbs to the parent of its target (compound -> community
 *     -> town -> city; at the city it stays) and gets a new "resolve"
 *     deadline;
 *   - a triage.escalation row;
 *   - a TriageDecision with route "escalated" for each of its appeals, so
 *     hl-intake records the step in the resident's history;
 *   - for a large item, or one that reached the city, ItemEscalated to
 *     hl-alliance (reason "overdue") with the item's escalation history
 *     appended to the body (the message has no field of its own for it).
 *
 * "Now" is the database's now() plus HL_CLOCK_OFFSET_S, passed in as a
 * parameter: tests shift the clock instead of sleeping. Deadlines live in
 * PostgreSQL, so they survive restarts; an item overdue while hl-triage was
 * down is escalated on the first scan after start.
 *
 * An action item a joint meeting gave a member unit that ran past its own
 * deadline (ActionOverdue from hl-alliance) brings the item's deadline
 * forward to now: the next scan escalates it like any other overrun.
 *
 * GET /v1/escalations/due?within_hours=24 lists the items whose deadline
 * falls within the window, and the overdue ones. */
#include "triage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_SCAN_BATCH 50 /* items escalated per scan at most */

/* One scan: the overdue items read. */
typedef struct {
    triage_t *t;          /* service */
    triage_item_t *items; /* owned */
    size_t n;             /* items */
} s_scan_t;

static void s_scan_free(s_scan_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        triage_item_close(&s->items[i]);
    free(s->items);
    free(s);
}

static void s_offset(const triage_t *t, char out[24])
{
    snprintf(out, 24, "%lld", t->cfg->clock_offset_s);
}

/* The overdue items, locked in the inner query (a row lock cannot reach
 * through the view's outer join). */
static const char s_sql_overdue[] =
    "SELECT " TRIAGE_ITEM_COLUMNS " FROM triage.item_context WHERE id IN ("
    "  SELECT id FROM triage.item"
    "   WHERE status = 'routed' AND due_at <= now() + make_interval(secs => $1::float8)"
    "   ORDER BY due_at, id LIMIT $2::int FOR UPDATE SKIP LOCKED)"
    " ORDER BY due_at, id";
static const char s_sql_claim[] = "SELECT triage.item_claim_version($1::uuid, $2::int)";
static const char s_sql_climb[] =
    "UPDATE triage.item SET level = $2, target = $3, due_stage = 'resolve',"
    " due_at = triage.deadline(now() + make_interval(secs => $4::float8), size, 'resolve',"
    " category) WHERE id = $1::uuid";
static const char s_sql_escalation[] =
    "INSERT INTO triage.escalation (id, item_id, from_level, to_level, from_target, to_target,"
    " reason, due_at, at)"
    " VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, $9, $7::timestamptz,"
    " now() + make_interval(secs => $8::float8))";

static void s_scan_rows(void *arg, const PGresult *res)
{
    s_scan_t *s = arg;
    size_t n = (size_t)PQntuples(res);
    s->items = hl_calloc(n + 1, sizeof *s->items);
    for (size_t i = 0; i < n; i++)
        triage_item_fill(&s->items[i], res, (int)i);
    s->n = n;
}

/* After one item's escalation unit. */
typedef struct {
    triage_t *t;                   /* service */
    char item_id[HL_UUID_LEN + 1]; /* the item */
    char to_level[16];             /* where it went */
} s_climb_t;

static void s_climb_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_climb_t *c = arg;
    if (rc == 0) {
        hl_metric_add(c->t->escalated, 1);
        hl_info("item", c->item_id, "overdue: escalated to %s", c->to_level);
    } else if (rc == HL_ECONFLICT) {
        hl_debug("item", c->item_id, "changed meanwhile: escalation skipped");
    } else {
        hl_warn("item", c->item_id, "could not escalate the overdue item: %s (next scan retries)",
                err->message);
    }
    free(c);
}

const char *triage_escalate_add(triage_t *t, hl_dbu_t *u, const triage_climb_t *c,
                                const char *reason, const char *told)
{
    bool top = !c->parent || triage_level_rank(c->parent_level) == 0;
    const char *to_level = top ? c->level : c->parent_level;
    const char *to_target = top ? c->target : c->parent;
    char offset[24];
    s_offset(t, offset);
    HL_DBU(u, s_sql_climb, NULL, NULL, c->id, to_level, to_target, offset);
    char id[HL_UUID_LEN + 1];
    hl_uuid_new(id);
    HL_DBU(u, s_sql_escalation, NULL, NULL, id, c->id, c->level, to_level, c->target, to_target,
           c->due, offset, reason);
    char *appeals = hl_strdup(c->appeals ? c->appeals : "");
    char *first = NULL;
    for (char *save = NULL, *a = strtok_r(appeals, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
        if (!first)
            first = a;
        triage_route_tell(t, u, a, c->id, c->size, c->category, "escalated", to_target);
    }
    if (strcmp(c->size, "large") == 0 || strcmp(to_level, "city") == 0) {
        hl_buf_t body = {0};
        hl_buf_printf(&body, "%s", c->body ? c->body : c->title);
        hl_buf_printf(&body, "\n\n[escalation history] %s%s%s %s -> %s",
                      c->history ? c->history : "", c->history ? "; " : "", told, c->level,
                      to_level);
        if (c->due)
            hl_buf_printf(&body, " (deadline %s)", c->due);
        Hl__ItemEscalated msg = HL__ITEM_ESCALATED__INIT;
        msg.item_id = (char *)c->id;
        msg.title = (char *)c->title;
        msg.body = body.data;
        msg.category = (char *)(c->category ? c->category : "");
        msg.org_unit = (char *)c->org_unit;
        msg.has_level = 1;
        msg.level = triage_level_rank(to_level);
        msg.has_appeal_count = 1;
        msg.appeal_count = atoi(c->count);
        msg.reason = (char *)told;
        hl_pipeline_send(t->svc->pipeline, u, HL_STAGE_ALLIANCE, first ? first : c->id, &msg.base,
                         NULL);
        hl_buf_close(&body);
    }
    free(appeals);
    return to_level;
}

triage_climb_t triage_climb_of(const triage_item_t *it)
{
    return (triage_climb_t){
        .id = it->id,
        .size = it->size,
        .category = it->category,
        .level = it->level,
        .target = it->target,
        .parent = it->parent,
        .parent_level = it->parent_level,
        .org_unit = it->org_unit,
        .title = it->title,
        .count = it->count,
        .due = it->due,
        .body = it->body,
        .appeals = it->appeals,
        .history = it->history,
    };
}

static void s_escalate(triage_t *t, const triage_item_t *it)
{
    const triage_climb_t climb = triage_climb_of(it);
    s_climb_t *c = hl_calloc(1, sizeof *c);
    c->t = t;
    snprintf(c->item_id, sizeof c->item_id, "%s", it->id);
    hl_dbu_t *u = hl_dbu_new(t->svc->db, s_climb_done, c);
    HL_DBU(u, s_sql_claim, NULL, NULL, it->id, it->version);
    snprintf(c->to_level, sizeof c->to_level, "%s",
             triage_escalate_add(t, u, &climb, "overdue", "overdue"));
    hl_dbu_submit(&u);
}

static void s_scan_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_scan_t *s = arg;
    triage_t *t = s->t;
    t->scanning = false;
    if (rc != 0)
        hl_warn(NULL, NULL, "could not look for overdue items: %s", err->message);
    else
        for (size_t i = 0; i < s->n; i++)
            s_escalate(t, &s->items[i]);
    s_scan_free(s);
}

static void s_tick_cb(uv_timer_t *timer)
{
    triage_t *t = timer->data;
    if (t->scanning || !hl_db_ready(t->svc->db))
        return;
    t->scanning = true;
    s_scan_t *s = hl_calloc(1, sizeof *s);
    s->t = t;
    char offset[24], batch[16];
    s_offset(t, offset);
    snprintf(batch, sizeof batch, "%d", S_SCAN_BATCH);
    hl_dbu_t *u = hl_dbu_new(t->svc->db, s_scan_done, s);
    HL_DBU(u, s_sql_overdue, s_scan_rows, s, offset, batch);
    hl_dbu_submit(&u);
}

void triage_deadlines_start(triage_t *t)
{
    uv_timer_init(t->svc->loop, &t->deadlines);
    t->deadlines.data = t;
    uv_unref((uv_handle_t *)&t->deadlines);
    uint64_t every = (uint64_t)t->cfg->deadline_scan_ms;
    uv_timer_start(&t->deadlines, s_tick_cb, every, every);
}

void triage_deadlines_stop(triage_t *t)
{
    uv_timer_stop(&t->deadlines);
}

/* ---- GET /v1/escalations/due ----------------------------------------- */

static const char s_sql_due[] =
    "SELECT json_build_object('id', id, 'size', size, 'category', category, 'title', title,"
    " 'status', status, 'level', level, 'target', target, 'due_stage', due_stage, 'due_at',"
    " due_at, 'overdue', due_at <= now() + make_interval(secs => $1::float8), 'version', version,"
    " 'appeal_count', appeal_count)"
    " FROM triage.item WHERE status = 'routed'"
    " AND due_at <= now() + make_interval(secs => $1::float8) + make_interval(hours => $2::int)"
    " ORDER BY due_at, id LIMIT 500";

typedef struct {
    hl_http_req_t *req; /* suspended request */
    json_t *items;      /* built from the rows */
} s_due_t;

static void s_due_rows(void *arg, const PGresult *res)
{
    s_due_t *d = arg;
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *o = json_loads(PQgetvalue(res, i, 0), JSON_DECODE_ANY, NULL);
        if (o)
            json_array_append_new(d->items, o);
    }
}

static void s_due_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_due_t *d = arg;
    if (rc != 0) {
        hl_http_add_header(d->req, "Retry-After", "1");
        hl_req_reply_db(d->req, "item", "read deadlines", err);
        json_decref(d->items);
    } else {
        hl_http_reply_json(d->req, 200, json_pack("{s:o}", "items", d->items));
    }
    free(d);
}

void triage_escalations_due_get(hl_http_req_t *req, void *arg)
{
    triage_t *t = arg;
    static const hl_req_field_t query[] = {
        {.name = "within_hours", .type = HL_REQ_INT, .min = 0, .max = 8760, .at = 1}, {0}};
    int64_t hours = 24;
    if (!hl_req_query(req, query, &hours))
        return;
    char offset[24], hours_text[24];
    s_offset(t, offset);
    snprintf(hours_text, sizeof hours_text, "%lld", (long long)hours);
    s_due_t *d = hl_calloc(1, sizeof *d);
    d->req = req;
    d->items = json_array();
    hl_http_suspend(req);
    hl_dbu_t *u = hl_dbu_new(t->svc->db, s_due_done, d);
    HL_DBU(u, s_sql_due, s_due_rows, d, offset, hours_text);
    hl_dbu_submit(&u);
}

/* ---- ActionOverdue (stage "resolution") --------------------------------- */

static const char s_sql_bring_forward[] =
    "UPDATE triage.item SET due_at = now(), due_stage = 'resolve'"
    " WHERE id = $1::uuid AND status = 'routed' AND (due_at IS NULL OR due_at > now())";

const char *triage_action_overdue_check(const void *msg)
{
    const Hl__ActionOverdue *a = msg;
    return !a || !a->item_id || !hl_uuid_valid(a->item_id) ? "ActionOverdue lacks a valid item_id"
                                                           : NULL;
}

void triage_action_overdue(hl_inmsg_t *m, const void *msg, void *arg)
{
    (void)arg;
    const Hl__ActionOverdue *a = msg;
    hl_info("item", a->item_id, "action item %s of unit %s is overdue: escalating the item",
            a->action_id ? a->action_id : "?", a->unit ? a->unit : "?");
    HL_DBU(m->unit, s_sql_bring_forward, NULL, NULL, a->item_id);
    hl_inmsg_apply(&m);
}
