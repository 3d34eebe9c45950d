/* test_pipeline: the outbox, send-after-commit, the consumer's claim and the
 * sweeper, against a real PostgreSQL (migrated with the real migrations) and
 * real ZeroMQ sockets. Instead of an hl-bus process the test runs its own
 * streamer for the appeal stage on the same loop: a PULL bound at base+0
 * (where producers push) forwarding to a PUSH bound at base+1 (where
 * consumers pull). Needs HL_TEST_PG; skipped without. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hl_alloc.h"
#include "hl_err.h"
#include "hl_log.h"
#include "hl_metrics.h"
#include "hl_pipeline.h"
#include "hl_service.h"
#include "hl_testflow.h"

static char *s_url;     /* the test database */
static PGconn *s_admin; /* blocking connection for checks */

static const char s_sql_effect[] =
    "INSERT INTO public.effect (msg_id, appeal_id, n) VALUES ($1::uuid, $2, $3::int)";

static int s_group_setup(void **state)
{
    (void)state;
    if (!hl_test_pg())
        return 0;
    s_url = hl_test_create_db("hl_unit_pipeline");
    if (hl_service_migrate(s_url) != 0) {
        fprintf(stderr, "test: could not migrate %s\n", s_url);
        return -1;
    }
    s_admin = hl_test_connect(s_url);
    hl_test_exec(s_admin,
                 "CREATE TABLE public.effect (id bigserial PRIMARY KEY, msg_id uuid NOT NULL,"
                 " appeal_id text NOT NULL, n int CONSTRAINT effect_n_check CHECK (n >= 0),"
                 " pid int NOT NULL DEFAULT pg_backend_pid())");
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
        hl_test_exec(s_admin, "TRUNCATE public.effect, pipeline.message, pipeline.dead_letter");
    return 0;
}

#define S_NEED_PG()                                                                                \
    do {                                                                                           \
        if (!s_admin)                                                                              \
            skip();                                                                                \
    } while (0)

/* ---- an in-test bus for one stage ----------------------------------- */

typedef struct {
    hl_zsock_t in;  /* PULL at base+0 */
    hl_zsock_t out; /* PUSH at base+1 */
    zmq_msg_t held; /* frame the out side could not take yet */
    bool holding;   /* `held` valid */
    bool held_more; /* its more flag */
    bool open;      /* sockets initialised */
    int forwarded;  /* frames streamed */
} streamer_t;

static void s_bus_in_cb(hl_zsock_t *z, zmq_msg_t *frame, bool more, void *arg)
{
    streamer_t *b = arg;
    if (hl_zsock_send_msg(&b->out, frame, more) == 0) {
        b->forwarded++;
        return;
    }
    zmq_msg_init(&b->held);
    zmq_msg_move(&b->held, frame);
    b->holding = true;
    b->held_more = more;
    hl_zsock_pause(z);
    hl_zsock_want_write(&b->out);
}

static void s_bus_out_cb(hl_zsock_t *z, void *arg)
{
    streamer_t *b = arg;
    if (!b->holding)
        return;
    if (hl_zsock_send_msg(z, &b->held, b->held_more) != 0) {
        hl_zsock_want_write(z);
        return;
    }
    zmq_msg_close(&b->held);
    b->holding = false;
    b->forwarded++;
    hl_zsock_resume(&b->in);
}

/* ---- fixture ------------------------------------------------------------ */

typedef struct fx fx_t;

struct fx {
    uv_loop_t loop;               /* the test's loop */
    void *zctx;                   /* ZeroMQ context */
    hl_db_t *db;                  /* connection */
    hl_pipeline_t *p;             /* under test: produces and consumes "appeal" */
    streamer_t bus[2];            /* the in-test buses */
    int base;                     /* bus base port */
    char buses[96];               /* "tcp://127.0.0.1:base[,tcp://127.0.0.1:base2]" */
    uv_timer_t guard;             /* ends a hung test */
    uv_timer_t check;             /* polls the condition of s_run_until */
    bool timed_out;               /* guard fired */
    bool (*pred)(fx_t *f);        /* condition s_run_until waits for */
    int handled;                  /* handler calls */
    int committed;                /* handler effects committed */
    int emits_done;               /* emitting units finished */
    int emit_rc;                  /* rc of the last */
    int fail_first;               /* handler arms the db fault hook on its first call */
    int crowd;                    /* handler's first call queues this many slow units each side */
    int crowd_done;               /* those finished */
    bool shard;                   /* handler spreads messages by title (hl_inmsg_shard) */
    int batches;                  /* batch function calls (s_batched fixtures) */
    int batched;                  /* messages they took */
    int batch_committed;          /* batched messages committed */
    char msg_id[HL_UUID_LEN + 1]; /* last emitted message */
};

static void s_guard_cb(uv_timer_t *t)
{
    fx_t *f = t->data;
    f->timed_out = true;
    uv_stop(&f->loop);
}

static void s_check_cb(uv_timer_t *t)
{
    fx_t *f = t->data;
    if (f->pred && f->pred(f))
        uv_stop(&f->loop);
}

/* Runs the loop until `pred` holds; fails the test after `seconds`. */
static void s_run_until(fx_t *f, bool (*pred)(fx_t *f), double seconds)
{
    f->pred = pred;
    f->timed_out = false;
    uv_timer_start(&f->guard, s_guard_cb, (uint64_t)(seconds * 1000 * hl_test_mult()), 0);
    uv_timer_start(&f->check, s_check_cb, 5, 5);
    if (!pred(f))
        uv_run(&f->loop, UV_RUN_DEFAULT);
    uv_timer_stop(&f->check);
    uv_timer_stop(&f->guard);
    f->pred = NULL;
    assert_false(f->timed_out);
    assert_true(pred(f));
}

static const char s_sql_slow[] = "SELECT pg_sleep(0.02)";

static void s_crowd_done_cb(void *arg, int rc, const hl_dberr_t *err)
{
    fx_t *f = arg;
    (void)err;
    assert_int_equal(rc, 0);
    f->crowd_done++;
}

static void s_crowd(fx_t *f, int n)
{
    for (int i = 0; i < n; i++) {
        hl_dbu_t *u = hl_dbu_new(f->db, s_crowd_done_cb, f);
        hl_dbu_stmt(u, s_sql_slow, 0, NULL, NULL, NULL, false, NULL, NULL);
        hl_dbu_submit(&u);
    }
}

static bool s_never(fx_t *f)
{
    (void)f;
    return false;
}

static void s_pause_cb(uv_timer_t *t)
{
    fx_t *f = t->data;
    f->pred = NULL;
    uv_stop(&f->loop);
}

/* Runs the loop for `ms` milliseconds. */
static void s_run_for(fx_t *f, int ms)
{
    f->pred = s_never;
    uv_timer_start(&f->guard, s_pause_cb, (uint64_t)ms, 0);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    uv_timer_stop(&f->guard);
}

static void s_effect_committed_cb(void *arg)
{
    fx_t *f = arg;
    f->committed++;
}

/* The consumer: records the appeal as an effect row; title "bad" makes the
 * database refuse the effect (CHECK), title "reject" is refused here. */
