/* batch.c: POST /v1/appeals/batch, a stack of letters or visit notes at once.
 *
 * Staff who empty a red mailbox or come back from a day of door-to-door
 * visits type what they gathered into one file: NDJSON (Content-Type
 * application/x-ndjson, one POST /v1/appeals object per line) or CSV (text/
 * csv, a header row naming the columns, see lines.c). Each line is checked
 * and stored on its own, as one unit of intake_appeal_store; the units of a
 * batch are submitted in one loop turn, so hl_db commits them together and,
 * when one fails, re-runs the others without it: one bad line never loses
 * the good ones. The answer (always 200 once the batch itself was readable)
 * lists every line's outcome: {"line", "status": 201 stored | 200 already
 * stored | 4xx refused | 503 retry, "tracking_code", "error": {field,
 * message}}, with counts.
 *
 * A re-sent batch creates nothing twice. Each line's idempotency key is its
 * own "idempotency_key" field, else the batch's Idempotency-Key header plus
 * ":" and the line number, else "line:" and a fingerprint of the line's
 * bytes (two identical letters in one stack count as one). Before storing,
 * one read looks all the keys up, so a whole re-sent batch is answered from
 * that read without a failed insert per line; a line raced by a concurrent
 * copy of the batch still ends in the insert's unique-key replay.
 *
 * Admission is that of POST /v1/appeals (an API key as a bearer token, or
 * the client's address), at one token per line: once the body is split,
 * the batch is admitted whole or refused whole with 429 and Retry-After,
 * before anything touches the database (see ratelimit.c). */
#include "intake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One line of a batch and its outcome. */
typedef struct {
    struct s_batch *b;              /* the batch */
    intake_record_t *rec;           /* the record it came from */
    intake_appeal_t a;              /* the validated appeal (strings into rec->obj) */
    char written_at[40];            /* a.written_at points here */
    char *key;                      /* idempotency key, owned */
    char hash[17];                  /* fingerprint of the line's bytes */
    bool to_store;                  /* valid, not yet stored */
    int status;                     /* outcome: 201, 200, 4xx, 503; 0 while pending */
    json_t *error;                  /* {field, message} for a refused line, owned */
    char id[HL_UUID_LEN + 1];       /* appeal id, for 201 and 200 */
    char code[HL_TRACKING_LEN + 1]; /* tracking code, for 201 and 200 */
} s_line_t;

/* One batch request in flight. */
typedef struct s_batch {
    intake_t *in;          /* service */
    hl_http_req_t *req;    /* suspended request */
    intake_records_t recs; /* the body's records */
    s_line_t *lines;       /* one per record */
    size_t pending;        /* lines handed to intake_appeal_store and not back */
    bool read_failed;      /* the key lookup failed */
} s_batch_t;

static void s_batch_free(s_batch_t *b)
{
    for (size_t i = 0; b->lines && i < b->recs.n; i++) {
        free(b->lines[i].key);
        json_decref(b->lines[i].error);
    }
    free(b->lines);
    intake_records_close(&b->recs);
    free(b);
}

static void s_fail(s_line_t *l, int status, const char *field, const char *message)
{
    l->status = status;
    l->to_store = false;
    /* The message may quote what the line held, cut at a byte count. */
    l->error = json_pack("{s:o}", "message", hl_json_text(message));
    if (field && *field)
        json_object_set_new(l->error, "field", hl_json_text(field));
}

static void s_reply(s_batch_t *b)
{
    json_t *results = json_array();
    int created = 0, replayed = 0, failed = 0;
    for (size_t i = 0; i < b->recs.n; i++) {
        s_line_t *l = &b->lines[i];
        json_t *r = json_pack("{s:i, s:i}", "line", l->rec->line, "status", l->status);
        if (l->status == 200 || l->status == 201) {
            json_object_set_new(r, "id", json_string(l->id));
            json_object_set_new(r, "tracking_code", json_string(l->code));
            *(l->status == 201 ? &created : &replayed) += 1;
        } else {
            json_object_set(r, "error", l->error);
            failed++;
        }
        json_array_append_new(results, r);
    }
    hl_info("batch", NULL, "batch of %zu lines: %d created, %d replayed, %d failed", b->recs.n,
            created, replayed, failed);
    hl_http_reply_json(b->req, 200,
                       json_pack("{s:o, s:i, s:i, s:i}", "results", results, "created", created,
                                 "replayed", replayed, "failed", failed));
    s_batch_free(b);
}

