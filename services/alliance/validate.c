/* validate.c: the checks hl-alliance applies before anything reaches an
 * agenda — an ItemEscalated from the "alliance" stage (refused and
 * dead-lettered when it fails) and the JSON bodies of the meeting endpoints
 * (answered 422 naming the field). Pure functions, no I/O, so
 * tests/unit/test_alliance_validate.c covers them. */
#include "alliance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decodes one UTF-8 sequence at `p`; returns its length and the code point
 * in *cp, or 0 when it is malformed (overlong, surrogate, out of range). */
bool alliance_escalation_check(const Hl__ItemEscalated *e, char *why, size_t len)
{
    if (!e) {
        snprintf(why, len, "payload is not an ItemEscalated message");
        return false;
    }
    if (!e->item_id || !hl_uuid_valid(e->item_id)) {
        snprintf(why, len, "item_id %s", e->item_id ? "is not a UUID" : "is missing");
        return false;
    }
    if (!hl_text_check("title", e->title, ALLIANCE_TITLE_MAX, false, false, why, len) ||
        !hl_text_check("body", e->body, ALLIANCE_BODY_MAX, false, true, why, len) ||
        !hl_text_check("category", e->category, ALLIANCE_CATEGORY_MAX, false, false, why, len) ||
        !hl_text_check("org_unit", e->org_unit, ALLIANCE_CODE_MAX, false, false, why, len) ||
        !hl_text_check("reason", e->reason, ALLIANCE_REASON_MAX, false, false, why, len))
        return false;
    if ((!e->title || !*e->title) && (!e->body || !*e->body)) {
        snprintf(why, len, "item has neither title nor body");
        return false;
    }
    if (e->has_level && (e->level < 0 || e->level > 100)) {
        snprintf(why, len, "level %d is out of range (0 to 100)", (int)e->level);
        return false;
    }
    if (e->has_appeal_count && e->appeal_count < 0) {
        snprintf(why, len, "appeal_count %d is negative", (int)e->appeal_count);
        return false;
    }
    return true;
}

void alliance_item_title(const Hl__ItemEscalated *e, char *out, size_t outlen)
{
    if (outlen == 0)
        return;
    if (e->title && *e->title) {
        snprintf(out, outlen, "%s", e->title);
        return;
    }
    /* Line breaks in the body become spaces: a title is one line. */
    const unsigned char *p = (const unsigned char *)(e->body ? e->body : "");
    size_t used = 0, chars = 0;
    while (*p && chars < ALLIANCE_TITLE_FROM) {
        unsigned cp;
        int n = hl_utf8_next(p, &cp);
        if (n == 0 || used + (size_t)n + 4 > outlen)
            break;
        if (cp == '\n' || cp == '\r' || cp == '\t')
            out[used] = ' ';
        else
            memcpy(out + used, p, (size_t)n);
        used += cp == '\n' || cp == '\r' || cp == '\t' ? 1 : (size_t)n;
        p += n;
        chars++;
    }
    while (used > 0 && out[used - 1] == ' ')
        used--;
    if (*p && used + 4 <= outlen) {
        memcpy(out + used, "\xe2\x80\xa6", 3); /* "…" */
        used += 3;
    }
    out[used] = '\0';
}

/* Refuses keys other than `allowed`. */
static bool s_only(json_t *body, const char *const *allowed, const char **field, char *msg,
                   size_t len)
{
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            ok = ok || strcmp(*a, key) == 0;
        if (!ok) {
            *field = "body";
            snprintf(msg, len, "unknown field \"%.64s\"", key);
            return false;
        }
    }
    return true;
}

/* Reads string `key`: NULL when absent or null; false when not a string or bad. */
static bool s_string(json_t *body, const char *key, size_t max, bool required, bool multiline,
                     const char **out, const char **field, char *msg, size_t len)
{
    json_t *v = json_object_get(body, key);
    *out = NULL;
    *field = key;
    if (v && !json_is_null(v) && !json_is_string(v)) {
        snprintf(msg, len, "%s must be a string", key);
        return false;
    }
    const char *s = v && json_is_string(v) ? json_string_value(v) : NULL;
    if (s && strlen(s) != json_string_length(v)) {
        snprintf(msg, len, "%s must not contain NUL characters", key);
        return false;
    }
    if (s && !*s && !required) {
        snprintf(msg, len, "%s must not be empty (leave it out instead)", key);
        return false;
    }
    if (!hl_text_check(key, s, max, required, multiline, msg, len))
        return false;
    *out = s;
    return true;
}

bool alliance_outcome_parse(json_t *body, alliance_outcome_t *out, const char **field, char *msg,
                            size_t len)
{
    static const char *const keys[] = {"item_id", "outcome", "unit", NULL};
    memset(out, 0, sizeof *out);
    if (!s_only(body, keys, field, msg, len) ||
        !s_string(body, "item_id", HL_UUID_LEN, true, false, &out->item_id, field, msg, len))
        return false;
    if (!hl_uuid_valid(out->item_id)) {
        snprintf(msg, len, "item_id must be a UUID");
        return false;
    }
    return s_string(body, "outcome", ALLIANCE_OUTCOME_MAX, true, true, &out->outcome, field, msg,
                    len) &&
           s_string(body, "unit", ALLIANCE_CODE_MAX, false, false, &out->unit, field, msg, len);
}

bool alliance_held_parse(json_t *body, const char **minutes, const char **field, char *msg,
                         size_t len)
{
    static const char *const keys[] = {"minutes", NULL};
    *minutes = NULL;
    if (!body)
        return true;
    return s_only(body, keys, field, msg, len) &&
           s_string(body, "minutes", ALLIANCE_MINUTES_MAX, false, true, minutes, field, msg, len);
}

bool alliance_domain_wellformed(const char *code)
{
    size_t n = code ? strlen(code) : 0;
    if (n == 0 || n > 64)
        return false;
    for (const char *p = code; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return false;
    return true;
}
