/* sync.c: keeps hl-triage's in-memory index of open items (index.h) in
 * step with PostgreSQL.
 *
 * At start the index is loaded: the open (routed) items of the last
 * HL_CONSOLIDATE_DAYS, newest first up to HL_INDEX_MAX_ITEMS, each with its
 * latest appeals' texts, and the latest appeals' texts for the bigram
 * weights. Decisions wait (the message is left for re-send) until that
 * load is done. Then every HL_INDEX_SYNC_MS one read folds in what others
 * did: items changed since the last triage.item.change_seq seen (resolved,
 * merged, overridden or escalated items leave or change; items opened by
 * another replica arrive) and cases decided by another process since the
 * last triage.case.seq seen (their texts join their items' features).
 *
 * The index is a cache, never the truth: a decision that joins an item the
 * index believes open is checked in SQL (triage.item_join), and a change
 * this read misses (a sequence number taken by a transaction that commits
 * after a later one was read) only costs a duplicate item the commissioner
 * can merge, or a join that fails and is decided again. */
#include "triage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_BATCH      "5000" /* rows read per sync, per query */
#define S_DF_APPEALS "5000" /* latest appeals read at load for the bigram weights */
#define S_ITEM_COLS                                                                                \
    " i.id::text, i.size, COALESCE(i.category, ''), COALESCE(i.compound, ''),"                     \
    " COALESCE(n.name, ''), i.community, COALESCE(i.route, ''), i.level, COALESCE(i.target, ''),"  \
    " (extract(epoch FROM i.created_at) * 1e6)::bigint, i.appeal_count, i.status"

/* The last sequence numbers, read first so nothing between them and the
 * load is missed (what is read twice is folded in twice, harmlessly). */
static const char s_sql_seqs[] = "SELECT (SELECT COALESCE(max(change_seq), 0) FROM triage.item),"
                                 " (SELECT COALESCE(max(seq), 0) FROM triage.\"case\")";
/* Open items, newest first, with up to four latest appeals each. */
static const char s_sql_load[] =
    "SELECT" S_ITEM_COLS ", c.body FROM ("
    "  SELECT * FROM triage.item WHERE status = 'routed' AND community IS NOT NULL"
    "   AND created_at > now() - make_interval(days => $1::int)"
    "   ORDER BY created_at DESC LIMIT $2::int) i"
    " LEFT JOIN org.org_unit n ON n.code = i.compound"
    " LEFT JOIN LATERAL (SELECT body FROM triage.\"case\" WHERE item_id = i.id"
    "   ORDER BY received_at DESC LIMIT 4) c ON true"
    " ORDER BY i.created_at, i.id";
/* The org tree (reference data, kept in memory: org.c). */
static const char s_sql_org[] = "SELECT code, level, parent, name FROM org.org_unit";
/* The latest appeals' texts, for the bigram weights. */
static const char s_sql_df[] =
    "SELECT body FROM triage.\"case\" ORDER BY seq DESC LIMIT " S_DF_APPEALS;
/* Items changed since $1. */
static const char s_sql_items[] =
    "SELECT" S_ITEM_COLS ", i.change_seq FROM triage.item i"
    " LEFT JOIN org.org_unit n ON n.code = i.compound"
    " WHERE i.change_seq > $1::bigint ORDER BY i.change_seq LIMIT " S_BATCH;
/* Cases decided elsewhere since $1 (not by $2, this process). */
static const char s_sql_cases[] =
    "SELECT c.seq, c.item_id::text, c.body, COALESCE(n.name, '') FROM triage.\"case\" c"
    " JOIN triage.item i ON i.id = c.item_id LEFT JOIN org.org_unit n ON n.code = i.compound"
    " WHERE c.seq > $1::bigint AND c.decided_by IS DISTINCT FROM $2 ORDER BY c.seq LIMIT " S_BATCH;

typedef struct {
    triage_t *t;     /* service */
    bool load;       /* a full load (else a sync) */
    long long items; /* item rows read */
    long long cases; /* case rows read */
} s_sync_t;

/* The entry of an item row (columns of S_ITEM_COLS); false when the row
 * cannot be an open candidate. */
