/* appeal.c: taking an appeal in, and showing a resident where it stands.
 *
 * POST /v1/appeals validates every field, then writes in one unit of work
 * (one transaction, shared with whatever else arrived in the same loop
 * turn): the resident's contact row if given, the appeal, its first history
 * step, and the AppealReceived message for hl-triage. The resident gets the
 * tracking code only after that commit. An Idempotency-Key that was seen
 * before makes the insert fail on its unique index; we then answer with the
 * appeal the key first created (or 422 when the key came with a different
 * request), so a client can retry blindly and never create two.
 *
 * intake_appeal_store is that write, shared by every way in: the JSON API
 * here, Open311 (open311.c) and the batch import each validate their own
 * input into an intake_appeal_t and answer from its callback (a JSON
 * object, here and in a batch, through intake_appeal_from_json of
 * validate.c). POST /v1/appeals also takes "Authorization: Bearer <api
 * key>" from machine clients (per-key rate limit) and limits anonymous
 * callers per address (intake_admit_json, ratelimit.c). */
#include "intake.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One POST /v1/appeals in flight. */
typedef struct {
    intake_t *in;       /* service */
    hl_http_req_t *req; /* suspended request */
} s_post_t;

/* One store in flight: owned copies of the appeal's strings. */
typedef struct {
    intake_t *in;                   /* service */
    intake_appeal_t a;              /* what to store; strings owned */
    intake_appeal_done_fn *done;    /* caller's callback */
    void *arg;                      /* its argument */
    char id[HL_UUID_LEN + 1];       /* new appeal id */
    char code[HL_TRACKING_LEN + 1]; /* new tracking code */
    char resident[HL_UUID_LEN + 1]; /* new resident id */
    int attempts;                   /* tracking-code collisions retried */
    json_t *found;                  /* the earlier appeal for a repeated key */
    bool mismatch;                  /* repeated key, different request */
} s_store_t;

static char *s_dup(const char *s)
{
    return s ? hl_strdup(s) : NULL;
}

static void s_store_free(s_store_t *p)
{
    char **owned[] = {
        (char **)&p->a.channel,      (char **)&p->a.org_unit,   (char **)&p->a.category,
        (char **)&p->a.title,        (char **)&p->a.body,       (char **)&p->a.name,
        (char **)&p->a.phone,        (char **)&p->a.source_ref, (char **)&p->a.idem_key,
        (char **)&p->a.request_hash, (char **)&p->a.qr,         (char **)&p->a.staff,
        (char **)&p->a.written_at};
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++)
        free(*owned[i]);
    json_decref(p->found);
    free(p);
}

void intake_fingerprint(const char *data, size_t len, char out[17])
{
    /* FNV-1a: only to tell "same request again" from "key reused". */
    snprintf(out, 17, "%016llx", (unsigned long long)hl_fnv1a(data, len));
}

static const char s_sql_resident[] =
    "INSERT INTO intake.resident (id, phone, name) VALUES ($1::uuid, $2, $3)"
    " ON CONFLICT (phone) DO UPDATE SET name = COALESCE(EXCLUDED.name, intake.resident.name),"
    " last_seen_at = now()";

static const char s_sql_appeal[] =
    "INSERT INTO intake.appeal (id, tracking_code, channel, org_unit, category, title, body,"
    " resident_id, source_ref, lat, lon, idempotency_key, request_hash,"
    " mailbox, qr_token, staff, written_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7,"
    " CASE WHEN $8::text IS NOT NULL"
    "      THEN (SELECT id FROM intake.resident WHERE phone = $8::text) ELSE $9::uuid END,"
    " $10, $11::float8, $12::float8, $13, $14, $15::int, $16, $17, $18::timestamptz)";

static const char s_sql_event[] =
    "INSERT INTO intake.appeal_event (appeal_id, status, detail) VALUES ($1, 'received', $2)";

static const char s_sql_by_key[] =
    "SELECT id::text, tracking_code, status, request_hash FROM intake.appeal"
    " WHERE idempotency_key = $1";

static void s_submit(s_store_t *p);

/* Hands the outcome to the caller and frees the store. */
static void s_finish(s_store_t *p, int status, const char *field, const char *message,
                     const char *id, const char *code, const char *state)
{
    intake_appeal_result_t r = {status, field, message, id, code, state};
    p->done(p->arg, &r);
    s_store_free(p);
}

static void s_by_key_rows(void *arg, const PGresult *res)
{
    s_store_t *p = arg;
    if (PQntuples(res) != 1)
        return;
    p->found = json_pack("{s:s, s:s, s:s}", "id", PQgetvalue(res, 0, 0), "tracking_code",
                         PQgetvalue(res, 0, 1), "status", PQgetvalue(res, 0, 2));
    p->mismatch = !p->a.request_hash || strcmp(PQgetvalue(res, 0, 3), p->a.request_hash) != 0;
}

