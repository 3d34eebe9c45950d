/* action.c: the action items a joint meeting minuted (a member unit, a
 * task, a deadline) and their follow-up.
 *
 * GET /v1/action-items lists them (status open / overdue / done, by unit or
 * alliance); POST /v1/action-items/{id}/done records the unit's report and
 * hours, and when it was the item's last open action the item is resolved
 * and hl-triage hears ItemResolved (stage "resolution") in the same unit.
 *
 * Follow-up: every HL_ACTION_SCAN_MS a read finds open actions past their
 * deadline not yet reported; each is then marked (alliance.mark_overdue,
 * once: a replica that got there first makes the unit fail with 409 and it
 * is skipped) and, for an item hl-triage escalated, ActionOverdue goes to
 * hl-triage in the same unit, which brings the item's deadline forward so
 * its escalation climbs it one level (community -> town, so the item moves
 * to the city alliance's next meeting). Overdue actions also rank their
 * item first on the agenda (agenda.c) and show in GET ?status=overdue. */
#include "alliance.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_SCAN_BATCH 50 /* overdue actions reported per scan at most */

static const char s_sql_list[] =
    "SELECT json_build_object('action_items', coalesce(json_agg(json_build_object('id', x.id,"
    " 'meeting_id', x.meeting_id, 'item_id', x.item_id, 'alliance', a.alliance, 'title',"
    " a.title, 'unit', x.unit, 'task', x.task, 'due_at', x.due_at, 'status', x.status,"
    " 'overdue', x.status = 'open' AND x.due_at < now(), 'overdue_days', CASE WHEN x.status ="
    " 'open' AND x.due_at < now() THEN round(extract(epoch FROM now() - x.due_at) / 86400.0, 1)"
    " END, 'followed_up_at', x.overdue_notified_at, 'done_at', x.done_at, 'report', x.report,"
    " 'hours', x.hours) ORDER BY x.due_at, x.id), '[]'))::text"
    " FROM alliance.action_item x JOIN alliance.agenda_item a ON a.item_id = x.item_id"
    " WHERE ($1::text IS NULL OR x.unit = $1) AND ($2::text IS NULL OR a.alliance = $2)"
    " AND ($3::text IS NULL OR ($3 = 'open' AND x.status = 'open') OR ($3 = 'done' AND"
    " x.status = 'done') OR ($3 = 'overdue' AND x.status = 'open' AND x.due_at < now()))";

typedef struct {
    const char *unit;     /* or NULL */
    const char *alliance; /* or NULL */
    const char *status;   /* open, overdue, done, or NULL */
} s_list_q_t;

static const char *const s_statuses[] = {"open", "overdue", "done", NULL};

static const hl_req_field_t s_list_query[] = {{.name = "unit",
                                               .type = HL_REQ_TEXT,
                                               .max = ALLIANCE_CODE_MAX,
                                               .check = alliance_code_check,
                                               HL_REQ_AT(s_list_q_t, unit)},
                                              {.name = "alliance",
                                               .type = HL_REQ_TEXT,
                                               .max = ALLIANCE_CODE_MAX,
                                               .check = alliance_code_check,
                                               HL_REQ_AT(s_list_q_t, alliance)},
                                              {.name = "status",
                                               .type = HL_REQ_TEXT,
                                               .max = 8,
                                               .allowed = s_statuses,
                                               HL_REQ_AT(s_list_q_t, status)},
                                              {0}};

void alliance_actions_get(hl_http_req_t *req, void *arg)
{
    s_list_q_t q = {0};
    if (!hl_req_query(req, s_list_query, &q))
        return;
    const char *p[] = {q.unit, q.alliance, q.status};
    alliance_get_json(arg, req, s_sql_list, 3, p, NULL, "read the action items");
}

/* ---- POST /v1/action-items/{id}/done ------------------------------------ */

static const char s_sql_action[] =
    "SELECT x.item_id::text, x.unit, x.status FROM alliance.action_item x WHERE x.id = $1::uuid";
static const char s_sql_complete[] =
    "SELECT json_build_object('id', $1::uuid, 'status', 'done', 'item_resolved',"
    " alliance.complete_action($1::uuid, $2, $3::numeric,"
    " timestamptz 'epoch' + $4::bigint * interval '1 microsecond'))::text";
/* ItemResolved goes out only when this action ($2) resolved an item hl-triage
 * knows: complete_action stamps the item's resolved_at with the action's done_at. */
