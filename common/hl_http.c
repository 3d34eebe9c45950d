/* hl_http: libmicrohttpd in external-epoll mode on the libuv loop. */
#include "hl_http.h"

#include "hl_alloc.h"
#include "hl_err.h"
#include "hl_log.h"
#include "hl_metrics.h"
#include "hl_text.h"

#include <arpa/inet.h>
#include <assert.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define HL_HTTP_MAX_PARAMS  4
#define HL_HTTP_MAX_HEADERS 4

struct hl_http {
    uv_loop_t *loop;          /* not owned */
    hl_http_cfg_t cfg;        /* strings not owned */
    hl_http_route_t *routes;  /* owned copy */
    size_t nroutes;           /* count */
    struct MHD_Daemon *mhd;   /* the server */
    uv_poll_t poll;           /* MHD's epoll fd */
    uv_timer_t timer;         /* MHD's timeouts */
    int active;               /* requests in progress */
    hl_http_req_t *reqs;      /* those requests (list) */
    bool stopping;            /* hl_http_destroy running */
    int handles_open;         /* for destroy */
    bool quiesced;            /* no longer accepting */
    hl_metric_t *by_class[6]; /* requests by status class (1xx..5xx) */
    hl_metric_t *refused_big; /* 413s */
    hl_metric_t *latency;     /* request duration */
};

struct hl_http_req {
    hl_http_t *http;                       /* server */
    struct MHD_Connection *conn;           /* not owned */
    char *method;                          /* owned */
    char *path;                            /* owned */
    char *params[HL_HTTP_MAX_PARAMS];      /* owned, decoded */
    hl_buf_t body;                         /* request body */
    bool too_big;                          /* body over the limit */
    bool dispatched;                       /* handler called */
    bool suspended;                        /* waiting for a later reply */
    bool parked;                           /* MHD_suspend_connection called, not resumed */
    bool orphan;                           /* server stopped while a reply was owed */
    hl_http_req_t *prev;                   /* http->reqs list */
    hl_http_req_t *next;                   /* http->reqs list */
    struct MHD_Response *response;         /* ready to queue */
    int status;                            /* its status */
    char *headers[HL_HTTP_MAX_HEADERS][2]; /* extra response headers */
    int nheaders;                          /* used */
    char peer[64];                         /* client address */
    uint64_t start_ns;                     /* arrival */
};

static void s_run(hl_http_t *http);

static void s_poll_cb(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    s_run(h->data);
}

static void s_timer_cb(uv_timer_t *t)
{
    s_run(t->data);
}

static void s_run(hl_http_t *http)
{
    if (!http->mhd)
        return;
    MHD_run(http->mhd);
    MHD_UNSIGNED_LONG_LONG ms;
    if (MHD_get_timeout(http->mhd, &ms) == MHD_YES)
        uv_timer_start(&http->timer, s_timer_cb, ms, 0);
    else
        uv_timer_stop(&http->timer);
}

/* ---- request helpers ---------------------------------------------------- */

const char *hl_http_method(const hl_http_req_t *req)
{
    return req->method;
}

const char *hl_http_path(const hl_http_req_t *req)
{
    return req->path;
}

const char *hl_http_param(const hl_http_req_t *req, int i)
{
    return i >= 0 && i < HL_HTTP_MAX_PARAMS ? req->params[i] : NULL;
}

const char *hl_http_query(const hl_http_req_t *req, const char *key)
{
    return req->conn ? MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key) : NULL;
}

const char *hl_http_header(const hl_http_req_t *req, const char *name)
{
    return req->conn ? MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name) : NULL;
}

const char *hl_http_body(const hl_http_req_t *req, size_t *len)
{
    if (len)
        *len = req->body.len;
    return req->body.data ? req->body.data : "";
}

const char *hl_http_peer(const hl_http_req_t *req)
{
    return req->peer;
}

