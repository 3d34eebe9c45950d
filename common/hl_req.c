/* hl_req: request checking and refusals shared by every daemon (see hl_req.h). */
#include "hl_req.h"

#include "hl_log.h"
#include "hl_text.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- refusals ----------------------------------------------------------- */

int hl_refuse(hl_refusal_t *why, int status, const char *field, const char *fmt, ...)
{
    why->status = status;
    snprintf(why->field, sizeof why->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why->message, sizeof why->message, fmt, ap);
    va_end(ap);
    hl_utf8_repair(why->field);
    hl_utf8_repair(why->message);
    return -1;
}

json_t *hl_refusal_json(const hl_refusal_t *why)
{
    return hl_http_error_json(why->status, why->field[0] ? why->field : NULL, why->message);
}

void hl_req_reply(hl_http_req_t *req, const hl_refusal_t *why)
{
    hl_http_reply_error(req, why->status, why->field[0] ? why->field : NULL, "%s", why->message);
}

void hl_req_reply_db(hl_http_req_t *req, const char *object, const char *what,
                     const hl_dberr_t *err)
{
    hl_warn(object, NULL, "could not %s: %s", what, err && err->message ? err->message : "");
    hl_http_reply_error(req, 503, NULL, "could not %s now; retry", what);
}

/* ---- one value ---------------------------------------------------------- */

/* Where a field's value is stored, or NULL. */
static void *s_slot(const hl_req_field_t *f, void *out)
{
    return out && f->at ? (char *)out + f->at - 1 : NULL;
}

/* The refusal of a value that is not what `f` wants: its hint, or `fmt`. */
static int s_must(hl_refusal_t *why, int status, const hl_req_field_t *f, const char *path,
                  const char *generic)
{
    return hl_refuse(why, status, path, "%s %s", path, f->hint ? f->hint : generic);
}

static bool s_bounded(const hl_req_field_t *f)
{
    return f->min != 0 || f->max != 0;
}

/* The generic "must be" of a number field, e.g. "must be an integer from 1 to 9". */
static const char *s_number_words(const hl_req_field_t *f, char *buf, size_t len)
{
    const char *kind = f->type == HL_REQ_INT ? "an integer" : "a number";
    if (!s_bounded(f))
        snprintf(buf, len, "must be %s", kind);
    else
        snprintf(buf, len, "must be %s from %.15g to %.15g", kind, f->min, f->max);
    return buf;
}

static int s_number_in_bounds(const hl_req_field_t *f, double v, const char *path, int status,
                              hl_refusal_t *why)
{
    char words[96];
    if (!isfinite(v) || (s_bounded(f) && (v < f->min || v > f->max)))
        return s_must(why, status, f, path, s_number_words(f, words, sizeof words));
    return 0;
}

/* Checks text `s` (NUL-free, `len` bytes) of field `f`, stores it. */
static int s_text(const hl_req_field_t *f, const char *s, const char *path, int status, void *out,
                  hl_refusal_t *why)
{
    assert(f->max >= 1); /* a text field has a length limit */
    char problem[HL_REFUSAL_MESSAGE_MAX];
    if (!hl_text_check(path, s, (size_t)f->max, true, (f->flags & HL_REQ_MULTILINE) != 0, problem,
                       sizeof problem))
        return hl_refuse(why, status, path, "%s", problem);
    if (f->allowed) {
        bool known = false;
        for (const char *const *a = f->allowed; *a && !known; a++)
            known = strcmp(*a, s) == 0;
        if (!known) {
            if (f->hint)
                return s_must(why, status, f, path, NULL);
            char list[HL_REFUSAL_MESSAGE_MAX - 64];
            size_t used = 0;
            list[0] = '\0';
            for (const char *const *a = f->allowed; *a && used < sizeof list; a++) {
                int n = snprintf(list + used, sizeof list - used, "%s%s",
                                 a == f->allowed ? "" : ", ", *a);
                used += n > 0 ? (size_t)n : 0;
            }
            return hl_refuse(why, status, path, "%s must be one of: %s", path, list);
        }
    }
    const char *bad = f->check ? f->check(s) : NULL;
    if (bad)
        return hl_refuse(why, status, path, "%s %s", path, f->hint ? f->hint : bad);
    const char **slot = s_slot(f, out);
    if (slot)
        *slot = s;
    return 0;
}

