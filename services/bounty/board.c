/* board.c: reading the boards — the wish list with filters, one wish with
 * its history, and the current month's board as grid organisations see it
 * (its open and claimed wishes). Read-only units straight from the bounty
 * schema, so a claim shows on the board as soon as it committed. */
#include "bounty.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The columns every wish listing returns, in the order s_wish_json reads. */
#define S_WISH_COLS                                                                                \
    " w.id::text, w.item_id::text, w.appeal_id::text, w.org_unit, c.parent, w.category,"           \
    " w.title, w.points, w.status, w.claimant, w.claimant_kind, to_char(b.period_start, "          \
    "'YYYY-MM'),"                                                                                  \
    " to_json(w.created_at)#>>'{}', to_json(w.claimed_at)#>>'{}',"                                 \
    " to_json(w.completed_at)#>>'{}', to_json(w.reviewed_at)#>>'{}'"
#define S_WISH_FROM                                                                                \
    " FROM bounty.wish w JOIN bounty.board b ON b.id = w.board_id"                                 \
    " JOIN org.org_unit c ON c.code = w.org_unit"
#define S_WISH_NCOLS 16
/* Most wishes the current board lists (a month has had tens, not thousands). */
#define S_BOARD_MAX_TEXT "1000"

static const char *const s_wish_names[S_WISH_NCOLS] = {
    "id",         "item_id",    "appeal_id",    "org_unit",   "community",     "category",
    "title",      "points",     "status",       "claimant",   "claimant_kind", "month",
    "created_at", "claimed_at", "completed_at", "reviewed_at"};

/* Builds one wish object from the S_WISH_COLS columns of `row`. */
static json_t *s_wish_json(const PGresult *res, int row)
{
    json_t *o = json_object();
    for (int c = 0; c < S_WISH_NCOLS; c++) {
        json_t *v = c == 7 ? json_integer(atoll(PQgetvalue(res, row, c)))
                           : bounty_text_or_null(res, row, c);
        json_object_set_new(o, s_wish_names[c], v);
    }
    return o;
}

/* A read in flight: the suspended request and what the rows built. */
typedef struct {
    hl_http_req_t *req; /* suspended request */
    json_t *wishes;     /* list of wishes */
    json_t *wish;       /* one wish (detail) */
    json_t *history;    /* its events (detail) */
    json_t *board;      /* the board (current) */
    json_t *counts;     /* wishes on it by status (current) */
} s_read_t;

static s_read_t *s_read_new(hl_http_req_t *req)
{
    s_read_t *r = hl_calloc(1, sizeof *r);
    r->req = req;
    r->wishes = json_array();
    hl_http_suspend(req);
    return r;
}

static void s_read_free(s_read_t *r)
{
    json_decref(r->wishes);
    json_decref(r->wish);
    json_decref(r->history);
    json_decref(r->board);
    json_decref(r->counts);
    free(r);
}

static void s_list_rows(void *arg, const PGresult *res)
{
    s_read_t *r = arg;
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(r->wishes, s_wish_json(res, i));
}

/* ---- GET /v1/wishes ------------------------------------------------------ */

static const char s_sql_list[] =
    "SELECT" S_WISH_COLS S_WISH_FROM " WHERE ($1::text IS NULL OR w.status = $1)"
    "   AND ($2::text IS NULL OR w.org_unit = $2 OR c.parent = $2"
    "        OR w.org_unit = (SELECT g.parent FROM org.org_unit g"
    "                          WHERE g.code = $2 AND g.level = 'micro_grid'))"
    "   AND ($3::date IS NULL OR (b.kind = 'wish' AND b.period_start = $3::date))"
    "   AND ($4::text IS NULL OR w.claimant = $4)"
    " ORDER BY w.created_at DESC, w.id"
    " LIMIT $5::int";

static void s_list_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_read_t *r = arg;
    if (rc != 0) {
        bounty_reply_db_error(r->req, "list wishes", err);
    } else {
        hl_http_reply_json(r->req, 200, json_pack("{s:O}", "wishes", r->wishes));
    }
    s_read_free(r);
}

