/* test_zsock: bus address lists, and a real PUSH/PULL pair over
 * tcp://127.0.0.1 on a libuv loop — order, exact callback counts, pause and
 * resume, the send fault hook, sends with no peer, and a clean close. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hl_err.h"
#include "hl_log.h"
#include "hl_testenv.h"
#include "hl_zsock.h"

/* ---- bus lists ---------------------------------------------------------- */

static void s_endpoint(const char *list, int bus, int index, int out, const char *want)
{
    char dst[128];
    memset(dst, 'x', sizeof dst);
    int rc = hl_bus_endpoint(list, bus, index, out, dst, sizeof dst);
    if (rc != 0)
        fail_msg("hl_bus_endpoint(\"%s\", %d, %d, %d) = %d", list, bus, index, out, rc);
    assert_string_equal(dst, want);
}

static void s_endpoint_bad(const char *list, int bus)
{
    char dst[128];
    int rc = hl_bus_endpoint(list, bus, 0, 0, dst, sizeof dst);
    if (rc != HL_EINVAL)
        fail_msg("hl_bus_endpoint(\"%s\", %d) = %d, want HL_EINVAL", list, bus, rc);
}

static void test_bus_count(void **state)
{
    (void)state;
    assert_int_equal(hl_bus_count(NULL), 0);
    assert_int_equal(hl_bus_count(""), 0);
    assert_int_equal(hl_bus_count("tcp://a:7100"), 1);
    assert_int_equal(hl_bus_count("tcp://a:7100,tcp://b:7200"), 2);
    assert_int_equal(hl_bus_count("tcp://a:1,tcp://b:2,tcp://c:3"), 3);
}

static void test_bus_endpoint_good(void **state)
{
    (void)state;
    s_endpoint("tcp://127.0.0.1:7100", 0, 0, 0, "tcp://127.0.0.1:7100");
    s_endpoint("tcp://127.0.0.1:7100", 0, 0, 1, "tcp://127.0.0.1:7101");
    s_endpoint("tcp://127.0.0.1:7100", 0, 2, 0, "tcp://127.0.0.1:7104");
    s_endpoint("tcp://127.0.0.1:7100", 0, 5, 1, "tcp://127.0.0.1:7111");
    s_endpoint("tcp://a:7100,tcp://b.example:7200", 1, 1, 1, "tcp://b.example:7203");
    s_endpoint("tcp://a:7100,tcp://b.example:7200", 0, 1, 1, "tcp://a:7103");
    s_endpoint("tcp://[::1]:7100", 0, 1, 0, "tcp://[::1]:7102");
    s_endpoint("tcp://*:7100", 0, 3, 1, "tcp://*:7107");
    s_endpoint("tcp://h:65471", 0, 0, 0, "tcp://h:65471");
}

static void test_bus_endpoint_malformed(void **state)
{
    (void)state;
    s_endpoint_bad("tcp://a:7100", 1); /* past the end */
    s_endpoint_bad("tcp://a:7100,tcp://b:7200", 2);
    s_endpoint_bad("", 0);
    s_endpoint_bad("tcp://host", 0); /* no port */
    s_endpoint_bad("tcp://host:", 0);
    s_endpoint_bad("tcp://host:abc", 0);
    s_endpoint_bad("tcp://host:7100x", 0);
    s_endpoint_bad("tcp://host:0", 0);
    s_endpoint_bad("tcp://host:-5", 0);
    s_endpoint_bad("tcp://host:65472", 0); /* no room for the stages */
    s_endpoint_bad("udp://host:7100", 0);
    s_endpoint_bad("host:7100", 0);
    s_endpoint_bad("tcp://a:7100,", 1); /* empty entry */
    s_endpoint_bad("tcp://a:7100,,tcp://b:7200", 1);
    s_endpoint_bad("tcp://a:7100, tcp://b:7200", 1);
    /* The destination is too small. */
    char dst[12];
    assert_int_equal(hl_bus_endpoint("tcp://127.0.0.1:7100", 0, 0, 0, dst, sizeof dst), HL_EINVAL);
}