static void s_handle_appeal(hl_inmsg_t *m, void *arg)
{
    fx_t *f = arg;
    f->handled++;
    if (f->fail_first && f->handled == 1)
        hl_db_fail_nth(f->db, 1); /* the claim, first statement of the next batch */
    Hl__AppealReceived *a =
        hl__appeal_received__unpack(NULL, m->env->payload.len, m->env->payload.data);
    if (!a || !a->appeal_id) {
        if (a)
            hl__appeal_received__free_unpacked(a, NULL);
        hl_inmsg_reject(&m, "payload is not an AppealReceived with an appeal_id");
        return;
    }
    if (a->title && strcmp(a->title, "retry") == 0 && f->handled == 1) {
        hl__appeal_received__free_unpacked(a, NULL);
        hl_inmsg_retry(&m, "not yet");
        assert_null(m);
        return;
    }
    if (a->title && strcmp(a->title, "reject") == 0) {
        hl__appeal_received__free_unpacked(a, NULL);
        hl_inmsg_reject(&m, "title says reject");
        assert_null(m);
        return;
    }
    const char *n = a->title && strcmp(a->title, "bad") == 0 ? "-1" : "1";
    if (f->shard) {
        /* Keyed by title; the effect records the title, so the test can
         * see which backends (pid) wrote each key. */
        uint64_t key = 0;
        for (const char *s = a->title; s && *s; s++)
            key = key * 31 + (unsigned char)*s;
        hl_inmsg_shard(m, key);
        HL_DBU(m->unit, s_sql_effect, NULL, NULL, m->env->id, a->title, n);
    } else {
        HL_DBU(m->unit, s_sql_effect, NULL, NULL, m->env->id, a->appeal_id, n);
    }
    hl_dbu_on_commit(m->unit, s_effect_committed_cb, f);
    hl__appeal_received__free_unpacked(a, NULL);
    bool crowd = f->crowd && f->handled == 1;
    if (crowd)
        s_crowd(f, f->crowd);
    hl_inmsg_apply(&m);
    assert_null(m);
    if (crowd)
        s_crowd(f, f->crowd);
}

/* The typed form of the consumer: the library unpacked and checked it. */
static void s_handle_typed(hl_inmsg_t *m, const void *msg, void *arg)
{
    fx_t *f = arg;
    const Hl__AppealReceived *a = msg;
    f->handled++;
    assert_ptr_equal(msg, m->payload);
    const char *n = a->title && strcmp(a->title, "bad") == 0 ? "-1" : "1";
    HL_DBU(m->unit, s_sql_effect, NULL, NULL, m->env->id, a->appeal_id, n);
    hl_dbu_on_commit(m->unit, s_effect_committed_cb, f);
    hl_inmsg_apply(&m);
}

static const char s_sql_effects[] = "INSERT INTO public.effect (msg_id, appeal_id, n)"
                                    " SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[])";

typedef struct {
    fx_t *f;
    int n;
} s_took_t;

static void s_batch_committed_cb(void *arg)
{
    s_took_t *t = arg;
    t->f->batch_committed += t->n;
}

/* The batched form: one INSERT for the run, up to (not including) a later
 * message titled "cut"; "bad" is refused by the CHECK, as alone. */
static size_t s_batch_typed(const hl_batch_t *b, void *arg)
{
    fx_t *f = arg;
    hl_buf_t ids = {0}, appeals = {0}, ns = {0};
    size_t k = 0;
    for (; k < b->n; k++) {
        const Hl__AppealReceived *a = b->m[k]->payload;
        if (k > 0 && a->title && strcmp(a->title, "cut") == 0)
            break;
        hl_buf_pgarray_add(&ids, b->m[k]->env->id);
        hl_buf_pgarray_add(&appeals, a->appeal_id);
        hl_buf_pgarray_add(&ns, a->title && strcmp(a->title, "bad") == 0 ? "-1" : "1");
    }
    hl_buf_pgarray_end(&ids);
    hl_buf_pgarray_end(&appeals);
    hl_buf_pgarray_end(&ns);
    HL_DBU(b->unit, s_sql_effects, NULL, NULL, ids.data, appeals.data, ns.data);
    hl_buf_close(&ids);
    hl_buf_close(&appeals);
    hl_buf_close(&ns);
    s_took_t *t = hl_dbu_keep(b->unit, &(s_took_t){f, (int)k}, sizeof(s_took_t));
    hl_dbu_on_commit(b->unit, s_batch_committed_cb, t);
    f->batches++;
    f->batched += (int)k;
    return k;
}

/* Another type on the same stage, never batched (a TriageDecision). */
static void s_handle_decision(hl_inmsg_t *m, const void *msg, void *arg)
{
    fx_t *f = arg;
    const Hl__TriageDecision *d = msg;
    f->handled++;
    HL_DBU(m->unit, s_sql_effect, NULL, NULL, m->env->id, d->appeal_id, "1");
    hl_dbu_on_commit(m->unit, s_effect_committed_cb, f);
    hl_inmsg_apply(&m);
}

static const char *s_check_typed(const void *msg)
{
    const Hl__AppealReceived *a = msg;
    if (!a->appeal_id || !*a->appeal_id)
        return "AppealReceived lacks an appeal_id";
    return a->title && strcmp(a->title, "check") == 0 ? "title says check" : NULL;
}

static void s_bus_open_nth(fx_t *f, int bus)
{
    streamer_t *b = &f->bus[bus];
    char ep[64];
    assert_int_equal(hl_zsock_init(&b->in, &f->loop, f->zctx, ZMQ_PULL, "t.bus.in", 1000, 0), 0);
    assert_int_equal(hl_zsock_init(&b->out, &f->loop, f->zctx, ZMQ_PUSH, "t.bus.out", 1000, 0), 0);
    b->open = true;
    assert_int_equal(hl_bus_endpoint(f->buses, bus, HL_STAGE_APPEAL, 0, ep, sizeof ep), 0);
    assert_int_equal(hl_zsock_bind(&b->in, ep), 0);
    assert_int_equal(hl_bus_endpoint(f->buses, bus, HL_STAGE_APPEAL, 1, ep, sizeof ep), 0);
    assert_int_equal(hl_zsock_bind(&b->out, ep), 0);
    hl_zsock_set_cb(&b->in, s_bus_in_cb, NULL, b);
    hl_zsock_set_cb(&b->out, NULL, s_bus_out_cb, b);
}

static void s_bus_close_nth(fx_t *f, int bus)
{
    streamer_t *b = &f->bus[bus];
    if (!b->open)
        return;
    if (b->holding)
        zmq_msg_close(&b->held);
    b->holding = false;
    hl_zsock_close(&b->in, NULL);
    hl_zsock_close(&b->out, NULL);
    b->open = false;
}

static void s_bus_open(fx_t *f)
{
    s_bus_open_nth(f, 0);
}

static int s_batch_max = 256;  /* hl_db batch_max for the next fixture */
static int s_backlog_max = 64; /* pipeline backlog_max for the next fixture */
static int s_nbuses = 1;       /* buses in the list of the next fixture */
static bool s_duplicate_sends; /* pipeline duplicate_sends for the next fixture */
static bool s_seen_ids;        /* the in-memory shortcut for re-sends, for the next fixture */
static bool s_typed;           /* the next fixture registers the typed handler */
static bool s_batched;         /* ... with its batch function, and a TriageDecision handler */

