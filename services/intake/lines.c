/* lines.c: a batch body cut into records, before any of them is checked.
 *
 * POST /v1/appeals/batch takes a stack of mailbox letters or a day's visit
 * notes as NDJSON (one JSON object per line) or as CSV with a header row
 * (RFC 4180: quoted fields may hold commas, quotes doubled, line breaks).
 * Each record becomes a request object shaped like a POST /v1/appeals body,
 * or carries why it could not be read, so that one bad line is reported on
 * its own and never stops the lines after it. A CSV record with broken
 * quoting is skipped to the end of its line; an unterminated quote runs to
 * the end of the body, which then holds no further records.
 *
 * Pure: no I/O. batch.c validates and stores what comes out. */
#include "intake.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_COLUMNS 32 /* more columns than any header may name */

static intake_record_t *s_push(intake_records_t *r, int line, const char *start, size_t len)
{
    r->v = hl_realloc(r->v, (r->n + 1) * sizeof *r->v);
    intake_record_t *rec = &r->v[r->n++];
    memset(rec, 0, sizeof *rec);
    rec->line = line;
    rec->start = start;
    rec->len = len;
    return rec;
}

void intake_records_close(intake_records_t *r)
{
    for (size_t i = 0; i < r->n; i++)
        json_decref(r->v[i].obj);
    free(r->v);
    r->v = NULL;
    r->n = 0;
}

static bool s_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    return true;
}

int intake_ndjson_parse(const char *body, size_t len, size_t max, intake_records_t *out,
                        hl_refusal_t *why)
{
    const char *p = body, *end = body + len;
    int line = 0;
    memset(out, 0, sizeof *out);
    while (p < end) {
        line++;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        const char *start = p;
        p = nl ? nl + 1 : end;
        if (s_blank(start, n))
            continue;
        if (out->n == max) {
            intake_records_close(out);
            return hl_refuse(why, 413, NULL, "the batch has more than %zu lines", max);
        }
        intake_record_t *rec = s_push(out, line, start, n);
        json_error_t jerr;
        rec->obj = json_loadb(start, n, JSON_REJECT_DUPLICATES, &jerr);
        if (!rec->obj)
            hl_refuse(&rec->refusal, 400, NULL, "malformed JSON at column %d: %s", jerr.column,
                      jerr.text);
        else if (!json_is_object(rec->obj))
            hl_refuse(&rec->refusal, 400, NULL, "the line must be a JSON object");
    }
    return 0;
}

/* ---- CSV -------------------------------------------------------------- */

/* One record's fields, unescaped. */
typedef struct {
    char *field[S_MAX_COLUMNS]; /* owned, NUL-terminated (NULs inside are kept) */
    size_t flen[S_MAX_COLUMNS]; /* their lengths */
    int n;                      /* fields read */
} s_row_t;

static void s_row_clear(s_row_t *row)
{
    for (int i = 0; i < row->n; i++)
        free(row->field[i]);
    row->n = 0;
}

/* Reads one record starting at *pp; advances *pp past it and *line by the
 * line breaks consumed. Returns 0, or -1 with `why` (and *pp at the start
 * of the next line). */
