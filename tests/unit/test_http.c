/* test_http: hl_http on a libuv loop in the test's main thread, driven by
 * libcurl from client threads — built-in endpoints, routing, parameters,
 * JSON bodies, suspended requests answered later, the body limit, and a
 * clean shutdown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hl_alloc.h"
#include "hl_http.h"
#include "hl_log.h"
#include "hl_metrics.h"
#include "hl_testenv.h"

#define S_LIMIT (1024 * 1024) /* body limit of the test server */

/* ---- client side (runs in its own thread) ---------------------------- */

enum {
    S_BODY_FIELDS,  /* CURLOPT_POSTFIELDS (curl's defaults) */
    S_BODY_STREAM,  /* read callback with Content-Length, no Expect */
    S_BODY_EXPECT,  /* read callback with Content-Length and Expect: 100-continue */
    S_BODY_CHUNKED, /* read callback, Transfer-Encoding: chunked */
};

typedef struct {
    const char *method; /* GET, POST, ... */
    const char *path;   /* "/healthz" */
    const char *ctype;  /* Content-Type to send, or NULL */
    const char *body;   /* body bytes (S_BODY_FIELDS), or NULL */
    size_t len;         /* body length */
    int mode;           /* S_BODY_* */
    bool fresh;         /* a new connection (else keep-alive) */
    bool wait_phase;    /* wait for the server's go before this request */
    long timeout_ms;    /* client timeout (0: 10 s) */
    /* results */
    int curl_rc;          /* CURLE_* */
    long status;          /* HTTP status, 0 when none */
    char *resp;           /* body received (owned) */
    char ctype_out[128];  /* response Content-Type */
    char x_test[64];      /* response X-Test header */
    char retry_after[16]; /* response Retry-After header (the last one) */
    int retry_afters;     /* how many Retry-After headers came */
    long long uploaded;   /* body bytes curl sent */
    double secs;          /* total time */
    size_t gen_sent;      /* bytes the read callback produced */
} req_t;

typedef struct srv srv_t;

typedef struct {
    srv_t *srv;  /* server */
    req_t *reqs; /* the script */
    int n;       /* its length */
} client_t;

struct srv {
    uv_loop_t loop;             /* the server loop (main thread) */
    hl_http_t *http;            /* under test */
    int port;                   /* its port */
    bool ready;                 /* what the readiness callback says */
    uv_async_t async;           /* clients -> loop: one finished / wants a phase */
    uv_timer_t guard;           /* ends a hung test */
    uv_timer_t finish;          /* waits for active == 0, then shuts down */
    bool timed_out;             /* guard fired */
    bool finishing;             /* shutdown started */
    atomic_int clients_done;    /* clients finished */
    atomic_int phase_wanted;    /* clients waiting for the next phase */
    int nclients;               /* clients started */
    pthread_t threads[8];       /* their threads */
    client_t clients[8];        /* their scripts */
    sem_t go;                   /* loop -> client: next phase may start */
    void (*on_phase)(srv_t *s); /* loop action between phases */
    int phases_done;            /* on_phase calls */
    int slow_replies;           /* suspended requests answered */
    int active_at_end;          /* hl_http_active() just before destroy */
    bool force_destroy;         /* destroy with requests still active (drain timeout) */
};

static size_t s_write_cb(char *data, size_t size, size_t n, void *arg)
{
    hl_buf_t *b = arg;
    hl_buf_append(b, data, size * n);
    return size * n;
}

static size_t s_header_cb(char *data, size_t size, size_t n, void *arg)
{
    req_t *r = arg;
    size_t len = size * n;
    if (len > 8 && strncasecmp(data, "X-Test: ", 8) == 0)
        snprintf(r->x_test, sizeof r->x_test, "%.*s", (int)(len - 10), data + 8);
    if (len > 13 && strncasecmp(data, "Retry-After: ", 13) == 0) {
        snprintf(r->retry_after, sizeof r->retry_after, "%.*s", (int)(len - 15), data + 13);
        r->retry_afters++;
    }
    return len;
}

static size_t s_read_cb(char *buf, size_t size, size_t n, void *arg)
{
    req_t *r = arg;
    size_t want = size * n;
    size_t left = r->len - r->gen_sent;
    if (want > left)
        want = left;
    memset(buf, 'a', want);
    r->gen_sent += want;
    return want;
}

