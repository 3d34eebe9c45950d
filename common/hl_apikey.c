/* hl_apikey: API keys in memory with a reload, a lookup on first use and a
 * negative cache (see hl_apikey.h). If a reload fails the previous table
 * stays in force. */
#include "hl_apikey.h"

#include "hl_alloc.h"
#include "hl_log.h"
#include "hl_metrics.h"
#include "hl_sha256.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_UNKNOWN_MS    60000 /* how long a key found unknown is refused without a query */
#define S_UNKNOWN_SLOTS 4096  /* negative cache entries (a power of two) */
#define S_LOOKUPS_MAX   32    /* distinct keys looked up at once */

typedef struct {
    char hash[65];                  /* SHA-256 of the key, hex */
    char *cols[HL_APIKEY_COLS_MAX]; /* what it stands for, owned */
    uint64_t added_ms;              /* when a lookup added it; 0 when a reload read it */
} s_key_t;

typedef struct {
    char hash[65];     /* SHA-256 of a key found unknown or revoked; "" when free */
    uint64_t until_ms; /* refused without a query until then */
} s_unknown_t;

/* A request waiting for a lookup. */
typedef struct s_waiter {
    hl_apikey_fn *done;    /* its callback */
    void *arg;             /* and argument */
    struct s_waiter *next; /* next waiter of the same lookup */
} s_waiter_t;

/* One key being looked up in PostgreSQL. */
typedef struct {
    hl_apikey_t *k;                 /* the table */
    char hash[65];                  /* the key's hash */
    bool found;                     /* active in the database */
    char *cols[HL_APIKEY_COLS_MAX]; /* its columns when found, owned */
    s_waiter_t *waiters;            /* requests waiting, newest first */
} s_lookup_t;

struct hl_apikey {
    hl_apikey_cfg_t cfg;                  /* copied (the SQL text is not) */
    uv_loop_t *loop;                      /* the loop */
    hl_db_t *db;                          /* where keys live */
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
    double tokens;                        /* lookup budget left (a token bucket) */
    uint64_t tokens_ms;                   /* when it was last refilled */
    hl_metric_t *looked_up;               /* lookups sent to PostgreSQL */
    hl_metric_t *unchecked;               /* keys answered "retry later" */
};

static void s_free_cols(char **cols, int n)
{
    for (int i = 0; i < n; i++) {
        free(cols[i]);
        cols[i] = NULL;
    }
}

static void s_free_table(hl_apikey_t *k, s_key_t *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        s_free_cols(t[i].cols, k->cfg.ncols);
    free(t);
}

/* Copies columns first..first+ncols of `row` into `cols`. */
static void s_copy_cols(const hl_apikey_t *k, const PGresult *res, int row, int first, char **cols)
{
    for (int c = 0; c < k->cfg.ncols; c++)
        cols[c] =
            hl_strdup(PQgetisnull(res, row, first + c) ? "" : PQgetvalue(res, row, first + c));
}

/* ---- the reload ---------------------------------------------------------- */

static void s_rows(void *arg, const PGresult *res)
{
    hl_apikey_t *k = arg;
    int n = PQntuples(res);
    k->loading = hl_calloc(n ? (size_t)n : 1, sizeof *k->loading);
    k->nloading = 0;
    for (int i = 0; i < n; i++) {
        const char *hash = PQgetvalue(res, i, 0);
        if (strlen(hash) != 64)
            continue;
        s_key_t *e = &k->loading[k->nloading++];
        memcpy(e->hash, hash, 65);
        s_copy_cols(k, res, i, 1, e->cols);
    }
}

static void s_done(void *arg, int rc, const hl_dberr_t *err)
{
    hl_apikey_t *k = arg;
    k->in_flight = false;
    if (rc != 0) {
        hl_warn("apikey", NULL, "could not reload API keys (keeping %zu): %s", k->n, err->message);
        s_free_table(k, k->loading, k->nloading);
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
                memset(e->cols, 0, sizeof e->cols); /* moved */
            }
        }
    }
    if (k->nloading != k->n)
        hl_info("apikey", NULL, "%zu active API keys", k->nloading);
    s_free_table(k, k->keys, k->n);
    k->keys = k->loading;
    k->n = k->nloading;
out_clear_loading:
    k->loading = NULL;
    k->nloading = 0;
}

static void s_reload(hl_apikey_t *k)
{
    if (k->in_flight || k->stopped)
        return;
    k->in_flight = true;
    k->reload_sent_ms = uv_now(k->loop);
    hl_dbu_t *u = hl_dbu_new(k->db, s_done, k);
    hl_dbu_stmt(u, k->cfg.reload_sql, 0, NULL, NULL, NULL, false, s_rows, k);
    hl_dbu_submit(&u);
}

static void s_tick(uv_timer_t *t)
{
    s_reload(t->data);
}

hl_apikey_t *hl_apikey_new(uv_loop_t *loop, hl_db_t *db, const hl_apikey_cfg_t *cfg)
{
    assert(loop && db && cfg && cfg->reload_sql && cfg->lookup_sql && cfg->metric);
    assert(cfg->ncols >= 1 && cfg->ncols <= HL_APIKEY_COLS_MAX);
    hl_apikey_t *k = hl_calloc(1, sizeof *k);
    k->cfg = *cfg;
    k->loop = loop;
    k->db = db;
    k->tokens = cfg->lookups_per_s;
    k->tokens_ms = uv_now(loop);
    char name[128], help[160];
    snprintf(name, sizeof name, "%s_lookups_total", cfg->metric);
    k->looked_up = hl_metric_counter(name, "API keys not in memory looked up in PostgreSQL", NULL);
    snprintf(name, sizeof name, "%s_unchecked_total", cfg->metric);
    snprintf(help, sizeof help, "%s",
             "Requests whose API key could not be looked up now (answered 503, retry)");
    k->unchecked = hl_metric_counter(name, help, NULL);
    uv_timer_init(loop, &k->timer);
    k->timer.data = k;
    /* The timer alone must not keep the loop alive at shutdown. */
    uv_unref((uv_handle_t *)&k->timer);
    uv_timer_start(&k->timer, s_tick, HL_APIKEY_RELOAD_MS, HL_APIKEY_RELOAD_MS);
    s_reload(k);
    return k;
}