static void s_line_stored(void *arg, const intake_appeal_result_t *r)
{
    s_line_t *l = arg;
    s_batch_t *b = l->b;
    if (r->status == 200 || r->status == 201) {
        l->status = r->status;
        snprintf(l->id, sizeof l->id, "%s", r->id);
        snprintf(l->code, sizeof l->code, "%s", r->tracking_code);
    } else {
        s_fail(l, r->status, r->field, r->message ? r->message : "refused");
    }
    if (--b->pending == 0)
        s_reply(b);
}

/* ---- the key lookup, then the inserts ----------------------------------- */

static const char s_sql_keys[] =
    "SELECT idempotency_key, id::text, tracking_code, request_hash FROM intake.appeal"
    " WHERE idempotency_key IN (SELECT jsonb_array_elements_text($1::jsonb))";

static void s_keys_rows(void *arg, const PGresult *res)
{
    s_batch_t *b = arg;
    for (int row = 0; row < PQntuples(res); row++) {
        const char *key = PQgetvalue(res, row, 0);
        for (size_t i = 0; i < b->recs.n; i++) {
            s_line_t *l = &b->lines[i];
            if (!l->to_store || strcmp(l->key, key) != 0)
                continue;
            if (strcmp(PQgetvalue(res, row, 3), l->hash) != 0) {
                hl_metric_add(b->in->refused, 1);
                s_fail(l, 422, "idempotency_key",
                       "this line's idempotency key was already used for a different line");
                continue;
            }
            hl_metric_add(b->in->replayed, 1);
            l->to_store = false;
            l->status = 200;
            snprintf(l->id, sizeof l->id, "%s", PQgetvalue(res, row, 1));
            snprintf(l->code, sizeof l->code, "%s", PQgetvalue(res, row, 2));
        }
    }
}

static void s_keys_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_batch_t *b = arg;
    if (rc != 0) {
        hl_warn("batch", NULL, "could not look up the batch's idempotency keys: %s", err->message);
        hl_http_reply_error(b->req, 503, NULL,
                            "could not read the database now; re-send the batch as it is");
        s_batch_free(b);
        return;
    }
    /* Count first: a store may answer at once (and must not see 0 early). */
    b->pending = 1;
    for (size_t i = 0; i < b->recs.n; i++)
        b->pending += b->lines[i].to_store;
    for (size_t i = 0; i < b->recs.n; i++) {
        s_line_t *l = &b->lines[i];
        if (!l->to_store)
            continue;
        l->a.idem_key = l->key;
        l->a.request_hash = l->hash;
        intake_appeal_store(b->in, &l->a, s_line_stored, l);
    }
    if (--b->pending == 0)
        s_reply(b);
}

/* ---- the request ----------------------------------------------------------- */

static bool s_is_type(const char *ct, const char *type)
{
    size_t n = strlen(type);
    if (strncasecmp(ct, type, n) != 0 || (ct[n] && ct[n] != ';' && ct[n] != ' '))
        return false;
    const char *cs = strcasestr(ct + n, "charset=");
    return !cs || strncasecmp(cs + 8, "utf-8", 5) == 0 || strncasecmp(cs + 8, "\"utf-8\"", 7) == 0;
}

static bool s_printable_ascii(const char *s)
{
    for (; *s; s++)
        if (*s < 0x21 || *s > 0x7E)
            return false;
    return true;
}

