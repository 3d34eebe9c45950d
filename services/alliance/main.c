/* hl-alliance: the regional alliances and the city platform. There is an
 * alliance per community (its "big party committee" and paired member
 * units) plus the city's. Large items hl-triage escalates (stage
 * "alliance") land on the next meeting of the alliance of their level
 * (agenda.c); meetings sit on each alliance's schedule or are called extra,
 * and are held with minutes — attendance, decisions tagged with the five
 * shared mechanisms, action items — carrying every undecided item on
 * (meeting.c). Outcomes go back to hl-triage as ItemResolved and overdue
 * action items as ActionOverdue (stage "resolution", outcome.c, action.c);
 * items sent to the quarterly board go to hl-bounty as LargeItemOffered
 * (stage "bounty"). Member units take or resolve an item only when their
 * function domains fit its category. Pairing, party members and
 * contributions are in pairing.c; the Shuang Lian Shuang Ying platform's
 * signed webhooks come in through inbound.c (LargeItemAction to hl-bounty)
 * and go out through deliver.c (stage "platform" and meeting.held). */
#include "alliance.h"

static const hl_cfg_entry_t s_cfg_table[] = {
    HL_SVC_CFG_ENTRIES(alliance_cfg_t, svc, "8084", "hl_alliance"),
    {"HL_ACTION_SCAN_MS", HL_CFG_INT, "60000", 50, 3600000,
     offsetof(alliance_cfg_t, action_scan_ms), false,
     "how often action items past their deadline are looked for (and reported to hl-triage)"},
    {"HL_WEBHOOK_SCAN_MS", HL_CFG_INT, "1000", 20, 600000,
     offsetof(alliance_cfg_t, webhook_scan_ms), false,
     "how often due outbound platform webhooks are looked for"},
    {"HL_WEBHOOK_TIMEOUT_MS", HL_CFG_INT, "10000", 100, 120000,
     offsetof(alliance_cfg_t, webhook_timeout_ms), false,
     "longest wait for a platform partner's answer to one delivery"},
    {"HL_WEBHOOK_MAX_ATTEMPTS", HL_CFG_INT, "12", 1, 1000,
     offsetof(alliance_cfg_t, webhook_max_attempts), false,
     "attempts before an outbound webhook is dead-lettered"},
    {"HL_WEBHOOK_BACKOFF_MS", HL_CFG_INT, "2000", 10, 3600000,
     offsetof(alliance_cfg_t, webhook_backoff_ms), false,
     "wait before the second attempt; doubles with every attempt after"},
    {"HL_WEBHOOK_BACKOFF_MAX_MS", HL_CFG_INT, "3600000", 10, 86400000,
     offsetof(alliance_cfg_t, webhook_backoff_max_ms), false, "longest wait between two attempts"},
    {"HL_WEBHOOK_IN_FLIGHT", HL_CFG_INT, "32", 1, 1000, offsetof(alliance_cfg_t, webhook_in_flight),
     false, "most outbound webhook deliveries in flight at once"},
};

static void s_on_drain(hl_service_t *svc)
{
    alliance_t *al = svc->app;
    alliance_actions_stop(al);
    alliance_deliver_stop(al);
}

int main(int argc, char **argv)
{
    static alliance_cfg_t cfg;
    hl_service_config(argc, argv, "hl-alliance", s_cfg_table,
                      sizeof s_cfg_table / sizeof s_cfg_table[0], &cfg, &cfg.svc);
    static hl_service_t svc;
    if (hl_service_init(&svc, "hl-alliance", &cfg.svc) != 0)
        return 1;
    static alliance_t al;
    al.svc = &svc;
    al.cfg = &cfg;
    al.placed = hl_metric_counter("hl_alliance_items_placed_total",
                                  "Escalated items put on a joint meeting's agenda", NULL);
    al.resolved = hl_metric_counter("hl_alliance_outcomes_recorded_total",
                                    "Outcomes recorded (ItemResolved sent to hl-triage)", NULL);
    al.refused = hl_metric_counter("hl_alliance_requests_refused_total",
                                   "Requests refused as bad input", NULL);
    al.held = hl_metric_counter("hl_alliance_meetings_held_total", "Joint meetings held", NULL);
    al.carried = hl_metric_counter("hl_alliance_items_carried_total",
                                   "Undecided items carried to the next meeting", NULL);
    al.overdue = hl_metric_counter("hl_alliance_actions_overdue_total",
                                   "Overdue action items followed up (ActionOverdue)", NULL);
    al.inbound_ok = hl_metric_counter("hl_alliance_webhooks_in_total",
                                      "Inbound platform webhooks accepted", "result=\"accepted\"");
    al.inbound_bad =
        hl_metric_counter("hl_alliance_webhooks_in_total", "Inbound platform webhooks accepted",
                          "result=\"unauthorized\"");
    al.delivered = hl_metric_counter("hl_alliance_webhooks_out_total",
                                     "Outbound platform webhook attempts", "result=\"delivered\"");
    al.delivery_fail = hl_metric_counter("hl_alliance_webhooks_out_total",
                                         "Outbound platform webhook attempts", "result=\"failed\"");
    al.dead = hl_metric_counter("hl_alliance_webhooks_dead_total",
                                "Outbound platform webhooks given up (dead-lettered)", NULL);
    svc.app = &al;
    svc.on_drain = s_on_drain;
    const hl_http_route_t routes[] = {
        {"GET", "/v1/alliances", alliance_alliances_get, &al},
        {"GET", "/v1/alliances/{}", alliance_alliance_get, &al},
        {"GET", "/v1/alliances/{}/agenda", alliance_agenda_get, &al},
        {"POST", "/v1/alliances/{}/agenda", alliance_agenda_post, &al},
        {"POST", "/v1/alliances/{}/meetings", alliance_meeting_post, &al},
        {"GET", "/v1/meetings/next", alliance_meeting_next, &al},
        {"GET", "/v1/meetings/{}", alliance_meeting_get, &al},
        {"POST", "/v1/meetings/{}/outcomes", alliance_outcome_post, &al},
        {"POST", "/v1/meetings/{}/held", alliance_meeting_held, &al},
        {"GET", "/v1/action-items", alliance_actions_get, &al},
        {"POST", "/v1/action-items/{}/done", alliance_action_done, &al},
        {"GET", "/v1/member-units", alliance_member_units_get, &al},
        {"GET", "/v1/member-units/{}/contributions", alliance_contributions_get, &al},
        {"GET", "/v1/pairings", alliance_pairings_get, &al},
        {"POST", "/v1/pairings", alliance_pairing_post, &al},
        {"GET", "/v1/party-members", alliance_party_members_get, &al},
        {"POST", "/v1/party-members", alliance_party_member_post, &al},
        {"POST", "/v1/platform/{}/webhooks", alliance_inbound_post, &al},
        {"GET", "/v1/platform/deliveries", alliance_deliveries_get, &al},
        {"POST", "/v1/platform/deliveries/replay", alliance_deliveries_replay, &al},
    };
    if (hl_pipeline_produce(svc.pipeline, HL_STAGE_RESOLUTION) != 0 ||
        hl_pipeline_produce(svc.pipeline, HL_STAGE_BOUNTY) != 0 ||
        alliance_agenda_consume(&al) != 0 || alliance_platform_consume(&al) != 0 ||
        hl_service_listen(&svc, routes, sizeof routes / sizeof routes[0]) != 0)
        return 1;
    hl_pipeline_start_sweeper(svc.pipeline);
    alliance_actions_start(&al);
    alliance_deliver_start(&al);
    return hl_service_run(&svc);
}
