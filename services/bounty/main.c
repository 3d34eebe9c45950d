/* hl-bounty: the claim board (揭榜认领). hl-triage posts residents'
 * micro-wishes on the "bounty" stage; they go on the month's board, where
 * grid organisations and member units claim them exclusively, complete them
 * with evidence, and the community reviews them. Approval awards the points
 * (PointsAwarded on "points") and tells triage the item is done
 * (TaskApproved on "resolution"), in the same transaction as the approval. */
#include "bounty.h"

#include <stddef.h>

static const hl_cfg_entry_t s_cfg_table[] = {
    HL_SVC_CFG_ENTRIES(bounty_cfg_t, svc, "8082", "hl_bounty"),
    {"HL_WISH_POINTS", HL_CFG_INT, "10", 1, 1000, offsetof(bounty_cfg_t, wish_points), false,
     "points a completed, approved wish earns when WishPosted.points is unset"},
};

int main(int argc, char **argv)
{
    static bounty_cfg_t cfg;
    hl_service_config(argc, argv, "hl-bounty", s_cfg_table,
                      sizeof s_cfg_table / sizeof s_cfg_table[0], &cfg, &cfg.svc);
    static hl_service_t svc;
    if (hl_service_init(&svc, "hl-bounty", &cfg.svc) != 0)
        return 1;
    static bounty_t b;
    b.svc = &svc;
    b.cfg = &cfg;
    b.posted = hl_metric_counter("hl_bounty_wishes_posted_total", "Wishes put on a board", NULL);
    b.claimed = hl_metric_counter("hl_bounty_wishes_claimed_total", "Claims that won", NULL);
    b.claim_refused = hl_metric_counter("hl_bounty_claims_conflicted_total",
                                        "Claims refused because the wish was taken (409)", NULL);
    b.completed = hl_metric_counter("hl_bounty_wishes_completed_total",
                                    "Completions reported with evidence", NULL);
    b.approved = hl_metric_counter("hl_bounty_wishes_approved_total",
                                   "Reviews that approved a wish (points awarded)", NULL);
    b.rejected = hl_metric_counter("hl_bounty_wishes_rejected_total",
                                   "Reviews that sent the work back to the claimant", NULL);
    svc.app = &b;
    const hl_http_route_t routes[] = {
        {"GET", "/v1/wishes", bounty_wishes_get, &b},
        {"GET", "/v1/wishes/{}", bounty_wish_get, &b},
        {"POST", "/v1/wishes/{}/claim", bounty_claim_post, &b},
        {"POST", "/v1/wishes/{}/complete", bounty_complete_post, &b},
        {"POST", "/v1/wishes/{}/review", bounty_review_post, &b},
        {"GET", "/v1/boards/current", bounty_board_current_get, &b},
    };
    if (hl_pipeline_produce(svc.pipeline, HL_STAGE_POINTS) != 0 ||
        hl_pipeline_produce(svc.pipeline, HL_STAGE_RESOLUTION) != 0 ||
        bounty_post_consume(&b) != 0 ||
        hl_service_listen(&svc, routes, sizeof routes / sizeof routes[0]) != 0)
        return 1;
    hl_pipeline_start_sweeper(svc.pipeline);
    return hl_service_run(&svc);
}
