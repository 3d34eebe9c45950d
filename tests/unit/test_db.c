/* test_db: hl_db against a real PostgreSQL on a libuv loop — results only
 * after commit, group commit, a failing unit sinking nobody but itself, the
 * fault hook, SQLSTATE mapping, a dead server, reconnection and shutdown.
 * Needs HL_TEST_PG (tests/run.sh sets it); skipped without. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hl_alloc.h"
#include "hl_db.h"
#include "hl_err.h"
#include "hl_log.h"
#include "hl_testflow.h"

static char *s_url;     /* the test database */
static PGconn *s_admin; /* blocking connection to it, for checks */

static const char s_sql_insert[] = "INSERT INTO t (id, v, n) VALUES ($1::int, $2, $3::int)";
static const char s_sql_select[] = "SELECT v, n FROM t WHERE id = $1::int";
static const char s_sql_count[] = "SELECT count(*) FROM t";
static const char s_sql_sleep[] = "SELECT pg_sleep($1::float8)";
static const char s_sql_pid[] = "SELECT pg_backend_pid()";
static const char s_sql_bytes[] = "SELECT $1::bytea, $2::text IS NULL";
static const char s_sql_prepared[] = "SELECT count(*) FROM pg_prepared_statements";
static const char s_sql_missing[] = "SELECT * FROM no_such_table";
static const char s_sql_length[] = "SELECT length($1)";

static int s_group_setup(void **state)
{
    (void)state;
    if (!hl_test_pg())
        return 0;
    s_url = hl_test_create_db("hl_unit_db");
    s_admin = hl_test_connect(s_url);
    hl_test_exec(s_admin, "CREATE TABLE t (id int PRIMARY KEY, v text CONSTRAINT t_v_key UNIQUE,"
                          " n int CONSTRAINT t_n_check CHECK (n >= 0))");
    return 0;
}

static int s_group_teardown(void **state)
{
    (void)state;
    hl_test_disconnect(&s_admin, &s_url);
    return 0;
}

static int s_setup(void **state)
{
    (void)state;
    if (s_admin)
        hl_test_exec(s_admin, "TRUNCATE t");
    return 0;
}

/* ---- fixture ------------------------------------------------------------ */

typedef struct fx fx_t;

typedef struct {
    fx_t *f;             /* owner */
    int id;              /* row id it writes */
    int done_calls;      /* done callbacks */
    int rc;              /* their rc */
    char sqlstate[6];    /* err->sqlstate */
    char constraint[64]; /* err->constraint or "" */
    char message[256];   /* err->message */
    int rows_calls;      /* rows callbacks */
    int commit_calls;    /* after-commit hooks */
    int seq_rows;        /* order of events: rows, hook, done */
    int seq_commit;
    int seq_done;
    char got_v[64]; /* a selected value */
    long got_n;     /* a selected number */
    long visible;   /* rows other sessions saw from inside the rows callback */
} ut_t;

struct fx {
    uv_loop_t loop;            /* the test's loop */
    hl_db_t *db;               /* under test */
    uv_timer_t guard;          /* ends a hung test */
    bool timed_out;            /* guard fired */
    int seq;                   /* event counter */
    int done_total;            /* done callbacks over all units */
    int ready_calls;           /* on_ready callbacks */
    int idle_calls;            /* on_idle callbacks */
    void (*on_ready)(fx_t *f); /* test's action when ready */
    ut_t *units;               /* per-unit state */
    int nunits;                /* how many */
    int pid;                   /* a backend pid */
    bool bulk_behind;          /* test_reset_in_flight: a large unit follows the slow one */
};

static void s_guard_cb(uv_timer_t *t)
{
    fx_t *f = t->data;
    f->timed_out = true;
    uv_stop(&f->loop);
}

static void s_ready_cb(void *arg)
{
    fx_t *f = arg;
    f->ready_calls++;
    if (f->on_ready)
        f->on_ready(f);
}

static void s_idle_cb(void *arg)
{
    fx_t *f = arg;
    f->idle_calls++;
}

