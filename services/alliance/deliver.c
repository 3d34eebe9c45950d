/* deliver.c: outbound webhooks to the Shuang Lian Shuang Ying platform.
 *
 * Events reach the outbox (alliance.delivery, one row per event and
 * partner) in the transaction that makes them true: PlatformEvent from
 * hl-bounty on stage "platform" (board published, large item claimed /
 * progress / resolved, action refused) in the message's own unit, whose
 * claim makes a re-sent message add nothing; meeting.held in the unit that
 * holds the meeting (meeting.c). The event id is the row's key and the
 * webhook-id, so an event is queued once per partner however often its
 * message arrives.
 *
 * Every HL_WEBHOOK_SCAN_MS the due rows are leased (alliance.take_deliveries:
 * FOR UPDATE SKIP LOCKED, next_at pushed past the timeout, the attempt
 * counted, so replicas never send one row at once) and POSTed with libcurl
 * (common/hl_fetch.h, on the loop), signed with each of the partner's
 * active secrets. A 2xx marks the row delivered; anything else (an error
 * status, a timeout, a refused connection) schedules the next attempt after
 * HL_WEBHOOK_BACKOFF_MS doubling up to HL_WEBHOOK_BACKOFF_MAX_MS, and after
 * HL_WEBHOOK_MAX_ATTEMPTS the row is dead (GET /v1/platform/deliveries
 * shows it; POST /v1/platform/deliveries/replay revives dead rows). A
 * crash between a partner's 2xx and our mark means one more delivery of
 * the same webhook-id: at least once, and the partner drops repeats by id. */
#include "alliance.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const s_types[] = {"board.published",
                                      "large_item.claimed",
                                      "large_item.progress",
                                      "large_item.resolved",
                                      "meeting.held",
                                      "action.refused",
                                      NULL};

const char alliance_sql_enqueue[] = "SELECT alliance.enqueue_event($1, $2, $3)";

char *alliance_event_body(const char *type, int64_t at_us, json_t *data)
{
    time_t secs = (time_t)(at_us / 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char ts[80];
    snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(at_us % 1000000));
    json_t *o = json_pack("{s:s, s:s, s:o}", "type", type, "timestamp", ts, "data", data);
    char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return text;
}

/* ---- stage "platform" --------------------------------------------------- */

static bool s_event_id_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > HL_WEBHOOK_ID_MAX)
        return false;
    for (; *id; id++)
        if (*id <= ' ' || *id > '~')
            return false;
    return true;
}

/* Why a PlatformEvent cannot be queued, or NULL (the typed handler's check;
 * its data_json is checked where it is parsed, in s_platform_event). */
static const char *s_platform_event_check(const void *msg)
{
    const Hl__PlatformEvent *e = msg;
    if (!e)
        return "payload is not a PlatformEvent";
    if (!s_event_id_ok(e->event_id))
        return "PlatformEvent event_id is missing or not printable ASCII (at most 128)";
    if (!e->type || !*e->type)
        return "PlatformEvent type is missing";
    for (const char *const *t = s_types; *t; t++)
        if (strcmp(*t, e->type) == 0)
            return NULL;
    return "PlatformEvent type is not one the platform is told about";
}

/* The library unpacked and checked the payload and frees it with the message. */
static void s_platform_event(hl_inmsg_t *m, const void *msg, void *arg)
{
    (void)arg;
    const Hl__PlatformEvent *e = msg;
    json_t *data = e->data_json && *e->data_json
                       ? json_loads(e->data_json, JSON_REJECT_DUPLICATES, NULL)
                       : json_object();
    if (!json_is_object(data)) {
        json_decref(data);
        hl_inmsg_reject(&m, "PlatformEvent data_json is not a JSON object");
        return;
    }
    if (e->subject_id && *e->subject_id)
        json_object_set_new(data, "subject_id", json_string(e->subject_id));
    if (e->community && *e->community)
        json_object_set_new(data, "community", json_string(e->community));
    if (e->unit && *e->unit)
        json_object_set_new(data, "unit", json_string(e->unit));
    int64_t at =
        e->has_occurred_at_us && e->occurred_at_us > 0 ? e->occurred_at_us : m->env->created_at_us;
    char *body = alliance_event_body(e->type, at, data);
    HL_DBU(m->unit, alliance_sql_enqueue, NULL, NULL, e->event_id, e->type, body);
    free(body);
    hl_inmsg_apply(&m);
}