static void s_perform(CURL *h, srv_t *s, req_t *r)
{
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", s->port, r->path);
    hl_buf_t resp = {0};
    struct curl_slist *hdr = NULL;
    char ct[160];
    if (r->ctype) {
        snprintf(ct, sizeof ct, "Content-Type: %s", r->ctype);
        hdr = curl_slist_append(hdr, ct);
    }
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
                     r->timeout_ms ? r->timeout_ms : (long)(10000 * hl_test_mult()));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, s_write_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, s_header_cb);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (r->mode == S_BODY_FIELDS && r->body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->len);
    } else if (r->mode != S_BODY_FIELDS) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, s_read_cb);
        curl_easy_setopt(h, CURLOPT_READDATA, r);
        if (r->mode == S_BODY_CHUNKED) {
            hdr = curl_slist_append(hdr, "Transfer-Encoding: chunked");
        } else {
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->len);
        }
        if (r->mode == S_BODY_STREAM || r->mode == S_BODY_CHUNKED)
            hdr = curl_slist_append(hdr, "Expect:");
        else
            hdr = curl_slist_append(hdr, "Expect: 100-continue");
    }
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    r->curl_rc = (int)curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    char *ctype = NULL;
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ctype);
    snprintf(r->ctype_out, sizeof r->ctype_out, "%s", ctype ? ctype : "");
    curl_off_t up = 0;
    curl_easy_getinfo(h, CURLINFO_SIZE_UPLOAD_T, &up);
    r->uploaded = (long long)up;
    curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &r->secs);
    hl_buf_append(&resp, "", 0);
    r->resp = resp.data;
    curl_slist_free_all(hdr);
}

static void *s_client_main(void *arg)
{
    client_t *c = arg;
    CURL *h = NULL;
    for (int i = 0; i < c->n; i++) {
        req_t *r = &c->reqs[i];
        if (r->wait_phase) {
            atomic_fetch_add(&c->srv->phase_wanted, 1);
            uv_async_send(&c->srv->async);
            sem_wait(&c->srv->go);
        }
        if (h && r->fresh) {
            curl_easy_cleanup(h);
            h = NULL;
        }
        if (!h)
            h = curl_easy_init();
        s_perform(h, c->srv, r);
    }
    if (h)
        curl_easy_cleanup(h);
    atomic_fetch_add(&c->srv->clients_done, 1);
    uv_async_send(&c->srv->async);
    return NULL;
}

/* ---- server side --------------------------------------------------------- */

static bool s_ready_cb(void *arg, json_t *detail)
{
    srv_t *s = arg;
    json_object_set_new(detail, "db", json_boolean(s->ready));
    return s->ready;
}

static void s_item_get(hl_http_req_t *req, void *arg)
{
    (void)arg;
    assert_null(hl_http_param(req, 1));
    assert_null(hl_http_param(req, 99));
    assert_null(hl_http_param(req, -1));
    hl_http_reply_json(
        req, 200, json_pack("{s:s, s:s}", "id", hl_http_param(req, 0), "path", hl_http_path(req)));
}

static void s_note_get(hl_http_req_t *req, void *arg)
{
    (void)arg;
    const char *q = hl_http_query(req, "q");
    hl_http_reply_json(req, 200,
                       json_pack("{s:s, s:s, s:s?}", "item", hl_http_param(req, 0), "note",
                                 hl_http_param(req, 1), "q", q));
}

static void s_item_post(hl_http_req_t *req, void *arg)
{
    (void)arg;
    json_t *j = hl_http_json_body(req);
    if (!j)
        return;
    assert_string_equal(hl_http_method(req), "POST");
    hl_http_reply_json(req, 201, json_pack("{s:o}", "got", j));
}

static void s_upload(hl_http_req_t *req, void *arg)
{
    (void)arg;
    size_t len = 0;
    const char *body = hl_http_body(req, &len);
    for (size_t i = 0; i < len; i++)
        if (body[i] != 'a') {
            hl_http_reply_error(req, 400, "body", "byte %zu is not 'a'", i);
            return;
        }
    hl_http_reply_json(req, 200, json_pack("{s:I}", "len", (json_int_t)len));
}

