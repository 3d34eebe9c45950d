/* validate.c: the checks hl-points applies before anything reaches the ledger —
 * a PointsAwarded from the "points" stage (refused and dead-lettered when it
 * fails) and an account code or a number from a URL (answered 400). Pure
 * functions, no I/O, so tests/unit/test_points_validate.c covers them. */
#include "points.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Counts the characters of `s` if it is valid UTF-8 without control
 * characters; returns -1 (not UTF-8) or -2 (control character). */
static long s_utf8_chars(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    long n = 0;
    while (*p) {
        unsigned c = *p;
        int more;
        unsigned min;
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7F)
                return -2;
            p++;
            n++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            more = 1, min = 0x80, c &= 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            more = 2, min = 0x800, c &= 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            more = 3, min = 0x10000, c &= 0x07;
        } else {
            return -1;
        }
        p++;
        for (int i = 0; i < more; i++, p++) {
            if ((*p & 0xC0) != 0x80)
                return -1;
            c = (c << 6) | (*p & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            return -1; /* overlong, out of range or a surrogate */
        if (c >= 0x80 && c <= 0x9F)
            return -2; /* C1 controls */
        n++;
    }
    return n;
}

const char *points_text_problem(const char *s, size_t max, bool required)
{
    if (!s)
        return required ? "is missing" : NULL;
    if (!*s)
        return required ? "is empty" : NULL;
    long n = s_utf8_chars(s);
    if (n == -1)
        return "is not valid UTF-8";
    if (n == -2)
        return "contains control characters";
    if (strspn(s, " ") == strlen(s))
        return "is blank";
    if ((size_t)n > max)
        return "is too long";
    return NULL;
}

static bool s_field(const char *name, const char *value, size_t max, bool required, char *why,
                    size_t len)
{
    const char *problem = points_text_problem(value, max, required);
    if (!problem)
        return true;
    if (strcmp(problem, "is too long") == 0)
        snprintf(why, len, "%s is too long (the limit is %zu characters)", name, max);
    else
        snprintf(why, len, "%s %s", name, problem);
    return false;
}

bool points_award_check(const Hl__PointsAwarded *a, char *why, size_t len)
{
    if (!a) {
        snprintf(why, len, "payload is not a PointsAwarded message");
        return false;
    }
    if (!a->award_id || !hl_uuid_valid(a->award_id)) {
        snprintf(why, len, "award_id %s", a->award_id ? "is not a UUID" : "is missing");
        return false;
    }
    if (!s_field("account", a->account, POINTS_ACCOUNT_MAX, true, why, len))
        return false;
    if (!a->has_amount || a->amount == 0) {
        snprintf(why, len, "amount %s", a->has_amount ? "is zero" : "is missing");
        return false;
    }
    if (a->amount > POINTS_AMOUNT_MAX || a->amount < -POINTS_AMOUNT_MAX) {
        snprintf(why, len, "amount %d is out of range (at most %d either way)", (int)a->amount,
                 POINTS_AMOUNT_MAX);
        return false;
    }
    return s_field("reason", a->reason, POINTS_REASON_MAX, true, why, len) &&
           s_field("source_kind", a->source_kind, POINTS_KIND_MAX, false, why, len) &&
           s_field("source_id", a->source_id, POINTS_SOURCE_MAX, false, why, len) &&
           s_field("org_unit", a->org_unit, POINTS_UNIT_MAX, false, why, len);
}

bool points_account_check(const char *account, char *why, size_t len)
{
    return s_field("account", account, POINTS_ACCOUNT_MAX, true, why, len);
}

bool points_int_parse(const char *text, long def, long min, long max, long *out)
{
    if (!text) {
        *out = def;
        return true;
    }
    if (*text < '0' || *text > '9' || strlen(text) > 9)
        return false;
    char *end;
    long v = strtol(text, &end, 10);
    if (*end || v < min || v > max)
        return false;
    *out = v;
    return true;
}
