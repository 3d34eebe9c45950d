/* board.c: reading the boards — the wish list with filters, one wish or
 * large item with its history, the boards of a community, one board with
 * its entries, and a community's current board as grid organisations see
 * it (its open and claimed entries). Read-only units straight from the
 * bounty schema, so a claim shows on the board as soon as it committed.
 * Reading needs no key: the boards are public to the grid workers' group. */
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
    " to_json(w.completed_at)#>>'{}', to_json(w.reviewed_at)#>>'{}', w.difficulty,"                \
    " to_json(w.lease_until)#>>'{}', w.claimed_by, w.micro_grid, w.board_id::text,"                \
    " w.carried_over::text"
#define S_WISH_FROM                                                                                \
    " FROM bounty.wish w JOIN bounty.board b ON b.id = w.board_id"                                 \
    " JOIN org.org_unit c ON c.code = w.org_unit"
#define S_WISH_NCOLS 22
/* Most wishes the current board lists (a month has had tens, not thousands). */
#define S_BOARD_MAX_TEXT "1000"

static const char *const s_wish_names[S_WISH_NCOLS] = {
    "id",         "item_id",    "appeal_id",    "org_unit",    "community",     "category",
    "title",      "points",     "status",       "claimant",    "claimant_kind", "month",
    "created_at", "claimed_at", "completed_at", "reviewed_at", "difficulty",    "lease_until",
    "claimed_by", "micro_grid", "board_id",     "carried_over"};

/* Builds one wish object from the S_WISH_COLS columns of `row`. */
static json_t *s_wish_json(const PGresult *res, int row)
{
    json_t *o = json_object();
    for (int c = 0; c < S_WISH_NCOLS; c++) {
        json_t *v = c == 7 || c == 21 ? json_integer(atoll(PQgetvalue(res, row, c)))
                                      : hl_req_col_text(res, row, c);
        json_object_set_new(o, s_wish_names[c], v);
    }
    return o;
}

/* What reading one entry takes, by board kind. */
typedef struct {
    const char *what;                              /* the entry, for ids and 404s */
    const char *doing;                             /* what a failed read was doing */
    const char *sql_one;                           /* the entry's row */
    const char *sql_history;                       /* its events */
    json_t *(*json)(const PGresult *res, int row); /* the listing columns to JSON */
    int ncols;                                     /* how many listing columns */
    const char *link;                              /* the last detail column */
} s_entry_kind_t;

/* A read in flight: the suspended request and what the rows built. */
typedef struct {
    hl_http_req_t *req;         /* suspended request */
    const s_entry_kind_t *kind; /* the entry's kind (detail) */
    json_t *wishes;             /* list of wishes */
    json_t *wish;               /* one wish (detail) */
    json_t *history;            /* its events (detail) */
    json_t *board;              /* the board (current) */
    json_t *counts;             /* wishes on it by status (current) */
    char limit[24];             /* the query's limit as text (lists) */
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
        hl_req_reply_db(r->req, "board", "list wishes", err);
    } else {
        hl_http_reply_json(r->req, 200, json_pack("{s:O}", "wishes", r->wishes));
    }
    s_read_free(r);
}

/* The query strings the lists take. */
typedef struct {
    const char *status;    /* wish status */
    const char *org_unit;  /* compound, community or micro-grid */
    const char *month;     /* YYYY-MM */
    const char *claimant;  /* claimant account */
    const char *community; /* boards: community */
    const char *kind;      /* boards: wish or large */
    int64_t limit;         /* most rows */
} s_query_t;

static const char *const s_statuses[] = {"open", "claimed", "completed", "approved", NULL};
static const char *const s_kinds[] = {"wish", "large", NULL};

#define S_LIMIT_FIELD                                                                              \
    {                                                                                              \
        .name = "limit", .type = HL_REQ_INT, .min = 1, .max = BOUNTY_LIST_MAX,                     \
        HL_REQ_AT(s_query_t, limit)                                                                \
    }
/* A query field naming an org unit `name`, stored to `member`. */
#define S_CODE_FIELD(NAME, MEMBER)                                                                 \
    {                                                                                              \
        .name = NAME, .type = HL_REQ_TEXT, .max = BOUNTY_CODE_MAX, .check = bounty_code_check,     \
        HL_REQ_AT(s_query_t, MEMBER)                                                               \
    }
#define S_STATUS_FIELD                                                                             \
    {                                                                                              \
        .name = "status", .type = HL_REQ_TEXT, .max = 16, .allowed = s_statuses,                   \
        HL_REQ_AT(s_query_t, status)                                                               \
    }
