/* appeal.c: the "appeal" stage consumer — where every appeal hl-intake
 * stored is classified and consolidated (DOMAIN.md workflow 2).
 *
 * An AppealReceived is checked and its place in the org tree (compound and
 * community) is looked up in memory (org.c; PostgreSQL only for a unit
 * added since the load). Then, with no round trip, the in-memory rules
 * decide size and category, the in-memory index of open items (index.h,
 * kept by sync.c) chooses the item to join or says "open one", and the
 * message's own unit — which starts with the exactly-once claim and
 * triage.case_absent() (the appeal has no case yet: 40001 otherwise)
 * gets the case, the join or the new item and its route, and the messages:
 * TriageDecision for hl-intake always, WishPosted or ItemEscalated for a
 * new item by size. Nothing per appeal reads candidates from PostgreSQL, so
 * the cost of a decision does not grow with what is stored.
 *
 * The join is checked in SQL (triage.item_join: still routed where the
 * index believed). If the item was resolved, merged, escalated or
 * overridden meanwhile, the unit fails with 40001 and the pipeline calls
 * s_redo in the same delivery: the item leaves the index and the appeal is
 * decided again (another item or a new one). A redelivered message rolls
 * back at the claim; a second message about an appeal that already has a
 * case fails at case_absent and is applied with nothing but its claim. */
#include "triage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRIAGE_TITLE_CHARS 20 /* length of a title cut from the text */

static const char *const s_channels[] = {"qr", "mailbox", "visit", "web", "platform", "phone"};

/* One AppealReceived being applied; lives as long as its message (the
 * message's `user`), so a redo finds it. */
typedef struct {
    triage_t *t;                 /* service */
    hl_inmsg_t *m;               /* the message */
    const Hl__AppealReceived *a; /* its payload, freed with the message */
    bool found;                  /* the org unit exists */
    char level[16];              /* level of the appeal's org unit */
    char compound[40];           /* compound at or above it, "" if none */
    char community[40];          /* community at or above it, "" if none */
    char compound_name[80];      /* the compound's name, cut out before comparing texts */
    triage_feats_t feats;        /* the text's features */
    char tried[40];              /* the item the last attempt joined, "" for a new item */
    char opened[40];             /* the item the last attempt opened, "" when it joined */
} s_appeal_t;

/* What gets counted after commit. */
typedef struct {
    triage_t *t;        /* service */
    triage_size_t size; /* the decision */
} s_counted_t;

