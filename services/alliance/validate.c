/* validate.c: the checks hl-alliance applies before anything reaches the
 * database — an ItemEscalated from the "alliance" stage (refused and
 * dead-lettered when it fails) and the bodies of its endpoints, as field
 * tables checked by common/hl_req (422 naming the field, "decisions[0].
 * actions[1].due_at" inside), plus the rules between fields. Pure
 * functions, no I/O, so tests/unit/test_alliance_validate.c covers them. */
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

const char *alliance_escalation_problem(const void *msg)
{
    static _Thread_local char reason[200];
    char why[160];
    if (alliance_escalation_check(msg, why, sizeof why))
        return NULL;
    snprintf(reason, sizeof reason, "ItemEscalated refused: %s", why);
    return reason;
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

const char *alliance_code_check(const char *s)
{
    return alliance_code_wellformed(s) ? NULL
                                       : "must be a code of letters, digits, '_' and '-' "
                                         "(e.g. mu001, cm03)";
}

const char *alliance_date_check(const char *s)
{
    return alliance_date_wellformed(s) ? NULL : "must be a date YYYY-MM-DD";
}

static const char *s_deadline_check(const char *s)
{
    char buf[48];
    return s_deadline(s, buf, sizeof buf) ? NULL
                                          : "must be a date YYYY-MM-DD or a time "
                                            "YYYY-MM-DDTHH:MM[:SS] with Z or an offset";
}

/* ---- POST /v1/meetings/{id}/outcomes ------------------------------------ */

static const hl_req_field_t s_outcome_fields[] = {{.name = "item_id",
                                                   .type = HL_REQ_UUID,
                                                   .flags = HL_REQ_REQUIRED,
                                                   HL_REQ_AT(alliance_outcome_t, item_id)},
                                                  {.name = "outcome",
                                                   .type = HL_REQ_TEXT,
                                                   .flags = HL_REQ_REQUIRED | HL_REQ_MULTILINE,
                                                   .max = ALLIANCE_OUTCOME_MAX,
                                                   HL_REQ_AT(alliance_outcome_t, outcome)},
                                                  {.name = "unit",
                                                   .type = HL_REQ_TEXT,
                                                   .max = ALLIANCE_CODE_MAX,
                                                   .check = alliance_code_check,
                                                   HL_REQ_AT(alliance_outcome_t, unit)},
                                                  {0}};

int alliance_outcome_parse(json_t *body, alliance_outcome_t *out, hl_refusal_t *why)
{
    memset(out, 0, sizeof *out);
    return hl_req_check(body, s_outcome_fields, out, why);
}

/* ---- POST /v1/meetings/{id}/held ---------------------------------------- */

static const char *const s_kinds[] = {"resolved", "assigned", "board", NULL};
static const char *const s_tags[] = {"co_build",         "share_venues",   "share_resources",
                                     "discuss_together", "solve_together", NULL};

static const hl_req_field_t s_action_fields[] = {{.name = "unit",
                                                  .type = HL_REQ_TEXT,
                                                  .flags = HL_REQ_REQUIRED,
                                                  .max = ALLIANCE_CODE_MAX,
                                                  .check = alliance_code_check},
                                                 {.name = "task",
                                                  .type = HL_REQ_TEXT,
                                                  .flags = HL_REQ_REQUIRED | HL_REQ_MULTILINE,
                                                  .max = ALLIANCE_TASK_MAX},
                                                 {.name = "due_at",
                                                  .type = HL_REQ_TEXT,
                                                  .flags = HL_REQ_REQUIRED,
                                                  .max = 40,
                                                  .check = s_deadline_check},
                                                 {0}};
static const hl_req_field_t s_action_entry[] = {{.name = "action",
                                                 .type = HL_REQ_OBJECT,
                                                 .fields = s_action_fields,
                                                 .hint = "must be an object {unit, task, due_at}"},
                                                {0}};
static const hl_req_field_t s_tag_entry[] = {
    {.name = "tag", .type = HL_REQ_TEXT, .max = 32, .allowed = s_tags}, {0}};
static const hl_req_field_t s_decision_fields[] = {
    {.name = "item_id", .type = HL_REQ_UUID, .flags = HL_REQ_REQUIRED},
    {.name = "kind",
     .type = HL_REQ_TEXT,
     .flags = HL_REQ_REQUIRED,
     .max = 16,
     .allowed = s_kinds,
     .hint = "must be resolved, assigned or board (an item left out is carried to the next "
             "meeting)"},
    {.name = "text",
     .type = HL_REQ_TEXT,
     .flags = HL_REQ_REQUIRED | HL_REQ_MULTILINE,
     .max = ALLIANCE_OUTCOME_MAX},
    {.name = "tags", .type = HL_REQ_ARRAY, .max = 5, .fields = s_tag_entry},
    {.name = "unit", .type = HL_REQ_TEXT, .max = ALLIANCE_CODE_MAX, .check = alliance_code_check},
    {.name = "actions", .type = HL_REQ_ARRAY, .max = 20, .fields = s_action_entry},
    {0}};
static const hl_req_field_t s_decision_entry[] = {
    {.name = "decision",
     .type = HL_REQ_OBJECT,
     .fields = s_decision_fields,
     .hint = "must be an object {item_id, kind, text, tags, unit, actions}"},
    {0}};
static const hl_req_field_t s_code_entry[] = {
    {.name = "unit", .type = HL_REQ_TEXT, .max = ALLIANCE_CODE_MAX, .check = alliance_code_check},
    {0}};

/* The held body as hl_req stores it. */
typedef struct {
    const char *minutes; /* or NULL */
    json_t *attendance;  /* borrowed, or NULL */
    json_t *decisions;   /* borrowed, or NULL */
} s_held_in_t;

static const hl_req_field_t s_held_fields[] = {{.name = "minutes",
                                                .type = HL_REQ_TEXT,
                                                .flags = HL_REQ_MULTILINE,
                                                .max = ALLIANCE_MINUTES_MAX,
                                                HL_REQ_AT(s_held_in_t, minutes)},
                                               {.name = "attendance",
                                                .type = HL_REQ_ARRAY,
                                                .max = ALLIANCE_LIST_MAX,
                                                .fields = s_code_entry,
                                                HL_REQ_AT(s_held_in_t, attendance)},
                                               {.name = "decisions",
                                                .type = HL_REQ_ARRAY,
                                                .max = ALLIANCE_LIST_MAX,
                                                .fields = s_decision_entry,
                                                HL_REQ_AT(s_held_in_t, decisions)},
                                               {0}};

static const char *s_str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

int alliance_held_parse(json_t *body, alliance_held_t *out, hl_refusal_t *why)
{
    memset(out, 0, sizeof *out);
    out->decisions = json_array();
    if (!body)
        return 0;
    s_held_in_t in = {0};
    if (hl_req_check(body, s_held_fields, &in, why) != 0)
        return -1;
    out->minutes = in.minutes;
    out->attendance = in.attendance;
    size_t i;
    json_t *d;
    json_array_foreach(in.decisions, i, d)
    {
        const char *kind = s_str(d, "kind");
        json_t *actions = json_object_get(d, "actions");
        bool assigned = strcmp(kind, "assigned") == 0;
        char field[HL_REFUSAL_FIELD_MAX];
        snprintf(field, sizeof field, "decisions[%zu].actions", i);
        if (assigned && json_array_size(actions) == 0)
            return hl_refuse(why, 422, field,
                             "an assigned item needs at least one action (unit, task, due_at)");
        if (!assigned && json_array_size(actions) > 0)
            return hl_refuse(why, 422, field, "only an assigned item has actions");
        json_t *clean = json_array();
        size_t j;
        json_t *a;
        json_array_foreach(actions, j, a)
        {
            char id[HL_UUID_LEN + 1], deadline[48];
            hl_uuid_new(id);
            s_deadline(s_str(a, "due_at"), deadline, sizeof deadline);
            json_array_append_new(clean, json_pack("{s:s, s:s, s:s, s:s}", "id", id, "unit",
                                                   s_str(a, "unit"), "task", s_str(a, "task"),
                                                   "due_at", deadline));
        }
        json_t *tags = json_object_get(d, "tags");
        json_t *tag_list = tags && !json_is_null(tags) ? json_incref(tags) : json_array();
        json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:o}", "item_id", s_str(d, "item_id"), "kind",
                              kind, "text", s_str(d, "text"), "tags", tag_list, "actions", clean);
        if (s_str(d, "unit"))
            json_object_set_new(o, "unit", json_string(s_str(d, "unit")));
        json_array_append_new(out->decisions, o);
        out->resolved += strcmp(kind, "resolved") == 0;
        out->board += strcmp(kind, "board") == 0;
    }
    return 0;
}

