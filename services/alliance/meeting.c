/* meeting.c: joint meetings as the alliance secretariat sees them — the
 * next planned meeting, any meeting with its agenda and minutes, calling an
 * extra meeting, and holding a meeting with its minutes.
 *
 * Holding (POST /v1/meetings/{id}/held) is a read and then one unit: the
 * read fetches the agenda's items (what the messages need); the unit runs
 * alliance.hold_meeting() — attendance, decisions with their five-mechanism
 * tags and action items, the function-domain rule for every unit named, and
 * every undecided item carried to the alliance's next meeting — and in the
 * same transaction writes ItemResolved (stage "resolution") for each item
 * resolved, LargeItemOffered (stage "bounty") for each item sent to the
 * quarterly board, and queues meeting.held for the city platform. All of
 * it commits or none; the caller is answered after the commit. */
#include "alliance.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A meeting with its agenda (ordered as alliance_agenda_get orders it, for
 * a held meeting the items it decided), decisions, attendance, actions. */
#define S_MEETING_JSON                                                                             \
    "json_build_object('meeting', json_build_object('id', m.id, 'alliance', m.alliance, 'kind',"   \
    " m.kind, 'scheduled_for', m.scheduled_for, 'venue', m.venue, 'status', m.status, 'held_at',"  \
    " m.held_at, 'minutes', m.minutes, 'purpose', m.purpose), 'agenda', (SELECT"                   \
    " coalesce(json_agg(json_build_object('item_id', a.item_id, 'title', a.title, 'category',"     \
    " a.category, 'org_unit', a.org_unit, 'community', a.community, 'level', a.level,"             \
    " 'appeal_count', a.appeal_count, 'reason', a.reason, 'source', a.source, 'status', a.status," \
    " 'carried', a.carried, 'added_at', a.added_at, 'age_days', round(a.age_s / 86400.0, 1),"      \
    " 'overdue_days', round(a.overdue_s / 86400.0, 1), 'outcome', a.outcome, 'resolved_by_unit',"  \
    " a.resolved_by_unit, 'resolved_at', a.resolved_at) ORDER BY a.overdue_s DESC,"                \
    " a.appeal_count DESC, a.added_at, a.item_id), '[]') FROM alliance.agenda a WHERE"             \
    " a.meeting_id = m.id OR EXISTS (SELECT 1 FROM alliance.decision d WHERE d.meeting_id = m.id"  \
    " AND d.item_id = a.item_id)), 'decisions', (SELECT coalesce(json_agg(json_build_object("      \
    "'item_id', d.item_id, 'kind', d.kind, 'text', d.text, 'tags', d.tags, 'unit', d.unit,"        \
    " 'to_meeting', d.to_meeting, 'decided_at', d.decided_at) ORDER BY d.decided_at, d.item_id),"  \
    " '[]') FROM alliance.decision d WHERE d.meeting_id = m.id), 'attendance', (SELECT"            \
    " coalesce(json_agg(t.unit ORDER BY t.unit), '[]') FROM alliance.attendance t WHERE"           \
    " t.meeting_id = m.id), 'action_items', (SELECT coalesce(json_agg(json_build_object('id',"     \
    " x.id, 'item_id', x.item_id, 'unit', x.unit, 'task', x.task, 'due_at', x.due_at, 'status',"   \
    " x.status, 'done_at', x.done_at, 'overdue', x.status = 'open' AND x.due_at < now())"          \
    " ORDER BY x.due_at, x.id), '[]') FROM alliance.action_item x WHERE x.meeting_id = m.id))"

static const char s_sql_by_id[] =
    "SELECT " S_MEETING_JSON "::text FROM alliance.meeting m WHERE m.id = $1::uuid";
static const char s_sql_next[] =
    "SELECT " S_MEETING_JSON "::text FROM (SELECT * FROM alliance.meeting WHERE status = 'planned'"
    " AND scheduled_for >= current_date AND ($1::text IS NULL OR alliance = $1)"
    " ORDER BY scheduled_for, id LIMIT 1) m";

