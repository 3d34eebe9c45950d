/* hl_testload: steady appeal load against a cluster's hl-intake, for the
 * tests that break things while appeals flow (kill -9, rolling restarts,
 * PostgreSQL stopped). `parallel` requests stay in flight (libcurl multi);
 * the callbacks run on the load's own thread, between requests, so the
 * load pauses while they act (kill, restart). */
#ifndef HL_TESTLOAD_H
#define HL_TESTLOAD_H

#include "hl_testenv.h"

#include <stdbool.h>

/* What the load saw; the callbacks get it as it grows. */
typedef struct {
    int accepted;       /* answered 201 */
    int refused;        /* any other final answer, or no answer (connection refused) */
    int replayed;       /* answered 200: stored by an earlier try that was answered 503 */
    int unavailable;    /* 503 answers (each tried again when retrying) */
    int no_retry_after; /* 503 answers without a Retry-After header */
    int unanswered;     /* tries that got no answer (hl-intake down); retried when retrying */
    int finished;       /* appeals with a final answer */
    char (*codes)[16];  /* by appeal: tracking code answered with 201 or 200, else "" */
} hl_test_load_t;

typedef struct {
    int total;    /* appeals to post */
    int parallel; /* requests in flight */
    /* Each appeal carries Idempotency-Key "<key_prefix>-<n>" and is posted
     * again after a 503, once its Retry-After has passed, or 0.2 s after
     * getting no answer at all (hl-intake killed), until it gets another
     * answer (201, or 200 when an earlier try was stored). */
    bool retry;
    const char *key_prefix; /* with retry; must differ between loads on one database */
    /* After each final answer (may be NULL). */
    void (*on_progress)(int finished, void *arg);
    /* On every pass of the load's loop, at most ~50 ms apart (may be NULL). */
    void (*on_tick)(const hl_test_load_t *so_far, void *arg);
    void *arg; /* for both */
} hl_test_load_cfg_t;

/* Posts cfg->total appeals (a fixed rotation of realistic bodies and
 * compounds) to `c`'s hl-intake. Free the result with hl_test_load_free. */
hl_test_load_t hl_test_load_run(hl_cluster_t *c, const hl_test_load_cfg_t *cfg);
void hl_test_load_free(hl_test_load_t *r);
/* How many of the tracking codes `r` got (of `total` appeals) are stored in
 * `db`, each counted once, and in *codes how many codes it got; -1 when the
 * query fails (printed). */
long hl_test_load_stored(PGconn *db, const hl_test_load_t *r, int total, long *codes);

/* hl_test_load_run without retries, freed already: counts only. */
hl_test_load_t hl_test_load(hl_cluster_t *c, int total, int parallel,
                            void (*on_progress)(int finished, void *arg), void *arg);

#endif
