/* hl_curve: CurveZMQ on the pipeline's hops (the ZAP handler that decides
 * which daemons may talk to a bus is hl_zap.h).
 *
 * Keys are Z85 text files of 40 characters (`hlctl keygen NAME` writes
 * NAME.key, the secret, mode 0600, and NAME.pub). Every hl-bus is the CURVE
 * server on all its sockets, with one key pair the buses share; every daemon
 * is a CURVE client with its own key pair and the buses' public key. Without
 * keys configured nothing changes: plain TCP, as before.
 *
 * CURVE encrypts and proves the server's identity; it does not by itself say
 * which clients are welcome. That is ZAP (ZeroMQ RFC 27): libzmq asks the
 * socket bound at "inproc://zeromq.zap.01" in the same context about every
 * handshake. hl_zap_t is that socket, a REP on the libuv loop through
 * hl_zsock (no thread), answering 200 for a public key it was given and 400
 * for any other, which it logs (the key in Z85) and counts. A denied peer's
 * handshake fails, so it delivers nothing and receives nothing. */
#ifndef HL_CURVE_H
#define HL_CURVE_H

#include "hl_metrics.h"
#include "hl_zsock.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define HL_CURVE_KEY_LEN 40 /* a Z85 CURVE key, without the terminating NUL */

/* One side's keys: everything empty means CURVE is off. */
typedef struct {
    char public_key[HL_CURVE_KEY_LEN + 1]; /* this side's public key */
    char secret_key[HL_CURVE_KEY_LEN + 1]; /* this side's secret key */
    char server_key[HL_CURVE_KEY_LEN + 1]; /* clients: the buses' public key; servers: empty */
} hl_curve_t;

/* Reads one Z85 key from `path` (surrounding white space ignored) into
 * `out`. Returns 0, HL_EIO when the file cannot be read or HL_EINVAL when it
 * does not hold exactly one valid key (both logged). */
int hl_curve_read_key(const char *path, char out[HL_CURVE_KEY_LEN + 1]);

/* Fills `c` from key files; an empty or NULL path is "not given". With no
 * secret file CURVE stays off (c zeroed) and the other two must be absent
 * too. The public key, when its file is not given, is derived from the
 * secret; when given it must match. `server_file` is required for a client
 * (`server` false) and refused for a server. Returns 0 or HL_ECONFIG/HL_EIO/
 * HL_EINVAL (logged, naming the file). */
int hl_curve_load(hl_curve_t *c, const char *secret_file, const char *public_file,
                  const char *server_file, bool server);

/* True when `c` holds keys. */
bool hl_curve_on(const hl_curve_t *c);

/* Makes `z` a CURVE server (before bind) or client (before connect) with
 * `c`'s keys; does nothing when `c` is NULL or off. Returns 0 or HL_EZMQ. */
int hl_curve_apply_server(hl_zsock_t *z, const hl_curve_t *c);
int hl_curve_apply_client(hl_zsock_t *z, const hl_curve_t *c);

/* Writes a fresh key pair to DIR/NAME.key (secret, mode 0600) and
 * DIR/NAME.pub; refuses to overwrite. Returns 0, HL_EINVAL (bad name),
 * HL_ECONFLICT (a file exists) or HL_EIO; `err` says why. */
int hl_curve_keygen(const char *dir, const char *name, char *err, size_t errlen);

#endif
