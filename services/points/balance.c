/* balance.c: the read side of hl-points — an account's balance with its
 * latest awards, and the leaderboards by account or by credited org unit.
 * Read straight from points.balance / points.org_unit_balance, which the
 * "points" consumer (award.c) keeps in step with the ledger. Having no
 * points is not an error: an account never awarded shows balance 0. */
#include "points.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    hl_http_req_t *req; /* suspended request */
    json_t *body;       /* the answer being built */
    json_t *list;       /* its array */
} s_read_t;

static s_read_t *s_read_new(hl_http_req_t *req)
{
    s_read_t *r = hl_calloc(1, sizeof *r);
    r->req = req;
    r->body = json_object();
    r->list = json_array();
    hl_http_suspend(req);
    return r;
}

/* Replies with r->body (r->list under `key`) or 503, and frees r. */
static void s_finish(s_read_t *r, int rc, const hl_dberr_t *err, const char *key)
{
    if (rc != 0) {
        hl_req_reply_db(r->req, "points", "read points", err);
        json_decref(r->body);
        json_decref(r->list);
    } else {
        json_object_set_new(r->body, key, r->list);
        hl_http_reply_json(r->req, 200, r->body);
    }
    free(r);
}

/* ---- GET /v1/balances/{account} ---------------------------------------- */

static const char s_sql_balance[] =
    "SELECT b.balance, b.awards, a.kind, a.community FROM points.balance b"
    " JOIN points.account a ON a.code = b.account WHERE b.account = $1";
static const char s_sql_awards[] =
    "SELECT award_id::text, amount, reason, source_kind, source_id, org_unit,"
    " to_json(awarded_at)#>>'{}', rule_id, rule_version, basis, reviewer, community, budget"
    " FROM points.ledger WHERE account = $1 OR budget = $1"
    " ORDER BY awarded_at DESC, award_id LIMIT 50";

static void s_balance_rows(void *arg, const PGresult *res)
{
    s_read_t *r = arg;
    if (PQntuples(res) != 1)
        return;
    json_object_set_new(r->body, "balance", hl_req_col_int(res, 0, 0));
    json_object_set_new(r->body, "award_count", hl_req_col_int(res, 0, 1));
    json_object_set_new(r->body, "account_kind", hl_req_col_text(res, 0, 2));
    json_object_set_new(r->body, "community", hl_req_col_text(res, 0, 3));
}

static void s_awards_rows(void *arg, const PGresult *res)
{
    s_read_t *r = arg;
    static const char *const names[] = {
        "award_id", "amount",       "reason", "source_kind", "source_id", "org_unit", "awarded_at",
        "rule_id",  "rule_version", "basis",  "reviewer",    "community", "budget"};
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *o = json_object();
        for (int c = 0; c < (int)(sizeof names / sizeof names[0]); c++)
            json_object_set_new(o, names[c],
                                c == 1 || c == 8 ? hl_req_col_int(res, i, c)
                                                 : hl_req_col_text(res, i, c));
        json_array_append_new(r->list, o);
    }
}

static void s_balance_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_finish(arg, rc, err, "awards");
}

void points_balance_get(hl_http_req_t *req, void *arg)
{
    points_t *pt = arg;
    const char *account = hl_http_param(req, 0);
    char why[128];
    if (!points_account_check(account, why, sizeof why)) {
        hl_http_reply_error(req, 400, "account", "%s", why);
        return;
    }
    s_read_t *r = s_read_new(req);
    json_object_set_new(r->body, "account", json_string(account));
    json_object_set_new(r->body, "balance", json_integer(0));
    json_object_set_new(r->body, "award_count", json_integer(0));
    json_object_set_new(r->body, "account_kind", json_null());
    json_object_set_new(r->body, "community", json_null());
    hl_dbu_t *u = hl_dbu_new(pt->svc->db, s_balance_done, r);
    HL_DBU(u, s_sql_balance, s_balance_rows, r, account);
    HL_DBU(u, s_sql_awards, s_awards_rows, r, account);
    hl_dbu_submit(&u);
}

/* GET /v1/balances/ (no account at all): a malformed request, not a route miss. */
void points_balance_missing(hl_http_req_t *req, void *arg)
{
    (void)arg;
    hl_http_reply_error(req, 400, "account", "account is empty: use /v1/balances/{account}");
}

/* ---- GET /v1/leaderboard ------------------------------------------------ */

/* Equal totals share a rank (1, 2, 2, 4); ties list in code order. Budget
 * accounts (the payers) never rank. $1/$2 bound the period (dates in
 * Beijing time, NULL: all time), $3 the community, $4 the account kind. */
static const char s_sql_leaders[] =
    "SELECT l.account, sum(l.amount)::bigint AS total, rank() OVER (ORDER BY sum(l.amount) DESC),"
    " count(*), a.kind, a.community"
    " FROM points.ledger l JOIN points.account a ON a.code = l.account"
    " WHERE ($1::date IS NULL OR l.awarded_at >= $1::timestamp AT TIME ZONE 'Asia/Shanghai')"
    "   AND ($2::date IS NULL OR l.awarded_at < $2::timestamp AT TIME ZONE 'Asia/Shanghai')"
    "   AND ($3::text IS NULL OR l.community = $3) AND ($4::text IS NULL OR a.kind = $4)"
    " GROUP BY l.account, a.kind, a.community"
    " ORDER BY total DESC, l.account LIMIT $5::int";
