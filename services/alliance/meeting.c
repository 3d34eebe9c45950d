/* meeting.c: the joint meetings as the alliance secretariat sees them —
 * the next planned meeting with its agenda, any meeting by id, and marking
 * a meeting held with its minutes. Agendas are filled by agenda.c from the
 * "alliance" stage; outcomes are recorded by outcome.c. */
#include "alliance.h"

#include <stdlib.h>
#include <string.h>

/* One statement per read, so the meeting and its agenda come from one
 * snapshot: the meeting's columns repeat on every agenda row (and stand
 * alone, with NULL item columns, when the agenda is empty). */
#define S_MEETING_COLUMNS                                                                          \
    "SELECT m.id::text, to_json(m.scheduled_for)#>>'{}', m.venue, m.status,"                       \
    " to_json(m.held_at)#>>'{}', m.minutes, a.item_id::text, a.title, a.category, a.org_unit,"     \
    " a.level, a.appeal_count, a.status, a.outcome, a.resolved_by_unit, a.reason,"                 \
    " to_json(a.added_at)#>>'{}', to_json(a.resolved_at)#>>'{}'"
#define S_AGENDA_JOIN  " LEFT JOIN alliance.agenda_item a ON a.meeting_id = m.id"
#define S_AGENDA_ORDER " ORDER BY a.added_at, a.item_id"

static const char s_sql_next[] =
    S_MEETING_COLUMNS " FROM (SELECT * FROM alliance.meeting"
                      " WHERE status = 'planned' AND scheduled_for >= current_date"
                      " ORDER BY scheduled_for, id LIMIT 1) m" S_AGENDA_JOIN S_AGENDA_ORDER;
static const char s_sql_by_id[] = S_MEETING_COLUMNS " FROM alliance.meeting m" S_AGENDA_JOIN
                                                    " WHERE m.id = $1::uuid" S_AGENDA_ORDER;

typedef struct {
    hl_http_req_t *req; /* suspended request */
    json_t *meeting;    /* built from the first row, NULL when none */
    json_t *agenda;     /* one entry per row with an item */
    bool by_id;         /* GET /v1/meetings/{id} (else /next) */
} s_get_t;

static json_t *s_text(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? json_null() : json_string(PQgetvalue(res, row, col));
}

static json_t *s_int(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? json_null()
                                      : json_integer(strtoll(PQgetvalue(res, row, col), NULL, 10));
}

static void s_get_rows(void *arg, const PGresult *res)
{
    s_get_t *g = arg;
    static const char *const meeting_names[] = {"id",     "scheduled_for", "venue",
                                                "status", "held_at",       "minutes"};
    static const char *const item_names[] = {
        "item_id", "title",   "category",         "org_unit", "level",    "appeal_count",
        "status",  "outcome", "resolved_by_unit", "reason",   "added_at", "resolved_at"};
    for (int i = 0; i < PQntuples(res); i++) {
        if (!g->meeting) {
            g->meeting = json_object();
            for (int c = 0; c < 6; c++)
                json_object_set_new(g->meeting, meeting_names[c], s_text(res, i, c));
        }
        if (PQgetisnull(res, i, 6))
            continue;
        json_t *o = json_object();
        for (int c = 6; c < 18; c++) {
            bool number = c == 10 || c == 11;
            json_object_set_new(o, item_names[c - 6],
                                number ? s_int(res, i, c) : s_text(res, i, c));
        }
        json_array_append_new(g->agenda, o);
    }
}

static void s_get_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_get_t *g = arg;
    if (rc != 0) {
        hl_http_add_header(g->req, "Retry-After", "1");
        hl_http_reply_error(g->req, 503, NULL, "could not read the meeting now: %s", err->message);
    } else if (!g->meeting && g->by_id) {
        hl_http_reply_error(g->req, 404, "id", "no joint meeting has this id");
    } else if (!g->meeting) {
        hl_http_reply_error(g->req, 404, NULL,
                            "no joint meeting is planned: one is planned when the next large "
                            "item escalates");
    } else {
        hl_http_reply_json(g->req, 200,
                           json_pack("{s:o, s:o}", "meeting", g->meeting, "agenda", g->agenda));
        g->meeting = g->agenda = NULL;
    }
    json_decref(g->meeting);
    json_decref(g->agenda);
    free(g);
}