/* ---- sockets on a loop -------------------------------------------------- */

typedef struct {
    uv_loop_t loop;         /* the test's own loop */
    void *ctx;              /* ZeroMQ context */
    hl_zsock_t push;        /* sender */
    hl_zsock_t pull;        /* receiver */
    bool push_open;         /* push initialised */
    bool pull_open;         /* pull initialised */
    char ep[64];            /* tcp://127.0.0.1:port */
    uv_timer_t guard;       /* fails the test when it hangs */
    uv_timer_t step;        /* test-specific later action */
    bool timed_out;         /* guard fired */
    int n;                  /* messages to send */
    int sent;               /* sent so far */
    int eagain;             /* sends that returned HL_EAGAIN */
    int writable;           /* on_writable calls */
    int received;           /* on_recv calls */
    int next;               /* next expected sequence number */
    int out_of_order;       /* frames with the wrong number */
    int more_frames;        /* frames flagged `more` */
    int pause_at;           /* pause the receiver after this many (0: never) */
    int closed_push;        /* close_cb calls for push */
    int closed_pull;        /* close_cb calls for pull */
    int step_calls;         /* step timer calls */
    int received_at_step;   /* `received` when the step timer fired */
    void (*on_all)(void *); /* called when `n` frames arrived */
    int drained;            /* on_drained calls */
    int received_at_drain;  /* `received` at the last of them */
} fx_t;

static void s_close_cb(hl_zsock_t *z)
{
    fx_t *f = z->arg;
    if (z == &f->push)
        f->closed_push++;
    else
        f->closed_pull++;
}

static void s_close_all(fx_t *f)
{
    if (f->push_open)
        hl_zsock_close(&f->push, s_close_cb);
    if (f->pull_open)
        hl_zsock_close(&f->pull, s_close_cb);
    if (!uv_is_closing((uv_handle_t *)&f->guard))
        uv_close((uv_handle_t *)&f->guard, NULL);
    if (!uv_is_closing((uv_handle_t *)&f->step))
        uv_close((uv_handle_t *)&f->step, NULL);
}

static void s_guard_cb(uv_timer_t *t)
{
    fx_t *f = t->data;
    f->timed_out = true;
    s_close_all(f);
}

