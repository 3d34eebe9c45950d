/* open311_fmt.h: the pure parts of the Open311 front (see open311_fmt.c):
 * the form-encoded request body, XML output, W3C datetimes and the status
 * mapping. No I/O, so tests/unit/test_intake_open311.c covers them. */
#ifndef INTAKE_OPEN311_FMT_H
#define INTAKE_OPEN311_FMT_H

#include "hl_alloc.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* One name=value pair of a form body, both decoded. */
typedef struct {
    char *name;  /* owned */
    char *value; /* owned */
} intake_form_field_t;

/* A decoded application/x-www-form-urlencoded body. */
typedef struct {
    intake_form_field_t *fields; /* owned, in body order */
    size_t n;                    /* count */
} intake_form_t;

/* Decodes `len` bytes of `body` ('+' is a space, %XX a byte). Refuses a bad
 * escape, a NUL, invalid UTF-8, an empty name, more than `max_fields`
 * fields, and a repeated name (except names ending in "[]", which lists
 * repeat). Returns 0, or -1 with the reason in `err`; `out` is always
 * valid for intake_form_close. */
int intake_form_parse(const char *body, size_t len, size_t max_fields, intake_form_t *out,
                      char *err, size_t errlen);
/* The value of the first field called `name`, or NULL. */
const char *intake_form_get(const intake_form_t *f, const char *name);
void intake_form_close(intake_form_t *f);

/* True when `s` is valid UTF-8 without NUL or C0 controls other than
 * tab, CR and LF. */
bool intake_text_ok(const char *s);

/* Significant digits of every real number intake writes (coordinates), in
 * JSON and XML alike: plenty for a GPS fix, and 31.3 prints as 31.3, not as
 * its nearest double 31.300000000000001 (hl_http_reply_json's 17 digits). */
#define INTAKE_REAL_DIGITS 12

/* `v` as compact JSON followed by a newline, reals with INTAKE_REAL_DIGITS
 * digits: the body of every intake JSON reply that carries coordinates.
 * The caller frees the result; *len gets its length. */
char *intake_json_text(const json_t *v, size_t *len);

/* Appends `s` escaped for XML text or attribute values: & < > " ' become
 * entities; control characters XML 1.0 cannot carry are dropped; all else
 * (Chinese included) passes as UTF-8. */
void intake_xml_escape(hl_buf_t *b, const char *s);
/* Appends `v` as the XML element <name>: objects become child elements in
 * key order, arrays repeat the element named by `item_name(name)` inside
 * <name>, strings are escaped, null is empty, true/false/numbers as text. */
void intake_xml_value(hl_buf_t *b, const char *name, json_t *v);
/* The whole document: the XML declaration and `v` as element <root>. The
 * caller owns the returned text (NUL-terminated); *len gets its length. */
char *intake_xml_document(const char *root, json_t *v, size_t *len);
/* The element name for one item of a list element called `list`
 * ("services" -> "service", "service_requests" -> "request", ...). */
const char *intake_xml_item_name(const char *list);

/* Parses a whole decimal number into *out; refuses junk, NaN and infinity. */
bool intake_parse_double(const char *s, double *out);

/* Open311's two statuses from ours: resolved and confirmed are "closed",
 * everything else (received ... escalated, reopened) is "open". */
const char *intake_open311_status(const char *status);
/* Parses a status filter: "open", "closed" or both, comma-separated.
 * Returns false for anything else. */
bool intake_open311_status_list(const char *s, bool *open, bool *closed);

#endif
