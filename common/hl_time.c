/* hl_time.c: ISO 8601 date-times in and out (see hl_time.h). The parsing
 * rules were intake's (services/intake/channel.c); the Open311 filters and
 * triage's council record use the same ones now. */
#include "hl_time.h"

#include <stdio.h>
#include <sys/time.h>

#define S_CST_OFFSET_S (8 * 3600) /* UTC+8, for bare dates */

int64_t hl_time_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
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

/* Reads "YYYY-MM-DD" at *s (year from 1900, a day that exists) and advances. */
static bool s_date(const char **s, int *y, int *mo, int *d)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!s_digits(s, 4, y) || *(*s)++ != '-' || !s_digits(s, 2, mo) || *(*s)++ != '-' ||
        !s_digits(s, 2, d))
        return false;
    return *y >= 1900 && *mo >= 1 && *mo <= 12 && *d >= 1 &&
           *d <= mdays[*mo - 1] + (*mo == 2 && s_leap(*y));
}

bool hl_date_parse(const char *s, int *y, int *m, int *d)
{
    int yy, mm, dd;
    if (!s || !s_date(&s, &yy, &mm, &dd) || *s)
        return false;
    *y = yy;
    *m = mm;
    *d = dd;
    return true;
}

bool hl_time_parse(const char *s, int64_t *us)
{
    int y, mo, d, h = 0, mi = 0, sec = 0;
    if (!s || !s_date(&s, &y, &mo, &d))
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

void hl_time_format(int64_t us, char out[40])
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
