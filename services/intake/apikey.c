/* apikey.c: the API keys machine clients (the external platform, Open311
 * aggregators) present. `hlctl api-key create NAME` stores a key's SHA-256
 * in intake.api_key; here the active keys' hashes are read at start and
 * again every 10 seconds, so a key created or revoked takes effect within
 * seconds without a restart. A presented key is hashed and looked up in
 * memory: no database round trip on the request path. If a reload fails
 * the previous table stays in force. */
#include "intake.h"
#include "hl_sha256.h"

#include <stdlib.h>
#include <string.h>

#define S_RELOAD_MS 10000

typedef struct {
    char hash[65];          /* SHA-256 of the key, hex */
    char *name;             /* holder, owned */
    long long rate_per_min; /* own limit, 0: the default */
} s_key_t;

struct intake_keys {
    intake_t *in;     /* service */
    s_key_t *keys;    /* active keys */
    size_t n;         /* count */
    s_key_t *loading; /* table being read */
    size_t nloading;  /* its count */
    bool in_flight;   /* a reload unit is queued */
    bool stopped;     /* draining: no more reloads */
    uv_timer_t timer; /* reload tick */
};

static const char s_sql_keys[] = "SELECT key_hash, name, coalesce(rate_per_min, 0)"
                                 " FROM intake.api_key WHERE revoked_at IS NULL";

static void s_free_table(s_key_t *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(t[i].name);
    free(t);
}

static void s_rows(void *arg, const PGresult *res)
{
    intake_keys_t *k = arg;
    int n = PQntuples(res);
    k->loading = hl_calloc(n ? (size_t)n : 1, sizeof *k->loading);
    k->nloading = 0;
    for (int i = 0; i < n; i++) {
        const char *hash = PQgetvalue(res, i, 0);
        if (strlen(hash) != 64)
            continue;
        s_key_t *e = &k->loading[k->nloading++];
        memcpy(e->hash, hash, 65);
        e->name = hl_strdup(PQgetvalue(res, i, 1));
        e->rate_per_min = atoll(PQgetvalue(res, i, 2));
    }
}

static void s_done(void *arg, int rc, const hl_dberr_t *err)
{
    intake_keys_t *k = arg;
    k->in_flight = false;
    if (rc != 0) {
        hl_warn("apikey", NULL, "could not reload API keys (keeping %zu): %s", k->n, err->message);
        s_free_table(k->loading, k->nloading);
    } else {
        if (k->nloading != k->n)
            hl_info("apikey", NULL, "%zu active API keys", k->nloading);
        s_free_table(k->keys, k->n);
        k->keys = k->loading;
        k->n = k->nloading;
    }
    k->loading = NULL;
    k->nloading = 0;
}

static void s_reload(intake_keys_t *k)
{
    if (k->in_flight || k->stopped)
        return;
    k->in_flight = true;
    hl_dbu_t *u = hl_dbu_new(k->in->svc->db, s_done, k);
    hl_dbu_stmt(u, s_sql_keys, 0, NULL, NULL, NULL, false, s_rows, k);
    hl_dbu_submit(&u);
}

static void s_tick(uv_timer_t *t)
{
    intake_keys_t *k = t->data;
    if (k->in->svc->draining) {
        intake_keys_stop(k->in);
        return;
    }
    s_reload(k);
}

void intake_keys_start(intake_t *in)
{
    intake_keys_t *k = hl_calloc(1, sizeof *k);
    k->in = in;
    in->keys = k;
    uv_timer_init(in->svc->loop, &k->timer);
    k->timer.data = k;
    /* The timer alone must not keep the loop alive at shutdown. */
    uv_unref((uv_handle_t *)&k->timer);
    uv_timer_start(&k->timer, s_tick, S_RELOAD_MS, S_RELOAD_MS);
    s_reload(k);
}

void intake_keys_stop(intake_t *in)
{
    intake_keys_t *k = in->keys;
    if (!k || k->stopped)
        return;
    k->stopped = true;
    uv_timer_stop(&k->timer);
}

/* Compares two hex digests without an early exit. */
static bool s_same(const char *a, const char *b)
{
    unsigned char diff = 0;
    for (int i = 0; i < 64; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

bool intake_keys_check(intake_t *in, const char *key, const char **name, long long *rate_per_min)
{
    intake_keys_t *k = in->keys;
    size_t len = strlen(key);
    if (!k || len == 0 || len > 256)
        return false;
    char hash[65];
    hl_sha256_hex(key, len, hash);
    for (size_t i = 0; i < k->n; i++)
        if (s_same(k->keys[i].hash, hash)) {
            *name = k->keys[i].name;
            *rate_per_min = k->keys[i].rate_per_min;
            return true;
        }
    return false;
}