int alliance_platform_consume(alliance_t *al)
{
    const hl_msg_handler_t handlers[] = {
        {&hl__platform_event__descriptor, s_platform_event_check, s_platform_event, al, NULL},
    };
    return hl_pipeline_consume_msgs(al->svc->pipeline, HL_STAGE_PLATFORM, handlers,
                                    sizeof handlers / sizeof handlers[0]);
}

/* ---- GET /v1/platform/deliveries, POST .../replay ------------------------ */

static const char s_sql_list[] =
    "SELECT json_build_object('deliveries', coalesce(json_agg(json_build_object('partner',"
    " d.partner, 'event_id', d.event_id, 'type', d.type, 'status', d.status, 'attempts',"
    " d.attempts, 'next_at', d.next_at, 'last_status', d.last_status, 'last_error',"
    " d.last_error, 'created_at', d.created_at, 'delivered_at', d.delivered_at) ORDER BY"
    " d.created_at DESC, d.event_id), '[]'), 'counts', (SELECT json_object_agg(s.status, s.n)"
    " FROM (SELECT status, count(*) AS n FROM alliance.delivery WHERE $1::text IS NULL OR"
    " partner = $1 GROUP BY status) s))::text FROM (SELECT * FROM alliance.delivery"
    " WHERE ($1::text IS NULL OR partner = $1) AND ($2::text IS NULL OR status = $2)"
    " ORDER BY created_at DESC, event_id LIMIT $3::int) d";

typedef struct {
    const char *partner; /* or NULL */
    const char *status;  /* or NULL */
    int64_t limit;       /* 1..1000 */
} s_list_q_t;

static const char *const s_statuses[] = {"pending", "delivered", "dead", NULL};

static const hl_req_field_t s_list_query[] = {
    {.name = "partner",
     .type = HL_REQ_TEXT,
     .max = ALLIANCE_CODE_MAX,
     .check = alliance_code_check,
     HL_REQ_AT(s_list_q_t, partner)},
    {.name = "status",
     .type = HL_REQ_TEXT,
     .max = 16,
     .allowed = s_statuses,
     HL_REQ_AT(s_list_q_t, status)},
    {.name = "limit", .type = HL_REQ_INT, .min = 1, .max = 1000, HL_REQ_AT(s_list_q_t, limit)},
    {0}};

static const hl_req_field_t s_replay_query[] = {{.name = "partner",
                                                 .type = HL_REQ_TEXT,
                                                 .max = ALLIANCE_CODE_MAX,
                                                 .check = alliance_code_check,
                                                 HL_REQ_AT(s_list_q_t, partner)},
                                                {0}};

void alliance_deliveries_get(hl_http_req_t *req, void *arg)
{
    s_list_q_t q = {.limit = 100};
    if (!hl_req_query(req, s_list_query, &q))
        return;
    char l[24];
    snprintf(l, sizeof l, "%lld", (long long)q.limit);
    const char *p[] = {q.partner, q.status, l};
    alliance_get_json(arg, req, s_sql_list, 3, p, NULL, "read the deliveries");
}

/* ---- delivering --------------------------------------------------------- */

static const char s_sql_take[] = "SELECT partner, event_id, body, attempts::text, endpoint,"
                                 " array_to_json(secrets)::text FROM"
                                 " alliance.take_deliveries($1::int, $2::int)";
static const char s_sql_delivered[] =
    "UPDATE alliance.delivery SET status = 'delivered', delivered_at = now(), last_status ="
    " $3::int, last_error = NULL WHERE partner = $1 AND event_id = $2 AND status = 'pending'";
