/* test_soak_sigstop (make soak): hl-triage, the busiest consumer, frozen
 * with SIGSTOP for HL_SIGSTOP_SECONDS (60) while appeals keep coming at
 * HL_SIGSTOP_RATE a second (50), then thawed with SIGCONT.
 *
 * A stopped consumer is neither dead nor alive: its TCP connections stay
 * open, so the buses queue for it up to their high-water marks, hl-intake's
 * sends to the buses are deferred once those fill, and the sweeper re-sends
 * rows that stay pending. None of that may grow without bound. Then:
 *   - every appeal is answered 201 (or 200 on a retry) and stored once;
 *   - the backlog drains (nothing pending) within 60 s of SIGCONT
 *     (× HL_TEST_TIMEOUT_MULT), and every appeal has its one case;
 *   - no process's peak resident set (VmHWM) passes HL_SIGSTOP_RSS_MB (64).
 * The peaks and the drain time are printed. */
#include "hl_testflow.h"
#include "hl_testload.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define S_BEFORE_S 10.0 /* load before the stop, and again after it */
#define S_PENDING  "SELECT count(*) FROM pipeline.message WHERE done_at IS NULL AND dead_at IS NULL"

typedef struct {
    hl_cluster_t *c; /* the cluster */
    PGconn *db;      /* its database */
    long pending;    /* messages pending when SIGCONT went */
    double rate;     /* appeals a second */
    double stop_s;   /* how long hl-triage stays stopped */
    double started;  /* when the load began (hl_test_now) */
    double stopped;  /* when SIGSTOP went, 0 before */
    double resumed;  /* when SIGCONT went, 0 before */
    int stopped_at;  /* appeals answered when it was stopped */
    int resumed_at;  /* appeals answered when it was resumed */
} s_freezer_t;

static void s_tick(const hl_test_load_t *so_far, void *arg)
{
    s_freezer_t *f = arg;
    double now = hl_test_now();
    pid_t pid = f->c->pid[HL_T_TRIAGE];
    if (!f->stopped && now - f->started >= S_BEFORE_S) {
        assert_int_equal(kill(pid, SIGSTOP), 0);
        f->stopped = now;
        f->stopped_at = so_far->finished;
    } else if (f->stopped && !f->resumed && now - f->stopped >= f->stop_s) {
        f->pending = hl_test_scalar(f->db, S_PENDING);
        assert_int_equal(kill(pid, SIGCONT), 0);
        f->resumed = hl_test_now();
        f->resumed_at = so_far->finished;
    }
}

/* Holds the load to its rate: waits while it is ahead of the clock. */
static void s_pace(int finished, void *arg)
{
    s_freezer_t *f = arg;
    while (finished > (hl_test_now() - f->started) * f->rate)
        usleep(10000);
}

static void test_consumer_stopped_under_load(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_freezer_t f = {.rate = hl_test_env_int("HL_SIGSTOP_RATE", 50),
                     .stop_s = hl_test_env_int("HL_SIGSTOP_SECONDS", 60)};
    long rss_max_kb = hl_test_env_int("HL_SIGSTOP_RSS_MB", 64) * 1024L;
    int total = (int)(f.rate * (S_BEFORE_S * 2 + f.stop_s));

    hl_cluster_t c = {0};
    PGconn *db = NULL;
    const char *env[] = {"HL_RESEND_AFTER_MS=1000", "HL_SWEEP_INTERVAL_MS=250",
                         "HL_MAX_ATTEMPTS=1000", NULL};
    assert_int_equal(hl_test_cluster_up(&c, &db, "hl_soak_sigstop", 2, env), 0);
    f.c = &c;
    f.db = db;
    hl_test_load_cfg_t cfg = {.total = total,
                              .parallel = 8,
                              .retry = true,
                              .key_prefix = "sigstop",
                              .on_progress = s_pace,
                              .on_tick = s_tick,
                              .arg = &f};
    f.started = hl_test_now();
    hl_test_load_t r = hl_test_load_run(&c, &cfg);
    /* The load may end before the stop does (a high rate, a short stop). */
    while (!f.resumed)
        usleep(10000), s_tick(&r, &f);
    assert_true(hl_test_wait_scalar(db, S_PENDING, 0, 60 * hl_test_mult()));
    double drain_s = hl_test_now() - f.resumed;
    fprintf(stderr,
            "sigstop: hl-triage stopped %.1f s while %d appeals came at %.0f/s (%d answered "
            "during the stop); %ld messages pending when continued, all applied %.1f s after "
            "SIGCONT\n",
            f.resumed - f.stopped, total, f.rate, f.resumed_at - f.stopped_at, f.pending, drain_s);
    assert_int_equal(r.refused, 0);
    assert_int_equal(r.accepted + r.replayed, total);
    long codes = 0;
    assert_int_equal(hl_test_load_stored(db, &r, total, &codes), total);
    hl_test_load_free(&r);
    hl_test_assert_settled(db, total);

    bool bounded = true;
    for (int i = 0; i < HL_T_COUNT; i++) {
        long kb = hl_cluster_peak_rss_kb(&c, i);
        fprintf(stderr, "sigstop: %s%s peak RSS (VmHWM) %.1f MB\n", hl_cluster_name(i),
                i == HL_T_BUS1 ? "(2)" : "", (double)kb / 1024);
        assert_true(kb > 0);
        if (kb > rss_max_kb)
            bounded = false;
    }
    assert_true(bounded);
    assert_int_equal(hl_cluster_stop(&c), 0);
    hl_test_cluster_down(&c, db, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_consumer_stopped_under_load),
    };
    return cmocka_run_group_tests_name("soak: a consumer stopped with SIGSTOP", tests, NULL, NULL);
}
