/* hl-intake: the front door. Residents, mailbox clerks, visiting grid staff
 * and other city systems post appeals here; each is stored with its
 * pipeline message in one transaction and answered with a tracking code
 * only after the commit. It also keeps the status residents see, fed back
 * by hl-triage on the "status" stage. */
#include "intake.h"
#include "ratelimit.h"

#include <stddef.h>
#include <stdlib.h>

static const hl_cfg_entry_t s_cfg_table[] = {
    HL_SVC_CFG_ENTRIES(intake_cfg_t, svc, "8080", "hl_intake"),
    {"HL_RATE_PER_KEY_PER_MIN", HL_CFG_INT, "600", 1, 10000000,
     offsetof(intake_cfg_t, rate_per_key_per_min), false,
     "requests per minute per API key (unless the key has its own rate)"},
    {"HL_RATE_PER_ADDR_PER_MIN", HL_CFG_INT, "120", 1, 10000000,
     offsetof(intake_cfg_t, rate_per_addr_per_min), false,
     "requests per minute per client address without an API key"},
    {"HL_RATE_BURST", HL_CFG_INT, "60", 1, 1000000, offsetof(intake_cfg_t, rate_burst), false,
     "requests a client may make at once before the rate applies"},
    {"HL_RATE_EXEMPT", HL_CFG_STR, "", 0, 0, offsetof(intake_cfg_t, rate_exempt), false,
     "comma-separated client addresses without the per-address limit (keys are always limited)"},
    {"HL_PUBLIC_URL", HL_CFG_STR, "http://127.0.0.1:8080", 0, 0, offsetof(intake_cfg_t, public_url),
     false, "base URL clients reach hl-intake at (Open311 discovery)"},
    {"HL_BATCH_MAX_LINES", HL_CFG_INT, "1000", 1, 100000, offsetof(intake_cfg_t, batch_max_lines),
     false, "most lines in one POST /v1/appeals/batch"},
    {"HL_KEY_LOOKUPS_PER_S", HL_CFG_INT, "20", 1, 100000, offsetof(intake_cfg_t, key_lookups_per_s),
     false,
     "API keys not in memory looked up in PostgreSQL per second, at most (a new key's first "
     "use; unknown keys are remembered for a minute)"},
};

/* Stops what intake runs beside the pipeline when the drain begins. */
static void s_on_drain(hl_service_t *svc)
{
    intake_keys_stop(svc->app);
}

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
    in.limited = hl_metric_counter("hl_intake_rate_limited_total",
                                   "Requests refused with 429 by the rate limits", NULL);
    in.per_key = intake_ratelimit_new(10000);
    in.per_addr = intake_ratelimit_new(100000);
    svc.app = &in;
    svc.on_drain = s_on_drain;
    intake_keys_start(&in);
    const hl_http_route_t routes[] = {
        {"POST", "/v1/appeals", intake_appeal_post, &in},
        {"POST", "/v1/appeals/batch", intake_batch_post, &in},
        {"GET", "/v1/appeals/{}", intake_appeal_get, &in},
        {"POST", "/v1/appeals/{}/confirm", intake_feedback_confirm, &in},
        {"POST", "/v1/appeals/{}/reopen", intake_feedback_reopen, &in},
        {"GET", "/v1/categories", intake_categories_get, &in},
        {"GET", "/v1/org-units", intake_org_units_get, &in},
        {"GET", "/open311/v2/discovery.{}", intake_open311_discovery, &in},
        {"GET", "/open311/v2/services.{}", intake_open311_services, &in},
        {"GET", "/open311/v2/services/{}", intake_open311_service, &in},
        {"GET", "/open311/v2/requests.{}", intake_open311_requests_get, &in},
        {"POST", "/open311/v2/requests.{}", intake_open311_requests_post, &in},
        {"GET", "/open311/v2/requests/{}", intake_open311_request_get, &in},
        {"GET", "/open311/v2/tokens/{}", intake_open311_token_get, &in},
        {"GET", "/r", intake_page_form_get, &in},
        {"GET", "/form", intake_page_form_get, &in},
        {"GET", "/t/{}", intake_page_track_get, &in},
        {"GET", "/status", intake_page_track_get, &in},
        {"GET", "/assets/{}", intake_page_asset_get, &in},
    };
    if (hl_pipeline_produce(svc.pipeline, HL_STAGE_APPEAL) != 0 ||
        hl_pipeline_produce(svc.pipeline, HL_STAGE_FEEDBACK) != 0 ||
        intake_status_consume(&in) != 0 ||
        hl_service_listen(&svc, routes, sizeof routes / sizeof routes[0]) != 0)
        return 1;
    return hl_service_run(&svc);
}
