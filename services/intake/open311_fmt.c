/* open311_fmt.c: the pure parts of the Open311 GeoReport v2 front door
 * (open311.c). Open311 clients POST form-encoded bodies, read XML as
 * often as JSON, and filter by W3C datetimes; these are parsed and written
 * here, without I/O, so every refusal can be tested on its own. */
#include "open311_fmt.h"
#include "hl_text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- form bodies ---------------------------------------------------------- */

static int s_hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes s[0..len) into a new string; NULL on a bad escape or a NUL. */
static char *s_decode(const char *s, size_t len)
{
    char *out = hl_malloc(len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = len - i >= 3 ? s_hex(s[i + 1]) : -1;
            int lo = len - i >= 3 ? s_hex(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                free(out);
                return NULL;
            }
            c = hi * 16 + lo;
            i += 2;
        }
        if (c == 0) {
            free(out);
            return NULL;
        }
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return out;
}

bool intake_text_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned cp;
        int n = hl_utf8_next(p, &cp);
        if (n == 0 || (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0x7F)
            return false;
        p += n;
    }
    return true;
}

static int s_fail(char *err, size_t errlen, const char *fmt, const char *what)
{
    snprintf(err, errlen, fmt, what);
    hl_utf8_repair(err); /* `what` quotes the raw body */
    return -1;
}

int intake_form_parse(const char *body, size_t len, size_t max_fields, intake_form_t *out,
                      char *err, size_t errlen)
{
    out->fields = NULL;
    out->n = 0;
    size_t cap = 0;
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && body[end] != '&')
            end++;
        if (end == i) { /* "a=1&&b=2": tolerate empty pairs */
            i = end + 1;
            continue;
        }
        size_t eq = i;
        while (eq < end && body[eq] != '=')
            eq++;
        char *name = s_decode(body + i, eq - i);
        char *value = eq < end ? s_decode(body + eq + 1, end - eq - 1) : hl_strdup("");
        if (!name || !value) {
            char what[48];
            snprintf(what, sizeof what, "%.*s", (int)(eq - i < 40 ? eq - i : 40), body + i);
            free(name);
            free(value);
            return s_fail(err, errlen, "field \"%s\" has a malformed %%-escape or a NUL", what);
        }
        if (!*name) {
            free(name);
            free(value);
            return s_fail(err, errlen, "%sa field has an empty name", "");
        }
        if (!intake_text_ok(name) || !intake_text_ok(value)) {
            char what[48];
            snprintf(what, sizeof what, "%.40s", intake_text_ok(name) ? name : "?");
            free(name);
            free(value);
            return s_fail(err, errlen, "field \"%s\" is not valid UTF-8 text", what);
        }
        size_t nl = strlen(name);
        bool list = nl >= 2 && strcmp(name + nl - 2, "[]") == 0;
        if (!list && intake_form_get(out, name)) {
            int rc = s_fail(err, errlen, "field \"%.60s\" is given more than once", name);
            free(name);
            free(value);
            return rc;
        }
        if (out->n == max_fields) {
            free(name);
            free(value);
            snprintf(err, errlen, "more than %zu fields", max_fields);
            return -1;
        }
        if (out->n == cap) {
            cap = cap ? 2 * cap : 16;
            out->fields = hl_realloc(out->fields, cap * sizeof *out->fields);
        }
        out->fields[out->n].name = name;
        out->fields[out->n].value = value;
        out->n++;
        i = end + 1;
    }
    return 0;
}

const char *intake_form_get(const intake_form_t *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->fields[i].name, name) == 0)
            return f->fields[i].value;
    return NULL;
}

void intake_form_close(intake_form_t *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->fields[i].name);
        free(f->fields[i].value);
    }
    free(f->fields);
    f->fields = NULL;
    f->n = 0;
}

/* ---- XML ---------------------------------------------------------------- */

void intake_xml_escape(hl_buf_t *b, const char *s)
{
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        switch (c) {
        case '&':
            hl_buf_append(b, "&amp;", 5);
            break;
        case '<':
            hl_buf_append(b, "&lt;", 4);
            break;
        case '>':
            hl_buf_append(b, "&gt;", 4);
            break;
        case '"':
            hl_buf_append(b, "&quot;", 6);
            break;
        case '\'':
            hl_buf_append(b, "&apos;", 6);
            break;
        default:
            /* XML 1.0 has no way to carry these, not even as &#n;. */
            if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
                break;
            hl_buf_append(b, p, 1);
        }
    }
}

const char *intake_xml_item_name(const char *list)
{
    static const char *const map[][2] = {
        {"services", "service"},     {"service_requests", "request"},
        {"attributes", "attribute"}, {"values", "value"},
        {"errors", "error"},         {"endpoints", "endpoint"},
        {"formats", "format"},       {"keywords", "keyword"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i][0], list) == 0)
            return map[i][1];
    return "item";
}

void intake_xml_value(hl_buf_t *b, const char *name, json_t *v)
{
    hl_buf_printf(b, "<%s>", name);
    if (json_is_object(v)) {
        const char *key;
        json_t *child;
        json_object_foreach(v, key, child) intake_xml_value(b, key, child);
    } else if (json_is_array(v)) {
        const char *item = intake_xml_item_name(name);
        size_t i;
        json_t *child;
        json_array_foreach(v, i, child) intake_xml_value(b, item, child);
    } else if (json_is_string(v)) {
        intake_xml_escape(b, json_string_value(v));
    } else if (json_is_true(v)) {
        hl_buf_append(b, "true", 4);
    } else if (json_is_false(v)) {
        hl_buf_append(b, "false", 5);
    } else if (json_is_integer(v)) {
        hl_buf_printf(b, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        hl_buf_printf(b, "%.*g", INTAKE_REAL_DIGITS, json_real_value(v));
    }
    hl_buf_printf(b, "</%s>", name);
}

char *intake_json_text(const json_t *v, size_t *len)
{
    char *text =
        json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(INTAKE_REAL_DIGITS));
    char *withnl = hl_asprintf("%s\n", text ? text : "null");
    free(text);
    *len = strlen(withnl);
    return withnl;
}

char *intake_xml_document(const char *root, json_t *v, size_t *len)
{
    hl_buf_t b = {0};
    hl_buf_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    intake_xml_value(&b, root, v);
    hl_buf_append(&b, "\n", 1);
    *len = b.len;
    return b.data;
}

/* ---- numbers ------------------------------------------- */

bool intake_parse_double(const char *s, double *out)
{
    if (!s || !*s || strlen(s) > 40)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '+' || *p == 'e' ||
              *p == 'E'))
            return false; /* no "nan", "inf", hex floats or spaces */
    char *end;
    double v = strtod(s, &end);
    if (*end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* ---- statuses -------------------------------------------------------------- */

const char *intake_open311_status(const char *status)
{
    return status && (strcmp(status, "resolved") == 0 || strcmp(status, "confirmed") == 0)
               ? "closed"
               : "open";
}

bool intake_open311_status_list(const char *s, bool *open, bool *closed)
{
    *open = *closed = false;
    const char *p = s;
    if (!*p)
        return false;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 4 && strncmp(p, "open", 4) == 0)
            *open = true;
        else if (n == 6 && strncmp(p, "closed", 6) == 0)
            *closed = true;
        else
            return false;
        if (!end)
            break;
        p = end + 1;
        if (!*p)
            return false;
    }
    return true;
}
