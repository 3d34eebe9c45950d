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

#include <stdio.h>
#include <string.h>

#define S_SKEW_US    (5LL * 60 * 1000000)      /* clock skew allowed into the future */
#define S_MAX_AGE_US (365LL * 86400 * 1000000) /* oldest written_at accepted */

const char *intake_qr_problem(const char *qr)
{
    return strspn(qr, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") ==
                   strlen(qr)
               ? NULL
               : "must be a QR code token (letters, digits, '-', '_', '.')";
}

int intake_channel_check(intake_appeal_t *a, const char *written_at_text, int64_t now_us,
                         char written_at[40], hl_refusal_t *why)
{
    if (a->mailbox && (!a->channel || strcmp(a->channel, "mailbox") != 0))
        return hl_refuse(why, 422, "mailbox", "mailbox is given only with channel \"mailbox\"");
    if (a->qr && (!a->channel || strcmp(a->channel, "qr") != 0))
        return hl_refuse(why, 422, "qr", "qr is given only with channel \"qr\"");
    a->written_at = NULL;
    if (written_at_text) {
        int64_t us;
        if (!hl_time_parse(written_at_text, &us))
            return hl_refuse(why, 422, "written_at",
                             "written_at must be an ISO 8601 date-time with an offset "
                             "(2024-05-01T08:30:00+08:00) or a date (2024-05-01)");
        if (us > now_us + S_SKEW_US)
            return hl_refuse(why, 422, "written_at", "written_at is in the future");
        if (us < now_us - S_MAX_AGE_US)
            return hl_refuse(why, 422, "written_at", "written_at is more than a year ago");
        hl_time_format(us, written_at);
        a->written_at = written_at;
    }
    return 0;
}