static void s_by_key_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_store_t *p = arg;
    char msg[300];
    if (rc != 0 || !p->found) {
        /* The key's appeal vanished or the database is gone: let the client retry. */
        snprintf(msg, sizeof msg, "could not look up the idempotency key: %.200s",
                 rc ? err->message : "not found");
        s_finish(p, 503, NULL, msg, NULL, NULL, NULL);
    } else if (p->mismatch) {
        hl_metric_add(p->in->refused, 1);
        s_finish(p, 422, "Idempotency-Key",
                 "this Idempotency-Key was already used for a different request", NULL, NULL, NULL);
    } else {
        hl_metric_add(p->in->replayed, 1);
        s_finish(p, 200, NULL, NULL, json_string_value(json_object_get(p->found, "id")),
                 json_string_value(json_object_get(p->found, "tracking_code")),
                 json_string_value(json_object_get(p->found, "status")));
    }
}

static void s_insert_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_store_t *p = arg;
    char msg[300];
    if (rc == 0) {
        hl_metric_add(p->in->accepted, 1);
        hl_debug("appeal", p->id, "stored appeal %s from %s", p->code, p->a.channel);
        s_finish(p, 201, NULL, NULL, p->id, p->code, "received");
        return;
    }
    const char *con = err->constraint ? err->constraint : "";
    if (rc == HL_ECONFLICT && strcmp(con, "appeal_idempotency_key_key") == 0) {
        hl_dbu_t *u = hl_dbu_new(p->in->svc->db, s_by_key_done, p);
        HL_DBU(u, s_sql_by_key, s_by_key_rows, p, p->a.idem_key);
        hl_dbu_submit(&u);
        return;
    }
    if (rc == HL_ECONFLICT && strcmp(con, "appeal_tracking_code_key") == 0 && p->attempts < 3) {
        p->attempts++;
        s_submit(p);
        return;
    }
    static const struct {
        const char *constraint, *field;
    } channel_checks[] = {
        {"appeal_mailbox_fkey", "mailbox"},       {"appeal_qr_token_fkey", "qr"},
        {"appeal_mailbox_compound", "org_unit"},  {"appeal_qr_compound", "org_unit"},
        {"appeal_written_at_sane", "written_at"}, {"appeal_staff_length", "staff"},
    };
    for (size_t i = 0; rc == HL_EINVAL && i < sizeof channel_checks / sizeof channel_checks[0]; i++)
        if (strcmp(con, channel_checks[i].constraint) == 0) {
            hl_metric_add(p->in->refused, 1);
            snprintf(msg, sizeof msg, "%.250s", err->message);
            s_finish(p, 422, channel_checks[i].field, msg, NULL, NULL, NULL);
            return;
        }
    if (rc == HL_EINVAL && strstr(con, "org_unit")) {
        hl_metric_add(p->in->refused, 1);
        snprintf(msg, sizeof msg, "unknown org unit code \"%.32s\"", p->a.org_unit);
        s_finish(p, 422, "org_unit", msg, NULL, NULL, NULL);
    } else if (rc == HL_EINVAL && strstr(con, "category")) {
        hl_metric_add(p->in->refused, 1);
        snprintf(msg, sizeof msg, "unknown category code \"%.64s\"", p->a.category);
        s_finish(p, 422, "category", msg, NULL, NULL, NULL);
    } else if (rc == HL_EINVAL) {
        hl_metric_add(p->in->refused, 1);
        snprintf(msg, sizeof msg, "appeal refused: %.200s", err->message);
        s_finish(p, 422, NULL, msg, NULL, NULL, NULL);
    } else {
        hl_warn("appeal", p->id, "could not store appeal: %s", err->message);
        s_finish(p, 503, NULL,
                 "could not store the appeal now; retry with the same Idempotency-Key", NULL, NULL,
                 NULL);
    }
}