static int s_uuid(const hl_req_field_t *f, const char *s, const char *path, int status, void *out,
                  hl_refusal_t *why)
{
    char id[HL_UUID_LEN + 1];
    if (!hl_uuid_canonical(s, id))
        return s_must(why, status, f, path, "must be a UUID");
    char *slot = s_slot(f, out);
    if (slot)
        memcpy(slot, id, sizeof id);
    return 0;
}

static int s_store_int(const hl_req_field_t *f, double v, long long exact, const char *path,
                       int status, void *out, hl_refusal_t *why)
{
    if (s_number_in_bounds(f, v, path, status, why) != 0)
        return -1;
    int64_t *slot = s_slot(f, out);
    if (slot)
        *slot = exact;
    return 0;
}

static int s_store_number(const hl_req_field_t *f, double v, const char *path, int status,
                          void *out, hl_refusal_t *why)
{
    if (s_number_in_bounds(f, v, path, status, why) != 0)
        return -1;
    double *slot = s_slot(f, out);
    if (slot)
        *slot = v;
    return 0;
}

static int s_store_bool(const hl_req_field_t *f, bool v, void *out)
{
    bool *slot = s_slot(f, out);
    if (slot)
        *slot = v;
    return 0;
}

/* ---- JSON --------------------------------------------------------------- */

static int s_object(json_t *obj, const hl_req_field_t *spec, const char *prefix, void *out,
                    hl_refusal_t *why);

/* Checks JSON value `v` (not absent, not null) as field `f` at `path`. */
static int s_json_value(json_t *v, const hl_req_field_t *f, const char *path, void *out,
                        hl_refusal_t *why)
{
    switch (f->type) {
    case HL_REQ_TEXT:
    case HL_REQ_UUID:
        if (!json_is_string(v))
            return s_must(why, 422, f, path,
                          f->type == HL_REQ_UUID ? "must be a UUID" : "must be a string");
        if (strlen(json_string_value(v)) != json_string_length(v))
            return hl_refuse(why, 422, path, "%s must not contain NUL characters", path);
        return f->type == HL_REQ_UUID ? s_uuid(f, json_string_value(v), path, 422, out, why)
                                      : s_text(f, json_string_value(v), path, 422, out, why);
    case HL_REQ_INT: {
        char words[96];
        if (!json_is_integer(v))
            return s_must(why, 422, f, path, s_number_words(f, words, sizeof words));
        json_int_t n = json_integer_value(v);
        return s_store_int(f, (double)n, (long long)n, path, 422, out, why);
    }
    case HL_REQ_NUMBER: {
        char words[96];
        if (!json_is_number(v))
            return s_must(why, 422, f, path, s_number_words(f, words, sizeof words));
        return s_store_number(f, json_number_value(v), path, 422, out, why);
    }
    case HL_REQ_BOOL:
        if (!json_is_boolean(v))
            return s_must(why, 422, f, path, "must be true or false");
        return s_store_bool(f, json_is_true(v), out);
    case HL_REQ_OBJECT: {
        assert(f->fields); /* the object's own spec */
        if (!json_is_object(v))
            return s_must(why, 422, f, path, "must be an object");
        char prefix[HL_REFUSAL_FIELD_MAX];
        snprintf(prefix, sizeof prefix, "%s.", path);
        if (s_object(v, f->fields, prefix, out, why) != 0)
            return -1;
        return s_store_bool(f, true, out);
    }
    case HL_REQ_ARRAY: {
        size_t n = json_is_array(v) ? json_array_size(v) : 0;
        bool bounded = f->max > 0;
        if (!json_is_array(v) || (double)n < f->min || (bounded && (double)n > f->max)) {
            char words[96];
            if (bounded)
                snprintf(words, sizeof words, "must be an array of %.15g to %.15g entries", f->min,
                         f->max);
            else
                snprintf(words, sizeof words, "must be an array of at least %.15g entries", f->min);
            return s_must(why, 422, f, path, f->min == 0 && !bounded ? "must be an array" : words);
        }
        assert(f->fields && f->fields[0].name); /* the spec of an entry */
        size_t i;
        json_t *entry;
        json_array_foreach(v, i, entry)
        {
            char at[HL_REFUSAL_FIELD_MAX];
            snprintf(at, sizeof at, "%s[%zu]", path, i);
            if (json_is_null(entry))
                return hl_refuse(why, 422, at, "%s must not be null", at);
            /* An entry stores nothing: its field has no place in `out`. */
            hl_req_field_t one = f->fields[0];
            one.at = 0;
            if (s_json_value(entry, &one, at, NULL, why) != 0)
                return -1;
        }
        json_t **slot = s_slot(f, out);
        if (slot)
            *slot = v;
        return 0;
    }
    }
    return hl_refuse(why, 500, path, "%s has a field type hl_req does not know", path);
}