void bounty_wishes_get(hl_http_req_t *req, void *arg)
{
    bounty_t *b = arg;
    const char *status = hl_http_query(req, "status");
    const char *org_unit = hl_http_query(req, "org_unit");
    const char *month = hl_http_query(req, "month");
    const char *claimant = hl_http_query(req, "claimant");
    const char *limit_text = hl_http_query(req, "limit");
    char period[11];
    if (status && bounty_status_parse(status) < 0) {
        hl_http_reply_error(req, 400, "status",
                            "status must be open, claimed, completed or approved");
        return;
    }
    if (org_unit && !bounty_code_valid(org_unit)) {
        hl_http_reply_error(req, 400, "org_unit", "org_unit must be an org unit code, e.g. cp006");
        return;
    }
    if (month && !bounty_month_parse(month, period)) {
        hl_http_reply_error(req, 400, "month", "month must be YYYY-MM, e.g. 2026-11");
        return;
    }
    if (claimant && !bounty_code_valid(claimant)) {
        hl_http_reply_error(req, 400, "claimant",
                            "claimant must be an org unit or member unit code");
        return;
    }
    int limit = bounty_limit_parse(limit_text);
    if (limit < 0) {
        hl_http_reply_error(req, 400, "limit", "limit must be a whole number from 1 to %d",
                            BOUNTY_LIST_MAX);
        return;
    }
    char limit_buf[16];
    snprintf(limit_buf, sizeof limit_buf, "%d", limit);
    s_read_t *r = s_read_new(req);
    hl_dbu_t *u = hl_dbu_new(b->svc->db, s_list_done, r);
    HL_DBU(u, s_sql_list, s_list_rows, r, status, org_unit, month ? period : NULL, claimant,
           limit_buf);
    hl_dbu_submit(&u);
}

/* ---- GET /v1/wishes/{id} ------------------------------------------------- */

static const char s_sql_one[] =
    "SELECT" S_WISH_COLS ", w.body, w.evidence, w.reviewer, w.review_note, w.award_id::text,"
    " w.board_id::text" S_WISH_FROM " WHERE w.id = $1::uuid";

static const char s_sql_history[] =
    "SELECT to_json(at)#>>'{}', action, status, actor, note FROM bounty.wish_event"
    " WHERE wish_id = $1::uuid ORDER BY at, id";

static void s_one_rows(void *arg, const PGresult *res)
{
    s_read_t *r = arg;
    if (PQntuples(res) != 1)
        return;
    static const char *const extra[] = {"body",        "evidence", "reviewer",
                                        "review_note", "award_id", "board_id"};
    r->wish = s_wish_json(res, 0);
    for (int c = 0; c < (int)(sizeof extra / sizeof extra[0]); c++)
        json_object_set_new(r->wish, extra[c], bounty_text_or_null(res, 0, S_WISH_NCOLS + c));
}

static void s_history_rows(void *arg, const PGresult *res)
{
    s_read_t *r = arg;
    r->history = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(r->history, json_pack("{s:o, s:o, s:o, s:o, s:o}", "at",
                                                    bounty_text_or_null(res, i, 0), "action",
                                                    bounty_text_or_null(res, i, 1), "status",
                                                    bounty_text_or_null(res, i, 2), "actor",
                                                    bounty_text_or_null(res, i, 3), "note",
                                                    bounty_text_or_null(res, i, 4)));
}

static void s_one_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_read_t *r = arg;
    if (rc != 0) {
        bounty_reply_db_error(r->req, "read the wish", err);
    } else if (!r->wish) {
        hl_http_reply_error(r->req, 404, "id", "no wish has this id");
    } else {
        json_object_set_new(r->wish, "history", r->history ? r->history : json_array());
        r->history = NULL;
        hl_http_reply_json(r->req, 200, r->wish);
        r->wish = NULL;
    }
    s_read_free(r);
}

void bounty_wish_get(hl_http_req_t *req, void *arg)
{
    bounty_t *b = arg;
    const char *id = bounty_path_id(req);
    if (!id)
        return;
    s_read_t *r = s_read_new(req);
    hl_dbu_t *u = hl_dbu_new(b->svc->db, s_one_done, r);
    HL_DBU(u, s_sql_one, s_one_rows, r, id);
    HL_DBU(u, s_sql_history, s_history_rows, r, id);
    hl_dbu_submit(&u);
}

/* ---- GET /v1/boards/current ---------------------------------------------- */

