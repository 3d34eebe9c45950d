/* rules.c: classifying an appeal by the commissioner's rules — the pure
 * part of triage (no I/O, no loop), between ruleload.c, which fills a rule
 * set from triage.rule, and appeal.c, which evaluates it on every
 * AppealReceived.
 *
 * A rule matches when each condition it has holds: the resident's category,
 * the channel, at least one keyword phrase present, no excluded phrase
 * present. Phrases are found by plain substring search on the title and
 * body after white space is removed and ASCII is lower-cased: Chinese has no
 * spaces between words, so a word boundary means nothing here, and a phrase
 * split by a stray space or line break in a typed-in letter still matches.
 * UTF-8 is self-synchronising, so a byte search never matches half a
 * character. */
#include "rules.h"
#include "sizemodel.h"
#include "similar.h"

#include "hl.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct triage_rules {
    triage_rule_t *rules;       /* in evaluation order */
    size_t n;                   /* used */
    size_t cap;                 /* allocated */
    const triage_rule_t *model; /* the size model's row, if any (set by triage_rules_add) */
};

static const char *const s_size_names[TRIAGE_SIZE_COUNT] = {"", "wish", "small", "large"};

const char *triage_size_name(triage_size_t size)
{
    return (unsigned)size < TRIAGE_SIZE_COUNT ? s_size_names[size] : "";
}

int triage_size_parse(const char *s)
{
    if (!s)
        return -1;
    for (int i = TRIAGE_SIZE_WISH; i < TRIAGE_SIZE_COUNT; i++)
        if (strcmp(s, s_size_names[i]) == 0)
            return i;
    return -1;
}

char *triage_normalize(const char *s)
{
    size_t len = s ? strlen(s) : 0;
    char *out = hl_malloc(len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v')
            continue;
        /* U+3000 IDEOGRAPHIC SPACE is E3 80 80 in UTF-8. */
        if (c == 0xE3 && i + 2 < len && (unsigned char)s[i + 1] == 0x80 &&
            (unsigned char)s[i + 2] == 0x80) {
            i += 2;
            continue;
        }
        out[o++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    out[o] = '\0';
    return out;
}

void triage_strings_free(char ***strings)
{
    if (!*strings)
        return;
    for (char **s = *strings; *s; s++)
        free(*s);
    free(*strings);
    *strings = NULL;
}

int triage_text_array_parse(const char *lit, char ***out, size_t *n)
{
    assert(out && n);
    *out = hl_calloc(1, sizeof **out);
    *n = 0;
    if (!lit)
        return 0;
    const char *p = lit;
    if (*p++ != '{')
        goto out_invalid;
    if (*p == '}') {
        if (p[1] == '\0')
            return 0;
        goto out_invalid;
    }
    hl_buf_t el = {0};
    for (;;) {
        hl_buf_reset(&el);
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '{')
            goto out_free_element; /* nested: not a one-dimensional array */
        if (*p == '"') {
            p++;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1])
                    p++;
                hl_buf_append(&el, p++, 1);
            }
            if (*p++ != '"')
                goto out_free_element;
            while (*p == ' ' || *p == '\t')
                p++;
        } else {
            while (*p && *p != ',' && *p != '}') {
                if (*p == '\\' && p[1])
                    p++;
                hl_buf_append(&el, p++, 1);
            }
            /* Unquoted elements lose surrounding white space; NULL is SQL NULL. */
            while (el.len && (el.data[el.len - 1] == ' ' || el.data[el.len - 1] == '\t'))
                el.data[--el.len] = '\0';
            if (el.len == 0 || strcasecmp(el.data, "NULL") == 0)
                goto out_free_element;
        }
        *out = hl_realloc(*out, (*n + 2) * sizeof **out);
        (*out)[(*n)++] = hl_strndup(el.data ? el.data : "", el.len);
        (*out)[*n] = NULL;
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == '}' && p[1] == '\0')
            break;
        goto out_free_element;
    }
    hl_buf_close(&el);
    return 0;

out_free_element:
    hl_buf_close(&el);
out_invalid:
    triage_strings_free(out);
    *out = NULL;
    *n = 0;
    return HL_EINVAL;
}

/* Parses and normalises a phrase list; an empty phrase is refused because
 * it would match everything. */
