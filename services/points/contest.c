/* contest.c: the quarterly chain contest (三链比武) and the A/B/C grades.
 *
 *   POST /v1/contests/{quarter}/scores   a jury key records a manual score
 *   POST /v1/contests/{quarter}/compute  a city-wide jury key computes it
 *   GET  /v1/contests/{quarter}          the contest table (chains, ranks)
 *   GET  /v1/grades/{quarter}            every compound's total and grade
 *   GET  /v1/grades/{quarter}/{compound} one grade with all its inputs
 *
 * Computing reads, in one read unit, the system's aggregates per compound
 * (points.compound_inputs: SECURITY DEFINER, counts only), the latest manual
 * score per compound and criterion, and the weights and thresholds in force
 * on the quarter's first day; grade.c scores each compound; one write unit
 * replaces the quarter's grades and chain scores and, if it is the latest
 * quarter computed, copies the grades to org.org_unit.grade
 * (points.publish_grades). Every stored grade carries its inputs, scores,
 * sources, weights and thresholds, so it can be checked by hand.
 * A timer computes the quarter just ended once (points_contest_start). */
#include "points.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- computing a quarter ----------------------------------------------- */

typedef struct {
    points_t *pt;                  /* service */
    hl_http_req_t *req;            /* suspended request, or NULL (the timer) */
    char quarter[12];              /* as asked, e.g. 2026Q4 */
    char first[11];                /* its first day */
    char next[11];                 /* the next quarter's */
    char key_hash[65];             /* the caller's key ("" for the timer) */
    points_actor_t actor;          /* read: who asked */
    bool future;                   /* read: the quarter has not begun */
    double weight[POINTS_C_COUNT]; /* read */
    double min_a, min_b;           /* read: thresholds */
    json_t *rows;                  /* built: the grades to store */
    json_t *weights;               /* the weights used, as stored */
    json_t *thresholds;            /* the thresholds used, as stored */
    int counts[3];                 /* A, B, C */
    int compounds;                 /* compounds graded */
    int published;                 /* write: org.org_unit.grade rows changed */
    int chains;                    /* write: chains scored */
} s_compute_t;

static void s_compute_free(s_compute_t *c)
{
    if (!c->req)
        c->pt->contest_busy = false; /* the timer's computation is over */
    json_decref(c->rows);
    json_decref(c->weights);
    json_decref(c->thresholds);
    free(c);
}

static const char s_sql_future[] = "SELECT $1::date > (now() AT TIME ZONE 'Asia/Shanghai')::date";
static const char s_sql_weights[] =
    "SELECT DISTINCT ON (criterion) criterion, weight FROM points.criterion_weight"
    " WHERE valid_from <= $1::date ORDER BY criterion, valid_from DESC";
static const char s_sql_thresholds[] =
    "SELECT DISTINCT ON (grade) grade, min_total FROM points.grade_threshold"
    " WHERE valid_from <= $1::date ORDER BY grade, valid_from DESC";
/* Per compound: community, home chain, the system's aggregates and the
 * latest manual score of each criterion (JSON). */
static const char s_sql_inputs[] =
    "SELECT c.code, c.parent, c.chain, i.items, i.items_resolved, i.resolve_hours,"
    " i.item_reopens, i.confirms, i.feedback_reopens, i.wishes_done, i.councils_held,"
    " (SELECT json_object_agg(s.criterion, json_build_object('score', s.score, 'recorded_by',"
    "         s.recorded_by, 'note', s.note, 'recorded_at', s.recorded_at))"
    "    FROM (SELECT DISTINCT ON (m.criterion) m.criterion, m.score, m.recorded_by, m.note,"
    "                 m.recorded_at"
    "            FROM points.manual_score m WHERE m.quarter = $1::date AND m.compound = c.code"
    "           ORDER BY m.criterion, m.id DESC) s)::text"
    " FROM points.compound_inputs($1::timestamp AT TIME ZONE 'Asia/Shanghai',"
    "                             $2::timestamp AT TIME ZONE 'Asia/Shanghai') i"
    " JOIN org.org_unit c ON c.code = i.compound ORDER BY c.code";

static void s_future_rows(void *arg, const PGresult *res)
{
    s_compute_t *c = arg;
    c->future = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
}

