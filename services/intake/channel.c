/* channel.c: where an appeal came from, checked before it is stored.
 *
 * Besides its channel an appeal may say which red mailbox its letter was
 * posted in ("mailbox", a number), which QR code was scanned ("qr", the
 * code's token), which staff member typed it in or made the visit ("staff")
 * and when the resident wrote it ("written_at", ISO 8601). This file checks
 * their shape and sense: a mailbox number only on the mailbox channel, a QR
 * token only on the qr channel, a date neither in the future (beyond five
 * minutes of clock skew) nor older than a year. Whether the mailbox or QR
 * code exists, and the compound it fixes, is the database's word: the
 * trigger in migrations/012_intake_channels.sql. Staff is optional on every
 * channel, the visit channel included: requiring it would refuse the
 * clients that exist, and reporting.appeal_source shows where it is missing.
 *
 * Pure functions, no I/O: POST /v1/appeals and the batch import call them
 * on the request-parsing side of the pipeline, before any unit is built. */
#include "intake.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define S_SKEW_US      (5LL * 60 * 1000000)      /* clock skew allowed into the future */
#define S_MAX_AGE_US   (365LL * 86400 * 1000000) /* oldest written_at accepted */
#define S_CST_OFFSET_S (8 * 3600)                /* UTC+8, for bare dates */

int intake_refuse(intake_refusal_t *why, int status, const char *field, const char *fmt, ...)
{
    why->status = status;
    snprintf(why->field, sizeof why->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why->message, sizeof why->message, fmt, ap);
    va_end(ap);
    return -1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil), so no time zone database is consulted. */
static int64_t s_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool s_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Reads exactly `n` digits. */
static bool s_digits(const char **s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*s)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *s += n;
    *out = v;
    return true;
}

bool intake_time_parse(const char *s, int64_t *us)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h = 0, mi = 0, sec = 0;
    if (!s_digits(&s, 4, &y) || *s++ != '-' || !s_digits(&s, 2, &mo) || *s++ != '-' ||
        !s_digits(&s, 2, &d))
        return false;
    if (y < 1900 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && s_leap(y)))
        return false;
    int64_t offset_s = S_CST_OFFSET_S, micros = 0;
    if (*s) {
        if (*s != 'T' && *s != 't' && *s != ' ')
            return false;
        s++;
        if (!s_digits(&s, 2, &h) || *s++ != ':' || !s_digits(&s, 2, &mi))
            return false;
        if (*s == ':') {
            s++;
            if (!s_digits(&s, 2, &sec))
                return false;
            if (*s == '.' || *s == ',') {
                s++;
                int k = 0;
                for (; *s >= '0' && *s <= '9'; s++, k++)
                    if (k < 6)
                        micros = micros * 10 + (*s - '0');
                if (k == 0 || k > 9)
                    return false;
                for (; k < 6; k++)
                    micros *= 10;
            }
        }
        if (h > 23 || mi > 59 || sec > 59)
            return false;
        if (*s == 'Z' || *s == 'z') {
            offset_s = 0;
            s++;
        } else if (*s == '+' || *s == '-') {
            int sign = *s++ == '-' ? -1 : 1, oh, om = 0;
            if (!s_digits(&s, 2, &oh))
                return false;
            if (*s == ':')
                s++;
            if (*s && !s_digits(&s, 2, &om))
                return false;
            if (oh > 14 || om > 59)
                return false;
            offset_s = sign * (oh * 3600 + om * 60);
        } else {
            return false; /* a local time without an offset is ambiguous */
        }
        if (*s)
            return false;
    }
    int64_t secs = s_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset_s;
    *us = secs * 1000000 + micros;
    return true;
}

void intake_time_format(int64_t us, char out[40])
{
    int64_t secs = us >= 0 ? us / 1000000 : (us - 999999) / 1000000;
    int64_t micros = us - secs * 1000000;
    int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    int64_t rem = secs - days * 86400;
    /* civil_from_days, the inverse of s_days_from_civil */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    int64_t y = yoe + era * 400 + (m <= 2);
    char text[128];
    snprintf(text, sizeof text, "%04lld-%02d-%02dT%02d:%02d:%02d.%06lldZ", (long long)y, m, d,
             (int)(rem / 3600), (int)(rem % 3600 / 60), (int)(rem % 60), (long long)micros);
    snprintf(out, 40, "%.39s", text);
}

int intake_text_field(json_t *v, const char *field, size_t max, bool multiline, const char **out,
                      intake_refusal_t *why)
{
    *out = NULL;
    if (!json_is_string(v))
        return intake_refuse(why, 422, field, "%s must be a string", field);
    const char *s = json_string_value(v);
    if (strlen(s) != json_string_length(v))
        return intake_refuse(why, 422, field, "%s must not contain NUL characters", field);
    char problem[sizeof why->message];
    if (!hl_text_check(field, s, max, true, multiline, problem, sizeof problem))
        return intake_refuse(why, 422, field, "%s", problem);
    *out = s;
    return 0;
}

int intake_channel_parse(json_t *obj, int64_t now_us, intake_appeal_t *a, char written_at[40],
                         intake_refusal_t *why)
{
    a->mailbox = 0;
    a->qr = a->staff = a->written_at = NULL;
    json_t *v = json_object_get(obj, "mailbox");
    if (v && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 999)
            return intake_refuse(why, 422, "mailbox",
                                 "mailbox must be the box's number, an integer from 1 to 999");
        if (!a->channel || strcmp(a->channel, "mailbox") != 0)
            return intake_refuse(why, 422, "mailbox",
                                 "mailbox is given only with channel \"mailbox\"");
        a->mailbox = (int)json_integer_value(v);
    }
    v = json_object_get(obj, "qr");
    if (v && !json_is_null(v)) {
        if (intake_text_field(v, "qr", 64, false, &a->qr, why) != 0)
            return -1;
        if (strspn(a->qr, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
            strlen(a->qr))
            return intake_refuse(why, 422, "qr",
                                 "qr must be a QR code token (letters, digits, '-', '_', '.')");
        if (!a->channel || strcmp(a->channel, "qr") != 0)
            return intake_refuse(why, 422, "qr", "qr is given only with channel \"qr\"");
    }
    v = json_object_get(obj, "staff");
    if (v && !json_is_null(v) && intake_text_field(v, "staff", 50, false, &a->staff, why) != 0)
        return -1;
    v = json_object_get(obj, "written_at");
    if (v && !json_is_null(v)) {
        const char *s;
        int64_t us;
        if (intake_text_field(v, "written_at", 40, false, &s, why) != 0)
            return -1;
        if (!intake_time_parse(s, &us))
            return intake_refuse(why, 422, "written_at",
                                 "written_at must be an ISO 8601 date-time with an offset "
                                 "(2024-05-01T08:30:00+08:00) or a date (2024-05-01)");
        if (us > now_us + S_SKEW_US)
            return intake_refuse(why, 422, "written_at", "written_at is in the future");
        if (us < now_us - S_MAX_AGE_US)
            return intake_refuse(why, 422, "written_at", "written_at is more than a year ago");
        intake_time_format(us, written_at);
        a->written_at = written_at;
    }
    return 0;
}
