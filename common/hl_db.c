/* hl_db: non-blocking libpq in pipeline mode with group commit (see hl_db.h).
 *
 * Life of a batch: s_prepare_cb (a uv_prepare handle, so everything
 * submitted during one loop turn rides together) takes the queued units,
 * s_send_batch writes their statements and one Sync, s_read_results matches
 * each result to what was sent (the "expect" ring), and s_finish_batch
 * delivers results after the Sync or splits the batch after a failure. */
#include "hl_db.h"

#include "hl_alloc.h"
#include "hl_err.h"
#include "hl_log.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define HL_DB_MAX_PREP 256

typedef struct {
    const char *sql;      /* not owned: statements are long-lived text */
    int nparams;          /* parameter count */
    char **values;        /* copies in the unit's arena */
    int *lengths;         /* arena, or NULL */
    int *formats;         /* arena, or NULL */
    bool binary;          /* binary result columns */
    hl_dbu_rows_fn *rows; /* result consumer, or NULL */
    void *rows_arg;       /* for rows */
    PGresult *res;        /* result held until the batch commits */
} s_stmt_t;

typedef struct {
    hl_dbu_commit_fn *fn; /* after-commit hook */
    void *arg;            /* its argument */
} s_hook_t;

typedef struct s_block {
    struct s_block *next; /* arena chain */
    max_align_t data[];   /* the kept bytes */
} s_block_t;

struct hl_dbu {
    hl_db_t *db;          /* connection it belongs to */
    hl_dbu_t *next;       /* queue link */
    s_stmt_t *stmts;      /* statements, in order */
    int nstmts;           /* used */
    int stmtcap;          /* allocated */
    s_hook_t *hooks;      /* after-commit hooks */
    int nhooks;           /* used */
    int hookcap;          /* allocated */
    hl_dbu_done_fn *done; /* final callback, or NULL */
    void *arg;            /* for done */
    bool solo;            /* must run in a transaction of its own */
    int fault_stmt;       /* statement the fault hook hit (index + 1), 0 if none */
    s_block_t *mem;       /* arena of parameter copies */
};

enum { S_EXP_PREPARE, S_EXP_STMT, S_EXP_SYNC };

typedef struct {
    int kind; /* S_EXP_* */
    int unit; /* index in the batch (PREPARE: the unit that needed it) */
    int stmt; /* statement index in the unit (STMT) */
    int prep; /* prepared-statement slot (PREPARE) */
    bool got; /* a result arrived, the NULL separator is next */
} s_expect_t;

enum { S_PREP_NONE, S_PREP_SENT, S_PREP_READY };

typedef struct {
    const char *sql; /* key: the text's address */
    int state;       /* S_PREP_* */
} s_prep_t;

enum { S_DOWN, S_CONNECTING, S_SETUP, S_READY };

struct hl_db {
    uv_loop_t *loop;                /* not owned */
    hl_db_cfg_t cfg;                /* strings not owned */
    PGconn *conn;                   /* NULL while down */
    uv_poll_t *poll;                /* watches PQsocket; heap, freed in its close callback */
    int poll_fd;                    /* the fd `poll` watches */
    int poll_events;                /* UV_READABLE / UV_WRITABLE currently asked for */
    uv_timer_t retry;               /* reconnect back-off */
    uv_prepare_t pump;              /* starts a batch before the loop blocks */
    int handles_open;               /* uv handles not yet closed (for destroy) */
    int state;                      /* S_* */
    unsigned backoff_ms;            /* next reconnect delay */
    hl_dbu_t *head;                 /* queue of submitted units */
    hl_dbu_t *tail;                 /* last queued */
    size_t queued;                  /* units in the queue */
    hl_dbu_t **batch;               /* units in flight */
    int nbatch;                     /* how many */
    int batchcap;                   /* allocated */
    s_expect_t *exp;                /* results expected, in order */
    int nexp;                       /* used */
    int exphead;                    /* next to match */
    int expcap;                     /* allocated */
    int fail_unit;                  /* first failing unit of the batch, -1 if none */
    char fail_state[6];             /* its SQLSTATE */
    char *fail_msg;                 /* its message (owned) */
    char *fail_constraint;          /* constraint name (owned) or NULL */
    s_prep_t preps[HL_DB_MAX_PREP]; /* prepared statements on this connection */
    int nprep;                      /* slots used */
    void (*ready_cb)(void *);       /* connection became ready */
    void *ready_arg;
    void (*idle_cb)(void *); /* nothing pending any more */
    void *idle_arg;
    unsigned fail_nth;   /* fault hook */
    unsigned sent;       /* statements sent since the hook was set */
    bool destroying;     /* hl_db_destroy called */
    hl_db_stats_t stats; /* counters */
};