static void s_weight_rows(void *arg, const PGresult *res)
{
    s_compute_t *c = arg;
    for (int i = 0; i < PQntuples(res); i++) {
        int k = points_criterion_parse(PQgetvalue(res, i, 0));
        if (k < 0)
            continue;
        c->weight[k] = strtod(PQgetvalue(res, i, 1), NULL);
        json_object_set_new(c->weights, points_criterion_code(k), json_real(c->weight[k]));
    }
}

static void s_threshold_rows(void *arg, const PGresult *res)
{
    s_compute_t *c = arg;
    for (int i = 0; i < PQntuples(res); i++) {
        double v = strtod(PQgetvalue(res, i, 1), NULL);
        if (strcmp(PQgetvalue(res, i, 0), "A") == 0)
            c->min_a = v;
        else
            c->min_b = v;
        json_object_set_new(c->thresholds, PQgetvalue(res, i, 0), json_real(v));
    }
}

static int s_int(const PGresult *res, int row, int col)
{
    return atoi(PQgetvalue(res, row, col));
}

/* Keeps the raw rows: they are scored once the weights are known too
 * (statements of a unit report in order, and weights come first). */
static void s_input_rows(void *arg, const PGresult *res)
{
    s_compute_t *c = arg;
    static const char *const source_names[] = {"none", "system", "manual"};
    for (int i = 0; i < PQntuples(res); i++) {
        points_inputs_t in = {
            .items = s_int(res, i, 3),
            .items_resolved = s_int(res, i, 4),
            .resolve_hours = PQgetisnull(res, i, 5) ? -1 : strtod(PQgetvalue(res, i, 5), NULL),
            .item_reopens = s_int(res, i, 6),
            .confirms = s_int(res, i, 7),
            .feedback_reopens = s_int(res, i, 8),
            .wishes_done = s_int(res, i, 9),
            .councils_held = s_int(res, i, 10),
        };
        json_t *manual =
            PQgetisnull(res, i, 11) ? NULL : json_loads(PQgetvalue(res, i, 11), 0, NULL);
        for (int k = 0; k < POINTS_C_COUNT; k++) {
            json_t *m = json_object_get(manual, points_criterion_code(k));
            if (m) {
                in.manual[k] = true;
                in.manual_score[k] = json_number_value(json_object_get(m, "score"));
            }
        }
        points_grade_t g;
        points_grade_compute(&in, c->weight, c->min_a, c->min_b, &g);
        json_t *scores = json_object();
        for (int k = 0; k < POINTS_C_COUNT; k++) {
            json_t *s =
                json_pack("{s:o, s:s, s:f}", "score",
                          g.source[k] == POINTS_SRC_NONE ? json_null() : json_real(g.score[k]),
                          "source", source_names[g.source[k]], "weight", c->weight[k]);
            json_t *m = json_object_get(manual, points_criterion_code(k));
            if (m)
                json_object_set(s, "manual", m);
            json_object_set_new(scores, points_criterion_code(k), s);
        }
        json_decref(manual);
        json_t *inputs =
            json_pack("{s:i, s:i, s:o, s:i, s:i, s:i, s:i, s:i, s:s, s:s}", "items", in.items,
                      "items_resolved", in.items_resolved, "resolve_hours",
                      in.resolve_hours < 0 ? json_null() : json_real(in.resolve_hours),
                      "item_reopens", in.item_reopens, "confirms", in.confirms, "feedback_reopens",
                      in.feedback_reopens, "wishes_done", in.wishes_done, "councils_held",
                      in.councils_held, "from", c->first, "until", c->next);
        char grade[2] = {g.grade, '\0'};
        json_array_append_new(
            c->rows,
            json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "compound", PQgetvalue(res, i, 0),
                      "community", PQgetvalue(res, i, 1), "chain",
                      PQgetisnull(res, i, 2) ? json_null() : json_string(PQgetvalue(res, i, 2)),
                      "total", g.has_total ? json_real(g.total) : json_null(), "grade",
                      g.grade ? json_string(grade) : json_null(), "scores", scores, "inputs",
                      inputs));
        c->compounds++;
        if (g.grade)
            c->counts[g.grade - 'A']++;
    }
}