static fx_t *s_fx_new(const char *conninfo, int nunits, int batch_max)
{
    fx_t *f = hl_calloc(1, sizeof *f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    uv_timer_init(&f->loop, &f->guard);
    f->guard.data = f;
    uv_timer_start(&f->guard, s_guard_cb, (uint64_t)(20000 * hl_test_mult()), 0);
    f->units = hl_calloc((size_t)(nunits ? nunits : 1), sizeof *f->units);
    f->nunits = nunits;
    for (int i = 0; i < nunits; i++) {
        f->units[i].f = f;
        f->units[i].id = i + 1;
        f->units[i].rc = 12345;
    }
    hl_db_cfg_t cfg = {conninfo, "", batch_max, "test"};
    f->db = hl_db_new(&f->loop, &cfg);
    assert_non_null(f->db);
    hl_db_on_ready(f->db, s_ready_cb, f);
    hl_db_on_idle(f->db, s_idle_cb, f);
    return f;
}

/* Runs the loop until `want` done callbacks arrived (or the guard fires). */
static void s_run_until_done(fx_t *f, int want)
{
    while (f->done_total < want && !f->timed_out)
        uv_run(&f->loop, UV_RUN_ONCE);
    assert_false(f->timed_out);
    assert_int_equal(f->done_total, want);
}

/* Destroys the connection (if still there), closes the loop clean, frees. */
static void s_fx_finish(fx_t *f)
{
    hl_db_destroy(&f->db);
    assert_null(f->db);
    uv_close((uv_handle_t *)&f->guard, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f->units);
    free(f);
}

static void s_done_cb(void *arg, int rc, const hl_dberr_t *err)
{
    ut_t *u = arg;
    u->done_calls++;
    u->rc = rc;
    u->seq_done = ++u->f->seq;
    u->f->done_total++;
    if (rc != 0) {
        assert_non_null(err);
        snprintf(u->sqlstate, sizeof u->sqlstate, "%s", err->sqlstate);
        snprintf(u->constraint, sizeof u->constraint, "%s", err->constraint ? err->constraint : "");
        snprintf(u->message, sizeof u->message, "%s", err->message);
    } else {
        assert_null(err);
    }
}

static void s_select_rows_cb(void *arg, const PGresult *res)
{
    ut_t *u = arg;
    u->rows_calls++;
    u->seq_rows = ++u->f->seq;
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    if (PQntuples(res) == 1) {
        snprintf(u->got_v, sizeof u->got_v, "%s", PQgetvalue(res, 0, 0));
        u->got_n = atol(PQgetvalue(res, 0, 1));
    }
    /* Committed already: another session sees the row. */
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM t WHERE id = %d", u->id);
    u->visible = hl_test_scalar(s_admin, sql);
}

static void s_count_rows_cb(void *arg, const PGresult *res)
{
    ut_t *u = arg;
    u->rows_calls++;
    u->seq_rows = ++u->f->seq;
    u->got_n = atol(PQgetvalue(res, 0, 0));
}

static void s_any_rows_cb(void *arg, const PGresult *res)
{
    ut_t *u = arg;
    (void)res;
    u->rows_calls++;
}

static void s_commit_cb(void *arg)
{
    ut_t *u = arg;
    u->commit_calls++;
    u->seq_commit = ++u->f->seq;
}

/* A unit inserting row u->id with value v and number n, then reading it back. */
static void s_submit_insert(fx_t *f, ut_t *u, const char *v, int n)
{
    char id[16], num[16];
    snprintf(id, sizeof id, "%d", u->id);
    snprintf(num, sizeof num, "%d", n);
    hl_dbu_t *du = hl_dbu_new(f->db, s_done_cb, u);
    HL_DBU(du, s_sql_insert, NULL, NULL, id, v, num);
    HL_DBU(du, s_sql_select, s_select_rows_cb, u, id);
    hl_dbu_on_commit(du, s_commit_cb, u);
    hl_dbu_submit(&du);
    assert_null(du);
}

#define S_NEED_PG()                                                                                \
    do {                                                                                           \
        if (!s_admin)                                                                              \
            skip();                                                                                \
    } while (0)

/* ---- tests ------------------------------------------------------------- */

/* hl_buf_pgarray_*: what PostgreSQL reads back from the literal is each
 * element as given, whatever it holds. */
static void test_pgarray_round_trip(void **state)
{
    (void)state;
    S_NEED_PG();
    const char *elems[] = {"plain", "a,b", "say \"hi\"", "back\\slash\\", "{x}",
                           "NULL",  "",    " spaced ",   "小, 道路",      "\\\""};
    size_t n = sizeof elems / sizeof elems[0];
    hl_buf_t b = {0};
    for (size_t i = 0; i < n; i++)
        hl_buf_pgarray_add(&b, elems[i]);
    hl_buf_pgarray_end(&b);
    const char *values[1] = {b.data};
    PGresult *r =
        PQexecParams(s_admin, "SELECT unnest($1::text[])", 1, NULL, values, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), (int)n);
    for (size_t i = 0; i < n; i++) {
        assert_false(PQgetisnull(r, (int)i, 0));
        assert_string_equal(PQgetvalue(r, (int)i, 0), elems[i]);
    }
    PQclear(r);
    hl_buf_close(&b);
    /* Nothing added: the empty array. */
    hl_buf_pgarray_end(&b);
    values[0] = b.data;
    r = PQexecParams(s_admin, "SELECT cardinality($1::text[])", 1, NULL, values, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_string_equal(PQgetvalue(r, 0, 0), "0");
    PQclear(r);
    hl_buf_close(&b);
}

static void s_one_unit_ready(fx_t *f)
{
    s_submit_insert(f, &f->units[0], "hello", 7);
}

static void test_rows_after_commit(void **state)
{
    (void)state;
    S_NEED_PG();
    fx_t *f = s_fx_new(s_url, 1, 256);
    f->on_ready = s_one_unit_ready;
    s_run_until_done(f, 1);
    ut_t *u = &f->units[0];
    assert_int_equal(f->ready_calls, 1);
    assert_int_equal(u->done_calls, 1);
    assert_int_equal(u->rc, 0);
    assert_int_equal(u->rows_calls, 1);
    assert_int_equal(u->commit_calls, 1);
    assert_string_equal(u->got_v, "hello");
    assert_int_equal(u->got_n, 7);
    assert_int_equal(u->visible, 1); /* the rows callback ran after commit */
    /* Rows, then after-commit hooks, then done. */
    assert_true(u->seq_rows < u->seq_commit);
    assert_true(u->seq_commit < u->seq_done);
    assert_true(hl_db_ready(f->db));
    assert_int_equal(hl_db_pending(f->db), 0);
    assert_true(f->idle_calls >= 1);
    hl_db_stats_t st = hl_db_stats(f->db);
    assert_int_equal(st.failures, 0);
    s_fx_finish(f);
}

static void s_hundred_ready(fx_t *f)
{
    for (int i = 0; i < f->nunits; i++) {
        char v[16];
        snprintf(v, sizeof v, "v%d", i);
        s_submit_insert(f, &f->units[i], v, i);
    }
    assert_int_equal(hl_db_pending(f->db), (size_t)f->nunits);
}

static void test_group_commit(void **state)
{
    (void)state;
    S_NEED_PG();
    fx_t *f = s_fx_new(s_url, 100, 256);
    f->on_ready = s_hundred_ready;
    hl_db_stats_t before = hl_db_stats(f->db);
    s_run_until_done(f, 100);
    hl_db_stats_t st = hl_db_stats(f->db);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(f->units[i].done_calls, 1);
        assert_int_equal(f->units[i].rc, 0);
        assert_int_equal(f->units[i].rows_calls, 1);
        assert_int_equal(f->units[i].got_n, i);
    }
    /* One batch for the connection set-up, then few for the 100 units. */
    unsigned long long batches = st.batches - before.batches - 1;
    assert_true(batches >= 1);
    assert_true(batches <= 3);
    assert_true(batches < 100);
    assert_int_equal(st.failures, 0);
    assert_int_equal(st.retried, 0);
    assert_int_equal(hl_test_scalar(s_admin, "SELECT count(*) FROM t"), 100);
    s_fx_finish(f);
}

