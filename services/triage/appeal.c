/* appeal.c: the "appeal" stage consumer — where every appeal hl-intake
 * stored is classified (DOMAIN.md workflow 2).
 *
 * An AppealReceived is checked, then one read unit finds where the appeal
 * sits in the org tree (its compound and community) and whether a case
 * exists for it already. In that read's done callback the in-memory rules
 * decide size and category, the appeal joins its item (for now always a
 * new one: s_item_for_appeal is where consolidation of similar appeals will
 * choose an open item instead, from candidates the same read fetches), and
 * the message's own unit — which starts with the exactly-once claim —
 * gets the case, the item and its route, and the messages: TriageDecision
 * for hl-intake always, WishPosted or ItemEscalated by size. A redelivered
 * message rolls back at the claim; a second message about an appeal that
 * already has a case is applied with nothing but its claim. */
#include "triage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRIAGE_TITLE_CHARS 20 /* length of a title cut from the text */

static const char *const s_channels[] = {"qr", "mailbox", "visit", "web", "platform", "phone"};

/* One AppealReceived being applied. */
typedef struct {
    triage_t *t;                    /* service */
    hl_inmsg_t *m;                  /* the message */
    Hl__AppealReceived *a;          /* its payload, owned */
    bool found;                     /* the org unit exists */
    bool has_case;                  /* the appeal has a case already */
    char level[16];                 /* level of the appeal's org unit */
    char compound[40];              /* compound at or above it, "" if none */
    char community[40];             /* community at or above it, "" if none */
    char compound_name[80];         /* the compound's name, cut out before comparing texts */
    triage_candidate_t *candidates; /* appeals in open items nearby, owned */
    char *
        *joined; /* per candidate: item id, version, size, route, level, target, category; owned */
    size_t n_candidates; /* count */
} s_appeal_t;

/* What gets counted after commit. */
typedef struct {
    triage_t *t;        /* service */
    triage_size_t size; /* the decision */
} s_counted_t;

#define S_CANDIDATE_COLS 12    /* columns of s_sql_candidates */
#define S_RECENT_MS      15000 /* how long a decision is remembered in memory */

/* A decision this process made lately, kept as a consolidation candidate
 * in the same shape as a row of s_sql_candidates. The candidates read from
 * PostgreSQL cannot show a decision whose transaction had not committed
 * when the read ran, so without this two similar appeals arriving together
 * (a stack of letters) would each open an item. Queued units commit in
 * order, so an appeal joining a remembered item commits after it; if that
 * item never committed, item_join() fails and the message is re-sent and
 * decided again once the memory has expired. */
struct triage_recent {
    triage_recent_t *next;       /* newer first */
    uint64_t at_ms;              /* uv_now() when decided */
    char community[40];          /* where, for matching */
    char *col[S_CANDIDATE_COLS]; /* owned, as s_sql_candidates */
};

static void s_recent_forget(triage_t *t, uint64_t now_ms)
{
    triage_recent_t **p = &t->recent;
    while (*p && now_ms - (*p)->at_ms < S_RECENT_MS)
        p = &(*p)->next;
    while (*p) {
        triage_recent_t *r = *p;
        *p = r->next;
        for (int k = 0; k < S_CANDIDATE_COLS; k++)
            free(r->col[k]);
        free(r);
    }
}

static void s_recent_add(triage_t *t, const char *community, const char *const *col)
{
    /* Copy first: `col` may point into a record the forgetting frees. */
    triage_recent_t *r = hl_calloc(1, sizeof *r);
    for (int k = 0; k < S_CANDIDATE_COLS; k++)
        r->col[k] = col[k] ? hl_strdup(col[k]) : NULL;
    snprintf(r->community, sizeof r->community, "%s", community);
    r->at_ms = uv_now(t->svc->loop);
    s_recent_forget(t, r->at_ms);
    r->next = t->recent;
    t->recent = r;
}

void triage_recent_close(triage_t *t)
{
    s_recent_forget(t, UINT64_MAX);
}

static void s_appeal_free(s_appeal_t *x)
{
    for (size_t i = 0; i < x->n_candidates * S_CANDIDATE_COLS; i++)
        free(x->joined[i]);
    free(x->joined);
    free(x->candidates);
    if (x->a)
        hl__appeal_received__free_unpacked(x->a, NULL);
    free(x);
}

void triage_inmsg_defer(triage_t *t, hl_inmsg_t **mp, const char *why)
{
    hl_metric_add(t->deferred, 1);
    hl_inmsg_retry(mp, why);
}

static bool s_text(const char *s, size_t max)
{
    long n = s && *s ? hl_utf8_len(s) : -1; /* -1: missing, empty or not UTF-8 */
    return n >= 0 && (size_t)n <= max;
}

