/* hl_fetch: outbound HTTP requests on the libuv loop through libcurl's
 * multi interface (curl_multi_socket_action): curl's sockets sit under
 * uv_poll and its timeout under a uv_timer, so a slow or silent peer never
 * blocks the loop and no thread is needed. hl-alliance delivers the city
 * platform's webhooks with it.
 *
 * Each request has its own overall timeout; its done callback runs exactly
 * once, on the loop, with the HTTP status (0 when there was no answer:
 * refused, reset, timed out) and libcurl's error text. The response body is
 * read and dropped (at most HL_FETCH_BODY_MAX bytes are read). */
#ifndef HL_FETCH_H
#define HL_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#define HL_FETCH_BODY_MAX 65536 /* bytes of a response read before it is cut */

typedef struct hl_fetch hl_fetch_t;

/* The end of one request: `status` is the HTTP status, or 0 with `error`
 * set when there was no complete answer. `error` is valid during the call. */
typedef void(hl_fetch_done_fn)(void *arg, long status, const char *error);

/* Creates the client on `loop`. The caller owns it (hl_fetch_destroy). */
hl_fetch_t *hl_fetch_new(uv_loop_t *loop);
/* Ends every request in flight (their callbacks run with status 0, error
 * "shutting down"), frees the client once its handles closed, NULLs *f. */
void hl_fetch_destroy(hl_fetch_t **f);
/* Requests in flight. */
size_t hl_fetch_active(const hl_fetch_t *f);

/* POSTs `len` bytes of `body` to `url` with the NULL-ended "Name: value"
 * `headers` (copied), giving up after `timeout_ms`. Returns 0, or an HL_E*
 * code when the request could not even start (done is then not called). */
int hl_fetch_post(hl_fetch_t *f, const char *url, const char *const *headers, const char *body,
                  size_t len, long timeout_ms, hl_fetch_done_fn *done, void *arg);

#endif
