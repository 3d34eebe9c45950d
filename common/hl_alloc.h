/* hl_alloc: allocation that aborts on out-of-memory, so call sites stay
 * clean. A daemon that cannot allocate a few bytes cannot do anything useful;
 * dying loudly lets the supervisor restart it and the pipeline re-send. */
#ifndef HL_ALLOC_H
#define HL_ALLOC_H

#include <stddef.h>

void *hl_malloc(size_t size);
void *hl_calloc(size_t count, size_t size);
void *hl_realloc(void *ptr, size_t size);
char *hl_strdup(const char *s);
char *hl_strndup(const char *s, size_t n);
/* Returns a heap string formatted like printf; the caller frees it. */
char *hl_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable byte buffer; `data` is always NUL-terminated. */
typedef struct {
    char *data; /* owned, NUL-terminated */
    size_t len; /* bytes used, without the NUL */
    size_t cap; /* bytes allocated */
} hl_buf_t;

void hl_buf_append(hl_buf_t *b, const void *data, size_t len);
void hl_buf_printf(hl_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends `s` as a JSON string body (without the quotes), escaping as needed;
 * a byte that does not start a valid UTF-8 sequence becomes U+FFFD, so a
 * log line quoting a client's bytes is still JSON. */
void hl_buf_json_escape(hl_buf_t *b, const char *s);
/* Builds a PostgreSQL array literal ("{\"a\",\"b\"}", for $n::text[] or
 * uuid[]): add each element (quoted, so commas, braces, quotes and
 * backslashes in it are kept), then end it; an empty buffer ends as "{}". */
void hl_buf_pgarray_add(hl_buf_t *b, const char *s);
void hl_buf_pgarray_end(hl_buf_t *b);
void hl_buf_reset(hl_buf_t *b);
void hl_buf_close(hl_buf_t *b);

#endif