const char *triage_appeal_check(const Hl__AppealReceived *a)
{
    if (!a)
        return "payload is not an AppealReceived";
    if (!a->appeal_id || !hl_uuid_valid(a->appeal_id))
        return "AppealReceived lacks a valid appeal_id";
    if (!s_text(a->tracking_code, 32))
        return "AppealReceived lacks a tracking_code";
    if (!s_text(a->org_unit, 32))
        return "AppealReceived lacks an org_unit";
    if (!s_text(a->body, 5000))
        return "AppealReceived lacks a body (or it is over 5000 characters)";
    if (a->title && (hl_utf8_len(a->title) < 0 || hl_utf8_len(a->title) > 200))
        return "AppealReceived title is not UTF-8 or is over 200 characters";
    bool known = false;
    for (size_t i = 0; a->channel && i < sizeof s_channels / sizeof s_channels[0]; i++)
        known = known || strcmp(a->channel, s_channels[i]) == 0;
    if (!known)
        return "AppealReceived has an unknown channel";
    return NULL;
}

/* The org unit and every unit above it, nearest first. */
static const char s_sql_place[] =
    "WITH RECURSIVE up (code, level, parent, depth) AS ("
    "  SELECT code, level, parent, 0 FROM org.org_unit WHERE code = $1"
    "  UNION ALL"
    "  SELECT o.code, o.level, o.parent, up.depth + 1 FROM org.org_unit o"
    "  JOIN up ON o.code = up.parent WHERE up.depth < 10)"
    " SELECT code, level, name FROM up JOIN org.org_unit USING (code, level) ORDER BY depth";
/* Appeals in routed items of the same community opened within $2 days
 * (consolidation candidates), oldest item first: item id, version, size,
 * route, level, target, category, the case's size and category, the item's
 * compound and its name, the case's text. */
static const char s_sql_candidates[] =
    "WITH RECURSIVE up (code, level, parent, depth) AS ("
    "  SELECT code, level, parent, 0 FROM org.org_unit WHERE code = $1"
    "  UNION ALL"
    "  SELECT o.code, o.level, o.parent, up.depth + 1 FROM org.org_unit o"
    "  JOIN up ON o.code = up.parent WHERE up.depth < 10)"
    " SELECT i.id::text, i.version::text, i.size, i.route, i.level, i.target, i.category,"
    " c.size, c.category, i.compound, COALESCE(n.name, ''), c.body"
    " FROM triage.item i JOIN triage.case c ON c.item_id = i.id"
    " LEFT JOIN org.org_unit n ON n.code = i.compound"
    " WHERE i.status = 'routed' AND i.community = (SELECT code FROM up WHERE level = 'community'"
    " ORDER BY depth LIMIT 1) AND i.created_at > now() - make_interval(days => $2::int)"
    " ORDER BY i.created_at, i.id, c.received_at, c.appeal_id LIMIT 500";
static const char s_sql_has_case[] = "SELECT 1 FROM triage.case WHERE appeal_id = $1::uuid";

static void s_place_rows(void *arg, const PGresult *res)
{
    s_appeal_t *x = arg;
    for (int i = 0; i < PQntuples(res); i++) {
        const char *code = PQgetvalue(res, i, 0), *level = PQgetvalue(res, i, 1);
        if (i == 0) {
            x->found = true;
            snprintf(x->level, sizeof x->level, "%s", level);
        }
        if (!x->compound[0] && strcmp(level, "compound") == 0) {
            snprintf(x->compound, sizeof x->compound, "%s", code);
            snprintf(x->compound_name, sizeof x->compound_name, "%s", PQgetvalue(res, i, 2));
        }
        if (!x->community[0] && strcmp(level, "community") == 0)
            snprintf(x->community, sizeof x->community, "%s", code);
    }
}

static const char *s_or_null(const char *s)
{
    return s && *s ? s : NULL;
}

static void s_candidate_rows(void *arg, const PGresult *res)
{
    s_appeal_t *x = arg;
    size_t n = (size_t)PQntuples(res);
    x->candidates = hl_calloc(n + 1, sizeof *x->candidates);
    x->joined = hl_calloc(n * S_CANDIDATE_COLS + 1, sizeof *x->joined);
    for (size_t i = 0; i < n; i++) {
        char **col = x->joined + i * S_CANDIDATE_COLS;
        for (int k = 0; k < S_CANDIDATE_COLS; k++)
            col[k] = PQgetisnull(res, (int)i, k) ? NULL : hl_strdup(PQgetvalue(res, (int)i, k));
        x->candidates[i] =
            (triage_candidate_t){col[0], col[7], s_or_null(col[8]), col[9], col[10], col[11]};
    }
    x->n_candidates = n;
}