static void s_start_connect(hl_db_t *db);
static void s_watch(hl_db_t *db, int events);
static void s_read_results(hl_db_t *db);

/* ---- units ------------------------------------------------------------ */

hl_dbu_t *hl_dbu_new(hl_db_t *db, hl_dbu_done_fn *done, void *arg)
{
    assert(db);
    hl_dbu_t *u = hl_calloc(1, sizeof *u);
    u->db = db;
    u->done = done;
    u->arg = arg;
    return u;
}

void *hl_dbu_keep(hl_dbu_t *u, const void *data, size_t len)
{
    s_block_t *b = hl_malloc(sizeof *b + len + 1);
    b->next = u->mem;
    u->mem = b;
    memcpy(b->data, data, len);
    ((char *)b->data)[len] = '\0';
    return b->data;
}

void hl_dbu_stmt(hl_dbu_t *u, const char *sql, int nparams, const char *const *values,
                 const int *lengths, const int *formats, bool binary_result, hl_dbu_rows_fn *rows,
                 void *rows_arg)
{
    assert(u);
    assert(sql);
    assert(nparams >= 0);
    if (u->nstmts == u->stmtcap) {
        u->stmtcap = u->stmtcap ? u->stmtcap * 2 : 4;
        u->stmts = hl_realloc(u->stmts, (size_t)u->stmtcap * sizeof *u->stmts);
    }
    s_stmt_t *s = &u->stmts[u->nstmts++];
    memset(s, 0, sizeof *s);
    s->sql = sql;
    s->nparams = nparams;
    s->binary = binary_result;
    s->rows = rows;
    s->rows_arg = rows_arg;
    if (nparams == 0)
        return;
    s->values = hl_dbu_keep(u, values, (size_t)nparams * sizeof(char *));
    for (int i = 0; i < nparams; i++) {
        if (!values[i]) {
            s->values[i] = NULL;
            continue;
        }
        size_t len = lengths && formats && formats[i] ? (size_t)lengths[i] : strlen(values[i]);
        s->values[i] = hl_dbu_keep(u, values[i], len);
    }
    if (lengths && formats) {
        s->lengths = hl_dbu_keep(u, lengths, (size_t)nparams * sizeof(int));
        s->formats = hl_dbu_keep(u, formats, (size_t)nparams * sizeof(int));
    }
}

void hl_dbu_on_commit(hl_dbu_t *u, hl_dbu_commit_fn *fn, void *arg)
{
    if (u->nhooks == u->hookcap) {
        u->hookcap = u->hookcap ? u->hookcap * 2 : 2;
        u->hooks = hl_realloc(u->hooks, (size_t)u->hookcap * sizeof *u->hooks);
    }
    u->hooks[u->nhooks++] = (s_hook_t){fn, arg};
}

void hl_dbu_solo(hl_dbu_t *u)
{
    u->solo = true;
}

static void s_unit_clear_results(hl_dbu_t *u)
{
    for (int i = 0; i < u->nstmts; i++) {
        PQclear(u->stmts[i].res);
        u->stmts[i].res = NULL;
    }
}

void hl_dbu_destroy(hl_dbu_t **up)
{
    hl_dbu_t *u = *up;
    if (!u)
        return;
    s_unit_clear_results(u);
    while (u->mem) {
        s_block_t *b = u->mem;
        u->mem = b->next;
        free(b);
    }
    free(u->stmts);
    free(u->hooks);
    free(u);
    *up = NULL;
}

static void s_unit_fail(hl_dbu_t *u, int rc, const char *sqlstate, const char *msg,
                        const char *constraint)
{
    hl_db_t *db = u->db;
    db->stats.units++;
    db->stats.failures++;
    if (u->done) {
        hl_dberr_t err = {sqlstate ? sqlstate : "", msg ? msg : hl_strerror(rc), constraint};
        u->done(u->arg, rc, &err);
    }
    hl_dbu_destroy(&u);
}

static void s_pump_cb(uv_prepare_t *p);

