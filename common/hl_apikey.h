/* hl_apikey: API keys held in memory, for daemons whose callers present a
 * key (hl-intake's machine clients, hl-bounty's claimants and reviewers).
 *
 * Only a key's SHA-256 is stored (by hlctl); the daemon reads the active
 * keys with its own SQL at start and every HL_APIKEY_RELOAD_MS, so a
 * presented key normally costs no query and a revoked one is refused within
 * about 2 s. A key not in memory (one created since the last reload) is
 * looked up there and then, so a new key works as soon as hlctl printed it.
 * Unknown keys are remembered in a bounded negative cache, lookups of the
 * same key share one query, and lookups are limited to `lookups_per_s`, so
 * a flood of made-up keys cannot hammer the database; a key that cannot be
 * looked up now is "unchecked" (the caller answers 503, retry), not unknown.
 *
 * What a key stands for is the daemon's business: its SQL returns the hash
 * and then `ncols` text columns (the holder's name first), which the
 * callback receives as strings. */
#ifndef HL_APIKEY_H
#define HL_APIKEY_H

#include "hl_db.h"

#include <stddef.h>
#include <uv.h>

#define HL_APIKEY_RELOAD_MS 2000 /* how often the active keys are read again */
#define HL_APIKEY_COLS_MAX  8    /* most columns a key carries */

typedef struct hl_apikey hl_apikey_t;

typedef struct {
    const char *reload_sql; /* every active key: key_hash, then ncols columns (not NULL) */
    const char *lookup_sql; /* $1 = key hash: the same ncols columns, one row when active */
    int ncols;              /* 1..HL_APIKEY_COLS_MAX; column 0 names the holder */
    double lookups_per_s;   /* lookups of keys not in memory, per second at most */
    const char *metric;     /* metric prefix, e.g. "hl_intake_api_key" (long-lived text) */
} hl_apikey_cfg_t;

/* What a key turned out to be. */
typedef enum {
    HL_APIKEY_ACTIVE,    /* known and active */
    HL_APIKEY_UNKNOWN,   /* unknown or revoked */
    HL_APIKEY_UNCHECKED, /* could not be looked up now (database, budget): retry later */
} hl_apikey_state_t;

/* `cols` (ncols strings, valid only during the call) when the key is active,
 * else NULL. */
typedef void(hl_apikey_fn)(void *arg, hl_apikey_state_t state, const char *const *cols);

/* Starts the table and its reload timer (which does not keep the loop
 * alive). It lives as long as the process: database callbacks in flight at
 * exit may still refer to it. */
hl_apikey_t *hl_apikey_new(uv_loop_t *loop, hl_db_t *db, const hl_apikey_cfg_t *cfg);
/* Stops reloading (drain); lookups still work. */
void hl_apikey_stop(hl_apikey_t *k);
/* Calls `done` exactly once: before returning when memory or the negative
 * cache knows the key, else after a query. */
void hl_apikey_resolve(hl_apikey_t *k, const char *key, hl_apikey_fn *done, void *arg);
/* Active keys held in memory. */
size_t hl_apikey_count(const hl_apikey_t *k);

#endif