static int s_phrases(const char *lit, const char *what, char ***out, size_t *n, char *err,
                     size_t errlen)
{
    char **raw;
    size_t count;
    if (triage_text_array_parse(lit, &raw, &count) != 0) {
        snprintf(err, errlen, "%s is not a one-dimensional text array without NULLs", what);
        return HL_EINVAL;
    }
    *out = hl_calloc(count + 1, sizeof **out);
    *n = count;
    for (size_t i = 0; i < count; i++) {
        (*out)[i] = triage_normalize(raw[i]);
        if ((*out)[i][0] == '\0') {
            snprintf(err, errlen, "%s has an empty phrase (element %zu)", what, i + 1);
            triage_strings_free(&raw);
            triage_strings_free(out);
            *n = 0;
            return HL_EINVAL;
        }
    }
    triage_strings_free(&raw);
    return 0;
}

static void s_rule_close(triage_rule_t *r)
{
    free(r->category);
    free(r->channel);
    triage_strings_free(&r->keywords);
    triage_strings_free(&r->exclude);
    free(r->set_category);
    memset(r, 0, sizeof *r);
}

static char *s_dup_or_null(const char *s)
{
    return s && *s ? hl_strdup(s) : NULL;
}

triage_rules_t *triage_rules_new(void)
{
    return hl_calloc(1, sizeof(triage_rules_t));
}

void triage_rules_destroy(triage_rules_t **rules)
{
    triage_rules_t *rs = *rules;
    if (!rs)
        return;
    for (size_t i = 0; i < rs->n; i++)
        s_rule_close(&rs->rules[i]);
    free(rs->rules);
    free(rs);
    *rules = NULL;
}

int triage_rules_add(triage_rules_t *rs, const triage_rule_spec_t *spec, char *err, size_t errlen)
{
    assert(rs);
    assert(spec);
    assert(err);
    triage_rule_t r = {.id = spec->id,
                       .version = spec->version,
                       .priority = spec->priority,
                       .weight = spec->weight};
    if (spec->model) {
        bool bare = !spec->size && !(spec->set_category && *spec->set_category) &&
                    spec->weight == 0 && !spec->category && !spec->channel;
        if (strcmp(spec->model, "size") != 0 || !bare) {
            snprintf(err, errlen,
                     "rule %lld: model \"%.32s\" must be \"size\" on a row with no size,"
                     " set_category, weight, category or channel",
                     spec->id, spec->model);
            return HL_EINVAL;
        }
        r.model = true;
    }
    if (spec->weight != 0 && (!spec->size || (spec->set_category && *spec->set_category))) {
        snprintf(err, errlen,
                 "rule %lld: a weighted rule (a scope cue) needs a size and no set_category",
                 spec->id);
        return HL_EINVAL;
    }
    if (spec->size) {
        int size = triage_size_parse(spec->size);
        if (size < 0) {
            snprintf(err, errlen, "rule %lld: size \"%.32s\" is not wish, small or large", spec->id,
                     spec->size);
            return HL_EINVAL;
        }
        r.size = (triage_size_t)size;
    }
    if (!r.model && r.size == TRIAGE_SIZE_NONE && !(spec->set_category && *spec->set_category)) {
        snprintf(err, errlen, "rule %lld decides neither a size nor a category", spec->id);
        return HL_EINVAL;
    }
    char what[64];
    snprintf(what, sizeof what, "rule %lld: keywords", spec->id);
    if (s_phrases(spec->keywords, what, &r.keywords, &r.nkeywords, err, errlen) != 0)
        return HL_EINVAL;
    snprintf(what, sizeof what, "rule %lld: exclude_keywords", spec->id);
    if (s_phrases(spec->exclude, what, &r.exclude, &r.nexclude, err, errlen) != 0) {
        s_rule_close(&r);
        return HL_EINVAL;
    }
    r.category = s_dup_or_null(spec->category);
    r.channel = s_dup_or_null(spec->channel);
    r.set_category = s_dup_or_null(spec->set_category);

    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? rs->cap * 2 : 16;
        rs->rules = hl_realloc(rs->rules, rs->cap * sizeof *rs->rules);
    }
    /* Insert in (priority, id) order; the set is small and built once a minute. */
    size_t at = rs->n;
    while (at > 0 && (rs->rules[at - 1].priority > r.priority ||
                      (rs->rules[at - 1].priority == r.priority && rs->rules[at - 1].id > r.id)))
        at--;
    memmove(&rs->rules[at + 1], &rs->rules[at], (rs->n - at) * sizeof *rs->rules);
    rs->rules[at] = r;
    rs->n++;
    /* The array moved or shifted: find the size model's row again, once a
     * load rather than on every appeal. */
    rs->model = NULL;
    for (size_t i = 0; i < rs->n && !rs->model; i++)
        if (rs->rules[i].model)
            rs->model = &rs->rules[i];
    return 0;
}

