/* ruleload.c: keeps the commissioner's rules (triage.rule) in memory, so
 * classifying an appeal costs no query. The active rules are read when the
 * database connection becomes ready (at start and after every reconnect)
 * and again every minute, and the new set replaces the old one only when
 * the read succeeded: an edit in PostgreSQL takes effect within a minute
 * without a redeploy, and a failed read keeps the rules we had. A rule the
 * daemon cannot use is skipped, logged and counted; the rest still load. */
#include "triage.h"

#include <stdio.h>
#include <stdlib.h>

#define TRIAGE_RELOAD_MS 60000 /* how often the rules are read again */

typedef struct {
    triage_t *t;           /* service */
    triage_rules_t *rules; /* the set being built, owned until swapped in */
    int skipped;           /* rules refused */
} s_load_t;

static const char s_sql_rules[] =
    "SELECT id, version, priority, category, channel, keywords::text, exclude_keywords::text,"
    " size, set_category, weight, model FROM triage.rule WHERE active ORDER BY priority, id";

static const char *s_value(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static void s_rows(void *arg, const PGresult *res)
{
    s_load_t *l = arg;
    for (int i = 0; i < PQntuples(res); i++) {
        triage_rule_spec_t spec = {
            .id = strtoll(PQgetvalue(res, i, 0), NULL, 10),
            .version = atoi(PQgetvalue(res, i, 1)),
            .priority = atoi(PQgetvalue(res, i, 2)),
            .category = s_value(res, i, 3),
            .channel = s_value(res, i, 4),
            .keywords = s_value(res, i, 5),
            .exclude = s_value(res, i, 6),
            .size = s_value(res, i, 7),
            .set_category = s_value(res, i, 8),
            .weight = strtod(PQgetvalue(res, i, 9), NULL),
            .model = s_value(res, i, 10),
        };
        char err[256];
        if (triage_rules_add(l->rules, &spec, err, sizeof err) != 0) {
            l->skipped++;
            hl_metric_add(l->t->rule_errors, 1);
            hl_warn("rule", PQgetvalue(res, i, 0), "skipped unusable rule: %s", err);
        }
    }
}

static void s_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_load_t *l = arg;
    triage_t *t = l->t;
    t->loading = false;
    if (rc != 0) {
        if (rc != HL_ESHUTDOWN)
            hl_warn("rules", NULL, "could not load the rules (keeping %zu): %s",
                    triage_rules_count(t->rules), err->message);
        triage_rules_destroy(&l->rules);
        free(l);
        return;
    }
    size_t before = triage_rules_count(t->rules);
    size_t now = triage_rules_count(l->rules);
    if (!triage_rules_total(l->rules))
        hl_warn("rules", NULL,
                "no active rule sizes every appeal (add one without conditions, like rule 9999): "
                "appeals no rule sizes wait");
    if (!t->rules || now != before || l->skipped)
        hl_info("rules", NULL, "loaded %zu rules (%d skipped)", now, l->skipped);
    triage_rules_destroy(&t->rules);
    t->rules = l->rules;
    hl_metric_add(t->rule_loads, 1);
    hl_metric_set(t->rules_active, (double)now);
    free(l);
}

void triage_rules_reload(triage_t *t)
{
    if (t->loading || t->svc->draining)
        return;
    t->loading = true;
    s_load_t *l = hl_calloc(1, sizeof *l);
    l->t = t;
    l->rules = triage_rules_new();
    hl_dbu_t *u = hl_dbu_new(t->svc->db, s_done, l);
    hl_dbu_stmt(u, s_sql_rules, 0, NULL, NULL, NULL, false, s_rows, l);
    hl_dbu_submit(&u);
}

static void s_ready_cb(void *arg)
{
    triage_rules_reload(arg);
}

static void s_tick_cb(uv_timer_t *timer)
{
    triage_rules_reload(timer->data);
}

void triage_rules_start(triage_t *t)
{
    uv_timer_init(t->svc->loop, &t->reload);
    t->reload.data = t;
    /* The timer alone must not keep the loop alive once the daemon drains. */
    uv_unref((uv_handle_t *)&t->reload);
    uv_timer_start(&t->reload, s_tick_cb, TRIAGE_RELOAD_MS, TRIAGE_RELOAD_MS);
    hl_db_on_ready(t->svc->db, s_ready_cb, t);
    /* Queued until the connection is up (it is connecting now). */
    triage_rules_reload(t);
}

void triage_rules_stop(triage_t *t)
{
    uv_timer_stop(&t->reload);
    hl_db_on_ready(t->svc->db, NULL, NULL);
}
