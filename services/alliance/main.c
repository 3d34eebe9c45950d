/* hl-alliance: the regional alliance's joint meetings. Large items that
 * hl-triage escalates (stage "alliance") go on the next planned meeting's
 * agenda (agenda.c); the meeting records an outcome per item, naming the
 * member unit that took it on, and each outcome goes back to hl-triage as
 * ItemResolved (stage "resolution", outcome.c). It also lists the member
 * units by function domain (member.c) and marks meetings held (meeting.c).
 * The external platform's webhooks are not built yet. */
#include "alliance.h"

static const hl_cfg_entry_t s_cfg_table[] = {
    HL_SVC_CFG_ENTRIES(alliance_cfg_t, svc, "8084", "hl_alliance"),
    {"HL_MEETING_INTERVAL_DAYS", HL_CFG_INT, "30", 1, 365,
     offsetof(alliance_cfg_t, meeting_interval_days), false,
     "days ahead a joint meeting is planned when an item escalates and none is planned"},
};

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
    svc.app = &al;
    const hl_http_route_t routes[] = {
        {"GET", "/v1/meetings/next", alliance_meeting_next, &al},
        {"GET", "/v1/meetings/{}", alliance_meeting_get, &al},
        {"POST", "/v1/meetings/{}/outcomes", alliance_outcome_post, &al},
        {"POST", "/v1/meetings/{}/held", alliance_meeting_held, &al},
        {"GET", "/v1/member-units", alliance_member_units_get, &al},
    };
    if (hl_pipeline_produce(svc.pipeline, HL_STAGE_RESOLUTION) != 0 ||
        alliance_agenda_consume(&al) != 0 ||
        hl_service_listen(&svc, routes, sizeof routes / sizeof routes[0]) != 0)
        return 1;
    hl_pipeline_start_sweeper(svc.pipeline);
    return hl_service_run(&svc);
}