typedef struct {
    uv_timer_t timer;   /* fires the late reply */
    hl_http_req_t *req; /* the suspended request */
    srv_t *srv;         /* counts replies */
} slow_t;

static void s_slow_closed(uv_handle_t *h)
{
    free(h->data);
}

static void s_slow_timer_cb(uv_timer_t *t)
{
    slow_t *sl = t->data;
    sl->srv->slow_replies++;
    hl_http_add_header(sl->req, "X-Test", "late");
    hl_http_reply_json(sl->req, 200, json_pack("{s:b}", "slow", 1));
    uv_close((uv_handle_t *)t, s_slow_closed);
}

static void s_slow(hl_http_req_t *req, void *arg)
{
    srv_t *s = arg;
    hl_http_suspend(req);
    slow_t *sl = hl_calloc(1, sizeof *sl);
    sl->req = req;
    sl->srv = s;
    uv_timer_init(&s->loop, &sl->timer);
    sl->timer.data = sl;
    uv_timer_start(&sl->timer, s_slow_timer_cb, 100, 0);
}

static void s_sync_after_suspend(hl_http_req_t *req, void *arg)
{
    (void)arg;
    /* What a handler does when its unit fails at once (database down):
     * suspend, then reply before returning. */
    hl_http_suspend(req);
    hl_http_reply_error(req, 503, NULL, "database unavailable");
}

static void s_busy(hl_http_req_t *req, void *arg)
{
    (void)arg;
    /* A handler that knows better than the default "try again in 1 s". */
    hl_http_add_header(req, "Retry-After", "7");
    hl_http_reply_error(req, 503, NULL, "busy");
}

static hl_http_req_t *s_hung; /* a request /hang suspended */

static void s_hang(hl_http_req_t *req, void *arg)
{
    (void)arg;
    hl_http_suspend(req);
    s_hung = req;
}

static void s_no_reply(hl_http_req_t *req, void *arg)
{
    (void)req;
    (void)arg;
}

static const hl_http_route_t s_routes[] = {
    {"GET", "/v1/items/{}", s_item_get, NULL},
    {"GET", "/v1/items/{}/notes/{}", s_note_get, NULL},
    {"POST", "/v1/items", s_item_post, NULL},
    {"PUT", "/v1/items/{}", s_item_get, NULL},
    {"POST", "/v1/upload", s_upload, NULL},
    {"GET", "/slow", s_slow, NULL},
    {"GET", "/sync", s_sync_after_suspend, NULL},
    {"GET", "/noreply", s_no_reply, NULL},
    {"GET", "/hang", s_hang, NULL},
    {"GET", "/busy", s_busy, NULL},
};

static void s_async_cb(uv_async_t *a);
static void s_guard_cb(uv_timer_t *t);

static srv_t *s_srv_new(bool ready)
{
    srv_t *s = hl_calloc(1, sizeof *s);
    assert_int_equal(uv_loop_init(&s->loop), 0);
    s->ready = ready;
    s->port = hl_test_free_ports(1);
    hl_http_cfg_t cfg = {
        .addr = "127.0.0.1",
        .port = s->port,
        .body_limit = S_LIMIT,
        .conn_limit = 64,
        .timeout_s = 10,
        .service = "hl-test",
        .ready = s_ready_cb,
        .ready_arg = s,
    };
    hl_http_route_t routes[sizeof s_routes / sizeof s_routes[0]];
    memcpy(routes, s_routes, sizeof routes);
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        routes[i].arg = s;
    s->http = hl_http_new(&s->loop, &cfg, routes, sizeof routes / sizeof routes[0]);
    assert_non_null(s->http);
    uv_async_init(&s->loop, &s->async, s_async_cb);
    uv_timer_init(&s->loop, &s->guard);
    uv_timer_init(&s->loop, &s->finish);
    s->async.data = s->guard.data = s->finish.data = s;
    uv_timer_start(&s->guard, s_guard_cb, (uint64_t)(20000 * hl_test_mult()), 0);
    sem_init(&s->go, 0, 0);
    return s;
}

static void s_shutdown(srv_t *s)
{
    s->active_at_end = hl_http_active(s->http);
    hl_http_quiesce(s->http);
    hl_http_destroy(&s->http);
    uv_close((uv_handle_t *)&s->async, NULL);
    uv_close((uv_handle_t *)&s->guard, NULL);
    uv_close((uv_handle_t *)&s->finish, NULL);
}