static const char s_guard_resolved[] =
    "SELECT 1 FROM alliance.action_item x JOIN alliance.agenda_item a ON a.item_id = x.item_id"
    " WHERE $1::uuid IS NOT NULL AND x.id = $2::uuid AND a.status = 'resolved'"
    " AND a.source = 'escalated' AND a.resolved_at = x.done_at";

typedef struct {
    alliance_t *al;                   /* service */
    hl_http_req_t *req;               /* suspended request */
    json_t *body;                     /* the request, owned */
    const char *report;               /* in body */
    char hours[32];                   /* as text, "" when none */
    char id[HL_UUID_LEN + 1];         /* the action */
    char item_id[HL_UUID_LEN + 1];    /* read */
    char unit[ALLIANCE_CODE_MAX + 1]; /* read */
    bool found;                       /* the action exists */
} s_done_t;

static void s_done_free(s_done_t *d)
{
    json_decref(d->body);
    free(d);
}

static void s_action_rows(void *arg, const PGresult *res)
{
    s_done_t *d = arg;
    if (PQntuples(res) != 1)
        return;
    d->found = true;
    snprintf(d->item_id, sizeof d->item_id, "%s", PQgetvalue(res, 0, 0));
    snprintf(d->unit, sizeof d->unit, "%s", PQgetvalue(res, 0, 1));
}

static void s_after(void *arg, int rc, const char *json)
{
    s_done_t *d = arg;
    if (rc == 0)
        hl_info("action", d->id, "action item done: %s", json ? json : "");
    s_done_free(d);
}

static void s_read_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_done_t *d = arg;
    if (rc != 0) {
        alliance_reply_dberr(d->al, d->req, rc, err, "read the action item");
        s_done_free(d);
        return;
    }
    if (!d->found) {
        hl_http_reply_error(d->req, 404, "id", "no action item has this id");
        s_done_free(d);
        return;
    }
    int64_t at = hl_time_us();
    char at_text[24];
    snprintf(at_text, sizeof at_text, "%" PRId64, at);
    alliance_call_t *c = alliance_call_new(d->al, d->req, 200, "record the action item done");
    c->missing_field = "id";
    c->after = s_after;
    c->after_arg = d;
    const char *p[] = {d->id, d->report, d->hours[0] ? d->hours : NULL, at_text};
    alliance_call_answer(c, s_sql_complete, 4, p);
    Hl__ItemResolved r = HL__ITEM_RESOLVED__INIT;
    r.item_id = d->item_id;
    r.outcome = (char *)d->report;
    r.resolved_by = d->unit;
    r.has_resolved_at_us = 1;
    r.resolved_at_us = at;
    char msg_id[HL_UUID_LEN + 1];
    hl_uuid_new(msg_id);
    hl_pipeline_send_if(d->al->svc->pipeline, c->unit, HL_STAGE_RESOLUTION, d->item_id, &r.base,
                        msg_id, s_guard_resolved, d->id);
    /* alliance_call's reply comes from its own unit; the request is
     * suspended already (the read), so submit without suspending again. */
    hl_dbu_submit(&c->unit);
}

typedef struct {
    const char *report; /* required */
    double hours;       /* -1 when absent */
} s_done_in_t;

static const hl_req_field_t s_done_fields[] = {{.name = "report",
                                                .type = HL_REQ_TEXT,
                                                .flags = HL_REQ_REQUIRED | HL_REQ_MULTILINE,
                                                .max = ALLIANCE_NOTE_MAX,
                                                HL_REQ_AT(s_done_in_t, report)},
                                               {.name = "hours",
                                                .type = HL_REQ_NUMBER,
                                                .min = 0,
                                                .max = 100000,
                                                HL_REQ_AT(s_done_in_t, hours)},
                                               {0}};

void alliance_action_done(hl_http_req_t *req, void *arg)
{
    alliance_t *al = arg;
    char id[HL_REQ_ID_MAX];
    if (!hl_req_path_id(req, 0, HL_REQ_ID_UUID, "action item", id))
        return;
    s_done_in_t in = {.hours = -1};
    json_t *body = hl_req_body(req, s_done_fields, &in);
    if (!body) {
        hl_metric_add(al->refused, 1);
        return;
    }
    s_done_t *d = hl_calloc(1, sizeof *d);
    d->al = al;
    d->req = req;
    d->body = body;
    d->report = in.report;
    if (in.hours >= 0)
        snprintf(d->hours, sizeof d->hours, "%.1f", in.hours);
    memcpy(d->id, id, HL_UUID_LEN);
    hl_http_suspend(req);
    hl_dbu_t *u = hl_dbu_new(al->svc->db, s_read_done, d);
    HL_DBU(u, s_sql_action, s_action_rows, d, id);
    hl_dbu_submit(&u);
}

