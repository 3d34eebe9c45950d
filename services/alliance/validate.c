/* validate.c: the checks hl-alliance applies before anything reaches an
 * agenda — an ItemEscalated from the "alliance" stage (refused and
 * dead-lettered when it fails) and the JSON bodies of the meeting endpoints
 * (answered 422 naming the field). Pure functions, no I/O, so
 * tests/unit/test_alliance_validate.c covers them. */
#include "alliance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

bool alliance_json_only(json_t *body, const char *const *allowed, const char **field, char *msg,
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

bool alliance_json_string(json_t *body, const char *key, size_t max, bool required, bool multiline,
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
    if (!alliance_json_only(body, keys, field, msg, len) ||
        !alliance_json_string(body, "item_id", HL_UUID_LEN, true, false, &out->item_id, field, msg,
                              len))
        return false;
    if (!hl_uuid_valid(out->item_id)) {
        snprintf(msg, len, "item_id must be a UUID");
        return false;
    }
    return alliance_json_string(body, "outcome", ALLIANCE_OUTCOME_MAX, true, true, &out->outcome,
                                field, msg, len) &&
           alliance_json_string(body, "unit", ALLIANCE_CODE_MAX, false, false, &out->unit, field,
                                msg, len);
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

bool alliance_code_wellformed(const char *code)
{
    size_t n = code ? strlen(code) : 0;
    if (n == 0 || n > ALLIANCE_CODE_MAX)
        return false;
    for (const char *p = code; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-'))
            return false;
    return true;
}

/* `n` digits at `p`, their value in *v. */
static bool s_digits(const char *p, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        *v = *v * 10 + (p[i] - '0');
    }
    return true;
}

static bool s_date(const char *t)
{
    int y, m, d;
    return t && s_digits(t, 4, &y) && t[4] == '-' && s_digits(t + 5, 2, &m) && t[7] == '-' &&
           s_digits(t + 8, 2, &d) && y >= 2000 && y <= 2999 && m >= 1 && m <= 12 && d >= 1 &&
           d <= 31;
}

bool alliance_date_wellformed(const char *text)
{
    return text && strlen(text) == 10 && s_date(text);
}

/* A deadline: a date (the end of that day in Beijing time) or an RFC 3339
 * time with its zone. Writes the form PostgreSQL reads into `out`. */
static bool s_deadline(const char *t, char *out, size_t outlen)
{
    if (!t || !s_date(t))
        return false;
    size_t n = strlen(t);
    if (n == 10) {
        snprintf(out, outlen, "%sT23:59:59+08:00", t);
        return true;
    }
    int hh, mm, ss = 0;
    const char *p = t + 10;
    if (*p != 'T' || !s_digits(p + 1, 2, &hh) || p[3] != ':' || !s_digits(p + 4, 2, &mm))
        return false;
    p += 6;
    if (*p == ':') {
        if (!s_digits(p + 1, 2, &ss))
            return false;
        p += 3;
    }
    if (hh > 23 || mm > 59 || ss > 59)
        return false;
    int zh, zm;
    bool zone = strcmp(p, "Z") == 0 ||
                ((*p == '+' || *p == '-') && strlen(p) == 6 && s_digits(p + 1, 2, &zh) &&
                 p[3] == ':' && s_digits(p + 4, 2, &zm) && zh <= 14 && zm <= 59);
    if (!zone)
        return false;
    snprintf(out, outlen, "%s", t);
    return true;
}

static const char *const s_kinds[] = {"resolved", "assigned", "board", NULL};
static const char *const s_tags[] = {"co_build",         "share_venues",   "share_resources",
                                     "discuss_together", "solve_together", NULL};

static bool s_in(const char *s, const char *const *list)
{
    for (; s && *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

/* Sets the field name "prefix[i].key" into fieldbuf and *field. */
static void s_field(const char **field, char *buf, size_t buflen, const char *fmt, size_t i,
                    size_t j)
{
    snprintf(buf, buflen, fmt, i, j);
    *field = buf;
}

static bool s_action(json_t *a, size_t i, size_t j, json_t *out, const char **field, char *fieldbuf,
                     size_t fieldlen, char *msg, size_t len)
{
    static const char *const keys[] = {"unit", "task", "due_at", NULL};
    const char *unit, *task, *due, *f;
    if (!json_is_object(a)) {
        s_field(field, fieldbuf, fieldlen, "decisions[%zu].actions[%zu]", i, j);
        snprintf(msg, len, "an action is an object {unit, task, due_at}");
        return false;
    }
    if (!alliance_json_only(a, keys, &f, msg, len) ||
        !alliance_json_string(a, "unit", ALLIANCE_CODE_MAX, true, false, &unit, &f, msg, len) ||
        !alliance_json_string(a, "task", ALLIANCE_TASK_MAX, true, true, &task, &f, msg, len) ||
        !alliance_json_string(a, "due_at", 40, true, false, &due, &f, msg, len)) {
        snprintf(fieldbuf, fieldlen, "decisions[%zu].actions[%zu].%s", i, j, f);
        *field = fieldbuf;
        return false;
    }
    if (!alliance_code_wellformed(unit)) {
        s_field(field, fieldbuf, fieldlen, "decisions[%zu].actions[%zu].unit", i, j);
        snprintf(msg, len, "unknown member unit (codes look like mu001)");
        return false;
    }
    char deadline[48];
    if (!s_deadline(due, deadline, sizeof deadline)) {
        s_field(field, fieldbuf, fieldlen, "decisions[%zu].actions[%zu].due_at", i, j);
        snprintf(msg, len,
                 "due_at must be a date YYYY-MM-DD or a time YYYY-MM-DDTHH:MM[:SS] "
                 "with Z or an offset");
        return false;
    }
    char id[HL_UUID_LEN + 1];
    hl_uuid_new(id);
    json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:s}", "id", id, "unit", unit, "task",
                                         task, "due_at", deadline));
    return true;
}

static bool s_decision(json_t *d, size_t i, alliance_held_t *out, const char **field,
                       char *fieldbuf, size_t fieldlen, char *msg, size_t len)
{
    static const char *const keys[] = {"item_id", "kind", "text", "tags", "unit", "actions", NULL};
    const char *item, *kind, *text, *unit, *f;
    if (!json_is_object(d)) {
        s_field(field, fieldbuf, fieldlen, "decisions[%zu]", i, 0);
        snprintf(msg, len, "a decision is an object {item_id, kind, text, tags, unit, actions}");
        return false;
    }
    if (!alliance_json_only(d, keys, &f, msg, len) ||
        !alliance_json_string(d, "item_id", HL_UUID_LEN, true, false, &item, &f, msg, len) ||
        !alliance_json_string(d, "kind", 16, true, false, &kind, &f, msg, len) ||
        !alliance_json_string(d, "text", ALLIANCE_OUTCOME_MAX, true, true, &text, &f, msg, len) ||
        !alliance_json_string(d, "unit", ALLIANCE_CODE_MAX, false, false, &unit, &f, msg, len)) {
        snprintf(fieldbuf, fieldlen, "decisions[%zu].%s", i, strcmp(f, "body") ? f : "");
        if (!strcmp(f, "body"))
            snprintf(fieldbuf, fieldlen, "decisions[%zu]", i);
        *field = fieldbuf;
        return false;
    }
    if (!hl_uuid_valid(item)) {
        s_field(field, fieldbuf, fieldlen, "decisions[%zu].item_id", i, 0);
        snprintf(msg, len, "item_id must be a UUID");
        return false;
    }
    if (!s_in(kind, s_kinds)) {
        s_field(field, fieldbuf, fieldlen, "decisions[%zu].kind", i, 0);
        snprintf(msg, len,
                 "kind must be resolved, assigned or board (an item left out is "
                 "carried to the next meeting)");
        return false;
    }
    if (unit && !alliance_code_wellformed(unit)) {
        s_field(field, fieldbuf, fieldlen, "decisions[%zu].unit", i, 0);
        snprintf(msg, len, "unknown member unit (codes look like mu001)");
        return false;
    }
    json_t *tags = json_object_get(d, "tags"), *clean_tags = json_array();
    if (tags && !json_is_null(tags) && !json_is_array(tags)) {
        json_decref(clean_tags);
        s_field(field, fieldbuf, fieldlen, "decisions[%zu].tags", i, 0);
        snprintf(msg, len, "tags must be a list of the five shared mechanisms");
        return false;
    }
    for (size_t j = 0; j < json_array_size(tags); j++) {
        const char *t = json_string_value(json_array_get(tags, j));
        if (!s_in(t, s_tags)) {
            json_decref(clean_tags);
            s_field(field, fieldbuf, fieldlen, "decisions[%zu].tags[%zu]", i, j);
            snprintf(msg, len,
                     "unknown mechanism: tags are co_build, share_venues, "
                     "share_resources, discuss_together, solve_together");
            return false;
        }
        json_array_append_new(clean_tags, json_string(t));
    }
    json_t *actions = json_object_get(d, "actions"), *clean_actions = json_array();
    bool assigned = strcmp(kind, "assigned") == 0;
    const char *why = NULL;
    if (actions && !json_is_null(actions) && !json_is_array(actions))
        why = "actions must be a list of {unit, task, due_at}";
    else if (assigned && json_array_size(actions) == 0)
        why = "an assigned item needs at least one action (unit, task, due_at)";
    else if (!assigned && json_array_size(actions) > 0)
        why = "only an assigned item has actions";
    else if (json_array_size(actions) > 20)
        why = "at most 20 actions per decision";
    if (why) {
        json_decref(clean_tags);
        json_decref(clean_actions);
        s_field(field, fieldbuf, fieldlen, "decisions[%zu].actions", i, 0);
        snprintf(msg, len, "%s", why);
        return false;
    }
    for (size_t j = 0; j < json_array_size(actions); j++)
        if (!s_action(json_array_get(actions, j), i, j, clean_actions, field, fieldbuf, fieldlen,
                      msg, len)) {
            json_decref(clean_tags);
            json_decref(clean_actions);
            return false;
        }
    json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:o}", "item_id", item, "kind", kind, "text", text,
                          "tags", clean_tags, "actions", clean_actions);
    if (unit)
        json_object_set_new(o, "unit", json_string(unit));
    json_array_append_new(out->decisions, o);
    out->resolved += strcmp(kind, "resolved") == 0;
    out->board += strcmp(kind, "board") == 0;
    return true;
}

