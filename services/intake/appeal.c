/* appeal.c: taking an appeal in, and showing a resident where it stands.
 *
 * POST /v1/appeals validates every field, then writes in one unit of work
 * (one transaction, shared with whatever else arrived in the same loop
 * turn): the resident's contact row if given, the appeal, its first history
 * step, and the AppealReceived message for hl-triage. The resident gets the
 * tracking code only after that commit. An Idempotency-Key that was seen
 * before makes the insert fail on its unique index; we then answer with the
 * appeal the key first created (or 422 when the key came with a different
 * request), so a client can retry blindly and never create two. */
#include "intake.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const s_channels[] = {"qr", "mailbox", "visit", "web", "platform", "phone"};

size_t intake_utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

/* The validated request; strings point into `json`. */
typedef struct {
    json_t *json;           /* the parsed body, owned */
    const char *channel;    /* required */
    const char *org_unit;   /* required */
    const char *category;   /* optional */
    const char *title;      /* optional */
    const char *body;       /* required */
    const char *name;       /* optional contact */
    const char *phone;      /* optional contact */
    const char *source_ref; /* optional */
    bool has_location;      /* location given */
    double lat, lon;        /* location */
} s_appeal_t;

/* One POST in flight. */
typedef struct {
    intake_t *in;                   /* service */
    hl_http_req_t *req;             /* suspended request */
    s_appeal_t a;                   /* what was asked */
    char *idem_key;                 /* Idempotency-Key, owned, or NULL */
    char hash[17];                  /* request fingerprint */
    char id[HL_UUID_LEN + 1];       /* new appeal id */
    char code[HL_TRACKING_LEN + 1]; /* new tracking code */
    char resident[HL_UUID_LEN + 1]; /* new resident id */
    int attempts;                   /* tracking-code collisions retried */
    json_t *found;                  /* the earlier appeal for a repeated key */
    bool mismatch;                  /* repeated key, different request */
} s_post_t;

static void s_post_free(s_post_t *p)
{
    json_decref(p->a.json);
    json_decref(p->found);
    free(p->idem_key);
    free(p);
}

/* Reads optional string field `key`; replies 422 and returns false when it
 * is present but not a non-empty string of at most `max` characters. */
static bool s_string(hl_http_req_t *req, json_t *obj, const char *key, const char *path,
                     bool required, size_t max, const char **out)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required) {
            hl_http_reply_error(req, 422, path, "%s is required", path);
            return false;
        }
        return true;
    }
    if (!json_is_string(v)) {
        hl_http_reply_error(req, 422, path, "%s must be a string", path);
        return false;
    }
    const char *s = json_string_value(v);
    if (strlen(s) != json_string_length(v)) {
        hl_http_reply_error(req, 422, path, "%s must not contain NUL characters", path);
        return false;
    }
    size_t n = intake_utf8_len(s);
    size_t trimmed = strspn(s, " \t\r\n");
    if (n == 0 || trimmed == strlen(s)) {
        hl_http_reply_error(req, 422, path, "%s must not be empty", path);
        return false;
    }
    if (n > max) {
        hl_http_reply_error(req, 422, path, "%s is %zu characters long; the limit is %zu", path, n,
                            max);
        return false;
    }
    *out = s;
    return true;
}

static bool s_only_keys(hl_http_req_t *req, json_t *obj, const char *const *allowed,
                        const char *prefix)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            ok = ok || strcmp(*a, key) == 0;
        if (!ok) {
            char path[128];
            snprintf(path, sizeof path, "%s%.100s", prefix, key);
            hl_http_reply_error(req, 422, path, "unknown field \"%s\"", path);
            return false;
        }
    }
    return true;
}