static bool s_meta(const PGresult *res, int row, triage_ix_meta_t *m)
{
    memset(m, 0, sizeof *m);
    int size = triage_size_parse(PQgetvalue(res, row, 1));
    if (size < 0 || PQgetisnull(res, row, 5))
        return false;
    m->size = (triage_size_t)size;
    snprintf(m->id, sizeof m->id, "%s", PQgetvalue(res, row, 0));
    snprintf(m->category, sizeof m->category, "%s", PQgetvalue(res, row, 2));
    snprintf(m->compound, sizeof m->compound, "%s", PQgetvalue(res, row, 3));
    snprintf(m->community, sizeof m->community, "%s", PQgetvalue(res, row, 5));
    snprintf(m->route, sizeof m->route, "%s", PQgetvalue(res, row, 6));
    snprintf(m->level, sizeof m->level, "%s", PQgetvalue(res, row, 7));
    snprintf(m->target, sizeof m->target, "%s", PQgetvalue(res, row, 8));
    m->created_us = strtoll(PQgetvalue(res, row, 9), NULL, 10);
    m->appeals = (uint32_t)strtoul(PQgetvalue(res, row, 10), NULL, 10);
    return true;
}

static void s_seq_rows(void *arg, const PGresult *res)
{
    s_sync_t *s = arg;
    if (PQntuples(res) == 1) {
        s->t->item_seq = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        s->t->case_seq = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    }
}

static void s_load_rows(void *arg, const PGresult *res)
{
    s_sync_t *s = arg;
    triage_index_t *ix = s->t->index;
    for (int i = 0; i < PQntuples(res); i++) {
        triage_ix_meta_t m;
        if (!s_meta(res, i, &m))
            continue;
        if (!triage_index_get(ix, m.id))
            triage_index_put(ix, &m);
        if (!PQgetisnull(res, i, 12)) {
            triage_feats_t f;
            triage_feats_of(&f, PQgetvalue(res, i, 12), PQgetvalue(res, i, 4));
            triage_index_add_appeal(ix, m.id, &f, false);
        }
        s->items++;
    }
}

static void s_df_rows(void *arg, const PGresult *res)
{
    s_sync_t *s = arg;
    for (int i = 0; i < PQntuples(res); i++) {
        triage_feats_t f;
        triage_feats_of(&f, PQgetvalue(res, i, 0), NULL);
        triage_df_add(triage_index_df(s->t->index), &f);
    }
}

static void s_org_rows(void *arg, const PGresult *res)
{
    s_sync_t *s = arg;
    triage_org_destroy(&s->t->org);
    s->t->org = triage_org_new(res);
}

static void s_item_rows(void *arg, const PGresult *res)
{
    s_sync_t *s = arg;
    triage_t *t = s->t;
    int64_t oldest = hl_time_us() - t->cfg->consolidate_days * 86400LL * 1000000LL;
    for (int i = 0; i < PQntuples(res); i++) {
        t->item_seq = strtoll(PQgetvalue(res, i, 12), NULL, 10);
        triage_ix_meta_t m;
        bool open = s_meta(res, i, &m) && strcmp(PQgetvalue(res, i, 11), "routed") == 0 &&
                    m.created_us > oldest;
        if (!open)
            triage_index_remove(t->index, PQgetvalue(res, i, 0));
        else
            triage_index_put(t->index, &m);
        s->items++;
    }
}

static void s_case_rows(void *arg, const PGresult *res)
{
    s_sync_t *s = arg;
    triage_t *t = s->t;
    for (int i = 0; i < PQntuples(res); i++) {
        t->case_seq = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        triage_feats_t f;
        triage_feats_of(&f, PQgetvalue(res, i, 2), PQgetvalue(res, i, 3));
        triage_index_add_appeal(t->index, PQgetvalue(res, i, 1), &f, false);
        triage_df_add(triage_index_df(t->index), &f);
        s->cases++;
    }
}