static fx_t *s_fx_new(bool with_bus, int resend_ms, int sweep_ms, int max_attempts)
{
    fx_t *f = hl_calloc(1, sizeof *f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    f->zctx = zmq_ctx_new();
    uv_timer_init(&f->loop, &f->guard);
    uv_timer_init(&f->loop, &f->check);
    f->guard.data = f->check.data = f;
    f->base = hl_test_free_ports(4 * HL_STAGE_COUNT);
    if (s_nbuses == 2)
        snprintf(f->buses, sizeof f->buses, "tcp://127.0.0.1:%d,tcp://127.0.0.1:%d", f->base,
                 f->base + 2 * HL_STAGE_COUNT);
    else
        snprintf(f->buses, sizeof f->buses, "tcp://127.0.0.1:%d", f->base);
    hl_db_cfg_t dbcfg = {s_url, "", s_batch_max, "test"};
    f->db = hl_db_new(&f->loop, &dbcfg);
    hl_pipeline_cfg_t pc = {
        .buses = f->buses,
        .producer = "hl-test",
        .hwm = 1000,
        .resend_after_ms = resend_ms,
        .sweep_interval_ms = sweep_ms,
        .max_attempts = max_attempts,
        .retain_done_s = 3600,
        .backlog_max = s_backlog_max,
        .duplicate_sends = s_duplicate_sends,
        /* Most tests here prove the database's exactly-once: every copy
         * must reach the claim. test_resend_dropped_in_memory covers the
         * shortcut. */
        .claim_every_copy = !s_seen_ids,
    };
    f->p = hl_pipeline_new(&f->loop, f->zctx, f->db, &pc);
    for (int i = 0; with_bus && i < s_nbuses; i++)
        s_bus_open_nth(f, i);
    assert_int_equal(hl_pipeline_produce(f->p, HL_STAGE_APPEAL), 0);
    if (s_typed || s_batched) {
        const hl_msg_handler_t typed[] = {
            {&hl__appeal_received__descriptor, s_check_typed, s_handle_typed, f,
             s_batched ? s_batch_typed : NULL},
            {&hl__triage_decision__descriptor, NULL, s_handle_decision, f, NULL}};
        assert_int_equal(hl_pipeline_consume_msgs(f->p, HL_STAGE_APPEAL, typed, 2), 0);
    } else {
        const hl_handler_t handlers[] = {{"AppealReceived", s_handle_appeal, f}};
        assert_int_equal(hl_pipeline_consume(f->p, HL_STAGE_APPEAL, handlers, 1), 0);
    }
    /* No hl_pipeline_start_sweeper: hl_pipeline_produce started it. */
    return f;
}

static void s_fx_finish(fx_t *f)
{
    hl_pipeline_destroy(&f->p);
    assert_null(f->p);
    s_bus_close_nth(f, 0);
    s_bus_close_nth(f, 1);
    hl_db_destroy(&f->db);
    uv_close((uv_handle_t *)&f->guard, NULL);
    uv_close((uv_handle_t *)&f->check, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    assert_int_equal(zmq_ctx_term(f->zctx), 0);
    hl_metrics_reset();
    free(f);
    s_batch_max = 256;
    s_backlog_max = 64;
    s_nbuses = 1;
    s_duplicate_sends = false;
    s_seen_ids = false;
    s_typed = false;
    s_batched = false;
}

static double s_metric(const char *name)
{
    return hl_metric_value(hl_metric_counter(name, "", "stage=\"appeal\""));
}

static bool s_connected(fx_t *f)
{
    if (!hl_db_ready(f->db) || !hl_pipeline_connected(f->p))
        return false;
    for (int i = 0; i < 2; i++) {
        if (!f->bus[i].open)
            continue;
        int events = 0;
        size_t len = sizeof events;
        zmq_getsockopt(f->bus[i].out.sock, ZMQ_EVENTS, &events, &len);
        if (!(events & ZMQ_POLLOUT))
            return false;
    }
    return true;
}

static void s_emit_done(void *arg, int rc, const hl_dberr_t *err)
{
    fx_t *f = arg;
    (void)err;
    f->emits_done++;
    f->emit_rc = rc;
}

static void s_emit(fx_t *f, const char *type, const char *title)
{
    Hl__AppealReceived a = HL__APPEAL_RECEIVED__INIT;
    char appeal[HL_UUID_LEN + 1];
    hl_uuid_new(appeal);
    a.appeal_id = appeal;
    a.title = (char *)title;
    a.channel = (char *)"web";
    hl_dbu_t *u = hl_dbu_new(f->db, s_emit_done, f);
    hl_pipeline_emit(f->p, u, HL_STAGE_APPEAL, type, appeal, &a.base, f->msg_id);
    hl_dbu_submit(&u);
    assert_true(hl_uuid_valid(f->msg_id));
}

static long s_q(const char *fmt, const char *arg)
{
    char sql[512];
    snprintf(sql, sizeof sql, fmt, arg);
    return hl_test_scalar(s_admin, sql);
}

/* The stored envelope of message `id` (caller frees). */
static uint8_t *s_stored_envelope(const char *id, size_t *len)
{
    const char *values[1] = {id};
    PGresult *r = PQexecParams(s_admin, "SELECT envelope FROM pipeline.message WHERE id = $1", 1,
                               NULL, values, NULL, NULL, 1);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), 1);
    *len = (size_t)PQgetlength(r, 0, 0);
    uint8_t *b = hl_malloc(*len);
    memcpy(b, PQgetvalue(r, 0, 0), *len);
    PQclear(r);
    return b;
}

static bool s_one_committed(fx_t *f)
{
    return f->committed == 1 && f->emits_done >= 1;
}

/* ---- tests ------------------------------------------------------------- */

static void test_envelope_round_trip(void **state)
{
    (void)state;
    Hl__AppealReceived a = HL__APPEAL_RECEIVED__INIT;
    a.appeal_id = (char *)"0b7f4a52-8f43-4c8e-9d55-0c8e6a0f3c11";
    a.title = (char *)"路灯坏了 \"quoted\"";
    a.has_lat = 1;
    a.lat = 30.5;
    char id[HL_UUID_LEN + 1];
    size_t len = 0;
    int64_t before = hl_time_us();
    uint8_t *b =
        hl_envelope_pack(HL_STAGE_BOUNTY, "AppealReceived", "6a1d7c35-3c55-4f4e-8f1a-2b6f0ad1e001",
                         "hl-test", &a.base, id, &len);
    int64_t after = hl_time_us();
    assert_non_null(b);
    assert_true(len > 0);
    assert_true(hl_uuid_valid(id));
    Hl__Envelope *env = hl__envelope__unpack(NULL, len, b);
    assert_non_null(env);
    assert_string_equal(env->id, id);
    assert_string_equal(env->type, "AppealReceived");
    assert_string_equal(env->stage, "bounty");
    assert_string_equal(env->trace_id, "6a1d7c35-3c55-4f4e-8f1a-2b6f0ad1e001");
    assert_string_equal(env->producer, "hl-test");
    assert_true(env->has_created_at_us);
    assert_true(env->created_at_us >= before && env->created_at_us <= after);
    assert_true(env->has_payload);
    Hl__AppealReceived *back =
        hl__appeal_received__unpack(NULL, env->payload.len, env->payload.data);
    assert_non_null(back);
    assert_string_equal(back->appeal_id, a.appeal_id);
    assert_string_equal(back->title, a.title);
    assert_true(back->has_lat);
    assert_true(back->lat == 30.5);
    hl__appeal_received__free_unpacked(back, NULL);
    hl__envelope__free_unpacked(env, NULL);
    free(b);
    /* Without a trace id the message traces itself; ids are fresh. */
    char id2[HL_UUID_LEN + 1];
    b = hl_envelope_pack(HL_STAGE_APPEAL, "X", NULL, "p", &a.base, id2, &len);
    env = hl__envelope__unpack(NULL, len, b);
    assert_non_null(env);
    assert_string_equal(env->trace_id, id2);
    assert_string_not_equal(id, id2);
    hl__envelope__free_unpacked(env, NULL);
    free(b);
}

static void test_stage_names(void **state)
{
    (void)state;
    static const char *const names[] = {"appeal",     "status", "bounty",   "alliance",
                                        "resolution", "points", "feedback", "platform"};
    assert_int_equal(HL_STAGE_COUNT, 8);
    for (int i = 0; i < HL_STAGE_COUNT; i++) {
        assert_string_equal(hl_stage_name((hl_stage_t)i), names[i]);
        assert_int_equal(hl_stage_parse(names[i]), i);
    }
    assert_int_equal(hl_stage_parse("Appeal"), -1);
    assert_int_equal(hl_stage_parse(""), -1);
    assert_string_equal(hl_stage_name(HL_STAGE_COUNT), "?");
}