static const char s_sql_clear_grades[] = "DELETE FROM points.grade WHERE quarter = $1::date";
static const char s_sql_clear_chains[] = "DELETE FROM points.chain_score WHERE quarter = $1::date";
static const char s_sql_store_grades[] =
    "INSERT INTO points.grade (quarter, compound, community, chain, total, grade, scores, inputs,"
    " weights, thresholds, computed_by)"
    " SELECT $1::date, r.compound, r.community, r.chain, r.total, r.grade, r.scores, r.inputs,"
    " $3::jsonb, $4::jsonb, $5"
    " FROM jsonb_to_recordset($2::jsonb) AS r (compound text, community text, chain text,"
    "      total numeric, grade text, scores jsonb, inputs jsonb)";
/* A chain scores the mean total of the compounds it links. */
static const char s_sql_store_chains[] =
    "INSERT INTO points.chain_score (quarter, chain, community, kind, compounds, score,"
    " rank_in_community, rank)"
    " SELECT $1::date, ch.code, ch.community, ch.kind, count(g.total), round(avg(g.total), 1),"
    " rank() OVER (PARTITION BY ch.community ORDER BY round(avg(g.total), 1) DESC NULLS LAST),"
    " rank() OVER (ORDER BY round(avg(g.total), 1) DESC NULLS LAST)"
    " FROM org.chain ch JOIN org.chain_member m ON m.chain = ch.code"
    " LEFT JOIN points.grade g ON g.quarter = $1::date AND g.compound = m.compound"
    " WHERE ch.community IS NOT NULL GROUP BY ch.code, ch.community, ch.kind";
static const char s_sql_publish[] = "SELECT points.publish_grades($1::date)";

static void s_count_rows(void *arg, const PGresult *res)
{
    int *n = arg;
    if (PQntuples(res) == 1)
        *n = atoi(PQgetvalue(res, 0, 0));
    else
        *n = atoi(PQcmdTuples((PGresult *)res));
}

static void s_write_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_compute_t *c = arg;
    if (rc != 0) {
        hl_warn("contest", c->quarter, "could not store the contest: %s", err->message);
        if (c->req)
            hl_req_reply_db(c->req, "contest", "store the contest", err);
    } else {
        hl_metric_add(c->pt->computed, 1);
        hl_info("contest", c->quarter,
                "computed by %s: %d compounds (A %d, B %d, C %d), %d chains, %d grades published",
                c->actor.name, c->compounds, c->counts[0], c->counts[1], c->counts[2], c->chains,
                c->published);
        if (c->req)
            hl_http_reply_json(
                c->req, 200,
                json_pack("{s:s, s:s, s:s, s:i, s:{s:i, s:i, s:i}, s:i, s:i, s:s, s:O, s:O}",
                          "quarter", c->quarter, "from", c->first, "until", c->next, "compounds",
                          c->compounds, "grades", "A", c->counts[0], "B", c->counts[1], "C",
                          c->counts[2], "chains", c->chains, "grades_published", c->published,
                          "computed_by", c->actor.name, "weights", c->weights, "thresholds",
                          c->thresholds));
    }
    s_compute_free(c);
}

static void s_read_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_compute_t *c = arg;
    if (rc != 0) {
        hl_warn("contest", c->quarter, "could not read the contest's inputs: %s", err->message);
        if (c->req)
            hl_req_reply_db(c->req, "contest", "read the contest's inputs", err);
        s_compute_free(c);
        return;
    }
    if (c->req) {
        if (!points_auth_check(c->req, &c->actor, "jury")) {
            s_compute_free(c);
            return;
        }
        if (*c->actor.community) {
            hl_http_reply_error(c->req, 403, "Authorization",
                                "key \"%s\" is a jury key of community %s; computing the "
                                "contest needs a city-wide jury key",
                                c->actor.name, c->actor.community);
            s_compute_free(c);
            return;
        }
        if (c->future) {
            hl_http_reply_error(c->req, 422, "quarter", "quarter %s has not begun", c->quarter);
            s_compute_free(c);
            return;
        }
    }
    char *rows = json_dumps(c->rows, JSON_COMPACT);
    char *weights = json_dumps(c->weights, JSON_COMPACT);
    char *thresholds = json_dumps(c->thresholds, JSON_COMPACT);
    hl_dbu_t *u = hl_dbu_new(c->pt->svc->db, s_write_done, c);
    HL_DBU(u, s_sql_clear_grades, NULL, NULL, c->first);
    HL_DBU(u, s_sql_clear_chains, NULL, NULL, c->first);
    HL_DBU(u, s_sql_store_grades, NULL, NULL, c->first, rows, weights, thresholds, c->actor.name);
    HL_DBU(u, s_sql_store_chains, s_count_rows, &c->chains, c->first);
    HL_DBU(u, s_sql_publish, s_count_rows, &c->published, c->first);
    free(rows);
    free(weights);
    free(thresholds);
    hl_dbu_submit(&u);
}

