/* hl_log: JSON lines on stderr, written with one write(2) each so lines from
 * concurrent processes sharing a file never interleave mid-line. */
#include "hl_log.h"

#include "hl_alloc.h"
#include "hl_time.h"

#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *s_service = "hl";
static hl_log_level_t s_level = HL_LOG_INFO;
static const char *const s_names[] = {"debug", "info", "warn", "error"};

void hl_log_init(const char *service, hl_log_level_t level)
{
    s_service = service;
    s_level = level;
}

int hl_log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, s_names[i]) == 0)
            return i;
    return -1;
}

void hl_log(hl_log_level_t level, const char *kind, const char *id, const char *fmt, ...)
{
    if (level < s_level)
        return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);

    va_list ap;
    va_start(ap, fmt);
    char stackmsg[512];
    int n = vsnprintf(stackmsg, sizeof stackmsg, fmt, ap);
    va_end(ap);
    char *msg = stackmsg;
    if (n >= (int)sizeof stackmsg) {
        msg = hl_malloc((size_t)n + 1);
        va_start(ap, fmt);
        vsnprintf(msg, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }

    hl_buf_t b = {0};
    hl_buf_printf(&b, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"service\":\"", ts,
                  (long)(tv.tv_usec / 1000), s_names[level]);
    hl_buf_json_escape(&b, s_service);
    hl_buf_append(&b, "\"", 1);
    if (kind) {
        hl_buf_append(&b, ",\"", 2);
        hl_buf_json_escape(&b, kind);
        hl_buf_append(&b, "\":\"", 3);
        hl_buf_json_escape(&b, id ? id : "");
        hl_buf_append(&b, "\"", 1);
    }
    hl_buf_append(&b, ",\"msg\":\"", 8);
    hl_buf_json_escape(&b, msg);
    hl_buf_append(&b, "\"}\n", 3);
    ssize_t w = write(STDERR_FILENO, b.data, b.len);
    (void)w;
    hl_buf_close(&b);
    if (msg != stackmsg)
        free(msg);
}
