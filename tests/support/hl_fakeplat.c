/* hl_fakeplat: the fake city platform (see hl_fakeplat.h). */
#include "hl_fakeplat.h"

#include "hl_testenv.h"
#include "hl_webhook.h"

#include <curl/curl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S_IDS_MAX 4096 /* distinct webhook-ids remembered */

typedef struct {
    char id[HL_WEBHOOK_ID_MAX + 1]; /* webhook-id */
    char type[64];                  /* event type from the body */
    int applied;                    /* 0 or 1 */
    int deliveries;                 /* verified deliveries of it */
} s_seen_t;

struct hl_fakeplat {
    struct MHD_Daemon *mhd;    /* the server */
    char url[64];              /* where it listens */
    hl_fake_act_t *script;     /* owned copy */
    size_t nscript;            /* acts */
    hl_webhook_key_t keys[2];  /* verifying keys */
    size_t nkeys;              /* how many */
    int slow_ms;               /* HL_FAKE_SLOW's sleep */
    pthread_mutex_t lock;      /* guards what follows */
    hl_fakeplat_stats_t stats; /* counters */
    s_seen_t *seen;            /* ids seen */
    size_t nseen;              /* how many */
};

/* One request's body being read. */
typedef struct {
    char *data; /* owned */
    size_t len; /* bytes */
} s_body_t;

static s_seen_t *s_find(hl_fakeplat_t *f, const char *id, bool add)
{
    for (size_t i = 0; i < f->nseen; i++)
        if (strcmp(f->seen[i].id, id) == 0)
            return &f->seen[i];
    if (!add || f->nseen >= S_IDS_MAX)
        return NULL;
    s_seen_t *s = &f->seen[f->nseen++];
    memset(s, 0, sizeof *s);
    snprintf(s->id, sizeof s->id, "%s", id);
    return s;
}

static enum MHD_Result s_reply(struct MHD_Connection *c, unsigned status, const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static void s_apply(hl_fakeplat_t *f, const char *id, const char *body)
{
    pthread_mutex_lock(&f->lock);
    s_seen_t *s = s_find(f, id, true);
    if (s) {
        if (s->applied) {
            f->stats.duplicates++;
        } else {
            s->applied = 1;
            f->stats.applied++;
            json_t *j = json_loads(body, 0, NULL);
            snprintf(s->type, sizeof s->type, "%s",
                     json_string_value(json_object_get(j, "type"))
                         ? json_string_value(json_object_get(j, "type"))
                         : "");
            json_decref(j);
        }
        s->deliveries++;
    }
    pthread_mutex_unlock(&f->lock);
}

static enum MHD_Result s_handler(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
    (void)url;
    (void)version;
    hl_fakeplat_t *f = cls;
    s_body_t *b = *con_cls;
    if (!b) {
        b = calloc(1, sizeof *b);
        *con_cls = b;
        return MHD_YES;
    }
    if (*upload_size) {
        b->data = realloc(b->data, b->len + *upload_size + 1);
        memcpy(b->data + b->len, upload, *upload_size);
        b->len += *upload_size;
        b->data[b->len] = '\0';
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "POST") != 0)
        return s_reply(c, 405, "{}");
    const char *id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "webhook-id");
    const char *ts = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "webhook-timestamp");
    const char *sig = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "webhook-signature");
    const char *body = b->data ? b->data : "";
    hl_webhook_verdict_t v = hl_webhook_verify(f->keys, f->nkeys, id, ts, sig, body, b->len,
                                               (long long)time(NULL), HL_WEBHOOK_TOLERANCE_S);
    pthread_mutex_lock(&f->lock);
    size_t n = f->stats.requests++;
    if (v != HL_WEBHOOK_OK)
        f->stats.bad++;
    else
        f->stats.verified++;
    pthread_mutex_unlock(&f->lock);
    if (v != HL_WEBHOOK_OK)
        return s_reply(c, 401, "{\"error\":\"bad signature\"}");
    hl_fake_act_t act = f->script ? f->script[n % f->nscript] : HL_FAKE_OK;
    switch (act) {
    case HL_FAKE_FAIL:
        return s_reply(c, 500, "{\"error\":\"internal\"}");
    case HL_FAKE_UNAVAILABLE:
        return s_reply(c, 503, "{\"error\":\"busy\"}");
    case HL_FAKE_APPLY_FAIL:
        s_apply(f, id, body);
        return s_reply(c, 500, "{\"error\":\"lost the answer\"}");
    case HL_FAKE_SLOW:
        usleep((useconds_t)f->slow_ms * 1000);
        s_apply(f, id, body);
        return s_reply(c, 200, "{\"ok\":true}");
    case HL_FAKE_OK:
    default:
        s_apply(f, id, body);
        return s_reply(c, 200, "{\"ok\":true}");
    }
}

static void s_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                        enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    s_body_t *b = *con_cls;
    if (b) {
        free(b->data);
        free(b);
        *con_cls = NULL;
    }
}

