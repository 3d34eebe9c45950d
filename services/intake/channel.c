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

#define S_SKEW_US    (5LL * 60 * 1000000)      /* clock skew allowed into the future */
#define S_MAX_AGE_US (365LL * 86400 * 1000000) /* oldest written_at accepted */

int intake_refuse(intake_refusal_t *why, int status, const char *field, const char *fmt, ...)
{
    why->status = status;
    snprintf(why->field, sizeof why->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why->message, sizeof why->message, fmt, ap);
    va_end(ap);
    hl_utf8_repair(why->field);
    hl_utf8_repair(why->message);
    return -1;
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
        if (!hl_time_parse(s, &us))
            return intake_refuse(why, 422, "written_at",
                                 "written_at must be an ISO 8601 date-time with an offset "
                                 "(2024-05-01T08:30:00+08:00) or a date (2024-05-01)");
        if (us > now_us + S_SKEW_US)
            return intake_refuse(why, 422, "written_at", "written_at is in the future");
        if (us < now_us - S_MAX_AGE_US)
            return intake_refuse(why, 422, "written_at", "written_at is more than a year ago");
        hl_time_format(us, written_at);
        a->written_at = written_at;
    }
    return 0;
}
