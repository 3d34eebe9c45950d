/* hl_service: the shared life of a daemon — start, run, drain, stop. */
#include "hl_service.h"

#include "hl_err.h"
#include "hl_log.h"
#include "hl_metrics.h"
#include "hl_migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

const char *const hl_known_keys[] = {
    "HL_DATABASE_URL", "HL_DB_ROLE", "HL_BUS", "HL_HTTP_ADDR", "HL_HTTP_PORT", "HL_LOG_LEVEL",
    "HL_MIGRATE", "HL_DB_BATCH_MAX", "HL_BODY_LIMIT", "HL_HTTP_CONN_LIMIT", "HL_RESEND_AFTER_MS",
    "HL_SWEEP_INTERVAL_MS", "HL_MAX_ATTEMPTS", "HL_RETAIN_DONE_S", "HL_ZMQ_HWM",
    "HL_DRAIN_TIMEOUT_MS", "HL_DUPLICATE_SENDS",
    /* hl-bus */
    "HL_BUS_BIND", "HL_CURVE_ALLOWED_KEYS_DIR",
    /* CurveZMQ */
    "HL_CURVE_SECRET_KEY_FILE", "HL_CURVE_PUBLIC_KEY_FILE", "HL_CURVE_SERVER_KEY_FILE",
    /* service-specific */
    "HL_PUBLIC_URL", "HL_BATCH_MAX_LINES", "HL_WISH_POINTS", "HL_ACTION_SCAN_MS",
    "HL_WEBHOOK_SCAN_MS", "HL_WEBHOOK_TIMEOUT_MS", "HL_WEBHOOK_MAX_ATTEMPTS",
    "HL_WEBHOOK_BACKOFF_MS", "HL_WEBHOOK_BACKOFF_MAX_MS", "HL_WEBHOOK_IN_FLIGHT",
    "HL_CONSOLIDATE_PERMILLE", "HL_CONSOLIDATE_DAYS", "HL_DEADLINE_SCAN_MS", "HL_CLOCK_OFFSET_S",
    "HL_INDEX_MAX_ITEMS", "HL_INDEX_SYNC_MS", "HL_RATE_PER_KEY_PER_MIN", "HL_RATE_PER_ADDR_PER_MIN",
    "HL_RATE_BURST", "HL_RATE_EXEMPT", "HL_KEY_LOOKUPS_PER_S",
    /* compose and its test, the netns test */
    "HL_IMAGE_PREFIX", "HL_IMAGE_TAG", "HL_POSTGRES_IMAGE", "HL_INTAKE_PORTS", "HL_COMPOSE_APPEALS",
    "HL_NETNS_CUT_S", "HL_NETNS_APPEALS",
    /* scripts and tests */
    "HL_VAR", "HL_PG_PORT", "HL_TEST_TIMEOUT_MULT", "HL_VALGRIND", "HL_DEMO_APPEALS",
    "HL_BASE_PORT", "HL_BUS_PORT", "HL_KEEP", "HL_CRASH_APPEALS", "HL_TEST_PG", "HL_CRASH_ROUNDS",
    "HL_PGSTOP_APPEALS", "HL_PGSTOP_ROUNDS", "HL_KILL_APPEALS", "HL_KILL_ROUNDS",
    "HL_SIGSTOP_SECONDS", "HL_SIGSTOP_RATE", "HL_SIGSTOP_RSS_MB", "HL_BENCH_APPEALS",
    "HL_BENCH_CONCURRENCY", "HL_BENCH_STORED", "HL_BENCH_LOG_LEVEL", "HL_BENCH_PGSS", "HL_TESTS",
    "HL_FUZZ_SECONDS", "HL_DISKFULL_APPEALS", "HL_DISKFULL_MB", NULL};

void hl_service_config(int argc, char **argv, const char *name, const hl_cfg_entry_t *table,
                       size_t n, void *cfg, const hl_svc_cfg_t *svc)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            hl_cfg_help(stdout, name, table, n);
            exit(0);
        }
        fprintf(stderr,
                "%s: unknown argument \"%s\" (configuration is by HL_* variables; see --help)\n",
                name, argv[i]);
        exit(2);
    }
    char err[256];
    hl_log_init(name, HL_LOG_INFO);
    if (hl_cfg_load(table, n, cfg, hl_known_keys, err, sizeof err) != 0) {
        hl_error(NULL, NULL, "bad configuration: %s", err);
        exit(2);
    }
    int level = hl_log_level_parse(svc->log_level);
    if (level < 0) {
        hl_error(NULL, NULL,
                 "bad configuration: HL_LOG_LEVEL: \"%s\" is not debug, info, warn or error",
                 svc->log_level);
        exit(2);
    }
    hl_log_init(name, (hl_log_level_t)level);
    hl_cfg_log(table, n, cfg);
}

