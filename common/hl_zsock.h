/* hl_zsock: a ZeroMQ socket on the libuv loop.
 *
 * ZeroMQ hands out one file descriptor per socket (ZMQ_FD) that signals
 * "something changed", edge-triggered; the truth is in ZMQ_EVENTS. So on
 * every wake-up we drain: while ZMQ_EVENTS says POLLIN (and the owner has
 * not paused reading) we receive, and while it says POLLOUT and the owner
 * wants to write we call it back. Sending or receiving can consume the edge
 * for the other direction, so after every send we "kick" (re-check on the
 * next loop turn) instead of trusting the fd to fire again. Spurious wake-ups
 * are harmless: the drain finds nothing to do.
 *
 * Sends never block: ZMQ_DONTWAIT, and ZMQ_IMMEDIATE on connecting sockets,
 * so a message is never queued for a peer that is not there. A send that
 * cannot go now returns HL_EAGAIN; the pipeline table keeps the message. */
#ifndef HL_ZSOCK_H
#define HL_ZSOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>
#include <zmq.h>

typedef struct hl_zsock hl_zsock_t;

/* Called once per received frame; `more` says another frame of the same
 * message follows. The frame is owned by hl_zsock and closed after return
 * unless the callback moved it (zmq_msg_move). */
typedef void(hl_zsock_recv_fn)(hl_zsock_t *z, zmq_msg_t *frame, bool more, void *arg);
/* Called after a run of on_recv calls, once nothing more can be read now
 * (or reading was paused): the end of a burst, e.g. to apply what the run
 * collected together. */
typedef void(hl_zsock_drained_fn)(hl_zsock_t *z, void *arg);
/* Called when the socket can take a send after an earlier HL_EAGAIN. */
typedef void(hl_zsock_writable_fn)(hl_zsock_t *z, void *arg);

struct hl_zsock {
    void *sock;                        /* the ZeroMQ socket, owned */
    uv_poll_t poll;                    /* watches ZMQ_FD */
    uv_timer_t kick;                   /* re-checks ZMQ_EVENTS on the next turn */
    uv_loop_t *loop;                   /* not owned */
    hl_zsock_recv_fn *on_recv;         /* NULL for send-only sockets */
    hl_zsock_writable_fn *on_writable; /* NULL when nobody waits to send */
    hl_zsock_drained_fn *on_drained;   /* NULL, or the end of a run of on_recv calls */
    void *arg;                         /* passed to both callbacks */
    const char *name;                  /* for logs, e.g. "appeal.in" (not owned) */
    bool paused;                       /* reading paused by the owner */
    bool want_write;                   /* owner waits for POLLOUT */
    bool closing;                      /* close requested */
    int handles_open;                  /* uv handles not yet closed */
    void (*close_cb)(hl_zsock_t *z);   /* after both handles closed */
    unsigned fail_send_nth;            /* fault hook: fail the N-th send (0 = off) */
    unsigned sends;                    /* sends attempted, for the fault hook */
};

/* Creates socket of `type` (ZMQ_PUSH, ZMQ_PULL, ...) in `ctx`, with linger
 * `linger_ms` and high-water mark `hwm` both ways, and starts watching it.
 * Returns 0 or HL_EZMQ. `name` must outlive the socket. */
int hl_zsock_init(hl_zsock_t *z, uv_loop_t *loop, void *ctx, int type, const char *name, int hwm,
                  int linger_ms);
/* Binds or connects to `endpoint`; HL_EZMQ on failure (logged). */
int hl_zsock_bind(hl_zsock_t *z, const char *endpoint);
int hl_zsock_connect(hl_zsock_t *z, const char *endpoint);
/* Sets the callbacks; reading starts at once when on_recv is set. */
void hl_zsock_set_cb(hl_zsock_t *z, hl_zsock_recv_fn *on_recv, hl_zsock_writable_fn *on_writable,
                     void *arg);
/* Sends one frame without blocking. Returns 0, HL_EAGAIN (no peer ready,
 * high-water mark reached, or fault hook) or HL_EZMQ. */
int hl_zsock_send(hl_zsock_t *z, const void *data, size_t len, bool more);
/* Sends a frame by moving `frame` (zero copy); same returns as hl_zsock_send. */
int hl_zsock_send_msg(hl_zsock_t *z, zmq_msg_t *frame, bool more);
/* Asks for one on_writable call once the socket can send. */
void hl_zsock_want_write(hl_zsock_t *z);
void hl_zsock_pause(hl_zsock_t *z);
void hl_zsock_resume(hl_zsock_t *z);
/* Closes the socket and both handles; `close_cb` (may be NULL) runs when the
 * handles are closed, after which the struct may be freed. */
void hl_zsock_close(hl_zsock_t *z, void (*close_cb)(hl_zsock_t *z));

/* Expands a bus list ("tcp://a:7100,tcp://b:7100") into the endpoint of
 * stage `index`, side `out` (0 = producers' side, 1 = consumers' side) on bus
 * number `bus`: the port is base + 2 * index + out. Returns HL_EINVAL when
 * `bus` is past the end of the list or an entry is malformed. */
int hl_bus_endpoint(const char *buses, int bus, int index, int out, char *dst, size_t dstlen);
/* Counts the entries of a bus list. */
int hl_bus_count(const char *buses);

#endif
