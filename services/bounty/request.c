/* request.c: the small pieces every hl-bounty endpoint shares — reading
 * the wish id from the path and string fields from a JSON body, refusing
 * unknown fields, and turning a verdict or a database failure into the
 * JSON error reply (see hl_http.h for its shape). */
#include "bounty.h"

#include <stdio.h>
#include <string.h>

bool bounty_body_string(hl_http_req_t *req, json_t *obj, const char *key, bool required, size_t max,
                        const char **out)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required) {
            hl_http_reply_error(req, 422, key, "%s is required", key);
            return false;
        }
        return true;
    }
    if (!json_is_string(v)) {
        hl_http_reply_error(req, 422, key, "%s must be a string", key);
        return false;
    }
    const char *s = json_string_value(v);
    if (strlen(s) != json_string_length(v)) {
        hl_http_reply_error(req, 422, key, "%s must not contain NUL characters", key);
        return false;
    }
    long n = hl_utf8_len(s); /* jansson hands out valid UTF-8 only */
    if (n <= 0 || strspn(s, " \t\r\n") == strlen(s)) {
        hl_http_reply_error(req, 422, key, "%s must not be empty", key);
        return false;
    }
    if ((size_t)n > max) {
        hl_http_reply_error(req, 422, key, "%s is %ld characters long; the limit is %zu", key, n,
                            max);
        return false;
    }
    *out = s;
    return true;
}

bool bounty_body_only(hl_http_req_t *req, json_t *obj, const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            ok = ok || strcmp(*a, key) == 0;
        if (!ok) {
            char field[104];
            snprintf(field, sizeof field, "%.100s", key);
            hl_http_reply_error(req, 422, field, "unknown field \"%s\"", field);
            return false;
        }
    }
    return true;
}

const char *bounty_path_id(hl_http_req_t *req)
{
    const char *id = hl_http_param(req, 0);
    if (!id || !hl_uuid_valid(id)) {
        hl_http_reply_error(req, 400, "id", "the id is a UUID");
        return NULL;
    }
    return id;
}

void bounty_reply_verdict(hl_http_req_t *req, const bounty_verdict_t *v)
{
    hl_http_reply_error(req, v->status, v->field, "%s", v->message);
}

void bounty_reply_db_error(hl_http_req_t *req, const char *what, const hl_dberr_t *err)
{
    hl_warn("wish", NULL, "could not %s: %s", what, err && err->message ? err->message : "");
    hl_http_add_header(req, "Retry-After", "1");
    hl_http_reply_error(req, 503, NULL, "could not %s now; retry", what);
}

json_t *bounty_text_or_null(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? json_null() : json_string(PQgetvalue(res, row, col));
}