/* ---- inbound platform webhooks ------------------------------------------ */

static const char *const s_inbound_types[] = {"large_item.claim", "large_item.progress",
                                              "large_item.complete", NULL};

/* The inbound body as hl_req stores it. */
typedef struct {
    const char *type;              /* large_item.* */
    const char *timestamp;         /* informational */
    bool data;                     /* given */
    char item_id[HL_UUID_LEN + 1]; /* data.item_id */
    const char *unit;              /* data.unit */
    const char *note;              /* data.note */
    double hours;                  /* data.hours, -1 when absent */
} s_inbound_in_t;

static const hl_req_field_t s_inbound_data[] = {{.name = "item_id",
                                                 .type = HL_REQ_UUID,
                                                 .flags = HL_REQ_REQUIRED,
                                                 HL_REQ_AT(s_inbound_in_t, item_id)},
                                                {.name = "unit",
                                                 .type = HL_REQ_TEXT,
                                                 .flags = HL_REQ_REQUIRED,
                                                 .max = ALLIANCE_CODE_MAX,
                                                 .check = alliance_code_check,
                                                 HL_REQ_AT(s_inbound_in_t, unit)},
                                                {.name = "note",
                                                 .type = HL_REQ_TEXT,
                                                 .flags = HL_REQ_MULTILINE,
                                                 .max = ALLIANCE_NOTE_MAX,
                                                 HL_REQ_AT(s_inbound_in_t, note)},
                                                {.name = "hours",
                                                 .type = HL_REQ_NUMBER,
                                                 .min = 0,
                                                 .max = 100000,
                                                 HL_REQ_AT(s_inbound_in_t, hours)},
                                                {0}};
