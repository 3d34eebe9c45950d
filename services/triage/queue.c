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
    hl_req_reply_db(r->req, "item", "read items", err);
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

typedef struct {
    const char *status; /* ?status= */
    const char *size;   /* ?size= */
    int64_t limit;      /* ?limit= */
} s_queue_q_t;

static const char *const s_statuses[] = {"open", "routed", "resolved", NULL};
static const char *const s_sizes[] = {"wish", "small", "large", NULL};
static const hl_req_field_t s_queue_query[] = {{.name = "status",
                                                .type = HL_REQ_TEXT,
                                                .max = 16,
                                                .allowed = s_statuses,
                                                HL_REQ_AT(s_queue_q_t, status)},
                                               {.name = "size",
                                                .type = HL_REQ_TEXT,
                                                .max = 8,
                                                .allowed = s_sizes,
                                                HL_REQ_AT(s_queue_q_t, size)},
                                               {.name = "limit",
                                                .type = HL_REQ_INT,
                                                .min = 1,
                                                .max = TRIAGE_QUEUE_MAX,
                                                HL_REQ_AT(s_queue_q_t, limit)},
                                               {0}};

void triage_queue_get(hl_http_req_t *req, void *arg)
{
    triage_t *t = arg;
    s_queue_q_t q = {.limit = TRIAGE_QUEUE_DEFAULT};
    if (!hl_req_query(req, s_queue_query, &q))
        return;
    const char *status = q.status, *size = q.size;
    long limit = (long)q.limit;
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
    " 'opened_item', opened_item, 'join_score', join_score, 'similarity', similarity,"
    " 'compared', compared, 'decided_at', decided_at)"
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
        hl_req_reply_unknown_id(r->req, HL_REQ_ID_UUID, "item");
    } else {
        json_object_set(r->answer, "appeals", r->appeals);
        if (r->council)
            json_object_set(r->answer, "council", r->council);
        hl_http_reply_json(r->req, 200, r->answer);
        r->answer = NULL;
    }
    s_read_free(r);
}

void triage_item_get(hl_http_req_t *req, void *arg)
{
    triage_t *t = arg;
    char id[HL_REQ_ID_MAX];
    if (!hl_req_path_id(req, 0, HL_REQ_ID_UUID, "item", id))
        return;
    s_read_t *r = hl_calloc(1, sizeof *r);
    r->req = req;
    r->appeals = json_array();
    memcpy(r->id, id, sizeof r->id);
    hl_http_suspend(req);
    hl_dbu_t *u = hl_dbu_new(t->svc->db, s_item_done, r);
    HL_DBU(u, s_sql_item, s_item_rows, r, r->id);
    HL_DBU(u, s_sql_appeals, s_appeal_rows, r, r->id);
    HL_DBU(u, s_sql_council, s_council_rows, r, r->id);
    hl_dbu_submit(&u);
}