static void s_pump_later(hl_db_t *db)
{
    if (db->state == S_READY && db->queued > 0 && db->nbatch == 0)
        uv_prepare_start(&db->pump, s_pump_cb);
}

void hl_dbu_submit(hl_dbu_t **up)
{
    hl_dbu_t *u = *up;
    assert(u);
    *up = NULL;
    hl_db_t *db = u->db;
    if (db->destroying) {
        s_unit_fail(u, HL_ESHUTDOWN, NULL, NULL, NULL);
        return;
    }
    if (db->state != S_READY && db->state != S_CONNECTING && db->state != S_SETUP) {
        /* Down and waiting to reconnect: fail fast rather than hang callers. */
        s_unit_fail(u, HL_EDBCONN, NULL, "database connection is down", NULL);
        return;
    }
    u->next = NULL;
    if (db->tail)
        db->tail->next = u;
    else
        db->head = u;
    db->tail = u;
    db->queued++;
    s_pump_later(db);
}

/* ---- the connection ------------------------------------------------- */

static void s_poll_closed(uv_handle_t *h)
{
    free(h);
}

static void s_handle_closed(uv_handle_t *h)
{
    hl_db_t *db = h->data;
    if (--db->handles_open == 0) {
        free(db->batch);
        free(db->exp);
        free(db->fail_msg);
        free(db->fail_constraint);
        free(db);
    }
}

static void s_close_poll(hl_db_t *db)
{
    if (db->poll) {
        uv_close((uv_handle_t *)db->poll, s_poll_closed);
        db->poll = NULL;
    }
    db->poll_fd = -1;
    db->poll_events = 0;
}

static void s_fail_queue(hl_db_t *db, int rc, const char *msg)
{
    while (db->head) {
        hl_dbu_t *u = db->head;
        db->head = u->next;
        if (!db->head)
            db->tail = NULL;
        db->queued--;
        s_unit_fail(u, rc, NULL, msg, NULL);
    }
}

static void s_fail_inflight(hl_db_t *db, int rc, const char *msg)
{
    int n = db->nbatch;
    db->nbatch = 0;
    db->nexp = db->exphead = 0;
    for (int i = 0; i < n; i++) {
        hl_dbu_t *u = db->batch[i];
        db->batch[i] = NULL;
        if (u)
            s_unit_fail(u, rc, NULL, msg, NULL);
    }
}

static void s_retry_cb(uv_timer_t *t)
{
    s_start_connect(t->data);
}

/* Drops the connection and schedules a reconnect. */
static void s_conn_lost(hl_db_t *db, const char *why)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s", why ? why : "connection lost");
    size_t len = strlen(msg);
    while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
        msg[--len] = '\0';
    if (db->state == S_READY || db->state == S_SETUP)
        hl_error("db", db->cfg.name, "lost database connection: %s", msg);
    else
        hl_warn("db", db->cfg.name, "could not connect to database: %s", msg);
    s_close_poll(db);
    if (db->conn) {
        PQfinish(db->conn);
        db->conn = NULL;
    }
    db->state = S_DOWN;
    db->nprep = 0;
    s_fail_inflight(db, HL_EDBCONN, msg);
    s_fail_queue(db, HL_EDBCONN, msg);
    if (db->destroying)
        return;
    uv_timer_start(&db->retry, s_retry_cb, db->backoff_ms, 0);
    db->backoff_ms = db->backoff_ms * 2 > 5000 ? 5000 : db->backoff_ms * 2;
}

static void s_flush(hl_db_t *db)
{
    int rc = PQflush(db->conn);
    if (rc < 0) {
        s_conn_lost(db, PQerrorMessage(db->conn));
        return;
    }
    s_watch(db, rc == 1 ? UV_READABLE | UV_WRITABLE : UV_READABLE);
}

static void s_poll_cb(uv_poll_t *h, int status, int events);

/* Points the poll handle at the connection's current socket with `events`. */
static void s_watch(hl_db_t *db, int events)
{
    int fd = PQsocket(db->conn);
    if (fd < 0) {
        s_conn_lost(db, "no socket");
        return;
    }
    if (db->poll && db->poll_fd != fd)
        s_close_poll(db);
    if (!db->poll) {
        db->poll = hl_malloc(sizeof *db->poll);
        uv_poll_init(db->loop, db->poll, fd);
        db->poll->data = db;
        db->poll_fd = fd;
        db->poll_events = 0;
    }
    if (db->poll_events != events) {
        uv_poll_start(db->poll, events, s_poll_cb);
        db->poll_events = events;
    }
}

