/* hl_metrics: counters, gauges and latency histograms, rendered as
 * Prometheus text on /metrics.
 *
 * One registry per process (the loop is single-threaded, so no locks). A
 * metric is registered once, at start, and kept as a pointer; updating it is
 * an add. Names follow Prometheus conventions (hl_<what>_<unit>_total). */
#ifndef HL_METRICS_H
#define HL_METRICS_H

#include "hl_alloc.h"

#include <stdint.h>

typedef struct hl_metric hl_metric_t;

/* Registers (or finds, when name and labels match) a counter. `labels` is
 * the Prometheus label text without braces, e.g. "stage=\"appeal\"", or NULL.
 * The registry owns the metric; the pointer lives as long as the process. */
hl_metric_t *hl_metric_counter(const char *name, const char *help, const char *labels);
hl_metric_t *hl_metric_gauge(const char *name, const char *help, const char *labels);
/* A histogram of durations in seconds with fixed buckets from 0.5 ms to 10 s. */
hl_metric_t *hl_metric_histogram(const char *name, const char *help, const char *labels);

void hl_metric_add(hl_metric_t *m, double v);
void hl_metric_set(hl_metric_t *m, double v);
void hl_metric_observe(hl_metric_t *m, double seconds);
double hl_metric_value(const hl_metric_t *m);

/* Calls `fn(arg)` at the start of every render, to bring metrics read from
 * elsewhere (hl_db's counters) up to date; NULL clears it. One per process. */
void hl_metrics_on_render(void (*fn)(void *arg), void *arg);
/* Appends every metric in the text exposition format to `out`. */
void hl_metrics_render(hl_buf_t *out);
/* Frees the registry (for leak-clean tests and shutdown). */
void hl_metrics_reset(void);

#endif
