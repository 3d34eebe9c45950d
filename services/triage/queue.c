/* queue.c: what the commissioner sees — GET /v1/queue, the items newest
 * first (filtered by status and size), and GET /v1/items/{id}, one item
 * with its appeals and its council. Read straight from the triage schema;
 * the JSON objects are built by PostgreSQL (json_build_object), which keeps
 * numbers, arrays and timestamps (ISO 8601) in their proper JSON types. */
#include "triage.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRIAGE_QUEUE_DEFAULT 50  /* items per page when no limit is given */
#define TRIAGE_QUEUE_MAX     500 /* most items per page */

typedef struct {
    hl_http_req_t *req;       /* suspended request */
    json_t *answer;           /* built from the rows */
    json_t *appeals;          /* GET /v1/items/{id}: its appeals */
    json_t *council;          /* GET /v1/items/{id}: its council, or NULL */
    char id[HL_UUID_LEN + 1]; /* the item asked for */
} s_read_t;

static void s_read_free(s_read_t *r)
{
    json_decref(r->answer);
    json_decref(r->appeals);
    json_decref(r->council);
    free(r);
}

/* Parses the single json column of row `row`; NULL when malformed. */
static json_t *s_json(const PGresult *res, int row)
{
    const char *text = PQgetvalue(res, row, 0);
    return json_loads(text, JSON_DECODE_ANY, NULL);
}

static void s_reply_503(s_read_t *r, const hl_dberr_t *err)
{
    hl_http_add_header(r->req, "Retry-After", "1");
    hl_http_reply_error(r->req, 503, NULL, "could not read items now: %s", err->message);
}

/* ---- GET /v1/queue ----------------------------------------------------- */

static const char s_sql_queue[] =
    "SELECT json_build_object('id', id, 'size', size, 'category', category, 'org_unit', org_unit,"
    " 'title', title, 'status', status, 'route', route, 'level', level, 'target', target,"
    " 'appeal_count', appeal_count, 'created_at', created_at)"
    " FROM triage.item"
    " WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR size = $2)"
    " ORDER BY created_at DESC, id DESC LIMIT $3::int";

static void s_queue_rows(void *arg, const PGresult *res)
{
    s_read_t *r = arg;
    json_t *items = json_object_get(r->answer, "items");
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *o = s_json(res, i);
        if (o)
            json_array_append_new(items, o);
    }
}

static void s_queue_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_read_t *r = arg;
    if (rc != 0) {
        s_reply_503(r, err);
    } else {
        hl_http_reply_json(r->req, 200, r->answer);
        r->answer = NULL;
    }
    s_read_free(r);
}

static bool s_one_of(const char *s, const char *const *allowed)
{
    for (; *allowed; allowed++)
        if (strcmp(s, *allowed) == 0)
            return true;
    return false;
}

void triage_queue_get(hl_http_req_t *req, void *arg)
{
    static const char *const statuses[] = {"open", "routed", "resolved", NULL};
    static const char *const sizes[] = {"wish", "small", "large", NULL};
    triage_t *t = arg;
    const char *status = hl_http_query(req, "status");
    const char *size = hl_http_query(req, "size");
    const char *limit_text = hl_http_query(req, "limit");
    if (status && !s_one_of(status, statuses)) {
        hl_http_reply_error(req, 400, "status", "status must be open, routed or resolved");
        return;
    }
    if (size && !s_one_of(size, sizes)) {
        hl_http_reply_error(req, 400, "size", "size must be wish, small or large");
        return;
    }
    long limit;
    if (!hl_parse_long(limit_text, TRIAGE_QUEUE_DEFAULT, 1, TRIAGE_QUEUE_MAX, &limit)) {
        hl_http_reply_error(req, 400, "limit", "limit must be an integer from 1 to %d",
                            TRIAGE_QUEUE_MAX);
        return;
    }
    char limit_sql[16];
    snprintf(limit_sql, sizeof limit_sql, "%ld", limit);
    s_read_t *r = hl_calloc(1, sizeof *r);
    r->req = req;
    r->answer = json_pack("{s:[]}", "items");
    hl_http_suspend(req);
    hl_dbu_t *u = hl_dbu_new(t->svc->db, s_queue_done, r);
    HL_DBU(u, s_sql_queue, s_queue_rows, r, status, size, limit_sql);
    hl_dbu_submit(&u);
}

