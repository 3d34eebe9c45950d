/* test_metrics: the Prometheus registry. Rendered text is checked by a small
 * parser of the exposition format: one HELP and one TYPE per family, before
 * its samples, families contiguous, histogram buckets cumulative with
 * +Inf equal to _count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hl_alloc.h"
#include "hl_metrics.h"

static int s_teardown(void **state)
{
    (void)state;
    hl_metrics_reset();
    return 0;
}

/* Checks `text` is valid exposition format as described above; returns the
 * number of families. */
static int s_check_exposition(const char *text)
{
    char *copy = hl_strdup(text);
    char families[64][128];
    char types[64][32];
    int nfam = 0;
    int cur = -1; /* family of the current block */
    bool cur_samples = false;
    double last_le = -1; /* histogram: previous bucket bound */
    double last_bucket = -1;
    double inf_bucket = -1;
    char cur_labels[256] = "";
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char name[128], rest[256];
        if (sscanf(line, "# HELP %127s %255[^\n]", name, rest) == 2) {
            for (int i = 0; i < nfam; i++)
                if (strcmp(families[i], name) == 0)
                    fail_msg("second HELP for family %s", name);
            assert_true(nfam < 64);
            snprintf(families[nfam], sizeof families[nfam], "%s", name);
            types[nfam][0] = '\0';
            cur = nfam++;
            cur_samples = false;
            continue;
        }
        char type[32];
        if (sscanf(line, "# TYPE %127s %31s", name, type) == 2) {
            if (cur < 0 || strcmp(families[cur], name) != 0)
                fail_msg("TYPE for %s without its HELP just before", name);
            if (types[cur][0])
                fail_msg("second TYPE for family %s", name);
            if (cur_samples)
                fail_msg("TYPE for %s after its samples", name);
            assert_true(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0 ||
                        strcmp(type, "histogram") == 0);
            snprintf(types[cur], sizeof types[cur], "%s", type);
            continue;
        }
        assert_int_not_equal(line[0], '#');
        /* name{labels} value  or  name value */
        size_t nlen = strcspn(line, "{ ");
        assert_true(nlen > 0 && nlen < sizeof name);
        memcpy(name, line, nlen);
        name[nlen] = '\0';
        const char *p = line + nlen;
        char labels[256] = "";
        if (*p == '{') {
            const char *close = strchr(p, '}');
            assert_non_null(close);
            snprintf(labels, sizeof labels, "%.*s", (int)(close - p - 1), p + 1);
            p = close + 1;
        }
        assert_int_equal(*p, ' ');
        char *end = NULL;
        double v = strtod(p + 1, &end);
        assert_true(end != p + 1 && *end == '\0');
        if (cur < 0)
            fail_msg("sample %s before any HELP", name);
        const char *fam = families[cur];
        size_t flen = strlen(fam);
        bool hist = strcmp(types[cur], "histogram") == 0;
        if (!hist) {
            if (strcmp(name, fam) != 0)
                fail_msg("sample %s inside family %s", name, fam);
        } else {
            if (strncmp(name, fam, flen) != 0)
                fail_msg("sample %s inside family %s", name, fam);
            const char *suffix = name + flen;
            if (strcmp(suffix, "_bucket") == 0) {
                const char *le = strstr(labels, "le=\"");
                assert_non_null(le);
                char own[256];
                snprintf(own, sizeof own, "%.*s", (int)(le - labels), labels);
                if (strcmp(own, cur_labels) != 0) { /* a new series starts */
                    snprintf(cur_labels, sizeof cur_labels, "%s", own);
                    last_le = -1;
                    last_bucket = -1;
                }
                double bound = strncmp(le + 4, "+Inf\"", 5) == 0 ? INFINITY : atof(le + 4);
                assert_true(bound > last_le);
                assert_true(v >= last_bucket);
                last_le = bound;
                last_bucket = v;
                if (isinf(bound))
                    inf_bucket = v;
            } else if (strcmp(suffix, "_count") == 0) {
                assert_true(inf_bucket >= 0);
                assert_true(v == inf_bucket);
                inf_bucket = -1;
                cur_labels[0] = '\0';
            } else if (strcmp(suffix, "_sum") != 0) {
                fail_msg("sample %s inside histogram %s", name, fam);
            }
        }
        cur_samples = true;
    }
    for (int i = 0; i < nfam; i++)
        assert_true(types[i][0] != '\0');
    free(copy);
    return nfam;
}