static void s_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_sync_t *s = arg;
    triage_t *t = s->t;
    t->syncing = false;
    if (rc != 0) {
        if (rc != HL_ESHUTDOWN)
            hl_warn("index", NULL, "could not %s the index of open items: %s",
                    s->load ? "load" : "update", err->message);
        if (s->load) {
            /* Start again from nothing next time: a half load is no index. */
            triage_index_destroy(&t->index);
            t->index = triage_index_new((size_t)t->cfg->index_max_items);
        }
        free(s);
        return;
    }
    if (s->load) {
        t->index_ready = true;
        hl_info("index", NULL, "loaded %zu open items (%lld rows) and %llu appeals' weights",
                triage_index_count(t->index), s->items,
                (unsigned long long)triage_index_df(t->index)->docs);
    } else {
        int64_t oldest = hl_time_us() - t->cfg->consolidate_days * 86400LL * 1000000LL;
        size_t gone = triage_index_expire(t->index, oldest);
        if (s->items || s->cases || gone)
            hl_debug("index", NULL,
                     "%lld items changed, %lld appeals decided elsewhere, %zu expired", s->items,
                     s->cases, gone);
    }
    hl_metric_set(t->index_items, (double)triage_index_count(t->index));
    free(s);
}

static void s_sync(triage_t *t)
{
    if (t->syncing || t->svc->draining)
        return;
    t->syncing = true;
    s_sync_t *s = hl_calloc(1, sizeof *s);
    s->t = t;
    s->load = !t->index_ready;
    hl_dbu_t *u = hl_dbu_new(t->svc->db, s_done, s);
    if (s->load) {
        char days[24], max[24];
        snprintf(days, sizeof days, "%lld", t->cfg->consolidate_days);
        snprintf(max, sizeof max, "%lld", t->cfg->index_max_items);
        hl_dbu_stmt(u, s_sql_seqs, 0, NULL, NULL, NULL, false, s_seq_rows, s);
        HL_DBU(u, s_sql_load, s_load_rows, s, days, max);
        hl_dbu_stmt(u, s_sql_df, 0, NULL, NULL, NULL, false, s_df_rows, s);
        hl_dbu_stmt(u, s_sql_org, 0, NULL, NULL, NULL, false, s_org_rows, s);
    } else {
        char item_seq[24], case_seq[24];
        snprintf(item_seq, sizeof item_seq, "%lld", t->item_seq);
        snprintf(case_seq, sizeof case_seq, "%lld", t->case_seq);
        HL_DBU(u, s_sql_items, s_item_rows, s, item_seq);
        HL_DBU(u, s_sql_cases, s_case_rows, s, case_seq, t->me);
    }
    hl_dbu_submit(&u);
}

static void s_tick_cb(uv_timer_t *timer)
{
    s_sync(timer->data);
}

void triage_sync_start(triage_t *t)
{
    char host[40] = "";
    gethostname(host, sizeof host - 1);
    snprintf(t->me, sizeof t->me, "%s:%ld", host, (long)getpid());
    t->scorer = triage_scorer_default();
    t->scorer.threshold = (double)t->cfg->consolidate_permille / 1000.0;
    t->index = triage_index_new((size_t)t->cfg->index_max_items);
    uv_timer_init(t->svc->loop, &t->sync);
    t->sync.data = t;
    uv_unref((uv_handle_t *)&t->sync);
    uv_timer_start(&t->sync, s_tick_cb, (uint64_t)t->cfg->index_sync_ms,
                   (uint64_t)t->cfg->index_sync_ms);
    s_sync(t); /* queued until the connection is up */
}

void triage_sync_org_missed(triage_t *t)
{
    /* A unit added since the load: read the tree again with the next sync
     * (the appeal itself was placed by a query of its own). */
    if (!t->syncing && t->index_ready) {
        t->syncing = true;
        s_sync_t *s = hl_calloc(1, sizeof *s);
        s->t = t;
        hl_dbu_t *u = hl_dbu_new(t->svc->db, s_done, s);
        hl_dbu_stmt(u, s_sql_org, 0, NULL, NULL, NULL, false, s_org_rows, s);
        hl_dbu_submit(&u);
    }
}

void triage_sync_stop(triage_t *t)
{
    uv_timer_stop(&t->sync);
}
