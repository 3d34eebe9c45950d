/* hl_fetch: libcurl's multi interface on the libuv loop (see hl_fetch.h).
 *
 * curl tells us which sockets to watch (s_socket_cb) and when to call it
 * back (s_timer_cb); uv_poll and a uv_timer report those events to
 * curl_multi_socket_action, and finished transfers are collected from
 * curl_multi_info_read. A socket's poll handle lives in a small struct
 * freed in its close callback, as libuv requires. */
#include "hl_fetch.h"

#include "hl_alloc.h"
#include "hl_err.h"
#include "hl_log.h"

#include <assert.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hl_fetch {
    uv_loop_t *loop;      /* not owned */
    CURLM *multi;         /* curl's multi handle */
    uv_timer_t timer;     /* curl's timeout */
    size_t active;        /* transfers in flight */
    struct s_xfer *first; /* list of them */
    bool closing;         /* hl_fetch_destroy called */
    int handles_open;     /* uv handles not yet closed (the timer and sockets) */
};

/* One transfer. */
typedef struct s_xfer {
    hl_fetch_t *f;               /* owner */
    struct s_xfer *prev, *next;  /* f->first's list */
    CURL *easy;                  /* the transfer */
    struct curl_slist *headers;  /* owned */
    char *body;                  /* copy of the request body, owned */
    size_t received;             /* response bytes read */
    hl_fetch_done_fn *done;      /* called once */
    void *arg;                   /* for done */
    char error[CURL_ERROR_SIZE]; /* libcurl's message */
} s_xfer_t;

/* One socket curl asked us to watch. */
typedef struct {
    hl_fetch_t *f;    /* owner */
    uv_poll_t poll;   /* the watch */
    curl_socket_t fd; /* the socket */
} s_sock_t;

static void s_maybe_free(hl_fetch_t *f)
{
    if (f->closing && f->handles_open == 0) {
        curl_multi_cleanup(f->multi);
        free(f);
    }
}

static void s_handle_closed(uv_handle_t *h)
{
    hl_fetch_t *f = h->data;
    f->handles_open--;
    s_maybe_free(f);
}

static void s_sock_closed(uv_handle_t *h)
{
    s_sock_t *s = h->data;
    hl_fetch_t *f = s->f;
    free(s);
    f->handles_open--;
    s_maybe_free(f);
}

static void s_finish(s_xfer_t *x, long status, const char *error)
{
    hl_fetch_t *f = x->f;
    if (x->prev)
        x->prev->next = x->next;
    else
        f->first = x->next;
    if (x->next)
        x->next->prev = x->prev;
    curl_multi_remove_handle(f->multi, x->easy);
    curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->headers);
    free(x->body);
    f->active--;
    hl_fetch_done_fn *done = x->done;
    void *arg = x->arg;
    /* `error` may point into x: keep a copy past the free. */
    char copy[CURL_ERROR_SIZE];
    if (error)
        snprintf(copy, sizeof copy, "%s", error);
    free(x);
    done(arg, status, error ? copy : NULL);
}

static void s_check_done(hl_fetch_t *f)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(f->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        s_xfer_t *x = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        long status = 0;
        const char *error = NULL;
        if (msg->data.result == CURLE_OK) {
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        } else {
            error = x->error[0] ? x->error : curl_easy_strerror(msg->data.result);
        }
        s_finish(x, status, error);
    }
}

static void s_poll_cb(uv_poll_t *p, int status, int events)
{
    s_sock_t *s = p->data;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    int running;
    hl_fetch_t *f = s->f;
    curl_multi_socket_action(f->multi, s->fd, flags, &running);
    s_check_done(f);
}

static int s_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    hl_fetch_t *f = userp;
    s_sock_t *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            uv_poll_stop(&s->poll);
            curl_multi_assign(f->multi, fd, NULL);
            uv_close((uv_handle_t *)&s->poll, s_sock_closed);
        }
        return 0;
    }
    if (!s) {
        s = hl_calloc(1, sizeof *s);
        s->f = f;
        s->fd = fd;
        if (uv_poll_init_socket(f->loop, &s->poll, fd) != 0) {
            free(s);
            return -1;
        }
        s->poll.data = s;
        f->handles_open++;
        curl_multi_assign(f->multi, fd, s);
    }
    int events = 0;
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    uv_poll_start(&s->poll, events, s_poll_cb);
    return 0;
}

static void s_timeout_cb(uv_timer_t *t)
{
    hl_fetch_t *f = t->data;
    int running;
    curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    s_check_done(f);
}

static int s_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    hl_fetch_t *f = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&f->timer);
    else
        uv_timer_start(&f->timer, s_timeout_cb, (uint64_t)timeout_ms, 0);
    return 0;
}

static size_t s_write_cb(char *data, size_t size, size_t n, void *userp)
{
    (void)data;
    s_xfer_t *x = userp;
    x->received += size * n;
    /* Returning less than given ends the transfer: a response this large
     * is not a webhook acknowledgement. */
    return x->received > HL_FETCH_BODY_MAX ? 0 : size * n;
}

hl_fetch_t *hl_fetch_new(uv_loop_t *loop)
{
    static bool s_global;
    if (!s_global) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        s_global = true;
    }
    hl_fetch_t *f = hl_calloc(1, sizeof *f);
    f->loop = loop;
    f->multi = curl_multi_init();
    if (!f->multi)
        abort();
    uv_timer_init(loop, &f->timer);
    f->timer.data = f;
    f->handles_open = 1;
    curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, s_socket_cb);
    curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f);
    curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, s_timer_cb);
    curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f);
    return f;
}

size_t hl_fetch_active(const hl_fetch_t *f)
{
    return f->active;
}

int hl_fetch_post(hl_fetch_t *f, const char *url, const char *const *headers, const char *body,
                  size_t len, long timeout_ms, hl_fetch_done_fn *done, void *arg)
{
    assert(f && url && done);
    if (f->closing)
        return HL_ESHUTDOWN;
    s_xfer_t *x = hl_calloc(1, sizeof *x);
    x->f = f;
    x->done = done;
    x->arg = arg;
    x->body = hl_malloc(len ? len : 1);
    if (len)
        memcpy(x->body, body, len);
    x->easy = curl_easy_init();
    if (!x->easy)
        abort();
    for (const char *const *h = headers; h && *h; h++)
        x->headers = curl_slist_append(x->headers, *h);
    /* No "Expect: 100-continue" round trip for a small body. */
    x->headers = curl_slist_append(x->headers, "Expect:");
    CURL *e = x->easy;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, s_write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->error);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "hongling/1");
    if (curl_multi_add_handle(f->multi, e) != CURLM_OK) {
        curl_easy_cleanup(e);
        curl_slist_free_all(x->headers);
        free(x->body);
        free(x);
        return HL_EIO;
    }
    f->active++;
    x->next = f->first;
    if (x->next)
        x->next->prev = x;
    f->first = x;
    return 0;
}

void hl_fetch_destroy(hl_fetch_t **fp)
{
    hl_fetch_t *f = *fp;
    *fp = NULL;
    if (!f)
        return;
    f->closing = true;
    /* Every transfer still in flight ends now; removing its easy handle
     * makes curl call s_socket_cb(REMOVE) for its sockets. */
    while (f->first)
        s_finish(f->first, 0, "shutting down");
    uv_timer_stop(&f->timer);
    uv_close((uv_handle_t *)&f->timer, s_handle_closed);
}
