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

static json_t *s_text(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? json_null() : json_string(PQgetvalue(res, row, col));
}

static json_t *s_int(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? json_null()
                                      : json_integer(strtoll(PQgetvalue(res, row, col), NULL, 10));
}

/* Replies with r->body (r->list under `key`) or 503, and frees r. */
static void s_finish(s_read_t *r, int rc, const hl_dberr_t *err, const char *key)
{
    if (rc != 0) {
        hl_http_add_header(r->req, "Retry-After", "1");
        hl_http_reply_error(r->req, 503, NULL, "could not read points now: %s", err->message);
        json_decref(r->body);
        json_decref(r->list);
    } else {
        json_object_set_new(r->body, key, r->list);
        hl_http_reply_json(r->req, 200, r->body);
    }
    free(r);
}

/* ---- GET /v1/balances/{account} ---------------------------------------- */

static const char s_sql_balance[] = "SELECT balance, awards FROM points.balance WHERE account = $1";
static const char s_sql_awards[] =
    "SELECT award_id::text, amount, reason, source_kind, source_id, org_unit,"
    " to_json(awarded_at)#>>'{}'"
    " FROM points.ledger WHERE account = $1 ORDER BY awarded_at DESC, award_id LIMIT 50";

static void s_balance_rows(void *arg, const PGresult *res)
{
    s_read_t *r = arg;
    if (PQntuples(res) != 1)
        return;
    json_object_set_new(r->body, "balance", s_int(res, 0, 0));
    json_object_set_new(r->body, "award_count", s_int(res, 0, 1));
}

static void s_awards_rows(void *arg, const PGresult *res)
{
    s_read_t *r = arg;
    static const char *const names[] = {"award_id",  "amount",   "reason",    "source_kind",
                                        "source_id", "org_unit", "awarded_at"};
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *o = json_object();
        for (int c = 0; c < 7; c++)
            json_object_set_new(o, names[c], c == 1 ? s_int(res, i, c) : s_text(res, i, c));
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

/* Equal balances share a rank (1, 2, 2, 4); ties list in code order. */
static const char s_sql_leaders[] =
    "SELECT account, balance, rank() OVER (ORDER BY balance DESC), awards"
    " FROM points.balance ORDER BY balance DESC, account LIMIT $1::int";
static const char s_sql_unit_leaders[] =
    "SELECT b.org_unit, b.balance, rank() OVER (ORDER BY b.balance DESC), b.awards,"
    " u.name, u.level"
    " FROM points.org_unit_balance b JOIN org.org_unit u ON u.code = b.org_unit"
    " ORDER BY b.balance DESC, b.org_unit LIMIT $1::int";

static void s_leader_rows(void *arg, const PGresult *res)
{
    s_read_t *r = arg;
    bool units = PQnfields(res) > 4;
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *o = json_object();
        json_object_set_new(o, "account", s_text(res, i, 0));
        json_object_set_new(o, "balance", s_int(res, i, 1));
        json_object_set_new(o, "rank", s_int(res, i, 2));
        json_object_set_new(o, "awards", s_int(res, i, 3));
        if (units) {
            json_object_set_new(o, "org_unit", s_text(res, i, 0));
            json_object_set_new(o, "name", s_text(res, i, 4));
            json_object_set_new(o, "level", s_text(res, i, 5));
        }
        json_array_append_new(r->list, o);
    }
}

static void s_leaders_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_finish(arg, rc, err, "leaders");
}

void points_leaderboard_get(hl_http_req_t *req, void *arg)
{
    points_t *pt = arg;
    long limit;
    if (!hl_parse_long(hl_http_query(req, "limit"), 10, 1, 100, &limit)) {
        hl_http_reply_error(req, 400, "limit", "limit must be a whole number from 1 to 100");
        return;
    }
    const char *kind = hl_http_query(req, "kind");
    if (!kind)
        kind = "all";
    bool units = strcmp(kind, "org_unit") == 0;
    if (!units && strcmp(kind, "all") != 0) {
        hl_http_reply_error(req, 400, "kind", "kind must be all (accounts) or org_unit");
        return;
    }
    char limit_text[16];
    snprintf(limit_text, sizeof limit_text, "%ld", limit);
    s_read_t *r = s_read_new(req);
    json_object_set_new(r->body, "kind", json_string(kind));
    hl_dbu_t *u = hl_dbu_new(pt->svc->db, s_leaders_done, r);
    HL_DBU(u, units ? s_sql_unit_leaders : s_sql_leaders, s_leader_rows, r, limit_text);
    hl_dbu_submit(&u);
}