static const hl_req_field_t s_inbound_fields[] = {
    {.name = "type",
     .type = HL_REQ_TEXT,
     .flags = HL_REQ_REQUIRED,
     .max = 32,
     .allowed = s_inbound_types,
     HL_REQ_AT(s_inbound_in_t, type)},
    {.name = "timestamp", .type = HL_REQ_TEXT, .max = 40, HL_REQ_AT(s_inbound_in_t, timestamp)},
    {.name = "data",
     .type = HL_REQ_OBJECT,
     .flags = HL_REQ_REQUIRED,
     .fields = s_inbound_data,
     .hint = "must be an object {item_id, unit, note, hours}",
     HL_REQ_AT(s_inbound_in_t, data)},
    {0}};

int alliance_inbound_parse(json_t *body, alliance_inbound_t *out, hl_refusal_t *why)
{
    memset(out, 0, sizeof *out);
    s_inbound_in_t in = {.hours = -1};
    if (hl_req_check(body, s_inbound_fields, &in, why) != 0)
        return -1;
    out->kind = in.type + strlen("large_item.");
    memcpy(out->item_id, in.item_id, sizeof out->item_id);
    out->unit = in.unit;
    out->note = in.note;
    out->hours = in.hours;
    if (strcmp(out->kind, "claim") != 0 && !out->note)
        return hl_refuse(why, 422, "data.note", "a progress report or completion needs a note");
    return 0;
}