/* Starts computing quarter `text` (already parsed into first/next). */
static void s_compute_start(s_compute_t *c)
{
    c->rows = json_array();
    c->weights = json_object();
    c->thresholds = json_object();
    c->min_a = 85;
    c->min_b = 70;
    hl_dbu_t *u = hl_dbu_new(c->pt->svc->db, s_read_done, c);
    if (c->req)
        points_auth_add(u, c->key_hash, &c->actor);
    HL_DBU(u, s_sql_future, s_future_rows, c, c->first);
    HL_DBU(u, s_sql_weights, s_weight_rows, c, c->first);
    HL_DBU(u, s_sql_thresholds, s_threshold_rows, c, c->first);
    HL_DBU(u, s_sql_inputs, s_input_rows, c, c->first, c->next);
    hl_dbu_submit(&u);
}

/* The {quarter} of the URL, or a 400 reply. */
static bool s_quarter(hl_http_req_t *req, char quarter[12], char first[11], char next[11])
{
    const char *q = hl_http_param(req, 0);
    if (!points_quarter_parse(q, first, next)) {
        hl_http_reply_error(req, 400, "quarter",
                            "quarter must look like 2026Q4 (a year from 2000 to 2199 and Q1-Q4)");
        return false;
    }
    snprintf(quarter, 12, "%.4sQ%c", first, "1234"[(atoi(first + 5) - 1) / 3 % 4]);
    return true;
}

void points_contest_compute(hl_http_req_t *req, void *arg)
{
    points_t *pt = arg;
    char hash[65];
    s_compute_t *c = hl_calloc(1, sizeof *c);
    c->pt = pt;
    if (!s_quarter(req, c->quarter, c->first, c->next) || !points_auth_hash(req, hash)) {
        free(c);
        return;
    }
    memcpy(c->key_hash, hash, sizeof hash);
    c->req = req;
    hl_http_suspend(req);
    s_compute_start(c);
}

/* ---- the timer: the quarter just ended, once ---------------------------- */

/* The quarter just ended, and whether it needs no computing: done already,
 * or a quarter without a single award (the programme was not running, and
 * grading it would mark every compound C on no evidence). */
static const char s_sql_done_before[] =
    "SELECT to_char(q, 'YYYY-MM-DD'), to_char(q + interval '3 months', 'YYYY-MM-DD'),"
    " EXISTS (SELECT 1 FROM points.grade WHERE quarter = q)"
    " OR NOT EXISTS (SELECT 1 FROM points.ledger"
    "   WHERE awarded_at >= q::timestamp AT TIME ZONE 'Asia/Shanghai'"
    "     AND awarded_at < (q + interval '3 months')::timestamp AT TIME ZONE 'Asia/Shanghai')"
    " FROM (SELECT (date_trunc('quarter', now() AT TIME ZONE 'Asia/Shanghai')"
    "               - interval '3 months')::date AS q) x";

static void s_last_rows(void *arg, const PGresult *res)
{
    s_compute_t *c = arg;
    if (PQntuples(res) != 1)
        return;
    snprintf(c->first, sizeof c->first, "%s", PQgetvalue(res, 0, 0));
    snprintf(c->next, sizeof c->next, "%s", PQgetvalue(res, 0, 1));
    c->future = strcmp(PQgetvalue(res, 0, 2), "t") == 0; /* here: done already */
}

static void s_last_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_compute_t *c = arg;
    if (rc != 0 || !*c->first || c->future) {
        if (rc != 0)
            hl_warn("contest", NULL, "could not look for a quarter to compute: %s", err->message);
        s_compute_free(c);
        return;
    }
    snprintf(c->quarter, sizeof c->quarter, "%.4sQ%c", c->first,
             "1234"[(atoi(c->first + 5) - 1) / 3 % 4]);
    snprintf(c->actor.name, sizeof c->actor.name, "hl-points (quarter ended)");
    s_compute_start(c); /* still busy until it is freed */
}