size_t triage_rules_count(const triage_rules_t *rs)
{
    return rs ? rs->n : 0;
}

const triage_rule_t *triage_rules_at(const triage_rules_t *rs, size_t i)
{
    assert(rs && i < rs->n);
    return &rs->rules[i];
}

bool triage_rules_total(const triage_rules_t *rs)
{
    for (size_t i = 0; rs && i < rs->n; i++) {
        const triage_rule_t *r = &rs->rules[i];
        if (r->size != TRIAGE_SIZE_NONE && !r->category && !r->channel && r->nkeywords == 0 &&
            r->nexclude == 0)
            return true;
    }
    return false;
}

static bool s_any_in(char *const *phrases, size_t n, const char *text)
{
    for (size_t i = 0; i < n; i++)
        if (strstr(text, phrases[i]))
            return true;
    return false;
}

static bool s_given(const char *s)
{
    return s && *s;
}

/* The matching itself, on the already normalised text. */
static bool s_matches(const triage_rule_t *r, const triage_appeal_view_t *a, const char *text)
{
    if (r->category && !(s_given(a->category) && strcmp(r->category, a->category) == 0))
        return false;
    if (r->channel && !(s_given(a->channel) && strcmp(r->channel, a->channel) == 0))
        return false;
    if (r->nkeywords && !s_any_in(r->keywords, r->nkeywords, text))
        return false;
    if (r->nexclude && s_any_in(r->exclude, r->nexclude, text))
        return false;
    return true;
}

/* Marks of scope read from numbers, appended to the text so that cue rules
 * can name them as phrases: "#多户" (10 or more households or families),
 * "#多小区" (2 or more compounds), "#万元" (a sum of ten thousand yuan or
 * more), "#路名" (a named road, river, street or market: similar.c). Chinese quantities without
 * digits (几十户, 上百户) are phrases of their own in the cue rules. */
static void s_scope_marks(const char *text, hl_buf_t *out)
{
    bool households = false, compounds = false, money = false;
    for (const char *p = text; *p; p++) {
        if (!(*p >= '0' && *p <= '9') || (p > text && p[-1] >= '0' && p[-1] <= '9'))
            continue;
        long v = 0;
        const char *q = p;
        while (*q >= '0' && *q <= '9') {
            if (v < 100000000)
                v = v * 10 + (*q - '0');
            q++;
        }
        if (strncmp(q, "多", strlen("多")) == 0)
            q += strlen("多");
        if (v >= 10 && (strncmp(q, "户", strlen("户")) == 0 || strncmp(q, "家", strlen("家")) == 0))
            households = true;
        if (v >= 2 && (strncmp(q, "个小区", strlen("个小区")) == 0 ||
                       strncmp(q, "个社区", strlen("个社区")) == 0))
            compounds = true;
        if ((strncmp(q, "万", strlen("万")) == 0) ||
            (v >= 10000 && strncmp(q, "元", strlen("元")) == 0))
            money = true;
    }
    if (households)
        hl_buf_append(out, "\x01#多户", strlen("\x01#多户"));
    if (compounds)
        hl_buf_append(out, "\x01#多小区", strlen("\x01#多小区"));
    if (money)
        hl_buf_append(out, "\x01#万元", strlen("\x01#万元"));
    if (triage_text_names_place(text))
        hl_buf_append(out, "\x01#路名", strlen("\x01#路名"));
}

/* Title and body as one normalised text, then the marks of scope; a
 * separator that never occurs in normalised text keeps a phrase from
 * matching across the parts. */
/* Cuts every occurrence of `place` out of `text` (normalised, in place). */
static void s_cut(char *text, const char *place)
{
    size_t n = place ? strlen(place) : 0;
    if (n == 0)
        return;
    for (char *at = strstr(text, place); at; at = strstr(at, place))
        memmove(at, at + n, strlen(at + n) + 1);
}

static char *s_text(const triage_appeal_view_t *a)
{
    char *title = triage_normalize(a->title);
    char *body = triage_normalize(a->body);
    char *place = triage_normalize(a->place);
    s_cut(title, place);
    s_cut(body, place);
    free(place);
    hl_buf_t b = {0};
    hl_buf_append(&b, title, strlen(title));
    hl_buf_append(&b, "\x01", 1);
    hl_buf_append(&b, body, strlen(body));
    s_scope_marks(body, &b);
    hl_buf_append(&b, "", 1);
    free(title);
    free(body);
    return b.data;
}