static void s_setup_done(void *arg, int rc, const hl_dberr_t *err)
{
    hl_db_t *db = arg;
    if (rc != 0) {
        /* Typically a missing role: configuration, not a passing fault. */
        char why[600];
        snprintf(why, sizeof why, "could not set role \"%s\": %s", db->cfg.role, err->message);
        s_conn_lost(db, why);
        return;
    }
    db->state = S_READY;
    db->backoff_ms = 100;
    hl_info("db", db->cfg.name, "database connection ready");
    if (db->ready_cb)
        db->ready_cb(db->ready_arg);
    s_pump_later(db);
}

static void s_send_batch(hl_db_t *db, hl_dbu_t **units, int n);

static void s_connected(hl_db_t *db)
{
    if (PQenterPipelineMode(db->conn) != 1) {
        s_conn_lost(db, PQerrorMessage(db->conn));
        return;
    }
    db->state = S_SETUP;
    hl_dbu_t *u = hl_dbu_new(db, s_setup_done, db);
    if (db->cfg.role && db->cfg.role[0]) {
        char *ident = PQescapeIdentifier(db->conn, db->cfg.role, strlen(db->cfg.role));
        char *sql = hl_asprintf("SET ROLE %s", ident ? ident : "\"\"");
        PQfreemem(ident);
        /* The text must outlive the unit; statements are keyed by address,
         * so this one is sent unprepared (see s_send_batch). */
        const char *kept = hl_dbu_keep(u, sql, strlen(sql));
        free(sql);
        hl_dbu_stmt(u, kept, 0, NULL, NULL, NULL, false, NULL, NULL);
    } else {
        hl_dbu_stmt(u, "SELECT 1", 0, NULL, NULL, NULL, false, NULL, NULL);
    }
    hl_dbu_t *one[1] = {u};
    s_send_batch(db, one, 1);
}

static void s_connect_poll(hl_db_t *db)
{
    switch (PQconnectPoll(db->conn)) {
    case PGRES_POLLING_READING:
        s_watch(db, UV_READABLE);
        break;
    case PGRES_POLLING_WRITING:
        s_watch(db, UV_WRITABLE);
        break;
    case PGRES_POLLING_OK:
        s_connected(db);
        break;
    default:
        s_conn_lost(db, PQerrorMessage(db->conn));
        break;
    }
}

static void s_start_connect(hl_db_t *db)
{
    db->stats.reconnects++;
    /* The daemon's name shows in pg_stat_activity.application_name (and in
     * the backend's process title) unless the URL sets one of its own. */
    const char *const keys[] = {"fallback_application_name", "dbname", NULL};
    const char *const vals[] = {db->cfg.name, db->cfg.conninfo, NULL};
    db->conn = PQconnectStartParams(keys, vals, 1);
    if (!db->conn || PQstatus(db->conn) == CONNECTION_BAD) {
        db->state = S_CONNECTING;
        s_conn_lost(db, db->conn ? PQerrorMessage(db->conn) : "out of memory");
        return;
    }
    PQsetnonblocking(db->conn, 1);
    db->state = S_CONNECTING;
    s_connect_poll(db);
}

/* ---- batches ----------------------------------------------------------- */

static s_expect_t *s_expect(hl_db_t *db, int kind, int unit, int stmt, int prep)
{
    if (db->nexp == db->expcap) {
        db->expcap = db->expcap ? db->expcap * 2 : 64;
        db->exp = hl_realloc(db->exp, (size_t)db->expcap * sizeof *db->exp);
    }
    s_expect_t *e = &db->exp[db->nexp++];
    *e = (s_expect_t){kind, unit, stmt, prep, false};
    return e;
}

static int s_prep_slot(hl_db_t *db, const char *sql)
{
    for (int i = 0; i < db->nprep; i++)
        if (db->preps[i].sql == sql)
            return i;
    if (db->nprep == HL_DB_MAX_PREP)
        return -1;
    db->preps[db->nprep] = (s_prep_t){sql, S_PREP_NONE};
    return db->nprep++;
}