static void s_submit(s_store_t *p)
{
    const intake_appeal_t *a = &p->a;
    intake_t *in = p->in;
    hl_uuid_new(p->id);
    hl_tracking_new(p->code);
    hl_dbu_t *u = hl_dbu_new(in->svc->db, s_insert_done, p);
    const char *resident = NULL;
    if (a->phone || a->name) {
        hl_uuid_new(p->resident);
        resident = p->resident;
        HL_DBU(u, s_sql_resident, NULL, NULL, p->resident, a->phone, a->name);
    }
    char lat[32], lon[32], mailbox[16];
    snprintf(mailbox, sizeof mailbox, "%d", a->mailbox);
    snprintf(lat, sizeof lat, "%.9g", a->lat);
    snprintf(lon, sizeof lon, "%.9g", a->lon);
    HL_DBU(u, s_sql_appeal, NULL, NULL, p->id, p->code, a->channel, a->org_unit, a->category,
           a->title, a->body, a->phone, resident, a->source_ref, a->has_location ? lat : NULL,
           a->has_location ? lon : NULL, a->idem_key, a->request_hash, a->mailbox ? mailbox : NULL,
           a->qr, a->staff, a->written_at);
    char detail[64];
    snprintf(detail, sizeof detail, "via %s", a->channel);
    HL_DBU(u, s_sql_event, NULL, NULL, p->id, detail);

    Hl__AppealReceived msg = HL__APPEAL_RECEIVED__INIT;
    msg.appeal_id = p->id;
    msg.tracking_code = p->code;
    msg.channel = (char *)a->channel;
    msg.org_unit = (char *)a->org_unit;
    msg.category = (char *)(a->category ? a->category : "");
    msg.title = (char *)(a->title ? a->title : "");
    msg.body = (char *)a->body;
    msg.source_ref = (char *)(a->source_ref ? a->source_ref : "");
    msg.has_received_at_us = 1;
    msg.received_at_us = hl_time_us();
    if (a->has_location) {
        msg.has_lat = msg.has_lon = msg.has_has_location = 1;
        msg.lat = a->lat;
        msg.lon = a->lon;
        msg.has_location = 1;
    }
    int64_t written_us;
    msg.has_mailbox = a->mailbox != 0;
    msg.mailbox = a->mailbox;
    msg.qr_token = (char *)(a->qr ? a->qr : "");
    msg.staff = (char *)(a->staff ? a->staff : "");
    if (a->written_at && hl_time_parse(a->written_at, &written_us)) {
        msg.has_written_at_us = 1;
        msg.written_at_us = written_us;
    }
    if (a->extra)
        a->extra(u, p->id, a->extra_arg);
    hl_pipeline_send(in->svc->pipeline, u, HL_STAGE_APPEAL, p->id, &msg.base, NULL);
    hl_dbu_submit(&u);
}

/* The compound of the appeal's mailbox or QR code is known (anchor.c). */
static void s_anchored(void *arg, const char *compound, const hl_refusal_t *why)
{
    s_store_t *p = arg;
    if (!compound) {
        if (why->status == 422)
            hl_metric_add(p->in->refused, 1);
        s_finish(p, why->status, why->field[0] ? why->field : NULL, why->message, NULL, NULL, NULL);
        return;
    }
    p->a.org_unit = hl_strdup(compound);
    s_submit(p);
}

bool intake_appeal_complete(const intake_appeal_t *a)
{
    return a->channel && (a->org_unit || a->mailbox || a->qr) && a->body;
}

void intake_appeal_store(intake_t *in, const intake_appeal_t *a, intake_appeal_done_fn *done,
                         void *arg)
{
    assert(in && a && intake_appeal_complete(a) && done);
    s_store_t *p = hl_calloc(1, sizeof *p);
    p->in = in;
    p->done = done;
    p->arg = arg;
    p->a = *a;
    p->a.channel = s_dup(a->channel);
    p->a.org_unit = s_dup(a->org_unit);
    p->a.category = s_dup(a->category);
    p->a.title = s_dup(a->title);
    p->a.body = s_dup(a->body);
    p->a.name = s_dup(a->name);
    p->a.phone = s_dup(a->phone);
    p->a.source_ref = s_dup(a->source_ref);
    p->a.idem_key = s_dup(a->idem_key);
    p->a.request_hash = s_dup(a->request_hash);
    p->a.qr = s_dup(a->qr);
    p->a.staff = s_dup(a->staff);
    p->a.written_at = s_dup(a->written_at);
    if (!p->a.org_unit) {
        intake_anchor_resolve(in, p->a.mailbox, p->a.qr, s_anchored, p);
        return;
    }
    s_submit(p);
}

/* ---- POST /v1/appeals ---------------------------------------------------- */

static void s_post_done(void *arg, const intake_appeal_result_t *r)
{
    s_post_t *p = arg;
    if (r->status == 200 || r->status == 201) {
        char loc[64];
        snprintf(loc, sizeof loc, "/v1/appeals/%s", r->tracking_code);
        hl_http_add_header(p->req, "Location", loc);
        if (r->status == 200)
            hl_http_add_header(p->req, "Idempotent-Replayed", "true");
        hl_http_reply_json(p->req, r->status,
                           json_pack("{s:s, s:s, s:s}", "id", r->id, "tracking_code",
                                     r->tracking_code, "status", r->state));
    } else {
        /* A 503 carries Retry-After (hl_http): the client retries with its
         * Idempotency-Key and gets this appeal once. */
        hl_http_reply_error(p->req, r->status, r->field, "%s", r->message);
    }
    free(p);
}