static void s_appeal_free(void *arg)
{
    free(arg);
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

const char *triage_appeal_check(const void *msg)
{
    const Hl__AppealReceived *a = msg;
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

static const char s_sql_join[] = "SELECT triage.item_join($1::uuid, $2, $3)";
static const char s_sql_case_absent[] = "SELECT triage.case_absent($1::uuid)";

static void s_counted_cb(void *arg)
{
    s_counted_t *c = arg;
    hl_metric_add(c->t->decisions[c->size], 1);
}

static const char s_sql_case[] =
    "INSERT INTO triage.case (appeal_id, item_id, tracking_code, channel, org_unit,"
    " category_given, category, size, rule_id, rule_version, category_rule_id, title, body,"
    " received_at, decided_at, decided_by, opened_item, join_score, similarity, compared,"
    " size_votes)"
    " VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, $7, $8, $9::bigint, $10::int, $11::bigint,"
    " $12, $13, COALESCE(to_timestamp($14::float8 / 1e6), now()),"
    " to_timestamp($15::float8 / 1e6), $16, $17::boolean, $18::real, $19::real, $20::int,"
    " $21::real[])";

static void s_redo(hl_inmsg_t *m, const hl_dberr_t *err, void *arg);

/* Decides and applies: rules, index, then the message's unit. */
static void s_decide(s_appeal_t *x)
{
    triage_t *t = x->t;
    const Hl__AppealReceived *a = x->a;
    const char *given = a->category && *a->category ? a->category : NULL;
    const char *title = a->title && *a->title ? a->title : NULL;
    triage_appeal_view_t view = {a->channel, given, title, a->body, x->compound_name};
    /* One community, one connection: a join commits after the unit that
     * opened its item, however many connections decide. */
    hl_inmsg_shard(x->m, hl_fnv1a(x->community, strlen(x->community)));
    triage_verdict_t v;
    if (triage_rules_decide(t->rules, &view, &v, NULL) != 0) {
        triage_inmsg_defer(t, &x->m, "no active rule decides the size of this appeal");
        return;
    }
    /* The item to join, copied: the index may drop it before commit. */
    triage_ix_query_t q = {x->community, x->compound, v.category,
                           v.size,       &x->feats,   triage_verdict_guessed(&v)};
    triage_ix_why_t why = {0};
    const triage_ix_meta_t *best = x->community[0] && t->cfg->consolidate_permille <= 1000
                                       ? triage_index_best(t->index, &t->scorer, &q, &why)
                                       : NULL;
    triage_ix_meta_t joined;
    if (best)
        joined = *best;
    char item_id[sizeof joined.id];
    if (best)
        snprintf(item_id, sizeof item_id, "%s", joined.id);
    else
        hl_uuid_new(item_id);
    snprintf(x->tried, sizeof x->tried, "%s", best ? joined.id : "");
    snprintf(x->opened, sizeof x->opened, "%s", best ? "" : item_id);
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
        .compound = place.compound,
        .community = place.community,
    };
    triage_route_plan(v.size, &place, &item.route);
    if (best) {
        /* The appeal takes the item's route as it stands now (escalated,
         * overridden): nothing is routed or escalated again. */
        item.route.route = joined.route;
        item.route.level = joined.level;
        item.route.target = joined.target;
    }

    hl_dbu_t *u = x->m->unit;
    HL_DBU(u, s_sql_case_absent, NULL, NULL, a->appeal_id);
    if (best)
        HL_DBU(u, s_sql_join, NULL, NULL, item_id, joined.route, joined.target);
    else
        triage_route_open_item(t, u, &item);
    int64_t decided_us = hl_time_us();
    char rule[24], version[16], category_rule[24], received[24], decided[24], score[24],
        similarity[24], compared[24], votes[96];
    snprintf(rule, sizeof rule, "%lld", v.size_rule->id);
    snprintf(version, sizeof version, "%d", v.size_rule->version);
    snprintf(category_rule, sizeof category_rule, "%lld",
             v.category_rule ? v.category_rule->id : 0);
    snprintf(received, sizeof received, "%lld", (long long)a->received_at_us);
    snprintf(decided, sizeof decided, "%lld", (long long)decided_us);
    snprintf(score, sizeof score, "%.4f", why.score);
    snprintf(similarity, sizeof similarity, "%.4f", why.similarity);
    snprintf(compared, sizeof compared, "%zu", why.compared);
    snprintf(votes, sizeof votes, "{%.2f,%.2f,%.2f}", v.votes[TRIAGE_SIZE_WISH],
             v.votes[TRIAGE_SIZE_SMALL], v.votes[TRIAGE_SIZE_LARGE]);
    HL_DBU(u, s_sql_case, NULL, NULL, a->appeal_id, item_id, a->tracking_code, a->channel,
           a->org_unit, given, v.category, triage_size_name(v.size), rule, version,
           v.category_rule ? category_rule : NULL, title, a->body,
           a->has_received_at_us ? received : NULL, decided, t->me, best ? "false" : "true",
           why.compared ? score : NULL, why.compared ? similarity : NULL, compared, votes);

    Hl__TriageDecision d = HL__TRIAGE_DECISION__INIT;
    d.appeal_id = a->appeal_id;
    d.item_id = item_id;
    d.size = (char *)(best ? triage_size_name(joined.size) : triage_size_name(v.size));
    d.category = (char *)(best ? joined.category : v.category ? v.category : "");
    d.route = (char *)item.route.route;
    d.has_rule_id = 1;
    d.rule_id = v.size_rule->id;
    d.has_decided_at_us = 1;
    d.decided_at_us = decided_us;
    d.target = (char *)item.route.target;
    hl_pipeline_send(t->svc->pipeline, u, HL_STAGE_STATUS, a->appeal_id, &d.base, NULL);

    /* The index learns the decision now, before commit: the next appeal
     * about the same matter (a stack of letters) joins this item. Units
     * commit in order; if this one never does, a later join of the item
     * fails and is decided again without it. */
    if (best) {
        triage_index_add_appeal(t->index, item_id, &x->feats, true);
        hl_metric_add(t->joined, 1);
    } else if (x->community[0]) {
        triage_ix_meta_t m = {.size = v.size, .created_us = decided_us, .appeals = 1};
        snprintf(m.id, sizeof m.id, "%s", item_id);
        snprintf(m.category, sizeof m.category, "%s", v.category ? v.category : "");
        snprintf(m.compound, sizeof m.compound, "%s", x->compound);
        snprintf(m.community, sizeof m.community, "%s", x->community);
        snprintf(m.route, sizeof m.route, "%s", item.route.route);
        snprintf(m.level, sizeof m.level, "%s", item.route.level);
        snprintf(m.target, sizeof m.target, "%s", item.route.target);
        triage_index_put(t->index, &m);
        triage_index_add_appeal(t->index, item_id, &x->feats, false);
    }
    triage_df_add(triage_index_df(t->index), &x->feats);
    hl_metric_set(t->index_items, (double)triage_index_count(t->index));

    s_counted_t *c = hl_dbu_keep(u, &(s_counted_t){t, v.size}, sizeof(s_counted_t));
    hl_dbu_on_commit(u, s_counted_cb, c);
    hl_debug("appeal", a->appeal_id, "%s by rule %lld, %s, %s item %s (score %.3f of %zu compared)",
             triage_size_name(v.size), v.size_rule->id, v.category ? v.category : "no category",
             best ? "joins" : "opens", item_id, why.score, why.compared);
    free(cut);
    hl_inmsg_apply_redo(&x->m, s_redo, x);
}

/* The unit failed: a join whose item moved (40001) is decided again
 * without that item, in this same delivery. */
static void s_redo(hl_inmsg_t *m, const hl_dberr_t *err, void *arg)
{
    s_appeal_t *x = arg;
    x->m = m;
    if (err->constraint && strcmp(err->constraint, "case_pkey") == 0) {
        /* Another message about this appeal was applied first. */
        hl_debug("appeal", x->a->appeal_id, "appeal has a case already: only claiming");
        if (x->opened[0]) /* the item this attempt opened never came to be */
            triage_index_remove(x->t->index, x->opened);
        hl_inmsg_apply(&x->m);
        return;
    }
    hl_metric_add(x->t->redecided, 1);
    if (!x->tried[0]) {
        /* A new item failed for a reason of its own: leave it to a re-send. */
        char why[256];
        snprintf(why, sizeof why, "could not open an item: %s", err->message);
        triage_inmsg_defer(x->t, &x->m, why);
        return;
    }
    hl_info("appeal", x->a->appeal_id, "deciding again: %s", err->message);
    triage_index_remove(x->t->index, x->tried);
    s_decide(x);
}

/* Everything known: decide, or say why not yet. */
static void s_ready(s_appeal_t *x)
{
    triage_t *t = x->t;
    if (!x->found) {
        char why[128];
        snprintf(why, sizeof why, "unknown org unit \"%.40s\"", x->a->org_unit);
        hl_inmsg_reject(&x->m, why);
    } else if (!t->rules) {
        triage_rules_reload(t);
        triage_inmsg_defer(t, &x->m, "the rules are not loaded yet");
    } else if (!t->index_ready) {
        triage_inmsg_defer(t, &x->m, "the index of open items is not loaded yet");
    } else {
        triage_feats_of(&x->feats, x->a->body, x->compound_name);
        s_decide(x);
    }
}

/* A unit added since the org tree was loaded: read where it is first. */
static void s_read_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_appeal_t *x = arg;
    if (rc != 0) {
        char why[256];
        snprintf(why, sizeof why, "could not read the appeal's place: %s", err->message);
        triage_inmsg_defer(x->t, &x->m, why);
        return;
    }
    s_ready(x);
}

