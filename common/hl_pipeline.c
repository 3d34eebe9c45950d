/* hl_pipeline: outbox rows, send-after-commit, the sweeper and the
 * consumer's claim (see hl_pipeline.h and common/README.md). */
#include "hl_pipeline.h"

#include "hl_seen.h"

/* Message ids a consumer remembers (in hand or applied lately) to drop
 * re-sends without a round trip: 16,384 ids, 0.4 MB. */
#define HL_SEEN_IDS 16384

#include "hl_alloc.h"
#include "hl_err.h"
#include "hl_log.h"
#include "hl_metrics.h"
#include "hl_text.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define HL_MAX_BUSES    8
#define HL_MAX_HANDLERS 8
#define HL_MAX_GUARDS   8

static const char *const s_stage_names[] = {
#define HL_STAGE_NAME(name, text) text,
    HL_STAGES(HL_STAGE_NAME)
#undef HL_STAGE_NAME
};

const char *hl_stage_name(hl_stage_t stage)
{
    return stage < HL_STAGE_COUNT ? s_stage_names[stage] : "?";
}

int hl_stage_parse(const char *name)
{
    for (int i = 0; i < HL_STAGE_COUNT; i++)
        if (strcmp(name, s_stage_names[i]) == 0)
            return i;
    return -1;
}

typedef struct {
    hl_metric_t *emitted;    /* rows written */
    hl_metric_t *sent;       /* envelopes pushed (fast path and re-sends) */
    hl_metric_t *deferred;   /* fast-path sends that could not go (sweeper will) */
    hl_metric_t *resent;     /* sweeper re-sends */
    hl_metric_t *dead;       /* rows given up on or refused */
    hl_metric_t *consumed;   /* messages applied */
    hl_metric_t *duplicates; /* messages dropped as already applied */
    hl_metric_t *failed;     /* applications that failed (will be re-sent) */
    hl_metric_t *latency;    /* arrival to commit */
} s_stage_metrics_t;

typedef struct s_consumer {
    hl_pipeline_t *p;                       /* owner */
    hl_stage_t stage;                       /* which stage */
    hl_zsock_t sock;                        /* PULL, connected to every bus */
    hl_handler_t handlers[HL_MAX_HANDLERS]; /* by type */
    size_t nhandlers;                       /* used */
    hl_msg_handler_t msgs[HL_MAX_HANDLERS]; /* typed handlers, by payload type */
    size_t nmsgs;                           /* used */
    bool open;                              /* sock initialised */
    /* Messages for a batched handler, collected until the burst ends. */
    const hl_msg_handler_t *batching; /* their handler (one type at a time) */
    hl_inmsg_t *batch[HL_BATCH_MAX];  /* in arrival order */
    size_t nbatch;                    /* used */
} s_consumer_t;

struct hl_pipeline {
    uv_loop_t *loop;                   /* not owned */
    void *zctx;                        /* not owned */
    hl_db_t *db;                       /* not owned */
    hl_pipeline_cfg_t cfg;             /* strings not owned */
    hl_zsock_t push[HL_STAGE_COUNT];   /* producer sockets */
    bool push_open[HL_STAGE_COUNT];    /* which are initialised */
    s_consumer_t pull[HL_STAGE_COUNT]; /* consumer sockets */
    s_stage_metrics_t metrics[HL_STAGE_COUNT];
    uv_timer_t sweep;                    /* sweeper tick */
    uv_timer_t recheck;                  /* re-evaluates back-pressure while paused */
    bool sweeping;                       /* a sweep query is in flight */
    bool sweeper_started;                /* the sweep timer was started */
    bool paused;                         /* consumers paused for back-pressure */
    int inflight;                        /* hl_inmsg_t alive */
    int closing_handles;                 /* handles left to close on destroy */
    bool destroyed;                      /* destroy requested */
    char stages_sql[256];                /* produced stages as a text[] literal */
    hl_seen_t *seen;                     /* ids in hand or applied lately (hl_seen.h) */
    hl_db_t *shards[HL_PIPELINE_SHARDS]; /* more consumer connections, owned */
    int nshards;                         /* used */
    struct {
        const char *guard; /* the caller's guard text (its address is the key) */
        char *sql;         /* the guarded INSERT built around it, owned */
    } guards[HL_MAX_GUARDS];
    size_t nguards; /* used */
};

static uint64_t s_now_ns(void)
{
    return uv_hrtime();
}

static void s_metrics_init(hl_pipeline_t *p)
{
    for (int i = 0; i < HL_STAGE_COUNT; i++) {
        char l[64];
        snprintf(l, sizeof l, "stage=\"%s\"", s_stage_names[i]);
        s_stage_metrics_t *m = &p->metrics[i];
        m->emitted = hl_metric_counter("hl_pipeline_emitted_total",
                                       "Messages written to the pipeline table", l);
        m->sent = hl_metric_counter("hl_pipeline_sent_total", "Envelopes pushed to a bus", l);
        m->deferred = hl_metric_counter("hl_pipeline_send_deferred_total",
                                        "Sends that could not go at once (left to the sweeper)", l);
        m->resent = hl_metric_counter("hl_pipeline_resent_total",
                                      "Pending messages re-sent by the sweeper", l);
        m->dead = hl_metric_counter("hl_pipeline_dead_letters_total",
                                    "Messages given up on or refused as malformed", l);
        m->consumed =
            hl_metric_counter("hl_pipeline_consumed_total", "Messages applied exactly once", l);
        m->duplicates =
            hl_metric_counter("hl_pipeline_duplicates_total",
                              "Messages dropped as duplicates (in hand, or applied already)", l);
        m->failed = hl_metric_counter("hl_pipeline_apply_failures_total",
                                      "Applications that failed and will be re-sent", l);
        m->latency = hl_metric_histogram("hl_pipeline_apply_seconds",
                                         "Time from arrival to commit of a message's effects", l);
    }
}