static const char s_sql_failed[] =
    "UPDATE alliance.delivery SET last_status = NULLIF($3::int, 0), last_error = left($4, 500),"
    " next_at = now() + make_interval(secs => $5::float8 / 1000),"
    " status = CASE WHEN attempts >= $6::int THEN 'dead' ELSE 'pending' END"
    " WHERE partner = $1 AND event_id = $2 AND status = 'pending'"
    " RETURNING status";

/* One attempt in flight. */
typedef struct {
    alliance_t *al;                       /* service */
    char partner[ALLIANCE_CODE_MAX + 1];  /* the row */
    char event_id[HL_WEBHOOK_ID_MAX + 1]; /* the row */
    int attempts;                         /* counting this one */
    bool dead;                            /* the failure made it dead */
} s_try_t;

static void s_dead_rows(void *arg, const PGresult *res)
{
    s_try_t *t = arg;
    t->dead = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "dead") == 0;
}

static void s_mark_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_try_t *t = arg;
    if (rc != 0)
        hl_warn("delivery", t->event_id, "could not record the attempt for %s: %s", t->partner,
                err->message);
    else if (t->dead) {
        hl_metric_add(t->al->dead, 1);
        hl_warn("delivery", t->event_id, "gave up delivering to %s after %d attempts", t->partner,
                t->attempts);
    }
    free(t);
}

static void s_sent(void *arg, long status, const char *error)
{
    s_try_t *t = arg;
    alliance_t *al = t->al;
    char st[16];
    snprintf(st, sizeof st, "%ld", status);
    hl_dbu_t *u = hl_dbu_new(al->svc->db, s_mark_done, t);
    if (status >= 200 && status < 300) {
        hl_metric_add(al->delivered, 1);
        HL_DBU(u, s_sql_delivered, NULL, NULL, t->partner, t->event_id, st);
    } else {
        hl_metric_add(al->delivery_fail, 1);
        char why[300], backoff[24], max[16];
        if (status == 0)
            snprintf(why, sizeof why, "no answer: %s", error ? error : "unknown error");
        else
            snprintf(why, sizeof why, "answered %ld", status);
        long long ms = al->cfg->webhook_backoff_ms;
        for (int i = 1; i < t->attempts && ms < al->cfg->webhook_backoff_max_ms; i++)
            ms *= 2;
        if (ms > al->cfg->webhook_backoff_max_ms)
            ms = al->cfg->webhook_backoff_max_ms;
        snprintf(backoff, sizeof backoff, "%lld", ms);
        snprintf(max, sizeof max, "%lld", al->cfg->webhook_max_attempts);
        hl_info("delivery", t->event_id, "attempt %d to %s failed (%s); next in %lld ms",
                t->attempts, t->partner, why, ms);
        HL_DBU(u, s_sql_failed, s_dead_rows, t, t->partner, t->event_id, st, why, backoff, max);
    }
    hl_dbu_submit(&u);
}

/* Sends one leased row: cols partner, event_id, body, attempts, endpoint, secrets. */
static void s_send(alliance_t *al, const PGresult *res, int row)
{
    s_try_t *t = hl_calloc(1, sizeof *t);
    t->al = al;
    snprintf(t->partner, sizeof t->partner, "%s", PQgetvalue(res, row, 0));
    snprintf(t->event_id, sizeof t->event_id, "%s", PQgetvalue(res, row, 1));
    t->attempts = (int)strtol(PQgetvalue(res, row, 3), NULL, 10);
    const char *body = PQgetvalue(res, row, 2);
    size_t len = (size_t)PQgetlength(res, row, 2);
    json_t *secrets = json_loads(PQgetvalue(res, row, 5), 0, NULL);
    hl_buf_t sig = {0};
    long long now = (long long)time(NULL);
    for (size_t i = 0; i < json_array_size(secrets); i++) {
        hl_webhook_key_t key;
        if (!hl_webhook_key_parse(json_string_value(json_array_get(secrets, i)), &key))
            continue;
        char one[HL_WEBHOOK_SIG_LEN];
        hl_webhook_sign(&key, t->event_id, now, body, len, one);
        hl_buf_printf(&sig, "%s%s", sig.len ? " " : "", one);
    }
    json_decref(secrets);
    if (!sig.len) {
        hl_buf_close(&sig);
        s_sent(t, 0, "the partner has no active secret to sign with");
        return;
    }
    char h_id[HL_WEBHOOK_ID_MAX + 16], h_ts[48];
    snprintf(h_id, sizeof h_id, "webhook-id: %s", t->event_id);
    snprintf(h_ts, sizeof h_ts, "webhook-timestamp: %lld", now);
    char *h_sig = hl_asprintf("webhook-signature: %s", sig.data);
    const char *headers[] = {"Content-Type: application/json", h_id, h_ts, h_sig, NULL};
    int rc = hl_fetch_post(al->fetch, PQgetvalue(res, row, 4), headers, body, len,
                           al->cfg->webhook_timeout_ms, s_sent, t);
    free(h_sig);
    hl_buf_close(&sig);
    if (rc != 0)
        s_sent(t, 0, hl_strerror(rc));
}

