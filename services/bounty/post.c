/* post.c: the "bounty" stage consumer. hl-triage sends each micro-wish as
 * a WishPosted; here it goes on the board of the month it arrives in. The
 * board row is created by the first wish of the month (INSERT ... ON
 * CONFLICT DO NOTHING, so concurrent posters agree on one board), and the
 * wish refers to it by a subquery, all in the message's own unit after its
 * claim. The wish's item_id is unique: a second WishPosted for the same
 * item, even under a new message id, posts nothing. A wish anchored below a
 * compound is lifted to its compound; one anchored above a compound, or to
 * an unknown unit, is refused by the database (HL400) and dead-lettered. */
#include "bounty.h"

#include <stdio.h>
#include <string.h>

static const char s_sql_board[] = "INSERT INTO bounty.board (kind, period_start)"
                                  " VALUES ('wish', " BOUNTY_SQL_THIS_MONTH ")"
                                  " ON CONFLICT (kind, period_start) DO NOTHING";

static const char s_sql_wish[] =
    "WITH w AS ("
    "  INSERT INTO bounty.wish (id, board_id, item_id, appeal_id, org_unit, category, title, body,"
    "                           points)"
    "  VALUES ($1::uuid,"
    "          (SELECT id FROM bounty.board"
    "            WHERE kind = 'wish' AND period_start = " BOUNTY_SQL_THIS_MONTH "),"
    "          $2::uuid, $3::uuid, bounty.compound_of($4), $5, $6, $7, $8::int)"
    "  ON CONFLICT (item_id) DO NOTHING"
    "  RETURNING id)"
    " INSERT INTO bounty.wish_event (wish_id, action, status, actor, note)"
    " SELECT w.id, 'posted', 'open', $9,"
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

static void s_wish_posted(hl_inmsg_t *m, void *arg)
{
    bounty_t *b = arg;
    Hl__WishPosted *msg = hl__wish_posted__unpack(NULL, m->env->payload.len, m->env->payload.data);
    bounty_wish_t w;
    const char *why = bounty_wish_check(msg, (int)b->cfg->wish_points, &w);
    if (why) {
        if (msg)
            hl__wish_posted__free_unpacked(msg, NULL);
        hl_inmsg_reject(&m, why);
        return;
    }
    char id[HL_UUID_LEN + 1], points[16];
    hl_uuid_new(id);
    snprintf(points, sizeof points, "%d", w.points);
    const char *actor = m->env->producer && *m->env->producer ? m->env->producer : "hl-triage";
    hl_dbu_stmt(m->unit, s_sql_board, 0, NULL, NULL, NULL, false, NULL, NULL);
    HL_DBU(m->unit, s_sql_wish, s_posted_rows, b, id, w.item_id, w.appeal_id, w.org_unit,
           w.category, w.title, w.body, points, actor);
    hl__wish_posted__free_unpacked(msg, NULL);
    hl_inmsg_apply(&m);
}

int bounty_post_consume(bounty_t *b)
{
    const hl_handler_t handlers[] = {
        {"WishPosted", s_wish_posted, b},
    };
    return hl_pipeline_consume(b->svc->pipeline, HL_STAGE_BOUNTY, handlers,
                               sizeof handlers / sizeof handlers[0]);
}