static const hl_req_field_t *s_find(const hl_req_field_t *spec, const char *name)
{
    for (const hl_req_field_t *f = spec; f->name; f++)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

static int s_object(json_t *obj, const hl_req_field_t *spec, const char *prefix, void *out,
                    hl_refusal_t *why)
{
    const char *key;
    json_t *v;
    char path[HL_REFUSAL_FIELD_MAX];
    json_object_foreach(obj, key, v)
    {
        if (!s_find(spec, key)) {
            snprintf(path, sizeof path, "%s%.60s", prefix, key);
            return hl_refuse(why, 422, path, "unknown field \"%s\"", path);
        }
    }
    for (const hl_req_field_t *f = spec; f->name; f++) {
        snprintf(path, sizeof path, "%s%s", prefix, f->name);
        v = json_object_get(obj, f->name);
        if (!v || json_is_null(v)) {
            if (f->flags & HL_REQ_REQUIRED)
                return hl_refuse(why, 422, path, "%s is required", path);
            continue;
        }
        if (s_json_value(v, f, path, out, why) != 0)
            return -1;
    }
    return 0;
}

int hl_req_check(json_t *obj, const hl_req_field_t *spec, void *out, hl_refusal_t *why)
{
    if (!json_is_object(obj))
        return hl_refuse(why, 400, NULL, "the body must be a JSON object");
    return s_object(obj, spec, "", out, why);
}

/* ---- text --------------------------------------------------------------- */

/* Integer text: 1 to 18 digits, after a '-' only when negative values may be. */
static bool s_parse_int(const char *s, bool negative, long long *out)
{
    const char *p = s + (negative && *s == '-');
    size_t n = strlen(p);
    if (n == 0 || n > 18 || strspn(p, "0123456789") != n)
        return false;
    *out = strtoll(s, NULL, 10);
    return true;
}

/* Decimal text: digits, sign, point and exponent only (no hex, inf, nan). */
static bool s_parse_number(const char *s, double *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > 40 || strspn(s, "0123456789.-+eE") != n)
        return false;
    char *end;
    double v = strtod(s, &end);
    if (*end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

static int s_text_value(const char *s, const hl_req_field_t *f, void *out, hl_refusal_t *why)
{
    const char *path = f->name;
    char words[96];
    switch (f->type) {
    case HL_REQ_TEXT:
        return s_text(f, s, path, 400, out, why);
    case HL_REQ_UUID:
        return s_uuid(f, s, path, 400, out, why);
    case HL_REQ_INT: {
        long long n;
        if (!s_parse_int(s, f->min < 0, &n))
            return s_must(why, 400, f, path, s_number_words(f, words, sizeof words));
        return s_store_int(f, (double)n, n, path, 400, out, why);
    }
    case HL_REQ_NUMBER: {
        double v;
        if (!s_parse_number(s, &v))
            return s_must(why, 400, f, path, s_number_words(f, words, sizeof words));
        return s_store_number(f, v, path, 400, out, why);
    }
    case HL_REQ_BOOL:
        if (strcmp(s, "true") != 0 && strcmp(s, "false") != 0)
            return s_must(why, 400, f, path, "must be true or false");
        return s_store_bool(f, strcmp(s, "true") == 0, out);
    case HL_REQ_OBJECT:
    case HL_REQ_ARRAY:
        break;
    }
    return hl_refuse(why, 500, path, "%s cannot be given as text", path);
}

int hl_req_check_text(hl_req_get_fn *get, const void *src, const hl_req_field_t *spec, void *out,
                      hl_refusal_t *why)
{
    for (const hl_req_field_t *f = spec; f->name; f++) {
        const char *s = get(src, f->name);
        if (!s || !*s) {
            if (f->flags & HL_REQ_REQUIRED)
                return hl_refuse(why, 400, f->name, "%s is required", f->name);
            continue;
        }
        if (s_text_value(s, f, out, why) != 0)
            return -1;
    }
    return 0;
}

typedef struct {
    const hl_req_pair_t *pairs; /* the form */
    size_t n;                   /* how many */
} s_pairs_t;

static const char *s_pairs_get(const void *src, const char *name)
{
    const s_pairs_t *p = src;
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->pairs[i].name, name) == 0)
            return p->pairs[i].value;
    return NULL;
}

