/* ratelimit.c: admission control at the front door, before any database
 * work on the request. Each API key and each anonymous client address has a
 * token bucket: it holds at most `burst` tokens, refills at the configured
 * rate per minute, and a request takes one. An empty bucket means 429 with
 * Retry-After set to when the next token arrives, so one flooding client is
 * refused while every other client is served as usual.
 *
 * A batch (POST /v1/appeals/batch) costs one token per line, since each
 * line is an insert like a single appeal: otherwise one request could carry
 * thousands of inserts past a limit meant for a few a minute. It is
 * admitted whole or refused whole (429, nothing stored). A batch larger
 * than the bucket is admitted when the bucket is full and leaves it in
 * debt (negative), so the client then waits until its average is back
 * under the rate: big batches are possible, but never faster than the rate.
 *
 * The table is in memory and bounded: a bucket that has refilled completely
 * is indistinguishable from no bucket, so it is dropped whenever the table
 * is swept (once a minute, and whenever it is full). If it is still full
 * of active buckets, the one idle longest is evicted. The clock is passed
 * in, so the tests drive time by hand.
 *
 * A request with an API key first needs the key checked (apikey.c). That is
 * a table in memory, except for a key not seen yet, which takes one query:
 * so admission (intake_admit) answers through a callback, at once or after
 * that query, and the handlers continue from it. */
#include "intake.h"
#include "ratelimit.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_KEY_MAX 72 /* longest key kept (an IPv6 address or "key:" + a name) */

typedef struct {
    char key[S_KEY_MAX]; /* bucket key, NUL-terminated */
    double tokens;       /* tokens left at last_ms */
    double rate;         /* refill, tokens per minute */
    double burst;        /* most tokens held */
    uint64_t last_ms;    /* last refill */
    int next;            /* next entry in its hash chain, or -1 */
    bool used;           /* slot in use */
} s_bucket_t;

struct intake_ratelimit {
    s_bucket_t *buckets; /* capacity slots */
    int *heads;          /* hash chains: nheads first-entry indices, -1 empty */
    size_t capacity;     /* most buckets kept */
    size_t nheads;       /* chain heads (power of two) */
    size_t size;         /* buckets in use */
    int free_list;       /* unused slots, linked through next */
    uint64_t swept_ms;   /* last sweep */
};

static uint64_t s_hash(const char *s)
{
    return hl_fnv1a(s, strlen(s));
}

intake_ratelimit_t *intake_ratelimit_new(size_t capacity)
{
    assert(capacity > 0 && capacity < (size_t)1 << 30);
    intake_ratelimit_t *rl = hl_calloc(1, sizeof *rl);
    rl->capacity = capacity;
    rl->nheads = 1;
    while (rl->nheads < capacity)
        rl->nheads <<= 1;
    rl->buckets = hl_calloc(capacity, sizeof *rl->buckets);
    rl->heads = hl_malloc(rl->nheads * sizeof *rl->heads);
    for (size_t i = 0; i < rl->nheads; i++)
        rl->heads[i] = -1;
    for (size_t i = 0; i < capacity; i++)
        rl->buckets[i].next = i + 1 < capacity ? (int)(i + 1) : -1;
    rl->free_list = 0;
    return rl;
}

void intake_ratelimit_destroy(intake_ratelimit_t **rlp)
{
    intake_ratelimit_t *rl = *rlp;
    if (!rl)
        return;
    *rlp = NULL;
    free(rl->buckets);
    free(rl->heads);
    free(rl);
}

size_t intake_ratelimit_size(const intake_ratelimit_t *rl)
{
    return rl->size;
}

/* Tokens bucket `b` holds at `now_ms`. */
static double s_level(const s_bucket_t *b, uint64_t now_ms)
{
    double elapsed = now_ms > b->last_ms ? (double)(now_ms - b->last_ms) : 0;
    double t = b->tokens + elapsed * b->rate / 60000.0;
    return t > b->burst ? b->burst : t;
}

static void s_remove(intake_ratelimit_t *rl, int idx)
{
    s_bucket_t *b = &rl->buckets[idx];
    int *link = &rl->heads[s_hash(b->key) & (rl->nheads - 1)];
    while (*link != idx)
        link = &rl->buckets[*link].next;
    *link = b->next;
    b->used = false;
    b->next = rl->free_list;
    rl->free_list = idx;
    rl->size--;
}

