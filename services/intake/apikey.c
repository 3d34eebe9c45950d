/* apikey.c: the API keys machine clients (the external platform, Open311
 * aggregators) present. `hlctl api-key create NAME` stores a key's SHA-256
 * in intake.api_key and prints the key; the client may use it that very
 * second.
 *
 * The active keys are held in memory, read at start and again every
 * S_RELOAD_MS (2 s), so a presented key normally costs no database round
 * trip and a revoked key is refused within about 2 s. A key that is not in
 * memory — typically one created since the last reload — is looked up in
 * PostgreSQL there and then (one indexed query; the request waits for it)
 * and joins the table when it is active. So a new key works as soon as it
 * is printed.
 *
 * Unknown keys must not each become a query, or a flood of made-up keys
 * would hammer the database: a key found unknown or revoked is remembered
 * for S_UNKNOWN_MS in a fixed-size negative cache (direct-mapped by hash, so
 * memory stays bounded whatever is thrown at it); requests for a key already
 * being looked up wait for that one query; and lookups are limited to
 * HL_KEY_LOOKUPS_PER_S (a token bucket) and S_LOOKUPS_MAX at once. A key
 * that cannot be looked up now (over that budget, or the database down) is
 * "unchecked": the caller answers 503 with Retry-After, not "unknown", since
 * it may well be a good key. If a reload fails the previous table stays in
 * force. */
#include "intake.h"
#include "hl_sha256.h"
#include "ratelimit.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define S_RELOAD_MS     2000  /* how often the active keys are read again */
#define S_UNKNOWN_MS    60000 /* how long a key found unknown is refused without a query */
#define S_UNKNOWN_SLOTS 4096  /* negative cache entries (a power of two) */
#define S_LOOKUPS_MAX   32    /* distinct keys looked up at once */

typedef struct {
    char hash[65];          /* SHA-256 of the key, hex */
    char *name;             /* holder, owned */
    long long rate_per_min; /* own limit, 0: the default */
    uint64_t added_ms;      /* when a lookup added it; 0 when a reload read it */
} s_key_t;

typedef struct {
    char hash[65];     /* SHA-256 of a key found unknown or revoked; "" when free */
    uint64_t until_ms; /* refused without a query until then */
} s_unknown_t;

/* A request waiting for a lookup. */
typedef struct s_waiter {
    intake_key_fn *done;   /* its callback */
    void *arg;             /* and argument */
    struct s_waiter *next; /* next waiter of the same lookup */
} s_waiter_t;

/* One key being looked up in PostgreSQL. */
typedef struct {
    intake_keys_t *k;       /* the table */
    char hash[65];          /* the key's hash */
    bool found;             /* active in the database */
    char *name;             /* its holder when found, owned */
    long long rate_per_min; /* its own rate when found */
    s_waiter_t *waiters;    /* requests waiting, newest first */
} s_lookup_t;

struct intake_keys {
    intake_t *in;                         /* service */
    s_key_t *keys;                        /* active keys */
    size_t n;                             /* count */
    s_key_t *loading;                     /* table being read */
    size_t nloading;                      /* its count */
    uint64_t reload_sent_ms;              /* when the reload in flight was sent */
    bool in_flight;                       /* a reload unit is queued */
    bool stopped;                         /* draining: no more reloads */
    uv_timer_t timer;                     /* reload tick */
    s_unknown_t unknown[S_UNKNOWN_SLOTS]; /* negative cache */
    s_lookup_t *lookups[S_LOOKUPS_MAX];   /* lookups in flight; NULL slots free */
    intake_ratelimit_t *budget;           /* one token bucket: lookups per second */
    hl_metric_t *looked_up;               /* lookups sent to PostgreSQL */
    hl_metric_t *unchecked;               /* keys answered "retry later" */
};

static const char s_sql_keys[] = "SELECT key_hash, name, coalesce(rate_per_min, 0)"
                                 " FROM intake.api_key WHERE revoked_at IS NULL";

