/* agenda.c: how items reach an alliance's agenda, and the agendas.
 *
 * Stage "alliance": hl-triage escalates a large item (sorted large, or
 * overdue) as ItemEscalated. alliance.place_item() sends it to the alliance
 * of its level — its community's up to community level, the city's at town
 * or city level — and puts it on that alliance's next planned meeting,
 * planning the next sitting of the alliance's schedule when none is
 * planned. It runs in the message's own unit under row locks and a
 * one-planned-sitting index, so replicas escalating at once share one
 * meeting and an item escalated twice keeps one agenda place (an item that
 * climbed to the city moves there, undecided again).
 *
 * HTTP: the alliances (GET /v1/alliances, /v1/alliances/{code}), an
 * alliance's agenda — its next meeting's items ordered by overdue time,
 * residents affected (appeals) and age — and a community's direct agenda
 * adds (POST /v1/alliances/{code}/agenda). */
#include "alliance.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char s_sql_place[] = "SELECT alliance.place_item($1::uuid, $2::uuid, $3, $4, $5, $6,"
                                  " $7::int, $8::int, $9)::text";

/* What the after-commit row callback needs; kept alive by the unit. */
typedef struct {
    alliance_t *al;                /* service */
    char item_id[HL_UUID_LEN + 1]; /* the item */
} s_place_t;

static void s_place_rows(void *arg, const PGresult *res)
{
    s_place_t *p = arg;
    hl_metric_add(p->al->placed, 1);
    if (PQntuples(res) == 1)
        hl_info("item", p->item_id, "on the agenda of joint meeting %s", PQgetvalue(res, 0, 0));
}

static const char *s_or_null(const char *s)
{
    return s && *s ? s : NULL;
}

/* The library unpacked and checked the payload (alliance_escalation_problem)
 * and frees it with the message. */
static void s_escalated(hl_inmsg_t *m, const void *msg, void *arg)
{
    alliance_t *al = arg;
    const Hl__ItemEscalated *e = msg;
    /* A title of 200 characters may take 4 bytes each. */
    char title[ALLIANCE_TITLE_MAX * 4 + 1];
    alliance_item_title(e, title, sizeof title);
    char meeting[HL_UUID_LEN + 1], level[16], count[16];
    hl_uuid_new(meeting); /* used only if a meeting must be planned */
    snprintf(level, sizeof level, "%d", e->has_level ? (int)e->level : 0);
    snprintf(count, sizeof count, "%d", e->has_appeal_count ? (int)e->appeal_count : 0);
    s_place_t st = {.al = al};
    snprintf(st.item_id, sizeof st.item_id, "%s", e->item_id);
    s_place_t *kept = hl_dbu_keep(m->unit, &st, sizeof st);
    HL_DBU(m->unit, s_sql_place, s_place_rows, kept, meeting, e->item_id, title, s_or_null(e->body),
           s_or_null(e->category), s_or_null(e->org_unit), level, count, s_or_null(e->reason));
    hl_inmsg_apply(&m);
}

int alliance_agenda_consume(alliance_t *al)
{
    const hl_msg_handler_t handlers[] = {
        {&hl__item_escalated__descriptor, alliance_escalation_problem, s_escalated, al, NULL},
    };
    return hl_pipeline_consume_msgs(al->svc->pipeline, HL_STAGE_ALLIANCE, handlers,
                                    sizeof handlers / sizeof handlers[0]);
}

/* ---- GET /v1/alliances, /v1/alliances/{code} ----------------------------- */

