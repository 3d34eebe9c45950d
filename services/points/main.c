/* hl-points: the points ledger. Awards arrive on the "points" stage
 * (PointsAwarded from hl-bounty and hl-triage) and over HTTP (study pairs
 * and events attended, activity.c); each is paid by the rule in force at
 * its time (rules.c) as one balanced transaction from the community's
 * budget to the earner, recorded once (award.c). The HTTP API shows
 * balances and leaderboards by period and community (balance.c), the rules,
 * and the quarterly chain contest and A/B/C grades (contest.c, grade.c).
 * Analysts read all of it in reporting.* views. hl-points produces no
 * messages, so it runs no sweeper. */
#include "points.h"

static const hl_cfg_entry_t s_cfg_table[] = {
    HL_SVC_CFG_ENTRIES(points_cfg_t, svc, "8083", "hl_points"),
    {"HL_CONTEST_SCAN_MS", HL_CFG_INT, "3600000", 0, 86400000,
     offsetof(points_cfg_t, contest_scan_ms), false,
     "how often hl-points looks whether the quarter just ended needs its contest computed "
     "(0: never; compute with POST /v1/contests/{quarter}/compute)"},
};

static void s_on_drain(hl_service_t *svc)
{
    points_contest_stop(svc->app);
}

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
    pt.unruled = hl_metric_counter("hl_points_awards_unruled_total",
                                   "Awards refused: no points rule for their kind and basis", NULL);
    pt.refused = hl_metric_counter(
        "hl_points_awards_refused_total",
        "Awards refused otherwise (malformed, unknown org unit or community, account kind)", NULL);
    pt.computed = hl_metric_counter("hl_points_contests_computed_total",
                                    "Contest quarters computed (grades stored)", NULL);
    svc.app = &pt;
    svc.on_drain = s_on_drain;
    const hl_http_route_t routes[] = {
        {"GET", "/v1/balances/", points_balance_missing, &pt},
        {"GET", "/v1/balances/{}", points_balance_get, &pt},
        {"GET", "/v1/leaderboard", points_leaderboard_get, &pt},
        {"GET", "/v1/rules", points_rules_get, &pt},
        {"POST", "/v1/activities", points_activity_post, &pt},
        {"POST", "/v1/contests/{}/scores", points_contest_score, &pt},
        {"POST", "/v1/contests/{}/compute", points_contest_compute, &pt},
        {"GET", "/v1/contests/{}", points_contest_get, &pt},
        {"GET", "/v1/grades/{}", points_grades_list, &pt},
        {"GET", "/v1/grades/{}/{}", points_grade_get, &pt},
    };
    if (points_award_consume(&pt) != 0 ||
        hl_service_listen(&svc, routes, sizeof routes / sizeof routes[0]) != 0)
        return 1;
    points_contest_start(&pt);
    return hl_service_run(&svc);
}