/* ---- GET /v1/items/{id} ------------------------------------------------ */

static const char s_sql_item[] =
    "SELECT json_build_object('id', id, 'size', size, 'category', category, 'org_unit', org_unit,"
    " 'title', title, 'status', status, 'route', route, 'level', level, 'target', target,"
    " 'appeal_count', appeal_count, 'created_at', created_at, 'routed_at', routed_at,"
    " 'resolved_at', resolved_at, 'outcome', outcome, 'resolved_by', resolved_by)"
    " FROM triage.item WHERE id = $1::uuid";
static const char s_sql_appeals[] =
    "SELECT json_build_object('appeal_id', appeal_id, 'tracking_code', tracking_code,"
    " 'channel', channel, 'org_unit', org_unit, 'received_at', received_at, 'size', size,"
    " 'category', category, 'rule_id', rule_id, 'category_rule_id', category_rule_id,"
    " 'decided_at', decided_at)"
    " FROM triage.case WHERE item_id = $1::uuid ORDER BY received_at, appeal_id";
static const char s_sql_council[] =
    "SELECT json_build_object('id', id, 'venue', venue, 'venue_code', venue_code,"
    " 'heard_at', heard_at, 'attendees', attendees, 'decision', decision, 'outcome', outcome,"
    " 'assignee', assignee, 'due_date', due_date, 'created_at', created_at,"
    " 'recorded_at', recorded_at)"
    " FROM triage.council WHERE item_id = $1::uuid";

static void s_item_rows(void *arg, const PGresult *res)
{
    s_read_t *r = arg;
    if (PQntuples(res) == 1)
        r->answer = s_json(res, 0);
}

static void s_appeal_rows(void *arg, const PGresult *res)
{
    s_read_t *r = arg;
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *o = s_json(res, i);
        if (o)
            json_array_append_new(r->appeals, o);
    }
}

static void s_council_rows(void *arg, const PGresult *res)
{
    s_read_t *r = arg;
    if (PQntuples(res) == 1)
        r->council = s_json(res, 0);
}

static void s_item_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_read_t *r = arg;
    if (rc != 0) {
        s_reply_503(r, err);
    } else if (!json_is_object(r->answer)) {
        hl_http_reply_error(r->req, 404, "id", "no item has id %s", r->id);
    } else {
        json_object_set(r->answer, "appeals", r->appeals);
        if (r->council)
            json_object_set(r->answer, "council", r->council);
        hl_http_reply_json(r->req, 200, r->answer);
        r->answer = NULL;
    }
    s_read_free(r);
}

bool triage_item_param(hl_http_req_t *req, char out[HL_UUID_LEN + 1])
{
    if (hl_uuid_canonical(hl_http_param(req, 0), out))
        return true;
    hl_http_reply_error(req, 400, "id", "item id must be a UUID");
    return false;
}

void triage_item_get(hl_http_req_t *req, void *arg)
{
    triage_t *t = arg;
    char id[HL_UUID_LEN + 1];
    if (!triage_item_param(req, id))
        return;
    s_read_t *r = hl_calloc(1, sizeof *r);
    r->req = req;
    r->appeals = json_array();
    memcpy(r->id, id, sizeof id);
    hl_http_suspend(req);
    hl_dbu_t *u = hl_dbu_new(t->svc->db, s_item_done, r);
    HL_DBU(u, s_sql_item, s_item_rows, r, r->id);
    HL_DBU(u, s_sql_appeals, s_appeal_rows, r, r->id);
    HL_DBU(u, s_sql_council, s_council_rows, r, r->id);
    hl_dbu_submit(&u);
}
