/* test_curve: CurveZMQ between a bus-like server and daemon-like clients on
 * a libuv loop, with the ZAP handler deciding: an admitted client's frames
 * arrive, an unknown key's do not (and are counted), a plain client gets
 * nothing through either; the ZAP replies themselves (RFC 27); key files,
 * their loading rules and `hlctl keygen`'s writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hl_curve.h"
#include "hl_zap.h"
#include "hl_err.h"
#include "hl_log.h"
#include "hl_metrics.h"
#include "hl_zsock.h"

#define SENDS 20 /* frames each client tries to deliver */

static char s_dir[] = "/tmp/hl-test-curve-XXXXXX";

static void s_write(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", s_dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static const char *s_path(const char *name)
{
    static char path[4][256];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", s_dir, name);
    return p;
}

static int s_setup(void **state)
{
    (void)state;
    strcpy(s_dir, "/tmp/hl-test-curve-XXXXXX");
    if (!mkdtemp(s_dir))
        return -1;
    hl_log_init("test_curve", HL_LOG_ERROR);
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    if (system(cmd) != 0)
        return -1;
    hl_metrics_reset();
    return 0;
}

/* ---- keys --------------------------------------------------------------- */

static void test_keygen_writes_pair(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(hl_curve_keygen(s_dir, "hl-triage", err, sizeof err), 0);
    struct stat st;
    assert_int_equal(stat(s_path("hl-triage.key"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(s_path("hl-triage.pub"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    char sec[HL_CURVE_KEY_LEN + 1], pub[HL_CURVE_KEY_LEN + 1], derived[HL_CURVE_KEY_LEN + 1];
    assert_int_equal(hl_curve_read_key(s_path("hl-triage.key"), sec), 0);
    assert_int_equal(hl_curve_read_key(s_path("hl-triage.pub"), pub), 0);
    assert_int_equal(zmq_curve_public(derived, sec), 0);
    assert_string_equal(pub, derived);
    /* Never overwrites a key. */
    assert_int_equal(hl_curve_keygen(s_dir, "hl-triage", err, sizeof err), HL_ECONFLICT);
    assert_non_null(strstr(err, "exists"));
    assert_int_equal(hl_curve_read_key(s_path("hl-triage.key"), derived), 0);
    assert_string_equal(derived, sec);
}

static void test_keygen_bad_name(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(hl_curve_keygen(s_dir, "", err, sizeof err), HL_EINVAL);
    assert_int_equal(hl_curve_keygen(s_dir, "../evil", err, sizeof err), HL_EINVAL);
    assert_int_equal(hl_curve_keygen(s_dir, ".hidden", err, sizeof err), HL_EINVAL);
    assert_int_equal(hl_curve_keygen(s_dir, "a b", err, sizeof err), HL_EINVAL);
    assert_non_null(strstr(err, "name"));
    assert_int_equal(access(s_path("a b.key"), F_OK), -1);
}

static void test_read_key_bad(void **state)
{
    (void)state;
    char key[HL_CURVE_KEY_LEN + 1];
    assert_int_equal(hl_curve_read_key(s_path("missing.pub"), key), HL_EIO);
    s_write("short.pub", "abc\n");
    assert_int_equal(hl_curve_read_key(s_path("short.pub"), key), HL_EINVAL);
    /* 40 characters, but '~' is not in the Z85 alphabet. */
    s_write("bad.pub", "~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n");
    assert_int_equal(hl_curve_read_key(s_path("bad.pub"), key), HL_EINVAL);
    char pub[41], sec[41];
    assert_int_equal(zmq_curve_keypair(pub, sec), 0);
    char text[100];
    snprintf(text, sizeof text, "  %s  \n\n", pub);
    s_write("spaced.pub", text);
    assert_int_equal(hl_curve_read_key(s_path("spaced.pub"), key), 0);
    assert_string_equal(key, pub);
    snprintf(text, sizeof text, "%s\n%s\n", pub, pub);
    s_write("two.pub", text);
    assert_int_equal(hl_curve_read_key(s_path("two.pub"), key), HL_EINVAL);
}

static void test_load_rules(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(hl_curve_keygen(s_dir, "d", err, sizeof err), 0);
    assert_int_equal(hl_curve_keygen(s_dir, "bus", err, sizeof err), 0);
    hl_curve_t c;
    /* Nothing given: CURVE off. */
    assert_int_equal(hl_curve_load(&c, "", NULL, "", false), 0);
    assert_false(hl_curve_on(&c));
    /* A client needs the server's key; a server refuses one. */
    assert_int_equal(hl_curve_load(&c, s_path("d.key"), NULL, NULL, false), HL_ECONFIG);
    assert_int_equal(hl_curve_load(&c, s_path("bus.key"), NULL, s_path("d.pub"), true), HL_ECONFIG);
    /* Other files without the secret. */
    assert_int_equal(hl_curve_load(&c, "", s_path("d.pub"), NULL, false), HL_ECONFIG);
    /* A public key that is not the secret's. */
    assert_int_equal(
        hl_curve_load(&c, s_path("d.key"), s_path("bus.pub"), s_path("bus.pub"), false),
        HL_ECONFIG);
    /* The good cases. */
    assert_int_equal(hl_curve_load(&c, s_path("d.key"), s_path("d.pub"), s_path("bus.pub"), false),
                     0);
    assert_true(hl_curve_on(&c));
    char pub[41];
    assert_int_equal(hl_curve_read_key(s_path("d.pub"), pub), 0);
    assert_string_equal(c.public_key, pub);
    assert_int_equal(hl_curve_load(&c, s_path("bus.key"), NULL, "", true), 0);
    assert_true(hl_curve_on(&c));
    assert_string_equal(c.server_key, "");
}

/* ---- the ZAP handler's replies ------------------------------------------- */

typedef struct {
    char reply[6][64]; /* the reply's frames, NUL-terminated */
    int nreply;        /* frames received */
} zap_probe_t;

/* Sends one ZAP request from a REQ socket and runs the loop until the
 * handler's six reply frames are back. */
static void s_zap_ask(void *zctx, uv_loop_t *loop, const uint8_t *key, const char *mechanism,
                      zap_probe_t *pr)
{
    memset(pr, 0, sizeof *pr);
    void *req = zmq_socket(zctx, ZMQ_REQ);
    int linger = 0;
    zmq_setsockopt(req, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal(zmq_connect(req, "inproc://zeromq.zap.01"), 0);
    zmq_send(req, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(req, "req-42", 6, ZMQ_SNDMORE);
    zmq_send(req, "hongling", 8, ZMQ_SNDMORE);
    zmq_send(req, "10.1.2.3", 8, ZMQ_SNDMORE);
    zmq_send(req, "", 0, ZMQ_SNDMORE);
    zmq_send(req, mechanism, strlen(mechanism), key ? ZMQ_SNDMORE : 0);
    if (key)
        zmq_send(req, key, 32, 0);
    for (int i = 0; i < 2000 && pr->nreply < 6; i++) {
        uv_run(loop, UV_RUN_NOWAIT);
        char buf[64];
        int n = zmq_recv(req, buf, sizeof buf - 1, ZMQ_DONTWAIT);
        if (n < 0) {
            usleep(1000);
            continue;
        }
        buf[n < 63 ? n : 63] = '\0';
        strcpy(pr->reply[pr->nreply++], buf);
    }
    zmq_close(req);
    assert_int_equal(pr->nreply, 6);
}

static void test_zap_replies(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    void *zctx = zmq_ctx_new();
    char pub[41], sec[41], other[41];
    assert_int_equal(zmq_curve_keypair(pub, sec), 0);
    assert_int_equal(zmq_curve_keypair(other, sec), 0);
    char text[64];
    snprintf(text, sizeof text, "%s\n", pub);
    s_write("ok.pub", text);
    s_write("ignored.txt", "not a key file\n");
    hl_zap_t zap;
    assert_int_equal(hl_zap_init(&zap, &loop, zctx, s_dir, "hl_test"), 0);
    assert_int_equal(zap.nkeys, 1);

    uint8_t bin[32];
    zap_probe_t pr;
    zmq_z85_decode(bin, pub);
    s_zap_ask(zctx, &loop, bin, "CURVE", &pr);
    assert_string_equal(pr.reply[0], "1.0");
    assert_string_equal(pr.reply[1], "req-42");
    assert_string_equal(pr.reply[2], "200");
    assert_int_equal((int)hl_metric_value(zap.allowed), 1);
    assert_int_equal((int)hl_metric_value(zap.denied), 0);

    zmq_z85_decode(bin, other);
    s_zap_ask(zctx, &loop, bin, "CURVE", &pr);
    assert_string_equal(pr.reply[1], "req-42");
    assert_string_equal(pr.reply[2], "400");
    assert_int_equal((int)hl_metric_value(zap.denied), 1);

    /* NULL mechanism (no credentials): refused too. */
    s_zap_ask(zctx, &loop, NULL, "NULL", &pr);
    assert_string_equal(pr.reply[2], "400");
    assert_int_equal((int)hl_metric_value(zap.denied), 2);

    hl_zap_close(&zap);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    zmq_ctx_term(zctx);
}

static void test_zap_bad_dir(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    void *zctx = zmq_ctx_new();
    hl_zap_t zap;
    assert_int_equal(hl_zap_init(&zap, &loop, zctx, s_path("nonexistent"), "hl_test"), HL_EIO);
    uv_run(&loop, UV_RUN_DEFAULT);
    s_write("broken.pub", "not a key\n");
    assert_int_equal(hl_zap_init(&zap, &loop, zctx, s_dir, "hl_test"), HL_EINVAL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    zmq_ctx_term(zctx);
}

/* ---- a CURVE server and three clients ------------------------------------ */

typedef struct {
    hl_zsock_t server;    /* PULL, CURVE server */
    hl_zsock_t client[3]; /* PUSH: admitted, unknown key, plain */
    int sent[3];          /* frames each client got out */
    int got[3];           /* frames the server received, by client */
    uv_timer_t tick;      /* tries the sends, ends the test */
    int ticks;            /* tick count */
    hl_zap_t *zap;        /* for the stop condition */
} wire_t;

static void s_server_cb(hl_zsock_t *z, zmq_msg_t *frame, bool more, void *arg)
{
    (void)z;
    (void)more;
    wire_t *w = arg;
    int who = zmq_msg_size(frame) > 0 ? ((const char *)zmq_msg_data(frame))[0] - '0' : -1;
    if (who >= 0 && who < 3)
        w->got[who]++;
}

static void s_tick_cb(uv_timer_t *t)
{
    wire_t *w = t->data;
    w->ticks++;
    for (int i = 0; i < 3; i++) {
        char frame[2] = {(char)('0' + i), '\0'};
        if (w->sent[i] < SENDS && hl_zsock_send(&w->client[i], frame, 1, false) == 0)
            w->sent[i]++;
    }
    /* Give the refused clients time for several handshakes after the good
     * one has delivered everything. */
    bool good_done = w->got[0] == SENDS;
    if ((good_done && hl_metric_value(w->zap->denied) >= 1 && w->ticks >= 100) ||
        w->ticks >= 1000) {
        uv_timer_stop(t);
        hl_zsock_close(&w->server, NULL);
        for (int i = 0; i < 3; i++)
            hl_zsock_close(&w->client[i], NULL);
        hl_zap_close(w->zap);
        uv_close((uv_handle_t *)t, NULL);
    }
}

static void test_curve_admits_known_key_only(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    void *zctx = zmq_ctx_new();
    char err[256];
    assert_int_equal(mkdir(s_path("allowed"), 0700), 0);
    assert_int_equal(hl_curve_keygen(s_path("allowed"), "hl-intake", err, sizeof err), 0);
    assert_int_equal(hl_curve_keygen(s_dir, "intruder", err, sizeof err), 0);
    assert_int_equal(hl_curve_keygen(s_dir, "bus", err, sizeof err), 0);

    hl_curve_t bus, good, bad;
    assert_int_equal(hl_curve_load(&bus, s_path("bus.key"), s_path("bus.pub"), NULL, true), 0);
    assert_int_equal(
        hl_curve_load(&good, s_path("allowed/hl-intake.key"), NULL, s_path("bus.pub"), false), 0);
    assert_int_equal(hl_curve_load(&bad, s_path("intruder.key"), NULL, s_path("bus.pub"), false),
                     0);

    hl_zap_t zap;
    assert_int_equal(hl_zap_init(&zap, &loop, zctx, s_path("allowed"), "hl_bus"), 0);
    wire_t w;
    memset(&w, 0, sizeof w);
    w.zap = &zap;
    assert_int_equal(hl_zsock_init(&w.server, &loop, zctx, ZMQ_PULL, "server", 100, 0), 0);
    assert_int_equal(hl_curve_apply_server(&w.server, &bus), 0);
    assert_int_equal(hl_zsock_bind(&w.server, "tcp://127.0.0.1:*"), 0);
    char ep[256];
    size_t eplen = sizeof ep;
    zmq_getsockopt(w.server.sock, ZMQ_LAST_ENDPOINT, ep, &eplen);
    const hl_curve_t *keys[3] = {&good, &bad, NULL};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(hl_zsock_init(&w.client[i], &loop, zctx, ZMQ_PUSH, "client", 100, 0), 0);
        int reconnect = 20;
        zmq_setsockopt(w.client[i].sock, ZMQ_RECONNECT_IVL, &reconnect, sizeof reconnect);
        assert_int_equal(hl_curve_apply_client(&w.client[i], keys[i]), 0);
        assert_int_equal(hl_zsock_connect(&w.client[i], ep), 0);
    }
    hl_zsock_set_cb(&w.server, s_server_cb, NULL, &w);
    uv_timer_init(&loop, &w.tick);
    w.tick.data = &w;
    uv_timer_start(&w.tick, s_tick_cb, 5, 5);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    zmq_ctx_term(zctx);

    /* The admitted client's frames all arrived; nothing from the others,
     * which never even got a connection to send on (ZMQ_IMMEDIATE). */
    assert_int_equal(w.got[0], SENDS);
    assert_int_equal(w.sent[0], SENDS);
    assert_int_equal(w.got[1], 0);
    assert_int_equal(w.got[2], 0);
    assert_int_equal(w.sent[1], 0);
    assert_int_equal(w.sent[2], 0);
    assert_int_equal((int)hl_metric_value(zap.allowed) >= 1, 1);
    assert_true(hl_metric_value(zap.denied) >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keygen_writes_pair, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_keygen_bad_name, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_read_key_bad, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_load_rules, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_zap_replies, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_zap_bad_dir, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_curve_admits_known_key_only, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