#define S_KIND_FIELD                                                                               \
    {                                                                                              \
        .name = "kind", .type = HL_REQ_TEXT, .max = 8, .allowed = s_kinds,                         \
        HL_REQ_AT(s_query_t, kind)                                                                 \
    }

/* Starts a list read: parses the query string by `spec` into *q and
 * suspends the request, with q->limit as text in r->limit; NULL when it
 * replied. */
static s_read_t *s_list_new(hl_http_req_t *req, const hl_req_field_t *spec, s_query_t *q)
{
    *q = (s_query_t){.limit = BOUNTY_LIST_DEFAULT};
    if (!hl_req_query(req, spec, q))
        return NULL;
    s_read_t *r = s_read_new(req);
    snprintf(r->limit, sizeof r->limit, "%lld", (long long)q->limit);
    return r;
}

static const hl_req_field_t s_spec_wishes[] = {S_STATUS_FIELD,
                                               S_CODE_FIELD("org_unit", org_unit),
                                               {.name = "month",
                                                .type = HL_REQ_TEXT,
                                                .max = 7,
                                                .check = bounty_month_check,
                                                HL_REQ_AT(s_query_t, month)},
                                               {.name = "claimant",
                                                .type = HL_REQ_TEXT,
                                                .max = 80,
                                                .check = bounty_code_check,
                                                HL_REQ_AT(s_query_t, claimant)},
                                               S_LIMIT_FIELD,
                                               {0}};

void bounty_wishes_get(hl_http_req_t *req, void *arg)
{
    bounty_t *b = arg;
    s_query_t q;
    s_read_t *r = s_list_new(req, s_spec_wishes, &q);
    if (!r)
        return;
    char period[11];
    if (q.month)
        bounty_month_parse(q.month, period);
    hl_dbu_t *u = hl_dbu_new(b->svc->db, s_list_done, r);
    HL_DBU(u, s_sql_list, s_list_rows, r, q.status, q.org_unit, q.month ? period : NULL, q.claimant,
           r->limit);
    hl_dbu_submit(&u);
}

/* ---- the boards ------------------------------------------------------------- */

/* The columns every board listing returns. */
#define S_BOARD_COLS                                                                               \
    " b.id::text, b.kind, b.community, b.period_start::text, to_json(b.created_at)#>>'{}',"        \
    " to_json(b.published_at)#>>'{}', b.published_by, b.last_change,"                              \
    " (SELECT count(*) FROM bounty.wish w WHERE w.board_id = b.id)"                                \
    "  + (SELECT count(*) FROM bounty.large_item l WHERE l.board_id = b.id),"                      \
    " (SELECT count(*) FROM bounty.wish w WHERE w.board_id = b.id AND w.status = 'open')"          \
    "  + (SELECT count(*) FROM bounty.large_item l WHERE l.board_id = b.id AND l.status = 'open')"

static json_t *s_board_json(const PGresult *res, int row)
{
    static const char *const names[] = {
        "id",           "kind",         "community",   "period_start", "created_at",
        "published_at", "published_by", "last_change", "entries",      "open"};
    json_t *o = json_object();
    for (int c = 0; c < 10; c++)
        json_object_set_new(o, names[c],
                            c >= 7 ? json_integer(atoll(PQgetvalue(res, row, c)))
                                   : hl_req_col_text(res, row, c));
    json_object_set_new(o, "published", json_boolean(!PQgetisnull(res, row, 5)));
    return o;
}

static void s_board_rows(void *arg, const PGresult *res)
{
    s_read_t *r = arg;
    if (!r->board && PQntuples(res) == 1)
        r->board = s_board_json(res, 0);
}

static void s_boards_rows(void *arg, const PGresult *res)
{
    s_read_t *r = arg;
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(r->wishes, s_board_json(res, i));
}

/* ---- GET /v1/boards?community=&kind=&limit= ---------------------------------- */

static const char s_sql_boards[] =
    "SELECT" S_BOARD_COLS " FROM bounty.board b"
    " WHERE ($1::text IS NULL OR b.community = $1) AND ($2::text IS NULL OR b.kind = $2)"
    " ORDER BY b.period_start DESC, b.kind, b.community LIMIT $3::int";

static void s_boards_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_read_t *r = arg;
    if (rc != 0)
        hl_req_reply_db(r->req, "board", "list the boards", err);
    else
        hl_http_reply_json(r->req, 200, json_pack("{s:O}", "boards", r->wishes));
    s_read_free(r);
}

static const hl_req_field_t s_spec_boards[] = {
    S_CODE_FIELD("community", community), S_KIND_FIELD, S_LIMIT_FIELD, {0}};

