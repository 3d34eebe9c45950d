/* hl_alloc: the one place that decides what out-of-memory means. */
#include "hl_alloc.h"
#include "hl_text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void s_oom(size_t size)
{
    fprintf(stderr, "{\"level\":\"fatal\",\"msg\":\"out of memory allocating %zu bytes\"}\n", size);
    abort();
}

void *hl_malloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        s_oom(size);
    return p;
}

void *hl_calloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        s_oom(count * size);
    return p;
}

void *hl_realloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (!p)
        s_oom(size);
    return p;
}

char *hl_strdup(const char *s)
{
    return hl_strndup(s, strlen(s));
}

char *hl_strndup(const char *s, size_t n)
{
    char *p = hl_malloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *hl_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = hl_malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

static void s_buf_reserve(hl_buf_t *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->data = hl_realloc(b->data, cap);
    b->cap = cap;
}

void hl_buf_append(hl_buf_t *b, const void *data, size_t len)
{
    s_buf_reserve(b, len);
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void hl_buf_printf(hl_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    s_buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void hl_buf_pgarray_add(hl_buf_t *b, const char *s)
{
    hl_buf_append(b, b->len ? ",\"" : "{\"", 2);
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\')
            hl_buf_append(b, "\\", 1);
        hl_buf_append(b, p, 1);
    }
    hl_buf_append(b, "\"", 1);
}

void hl_buf_pgarray_end(hl_buf_t *b)
{
    if (!b->len)
        hl_buf_append(b, "{", 1);
    hl_buf_append(b, "}", 1);
}

void hl_buf_json_escape(hl_buf_t *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            hl_buf_append(b, "\\\"", 2);
            break;
        case '\\':
            hl_buf_append(b, "\\\\", 2);
            break;
        case '\n':
            hl_buf_append(b, "\\n", 2);
            break;
        case '\r':
            hl_buf_append(b, "\\r", 2);
            break;
        case '\t':
            hl_buf_append(b, "\\t", 2);
            break;
        default:
            if (*p < 0x20) {
                hl_buf_printf(b, "\\u%04x", *p);
            } else if (*p < 0x80) {
                hl_buf_append(b, p, 1);
            } else {
                unsigned cp;
                int n = hl_utf8_next(p, &cp);
                if (n == 0) {
                    hl_buf_append(b, "\\ufffd", 6);
                } else {
                    hl_buf_append(b, p, (size_t)n);
                    p += n - 1;
                }
            }
        }
    }
}

void hl_buf_reset(hl_buf_t *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void hl_buf_close(hl_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
