/* hl_req: the one way a daemon checks a request and refuses it.
 *
 * A refusal is an hl_refusal_t (status, field, message) and goes out as the
 * one JSON error shape of hl_http: {"error":{"status","field","message"}}.
 * What an endpoint accepts is a table of hl_req_field_t (name, type,
 * required, bounds, allowed values, where to store it), checked by one
 * pure function, so every daemon refuses unknown fields, wrong types, text
 * that is not UTF-8 or holds control characters, and values out of bounds
 * with the same words. A JSON body's bad field is 422 (a body that is not
 * an object, 400); a query string's or form's is 400. A malformed id in a
 * path and an id nobody has get the same answer: 404 naming the id.
 *
 *   static const hl_req_field_t s_spec[] = {
 *       {.name = "title", .type = HL_REQ_TEXT, .flags = HL_REQ_REQUIRED, .max = 200,
 *        HL_REQ_AT(my_t, title)},
 *       {.name = "size", .type = HL_REQ_TEXT, .max = 8, .allowed = s_sizes,
 *        HL_REQ_AT(my_t, size)},
 *       {.name = "version", .type = HL_REQ_INT, .min = 1, .max = 1e9, HL_REQ_AT(my_t, version)},
 *       {0}};
 *   my_t m = {0};
 *   json_t *body = hl_req_body(req, s_spec, &m); // replies 4xx itself on NULL
 *
 * Everything here but the hl_req_reply* and hl_req_body/query/path
 * helpers is pure (no I/O) and unit-tested in tests/unit/test_req.c. */
#ifndef HL_REQ_H
#define HL_REQ_H

#include "hl_db.h"
#include "hl_http.h"
#include "hl_id.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- refusals ----------------------------------------------------------- */

#define HL_REFUSAL_FIELD_MAX   96  /* bytes of a field path, NUL included */
#define HL_REFUSAL_MESSAGE_MAX 320 /* bytes of a message, NUL included */

/* Why a request (or one line of a batch) is refused: what the 4xx says. */
typedef struct {
    int status;                           /* HTTP status; 0 while nothing is refused */
    char field[HL_REFUSAL_FIELD_MAX];     /* field at fault ("contact.phone"), "" if none */
    char message[HL_REFUSAL_MESSAGE_MAX]; /* why, in the PostgreSQL message style */
} hl_refusal_t;

/* Fills `why` and returns -1, so a validator can `return hl_refuse(...)`.
 * `field` may be NULL. Field and message are made UTF-8 (hl_utf8_repair):
 * they may quote what the client sent, or cut it at a byte count. */