static void test_batch_max(void **state)
{
    (void)state;
    S_NEED_PG();
    fx_t *f = s_fx_new(s_url, 100, 10);
    f->on_ready = s_hundred_ready;
    s_run_until_done(f, 100);
    hl_db_stats_t st = hl_db_stats(f->db);
    /* At most 10 units per transaction: at least 10 batches (plus set-up). */
    assert_true(st.batches >= 11);
    assert_int_equal(hl_test_scalar(s_admin, "SELECT count(*) FROM t"), 100);
    s_fx_finish(f);
}

static int s_bad_kind; /* 0: UNIQUE, 1: CHECK */

static void s_bad_neighbour_ready(fx_t *f)
{
    for (int i = 0; i < f->nunits; i++) {
        char v[16];
        snprintf(v, sizeof v, "v%d", i);
        if (i == 25)
            s_submit_insert(f, &f->units[i], s_bad_kind == 0 ? "taken" : "negative",
                            s_bad_kind == 0 ? 1 : -1);
        else
            s_submit_insert(f, &f->units[i], v, i);
    }
}

static void s_check_bad_alone(fx_t *f, int want_rc, const char *want_state,
                              const char *want_constraint)
{
    for (int i = 0; i < 51; i++) {
        ut_t *u = &f->units[i];
        assert_int_equal(u->done_calls, 1);
        if (i == 25) {
            assert_int_equal(u->rc, want_rc);
            assert_string_equal(u->sqlstate, want_state);
            assert_string_equal(u->constraint, want_constraint);
            assert_true(strlen(u->message) > 0);
            /* Its results never reach it, its hooks never run. */
            assert_int_equal(u->rows_calls, 0);
            assert_int_equal(u->commit_calls, 0);
        } else {
            assert_int_equal(u->rc, 0);
            assert_int_equal(u->rows_calls, 1); /* once, from the committed run */
            assert_int_equal(u->commit_calls, 1);
            assert_int_equal(u->got_n, i);
        }
    }
    hl_db_stats_t st = hl_db_stats(f->db);
    assert_int_equal(st.failures, 1);
    assert_true(st.retried >= 51);
    /* 50 neighbours plus the row that was there before. */
    assert_int_equal(hl_test_scalar(s_admin, "SELECT count(*) FROM t"), 51);
    assert_int_equal(hl_test_scalar(s_admin, "SELECT count(*) FROM t WHERE id = 26"), 0);
    assert_int_equal(hl_test_scalar(s_admin, "SELECT count(*) FROM t WHERE id BETWEEN 1 AND 51"),
                     50);
}

static void test_unique_violation_fails_alone(void **state)
{
    (void)state;
    S_NEED_PG();
    hl_test_exec(s_admin, "INSERT INTO t VALUES (1000, 'taken', 0)");
    s_bad_kind = 0;
    fx_t *f = s_fx_new(s_url, 51, 256);
    f->on_ready = s_bad_neighbour_ready;
    s_run_until_done(f, 51);
    s_check_bad_alone(f, HL_ECONFLICT, "23505", "t_v_key");
    s_fx_finish(f);
}

static void test_check_violation_fails_alone(void **state)
{
    (void)state;
    S_NEED_PG();
    hl_test_exec(s_admin, "INSERT INTO t VALUES (1000, 'other', 0)");
    s_bad_kind = 1;
    fx_t *f = s_fx_new(s_url, 51, 256);
    f->on_ready = s_bad_neighbour_ready;
    s_run_until_done(f, 51);
    s_check_bad_alone(f, HL_EINVAL, "23514", "t_n_check");
    s_fx_finish(f);
}

static void s_missing_table_ready(fx_t *f)
{
    s_submit_insert(f, &f->units[0], "a", 1);
    hl_dbu_t *du = hl_dbu_new(f->db, s_done_cb, &f->units[1]);
    HL_DBU(du, s_sql_count, s_any_rows_cb, &f->units[1]);
    hl_dbu_stmt(du, s_sql_missing, 0, NULL, NULL, NULL, false, s_any_rows_cb, &f->units[1]);
    hl_dbu_submit(&du);
    s_submit_insert(f, &f->units[2], "c", 3);
}