static void s_send_batch(hl_db_t *db, hl_dbu_t **units, int n)
{
    if (db->batchcap < n) {
        db->batchcap = n;
        db->batch = hl_realloc(db->batch, (size_t)n * sizeof *db->batch);
    }
    memcpy(db->batch, units, (size_t)n * sizeof *units);
    db->nbatch = n;
    db->nexp = db->exphead = 0;
    db->fail_unit = -1;
    for (int ui = 0; ui < n; ui++) {
        hl_dbu_t *u = units[ui];
        for (int si = 0; si < u->nstmts; si++) {
            s_stmt_t *s = &u->stmts[si];
            int ok;
            db->sent++;
            /* The fault sticks to its statement, so the unit's solo re-run
             * after the batch split fails again and the unit ends with
             * HL_EFAULT rather than passing on the retry. */
            if (db->fail_nth && db->sent == db->fail_nth)
                u->fault_stmt = si + 1;
            if (u->fault_stmt == si + 1) {
                ok = PQsendQueryParams(db->conn,
                                       "DO $$BEGIN RAISE EXCEPTION 'injected fault' "
                                       "USING ERRCODE = 'HLFLT'; END$$",
                                       0, NULL, NULL, NULL, NULL, 0);
            } else {
                /* The setup statement lives in the unit's arena: send it unprepared. */
                int slot = db->state == S_READY ? s_prep_slot(db, s->sql) : -1;
                char name[16];
                if (slot >= 0) {
                    snprintf(name, sizeof name, "hl%d", slot);
                    if (db->preps[slot].state == S_PREP_NONE) {
                        if (!PQsendPrepare(db->conn, name, s->sql, s->nparams, NULL)) {
                            s_conn_lost(db, PQerrorMessage(db->conn));
                            return;
                        }
                        db->preps[slot].state = S_PREP_SENT;
                        s_expect(db, S_EXP_PREPARE, ui, si, slot);
                    }
                    ok = PQsendQueryPrepared(db->conn, name, s->nparams,
                                             (const char *const *)s->values, s->lengths, s->formats,
                                             s->binary ? 1 : 0);
                } else {
                    ok = PQsendQueryParams(db->conn, s->sql, s->nparams, NULL,
                                           (const char *const *)s->values, s->lengths, s->formats,
                                           s->binary ? 1 : 0);
                }
            }
            if (!ok) {
                s_conn_lost(db, PQerrorMessage(db->conn));
                return;
            }
            s_expect(db, S_EXP_STMT, ui, si, -1);
        }
    }
    if (!PQpipelineSync(db->conn)) {
        s_conn_lost(db, PQerrorMessage(db->conn));
        return;
    }
    s_expect(db, S_EXP_SYNC, -1, -1, -1);
    s_flush(db);
}

static void s_note_failure(hl_db_t *db, int unit, const PGresult *r)
{
    if (db->fail_unit >= 0)
        return;
    db->fail_unit = unit;
    const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *con = r ? PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME) : NULL;
    snprintf(db->fail_state, sizeof db->fail_state, "%s", st ? st : "");
    free(db->fail_msg);
    free(db->fail_constraint);
    db->fail_msg = hl_strdup(msg ? msg : (r ? PQresultErrorMessage(r) : "unknown error"));
    db->fail_constraint = con ? hl_strdup(con) : NULL;
}

static void s_requeue_front(hl_db_t *db, hl_dbu_t **units, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        units[i]->next = db->head;
        db->head = units[i];
        if (!db->tail)
            db->tail = units[i];
        db->queued++;
    }
}