void bounty_boards_get(hl_http_req_t *req, void *arg)
{
    bounty_t *b = arg;
    s_query_t q;
    s_read_t *r = s_list_new(req, s_spec_boards, &q);
    if (!r)
        return;
    hl_dbu_t *u = hl_dbu_new(b->svc->db, s_boards_done, r);
    HL_DBU(u, s_sql_boards, s_boards_rows, r, q.community, q.kind, r->limit);
    hl_dbu_submit(&u);
}

/* ---- GET /v1/boards/{id} and GET /v1/boards/current ---------------------------- */

/* The columns of a large item in listings. */
#define S_LARGE_COLS                                                                               \
    " l.id::text, l.item_id::text, l.title, l.category, l.community, l.org_unit, l.status,"        \
    " l.claimant, l.claimed_by, to_json(l.lease_until)#>>'{}', l.progress, l.difficulty,"          \
    " to_json(l.created_at)#>>'{}', to_json(l.claimed_at)#>>'{}',"                                 \
    " to_json(l.completed_at)#>>'{}', to_json(l.reviewed_at)#>>'{}', l.board_id::text,"            \
    " l.appeal_count, l.carried_over"
#define S_LARGE_NCOLS 19

static json_t *s_large_json(const PGresult *res, int row)
{
    static const char *const names[S_LARGE_NCOLS] = {
        "id",          "item_id",    "title",        "category",    "community",
        "org_unit",    "status",     "claimant",     "claimed_by",  "lease_until",
        "progress",    "difficulty", "created_at",   "claimed_at",  "completed_at",
        "reviewed_at", "board_id",   "appeal_count", "carried_over"};
    json_t *o = json_object();
    for (int c = 0; c < S_LARGE_NCOLS; c++)
        json_object_set_new(o, names[c],
                            c >= 17 ? json_integer(atoll(PQgetvalue(res, row, c)))
                                    : hl_req_col_text(res, row, c));
    return o;
}

static void s_large_rows(void *arg, const PGresult *res)
{
    s_read_t *r = arg;
    if (!r->history)
        r->history = json_array(); /* (the large items of a board) */
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(r->history, s_large_json(res, i));
}

static const char s_sql_board_one[] =
    "SELECT" S_BOARD_COLS " FROM bounty.board b WHERE b.id = $1::uuid";
static const char s_sql_board_one_wishes[] =
    "SELECT" S_WISH_COLS S_WISH_FROM " WHERE w.board_id = $1::uuid"
    " ORDER BY w.created_at, w.id LIMIT " S_BOARD_MAX_TEXT;
static const char s_sql_board_one_large[] =
    "SELECT" S_LARGE_COLS " FROM bounty.large_item l WHERE l.board_id = $1::uuid"
    " ORDER BY l.created_at, l.id LIMIT " S_BOARD_MAX_TEXT;

static void s_board_one_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_read_t *r = arg;
    if (rc != 0) {
        hl_req_reply_db(r->req, "board", "read the board", err);
    } else if (!r->board) {
        hl_req_reply_unknown_id(r->req, HL_REQ_ID_UUID, "board");
    } else {
        json_t *body =
            json_pack("{s:O, s:O, s:o}", "board", r->board, "wishes", r->wishes, "large_items",
                      r->history ? json_incref(r->history) : json_array());
        hl_http_reply_json(r->req, 200, body);
    }
    s_read_free(r);
}

void bounty_board_get(hl_http_req_t *req, void *arg)
{
    bounty_t *b = arg;
    char id[HL_REQ_ID_MAX];
    if (!hl_req_path_id(req, 0, HL_REQ_ID_UUID, "board", id))
        return;
    s_read_t *r = s_read_new(req);
    hl_dbu_t *u = hl_dbu_new(b->svc->db, s_board_one_done, r);
    HL_DBU(u, s_sql_board_one, s_board_rows, r, id);
    HL_DBU(u, s_sql_board_one_wishes, s_list_rows, r, id);
    HL_DBU(u, s_sql_board_one_large, s_large_rows, r, id);
    hl_dbu_submit(&u);
}

/* The community's board of the current period (Beijing time); no row
 * before its first entry. */
static const char s_sql_board_current[] =
    "SELECT" S_BOARD_COLS " FROM bounty.board b"
    " WHERE b.community = $1 AND b.kind = $2"
    "   AND b.period_start = CASE $2 WHEN 'wish' THEN " BOUNTY_SQL_THIS_MONTH
    "       ELSE date_trunc('quarter', now() AT TIME ZONE 'Asia/Shanghai')::date END";