static const char s_sql_key[] = "SELECT name, coalesce(rate_per_min, 0) FROM intake.api_key"
                                " WHERE key_hash = $1 AND revoked_at IS NULL";

static void s_free_table(s_key_t *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(t[i].name);
    free(t);
}

/* ---- the reload ---------------------------------------------------------- */

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
        goto out_clear_loading;
    }
    /* A key a lookup added after this reload's snapshot was taken may be
     * missing from it: keep it until the next reload, which sees it. */
    size_t kept = 0;
    for (size_t i = 0; i < k->n; i++)
        if (k->keys[i].added_ms >= k->reload_sent_ms)
            kept++;
    if (kept) {
        k->loading = hl_realloc(k->loading, (k->nloading + kept) * sizeof *k->loading);
        for (size_t i = 0; i < k->n; i++) {
            s_key_t *e = &k->keys[i];
            bool fresh = e->added_ms >= k->reload_sent_ms;
            bool listed = false;
            for (size_t j = 0; fresh && j < k->nloading && !listed; j++)
                listed = strcmp(k->loading[j].hash, e->hash) == 0;
            if (fresh && !listed) {
                k->loading[k->nloading++] = *e;
                e->name = NULL; /* moved */
            }
        }
    }
    if (k->nloading != k->n)
        hl_info("apikey", NULL, "%zu active API keys", k->nloading);
    s_free_table(k->keys, k->n);
    k->keys = k->loading;
    k->n = k->nloading;
out_clear_loading:
    k->loading = NULL;
    k->nloading = 0;
}