static void s_finish_cb(uv_timer_t *t)
{
    srv_t *s = t->data;
    if (hl_http_active(s->http) == 0 || s->timed_out || s->force_destroy) {
        uv_timer_stop(t);
        s_shutdown(s);
    }
}

static void s_guard_cb(uv_timer_t *t)
{
    srv_t *s = t->data;
    s->timed_out = true;
    for (int i = 0; i < s->nclients; i++)
        sem_post(&s->go);
    if (!s->finishing) {
        s->finishing = true;
        uv_timer_start(&s->finish, s_finish_cb, 0, 5);
    }
}

static void s_async_cb(uv_async_t *a)
{
    srv_t *s = a->data;
    int want;
    while ((want = atomic_load(&s->phase_wanted)) > 0) {
        atomic_fetch_sub(&s->phase_wanted, 1);
        if (s->on_phase)
            s->on_phase(s);
        s->phases_done++;
        sem_post(&s->go);
    }
    if (!s->finishing && atomic_load(&s->clients_done) == s->nclients) {
        s->finishing = true;
        uv_timer_start(&s->finish, s_finish_cb, 0, 5);
    }
}

static void s_client(srv_t *s, req_t *reqs, int n)
{
    client_t *c = &s->clients[s->nclients++];
    c->srv = s;
    c->reqs = reqs;
    c->n = n;
}

/* Runs every client to its end, shuts the server down, checks the loop
 * closes clean. */
static void s_srv_run(srv_t *s)
{
    for (int i = 0; i < s->nclients; i++)
        assert_int_equal(pthread_create(&s->threads[i], NULL, s_client_main, &s->clients[i]), 0);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    for (int i = 0; i < s->nclients; i++)
        pthread_join(s->threads[i], NULL);
    assert_false(s->timed_out);
    assert_null(s->http);
    assert_int_equal(s->active_at_end, 0);
    assert_int_equal(uv_loop_close(&s->loop), 0);
}

static void s_srv_free(srv_t *s, req_t *reqs, int n)
{
    for (int i = 0; i < n; i++)
        free(reqs[i].resp);
    sem_destroy(&s->go);
    free(s);
    hl_metrics_reset();
}

/* Parses a response body as JSON (fails the test if it is not). */
static json_t *s_json(const req_t *r)
{
    json_error_t err;
    json_t *j = json_loads(r->resp, 0, &err);
    if (!j)
        fail_msg("%s %s: response is not JSON (%s): %s", r->method, r->path, err.text, r->resp);
    return j;
}

/* Checks an error body {"error":{"status":N,"message":...}}. */
static void s_assert_error(const req_t *r, long status)
{
    assert_int_equal(r->curl_rc, 0);
    assert_int_equal(r->status, status);
    assert_non_null(strstr(r->ctype_out, "application/json"));
    json_t *j = s_json(r);
    json_t *e = json_object_get(j, "error");
    assert_true(json_is_object(e));
    assert_int_equal(json_integer_value(json_object_get(e, "status")), status);
    assert_true(json_is_string(json_object_get(e, "message")));
    assert_true(strlen(json_string_value(json_object_get(e, "message"))) > 0);
    json_decref(j);
}

/* ---- tests ------------------------------------------------------------- */

static void test_builtin_endpoints(void **state)
{
    (void)state;
    srv_t *s = s_srv_new(true);
    req_t r[] = {
        {.method = "GET", .path = "/healthz"},
        {.method = "GET", .path = "/readyz"},
        {.method = "GET", .path = "/metrics"},
    };
    s_client(s, r, 3);
    s_srv_run(s);
    assert_int_equal(r[0].status, 200);
    assert_non_null(strstr(r[0].ctype_out, "application/json"));
    json_t *j = s_json(&r[0]);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    assert_string_equal(json_string_value(json_object_get(j, "service")), "hl-test");
    json_decref(j);
    assert_int_equal(r[1].status, 200);
    j = s_json(&r[1]);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ready");
    assert_true(json_is_true(json_object_get(j, "db")));
    json_decref(j);
    assert_int_equal(r[2].status, 200);
    assert_non_null(strstr(r[2].ctype_out, "text/plain"));
    assert_non_null(strstr(r[2].resp, "# TYPE hl_http_requests_total counter\n"));
    /* The two requests answered before it are counted. */
    assert_non_null(strstr(r[2].resp, "hl_http_requests_total{class=\"2xx\"} 2\n"));
    assert_non_null(strstr(r[2].resp, "# TYPE hl_http_request_seconds histogram\n"));
    s_srv_free(s, r, 3);
}