/* The rest of POST /v1/appeals, once the request is admitted. */
static void s_post_admitted(void *arg, bool admitted)
{
    s_post_t *p = arg;
    intake_t *in = p->in;
    hl_http_req_t *req = p->req;
    if (!admitted)
        goto out_free;
    const char *idem = hl_http_header(req, "Idempotency-Key");
    if (idem && (strlen(idem) == 0 || strlen(idem) > 200)) {
        hl_metric_add(in->refused, 1);
        hl_http_reply_error(req, 422, "Idempotency-Key",
                            "Idempotency-Key must be 1 to 200 characters");
        goto out_free;
    }
    json_t *j = hl_http_json_body(req);
    if (!j) {
        hl_metric_add(in->refused, 1);
        goto out_free;
    }
    intake_appeal_t a;
    char written_at[40];
    hl_refusal_t why;
    if (intake_appeal_from_json(j, hl_time_us(), &a, written_at, NULL, &why) != 0) {
        hl_metric_add(in->refused, 1);
        hl_req_reply(req, &why);
        json_decref(j);
        goto out_free;
    }
    char hash[17];
    size_t len;
    const char *body = hl_http_body(req, &len);
    intake_fingerprint(body, len, hash);
    a.idem_key = idem;
    a.request_hash = hash;
    hl_http_suspend(req);
    intake_appeal_store(in, &a, s_post_done, p);
    json_decref(j);
    return;
out_free:
    free(p);
}

void intake_appeal_post(hl_http_req_t *req, void *arg)
{
    s_post_t *p = hl_calloc(1, sizeof *p);
    p->in = arg;
    p->req = req;
    intake_admit_json(p->in, req, 1, s_post_admitted, p);
}

/* ---- GET /v1/appeals/{tracking_code} ---------------------------------- */

typedef struct {
    hl_http_req_t *req; /* suspended request */
    json_t *appeal;     /* built from the first statement */
    json_t *history;    /* built from the second */
} s_get_t;

static const char s_sql_get[] =
    "SELECT tracking_code, status, channel, org_unit, category, size, item_id::text,"
    " to_json(received_at)#>>'{}', to_json(updated_at)#>>'{}'"
    " FROM intake.appeal WHERE tracking_code = $1";
static const char s_sql_history[] =
    "SELECT e.status, to_json(e.at)#>>'{}', e.detail FROM intake.appeal_event e"
    " JOIN intake.appeal a ON a.id = e.appeal_id WHERE a.tracking_code = $1 ORDER BY e.at, e.id";

static void s_get_rows(void *arg, const PGresult *res)
{
    s_get_t *g = arg;
    if (PQntuples(res) != 1)
        return;
    static const char *const names[] = {"tracking_code", "status",      "channel",
                                        "org_unit",      "category",    "size",
                                        "item_id",       "received_at", "updated_at"};
    g->appeal = json_object();
    for (int c = 0; c < 9; c++)
        json_object_set_new(g->appeal, names[c], hl_req_col_text(res, 0, c));
}

static void s_history_rows(void *arg, const PGresult *res)
{
    s_get_t *g = arg;
    g->history = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(g->history,
                              json_pack("{s:o, s:o, s:o}", "status", hl_req_col_text(res, i, 0),
                                        "at", hl_req_col_text(res, i, 1), "detail",
                                        hl_req_col_text(res, i, 2)));
}

static void s_get_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_get_t *g = arg;
    if (rc != 0) {
        hl_req_reply_db(g->req, "appeal", "read the appeal", err);
    } else if (!g->appeal) {
        hl_req_reply_unknown_id(g->req, HL_REQ_ID_TRACKING, "appeal");
    } else {
        json_object_set_new(g->appeal, "history", g->history ? g->history : json_array());
        g->history = NULL;
        hl_http_reply_json(g->req, 200, g->appeal);
        g->appeal = NULL;
    }
    json_decref(g->appeal);
    json_decref(g->history);
    free(g);
}

void intake_appeal_get(hl_http_req_t *req, void *arg)
{
    intake_t *in = arg;
    char code[HL_REQ_ID_MAX];
    if (!hl_req_path_id(req, 0, HL_REQ_ID_TRACKING, "appeal", code))
        return;
    s_get_t *g = hl_calloc(1, sizeof *g);
    g->req = req;
    hl_http_suspend(req);
    hl_dbu_t *u = hl_dbu_new(in->svc->db, s_get_done, g);
    HL_DBU(u, s_sql_get, s_get_rows, g, code);
    HL_DBU(u, s_sql_history, s_history_rows, g, code);
    hl_dbu_submit(&u);
}