static void test_emit_then_consume(void **state)
{
    (void)state;
    S_NEED_PG();
    fx_t *f = s_fx_new(true, 5000, 5000, 5);
    s_run_until(f, s_connected, 10);
    s_emit(f, "AppealReceived", "streetlight");
    s_run_until(f, s_one_committed, 10);
    assert_int_equal(f->emit_rc, 0);
    assert_int_equal(f->handled, 1);
    assert_int_equal(f->bus[0].forwarded, 1);
    assert_int_equal(s_q("SELECT count(*) FROM pipeline.message WHERE id = '%s'"
                         " AND done_at IS NOT NULL AND done_by = 'hl-test' AND dead_at IS NULL"
                         " AND attempts = 0 AND stage = 'appeal' AND type = 'AppealReceived'",
                         f->msg_id),
                     1);
    assert_int_equal(s_q("SELECT count(*) FROM public.effect WHERE msg_id = '%s'", f->msg_id), 1);
    assert_true(s_metric("hl_pipeline_emitted_total") == 1);
    assert_true(s_metric("hl_pipeline_sent_total") == 1);
    assert_true(s_metric("hl_pipeline_send_deferred_total") == 0);
    assert_true(s_metric("hl_pipeline_consumed_total") == 1);
    assert_true(s_metric("hl_pipeline_duplicates_total") == 0);
    assert_true(hl_metric_value(
                    hl_metric_histogram("hl_pipeline_apply_seconds", "", "stage=\"appeal\"")) == 1);
    s_fx_finish(f);
}

static bool s_one_duplicate(fx_t *f)
{
    (void)f;
    return s_metric("hl_pipeline_duplicates_total") >= 1;
}

static bool s_three_duplicates(fx_t *f)
{
    (void)f;
    return s_metric("hl_pipeline_duplicates_total") >= 3;
}

static void test_duplicate_applied_once(void **state)
{
    (void)state;
    S_NEED_PG();
    fx_t *f = s_fx_new(true, 5000, 5000, 5);
    s_run_until(f, s_connected, 10);
    s_emit(f, "AppealReceived", "bench");
    s_run_until(f, s_one_committed, 10);
    /* The very same bytes again, as a sweeper re-send would. */
    size_t len;
    uint8_t *env = s_stored_envelope(f->msg_id, &len);
    assert_int_equal(hl_zsock_send(hl_pipeline_push_socket(f->p, HL_STAGE_APPEAL), env, len, false),
                     0);
    free(env);
    s_run_until(f, s_one_duplicate, 10);
    assert_int_equal(f->handled, 2);
    assert_int_equal(f->committed, 1);
    assert_true(s_metric("hl_pipeline_duplicates_total") == 1);
    assert_true(s_metric("hl_pipeline_consumed_total") == 1);
    assert_true(s_metric("hl_pipeline_apply_failures_total") == 0);
    assert_int_equal(s_q("SELECT count(*) FROM public.effect WHERE msg_id = '%s'", f->msg_id), 1);
    assert_int_equal(
        s_q("SELECT count(*) FROM pipeline.message WHERE id = '%s' AND done_at IS NOT NULL",
            f->msg_id),
        1);
    s_fx_finish(f);
}

/* The default: a re-send of a message applied a moment ago (or still in
 * hand) is dropped in memory: the handler never sees it, nothing reaches
 * PostgreSQL, and it is counted as a duplicate. */
static void test_resend_dropped_in_memory(void **state)
{
    (void)state;
    S_NEED_PG();
    s_seen_ids = true;
    fx_t *f = s_fx_new(true, 5000, 5000, 5);
    s_run_until(f, s_connected, 10);
    s_emit(f, "AppealReceived", "bench");
    s_run_until(f, s_one_committed, 10);
    size_t len;
    uint8_t *env = s_stored_envelope(f->msg_id, &len);
    for (int i = 0; i < 3; i++)
        assert_int_equal(
            hl_zsock_send(hl_pipeline_push_socket(f->p, HL_STAGE_APPEAL), env, len, false), 0);
    free(env);
    s_run_until(f, s_three_duplicates, 10);
    assert_int_equal(f->handled, 1);
    assert_int_equal(f->committed, 1);
    assert_true(s_metric("hl_pipeline_consumed_total") == 1);
    assert_true(s_metric("hl_pipeline_apply_failures_total") == 0);
    assert_int_equal(s_q("SELECT count(*) FROM public.effect WHERE msg_id = '%s'", f->msg_id), 1);
    s_fx_finish(f);
}

/* HL_DUPLICATE_SENDS: the push after commit goes twice, through each of
 * two buses; one copy is applied, the other dropped. */
static void test_duplicate_sends_mode(void **state)
{
    (void)state;
    S_NEED_PG();
    s_duplicate_sends = true;
    s_nbuses = 2;
    fx_t *f = s_fx_new(true, 5000, 5000, 5);
    s_run_until(f, s_connected, 10);
    s_emit(f, "AppealReceived", "pavement");
    s_run_until(f, s_one_duplicate, 10);
    s_run_until(f, s_one_committed, 10);
    assert_int_equal(f->handled, 2);
    assert_int_equal(f->committed, 1);
    assert_int_equal(f->bus[0].forwarded + f->bus[1].forwarded, 2);
    assert_true(s_metric("hl_pipeline_emitted_total") == 1);
    assert_true(s_metric("hl_pipeline_sent_total") == 2);
    assert_true(s_metric("hl_pipeline_consumed_total") == 1);
    assert_true(s_metric("hl_pipeline_duplicates_total") == 1);
    assert_int_equal(s_q("SELECT count(*) FROM public.effect WHERE msg_id = '%s'", f->msg_id), 1);
    s_fx_finish(f);
}

static bool s_two_handled_and_settled(fx_t *f)
{
    return f->handled == 2 && f->committed == 1 && s_metric("hl_pipeline_duplicates_total") >= 1;
}

/* Writes a pending row as another producer would (appeal `appeal`; its
 * id to `id`) and pushes its envelope twice, back to back. */
static void s_foreign_pushed_twice(fx_t *f, const char *appeal, char id[HL_UUID_LEN + 1])
{
    Hl__AppealReceived a = HL__APPEAL_RECEIVED__INIT;
    a.appeal_id = (char *)appeal;
    size_t len;
    uint8_t *env =
        hl_envelope_pack(HL_STAGE_APPEAL, "AppealReceived", NULL, "hl-other", &a.base, id, &len);
    const char *values[7] = {id, "appeal", "AppealReceived", id, "hl-other", (char *)env, "60000"};
    int lengths[7] = {0, 0, 0, 0, 0, (int)len, 0};
    int formats[7] = {0, 0, 0, 0, 0, 1, 0};
    PGresult *r =
        PQexecParams(s_admin, hl_sql_insert_message, 7, NULL, values, lengths, formats, 0);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    hl_zsock_t *push = hl_pipeline_push_socket(f->p, HL_STAGE_APPEAL);
    assert_int_equal(hl_zsock_send(push, env, len, false), 0);
    assert_int_equal(hl_zsock_send(push, env, len, false), 0);
    free(env);
}

static void test_duplicate_in_one_batch(void **state)
{
    (void)state;
    S_NEED_PG();
    fx_t *f = s_fx_new(true, 5000, 5000, 5);
    s_run_until(f, s_connected, 10);
    /* Both copies land in one batch of the database's. */
    char id[HL_UUID_LEN + 1];
    s_foreign_pushed_twice(f, "dup-in-batch", id);
    s_run_until(f, s_two_handled_and_settled, 10);
    assert_int_equal(f->committed, 1);
    assert_true(s_metric("hl_pipeline_consumed_total") == 1);
    assert_true(s_metric("hl_pipeline_duplicates_total") == 1);
    assert_int_equal(s_q("SELECT count(*) FROM public.effect WHERE msg_id = '%s'", id), 1);
    s_fx_finish(f);
}

static bool s_row_dead(fx_t *f)
{
    return s_q("SELECT count(*) FROM pipeline.message WHERE id = '%s' AND dead_at IS NOT NULL",
               f->msg_id) == 1;
}