static void test_bad_sql_fails_alone(void **state)
{
    (void)state;
    S_NEED_PG();
    fx_t *f = s_fx_new(s_url, 3, 256);
    f->on_ready = s_missing_table_ready;
    s_run_until_done(f, 3);
    assert_int_equal(f->units[0].rc, 0);
    assert_int_equal(f->units[2].rc, 0);
    assert_int_equal(f->units[1].rc, HL_EDB);
    assert_string_equal(f->units[1].sqlstate, "42P01");
    assert_non_null(strstr(f->units[1].message, "no_such_table"));
    assert_int_equal(f->units[1].rows_calls, 0);
    assert_int_equal(hl_test_scalar(s_admin, "SELECT count(*) FROM t"), 2);
    s_fx_finish(f);
}

static void s_twenty_ready(fx_t *f)
{
    /* Statements 1..20, one per unit: the 7th belongs to unit 6. */
    hl_db_fail_nth(f->db, 7);
    s_hundred_ready(f);
}

static void test_fault_hook(void **state)
{
    (void)state;
    S_NEED_PG();
    fx_t *f = s_fx_new(s_url, 20, 256);
    f->on_ready = s_twenty_ready;
    s_run_until_done(f, 20);
    int failed = 0;
    for (int i = 0; i < 20; i++) {
        assert_int_equal(f->units[i].done_calls, 1);
        if (f->units[i].rc != 0) {
            failed++;
            assert_int_equal(f->units[i].rc, HL_EFAULT);
            assert_string_equal(f->units[i].sqlstate, "HLFLT");
            assert_int_equal(f->units[i].rows_calls, 0);
        }
    }
    assert_int_equal(failed, 1);
    /* Each unit sends two statements: the 7th is unit 3's insert. */
    assert_int_equal(f->units[3].rc, HL_EFAULT);
    assert_int_equal(hl_test_scalar(s_admin, "SELECT count(*) FROM t"), 19);
    assert_int_equal(hl_test_scalar(s_admin, "SELECT count(*) FROM t WHERE id = 4"), 0);
    s_fx_finish(f);
}

static void test_map_sqlstate(void **state)
{
    (void)state;
    assert_int_equal(hl_db_map_sqlstate("23505"), HL_ECONFLICT);
    assert_int_equal(hl_db_map_sqlstate("HL409"), HL_ECONFLICT);
    assert_int_equal(hl_db_map_sqlstate("23514"), HL_EINVAL);
    assert_int_equal(hl_db_map_sqlstate("23503"), HL_EINVAL);
    assert_int_equal(hl_db_map_sqlstate("23502"), HL_EINVAL);
    assert_int_equal(hl_db_map_sqlstate("22P02"), HL_EINVAL);
    assert_int_equal(hl_db_map_sqlstate("22001"), HL_EINVAL);
    assert_int_equal(hl_db_map_sqlstate("HL400"), HL_EINVAL);
    assert_int_equal(hl_db_map_sqlstate("HL404"), HL_ENOENT);
    assert_int_equal(hl_db_map_sqlstate("HL403"), HL_EFORBIDDEN);
    assert_int_equal(hl_db_map_sqlstate("HL422"), HL_EINVAL);
    assert_int_equal(hl_db_map_sqlstate("HLDUP"), HL_EDUPLICATE);
    assert_int_equal(hl_db_map_sqlstate("HLFLT"), HL_EFAULT);
    assert_int_equal(hl_db_map_sqlstate("40001"), HL_ERETRY);
    assert_int_equal(hl_db_map_sqlstate("40P01"), HL_ERETRY);
    assert_int_equal(hl_db_map_sqlstate("08006"), HL_EDBCONN);
    assert_int_equal(hl_db_map_sqlstate("57P01"), HL_EDBCONN);
    assert_int_equal(hl_db_map_sqlstate("42P01"), HL_EDB);
    assert_int_equal(hl_db_map_sqlstate("42501"), HL_EDB);
    assert_int_equal(hl_db_map_sqlstate("XX000"), HL_EDB);
    assert_int_equal(hl_db_map_sqlstate(""), HL_EDB);
    assert_int_equal(hl_db_map_sqlstate(NULL), HL_EDB);
}

static void s_binary_rows_cb(void *arg, const PGresult *res)
{
    ut_t *u = arg;
    u->rows_calls++;
    assert_int_equal(PQfformat(res, 0), 1);
    assert_int_equal(PQgetlength(res, 0, 0), 5);
    assert_memory_equal(PQgetvalue(res, 0, 0), "a\0b\0c", 5);
    assert_int_equal(PQgetlength(res, 0, 1), 1);
    assert_int_equal(PQgetvalue(res, 0, 1)[0], 1); /* true: $2 was NULL */
}

static void s_binary_ready(fx_t *f)
{
    ut_t *u = &f->units[0];
    hl_dbu_t *du = hl_dbu_new(f->db, s_done_cb, u);
    char bytes[5] = {'a', 0, 'b', 0, 'c'};
    const char *values[2] = {bytes, NULL};
    int lengths[2] = {5, 0};
    int formats[2] = {1, 0};
    hl_dbu_stmt(du, s_sql_bytes, 2, values, lengths, formats, true, s_binary_rows_cb, u);
    memset(bytes, 'x', sizeof bytes); /* parameters were copied */
    void *kept = hl_dbu_keep(du, "keep me", 7);
    assert_string_equal(kept, "keep me");
    hl_dbu_submit(&du);
}