void hl_http_add_header(hl_http_req_t *req, const char *name, const char *value)
{
    if (req->nheaders == HL_HTTP_MAX_HEADERS)
        return;
    req->headers[req->nheaders][0] = hl_strdup(name);
    req->headers[req->nheaders][1] = hl_strdup(value);
    req->nheaders++;
}

void hl_http_suspend(hl_http_req_t *req)
{
    assert(!req->response);
    req->suspended = true;
}

static void s_req_free(hl_http_req_t *req);

void hl_http_reply_raw(hl_http_req_t *req, int status, const char *content_type, char *body,
                       size_t len)
{
    assert(!req->response);
    if (req->orphan) {
        /* The server stopped meanwhile: nobody to send it to. */
        free(body);
        s_req_free(req);
        return;
    }
    req->response = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(req->response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    bool retry_after = false;
    for (int i = 0; i < req->nheaders; i++) {
        MHD_add_response_header(req->response, req->headers[i][0], req->headers[i][1]);
        retry_after = retry_after || strcasecmp(req->headers[i][0], "Retry-After") == 0;
    }
    /* 503 here always means "try again shortly" (database or bus away,
     * draining): say when, so a client backs off instead of hammering or
     * giving up, even where a handler did not set it. */
    if (status == 503 && !retry_after)
        MHD_add_response_header(req->response, "Retry-After", "1");
    req->status = status;
    req->suspended = false;
    /* Resume only what MHD suspended: a handler that suspends and then
     * replies before returning (its unit failed at once) never was, and
     * resuming it anyway leaves MHD's "resuming" flag set on the
     * connection, which makes the next suspend on it a no-op. */
    if (req->parked) {
        req->parked = false;
        MHD_resume_connection(req->conn);
        /* Let MHD see the resumed connection on the next loop turn. */
        uv_timer_start(&req->http->timer, s_timer_cb, 0, 0);
    }
}

void hl_http_reply_json(hl_http_req_t *req, int status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!text)
        text = hl_strdup("{}");
    size_t len = strlen(text);
    /* A trailing newline makes curl output readable. */
    char *withnl = hl_realloc(text, len + 2);
    withnl[len] = '\n';
    withnl[len + 1] = '\0';
    hl_http_reply_raw(req, status, "application/json; charset=utf-8", withnl, len + 1);
}

void hl_http_reply_error(hl_http_req_t *req, int status, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    hl_http_reply_json(req, status, hl_http_error_json(status, field, msg));
}

json_t *hl_http_error_json(int status, const char *field, const char *message)
{
    json_t *err = json_pack("{s:i, s:o}", "status", status, "message", hl_json_text(message));
    if (field)
        json_object_set_new(err, "field", hl_json_text(field));
    return json_pack("{s:o}", "error", err);
}

json_t *hl_json_text(const char *s)
{
    char *text = hl_strdup(s);
    hl_utf8_repair(text);
    json_t *j = json_string(text);
    free(text);
    return j;
}

json_t *hl_http_json_body(hl_http_req_t *req)
{
    const char *ct = hl_http_header(req, "Content-Type");
    if (ct && strncasecmp(ct, "application/json", 16) != 0) {
        hl_http_reply_error(req, 415, NULL, "content type must be application/json, not \"%.64s\"",
                            ct);
        return NULL;
    }
    char err[256];
    json_t *j = hl_http_json_parse(req->body.data, req->body.len, err, sizeof err);
    if (!j)
        hl_http_reply_error(req, 400, NULL, "%s", err);
    return j;
}

json_t *hl_http_json_parse(const char *data, size_t len, char *err, size_t errlen)
{
    if (len == 0) {
        snprintf(err, errlen, "request body is empty");
        return NULL;
    }
    json_error_t jerr;
    json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j) {
        /* jansson quotes the bytes it stumbled on, whatever they are. */
        snprintf(err, errlen, "malformed JSON at line %d column %d: %s", jerr.line, jerr.column,
                 jerr.text);
        hl_utf8_repair(err);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        snprintf(err, errlen, "request body must be a JSON object");
        return NULL;
    }
    return j;
}

