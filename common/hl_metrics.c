/* hl_metrics: a tiny Prometheus registry. A linked list is enough: there are
 * a few dozen metrics and they are found at registration, not per update. */
#include "hl_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { HL_METRIC_COUNTER, HL_METRIC_GAUGE, HL_METRIC_HISTOGRAM };

static const double s_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                  0.1,    0.25,  0.5,    1,     2.5,  5,     10};
#define HL_NBUCKETS (sizeof s_bounds / sizeof s_bounds[0])

struct hl_metric {
    hl_metric_t *next;             /* registry list */
    int kind;                      /* HL_METRIC_* */
    char *name;                    /* owned */
    char *help;                    /* owned */
    char *labels;                  /* owned, may be NULL */
    double value;                  /* counter/gauge value, histogram sum */
    uint64_t count;                /* histogram observations */
    uint64_t buckets[HL_NBUCKETS]; /* histogram counts per upper bound */
};

static hl_metric_t *s_head;

static hl_metric_t *s_register(int kind, const char *name, const char *help, const char *labels)
{
    for (hl_metric_t *m = s_head; m; m = m->next)
        if (m->kind == kind && strcmp(m->name, name) == 0 &&
            ((!labels && !m->labels) || (labels && m->labels && strcmp(labels, m->labels) == 0)))
            return m;
    hl_metric_t *m = hl_calloc(1, sizeof *m);
    m->kind = kind;
    m->name = hl_strdup(name);
    m->help = hl_strdup(help);
    m->labels = labels ? hl_strdup(labels) : NULL;
    /* Insert after the family's last member (or append a new family), so
     * a family renders as one block with one HELP and TYPE even when its
     * members are registered between other families' (as per stage). */
    hl_metric_t **at = NULL;
    hl_metric_t **tail = &s_head;
    for (; *tail; tail = &(*tail)->next)
        if (strcmp((*tail)->name, name) == 0)
            at = &(*tail)->next;
    if (!at)
        at = tail;
    m->next = *at;
    *at = m;
    return m;
}

hl_metric_t *hl_metric_counter(const char *name, const char *help, const char *labels)
{
    return s_register(HL_METRIC_COUNTER, name, help, labels);
}

hl_metric_t *hl_metric_gauge(const char *name, const char *help, const char *labels)
{
    return s_register(HL_METRIC_GAUGE, name, help, labels);
}

hl_metric_t *hl_metric_histogram(const char *name, const char *help, const char *labels)
{
    return s_register(HL_METRIC_HISTOGRAM, name, help, labels);
}

void hl_metric_add(hl_metric_t *m, double v)
{
    m->value += v;
}

void hl_metric_set(hl_metric_t *m, double v)
{
    m->value = v;
}

void hl_metric_observe(hl_metric_t *m, double seconds)
{
    m->value += seconds;
    m->count++;
    for (size_t i = 0; i < HL_NBUCKETS; i++)
        if (seconds <= s_bounds[i])
            m->buckets[i]++;
}

double hl_metric_value(const hl_metric_t *m)
{
    return m->kind == HL_METRIC_HISTOGRAM ? (double)m->count : m->value;
}

static void s_labels(hl_buf_t *out, const char *labels, const char *extra)
{
    if (!labels && !extra)
        return;
    hl_buf_printf(out, "{%s%s%s}", labels ? labels : "", labels && extra ? "," : "",
                  extra ? extra : "");
}

static void (*s_on_render)(void *arg);
static void *s_on_render_arg;

void hl_metrics_on_render(void (*fn)(void *arg), void *arg)
{
    s_on_render = fn;
    s_on_render_arg = arg;
}

void hl_metrics_render(hl_buf_t *out)
{
    if (s_on_render)
        s_on_render(s_on_render_arg);
    static const char *const types[] = {"counter", "gauge", "histogram"};
    const char *last = "";
    for (hl_metric_t *m = s_head; m; m = m->next) {
        if (strcmp(last, m->name) != 0) {
            hl_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help, m->name,
                          types[m->kind]);
            last = m->name;
        }
        if (m->kind != HL_METRIC_HISTOGRAM) {
            hl_buf_printf(out, "%s", m->name);
            s_labels(out, m->labels, NULL);
            hl_buf_printf(out, " %.17g\n", m->value);
            continue;
        }
        for (size_t i = 0; i < HL_NBUCKETS; i++) {
            char le[32];
            snprintf(le, sizeof le, "le=\"%g\"", s_bounds[i]);
            hl_buf_printf(out, "%s_bucket", m->name);
            s_labels(out, m->labels, le);
            hl_buf_printf(out, " %llu\n", (unsigned long long)m->buckets[i]);
        }
        hl_buf_printf(out, "%s_bucket", m->name);
        s_labels(out, m->labels, "le=\"+Inf\"");
        hl_buf_printf(out, " %llu\n%s_sum", (unsigned long long)m->count, m->name);
        s_labels(out, m->labels, NULL);
        hl_buf_printf(out, " %.17g\n%s_count", m->value, m->name);
        s_labels(out, m->labels, NULL);
        hl_buf_printf(out, " %llu\n", (unsigned long long)m->count);
    }
}

void hl_metrics_reset(void)
{
    s_on_render = NULL;
    s_on_render_arg = NULL;
    while (s_head) {
        hl_metric_t *m = s_head;
        s_head = m->next;
        free(m->name);
        free(m->help);
        free(m->labels);
        free(m);
    }
}