static void test_binary_and_null_params(void **state)
{
    (void)state;
    S_NEED_PG();
    fx_t *f = s_fx_new(s_url, 1, 256);
    f->on_ready = s_binary_ready;
    s_run_until_done(f, 1);
    assert_int_equal(f->units[0].rc, 0);
    assert_int_equal(f->units[0].rows_calls, 1);
    s_fx_finish(f);
}

static int s_prep_round;

static void s_prepared_ready(fx_t *f);

static void s_prepared_done_cb(void *arg, int rc, const hl_dberr_t *err)
{
    ut_t *u = arg;
    s_done_cb(arg, rc, err);
    if (++s_prep_round < 5)
        s_prepared_ready(u->f);
}

static void s_prepared_ready(fx_t *f)
{
    ut_t *u = &f->units[s_prep_round];
    char id[16];
    snprintf(id, sizeof id, "%d", s_prep_round + 1);
    hl_dbu_t *du = hl_dbu_new(f->db, s_prepared_done_cb, u);
    HL_DBU(du, s_sql_insert, NULL, NULL, id, id, id);
    HL_DBU(du, s_sql_select, NULL, NULL, id);
    hl_dbu_stmt(du, s_sql_prepared, 0, NULL, NULL, NULL, false, s_count_rows_cb, u);
    hl_dbu_submit(&du);
}

static void test_statements_prepared_once(void **state)
{
    (void)state;
    S_NEED_PG();
    s_prep_round = 0;
    fx_t *f = s_fx_new(s_url, 5, 256);
    f->on_ready = s_prepared_ready;
    s_run_until_done(f, 5);
    /* Three distinct texts, however many units used them. */
    for (int i = 0; i < 5; i++) {
        assert_int_equal(f->units[i].rc, 0);
        assert_int_equal(f->units[i].got_n, 3);
    }
    s_fx_finish(f);
}

static void test_closed_port(void **state)
{
    (void)state;
    char url[128];
    snprintf(url, sizeof url, "postgresql://postgres@127.0.0.1:%d/x?connect_timeout=2",
             hl_test_free_ports(1));
    fx_t *f = s_fx_new(url, 3, 256);
    assert_false(hl_db_ready(f->db));
    uint64_t t0 = uv_hrtime();
    /* Queued while connecting, failed when the connection attempt fails. */
    hl_dbu_t *du = hl_dbu_new(f->db, s_done_cb, &f->units[0]);
    HL_DBU(du, s_sql_count, s_any_rows_cb, &f->units[0]);
    hl_dbu_submit(&du);
    s_run_until_done(f, 1);
    assert_true((uv_hrtime() - t0) / 1000000 < 1000);
    assert_int_equal(f->units[0].rc, HL_EDBCONN);
    assert_int_equal(f->units[0].rows_calls, 0);
    assert_true(strlen(f->units[0].message) > 0);
    /* Down: a new unit fails at once, without waiting for a reconnect. */
    du = hl_dbu_new(f->db, s_done_cb, &f->units[1]);
    HL_DBU(du, s_sql_count, s_any_rows_cb, &f->units[1]);
    hl_dbu_submit(&du);
    assert_int_equal(f->units[1].done_calls, 1);
    assert_int_equal(f->units[1].rc, HL_EDBCONN);
    assert_int_equal(f->ready_calls, 0);
    assert_false(hl_db_ready(f->db));
    assert_int_equal(hl_db_pending(f->db), 0);
    s_fx_finish(f);
}

static void test_destroy_fails_queued(void **state)
{
    (void)state;
    S_NEED_PG();
    fx_t *f = s_fx_new(s_url, 10, 256);
    /* Queued while connecting; destroyed before the connection is up. */
    for (int i = 0; i < 10; i++) {
        hl_dbu_t *du = hl_dbu_new(f->db, s_done_cb, &f->units[i]);
        HL_DBU(du, s_sql_count, s_any_rows_cb, &f->units[i]);
        hl_dbu_submit(&du);
    }
    assert_int_equal(hl_db_pending(f->db), 10);
    hl_db_destroy(&f->db);
    assert_null(f->db);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(f->units[i].done_calls, 1);
        assert_int_equal(f->units[i].rc, HL_ESHUTDOWN);
        assert_int_equal(f->units[i].rows_calls, 0);
    }
    assert_int_equal(f->done_total, 10);
    s_fx_finish(f);
}

static void s_destroy_timer_cb(uv_timer_t *t)
{
    fx_t *f = t->data;
    assert_int_equal(hl_db_pending(f->db), 2);
    hl_db_destroy(&f->db);
    uv_close((uv_handle_t *)t, NULL);
}

static void s_inflight_ready(fx_t *f)
{
    /* One slow unit in flight, one waiting behind it. */
    hl_dbu_t *du = hl_dbu_new(f->db, s_done_cb, &f->units[0]);
    HL_DBU(du, s_sql_sleep, s_any_rows_cb, &f->units[0], "2");
    hl_dbu_submit(&du);
    static uv_timer_t later;
    uv_timer_init(&f->loop, &later);
    later.data = f;
    uv_timer_start(&later, s_destroy_timer_cb, 200, 0);
}

