/* test_soak_pgstop (make soak): PostgreSQL itself stopped with `pg_ctl stop -m immediate`
 * (no checkpoint: a crash, as far as the daemons can tell) while appeals
 * flow, then started again (crash recovery), HL_PGSTOP_ROUNDS times (5).
 *
 * The clients behave as the API asks: every appeal carries an
 * Idempotency-Key and is posted again after a 503, once its Retry-After has
 * passed. Then:
 *   - while the database is down hl-intake answers 503 with Retry-After
 *     (each down period sees 503s; no 503 lacks the header), never hangs;
 *   - every appeal answered 201 (or 200: stored by a try that was answered
 *     503) is stored, each appeal exactly once — no false 201;
 *   - everything resumes by itself: nothing pending, nothing dead, each
 *     appeal has its triage case, downstream effects once.
 *
 * It runs on a PostgreSQL of its own (scripts/pg.sh in a temporary
 * directory), so stopping it disturbs no other test. HL_PGSTOP_APPEALS
 * (3000) and HL_PGSTOP_ROUNDS (5) size it.
 *
 * It is in `make soak`, not `make test`: each restart replays the WAL and
 * ends with a checkpoint that must reach the disk, which takes 0.2 s on a
 * quiet machine but 5-10 s on a busy shared one, so the whole test takes
 * 35 s to 90 s. */
#include "hl_testflow.h"
#include "hl_testload.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define S_DOWN_S 1.0 /* how long the database stays down each time, at least */

static hl_test_pgserver_t s_pg; /* the server this test stops */
static char *s_shared_pg;       /* HL_TEST_PG as tests/run.sh set it */
static hl_cluster_t s_c;        /* the cluster */
static PGconn *s_db;            /* its database */
static bool s_ok;               /* the test ran to its end */

static int s_setup(void **state)
{
    (void)state;
    if (!hl_test_pg())
        return 0;
    if (hl_test_pgserver_new(&s_pg) != 0)
        return -1;
    /* The cluster's database is made on this server (hl_test_create_db). */
    s_shared_pg = strdup(hl_test_pg());
    setenv("HL_TEST_PG", s_pg.admin_url, 1);
    const char *env[] = {"HL_RESEND_AFTER_MS=1000", "HL_SWEEP_INTERVAL_MS=250", NULL};
    return hl_test_cluster_up(&s_c, &s_db, "hl_int_pgstop", 2, env);
}

static int s_teardown(void **state)
{
    (void)state;
    if (!s_shared_pg)
        return 0;
    hl_test_cluster_down(&s_c, s_db, s_ok);
    /* Removed even after a failure: a server left running helps no one;
     * the daemons' logs are what is kept. */
    hl_test_pgserver_remove(&s_pg);
    setenv("HL_TEST_PG", s_shared_pg, 1);
    free(s_shared_pg);
    return 0;
}

typedef struct {
    hl_test_pgserver_t *pg; /* the server to stop */
    int total;              /* appeals in the load */
    int rounds;             /* stops planned */
    int done;               /* stops done (and started again) */
    bool down;              /* stopped now */
    double down_at;         /* when it was stopped (hl_test_now) */
    double down_s;          /* time spent down, in total */
    double stop_s;          /* how long the last pg_ctl stop took */
    int unavailable_at;     /* 503s counted when it was stopped */
    int accepted_at;        /* 201s counted when it was stopped */
    int min_503s;           /* fewest 503s one down period saw */
    int accepted_down;      /* 201s answered while it was down */
} s_stopper_t;

static void s_tick(const hl_test_load_t *so_far, void *arg)
{
    s_stopper_t *s = arg;
    double now = hl_test_now();
    if (!s->down) {
        /* Stop i (from 0) once (i + 1) / (rounds + 2) of the appeals are
         * answered, so the load goes on before, between and after. */
        if (s->done >= s->rounds ||
            so_far->finished < (long)s->total * (s->done + 1) / (s->rounds + 2))
            return;
        double t0 = hl_test_now();
        assert_int_equal(hl_test_pgserver_stop(s->pg, "immediate"), 0);
        s->down = true;
        s->down_at = hl_test_now();
        s->stop_s = s->down_at - t0;
        s->unavailable_at = so_far->unavailable;
        s->accepted_at = so_far->accepted + so_far->replayed;
        return;
    }
    /* Down long enough, and intake has answered clients meanwhile. A 503
     * must come: requests wait for no database (bounded, so a hang fails). */
    int seen = so_far->unavailable - s->unavailable_at;
    if (now - s->down_at < S_DOWN_S)
        return;
    if (seen == 0 && now - s->down_at < 30 * hl_test_mult())
        return;
    assert_true(seen > 0);
    if (s->done == 0 || seen < s->min_503s)
        s->min_503s = seen;
    s->accepted_down += so_far->accepted + so_far->replayed - s->accepted_at;
    double t0 = hl_test_now();
    assert_int_equal(hl_test_pgserver_start(s->pg), 0);
    fprintf(stderr,
            "pgstop: stop %d: pg_ctl stop took %.1f s; down %.1f s, %d answers 503 meanwhile; "
            "start (crash recovery) took %.1f s\n",
            s->done + 1, s->stop_s, t0 - s->down_at, seen, hl_test_now() - t0);
    s->down_s += hl_test_now() - s->down_at;
    s->down = false;
    s->done++;
}

static void test_pg_stopped_under_load(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    int total = hl_test_env_int("HL_PGSTOP_APPEALS", 3000);
    int rounds = hl_test_env_int("HL_PGSTOP_ROUNDS", 5);

    s_stopper_t s = {.pg = &s_pg, .total = total, .rounds = rounds};
    hl_test_load_cfg_t cfg = {.total = total,
                              .parallel = 16,
                              .retry = true,
                              .key_prefix = "pgstop",
                              .on_tick = s_tick,
                              .arg = &s};
    double started = hl_test_now();
    hl_test_load_t r = hl_test_load_run(&s_c, &cfg);
    double took = hl_test_now() - started;
    fprintf(
        stderr,
        "pgstop: %d immediate stops (down %.1f s in all) during %d appeals in %.1f s: %d "
        "answered 201, %d answered 200 (stored by a try answered 503), %d answers 503 (at "
        "least %d per stop, %d without Retry-After), %d other answers; %d 201s reached the client "
        "while it was down (committed before the stop)\n",
        s.done, s.down_s, total, took, r.accepted, r.replayed, r.unavailable, s.min_503s,
        r.no_retry_after, r.refused, s.accepted_down);
    assert_int_equal(s.done, rounds);
    assert_int_equal(r.refused, 0);
    assert_int_equal(r.no_retry_after, 0);
    assert_true(r.unavailable >= rounds);
    assert_int_equal(r.accepted + r.replayed, total);

    /* The test's own connection died with the server each time. */
    PQreset(s_db);
    assert_int_equal(PQstatus(s_db), CONNECTION_OK);
    long codes = 0;
    assert_int_equal(hl_test_load_stored(s_db, &r, total, &codes), total);
    assert_int_equal(codes, total);
    hl_test_load_free(&r);
    hl_test_assert_settled(s_db, total);
    fprintf(stderr, "pgstop: all %d stored once and triaged; %ld pipeline messages re-sent\n",
            total,
            hl_test_scalar(s_db, "SELECT count(*) FROM pipeline.message WHERE attempts > 0"));
    assert_int_equal(hl_cluster_stop(&s_c), 0);
    s_ok = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pg_stopped_under_load),
    };
    return cmocka_run_group_tests_name("integration: PostgreSQL stopped", tests, s_setup,
                                       s_teardown);
}