static bool s_validate(hl_http_req_t *req, json_t *j, s_appeal_t *a)
{
    static const char *const top[] = {"channel", "org_unit",   "category", "title", "body",
                                      "contact", "source_ref", "location", NULL};
    static const char *const contact_keys[] = {"name", "phone", NULL};
    static const char *const location_keys[] = {"lat", "lon", NULL};
    if (!s_only_keys(req, j, top, ""))
        return false;
    if (!s_string(req, j, "channel", "channel", true, 16, &a->channel))
        return false;
    bool known = false;
    for (size_t i = 0; i < sizeof s_channels / sizeof s_channels[0]; i++)
        known = known || strcmp(a->channel, s_channels[i]) == 0;
    if (!known) {
        hl_http_reply_error(req, 422, "channel",
                            "unknown channel \"%.32s\" (qr, mailbox, visit, web, platform, phone)",
                            a->channel);
        return false;
    }
    if (!s_string(req, j, "org_unit", "org_unit", true, 32, &a->org_unit) ||
        !s_string(req, j, "category", "category", false, 64, &a->category) ||
        !s_string(req, j, "title", "title", false, 200, &a->title) ||
        !s_string(req, j, "body", "body", true, 5000, &a->body) ||
        !s_string(req, j, "source_ref", "source_ref", false, 100, &a->source_ref))
        return false;
    json_t *contact = json_object_get(j, "contact");
    if (contact && !json_is_null(contact)) {
        if (!json_is_object(contact)) {
            hl_http_reply_error(req, 422, "contact", "contact must be an object {name, phone}");
            return false;
        }
        if (!s_only_keys(req, contact, contact_keys, "contact.") ||
            !s_string(req, contact, "name", "contact.name", false, 50, &a->name) ||
            !s_string(req, contact, "phone", "contact.phone", false, 20, &a->phone))
            return false;
        if (a->phone) {
            size_t digits = 0;
            for (const char *p = a->phone; *p; p++) {
                if (*p >= '0' && *p <= '9')
                    digits++;
                else if (!(*p == '+' && p == a->phone) && *p != '-' && *p != ' ') {
                    hl_http_reply_error(req, 422, "contact.phone",
                                        "contact.phone may hold only digits, spaces, '-' and a "
                                        "leading '+'");
                    return false;
                }
            }
            if (digits < 5 || digits > 15) {
                hl_http_reply_error(req, 422, "contact.phone",
                                    "contact.phone must have 5 to 15 digits");
                return false;
            }
        }
    }
    json_t *loc = json_object_get(j, "location");
    if (loc && !json_is_null(loc)) {
        if (!json_is_object(loc) || !s_only_keys(req, loc, location_keys, "location.")) {
            if (!json_is_object(loc))
                hl_http_reply_error(req, 422, "location", "location must be an object {lat, lon}");
            return false;
        }
        json_t *lat = json_object_get(loc, "lat"), *lon = json_object_get(loc, "lon");
        if (!json_is_number(lat) || !json_is_number(lon)) {
            hl_http_reply_error(req, 422, !json_is_number(lat) ? "location.lat" : "location.lon",
                                "location needs numeric lat and lon");
            return false;
        }
        a->lat = json_number_value(lat);
        a->lon = json_number_value(lon);
        if (!isfinite(a->lat) || a->lat < -90 || a->lat > 90) {
            hl_http_reply_error(req, 422, "location.lat", "location.lat must be in [-90, 90]");
            return false;
        }
        if (!isfinite(a->lon) || a->lon < -180 || a->lon > 180) {
            hl_http_reply_error(req, 422, "location.lon", "location.lon must be in [-180, 180]");
            return false;
        }
        a->has_location = true;
    }
    return true;
}

static void s_fingerprint(const char *data, size_t len, char out[17])
{
    /* FNV-1a: only to tell "same request again" from "key reused". */
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)data[i];
        h *= 1099511628211ULL;
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static const char s_sql_resident[] =
    "INSERT INTO intake.resident (id, phone, name) VALUES ($1::uuid, $2, $3)"
    " ON CONFLICT (phone) DO UPDATE SET name = COALESCE(EXCLUDED.name, intake.resident.name),"
    " last_seen_at = now()";

