/* hl-bus: the fixed meeting point of the pipeline.
 *
 * For every stage it binds a PULL socket that producers push into
 * (base + 2 * stage) and a PUSH socket that consumer replicas pull from
 * (base + 2 * stage + 1), and streams frames from one to the other on one
 * libuv loop. It keeps nothing durable: a bus killed with messages inside
 * loses them, and the producers' sweepers re-send what no consumer marked
 * done. When no consumer can take a frame, the bus stops reading that
 * stage, so back-pressure reaches the producers (whose sends then defer to
 * the pipeline table) instead of piling up here.
 *
 * With HL_CURVE_SECRET_KEY_FILE and HL_CURVE_ALLOWED_KEYS_DIR set, every
 * socket is a CURVE server and a ZAP handler on the same loop admits only
 * the daemons whose *.pub files are in that directory (common/hl_curve.h).
 * With HL_HTTP_PORT set it serves /healthz, /readyz and /metrics (frames
 * streamed, stalls, ZAP admissions and denials). */
#include "hl.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *bind;         /* HL_BUS_BIND */
    const char *log_level;    /* HL_LOG_LEVEL */
    long long hwm;            /* HL_ZMQ_HWM */
    const char *curve_secret; /* HL_CURVE_SECRET_KEY_FILE */
    const char *curve_public; /* HL_CURVE_PUBLIC_KEY_FILE */
    const char *allowed_dir;  /* HL_CURVE_ALLOWED_KEYS_DIR */
    const char *http_addr;    /* HL_HTTP_ADDR */
    long long http_port;      /* HL_HTTP_PORT, 0 = no HTTP */
} bus_cfg_t;

static const hl_cfg_entry_t s_cfg_table[] = {
    {"HL_BUS_BIND", HL_CFG_STR, "tcp://0.0.0.0:7100", 0, 0, offsetof(bus_cfg_t, bind), false,
     "base address; stage i binds base+2i (producers push) and base+2i+1 (consumers pull)"},
    {"HL_LOG_LEVEL", HL_CFG_STR, "info", 0, 0, offsetof(bus_cfg_t, log_level), false,
     "debug, info, warn or error"},
    {"HL_ZMQ_HWM", HL_CFG_INT, "10000", 1, 10000000, offsetof(bus_cfg_t, hwm), false,
     "ZeroMQ high-water mark per socket"},
    {"HL_CURVE_SECRET_KEY_FILE", HL_CFG_STR, "", 0, 0, offsetof(bus_cfg_t, curve_secret), false,
     "the buses' CURVE secret key (Z85 file); empty: plain TCP"},
    {"HL_CURVE_PUBLIC_KEY_FILE", HL_CFG_STR, "", 0, 0, offsetof(bus_cfg_t, curve_public), false,
     "the buses' CURVE public key (checked against the secret; optional)"},
    {"HL_CURVE_ALLOWED_KEYS_DIR", HL_CFG_STR, "", 0, 0, offsetof(bus_cfg_t, allowed_dir), false,
     "directory of the daemons' *.pub files the ZAP handler admits (needed with CURVE)"},
    {"HL_HTTP_ADDR", HL_CFG_STR, "0.0.0.0", 0, 0, offsetof(bus_cfg_t, http_addr), false,
     "HTTP listen address for /healthz, /readyz and /metrics"},
    {"HL_HTTP_PORT", HL_CFG_INT, "0", 0, 65535, offsetof(bus_cfg_t, http_port), false,
     "HTTP port for /healthz, /readyz and /metrics (0: no HTTP)"},
};

typedef struct {
    hl_zsock_t in;          /* PULL: producers push here */
    hl_zsock_t out;         /* PUSH: consumers pull from here */
    zmq_msg_t held;         /* a frame the out side could not take yet */
    bool holding;           /* `held` is valid */
    bool held_more;         /* `held` has a following frame */
    hl_metric_t *forwarded; /* frames streamed */
    hl_metric_t *stalls;    /* times the out side pushed back */
} bus_stage_t;