static void s_finish_batch(hl_db_t *db)
{
    int n = db->nbatch;
    hl_dbu_t **units = hl_malloc((size_t)(n ? n : 1) * sizeof *units);
    memcpy(units, db->batch, (size_t)n * sizeof *units);
    db->nbatch = 0;
    db->nexp = db->exphead = 0;
    db->stats.batches++;
    for (int i = 0; i < db->nprep; i++)
        if (db->preps[i].state == S_PREP_SENT)
            db->preps[i].state = S_PREP_NONE;

    if (db->fail_unit < 0) {
        for (int i = 0; i < n; i++) {
            hl_dbu_t *u = units[i];
            for (int s = 0; s < u->nstmts; s++)
                if (u->stmts[s].rows && u->stmts[s].res)
                    u->stmts[s].rows(u->stmts[s].rows_arg, u->stmts[s].res);
            for (int h = 0; h < u->nhooks; h++)
                u->hooks[h].fn(u->hooks[h].arg);
            db->stats.units++;
            if (u->done)
                u->done(u->arg, 0, NULL);
            hl_dbu_destroy(&u);
        }
    } else if (n == 1) {
        hl_dbu_t *u = units[0];
        s_unit_fail(u, hl_db_map_sqlstate(db->fail_state), db->fail_state, db->fail_msg,
                    db->fail_constraint);
    } else {
        /* Split: the failing unit alone, its neighbours batched again. */
        int k = db->fail_unit;
        for (int i = 0; i < n; i++)
            s_unit_clear_results(units[i]);
        units[k]->solo = true;
        db->stats.retried += (unsigned long long)n;
        s_requeue_front(db, units, n);
    }
    free(units);
    if (db->state == S_SETUP)
        return; /* s_setup_done moved us on (or dropped the connection) */
    s_pump_later(db);
    if (db->queued == 0 && db->nbatch == 0 && db->idle_cb)
        db->idle_cb(db->idle_arg);
}

static void s_read_results(hl_db_t *db)
{
    while (db->conn && db->exphead < db->nexp) {
        if (PQisBusy(db->conn))
            return;
        PGresult *r = PQgetResult(db->conn);
        s_expect_t *e = &db->exp[db->exphead];
        if (!r) {
            if (e->kind != S_EXP_SYNC && e->got) {
                db->exphead++;
                continue;
            }
            return;
        }
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            db->exphead++;
            if (e->kind != S_EXP_SYNC) {
                s_conn_lost(db, "pipeline out of step with the server");
                return;
            }
            s_finish_batch(db);
            continue;
        }
        e->got = true;
        bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
        if (e->kind == S_EXP_PREPARE) {
            db->preps[e->prep].state = ok ? S_PREP_READY : S_PREP_NONE;
            if (!ok && st != PGRES_PIPELINE_ABORTED)
                s_note_failure(db, e->unit, r);
            PQclear(r);
        } else if (e->kind == S_EXP_STMT) {
            hl_dbu_t *u = db->batch[e->unit];
            if (!ok && st != PGRES_PIPELINE_ABORTED)
                s_note_failure(db, e->unit, r);
            PQclear(u->stmts[e->stmt].res);
            u->stmts[e->stmt].res = r;
        } else {
            PQclear(r);
        }
    }
}

static void s_poll_cb(uv_poll_t *h, int status, int events)
{
    hl_db_t *db = h->data;
    if (status < 0) {
        /* The socket reported an error (POLLERR), typically a reset from
         * the server: PostgreSQL stopped with "immediate" while a pipeline
         * was in flight leaves unread bytes behind, so the kernel sends RST,
         * not FIN. libuv then stops the handle and calls us this once: no
         * event will ever come on it again, so the connection is lost now,
         * whatever state we thought it was in. Let libpq read what it can
         * first, for its account of the error. While connecting,
         * PQconnectPoll reads the socket's error itself (refused, ...). */
        db->poll_events = 0;
        if (db->state == S_CONNECTING) {
            s_connect_poll(db);
            return;
        }
        if (!db->conn)
            return;
        PQconsumeInput(db->conn);
        const char *why = PQerrorMessage(db->conn);
        s_conn_lost(db, why && *why ? why : "socket error on the connection (reset by the server)");
        return;
    }
    if (db->state == S_CONNECTING) {
        s_connect_poll(db);
        return;
    }
    if (!db->conn)
        return;
    if (events & UV_WRITABLE) {
        s_flush(db);
        if (!db->conn)
            return;
    }
    if (events & UV_READABLE) {
        if (!PQconsumeInput(db->conn)) {
            s_conn_lost(db, PQerrorMessage(db->conn));
            return;
        }
        s_read_results(db);
        if (db->conn && PQstatus(db->conn) == CONNECTION_BAD)
            s_conn_lost(db, PQerrorMessage(db->conn));
    }
}

static void s_pump_cb(uv_prepare_t *p)
{
    hl_db_t *db = p->data;
    uv_prepare_stop(p);
    if (db->state != S_READY || db->nbatch > 0 || db->queued == 0)
        return;
    int max = db->cfg.batch_max > 0 ? db->cfg.batch_max : 1;
    hl_dbu_t **units = hl_malloc((size_t)max * sizeof *units);
    int n = 0;
    while (db->head && n < max) {
        hl_dbu_t *u = db->head;
        if (u->solo && n > 0)
            break;
        db->head = u->next;
        if (!db->head)
            db->tail = NULL;
        db->queued--;
        units[n++] = u;
        if (u->solo)
            break;
    }
    s_send_batch(db, units, n);
    free(units);
}

