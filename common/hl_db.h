/* hl_db: PostgreSQL on the libuv loop, non-blocking, in pipeline mode, with
 * group commit.
 *
 * Callers describe a *unit*: the statements of one logical change (an
 * appeal and its outbox row; a message's claim and its effects). Units queue
 * on the connection. Whenever no transaction is in flight, every queued unit
 * (up to HL_DB_BATCH_MAX) is sent as one pipeline ending in a single Sync:
 * PostgreSQL runs the statements between two Syncs as one implicit
 * transaction and commits it at the Sync, so one fsync carries many callers'
 * work. Units that arrive meanwhile wait for the next batch: the busier the
 * daemon, the larger the batches — group commit without a timer.
 *
 * Results are delivered only after the commit succeeded (PGRES_PIPELINE_SYNC
 * after a clean run): row callbacks, then after-commit hooks, then the done
 * callback with 0. If any statement fails, the whole batch rolled back; the
 * units before the failing one are queued again as a batch, the failing
 * unit alone ("solo"), the ones after it as a batch. A solo unit's failure
 * is final and reaches its done callback with the mapped HL_E* code, the
 * SQLSTATE and the server's message. So one bad row never sinks its
 * neighbours, and a unit's callbacks never see results of a transaction that
 * did not commit.
 *
 * Statements are prepared once per connection (keyed by the SQL text's
 * address, so pass string literals or other long-lived text) and then
 * executed by name. The connection reconnects by itself; units in flight
 * when it drops fail with HL_EDBCONN (their outcome is unknown: callers that
 * answered nobody yet retry or let the pipeline re-send). */
#ifndef HL_DB_H
#define HL_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

typedef struct hl_db hl_db_t;
typedef struct hl_dbu hl_dbu_t;

/* The error a unit failed with; valid only during the done callback. */
typedef struct {
    const char *sqlstate;   /* five characters, "" when not from the server */
    const char *message;    /* the server's (or libpq's) message */
    const char *constraint; /* constraint name for integrity errors, or NULL */
} hl_dberr_t;

/* Receives one statement's result (PGRES_TUPLES_OK or PGRES_COMMAND_OK)
 * after commit. The result is owned by hl_db and cleared after return. */
typedef void(hl_dbu_rows_fn)(void *arg, const PGresult *res);
/* Runs after commit, before the done callback. */
typedef void(hl_dbu_commit_fn)(void *arg);
/* Final word on a unit: rc 0 (committed) or HL_E*; `err` set when rc != 0. */
typedef void(hl_dbu_done_fn)(void *arg, int rc, const hl_dberr_t *err);

typedef struct {
    const char *conninfo; /* libpq connection string (not owned) */
    const char *role;     /* SET ROLE after connecting, "" or NULL for none */
    int batch_max;        /* most units in one transaction */
    const char *name;     /* for logs and PostgreSQL's application_name (not owned) */
} hl_db_cfg_t;

/* Creates the connection object and starts connecting. Returns NULL only
 * for an unusable configuration. The caller owns it; free with hl_db_destroy. */
hl_db_t *hl_db_new(uv_loop_t *loop, const hl_db_cfg_t *cfg);
/* Closes the connection; queued and in-flight units fail with HL_ESHUTDOWN. */
void hl_db_destroy(hl_db_t **db);
/* True when connected and ready for units. */
bool hl_db_ready(const hl_db_t *db);
/* Units queued or in flight. */
size_t hl_db_pending(const hl_db_t *db);
/* Called (once) each time the connection becomes ready; NULL to clear. */
void hl_db_on_ready(hl_db_t *db, void (*cb)(void *arg), void *arg);
/* Called whenever hl_db_pending() falls to zero (drain, back-pressure). */
void hl_db_on_idle(hl_db_t *db, void (*cb)(void *arg), void *arg);

/* Starts a unit. `done` may be NULL. The unit belongs to the caller until
 * hl_dbu_submit(), then to hl_db, which frees it after `done` returns. */
hl_dbu_t *hl_dbu_new(hl_db_t *db, hl_dbu_done_fn *done, void *arg);
/* Adds a statement with `nparams` parameters. values[i] NULL is SQL NULL;
 * lengths/formats may be NULL (all text). Parameter bytes are copied. `rows`
 * (may be NULL) receives the result after commit. `binary_result` asks for
 * binary columns (for bytea). */
void hl_dbu_stmt(hl_dbu_t *u, const char *sql, int nparams, const char *const *values,
                 const int *lengths, const int *formats, bool binary_result, hl_dbu_rows_fn *rows,
                 void *rows_arg);
/* Text-only shorthand: HL_DBU(u, sql, rows, arg, "a", "b"). */
#define HL_DBU(u, sql, rows, arg, ...)                                                             \
    hl_dbu_stmt((u), (sql), (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)),   \
                (const char *[]){__VA_ARGS__}, NULL, NULL, false, (rows), (arg))
/* Adds an after-commit hook (runs after the row callbacks). */
void hl_dbu_on_commit(hl_dbu_t *u, hl_dbu_commit_fn *fn, void *arg);
/* Keeps a copy of `len` bytes alive as long as the unit; returns the copy. */
void *hl_dbu_keep(hl_dbu_t *u, const void *data, size_t len);
/* Runs this unit in a transaction of its own (never batched). */
void hl_dbu_solo(hl_dbu_t *u);
/* Hands the unit to the connection and NULLs the caller's pointer. */
void hl_dbu_submit(hl_dbu_t **u);
/* Drops an unsubmitted unit without running it; NULLs the pointer. */
void hl_dbu_destroy(hl_dbu_t **u);

/* The first column of every row of a result, as owned strings. */
typedef struct {
    char **v; /* NULL-terminated, owned; NULL before any result */
    size_t n; /* how many */
} hl_strlist_t;
/* An hl_dbu_rows_fn that fills the hl_strlist_t `arg` with column 0 of
 * every row (what it held before is freed). */
void hl_db_rows_column(void *arg, const PGresult *res);
/* Frees the strings and the list; leaves it empty. */
void hl_strlist_close(hl_strlist_t *l);

/* Maps a SQLSTATE to an HL_E* code: the one place that does. */
int hl_db_map_sqlstate(const char *sqlstate);

/* Fault hook for tests: the N-th statement sent from now on fails on the
 * server (SQLSTATE HLFLT), and again whenever its unit is re-run, so that
 * unit (alone) fails with HL_EFAULT. 0 turns it off. */
void hl_db_fail_nth(hl_db_t *db, unsigned n);
/* Statistics since start, for /metrics and tests. */
typedef struct {
    unsigned long long batches;  /* transactions committed or failed */
    unsigned long long units;    /* units finished */
    unsigned long long failures; /* units finished with an error */
    unsigned long long retried;  /* units re-queued after a batch failed */
    unsigned long long reconnects;
} hl_db_stats_t;
hl_db_stats_t hl_db_stats(const hl_db_t *db);

#endif