/* ---- built-in endpoints ----------------------------------------------- */

static void s_healthz(hl_http_req_t *req, void *arg)
{
    hl_http_t *http = arg;
    hl_http_reply_json(req, 200,
                       json_pack("{s:s, s:s}", "status", "ok", "service",
                                 http->cfg.service ? http->cfg.service : "hl"));
}

static void s_readyz(hl_http_req_t *req, void *arg)
{
    hl_http_t *http = arg;
    json_t *detail = json_object();
    bool ready = http->cfg.ready ? http->cfg.ready(http->cfg.ready_arg, detail) : true;
    if (http->quiesced)
        ready = false, json_object_set_new(detail, "draining", json_true());
    json_object_set_new(detail, "status", json_string(ready ? "ready" : "not ready"));
    hl_http_reply_json(req, ready ? 200 : 503, detail);
}

static void s_metrics(hl_http_req_t *req, void *arg)
{
    (void)arg;
    hl_buf_t b = {0};
    hl_metrics_render(&b);
    if (!b.data)
        hl_buf_append(&b, "", 0);
    hl_http_reply_raw(req, 200, "text/plain; version=0.0.4", b.data, b.len);
}

/* ---- routing ------------------------------------------------------------- */

/* MHD has URL-decoded the path already; decoding again would turn "%2520"
 * into " " instead of "%20". */
static char *s_decode_segment(const char *s, size_t len)
{
    return hl_strndup(s, len);
}

/* Matches `path` against `pattern`; fills req->params on success. */
static bool s_match(const char *pattern, const char *path, hl_http_req_t *req)
{
    char *found[HL_HTTP_MAX_PARAMS] = {0};
    int n = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (p[0] == '{' && p[1] == '}') {
            const char *end = strchr(s, '/');
            size_t len = end ? (size_t)(end - s) : strlen(s);
            if (len == 0 || n == HL_HTTP_MAX_PARAMS)
                goto out_free;
            found[n++] = s_decode_segment(s, len);
            s += len;
            p += 2;
            continue;
        }
        if (*p != *s)
            goto out_free;
        p++, s++;
    }
    if (*p || *s)
        goto out_free;
    for (int i = 0; i < n; i++)
        req->params[i] = found[i];
    return true;
out_free:
    for (int i = 0; i < n; i++)
        free(found[i]);
    return false;
}

static void s_dispatch(hl_http_t *http, hl_http_req_t *req)
{
    static const hl_http_route_t builtin[] = {
        {"GET", "/healthz", s_healthz, NULL},
        {"GET", "/readyz", s_readyz, NULL},
        {"GET", "/metrics", s_metrics, NULL},
    };
    for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
        if (strcmp(req->method, builtin[i].method) == 0 &&
            strcmp(req->path, builtin[i].pattern) == 0) {
            builtin[i].fn(req, http);
            return;
        }
    bool path_known = false;
    for (size_t i = 0; i < http->nroutes; i++) {
        const hl_http_route_t *r = &http->routes[i];
        if (!s_match(r->pattern, req->path, req))
            continue;
        if (strcmp(r->method, req->method) == 0) {
            r->fn(req, r->arg);
            return;
        }
        path_known = true;
        for (int k = 0; k < HL_HTTP_MAX_PARAMS; k++) {
            free(req->params[k]);
            req->params[k] = NULL;
        }
    }
    if (path_known)
        hl_http_reply_error(req, 405, NULL, "method %s is not allowed on %s", req->method,
                            req->path);
    else
        hl_http_reply_error(req, 404, NULL, "no such endpoint: %s %s", req->method, req->path);
}

/* ---- libmicrohttpd callbacks --------------------------------------------- */