static void s_reload(intake_keys_t *k)
{
    if (k->in_flight || k->stopped)
        return;
    k->in_flight = true;
    k->reload_sent_ms = uv_now(k->in->svc->loop);
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
    k->budget = intake_ratelimit_new(1);
    k->looked_up = hl_metric_counter("hl_intake_api_key_lookups_total",
                                     "API keys not in memory looked up in PostgreSQL", NULL);
    k->unchecked = hl_metric_counter(
        "hl_intake_api_key_unchecked_total",
        "Requests whose API key could not be looked up now (answered 503, retry)", NULL);
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

/* ---- looking a key up ------------------------------------------------------ */

/* Compares two hex digests without an early exit. */
static bool s_same(const char *a, const char *b)
{
    unsigned char diff = 0;
    for (int i = 0; i < 64; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

static s_key_t *s_find(intake_keys_t *k, const char *hash)
{
    for (size_t i = 0; i < k->n; i++)
        if (s_same(k->keys[i].hash, hash))
            return &k->keys[i];
    return NULL;
}

/* The negative-cache slot of `hash`: its first 8 hex digits (SHA-256 is
 * uniform, so they spread keys evenly). */
static s_unknown_t *s_unknown_slot(intake_keys_t *k, const char *hash)
{
    char head[9];
    memcpy(head, hash, 8);
    head[8] = '\0';
    return &k->unknown[strtoul(head, NULL, 16) & (S_UNKNOWN_SLOTS - 1)];
}

static void s_lookup_rows(void *arg, const PGresult *res)
{
    s_lookup_t *l = arg;
    if (PQntuples(res) != 1)
        return;
    l->found = true;
    l->name = hl_strdup(PQgetvalue(res, 0, 0));
    l->rate_per_min = atoll(PQgetvalue(res, 0, 1));
}

static void s_lookup_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_lookup_t *l = arg;
    intake_keys_t *k = l->k;
    uint64_t now = uv_now(k->in->svc->loop);
    for (size_t i = 0; i < S_LOOKUPS_MAX; i++)
        if (k->lookups[i] == l)
            k->lookups[i] = NULL;
    intake_key_state_t state = INTAKE_KEY_UNKNOWN;
    const char *name = NULL;
    long long rate_per_min = 0;
    if (rc != 0) {
        hl_warn("apikey", NULL, "could not look up an API key: %s", err->message);
        state = INTAKE_KEY_UNCHECKED;
    } else if (l->found) {
        s_key_t *e = s_find(k, l->hash);
        if (!e) {
            k->keys = hl_realloc(k->keys, (k->n + 1) * sizeof *k->keys);
            e = &k->keys[k->n++];
            memcpy(e->hash, l->hash, 65);
            e->name = l->name;
            e->rate_per_min = l->rate_per_min;
            e->added_ms = now;
            l->name = NULL; /* moved into the table */
            hl_info("apikey", e->name, "new API key in use");
        }
        state = INTAKE_KEY_ACTIVE;
        name = e->name;
        rate_per_min = e->rate_per_min;
    } else {
        s_unknown_t *u = s_unknown_slot(k, l->hash);
        memcpy(u->hash, l->hash, 65);
        u->until_ms = now + S_UNKNOWN_MS;
    }
    for (s_waiter_t *w = l->waiters, *next; w; w = next) {
        next = w->next;
        if (state == INTAKE_KEY_UNCHECKED)
            hl_metric_add(k->unchecked, 1);
        /* `name` stays valid: nothing below replaces the table before the
         * loop turns (a reload finishes in a callback of its own). */
        w->done(w->arg, state, name, rate_per_min);
        free(w);
    }
    free(l->name);
    free(l);
}

void intake_keys_resolve(intake_t *in, const char *key, intake_key_fn *done, void *arg)
{
    assert(in && key && done);
    intake_keys_t *k = in->keys;
    size_t len = strlen(key);
    if (!k || len == 0 || len > 256) {
        done(arg, INTAKE_KEY_UNKNOWN, NULL, 0);
        return;
    }
    char hash[65];
    hl_sha256_hex(key, len, hash);
    s_key_t *e = s_find(k, hash);
    if (e) {
        done(arg, INTAKE_KEY_ACTIVE, e->name, e->rate_per_min);
        return;
    }
    uint64_t now = uv_now(in->svc->loop);
    s_unknown_t *u = s_unknown_slot(k, hash);
    if (u->until_ms > now && strcmp(u->hash, hash) == 0) {
        done(arg, INTAKE_KEY_UNKNOWN, NULL, 0);
        return;
    }
    /* Already being looked up: wait for that answer. */
    s_lookup_t *l = NULL;
    size_t free_slot = S_LOOKUPS_MAX;
    for (size_t i = 0; i < S_LOOKUPS_MAX && !l; i++) {
        if (k->lookups[i] && strcmp(k->lookups[i]->hash, hash) == 0)
            l = k->lookups[i];
        else if (!k->lookups[i] && free_slot == S_LOOKUPS_MAX)
            free_slot = i;
    }
    if (!l) {
        double per_s = (double)in->cfg->key_lookups_per_s;
        if (free_slot == S_LOOKUPS_MAX ||
            intake_ratelimit_take(k->budget, "lookups", per_s * 60, per_s, now) != 0) {
            hl_metric_add(k->unchecked, 1);
            done(arg, INTAKE_KEY_UNCHECKED, NULL, 0);
            return;
        }
        l = hl_calloc(1, sizeof *l);
        l->k = k;
        memcpy(l->hash, hash, 65);
        k->lookups[free_slot] = l;
    }
    s_waiter_t *w = hl_calloc(1, sizeof *w);
    w->done = done;
    w->arg = arg;
    w->next = l->waiters;
    l->waiters = w;
    if (w->next)
        return;
    /* The first waiter sends the query; it may fail (and call back) at once. */
    hl_metric_add(k->looked_up, 1);
    hl_dbu_t *unit = hl_dbu_new(in->svc->db, s_lookup_done, l);
    HL_DBU(unit, s_sql_key, s_lookup_rows, l, hash);
    hl_dbu_submit(&unit);
}
