/* intake.h: shared state of hl-intake, the front door (see main.c). */
#ifndef INTAKE_H
#define INTAKE_H

#include "hl.h"
#include "open311_fmt.h"

typedef struct {
    hl_svc_cfg_t svc;                /* the settings every daemon takes */
    long long rate_per_key_per_min;  /* HL_RATE_PER_KEY_PER_MIN: default per API key */
    long long rate_per_addr_per_min; /* HL_RATE_PER_ADDR_PER_MIN: per client address */
    long long rate_burst;            /* HL_RATE_BURST: bucket size, requests */
    const char *rate_exempt;         /* HL_RATE_EXEMPT: comma-separated addresses */
    const char *public_url;          /* HL_PUBLIC_URL: base URL for Open311 discovery */
    long long batch_max_lines;       /* HL_BATCH_MAX_LINES: most lines in one batch */
    long long key_lookups_per_s;     /* HL_KEY_LOOKUPS_PER_S: API keys looked up per second */
} intake_cfg_t;

typedef struct intake_keys intake_keys_t;           /* apikey.c */
typedef struct intake_ratelimit intake_ratelimit_t; /* ratelimit.c */

typedef struct {
    hl_service_t *svc;            /* loop, db, pipeline, http */
    const intake_cfg_t *cfg;      /* configuration */
    hl_metric_t *accepted;        /* appeals stored */
    hl_metric_t *replayed;        /* idempotent repeats answered */
    hl_metric_t *refused;         /* appeals refused as bad input */
    intake_keys_t *keys;          /* active API keys (apikey.c) */
    intake_ratelimit_t *per_key;  /* token buckets per API key */
    intake_ratelimit_t *per_addr; /* token buckets per client address */
    hl_metric_t *limited;         /* requests refused with 429 */
} intake_t;

/* ---- appeal.c: storing one validated appeal ------------------------------
 * Shared by POST /v1/appeals, Open311 POST requests and the batch import:
 * validate into an intake_appeal_t, call intake_appeal_store, answer in
 * the callback. */

/* A validated appeal. Strings are copied by intake_appeal_store, so the
 * caller may free them as soon as it returns. */
typedef struct {
    const char *channel;      /* required: qr, mailbox, visit, web, platform, phone */
    const char *org_unit;     /* required: org unit code */
    const char *category;     /* optional category code */
    const char *title;        /* optional */
    const char *body;         /* required */
    const char *name;         /* optional contact name */
    const char *phone;        /* optional contact phone */
    const char *source_ref;   /* optional */
    bool has_location;        /* lat/lon given */
    double lat, lon;          /* location (WGS84) */
    const char *idem_key;     /* optional Idempotency-Key */
    const char *request_hash; /* fingerprint of the request (with idem_key) */
    /* Channel details (see channel.c); a mailbox or QR code fixes the
     * compound, so org_unit may then be NULL. */
    int mailbox;            /* red mailbox number, 0 when none */
    const char *qr;         /* token of the QR code scanned, or NULL */
    const char *staff;      /* staff member who typed it in or visited, or NULL */
    const char *written_at; /* when it was written, RFC 3339, or NULL */
    /* Optional: adds the caller's own statements to the same unit, after
     * the appeal row (called again with a new id if a tracking code
     * collides); `extra_arg` must live until the done callback. */
    void (*extra)(hl_dbu_t *u, const char *appeal_id, void *extra_arg);
    void *extra_arg; /* for extra */
} intake_appeal_t;

/* The outcome of intake_appeal_store; valid only during the callback. */
typedef struct {
    int status;                /* 201 stored, 200 idempotent replay, 422 refused, 503 retry later */
    const char *field;         /* 422: the field at fault (org_unit, category, ...), or NULL */
    const char *message;       /* 422/503: what went wrong */
    const char *id;            /* 200/201: appeal id */
    const char *tracking_code; /* 200/201: tracking code */
    const char *state;         /* 200/201: resident-facing status */
} intake_appeal_result_t;

typedef void(intake_appeal_done_fn)(void *arg, const intake_appeal_result_t *result);

/* True when `a` has what intake_appeal_store requires: a channel, a body,
 * and an org unit or else a mailbox or QR code that fixes one. */
bool intake_appeal_complete(const intake_appeal_t *a);
/* Stores `a`, which must be complete, (contact row, appeal, first history
 * step, AppealReceived) in one unit and calls `done` after the commit or
 * the final failure. Counts accepted/replayed/refused. */
void intake_appeal_store(intake_t *in, const intake_appeal_t *a, intake_appeal_done_fn *done,
                         void *arg);
/* Checks a contact phone number; returns NULL or why it is refused. */
const char *intake_phone_invalid(const char *phone);
/* FNV-1a fingerprint of a request body into out[17]. */
void intake_fingerprint(const char *data, size_t len, char out[17]);