static void test_unknown_type_dead_lettered(void **state)
{
    (void)state;
    S_NEED_PG();
    fx_t *f = s_fx_new(true, 5000, 5000, 5);
    s_run_until(f, s_connected, 10);
    s_emit(f, "MysteryMessage", "x");
    s_run_until(f, s_row_dead, 10);
    assert_int_equal(f->handled, 0);
    assert_int_equal(s_q("SELECT count(*) FROM pipeline.message WHERE id = '%s'"
                         " AND done_at IS NULL AND last_error LIKE '%%MysteryMessage%%'",
                         f->msg_id),
                     1);
    assert_true(s_metric("hl_pipeline_dead_letters_total") == 1);
    assert_true(s_metric("hl_pipeline_consumed_total") == 0);
    s_fx_finish(f);
}

/* The reason quotes the type, cut at 64 bytes: in the middle of a
 * character here. It is stored as text all the same, so the row is dead at
 * once with its reason (it used to stay pending: PostgreSQL refused the
 * reason, and only the sweeper's last attempt ended it). */
static void test_unknown_type_cut_in_reason(void **state)
{
    (void)state;
    S_NEED_PG();
    fx_t *f = s_fx_new(true, 5000, 5000, 5);
    s_run_until(f, s_connected, 10);
    s_emit(f, "未知的消息类型未知的消息类型未知的消息类型未知的消息类型", "x");
    s_run_until(f, s_row_dead, 10);
    assert_int_equal(s_q("SELECT count(*) FROM pipeline.message WHERE id = '%s'"
                         " AND last_error LIKE 'unknown message type \"未知的消息类型%%'",
                         f->msg_id),
                     1);
    s_fx_finish(f);
}

static void test_handler_reject(void **state)
{
    (void)state;
    S_NEED_PG();
    fx_t *f = s_fx_new(true, 5000, 5000, 5);
    s_run_until(f, s_connected, 10);
    s_emit(f, "AppealReceived", "reject");
    s_run_until(f, s_row_dead, 10);
    assert_int_equal(f->handled, 1);
    assert_int_equal(f->committed, 0);
    assert_int_equal(s_q("SELECT count(*) FROM pipeline.message WHERE id = '%s'"
                         " AND last_error = 'title says reject'",
                         f->msg_id),
                     1);
    assert_int_equal(s_q("SELECT count(*) FROM public.effect WHERE msg_id = '%s'", f->msg_id), 0);
    s_fx_finish(f);
}

static void test_effect_refused_by_schema(void **state)
{
    (void)state;
    S_NEED_PG();
    fx_t *f = s_fx_new(true, 5000, 5000, 5);
    s_run_until(f, s_connected, 10);
    s_emit(f, "AppealReceived", "bad");
    s_run_until(f, s_row_dead, 10);
    assert_int_equal(f->handled, 1);
    assert_int_equal(f->committed, 0);
    assert_int_equal(s_q("SELECT count(*) FROM pipeline.message WHERE id = '%s'"
                         " AND done_at IS NULL AND last_error LIKE '%%refused by the database%%'"
                         " AND last_error LIKE '%%23514%%'",
                         f->msg_id),
                     1);
    assert_int_equal(s_q("SELECT count(*) FROM public.effect WHERE msg_id = '%s'", f->msg_id), 0);
    assert_true(s_metric("hl_pipeline_dead_letters_total") == 1);
    s_fx_finish(f);
}

static void test_typed_handler(void **state)
{
    (void)state;
    S_NEED_PG();
    s_typed = true;
    fx_t *f = s_fx_new(true, 5000, 5000, 5);
    s_run_until(f, s_connected, 10);
    s_emit(f, "AppealReceived", "streetlight");
    s_run_until(f, s_one_committed, 10);
    assert_int_equal(f->handled, 1);
    assert_int_equal(s_q("SELECT count(*) FROM public.effect WHERE msg_id = '%s'", f->msg_id), 1);
    /* What the check refuses never reaches the handler. */
    s_emit(f, "AppealReceived", "check");
    s_run_until(f, s_row_dead, 10);
    assert_int_equal(f->handled, 1);
    assert_int_equal(s_q("SELECT count(*) FROM pipeline.message WHERE id = '%s'"
                         " AND last_error = 'title says check'",
                         f->msg_id),
                     1);
    /* Nor does a type no handler has. */
    s_emit(f, "TriageDecision", "x");
    s_run_until(f, s_row_dead, 10);
    assert_int_equal(f->handled, 1);
    assert_true(s_metric("hl_pipeline_dead_letters_total") == 2);
    s_fx_finish(f);
}

static const char s_guard_effect[] =
    "SELECT 1 FROM public.effect WHERE appeal_id = $2 AND msg_id = $1::uuid";

/* Sends an AppealReceived that is written only when an effect row with
 * appeal id `key` and the message's id exists (added first, when `add`). */
static void s_send_if(fx_t *f, const char *key, bool add)
{
    Hl__AppealReceived a = HL__APPEAL_RECEIVED__INIT;
    a.appeal_id = (char *)key;
    a.channel = (char *)"web";
    hl_uuid_new(f->msg_id);
    hl_dbu_t *u = hl_dbu_new(f->db, s_emit_done, f);
    if (add)
        HL_DBU(u, s_sql_effect, NULL, NULL, f->msg_id, key, "7");
    assert_int_equal(hl_pipeline_send_if(f->p, u, HL_STAGE_APPEAL, NULL, &a.base, f->msg_id,
                                         s_guard_effect, key),
                     0);
    hl_dbu_submit(&u);
}

static bool s_emits_two(fx_t *f)
{
    return f->emits_done == 2;
}

static void test_send_if_guard(void **state)
{
    (void)state;
    S_NEED_PG();
    s_typed = true;
    fx_t *f = s_fx_new(true, 5000, 5000, 5);
    s_run_until(f, s_connected, 10);
    /* The guard finds no row: nothing is written, nothing pushed. */
    s_send_if(f, "no-effect", false);
    char refused[HL_UUID_LEN + 1];
    memcpy(refused, f->msg_id, sizeof refused);
    /* The guard sees what the unit did before it: written and pushed. */
    s_send_if(f, "effect", true);
    s_run_until(f, s_emits_two, 10);
    assert_int_equal(f->emit_rc, 0);
    s_run_until(f, s_one_committed, 10);
    assert_int_equal(s_q("SELECT count(*) FROM pipeline.message WHERE id = '%s'", refused), 0);
    assert_int_equal(s_q("SELECT count(*) FROM pipeline.message WHERE id = '%s'"
                         " AND type = 'AppealReceived' AND done_at IS NOT NULL",
                         f->msg_id),
                     1);
    assert_true(s_metric("hl_pipeline_emitted_total") == 1);
    assert_true(s_metric("hl_pipeline_sent_total") == 1);
    assert_int_equal(f->handled, 1);
    s_fx_finish(f);
}

static bool s_three_dead_letters(fx_t *f)
{
    (void)f;
    return hl_test_scalar(s_admin, "SELECT count(*) FROM pipeline.dead_letter") == 3;
}

static void test_garbage_dead_lettered(void **state)
{
    (void)state;
    S_NEED_PG();
    fx_t *f = s_fx_new(true, 5000, 5000, 5);
    s_run_until(f, s_connected, 10);
    hl_zsock_t *push = hl_pipeline_push_socket(f->p, HL_STAGE_APPEAL);
    /* Not protobuf at all. */
    assert_int_equal(hl_zsock_send(push, "\xff\xff\xff\xff\xff", 5, false), 0);
    /* Protobuf, but an envelope without id. */
    Hl__Envelope e = HL__ENVELOPE__INIT;
    e.type = (char *)"AppealReceived";
    uint8_t buf[64];
    size_t n = hl__envelope__pack(&e, buf);
    assert_int_equal(hl_zsock_send(push, buf, n, false), 0);
    /* An envelope whose id is not a UUID. */
    e.id = (char *)"'; DROP TABLE x; --";
    e.has_payload = 1;
    e.payload.data = (uint8_t *)"p";
    e.payload.len = 1;
    n = hl__envelope__pack(&e, buf);
    assert_int_equal(hl_zsock_send(push, buf, n, false), 0);
    s_run_until(f, s_three_dead_letters, 10);
    assert_int_equal(f->handled, 0);
    assert_int_equal(hl_test_scalar(s_admin, "SELECT count(*) FROM pipeline.dead_letter"
                                             " WHERE consumer = 'hl-test' AND stage = 'appeal'"),
                     3);
    assert_int_equal(hl_test_scalar(s_admin, "SELECT count(*) FROM pipeline.dead_letter"
                                             " WHERE reason = 'not a protobuf envelope'"
                                             " AND raw = '\\xffffffffff'::bytea"),
                     1);
    assert_int_equal(hl_test_scalar(s_admin, "SELECT count(*) FROM pipeline.dead_letter"
                                             " WHERE reason LIKE 'envelope lacks%'"),
                     2);
    assert_true(s_metric("hl_pipeline_dead_letters_total") == 3);
    s_fx_finish(f);
}