static void s_get(hl_http_req_t *req, alliance_t *al, const char *id)
{
    s_get_t *g = hl_calloc(1, sizeof *g);
    g->req = req;
    g->agenda = json_array();
    g->by_id = id != NULL;
    hl_http_suspend(req);
    hl_dbu_t *u = hl_dbu_new(al->svc->db, s_get_done, g);
    if (id)
        HL_DBU(u, s_sql_by_id, s_get_rows, g, id);
    else
        hl_dbu_stmt(u, s_sql_next, 0, NULL, NULL, NULL, false, s_get_rows, g);
    hl_dbu_submit(&u);
}

void alliance_meeting_next(hl_http_req_t *req, void *arg)
{
    s_get(req, arg, NULL);
}

void alliance_meeting_get(hl_http_req_t *req, void *arg)
{
    const char *id = hl_http_param(req, 0);
    if (!hl_uuid_valid(id)) {
        hl_http_reply_error(req, 404, "id", "no joint meeting has this id (ids are UUIDs)");
        return;
    }
    s_get(req, arg, id);
}

/* ---- POST /v1/meetings/{id}/held ---------------------------------------- */

static const char s_sql_held[] = "SELECT to_json(alliance.mark_held($1::uuid, $2))#>>'{}'";

typedef struct {
    alliance_t *al;           /* service */
    hl_http_req_t *req;       /* suspended request */
    char id[HL_UUID_LEN + 1]; /* the meeting */
    char *held_at;            /* from the row, owned */
} s_held_t;

static void s_held_rows(void *arg, const PGresult *res)
{
    s_held_t *h = arg;
    if (PQntuples(res) == 1)
        h->held_at = hl_strdup(PQgetvalue(res, 0, 0));
}

static void s_held_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_held_t *h = arg;
    if (rc == 0) {
        hl_info("meeting", h->id, "joint meeting held");
        hl_http_reply_json(
            h->req, 200,
            json_pack("{s:s, s:s, s:s?}", "id", h->id, "status", "held", "held_at", h->held_at));
    } else if (rc == HL_ENOENT) {
        hl_http_reply_error(h->req, 404, "id", "no joint meeting has this id");
    } else if (rc == HL_ECONFLICT) {
        hl_http_reply_error(h->req, 409, "id", "this meeting was marked held already");
    } else if (rc == HL_EINVAL) {
        hl_metric_add(h->al->refused, 1);
        hl_http_reply_error(h->req, 422, "minutes", "minutes refused: %s", err->message);
    } else {
        hl_warn("meeting", h->id, "could not mark meeting held: %s", err->message);
        hl_http_add_header(h->req, "Retry-After", "1");
        hl_http_reply_error(h->req, 503, NULL, "could not mark the meeting held now: %s",
                            err->message);
    }
    free(h->held_at);
    free(h);
}

void alliance_meeting_held(hl_http_req_t *req, void *arg)
{
    alliance_t *al = arg;
    const char *id = hl_http_param(req, 0);
    if (!hl_uuid_valid(id)) {
        hl_http_reply_error(req, 404, "id", "no joint meeting has this id (ids are UUIDs)");
        return;
    }
    /* The minutes are optional, and so is a body that would hold only them. */
    size_t len;
    hl_http_body(req, &len);
    json_t *body = NULL;
    if (len > 0 && !(body = hl_http_json_body(req))) {
        hl_metric_add(al->refused, 1);
        return;
    }
    const char *minutes, *field;
    char msg[160];
    if (!alliance_held_parse(body, &minutes, &field, msg, sizeof msg)) {
        hl_metric_add(al->refused, 1);
        hl_http_reply_error(req, 422, field, "%s", msg);
        json_decref(body);
        return;
    }
    s_held_t *h = hl_calloc(1, sizeof *h);
    h->al = al;
    h->req = req;
    memcpy(h->id, id, HL_UUID_LEN);
    hl_http_suspend(req);
    hl_dbu_t *u = hl_dbu_new(al->svc->db, s_held_done, h);
    HL_DBU(u, s_sql_held, s_held_rows, h, id, minutes);
    hl_dbu_submit(&u);
    json_decref(body); /* the parameters were copied */
}