bool alliance_held_parse(json_t *body, alliance_held_t *out, const char **field, char *fieldbuf,
                         size_t fieldlen, char *msg, size_t len)
{
    static const char *const keys[] = {"minutes", "attendance", "decisions", NULL};
    memset(out, 0, sizeof *out);
    out->decisions = json_array();
    if (!body)
        return true;
    if (!alliance_json_only(body, keys, field, msg, len) ||
        !alliance_json_string(body, "minutes", ALLIANCE_MINUTES_MAX, false, true, &out->minutes,
                              field, msg, len))
        return false;
    json_t *att = json_object_get(body, "attendance");
    if (att && !json_is_null(att)) {
        if (!json_is_array(att) || json_array_size(att) > ALLIANCE_LIST_MAX) {
            *field = "attendance";
            snprintf(msg, len, "attendance must be a list of member unit codes (at most %d)",
                     ALLIANCE_LIST_MAX);
            return false;
        }
        for (size_t i = 0; i < json_array_size(att); i++)
            if (!alliance_code_wellformed(json_string_value(json_array_get(att, i)))) {
                s_field(field, fieldbuf, fieldlen, "attendance[%zu]", i, 0);
                snprintf(msg, len, "unknown member unit (codes look like mu001)");
                return false;
            }
        out->attendance = att;
    }
    json_t *ds = json_object_get(body, "decisions");
    if (ds && !json_is_null(ds) &&
        (!json_is_array(ds) || json_array_size(ds) > ALLIANCE_LIST_MAX)) {
        *field = "decisions";
        snprintf(msg, len, "decisions must be a list (at most %d)", ALLIANCE_LIST_MAX);
        return false;
    }
    for (size_t i = 0; i < json_array_size(ds); i++)
        if (!s_decision(json_array_get(ds, i), i, out, field, fieldbuf, fieldlen, msg, len))
            return false;
    return true;
}

