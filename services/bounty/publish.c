/* publish.c: the commissioner's steps and the boards' change feed.
 *
 * POST /v1/boards/{id}/publish: the commissioner of the board's community
 * (or of the city, for a city-wide large-item board) publishes a draft; its
 * entries become claimable and a published large-item board is announced
 * to the city platform (PlatformEvent board.published). bounty.publish()
 * refuses a second publication with HL409 even when two race.
 *
 * GET /v1/boards/{id}/changes?since=N: the board's changes after N, in
 * order. Numbers have no gaps and grow in commit order (bounty.note_change
 * takes the board row's lock), so a client that remembers the last number
 * it saw misses nothing.
 *
 * POST /v1/wishes/{id}/difficulty: the commissioner of the wish's community
 * sets easy, normal or hard (hl-points' basis) until it is approved. */
#include "bounty.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_CHANGES_DEFAULT 500  /* changes per page when no limit is given */
#define S_CHANGES_MAX     5000 /* most changes per page */

/* What a commissioner step differs in: what its id names and the read of
 * the facts it is decided on. */
typedef struct {
    const char *what;           /* "board" or "wish" */
    const char *doing;          /* what a failed read was doing */
    const char *sql_facts;      /* the read, by the id */
    hl_dbu_rows_fn *facts_rows; /* its row */
    hl_dbu_done_fn *facts_done; /* decides and writes */
} s_step_kind_t;

#define S_STEP_KIND(WHAT, SQL, ROWS, DONE)                                                         \
    {                                                                                              \
        .what = WHAT, .doing = "read the " WHAT, .sql_facts = SQL, .facts_rows = ROWS,             \
        .facts_done = DONE                                                                         \
    }

/* One commissioner step in flight. */
typedef struct {
    const s_step_kind_t *step; /* the step */
    bounty_t *b;               /* service */
    hl_http_req_t *req;        /* suspended request */
    json_t *json;              /* body, owned */
    char id[HL_UUID_LEN + 1];  /* board or wish */
    bounty_actor_t actor;      /* the commissioner */
    bool found;                /* the board (wish) exists */
    char *community;           /* its community, owned */
    char *kind;                /* board kind, owned */
    char *period;              /* board period, owned */
    bool published;            /* board: published already */
    int status;                /* wish: status */
    const char *difficulty;    /* wish: the new difficulty (static) */
    char *at;                  /* when it was published, owned */
    long long entries;         /* board: entries on it */
} s_step_t;

static void s_step_free(s_step_t *s)
{
    json_decref(s->json);
    free(s->community);
    free(s->kind);
    free(s->period);
    free(s->at);
    free(s);
}

static char *s_dup(const PGresult *res, int col)
{
    return PQgetisnull(res, 0, col) ? NULL : hl_strdup(PQgetvalue(res, 0, col));
}

/* The actor is known (or was refused): reads the step's facts. */
static void s_step_authenticated(hl_http_req_t *req, const bounty_actor_t *actor, void *arg)
{
    s_step_t *s = arg;
    (void)req;
    if (!actor) {
        s_step_free(s);
        return;
    }
    s->actor = *actor;
    hl_dbu_t *u = hl_dbu_new(s->b->svc->db, s->step->facts_done, s);
    HL_DBU(u, s->step->sql_facts, s->step->facts_rows, s, s->id);
    hl_dbu_submit(&u);
}

/* What a commissioner step's body carries. */
typedef struct {
    const char *difficulty; /* easy, normal or hard */
} s_body_t;

/* Starts a commissioner `step`: parses the path's id and the body by
 * `spec`, then authenticates the caller; replies itself when they fail. */
static void s_step_start(hl_http_req_t *req, bounty_t *b, const s_step_kind_t *step,
                         const hl_req_field_t *spec)
{
    char id[HL_REQ_ID_MAX];
    if (!hl_req_path_id(req, 0, HL_REQ_ID_UUID, step->what, id))
        return;
    s_body_t body = {0};
    json_t *j = bounty_optional_body(req, spec, &body);
    if (!j)
        return;
    s_step_t *s = hl_calloc(1, sizeof *s);
    s->step = step;
    s->b = b;
    s->req = req;
    s->json = j;
    memcpy(s->id, id, HL_UUID_LEN + 1);
    if (body.difficulty)
        s->difficulty = bounty_difficulty_parse(body.difficulty); /* static: outlives the body */
    bounty_authenticate(b, req, s_step_authenticated, s);
}

