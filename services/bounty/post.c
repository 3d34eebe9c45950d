/* post.c: the "bounty" stage consumer. hl-triage sends each micro-wish as a
 * WishPosted; hl-alliance sends the large items a joint meeting puts on the
 * quarterly board (LargeItemOffered) and the member units' actions through
 * the city platform (LargeItemAction, applied in engine.c).
 *
 * An entry goes on its community's board of the current month (wishes) or
 * quarter (large items), Beijing time; bounty.board_for() drafts the board
 * when it is the first entry (INSERT ... ON CONFLICT DO NOTHING, so
 * concurrent posters agree on one board). A draft's entries cannot be
 * claimed until its commissioner publishes it; a published board takes new
 * entries live. The entry's item_id is unique: a second message for the same
 * item, even under a new message id, posts nothing. A wish anchored below a
 * compound is lifted to its compound and remembers its micro-grid; one
 * anchored above a compound, or to an unknown unit, is refused by the
 * database (HL400) and dead-lettered. */
#include "bounty.h"

#include <stdio.h>
#include <string.h>

static const char s_sql_wish[] =
    "WITH a AS (SELECT bounty.compound_of($4) AS compound,"
    "                  (SELECT CASE u.level WHEN 'micro_grid' THEN u.code"
    "                                       WHEN 'household' THEN u.parent END"
    "                     FROM org.org_unit u WHERE u.code = $4) AS micro_grid),"
    " b AS (SELECT bounty.board_for('wish', c.parent) AS id, a.compound, a.micro_grid"
    "         FROM a JOIN org.org_unit c ON c.code = a.compound),"
    " w AS ("
    "  INSERT INTO bounty.wish (id, board_id, first_board_id, item_id, appeal_id, org_unit,"
    "                           micro_grid, category, title, body, points, difficulty)"
    "  SELECT $1::uuid, b.id, b.id, $2::uuid, $3::uuid, b.compound, b.micro_grid, $5, $6, $7,"
    "         $8::int, $10 FROM b"
    "  ON CONFLICT (item_id) DO NOTHING"
    "  RETURNING id, board_id)"
    " INSERT INTO bounty.wish_event (wish_id, action, status, actor, actor_kind, note)"
    " SELECT w.id, 'posted', 'open', $9, 'service',"
    "        'posted to the board of ' || to_char(" BOUNTY_SQL_THIS_MONTH ", 'YYYY-MM')"
    "   FROM w"
    " RETURNING wish_id::text";

/* Counts a wish once its unit committed (nothing when the item was there). */
static void s_posted_rows(void *arg, const PGresult *res)
{
    bounty_t *b = arg;
    if (PQntuples(res) > 0) {
        hl_metric_add(b->posted, 1);
        hl_debug("wish", PQgetvalue(res, 0, 0), "posted wish to this month's board");
    }
}

static const char *s_actor(const hl_inmsg_t *m, const char *fallback)
{
    return m->env->producer && *m->env->producer ? m->env->producer : fallback;
}

/* Why a WishPosted cannot go on a board, or NULL (the typed handler's check). */
static const char *s_wish_check(const void *msg)
{
    bounty_wish_t w;
    return bounty_wish_check(msg, 1, &w);
}

static void s_wish_posted(hl_inmsg_t *m, const void *payload, void *arg)
{
    bounty_t *b = arg;
    bounty_wish_t w;
    bounty_wish_check(payload, (int)b->cfg->wish_points, &w); /* checked: fills w */
    char id[HL_UUID_LEN + 1], points[16];
    hl_uuid_new(id);
    snprintf(points, sizeof points, "%d", w.points);
    HL_DBU(m->unit, s_sql_wish, s_posted_rows, b, id, w.item_id, w.appeal_id, w.org_unit,
           w.category, w.title, w.body, points, s_actor(m, "hl-triage"), w.difficulty);
    hl_inmsg_apply(&m);
}

/* ---- LargeItemOffered ------------------------------------------------------ */