static void s_second_submit_cb(uv_prepare_t *p)
{
    fx_t *f = p->data;
    uv_prepare_stop(p);
    uv_close((uv_handle_t *)p, NULL);
    hl_dbu_t *du = hl_dbu_new(f->db, s_done_cb, &f->units[1]);
    HL_DBU(du, s_sql_count, s_any_rows_cb, &f->units[1]);
    hl_dbu_submit(&du);
}

static void s_inflight_ready2(fx_t *f)
{
    s_inflight_ready(f);
    /* Submitted on a later loop turn, so it waits behind the first batch. */
    static uv_prepare_t p;
    uv_prepare_init(&f->loop, &p);
    p.data = f;
    uv_prepare_start(&p, s_second_submit_cb);
}

static void test_destroy_fails_in_flight(void **state)
{
    (void)state;
    S_NEED_PG();
    fx_t *f = s_fx_new(s_url, 2, 256);
    f->on_ready = s_inflight_ready2;
    uint64_t t0 = uv_hrtime();
    s_run_until_done(f, 2);
    assert_true((uv_hrtime() - t0) / 1000000 < 1500); /* did not wait for pg_sleep */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(f->units[i].done_calls, 1);
        assert_int_equal(f->units[i].rc, HL_ESHUTDOWN);
        assert_int_equal(f->units[i].rows_calls, 0);
    }
    s_fx_finish(f);
}

static void s_pid_rows_cb(void *arg, const PGresult *res)
{
    ut_t *u = arg;
    u->rows_calls++;
    u->f->pid = atoi(PQgetvalue(res, 0, 0));
}

static void s_kill_timer_cb(uv_timer_t *t)
{
    fx_t *f = t->data;
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%d)::int", f->pid);
    assert_int_equal(hl_test_scalar(s_admin, sql), 1);
    uv_close((uv_handle_t *)t, NULL);
}

static void s_after_pid_done_cb(void *arg, int rc, const hl_dberr_t *err)
{
    ut_t *u = arg;
    fx_t *f = u->f;
    s_done_cb(arg, rc, err);
    /* Now a slow unit, and kill its backend while it runs. */
    hl_dbu_t *du = hl_dbu_new(f->db, s_done_cb, &f->units[1]);
    HL_DBU(du, s_sql_sleep, s_any_rows_cb, &f->units[1], "5");
    hl_dbu_submit(&du);
    if (f->bulk_behind) {
        /* In the same batch, 1 MiB behind the sleep: more than the backend
         * reads ahead (8 KiB), so when it dies mid-sleep those bytes are
         * unread and its socket closes with a reset (RST), not FIN — what
         * an immediate shutdown of PostgreSQL does to a busy pipeline. */
        char *bulk = hl_malloc((1 << 20) + 1);
        memset(bulk, 'x', 1 << 20);
        bulk[1 << 20] = '\0';
        du = hl_dbu_new(f->db, s_done_cb, &f->units[2]);
        HL_DBU(du, s_sql_length, s_any_rows_cb, &f->units[2], bulk);
        hl_dbu_submit(&du);
        free(bulk);
    }
    static uv_timer_t kill;
    uv_timer_init(&f->loop, &kill);
    kill.data = f;
    uv_timer_start(&kill, s_kill_timer_cb, 200, 0);
}

static void s_reconnect_ready(fx_t *f)
{
    if (f->ready_calls == 1) {
        hl_dbu_t *du = hl_dbu_new(f->db, s_after_pid_done_cb, &f->units[0]);
        HL_DBU(du, s_sql_pid, s_pid_rows_cb, &f->units[0]);
        hl_dbu_submit(&du);
    } else if (f->ready_calls == 2) {
        s_submit_insert(f, &f->units[f->nunits - 1], "after", 3);
    }
}

static void test_reconnect(void **state)
{
    (void)state;
    S_NEED_PG();
    fx_t *f = s_fx_new(s_url, 3, 256);
    f->on_ready = s_reconnect_ready;
    s_run_until_done(f, 3);
    assert_int_equal(f->units[0].rc, 0);
    assert_true(f->pid > 0);
    assert_int_equal(f->units[1].rc, HL_EDBCONN);
    assert_int_equal(f->units[1].rows_calls, 0);
    assert_int_equal(f->ready_calls, 2);
    assert_int_equal(f->units[2].rc, 0);
    assert_int_equal(f->units[2].rows_calls, 1);
    assert_string_equal(f->units[2].got_v, "after");
    hl_db_stats_t st = hl_db_stats(f->db);
    assert_int_equal(st.reconnects, 2);
    s_fx_finish(f);
}

static void test_reset_in_flight(void **state)
{
    (void)state;
    S_NEED_PG();
    fx_t *f = s_fx_new(s_url, 4, 256);
    f->on_ready = s_reconnect_ready;
    f->bulk_behind = true;
    /* Before libuv's POLLERR was handled, the reset stopped the poll handle
     * silently: the batch never finished and this ran into the guard. */
    s_run_until_done(f, 4);
    assert_int_equal(f->units[0].rc, 0);
    assert_int_equal(f->units[1].rc, HL_EDBCONN);
    assert_int_equal(f->units[2].rc, HL_EDBCONN);
    assert_int_equal(f->units[1].rows_calls + f->units[2].rows_calls, 0);
    assert_int_equal(f->ready_calls, 2);
    assert_int_equal(f->units[3].rc, 0);
    assert_string_equal(f->units[3].got_v, "after");
    s_fx_finish(f);
}