int hl_req_check_pairs(const hl_req_pair_t *pairs, size_t n, const hl_req_field_t *spec, void *out,
                       hl_refusal_t *why)
{
    for (size_t i = 0; i < n; i++) {
        if (!s_find(spec, pairs[i].name))
            return hl_refuse(why, 400, pairs[i].name, "unknown field \"%.60s\"", pairs[i].name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(pairs[j].name, pairs[i].name) == 0)
                return hl_refuse(why, 400, pairs[i].name, "%.60s is given more than once",
                                 pairs[i].name);
    }
    s_pairs_t src = {pairs, n};
    return hl_req_check_text(s_pairs_get, &src, spec, out, why);
}

/* ---- requests ----------------------------------------------------------- */

json_t *hl_req_body(hl_http_req_t *req, const hl_req_field_t *spec, void *out)
{
    json_t *body = hl_http_json_body(req);
    if (!body)
        return NULL;
    hl_refusal_t why;
    if (hl_req_check(body, spec, out, &why) != 0) {
        hl_req_reply(req, &why);
        json_decref(body);
        return NULL;
    }
    return body;
}

static const char *s_query_get(const void *src, const char *name)
{
    return hl_http_query((const hl_http_req_t *)src, name);
}

bool hl_req_query(hl_http_req_t *req, const hl_req_field_t *spec, void *out)
{
    hl_refusal_t why;
    if (hl_req_check_text(s_query_get, req, spec, out, &why) != 0) {
        hl_req_reply(req, &why);
        return false;
    }
    return true;
}

/* ---- ids ---------------------------------------------------------------- */

int hl_refuse_unknown_id(hl_refusal_t *why, hl_req_id_kind_t kind, const char *what)
{
    if (kind == HL_REQ_ID_TRACKING)
        return hl_refuse(why, 404, "tracking_code", "no %s has this tracking code", what);
    return hl_refuse(why, 404, "id", "no %s has this id", what);
}

int hl_req_id(const char *s, hl_req_id_kind_t kind, const char *what, char out[HL_REQ_ID_MAX],
              hl_refusal_t *why)
{
    if (kind == HL_REQ_ID_UUID && s && hl_uuid_canonical(s, out))
        return 0;
    if (kind == HL_REQ_ID_TRACKING && s && hl_tracking_valid(s)) {
        snprintf(out, HL_REQ_ID_MAX, "%s", s);
        return 0;
    }
    return hl_refuse_unknown_id(why, kind, what);
}

bool hl_req_path_id(hl_http_req_t *req, int i, hl_req_id_kind_t kind, const char *what,
                    char out[HL_REQ_ID_MAX])
{
    hl_refusal_t why;
    if (hl_req_id(hl_http_param(req, i), kind, what, out, &why) != 0) {
        hl_req_reply(req, &why);
        return false;
    }
    return true;
}

json_t *hl_req_path_body(hl_http_req_t *req, hl_req_id_kind_t kind, const char *what,
                         char id[HL_REQ_ID_MAX])
{
    if (!hl_req_path_id(req, 0, kind, what, id))
        return NULL;
    return hl_http_json_body(req);
}

void hl_req_reply_unknown_id(hl_http_req_t *req, hl_req_id_kind_t kind, const char *what)
{
    hl_refusal_t why;
    hl_refuse_unknown_id(&why, kind, what);
    hl_req_reply(req, &why);
}

/* ---- rows into replies -------------------------------------------------- */

json_t *hl_req_col_text(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? json_null() : hl_json_text(PQgetvalue(res, row, col));
}

json_t *hl_req_col_int(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? json_null()
                                      : json_integer(strtoll(PQgetvalue(res, row, col), NULL, 10));
}

json_t *hl_req_col_bool(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? json_null()
                                      : json_boolean(PQgetvalue(res, row, col)[0] == 't');
}

json_t *hl_req_col_number(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? json_null()
                                      : json_real(strtod(PQgetvalue(res, row, col), NULL));
}
