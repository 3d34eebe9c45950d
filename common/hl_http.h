/* hl_http: the HTTP front of every daemon, libmicrohttpd on the libuv loop.
 *
 * libmicrohttpd runs without threads of its own (MHD_USE_EPOLL): its epoll fd
 * sits on the loop under uv_poll and MHD_run() does the work whenever it is
 * readable or MHD's timeout falls due. A handler either replies at once or
 * suspends the request (hl_http_suspend) and replies later, typically from
 * a database callback after its transaction committed; replying resumes the
 * connection, and MHD's inter-thread channel (in the same epoll set) wakes
 * the loop to send it.
 *
 * Bodies over the configured limit are refused with 413 as soon as the
 * Content-Length says so, before a byte of the body is kept. Every error is
 * JSON: {"error": {"status": 422, "field": "channel", "message": "..."}}.
 * /healthz, /readyz and /metrics are built in. */
#ifndef HL_HTTP_H
#define HL_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

typedef struct hl_http hl_http_t;
typedef struct hl_http_req hl_http_req_t;

/* Handles a request; must reply or suspend before returning. */
typedef void(hl_http_handler_fn)(hl_http_req_t *req, void *arg);

typedef struct {
    const char *method;     /* "GET", "POST", ... */
    const char *pattern;    /* "/v1/appeals/{}": {} matches one path segment */
    hl_http_handler_fn *fn; /* the handler */
    void *arg;              /* passed to fn */
} hl_http_route_t;

typedef struct {
    const char *addr;     /* listen address, e.g. "0.0.0.0" */
    int port;             /* listen port */
    long long body_limit; /* largest request body accepted, bytes */
    int conn_limit;       /* most concurrent connections */
    int timeout_s;        /* idle connection timeout */
    const char *service;  /* for /healthz */
    /* Readiness: return true when the daemon can do its work; may add detail. */
    bool (*ready)(void *arg, json_t *detail);
    void *ready_arg;
} hl_http_cfg_t;

/* Starts listening. Routes are copied. Returns NULL (logged) when the
 * address cannot be bound. */
hl_http_t *hl_http_new(uv_loop_t *loop, const hl_http_cfg_t *cfg, const hl_http_route_t *routes,
                       size_t nroutes);
/* Stops accepting new connections; requests in progress finish. */
void hl_http_quiesce(hl_http_t *http);
/* Requests accepted and not yet completed. */
int hl_http_active(const hl_http_t *http);
/* Stops the server; call once hl_http_active() is 0. Frees it later. */
void hl_http_destroy(hl_http_t **http);

/* Request accessors. Strings are owned by the request. */
const char *hl_http_method(const hl_http_req_t *req);
const char *hl_http_path(const hl_http_req_t *req);
/* The i-th {} segment of the route pattern (URL-decoded), or NULL. */
const char *hl_http_param(const hl_http_req_t *req, int i);
const char *hl_http_query(const hl_http_req_t *req, const char *key);
const char *hl_http_header(const hl_http_req_t *req, const char *name);
const char *hl_http_body(const hl_http_req_t *req, size_t *len);
/* The client's address as text (for logs and rate limits). */
const char *hl_http_peer(const hl_http_req_t *req);
/* A JSON string of `s` with every byte that is not UTF-8 made '?'
 * (hl_utf8_repair): for messages that quote what a client sent, which
 * json_string and json_pack would refuse, and the reply lose its body. */
json_t *hl_json_text(const char *s);
/* Parses the body as a JSON object. On failure replies 400/415 itself and
 * returns NULL. The caller owns the result. */
json_t *hl_http_json_body(hl_http_req_t *req);
/* The parse of hl_http_json_body: `len` bytes of `data` as a JSON object
 * (duplicate keys refused). Returns it (the caller owns it), or NULL with
 * the 400 reply's message in `err`. Pure. */
json_t *hl_http_json_parse(const char *data, size_t len, char *err, size_t errlen);

/* Replies; each steals `body`. Safe from a handler or, after suspend, from
 * any loop callback. Exactly one reply per request. A 503 gets
 * "Retry-After: 1" unless the handler added its own. */
void hl_http_reply_json(hl_http_req_t *req, int status, json_t *body);
void hl_http_reply_raw(hl_http_req_t *req, int status, const char *content_type, char *body,
                       size_t len);
/* {"error":{"status":status,"field":field,"message":...}}; field may be NULL. */
void hl_http_reply_error(hl_http_req_t *req, int status, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The error body {"error":{"status","field","message"}} hl_http_reply_error
 * sends (field left out when NULL; both made UTF-8). The caller owns it. */
json_t *hl_http_error_json(int status, const char *field, const char *message);
/* Adds a response header (call before replying). */
void hl_http_add_header(hl_http_req_t *req, const char *name, const char *value);
/* Marks the request as answered later. */
void hl_http_suspend(hl_http_req_t *req);

#endif
