/* hl_service: what every hongling daemon has in common — its configuration
 * keys, the loop, the database connection, the pipeline, the HTTP port,
 * signals and the graceful drain — so that services/<name>/main.c holds only
 * its own arguments, config table and wiring.
 *
 * Drain (SIGTERM or SIGINT): stop accepting HTTP connections and stop
 * reading pipeline stages, let every request and transaction in flight
 * finish (their after-commit sends included), then close everything and
 * return 0. Messages still in socket buffers are not lost: their rows stay
 * pending and a sweeper re-sends them. HL_DRAIN_TIMEOUT_MS bounds the wait. */
#ifndef HL_SERVICE_H
#define HL_SERVICE_H

#include "hl_cfg.h"
#include "hl_db.h"
#include "hl_http.h"
#include "hl_pipeline.h"

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

/* Settings every daemon takes (keys and defaults: hl_svc_cfg_table). */
typedef struct {
    const char *database_url;    /* HL_DATABASE_URL */
    const char *db_role;         /* HL_DB_ROLE */
    const char *bus;             /* HL_BUS */
    const char *http_addr;       /* HL_HTTP_ADDR */
    long long http_port;         /* HL_HTTP_PORT */
    const char *log_level;       /* HL_LOG_LEVEL */
    bool migrate;                /* HL_MIGRATE */
    long long batch_max;         /* HL_DB_BATCH_MAX */
    long long body_limit;        /* HL_BODY_LIMIT */
    long long conn_limit;        /* HL_HTTP_CONN_LIMIT */
    long long resend_after_ms;   /* HL_RESEND_AFTER_MS */
    long long sweep_interval_ms; /* HL_SWEEP_INTERVAL_MS */
    long long max_attempts;      /* HL_MAX_ATTEMPTS */
    long long retain_done_s;     /* HL_RETAIN_DONE_S */
    long long hwm;               /* HL_ZMQ_HWM */
    long long drain_timeout_ms;  /* HL_DRAIN_TIMEOUT_MS */
    bool duplicate_sends;        /* HL_DUPLICATE_SENDS (a test mode) */
    const char *curve_secret;    /* HL_CURVE_SECRET_KEY_FILE */
    const char *curve_public;    /* HL_CURVE_PUBLIC_KEY_FILE */
    const char *curve_server;    /* HL_CURVE_SERVER_KEY_FILE */
} hl_svc_cfg_t;

/* The rows every daemon shares (hl_service.c), offsets within hl_svc_cfg_t,
 * ended by a row with key NULL; HTTP port and database role are not among
 * them, since each daemon has its own defaults. */
extern const hl_cfg_entry_t hl_svc_cfg_table[];

/* The common rows of a service's config table: its HTTP port and database
 * role with the service's defaults, then hl_svc_cfg_table, where `T` is the
 * service's config struct and `f` its hl_svc_cfg_t member. */
#define HL_SVC_CFG_ENTRIES(T, f, port, role)                                                       \
    {"HL_HTTP_PORT", HL_CFG_INT,        port, 1, 65535, offsetof(T, f.http_port),                  \
     false,          "HTTP listen port"},                                                          \
        {"HL_DB_ROLE",                                                                             \
         HL_CFG_STR,                                                                               \
         role,                                                                                     \
         0,                                                                                        \
         0,                                                                                        \
         offsetof(T, f.db_role),                                                                   \
         false,                                                                                    \
         "role to SET after connecting (empty: none)"},                                            \
    {                                                                                              \
        "(every daemon)", HL_CFG_TABLE, HL_CFG_SUBTABLE(hl_svc_cfg_table), 0, 0, offsetof(T, f),   \
            false, "the settings every daemon takes"                                               \
    }

typedef struct hl_service hl_service_t;

struct hl_service {
    const char *name;                  /* "hl-intake" */
    const hl_svc_cfg_t *cfg;           /* not owned */
    uv_loop_t *loop;                   /* the default loop */
    void *zctx;                        /* ZeroMQ context, owned */
    hl_db_t *db;                       /* owned */
    hl_pipeline_t *pipeline;           /* owned */
    hl_http_t *http;                   /* owned, NULL until hl_service_listen */
    uv_signal_t sigterm;               /* drain */
    uv_signal_t sigint;                /* drain */
    uv_timer_t drain_timer;            /* polls for the end of the drain */
    uint64_t drain_deadline;           /* uv_now() past which we stop waiting */
    bool draining;                     /* drain started */
    void (*on_drain)(hl_service_t *s); /* service's own drain step, or NULL */
    /* The service's own part of /readyz (adds its fields to `detail`), or
     * NULL: hl-triage is not ready before its index of open items is. */
    bool (*on_ready)(hl_service_t *s, json_t *detail);
    void *app;        /* the service's own state */
    hl_curve_t curve; /* CURVE client keys, or all empty (plain TCP) */
};

/* Parses the service's config table from the environment (exits with a
 * message naming the key on error; --help prints the table and exits 0). */
void hl_service_config(int argc, char **argv, const char *name, const hl_cfg_entry_t *table,
                       size_t n, void *cfg, const hl_svc_cfg_t *svc);

/* Sets up logging, runs migrations when asked, connects the database and
 * opens the pipeline. Returns 0 or an HL_E* code (logged). */
int hl_service_init(hl_service_t *s, const char *name, const hl_svc_cfg_t *cfg);
/* Starts the HTTP server with the service's routes. */
int hl_service_listen(hl_service_t *s, const hl_http_route_t *routes, size_t n);
/* Runs the loop until drained; returns the process exit code. */
int hl_service_run(hl_service_t *s);

/* Every HL_* key any hongling program accepts, NULL-terminated: a key meant
 * for one daemon in a shared environment is not a typo for another. Not in
 * the library: services/known_keys.c, linked into every program. */
extern const char *const hl_known_keys[];

/* Blocking connect + migrate, for start-up and hlctl. Returns 0 or HL_EDB. */
int hl_service_migrate(const char *database_url);

#endif