static const char s_sql_current_wishes[] =
    "SELECT" S_WISH_COLS S_WISH_FROM
    " WHERE b.community = $1 AND b.kind = 'wish' AND b.period_start = " BOUNTY_SQL_THIS_MONTH
    "   AND w.status IN ('open', 'claimed') AND $2 = 'wish'"
    " ORDER BY w.created_at, w.id LIMIT " S_BOARD_MAX_TEXT;

static const char s_sql_current_large[] =
    "SELECT" S_LARGE_COLS " FROM bounty.large_item l JOIN bounty.board b ON b.id = l.board_id"
    " WHERE b.community = $1 AND b.kind = 'large'"
    "   AND b.period_start = date_trunc('quarter', now() AT TIME ZONE 'Asia/Shanghai')::date"
    "   AND l.status IN ('open', 'claimed') AND $2 = 'large'"
    " ORDER BY l.created_at, l.id LIMIT " S_BOARD_MAX_TEXT;

static void s_current_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_read_t *r = arg;
    if (rc != 0) {
        hl_req_reply_db(r->req, "board", "read the current board", err);
    } else {
        json_t *entries = r->history ? r->history : r->wishes;
        size_t open = r->board ? (size_t)json_integer_value(json_object_get(r->board, "open")) : 0;
        json_t *body =
            json_pack("{s:o, s:O, s:b}", "board", r->board ? json_incref(r->board) : json_null(),
                      r->history ? "large_items" : "wishes", entries, "truncated",
                      json_array_size(entries) < open);
        hl_http_reply_json(r->req, 200, body);
    }
    s_read_free(r);
}

static const hl_req_field_t s_spec_current[] = {
    {.name = "community",
     .type = HL_REQ_TEXT,
     .flags = HL_REQ_REQUIRED,
     .max = BOUNTY_CODE_MAX,
     .check = bounty_code_check,
     .hint = "is required: boards are per community, e.g. ?community=cm01",
     HL_REQ_AT(s_query_t, community)},
    S_KIND_FIELD,
    {0}};

void bounty_board_current_get(hl_http_req_t *req, void *arg)
{
    bounty_t *b = arg;
    s_query_t q = {.kind = "wish"};
    if (!hl_req_query(req, s_spec_current, &q))
        return;
    s_read_t *r = s_read_new(req);
    hl_dbu_t *u = hl_dbu_new(b->svc->db, s_current_done, r);
    HL_DBU(u, s_sql_board_current, s_board_rows, r, q.community, q.kind);
    if (strcmp(q.kind, "wish") == 0)
        HL_DBU(u, s_sql_current_wishes, s_list_rows, r, q.community, q.kind);
    else
        HL_DBU(u, s_sql_current_large, s_large_rows, r, q.community, q.kind);
    hl_dbu_submit(&u);
}

/* ---- GET /v1/large-items?community=&status=&unit=&limit= ----------------------- */

static const char s_sql_large_list[] =
    "SELECT" S_LARGE_COLS " FROM bounty.large_item l"
    " WHERE ($1::text IS NULL OR l.community = $1) AND ($2::text IS NULL OR l.status = $2)"
    "   AND ($3::text IS NULL OR l.claimant = $3)"
    " ORDER BY l.created_at DESC, l.id LIMIT $4::int";

static const hl_req_field_t s_spec_large[] = {S_CODE_FIELD("community", community),
                                              S_STATUS_FIELD,
                                              S_CODE_FIELD("unit", claimant),
                                              S_LIMIT_FIELD,
                                              {0}};

static void s_large_list_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_read_t *r = arg;
    if (rc != 0)
        hl_req_reply_db(r->req, "large item", "list large items", err);
    else
        hl_http_reply_json(
            r->req, 200,
            json_pack("{s:o}", "large_items", r->history ? json_incref(r->history) : json_array()));
    s_read_free(r);
}

void bounty_large_items_get(hl_http_req_t *req, void *arg)
{
    bounty_t *b = arg;
    s_query_t q;
    s_read_t *r = s_list_new(req, s_spec_large, &q);
    if (!r)
        return;
    hl_dbu_t *u = hl_dbu_new(b->svc->db, s_large_list_done, r);
    HL_DBU(u, s_sql_large_list, s_large_rows, r, q.community, q.status, q.claimant, r->limit);
    hl_dbu_submit(&u);
}

/* ---- GET /v1/wishes/{id} and GET /v1/large-items/{id} ------------------------ */

/* An entry's history: its events in order. */
#define S_HISTORY(EVENTS, KEY)                                                                     \
    "SELECT to_json(at)#>>'{}', action, status, actor, note FROM bounty." EVENTS " WHERE " KEY     \
    " = $1::uuid ORDER BY at, id"