/* ---- public ------------------------------------------------------------ */

hl_db_t *hl_db_new(uv_loop_t *loop, const hl_db_cfg_t *cfg)
{
    assert(loop);
    assert(cfg && cfg->conninfo);
    hl_db_t *db = hl_calloc(1, sizeof *db);
    db->loop = loop;
    db->cfg = *cfg;
    if (!db->cfg.name)
        db->cfg.name = "db";
    db->poll_fd = -1;
    db->backoff_ms = 100;
    db->fail_unit = -1;
    uv_timer_init(loop, &db->retry);
    uv_prepare_init(loop, &db->pump);
    db->retry.data = db;
    db->pump.data = db;
    db->handles_open = 2;
    s_start_connect(db);
    return db;
}

void hl_db_destroy(hl_db_t **dbp)
{
    hl_db_t *db = *dbp;
    if (!db)
        return;
    *dbp = NULL;
    db->destroying = true;
    s_close_poll(db);
    if (db->conn) {
        PQfinish(db->conn);
        db->conn = NULL;
    }
    db->state = S_DOWN;
    s_fail_inflight(db, HL_ESHUTDOWN, "shutting down");
    s_fail_queue(db, HL_ESHUTDOWN, "shutting down");
    uv_timer_stop(&db->retry);
    uv_prepare_stop(&db->pump);
    uv_close((uv_handle_t *)&db->retry, s_handle_closed);
    uv_close((uv_handle_t *)&db->pump, s_handle_closed);
}

bool hl_db_ready(const hl_db_t *db)
{
    return db->state == S_READY;
}

size_t hl_db_pending(const hl_db_t *db)
{
    return db->queued + (size_t)db->nbatch;
}

void hl_db_on_ready(hl_db_t *db, void (*cb)(void *arg), void *arg)
{
    db->ready_cb = cb;
    db->ready_arg = arg;
}

void hl_db_on_idle(hl_db_t *db, void (*cb)(void *arg), void *arg)
{
    db->idle_cb = cb;
    db->idle_arg = arg;
}

void hl_db_fail_nth(hl_db_t *db, unsigned n)
{
    db->fail_nth = n;
    db->sent = 0;
}

hl_db_stats_t hl_db_stats(const hl_db_t *db)
{
    return db->stats;
}

void hl_strlist_close(hl_strlist_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

void hl_db_rows_column(void *arg, const PGresult *res)
{
    hl_strlist_t *l = arg;
    hl_strlist_close(l);
    int n = PQntuples(res);
    l->v = hl_calloc((size_t)n + 1, sizeof *l->v);
    for (int i = 0; i < n; i++)
        l->v[i] = hl_strdup(PQgetvalue(res, i, 0));
    l->n = (size_t)n;
}

int hl_db_map_sqlstate(const char *s)
{
    if (!s || !*s)
        return HL_EDB;
    if (strcmp(s, "HLDUP") == 0)
        return HL_EDUPLICATE;
    if (strcmp(s, "HLFLT") == 0)
        return HL_EFAULT;
    if (strcmp(s, "23505") == 0 || strcmp(s, "HL409") == 0)
        return HL_ECONFLICT;
    if (strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0)
        return HL_ERETRY;
    if (strcmp(s, "HL404") == 0)
        return HL_ENOENT;
    if (strcmp(s, "HL403") == 0)
        return HL_EFORBIDDEN;
    if (strncmp(s, "22", 2) == 0 || strncmp(s, "23", 2) == 0 || strcmp(s, "HL400") == 0 ||
        strcmp(s, "HL422") == 0)
        return HL_EINVAL;
    if (strncmp(s, "08", 2) == 0 || strncmp(s, "57", 2) == 0)
        return HL_EDBCONN;
    /* Everything else, class 53 included (53100 disk_full, 53200
     * out_of_memory), is HL_EDB: the transaction rolled back whole, so
     * hl-intake answers 503 with Retry-After and the pipeline leaves the
     * message for re-send (tests/soak/test_soak_diskfull.c). */
    return HL_EDB;
}
