/* hl-intake: the front door. Residents, mailbox clerks, visiting grid staff
 * and other city systems post appeals here; each is stored with its
 * pipeline message in one transaction and answered with a tracking code
 * only after the commit. It also keeps the status residents see, fed back
 * by hl-triage on the "status" stage. */
#include "intake.h"

#include <stdlib.h>

static const hl_cfg_entry_t s_cfg_table[] = {
    HL_SVC_CFG_ENTRIES(intake_cfg_t, svc, "8080", "hl_intake"),
};

int main(int argc, char **argv)
{
    static intake_cfg_t cfg;
    hl_service_config(argc, argv, "hl-intake", s_cfg_table,
                      sizeof s_cfg_table / sizeof s_cfg_table[0], &cfg, &cfg.svc);
    static hl_service_t svc;
    if (hl_service_init(&svc, "hl-intake", &cfg.svc) != 0)
        return 1;
    static intake_t in;
    in.svc = &svc;
    in.cfg = &cfg;
    in.accepted = hl_metric_counter("hl_intake_appeals_accepted_total", "Appeals stored", NULL);
    in.replayed = hl_metric_counter("hl_intake_appeals_replayed_total",
                                    "Repeated requests answered from the Idempotency-Key", NULL);
    in.refused =
        hl_metric_counter("hl_intake_appeals_refused_total", "Appeals refused as bad input", NULL);
    svc.app = &in;
    const hl_http_route_t routes[] = {
        {"POST", "/v1/appeals", intake_appeal_post, &in},
        {"GET", "/v1/appeals/{}", intake_appeal_get, &in},
        {"GET", "/v1/categories", intake_categories_get, &in},
        {"GET", "/v1/org-units", intake_org_units_get, &in},
    };
    if (hl_pipeline_produce(svc.pipeline, HL_STAGE_APPEAL) != 0 ||
        intake_status_consume(&in) != 0 ||
        hl_service_listen(&svc, routes, sizeof routes / sizeof routes[0]) != 0)
        return 1;
    hl_pipeline_start_sweeper(svc.pipeline);
    return hl_service_run(&svc);
}
