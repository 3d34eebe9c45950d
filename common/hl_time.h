/* hl_time: ISO 8601 / W3C date-times, parsed and written the same way by
 * every daemon. The programme has one time zone, China Standard Time
 * (UTC+8, no daylight saving), so a bare date means the day that starts at
 * 00:00 UTC+8; a time of day without an offset is refused as ambiguous.
 * Pure functions, no time zone database, no I/O — but for the clock itself,
 * hl_time_us. */
#ifndef HL_TIME_H
#define HL_TIME_H

#include <stdbool.h>
#include <stdint.h>

/* Wall-clock time in microseconds since the epoch (message timestamps). */
int64_t hl_time_us(void);
/* Parses "YYYY-MM-DD" (the whole string, year 1900 or later, a day that
 * exists) into *y, *m, *d. Returns false for anything else (NULL included);
 * the outputs are then untouched. */
bool hl_date_parse(const char *s, int *y, int *m, int *d);
/* Parses an ISO 8601 date-time with an offset: YYYY-MM-DD, then 'T' (or 't'
 * or a space), hh:mm[:ss[.f]] (1 to 9 fraction digits after '.' or ',',
 * kept to the microsecond), then Z (or z), +hh, +hh:mm or +hhmm (at most
 * 14:59 either way); or a bare date (00:00 UTC+8). Returns true and *us,
 * microseconds since 1970-01-01T00:00:00Z; false (NULL included) with *us
 * untouched for anything else. */
bool hl_time_parse(const char *s, int64_t *us);
/* Writes `us` (microseconds since the epoch) as "YYYY-MM-DDTHH:MM:SS.ffffffZ". */
void hl_time_format(int64_t us, char out[40]);

#endif