static char *s_render(void)
{
    hl_buf_t b = {0};
    hl_metrics_render(&b);
    hl_buf_append(&b, "", 0);
    return b.data;
}

static int s_count(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void test_counter_and_gauge(void **state)
{
    (void)state;
    hl_metric_t *c = hl_metric_counter("t_requests_total", "Requests seen", NULL);
    hl_metric_t *g = hl_metric_gauge("t_queue_depth", "Units queued", NULL);
    hl_metric_add(c, 1);
    hl_metric_add(c, 2.5);
    hl_metric_set(g, 7);
    hl_metric_set(g, 3);
    assert_true(hl_metric_value(c) == 3.5);
    assert_true(hl_metric_value(g) == 3);
    char *t = s_render();
    assert_int_equal(s_check_exposition(t), 2);
    assert_non_null(strstr(t, "# HELP t_requests_total Requests seen\n"
                              "# TYPE t_requests_total counter\n"
                              "t_requests_total 3.5\n"));
    assert_non_null(strstr(t, "# HELP t_queue_depth Units queued\n"
                              "# TYPE t_queue_depth gauge\n"
                              "t_queue_depth 3\n"));
    free(t);
}

static void test_labels(void **state)
{
    (void)state;
    hl_metric_t *a = hl_metric_counter("t_msgs_total", "Messages", "stage=\"appeal\"");
    hl_metric_t *b = hl_metric_counter("t_msgs_total", "Messages", "stage=\"status\"");
    assert_ptr_not_equal(a, b);
    hl_metric_add(a, 5);
    hl_metric_add(b, 1);
    char *t = s_render();
    assert_int_equal(s_check_exposition(t), 1);
    assert_int_equal(s_count(t, "# HELP t_msgs_total"), 1);
    assert_int_equal(s_count(t, "# TYPE t_msgs_total"), 1);
    assert_non_null(strstr(t, "t_msgs_total{stage=\"appeal\"} 5\n"));
    assert_non_null(strstr(t, "t_msgs_total{stage=\"status\"} 1\n"));
    free(t);
}

static void test_reregister_same_metric(void **state)
{
    (void)state;
    hl_metric_t *a = hl_metric_counter("t_x_total", "X", "k=\"1\"");
    hl_metric_t *b = hl_metric_counter("t_x_total", "X", "k=\"1\"");
    hl_metric_t *c = hl_metric_counter("t_x_total", "X", NULL);
    hl_metric_t *d = hl_metric_counter("t_x_total", "X", NULL);
    hl_metric_t *h1 = hl_metric_histogram("t_h_seconds", "H", NULL);
    hl_metric_t *h2 = hl_metric_histogram("t_h_seconds", "H", NULL);
    assert_ptr_equal(a, b);
    assert_ptr_equal(c, d);
    assert_ptr_not_equal(a, c);
    assert_ptr_equal(h1, h2);
    hl_metric_add(a, 1);
    hl_metric_add(b, 1);
    assert_true(hl_metric_value(a) == 2);
    char *t = s_render();
    s_check_exposition(t);
    assert_int_equal(s_count(t, "t_x_total{k=\"1\"} "), 1);
    assert_int_equal(s_count(t, "\nt_x_total 0\n"), 1);
    free(t);
}

static void test_families_interleaved(void **state)
{
    (void)state;
    /* Registered the way hl_pipeline does it: per stage, every family. */
    static const char *const stages[] = {"stage=\"a\"", "stage=\"b\"", "stage=\"c\""};
    for (int i = 0; i < 3; i++) {
        hl_metric_add(hl_metric_counter("t_sent_total", "Sent", stages[i]), i + 1);
        hl_metric_add(hl_metric_counter("t_dead_total", "Dead", stages[i]), 10 * (i + 1));
        hl_metric_observe(hl_metric_histogram("t_apply_seconds", "Apply", stages[i]),
                          0.001 * (i + 1));
    }
    char *t = s_render();
    assert_int_equal(s_check_exposition(t), 3);
    assert_int_equal(s_count(t, "# TYPE t_sent_total counter"), 1);
    assert_int_equal(s_count(t, "# TYPE t_dead_total counter"), 1);
    assert_int_equal(s_count(t, "# TYPE t_apply_seconds histogram"), 1);
    assert_non_null(strstr(t, "t_sent_total{stage=\"c\"} 3\n"));
    assert_non_null(strstr(t, "t_dead_total{stage=\"b\"} 20\n"));
    assert_non_null(strstr(t, "t_apply_seconds_count{stage=\"a\"} 1\n"));
    free(t);
}

static void test_histogram(void **state)
{
    (void)state;
    hl_metric_t *h = hl_metric_histogram("t_lat_seconds", "Latency", "route=\"x\"");
    const double obs[] = {0.0001, 0.0005, 0.003, 0.003, 0.2, 1, 7, 11, 100};
    double sum = 0;
    for (size_t i = 0; i < sizeof obs / sizeof obs[0]; i++) {
        hl_metric_observe(h, obs[i]);
        sum += obs[i];
    }
    assert_true(hl_metric_value(h) == 9);
    char *t = s_render();
    assert_int_equal(s_check_exposition(t), 1);
    /* le is inclusive: 0.0005 falls into the 0.0005 bucket. */
    assert_non_null(strstr(t, "t_lat_seconds_bucket{route=\"x\",le=\"0.0005\"} 2\n"));
    assert_non_null(strstr(t, "t_lat_seconds_bucket{route=\"x\",le=\"0.001\"} 2\n"));
    assert_non_null(strstr(t, "t_lat_seconds_bucket{route=\"x\",le=\"0.005\"} 4\n"));
    assert_non_null(strstr(t, "t_lat_seconds_bucket{route=\"x\",le=\"0.25\"} 5\n"));
    assert_non_null(strstr(t, "t_lat_seconds_bucket{route=\"x\",le=\"1\"} 6\n"));
    assert_non_null(strstr(t, "t_lat_seconds_bucket{route=\"x\",le=\"10\"} 7\n"));
    assert_non_null(strstr(t, "t_lat_seconds_bucket{route=\"x\",le=\"+Inf\"} 9\n"));
    assert_non_null(strstr(t, "t_lat_seconds_count{route=\"x\"} 9\n"));
    const char *s = strstr(t, "t_lat_seconds_sum{route=\"x\"} ");
    assert_non_null(s);
    assert_true(fabs(atof(s + strlen("t_lat_seconds_sum{route=\"x\"} ")) - sum) < 1e-9);
    assert_int_equal(s_count(t, "t_lat_seconds_bucket{"), 15);
    free(t);
}

static void test_histogram_without_labels(void **state)
{
    (void)state;
    hl_metric_t *h = hl_metric_histogram("t_plain_seconds", "Plain", NULL);
    char *t = s_render();
    assert_int_equal(s_check_exposition(t), 1);
    assert_non_null(strstr(t, "t_plain_seconds_bucket{le=\"+Inf\"} 0\n"));
    assert_non_null(strstr(t, "t_plain_seconds_count 0\n"));
    assert_non_null(strstr(t, "t_plain_seconds_sum 0\n"));
    free(t);
    hl_metric_observe(h, 0.02);
    t = s_render();
    assert_non_null(strstr(t, "t_plain_seconds_bucket{le=\"0.01\"} 0\n"));
    assert_non_null(strstr(t, "t_plain_seconds_bucket{le=\"0.025\"} 1\n"));
    assert_non_null(strstr(t, "t_plain_seconds_count 1\n"));
    free(t);
}

static void test_reset(void **state)
{
    (void)state;
    hl_metric_t *c = hl_metric_counter("t_gone_total", "Gone", "a=\"b\"");
    hl_metric_add(c, 9);
    hl_metric_histogram("t_gone_seconds", "Gone too", NULL);
    hl_metrics_reset();
    char *t = s_render();
    assert_string_equal(t, "");
    free(t);
    /* A fresh registry: the same name starts from zero. */
    c = hl_metric_counter("t_gone_total", "Gone", "a=\"b\"");
    assert_true(hl_metric_value(c) == 0);
    t = s_render();
    assert_int_equal(s_check_exposition(t), 1);
    assert_non_null(strstr(t, "t_gone_total{a=\"b\"} 0\n"));
    free(t);
    hl_metrics_reset();
    hl_metrics_reset(); /* twice is harmless */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_counter_and_gauge, s_teardown),
        cmocka_unit_test_teardown(test_labels, s_teardown),
        cmocka_unit_test_teardown(test_reregister_same_metric, s_teardown),
        cmocka_unit_test_teardown(test_families_interleaved, s_teardown),
        cmocka_unit_test_teardown(test_histogram, s_teardown),
        cmocka_unit_test_teardown(test_histogram_without_labels, s_teardown),
        cmocka_unit_test_teardown(test_reset, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
