/* test_soak_kill (make soak): kill -9 of random daemons and buses while
 * appeals flow, HL_KILL_ROUNDS times (20) during HL_KILL_APPEALS appeals
 * (10,000), each victim restarted after a random pause.
 *
 * The victims are drawn from both buses and all five daemons, hl-intake
 * included: the load behaves as the API asks of clients (an Idempotency-Key
 * on every appeal; posted again after a 503 or after no answer at all), so a
 * 201 lost with a killed hl-intake comes back as a 200 on the retry. Then:
 *   - every appeal is answered 201 or 200 and stored exactly once;
 *   - each has one triage case and one decision in its history, each wish
 *     item one wish, each large item one agenda entry, each wish approved
 *     during the load (five after each kill, through hl-bounty's API) one
 *     points award (nothing lost, nothing applied twice);
 *   - nothing is left pending and nothing is dead.
 *
 * test_int_crash kills only hl-triage and the buses with 5000 appeals and is
 * in `make test`; this one takes minutes. */
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

typedef struct {
    hl_cluster_t *c;       /* the cluster */
    int rounds;            /* kills planned */
    int *kill_at;          /* finished-appeal counts at which to kill, ascending */
    int done;              /* kills done (and restarted) */
    int kills[HL_T_COUNT]; /* kills by process */
    int order[HL_T_COUNT]; /* victims of the first kills, a shuffle of every process */
    PGconn *db;            /* the cluster's database */
    int approved;          /* wishes approved (points to award) */
    unsigned seed;         /* victims and pauses */
} s_killer_t;

static int s_ascending(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* Approves a few open wishes, so PointsAwarded messages flow through the
 * points stage while its consumer and the buses are being killed. */
static void s_reward_some(s_killer_t *k)
{
    PGresult *res = PQexec(k->db, "SELECT id FROM bounty.wish WHERE status = 'open' LIMIT 5");
    for (int i = 0; PQresultStatus(res) == PGRES_TUPLES_OK && i < PQntuples(res); i++)
        if (hl_test_reward_wish(k->c, k->db, PQgetvalue(res, i, 0)) == 200)
            k->approved++;
    PQclear(res);
}

static void s_kill_progress(int finished, void *arg)
{
    s_killer_t *k = arg;
    while (k->done < k->rounds && finished >= k->kill_at[k->done]) {
        /* Each process once in a random order, then any: a short run must
         * not spare hl-triage by chance. */
        int victim =
            k->done < HL_T_COUNT ? k->order[k->done] : (int)(rand_r(&k->seed) % HL_T_COUNT);
        hl_cluster_kill(k->c, victim, SIGKILL);
        k->kills[victim]++;
        usleep((useconds_t)(rand_r(&k->seed) % 500) * 1000);
        assert_int_equal(hl_cluster_spawn(k->c, victim), 0);
        k->done++;
        s_reward_some(k);
    }
}

static void test_kill_any_under_load(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    int total = hl_test_env_int("HL_KILL_APPEALS", 10000);
    int rounds = hl_test_env_int("HL_KILL_ROUNDS", 20);

    hl_cluster_t c = {0};
    PGconn *db = NULL;
    const char *env[] = {"HL_RESEND_AFTER_MS=1000", "HL_SWEEP_INTERVAL_MS=250",
                         "HL_MAX_ATTEMPTS=1000", NULL};
    assert_int_equal(hl_test_cluster_up(&c, &db, "hl_soak_kill", 2, env), 0);

    s_killer_t k = {.c = &c, .rounds = rounds, .db = db};
    k.seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    fprintf(stderr, "kill: seed %u\n", k.seed);
    for (int i = 0; i < HL_T_COUNT; i++)
        k.order[i] = i;
    for (int i = HL_T_COUNT - 1; i > 0; i--) {
        int j = (int)(rand_r(&k.seed) % (unsigned)(i + 1)), t = k.order[i];
        k.order[i] = k.order[j];
        k.order[j] = t;
    }
    k.kill_at = calloc((size_t)rounds + 1, sizeof *k.kill_at);
    /* Random moments, from the first tenth of the load to its last. */
    for (int i = 0; i < rounds; i++)
        k.kill_at[i] = total / 10 + (int)(rand_r(&k.seed) % (unsigned)(total * 8 / 10));
    qsort(k.kill_at, (size_t)rounds, sizeof *k.kill_at, s_ascending);
    hl_test_load_cfg_t cfg = {.total = total,
                              .parallel = 24,
                              .retry = true,
                              .key_prefix = "kill",
                              .on_progress = s_kill_progress,
                              .arg = &k};
    double started = hl_test_now();
    hl_test_load_t r = hl_test_load_run(&c, &cfg);
    double took = hl_test_now() - started;
    free(k.kill_at);
    fprintf(stderr,
            "kill: %d kill -9 during %d appeals in %.1f s (hl-bus %d, hl-bus(2) %d, hl-intake %d, "
            "hl-triage %d, hl-bounty %d, hl-points %d, hl-alliance %d); %d answered 201, %d "
            "answered 200 (stored by an earlier try whose answer was lost), %d tries without an "
            "answer, %d "
            "answers 503, %d other answers\n",
            k.done, total, took, k.kills[HL_T_BUS0], k.kills[HL_T_BUS1], k.kills[HL_T_INTAKE],
            k.kills[HL_T_TRIAGE], k.kills[HL_T_BOUNTY], k.kills[HL_T_POINTS],
            k.kills[HL_T_ALLIANCE], r.accepted, r.replayed, r.unanswered, r.unavailable, r.refused);
    assert_int_equal(k.done, rounds);
    assert_int_equal(r.refused, 0);
    assert_int_equal(r.accepted + r.replayed, total);
    long codes = 0;
    assert_int_equal(hl_test_load_stored(db, &r, total, &codes), total);
    assert_int_equal(codes, total);
    hl_test_load_free(&r);

    started = hl_test_now();
    hl_test_assert_settled(db, total);
    /* Each approved wish was awarded its points once. */
    assert_true(k.approved > 0);
    assert_int_equal(hl_test_scalar(db, "SELECT count(*) FROM bounty.wish WHERE status = "
                                        "'approved'"),
                     k.approved);
    assert_int_equal(hl_test_scalar(db, "SELECT count(*) FROM points.ledger"), k.approved);
    assert_int_equal(hl_test_scalar(db, "SELECT count(*) FROM (SELECT source_id FROM points.ledger "
                                        "GROUP BY 1 HAVING count(*) > 1) d"),
                     0);
    fprintf(stderr,
            "kill: settled %.1f s after the load: all %d stored once, one case and one decision "
            "each, %d wishes approved and awarded once; %ld pipeline messages, %ld re-sent at "
            "least once, 0 pending, 0 dead\n",
            hl_test_now() - started, total, k.approved,
            hl_test_scalar(db, "SELECT count(*) FROM pipeline.message"),
            hl_test_scalar(db, "SELECT count(*) FROM pipeline.message WHERE attempts > 0"));
    assert_int_equal(hl_cluster_stop(&c), 0);
    hl_test_cluster_down(&c, db, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_any_under_load),
    };
    return cmocka_run_group_tests_name("soak: kill -9 of any process", tests, NULL, NULL);
}