hl_pipeline_t *hl_pipeline_new(uv_loop_t *loop, void *zctx, hl_db_t *db,
                               const hl_pipeline_cfg_t *cfg)
{
    assert(loop);
    assert(zctx);
    assert(db);
    assert(cfg && cfg->buses && cfg->producer);
    hl_pipeline_t *p = hl_calloc(1, sizeof *p);
    p->loop = loop;
    p->zctx = zctx;
    p->db = db;
    p->cfg = *cfg;
    uv_timer_init(loop, &p->sweep);
    uv_timer_init(loop, &p->recheck);
    p->sweep.data = p;
    p->recheck.data = p;
    s_metrics_init(p);
    p->seen = hl_seen_new(HL_SEEN_IDS);
    return p;
}

static int s_connect_all(hl_pipeline_t *p, hl_zsock_t *z, hl_stage_t stage, int side)
{
    int nbus = hl_bus_count(p->cfg.buses);
    if (nbus < 1 || nbus > HL_MAX_BUSES) {
        hl_error("bus", p->cfg.buses, "bus list must name 1 to %d buses", HL_MAX_BUSES);
        return HL_ECONFIG;
    }
    for (int b = 0; b < nbus; b++) {
        char ep[256];
        if (hl_bus_endpoint(p->cfg.buses, b, (int)stage, side, ep, sizeof ep) != 0) {
            hl_error("bus", p->cfg.buses, "malformed bus address (want tcp://host:port,...)");
            return HL_ECONFIG;
        }
        int rc = hl_zsock_connect(z, ep);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int hl_pipeline_produce(hl_pipeline_t *p, hl_stage_t stage)
{
    assert(stage < HL_STAGE_COUNT);
    if (p->push_open[stage])
        return 0;
    hl_zsock_t *z = &p->push[stage];
    int rc = hl_zsock_init(z, p->loop, p->zctx, ZMQ_PUSH, s_stage_names[stage], p->cfg.hwm, 1000);
    if (rc != 0)
        return rc;
    p->push_open[stage] = true;
    hl_pipeline_start_sweeper(p);
    rc = hl_curve_apply_client(z, p->cfg.curve);
    if (rc == 0)
        rc = s_connect_all(p, z, stage, 0);
    /* Rebuild the text[] literal of produced stages for the sweeper. */
    size_t off = 0;
    off += (size_t)snprintf(p->stages_sql + off, sizeof p->stages_sql - off, "{");
    for (int i = 0, first = 1; i < HL_STAGE_COUNT; i++)
        if (p->push_open[i]) {
            off += (size_t)snprintf(p->stages_sql + off, sizeof p->stages_sql - off, "%s%s",
                                    first ? "" : ",", s_stage_names[i]);
            first = 0;
        }
    snprintf(p->stages_sql + off, sizeof p->stages_sql - off, "}");
    return rc;
}

hl_zsock_t *hl_pipeline_push_socket(hl_pipeline_t *p, hl_stage_t stage)
{
    return p->push_open[stage] ? &p->push[stage] : NULL;
}

hl_zsock_t *hl_pipeline_pull_socket(hl_pipeline_t *p, hl_stage_t stage)
{
    return p->pull[stage].open ? &p->pull[stage].sock : NULL;
}

bool hl_pipeline_connected(const hl_pipeline_t *p)
{
    /* ZMQ_IMMEDIATE sockets report POLLOUT only with a live peer; a PULL
     * socket has no such signal, so readiness rests on the producers. */
    for (int i = 0; i < HL_STAGE_COUNT; i++) {
        if (!p->push_open[i])
            continue;
        int events = 0;
        size_t len = sizeof events;
        if (zmq_getsockopt(p->push[i].sock, ZMQ_EVENTS, &events, &len) != 0 ||
            !(events & ZMQ_POLLOUT))
            return false;
    }
    return true;
}

/* ---- producing ------------------------------------------------------- */

typedef struct {
    hl_pipeline_t *p;  /* owner */
    hl_stage_t stage;  /* where to send */
    const void *bytes; /* envelope, in the unit's arena */
    size_t len;        /* its length */
    bool guarded;      /* written only if a guard agreed */
    bool written;      /* the guarded row was written */
} s_send_t;

/* Pushes one envelope, twice in the duplicate-send test mode: the second
 * copy follows the first through the same bus, or through another one when
 * there are two, so consumers see true duplicates, near and far apart. */
static void s_push(hl_pipeline_t *p, hl_stage_t stage, const void *bytes, size_t len)
{
    s_stage_metrics_t *m = &p->metrics[stage];
    for (int copy = 0; copy < (p->cfg.duplicate_sends ? 2 : 1); copy++) {
        int rc = hl_zsock_send(&p->push[stage], bytes, len, false);
        hl_metric_add(rc == 0 ? m->sent : m->deferred, 1);
    }
}

static void s_send_after_commit(void *arg)
{
    s_send_t *s = arg;
    if (s->guarded && !s->written)
        return;
    hl_metric_add(s->p->metrics[s->stage].emitted, 1);
    if (!s->p->push_open[s->stage])
        return;
    s_push(s->p, s->stage, s->bytes, s->len);
}

const char hl_sql_insert_message[] =
    "INSERT INTO pipeline.message (id, stage, type, trace_id, producer, envelope, next_attempt_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7::float8 / 1000))";

/* hl_envelope_pack with the id given. */
static uint8_t *s_pack(hl_stage_t stage, const char *type, const char *trace_id,
                       const char *producer, const ProtobufCMessage *payload, const char *id_out,
                       size_t *len)
{
    size_t plen = protobuf_c_message_get_packed_size(payload);
    uint8_t *pbuf = hl_malloc(plen ? plen : 1);
    protobuf_c_message_pack(payload, pbuf);

    Hl__Envelope env = HL__ENVELOPE__INIT;
    env.id = (char *)id_out;
    env.type = (char *)type;
    env.stage = (char *)s_stage_names[stage];
    env.trace_id = (char *)(trace_id ? trace_id : id_out);
    env.producer = (char *)producer;
    env.has_created_at_us = 1;
    env.created_at_us = hl_time_us();
    env.has_payload = 1;
    env.payload.data = pbuf;
    env.payload.len = plen;
    *len = hl__envelope__get_packed_size(&env);
    uint8_t *ebuf = hl_malloc(*len);
    hl__envelope__pack(&env, ebuf);
    free(pbuf);
    return ebuf;
}

uint8_t *hl_envelope_pack(hl_stage_t stage, const char *type, const char *trace_id,
                          const char *producer, const ProtobufCMessage *payload,
                          char id_out[HL_UUID_LEN + 1], size_t *len)
{
    assert(stage < HL_STAGE_COUNT && type && producer && payload && id_out && len);
    hl_uuid_new(id_out);
    return s_pack(stage, type, trace_id, producer, payload, id_out, len);
}

/* The guarded INSERT around `guard`, built once per guard text. */
static const char *s_guard_sql(hl_pipeline_t *p, const char *guard)
{
    for (size_t i = 0; i < p->nguards; i++)
        if (p->guards[i].guard == guard)
            return p->guards[i].sql;
    assert(p->nguards < HL_MAX_GUARDS);
    hl_buf_t b = {0};
    hl_buf_printf(&b,
                  "INSERT INTO pipeline.message"
                  " (id, stage, type, trace_id, producer, envelope, next_attempt_at)"
                  " SELECT $1, $3, $4, $5, $6, $7, now() + make_interval(secs => $8::float8 / 1000)"
                  " FROM (SELECT $2::text AS guard_arg) a WHERE EXISTS (%s) RETURNING id",
                  guard);
    p->guards[p->nguards].guard = guard;
    p->guards[p->nguards].sql = b.data;
    return p->guards[p->nguards++].sql;
}

static void s_guard_rows(void *arg, const PGresult *res)
{
    s_send_t *s = arg;
    s->written = PQntuples(res) == 1;
}

/* Adds the row of message `id` to `u` (only when `guard` agrees, if set)
 * and its push after commit. */
static void s_emit(hl_pipeline_t *p, hl_dbu_t *u, hl_stage_t stage, const char *type,
                   const char *trace_id, const ProtobufCMessage *payload, const char *id,
                   const char *guard, const char *guard_arg)
{
    size_t elen;
    uint8_t *ebuf = s_pack(stage, type, trace_id, p->cfg.producer, payload, id, &elen);
    s_send_t *s =
        hl_dbu_keep(u, &(s_send_t){p, stage, NULL, elen, guard != NULL, false}, sizeof(s_send_t));
    s->bytes = hl_dbu_keep(u, ebuf, elen);
    free(ebuf);

    char resend[32];
    snprintf(resend, sizeof resend, "%d", p->cfg.resend_after_ms);
    const char *trace = trace_id ? trace_id : id;
    if (guard) {
        const char *values[8] = {
            id, guard_arg, s_stage_names[stage], type, trace, p->cfg.producer, s->bytes, resend};
        int lengths[8] = {0, 0, 0, 0, 0, 0, (int)elen, 0};
        int formats[8] = {0, 0, 0, 0, 0, 0, 1, 0};
        hl_dbu_stmt(u, s_guard_sql(p, guard), 8, values, lengths, formats, false, s_guard_rows, s);
    } else {
        const char *values[7] = {
            id, s_stage_names[stage], type, trace, p->cfg.producer, s->bytes, resend};
        int lengths[7] = {0, 0, 0, 0, 0, (int)elen, 0};
        int formats[7] = {0, 0, 0, 0, 0, 1, 0};
        hl_dbu_stmt(u, hl_sql_insert_message, 7, values, lengths, formats, false, NULL, NULL);
    }
    hl_dbu_on_commit(u, s_send_after_commit, s);
}

void hl_pipeline_emit(hl_pipeline_t *p, hl_dbu_t *u, hl_stage_t stage, const char *type,
                      const char *trace_id, const ProtobufCMessage *payload,
                      char id_out[HL_UUID_LEN + 1])
{
    assert(p && u && type && payload);
    char id[HL_UUID_LEN + 1];
    hl_uuid_new(id);
    if (id_out)
        memcpy(id_out, id, sizeof id);
    s_emit(p, u, stage, type, trace_id, payload, id, NULL, NULL);
}

/* The guard of hl_pipeline_send: the stage is one this daemon produces. */
static int s_send_check(hl_pipeline_t *p, hl_stage_t stage, const ProtobufCMessage *payload)
{
    assert(p && payload && payload->descriptor);
    assert(stage < HL_STAGE_COUNT && p->push_open[stage]);
    if (stage >= HL_STAGE_COUNT || !p->push_open[stage]) {
        hl_error("stage", stage < HL_STAGE_COUNT ? s_stage_names[stage] : "?",
                 "refused to send %s: this daemon does not produce on the stage",
                 payload->descriptor->short_name);
        return HL_EINVAL;
    }
    return 0;
}

int hl_pipeline_send(hl_pipeline_t *p, hl_dbu_t *u, hl_stage_t stage, const char *trace_id,
                     const ProtobufCMessage *payload, char id_out[HL_UUID_LEN + 1])
{
    assert(u);
    int rc = s_send_check(p, stage, payload);
    if (rc != 0)
        return rc;
    char id[HL_UUID_LEN + 1];
    hl_uuid_new(id);
    if (id_out)
        memcpy(id_out, id, sizeof id);
    s_emit(p, u, stage, payload->descriptor->short_name, trace_id, payload, id, NULL, NULL);
    return 0;
}

int hl_pipeline_send_if(hl_pipeline_t *p, hl_dbu_t *u, hl_stage_t stage, const char *trace_id,
                        const ProtobufCMessage *payload, const char *id, const char *guard,
                        const char *guard_arg)
{
    assert(u && id && hl_uuid_valid(id) && guard);
    int rc = s_send_check(p, stage, payload);
    if (rc != 0)
        return rc;
    s_emit(p, u, stage, payload->descriptor->short_name, trace_id, payload, id, guard, guard_arg);
    return 0;
}

/* ---- the sweeper --------------------------------------------------------- */

/* Takes due rows (SKIP LOCKED, so producer replicas share the work), counts
 * the attempt, pushes the back-off, and marks rows past the limit dead. */
static const char s_sql_sweep[] =
    "UPDATE pipeline.message m"
    "   SET attempts = m.attempts + 1,"
    "       next_attempt_at = now() + make_interval(secs => least($3::float8 / 1000 * "
    "power(2, m.attempts), 60)),"
    "       dead_at = CASE WHEN m.attempts + 1 > $4::int THEN now() END,"
    "       last_error = CASE WHEN m.attempts + 1 > $4::int"
    "                    THEN 'not applied after ' || m.attempts || ' re-sends' END"
    " WHERE m.id IN (SELECT id FROM pipeline.message"
    "                 WHERE producer = $1 AND done_at IS NULL AND dead_at IS NULL"
    "                   AND next_attempt_at <= now()"
    "                 ORDER BY next_attempt_at LIMIT $2::int FOR UPDATE SKIP LOCKED)"
    " RETURNING m.stage, m.envelope, m.dead_at IS NOT NULL, m.id::text";

static const char s_sql_purge[] =
    "DELETE FROM pipeline.message WHERE id IN (SELECT id FROM pipeline.message"
    " WHERE producer = $1 AND done_at < now() - make_interval(secs => $2::int) LIMIT 10000)";

static void s_sweep_rows(void *arg, const PGresult *res)
{
    hl_pipeline_t *p = arg;
    /* Binary result: text columns come as their bytes, bool as one byte. */
    for (int i = 0; i < PQntuples(res); i++) {
        int stage = hl_stage_parse(PQgetvalue(res, i, 0));
        bool dead = PQgetvalue(res, i, 2)[0] != 0;
        if (stage < 0)
            continue;
        s_stage_metrics_t *m = &p->metrics[stage];
        if (dead) {
            hl_metric_add(m->dead, 1);
            hl_error("message", PQgetvalue(res, i, 3),
                     "gave up on message for stage \"%s\" after %d re-sends: dead-lettered",
                     s_stage_names[stage], p->cfg.max_attempts);
            continue;
        }
        hl_metric_add(m->resent, 1);
        if (!p->push_open[stage])
            continue;
        s_push(p, (hl_stage_t)stage, PQgetvalue(res, i, 1), (size_t)PQgetlength(res, i, 1));
    }
}

static void s_sweep_done(void *arg, int rc, const hl_dberr_t *err)
{
    hl_pipeline_t *p = arg;
    p->sweeping = false;
    if (rc != 0 && rc != HL_ESHUTDOWN && rc != HL_EDBCONN)
        hl_warn("sweeper", p->cfg.producer, "sweep failed: %s", err->message);
}

static void s_sweep_cb(uv_timer_t *t)
{
    hl_pipeline_t *p = t->data;
    if (p->sweeping || !hl_db_ready(p->db))
        return;
    p->sweeping = true;
    char limit[16], resend[16], max[16], retain[16];
    snprintf(limit, sizeof limit, "%d", 1000);
    snprintf(resend, sizeof resend, "%d", p->cfg.resend_after_ms);
    snprintf(max, sizeof max, "%d", p->cfg.max_attempts);
    snprintf(retain, sizeof retain, "%d", p->cfg.retain_done_s);
    hl_dbu_t *u = hl_dbu_new(p->db, s_sweep_done, p);
    const char *sweep_values[] = {p->cfg.producer, limit, resend, max};
    hl_dbu_stmt(u, s_sql_sweep, 4, sweep_values, NULL, NULL, true, s_sweep_rows, p);
    HL_DBU(u, s_sql_purge, NULL, NULL, p->cfg.producer, retain);
    hl_dbu_submit(&u);
}

void hl_pipeline_start_sweeper(hl_pipeline_t *p)
{
    if (p->sweeper_started || p->destroyed)
        return;
    p->sweeper_started = true;
    uv_timer_start(&p->sweep, s_sweep_cb, (uint64_t)p->cfg.sweep_interval_ms,
                   (uint64_t)p->cfg.sweep_interval_ms);
}

/* ---- consuming ------------------------------------------------------- */

static const char s_sql_claim[] = "SELECT pipeline.claim($1, $2)";
static const char s_sql_claim_all[] = "SELECT pipeline.claim_all($1::uuid[], $2)";
static const char s_sql_dead[] = "UPDATE pipeline.message SET dead_at = now(), last_error = $2"
                                 " WHERE id = $1::uuid AND done_at IS NULL";
static const char s_sql_dead_raw[] =
    "INSERT INTO pipeline.dead_letter (consumer, stage, reason, raw) VALUES ($1, $2, $3, $4)";

static void s_recheck_cb(uv_timer_t *t);

static void s_backpressure(hl_pipeline_t *p)
{
    if (p->destroyed)
        return;
    size_t pending = hl_db_pending(p->db) + hl_pipeline_shard_pending(p);
    size_t high = (size_t)(p->cfg.backlog_max > 0 ? p->cfg.backlog_max : 1024);
    bool pause = pending >= high;
    if (pause == p->paused)
        return;
    if (!pause && pending > high / 2)
        return; /* hysteresis: resume only once half drained */
    p->paused = pause;
    /* Other units (HTTP, the sweeper) count towards `pending` too, and their
     * completion calls nobody here: while paused, look again regularly, or
     * reading stays paused for good once our own messages are done. */
    if (pause)
        uv_timer_start(&p->recheck, s_recheck_cb, 10, 10);
    else
        uv_timer_stop(&p->recheck);
    for (int i = 0; i < HL_STAGE_COUNT; i++) {
        if (!p->pull[i].open)
            continue;
        if (pause)
            hl_zsock_pause(&p->pull[i].sock);
        else
            hl_zsock_resume(&p->pull[i].sock);
    }
}

static void s_recheck_cb(uv_timer_t *t)
{
    s_backpressure(t->data);
}

static void s_inmsg_free(hl_inmsg_t *m)
{
    hl_pipeline_t *p = m->pipeline;
    /* Applied, or a duplicate of one applied: a re-send of it is dropped in
     * memory. Anything else (left for re-send, dead-lettered and perhaps
     * replayed later) must be taken again when it comes back. */
    if (m->env && m->env->id && !m->final)
        hl_seen_remove(p->seen, m->env->id);
    if (m->env)
        hl__envelope__free_unpacked(m->env, NULL);
    if (m->user_free)
        m->user_free(m->user);
    if (m->payload)
        protobuf_c_message_free_unpacked((ProtobufCMessage *)m->payload, NULL);
    hl_dbu_destroy(&m->unit);
    free(m);
    p->inflight--;
    s_backpressure(p);
}

static void s_dead_done(void *arg, int rc, const hl_dberr_t *err)
{
    hl_inmsg_t *m = arg;
    if (rc != 0)
        hl_warn("message", m->env ? m->env->id : NULL, "could not dead-letter message: %s",
                err->message);
    /* Not remembered: `hlctl replay` re-sends it once an operator mended the cause. */
    s_inmsg_free(m);
}

void hl_inmsg_reject(hl_inmsg_t **mp, const char *reason)
{
    hl_inmsg_t *m = *mp;
    *mp = NULL;
    hl_pipeline_t *p = m->pipeline;
    hl_metric_add(p->metrics[m->stage].dead, 1);
    /* The reason may quote the message (its type, a field cut at a byte
     * count): last_error is text, which PostgreSQL takes only as UTF-8. */
    char *text = hl_strdup(reason);
    hl_utf8_repair(text);
    hl_error("message", m->env->id, "refused %s message on stage \"%s\": %s: dead-lettered",
             m->env->type ? m->env->type : "untyped", s_stage_names[m->stage], text);
    hl_dbu_destroy(&m->unit);
    hl_dbu_t *u = hl_dbu_new(p->db, s_dead_done, m);
    HL_DBU(u, s_sql_dead, NULL, NULL, m->env->id, text);
    free(text);
    hl_dbu_submit(&u);
}

static void s_apply_done(void *arg, int rc, const hl_dberr_t *err);

/* Gives `m` a fresh unit on m->db that starts with its claim; the handler
 * adds its effects after it. */
static void s_claim_unit(hl_inmsg_t *m)
{
    m->unit = hl_dbu_new(m->db, s_apply_done, m);
    HL_DBU(m->unit, s_sql_claim, NULL, NULL, m->env->id, m->pipeline->cfg.producer);
}

/* `m` committed: counted, its latency observed, remembered as applied, freed. */
static void s_applied(hl_inmsg_t *m, uint64_t now_ns)
{
    s_stage_metrics_t *sm = &m->pipeline->metrics[m->stage];
    hl_metric_add(sm->consumed, 1);
    hl_metric_observe(sm->latency, (double)(now_ns - m->start_ns) / 1e9);
    m->final = true;
    s_inmsg_free(m);
}

static void s_apply_done(void *arg, int rc, const hl_dberr_t *err)
{
    hl_inmsg_t *m = arg;
    hl_pipeline_t *p = m->pipeline;
    s_stage_metrics_t *sm = &p->metrics[m->stage];
    m->unit = NULL; /* hl_db frees it */
    if (rc == 0) {
        s_applied(m, s_now_ns());
        return;
    }
    if (rc == HL_EDUPLICATE) {
        hl_metric_add(sm->duplicates, 1);
        hl_debug("message", m->env->id, "dropped duplicate %s", m->env->type);
        m->final = true;
        s_inmsg_free(m);
        return;
    }
    if (m->redo && rc == HL_ERETRY && m->redos < HL_INMSG_REDOS) {
        m->redos++;
        hl_debug("message", m->env->id, "deciding %s again: %s", m->env->type, err->message);
        s_claim_unit(m);
        m->redo(m, err, m->redo_arg);
        return;
    }
    if (rc == HL_EINVAL || rc == HL_ECONFLICT) {
        /* The data itself is refused by the schema (a check, a foreign key, a
         * unique key): re-sending cannot help, so an operator must look. */
        char reason[512];
        snprintf(reason, sizeof reason, "effects refused by the database: %s (SQLSTATE %s)",
                 err->message, err->sqlstate);
        hl_inmsg_t *mm = m;
        hl_inmsg_reject(&mm, reason);
        return;
    }
    hl_metric_add(sm->failed, 1);
    hl_warn("message", m->env->id, "could not apply %s: %s (left for re-send)", m->env->type,
            err->message);
    s_inmsg_free(m);
}

void hl_inmsg_retry(hl_inmsg_t **mp, const char *why)
{
    hl_inmsg_t *m = *mp;
    *mp = NULL;
    hl_metric_add(m->pipeline->metrics[m->stage].failed, 1);
    hl_warn("message", m->env->id, "left %s for re-delivery: %s", m->env->type, why);
    s_inmsg_free(m);
}

int hl_pipeline_shards(hl_pipeline_t *p, const hl_db_cfg_t *cfg, int n)
{
    if (n < 0 || p->nshards + n > HL_PIPELINE_SHARDS)
        return HL_EINVAL;
    for (int i = 0; i < n; i++) {
        hl_db_t *db = hl_db_new(p->loop, cfg);
        if (!db)
            return HL_EINVAL;
        p->shards[p->nshards++] = db;
    }
    return 0;
}

size_t hl_pipeline_shard_pending(const hl_pipeline_t *p)
{
    size_t n = 0;
    for (int i = 0; p && i < p->nshards; i++)
        n += hl_db_pending(p->shards[i]);
    return n;
}

int hl_pipeline_nshards(const hl_pipeline_t *p)
{
    return p ? p->nshards : 0;
}

hl_db_t *hl_pipeline_shard(const hl_pipeline_t *p, int i)
{
    assert(p && i >= 0 && i < p->nshards);
    return p->shards[i];
}

bool hl_pipeline_shards_ready(const hl_pipeline_t *p)
{
    for (int i = 0; p && i < p->nshards; i++)
        if (!hl_db_ready(p->shards[i]))
            return false;
    return true;
}

void hl_inmsg_shard(hl_inmsg_t *m, uint64_t key)
{
    hl_pipeline_t *p = m->pipeline;
    if (p->nshards == 0 || !m->unit)
        return;
    uint64_t i = key % (uint64_t)(p->nshards + 1);
    hl_db_t *db = i == 0 ? p->db : p->shards[i - 1];
    if (db == m->db)
        return;
    hl_dbu_destroy(&m->unit);
    m->db = db;
    s_claim_unit(m);
}

void hl_inmsg_apply_redo(hl_inmsg_t **mp, hl_redo_fn *redo, void *arg)
{
    (*mp)->redo = redo;
    (*mp)->redo_arg = arg;
    hl_inmsg_apply(mp);
}

void hl_inmsg_apply(hl_inmsg_t **mp)
{
    hl_inmsg_t *m = *mp;
    *mp = NULL;
    hl_dbu_t *u = m->unit;
    m->unit = NULL;
    hl_dbu_submit(&u);
}

/* ---- batched handlers (hl_batch_fn) ---------------------------------- */

/* A submitted batch: its messages, until the unit is done. */
typedef struct {
    hl_pipeline_t *p;
    const hl_msg_handler_t *h; /* for the one-by-one fallback */
    size_t n;
    hl_inmsg_t *m[]; /* n of them */
} s_batch_t;

/* Gives each message of a failed batch its own unit and handler call. */
static void s_batch_one_by_one(s_batch_t *b)
{
    for (size_t i = 0; i < b->n; i++) {
        hl_inmsg_t *m = b->m[i];
        s_claim_unit(m);
        b->h->fn(m, m->payload, b->h->arg);
    }
}

static void s_batch_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_batch_t *b = arg;
    hl_pipeline_t *p = b->p;
    if (rc == 0) {
        uint64_t now = s_now_ns();
        for (size_t i = 0; i < b->n; i++)
            s_applied(b->m[i], now);
    } else if (rc == HL_ESHUTDOWN || rc == HL_EDBCONN || p->destroyed) {
        /* Alone they would fail the same way: all stay pending, for re-send. */
        hl_warn("stage", s_stage_names[b->m[0]->stage],
                "could not apply a batch of %zu %s: %s (left for re-send)", b->n,
                b->m[0]->env->type, err->message);
        for (size_t i = 0; i < b->n; i++) {
            hl_metric_add(p->metrics[b->m[i]->stage].failed, 1);
            s_inmsg_free(b->m[i]);
        }
    } else {
        /* A duplicate (HLDUP from claim_all) or one message the database
         * refuses: one by one, each gets its own verdict. */
        hl_debug("stage", s_stage_names[b->m[0]->stage],
                 "batch of %zu %s failed (%s): applying them one by one", b->n, b->m[0]->env->type,
                 err->message);
        s_batch_one_by_one(b);
    }
    free(b);
}

/* Hands the collected messages to the handler's batch function, as many
 * units as it takes, in arrival order. */
static void s_batch_flush(s_consumer_t *c)
{
    hl_pipeline_t *p = c->p;
    const hl_msg_handler_t *h = c->batching;
    size_t at = 0;
    while (at < c->nbatch) {
        size_t left = c->nbatch - at;
        s_batch_t *b = hl_malloc(sizeof *b + left * sizeof b->m[0]);
        b->p = p;
        b->h = h;
        hl_dbu_t *u = hl_dbu_new(p->db, s_batch_done, b);
        hl_batch_t view = {c->batch + at, left, u};
        size_t k = h->batch(&view, h->arg);
        assert(k >= 1 && k <= left);
        if (k < 1 || k > left)
            k = 1;
        b->n = k;
        hl_buf_t ids = {0};
        for (size_t i = 0; i < k; i++) {
            b->m[i] = c->batch[at + i];
            hl_buf_pgarray_add(&ids, b->m[i]->env->id);
        }
        hl_buf_pgarray_end(&ids);
        HL_DBU(u, s_sql_claim_all, NULL, NULL, ids.data, p->cfg.producer);
        hl_buf_close(&ids);
        hl_dbu_submit(&u);
        at += k;
    }
    c->nbatch = 0;
    c->batching = NULL;
}

static void s_drained_cb(hl_zsock_t *z, void *arg)
{
    (void)z;
    s_consumer_t *c = arg;
    if (c->nbatch > 0)
        s_batch_flush(c);
}

/* Messages collected but never handed over (the pipeline is going away):
 * left pending, for re-send. */
static void s_batch_drop(s_consumer_t *c)
{
    for (size_t i = 0; i < c->nbatch; i++)
        s_inmsg_free(c->batch[i]);
    c->nbatch = 0;
    c->batching = NULL;
}

static void s_dead_raw(hl_pipeline_t *p, hl_stage_t stage, const void *data, size_t len,
                       const char *reason)
{
    hl_metric_add(p->metrics[stage].dead, 1);
    hl_error("stage", s_stage_names[stage], "refused malformed frame of %zu bytes: %s", len,
             reason);
    size_t keep = len > 65536 ? 65536 : len;
    const char *values[4] = {p->cfg.producer, s_stage_names[stage], reason, data};
    int lengths[4] = {0, 0, 0, (int)keep};
    int formats[4] = {0, 0, 0, 1};
    hl_dbu_t *u = hl_dbu_new(p->db, NULL, NULL);
    hl_dbu_stmt(u, s_sql_dead_raw, 4, values, lengths, formats, false, NULL, NULL);
    hl_dbu_submit(&u);
}

const char *hl_envelope_check(const Hl__Envelope *env)
{
    if (!env)
        return "not a protobuf envelope";
    if (!env->id || !hl_uuid_valid(env->id) || !env->type || !env->has_payload)
        return "envelope lacks a valid id, type or payload";
    return NULL;
}

static void s_recv_cb(hl_zsock_t *z, zmq_msg_t *frame, bool more, void *arg)
{
    s_consumer_t *c = arg;
    hl_pipeline_t *p = c->p;
    (void)z;
    const uint8_t *data = zmq_msg_data(frame);
    size_t len = zmq_msg_size(frame);
    if (more) {
        s_dead_raw(p, c->stage, data, len, "unexpected multi-part message");
        return;
    }
    Hl__Envelope *env = hl__envelope__unpack(NULL, len, data);
    const char *why = hl_envelope_check(env);
    if (why) {
        s_dead_raw(p, c->stage, data, len, why);
        if (env)
            hl__envelope__free_unpacked(env, NULL);
        return;
    }
    if (!p->cfg.claim_every_copy && !hl_seen_add(p->seen, env->id)) {
        /* In hand or applied lately: a re-send that overtook nothing. */
        hl_metric_add(p->metrics[c->stage].duplicates, 1);
        hl__envelope__free_unpacked(env, NULL);
        return;
    }
    hl_inmsg_t *m = hl_calloc(1, sizeof *m);
    m->pipeline = p;
    m->stage = c->stage;
    m->env = env;
    m->start_ns = s_now_ns();
    p->inflight++;
    const hl_handler_t *h = NULL;
    for (size_t i = 0; i < c->nhandlers; i++)
        if (strcmp(c->handlers[i].type, env->type) == 0)
            h = &c->handlers[i];
    const hl_msg_handler_t *t = NULL;
    for (size_t i = 0; !h && i < c->nmsgs; i++)
        if (strcmp(c->msgs[i].type->short_name, env->type) == 0)
            t = &c->msgs[i];
    if (!h && !t) {
        char reason[160];
        snprintf(reason, sizeof reason, "unknown message type \"%.64s\"", env->type);
        hl_inmsg_reject(&m, reason);
        return;
    }
    if (t) {
        ProtobufCMessage *msg =
            protobuf_c_message_unpack(t->type, NULL, env->payload.len, env->payload.data);
        const char *why = !msg ? NULL : t->check ? t->check(msg) : NULL;
        if (!msg || why) {
            char reason[256];
            if (!msg)
                snprintf(reason, sizeof reason, "payload is not a %s", t->type->short_name);
            else
                snprintf(reason, sizeof reason, "%s", why);
            if (msg)
                protobuf_c_message_free_unpacked(msg, NULL);
            hl_inmsg_reject(&m, reason);
            return;
        }
        m->payload = msg;
    }
    m->db = p->db;
    if (t && t->batch) {
        if (c->batching != t && c->nbatch > 0)
            s_batch_flush(c);
        c->batching = t;
        c->batch[c->nbatch++] = m;
        if (c->nbatch == HL_BATCH_MAX)
            s_batch_flush(c);
        s_backpressure(p);
        return;
    }
    if (c->nbatch > 0)
        s_batch_flush(c); /* what came before commits before */
    s_claim_unit(m);
    if (h)
        h->fn(m, h->arg);
    else
        t->fn(m, m->payload, t->arg);
    s_backpressure(p);
}

/* Opens the PULL socket of `stage`, whose handlers are set. */
static int s_consume_open(hl_pipeline_t *p, hl_stage_t stage)
{
    s_consumer_t *c = &p->pull[stage];
    c->p = p;
    c->stage = stage;
    int rc =
        hl_zsock_init(&c->sock, p->loop, p->zctx, ZMQ_PULL, s_stage_names[stage], p->cfg.hwm, 0);
    if (rc != 0)
        return rc;
    c->open = true;
    rc = hl_curve_apply_client(&c->sock, p->cfg.curve);
    if (rc == 0)
        rc = s_connect_all(p, &c->sock, stage, 1);
    if (rc != 0)
        return rc;
    c->sock.on_drained = s_drained_cb;
    hl_zsock_set_cb(&c->sock, s_recv_cb, NULL, c);
    return 0;
}

int hl_pipeline_consume(hl_pipeline_t *p, hl_stage_t stage, const hl_handler_t *handlers, size_t n)
{
    assert(stage < HL_STAGE_COUNT);
    assert(n <= HL_MAX_HANDLERS);
    s_consumer_t *c = &p->pull[stage];
    assert(!c->open);
    memcpy(c->handlers, handlers, n * sizeof *handlers);
    c->nhandlers = n;
    return s_consume_open(p, stage);
}

int hl_pipeline_consume_msgs(hl_pipeline_t *p, hl_stage_t stage, const hl_msg_handler_t *handlers,
                             size_t n)
{
    assert(stage < HL_STAGE_COUNT);
    assert(n <= HL_MAX_HANDLERS);
    s_consumer_t *c = &p->pull[stage];
    assert(!c->open);
    for (size_t i = 0; i < n; i++)
        assert(handlers[i].type && handlers[i].fn);
    memcpy(c->msgs, handlers, n * sizeof *handlers);
    c->nmsgs = n;
    return s_consume_open(p, stage);
}

static void s_sock_closed(hl_zsock_t *z);

static void s_maybe_free(hl_pipeline_t *p)
{
    if (p->destroyed && p->closing_handles == 0) {
        hl_seen_destroy(&p->seen);
        for (size_t i = 0; i < p->nguards; i++)
            free(p->guards[i].sql);
        free(p);
    }
}

static void s_sock_closed(hl_zsock_t *z)
{
    hl_pipeline_t *p = z->arg;
    p->closing_handles--;
    s_maybe_free(p);
}

static void s_timer_closed(uv_handle_t *h)
{
    hl_pipeline_t *p = h->data;
    p->closing_handles--;
    s_maybe_free(p);
}

void hl_pipeline_stop_consuming(hl_pipeline_t *p)
{
    uv_timer_stop(&p->sweep);
    for (int i = 0; i < HL_STAGE_COUNT; i++) {
        s_consumer_t *c = &p->pull[i];
        s_batch_drop(c);
        if (c->open && !c->sock.closing) {
            c->sock.arg = p;
            p->closing_handles++;
            hl_zsock_close(&c->sock, s_sock_closed);
        }
    }
}

void hl_pipeline_destroy(hl_pipeline_t **pp)
{
    hl_pipeline_t *p = *pp;
    if (!p)
        return;
    *pp = NULL;
    p->destroyed = true;
    hl_pipeline_stop_consuming(p);
    /* Units still on a shard fail (HL_ESHUTDOWN): left for re-send. */
    for (int i = 0; i < p->nshards; i++)
        hl_db_destroy(&p->shards[i]);
    p->nshards = 0;
    for (int i = 0; i < HL_STAGE_COUNT; i++) {
        if (p->push_open[i] && !p->push[i].closing) {
            p->push[i].arg = p;
            p->closing_handles++;
            hl_zsock_close(&p->push[i], s_sock_closed);
        }
    }
    uv_timer_stop(&p->sweep);
    uv_timer_stop(&p->recheck);
    p->closing_handles += 2;
    uv_close((uv_handle_t *)&p->sweep, s_timer_closed);
    uv_close((uv_handle_t *)&p->recheck, s_timer_closed);
}
