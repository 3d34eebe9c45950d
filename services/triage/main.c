/* hl-triage: the commissioner's stage. Every appeal hl-intake stored
 * arrives on stage "appeal" and is classified by the rules in triage.rule
 * (wish, small or large), joins an item and is routed: small items down to
 * the compound's three-party council, large ones up to the regional
 * alliance (stage "alliance"), wishes to the claim board (stage "bounty");
 * hl-intake hears of every decision and resolution on stage "status".
 * Resolutions come back on stage "resolution" (hl-alliance, hl-bounty) and
 * over HTTP from the council; the commissioner reads the queue, overrides,
 * merges and splits items over HTTP; overdue items climb the hierarchy. */
#include "triage.h"

#include <stddef.h>
#include <stdio.h>

#define S_STR_(x) #x
#define S_STR(x)  S_STR_(x)

static const hl_cfg_entry_t s_cfg_table[] = {
    HL_SVC_CFG_ENTRIES(triage_cfg_t, svc, "8081", "hl_triage"),
    {"HL_CONSOLIDATE_PERMILLE", HL_CFG_INT, S_STR(TRIAGE_THRESHOLD_PERMILLE), 0, 1001,
     offsetof(triage_cfg_t, consolidate_permille), false,
     "least probability (per mille) of the pair model (services/triage/README.md) for an appeal "
     "to join an open item; 1001 turns consolidation off"},
    {"HL_TRIAGE_CONNECTIONS", HL_CFG_INT, "1", 1, 1 + HL_PIPELINE_SHARDS,
     offsetof(triage_cfg_t, connections), false,
     "PostgreSQL connections appeals are decided on, by community (one community, one "
     "connection); the others (HTTP, sync, deadlines) use the first"},
    {"HL_INDEX_MAX_ITEMS", HL_CFG_INT, "5000", 1, 1000000, offsetof(triage_cfg_t, index_max_items),
     false, "open items kept in memory as consolidation candidates (about 1 KiB each)"},
    {"HL_INDEX_SYNC_MS", HL_CFG_INT, "1000", 50, 3600000, offsetof(triage_cfg_t, index_sync_ms),
     false, "how often the index reads what other replicas and the commissioner changed"},
    {"HL_CONSOLIDATE_DAYS", HL_CFG_INT, "30", 1, 3650, offsetof(triage_cfg_t, consolidate_days),
     false, "only items opened within this many days are joined"},
    {"HL_DEADLINE_SCAN_MS", HL_CFG_INT, "1000", 50, 3600000,
     offsetof(triage_cfg_t, deadline_scan_ms), false, "how often overdue items are looked for"},
    {"HL_CLOCK_OFFSET_S", HL_CFG_INT, "0", -315360000, 315360000,
     offsetof(triage_cfg_t, clock_offset_s), false,
     "seconds added to the clock the deadline scanner compares deadlines with (tests only)"},
};

static void s_on_drain(hl_service_t *svc)
{
    triage_rules_stop(svc->app);
    triage_sync_stop(svc->app);
    triage_deadlines_stop(svc->app);
}

/* Ready once the rules and the index of open items are loaded: before,
 * every appeal would be left for re-send. */
static bool s_on_ready(hl_service_t *svc, json_t *detail)
{
    triage_t *t = svc->app;
    json_object_set_new(detail, "rules", json_boolean(t->rules != NULL));
    json_object_set_new(detail, "index", json_boolean(t->index_ready));
    return t->rules && t->index_ready;
}

int main(int argc, char **argv)
{
    static triage_cfg_t cfg;
    hl_service_config(argc, argv, "hl-triage", s_cfg_table,
                      sizeof s_cfg_table / sizeof s_cfg_table[0], &cfg, &cfg.svc);
    static hl_service_t svc;
    if (hl_service_init(&svc, "hl-triage", &cfg.svc) != 0)
        return 1;
    static triage_t t;
    t.svc = &svc;
    t.cfg = &cfg;
    for (int size = TRIAGE_SIZE_WISH; size < TRIAGE_SIZE_COUNT; size++) {
        char label[32];
        snprintf(label, sizeof label, "size=\"%s\"", triage_size_name((triage_size_t)size));
        t.decisions[size] =
            hl_metric_counter("hl_triage_decisions_total", "Appeals classified, by size", label);
    }
    t.resolved = hl_metric_counter("hl_triage_items_resolved_total", "Items resolved", NULL);
    t.councils = hl_metric_counter("hl_triage_councils_recorded_total",
                                   "Three-party council hearings recorded", NULL);
    t.deferred = hl_metric_counter("hl_triage_messages_deferred_total",
                                   "Messages left pending for re-delivery (a read failed)", NULL);
    t.rule_loads = hl_metric_counter("hl_triage_rule_loads_total", "Rule sets loaded", NULL);
    t.rule_errors = hl_metric_counter("hl_triage_rule_errors_total",
                                      "Rules skipped as unusable when loading", NULL);
    t.escalated =
        hl_metric_counter("hl_triage_items_escalated_total",
                          "Items escalated one level for overrunning their deadline", NULL);
    t.joined = hl_metric_counter("hl_triage_appeals_joined_total",
                                 "Appeals that joined an open item (consolidation)", NULL);
    t.redecided = hl_metric_counter("hl_triage_redecided_total",
                                    "Decisions taken again because the item chosen moved", NULL);
    t.index_items = hl_metric_gauge("hl_triage_index_items",
                                    "Open items in memory as consolidation candidates", NULL);
    t.rules_active = hl_metric_gauge("hl_triage_rules_active", "Rules in the loaded set", NULL);
    svc.app = &t;
    svc.on_drain = s_on_drain;
    svc.on_ready = s_on_ready;
    const hl_http_route_t routes[] = {
        {"GET", "/v1/queue", triage_queue_get, &t},
        {"GET", "/v1/items/{}", triage_item_get, &t},
        {"POST", "/v1/items/{}/council", triage_council_post, &t},
        {"POST", "/v1/items/{}/override", triage_override_post, &t},
        {"POST", "/v1/items/{}/merge", triage_merge_post, &t},
        {"POST", "/v1/items/{}/split", triage_split_post, &t},
        {"GET", "/v1/escalations/due", triage_escalations_due_get, &t},
    };
    hl_db_cfg_t shard = {cfg.svc.database_url, cfg.svc.db_role, (int)cfg.svc.batch_max,
                         "hl-triage"};
    if (hl_pipeline_shards(svc.pipeline, &shard, (int)cfg.connections - 1) != 0 ||
        hl_pipeline_produce(svc.pipeline, HL_STAGE_STATUS) != 0 ||
        hl_pipeline_produce(svc.pipeline, HL_STAGE_BOUNTY) != 0 ||
        hl_pipeline_produce(svc.pipeline, HL_STAGE_ALLIANCE) != 0 ||
        hl_pipeline_produce(svc.pipeline, HL_STAGE_POINTS) != 0 || triage_appeal_consume(&t) != 0 ||
        triage_resolution_consume(&t) != 0 || triage_feedback_consume(&t) != 0 ||
        hl_service_listen(&svc, routes, sizeof routes / sizeof routes[0]) != 0)
        return 1;
    triage_rules_start(&t);
    triage_sync_start(&t);
    triage_deadlines_start(&t);
    int rc = hl_service_run(&svc);
    triage_rules_destroy(&t.rules);
    triage_index_destroy(&t.index);
    triage_org_destroy(&t.org);
    return rc;
}