void intake_ratelimit_sweep(intake_ratelimit_t *rl, uint64_t now_ms)
{
    for (size_t i = 0; i < rl->capacity; i++)
        if (rl->buckets[i].used && s_level(&rl->buckets[i], now_ms) >= rl->buckets[i].burst)
            s_remove(rl, (int)i);
    rl->swept_ms = now_ms;
}

static int s_find(const intake_ratelimit_t *rl, const char *key)
{
    for (int i = rl->heads[s_hash(key) & (rl->nheads - 1)]; i >= 0; i = rl->buckets[i].next)
        if (strcmp(rl->buckets[i].key, key) == 0)
            return i;
    return -1;
}

static int s_insert(intake_ratelimit_t *rl, const char *key, uint64_t now_ms)
{
    if (rl->size == rl->capacity)
        intake_ratelimit_sweep(rl, now_ms);
    if (rl->size == rl->capacity) {
        /* Every bucket is active: evict the one idle longest. */
        int oldest = 0;
        for (size_t i = 1; i < rl->capacity; i++)
            if (rl->buckets[i].last_ms < rl->buckets[oldest].last_ms)
                oldest = (int)i;
        s_remove(rl, oldest);
    }
    int idx = rl->free_list;
    s_bucket_t *b = &rl->buckets[idx];
    rl->free_list = b->next;
    snprintf(b->key, sizeof b->key, "%s", key);
    b->tokens = 0;
    b->last_ms = now_ms;
    b->used = true;
    int *head = &rl->heads[s_hash(b->key) & (rl->nheads - 1)];
    b->next = *head;
    *head = idx;
    rl->size++;
    return idx;
}

long long intake_ratelimit_take(intake_ratelimit_t *rl, const char *key, double rate_per_min,
                                double burst, uint64_t now_ms)
{
    return intake_ratelimit_take_n(rl, key, rate_per_min, burst, 1, now_ms);
}

long long intake_ratelimit_take_n(intake_ratelimit_t *rl, const char *key, double rate_per_min,
                                  double burst, double cost, uint64_t now_ms)
{
    assert(rl && key && rate_per_min > 0 && burst >= 1 && cost >= 1);
    if (now_ms >= rl->swept_ms + 60000)
        intake_ratelimit_sweep(rl, now_ms);
    char k[S_KEY_MAX];
    snprintf(k, sizeof k, "%s", key);
    int idx = s_find(rl, k);
    if (idx < 0) {
        idx = s_insert(rl, k, now_ms);
        rl->buckets[idx].tokens = burst;
    }
    s_bucket_t *b = &rl->buckets[idx];
    b->rate = rate_per_min;
    b->burst = burst;
    b->tokens = s_level(b, now_ms);
    b->last_ms = now_ms;
    /* A cost above the burst needs a full bucket and leaves it in debt. */
    double need = cost < burst ? cost : burst;
    if (b->tokens >= need) {
        b->tokens -= cost;
        return 0;
    }
    /* Milliseconds until the tokens needed are back. */
    double wait = (need - b->tokens) * 60000.0 / rate_per_min;
    return (long long)ceil(wait);
}

/* ---- intake_admit: the policy on top of the buckets ----------------------- */

/* True when `addr` is in the comma-separated list `list`. */
bool intake_addr_listed(const char *list, const char *addr)
{
    if (!list || !addr || !*addr)
        return false;
    size_t n = strlen(addr);
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *end = p;
        while (*end && *end != ',' && *end != ' ')
            end++;
        if ((size_t)(end - p) == n && strncmp(p, addr, n) == 0)
            return true;
        p = end;
    }
    return false;
}

intake_admit_t intake_admit_addr(intake_t *in, hl_http_req_t *req, long long cost,
                                 long long *retry_after_s)
{
    const char *peer = hl_http_peer(req);
    if (intake_addr_listed(in->cfg->rate_exempt, peer))
        return INTAKE_ADMIT_OK;
    long long wait_ms =
        intake_ratelimit_take_n(in->per_addr, peer, (double)in->cfg->rate_per_addr_per_min,
                                (double)in->cfg->rate_burst, (double)cost, uv_now(in->svc->loop));
    if (wait_ms == 0)
        return INTAKE_ADMIT_OK;
    hl_metric_add(in->limited, 1);
    *retry_after_s = (wait_ms + 999) / 1000;
    return INTAKE_ADMIT_LIMITED;
}