hl_fakeplat_t *hl_fakeplat_start(const hl_fake_act_t *script, size_t n, const char *secret1,
                                 const char *secret2, int slow_ms)
{
    hl_fakeplat_t *f = calloc(1, sizeof *f);
    pthread_mutex_init(&f->lock, NULL);
    f->seen = calloc(S_IDS_MAX, sizeof *f->seen);
    f->slow_ms = slow_ms;
    if (script && n) {
        f->script = malloc(n * sizeof *script);
        memcpy(f->script, script, n * sizeof *script);
        f->nscript = n;
    }
    if (secret1 && hl_webhook_key_parse(secret1, &f->keys[f->nkeys]))
        f->nkeys++;
    if (secret2 && hl_webhook_key_parse(secret2, &f->keys[f->nkeys]))
        f->nkeys++;
    for (int tries = 0; tries < 5 && !f->mhd; tries++) {
        int port = hl_test_free_ports(1);
        f->mhd = MHD_start_daemon(
            MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
            (uint16_t)port, NULL, NULL, s_handler, f, MHD_OPTION_NOTIFY_COMPLETED, s_completed, f,
            MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
        if (f->mhd)
            snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d/hooks", port);
    }
    if (!f->mhd) {
        fprintf(stderr, "fake platform: could not listen\n");
        hl_fakeplat_stop(f);
        return NULL;
    }
    return f;
}

void hl_fakeplat_stop(hl_fakeplat_t *f)
{
    if (!f)
        return;
    if (f->mhd)
        MHD_stop_daemon(f->mhd);
    pthread_mutex_destroy(&f->lock);
    free(f->seen);
    free(f->script);
    free(f);
}

const char *hl_fakeplat_url(const hl_fakeplat_t *f)
{
    return f->url;
}

hl_fakeplat_stats_t hl_fakeplat_stats(hl_fakeplat_t *f)
{
    pthread_mutex_lock(&f->lock);
    hl_fakeplat_stats_t s = f->stats;
    pthread_mutex_unlock(&f->lock);
    return s;
}

int hl_fakeplat_applied(hl_fakeplat_t *f, const char *id)
{
    pthread_mutex_lock(&f->lock);
    s_seen_t *s = s_find(f, id, false);
    int n = s ? s->applied : 0;
    pthread_mutex_unlock(&f->lock);
    return n;
}

int hl_fakeplat_deliveries(hl_fakeplat_t *f, const char *id)
{
    pthread_mutex_lock(&f->lock);
    s_seen_t *s = s_find(f, id, false);
    int n = s ? s->deliveries : 0;
    pthread_mutex_unlock(&f->lock);
    return n;
}

const char *hl_fakeplat_type(hl_fakeplat_t *f, const char *id)
{
    static char type[64];
    pthread_mutex_lock(&f->lock);
    s_seen_t *s = s_find(f, id, false);
    snprintf(type, sizeof type, "%s", s && s->applied ? s->type : "");
    pthread_mutex_unlock(&f->lock);
    return type;
}

/* ---- the client side ---------------------------------------------------- */

static size_t s_collect(char *data, size_t size, size_t n, void *userp)
{
    char **out = userp;
    size_t old = *out ? strlen(*out) : 0;
    *out = realloc(*out, old + size * n + 1);
    memcpy(*out + old, data, size * n);
    (*out)[old + size * n] = '\0';
    return size * n;
}

long hl_fakeplat_send(const char *url, const char *body, const hl_fake_sign_t *how, char **out)
{
    CURL *e = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    char line[1600];
    if (how->id) {
        snprintf(line, sizeof line, "webhook-id: %s", how->id);
        h = curl_slist_append(h, line);
    }
    if (how->ts_text) {
        snprintf(line, sizeof line, "webhook-timestamp: %s", how->ts_text);
        h = curl_slist_append(h, line);
    } else if (how->timestamp) {
        snprintf(line, sizeof line, "webhook-timestamp: %lld", how->timestamp);
        h = curl_slist_append(h, line);
    }
    if (how->sig_text) {
        snprintf(line, sizeof line, "webhook-signature: %s", how->sig_text);
        h = curl_slist_append(h, line);
    } else if (how->secret) {
        hl_webhook_key_t key;
        char sig[HL_WEBHOOK_SIG_LEN] = "v1,";
        const char *signed_body = how->signed_body ? how->signed_body : body;
        if (hl_webhook_key_parse(how->secret, &key))
            hl_webhook_sign(&key, how->id ? how->id : "", how->timestamp, signed_body,
                            strlen(signed_body), sig);
        snprintf(line, sizeof line, "webhook-signature: %s", sig);
        h = curl_slist_append(h, line);
    }
    char *reply = NULL;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, s_collect);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &reply);
    long status = 0;
    if (curl_easy_perform(e) == CURLE_OK)
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(e);
    if (out)
        *out = reply;
    else
        free(reply);
    return status;
}