static bool s_emitted_and_deferred(fx_t *f)
{
    return f->emits_done == 1 && s_metric("hl_pipeline_send_deferred_total") >= 1;
}

static void test_no_bus_then_sweeper(void **state)
{
    (void)state;
    S_NEED_PG();
    fx_t *f = s_fx_new(false, 50, 50, 1000);
    s_emit(f, "AppealReceived", "late");
    s_run_until(f, s_emitted_and_deferred, 10);
    assert_int_equal(f->emit_rc, 0);
    assert_true(s_metric("hl_pipeline_emitted_total") == 1);
    assert_true(s_metric("hl_pipeline_sent_total") == 0);
    assert_int_equal(s_q("SELECT count(*) FROM pipeline.message WHERE id = '%s'"
                         " AND done_at IS NULL AND dead_at IS NULL",
                         f->msg_id),
                     1);
    assert_false(hl_pipeline_connected(f->p));
    /* The bus comes up: the sweeper's next re-send gets through. */
    s_bus_open(f);
    s_run_until(f, s_one_committed, 10);
    assert_int_equal(f->handled, 1);
    assert_true(s_metric("hl_pipeline_resent_total") >= 1);
    assert_true(s_metric("hl_pipeline_sent_total") == 1);
    assert_int_equal(s_q("SELECT count(*) FROM pipeline.message WHERE id = '%s'"
                         " AND done_at IS NOT NULL AND attempts >= 1",
                         f->msg_id),
                     1);
    assert_int_equal(s_q("SELECT count(*) FROM public.effect WHERE msg_id = '%s'", f->msg_id), 1);
    s_fx_finish(f);
}

/* The sweeper's re-send goes twice in that mode too. */
static void test_duplicate_sends_sweeper(void **state)
{
    (void)state;
    S_NEED_PG();
    s_duplicate_sends = true;
    fx_t *f = s_fx_new(false, 50, 50, 1000);
    s_emit(f, "AppealReceived", "gate");
    s_run_until(f, s_emitted_and_deferred, 10);
    assert_true(s_metric("hl_pipeline_send_deferred_total") >= 2);
    s_bus_open(f);
    s_run_until(f, s_one_duplicate, 10);
    assert_int_equal(f->committed, 1);
    assert_true(s_metric("hl_pipeline_resent_total") >= 1);
    assert_true(s_metric("hl_pipeline_consumed_total") == 1);
    assert_int_equal(s_q("SELECT count(*) FROM public.effect WHERE msg_id = '%s'", f->msg_id), 1);
    s_fx_finish(f);
}

static void test_dead_after_max_attempts(void **state)
{
    (void)state;
    S_NEED_PG();
    fx_t *f = s_fx_new(false, 20, 10, 3);
    s_emit(f, "AppealReceived", "nobody listens");
    s_run_until(f, s_row_dead, 20);
    assert_int_equal(f->handled, 0);
    /* Three re-sends, then the fourth due time marks it dead. */
    assert_int_equal(s_q("SELECT attempts FROM pipeline.message WHERE id = '%s'", f->msg_id), 4);
    assert_int_equal(s_q("SELECT count(*) FROM pipeline.message WHERE id = '%s'"
                         " AND last_error = 'not applied after 3 re-sends' AND done_at IS NULL",
                         f->msg_id),
                     1);
    assert_true(s_metric("hl_pipeline_resent_total") == 3);
    assert_true(s_metric("hl_pipeline_dead_letters_total") == 1);
    /* Dead rows are left alone. */
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(s_q("SELECT attempts FROM pipeline.message WHERE id = '%s'", f->msg_id), 4);
    s_fx_finish(f);
}

static bool s_one_failure(fx_t *f)
{
    (void)f;
    return s_metric("hl_pipeline_apply_failures_total") >= 1;
}

static void test_apply_failure_then_redelivery(void **state)
{
    (void)state;
    S_NEED_PG();
    fx_t *f = s_fx_new(true, 60000, 60000, 5);
    f->fail_first = 1;
    s_run_until(f, s_connected, 10);
    s_emit(f, "AppealReceived", "flaky");
    s_run_until(f, s_one_failure, 10);
    assert_int_equal(f->handled, 1);
    assert_int_equal(f->committed, 0);
    /* Rolled back: no effect, the row still pending for a re-send. */
    assert_int_equal(s_q("SELECT count(*) FROM public.effect WHERE msg_id = '%s'", f->msg_id), 0);
    assert_int_equal(s_q("SELECT count(*) FROM pipeline.message WHERE id = '%s'"
                         " AND done_at IS NULL AND dead_at IS NULL",
                         f->msg_id),
                     1);
    hl_db_fail_nth(f->db, 0);
    size_t len;
    uint8_t *env = s_stored_envelope(f->msg_id, &len);
    assert_int_equal(hl_zsock_send(hl_pipeline_push_socket(f->p, HL_STAGE_APPEAL), env, len, false),
                     0);
    free(env);
    s_run_until(f, s_one_committed, 10);
    assert_int_equal(f->handled, 2);
    assert_true(s_metric("hl_pipeline_consumed_total") == 1);
    assert_true(s_metric("hl_pipeline_apply_failures_total") == 1);
    assert_int_equal(s_q("SELECT count(*) FROM public.effect WHERE msg_id = '%s'", f->msg_id), 1);
    s_fx_finish(f);
}

static void test_retry_left_for_sweeper(void **state)
{
    (void)state;
    S_NEED_PG();
    /* The handler gives the first delivery back; the sweeper re-sends it. */
    fx_t *f = s_fx_new(true, 50, 20, 100);
    s_run_until(f, s_connected, 10);
    s_emit(f, "AppealReceived", "retry");
    s_run_until(f, s_one_committed, 10);
    assert_int_equal(f->handled, 2);
    assert_true(s_metric("hl_pipeline_apply_failures_total") == 1);
    assert_true(s_metric("hl_pipeline_resent_total") >= 1);
    assert_true(s_metric("hl_pipeline_consumed_total") == 1);
    assert_int_equal(s_q("SELECT count(*) FROM pipeline.message WHERE id = '%s'"
                         " AND done_at IS NOT NULL AND attempts >= 1",
                         f->msg_id),
                     1);
    assert_int_equal(s_q("SELECT count(*) FROM public.effect WHERE msg_id = '%s'", f->msg_id), 1);
    s_fx_finish(f);
}

static bool s_committed_20(fx_t *f)
{
    return f->committed == 20;
}

static bool s_committed_40(fx_t *f)
{
    return f->committed == 40;
}