bool alliance_inbound_parse(json_t *body, alliance_inbound_t *out, const char **field, char *msg,
                            size_t len)
{
    static const char *const keys[] = {"type", "timestamp", "data", NULL};
    static const char *const data_keys[] = {"item_id", "unit", "note", "hours", NULL};
    static const char *const types[] = {"large_item.claim", "large_item.progress",
                                        "large_item.complete", NULL};
    memset(out, 0, sizeof *out);
    out->hours = -1;
    const char *type, *ts;
    if (!alliance_json_only(body, keys, field, msg, len) ||
        !alliance_json_string(body, "type", 32, true, false, &type, field, msg, len) ||
        !alliance_json_string(body, "timestamp", 40, false, false, &ts, field, msg, len))
        return false;
    if (!s_in(type, types)) {
        *field = "type";
        snprintf(msg, len,
                 "type must be large_item.claim, large_item.progress or "
                 "large_item.complete");
        return false;
    }
    out->kind = type + strlen("large_item.");
    json_t *data = json_object_get(body, "data");
    if (!json_is_object(data)) {
        *field = "data";
        snprintf(msg, len, "data must be an object {item_id, unit, note, hours}");
        return false;
    }
    const char *f;
    if (!alliance_json_only(data, data_keys, &f, msg, len) ||
        !alliance_json_string(data, "item_id", HL_UUID_LEN, true, false, &out->item_id, &f, msg,
                              len) ||
        !alliance_json_string(data, "unit", ALLIANCE_CODE_MAX, true, false, &out->unit, &f, msg,
                              len) ||
        !alliance_json_string(data, "note", ALLIANCE_NOTE_MAX, false, true, &out->note, &f, msg,
                              len)) {
        *field = strcmp(f, "body") == 0 ? "data" : f;
        return false;
    }
    if (!hl_uuid_valid(out->item_id)) {
        *field = "item_id";
        snprintf(msg, len, "item_id must be a UUID");
        return false;
    }
    if (!alliance_code_wellformed(out->unit)) {
        *field = "unit";
        snprintf(msg, len, "unknown member unit (codes look like mu001)");
        return false;
    }
    json_t *hours = json_object_get(data, "hours");
    if (hours && !json_is_null(hours)) {
        if (!json_is_number(hours) || json_number_value(hours) < 0 ||
            json_number_value(hours) > 100000) {
            *field = "hours";
            snprintf(msg, len, "hours must be a number from 0 to 100000");
            return false;
        }
        out->hours = json_number_value(hours);
    }
    if (strcmp(out->kind, "claim") != 0 && !out->note) {
        *field = "note";
        snprintf(msg, len, "a progress report or completion needs a note");
        return false;
    }
    return true;
}
