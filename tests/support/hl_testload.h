/* hl_testload: steady appeal load against a cluster's hl-intake, for the
 * tests that break things while appeals flow (kill -9, rolling restarts).
 * `parallel` requests stay in flight (libcurl multi); after every finished
 * request `on_progress` may act (kill, restart) — it runs on the load's own
 * thread, between requests, so the load pauses while it acts. */
#ifndef HL_TESTLOAD_H
#define HL_TESTLOAD_H

#include "hl_testenv.h"

typedef struct {
    int accepted; /* answered 201 */
    int refused;  /* any other answer, or no answer (connection refused) */
} hl_test_load_t;

/* Posts `total` appeals (a fixed rotation of realistic bodies and
 * compounds) to `c`'s hl-intake with `parallel` in flight. */
hl_test_load_t hl_test_load(hl_cluster_t *c, int total, int parallel,
                            void (*on_progress)(int finished, void *arg), void *arg);

#endif