static void test_two_buses_one_dies(void **state)
{
    (void)state;
    S_NEED_PG();
    s_nbuses = 2;
    fx_t *f = s_fx_new(true, 100, 20, 1000);
    s_run_until(f, s_connected, 10);
    /* The consumer is connected to both buses; give the producer's second
     * connection the same moment (loopback connects take microseconds). */
    s_run_for(f, 200);
    for (int i = 0; i < 20; i++)
        s_emit(f, "AppealReceived", "two buses");
    s_run_until(f, s_committed_20, 10);
    assert_int_equal(f->bus[0].forwarded + f->bus[1].forwarded, 20);
    /* Round robin over the buses that are up. */
    assert_true(f->bus[0].forwarded > 0);
    assert_true(f->bus[1].forwarded > 0);
    /* One bus dies: what went to it is lost, the sweeper re-sends it
     * through the other, and every message is applied exactly once. */
    s_bus_close_nth(f, 1);
    int before = f->bus[0].forwarded;
    for (int i = 0; i < 20; i++)
        s_emit(f, "AppealReceived", "one bus");
    s_run_until(f, s_committed_40, 20);
    assert_true(f->bus[0].forwarded - before >= 20);
    assert_int_equal(hl_test_scalar(s_admin, "SELECT count(*) FROM public.effect"), 40);
    assert_int_equal(hl_test_scalar(s_admin, "SELECT count(DISTINCT msg_id) FROM public.effect"),
                     40);
    assert_int_equal(
        hl_test_scalar(s_admin, "SELECT count(*) FROM pipeline.message WHERE done_at IS NULL"), 0);
    s_fx_finish(f);
}

static void test_malformed_bus_list(void **state)
{
    (void)state;
    S_NEED_PG();
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    void *zctx = zmq_ctx_new();
    hl_db_cfg_t dbcfg = {s_url, "", 16, "test"};
    hl_db_t *db = hl_db_new(&loop, &dbcfg);
    static const char *const bad[] = {"127.0.0.1:7100", "tcp://h:7100,udp://h:7200", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hl_pipeline_cfg_t pc = {.buses = bad[i],
                                .producer = "hl-test",
                                .hwm = 10,
                                .resend_after_ms = 100,
                                .sweep_interval_ms = 100,
                                .max_attempts = 3,
                                .retain_done_s = 10,
                                .backlog_max = 10};
        hl_pipeline_t *p = hl_pipeline_new(&loop, zctx, db, &pc);
        assert_int_equal(hl_pipeline_produce(p, HL_STAGE_STATUS), HL_ECONFIG);
        const hl_handler_t h[] = {{"AppealReceived", s_handle_appeal, NULL}};
        assert_int_equal(hl_pipeline_consume(p, HL_STAGE_APPEAL, h, 1), HL_ECONFIG);
        hl_pipeline_destroy(&p);
        assert_null(p);
    }
    hl_db_destroy(&db);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_int_equal(zmq_ctx_term(zctx), 0);
    hl_metrics_reset();
}

/* ---- batched handlers --------------------------------------------------- */

/* Emits one message a title from one unit (one commit): an AppealReceived
 * whose appeal id and title are the title, or a TriageDecision for appeal
 * "decision" where the title is NULL. */
static void s_emit_titles(fx_t *f, const char *const *titles, int n)
{
    hl_dbu_t *u = hl_dbu_new(f->db, s_emit_done, f);
    for (int i = 0; i < n; i++) {
        if (!titles[i]) {
            Hl__TriageDecision d = HL__TRIAGE_DECISION__INIT;
            d.appeal_id = (char *)"decision";
            hl_pipeline_send(f->p, u, HL_STAGE_APPEAL, NULL, &d.base, NULL);
            continue;
        }
        Hl__AppealReceived a = HL__APPEAL_RECEIVED__INIT;
        a.appeal_id = (char *)titles[i];
        a.title = (char *)titles[i];
        hl_pipeline_send(f->p, u, HL_STAGE_APPEAL, NULL, &a.base, NULL);
    }
    hl_dbu_submit(&u);
}

/* A connected fixture with the batched handler. */
static fx_t *s_batched_fx(bool seen_ids)
{
    s_batched = true;
    s_seen_ids = seen_ids;
    fx_t *f = s_fx_new(true, 5000, 5000, 5);
    s_run_until(f, s_connected, 10);
    return f;
}

static int s_held_for; /* frames s_forwarded waits for */

static bool s_forwarded(fx_t *f)
{
    return f->bus[0].forwarded >= s_held_for;
}

/* s_hold stops the consumer reading; s_release_at waits until the bus has
 * forwarded `forwarded` frames in all, then lets the consumer read them in
 * one drain: one burst, whatever the machine's timing. */
static void s_hold(fx_t *f)
{
    hl_zsock_pause(hl_pipeline_pull_socket(f->p, HL_STAGE_APPEAL));
}

static void s_release_at(fx_t *f, int forwarded)
{
    s_held_for = forwarded;
    s_run_until(f, s_forwarded, 10);
    s_run_for(f, 200); /* bus -> consumer, into its socket's queue */
    hl_zsock_resume(hl_pipeline_pull_socket(f->p, HL_STAGE_APPEAL));
}

/* s_emit_titles, the consumer held until all of them passed the bus. */
static void s_emit_held(fx_t *f, const char *const *titles, int n)
{
    int before = f->bus[0].forwarded;
    s_hold(f);
    s_emit_titles(f, titles, n);
    s_release_at(f, before + n);
}

static bool s_100_batched(fx_t *f)
{
    return f->batch_committed == 100;
}

/* A burst becomes a few units, each with one claim for all its messages. */
static void test_batched_handler(void **state)
{
    (void)state;
    S_NEED_PG();
    fx_t *f = s_batched_fx(true);
    const char *many[100];
    for (int i = 0; i < 100; i++)
        many[i] = "many";
    s_emit_held(f, many, 100);
    s_run_until(f, s_100_batched, 30);
    assert_int_equal(f->batched, 100);
    assert_int_equal(f->handled, 0); /* never one by one */
    assert_true(f->batches <= 4);    /* one drain of 100: one batch, give or take */
    assert_int_equal(hl_test_scalar(s_admin, "SELECT count(*) FROM public.effect"), 100);
    assert_int_equal(hl_test_scalar(s_admin,
                                    "SELECT count(DISTINCT msg_id) FROM public.effect"
                                    " e JOIN pipeline.message m ON m.id = e.msg_id"
                                    " WHERE m.done_at IS NOT NULL AND m.done_by = 'hl-test'"),
                     100);
    assert_true(s_metric("hl_pipeline_consumed_total") == 100);
    s_fx_finish(f);
}

static bool s_copies_settled(fx_t *f)
{
    return f->committed == 1 && s_metric("hl_pipeline_duplicates_total") >= 1;
}

/* Two copies of one message in one batch: claim_all refuses the batch,
 * one by one the first applies and the second is a duplicate. */
static void test_batch_duplicate_one_by_one(void **state)
{
    (void)state;
    S_NEED_PG();
    fx_t *f = s_batched_fx(false); /* both copies reach the claim */
    char id[HL_UUID_LEN + 1];
    int before = f->bus[0].forwarded;
    s_hold(f);
    s_foreign_pushed_twice(f, "dup-in-a-batch", id);
    s_release_at(f, before + 2);
    s_run_until(f, s_copies_settled, 10);
    assert_int_equal(f->batch_committed, 0);
    assert_true(s_metric("hl_pipeline_consumed_total") == 1);
    assert_true(s_metric("hl_pipeline_duplicates_total") == 1);
    assert_int_equal(s_q("SELECT count(*) FROM public.effect WHERE msg_id = '%s'", id), 1);
    s_fx_finish(f);
}

static bool s_nine_and_dead(fx_t *f)
{
    return f->committed == 9 && hl_test_scalar(s_admin, "SELECT count(*) FROM pipeline.message"
                                                        " WHERE dead_at IS NOT NULL") == 1;
}

/* One message the database refuses in a burst of ten: the batch fails,
 * one by one the nine apply and the one is dead-lettered with its reason. */