static fx_t *s_fx_new(double seconds)
{
    fx_t *f = calloc(1, sizeof *f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    f->ctx = zmq_ctx_new();
    assert_non_null(f->ctx);
    snprintf(f->ep, sizeof f->ep, "tcp://127.0.0.1:%d", hl_test_free_ports(1));
    uv_timer_init(&f->loop, &f->guard);
    uv_timer_init(&f->loop, &f->step);
    f->guard.data = f->step.data = f;
    uv_timer_start(&f->guard, s_guard_cb, (uint64_t)(seconds * 1000 * hl_test_mult()), 0);
    return f;
}

/* Runs the loop to the end and checks it closes clean; frees `f`. */
static void s_fx_finish(fx_t *f)
{
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_false(f->timed_out);
    assert_int_equal(f->closed_push, f->push_open ? 1 : 0);
    assert_int_equal(f->closed_pull, f->pull_open ? 1 : 0);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    assert_int_equal(zmq_ctx_term(f->ctx), 0);
    free(f);
}

static void s_recv_cb(hl_zsock_t *z, zmq_msg_t *frame, bool more, void *arg)
{
    fx_t *f = arg;
    char text[32];
    size_t len = zmq_msg_size(frame);
    snprintf(text, sizeof text, "%.*s", (int)(len < 31 ? len : 31), (char *)zmq_msg_data(frame));
    int seq = -1;
    sscanf(text, "msg-%d", &seq);
    if (seq != f->next)
        f->out_of_order++;
    f->next = seq + 1;
    f->received++;
    f->more_frames += more;
    if (f->pause_at && f->received == f->pause_at)
        hl_zsock_pause(z);
    if (f->received == f->n) {
        if (f->on_all)
            f->on_all(f);
        else
            s_close_all(f);
    }
}

/* The end of a run of frames: at least one new frame since the last. */
static void s_drained_cb(hl_zsock_t *z, void *arg)
{
    fx_t *f = arg;
    (void)z;
    assert_true(f->received > f->received_at_drain);
    f->received_at_drain = f->received;
    f->drained++;
}

/* Sends until done or the socket pushes back, then waits for room. */
static void s_writable_cb(hl_zsock_t *z, void *arg)
{
    fx_t *f = arg;
    f->writable++;
    while (f->sent < f->n) {
        char text[32];
        int len = snprintf(text, sizeof text, "msg-%d", f->sent);
        int rc = hl_zsock_send(z, text, (size_t)len, false);
        if (rc == HL_EAGAIN) {
            f->eagain++;
            hl_zsock_want_write(z);
            return;
        }
        assert_int_equal(rc, 0);
        f->sent++;
    }
}

static void s_open_pair(fx_t *f, int hwm)
{
    assert_int_equal(hl_zsock_init(&f->pull, &f->loop, f->ctx, ZMQ_PULL, "t.pull", hwm, 0), 0);
    f->pull_open = true;
    assert_int_equal(hl_zsock_bind(&f->pull, f->ep), 0);
    f->pull.on_drained = s_drained_cb;
    hl_zsock_set_cb(&f->pull, s_recv_cb, NULL, f);
    assert_int_equal(hl_zsock_init(&f->push, &f->loop, f->ctx, ZMQ_PUSH, "t.push", hwm, 0), 0);
    f->push_open = true;
    assert_int_equal(hl_zsock_connect(&f->push, f->ep), 0);
    hl_zsock_set_cb(&f->push, NULL, s_writable_cb, f);
}

static void test_push_pull_in_order(void **state)
{
    (void)state;
    fx_t *f = s_fx_new(10);
    f->n = 5000;
    /* A small high-water mark makes the sender meet back-pressure often. */
    s_open_pair(f, 20);
    hl_zsock_want_write(&f->push);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_false(f->timed_out);
    assert_int_equal(f->sent, 5000);
    assert_int_equal(f->received, 5000);
    assert_int_equal(f->out_of_order, 0);
    assert_int_equal(f->next, 5000);
    assert_int_equal(f->more_frames, 0);
    assert_true(f->drained >= 1 && f->drained < 5000); /* runs of frames, not one each */
    assert_true(f->eagain > 0);                        /* back-pressure happened ... */
    assert_int_equal(f->writable, f->eagain + 1);      /* ... and each wait ended in one call */
    s_fx_finish(f);
}

static void s_resume_cb(uv_timer_t *t)
{
    fx_t *f = t->data;
    f->step_calls++;
    f->received_at_step = f->received;
    hl_zsock_resume(&f->pull);
}

static void test_pause_resume(void **state)
{
    (void)state;
    fx_t *f = s_fx_new(10);
    f->n = 100;
    f->pause_at = 30;
    s_open_pair(f, 1000);
    hl_zsock_want_write(&f->push);
    /* Give the sender ample time to push everything while paused. */
    uv_timer_start(&f->step, s_resume_cb, 300, 0);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_false(f->timed_out);
    assert_int_equal(f->step_calls, 1);
    assert_int_equal(f->sent, 100);
    assert_int_equal(f->received_at_step, 30);  /* nothing while paused */
    assert_int_equal(f->received_at_drain, 30); /* the run ended at the pause */
    assert_int_equal(f->received, 100);         /* the rest after resume */
    assert_int_equal(f->out_of_order, 0);
    s_fx_finish(f);
}

static void test_fault_hook(void **state)
{
    (void)state;
    fx_t *f = s_fx_new(10);
    f->n = 10;
    s_open_pair(f, 1000);
    f->push.fail_send_nth = 5;
    hl_zsock_want_write(&f->push);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    /* The 5th send (msg-4) failed with HL_EAGAIN once; s_writable_cb waited
     * and sent msg-4 again as the 6th send, so all 10 went, one retried. */
    assert_false(f->timed_out);
    assert_int_equal(f->eagain, 1);
    assert_int_equal(f->writable, 2);
    assert_int_equal(f->push.sends, 11);
    assert_int_equal(f->sent, 10);
    assert_int_equal(f->received, 10);
    assert_int_equal(f->out_of_order, 0);
    s_fx_finish(f);
}

static void test_fault_hook_exact(void **state)
{
    (void)state;
    /* Synchronous check: with a peer connected, exactly the N-th send fails. */
    fx_t *f = s_fx_new(10);
    f->n = 1 << 30; /* the receiver never closes by count */
    s_open_pair(f, 1000);
    /* Wait for the connection: want_write calls back when it is up. */
    f->push.on_writable = NULL;
    for (int i = 0; i < 500; i++) {
        int events = 0;
        size_t len = sizeof events;
        zmq_getsockopt(f->push.sock, ZMQ_EVENTS, &events, &len);
        if (events & ZMQ_POLLOUT)
            break;
        uv_run(&f->loop, UV_RUN_NOWAIT);
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
    f->push.fail_send_nth = 3;
    f->push.sends = 0;
    int rcs[6];
    for (int i = 0; i < 6; i++)
        rcs[i] = hl_zsock_send(&f->push, "x", 1, false);
    assert_int_equal(rcs[0], 0);
    assert_int_equal(rcs[1], 0);
    assert_int_equal(rcs[2], HL_EAGAIN);
    assert_int_equal(rcs[3], 0);
    assert_int_equal(rcs[4], 0);
    assert_int_equal(rcs[5], 0);
    s_close_all(f);
    s_fx_finish(f);
}

static void test_send_without_peer(void **state)
{
    (void)state;
    fx_t *f = s_fx_new(10);
    /* PUSH connected to a port where nobody listens: ZMQ_IMMEDIATE keeps
     * the message from queueing, so the send refuses at once. */
    assert_int_equal(hl_zsock_init(&f->push, &f->loop, f->ctx, ZMQ_PUSH, "t.push", 1000, 0), 0);
    f->push_open = true;
    hl_zsock_set_cb(&f->push, NULL, NULL, f);
    assert_int_equal(hl_zsock_connect(&f->push, f->ep), 0);
    uint64_t t0 = uv_hrtime();
    for (int i = 0; i < 100; i++)
        assert_int_equal(hl_zsock_send(&f->push, "hello", 5, false), HL_EAGAIN);
    zmq_msg_t m;
    zmq_msg_init_size(&m, 3);
    memcpy(zmq_msg_data(&m), "abc", 3);
    assert_int_equal(hl_zsock_send_msg(&f->push, &m, false), HL_EAGAIN);
    zmq_msg_close(&m);
    uint64_t ms = (uv_hrtime() - t0) / 1000000;
    assert_true(ms < 500);
    assert_int_equal(f->push.sends, 101);
    s_close_all(f);
    s_fx_finish(f);
}

static void s_late_bind_cb(uv_timer_t *t)
{
    fx_t *f = t->data;
    f->step_calls++;
    /* Nobody was there: the sender must not have been called back. */
    f->received_at_step = f->writable;
    assert_int_equal(hl_zsock_init(&f->pull, &f->loop, f->ctx, ZMQ_PULL, "t.pull", 1000, 0), 0);
    f->pull_open = true;
    assert_int_equal(hl_zsock_bind(&f->pull, f->ep), 0);
    f->pull.on_drained = s_drained_cb;
    hl_zsock_set_cb(&f->pull, s_recv_cb, NULL, f);
}

static void test_writable_when_peer_arrives(void **state)
{
    (void)state;
    fx_t *f = s_fx_new(10);
    f->n = 50;
    assert_int_equal(hl_zsock_init(&f->push, &f->loop, f->ctx, ZMQ_PUSH, "t.push", 1000, 0), 0);
    f->push_open = true;
    assert_int_equal(hl_zsock_connect(&f->push, f->ep), 0);
    hl_zsock_set_cb(&f->push, NULL, s_writable_cb, f);
    assert_int_equal(hl_zsock_send(&f->push, "early", 5, false), HL_EAGAIN);
    hl_zsock_want_write(&f->push);
    uv_timer_start(&f->step, s_late_bind_cb, 300, 0);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_false(f->timed_out);
    assert_int_equal(f->step_calls, 1);
    assert_int_equal(f->received_at_step, 0);
    assert_int_equal(f->received, 50);
    assert_int_equal(f->out_of_order, 0);
    assert_true(f->writable >= 1);
    s_fx_finish(f);
}

static void s_multipart_recv_cb(hl_zsock_t *z, zmq_msg_t *frame, bool more, void *arg)
{
    fx_t *f = arg;
    (void)z;
    char want[8];
    snprintf(want, sizeof want, "part%d", f->received);
    assert_int_equal(zmq_msg_size(frame), strlen(want));
    assert_memory_equal(zmq_msg_data(frame), want, strlen(want));
    f->more_frames += more;
    f->received++;
    if (f->received == 3)
        s_close_all(f);
}

static void s_multipart_writable_cb(hl_zsock_t *z, void *arg)
{
    fx_t *f = arg;
    f->writable++;
    assert_int_equal(hl_zsock_send(z, "part0", 5, true), 0);
    zmq_msg_t m;
    zmq_msg_init_size(&m, 5);
    memcpy(zmq_msg_data(&m), "part1", 5);
    assert_int_equal(hl_zsock_send_msg(z, &m, true), 0);
    zmq_msg_close(&m);
    assert_int_equal(hl_zsock_send(z, "part2", 5, false), 0);
}

static void test_multipart(void **state)
{
    (void)state;
    fx_t *f = s_fx_new(10);
    s_open_pair(f, 1000);
    hl_zsock_set_cb(&f->pull, s_multipart_recv_cb, NULL, f);
    hl_zsock_set_cb(&f->push, NULL, s_multipart_writable_cb, f);
    hl_zsock_want_write(&f->push);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(f->writable, 1);
    assert_int_equal(f->received, 3);
    assert_int_equal(f->more_frames, 2);
    s_fx_finish(f);
}

static void test_close_once(void **state)
{
    (void)state;
    fx_t *f = s_fx_new(10);
    s_open_pair(f, 1000);
    s_close_all(f);
    /* A second close is a no-op: the callback still runs once. */
    hl_zsock_close(&f->push, s_close_cb);
    hl_zsock_close(&f->pull, s_close_cb);
    assert_int_equal(f->closed_push, 0); /* only after the handles closed */
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(f->closed_push, 1);
    assert_int_equal(f->closed_pull, 1);
    assert_null(f->push.sock);
    s_fx_finish(f);
}

static void test_close_from_callback_with_pending_input(void **state)
{
    (void)state;
    /* The receiver closes after the first of many queued frames: no
     * further callbacks, close_cb once, the loop ends clean. */
    fx_t *f = s_fx_new(10);
    f->n = 1;
    s_open_pair(f, 1000);
    f->push.on_writable = NULL;
    for (int i = 0; i < 500; i++) {
        int events = 0;
        size_t len = sizeof events;
        zmq_getsockopt(f->push.sock, ZMQ_EVENTS, &events, &len);
        if (events & ZMQ_POLLOUT)
            break;
        uv_run(&f->loop, UV_RUN_NOWAIT);
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
    for (int i = 0; i < 20; i++)
        assert_int_equal(hl_zsock_send(&f->push, "msg-0", 5, false), 0);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(f->received, 1);
    s_fx_finish(f);
}

int main(void)
{
    hl_log_init("test_zsock", HL_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bus_count),
        cmocka_unit_test(test_bus_endpoint_good),
        cmocka_unit_test(test_bus_endpoint_malformed),
        cmocka_unit_test(test_push_pull_in_order),
        cmocka_unit_test(test_pause_resume),
        cmocka_unit_test(test_fault_hook),
        cmocka_unit_test(test_fault_hook_exact),
        cmocka_unit_test(test_send_without_peer),
        cmocka_unit_test(test_writable_when_peer_arrives),
        cmocka_unit_test(test_multipart),
        cmocka_unit_test(test_close_once),
        cmocka_unit_test(test_close_from_callback_with_pending_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