static void s_tick(uv_timer_t *timer)
{
    points_t *pt = timer->data;
    if (pt->contest_busy || !hl_db_ready(pt->svc->db))
        return;
    s_compute_t *c = hl_calloc(1, sizeof *c);
    c->pt = pt;
    pt->contest_busy = true;
    hl_dbu_t *u = hl_dbu_new(pt->svc->db, s_last_done, c);
    hl_dbu_stmt(u, s_sql_done_before, 0, NULL, NULL, NULL, false, s_last_rows, c);
    hl_dbu_submit(&u);
}

void points_contest_start(points_t *pt)
{
    uv_timer_init(pt->svc->loop, &pt->contest_timer);
    pt->contest_timer.data = pt;
    if (pt->cfg->contest_scan_ms > 0)
        uv_timer_start(&pt->contest_timer, s_tick, 5000, (uint64_t)pt->cfg->contest_scan_ms);
}

void points_contest_stop(points_t *pt)
{
    uv_timer_stop(&pt->contest_timer);
    uv_close((uv_handle_t *)&pt->contest_timer, NULL);
}

/* ---- POST /v1/contests/{quarter}/scores --------------------------------- */

typedef struct {
    points_t *pt;          /* service */
    hl_http_req_t *req;    /* suspended request */
    json_t *body;          /* owned */
    char first[11];        /* the quarter's first day */
    char next[11];         /* unused */
    char quarter[12];      /* label */
    char key_hash[65];     /* the caller's key */
    points_actor_t actor;  /* read */
    const char *compound;  /* into body */
    const char *criterion; /* into body */
    const char *note;      /* into body, or NULL */
    double score_value;    /* as given */
    char score[16];        /* as text */
    char community[40];    /* read: the compound's community, "" when not a compound */
    char id[24];           /* written: the row id */
} s_score_t;

static const char *const s_criteria[] = {"party_building", "sanitation", "petitions_stability",
                                         "satisfaction", NULL};
static const hl_req_field_t s_score_spec[] = {{.name = "compound",
                                               .type = HL_REQ_TEXT,
                                               .flags = HL_REQ_REQUIRED,
                                               .max = POINTS_UNIT_MAX,
                                               HL_REQ_AT(s_score_t, compound)},
                                              {.name = "criterion",
                                               .type = HL_REQ_TEXT,
                                               .flags = HL_REQ_REQUIRED,
                                               .max = 32,
                                               .allowed = s_criteria,
                                               HL_REQ_AT(s_score_t, criterion)},
                                              {.name = "score",
                                               .type = HL_REQ_NUMBER,
                                               .flags = HL_REQ_REQUIRED,
                                               .min = 0,
                                               .max = 100,
                                               HL_REQ_AT(s_score_t, score_value)},
                                              {.name = "note",
                                               .type = HL_REQ_TEXT,
                                               .flags = HL_REQ_MULTILINE,
                                               .max = 500,
                                               HL_REQ_AT(s_score_t, note)},
                                              {0}};

static void s_score_free(s_score_t *s)
{
    json_decref(s->body);
    free(s);
}

static const char s_sql_compound[] =
    "SELECT parent FROM org.org_unit WHERE code = $1 AND level = 'compound'";
static const char s_sql_insert_score[] =
    "INSERT INTO points.manual_score (quarter, compound, criterion, score, note, recorded_by)"
    " VALUES ($1::date, $2, $3, $4::numeric, $5, $6) RETURNING id";

static void s_compound_rows(void *arg, const PGresult *res)
{
    s_score_t *s = arg;
    if (PQntuples(res) == 1)
        snprintf(s->community, sizeof s->community, "%s", PQgetvalue(res, 0, 0));
}

static void s_id_rows(void *arg, const PGresult *res)
{
    s_score_t *s = arg;
    if (PQntuples(res) == 1)
        snprintf(s->id, sizeof s->id, "%s", PQgetvalue(res, 0, 0));
}

static void s_score_written(void *arg, int rc, const hl_dberr_t *err)
{
    s_score_t *s = arg;
    if (rc != 0) {
        hl_req_reply_db(s->req, "contest", "record the score", err);
    } else {
        hl_info("contest", s->quarter, "%s scored %s on %s: %s", s->actor.name, s->compound,
                s->criterion, s->score);
        json_t *body =
            json_pack("{s:s, s:s, s:s, s:f, s:s, s:s}", "id", s->id, "quarter", s->quarter,
                      "compound", s->compound, "score", strtod(s->score, NULL), "criterion",
                      s->criterion, "recorded_by", s->actor.name);
        json_object_set_new(body, "note", s->note ? json_string(s->note) : json_null());
        hl_http_reply_json(s->req, 201, body);
    }
    s_score_free(s);
}

