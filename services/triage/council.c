/* council.c: POST /v1/items/{id}/council — the three-party council (party
 * branch, owners' committee, property company) records its hearing of a
 * small item, which resolves it (DOMAIN.md workflow 3).
 *
 * The body is validated first (422 naming the field; nothing read). A read
 * unit then finds the item (404), checks it is small and unresolved (409)
 * and collects its appeals; the write unit resolves the item through
 * triage_resolve_add (ItemResolved to hl-intake with the appeal ids) and
 * records the hearing only if that unit is the one that resolved it, so a
 * hearing posted twice, or racing another resolution, is answered 409 and
 * stores nothing. The reply goes out after commit. */
#include "triage.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRIAGE_ATTENDEES_MAX 20 /* most attendees listed */

/* One POST in flight. */
typedef struct {
    triage_t *t;                   /* service */
    hl_http_req_t *req;            /* suspended request */
    json_t *body;                  /* parsed request, owned */
    char item_id[HL_UUID_LEN + 1]; /* the item */
    triage_hearing_t h;            /* what the body says, checked */
    bool found;                    /* read: the item exists */
    char size[8];                  /* read: its size */
    char status[12];               /* read: its status */
    bool future;                   /* read: heard_at is in the future */
    hl_strlist_t appeals;          /* read: its appeal ids, owned */
    const bool *won;               /* write: this unit resolved the item */
} s_council_t;

static void s_free(s_council_t *c)
{
    json_decref(c->body);
    triage_hearing_close(&c->h);
    hl_strlist_close(&c->appeals);
    free(c);
}

static const hl_req_field_t s_attendee[] = {{.name = "attendee", .type = HL_REQ_TEXT, .max = 100},
                                            {0}};

/* The body of a hearing; strings into it. */
typedef struct {
    const char *venue, *heard_at, *decision, *outcome, *assignee, *due_date;
    json_t *attendees; /* borrowed */
} s_body_t;

static const hl_req_field_t s_fields[] = {
    {.name = "venue",
     .type = HL_REQ_TEXT,
     .flags = HL_REQ_REQUIRED,
     .max = 200,
     HL_REQ_AT(s_body_t, venue)},
    {.name = "heard_at", .type = HL_REQ_TEXT, .max = 40, HL_REQ_AT(s_body_t, heard_at)},
    {.name = "attendees",
     .type = HL_REQ_ARRAY,
     .flags = HL_REQ_REQUIRED,
     .min = 1,
     .max = TRIAGE_ATTENDEES_MAX,
     .fields = s_attendee,
     .hint = "must be a non-empty array of at most 20 strings, e.g. [\"party_branch\", "
             "\"owners_committee\", \"property_company\"]",
     HL_REQ_AT(s_body_t, attendees)},
    {.name = "decision",
     .type = HL_REQ_TEXT,
     .flags = HL_REQ_REQUIRED | HL_REQ_MULTILINE,
     .max = 4000,
     HL_REQ_AT(s_body_t, decision)},
    {.name = "outcome",
     .type = HL_REQ_TEXT,
     .flags = HL_REQ_REQUIRED | HL_REQ_MULTILINE,
     .max = 4000,
     HL_REQ_AT(s_body_t, outcome)},
    {.name = "assignee", .type = HL_REQ_TEXT, .max = 200, HL_REQ_AT(s_body_t, assignee)},
    {.name = "due_date", .type = HL_REQ_TEXT, .max = 10, HL_REQ_AT(s_body_t, due_date)},
    {0}};

int triage_hearing_check(json_t *body, triage_hearing_t *c, hl_refusal_t *why)
{
    s_body_t b = {0};
    if (hl_req_check(body, s_fields, &b, why) != 0)
        return -1;
    c->venue = b.venue;
    c->decision = b.decision;
    c->outcome = b.outcome;
    c->assignee = b.assignee;
    c->due_date = b.due_date;
    c->heard_at = NULL;
    int64_t heard_us;
    int y, m, d;
    if (b.heard_at) {
        if (!hl_time_parse(b.heard_at, &heard_us))
            return hl_refuse(why, 422, "heard_at",
                             "heard_at must be an ISO 8601 timestamp with an offset (or a "
                             "date), e.g. 2024-05-01T19:30:00+08:00");
        /* SQL gets the instant we checked, so a bare date is 00:00 UTC+8. */
        hl_time_format(heard_us, c->heard_at_utc);
        c->heard_at = c->heard_at_utc;
    }
    if (c->due_date && (!hl_date_parse(c->due_date, &y, &m, &d) || y < 1970))
        return hl_refuse(why, 422, "due_date", "due_date must be a date, e.g. 2024-05-31");
    c->attendees = json_dumps(b.attendees, JSON_COMPACT);
    return 0;
}

void triage_hearing_close(triage_hearing_t *c)
{
    free(c->attendees);
    c->attendees = NULL;
}

/* ---- the write ------------------------------------------------------- */