static const char s_sql_unit_leaders[] =
    "SELECT l.org_unit, sum(l.amount)::bigint AS total, rank() OVER (ORDER BY sum(l.amount) DESC),"
    " count(*), u.name, u.level"
    " FROM points.ledger l JOIN org.org_unit u ON u.code = l.org_unit"
    " WHERE ($1::date IS NULL OR l.awarded_at >= $1::timestamp AT TIME ZONE 'Asia/Shanghai')"
    "   AND ($2::date IS NULL OR l.awarded_at < $2::timestamp AT TIME ZONE 'Asia/Shanghai')"
    "   AND ($3::text IS NULL OR l.community = $3) AND $4::text IS NULL"
    " GROUP BY l.org_unit, u.name, u.level"
    " ORDER BY total DESC, l.org_unit LIMIT $5::int";
static const char s_sql_community_ok[] =
    "SELECT count(*) FROM org.org_unit WHERE code = $1 AND level = 'community'";

typedef struct {
    s_read_t *r;       /* the answer */
    bool community_ok; /* the community filter names a community */
} s_leaders_t;

static void s_leader_rows(void *arg, const PGresult *res)
{
    s_read_t *r = arg;
    bool units = strcmp(PQfname(res, 4), "name") == 0;
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *o = json_object();
        json_object_set_new(o, units ? "org_unit" : "account", hl_req_col_text(res, i, 0));
        json_object_set_new(o, "points", hl_req_col_int(res, i, 1));
        json_object_set_new(o, "rank", hl_req_col_int(res, i, 2));
        json_object_set_new(o, "awards", hl_req_col_int(res, i, 3));
        json_object_set_new(o, units ? "name" : "account_kind", hl_req_col_text(res, i, 4));
        json_object_set_new(o, units ? "level" : "community", hl_req_col_text(res, i, 5));
        json_array_append_new(r->list, o);
    }
}

static void s_community_rows(void *arg, const PGresult *res)
{
    s_leaders_t *l = arg;
    l->community_ok = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "1") == 0;
}

static void s_leaders_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_leaders_t *l = arg;
    s_read_t *r = l->r;
    if (rc == 0 && !l->community_ok) {
        hl_http_reply_error(r->req, 404, "community", "%s is not a community",
                            json_string_value(json_object_get(r->body, "community")));
        json_decref(r->body);
        json_decref(r->list);
        free(r);
    } else {
        s_finish(r, rc, err, "leaders");
    }
    free(l);
}

static const char *const s_kinds[] = {"all",          "org_unit",  "grid_org",
                                      "party_member", "volunteer", "member_unit",
                                      "compound",     "chain",     NULL};
static const char *const s_periods[] = {"all", "month", "quarter", NULL};

/* The query string of GET /v1/leaderboard. */
typedef struct {
    int64_t limit;         /* 1..100, default 10 */
    const char *kind;      /* all, org_unit or an account kind */
    const char *period;    /* all, month, quarter */
    const char *at;        /* the month or quarter, or NULL: the current one */
    const char *community; /* or NULL: the city */
} s_board_query_t;

static const hl_req_field_t s_board_spec[] = {
    {.name = "limit", .type = HL_REQ_INT, .min = 1, .max = 100, HL_REQ_AT(s_board_query_t, limit)},
    {.name = "kind",
     .type = HL_REQ_TEXT,
     .max = 16,
     .allowed = s_kinds,
     .hint = "must be all, org_unit (credited org units) or an account kind: grid_org, "
             "party_member, volunteer, member_unit, compound, chain",
     HL_REQ_AT(s_board_query_t, kind)},
    {.name = "period",
     .type = HL_REQ_TEXT,
     .max = 8,
     .allowed = s_periods,
     HL_REQ_AT(s_board_query_t, period)},
    {.name = "at", .type = HL_REQ_TEXT, .max = 8, HL_REQ_AT(s_board_query_t, at)},
    {.name = "community",
     .type = HL_REQ_TEXT,
     .max = POINTS_UNIT_MAX,
     HL_REQ_AT(s_board_query_t, community)},
    {0}};

void points_leaderboard_get(hl_http_req_t *req, void *arg)
{
    points_t *pt = arg;
    s_board_query_t q = {.limit = 10, .kind = "all", .period = "all"};
    if (!hl_req_query(req, s_board_spec, &q))
        return;
    const char *kind = q.kind;
    const char *community = q.community;
    bool units = strcmp(kind, "org_unit") == 0;
    char first[11], next[11], label[12];
    if (!points_period_parse(q.period, q.at, hl_time_us(), first, next, label)) {
        hl_http_reply_error(req, 400, "at",
                            "at must be a month like 2026-12 (period=month) or a quarter like "
                            "2026Q4 (period=quarter), and is not taken with period=all");
        return;
    }
    long limit = (long)q.limit;
    char limit_text[16];
    snprintf(limit_text, sizeof limit_text, "%ld", limit);
    s_leaders_t *l = hl_calloc(1, sizeof *l);
    l->r = s_read_new(req);
    l->community_ok = !community;
    json_object_set_new(l->r->body, "kind", json_string(kind));
    json_object_set_new(l->r->body, "period", json_string(label));
    json_object_set_new(l->r->body, "from", *first ? json_string(first) : json_null());
    json_object_set_new(l->r->body, "until", *next ? json_string(next) : json_null());
    json_object_set_new(l->r->body, "community", community ? json_string(community) : json_null());
    hl_dbu_t *u = hl_dbu_new(pt->svc->db, s_leaders_done, l);
    if (community)
        HL_DBU(u, s_sql_community_ok, s_community_rows, l, community);
    HL_DBU(u, units ? s_sql_unit_leaders : s_sql_leaders, s_leader_rows, l->r,
           *first ? first : NULL, *next ? next : NULL, community,
           units || strcmp(kind, "all") == 0 ? NULL : kind, limit_text);
    hl_dbu_submit(&u);
}