/* A keyed admission waiting for its key. */
typedef struct {
    intake_t *in;          /* service */
    long long cost;        /* tokens the request takes */
    intake_admit_fn *done; /* caller's callback */
    void *arg;             /* its argument */
} s_admit_t;

static void s_key_resolved(void *arg, intake_key_state_t state, const char *name,
                           long long rate_per_min)
{
    s_admit_t *a = arg;
    intake_t *in = a->in;
    intake_admission_t r = {INTAKE_ADMIT_OK, 0, NULL};
    if (state == INTAKE_KEY_UNKNOWN) {
        r.verdict = INTAKE_ADMIT_BAD_KEY;
    } else if (state == INTAKE_KEY_UNCHECKED) {
        r.verdict = INTAKE_ADMIT_UNCHECKED;
        r.retry_after_s = 1;
    } else {
        if (rate_per_min <= 0)
            rate_per_min = in->cfg->rate_per_key_per_min;
        long long wait_ms = intake_ratelimit_take_n(in->per_key, name, (double)rate_per_min,
                                                    (double)in->cfg->rate_burst, (double)a->cost,
                                                    uv_now(in->svc->loop));
        if (wait_ms != 0) {
            hl_metric_add(in->limited, 1);
            r.verdict = INTAKE_ADMIT_LIMITED;
            r.retry_after_s = (wait_ms + 999) / 1000;
        } else {
            r.key_name = name;
        }
    }
    a->done(a->arg, &r);
    free(a);
}

void intake_admit(intake_t *in, hl_http_req_t *req, const char *key, long long cost,
                  intake_admit_fn *done, void *arg)
{
    if (!key) {
        intake_admission_t r = {INTAKE_ADMIT_OK, 0, NULL};
        r.verdict = intake_admit_addr(in, req, cost, &r.retry_after_s);
        done(arg, &r);
        return;
    }
    s_admit_t *a = hl_calloc(1, sizeof *a);
    a->in = in;
    a->cost = cost;
    a->done = done;
    a->arg = arg;
    /* The key may need a query: the answer then comes from a later loop
     * turn. A handler may suspend and still reply before it returns. */
    hl_http_suspend(req);
    intake_keys_resolve(in, key, s_key_resolved, a);
}

void intake_admission_retry_after(hl_http_req_t *req, const intake_admission_t *admission)
{
    char ra[24];
    snprintf(ra, sizeof ra, "%lld", admission->retry_after_s);
    hl_http_add_header(req, "Retry-After", ra);
}

/* One JSON API admission in flight. */
typedef struct {
    hl_http_req_t *req;       /* the request */
    intake_admitted_fn *next; /* the handler's continuation */
    void *arg;                /* its argument */
} s_json_t;

static void s_json_admitted(void *arg, const intake_admission_t *r)
{
    s_json_t *j = arg;
    hl_http_req_t *req = j->req;
    switch (r->verdict) {
    case INTAKE_ADMIT_OK:
        break;
    case INTAKE_ADMIT_BAD_KEY:
        hl_http_add_header(req, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
        hl_http_reply_error(req, 401, "Authorization", "unknown or revoked API key");
        break;
    case INTAKE_ADMIT_LIMITED:
        intake_admission_retry_after(req, r);
        hl_http_reply_error(req, 429, NULL, "too many requests; retry after %lld s",
                            r->retry_after_s);
        break;
    case INTAKE_ADMIT_UNCHECKED:
        intake_admission_retry_after(req, r);
        hl_http_reply_error(req, 503, "Authorization", "could not check the API key now; retry");
        break;
    }
    j->next(j->arg, r->verdict == INTAKE_ADMIT_OK);
    free(j);
}

void intake_admit_json(intake_t *in, hl_http_req_t *req, long long cost, intake_admitted_fn *next,
                       void *arg)
{
    /* Machine clients present an API key as a bearer token; everyone else
     * is limited per address. */
    const char *auth = hl_http_header(req, "Authorization");
    const char *key = NULL;
    if (auth) {
        if (strncasecmp(auth, "Bearer ", 7) != 0 || !auth[7]) {
            hl_http_add_header(req, "WWW-Authenticate", "Bearer");
            hl_http_reply_error(req, 401, "Authorization",
                                "Authorization must be \"Bearer <api key>\"");
            next(arg, false);
            return;
        }
        key = auth + 7;
    }
    s_json_t *j = hl_calloc(1, sizeof *j);
    j->req = req;
    j->next = next;
    j->arg = arg;
    intake_admit(in, req, key, cost, s_json_admitted, j);
}