static const char s_sql_hearing[] =
    "INSERT INTO triage.council (id, item_id, venue, venue_code, heard_at, attendees,"
    " decision, outcome, assignee, due_date, recorded_at)"
    " SELECT $1::uuid, i.id, $3, (SELECT code FROM org.venue WHERE code = $3),"
    " COALESCE($4::timestamptz, now()), ARRAY(SELECT jsonb_array_elements_text($5::jsonb)),"
    " $6, $7, $8, $9::date, now()"
    " FROM triage.item i WHERE i.id = $2::uuid AND i.resolved_message = $10::uuid"
    " ON CONFLICT (item_id) DO UPDATE SET venue = EXCLUDED.venue,"
    " venue_code = EXCLUDED.venue_code, heard_at = EXCLUDED.heard_at,"
    " attendees = EXCLUDED.attendees, decision = EXCLUDED.decision,"
    " outcome = EXCLUDED.outcome, assignee = EXCLUDED.assignee, due_date = EXCLUDED.due_date,"
    " recorded_at = EXCLUDED.recorded_at";

static void s_write_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_council_t *c = arg;
    if (rc == HL_EINVAL) {
        hl_http_reply_error(c->req, 422, NULL, "hearing refused: %s", err->message);
    } else if (rc != 0) {
        hl_warn("item", c->item_id, "could not record the council hearing: %s", err->message);
        hl_http_add_header(c->req, "Retry-After", "1");
        hl_http_reply_error(c->req, 503, NULL, "could not record the hearing now; retry");
    } else if (!*c->won) {
        hl_http_reply_error(c->req, 409, "id", "item %s was resolved meanwhile", c->item_id);
    } else {
        hl_metric_add(c->t->councils, 1);
        hl_info("item", c->item_id, "council hearing recorded at %s: item resolved", c->h.venue);
        hl_http_reply_json(c->req, 200,
                           json_pack("{s:s, s:s}", "item_id", c->item_id, "status", "resolved"));
    }
    s_free(c);
}

static void s_write(s_council_t *c)
{
    triage_t *t = c->t;
    hl_dbu_t *u = hl_dbu_new(t->svc->db, s_write_done, c);
    char msg[HL_UUID_LEN + 1], council[HL_UUID_LEN + 1];
    c->won = triage_resolve_add(t, u, c->item_id, c->h.outcome, "council", c->appeals.v,
                                c->appeals.n, msg);
    hl_uuid_new(council);
    HL_DBU(u, s_sql_hearing, NULL, NULL, council, c->item_id, c->h.venue, c->h.heard_at,
           c->h.attendees, c->h.decision, c->h.outcome, c->h.assignee, c->h.due_date, msg);
    hl_dbu_submit(&u);
}

/* ---- the read -------------------------------------------------------- */

static const char s_sql_item[] = "SELECT size, status FROM triage.item WHERE id = $1::uuid";
static const char s_sql_appeals[] =
    "SELECT appeal_id::text FROM triage.case WHERE item_id = $1::uuid"
    " ORDER BY received_at, appeal_id";
static const char s_sql_future[] =
    "SELECT COALESCE($1::timestamptz > now() + interval '1 day', false)";

static void s_item_rows(void *arg, const PGresult *res)
{
    s_council_t *c = arg;
    if (PQntuples(res) != 1)
        return;
    c->found = true;
    snprintf(c->size, sizeof c->size, "%s", PQgetvalue(res, 0, 0));
    snprintf(c->status, sizeof c->status, "%s", PQgetvalue(res, 0, 1));
}

static void s_future_rows(void *arg, const PGresult *res)
{
    s_council_t *c = arg;
    c->future = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
}

static void s_read_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_council_t *c = arg;
    if (rc == HL_EINVAL) {
        /* Only the heard_at cast can fail on input we checked. */
        hl_http_reply_error(c->req, 422, "heard_at", "heard_at is not a valid time: %s",
                            err->message);
    } else if (rc != 0) {
        hl_req_reply_db(c->req, "item", "read the item", err);
    } else if (!c->found) {
        hl_req_reply_unknown_id(c->req, HL_REQ_ID_UUID, "item");
    } else if (strcmp(c->size, "small") != 0) {
        hl_http_reply_error(c->req, 409, "id",
                            "item %s is a %s item: only small items go to the council", c->item_id,
                            c->size);
    } else if (strcmp(c->status, "resolved") == 0) {
        hl_http_reply_error(c->req, 409, "id", "item %s is resolved already", c->item_id);
    } else if (c->future) {
        hl_http_reply_error(c->req, 422, "heard_at", "heard_at is in the future");
    } else {
        s_write(c);
        return;
    }
    s_free(c);
}

void triage_council_post(hl_http_req_t *req, void *arg)
{
    triage_t *t = arg;
    char id[HL_REQ_ID_MAX];
    json_t *body = hl_req_path_body(req, HL_REQ_ID_UUID, "item", id);
    if (!body)
        return;
    s_council_t *c = hl_calloc(1, sizeof *c);
    c->t = t;
    c->req = req;
    c->body = body;
    memcpy(c->item_id, id, sizeof c->item_id);
    hl_refusal_t why;
    if (triage_hearing_check(body, &c->h, &why) != 0) {
        hl_req_reply(req, &why);
        s_free(c);
        return;
    }
    hl_http_suspend(req);
    hl_dbu_t *u = hl_dbu_new(t->svc->db, s_read_done, c);
    HL_DBU(u, s_sql_item, s_item_rows, c, c->item_id);
    HL_DBU(u, s_sql_appeals, hl_db_rows_column, &c->appeals, c->item_id);
    HL_DBU(u, s_sql_future, s_future_rows, c, c->h.heard_at);
    hl_dbu_submit(&u);
}