static enum MHD_Result s_queue(hl_http_req_t *req)
{
    hl_http_t *http = req->http;
    enum MHD_Result r = MHD_queue_response(req->conn, (unsigned)req->status, req->response);
    MHD_destroy_response(req->response);
    req->response = NULL;
    int cls = req->status / 100;
    if (cls >= 1 && cls <= 5)
        hl_metric_add(http->by_class[cls], 1);
    hl_metric_observe(http->latency, (double)(uv_hrtime() - req->start_ns) / 1e9);
    return r;
}

static hl_http_req_t *s_req_new(hl_http_t *http, struct MHD_Connection *conn, const char *url,
                                const char *method)
{
    hl_http_req_t *req = hl_calloc(1, sizeof *req);
    req->http = http;
    req->conn = conn;
    req->method = hl_strdup(method);
    req->path = hl_strdup(url);
    req->start_ns = uv_hrtime();
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, req->peer,
                  sizeof req->peer);
    else if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, req->peer,
                  sizeof req->peer);
    req->next = http->reqs;
    if (http->reqs)
        http->reqs->prev = req;
    http->reqs = req;
    http->active++;
    return req;
}

static enum MHD_Result s_access(void *cls, struct MHD_Connection *conn, const char *url,
                                const char *method, const char *version, const char *upload_data,
                                size_t *upload_data_size, void **con_cls)
{
    hl_http_t *http = cls;
    hl_http_req_t *req = *con_cls;
    (void)version;
    if (!req) {
        req = s_req_new(http, conn, url, method);
        *con_cls = req;
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoll(cl, NULL, 10) > http->cfg.body_limit) {
            /* Refused before the body is read: MHD closes the connection
             * after this response instead of reading what remains. */
            hl_metric_add(http->refused_big, 1);
            req->dispatched = true;
            hl_http_reply_error(req, 413, NULL,
                                "request body of %s bytes exceeds the limit of %lld", cl,
                                http->cfg.body_limit);
            return s_queue(req);
        }
        return MHD_YES;
    }
    if (req->response) {
        *upload_data_size = 0;
        return s_queue(req);
    }
    if (*upload_data_size) {
        if (!req->too_big && req->body.len + *upload_data_size > (size_t)http->cfg.body_limit) {
            req->too_big = true;
            hl_buf_close(&req->body);
        }
        if (!req->too_big)
            hl_buf_append(&req->body, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->dispatched) {
        if (http->stopping)
            return MHD_NO; /* resumed by hl_http_destroy: its reply comes later */
        /* Resumed without a response cannot happen; answer rather than hang. */
        hl_http_reply_error(req, 500, NULL, "internal error: no response");
        return s_queue(req);
    }
    req->dispatched = true;
    if (req->too_big) {
        hl_metric_add(http->refused_big, 1);
        hl_http_reply_error(req, 413, NULL, "request body exceeds the limit of %lld bytes",
                            http->cfg.body_limit);
    } else {
        s_dispatch(http, req);
    }
    if (req->response)
        return s_queue(req);
    if (!req->suspended) {
        hl_http_reply_error(req, 500, NULL, "internal error: handler gave no response");
        return s_queue(req);
    }
    req->parked = true;
    MHD_suspend_connection(conn);
    return MHD_YES;
}

static void s_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                        enum MHD_RequestTerminationCode toe)
{
    hl_http_t *http = cls;
    hl_http_req_t *req = *con_cls;
    (void)conn;
    (void)toe;
    if (!req)
        return;
    *con_cls = NULL;
    if (req->prev)
        req->prev->next = req->next;
    else
        http->reqs = req->next;
    if (req->next)
        req->next->prev = req->prev;
    http->active--;
    if (req->suspended && !req->response) {
        /* Closed by hl_http_destroy while its handler still owes the reply
         * (a drain that timed out): keep the request, unusable, until that
         * reply arrives and frees it. */
        req->orphan = true;
        req->conn = NULL;
        req->http = NULL;
        return;
    }
    s_req_free(req);
}