static const char s_sql_large[] =
    "WITH b AS (SELECT bounty.board_for('large', bounty.board_scope($7)) AS id,"
    "                  bounty.board_scope($7) AS community),"
    " l AS ("
    "  INSERT INTO bounty.large_item (id, board_id, first_board_id, item_id, title, body, category,"
    "                                 community, org_unit, meeting_id, appeal_count)"
    "  SELECT $1::uuid, b.id, b.id, $2::uuid, $3, $4, $5, b.community, $6, $8::uuid, $9::int"
    "    FROM b"
    "  ON CONFLICT (item_id) DO NOTHING"
    "  RETURNING id)"
    " INSERT INTO bounty.large_item_event (item_id, action, status, actor, actor_kind, note)"
    " SELECT l.id, 'offered', 'open', $10, 'service', 'offered by meeting ' || coalesce($8::text, "
    "'?')"
    "   FROM l"
    " RETURNING item_id::text";

static void s_offered_rows(void *arg, const PGresult *res)
{
    bounty_t *b = arg;
    if (PQntuples(res) > 0) {
        hl_metric_add(b->offered, 1);
        hl_info("large_item", PQgetvalue(res, 0, 0), "offered on this quarter's board");
    }
}

const char *bounty_large_offer_check(const void *msg)
{
    const Hl__LargeItemOffered *o = msg;
    if (!o)
        return "payload is not a LargeItemOffered";
    if (!o->item_id || !hl_uuid_valid(o->item_id))
        return "item_id is missing or not a UUID";
    if (!o->title || hl_utf8_len(o->title) < 1 || hl_utf8_len(o->title) > BOUNTY_TITLE_MAX)
        return "title must be 1 to 200 characters of valid UTF-8";
    if (!o->body || hl_utf8_len(o->body) < 1 || hl_utf8_len(o->body) > BOUNTY_BODY_MAX)
        return "body must be 1 to 5000 characters of valid UTF-8";
    if (o->category && *o->category && !bounty_code_valid(o->category))
        return "category is not a category code";
    if (o->community && *o->community && !bounty_code_valid(o->community))
        return "community is not an org unit code";
    if (o->org_unit && *o->org_unit && !bounty_code_valid(o->org_unit))
        return "org_unit is not an org unit code";
    if (o->meeting_id && *o->meeting_id && !hl_uuid_valid(o->meeting_id))
        return "meeting_id is not a UUID";
    if (o->has_appeal_count && o->appeal_count < 0)
        return "appeal_count is negative";
    return NULL;
}

static const char *s_or_null(const char *s)
{
    return s && *s ? s : NULL;
}

static void s_large_offered(hl_inmsg_t *m, const void *payload, void *arg)
{
    bounty_t *b = arg;
    const Hl__LargeItemOffered *o = payload;
    char id[HL_UUID_LEN + 1], count[16];
    hl_uuid_new(id);
    snprintf(count, sizeof count, "%d", o->has_appeal_count ? (int)o->appeal_count : 0);
    HL_DBU(m->unit, s_sql_large, s_offered_rows, b, id, o->item_id, o->title, o->body,
           s_or_null(o->category), s_or_null(o->org_unit), o->community ? o->community : "",
           s_or_null(o->meeting_id), count, s_actor(m, "hl-alliance"));
    hl_inmsg_apply(&m);
}

int bounty_post_consume(bounty_t *b)
{
    const hl_msg_handler_t handlers[] = {
        {&hl__wish_posted__descriptor, s_wish_check, s_wish_posted, b, NULL},
        {&hl__large_item_offered__descriptor, bounty_large_offer_check, s_large_offered, b, NULL},
        {&hl__large_item_action__descriptor, bounty_large_action_check, bounty_large_action, b,
         NULL},
    };
    return hl_pipeline_consume_msgs(b->svc->pipeline, HL_STAGE_BOUNTY, handlers,
                                    sizeof handlers / sizeof handlers[0]);
}