static void s_destroy_in_done_cb(void *arg, int rc, const hl_dberr_t *err)
{
    ut_t *u = arg;
    s_done_cb(arg, rc, err);
    if (u->id == 1)
        hl_db_destroy(&u->f->db);
}

static void s_destroy_in_done_ready(fx_t *f)
{
    for (int i = 0; i < 3; i++) {
        hl_dbu_t *du = hl_dbu_new(f->db, s_destroy_in_done_cb, &f->units[i]);
        HL_DBU(du, s_sql_count, s_any_rows_cb, &f->units[i]);
        hl_dbu_submit(&du);
    }
}

static void test_destroy_from_done_callback(void **state)
{
    (void)state;
    S_NEED_PG();
    fx_t *f = s_fx_new(s_url, 3, 256);
    f->on_ready = s_destroy_in_done_ready;
    s_run_until_done(f, 3);
    /* The batch committed: every unit of it finishes with 0. */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(f->units[i].done_calls, 1);
        assert_int_equal(f->units[i].rc, 0);
        assert_int_equal(f->units[i].rows_calls, 1);
    }
    assert_null(f->db);
    s_fx_finish(f);
}

static void s_unit_destroy_ready(fx_t *f)
{
    hl_dbu_t *du = hl_dbu_new(f->db, s_done_cb, &f->units[0]);
    HL_DBU(du, s_sql_insert, s_any_rows_cb, &f->units[0], "1", "dropped", "1");
    hl_dbu_destroy(&du);
    assert_null(du);
    s_submit_insert(f, &f->units[1], "kept", 2);
}

static void test_unit_destroy_runs_nothing(void **state)
{
    (void)state;
    S_NEED_PG();
    fx_t *f = s_fx_new(s_url, 2, 256);
    f->on_ready = s_unit_destroy_ready;
    s_run_until_done(f, 1);
    assert_int_equal(f->units[0].done_calls, 0);
    assert_int_equal(f->units[0].rows_calls, 0);
    assert_int_equal(f->units[1].rc, 0);
    assert_int_equal(hl_test_scalar(s_admin, "SELECT count(*) FROM t"), 1);
    s_fx_finish(f);
}

static void s_two_bad_ready(fx_t *f)
{
    /* Units 5 and 15 both break the CHECK: two splits, two final failures. */
    for (int i = 0; i < f->nunits; i++) {
        char v[16];
        snprintf(v, sizeof v, "v%d", i);
        s_submit_insert(f, &f->units[i], v, i == 5 || i == 15 ? -1 : i);
    }
}

static void test_two_bad_units_in_one_batch(void **state)
{
    (void)state;
    S_NEED_PG();
    fx_t *f = s_fx_new(s_url, 20, 256);
    f->on_ready = s_two_bad_ready;
    s_run_until_done(f, 20);
    for (int i = 0; i < 20; i++) {
        assert_int_equal(f->units[i].done_calls, 1);
        if (i == 5 || i == 15) {
            assert_int_equal(f->units[i].rc, HL_EINVAL);
            assert_string_equal(f->units[i].constraint, "t_n_check");
            assert_int_equal(f->units[i].rows_calls, 0);
        } else {
            assert_int_equal(f->units[i].rc, 0);
            assert_int_equal(f->units[i].rows_calls, 1);
        }
    }
    assert_int_equal(hl_db_stats(f->db).failures, 2);
    assert_int_equal(hl_test_scalar(s_admin, "SELECT count(*) FROM t"), 18);
    s_fx_finish(f);
}

static void s_empty_ready(fx_t *f)
{
    /* A unit without statements, between two ordinary ones. */
    s_submit_insert(f, &f->units[0], "a", 1);
    hl_dbu_t *du = hl_dbu_new(f->db, s_done_cb, &f->units[1]);
    hl_dbu_on_commit(du, s_commit_cb, &f->units[1]);
    hl_dbu_submit(&du);
    s_submit_insert(f, &f->units[2], "c", 3);
}