static void test_readyz_not_ready(void **state)
{
    (void)state;
    srv_t *s = s_srv_new(false);
    req_t r[] = {{.method = "GET", .path = "/readyz"}, {.method = "GET", .path = "/healthz"}};
    s_client(s, r, 2);
    s_srv_run(s);
    assert_int_equal(r[0].status, 503);
    json_t *j = s_json(&r[0]);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "not ready");
    assert_true(json_is_false(json_object_get(j, "db")));
    json_decref(j);
    /* Alive nevertheless. */
    assert_int_equal(r[1].status, 200);
    s_srv_free(s, r, 2);
}

static void test_not_found_and_not_allowed(void **state)
{
    (void)state;
    srv_t *s = s_srv_new(true);
    req_t r[] = {
        {.method = "GET", .path = "/nope"},
        {.method = "DELETE", .path = "/v1/items/5"},
        {.method = "GET", .path = "/v1/items"},
        {.method = "GET", .path = "/v1/items/"},
        {.method = "GET", .path = "/v1/items/5/extra"},
        {.method = "POST", .path = "/metrics"},
    };
    s_client(s, r, 6);
    s_srv_run(s);
    s_assert_error(&r[0], 404);
    s_assert_error(&r[1], 405);
    s_assert_error(&r[2], 405);
    s_assert_error(&r[3], 404);
    s_assert_error(&r[4], 404);
    assert_true(r[5].status == 404 || r[5].status == 405);
    s_assert_error(&r[5], r[5].status);
    s_srv_free(s, r, 6);
}

static void s_assert_field(const req_t *r, const char *key, const char *want)
{
    assert_int_equal(r->status, 200);
    json_t *j = s_json(r);
    const char *got = json_string_value(json_object_get(j, key));
    if (!got || strcmp(got, want) != 0)
        fail_msg("%s: \"%s\" is \"%s\", want \"%s\"", r->path, key, got ? got : "(none)", want);
    json_decref(j);
}

static void test_params_decoded(void **state)
{
    (void)state;
    srv_t *s = s_srv_new(true);
    req_t r[] = {
        {.method = "GET", .path = "/v1/items/HL7K2M9Q4T1X"},
        {.method = "GET", .path = "/v1/items/a%20b"},
        {.method = "GET", .path = "/v1/items/%E8%A1%97%E9%81%93"},
        {.method = "GET", .path = "/v1/items/x/notes/y?q=hello%20there"},
        {.method = "PUT", .path = "/v1/items/7"},
        /* Decoded exactly once: "%2520" is the text "%20". */
        {.method = "GET", .path = "/v1/items/100%2520"},
    };
    s_client(s, r, 6);
    s_srv_run(s);
    s_assert_field(&r[0], "id", "HL7K2M9Q4T1X");
    s_assert_field(&r[1], "id", "a b");
    s_assert_field(&r[2], "id", "街道");
    s_assert_field(&r[3], "item", "x");
    s_assert_field(&r[3], "note", "y");
    s_assert_field(&r[3], "q", "hello there");
    s_assert_field(&r[4], "id", "7");
    s_assert_field(&r[5], "id", "100%20");
    s_srv_free(s, r, 6);
}

