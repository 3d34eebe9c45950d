/* route.c: where an item goes once its size is known, and the rows and
 * messages that put it there (DOMAIN.md workflow 2).
 *
 *   small -> down to the compound's three-party council: target the
 *            compound, a council row pending its hearing;
 *   large -> up to the regional alliance: target the community (whose
 *            "big party committee" leads the alliance), ItemEscalated on
 *            stage "alliance";
 *   wish  -> the compound's claim board: WishPosted on stage "bounty";
 *            hl-bounty sets the points.
 *
 * An appeal anchored below a compound (a micro-grid, a household) is
 * routed to its compound; one anchored above (a community, a town) stays
 * where it is. The plan is pure; triage_route_open_item adds the
 * statements to the caller's unit, so the item, its route and the messages
 * commit together with the case. */
#include "triage.h"

#include <stdio.h>
#include <string.h>

int triage_level_rank(const char *level)
{
    static const char *const rungs[] = {"compound", "community", "town", "city"};
    for (int i = 0; level && i < 4; i++)
        if (strcmp(level, rungs[i]) == 0)
            return i + 1;
    return 0;
}

void triage_route_plan(triage_size_t size, const triage_place_t *place, triage_route_t *out)
{
    bool above_compound = triage_level_rank(place->level) > 1;
    bool above_community = triage_level_rank(place->level) > 2;
    const char *compound = place->compound ? place->compound : place->org_unit;
    const char *community = place->community ? place->community : place->org_unit;
    switch (size) {
    case TRIAGE_SIZE_LARGE:
        out->route = "alliance";
        out->target = above_community ? place->org_unit : community;
        out->level = above_community ? place->level : "community";
        break;
    case TRIAGE_SIZE_WISH:
    case TRIAGE_SIZE_SMALL:
    default:
        out->route = size == TRIAGE_SIZE_WISH ? "board" : "council";
        out->target = above_compound ? place->org_unit : compound;
        out->level = above_compound ? place->level : "compound";
        break;
    }
}

const char *triage_due_stage(triage_size_t size)
{
    return size == TRIAGE_SIZE_SMALL ? "hear" : "resolve";
}

static const char s_sql_item[] =
    "INSERT INTO triage.item (id, size, category, org_unit, title, status, route, level, target,"
    " appeal_count, created_at, routed_at, compound, community, due_stage, due_at)"
    " VALUES ($1::uuid, $2, $3, $4, $5, 'routed', $6, $7, $8, 1, now(), now(), $9, $10, $11,"
    " triage.deadline(now(), $2, $11, $3))";
static const char s_sql_council[] =
    "INSERT INTO triage.council (id, item_id) VALUES ($1::uuid, $2::uuid)";

void triage_route_open_item(triage_t *t, hl_dbu_t *u, const triage_new_item_t *item)
{
    const triage_route_t *r = &item->route;
    HL_DBU(u, s_sql_item, NULL, NULL, item->id, triage_size_name(item->size), item->category,
           item->org_unit, item->title, r->route, r->level, r->target, item->compound,
           item->community, triage_due_stage(item->size));
    hl_pipeline_t *p = t->svc->pipeline;
    if (item->size == TRIAGE_SIZE_SMALL) {
        char council[HL_UUID_LEN + 1];
        hl_uuid_new(council);
        HL_DBU(u, s_sql_council, NULL, NULL, council, item->id);
    } else if (item->size == TRIAGE_SIZE_LARGE) {
        Hl__ItemEscalated msg = HL__ITEM_ESCALATED__INIT;
        msg.item_id = (char *)item->id;
        msg.title = (char *)item->title;
        msg.body = (char *)item->body;
        msg.category = (char *)(item->category ? item->category : "");
        msg.org_unit = (char *)item->org_unit;
        msg.has_level = 1;
        msg.level = triage_level_rank(r->level);
        msg.has_appeal_count = 1;
        msg.appeal_count = 1;
        msg.reason = "large";
        hl_pipeline_send(p, u, HL_STAGE_ALLIANCE, item->appeal_id, &msg.base, NULL);
    } else if (item->size == TRIAGE_SIZE_WISH) {
        Hl__WishPosted msg = HL__WISH_POSTED__INIT;
        msg.item_id = (char *)item->id;
        msg.appeal_id = (char *)item->appeal_id;
        msg.title = (char *)item->title;
        msg.body = (char *)item->body;
        msg.org_unit = (char *)r->target;
        msg.category = (char *)(item->category ? item->category : "");
        hl_pipeline_send(p, u, HL_STAGE_BOUNTY, item->appeal_id, &msg.base, NULL);
    }
}

void triage_route_tell(triage_t *t, hl_dbu_t *u, const char *appeal_id, const char *item_id,
                       const char *size, const char *category, const char *route,
                       const char *target)
{
    Hl__TriageDecision d = HL__TRIAGE_DECISION__INIT;
    d.appeal_id = (char *)appeal_id;
    d.item_id = (char *)item_id;
    d.size = (char *)size;
    d.category = (char *)(category ? category : "");
    d.route = (char *)route;
    d.has_decided_at_us = 1;
    d.decided_at_us = hl_time_us();
    d.target = (char *)(target ? target : "");
    hl_pipeline_send(t->svc->pipeline, u, HL_STAGE_STATUS, appeal_id, &d.base, NULL);
}