/* ---- the follow-up ------------------------------------------------------ */

static const char s_sql_overdue[] =
    "SELECT x.id::text, x.item_id::text, x.unit, x.task, x.meeting_id::text,"
    " (extract(epoch FROM x.due_at) * 1e6)::bigint::text, a.source"
    " FROM alliance.action_item x JOIN alliance.agenda_item a ON a.item_id = x.item_id"
    " WHERE x.status = 'open' AND x.overdue_notified_at IS NULL AND x.due_at <= now()"
    " ORDER BY x.due_at, x.id LIMIT $1::int";
static const char s_sql_mark[] = "SELECT alliance.mark_overdue($1::uuid)";

typedef struct {
    alliance_t *al; /* service */
    char **cols;    /* 7 columns per row, owned */
    size_t n;       /* rows */
} s_scan_t;

static void s_scan_rows(void *arg, const PGresult *res)
{
    s_scan_t *s = arg;
    s->n = (size_t)PQntuples(res);
    s->cols = hl_calloc(s->n * 7 + 1, sizeof *s->cols);
    for (size_t i = 0; i < s->n; i++)
        for (int k = 0; k < 7; k++)
            s->cols[i * 7 + k] = hl_strdup(PQgetvalue(res, (int)i, k));
}

/* One overdue action being reported. */
typedef struct {
    alliance_t *al;           /* service */
    char id[HL_UUID_LEN + 1]; /* the action */
} s_mark_t;

static void s_mark_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_mark_t *k = arg;
    if (rc == 0) {
        hl_metric_add(k->al->overdue, 1);
        hl_info("action", k->id, "action item overdue: reported to hl-triage");
    } else if (rc != HL_ECONFLICT) {
        hl_warn("action", k->id, "could not follow up overdue action item: %s", err->message);
    }
    free(k);
}

static void s_scan_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_scan_t *s = arg;
    alliance_t *al = s->al;
    al->scanning_actions = false;
    if (rc != 0)
        hl_warn("action", "scan", "could not look for overdue action items: %s", err->message);
    for (size_t i = 0; i < s->n && !al->stopping; i++) {
        char **c = s->cols + i * 7;
        s_mark_t *k = hl_calloc(1, sizeof *k);
        k->al = al;
        snprintf(k->id, sizeof k->id, "%s", c[0]);
        hl_dbu_t *u = hl_dbu_new(al->svc->db, s_mark_done, k);
        HL_DBU(u, s_sql_mark, NULL, NULL, c[0]);
        if (strcmp(c[6], "escalated") == 0) {
            Hl__ActionOverdue o = HL__ACTION_OVERDUE__INIT;
            o.item_id = c[1];
            o.action_id = c[0];
            o.unit = c[2];
            o.task = c[3];
            o.meeting_id = c[4];
            o.has_due_at_us = 1;
            o.due_at_us = strtoll(c[5], NULL, 10);
            hl_pipeline_send(al->svc->pipeline, u, HL_STAGE_RESOLUTION, c[1], &o.base, NULL);
        }
        hl_dbu_submit(&u);
    }
    for (size_t i = 0; i < s->n * 7; i++)
        free(s->cols[i]);
    free(s->cols);
    free(s);
}

static void s_scan_cb(uv_timer_t *t)
{
    alliance_t *al = t->data;
    if (al->scanning_actions || al->stopping || !hl_db_ready(al->svc->db))
        return;
    al->scanning_actions = true;
    s_scan_t *s = hl_calloc(1, sizeof *s);
    s->al = al;
    char limit[16];
    snprintf(limit, sizeof limit, "%d", S_SCAN_BATCH);
    hl_dbu_t *u = hl_dbu_new(al->svc->db, s_scan_done, s);
    HL_DBU(u, s_sql_overdue, s_scan_rows, s, limit);
    hl_dbu_submit(&u);
}

void alliance_actions_start(alliance_t *al)
{
    uv_timer_init(al->svc->loop, &al->action_timer);
    al->action_timer.data = al;
    uv_timer_start(&al->action_timer, s_scan_cb, (uint64_t)al->cfg->action_scan_ms,
                   (uint64_t)al->cfg->action_scan_ms);
}

void alliance_actions_stop(alliance_t *al)
{
    al->stopping = true;
    uv_timer_stop(&al->action_timer);
    uv_close((uv_handle_t *)&al->action_timer, NULL);
}