static void test_json_body(void **state)
{
    (void)state;
    srv_t *s = s_srv_new(true);
    static const char good[] = "{\"title\":\"路灯\",\"n\":3}";
    static const char bad[] = "{\"title\": ";
    static const char arr[] = "[1,2]";
    static const char dup[] = "{\"a\":1,\"a\":2}";
    /* jansson quotes the bytes it stumbled on: here half a character. */
    static const char cut[] = "{\"title\": \"\xe8\xb7";
    /* "%.64s" of this Content-Type cuts its 22nd character in two. */
    static const char *const long_type = "text/信信信信信信信信信信信信信信信信信信信信信信";
    req_t r[] = {
        {.method = "POST",
         .path = "/v1/items",
         .ctype = "application/json",
         .body = good,
         .len = sizeof good - 1},
        {.method = "POST",
         .path = "/v1/items",
         .ctype = "application/json; charset=utf-8",
         .body = good,
         .len = sizeof good - 1},
        {.method = "POST",
         .path = "/v1/items",
         .ctype = "application/json",
         .body = bad,
         .len = sizeof bad - 1},
        {.method = "POST",
         .path = "/v1/items",
         .ctype = "text/plain",
         .body = good,
         .len = sizeof good - 1},
        {.method = "POST", .path = "/v1/items", .ctype = "application/json", .body = "", .len = 0},
        {.method = "POST",
         .path = "/v1/items",
         .ctype = "application/json",
         .body = arr,
         .len = sizeof arr - 1},
        {.method = "POST",
         .path = "/v1/items",
         .ctype = "application/json",
         .body = dup,
         .len = sizeof dup - 1},
        {.method = "POST",
         .path = "/v1/items",
         .ctype = "application/x-www-form-urlencoded",
         .body = "a=b",
         .len = 3},
        {.method = "POST",
         .path = "/v1/items",
         .ctype = "application/json",
         .body = cut,
         .len = sizeof cut - 1},
        {.method = "POST", .path = "/v1/items", .ctype = long_type, .body = good, .len = 3},
    };
    s_client(s, r, 10);
    s_srv_run(s);
    assert_int_equal(r[0].status, 201);
    json_t *j = s_json(&r[0]);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "got"), "title")),
                        "路灯");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "got"), "n")), 3);
    json_decref(j);
    assert_int_equal(r[1].status, 201);
    s_assert_error(&r[2], 400);
    assert_non_null(strstr(r[2].resp, "malformed JSON"));
    s_assert_error(&r[3], 415);
    assert_non_null(strstr(r[3].resp, "text/plain"));
    s_assert_error(&r[4], 400);
    s_assert_error(&r[5], 400);
    s_assert_error(&r[6], 400);
    s_assert_error(&r[7], 415);
    /* Both once answered "{}": the message was not UTF-8, so jansson
     * would not pack it (found by fuzz_appeal_json). */
    s_assert_error(&r[8], 400);
    assert_non_null(strstr(r[8].resp, "malformed JSON"));
    s_assert_error(&r[9], 415);
    assert_non_null(strstr(r[9].resp, "text/信"));
    s_srv_free(s, r, 10);
}

static void test_suspend_and_reply_later(void **state)
{
    (void)state;
    srv_t *s = s_srv_new(true);
    req_t r[] = {
        {.method = "GET", .path = "/slow"},
        {.method = "GET", .path = "/slow"},
        {.method = "GET", .path = "/healthz"},
    };
    s_client(s, r, 3);
    s_srv_run(s);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(r[i].status, 200);
        assert_true(r[i].secs >= 0.09);
        assert_string_equal(r[i].x_test, "late");
        json_t *j = s_json(&r[i]);
        assert_true(json_is_true(json_object_get(j, "slow")));
        json_decref(j);
    }
    assert_int_equal(r[2].status, 200);
    assert_int_equal(s->slow_replies, 2);
    s_srv_free(s, r, 3);
}

static void test_many_suspended_at_once(void **state)
{
    (void)state;
    srv_t *s = s_srv_new(true);
    req_t r[8][2];
    memset(r, 0, sizeof r);
    for (int c = 0; c < 8; c++) {
        r[c][0] = (req_t){.method = "GET", .path = "/slow"};
        r[c][1] = (req_t){.method = "GET", .path = "/slow"};
        s_client(s, r[c], 2);
    }
    s_srv_run(s);
    for (int c = 0; c < 8; c++)
        for (int i = 0; i < 2; i++)
            assert_int_equal(r[c][i].status, 200);
    assert_int_equal(s->slow_replies, 16);
    s_srv_free(s, &r[0][0], 16);
}