static bus_stage_t s_stages[HL_STAGE_COUNT];
static hl_zap_t s_zap;          /* admits daemons' keys when CURVE is on */
static bool s_zap_open;         /* s_zap is bound */
static hl_http_t *s_http;       /* /healthz, /readyz, /metrics, or NULL */
static uv_timer_t s_http_timer; /* closes HTTP once its requests are done */

static void s_in_cb(hl_zsock_t *z, zmq_msg_t *frame, bool more, void *arg)
{
    bus_stage_t *st = arg;
    int rc = hl_zsock_send_msg(&st->out, frame, more);
    if (rc == 0) {
        hl_metric_add(st->forwarded, 1);
        return;
    }
    /* No consumer can take it now: keep it, stop reading, wait for room. */
    zmq_msg_init(&st->held);
    zmq_msg_move(&st->held, frame);
    st->holding = true;
    st->held_more = more;
    hl_metric_add(st->stalls, 1);
    hl_zsock_pause(z);
    hl_zsock_want_write(&st->out);
}

static void s_out_writable_cb(hl_zsock_t *z, void *arg)
{
    bus_stage_t *st = arg;
    (void)z;
    if (!st->holding)
        return;
    if (hl_zsock_send_msg(&st->out, &st->held, st->held_more) != 0) {
        hl_zsock_want_write(&st->out);
        return;
    }
    zmq_msg_close(&st->held);
    st->holding = false;
    hl_metric_add(st->forwarded, 1);
    hl_zsock_resume(&st->in);
}

static uv_signal_t s_sigterm, s_sigint;

static void s_http_stop_cb(uv_timer_t *t)
{
    if (s_http && hl_http_active(s_http) > 0)
        return;
    hl_http_destroy(&s_http);
    uv_close((uv_handle_t *)t, NULL);
}

static bool s_ready(void *arg, json_t *detail)
{
    (void)arg;
    json_object_set_new(detail, "curve", json_boolean(s_zap_open));
    return true;
}

static void s_stop_cb(uv_signal_t *h, int signum)
{
    hl_info(NULL, NULL, "signal %d: stopping", signum);
    if (s_zap_open)
        hl_zap_close(&s_zap);
    if (s_http) {
        hl_http_quiesce(s_http);
        uv_timer_start(&s_http_timer, s_http_stop_cb, 0, 20);
    } else {
        uv_close((uv_handle_t *)&s_http_timer, NULL);
    }
    for (int i = 0; i < HL_STAGE_COUNT; i++) {
        if (s_stages[i].holding)
            zmq_msg_close(&s_stages[i].held);
        hl_zsock_close(&s_stages[i].in, NULL);
        hl_zsock_close(&s_stages[i].out, NULL);
    }
    uv_close((uv_handle_t *)&s_sigterm, NULL);
    uv_close((uv_handle_t *)&s_sigint, NULL);
    (void)h;
}

