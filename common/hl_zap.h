/* hl_zap: the ZAP handler that decides which daemons may talk to a bus.
 *
 * CURVE (hl_curve.h) encrypts and proves the server's identity; it does not
 * by itself say which clients are welcome. That is ZAP (ZeroMQ RFC 27):
 * libzmq asks the socket bound at "inproc://zeromq.zap.01" in the same
 * context about every handshake. hl_zap_t is that socket, a REP on the
 * libuv loop through hl_zsock (no thread), answering 200 for a public key
 * it was given and 400 for any other, which it logs (the key in Z85) and
 * counts. A denied peer's handshake fails, so it delivers nothing and
 * receives nothing. */
#ifndef HL_ZAP_H
#define HL_ZAP_H

#include "hl_curve.h"
#include "hl_metrics.h"
#include "hl_zsock.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* The ZAP handler. */
typedef struct {
    hl_zsock_t sock;                        /* REP bound to inproc://zeromq.zap.01 */
    uint8_t (*keys)[32];                    /* admitted public keys, binary, owned */
    size_t nkeys;                           /* entries in keys */
    hl_metric_t *allowed;                   /* hl_zap_allowed_total */
    hl_metric_t *denied;                    /* hl_zap_denied_total */
    char *frames[7];                        /* the request being read, owned */
    size_t frame_len[7];                    /* their lengths */
    int nframes;                            /* frames read of the current request */
    bool overflow;                          /* the request had more than 7 frames */
    uint64_t last_log_ms;                   /* when a denial was last logged */
    char last_denied[HL_CURVE_KEY_LEN + 1]; /* the key last logged */
} hl_zap_t;

/* Binds the handler in `zctx` (before any CURVE server socket of that
 * context binds) and admits the Z85 keys in every *.pub file of `dir`.
 * `metric_prefix` names the counters, e.g. "hl_bus" gives
 * hl_bus_zap_denied_total. Returns 0, HL_EIO (dir unreadable),
 * HL_EINVAL (a bad key file) or HL_EZMQ. */
int hl_zap_init(hl_zap_t *zap, uv_loop_t *loop, void *zctx, const char *dir,
                const char *metric_prefix);
/* Adds one admitted key (Z85). Returns 0 or HL_EINVAL. */
int hl_zap_allow(hl_zap_t *zap, const char *z85);
/* Closes the socket; frees the key list. */
void hl_zap_close(hl_zap_t *zap);

#endif