static void s_case_rows(void *arg, const PGresult *res)
{
    s_appeal_t *x = arg;
    x->has_case = PQntuples(res) > 0;
}

/* The item this appeal joins, as its candidate row (item id, version,
 * size, route, level, target, category), or NULL to open a new one: an
 * open item of the same compound (or, more alike, of a neighbouring one)
 * with an appeal of the same size and category and similar text. */
static char *const *s_item_for_appeal(const s_appeal_t *x, const triage_verdict_t *v)
{
    triage_candidate_t mine = {NULL,
                               triage_size_name(v->size),
                               v->category,
                               x->compound[0] ? x->compound : NULL,
                               x->compound_name,
                               x->a->body};
    /* The committed candidates, then this process's recent decisions in
     * the same community, oldest first like the read. */
    size_t n = x->n_candidates;
    for (triage_recent_t *r = x->t->recent; r; r = r->next)
        n += x->community[0] && strcmp(r->community, x->community) == 0;
    triage_candidate_t *all = hl_calloc(n + 1, sizeof *all);
    char *const **cols = hl_calloc(n + 1, sizeof *cols);
    size_t k = 0;
    for (; k < x->n_candidates; k++) {
        all[k] = x->candidates[k];
        cols[k] = x->joined + k * S_CANDIDATE_COLS;
    }
    size_t last = n;
    for (triage_recent_t *r = x->t->recent; r; r = r->next)
        if (x->community[0] && strcmp(r->community, x->community) == 0) {
            char **c = r->col;
            all[--last] = (triage_candidate_t){c[0], c[7], s_or_null(c[8]), c[9], c[10], c[11]};
            cols[last] = c;
        }
    double score = 0;
    int i = triage_consolidate_pick(all, n, &mine, (double)x->t->cfg->consolidate_permille / 1000.0,
                                    &score);
    char *const *picked = i < 0 ? NULL : cols[i];
    if (picked)
        hl_debug("appeal", x->a->appeal_id, "joins item %s (similarity %.3f)", all[i].item_id,
                 score);
    free(all);
    free(cols);
    return picked;
}

static const char s_sql_join[] = "SELECT triage.item_join($1::uuid)";

static void s_counted_cb(void *arg)
{
    s_counted_t *c = arg;
    hl_metric_add(c->t->decisions[c->size], 1);
}

static const char s_sql_case[] =
    "INSERT INTO triage.case (appeal_id, item_id, tracking_code, channel, org_unit,"
    " category_given, category, size, rule_id, rule_version, category_rule_id, title, body,"
    " received_at, decided_at)"
    " VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, $7, $8, $9::bigint, $10::int, $11::bigint,"
    " $12, $13, COALESCE(to_timestamp($14::float8 / 1e6), now()),"
    " to_timestamp($15::float8 / 1e6))";