typedef struct {
    const char *alliance; /* ?alliance=, or NULL */
} s_next_q_t;

static const hl_req_field_t s_next_query[] = {{.name = "alliance",
                                               .type = HL_REQ_TEXT,
                                               .max = ALLIANCE_CODE_MAX,
                                               .check = alliance_code_check,
                                               HL_REQ_AT(s_next_q_t, alliance)},
                                              {0}};

void alliance_meeting_next(hl_http_req_t *req, void *arg)
{
    s_next_q_t q = {0};
    if (!hl_req_query(req, s_next_query, &q))
        return;
    const char *p[] = {q.alliance};
    alliance_get_json(arg, req, s_sql_next, 1, p, q.alliance ? "alliance" : NULL,
                      "read the meeting");
}

void alliance_meeting_get(hl_http_req_t *req, void *arg)
{
    char id[HL_REQ_ID_MAX];
    if (!hl_req_path_id(req, 0, HL_REQ_ID_UUID, "joint meeting", id))
        return;
    const char *p[] = {id};
    alliance_get_json(arg, req, s_sql_by_id, 1, p, "id", "read the meeting");
}

/* ---- POST /v1/alliances/{code}/meetings: an extra meeting ---------------- */

static const char s_sql_extra[] =
    "INSERT INTO alliance.meeting (id, alliance, scheduled_for, kind, venue, purpose)"
    " SELECT $1::uuid, a.code, $3::date, 'extra', COALESCE($4, a.venue), $5"
    " FROM alliance.alliance a WHERE a.code = $2"
    " RETURNING json_build_object('id', id, 'alliance', alliance, 'kind', kind, 'scheduled_for',"
    " scheduled_for, 'venue', venue, 'purpose', purpose, 'status', status)::text";

typedef struct {
    const char *date;    /* scheduled_for */
    const char *venue;   /* or NULL */
    const char *purpose; /* required */
} s_extra_t;

static const hl_req_field_t s_extra_fields[] = {{.name = "scheduled_for",
                                                 .type = HL_REQ_TEXT,
                                                 .flags = HL_REQ_REQUIRED,
                                                 .max = 10,
                                                 .check = alliance_date_check,
                                                 HL_REQ_AT(s_extra_t, date)},
                                                {.name = "venue",
                                                 .type = HL_REQ_TEXT,
                                                 .max = ALLIANCE_CODE_MAX,
                                                 .check = alliance_code_check,
                                                 HL_REQ_AT(s_extra_t, venue)},
                                                {.name = "purpose",
                                                 .type = HL_REQ_TEXT,
                                                 .flags = HL_REQ_REQUIRED | HL_REQ_MULTILINE,
                                                 .max = 500,
                                                 HL_REQ_AT(s_extra_t, purpose)},
                                                {0}};

void alliance_meeting_post(hl_http_req_t *req, void *arg)
{
    alliance_t *al = arg;
    const char *code = hl_http_param(req, 0);
    if (!alliance_code_wellformed(code)) {
        hl_http_reply_error(req, 404, "alliance", "no alliance has this code");
        return;
    }
    s_extra_t e = {0};
    json_t *body = hl_req_body(req, s_extra_fields, &e);
    if (!body) {
        hl_metric_add(al->refused, 1);
        return;
    }
    char id[HL_UUID_LEN + 1];
    hl_uuid_new(id);
    const char *p[] = {id, code, e.date, e.venue, e.purpose};
    alliance_call_t *c = alliance_call_new(al, req, 201, "call the meeting");
    c->missing_field = "alliance";
    alliance_call_answer(c, s_sql_extra, 5, p);
    alliance_call_submit(c);
    json_decref(body);
}

/* ---- POST /v1/meetings/{id}/held ---------------------------------------- */

static const char s_sql_items[] =
    "SELECT item_id::text, title, body, category, coalesce(community, ''), org_unit,"
    " appeal_count::text, source FROM alliance.agenda_item WHERE meeting_id = $1::uuid";