int main(int argc, char **argv)
{
    bus_cfg_t cfg;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            hl_cfg_help(stdout, "hl-bus", s_cfg_table, sizeof s_cfg_table / sizeof s_cfg_table[0]);
            return 0;
        }
    }
    hl_log_init("hl-bus", HL_LOG_INFO);
    char err[256];
    if (hl_cfg_load(s_cfg_table, sizeof s_cfg_table / sizeof s_cfg_table[0], &cfg, hl_known_keys,
                    err, sizeof err) != 0) {
        hl_error(NULL, NULL, "bad configuration: %s", err);
        return 2;
    }
    int level = hl_log_level_parse(cfg.log_level);
    hl_log_init("hl-bus", level < 0 ? HL_LOG_INFO : (hl_log_level_t)level);
    hl_cfg_log(s_cfg_table, sizeof s_cfg_table / sizeof s_cfg_table[0], &cfg);

    hl_curve_t curve;
    if (hl_curve_load(&curve, cfg.curve_secret, cfg.curve_public, NULL, true) != 0)
        return 2;
    if (hl_curve_on(&curve) != (*cfg.allowed_dir != '\0')) {
        hl_error(NULL, NULL,
                 "bad configuration: HL_CURVE_SECRET_KEY_FILE and HL_CURVE_ALLOWED_KEYS_DIR go "
                 "together (CURVE without an allowed list would admit any key)");
        return 2;
    }

    uv_loop_t *loop = uv_default_loop();
    void *zctx = zmq_ctx_new();
    /* The ZAP handler must be bound before the first CURVE socket binds. */
    if (hl_curve_on(&curve)) {
        if (hl_zap_init(&s_zap, loop, zctx, cfg.allowed_dir, "hl_bus") != 0)
            return 2;
        s_zap_open = true;
        hl_info("curve", curve.public_key, "CURVE server on every stage, %zu daemon keys admitted",
                s_zap.nkeys);
    }
    for (int i = 0; i < HL_STAGE_COUNT; i++) {
        bus_stage_t *st = &s_stages[i];
        char ep[256], labels[64];
        snprintf(labels, sizeof labels, "stage=\"%s\"", hl_stage_name((hl_stage_t)i));
        st->forwarded = hl_metric_counter("hl_bus_forwarded_total", "Frames streamed", labels);
        st->stalls = hl_metric_counter("hl_bus_stalls_total",
                                       "Times no consumer could take a frame", labels);
        if (hl_zsock_init(&st->in, loop, zctx, ZMQ_PULL, hl_stage_name((hl_stage_t)i), (int)cfg.hwm,
                          0) != 0 ||
            hl_zsock_init(&st->out, loop, zctx, ZMQ_PUSH, hl_stage_name((hl_stage_t)i),
                          (int)cfg.hwm, 0) != 0)
            return 1;
        if (hl_curve_apply_server(&st->in, &curve) != 0 ||
            hl_curve_apply_server(&st->out, &curve) != 0)
            return 1;
        if (hl_bus_endpoint(cfg.bind, 0, i, 0, ep, sizeof ep) != 0) {
            hl_error(NULL, NULL, "bad configuration: HL_BUS_BIND: \"%s\" is not tcp://host:port",
                     cfg.bind);
            return 2;
        }
        if (hl_zsock_bind(&st->in, ep) != 0)
            return 1;
        hl_bus_endpoint(cfg.bind, 0, i, 1, ep, sizeof ep);
        if (hl_zsock_bind(&st->out, ep) != 0)
            return 1;
        hl_zsock_set_cb(&st->in, s_in_cb, NULL, st);
        hl_zsock_set_cb(&st->out, NULL, s_out_writable_cb, st);
    }
    uv_timer_init(loop, &s_http_timer);
    if (cfg.http_port > 0) {
        hl_http_cfg_t hc = {
            .addr = cfg.http_addr,
            .port = (int)cfg.http_port,
            .body_limit = 1024,
            .conn_limit = 64,
            .timeout_s = 30,
            .service = "hl-bus",
            .ready = s_ready,
        };
        s_http = hl_http_new(loop, &hc, NULL, 0);
        if (!s_http)
            return 1;
        hl_info("http", NULL, "listening on %s:%lld", cfg.http_addr, cfg.http_port);
    }
    uv_signal_init(loop, &s_sigterm);
    uv_signal_init(loop, &s_sigint);
    uv_signal_start(&s_sigterm, s_stop_cb, SIGTERM);
    uv_signal_start(&s_sigint, s_stop_cb, SIGINT);
    hl_info(NULL, NULL, "streaming %d stages from %s", HL_STAGE_COUNT, cfg.bind);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    zmq_ctx_term(zctx);
    hl_metrics_reset();
    return 0;
}