static void s_decide(s_appeal_t *x)
{
    triage_t *t = x->t;
    const Hl__AppealReceived *a = x->a;
    const char *given = a->category && *a->category ? a->category : NULL;
    const char *title = a->title && *a->title ? a->title : NULL;
    triage_appeal_view_t view = {a->channel, given, title, a->body};
    triage_verdict_t v;
    if (triage_rules_eval(t->rules, &view, &v) != 0) {
        triage_inmsg_defer(t, &x->m, "no active rule decides the size of this appeal");
        return;
    }
    char item_id[HL_UUID_LEN + 1];
    char *const *joined = s_item_for_appeal(x, &v);
    if (joined)
        snprintf(item_id, sizeof item_id, "%s", joined[0]);
    else
        hl_uuid_new(item_id);
    char *cut = title ? NULL : triage_title_from_body(a->body, TRIAGE_TITLE_CHARS);
    triage_place_t place = {a->org_unit, x->level, x->compound[0] ? x->compound : NULL,
                            x->community[0] ? x->community : NULL};
    triage_new_item_t item = {
        .id = item_id,
        .appeal_id = a->appeal_id,
        .size = v.size,
        .category = v.category,
        .org_unit = a->org_unit,
        .title = title ? title : cut,
        .body = a->body,
    };
    item.compound = place.compound;
    item.community = place.community;
    triage_route_plan(v.size, &place, &item.route);
    if (joined) {
        /* The appeal takes the item's route as it stands now (escalated,
         * overridden): nothing is routed or escalated again. */
        item.route.route = joined[3];
        item.route.level = joined[4];
        item.route.target = joined[5];
    }

    hl_dbu_t *u = x->m->unit;
    if (joined)
        HL_DBU(u, s_sql_join, NULL, NULL, item_id);
    else
        triage_route_open_item(t, u, &item);
    int64_t decided_us = hl_time_us();
    char rule[24], version[16], category_rule[24], received[24], decided[24];
    snprintf(rule, sizeof rule, "%lld", v.size_rule->id);
    snprintf(version, sizeof version, "%d", v.size_rule->version);
    snprintf(category_rule, sizeof category_rule, "%lld",
             v.category_rule ? v.category_rule->id : 0);
    snprintf(received, sizeof received, "%lld", (long long)a->received_at_us);
    snprintf(decided, sizeof decided, "%lld", (long long)decided_us);
    HL_DBU(u, s_sql_case, NULL, NULL, a->appeal_id, item_id, a->tracking_code, a->channel,
           a->org_unit, given, v.category, triage_size_name(v.size), rule, version,
           v.category_rule ? category_rule : NULL, title, a->body,
           a->has_received_at_us ? received : NULL, decided);

    Hl__TriageDecision d = HL__TRIAGE_DECISION__INIT;
    d.appeal_id = a->appeal_id;
    d.item_id = item_id;
    d.size = (char *)(joined ? joined[2] : triage_size_name(v.size));
    d.category = (char *)(joined ? (joined[6] ? joined[6] : "") : v.category ? v.category : "");
    d.route = (char *)item.route.route;
    d.has_rule_id = 1;
    d.rule_id = v.size_rule->id;
    d.has_decided_at_us = 1;
    d.decided_at_us = decided_us;
    d.target = (char *)item.route.target;
    hl_pipeline_emit(t->svc->pipeline, u, HL_STAGE_STATUS, "TriageDecision", a->appeal_id, &d.base,
                     NULL);

    if (x->community[0]) {
        const char *col[S_CANDIDATE_COLS] = {item_id,          "0",
                                             d.size,           item.route.route,
                                             item.route.level, item.route.target,
                                             d.category,       triage_size_name(v.size),
                                             v.category,       x->compound[0] ? x->compound : NULL,
                                             x->compound_name, a->body};
        s_recent_add(t, x->community, col);
    }
    s_counted_t *c = hl_dbu_keep(u, &(s_counted_t){t, v.size}, sizeof(s_counted_t));
    hl_dbu_on_commit(u, s_counted_cb, c);
    hl_debug("appeal", a->appeal_id, "%s by rule %lld, %s, to %s %s", triage_size_name(v.size),
             v.size_rule->id, v.category ? v.category : "no category", item.route.route,
             item.route.target);
    free(cut);
    hl_inmsg_apply(&x->m);
}

static void s_read_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_appeal_t *x = arg;
    triage_t *t = x->t;
    if (rc != 0) {
        char why[256];
        snprintf(why, sizeof why, "could not read the appeal's context: %s", err->message);
        triage_inmsg_defer(t, &x->m, why);
    } else if (x->has_case) {
        hl_debug("appeal", x->a->appeal_id, "appeal has a case already: only claiming");
        hl_inmsg_apply(&x->m);
    } else if (!x->found) {
        char why[128];
        snprintf(why, sizeof why, "unknown org unit \"%.40s\"", x->a->org_unit);
        hl_inmsg_reject(&x->m, why);
    } else if (!t->rules) {
        triage_rules_reload(t);
        triage_inmsg_defer(t, &x->m, "the rules are not loaded yet");
    } else {
        s_decide(x);
    }
    s_appeal_free(x);
}

static void s_appeal_received(hl_inmsg_t *m, void *arg)
{
    triage_t *t = arg;
    Hl__AppealReceived *a =
        hl__appeal_received__unpack(NULL, m->env->payload.len, m->env->payload.data);
    const char *why = triage_appeal_check(a);
    if (why) {
        if (a)
            hl__appeal_received__free_unpacked(a, NULL);
        hl_inmsg_reject(&m, why);
        return;
    }
    s_appeal_t *x = hl_calloc(1, sizeof *x);
    x->t = t;
    x->m = m;
    x->a = a;
    hl_dbu_t *u = hl_dbu_new(t->svc->db, s_read_done, x);
    HL_DBU(u, s_sql_place, s_place_rows, x, a->org_unit);
    HL_DBU(u, s_sql_has_case, s_case_rows, x, a->appeal_id);
    char days[16];
    snprintf(days, sizeof days, "%lld", t->cfg->consolidate_days);
    HL_DBU(u, s_sql_candidates, s_candidate_rows, x, a->org_unit, days);
    hl_dbu_submit(&u);
}

int triage_appeal_consume(triage_t *t)
{
    const hl_handler_t handlers[] = {
        {"AppealReceived", s_appeal_received, t},
    };
    return hl_pipeline_consume(t->svc->pipeline, HL_STAGE_APPEAL, handlers,
                               sizeof handlers / sizeof handlers[0]);
}