int hl_refuse(hl_refusal_t *why, int status, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The error body {"error":{"status","field","message"}} of `why` (field
 * left out when empty); the caller owns it. For replies and for the
 * per-line outcomes of a batch. */
json_t *hl_refusal_json(const hl_refusal_t *why);
/* Replies with `why` (hl_http_reply_error). */
void hl_req_reply(hl_http_req_t *req, const hl_refusal_t *why);
/* Logs that `what` failed on the database (naming `object`) and replies
 * 503 "could not <what> now; retry" with Retry-After. `err` may be NULL. */
void hl_req_reply_db(hl_http_req_t *req, const char *object, const char *what,
                     const hl_dberr_t *err);

/* ---- field specs -------------------------------------------------------- */

typedef enum {
    HL_REQ_TEXT,   /* a string: valid UTF-8, no NUL, no control characters (tab and line
                      breaks only with HL_REQ_MULTILINE), not blank, at most `max`
                      characters; stored as const char * into the source */
    HL_REQ_INT,    /* an integer in [min, max]; stored as int64_t */
    HL_REQ_NUMBER, /* a finite number in [min, max]; stored as double */
    HL_REQ_BOOL,   /* true or false; stored as bool */
    HL_REQ_UUID,   /* a UUID in any case; stored lower-case as char[HL_UUID_LEN + 1] */
    HL_REQ_OBJECT, /* an object whose keys are `fields` (JSON only); its fields store
                      into the same `out` as the rest, and `at` (if set) gets a bool
                      true when the object is given */
    HL_REQ_ARRAY,  /* an array of min..max entries each checked as fields[0] (JSON only);
                      stored as a borrowed json_t * */
} hl_req_type_t;

#define HL_REQ_REQUIRED  0x1u /* absent (or null, or in a form or query empty) is refused */
#define HL_REQ_MULTILINE 0x2u /* TEXT may hold tabs and line breaks */

/* Where a field's value goes: HL_REQ_AT(struct type, member) in a spec. */
#define HL_REQ_AT(type, member) .at = offsetof(type, member) + 1

/* One field an endpoint accepts. A spec is an array ended by {0}. */
typedef struct hl_req_field {
    const char *name;                    /* the key; NULL ends the spec */
    hl_req_type_t type;                  /* what its value must be */
    unsigned flags;                      /* HL_REQ_REQUIRED, HL_REQ_MULTILINE */
    double min, max;                     /* TEXT: max characters (> 0); INT, NUMBER: bounds
                                            (both 0: any); ARRAY: entries (max 0: any) */
    const char *const *allowed;          /* TEXT: the only values allowed, NULL-ended, or NULL */
    const char *(*check)(const char *s); /* TEXT: a further rule; returns why not
                                            ("must be an org unit code, e.g. cp006") or NULL */
    const char *hint;                    /* replaces the generic "must be ..." of a refusal */
    const struct hl_req_field *fields;   /* OBJECT: its spec; ARRAY: an entry's (fields[0]) */
    size_t at;                           /* HL_REQ_AT(...): offset + 1 in `out`; 0 stores not */
} hl_req_field_t;

/* Checks JSON object `obj` against `spec`: refuses (400) a non-object and
 * (422, naming the field, "contact.phone" or "appeal_ids[2]" inside) an
 * unknown key, a required field absent, a value of the wrong type, text
 * that breaks hl_text's rules, a value out of bounds or not allowed, or one
 * `check` refuses. JSON null counts as absent. Stores each present field's
 * value at its `at` in `out` (absent fields leave `out` as it was, so
 * defaults set before stand); strings point into `obj`. Returns 0, or -1
 * with `why` filled (the first fault, in spec order). Pure. */
int hl_req_check(json_t *obj, const hl_req_field_t *spec, void *out, hl_refusal_t *why);

/* A name and value of a form or query string. */
typedef struct {
    const char *name;  /* field name */
    const char *value; /* its text, never NULL */
} hl_req_pair_t;

/* Looks up `name` among text pairs (a form, a query string); NULL if absent. */
typedef const char *(hl_req_get_fn)(const void *src, const char *name);

/* hl_req_check for text: pairs `pairs[0..n)` (a form body). Refuses (400)
 * a name not in `spec` and a name given twice; values are text, an empty
 * one counts as absent; INT and NUMBER values are parsed from decimal text
 * (NUMBER: no hex, no inf, no nan), BOOL from "true"/"false". OBJECT and
 * ARRAY are not for text. Pure. */
int hl_req_check_pairs(const hl_req_pair_t *pairs, size_t n, const hl_req_field_t *spec, void *out,
                       hl_refusal_t *why);
/* The same over a lookup `get(src, name)`, for sources that cannot list
 * their names (a query string as MHD keeps it): unknown names are not
 * seen, so not refused. Pure when `get` is. */
int hl_req_check_text(hl_req_get_fn *get, const void *src, const hl_req_field_t *spec, void *out,
                      hl_refusal_t *why);

/* Parses the request's JSON body (hl_http_json_body: 415/400 itself) and
 * checks it with hl_req_check. Returns the body (the caller owns it; the
 * strings stored in `out` point into it), or NULL when the request was
 * refused and answered. */
json_t *hl_req_body(hl_http_req_t *req, const hl_req_field_t *spec, void *out);
/* Checks the query string with hl_req_check_text; replies 400 and returns
 * false when it is refused. */
bool hl_req_query(hl_http_req_t *req, const hl_req_field_t *spec, void *out);

/* ---- ids in paths ------------------------------------------------------- */

typedef enum {
    HL_REQ_ID_UUID,     /* a UUID, made lower-case; refusals name field "id" */
    HL_REQ_ID_TRACKING, /* a resident's tracking code; refusals name "tracking_code" */
} hl_req_id_kind_t;

#define HL_REQ_ID_MAX (HL_UUID_LEN + 1) /* bytes of an id's canonical form, NUL included */

/* Checks id `s` (a path segment) of kind `kind`, naming the thing looked up
 * as `what` ("item", "wish"): writes its canonical form to `out` and
 * returns 0, or returns -1 with `why` the 404 of an id nobody has ("no item
 * has this id"): a malformed id is an unknown one. Pure. */
int hl_req_id(const char *s, hl_req_id_kind_t kind, const char *what, char out[HL_REQ_ID_MAX],
              hl_refusal_t *why);
/* The 404 for an id of kind `kind` that nobody has, as hl_req_id gives. */
int hl_refuse_unknown_id(hl_refusal_t *why, hl_req_id_kind_t kind, const char *what);
/* hl_req_id on the i-th {} of the route; replies the 404 and returns false
 * when it is refused. */
bool hl_req_path_id(hl_http_req_t *req, int i, hl_req_id_kind_t kind, const char *what,
                    char out[HL_REQ_ID_MAX]);
/* For POST /v1/things/{id}/action: hl_req_path_id on the first {} into
 * `id`, then the JSON body (hl_http_json_body). Returns the body (the
 * caller owns it), or NULL when either was refused and answered. */
json_t *hl_req_path_body(hl_http_req_t *req, hl_req_id_kind_t kind, const char *what,
                         char id[HL_REQ_ID_MAX]);
/* Replies the 404 of hl_refuse_unknown_id (the id was well formed, but the
 * database has no such row). */
void hl_req_reply_unknown_id(hl_http_req_t *req, hl_req_id_kind_t kind, const char *what);

/* ---- rows into replies --------------------------------------------------- */

/* Column `col` of row `row` as JSON: null when SQL NULL, else a string
 * (made UTF-8), an integer (decimal text), a boolean ("t"/"f") or a
 * number. The caller owns the value (json_object_set_new takes it). */
json_t *hl_req_col_text(const PGresult *res, int row, int col);
json_t *hl_req_col_int(const PGresult *res, int row, int col);
json_t *hl_req_col_bool(const PGresult *res, int row, int col);
json_t *hl_req_col_number(const PGresult *res, int row, int col);

#endif
