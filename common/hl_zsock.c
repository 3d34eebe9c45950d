/* hl_zsock: the ZeroMQ <-> libuv bridge (see the header for the rules). */
#include "hl_zsock.h"

#include "hl_err.h"
#include "hl_log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void s_drain_frames(hl_zsock_t *z, bool *got)
{
    while (!z->closing) {
        int events = 0;
        size_t len = sizeof events;
        if (zmq_getsockopt(z->sock, ZMQ_EVENTS, &events, &len) != 0)
            return;
        bool did = false;
        if ((events & ZMQ_POLLIN) && !z->paused && z->on_recv) {
            zmq_msg_t frame;
            zmq_msg_init(&frame);
            if (zmq_msg_recv(&frame, z->sock, ZMQ_DONTWAIT) >= 0) {
                bool more = zmq_msg_more(&frame);
                z->on_recv(z, &frame, more, z->arg);
                did = *got = true;
            }
            zmq_msg_close(&frame);
        }
        if ((events & ZMQ_POLLOUT) && z->want_write && z->on_writable && !z->closing) {
            z->want_write = false;
            z->on_writable(z, z->arg);
            did = true;
        }
        if (!did)
            return;
    }
}

static void s_drain(hl_zsock_t *z)
{
    bool got = false;
    s_drain_frames(z, &got);
    if (got && z->on_drained && !z->closing)
        z->on_drained(z, z->arg);
}

static void s_poll_cb(uv_poll_t *handle, int status, int events)
{
    (void)status;
    (void)events;
    s_drain(handle->data);
}

static void s_kick_cb(uv_timer_t *handle)
{
    s_drain(handle->data);
}

static void s_kick(hl_zsock_t *z)
{
    if (!z->closing && !uv_is_active((uv_handle_t *)&z->kick))
        uv_timer_start(&z->kick, s_kick_cb, 0, 0);
}

int hl_zsock_init(hl_zsock_t *z, uv_loop_t *loop, void *ctx, int type, const char *name, int hwm,
                  int linger_ms)
{
    memset(z, 0, sizeof *z);
    z->loop = loop;
    z->name = name;
    z->sock = zmq_socket(ctx, type);
    if (!z->sock) {
        hl_error("socket", name, "could not create socket: %s", zmq_strerror(errno));
        return HL_EZMQ;
    }
    int one = 1;
    zmq_setsockopt(z->sock, ZMQ_LINGER, &linger_ms, sizeof linger_ms);
    zmq_setsockopt(z->sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(z->sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if (type == ZMQ_PUSH)
        zmq_setsockopt(z->sock, ZMQ_IMMEDIATE, &one, sizeof one);
    int fd;
    size_t len = sizeof fd;
    zmq_getsockopt(z->sock, ZMQ_FD, &fd, &len);
    uv_poll_init(loop, &z->poll, fd);
    uv_timer_init(loop, &z->kick);
    z->poll.data = z;
    z->kick.data = z;
    z->handles_open = 2;
    uv_poll_start(&z->poll, UV_READABLE, s_poll_cb);
    return 0;
}

int hl_zsock_bind(hl_zsock_t *z, const char *endpoint)
{
    if (zmq_bind(z->sock, endpoint) != 0) {
        hl_error("socket", z->name, "could not bind %s: %s", endpoint, zmq_strerror(errno));
        return HL_EZMQ;
    }
    return 0;
}

int hl_zsock_connect(hl_zsock_t *z, const char *endpoint)
{
    if (zmq_connect(z->sock, endpoint) != 0) {
        hl_error("socket", z->name, "could not connect to %s: %s", endpoint, zmq_strerror(errno));
        return HL_EZMQ;
    }
    return 0;
}

void hl_zsock_set_cb(hl_zsock_t *z, hl_zsock_recv_fn *on_recv, hl_zsock_writable_fn *on_writable,
                     void *arg)
{
    z->on_recv = on_recv;
    z->on_writable = on_writable;
    z->arg = arg;
    s_kick(z);
}

static int s_send_result(hl_zsock_t *z, int rc)
{
    s_kick(z);
    if (rc >= 0)
        return 0;
    if (errno == EAGAIN)
        return HL_EAGAIN;
    hl_warn("socket", z->name, "could not send: %s", zmq_strerror(errno));
    return HL_EZMQ;
}

static bool s_fault(hl_zsock_t *z)
{
    z->sends++;
    return z->fail_send_nth && z->sends == z->fail_send_nth;
}

int hl_zsock_send(hl_zsock_t *z, const void *data, size_t len, bool more)
{
    if (s_fault(z))
        return HL_EAGAIN;
    int rc = zmq_send(z->sock, data, len, ZMQ_DONTWAIT | (more ? ZMQ_SNDMORE : 0));
    return s_send_result(z, rc);
}

int hl_zsock_send_msg(hl_zsock_t *z, zmq_msg_t *frame, bool more)
{
    if (s_fault(z))
        return HL_EAGAIN;
    int rc = zmq_msg_send(frame, z->sock, ZMQ_DONTWAIT | (more ? ZMQ_SNDMORE : 0));
    return s_send_result(z, rc);
}

void hl_zsock_want_write(hl_zsock_t *z)
{
    z->want_write = true;
    s_kick(z);
}

void hl_zsock_pause(hl_zsock_t *z)
{
    z->paused = true;
}

void hl_zsock_resume(hl_zsock_t *z)
{
    if (!z->paused)
        return;
    z->paused = false;
    /* The edge may have fired while we were paused: look now. */
    s_kick(z);
}

static void s_handle_closed(uv_handle_t *handle)
{
    hl_zsock_t *z = handle->data;
    if (--z->handles_open == 0 && z->close_cb)
        z->close_cb(z);
}

void hl_zsock_close(hl_zsock_t *z, void (*close_cb)(hl_zsock_t *z))
{
    if (z->closing)
        return;
    z->closing = true;
    z->close_cb = close_cb;
    if (z->sock) {
        /* Stop watching the fd before ZeroMQ closes it. */
        uv_poll_stop(&z->poll);
    }
    uv_close((uv_handle_t *)&z->poll, s_handle_closed);
    uv_close((uv_handle_t *)&z->kick, s_handle_closed);
    if (z->sock)
        zmq_close(z->sock);
    z->sock = NULL;
}

int hl_bus_count(const char *buses)
{
    int n = 0;
    for (const char *p = buses; p && *p; n++) {
        const char *comma = strchr(p, ',');
        if (!comma)
            return n + 1;
        p = comma + 1;
    }
    return n;
}

int hl_bus_endpoint(const char *buses, int bus, int index, int out, char *dst, size_t dstlen)
{
    const char *p = buses;
    for (int i = 0; i < bus; i++) {
        p = strchr(p, ',');
        if (!p)
            return HL_EINVAL;
        p++;
    }
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    /* The port is after the last ':' of the entry. */
    const char *colon = NULL;
    for (const char *q = p; q < p + len; q++)
        if (*q == ':')
            colon = q;
    if (!colon || colon == p + len - 1 || strncmp(p, "tcp://", 6) != 0)
        return HL_EINVAL;
    char *num_end = NULL;
    long base = strtol(colon + 1, &num_end, 10);
    if (num_end != p + len || base <= 0 || base > 65535 - 64)
        return HL_EINVAL;
    int n = snprintf(dst, dstlen, "%.*s:%ld", (int)(colon - p), p, base + 2 * index + out);
    return n < 0 || (size_t)n >= dstlen ? HL_EINVAL : 0;
}
