/* pairing.c: pairing (双联) and what member units give — member units
 * paired with communities for a period (GET/POST /v1/pairings), in-service
 * party members registering with the community they live in (GET/POST
 * /v1/party-members), and a unit's contributions per quarter (GET
 * /v1/member-units/{code}/contributions: items taken, resolved, hours).
 * Unknown units or communities are 422 naming the field; an overlapping
 * pairing is 409. Answers are built in SQL (reply.c). */
#include "alliance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char s_sql_pairings[] =
    "SELECT json_build_object('pairings', coalesce(json_agg(json_build_object('id', p.id, 'unit',"
    " p.unit, 'unit_name', u.name, 'unit_kind', u.kind, 'community', p.community,"
    " 'community_name', c.name, 'starts_on', p.starts_on, 'ends_on', p.ends_on, 'active',"
    " p.starts_on <= current_date AND (p.ends_on IS NULL OR p.ends_on >= current_date), 'note',"
    " p.note) ORDER BY p.community, p.unit, p.starts_on), '[]'))::text"
    " FROM alliance.pairing p JOIN org.member_unit u ON u.code = p.unit"
    " JOIN org.org_unit c ON c.code = p.community"
    " WHERE ($1::text IS NULL OR p.community = $1) AND ($2::text IS NULL OR p.unit = $2)"
    " AND (NOT $3::boolean OR (p.starts_on <= current_date AND (p.ends_on IS NULL OR"
    " p.ends_on >= current_date)))";

static bool s_code_query(hl_http_req_t *req, const char *key, const char **out)
{
    *out = hl_http_query(req, key);
    if (*out && !alliance_code_wellformed(*out)) {
        hl_http_reply_error(req, 422, key, "unknown %s (codes look like %s)", key,
                            strcmp(key, "unit") == 0 ? "mu001" : "cm01");
        return false;
    }
    return true;
}

void alliance_pairings_get(hl_http_req_t *req, void *arg)
{
    const char *community, *unit, *active = hl_http_query(req, "active");
    if (!s_code_query(req, "community", &community) || !s_code_query(req, "unit", &unit))
        return;
    if (active && strcmp(active, "true") != 0 && strcmp(active, "false") != 0) {
        hl_http_reply_error(req, 422, "active", "active must be true or false");
        return;
    }
    const char *p[] = {community, unit, active && strcmp(active, "true") == 0 ? "true" : "false"};
    alliance_get_json(arg, req, s_sql_pairings, 3, p, NULL, "read the pairings");
}

static const char s_sql_pair[] = "SELECT alliance.pair($1, $2, $3::date, $4::date, $5)::text";

/* Reads a date field; false (422 sent) when malformed. */
static bool s_date_field(json_t *body, const char *key, bool required, const char **out,
                         const char **field, char *msg, size_t len)
{
    if (!alliance_json_string(body, key, 10, required, false, out, field, msg, len))
        return false;
    if (*out && !alliance_date_wellformed(*out)) {
        *field = key;
        snprintf(msg, len, "%s must be a date YYYY-MM-DD", key);
        return false;
    }
    return true;
}

void alliance_pairing_post(hl_http_req_t *req, void *arg)
{
    alliance_t *al = arg;
    json_t *body = hl_http_json_body(req);
    if (!body) {
        hl_metric_add(al->refused, 1);
        return;
    }
    static const char *const keys[] = {"unit", "community", "starts_on", "ends_on", "note", NULL};
    const char *field = NULL, *unit, *community, *starts, *ends, *note;
    char msg[200];
    bool ok = alliance_json_only(body, keys, &field, msg, sizeof msg) &&
              alliance_json_string(body, "unit", ALLIANCE_CODE_MAX, true, false, &unit, &field, msg,
                                   sizeof msg) &&
              alliance_json_string(body, "community", ALLIANCE_CODE_MAX, true, false, &community,
                                   &field, msg, sizeof msg) &&
              s_date_field(body, "starts_on", true, &starts, &field, msg, sizeof msg) &&
              s_date_field(body, "ends_on", false, &ends, &field, msg, sizeof msg) &&
              alliance_json_string(body, "note", 500, false, true, &note, &field, msg, sizeof msg);
    if (ok && ends && strcmp(ends, starts) < 0) {
        ok = false;
        field = "ends_on";
        snprintf(msg, sizeof msg, "ends_on must not be before starts_on");
    }
    if (!ok) {
        hl_metric_add(al->refused, 1);
        hl_http_reply_error(req, 422, field, "%s", msg);
        json_decref(body);
        return;
    }
    const char *p[] = {unit, community, starts, ends, note};
    alliance_call_t *c = alliance_call_new(al, req, 201, "record the pairing");
    alliance_call_answer(c, s_sql_pair, 5, p);
    alliance_call_submit(c);
    json_decref(body);
}