static void s_appeal_received(hl_inmsg_t *m, const void *msg, void *arg)
{
    triage_t *t = arg;
    const Hl__AppealReceived *a = msg;
    s_appeal_t *x = hl_calloc(1, sizeof *x);
    x->t = t;
    x->m = m;
    x->a = a;
    m->user = x; /* freed with the message */
    m->user_free = s_appeal_free;
    triage_org_place_t place;
    if (triage_org_place(t->org, a->org_unit, &place)) {
        x->found = true;
        snprintf(x->level, sizeof x->level, "%s", place.level);
        snprintf(x->compound, sizeof x->compound, "%s", place.compound);
        snprintf(x->compound_name, sizeof x->compound_name, "%s", place.compound_name);
        snprintf(x->community, sizeof x->community, "%s", place.community);
        s_ready(x);
        return;
    }
    if (t->org)
        triage_sync_org_missed(t);
    hl_dbu_t *u = hl_dbu_new(t->svc->db, s_read_done, x);
    HL_DBU(u, s_sql_place, s_place_rows, x, a->org_unit);
    hl_dbu_submit(&u);
}

int triage_appeal_consume(triage_t *t)
{
    const hl_msg_handler_t handlers[] = {
        {&hl__appeal_received__descriptor, triage_appeal_check, s_appeal_received, t, NULL},
    };
    return hl_pipeline_consume_msgs(t->svc->pipeline, HL_STAGE_APPEAL, handlers,
                                    sizeof handlers / sizeof handlers[0]);
}
