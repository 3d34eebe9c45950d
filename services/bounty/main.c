/* hl-bounty: the boards (揭榜认领). hl-triage posts residents' micro-wishes
 * and hl-alliance the large items of joint meetings on the "bounty" stage;
 * they go on their community's monthly wish board or quarterly large-item
 * board, which the commissioner publishes. Eligible actors — grid
 * organisations, volunteers and party members of the community for wishes,
 * member units whose domains fit for large items, directly or through the
 * city platform — claim them under a lease, complete them with evidence,
 * and the community reviews them. Approval awards the points (PointsAwarded
 * on "points") and tells triage the item is done (TaskApproved or
 * ItemResolved on "resolution"), in the same transaction as the approval;
 * the city platform hears of large-item steps (PlatformEvent on
 * "platform"). */
#include "bounty.h"

#include <stddef.h>

static const hl_cfg_entry_t s_cfg_table[] = {
    HL_SVC_CFG_ENTRIES(bounty_cfg_t, svc, "8082", "hl_bounty"),
    {"HL_WISH_POINTS", HL_CFG_INT, "10", 1, 1000, offsetof(bounty_cfg_t, wish_points), false,
     "points on offer recorded with a wish when WishPosted.points is unset (hl-points prices "
     "awards by its rules)"},
    {"HL_LEASE_S", HL_CFG_INT, "604800", 1, 31536000, offsetof(bounty_cfg_t, lease_s), false,
     "how long a claim holds before it returns to the board by itself (seconds; 7 days)"},
    {"HL_LEASE_SCAN_MS", HL_CFG_INT, "5000", 10, 3600000, offsetof(bounty_cfg_t, lease_scan_ms),
     false, "how often expired leases and open entries of past periods are looked for"},
};

static void s_drain(hl_service_t *svc)
{
    bounty_t *b = svc->app;
    hl_apikey_stop(b->keys);
    bounty_scan_stop(b);
}

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
    b.offered = hl_metric_counter("hl_bounty_large_items_offered_total",
                                  "Large items put on a board", NULL);
    b.claimed_wish =
        hl_metric_counter("hl_bounty_claims_total", "Claims that won, by board", "kind=\"wish\"");
    b.claimed_large =
        hl_metric_counter("hl_bounty_claims_total", "Claims that won, by board", "kind=\"large\"");
    b.claim_refused = hl_metric_counter("hl_bounty_claims_conflicted_total",
                                        "Claims refused because the entry was taken (409)", NULL);
    b.ineligible = hl_metric_counter("hl_bounty_claims_ineligible_total",
                                     "Claims refused by the eligibility rules (403)", NULL);
    b.extended = hl_metric_counter("hl_bounty_leases_extended_total", "Leases extended", NULL);
    b.released = hl_metric_counter("hl_bounty_claims_released_total", "Claims released", NULL);
    b.expired = hl_metric_counter("hl_bounty_leases_expired_total",
                                  "Claims whose lease ran out (back on the board)", NULL);
    b.carried = hl_metric_counter("hl_bounty_carried_over_total",
                                  "Open entries carried over to a later board", NULL);
    b.published = hl_metric_counter("hl_bounty_boards_published_total", "Boards published", NULL);
    b.completed = hl_metric_counter("hl_bounty_wishes_completed_total",
                                    "Completions reported with evidence", NULL);
    b.progressed =
        hl_metric_counter("hl_bounty_progress_reports_total", "Large-item progress reports", NULL);
    b.approved = hl_metric_counter("hl_bounty_wishes_approved_total",
                                   "Reviews that approved an entry (points awarded)", NULL);
    b.rejected = hl_metric_counter("hl_bounty_wishes_rejected_total",
                                   "Reviews that sent the work back to the claimant", NULL);
    b.unauthenticated = hl_metric_counter("hl_bounty_unauthenticated_total",
                                          "Calls refused for a missing or unknown key (401)", NULL);
    b.platform_applied = hl_metric_counter("hl_bounty_platform_actions_total",
                                           "Platform actions, by outcome", "outcome=\"applied\"");
    b.platform_refused = hl_metric_counter("hl_bounty_platform_actions_total",
                                           "Platform actions, by outcome", "outcome=\"refused\"");
    svc.app = &b;
    svc.on_drain = s_drain;
    const hl_http_route_t routes[] = {
        {"GET", "/v1/wishes", bounty_wishes_get, &b},
        {"GET", "/v1/wishes/{}", bounty_wish_get, &b},
        {"POST", "/v1/wishes/{}/claim", bounty_wish_claim_post, &b},
        {"POST", "/v1/wishes/{}/extend", bounty_wish_extend_post, &b},
        {"POST", "/v1/wishes/{}/release", bounty_wish_release_post, &b},
        {"POST", "/v1/wishes/{}/complete", bounty_wish_complete_post, &b},
        {"POST", "/v1/wishes/{}/review", bounty_wish_review_post, &b},
        {"POST", "/v1/wishes/{}/difficulty", bounty_wish_difficulty_post, &b},
        {"GET", "/v1/large-items", bounty_large_items_get, &b},
        {"GET", "/v1/large-items/{}", bounty_large_item_get, &b},
        {"POST", "/v1/large-items/{}/claim", bounty_large_claim_post, &b},
        {"POST", "/v1/large-items/{}/extend", bounty_large_extend_post, &b},
        {"POST", "/v1/large-items/{}/release", bounty_large_release_post, &b},
        {"POST", "/v1/large-items/{}/progress", bounty_large_progress_post, &b},
        {"POST", "/v1/large-items/{}/complete", bounty_large_complete_post, &b},
        {"POST", "/v1/large-items/{}/review", bounty_large_review_post, &b},
        {"GET", "/v1/boards", bounty_boards_get, &b},
        {"GET", "/v1/boards/current", bounty_board_current_get, &b},
        {"GET", "/v1/boards/{}", bounty_board_get, &b},
        {"GET", "/v1/boards/{}/changes", bounty_board_changes_get, &b},
        {"POST", "/v1/boards/{}/publish", bounty_board_publish_post, &b},
    };
    if (hl_pipeline_produce(svc.pipeline, HL_STAGE_POINTS) != 0 ||
        hl_pipeline_produce(svc.pipeline, HL_STAGE_RESOLUTION) != 0 ||
        hl_pipeline_produce(svc.pipeline, HL_STAGE_PLATFORM) != 0 || bounty_post_consume(&b) != 0 ||
        hl_service_listen(&svc, routes, sizeof routes / sizeof routes[0]) != 0)
        return 1;
    bounty_actors_start(&b);
    bounty_scan_start(&b);
    return hl_service_run(&svc);
}