static void s_score_read(void *arg, int rc, const hl_dberr_t *err)
{
    s_score_t *s = arg;
    if (rc != 0) {
        hl_req_reply_db(s->req, "contest", "check the score", err);
    } else if (!points_auth_check(s->req, &s->actor, "jury")) {
        /* replied */
    } else if (!*s->community) {
        hl_http_reply_error(s->req, 422, "compound", "%s is not a compound", s->compound);
    } else if (*s->actor.community && strcmp(s->actor.community, s->community) != 0) {
        hl_http_reply_error(s->req, 403, "compound",
                            "key \"%s\" scores compounds of community %s only; %s is in %s",
                            s->actor.name, s->actor.community, s->compound, s->community);
    } else {
        hl_dbu_t *u = hl_dbu_new(s->pt->svc->db, s_score_written, s);
        HL_DBU(u, s_sql_insert_score, s_id_rows, s, s->first, s->compound, s->criterion, s->score,
               s->note, s->actor.name);
        hl_dbu_submit(&u);
        return;
    }
    s_score_free(s);
}

void points_contest_score(hl_http_req_t *req, void *arg)
{
    points_t *pt = arg;
    s_score_t *s = hl_calloc(1, sizeof *s);
    s->pt = pt;
    s->req = req;
    char hash[65];
    if (!s_quarter(req, s->quarter, s->first, s->next) || !points_auth_hash(req, hash) ||
        !(s->body = hl_req_body(req, s_score_spec, s))) {
        s_score_free(s);
        return;
    }
    memcpy(s->key_hash, hash, sizeof hash);
    snprintf(s->score, sizeof s->score, "%.1f", s->score_value);
    hl_http_suspend(req);
    hl_dbu_t *u = hl_dbu_new(pt->svc->db, s_score_read, s);
    points_auth_add(u, s->key_hash, &s->actor);
    HL_DBU(u, s_sql_compound, s_compound_rows, s, s->compound);
    hl_dbu_submit(&u);
}

/* ---- the reads ---------------------------------------------------------- */

typedef struct {
    hl_http_req_t *req; /* suspended request */
    char what[80];      /* for the 404 */
    char *json;         /* the answer, owned */
} s_get_t;

static void s_json_rows(void *arg, const PGresult *res)
{
    s_get_t *g = arg;
    if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
        g->json = hl_strdup(PQgetvalue(res, 0, 0));
}

static void s_get_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_get_t *g = arg;
    json_t *body = g->json ? json_loads(g->json, 0, NULL) : NULL;
    if (rc != 0)
        hl_req_reply_db(g->req, "contest", "read the contest", err);
    else if (!body)
        hl_http_reply_error(g->req, 404, "quarter", "%s", g->what);
    else
        hl_http_reply_json(g->req, 200, json_incref(body));
    json_decref(body);
    free(g->json);
    free(g);
}

static void s_get(points_t *pt, hl_http_req_t *req, const char *sql, const char *what,
                  const char *const *params, int n)
{
    s_get_t *g = hl_calloc(1, sizeof *g);
    g->req = req;
    snprintf(g->what, sizeof g->what, "%s", what);
    hl_http_suspend(req);
    hl_dbu_t *u = hl_dbu_new(pt->svc->db, s_get_done, g);
    hl_dbu_stmt(u, sql, n, params, NULL, NULL, false, s_json_rows, g);
    hl_dbu_submit(&u);
}

static const char s_sql_contest[] =
    "SELECT json_build_object('quarter', $2::text, 'community', $3::text,"
    " 'chains', json_agg(json_build_object('chain', s.chain, 'name', ch.name, 'community',"
    "   s.community, 'kind', s.kind, 'compounds', s.compounds, 'score', s.score,"
    "   'rank_in_community', s.rank_in_community, 'rank', s.rank)"
    "   ORDER BY s.community, s.rank_in_community, s.chain))::text"
    " FROM points.chain_score s LEFT JOIN org.chain ch ON ch.code = s.chain"
    " WHERE s.quarter = $1::date AND ($3::text IS NULL OR s.community = $3)"
    " HAVING count(*) > 0";

