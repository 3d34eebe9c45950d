/* test_int_crash: break the cluster while thousands of appeals flow.
 *
 * 1. kill -9 hl-triage and an hl-bus at random moments and restart them;
 *    afterwards every accepted appeal has exactly one triage decision,
 *    nothing is left pending, nothing is dead, no effect happened twice.
 * 2. A rolling restart: SIGTERM every daemon and bus in turn under load;
 *    each drains and exits 0 within 10 s, and no accepted appeal is lost.
 *
 * HL_CRASH_APPEALS (default 5000) and HL_CRASH_ROUNDS (default 6) size it. */
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

typedef struct {
    hl_cluster_t *c;  /* the cluster */
    int rounds;       /* kill rounds planned */
    int *kill_at;     /* finished-request counts at which to kill */
    int next;         /* next round */
    int kills_triage; /* hl-triage kills done */
    int kills_bus;    /* hl-bus kills done */
    unsigned seed;    /* for the pauses */
} s_killer_t;

static void s_kill_progress(int finished, void *arg)
{
    s_killer_t *k = arg;
    if (k->next >= k->rounds || finished < k->kill_at[k->next])
        return;
    /* Alternate victims; now and then both at once. */
    int victim = k->next % 3;
    if (victim != 1) {
        hl_cluster_kill(k->c, HL_T_TRIAGE, SIGKILL);
        k->kills_triage++;
    }
    if (victim != 0) {
        int bus = (k->next / 3) % 2 ? HL_T_BUS1 : HL_T_BUS0;
        hl_cluster_kill(k->c, bus, SIGKILL);
        k->kills_bus++;
        usleep((useconds_t)(rand_r(&k->seed) % 300) * 1000);
        assert_int_equal(hl_cluster_spawn(k->c, bus), 0);
    }
    if (!k->c->pid[HL_T_TRIAGE]) {
        usleep((useconds_t)(rand_r(&k->seed) % 300) * 1000);
        assert_int_equal(hl_cluster_spawn(k->c, HL_T_TRIAGE), 0);
    }
    k->next++;
}

static void test_kill_triage_and_bus_under_load(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    int total = hl_test_env_int("HL_CRASH_APPEALS", 5000);
    int rounds = hl_test_env_int("HL_CRASH_ROUNDS", 6);

    hl_cluster_t c = {0};
    PGconn *db = NULL;
    /* hl-triage on two connections: units still on a shard when it is
     * killed must be re-sent like the rest (the rolling test runs the
     * default, one). */
    const char *env[] = {"HL_RESEND_AFTER_MS=1000", "HL_SWEEP_INTERVAL_MS=250",
                         "HL_MAX_ATTEMPTS=1000", "HL_TRIAGE_CONNECTIONS=2", NULL};
    assert_int_equal(hl_test_cluster_up(&c, &db, "hl_int_crash", 2, env), 0);

    s_killer_t k = {.c = &c, .rounds = rounds};
    k.seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    k.kill_at = calloc((size_t)rounds + 1, sizeof *k.kill_at);
    for (int i = 0; i < rounds; i++)
        k.kill_at[i] = (int)((long)total * (i + 1) / (rounds + 1)) + (int)(rand_r(&k.seed) % 97);
    hl_test_load_t r = hl_test_load(&c, total, 24, s_kill_progress, &k);
    free(k.kill_at);
    fprintf(stderr,
            "crash: %d appeals accepted, %d refused; killed hl-triage %d and hl-bus %d times\n",
            r.accepted, r.refused, k.kills_triage, k.kills_bus);

    /* Intake was never killed, so every request got an answer. */
    assert_int_equal(r.refused, 0);
    hl_test_assert_settled(db, r.accepted);
    fprintf(stderr, "crash: %ld pipeline messages applied, %ld re-sent at least once\n",
            hl_test_scalar(db, "SELECT count(*) FROM pipeline.message"),
            hl_test_scalar(db, "SELECT count(*) FROM pipeline.message WHERE attempts > 0"));
    assert_int_equal(hl_cluster_stop(&c), 0);
    hl_test_cluster_down(&c, db, true);
}

/* ---- rolling restart ---------------------------------------------------- */

typedef struct {
    hl_cluster_t *c; /* the cluster */
    int every;       /* restart one process every this many requests */
    int next;        /* next process to restart (HL_T_*) */
    double slowest;  /* longest drain seen, seconds */
    int restarted;   /* processes restarted */
} s_roller_t;

static void s_roll_progress(int finished, void *arg)
{
    s_roller_t *r = arg;
    if (r->next >= HL_T_COUNT || finished % r->every != 0)
        return;
    int which = r->next++;
    pid_t pid = r->c->pid[which];
    assert_true(pid > 0);
    double t0 = hl_test_now();
    kill(pid, SIGTERM);
    int st = 0;
    waitpid(pid, &st, 0);
    double took = hl_test_now() - t0;
    r->c->pid[which] = 0;
    /* Drained and exited 0. The 10 s an orchestrator grants is kept by the
     * daemon itself (HL_DRAIN_TIMEOUT_MS, 8 s); the time is printed, not
     * asserted, because shared machines are noisy. */
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    if (took > r->slowest)
        r->slowest = took;
    assert_int_equal(hl_cluster_spawn(r->c, which), 0);
    r->restarted++;
}

static void test_rolling_restart_loses_nothing(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    int total = hl_test_env_int("HL_CRASH_APPEALS", 5000) / 2;
    hl_cluster_t c = {0};
    PGconn *db = NULL;
    const char *env[] = {"HL_RESEND_AFTER_MS=1000", "HL_SWEEP_INTERVAL_MS=250", NULL};
    assert_int_equal(hl_test_cluster_up(&c, &db, "hl_int_rolling", 2, env), 0);
    s_roller_t roll = {.c = &c, .every = total / (HL_T_COUNT + 1)};
    hl_test_load_t r = hl_test_load(&c, total, 16, s_roll_progress, &roll);
    fprintf(stderr,
            "rolling: restarted %d processes under load, slowest drain %.2f s; %d appeals "
            "accepted, %d refused while hl-intake was down\n",
            roll.restarted, roll.slowest, r.accepted, r.refused);
    assert_int_equal(roll.restarted, HL_T_COUNT);
    /* Every appeal a resident was told was received is there and decided. */
    hl_test_assert_settled(db, r.accepted);
    assert_int_equal(hl_cluster_stop(&c), 0);
    hl_test_cluster_down(&c, db, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_triage_and_bus_under_load),
        cmocka_unit_test(test_rolling_restart_loses_nothing),
    };
    return cmocka_run_group_tests_name("integration: crash", tests, NULL, NULL);
}