static const char s_sql_hold[] =
    "SELECT alliance.hold_meeting($1::uuid, $2, $3::text[], $4::jsonb, $5::uuid)::text";
/* meeting.held for the platform, built from what hold_meeting wrote. */
static const char s_sql_event[] =
    "SELECT alliance.enqueue_event($1, 'meeting.held', json_build_object('type', 'meeting.held',"
    " 'timestamp', m.held_at, 'data', json_build_object('meeting_id', m.id, 'alliance',"
    " m.alliance, 'community', a.community, 'kind', m.kind, 'scheduled_for', m.scheduled_for,"
    " 'held_at', m.held_at, 'attendance', (SELECT coalesce(json_agg(t.unit ORDER BY t.unit),"
    " '[]') FROM alliance.attendance t WHERE t.meeting_id = m.id), 'decisions', (SELECT"
    " coalesce(json_agg(json_build_object('item_id', d.item_id, 'kind', d.kind, 'tags', d.tags,"
    " 'unit', d.unit, 'to_meeting', d.to_meeting) ORDER BY d.item_id), '[]') FROM"
    " alliance.decision d WHERE d.meeting_id = m.id)))::text)"
    " FROM alliance.meeting m JOIN alliance.alliance a ON a.code = m.alliance WHERE m.id = "
    "$2::uuid";

/* One agenda item as read before holding. */
typedef struct {
    char *col[8]; /* s_sql_items' columns, owned */
} s_item_t;

typedef struct {
    alliance_t *al;           /* service */
    hl_http_req_t *req;       /* suspended request */
    json_t *body;             /* the request, owned */
    alliance_held_t held;     /* parsed (decisions owned) */
    char id[HL_UUID_LEN + 1]; /* the meeting */
    s_item_t *items;          /* its agenda, owned */
    size_t nitems;            /* how many */
    bool read_ok;             /* the read succeeded */
} s_held_t;

static void s_held_free(s_held_t *h)
{
    for (size_t i = 0; i < h->nitems; i++)
        for (int k = 0; k < 8; k++)
            free(h->items[i].col[k]);
    free(h->items);
    json_decref(h->held.decisions);
    json_decref(h->body);
    free(h);
}

static void s_items_rows(void *arg, const PGresult *res)
{
    s_held_t *h = arg;
    h->nitems = (size_t)PQntuples(res);
    h->items = hl_calloc(h->nitems + 1, sizeof *h->items);
    for (size_t i = 0; i < h->nitems; i++)
        for (int k = 0; k < 8; k++)
            h->items[i].col[k] =
                PQgetisnull(res, (int)i, k) ? NULL : hl_strdup(PQgetvalue(res, (int)i, k));
}

static const s_item_t *s_find(const s_held_t *h, const char *item_id)
{
    for (size_t i = 0; i < h->nitems; i++)
        if (strcmp(h->items[i].col[0], item_id) == 0)
            return &h->items[i];
    return NULL;
}

static void s_after(void *arg, int rc, const char *json)
{
    s_held_t *h = arg;
    if (rc != 0) {
        s_held_free(h);
        return;
    }
    json_t *r = json ? json_loads(json, 0, NULL) : NULL;
    long long carried = r ? json_integer_value(json_object_get(r, "carried")) : 0;
    hl_metric_add(h->al->held, 1);
    hl_metric_add(h->al->carried, (double)carried);
    hl_metric_add(h->al->resolved, (double)h->held.resolved);
    hl_info("meeting", h->id, "joint meeting held: %zu decided, %lld carried to the next meeting",
            json_array_size(h->held.decisions), carried);
    json_decref(r);
    s_held_free(h);
}

