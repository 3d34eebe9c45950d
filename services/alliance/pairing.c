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

typedef struct {
    const char *community; /* or NULL */
    const char *unit;      /* or NULL */
    bool active;           /* only pairings in force today */
} s_pair_q_t;

static const hl_req_field_t s_pair_query[] = {
    {.name = "community",
     .type = HL_REQ_TEXT,
     .max = ALLIANCE_CODE_MAX,
     .check = alliance_code_check,
     HL_REQ_AT(s_pair_q_t, community)},
    {.name = "unit",
     .type = HL_REQ_TEXT,
     .max = ALLIANCE_CODE_MAX,
     .check = alliance_code_check,
     HL_REQ_AT(s_pair_q_t, unit)},
    {.name = "active", .type = HL_REQ_BOOL, HL_REQ_AT(s_pair_q_t, active)},
    {0}};

void alliance_pairings_get(hl_http_req_t *req, void *arg)
{
    s_pair_q_t q = {0};
    if (!hl_req_query(req, s_pair_query, &q))
        return;
    const char *p[] = {q.community, q.unit, q.active ? "true" : "false"};
    alliance_get_json(arg, req, s_sql_pairings, 3, p, NULL, "read the pairings");
}

static const char s_sql_pair[] = "SELECT alliance.pair($1, $2, $3::date, $4::date, $5)::text";

typedef struct {
    const char *unit;      /* required */
    const char *community; /* required */
    const char *starts;    /* required date */
    const char *ends;      /* or NULL */
    const char *note;      /* or NULL */
} s_pair_in_t;

static const hl_req_field_t s_pair_fields[] = {{.name = "unit",
                                                .type = HL_REQ_TEXT,
                                                .flags = HL_REQ_REQUIRED,
                                                .max = ALLIANCE_CODE_MAX,
                                                .check = alliance_code_check,
                                                HL_REQ_AT(s_pair_in_t, unit)},
                                               {.name = "community",
                                                .type = HL_REQ_TEXT,
                                                .flags = HL_REQ_REQUIRED,
                                                .max = ALLIANCE_CODE_MAX,
                                                .check = alliance_code_check,
                                                HL_REQ_AT(s_pair_in_t, community)},
                                               {.name = "starts_on",
                                                .type = HL_REQ_TEXT,
                                                .flags = HL_REQ_REQUIRED,
                                                .max = 10,
                                                .check = alliance_date_check,
                                                HL_REQ_AT(s_pair_in_t, starts)},
                                               {.name = "ends_on",
                                                .type = HL_REQ_TEXT,
                                                .max = 10,
                                                .check = alliance_date_check,
                                                HL_REQ_AT(s_pair_in_t, ends)},
                                               {.name = "note",
                                                .type = HL_REQ_TEXT,
                                                .flags = HL_REQ_MULTILINE,
                                                .max = 500,
                                                HL_REQ_AT(s_pair_in_t, note)},
                                               {0}};

void alliance_pairing_post(hl_http_req_t *req, void *arg)
{
    alliance_t *al = arg;
    s_pair_in_t in = {0};
    json_t *body = hl_req_body(req, s_pair_fields, &in);
    if (!body) {
        hl_metric_add(al->refused, 1);
        return;
    }
    /* Dates of the same form compare as text. */
    if (in.ends && strcmp(in.ends, in.starts) < 0) {
        hl_metric_add(al->refused, 1);
        hl_http_reply_error(req, 422, "ends_on", "ends_on must not be before starts_on");
        json_decref(body);
        return;
    }
    const char *p[] = {in.unit, in.community, in.starts, in.ends, in.note};
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

typedef struct {
    const char *community; /* or NULL */
    const char *unit;      /* or NULL */
} s_member_q_t;

static const hl_req_field_t s_member_query[] = {{.name = "community",
                                                 .type = HL_REQ_TEXT,
                                                 .max = ALLIANCE_CODE_MAX,
                                                 .check = alliance_code_check,
                                                 HL_REQ_AT(s_member_q_t, community)},
                                                {.name = "unit",
                                                 .type = HL_REQ_TEXT,
                                                 .max = ALLIANCE_CODE_MAX,
                                                 .check = alliance_code_check,
                                                 HL_REQ_AT(s_member_q_t, unit)},
                                                {0}};

void alliance_party_members_get(hl_http_req_t *req, void *arg)
{
    s_member_q_t q = {0};
    if (!hl_req_query(req, s_member_query, &q))
        return;
    const char *p[] = {q.community, q.unit};
    alliance_get_json(arg, req, s_sql_members, 2, p, NULL, "read the party members");
}

static const char s_sql_register[] =
    "SELECT alliance.register_party_member($1::uuid, $2, $3, $4, $5, $6::date)::text";

typedef struct {
    const char *no;        /* member_no */
    const char *name;      /* required */
    const char *unit;      /* required */
    const char *community; /* required */
    const char *on;        /* registered_on, or NULL: today */
} s_member_in_t;

static const hl_req_field_t s_member_fields[] = {{.name = "member_no",
                                                  .type = HL_REQ_TEXT,
                                                  .flags = HL_REQ_REQUIRED,
                                                  .max = 32,
                                                  .check = alliance_code_check,
                                                  HL_REQ_AT(s_member_in_t, no)},
                                                 {.name = "name",
                                                  .type = HL_REQ_TEXT,
                                                  .flags = HL_REQ_REQUIRED,
                                                  .max = 64,
                                                  HL_REQ_AT(s_member_in_t, name)},
                                                 {.name = "unit",
                                                  .type = HL_REQ_TEXT,
                                                  .flags = HL_REQ_REQUIRED,
                                                  .max = ALLIANCE_CODE_MAX,
                                                  .check = alliance_code_check,
                                                  HL_REQ_AT(s_member_in_t, unit)},
                                                 {.name = "community",
                                                  .type = HL_REQ_TEXT,
                                                  .flags = HL_REQ_REQUIRED,
                                                  .max = ALLIANCE_CODE_MAX,
                                                  .check = alliance_code_check,
                                                  HL_REQ_AT(s_member_in_t, community)},
                                                 {.name = "registered_on",
                                                  .type = HL_REQ_TEXT,
                                                  .max = 10,
                                                  .check = alliance_date_check,
                                                  HL_REQ_AT(s_member_in_t, on)},
                                                 {0}};

void alliance_party_member_post(hl_http_req_t *req, void *arg)
{
    alliance_t *al = arg;
    s_member_in_t in = {0};
    json_t *body = hl_req_body(req, s_member_fields, &in);
    if (!body) {
        hl_metric_add(al->refused, 1);
        return;
    }
    char id[HL_UUID_LEN + 1];
    hl_uuid_new(id);
    const char *p[] = {id, in.no, in.name, in.unit, in.community, in.on};
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
        hl_http_reply_error(req, 404, "unit", "no member unit has this code");
        return;
    }
    const char *p[] = {code};
    alliance_get_json(arg, req, s_sql_contrib, 1, p, "unit", "read the contributions");
}