/* Whether the facts read failed; then it replied and freed `s`. */
static bool s_facts_failed(s_step_t *s, int rc, const hl_dberr_t *err)
{
    if (rc == 0)
        return false;
    hl_req_reply_db(s->req, "board", s->step->doing, err);
    s_step_free(s);
    return true;
}

/* ---- POST /v1/boards/{id}/publish ------------------------------------------ */

static const char s_sql_board_facts[] =
    "SELECT b.community, b.kind, b.period_start::text, b.published_at IS NOT NULL,"
    " (SELECT count(*) FROM bounty.wish w WHERE w.board_id = b.id)"
    " + (SELECT count(*) FROM bounty.large_item l WHERE l.board_id = b.id)"
    " FROM bounty.board b WHERE b.id = $1::uuid";

static const char s_sql_publish[] = "SELECT to_json(bounty.publish($1::uuid, $2))#>>'{}'";

static void s_board_facts_rows(void *arg, const PGresult *res)
{
    s_step_t *s = arg;
    if (PQntuples(res) != 1)
        return;
    s->found = true;
    s->community = s_dup(res, 0);
    s->kind = s_dup(res, 1);
    s->period = s_dup(res, 2);
    s->published = PQgetvalue(res, 0, 3)[0] == 't';
    s->entries = atoll(PQgetvalue(res, 0, 4));
}

static void s_published_rows(void *arg, const PGresult *res)
{
    s_step_t *s = arg;
    if (PQntuples(res) == 1)
        s->at = s_dup(res, 0);
}

static void s_publish_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_step_t *s = arg;
    if (rc == HL_ECONFLICT) {
        hl_http_reply_error(s->req, 409, "id", "the board is published already");
    } else if (rc != 0) {
        hl_req_reply_db(s->req, "board", "publish the board", err);
    } else {
        hl_metric_add(s->b->published, 1);
        hl_info("board", s->id, "%s board of %s for %s published by %s (%lld entries)", s->kind,
                s->community, s->period, s->actor.name, s->entries);
        hl_http_reply_json(s->req, 200,
                           json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:I}", "id", s->id, "kind",
                                     s->kind, "community", s->community, "period_start", s->period,
                                     "published_at", hl_json_text(s->at), "published_by",
                                     s->actor.name, "entries", (json_int_t)s->entries));
    }
    s_step_free(s);
}

static void s_publish_facts_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_step_t *s = arg;
    if (s_facts_failed(s, rc, err))
        return;
    hl_refusal_t v = bounty_publish_verdict(&s->actor, s->found, s->community, s->published);
    if (v.status != 0) {
        hl_req_reply(s->req, &v);
        s_step_free(s);
        return;
    }
    hl_dbu_t *u = hl_dbu_new(s->b->svc->db, s_publish_done, s);
    HL_DBU(u, s_sql_publish, s_published_rows, s, s->id, s->actor.name);
    if (strcmp(s->kind, "large") == 0) {
        /* The city platform hears of each quarter's large-item board. */
        char event_id[HL_UUID_LEN + 1];
        hl_uuid_new(event_id);
        json_t *data = json_pack("{s:s, s:s, s:s, s:I}", "board_id", s->id, "quarter", s->period,
                                 "published_by", s->actor.name, "items", (json_int_t)s->entries);
        char *text = json_dumps(data, JSON_COMPACT);
        json_decref(data);
        Hl__PlatformEvent ev = HL__PLATFORM_EVENT__INIT;
        ev.event_id = event_id;
        ev.type = "board.published";
        ev.subject_id = s->id;
        ev.community = s->community;
        ev.has_occurred_at_us = 1;
        ev.occurred_at_us = hl_time_us();
        ev.data_json = text;
        hl_pipeline_send(s->b->svc->pipeline, u, HL_STAGE_PLATFORM, s->id, &ev.base, NULL);
        free(text);
    }
    hl_dbu_submit(&u);
}