/* An alliance as JSON: schedule, next planned meeting, open items, paired units. */
#define S_ALLIANCE_JSON(detail)                                                                    \
    "json_build_object('code', a.code, 'level', a.level, 'community', a.community, 'name',"        \
    " a.name, 'schedule', json_build_object('cadence', a.cadence, 'sitting_day', a.sitting_day,"   \
    " 'next_sitting', alliance.next_sitting(a.cadence, a.sitting_day, current_date)), 'venue',"    \
    " a.venue, 'next_meeting', (SELECT json_build_object('id', m.id, 'scheduled_for',"             \
    " m.scheduled_for, 'kind', m.kind) FROM alliance.meeting m WHERE m.alliance = a.code AND"      \
    " m.status = 'planned' ORDER BY m.scheduled_for, m.id LIMIT 1), 'open_items', (SELECT"         \
    " count(*) FROM alliance.agenda_item i WHERE i.alliance = a.code AND i.status <> 'resolved')," \
    " 'paired_units', (SELECT count(DISTINCT p.unit) FROM alliance.pairing p WHERE p.community ="  \
    " a.community AND p.starts_on <= current_date AND (p.ends_on IS NULL OR p.ends_on >="          \
    " current_date))" detail ")"

static const char s_sql_list[] =
    "SELECT json_build_object('alliances', coalesce(json_agg(" S_ALLIANCE_JSON(
        "") " ORDER BY a.level DESC, a.code), '[]'))::text FROM alliance.alliance a";

static const char s_sql_one[] = "SELECT " S_ALLIANCE_JSON(
    ", 'members', (SELECT coalesce(json_agg(json_build_object('unit', u.code, 'name', u.name,"
    " 'kind', u.kind, 'domains', u.domains, 'paired_since', p.starts_on) ORDER BY u.code),"
    " '[]') FROM alliance.pairing p JOIN org.member_unit u ON u.code = p.unit"
    " WHERE p.community = a.community AND p.starts_on <= current_date"
    " AND (p.ends_on IS NULL OR p.ends_on >= current_date)), 'meetings', (SELECT"
    " coalesce(json_agg(json_build_object('id', m.id, 'scheduled_for', m.scheduled_for,"
    " 'kind', m.kind, 'status', m.status, 'held_at', m.held_at) ORDER BY m.scheduled_for"
    " DESC, m.id), '[]') FROM (SELECT * FROM alliance.meeting WHERE alliance = a.code"
    " ORDER BY scheduled_for DESC, id LIMIT 24) m)") "::text FROM alliance.alliance a"
                                                     " WHERE a.code = $1";

void alliance_alliances_get(hl_http_req_t *req, void *arg)
{
    alliance_get_json(arg, req, s_sql_list, 0, NULL, NULL, "read the alliances");
}

void alliance_alliance_get(hl_http_req_t *req, void *arg)
{
    const char *code = hl_http_param(req, 0);
    if (!alliance_code_wellformed(code)) {
        hl_http_reply_error(req, 404, "alliance", "no alliance has this code");
        return;
    }
    const char *p[] = {code};
    alliance_get_json(arg, req, s_sql_one, 1, p, "alliance", "read the alliance");
}

/* ---- GET /v1/alliances/{code}/agenda ------------------------------------- */

/* The agenda of an alliance's next meeting to be held (the earliest planned
 * one, even when its day has passed unheld): its items ordered by overdue
 * time (longest overdue action first), residents affected, then age. */
static const char s_sql_agenda[] =
    "SELECT json_build_object('alliance', a.code, 'name', a.name, 'meeting', (SELECT"
    " json_build_object('id', m.id, 'scheduled_for', m.scheduled_for, 'kind', m.kind, 'venue',"
    " m.venue, 'purpose', m.purpose) FROM alliance.meeting m WHERE m.id = nm.id), 'agenda',"
    " (SELECT coalesce(json_agg(json_build_object('rank', g.rank, 'item_id', g.item_id, 'title',"
    " g.title, 'category', g.category, 'org_unit', g.org_unit, 'community', g.community,"
    " 'level', g.level, 'appeal_count', g.appeal_count, 'reason', g.reason, 'source', g.source,"
    " 'status', g.status, 'carried', g.carried, 'added_at', g.added_at, 'age_days',"
    " round(g.age_s / 86400.0, 1), 'overdue_days', round(g.overdue_s / 86400.0, 1)) ORDER BY"
    " g.rank), '[]') FROM (SELECT x.*, row_number() OVER (ORDER BY x.overdue_s DESC,"
    " x.appeal_count DESC, x.added_at, x.item_id) AS rank FROM alliance.agenda x WHERE"
    " x.meeting_id = nm.id AND x.status <> 'resolved') g))::text"
    " FROM alliance.alliance a LEFT JOIN LATERAL (SELECT id FROM alliance.meeting"
    " WHERE alliance = a.code AND status = 'planned' ORDER BY scheduled_for, id LIMIT 1) nm ON true"
    " WHERE a.code = $1";