void hl_apikey_stop(hl_apikey_t *k)
{
    if (!k || k->stopped)
        return;
    k->stopped = true;
    uv_timer_stop(&k->timer);
}

size_t hl_apikey_count(const hl_apikey_t *k)
{
    return k ? k->n : 0;
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

static s_key_t *s_find(hl_apikey_t *k, const char *hash)
{
    for (size_t i = 0; i < k->n; i++)
        if (s_same(k->keys[i].hash, hash))
            return &k->keys[i];
    return NULL;
}

/* The negative-cache slot of `hash`: its first 8 hex digits (SHA-256 is
 * uniform, so they spread keys evenly). */
static s_unknown_t *s_unknown_slot(hl_apikey_t *k, const char *hash)
{
    char head[9];
    memcpy(head, hash, 8);
    head[8] = '\0';
    return &k->unknown[strtoul(head, NULL, 16) & (S_UNKNOWN_SLOTS - 1)];
}

/* Takes one token of the lookup budget (refilled at lookups_per_s, holding
 * at most one second's worth); false when it is spent. */
static bool s_take_token(hl_apikey_t *k, uint64_t now)
{
    double per_s = k->cfg.lookups_per_s;
    if (now > k->tokens_ms) {
        k->tokens += (double)(now - k->tokens_ms) * per_s / 1000.0;
        if (k->tokens > per_s)
            k->tokens = per_s;
        k->tokens_ms = now;
    }
    if (k->tokens < 1.0)
        return false;
    k->tokens -= 1.0;
    return true;
}

static void s_lookup_rows(void *arg, const PGresult *res)
{
    s_lookup_t *l = arg;
    if (PQntuples(res) != 1 || PQnfields(res) < l->k->cfg.ncols)
        return;
    l->found = true;
    s_copy_cols(l->k, res, 0, 0, l->cols);
}

static void s_lookup_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_lookup_t *l = arg;
    hl_apikey_t *k = l->k;
    uint64_t now = uv_now(k->loop);
    for (size_t i = 0; i < S_LOOKUPS_MAX; i++)
        if (k->lookups[i] == l)
            k->lookups[i] = NULL;
    hl_apikey_state_t state = HL_APIKEY_UNKNOWN;
    const char *const *cols = NULL;
    if (rc != 0) {
        hl_warn("apikey", NULL, "could not look up an API key: %s", err->message);
        state = HL_APIKEY_UNCHECKED;
    } else if (l->found) {
        s_key_t *e = s_find(k, l->hash);
        if (!e) {
            k->keys = hl_realloc(k->keys, (k->n + 1) * sizeof *k->keys);
            e = &k->keys[k->n++];
            memcpy(e->hash, l->hash, 65);
            memcpy(e->cols, l->cols, sizeof e->cols);
            memset(l->cols, 0, sizeof l->cols); /* moved into the table */
            e->added_ms = now;
            hl_info("apikey", e->cols[0], "new API key in use");
        }
        state = HL_APIKEY_ACTIVE;
        cols = (const char *const *)e->cols;
    } else {
        s_unknown_t *u = s_unknown_slot(k, l->hash);
        memcpy(u->hash, l->hash, 65);
        u->until_ms = now + S_UNKNOWN_MS;
    }
    for (s_waiter_t *w = l->waiters, *next; w; w = next) {
        next = w->next;
        if (state == HL_APIKEY_UNCHECKED)
            hl_metric_add(k->unchecked, 1);
        /* `cols` stay valid: nothing below replaces the table before the
         * loop turns (a reload finishes in a callback of its own). */
        w->done(w->arg, state, cols);
        free(w);
    }
    s_free_cols(l->cols, k->cfg.ncols);
    free(l);
}

void hl_apikey_resolve(hl_apikey_t *k, const char *key, hl_apikey_fn *done, void *arg)
{
    assert(key && done);
    size_t len = strlen(key);
    if (!k || len == 0 || len > 256) {
        done(arg, HL_APIKEY_UNKNOWN, NULL);
        return;
    }
    char hash[65];
    hl_sha256_hex(key, len, hash);
    s_key_t *e = s_find(k, hash);
    if (e) {
        done(arg, HL_APIKEY_ACTIVE, (const char *const *)e->cols);
        return;
    }
    uint64_t now = uv_now(k->loop);
    s_unknown_t *u = s_unknown_slot(k, hash);
    if (u->until_ms > now && strcmp(u->hash, hash) == 0) {
        done(arg, HL_APIKEY_UNKNOWN, NULL);
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
        if (free_slot == S_LOOKUPS_MAX || !s_take_token(k, now)) {
            hl_metric_add(k->unchecked, 1);
            done(arg, HL_APIKEY_UNCHECKED, NULL);
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
    hl_dbu_t *unit = hl_dbu_new(k->db, s_lookup_done, l);
    HL_DBU(unit, k->cfg.lookup_sql, s_lookup_rows, l, hash);
    hl_dbu_submit(&unit);
}