static int s_csv_record(const char **pp, const char *end, int *line, s_row_t *row,
                        hl_refusal_t *why)
{
    const char *p = *pp;
    hl_buf_t b = {0};
    row->n = 0;
    for (;;) {
        hl_buf_close(&b);
        if (row->n == S_MAX_COLUMNS) {
            hl_refuse(why, 422, NULL, "the record has more than %d fields", S_MAX_COLUMNS);
            goto out_skip;
        }
        if (p < end && *p == '"') {
            p++;
            for (;;) {
                if (p == end) {
                    hl_refuse(why, 422, NULL, "unterminated quoted field");
                    goto out_skip;
                }
                if (*p == '"') {
                    if (p + 1 < end && p[1] == '"') {
                        hl_buf_append(&b, "\"", 1);
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                if (*p == '\n')
                    (*line)++;
                hl_buf_append(&b, p, 1);
                p++;
            }
            if (p < end && *p != ',' && *p != '\n' &&
                !(*p == '\r' && p + 1 < end && p[1] == '\n')) {
                hl_refuse(why, 422, NULL, "characters after a closing quote");
                goto out_skip;
            }
        } else {
            const char *s = p;
            while (p < end && *p != ',' && *p != '\n' &&
                   !(*p == '\r' && p + 1 < end && p[1] == '\n')) {
                if (*p == '"') {
                    hl_refuse(why, 422, NULL, "a quote inside an unquoted field");
                    goto out_skip;
                }
                p++;
            }
            hl_buf_append(&b, s, (size_t)(p - s));
        }
        row->flen[row->n] = b.len;
        row->field[row->n] = hl_malloc(b.len + 1);
        if (b.len)
            memcpy(row->field[row->n], b.data, b.len);
        row->field[row->n][b.len] = '\0';
        row->n++;
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        if (p < end && *p == '\r')
            p++;
        if (p < end && *p == '\n') {
            p++;
            (*line)++;
        }
        break;
    }
    hl_buf_close(&b);
    *pp = p;
    return 0;
out_skip:
    hl_buf_close(&b);
    s_row_clear(row);
    while (p < end && *p != '\n')
        p++;
    if (p < end) {
        p++;
        (*line)++;
    }
    *pp = p;
    return -1;
}

static const char *const s_columns[] = {"channel", "org_unit",     "category",        "title",
                                        "body",    "contact_name", "contact_phone",   "source_ref",
                                        "lat",     "lon",          "mailbox",         "qr",
                                        "staff",   "written_at",   "idempotency_key", NULL};

static bool s_number(const char *s, double *out)
{
    char *e;
    errno = 0;
    double v = strtod(s, &e);
    if (e == s || *e || errno || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* Builds the request object of one record. */
static int s_csv_object(const s_row_t *row, const int *col, json_t **out, hl_refusal_t *why)
{
    json_t *obj = json_object();
    double lat = 0, lon = 0;
    int has_lat = 0, has_lon = 0;
    for (int i = 0; i < row->n; i++) {
        const char *name = s_columns[col[i]], *v = row->field[i];
        if (row->flen[i] == 0)
            continue;
        if (strlen(v) != row->flen[i] || hl_utf8_len(v) < 0) {
            hl_refuse(why, 422, name, "%s must be valid UTF-8 without NUL characters", name);
            goto out_free;
        }
        if (strcmp(name, "lat") == 0 || strcmp(name, "lon") == 0) {
            bool is_lat = name[1] == 'a';
            if (!s_number(v, is_lat ? &lat : &lon)) {
                hl_refuse(why, 422, name, "%s must be a number", name);
                goto out_free;
            }
            *(is_lat ? &has_lat : &has_lon) = 1;
        } else if (strcmp(name, "mailbox") == 0) {
            if (row->flen[i] > 4 || strspn(v, "0123456789") != row->flen[i]) {
                hl_refuse(why, 422, "mailbox", "mailbox must be the box's number");
                goto out_free;
            }
            json_object_set_new(obj, "mailbox", json_integer(atoi(v)));
        } else if (strncmp(name, "contact_", 8) == 0) {
            json_t *c = json_object_get(obj, "contact");
            if (!c)
                json_object_set_new(obj, "contact", c = json_object());
            json_object_set_new(c, name + 8, json_stringn(v, row->flen[i]));
        } else {
            json_object_set_new(obj, name, json_stringn(v, row->flen[i]));
        }
    }
    if (has_lat != has_lon) {
        hl_refuse(why, 422, has_lat ? "lon" : "lat", "lat and lon go together");
        goto out_free;
    }
    if (has_lat)
        json_object_set_new(obj, "location", json_pack("{s:f, s:f}", "lat", lat, "lon", lon));
    *out = obj;
    return 0;
out_free:
    json_decref(obj);
    return -1;
}

int intake_csv_parse(const char *body, size_t len, size_t max, intake_records_t *out,
                     hl_refusal_t *why)
{
    const char *p = body, *end = body + len;
    int line = 1, col[S_MAX_COLUMNS];
    s_row_t row = {0};
    memset(out, 0, sizeof *out);
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3; /* the byte-order mark spreadsheets write */
    if (s_csv_record(&p, end, &line, &row, why) != 0) {
        why->status = 422;
        snprintf(why->field, sizeof why->field, "header");
        return -1;
    }
    int ncols = row.n;
    for (int i = 0; i < ncols; i++) {
        col[i] = -1;
        for (int k = 0; s_columns[k]; k++)
            if (strcmp(row.field[i], s_columns[k]) == 0)
                col[i] = k;
        for (int k = 0; k < i && col[i] >= 0; k++)
            if (col[k] == col[i]) {
                hl_refuse(why, 422, "header", "column \"%s\" appears twice", row.field[i]);
                goto out_header;
            }
        if (col[i] < 0) {
            hl_refuse(why, 422, "header",
                      "unknown column \"%.40s\" (channel, org_unit, category, title, body, "
                      "contact_name, contact_phone, source_ref, lat, lon, mailbox, qr, "
                      "staff, written_at, idempotency_key)",
                      row.field[i]);
            goto out_header;
        }
    }
    s_row_clear(&row);
    while (p < end) {
        const char *start = p;
        int first = line;
        if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')) {
            p += *p == '\r' ? 2 : 1;
            line++;
            continue; /* blank line */
        }
        if (out->n == max) {
            intake_records_close(out);
            return hl_refuse(why, 413, NULL, "the batch has more than %zu lines", max);
        }
        hl_refusal_t bad = {0};
        int rc = s_csv_record(&p, end, &line, &row, &bad);
        intake_record_t *rec = s_push(out, first, start, (size_t)(p - start));
        if (rc != 0) {
            rec->refusal = bad;
            continue;
        }
        if (row.n != ncols)
            hl_refuse(&rec->refusal, 422, NULL, "the record has %d fields; the header has %d",
                      row.n, ncols);
        else
            s_csv_object(&row, col, &rec->obj, &rec->refusal);
        s_row_clear(&row);
    }
    return 0;
out_header:
    s_row_clear(&row);
    return -1;
}