static void test_reply_inside_handler_after_suspend(void **state)
{
    (void)state;
    srv_t *s = s_srv_new(true);
    /* One keep-alive connection: the synchronous reply must not leave the
     * connection in a state that breaks the next suspended request. */
    req_t r[] = {
        {.method = "GET", .path = "/sync"}, {.method = "GET", .path = "/slow"},
        {.method = "GET", .path = "/sync"}, {.method = "GET", .path = "/healthz"},
        {.method = "GET", .path = "/slow"},
    };
    s_client(s, r, 5);
    s_srv_run(s);
    s_assert_error(&r[0], 503);
    assert_int_equal(r[1].status, 200);
    assert_non_null(strstr(r[1].resp, "slow"));
    s_assert_error(&r[2], 503);
    assert_int_equal(r[3].status, 200);
    assert_int_equal(r[4].status, 200);
    assert_int_equal(s->slow_replies, 2);
    s_srv_free(s, r, 5);
}

static void test_503_says_when_to_retry(void **state)
{
    (void)state;
    srv_t *s = s_srv_new(false);
    req_t r[] = {{.method = "GET", .path = "/sync"},
                 {.method = "GET", .path = "/readyz"},
                 {.method = "GET", .path = "/busy"},
                 {.method = "GET", .path = "/healthz"}};
    s_client(s, r, 4);
    s_srv_run(s);
    /* A 503 without a Retry-After of its own gets one, once. */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(r[i].status, 503);
        assert_int_equal(r[i].retry_afters, 1);
        assert_string_equal(r[i].retry_after, "1");
    }
    /* The handler's own value stands, alone. */
    assert_int_equal(r[2].status, 503);
    assert_int_equal(r[2].retry_afters, 1);
    assert_string_equal(r[2].retry_after, "7");
    assert_int_equal(r[3].retry_afters, 0);
    s_srv_free(s, r, 4);
}

static void test_handler_without_reply(void **state)
{
    (void)state;
    srv_t *s = s_srv_new(true);
    req_t r[] = {{.method = "GET", .path = "/noreply"}, {.method = "GET", .path = "/healthz"}};
    s_client(s, r, 2);
    s_srv_run(s);
    s_assert_error(&r[0], 500);
    assert_int_equal(r[1].status, 200);
    s_srv_free(s, r, 2);
}

static void test_body_limit(void **state)
{
    (void)state;
    srv_t *s = s_srv_new(true);
    const size_t big = 10 * 1024 * 1024;
    req_t r[] = {
        /* Content-Length over the limit, body streamed at once. */
        {.method = "POST", .path = "/v1/upload", .mode = S_BODY_STREAM, .len = big, .fresh = true},
        /* The same with Expect: 100-continue: not a byte of body is sent. */
        {.method = "POST", .path = "/v1/upload", .mode = S_BODY_EXPECT, .len = big, .fresh = true},
        /* No Content-Length (chunked): refused once the limit is passed. */
        {.method = "POST",
         .path = "/v1/upload",
         .mode = S_BODY_CHUNKED,
         .len = 2 * S_LIMIT,
         .fresh = true},
        /* Under the limit, and exactly at it: accepted whole. */
        {.method = "POST",
         .path = "/v1/upload",
         .mode = S_BODY_STREAM,
         .len = 500000,
         .fresh = true},
        {.method = "POST",
         .path = "/v1/upload",
         .mode = S_BODY_CHUNKED,
         .len = S_LIMIT,
         .fresh = true},
        {.method = "GET", .path = "/metrics", .fresh = true},
    };
    s_client(s, r, 6);
    s_srv_run(s);
    for (int i = 0; i < 3; i++) {
        if (r[i].status != 413)
            fail_msg("request %d: status %ld (curl %d), want 413", i, r[i].status, r[i].curl_rc);
        assert_non_null(strstr(r[i].resp, "\"status\":413"));
    }
    /* The server answered without taking the body. */
    assert_true(r[0].uploaded < (long long)big);
    assert_true(r[0].secs < 5);
    assert_int_equal(r[1].uploaded, 0);
    assert_int_equal(r[3].status, 200);
    assert_non_null(strstr(r[3].resp, "\"len\":500000"));
    assert_int_equal(r[4].status, 200);
    assert_non_null(strstr(r[4].resp, "\"len\":1048576"));
    assert_non_null(strstr(r[5].resp, "hl_http_body_too_large_total 3\n"));
    s_srv_free(s, r, 6);
}

static void s_quiesce_phase(srv_t *s)
{
    hl_http_quiesce(s->http);
}