static void test_empty_unit(void **state)
{
    (void)state;
    S_NEED_PG();
    fx_t *f = s_fx_new(s_url, 3, 256);
    f->on_ready = s_empty_ready;
    s_run_until_done(f, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(f->units[i].rc, 0);
    assert_int_equal(f->units[1].commit_calls, 1);
    assert_int_equal(hl_test_scalar(s_admin, "SELECT count(*) FROM t"), 2);
    s_fx_finish(f);
}

static hl_strlist_t s_column;

static void s_column_ready(fx_t *f)
{
    hl_dbu_t *du = hl_dbu_new(f->db, s_done_cb, &f->units[0]);
    HL_DBU(du, "SELECT 'id-' || g FROM generate_series(1, $1::int) g ORDER BY g", hl_db_rows_column,
           &s_column, "3");
    hl_dbu_submit(&du);
}

static void test_rows_column(void **state)
{
    (void)state;
    S_NEED_PG();
    fx_t *f = s_fx_new(s_url, 1, 256);
    f->on_ready = s_column_ready;
    s_run_until_done(f, 1);
    assert_int_equal(f->units[0].rc, 0);
    assert_int_equal(s_column.n, 3);
    assert_string_equal(s_column.v[0], "id-1");
    assert_string_equal(s_column.v[2], "id-3");
    assert_null(s_column.v[3]);
    hl_strlist_close(&s_column);
    assert_null(s_column.v);
    assert_int_equal(s_column.n, 0);
    s_fx_finish(f);
}

static void s_app_name_ready(fx_t *f)
{
    hl_dbu_t *du = hl_dbu_new(f->db, s_done_cb, &f->units[0]);
    HL_DBU(du, "SELECT current_setting($1)", hl_db_rows_column, &s_column, "application_name");
    hl_dbu_submit(&du);
}

/* The connection carries its name (hl_db_cfg_t.name) as application_name,
 * so pg_stat_activity tells the daemons' backends apart. */
static void test_application_name(void **state)
{
    (void)state;
    S_NEED_PG();
    fx_t *f = s_fx_new(s_url, 1, 256);
    f->on_ready = s_app_name_ready;
    s_run_until_done(f, 1);
    assert_int_equal(f->units[0].rc, 0);
    assert_int_equal(s_column.n, 1);
    assert_string_equal(s_column.v[0], "test");
    hl_strlist_close(&s_column);
    s_fx_finish(f);
}

static char *s_texts[300];

static void s_many_texts_ready(fx_t *f)
{
    /* More distinct statement texts than the prepared-statement table
     * holds: the rest go unprepared, with the same results. */
    for (int i = 0; i < f->nunits; i++) {
        s_texts[i] = hl_asprintf("SELECT %d + $1::int", i);
        hl_dbu_t *du = hl_dbu_new(f->db, s_done_cb, &f->units[i]);
        HL_DBU(du, s_texts[i], s_count_rows_cb, &f->units[i], "1000");
        hl_dbu_submit(&du);
    }
}

static void test_more_texts_than_prepared_slots(void **state)
{
    (void)state;
    S_NEED_PG();
    fx_t *f = s_fx_new(s_url, 300, 256);
    f->on_ready = s_many_texts_ready;
    s_run_until_done(f, 300);
    for (int i = 0; i < 300; i++) {
        assert_int_equal(f->units[i].rc, 0);
        assert_int_equal(f->units[i].got_n, 1000 + i);
    }
    s_fx_finish(f);
    for (int i = 0; i < 300; i++)
        free(s_texts[i]);
}

static void test_missing_role(void **state)
{
    (void)state;
    S_NEED_PG();
    fx_t *f = hl_calloc(1, sizeof *f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    uv_timer_init(&f->loop, &f->guard);
    f->guard.data = f;
    uv_timer_start(&f->guard, s_guard_cb, (uint64_t)(20000 * hl_test_mult()), 0);
    f->units = hl_calloc(1, sizeof *f->units);
    f->units[0].f = f;
    f->nunits = 1;
    hl_db_cfg_t cfg = {s_url, "hl_no_such_role", 256, "test"};
    f->db = hl_db_new(&f->loop, &cfg);
    hl_db_on_ready(f->db, s_ready_cb, f);
    hl_dbu_t *du = hl_dbu_new(f->db, s_done_cb, &f->units[0]);
    HL_DBU(du, s_sql_count, s_any_rows_cb, &f->units[0]);
    hl_dbu_submit(&du);
    s_run_until_done(f, 1);
    assert_int_equal(f->units[0].rc, HL_EDBCONN);
    assert_non_null(strstr(f->units[0].message, "hl_no_such_role"));
    assert_int_equal(f->units[0].rows_calls, 0);
    assert_int_equal(f->ready_calls, 0);
    assert_false(hl_db_ready(f->db));
    s_fx_finish(f);
}

int main(void)
{
    hl_log_init("test_db", HL_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_rows_after_commit, s_setup),
        cmocka_unit_test_setup(test_group_commit, s_setup),
        cmocka_unit_test_setup(test_batch_max, s_setup),
        cmocka_unit_test_setup(test_unique_violation_fails_alone, s_setup),
        cmocka_unit_test_setup(test_check_violation_fails_alone, s_setup),
        cmocka_unit_test_setup(test_bad_sql_fails_alone, s_setup),
        cmocka_unit_test_setup(test_fault_hook, s_setup),
        cmocka_unit_test(test_map_sqlstate),
        cmocka_unit_test_setup(test_binary_and_null_params, s_setup),
        cmocka_unit_test_setup(test_statements_prepared_once, s_setup),
        cmocka_unit_test(test_closed_port),
        cmocka_unit_test_setup(test_destroy_fails_queued, s_setup),
        cmocka_unit_test_setup(test_destroy_fails_in_flight, s_setup),
        cmocka_unit_test_setup(test_reconnect, s_setup),
        cmocka_unit_test_setup(test_reset_in_flight, s_setup),
        cmocka_unit_test_setup(test_destroy_from_done_callback, s_setup),
        cmocka_unit_test_setup(test_unit_destroy_runs_nothing, s_setup),
        cmocka_unit_test_setup(test_two_bad_units_in_one_batch, s_setup),
        cmocka_unit_test_setup(test_empty_unit, s_setup),
        cmocka_unit_test_setup(test_rows_column, s_setup),
        cmocka_unit_test_setup(test_application_name, s_setup),
        cmocka_unit_test_setup(test_more_texts_than_prepared_slots, s_setup),
        cmocka_unit_test_setup(test_missing_role, s_setup),
        cmocka_unit_test_setup(test_pgarray_round_trip, s_setup),
    };
    return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