static void s_hold(s_held_t *h)
{
    alliance_t *al = h->al;
    char next[HL_UUID_LEN + 1], event[HL_UUID_LEN + 1];
    hl_uuid_new(next);
    hl_uuid_new(event);
    /* Attendance as a PostgreSQL array literal of plain codes (checked). */
    hl_buf_t att = {0};
    hl_buf_printf(&att, "{");
    for (size_t i = 0; i < json_array_size(h->held.attendance); i++)
        hl_buf_printf(&att, "%s%s", i ? "," : "",
                      json_string_value(json_array_get(h->held.attendance, i)));
    hl_buf_printf(&att, "}");
    char *decisions = json_dumps(h->held.decisions, JSON_COMPACT);
    const char *p[] = {h->id, h->held.minutes, att.data, decisions, next};
    alliance_call_t *c = alliance_call_new(al, h->req, 200, "hold the meeting");
    c->missing_field = "id";
    c->after = s_after;
    c->after_arg = h;
    alliance_call_answer(c, s_sql_hold, 5, p);
    HL_DBU(c->unit, s_sql_event, NULL, NULL, event, h->id);
    int64_t now = hl_time_us();
    size_t i;
    json_t *d;
    json_array_foreach(h->held.decisions, i, d)
    {
        const char *item = json_string_value(json_object_get(d, "item_id"));
        const char *kind = json_string_value(json_object_get(d, "kind"));
        const s_item_t *it = s_find(h, item);
        /* An item not on this agenda fails hold_meeting (404): no message. */
        if (!it || strcmp(it->col[7], "escalated") != 0)
            continue;
        if (strcmp(kind, "resolved") == 0) {
            const char *unit = json_string_value(json_object_get(d, "unit"));
            Hl__ItemResolved r = HL__ITEM_RESOLVED__INIT;
            r.item_id = (char *)item;
            r.outcome = (char *)json_string_value(json_object_get(d, "text"));
            r.resolved_by = (char *)(unit ? unit : "joint meeting");
            r.has_resolved_at_us = 1;
            r.resolved_at_us = now;
            hl_pipeline_send(al->svc->pipeline, c->unit, HL_STAGE_RESOLUTION, item, &r.base, NULL);
        } else if (strcmp(kind, "board") == 0) {
            Hl__LargeItemOffered o = HL__LARGE_ITEM_OFFERED__INIT;
            o.item_id = (char *)item;
            o.title = it->col[1];
            o.body = it->col[2];
            o.category = it->col[3];
            o.community = it->col[4];
            o.org_unit = it->col[5];
            o.meeting_id = h->id;
            o.has_appeal_count = 1;
            o.appeal_count = (int32_t)strtol(it->col[6], NULL, 10);
            o.has_offered_at_us = 1;
            o.offered_at_us = now;
            hl_pipeline_send(al->svc->pipeline, c->unit, HL_STAGE_BOUNTY, item, &o.base, NULL);
        }
    }
    alliance_call_submit(c);
    free(decisions);
    hl_buf_close(&att);
}

static void s_read_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_held_t *h = arg;
    if (rc != 0) {
        alliance_reply_dberr(h->al, h->req, rc, err, "read the meeting's agenda");
        s_held_free(h);
        return;
    }
    s_hold(h);
}

void alliance_meeting_held(hl_http_req_t *req, void *arg)
{
    alliance_t *al = arg;
    char id[HL_REQ_ID_MAX];
    if (!hl_req_path_id(req, 0, HL_REQ_ID_UUID, "joint meeting", id))
        return;
    /* The body is optional: a meeting may be held with nothing decided. */
    size_t len;
    hl_http_body(req, &len);
    json_t *body = NULL;
    if (len > 0 && !(body = hl_http_json_body(req))) {
        hl_metric_add(al->refused, 1);
        return;
    }
    s_held_t *h = hl_calloc(1, sizeof *h);
    h->al = al;
    h->req = req;
    h->body = body;
    memcpy(h->id, id, HL_UUID_LEN);
    hl_refusal_t why;
    if (alliance_held_parse(body, &h->held, &why) != 0) {
        hl_metric_add(al->refused, 1);
        hl_req_reply(req, &why);
        s_held_free(h);
        return;
    }
    hl_http_suspend(req);
    hl_dbu_t *u = hl_dbu_new(al->svc->db, s_read_done, h);
    HL_DBU(u, s_sql_items, s_items_rows, h, id);
    hl_dbu_submit(&u);
}