/* The current month's board; its columns are NULL until a wish opened it. */
static const char s_sql_board[] =
    "SELECT b.id::text, 'wish', p.start::text, to_json(b.published_at)#>>'{}'"
    " FROM (SELECT " BOUNTY_SQL_THIS_MONTH " AS start) p"
    " LEFT JOIN bounty.board b ON b.kind = 'wish' AND b.period_start = p.start";

static const char s_sql_board_wishes[] =
    "SELECT" S_WISH_COLS S_WISH_FROM
    " WHERE b.kind = 'wish' AND b.period_start = " BOUNTY_SQL_THIS_MONTH
    "   AND w.status IN ('open', 'claimed')"
    " ORDER BY w.created_at, w.id"
    " LIMIT " S_BOARD_MAX_TEXT;

static const char s_sql_board_counts[] =
    "SELECT count(*) FILTER (WHERE b.period_start = p.start AND w.status = 'open'),"
    "       count(*) FILTER (WHERE b.period_start = p.start AND w.status = 'claimed'),"
    "       count(*) FILTER (WHERE b.period_start = p.start AND w.status = 'completed'),"
    "       count(*) FILTER (WHERE b.period_start = p.start AND w.status = 'approved'),"
    "       count(*) FILTER (WHERE b.period_start < p.start)"
    "  FROM (SELECT " BOUNTY_SQL_THIS_MONTH " AS start) p"
    "  JOIN bounty.board b ON b.kind = 'wish' AND b.period_start <= p.start"
    "  JOIN bounty.wish w ON w.board_id = b.id"
    " WHERE b.period_start = p.start OR w.status IN ('open', 'claimed')";

static void s_board_rows(void *arg, const PGresult *res)
{
    s_read_t *r = arg;
    if (PQntuples(res) != 1)
        return;
    r->board =
        json_pack("{s:o, s:o, s:o, s:o}", "id", bounty_text_or_null(res, 0, 0), "kind",
                  bounty_text_or_null(res, 0, 1), "period_start", bounty_text_or_null(res, 0, 2),
                  "published_at", bounty_text_or_null(res, 0, 3));
}

static void s_count_rows(void *arg, const PGresult *res)
{
    s_read_t *r = arg;
    if (PQntuples(res) != 1)
        return;
    r->counts = json_pack("{s:I, s:I, s:I, s:I}", "open", (json_int_t)atoll(PQgetvalue(res, 0, 0)),
                          "claimed", (json_int_t)atoll(PQgetvalue(res, 0, 1)), "completed",
                          (json_int_t)atoll(PQgetvalue(res, 0, 2)), "approved",
                          (json_int_t)atoll(PQgetvalue(res, 0, 3)));
    json_object_set_new(r->counts, "earlier_open_or_claimed",
                        json_integer(atoll(PQgetvalue(res, 0, 4))));
}

static void s_board_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_read_t *r = arg;
    if (rc != 0 || !r->board) {
        bounty_reply_db_error(r->req, "read the current board", err);
    } else {
        json_t *body = json_pack("{s:O, s:O}", "board", r->board, "wishes", r->wishes);
        if (r->counts) {
            /* The list stops at S_BOARD_MAX_TEXT wishes; the counts tell the whole. */
            json_int_t on_board = json_integer_value(json_object_get(r->counts, "open")) +
                                  json_integer_value(json_object_get(r->counts, "claimed"));
            json_object_set(body, "counts", r->counts);
            json_object_set_new(body, "truncated",
                                json_boolean(on_board > (json_int_t)json_array_size(r->wishes)));
        }
        hl_http_reply_json(r->req, 200, body);
    }
    s_read_free(r);
}

void bounty_board_current_get(hl_http_req_t *req, void *arg)
{
    bounty_t *b = arg;
    s_read_t *r = s_read_new(req);
    hl_dbu_t *u = hl_dbu_new(b->svc->db, s_board_done, r);
    hl_dbu_stmt(u, s_sql_board, 0, NULL, NULL, NULL, false, s_board_rows, r);
    hl_dbu_stmt(u, s_sql_board_wishes, 0, NULL, NULL, NULL, false, s_list_rows, r);
    hl_dbu_stmt(u, s_sql_board_counts, 0, NULL, NULL, NULL, false, s_count_rows, r);
    hl_dbu_submit(&u);
}
