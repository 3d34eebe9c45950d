/* hl_log: one JSON object per line on stderr.
 *
 *   {"ts":"2026-11-28T12:00:00.123Z","level":"warn","service":"hl-intake",
 *    "appeal":"5f0c...","msg":"could not insert appeal: duplicate key"}
 *
 * Every line names the object it concerns (kind + id) when there is one, so
 * an operator can grep one appeal through every daemon. Messages follow the
 * PostgreSQL style: lower case, no final period, say what failed and why. */
#ifndef HL_LOG_H
#define HL_LOG_H

typedef enum {
    HL_LOG_DEBUG, /* chatty detail, off by default */
    HL_LOG_INFO,  /* normal life events: start, stop, config */
    HL_LOG_WARN,  /* bad input refused, a retry, a peer gone */
    HL_LOG_ERROR, /* something the operator must look at */
} hl_log_level_t;

#include "hl_time.h" /* hl_time_us, for callers that took it from here */

/* Sets the service name printed on every line (not copied: pass a literal). */
void hl_log_init(const char *service, hl_log_level_t level);
/* Parses "debug", "info", "warn" or "error"; returns -1 when unknown. */
int hl_log_level_parse(const char *s);

/* Logs one line. `kind` and `id` name the object concerned; either may be NULL. */
void hl_log(hl_log_level_t level, const char *kind, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define hl_debug(kind, id, ...) hl_log(HL_LOG_DEBUG, kind, id, __VA_ARGS__)
#define hl_info(kind, id, ...)  hl_log(HL_LOG_INFO, kind, id, __VA_ARGS__)
#define hl_warn(kind, id, ...)  hl_log(HL_LOG_WARN, kind, id, __VA_ARGS__)
#define hl_error(kind, id, ...) hl_log(HL_LOG_ERROR, kind, id, __VA_ARGS__)

#endif