/* ---- party members ------------------------------------------------------ */

static const char s_sql_members[] =
    "SELECT json_build_object('party_members', coalesce(json_agg(json_build_object('id', m.id,"
    " 'member_no', m.member_no, 'name', m.name, 'unit', m.unit, 'unit_name', u.name,"
    " 'community', m.community, 'registered_on', m.registered_on, 'left_on', m.left_on)"
    " ORDER BY m.community, m.registered_on, m.member_no), '[]'), 'count', count(m.id))::text"
    " FROM alliance.party_member m JOIN org.member_unit u ON u.code = m.unit"
    " WHERE ($1::text IS NULL OR m.community = $1) AND ($2::text IS NULL OR m.unit = $2)"
    " AND (m.left_on IS NULL OR m.left_on >= current_date)";

void alliance_party_members_get(hl_http_req_t *req, void *arg)
{
    const char *community, *unit;
    if (!s_code_query(req, "community", &community) || !s_code_query(req, "unit", &unit))
        return;
    const char *p[] = {community, unit};
    alliance_get_json(arg, req, s_sql_members, 2, p, NULL, "read the party members");
}

static const char s_sql_register[] =
    "SELECT alliance.register_party_member($1::uuid, $2, $3, $4, $5, $6::date)::text";

void alliance_party_member_post(hl_http_req_t *req, void *arg)
{
    alliance_t *al = arg;
    json_t *body = hl_http_json_body(req);
    if (!body) {
        hl_metric_add(al->refused, 1);
        return;
    }
    static const char *const keys[] = {"member_no", "name",          "unit",
                                       "community", "registered_on", NULL};
    const char *field = NULL, *no, *name, *unit, *community, *on;
    char msg[200];
    bool ok =
        alliance_json_only(body, keys, &field, msg, sizeof msg) &&
        alliance_json_string(body, "member_no", 32, true, false, &no, &field, msg, sizeof msg) &&
        alliance_json_string(body, "name", 64, true, false, &name, &field, msg, sizeof msg) &&
        alliance_json_string(body, "unit", ALLIANCE_CODE_MAX, true, false, &unit, &field, msg,
                             sizeof msg) &&
        alliance_json_string(body, "community", ALLIANCE_CODE_MAX, true, false, &community, &field,
                             msg, sizeof msg) &&
        s_date_field(body, "registered_on", false, &on, &field, msg, sizeof msg);
    if (ok && !alliance_code_wellformed(no)) {
        ok = false;
        field = "member_no";
        snprintf(msg, sizeof msg, "member_no is letters, digits and '-' (at most 32)");
    }
    if (!ok) {
        hl_metric_add(al->refused, 1);
        hl_http_reply_error(req, 422, field, "%s", msg);
        json_decref(body);
        return;
    }
    char id[HL_UUID_LEN + 1];
    hl_uuid_new(id);
    const char *p[] = {id, no, name, unit, community, on};
    alliance_call_t *c = alliance_call_new(al, req, 201, "register the party member");
    alliance_call_answer(c, s_sql_register, 6, p);
    alliance_call_submit(c);
    json_decref(body);
}

/* ---- contributions ------------------------------------------------------- */

static const char s_sql_contrib[] =
    "SELECT json_build_object('unit', u.code, 'name', u.name, 'kind', u.kind, 'domains',"
    " u.domains, 'quarters', (SELECT coalesce(json_agg(json_build_object('quarter', q.quarter,"
    " 'items_taken', q.items_taken, 'items_resolved', q.items_resolved, 'hours', q.hours)"
    " ORDER BY q.quarter DESC), '[]') FROM alliance.unit_contribution q WHERE q.unit = u.code))"
    "::text FROM org.member_unit u WHERE u.code = $1";

void alliance_contributions_get(hl_http_req_t *req, void *arg)
{
    const char *code = hl_http_param(req, 0);
    if (!alliance_code_wellformed(code)) {
        hl_http_reply_error(req, 404, "code", "no member unit has this code");
        return;
    }
    const char *p[] = {code};
    alliance_get_json(arg, req, s_sql_contrib, 1, p, "code", "read the contributions");
}