static void test_quiesce(void **state)
{
    (void)state;
    srv_t *s = s_srv_new(true);
    s->on_phase = s_quiesce_phase;
    req_t r[] = {
        {.method = "GET", .path = "/healthz"},
        /* After quiesce: no new connections. */
        {.method = "GET", .path = "/healthz", .fresh = true, .wait_phase = true},
    };
    s_client(s, r, 2);
    s_srv_run(s);
    assert_int_equal(s->phases_done, 1);
    assert_int_equal(r[0].status, 200);
    assert_int_equal(r[1].status, 0);
    assert_int_not_equal(r[1].curl_rc, 0);
    s_srv_free(s, r, 2);
}

static void s_readyz_phase(srv_t *s)
{
    (void)s;
}

static void test_draining_not_ready(void **state)
{
    (void)state;
    /* A connection opened before the quiesce still gets answers, and
     * /readyz says draining. */
    srv_t *s = s_srv_new(true);
    s->on_phase = s_quiesce_phase;
    req_t r[] = {
        {.method = "GET", .path = "/readyz"},
        {.method = "GET", .path = "/readyz", .wait_phase = true},
    };
    s_client(s, r, 2);
    (void)s_readyz_phase;
    s_srv_run(s);
    assert_int_equal(r[0].status, 200);
    assert_int_equal(r[1].status, 503);
    json_t *j = s_json(&r[1]);
    assert_true(json_is_true(json_object_get(j, "draining")));
    json_decref(j);
    s_srv_free(s, r, 2);
}

static void test_bind_failures(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    int port = hl_test_free_ports(1);
    hl_http_cfg_t cfg = {.addr = "127.0.0.1",
                         .port = port,
                         .body_limit = 1024,
                         .conn_limit = 8,
                         .timeout_s = 5,
                         .service = "x"};
    hl_http_t *a = hl_http_new(&loop, &cfg, NULL, 0);
    assert_non_null(a);
    /* The port is taken. */
    assert_null(hl_http_new(&loop, &cfg, NULL, 0));
    cfg.addr = "not-an-address";
    assert_null(hl_http_new(&loop, &cfg, NULL, 0));
    hl_http_quiesce(a);
    hl_http_quiesce(a); /* twice is harmless */
    hl_http_destroy(&a);
    assert_null(a);
    hl_http_destroy(&a); /* NULL is harmless */
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    hl_metrics_reset();
}

static void test_destroy_with_suspended_request(void **state)
{
    (void)state;
    /* What a drain that timed out does: destroy while a request is still
     * suspended, and its database callback replies afterwards. */
    srv_t *s = s_srv_new(true);
    s->force_destroy = true;
    s_hung = NULL;
    req_t r[] = {{.method = "GET", .path = "/hang", .timeout_ms = 300}};
    s_client(s, r, 1);
    /* The client gives up after its own timeout. */
    for (int i = 0; i < s->nclients; i++)
        assert_int_equal(pthread_create(&s->threads[i], NULL, s_client_main, &s->clients[i]), 0);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    pthread_join(s->threads[0], NULL);
    assert_non_null(s_hung);
    assert_int_equal(s->active_at_end, 1);
    hl_http_reply_error(s_hung, 503, NULL, "shutting down");
    uv_run(&s->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&s->loop), 0);
    s_srv_free(s, r, 1);
}

int main(void)
{
    hl_log_init("test_http", HL_LOG_ERROR);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_endpoints),
        cmocka_unit_test(test_readyz_not_ready),
        cmocka_unit_test(test_not_found_and_not_allowed),
        cmocka_unit_test(test_params_decoded),
        cmocka_unit_test(test_json_body),
        cmocka_unit_test(test_suspend_and_reply_later),
        cmocka_unit_test(test_many_suspended_at_once),
        cmocka_unit_test(test_reply_inside_handler_after_suspend),
        cmocka_unit_test(test_503_says_when_to_retry),
        cmocka_unit_test(test_handler_without_reply),
        cmocka_unit_test(test_body_limit),
        cmocka_unit_test(test_quiesce),
        cmocka_unit_test(test_draining_not_ready),
        cmocka_unit_test(test_bind_failures),
        cmocka_unit_test(test_destroy_with_suspended_request),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
