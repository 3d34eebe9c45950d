/* hl-points: the points ledger. hl-bounty sends an award on the "points"
 * stage once the community approved a completed task; each is recorded once
 * (award.c) and moves the balances the HTTP read API shows (balance.c):
 * an account's balance and awards, and leaderboards by account or org unit.
 * Analysts read the ledger and the chain standings in reporting.* views.
 * hl-points produces no messages, so it runs no sweeper. */
#include "points.h"

static const hl_cfg_entry_t s_cfg_table[] = {
    HL_SVC_CFG_ENTRIES(points_cfg_t, svc, "8083", "hl_points"),
};

int main(int argc, char **argv)
{
    static points_cfg_t cfg;
    hl_service_config(argc, argv, "hl-points", s_cfg_table,
                      sizeof s_cfg_table / sizeof s_cfg_table[0], &cfg, &cfg.svc);
    static hl_service_t svc;
    if (hl_service_init(&svc, "hl-points", &cfg.svc) != 0)
        return 1;
    static points_t pt;
    pt.svc = &svc;
    pt.cfg = &cfg;
    pt.recorded =
        hl_metric_counter("hl_points_awards_recorded_total", "Awards written to the ledger", NULL);
    pt.repeated = hl_metric_counter("hl_points_awards_repeated_total",
                                    "Awards whose award_id was recorded already (no effect)", NULL);
    svc.app = &pt;
    const hl_http_route_t routes[] = {
        {"GET", "/v1/balances/", points_balance_missing, &pt},
        {"GET", "/v1/balances/{}", points_balance_get, &pt},
        {"GET", "/v1/leaderboard", points_leaderboard_get, &pt},
    };
    if (points_award_consume(&pt) != 0 ||
        hl_service_listen(&svc, routes, sizeof routes / sizeof routes[0]) != 0)
        return 1;
    return hl_service_run(&svc);
}
