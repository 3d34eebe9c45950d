/* apikey.c: the API keys machine clients (the external platform, Open311
 * aggregators) present. `hlctl api-key create NAME` stores a key's SHA-256
 * in intake.api_key and prints the key; the client may use it that very
 * second. The table in memory, its reload every 2 s, the lookup of a key
 * not yet in memory and the negative cache for unknown keys are libhl's
 * (common/hl_apikey.h, shared with hl-bounty); here are only intake's SQL
 * and what a key carries: its holder's name and own rate limit. */
#include "intake.h"

#include <assert.h>
#include <stdlib.h>

static const char s_sql_keys[] = "SELECT key_hash, name, coalesce(rate_per_min, 0)::text"
                                 " FROM intake.api_key WHERE revoked_at IS NULL";

static const char s_sql_key[] = "SELECT name, coalesce(rate_per_min, 0)::text FROM intake.api_key"
                                " WHERE key_hash = $1 AND revoked_at IS NULL";

void intake_keys_start(intake_t *in)
{
    const hl_apikey_cfg_t cfg = {
        .reload_sql = s_sql_keys,
        .lookup_sql = s_sql_key,
        .ncols = 2,
        .lookups_per_s = (double)in->cfg->key_lookups_per_s,
        .metric = "hl_intake_api_key",
    };
    in->keys = hl_apikey_new(in->svc->loop, in->svc->db, &cfg);
}

void intake_keys_stop(intake_t *in)
{
    hl_apikey_stop(in->keys);
}

/* A resolve in flight: intake's callback. */
typedef struct {
    intake_key_fn *done; /* the caller's callback */
    void *arg;           /* and argument */
} s_resolve_t;

static void s_resolved(void *arg, hl_apikey_state_t state, const char *const *cols)
{
    s_resolve_t r = *(s_resolve_t *)arg;
    free(arg);
    switch (state) {
    case HL_APIKEY_ACTIVE:
        r.done(r.arg, INTAKE_KEY_ACTIVE, cols[0], atoll(cols[1]));
        return;
    case HL_APIKEY_UNCHECKED:
        r.done(r.arg, INTAKE_KEY_UNCHECKED, NULL, 0);
        return;
    case HL_APIKEY_UNKNOWN:
        break;
    }
    r.done(r.arg, INTAKE_KEY_UNKNOWN, NULL, 0);
}

void intake_keys_resolve(intake_t *in, const char *key, intake_key_fn *done, void *arg)
{
    assert(in && key && done);
    s_resolve_t *r = hl_calloc(1, sizeof *r);
    r->done = done;
    r->arg = arg;
    hl_apikey_resolve(in->keys, key, s_resolved, r);
}
