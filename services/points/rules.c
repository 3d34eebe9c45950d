/* rules.c: points rules as versioned data (points.rule). Which version pays
 * an event is decided here, by a pure function (tests/unit/
 * test_points_rules.c): the event's time picks the version, not the time
 * the message arrives, so a re-sent award is paid as it would have been.
 * Also GET /v1/rules, the rules and their versions. */
#include "points.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_or_empty(const char *s)
{
    return s ? s : "";
}

int points_rule_pick(const points_rule_t *rules, size_t n, const char *kind, const char *basis,
                     int64_t at_us, bool fixed, char *why, size_t len)
{
    assert(rules || n == 0);
    const char *want_kind = fixed ? "fixed" : s_or_empty(kind);
    const char *want_basis = fixed ? "" : s_or_empty(basis);
    int best = -1;
    bool any = false; /* a version of the rule exists at all */
    for (size_t i = 0; i < n; i++) {
        const points_rule_t *r = &rules[i];
        if (strcmp(r->kind, want_kind) != 0 || strcmp(r->basis, want_basis) != 0)
            continue;
        any = true;
        if (r->valid_from_us > at_us)
            continue;
        if (best < 0 || r->valid_from_us > rules[best].valid_from_us ||
            (r->valid_from_us == rules[best].valid_from_us && r->version > rules[best].version))
            best = (int)i;
    }
    if (best >= 0 && rules[best].active)
        return best;
    char what[96];
    if (*want_basis)
        snprintf(what, sizeof what, "source_kind \"%.32s\" with basis \"%.32s\"", want_kind,
                 want_basis);
    else
        snprintf(what, sizeof what, "source_kind \"%.32s\" without a basis", want_kind);
    if (!any)
        snprintf(why, len, "no points rule for %s", what);
    else if (best < 0)
        snprintf(why, len, "no points rule for %s was in force at the event's time", what);
    else
        snprintf(why, len, "the points rule %s for %s was retired (version %d)", rules[best].id,
                 what, rules[best].version);
    return -1;
}

bool points_account_kind_valid(const char *kind)
{
    static const char *const kinds[] = {"grid_org",    "party_member", "volunteer",
                                        "member_unit", "compound",     "chain"};
    for (size_t i = 0; kind && i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kind, kinds[i]) == 0)
            return true;
    return false;
}

/* ---- GET /v1/rules ------------------------------------------------------ */

static const char s_sql_rules[] =
    "SELECT json_agg(json_build_object('id', id, 'version', version, 'source_kind', source_kind,"
    " 'basis', basis, 'amount', amount, 'active', active, 'valid_from', valid_from,"
    " 'note', note) ORDER BY id, version)::text FROM points.rule";

typedef struct {
    hl_http_req_t *req; /* suspended request */
    json_t *rules;      /* the array read */
} s_rules_read_t;

static void s_rules_rows(void *arg, const PGresult *res)
{
    s_rules_read_t *r = arg;
    if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
        r->rules = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
}

static void s_rules_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_rules_read_t *r = arg;
    if (rc != 0) {
        hl_req_reply_db(r->req, "rule", "read the rules", err);
        json_decref(r->rules);
    } else {
        hl_http_reply_json(r->req, 200,
                           json_pack("{s:o}", "rules", r->rules ? r->rules : json_array()));
    }
    free(r);
}

void points_rules_get(hl_http_req_t *req, void *arg)
{
    points_t *pt = arg;
    s_rules_read_t *r = hl_calloc(1, sizeof *r);
    r->req = req;
    hl_http_suspend(req);
    hl_dbu_t *u = hl_dbu_new(pt->svc->db, s_rules_done, r);
    hl_dbu_stmt(u, s_sql_rules, 0, NULL, NULL, NULL, false, s_rules_rows, r);
    hl_dbu_submit(&u);
}