int intake_batch_line(intake_record_t *rec, int64_t now_us, const char *batch_key,
                      intake_appeal_t *a, char written_at[40], char hash[17],
                      char key[INTAKE_BATCH_KEY_MAX])
{
    const char *line_key = NULL;
    if (rec->refusal.status ||
        intake_appeal_from_json(rec->obj, now_us, a, written_at, &line_key, &rec->refusal) != 0)
        return -1;
    intake_fingerprint(rec->start, rec->len, hash);
    if (line_key)
        snprintf(key, INTAKE_BATCH_KEY_MAX, "%s", line_key);
    else if (batch_key)
        snprintf(key, INTAKE_BATCH_KEY_MAX, "%s:%d", batch_key, rec->line);
    else
        snprintf(key, INTAKE_BATCH_KEY_MAX, "line:%s", hash);
    return 0;
}

/* The rest of POST /v1/appeals/batch, once the batch is admitted: checks
 * each line, then looks up which line keys were stored before. */
static void s_batch_admitted(void *arg, bool admitted)
{
    s_batch_t *b = arg;
    intake_t *in = b->in;
    hl_http_req_t *req = b->req;
    if (!admitted) {
        s_batch_free(b);
        return;
    }
    const char *batch_key = hl_http_header(req, "Idempotency-Key");
    b->lines = hl_calloc(b->recs.n, sizeof *b->lines);
    json_t *keys = json_array();
    int64_t now = hl_time_us();
    for (size_t i = 0; i < b->recs.n; i++) {
        s_line_t *l = &b->lines[i];
        intake_record_t *rec = &b->recs.v[i];
        l->b = b;
        l->rec = rec;
        char key[INTAKE_BATCH_KEY_MAX];
        if (intake_batch_line(rec, now, batch_key, &l->a, l->written_at, l->hash, key) != 0) {
            hl_metric_add(in->refused, 1);
            s_fail(l, rec->refusal.status, rec->refusal.field, rec->refusal.message);
            continue;
        }
        l->key = hl_strdup(key);
        l->to_store = true;
        json_array_append_new(keys, json_string(key));
    }
    char *list = json_dumps(keys, JSON_COMPACT);
    json_decref(keys);
    hl_http_suspend(req);
    hl_dbu_t *u = hl_dbu_new(in->svc->db, s_keys_done, b);
    HL_DBU(u, s_sql_keys, s_keys_rows, b, list);
    free(list);
    hl_dbu_submit(&u);
}

void intake_batch_post(hl_http_req_t *req, void *arg)
{
    intake_t *in = arg;
    const char *ct = hl_http_header(req, "Content-Type");
    bool csv = ct && s_is_type(ct, "text/csv");
    if (!ct || (!csv && !s_is_type(ct, "application/x-ndjson"))) {
        hl_metric_add(in->refused, 1);
        hl_http_reply_error(req, 415, "Content-Type",
                            "a batch is application/x-ndjson or text/csv in UTF-8, not \"%.64s\"",
                            ct ? ct : "(none)");
        return;
    }
    const char *batch_key = hl_http_header(req, "Idempotency-Key");
    if (batch_key &&
        (strlen(batch_key) == 0 || strlen(batch_key) > 180 || !s_printable_ascii(batch_key))) {
        hl_metric_add(in->refused, 1);
        hl_http_reply_error(req, 422, "Idempotency-Key",
                            "a batch's Idempotency-Key must be 1 to 180 printable ASCII "
                            "characters");
        return;
    }
    size_t len;
    const char *body = hl_http_body(req, &len);
    if (!body || len == 0) {
        hl_metric_add(in->refused, 1);
        hl_http_reply_error(req, 400, NULL, "request body is empty");
        return;
    }
    s_batch_t *b = hl_calloc(1, sizeof *b);
    b->in = in;
    b->req = req;
    hl_refusal_t why = {0};
    size_t max = (size_t)in->cfg->batch_max_lines;
    int rc = csv ? intake_csv_parse(body, len, max, &b->recs, &why)
                 : intake_ndjson_parse(body, len, max, &b->recs, &why);
    if (rc == 0 && b->recs.n == 0)
        rc = hl_refuse(&why, 422, NULL, "the batch holds no lines");
    if (rc != 0) {
        hl_metric_add(in->refused, 1);
        hl_req_reply(req, &why);
        s_batch_free(b);
        return;
    }
    /* Admission: one token per line, the whole batch or nothing (ratelimit.c). */
    intake_admit_json(in, req, (long long)b->recs.n, s_batch_admitted, b);
}