/* appeal.c: POST /v1/appeals and GET /v1/appeals/{tracking_code}. */
void intake_appeal_post(hl_http_req_t *req, void *arg);
void intake_appeal_get(hl_http_req_t *req, void *arg);
/* reference.c: GET /v1/categories and GET /v1/org-units. */
void intake_categories_get(hl_http_req_t *req, void *arg);
void intake_org_units_get(hl_http_req_t *req, void *arg);
/* feedback.c: POST /v1/appeals/{tracking_code}/confirm and .../reopen. */
void intake_feedback_confirm(hl_http_req_t *req, void *arg);
void intake_feedback_reopen(hl_http_req_t *req, void *arg);
/* status.c: the "status" stage consumer, which keeps residents' status. */
int intake_status_consume(intake_t *in);
/* Why a TriageDecision (NULL: it did not unpack) cannot be applied, or
 * NULL when it can. Static text. Pure. */
const char *intake_decision_check(const void *msg);
/* The same for an ItemResolved on the status stage: it must list appeal
 * ids, every one a UUID. */
const char *intake_resolved_check(const void *msg);

/* ---- apikey.c: API keys for machine clients ------------------------------ */
/* Starts the key table and its reload every 2 s. */
void intake_keys_start(intake_t *in);
/* Stops reloading (drain). */
void intake_keys_stop(intake_t *in);
/* What intake_keys_resolve found out about a key. */
typedef enum {
    INTAKE_KEY_ACTIVE,    /* known and active */
    INTAKE_KEY_UNKNOWN,   /* unknown or revoked */
    INTAKE_KEY_UNCHECKED, /* could not be looked up now (database, budget): retry later */
} intake_key_state_t;
/* `name` (the key's holder; valid only during the call) and `rate_per_min`
 * (its own rate, 0: the default) are set when the key is active. */
typedef void(intake_key_fn)(void *arg, intake_key_state_t state, const char *name,
                            long long rate_per_min);
/* Looks up a presented key and calls `done` exactly once: before returning
 * when the table in memory or the negative cache knows the key, else after
 * a query to PostgreSQL (see apikey.c). */
void intake_keys_resolve(intake_t *in, const char *key, intake_key_fn *done, void *arg);

/* ---- ratelimit.c: admission control --------------------------------------- */
/* The verdict of admission. */
typedef enum {
    INTAKE_ADMIT_OK,        /* serve it */
    INTAKE_ADMIT_BAD_KEY,   /* a key was given and is unknown or revoked */
    INTAKE_ADMIT_LIMITED,   /* over the rate: 429 with Retry-After */
    INTAKE_ADMIT_UNCHECKED, /* the key could not be checked now: 503 with Retry-After */
} intake_admit_t;
/* The outcome of intake_admit; valid only during the callback. */
typedef struct {
    intake_admit_t verdict;  /* what to do with the request */
    long long retry_after_s; /* LIMITED, UNCHECKED: seconds to wait */
    const char *key_name;    /* OK with a key: its holder, else NULL */
} intake_admission_t;
typedef void(intake_admit_fn)(void *arg, const intake_admission_t *admission);
/* Applies the per-address limit to a request without an API key that costs
 * `cost` tokens (1 for one appeal, the line count for a batch; see
 * ratelimit.c). Never waits. On INTAKE_ADMIT_LIMITED sets *retry_after_s. */
intake_admit_t intake_admit_addr(intake_t *in, hl_http_req_t *req, long long cost,
                                 long long *retry_after_s);
/* Admits `req`: with `key` (may be NULL: intake_admit_addr) the key must be
 * active and within its own rate. Calls `done` exactly once, before
 * returning unless the key has to be looked up in PostgreSQL; then the
 * request is suspended meanwhile. `key` need not outlive the call. */
void intake_admit(intake_t *in, hl_http_req_t *req, const char *key, long long cost,
                  intake_admit_fn *done, void *arg);
/* Sets Retry-After for a LIMITED or UNCHECKED admission (call before replying). */
void intake_admission_retry_after(hl_http_req_t *req, const intake_admission_t *admission);
typedef void(intake_admitted_fn)(void *arg, bool admitted);
/* intake_admit for the JSON API: reads "Authorization: Bearer <api key>"
 * (optional). When the request is not to be served it replies itself (401
 * malformed, unknown or revoked key; 429 or 503 with Retry-After) and calls
 * `next` with false, so the caller can free `arg`; else with true. */
void intake_admit_json(intake_t *in, hl_http_req_t *req, long long cost, intake_admitted_fn *next,
                       void *arg);

/* ---- open311.c: Open311 GeoReport v2 under /open311/v2/ ------------------- */
void intake_open311_discovery(hl_http_req_t *req, void *arg);
void intake_open311_services(hl_http_req_t *req, void *arg);
void intake_open311_service(hl_http_req_t *req, void *arg);
void intake_open311_requests_get(hl_http_req_t *req, void *arg);
void intake_open311_requests_post(hl_http_req_t *req, void *arg);
void intake_open311_request_get(hl_http_req_t *req, void *arg);
void intake_open311_token_get(hl_http_req_t *req, void *arg);

/* ---- channel details, batch import, resident pages ---------------------- */

/* Why an appeal (or one batch line) was refused is an hl_refusal_t
 * (hl_req.h): what the 4xx reply says. */