static void s_req_free(hl_http_req_t *req)
{
    if (req->response)
        MHD_destroy_response(req->response);
    for (int i = 0; i < HL_HTTP_MAX_PARAMS; i++)
        free(req->params[i]);
    for (int i = 0; i < req->nheaders; i++) {
        free(req->headers[i][0]);
        free(req->headers[i][1]);
    }
    hl_buf_close(&req->body);
    free(req->method);
    free(req->path);
    free(req);
}

static void s_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = '\0';
    hl_warn("http", NULL, "libmicrohttpd: %s", msg);
}

hl_http_t *hl_http_new(uv_loop_t *loop, const hl_http_cfg_t *cfg, const hl_http_route_t *routes,
                       size_t nroutes)
{
    assert(loop && cfg);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)cfg->port);
    if (inet_pton(AF_INET, cfg->addr, &sa.sin_addr) != 1) {
        hl_error("http", cfg->addr, "could not parse listen address \"%s\"", cfg->addr);
        return NULL;
    }
    hl_http_t *http = hl_calloc(1, sizeof *http);
    http->loop = loop;
    http->cfg = *cfg;
    http->routes = hl_malloc((nroutes ? nroutes : 1) * sizeof *routes);
    if (nroutes)
        memcpy(http->routes, routes, nroutes * sizeof *routes);
    http->nroutes = nroutes;
    for (int c = 1; c <= 5; c++) {
        char l[32];
        snprintf(l, sizeof l, "class=\"%dxx\"", c);
        http->by_class[c] =
            hl_metric_counter("hl_http_requests_total", "HTTP requests answered", l);
    }
    http->refused_big =
        hl_metric_counter("hl_http_body_too_large_total",
                          "Requests refused because the body exceeded the limit", NULL);
    http->latency = hl_metric_histogram("hl_http_request_seconds",
                                        "Time from request arrival to response queued", NULL);
    /* No MHD_OPTION_LISTENING_ADDRESS_REUSE: on Linux it sets SO_REUSEPORT,
     * so a second daemon on the same port would start silently and share
     * its connections; MHD's default SO_REUSEADDR allows a quick restart. */
    http->mhd = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, (uint16_t)cfg->port, NULL,
        NULL, s_access, http, MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, NULL, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, s_completed, http,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->conn_limit, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)cfg->timeout_s, MHD_OPTION_END);
    if (!http->mhd) {
        hl_error("http", cfg->addr, "could not listen on %s:%d", cfg->addr, cfg->port);
        free(http->routes);
        free(http);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(http->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    uv_poll_init(loop, &http->poll, info->epoll_fd);
    uv_timer_init(loop, &http->timer);
    http->poll.data = http;
    http->timer.data = http;
    http->handles_open = 2;
    uv_poll_start(&http->poll, UV_READABLE, s_poll_cb);
    s_run(http);
    return http;
}

void hl_http_quiesce(hl_http_t *http)
{
    if (http->quiesced)
        return;
    http->quiesced = true;
    MHD_socket fd = MHD_quiesce_daemon(http->mhd);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
}

int hl_http_active(const hl_http_t *http)
{
    return http->active;
}

static void s_closed(uv_handle_t *h)
{
    hl_http_t *http = h->data;
    if (--http->handles_open == 0) {
        free(http->routes);
        free(http);
    }
}

void hl_http_destroy(hl_http_t **hp)
{
    hl_http_t *http = *hp;
    if (!http)
        return;
    *hp = NULL;
    uv_poll_stop(&http->poll);
    uv_timer_stop(&http->timer);
    /* MHD aborts the process when stopped with suspended connections. Those
     * still waiting for a reply (a drain that timed out) are resumed so MHD
     * can close them; their requests live on as orphans until replied to. */
    http->stopping = true;
    for (hl_http_req_t *r = http->reqs; r; r = r->next)
        if (r->parked) {
            r->parked = false;
            MHD_resume_connection(r->conn);
        }
    MHD_stop_daemon(http->mhd);
    http->mhd = NULL;
    uv_close((uv_handle_t *)&http->poll, s_closed);
    uv_close((uv_handle_t *)&http->timer, s_closed);
}