/* The detail columns after the listing ones, named by s_detail_names and
 * then the kind's own `link`. */
#define S_DETAIL_COLS(X)                                                                           \
    ", " X ".body, " X ".evidence, " X ".reviewer, " X ".review_note, " X ".award_id::text,"
static const char *const s_detail_names[] = {"body", "evidence", "reviewer", "review_note",
                                             "award_id"};
#define S_DETAIL_NCOLS ((int)(sizeof s_detail_names / sizeof s_detail_names[0]))

static const char s_sql_one[] =
    "SELECT" S_WISH_COLS S_DETAIL_COLS("w") " w.board_id::text" S_WISH_FROM
                                            " WHERE w.id = $1::uuid";
static const char s_sql_history[] = S_HISTORY("wish_event", "wish_id");
static const char s_sql_large_one[] =
    "SELECT" S_LARGE_COLS S_DETAIL_COLS("l") " l.meeting_id::text FROM bounty.large_item l"
                                             " WHERE l.id = $1::uuid";
static const char s_sql_large_history[] = S_HISTORY("large_item_event", "item_id");

#define S_ENTRY_KIND(WHAT, SQL_ONE, SQL_HISTORY, JSON, NCOLS, LINK)                                \
    {                                                                                              \
        .what = WHAT, .doing = "read the " WHAT, .sql_one = SQL_ONE, .sql_history = SQL_HISTORY,   \
        .json = JSON, .ncols = NCOLS, .link = LINK                                                 \
    }
static const s_entry_kind_t s_entry_kinds[] = {
    [BOUNTY_WISH] =
        S_ENTRY_KIND("wish", s_sql_one, s_sql_history, s_wish_json, S_WISH_NCOLS, "board_id"),
    [BOUNTY_LARGE] = S_ENTRY_KIND("large item", s_sql_large_one, s_sql_large_history, s_large_json,
                                  S_LARGE_NCOLS, "meeting_id"),
};

static void s_one_rows(void *arg, const PGresult *res)
{
    s_read_t *r = arg;
    if (PQntuples(res) != 1)
        return;
    const s_entry_kind_t *k = r->kind;
    r->wish = k->json(res, 0);
    for (int c = 0; c < S_DETAIL_NCOLS; c++)
        json_object_set_new(r->wish, s_detail_names[c], hl_req_col_text(res, 0, k->ncols + c));
    json_object_set_new(r->wish, k->link, hl_req_col_text(res, 0, k->ncols + S_DETAIL_NCOLS));
}

static void s_history_rows(void *arg, const PGresult *res)
{
    s_read_t *r = arg;
    r->history = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(
            r->history,
            json_pack("{s:o, s:o, s:o, s:o, s:o}", "at", hl_req_col_text(res, i, 0), "action",
                      hl_req_col_text(res, i, 1), "status", hl_req_col_text(res, i, 2), "actor",
                      hl_req_col_text(res, i, 3), "note", hl_req_col_text(res, i, 4)));
}

static void s_one_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_read_t *r = arg;
    if (rc != 0) {
        hl_req_reply_db(r->req, "board", r->kind->doing, err);
    } else if (!r->wish) {
        hl_req_reply_unknown_id(r->req, HL_REQ_ID_UUID, r->kind->what);
    } else {
        json_object_set_new(r->wish, "history", r->history ? r->history : json_array());
        r->history = NULL;
        hl_http_reply_json(r->req, 200, r->wish);
        r->wish = NULL;
    }
    s_read_free(r);
}

/* Replies with the entry of `kind` named by the path, with its history. */
static void s_entry_get(hl_http_req_t *req, bounty_t *b, bounty_kind_t kind)
{
    const s_entry_kind_t *k = &s_entry_kinds[kind];
    char id[HL_REQ_ID_MAX];
    if (!hl_req_path_id(req, 0, HL_REQ_ID_UUID, k->what, id))
        return;
    s_read_t *r = s_read_new(req);
    r->kind = k;
    hl_dbu_t *u = hl_dbu_new(b->svc->db, s_one_done, r);
    HL_DBU(u, k->sql_one, s_one_rows, r, id);
    HL_DBU(u, k->sql_history, s_history_rows, r, id);
    hl_dbu_submit(&u);
}

void bounty_wish_get(hl_http_req_t *req, void *arg)
{
    s_entry_get(req, arg, BOUNTY_WISH);
}

void bounty_large_item_get(hl_http_req_t *req, void *arg)
{
    s_entry_get(req, arg, BOUNTY_LARGE);
}