/* channel.c: the sense of the channel details once their shape is checked
 * (validate.c's table): a mailbox number only on the mailbox channel, a QR
 * token only on the qr channel, `written_at_text` (NULL: not given) a date
 * neither in the future nor older than a year, written to `written_at`
 * (RFC 3339 UTC) and pointed at by a->written_at. `now_us` is the wall
 * clock, a parameter for tests. Returns 0, or -1 with `why` filled. Pure. */
int intake_channel_check(intake_appeal_t *a, const char *written_at_text, int64_t now_us,
                         char written_at[40], hl_refusal_t *why);
/* Why `qr` is not a QR code token ("must be ..."), or NULL. */
const char *intake_qr_problem(const char *qr);

/* anchor.c: the compound of mailbox `mailbox` (when not 0) or QR code `qr`.
 * `done` gets it (valid only during the call), or NULL and why (422 naming
 * the field for an unknown box or code, 503 when the database failed). */
typedef void(intake_anchor_fn)(void *arg, const char *compound, const hl_refusal_t *why);
void intake_anchor_resolve(intake_t *in, int mailbox, const char *qr, intake_anchor_fn *done,
                           void *arg);

/* validate.c: the one check of an appeal given as a JSON object (POST
 * /v1/appeals, each batch line): fills `a` from `obj` without replying.
 * With `line_key` the object may carry "idempotency_key" (stored into
 * *line_key, NULL when absent); without it that field is unknown. Strings
 * in `a` point into `obj`; written_at into `written_at`. Returns 0, or -1
 * with `why` filled (400 not an object, 422 naming the field). Pure. */
int intake_appeal_from_json(json_t *obj, int64_t now_us, intake_appeal_t *a, char written_at[40],
                            const char **line_key, hl_refusal_t *why);

/* open311.c: what an Open311 POST requests form carries besides the appeal; strings
 * point into the form. */
typedef struct {
    const char *address;    /* address_string, or NULL */
    const char *address_id; /* address_id, or NULL */
    const char *media_url;  /* media_url, or NULL */
} intake_open311_extra_t;
/* Checks the decoded form of POST requests.{fmt} (`xml`: fmt is xml) into
 * `a`, channel "platform" (strings into `f`, `body_buf` for the description
 * with the address, `name_buf` for first and last name), and `extra`.
 * Returns 0, or -1 with `why` (400, or 404 for a jurisdiction not served)
 * whose message the Open311 error carries. Pure. */
int intake_open311_check(const intake_form_t *f, bool xml, intake_appeal_t *a,
                         intake_open311_extra_t *extra, char *body_buf, size_t body_len,
                         char *name_buf, size_t name_len, hl_refusal_t *why);

/* lines.c: splitting a batch body into records. Pure: no I/O. */
typedef struct {
    int line;             /* line of the body where the record starts, from 1 */
    const char *start;    /* the record's bytes, in the body */
    size_t len;           /* their length */
    json_t *obj;          /* the record as a request object, owned, or NULL */
    hl_refusal_t refusal; /* set (status != 0) when the record is bad */
} intake_record_t;
typedef struct {
    intake_record_t *v; /* records, in order */
    size_t n;           /* how many */
} intake_records_t;
/* Splits NDJSON: one JSON object per non-blank line. */
int intake_ndjson_parse(const char *body, size_t len, size_t max, intake_records_t *out,
                        hl_refusal_t *why);
/* Parses RFC 4180 CSV with a header row into request objects: columns
 * channel, org_unit, category, title, body, contact_name, contact_phone,
 * source_ref, lat, lon, mailbox, qr, staff, written_at, idempotency_key; an
 * empty cell is an absent field. A bad record is marked, the rest go on.
 * Returns 0, or -1 with `why` (bad header, too many records). */
int intake_csv_parse(const char *body, size_t len, size_t max, intake_records_t *out,
                     hl_refusal_t *why);
/* Frees the records and their objects. */
void intake_records_close(intake_records_t *r);

/* batch.c: POST /v1/appeals/batch. */
void intake_batch_post(hl_http_req_t *req, void *arg);
#define INTAKE_BATCH_KEY_MAX (200 * 4 + 1) /* a key: 200 characters (the column's limit), NUL */
/* One record of a batch, as POST /v1/appeals/batch takes it: checks it
 * into `a` (strings into rec->obj, written_at into `written_at`), writes
 * the fingerprint of its bytes into `hash` and its idempotency key (its
 * own, else `batch_key` (may be NULL) ":" its line, else "line:" and the
 * fingerprint) into `key`. Returns 0, or -1 with rec->refusal set. Pure. */
int intake_batch_line(intake_record_t *rec, int64_t now_us, const char *batch_key,
                      intake_appeal_t *a, char written_at[40], char hash[17],
                      char key[INTAKE_BATCH_KEY_MAX]);
/* form.c: the resident's pages for the QR channel and their assets. */
void intake_page_form_get(hl_http_req_t *req, void *arg);
void intake_page_track_get(hl_http_req_t *req, void *arg);
void intake_page_asset_get(hl_http_req_t *req, void *arg);

#endif