static const s_step_kind_t s_publish_step =
    S_STEP_KIND("board", s_sql_board_facts, s_board_facts_rows, s_publish_facts_done);

void bounty_board_publish_post(hl_http_req_t *req, void *arg)
{
    static const hl_req_field_t spec[] = {{0}};
    s_step_start(req, arg, &s_publish_step, spec);
}

/* ---- POST /v1/wishes/{id}/difficulty ---------------------------------------- */

static const char s_sql_wish_facts[] =
    "SELECT c.parent, w.status FROM bounty.wish w JOIN org.org_unit c ON c.code = w.org_unit"
    " WHERE w.id = $1::uuid";

static const char s_sql_difficulty[] =
    "WITH u AS (UPDATE bounty.wish SET difficulty = $2 WHERE id = $1::uuid AND status <> 'approved'"
    "           RETURNING id),"
    " e AS (INSERT INTO bounty.wish_event (wish_id, action, status, actor, actor_kind, note)"
    "       SELECT w.id, 'difficulty', w.status, $3, 'commissioner', 'difficulty ' || $2"
    "         FROM bounty.wish w JOIN u ON u.id = w.id)"
    " SELECT bounty.expect_changed((SELECT count(*) FROM u), 'the wish was approved meanwhile')";

static void s_wish_facts_rows(void *arg, const PGresult *res)
{
    s_step_t *s = arg;
    if (PQntuples(res) != 1)
        return;
    s->found = true;
    s->community = s_dup(res, 0);
    s->status = bounty_status_parse(PQgetvalue(res, 0, 1));
}

static void s_difficulty_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_step_t *s = arg;
    if (rc == HL_ECONFLICT)
        hl_http_reply_error(s->req, 409, "id", "the wish is approved; its difficulty is final");
    else if (rc != 0)
        hl_req_reply_db(s->req, "board", "set the difficulty", err);
    else
        hl_http_reply_json(s->req, 200,
                           json_pack("{s:s, s:s, s:s}", "id", s->id, "difficulty", s->difficulty,
                                     "actor", s->actor.name));
    s_step_free(s);
}

static void s_difficulty_facts_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_step_t *s = arg;
    if (s_facts_failed(s, rc, err))
        return;
    if (!s->found) {
        hl_req_reply_unknown_id(s->req, HL_REQ_ID_UUID, "wish");
    } else if (s->actor.kind != BOUNTY_ACTOR_COMMISSIONER || !s->community ||
               strcmp(s->actor.unit, s->community) != 0) {
        hl_http_reply_error(s->req, 403, "Authorization",
                            "only the commissioner of %s may set the wish's difficulty",
                            s->community ? s->community : "?");
    } else if (s->status == BOUNTY_APPROVED) {
        hl_http_reply_error(s->req, 409, "id", "the wish is approved; its difficulty is final");
    } else {
        hl_dbu_t *u = hl_dbu_new(s->b->svc->db, s_difficulty_done, s);
        HL_DBU(u, s_sql_difficulty, NULL, NULL, s->id, s->difficulty, s->actor.name);
        hl_dbu_submit(&u);
        return;
    }
    s_step_free(s);
}

static const s_step_kind_t s_difficulty_step =
    S_STEP_KIND("wish", s_sql_wish_facts, s_wish_facts_rows, s_difficulty_facts_done);

void bounty_wish_difficulty_post(hl_http_req_t *req, void *arg)
{
    static const char *const levels[] = {"easy", "normal", "hard", NULL};
    static const hl_req_field_t spec[] = {{.name = "difficulty",
                                           .type = HL_REQ_TEXT,
                                           .flags = HL_REQ_REQUIRED,
                                           .max = 8,
                                           .allowed = levels,
                                           HL_REQ_AT(s_body_t, difficulty)},
                                          {0}};
    s_step_start(req, arg, &s_difficulty_step, spec);
}

/* ---- GET /v1/boards/{id}/changes?since=&limit= ------------------------------- */

static const char s_sql_feed_board[] =
    "SELECT kind, community, period_start::text, to_json(published_at)#>>'{}', last_change"
    " FROM bounty.board WHERE id = $1::uuid";

