/* member.c: GET /v1/member-units — the alliance's member units (agencies,
 * enterprises, social organisations) with their function domains,
 * optionally only those acting in one domain: the units a large item can
 * be offered to. Read straight from org.member_unit (reference data). */
#include "alliance.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char s_sql_domain[] = "SELECT 1 FROM org.function_domain WHERE code = $1";
static const char s_sql_units[] =
    "SELECT code, name, kind, to_json(domains)::text, community FROM org.member_unit"
    " WHERE $1::text IS NULL OR $1::text = ANY (domains) ORDER BY code LIMIT $2::int";

typedef struct {
    hl_http_req_t *req; /* suspended request */
    json_t *units;      /* the answer's list */
    char *domain;       /* asked for, owned, or NULL */
    bool domain_known;  /* the domain exists */
} s_list_t;

static void s_domain_rows(void *arg, const PGresult *res)
{
    s_list_t *l = arg;
    l->domain_known = PQntuples(res) == 1;
}

static void s_unit_rows(void *arg, const PGresult *res)
{
    s_list_t *l = arg;
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *domains = json_loads(PQgetvalue(res, i, 3), 0, NULL);
        json_t *o = json_pack("{s:s, s:s, s:s, s:o}", "code", PQgetvalue(res, i, 0), "name",
                              PQgetvalue(res, i, 1), "kind", PQgetvalue(res, i, 2), "domains",
                              domains ? domains : json_array());
        json_object_set_new(o, "community",
                            PQgetisnull(res, i, 4) ? json_null()
                                                   : json_string(PQgetvalue(res, i, 4)));
        json_array_append_new(l->units, o);
    }
}

static void s_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_list_t *l = arg;
    if (rc != 0) {
        hl_http_add_header(l->req, "Retry-After", "1");
        hl_http_reply_error(l->req, 503, NULL, "could not read member units now: %s", err->message);
    } else if (l->domain && !l->domain_known) {
        hl_http_reply_error(l->req, 400, "domain", "unknown function domain \"%s\"", l->domain);
    } else {
        hl_http_reply_json(l->req, 200, json_pack("{s:O}", "units", l->units));
    }
    json_decref(l->units);
    free(l->domain);
    free(l);
}

typedef struct {
    const char *domain; /* or NULL */
    int64_t limit;      /* 1..500 */
} s_query_t;

static const char *s_domain_check(const char *s)
{
    return alliance_domain_wellformed(s) ? NULL
                                         : "must be a function domain code (e.g. "
                                           "city_management)";
}

static const hl_req_field_t s_query[] = {
    {.name = "domain",
     .type = HL_REQ_TEXT,
     .max = 64,
     .check = s_domain_check,
     HL_REQ_AT(s_query_t, domain)},
    {.name = "limit", .type = HL_REQ_INT, .min = 1, .max = 500, HL_REQ_AT(s_query_t, limit)},
    {0}};

void alliance_member_units_get(hl_http_req_t *req, void *arg)
{
    alliance_t *al = arg;
    s_query_t q = {.limit = 100};
    if (!hl_req_query(req, s_query, &q))
        return;
    const char *domain = q.domain;
    long limit = (long)q.limit;
    s_list_t *l = hl_calloc(1, sizeof *l);
    l->req = req;
    l->units = json_array();
    l->domain = domain ? hl_strdup(domain) : NULL;
    hl_http_suspend(req);
    char limit_text[16];
    snprintf(limit_text, sizeof limit_text, "%ld", limit);
    hl_dbu_t *u = hl_dbu_new(al->svc->db, s_done, l);
    if (domain)
        HL_DBU(u, s_sql_domain, s_domain_rows, l, domain);
    HL_DBU(u, s_sql_units, s_unit_rows, l, domain, limit_text);
    hl_dbu_submit(&u);
}