static void s_take_rows(void *arg, const PGresult *res)
{
    alliance_t *al = arg;
    for (int i = 0; i < PQntuples(res); i++)
        s_send(al, res, i);
}

static void s_take_done(void *arg, int rc, const hl_dberr_t *err)
{
    alliance_t *al = arg;
    al->scanning_deliveries = false;
    if (rc != 0)
        hl_warn("delivery", "scan", "could not take due deliveries: %s", err->message);
}

static void s_scan_cb(uv_timer_t *timer)
{
    alliance_t *al = timer->data;
    long long room = al->cfg->webhook_in_flight - (long long)hl_fetch_active(al->fetch);
    if (al->scanning_deliveries || al->stopping || room <= 0 || !hl_db_ready(al->svc->db))
        return;
    al->scanning_deliveries = true;
    char limit[24], lease[24];
    snprintf(limit, sizeof limit, "%lld", room);
    /* The lease outlives the attempt, so a replica never sends it meanwhile. */
    snprintf(lease, sizeof lease, "%lld", al->cfg->webhook_timeout_ms / 1000 + 5);
    hl_dbu_t *u = hl_dbu_new(al->svc->db, s_take_done, al);
    HL_DBU(u, s_sql_take, s_take_rows, al, limit, lease);
    hl_dbu_submit(&u);
}

void alliance_deliver_start(alliance_t *al)
{
    al->fetch = hl_fetch_new(al->svc->loop);
    uv_timer_init(al->svc->loop, &al->webhook_timer);
    al->webhook_timer.data = al;
    uv_timer_start(&al->webhook_timer, s_scan_cb, (uint64_t)al->cfg->webhook_scan_ms,
                   (uint64_t)al->cfg->webhook_scan_ms);
}

void alliance_deliver_stop(alliance_t *al)
{
    al->stopping = true;
    uv_timer_stop(&al->webhook_timer);
    uv_close((uv_handle_t *)&al->webhook_timer, NULL);
    /* Attempts in flight end now; their rows stay leased and are sent again
     * once the lease runs out (by this daemon's next start or a replica). */
    hl_fetch_destroy(&al->fetch);
}

/* POST /v1/platform/deliveries/replay: dead deliveries (of one partner, or
 * all) become pending again with a fresh count of attempts. */
static const char s_sql_replay[] =
    "WITH r AS (UPDATE alliance.delivery SET status = 'pending', attempts = 0, next_at = now()"
    " WHERE status = 'dead' AND ($1::text IS NULL OR partner = $1) RETURNING 1)"
    " SELECT json_build_object('revived', count(*))::text FROM r";

void alliance_deliveries_replay(hl_http_req_t *req, void *arg)
{
    s_list_q_t q = {0};
    if (!hl_req_query(req, s_replay_query, &q))
        return;
    const char *p[] = {q.partner};
    alliance_call_t *c = alliance_call_new(arg, req, 200, "revive the deliveries");
    alliance_call_answer(c, s_sql_replay, 1, p);
    alliance_call_submit(c);
}
