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

static void s_db_metrics(void *arg);

#define S_AT(member) offsetof(hl_svc_cfg_t, member)

const hl_cfg_entry_t hl_svc_cfg_table[] = {
    {"HL_DATABASE_URL", HL_CFG_STR, "postgresql://localhost:5432/hongling", 0, 0,
     S_AT(database_url), false, "PostgreSQL connection string (libpq URL or keywords)"},
    {"HL_BUS", HL_CFG_STR, "tcp://127.0.0.1:7100", 0, 0, S_AT(bus), false,
     "comma-separated hl-bus base addresses; stage i uses base+2i (in) and base+2i+1 (out)"},
    {"HL_HTTP_ADDR", HL_CFG_STR, "0.0.0.0", 0, 0, S_AT(http_addr), false, "HTTP listen address"},
    {"HL_LOG_LEVEL", HL_CFG_STR, "info", 0, 0, S_AT(log_level), false,
     "debug, info, warn or error"},
    {"HL_MIGRATE", HL_CFG_BOOL, "0", 0, 0, S_AT(migrate), false,
     "apply database migrations at start"},
    {"HL_DB_BATCH_MAX", HL_CFG_INT, "256", 1, 10000, S_AT(batch_max), false,
     "most units of work committed in one transaction"},
    {"HL_BODY_LIMIT", HL_CFG_INT, "1048576", 1024, 67108864, S_AT(body_limit), false,
     "largest HTTP request body, bytes"},
    {"HL_HTTP_CONN_LIMIT", HL_CFG_INT, "1024", 1, 100000, S_AT(conn_limit), false,
     "most concurrent HTTP connections"},
    {"HL_RESEND_AFTER_MS", HL_CFG_INT, "3000", 10, 3600000, S_AT(resend_after_ms), false,
     "re-send a pipeline message not applied after this long"},
    {"HL_SWEEP_INTERVAL_MS", HL_CFG_INT, "1000", 10, 600000, S_AT(sweep_interval_ms), false,
     "how often the sweeper looks for such messages"},
    {"HL_MAX_ATTEMPTS", HL_CFG_INT, "12", 1, 1000, S_AT(max_attempts), false,
     "re-sends before a message is dead-lettered"},
    {"HL_RETAIN_DONE_S", HL_CFG_INT, "3600", 0, 31536000, S_AT(retain_done_s), false,
     "keep applied pipeline rows this long before purging"},
    {"HL_ZMQ_HWM", HL_CFG_INT, "10000", 1, 10000000, S_AT(hwm), false,
     "ZeroMQ high-water mark per socket"},
    {"HL_CURVE_SECRET_KEY_FILE", HL_CFG_STR, "", 0, 0, S_AT(curve_secret), false,
     "this daemon's CURVE secret key (Z85 file); empty: plain TCP to the buses"},
    {"HL_CURVE_PUBLIC_KEY_FILE", HL_CFG_STR, "", 0, 0, S_AT(curve_public), false,
     "this daemon's CURVE public key (checked against the secret; optional)"},
    {"HL_CURVE_SERVER_KEY_FILE", HL_CFG_STR, "", 0, 0, S_AT(curve_server), false,
     "the buses' CURVE public key (Z85 file); needed with a secret key"},
    {"HL_DRAIN_TIMEOUT_MS", HL_CFG_INT, "8000", 0, 600000, S_AT(drain_timeout_ms), false,
     "longest graceful drain on SIGTERM"},
    {"HL_DUPLICATE_SENDS", HL_CFG_BOOL, "0", 0, 0, S_AT(duplicate_sends), false,
     "test mode: push every pipeline envelope twice (consumers must drop the second)"},
    {NULL, HL_CFG_STR, NULL, 0, 0, 0, false, NULL}};

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
    hl_metrics_on_render(s_db_metrics, s);
    uv_signal_init(s->loop, &s->sigterm);
    uv_signal_init(s->loop, &s->sigint);
    uv_timer_init(s->loop, &s->drain_timer);
    s->sigterm.data = s->sigint.data = s->drain_timer.data = s;
    uv_signal_start(&s->sigterm, s_on_signal, SIGTERM);
    uv_signal_start(&s->sigint, s_on_signal, SIGINT);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

/* hl_db's counters as metrics, per connection (conn="main", "shard1" ...),
 * read when /metrics is rendered. Registered name by name so each name's
 * HELP and TYPE are written once. */
static void s_db_metrics(void *arg)
{
    hl_service_t *s = arg;
    if (!s->db)
        return;
    enum { S_PENDING, S_READY, S_BATCHES, S_UNITS, S_FAILURES, S_RETRIED, S_RECONNECTS, S_N };
    static const struct {
        const char *name, *help;
        bool gauge;
    } defs[S_N] = {
        {"hl_db_units_pending", "Units queued or in flight on the connection", true},
        {"hl_db_ready", "1 when the connection is up and ready for units", true},
        {"hl_db_transactions_total", "Transactions committed or failed (group commit)", false},
        {"hl_db_units_total", "Units finished", false},
        {"hl_db_unit_failures_total", "Units finished with an error", false},
        {"hl_db_units_retried_total", "Units run again after their batch failed", false},
        {"hl_db_reconnects_total", "Reconnections", false},
    };
    /* Each connection's figures, read once. */
    int n = 1 + hl_pipeline_nshards(s->pipeline);
    double v[1 + HL_PIPELINE_SHARDS][S_N];
    for (int i = 0; i < n; i++) {
        hl_db_t *db = i == 0 ? s->db : hl_pipeline_shard(s->pipeline, i - 1);
        hl_db_stats_t st = hl_db_stats(db);
        v[i][S_PENDING] = (double)hl_db_pending(db);
        v[i][S_READY] = hl_db_ready(db) ? 1 : 0;
        v[i][S_BATCHES] = (double)st.batches;
        v[i][S_UNITS] = (double)st.units;
        v[i][S_FAILURES] = (double)st.failures;
        v[i][S_RETRIED] = (double)st.retried;
        v[i][S_RECONNECTS] = (double)st.reconnects;
    }
    for (int d = 0; d < S_N; d++)
        for (int i = 0; i < n; i++) {
            char labels[32];
            if (i == 0)
                snprintf(labels, sizeof labels, "conn=\"main\"");
            else
                snprintf(labels, sizeof labels, "conn=\"shard%d\"", i);
            hl_metric_t *m = defs[d].gauge ? hl_metric_gauge(defs[d].name, defs[d].help, labels)
                                           : hl_metric_counter(defs[d].name, defs[d].help, labels);
            hl_metric_set(m, v[i][d]);
        }
}

static bool s_ready(void *arg, json_t *detail)
{
    hl_service_t *s = arg;
    bool db = hl_db_ready(s->db) && hl_pipeline_shards_ready(s->pipeline);
    bool bus = hl_pipeline_connected(s->pipeline);
    json_object_set_new(detail, "database", json_boolean(db));
    json_object_set_new(detail, "bus", json_boolean(bus));
    bool app = s->on_ready ? s->on_ready(s, detail) : true;
    return db && bus && app && !s->draining;
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
    hl_metrics_on_render(NULL, NULL);
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
    size_t pending = hl_db_pending(s->db) + hl_pipeline_shard_pending(s->pipeline);
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
