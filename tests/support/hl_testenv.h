/* hl_testenv: what tests need from the outside world — a database of their
 * own in the throwaway PostgreSQL that tests/run.sh started (HL_TEST_PG),
 * free ports, and a whole cluster of real daemons they can start, kill -9
 * and restart. Timeouts scale with HL_TEST_TIMEOUT_MULT for slow machines. */
#ifndef HL_TESTENV_H
#define HL_TESTENV_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <sys/types.h>

/* Daemons of a cluster, in start order. */
enum {
    HL_T_BUS0,     /* first hl-bus */
    HL_T_BUS1,     /* second hl-bus (when started with two) */
    HL_T_INTAKE,   /* hl-intake */
    HL_T_TRIAGE,   /* hl-triage */
    HL_T_BOUNTY,   /* hl-bounty */
    HL_T_POINTS,   /* hl-points */
    HL_T_ALLIANCE, /* hl-alliance */
    HL_T_COUNT
};

typedef struct {
    char dir[256];             /* logs of this cluster (kept on failure) */
    char *db_url;              /* its own database */
    int nbuses;                /* 1 or 2 */
    int bus_port[2];           /* bus base ports */
    int http_port[HL_T_COUNT]; /* HTTP ports (daemons only) */
    pid_t pid[HL_T_COUNT];     /* running processes, 0 when stopped */
    int starts[HL_T_COUNT];    /* how often each was started (log file suffix) */
    const char *extra_env[8];  /* NULL-terminated extra HL_* settings for every daemon */
} hl_cluster_t;

/* Multiplier for every timeout (HL_TEST_TIMEOUT_MULT, default 1). */
double hl_test_mult(void);
/* The whole number in environment variable `name` (a test's size, such as
 * HL_CRASH_APPEALS), or `def` when it is unset or not a positive number. */
int hl_test_env_int(const char *name, int def);
/* A monotonic clock in seconds, for tests that print how long things took. */
double hl_test_now(void);
/* The admin URL of the test PostgreSQL, or NULL when tests run without one. */
const char *hl_test_pg(void);
/* A PostgreSQL server of a test's own (scripts/pg.sh in a temporary
 * directory, a free port), for tests that stop and start it under load;
 * the others share the one tests/run.sh started. */
typedef struct {
    char dir[256];       /* its directory (pg.sh DIR) */
    int port;            /* its port on 127.0.0.1 */
    char admin_url[128]; /* its "postgres" database, as HL_TEST_PG would name it */
} hl_test_pgserver_t;
/* Creates the server in a new directory and starts it. Returns 0 or -1 (logged). */
int hl_test_pgserver_new(hl_test_pgserver_t *s);
/* scripts/pg.sh start: starts it again (crash recovery after an immediate stop). */
int hl_test_pgserver_start(hl_test_pgserver_t *s);
/* scripts/pg.sh stop with `mode` "fast" or "immediate" (no checkpoint, as a crash). */
int hl_test_pgserver_stop(hl_test_pgserver_t *s, const char *mode);
/* Stops it and deletes it (pg.sh remove) with its directory. */
void hl_test_pgserver_remove(hl_test_pgserver_t *s);

/* Creates (drop + create) database `name` and returns its URL (caller frees). */
char *hl_test_create_db(const char *name);
/* Connects or fails the test. */
PGconn *hl_test_connect(const char *url);
/* Runs `sql` and returns the first column of the first row as a number. */
long hl_test_scalar(PGconn *conn, const char *sql);
/* Waits until `sql` returns `want`, polling; returns whether it did. */
bool hl_test_wait_scalar(PGconn *conn, const char *sql, long want, double seconds);
/* A base port with `span` consecutive free TCP ports on 127.0.0.1. */
int hl_test_free_ports(int span);
/* Path of a built binary ($BUILD/bin/NAME). Static buffer. */
const char *hl_test_bin(const char *name);

/* Creates the database, migrates, seeds the demo city and starts the buses
 * and all five daemons; waits for /readyz. Returns 0 or -1 (logged). */
int hl_cluster_start(hl_cluster_t *c, const char *name, int nbuses);
/* (Re)starts one process and, for daemons, waits until it is ready. */
int hl_cluster_spawn(hl_cluster_t *c, int which);
/* Sends `sig` to one process and reaps it. */
void hl_cluster_kill(hl_cluster_t *c, int which, int sig);
/* The peak resident set size (VmHWM) of running process `which`, in KiB;
 * -1 when it is not running or /proc does not say. */
long hl_cluster_peak_rss_kb(hl_cluster_t *c, int which);
/* The name of process `which` ("hl-triage", "hl-bus"). */
const char *hl_cluster_name(int which);
/* SIGTERM to every process, waits for them; returns how many did not exit 0. */
int hl_cluster_stop(hl_cluster_t *c);
/* Removes the logs when `ok`, else prints where they are. Frees. */
void hl_cluster_close(hl_cluster_t *c, bool ok);
/* Waits for GET /readyz == 200 on daemon `which`. */
bool hl_cluster_wait_ready(hl_cluster_t *c, int which, double seconds);

/* One HTTP request to daemon `which`; returns the status (0: no answer).
 * `body` (may be NULL) is sent as JSON; *out gets the parsed reply (may be
 * NULL for non-JSON). Extra headers as "Name: value" strings, NULL-ended. */
long hl_test_http(hl_cluster_t *c, int which, const char *method, const char *path, json_t *body,
                  json_t **out, const char *const *headers);
/* The same against a full URL with a raw body and content type. */
long hl_test_http_raw(const char *url, const char *method, const char *content_type,
                      const char *body, size_t len, char **out, const char *const *headers);

/* One HTTP exchange with the response headers tests look at. */
typedef struct {
    long status;           /* 0: no answer */
    char *body;            /* owned (free), "" when empty */
    char retry_after[16];  /* Retry-After, "" when absent */
    char content_type[64]; /* Content-Type, "" when absent */
} hl_test_resp_t;

/* hl_test_http_raw that fills *r (body and headers); returns r->status. */
long hl_test_http_ex(const char *url, const char *method, const char *content_type,
                     const char *body, size_t len, const char *const *headers, hl_test_resp_t *r);

/* The value of metric `series` (a name, or a name with its labels as
 * /metrics prints them) on daemon `which`, summed over every label set when
 * only a name is given; -1 when /metrics does not answer. */
double hl_test_metric(hl_cluster_t *c, int which, const char *series);

#endif