/* The query strings of the contest and grade listings. */
typedef struct {
    const char *community; /* or NULL: the city */
    const char *grade;     /* A, B, C or NULL: all */
} s_list_query_t;

static const char *const s_grades[] = {"A", "B", "C", NULL};
static const hl_req_field_t s_contest_spec[] = {{.name = "community",
                                                 .type = HL_REQ_TEXT,
                                                 .max = POINTS_UNIT_MAX,
                                                 HL_REQ_AT(s_list_query_t, community)},
                                                {0}};
static const hl_req_field_t s_grades_spec[] = {{.name = "community",
                                                .type = HL_REQ_TEXT,
                                                .max = POINTS_UNIT_MAX,
                                                HL_REQ_AT(s_list_query_t, community)},
                                               {.name = "grade",
                                                .type = HL_REQ_TEXT,
                                                .max = 1,
                                                .allowed = s_grades,
                                                HL_REQ_AT(s_list_query_t, grade)},
                                               {0}};

void points_contest_get(hl_http_req_t *req, void *arg)
{
    char quarter[12], first[11], next[11];
    s_list_query_t q = {0};
    if (!s_quarter(req, quarter, first, next) || !hl_req_query(req, s_contest_spec, &q))
        return;
    const char *community = q.community;
    const char *params[] = {first, quarter, community};
    char what[80];
    snprintf(what, sizeof what, "the contest of %s was not computed%s", quarter,
             community ? " (or has no chain of that community)" : "");
    s_get(arg, req, s_sql_contest, what, params, 3);
}

static const char s_sql_grades[] =
    "SELECT json_build_object('quarter', $2::text, 'community', $3::text,"
    " 'counts', json_build_object('A', count(*) FILTER (WHERE g.grade = 'A'),"
    "   'B', count(*) FILTER (WHERE g.grade = 'B'), 'C', count(*) FILTER (WHERE g.grade = 'C'),"
    "   'ungraded', count(*) FILTER (WHERE g.grade IS NULL)),"
    " 'grades', json_agg(json_build_object('compound', g.compound, 'name', u.name,"
    "   'community', g.community, 'chain', g.chain, 'total', g.total, 'grade', g.grade)"
    "   ORDER BY g.total DESC NULLS LAST, g.compound),"
    " 'computed_at', max(g.computed_at))::text"
    " FROM points.grade g JOIN org.org_unit u ON u.code = g.compound"
    " WHERE g.quarter = $1::date AND ($3::text IS NULL OR g.community = $3)"
    "   AND ($4::text IS NULL OR g.grade = $4)"
    " HAVING count(*) > 0";

void points_grades_list(hl_http_req_t *req, void *arg)
{
    char quarter[12], first[11], next[11];
    s_list_query_t q = {0};
    if (!s_quarter(req, quarter, first, next) || !hl_req_query(req, s_grades_spec, &q))
        return;
    const char *params[] = {first, quarter, q.community, q.grade};
    char what[80];
    snprintf(what, sizeof what, "no grades of %s match (computed: POST .../compute)", quarter);
    s_get(arg, req, s_sql_grades, what, params, 4);
}

static const char s_sql_grade[] =
    "SELECT json_build_object('quarter', $2::text, 'compound', g.compound, 'name', u.name,"
    " 'community', g.community, 'chain', g.chain, 'total', g.total, 'grade', g.grade,"
    " 'scores', g.scores, 'inputs', g.inputs, 'weights', g.weights,"
    " 'thresholds', g.thresholds, 'computed_at', g.computed_at,"
    " 'computed_by', g.computed_by)::text"
    " FROM points.grade g JOIN org.org_unit u ON u.code = g.compound"
    " WHERE g.quarter = $1::date AND g.compound = $3";

void points_grade_get(hl_http_req_t *req, void *arg)
{
    char quarter[12], first[11], next[11];
    if (!s_quarter(req, quarter, first, next))
        return;
    const char *compound = hl_http_param(req, 1);
    char why[128];
    if (!hl_text_check("compound", compound, POINTS_UNIT_MAX, true, false, why, sizeof why)) {
        hl_http_reply_error(req, 400, "compound", "%s", why);
        return;
    }
    const char *params[] = {first, quarter, compound};
    char what[80];
    snprintf(what, sizeof what, "no grade of %.32s for %s", compound, quarter);
    s_get(arg, req, s_sql_grade, what, params, 3);
}