bool triage_rule_matches(const triage_rule_t *rule, const triage_appeal_view_t *appeal)
{
    assert(rule && appeal);
    char *text = s_text(appeal);
    bool m = s_matches(rule, appeal, text);
    free(text);
    return m;
}

/* The scope cues' vote (every cue in the set): fills out->votes and, when
 * a size wins, out->size and out->size_rule. */
static void s_vote(const triage_rules_t *rs, const triage_appeal_view_t *a, const char *text,
                   triage_verdict_t *out)
{
    const triage_rule_t *strongest[TRIAGE_SIZE_COUNT] = {NULL};
    for (size_t i = 0; i < rs->n; i++) {
        const triage_rule_t *r = &rs->rules[i];
        if (r->weight == 0 || !s_matches(r, a, text))
            continue;
        out->votes[r->size] += r->weight;
        out->cues++;
        if (r->weight > 0 && (!strongest[r->size] || r->weight > strongest[r->size]->weight))
            strongest[r->size] = r;
    }
    static const triage_size_t order[] = {TRIAGE_SIZE_SMALL, TRIAGE_SIZE_WISH, TRIAGE_SIZE_LARGE};
    triage_size_t win = TRIAGE_SIZE_NONE;
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++)
        if (out->votes[order[k]] > 0 && strongest[order[k]] &&
            (win == TRIAGE_SIZE_NONE || out->votes[order[k]] > out->votes[win]))
            win = order[k];
    if (win != TRIAGE_SIZE_NONE) {
        out->size = win;
        out->size_rule = strongest[win];
    }
}

/* triage_rules_eval on the appeal's matching text (s_text). */
static int s_eval(const triage_rules_t *rs, const triage_appeal_view_t *a, const char *text,
                  triage_verdict_t *out)
{
    memset(out, 0, sizeof *out);
    bool want_category = !s_given(a->category);
    if (!want_category)
        out->category = a->category;
    bool voted = false;
    for (size_t i = 0; i < rs->n; i++) {
        const triage_rule_t *r = &rs->rules[i];
        if (r->weight != 0) {
            if (!voted && out->size == TRIAGE_SIZE_NONE)
                s_vote(rs, a, text, out);
            voted = true;
            continue;
        }
        bool need_size = out->size == TRIAGE_SIZE_NONE && r->size != TRIAGE_SIZE_NONE;
        bool need_category = want_category && !out->category_rule && r->set_category;
        if (!need_size && !need_category)
            continue;
        if (!s_matches(r, a, text))
            continue;
        if (need_size) {
            out->size = r->size;
            out->size_rule = r;
        }
        if (need_category) {
            out->category = r->set_category;
            out->category_rule = r;
        }
        if (out->size != TRIAGE_SIZE_NONE && (!want_category || out->category_rule))
            break;
    }
    out->rules_size = out->size;
    out->rules_rule = out->size_rule;
    return out->size == TRIAGE_SIZE_NONE ? HL_ENOENT : 0;
}

int triage_rules_eval(const triage_rules_t *rs, const triage_appeal_view_t *a,
                      triage_verdict_t *out)
{
    assert(rs && a && out);
    char *text = s_text(a);
    int rc = s_eval(rs, a, text, out);
    free(text);
    return rc;
}

int triage_rules_decide(const triage_rules_t *rs, const triage_appeal_view_t *a,
                        triage_verdict_t *out, triage_size_x_t *x)
{
    assert(rs && a && out);
    char *text = s_text(a);
    int rc = s_eval(rs, a, text, out);
    const triage_rule_t *model = rs->model;
    if (rc == 0 && (model || x)) {
        triage_size_x_t local;
        if (!x)
            x = &local;
        triage_size_features(x, text, a->channel, out);
        if (model) {
            double p[TRIAGE_SIZE_COUNT];
            triage_size_t size = triage_size_predict(x, p);
            if (size != out->size) {
                out->size = size;
                out->size_rule = model;
            }
            out->size_p = p[out->size];
        }
    }
    free(text);
    return rc;
}

bool triage_verdict_guessed(const triage_verdict_t *v)
{
    const triage_rule_t *r = v->rules_rule ? v->rules_rule : v->size_rule;
    return r && r->weight == 0 && r->nkeywords == 0 && !r->category && !r->channel;
}