static const char s_sql_appeal[] =
    "INSERT INTO intake.appeal (id, tracking_code, channel, org_unit, category, title, body,"
    " resident_id, source_ref, lat, lon, idempotency_key, request_hash)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7,"
    " CASE WHEN $8::text IS NOT NULL"
    "      THEN (SELECT id FROM intake.resident WHERE phone = $8::text) ELSE $9::uuid END,"
    " $10, $11::float8, $12::float8, $13, $14)";

static const char s_sql_event[] =
    "INSERT INTO intake.appeal_event (appeal_id, status, detail) VALUES ($1, 'received', $2)";

static const char s_sql_by_key[] =
    "SELECT id::text, tracking_code, status, request_hash FROM intake.appeal"
    " WHERE idempotency_key = $1";

static void s_submit(s_post_t *p);

static void s_reply_created(s_post_t *p, int status, const char *id, const char *code,
                            const char *state)
{
    char loc[64];
    snprintf(loc, sizeof loc, "/v1/appeals/%s", code);
    hl_http_add_header(p->req, "Location", loc);
    if (status == 200)
        hl_http_add_header(p->req, "Idempotent-Replayed", "true");
    hl_http_reply_json(
        p->req, status,
        json_pack("{s:s, s:s, s:s}", "id", id, "tracking_code", code, "status", state));
}

static void s_by_key_rows(void *arg, const PGresult *res)
{
    s_post_t *p = arg;
    if (PQntuples(res) != 1)
        return;
    p->found = json_pack("{s:s, s:s, s:s}", "id", PQgetvalue(res, 0, 0), "tracking_code",
                         PQgetvalue(res, 0, 1), "status", PQgetvalue(res, 0, 2));
    p->mismatch = strcmp(PQgetvalue(res, 0, 3), p->hash) != 0;
}

static void s_by_key_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_post_t *p = arg;
    if (rc != 0 || !p->found) {
        /* The key's appeal vanished or the database is gone: let the client retry. */
        hl_http_add_header(p->req, "Retry-After", "1");
        hl_http_reply_error(p->req, 503, NULL, "could not look up the idempotency key: %s",
                            rc ? err->message : "not found");
    } else if (p->mismatch) {
        hl_metric_add(p->in->refused, 1);
        hl_http_reply_error(p->req, 422, "Idempotency-Key",
                            "this Idempotency-Key was already used for a different request");
    } else {
        hl_metric_add(p->in->replayed, 1);
        s_reply_created(p, 200, json_string_value(json_object_get(p->found, "id")),
                        json_string_value(json_object_get(p->found, "tracking_code")),
                        json_string_value(json_object_get(p->found, "status")));
    }
    s_post_free(p);
}

static void s_insert_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_post_t *p = arg;
    if (rc == 0) {
        hl_metric_add(p->in->accepted, 1);
        hl_debug("appeal", p->id, "stored appeal %s from %s", p->code, p->a.channel);
        s_reply_created(p, 201, p->id, p->code, "received");
        s_post_free(p);
        return;
    }
    const char *con = err->constraint ? err->constraint : "";
    if (rc == HL_ECONFLICT && strcmp(con, "appeal_idempotency_key_key") == 0) {
        hl_dbu_t *u = hl_dbu_new(p->in->svc->db, s_by_key_done, p);
        HL_DBU(u, s_sql_by_key, s_by_key_rows, p, p->idem_key);
        hl_dbu_submit(&u);
        return;
    }
    if (rc == HL_ECONFLICT && strcmp(con, "appeal_tracking_code_key") == 0 && p->attempts < 3) {
        p->attempts++;
        s_submit(p);
        return;
    }
    if (rc == HL_EINVAL && strstr(con, "org_unit")) {
        hl_metric_add(p->in->refused, 1);
        hl_http_reply_error(p->req, 422, "org_unit", "unknown org unit code \"%.32s\"",
                            p->a.org_unit);
    } else if (rc == HL_EINVAL && strstr(con, "category")) {
        hl_metric_add(p->in->refused, 1);
        hl_http_reply_error(p->req, 422, "category", "unknown category code \"%.64s\"",
                            p->a.category);
    } else if (rc == HL_EINVAL) {
        hl_metric_add(p->in->refused, 1);
        hl_http_reply_error(p->req, 422, NULL, "appeal refused: %s", err->message);
    } else {
        hl_warn("appeal", p->id, "could not store appeal: %s", err->message);
        hl_http_add_header(p->req, "Retry-After", "1");
        hl_http_reply_error(p->req, 503, NULL,
                            "could not store the appeal now; retry with the "
                            "same Idempotency-Key");
    }
    s_post_free(p);
}