static const char s_sql_feed[] =
    "SELECT seq, to_json(at)#>>'{}', action, entry_kind, entry_id::text, status, actor, note"
    " FROM bounty.board_change WHERE board_id = $1::uuid AND seq > $2::bigint"
    " ORDER BY seq LIMIT $3::int";

/* A feed read in flight. */
typedef struct {
    hl_http_req_t *req; /* suspended request */
    json_t *board;      /* the board, or NULL when unknown */
    json_t *changes;    /* its changes */
    long long since;    /* asked from */
    long long next;     /* the last number returned (or since) */
    int limit;          /* page size */
} s_feed_t;

static void s_feed_board_rows(void *arg, const PGresult *res)
{
    s_feed_t *f = arg;
    if (PQntuples(res) != 1)
        return;
    f->board = json_pack("{s:o, s:o, s:o, s:o, s:I}", "kind", hl_req_col_text(res, 0, 0),
                         "community", hl_req_col_text(res, 0, 1), "period_start",
                         hl_req_col_text(res, 0, 2), "published_at", hl_req_col_text(res, 0, 3),
                         "last_change", (json_int_t)atoll(PQgetvalue(res, 0, 4)));
}

static void s_feed_rows(void *arg, const PGresult *res)
{
    s_feed_t *f = arg;
    static const char *const names[] = {"seq",      "at",     "action", "entry_kind",
                                        "entry_id", "status", "actor",  "note"};
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *o = json_object();
        for (int c = 0; c < 8; c++)
            json_object_set_new(o, names[c],
                                c == 0 ? json_integer(atoll(PQgetvalue(res, i, 0)))
                                       : hl_req_col_text(res, i, c));
        json_array_append_new(f->changes, o);
        f->next = atoll(PQgetvalue(res, i, 0));
    }
}

static void s_feed_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_feed_t *f = arg;
    if (rc != 0) {
        hl_req_reply_db(f->req, "board", "read the changes", err);
    } else if (!f->board) {
        hl_req_reply_unknown_id(f->req, HL_REQ_ID_UUID, "board");
    } else {
        json_int_t last = json_integer_value(json_object_get(f->board, "last_change"));
        hl_http_reply_json(f->req, 200,
                           json_pack("{s:O, s:O, s:I, s:b}", "board", f->board, "changes",
                                     f->changes, "next", (json_int_t)f->next, "more",
                                     f->next < last));
    }
    json_decref(f->board);
    json_decref(f->changes);
    free(f);
}

/* The query string of the feed. */
typedef struct {
    int64_t since; /* the last change number seen */
    int64_t limit; /* most changes in the page */
} s_feed_query_t;

static const hl_req_field_t s_spec_feed[] = {
    {.name = "since",
     .type = HL_REQ_INT,
     .min = 0,
     .max = 1e15,
     .hint = "must be the last change number seen (0 for all)",
     HL_REQ_AT(s_feed_query_t, since)},
    {.name = "limit",
     .type = HL_REQ_INT,
     .min = 1,
     .max = S_CHANGES_MAX,
     HL_REQ_AT(s_feed_query_t, limit)},
    {0}};

void bounty_board_changes_get(hl_http_req_t *req, void *arg)
{
    bounty_t *b = arg;
    char id[HL_REQ_ID_MAX];
    if (!hl_req_path_id(req, 0, HL_REQ_ID_UUID, "board", id))
        return;
    s_feed_query_t q = {.since = 0, .limit = S_CHANGES_DEFAULT};
    if (!hl_req_query(req, s_spec_feed, &q))
        return;
    s_feed_t *f = hl_calloc(1, sizeof *f);
    f->req = req;
    f->changes = json_array();
    f->since = f->next = q.since;
    f->limit = (int)q.limit;
    char since_buf[24], limit_buf[24];
    snprintf(since_buf, sizeof since_buf, "%lld", (long long)q.since);
    snprintf(limit_buf, sizeof limit_buf, "%lld", (long long)q.limit);
    hl_http_suspend(req);
    hl_dbu_t *u = hl_dbu_new(b->svc->db, s_feed_done, f);
    HL_DBU(u, s_sql_feed_board, s_feed_board_rows, f, id);
    HL_DBU(u, s_sql_feed, s_feed_rows, f, id, since_buf, limit_buf);
    hl_dbu_submit(&u);
}