void alliance_agenda_get(hl_http_req_t *req, void *arg)
{
    const char *code = hl_http_param(req, 0);
    if (!alliance_code_wellformed(code)) {
        hl_http_reply_error(req, 404, "alliance", "no alliance has this code");
        return;
    }
    const char *p[] = {code};
    alliance_get_json(arg, req, s_sql_agenda, 1, p, "alliance", "read the agenda");
}

/* ---- POST /v1/alliances/{code}/agenda ------------------------------------ */

static const char s_sql_direct[] =
    "SELECT json_build_object('item_id', $3::uuid, 'alliance', $2::text, 'meeting_id',"
    " alliance.add_direct($1::uuid, $2, $3::uuid, $4, $5, $6, $7, $8::int), 'source',"
    " 'direct')::text";

/* A direct agenda add as hl_req stores it. */
typedef struct {
    const char *title;    /* required */
    const char *text;     /* "body", or NULL */
    const char *category; /* or NULL */
    const char *org_unit; /* or NULL */
    int64_t count;        /* appeal_count, 0 when absent */
} s_direct_t;

static const hl_req_field_t s_direct_fields[] = {{.name = "title",
                                                  .type = HL_REQ_TEXT,
                                                  .flags = HL_REQ_REQUIRED,
                                                  .max = ALLIANCE_TITLE_MAX,
                                                  HL_REQ_AT(s_direct_t, title)},
                                                 {.name = "body",
                                                  .type = HL_REQ_TEXT,
                                                  .flags = HL_REQ_MULTILINE,
                                                  .max = ALLIANCE_BODY_MAX,
                                                  HL_REQ_AT(s_direct_t, text)},
                                                 {.name = "category",
                                                  .type = HL_REQ_TEXT,
                                                  .max = ALLIANCE_CATEGORY_MAX,
                                                  .check = alliance_code_check,
                                                  HL_REQ_AT(s_direct_t, category)},
                                                 {.name = "org_unit",
                                                  .type = HL_REQ_TEXT,
                                                  .max = ALLIANCE_CODE_MAX,
                                                  .check = alliance_code_check,
                                                  HL_REQ_AT(s_direct_t, org_unit)},
                                                 {.name = "appeal_count",
                                                  .type = HL_REQ_INT,
                                                  .min = 0,
                                                  .max = 1000000,
                                                  HL_REQ_AT(s_direct_t, count)},
                                                 {0}};

void alliance_agenda_post(hl_http_req_t *req, void *arg)
{
    alliance_t *al = arg;
    const char *code = hl_http_param(req, 0);
    if (!alliance_code_wellformed(code)) {
        hl_http_reply_error(req, 404, "alliance", "no alliance has this code");
        return;
    }
    s_direct_t d = {0};
    json_t *body = hl_req_body(req, s_direct_fields, &d);
    if (!body) {
        hl_metric_add(al->refused, 1);
        return;
    }
    char meeting[HL_UUID_LEN + 1], item[HL_UUID_LEN + 1], n[24];
    hl_uuid_new(meeting);
    hl_uuid_new(item);
    snprintf(n, sizeof n, "%lld", (long long)d.count);
    const char *p[] = {meeting, code, item, d.title, d.text, d.category, d.org_unit, n};
    alliance_call_t *c = alliance_call_new(al, req, 201, "put the item on the agenda");
    alliance_call_answer(c, s_sql_direct, 8, p);
    alliance_call_submit(c);
    json_decref(body);
}