int hl_service_migrate(const char *database_url)
{
    PGconn *conn = PQconnectdb(database_url);
    if (PQstatus(conn) != CONNECTION_OK) {
        hl_error("db", NULL, "could not connect to migrate: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return HL_EDB;
    }
    PGresult *r = PQexec(conn, "SET client_min_messages = warning");
    PQclear(r);
    int applied = 0;
    int rc = hl_migrate(conn, &applied);
    PQfinish(conn);
    if (rc == 0)
        hl_info("db", NULL, "schema up to date (%d migrations applied now)", applied);
    return rc;
}

static void s_on_signal(uv_signal_t *h, int signum);

int hl_service_init(hl_service_t *s, const char *name, const hl_svc_cfg_t *cfg)
{
    memset(s, 0, sizeof *s);
    s->name = name;
    s->cfg = cfg;
    s->loop = uv_default_loop();
    if (cfg->migrate && hl_service_migrate(cfg->database_url) != 0)
        return HL_EDB;
    int rc =
        hl_curve_load(&s->curve, cfg->curve_secret, cfg->curve_public, cfg->curve_server, false);
    if (rc != 0)
        return rc;
    if (hl_curve_on(&s->curve))
        hl_info("curve", s->curve.public_key, "CURVE on every bus hop, as this public key");
    s->zctx = zmq_ctx_new();
    hl_db_cfg_t dbcfg = {cfg->database_url, cfg->db_role, (int)cfg->batch_max, name};
    s->db = hl_db_new(s->loop, &dbcfg);
    hl_pipeline_cfg_t pcfg = {
        .buses = cfg->bus,
        .producer = name,
        .hwm = (int)cfg->hwm,
        .resend_after_ms = (int)cfg->resend_after_ms,
        .sweep_interval_ms = (int)cfg->sweep_interval_ms,
        .max_attempts = (int)cfg->max_attempts,
        .retain_done_s = (int)cfg->retain_done_s,
        .backlog_max = (int)cfg->batch_max * 4,
        .curve = &s->curve,
        .duplicate_sends = cfg->duplicate_sends,
    };
    s->pipeline = hl_pipeline_new(s->loop, s->zctx, s->db, &pcfg);
    uv_signal_init(s->loop, &s->sigterm);
    uv_signal_init(s->loop, &s->sigint);
    uv_timer_init(s->loop, &s->drain_timer);
    s->sigterm.data = s->sigint.data = s->drain_timer.data = s;
    uv_signal_start(&s->sigterm, s_on_signal, SIGTERM);
    uv_signal_start(&s->sigint, s_on_signal, SIGINT);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static bool s_ready(void *arg, json_t *detail)
{
    hl_service_t *s = arg;
    bool db = hl_db_ready(s->db);
    bool bus = hl_pipeline_connected(s->pipeline);
    json_object_set_new(detail, "database", json_boolean(db));
    json_object_set_new(detail, "bus", json_boolean(bus));
    return db && bus && !s->draining;
}

int hl_service_listen(hl_service_t *s, const hl_http_route_t *routes, size_t n)
{
    hl_http_cfg_t hc = {
        .addr = s->cfg->http_addr,
        .port = (int)s->cfg->http_port,
        .body_limit = s->cfg->body_limit,
        .conn_limit = (int)s->cfg->conn_limit,
        .timeout_s = 30,
        .service = s->name,
        .ready = s_ready,
        .ready_arg = s,
    };
    s->http = hl_http_new(s->loop, &hc, routes, n);
    if (!s->http)
        return HL_EIO;
    hl_info("http", NULL, "listening on %s:%lld", s->cfg->http_addr, s->cfg->http_port);
    return 0;
}

static void s_close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void s_finish(hl_service_t *s)
{
    uv_timer_stop(&s->drain_timer);
    hl_http_destroy(&s->http);
    hl_pipeline_destroy(&s->pipeline);
    hl_db_destroy(&s->db);
    uv_close((uv_handle_t *)&s->sigterm, NULL);
    uv_close((uv_handle_t *)&s->sigint, NULL);
    uv_close((uv_handle_t *)&s->drain_timer, NULL);
}

static void s_drain_tick(uv_timer_t *t)
{
    hl_service_t *s = t->data;
    int active = s->http ? hl_http_active(s->http) : 0;
    size_t pending = hl_db_pending(s->db);
    if (active == 0 && pending == 0) {
        hl_info(NULL, NULL, "drained: exiting");
        s_finish(s);
        return;
    }
    if (uv_now(s->loop) >= s->drain_deadline) {
        hl_warn(NULL, NULL, "drain timed out with %d requests and %zu units in flight: exiting",
                active, pending);
        s_finish(s);
    }
}

static void s_on_signal(uv_signal_t *h, int signum)
{
    hl_service_t *s = h->data;
    if (s->draining) {
        hl_warn(NULL, NULL, "second signal %d: exiting without waiting", signum);
        s_finish(s);
        return;
    }
    s->draining = true;
    hl_info(NULL, NULL, "signal %d: draining", signum);
    if (s->http)
        hl_http_quiesce(s->http);
    hl_pipeline_stop_consuming(s->pipeline);
    if (s->on_drain)
        s->on_drain(s);
    s->drain_deadline = uv_now(s->loop) + (uint64_t)s->cfg->drain_timeout_ms;
    uv_timer_start(&s->drain_timer, s_drain_tick, 0, 20);
}

int hl_service_run(hl_service_t *s)
{
    hl_info(NULL, NULL, "started (pid %d)", (int)getpid());
    uv_run(s->loop, UV_RUN_DEFAULT);
    /* Anything a service left open is closed here so the loop ends clean. */
    uv_walk(s->loop, s_close_walk, NULL);
    uv_run(s->loop, UV_RUN_DEFAULT);
    uv_loop_close(s->loop);
    zmq_ctx_term(s->zctx);
    hl_metrics_reset();
    return 0;
}
