/* grade.c: the chain contest's arithmetic (三链比武) — a compound's four
 * criterion scores, its weighted total and its A/B/C grade, from the
 * system's aggregates and the jury's manual scores; and the quarter a URL
 * names. Pure functions (tests/unit/test_points_grade.c); contest.c reads
 * the inputs and stores what comes out, with the inputs beside it.
 *
 * A manual score, when recorded, is the criterion's score. Otherwise:
 *   party_building      50 + 10 x councils held + 5 x wishes done, at most 100
 *   sanitation          none (the system records no inspections)
 *   petitions_stability 50 x resolved/items + 30 x speed + 20 x (1 - reopen rate),
 *                       speed 1 when the mean time to resolve is 7 days or less,
 *                       0 from 30 days (and with nothing resolved), linear between;
 *                       reopen rate = item reopenings / resolved, at most 1;
 *                       none when no item was opened
 *   satisfaction        100 x confirmations / (confirmations + reopenings);
 *                       none without feedback
 * A criterion without a score is left out of the weighted mean (its weight
 * with it), so a missing inspection neither passes nor fails a compound. */
#include "points.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const s_codes[POINTS_C_COUNT] = {"party_building", "sanitation",
                                                    "petitions_stability", "satisfaction"};

const char *points_criterion_code(int criterion)
{
    assert(criterion >= 0 && criterion < POINTS_C_COUNT);
    return s_codes[criterion];
}

int points_criterion_parse(const char *code)
{
    for (int i = 0; code && i < POINTS_C_COUNT; i++)
        if (strcmp(code, s_codes[i]) == 0)
            return i;
    return -1;
}

static double s_round1(double x)
{
    return round(x * 10.0) / 10.0;
}

static double s_clamp(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

/* The system's score for criterion c, or false when it has no data. */
static bool s_system_score(const points_inputs_t *in, int c, double *score)
{
    switch (c) {
    case POINTS_C_PARTY_BUILDING:
        *score = s_clamp(50.0 + 10.0 * in->councils_held + 5.0 * in->wishes_done, 0, 100);
        return true;
    case POINTS_C_PETITIONS_STABILITY: {
        if (in->items <= 0)
            return false;
        double rate = (double)in->items_resolved / in->items;
        double speed = 0;
        if (in->items_resolved > 0 && in->resolve_hours >= 0)
            speed = s_clamp(1.0 - (in->resolve_hours - 7 * 24.0) / (23 * 24.0), 0, 1);
        double reopen = in->items_resolved > 0
                            ? s_clamp((double)in->item_reopens / in->items_resolved, 0, 1)
                            : 0;
        *score = 50.0 * s_clamp(rate, 0, 1) + 30.0 * speed + 20.0 * (1.0 - reopen);
        return true;
    }
    case POINTS_C_SATISFACTION: {
        int answers = in->confirms + in->feedback_reopens;
        if (answers <= 0)
            return false;
        *score = 100.0 * in->confirms / answers;
        return true;
    }
    default:
        return false; /* sanitation: manual only */
    }
}

void points_grade_compute(const points_inputs_t *in, const double weight[POINTS_C_COUNT],
                          double min_a, double min_b, points_grade_t *out)
{
    assert(in && weight && out);
    memset(out, 0, sizeof *out);
    double sum = 0, weights = 0;
    for (int c = 0; c < POINTS_C_COUNT; c++) {
        double s;
        if (in->manual[c]) {
            out->source[c] = POINTS_SRC_MANUAL;
            s = s_clamp(in->manual_score[c], 0, 100);
        } else if (s_system_score(in, c, &s)) {
            out->source[c] = POINTS_SRC_SYSTEM;
        } else {
            out->source[c] = POINTS_SRC_NONE;
            continue;
        }
        out->score[c] = s_round1(s);
        if (weight[c] > 0) {
            sum += weight[c] * out->score[c];
            weights += weight[c];
        }
    }
    if (weights <= 0)
        return;
    out->has_total = true;
    out->total = s_round1(sum / weights);
    out->grade = out->total >= min_a ? 'A' : out->total >= min_b ? 'B' : 'C';
}

/* "YYYY-MM-01" into `out` (year 2000..2200, month 1..12, checked by the
 * callers). Formatted through a roomier buffer: without optimisation (make
 * valgrind builds at -O0) GCC cannot see those ranges and warns that
 * "%04d" might not fit. */
static void s_month_first(char out[11], int year, int month)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%04d-%02d-01", year, month);
    memcpy(out, buf, 10);
    out[10] = '\0';
}

bool points_quarter_parse(const char *text, char first[11], char next[11])
{
    if (!text)
        return false;
    int year = 0;
    size_t i = 0;
    for (; i < 4; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
        year = year * 10 + (text[i] - '0');
    }
    if (text[i] == '-')
        i++;
    if ((text[i] != 'Q' && text[i] != 'q') || text[i + 1] < '1' || text[i + 1] > '4' ||
        text[i + 2] != '\0')
        return false;
    int q = text[i + 1] - '0';
    if (year < 2000 || year > 2199)
        return false;
    s_month_first(first, year, (q - 1) * 3 + 1);
    if (q == 4)
        s_month_first(next, year + 1, 1);
    else
        s_month_first(next, year, q * 3 + 1);
    return true;
}

bool points_period_parse(const char *period, const char *at, int64_t now_us, char first[11],
                         char next[11], char label[12])
{
    /* Periods are Beijing time: "now" is the UTC instant moved by 8 hours. */
    time_t secs = (time_t)(now_us / 1000000) + 8 * 3600;
    struct tm bj;
    gmtime_r(&secs, &bj);
    unsigned year = (unsigned)(bj.tm_year + 1900) % 10000u, month = (unsigned)bj.tm_mon % 12u + 1;
    if (!period || strcmp(period, "all") == 0) {
        if (at)
            return false;
        first[0] = next[0] = '\0';
        snprintf(label, 12, "all");
        return true;
    }
    if (strcmp(period, "quarter") == 0) {
        char text[32];
        if (!at) {
            snprintf(text, sizeof text, "%04uQ%u", year, (month - 1) / 3 + 1);
            at = text;
        }
        if (!points_quarter_parse(at, first, next))
            return false;
        memcpy(label, first, 4); /* "YYYYQn" */
        label[4] = 'Q';
        label[5] = (char)('0' + (atoi(first + 5) + 2) / 3);
        label[6] = '\0';
        return true;
    }
    if (strcmp(period, "month") != 0)
        return false;
    if (at) {
        if (strlen(at) != 7 || at[4] != '-' || strspn(at, "0123456789-") != 7)
            return false;
        int y = atoi(at), m = atoi(at + 5);
        if (y < 2000 || y > 2199 || m < 1 || m > 12)
            return false;
        year = (unsigned)y % 10000u;
        month = (unsigned)m % 13u;
    }
    s_month_first(first, (int)year, (int)month);
    s_month_first(next, month == 12 ? (int)year + 1 : (int)year, month == 12 ? 1 : (int)month + 1);
    memcpy(label, first, 7); /* "YYYY-MM" */
    label[7] = '\0';
    return true;
}