static void s_submit(s_post_t *p)
{
    const s_appeal_t *a = &p->a;
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
    char lat[32], lon[32];
    snprintf(lat, sizeof lat, "%.9g", a->lat);
    snprintf(lon, sizeof lon, "%.9g", a->lon);
    HL_DBU(u, s_sql_appeal, NULL, NULL, p->id, p->code, a->channel, a->org_unit, a->category,
           a->title, a->body, a->phone, resident, a->source_ref, a->has_location ? lat : NULL,
           a->has_location ? lon : NULL, p->idem_key, p->hash);
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
    hl_pipeline_emit(in->svc->pipeline, u, HL_STAGE_APPEAL, "AppealReceived", p->id, &msg.base,
                     NULL);
    hl_dbu_submit(&u);
}

void intake_appeal_post(hl_http_req_t *req, void *arg)
{
    intake_t *in = arg;
    const char *key = hl_http_header(req, "Idempotency-Key");
    if (key && (strlen(key) == 0 || strlen(key) > 200)) {
        hl_metric_add(in->refused, 1);
        hl_http_reply_error(req, 422, "Idempotency-Key",
                            "Idempotency-Key must be 1 to 200 characters");
        return;
    }
    json_t *j = hl_http_json_body(req);
    if (!j) {
        hl_metric_add(in->refused, 1);
        return;
    }
    s_post_t *p = hl_calloc(1, sizeof *p);
    p->in = in;
    p->req = req;
    p->a.json = j;
    if (!s_validate(req, j, &p->a)) {
        hl_metric_add(in->refused, 1);
        s_post_free(p);
        return;
    }
    p->idem_key = key ? hl_strdup(key) : NULL;
    size_t len;
    const char *body = hl_http_body(req, &len);
    s_fingerprint(body, len, p->hash);
    hl_http_suspend(req);
    s_submit(p);
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

static json_t *s_text_or_null(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? json_null() : json_string(PQgetvalue(res, row, col));
}

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
        json_object_set_new(g->appeal, names[c], s_text_or_null(res, 0, c));
}

static void s_history_rows(void *arg, const PGresult *res)
{
    s_get_t *g = arg;
    g->history = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(
            g->history, json_pack("{s:o, s:o, s:o}", "status", s_text_or_null(res, i, 0), "at",
                                  s_text_or_null(res, i, 1), "detail", s_text_or_null(res, i, 2)));
}

static void s_get_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_get_t *g = arg;
    if (rc != 0) {
        hl_http_add_header(g->req, "Retry-After", "1");
        hl_http_reply_error(g->req, 503, NULL, "could not read the appeal now: %s", err->message);
    } else if (!g->appeal) {
        hl_http_reply_error(g->req, 404, "tracking_code", "no appeal has this tracking code");
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
    const char *code = hl_http_param(req, 0);
    if (!hl_tracking_valid(code)) {
        hl_http_reply_error(req, 404, "tracking_code",
                            "no appeal has this tracking code (codes look like HL7K3M9QXP2A)");
        return;
    }
    s_get_t *g = hl_calloc(1, sizeof *g);
    g->req = req;
    hl_http_suspend(req);
    hl_dbu_t *u = hl_dbu_new(in->svc->db, s_get_done, g);
    HL_DBU(u, s_sql_get, s_get_rows, g, code);
    HL_DBU(u, s_sql_history, s_history_rows, g, code);
    hl_dbu_submit(&u);
}
