/* award.c: the "points" stage consumer. hl-bounty sends PointsAwarded once
 * the community approved a completed task; here each award becomes one
 * ledger row and moves the account's balance (and the credited org unit's)
 * in the same statement, inside the message's own unit, so the claim, the
 * row and the balances commit together. An award_id seen before (the same
 * award re-sent under a new message id) inserts nothing and so moves no
 * balance; a message delivered twice is stopped earlier by the claim. */
#include "points.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* The balances change only for rows the ledger insert really inserted:
 * `ins` is empty when the award_id was recorded before. */
static const char s_sql_award[] =
    "WITH ins AS ("
    "  INSERT INTO points.ledger (award_id, account, amount, reason, source_kind, source_id,"
    "                             org_unit, awarded_at, message_id)"
    "  VALUES ($1::uuid, $2, $3::int, $4, $5, $6, $7,"
    "          coalesce(timestamptz 'epoch' + $8::bigint * interval '1 microsecond', now()),"
    "          $9::uuid)"
    "  ON CONFLICT (award_id) DO NOTHING"
    "  RETURNING account, amount, org_unit),"
    " by_account AS ("
    "  INSERT INTO points.balance AS b (account, balance, awards)"
    "  SELECT account, amount, 1 FROM ins"
    "  ON CONFLICT (account) DO UPDATE"
    "     SET balance = b.balance + EXCLUDED.balance, awards = b.awards + 1, updated_at = now()),"
    " by_unit AS ("
    "  INSERT INTO points.org_unit_balance AS o (org_unit, balance, awards)"
    "  SELECT org_unit, amount, 1 FROM ins WHERE org_unit IS NOT NULL"
    "  ON CONFLICT (org_unit) DO UPDATE"
    "     SET balance = o.balance + EXCLUDED.balance, awards = o.awards + 1, updated_at = now())"
    " SELECT count(*) FROM ins";

/* What the after-commit row callback needs; kept alive by the unit. */
typedef struct {
    points_t *pt;                     /* service */
    char award_id[HL_UUID_LEN + 1];   /* the award */
    char message_id[HL_UUID_LEN + 1]; /* the message that carried it */
} s_award_t;

static void s_award_rows(void *arg, const PGresult *res)
{
    s_award_t *a = arg;
    if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "1") == 0) {
        hl_metric_add(a->pt->recorded, 1);
        hl_debug("award", a->award_id, "recorded award");
        return;
    }
    hl_metric_add(a->pt->repeated, 1);
    hl_info("award", a->award_id, "award was recorded already: message %s changed no balance",
            a->message_id);
}

static const char *s_or_null(const char *s)
{
    return s && *s ? s : NULL;
}

static void s_awarded(hl_inmsg_t *m, void *arg)
{
    points_t *pt = arg;
    Hl__PointsAwarded *a =
        hl__points_awarded__unpack(NULL, m->env->payload.len, m->env->payload.data);
    char why[160];
    if (!points_award_check(a, why, sizeof why)) {
        char reason[200];
        snprintf(reason, sizeof reason, "PointsAwarded refused: %s", why);
        if (a)
            hl__points_awarded__free_unpacked(a, NULL);
        hl_inmsg_reject(&m, reason);
        return;
    }
    s_award_t st = {.pt = pt};
    snprintf(st.award_id, sizeof st.award_id, "%s", a->award_id);
    snprintf(st.message_id, sizeof st.message_id, "%s", m->env->id);
    s_award_t *kept = hl_dbu_keep(m->unit, &st, sizeof st);
    char amount[16], at[24];
    snprintf(amount, sizeof amount, "%d", (int)a->amount);
    snprintf(at, sizeof at, "%" PRId64, m->env->created_at_us);
    HL_DBU(m->unit, s_sql_award, s_award_rows, kept, a->award_id, a->account, amount, a->reason,
           s_or_null(a->source_kind), s_or_null(a->source_id), s_or_null(a->org_unit),
           m->env->has_created_at_us && m->env->created_at_us > 0 ? at : NULL, m->env->id);
    hl__points_awarded__free_unpacked(a, NULL);
    hl_inmsg_apply(&m);
}

int points_award_consume(points_t *pt)
{
    const hl_handler_t handlers[] = {
        {"PointsAwarded", s_awarded, pt},
    };
    return hl_pipeline_consume(pt->svc->pipeline, HL_STAGE_POINTS, handlers,
                               sizeof handlers / sizeof handlers[0]);
}