static void test_batch_refused_one_alone(void **state)
{
    (void)state;
    S_NEED_PG();
    fx_t *f = s_batched_fx(true);
    const char *titles[10] = {"fine", "fine", "fine", "fine", "bad",
                              "fine", "fine", "fine", "fine", "fine"};
    s_emit_held(f, titles, 10);
    s_run_until(f, s_nine_and_dead, 20);
    assert_int_equal(f->batch_committed, 0);
    assert_int_equal(hl_test_scalar(s_admin, "SELECT count(*) FROM public.effect"), 9);
    assert_int_equal(hl_test_scalar(s_admin, "SELECT count(*) FROM pipeline.message"
                                             " WHERE dead_at IS NOT NULL AND done_at IS NULL"
                                             " AND last_error LIKE '%23514%'"),
                     1);
    assert_true(s_metric("hl_pipeline_consumed_total") == 9);
    assert_true(s_metric("hl_pipeline_dead_letters_total") == 1);
    s_fx_finish(f);
}

static bool s_order_settled(fx_t *f)
{
    return f->batch_committed == 6 && f->committed == 1;
}

/* Units commit in arrival order: a message of another type sends the batch
 * collected before it, and a batch function that stops early ("cut")
 * leaves the rest for the next unit, still in order. */
static void test_batch_order_kept(void **state)
{
    (void)state;
    S_NEED_PG();
    fx_t *f = s_batched_fx(true);
    const char *titles[] = {"a1", "a2", "cut", "a4", NULL, "a6", "cut"};
    s_emit_titles(f, titles, 7);
    s_run_until(f, s_order_settled, 20);
    PGresult *r =
        PQexec(s_admin, "SELECT string_agg(appeal_id, ' ' ORDER BY id) FROM public.effect");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_string_equal(PQgetvalue(r, 0, 0), "a1 a2 cut a4 decision a6 cut");
    PQclear(r);
    assert_int_equal(f->handled, 1); /* the decision */
    assert_true(f->batches >= 4);    /* cut, the decision and cut again split it */
    s_fx_finish(f);
}

static bool s_all_committed(fx_t *f)
{
    return f->committed == 200 && f->emits_done == 200;
}

static void test_many_messages(void **state)
{
    (void)state;
    S_NEED_PG();
    fx_t *f = s_fx_new(true, 5000, 5000, 5);
    s_run_until(f, s_connected, 10);
    for (int i = 0; i < 200; i++)
        s_emit(f, "AppealReceived", "many");
    s_run_until(f, s_all_committed, 30);
    assert_int_equal(f->handled, 200);
    assert_int_equal(hl_test_scalar(s_admin, "SELECT count(*) FROM public.effect"), 200);
    assert_int_equal(hl_test_scalar(s_admin, "SELECT count(*) FROM pipeline.message"
                                             " WHERE done_at IS NOT NULL"),
                     200);
    assert_true(s_metric("hl_pipeline_consumed_total") == 200);
    s_fx_finish(f);
}

static bool s_sharded_committed(fx_t *f)
{
    return f->committed == 120 && f->emits_done == 120;
}

/* Two more connections: messages spread over three backends, each key
 * always on one of them, every message applied once. */
static void test_shards(void **state)
{
    (void)state;
    S_NEED_PG();
    fx_t *f = s_fx_new(true, 5000, 5000, 5);
    hl_db_cfg_t cfg = {s_url, "", s_batch_max, "test-shard"};
    assert_int_equal(hl_pipeline_shards(f->p, &cfg, 2), 0);
    assert_int_equal(hl_pipeline_shards(f->p, &cfg, HL_PIPELINE_SHARDS), HL_EINVAL);
    f->shard = true;
    s_run_until(f, s_connected, 10);
    static const char *const keys[] = {"k0", "k1", "k2", "k3", "k4", "k5"};
    for (int i = 0; i < 120; i++)
        s_emit(f, "AppealReceived", keys[i % 6]);
    s_run_until(f, s_sharded_committed, 30);
    assert_int_equal(f->handled, 120);
    assert_int_equal(hl_test_scalar(s_admin, "SELECT count(DISTINCT msg_id) FROM public.effect"),
                     120);
    assert_int_equal(hl_test_scalar(s_admin, "SELECT count(*) FROM pipeline.message"
                                             " WHERE done_at IS NOT NULL"),
                     120);
    assert_int_equal(hl_test_scalar(s_admin, "SELECT count(DISTINCT pid) FROM public.effect"), 3);
    assert_int_equal(hl_test_scalar(s_admin, "SELECT max(n) FROM (SELECT count(DISTINCT pid) AS n"
                                             " FROM public.effect GROUP BY appeal_id) k"),
                     1);
    assert_int_equal(hl_pipeline_shard_pending(f->p), 0);
    assert_true(hl_pipeline_shards_ready(f->p));
    s_fx_finish(f);
}

static bool s_crowd_settled(fx_t *f)
{
    return f->committed == 1 && f->crowd_done == 2 * f->crowd;
}

static bool s_two_committed(fx_t *f)
{
    return f->committed == 2;
}

static void test_backpressure_resumes(void **state)
{
    (void)state;
    S_NEED_PG();
    /* One unit per transaction, pause at 4 pending, resume at 2. */
    s_batch_max = 1;
    s_backlog_max = 4;
    fx_t *f = s_fx_new(true, 60000, 60000, 5);
    f->crowd = 3;
    s_run_until(f, s_connected, 10);
    /* The first message's unit queues between 3 + 3 slow ones: reading
     * pauses (7 pending), and the message is applied with 3 still queued. */
    s_emit(f, "AppealReceived", "first");
    s_run_until(f, s_crowd_settled, 10);
    assert_int_equal(hl_db_pending(f->db), 0);
    /* Nothing is pending any more: the consumer must read again. */
    s_emit(f, "AppealReceived", "second");
    s_run_until(f, s_two_committed, 5);
    assert_int_equal(f->handled, 2);
    s_fx_finish(f);
}

int main(void)
{
    hl_log_init("test_pipeline", HL_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_envelope_round_trip),
        cmocka_unit_test(test_stage_names),
        cmocka_unit_test_setup(test_emit_then_consume, s_setup),
        cmocka_unit_test_setup(test_duplicate_applied_once, s_setup),
        cmocka_unit_test_setup(test_resend_dropped_in_memory, s_setup),
        cmocka_unit_test_setup(test_duplicate_in_one_batch, s_setup),
        cmocka_unit_test_setup(test_duplicate_sends_mode, s_setup),
        cmocka_unit_test_setup(test_duplicate_sends_sweeper, s_setup),
        cmocka_unit_test_setup(test_typed_handler, s_setup),
        cmocka_unit_test_setup(test_batched_handler, s_setup),
        cmocka_unit_test_setup(test_batch_duplicate_one_by_one, s_setup),
        cmocka_unit_test_setup(test_batch_refused_one_alone, s_setup),
        cmocka_unit_test_setup(test_batch_order_kept, s_setup),
        cmocka_unit_test_setup(test_send_if_guard, s_setup),
        cmocka_unit_test_setup(test_unknown_type_dead_lettered, s_setup),
        cmocka_unit_test_setup(test_unknown_type_cut_in_reason, s_setup),
        cmocka_unit_test_setup(test_handler_reject, s_setup),
        cmocka_unit_test_setup(test_effect_refused_by_schema, s_setup),
        cmocka_unit_test_setup(test_garbage_dead_lettered, s_setup),
        cmocka_unit_test_setup(test_no_bus_then_sweeper, s_setup),
        cmocka_unit_test_setup(test_dead_after_max_attempts, s_setup),
        cmocka_unit_test_setup(test_apply_failure_then_redelivery, s_setup),
        cmocka_unit_test_setup(test_retry_left_for_sweeper, s_setup),
        cmocka_unit_test_setup(test_many_messages, s_setup),
        cmocka_unit_test_setup(test_shards, s_setup),
        cmocka_unit_test_setup(test_two_buses_one_dies, s_setup),
        cmocka_unit_test(test_malformed_bus_list),
        cmocka_unit_test_setup(test_backpressure_resumes, s_setup),
    };
    return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
