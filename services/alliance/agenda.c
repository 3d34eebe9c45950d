/* agenda.c: the "alliance" stage consumer. hl-triage escalates a large item
 * (sorted large, or overdue at the top of the hierarchy) as ItemEscalated;
 * here it goes on the agenda of the next planned joint meeting, and a
 * meeting HL_MEETING_INTERVAL_DAYS ahead is planned when none is. Both steps
 * run inside alliance.place_item() in the message's own unit, under row
 * locks and a one-planned-meeting-per-day index, so replicas escalating at
 * once share one meeting and an item escalated twice keeps one agenda
 * place. Outcomes travel back to hl-triage from outcome.c. */
#include "alliance.h"

#include <stdio.h>
#include <string.h>

static const char s_sql_place[] =
    "SELECT alliance.place_item($1::uuid, $2::int, $3::uuid, $4, $5, $6, $7, $8::int, $9::int,"
    " $10)::text";

/* What the after-commit row callback needs; kept alive by the unit. */
typedef struct {
    alliance_t *al;                /* service */
    char item_id[HL_UUID_LEN + 1]; /* the item */
} s_place_t;

static void s_place_rows(void *arg, const PGresult *res)
{
    s_place_t *p = arg;
    hl_metric_add(p->al->placed, 1);
    if (PQntuples(res) == 1)
        hl_info("item", p->item_id, "on the agenda of joint meeting %s", PQgetvalue(res, 0, 0));
}

static const char *s_or_null(const char *s)
{
    return s && *s ? s : NULL;
}

static void s_escalated(hl_inmsg_t *m, void *arg)
{
    alliance_t *al = arg;
    Hl__ItemEscalated *e =
        hl__item_escalated__unpack(NULL, m->env->payload.len, m->env->payload.data);
    char why[160];
    if (!alliance_escalation_check(e, why, sizeof why)) {
        char reason[200];
        snprintf(reason, sizeof reason, "ItemEscalated refused: %s", why);
        if (e)
            hl__item_escalated__free_unpacked(e, NULL);
        hl_inmsg_reject(&m, reason);
        return;
    }
    /* A title of 200 characters may take 4 bytes each. */
    char title[ALLIANCE_TITLE_MAX * 4 + 1];
    alliance_item_title(e, title, sizeof title);
    char meeting[HL_UUID_LEN + 1], interval[16], level[16], count[16];
    hl_uuid_new(meeting); /* used only if a meeting must be planned */
    snprintf(interval, sizeof interval, "%lld", al->cfg->meeting_interval_days);
    snprintf(level, sizeof level, "%d", e->has_level ? (int)e->level : 0);
    snprintf(count, sizeof count, "%d", e->has_appeal_count ? (int)e->appeal_count : 0);
    s_place_t st = {.al = al};
    snprintf(st.item_id, sizeof st.item_id, "%s", e->item_id);
    s_place_t *kept = hl_dbu_keep(m->unit, &st, sizeof st);
    HL_DBU(m->unit, s_sql_place, s_place_rows, kept, meeting, interval, e->item_id, title,
           s_or_null(e->body), s_or_null(e->category), s_or_null(e->org_unit), level, count,
           s_or_null(e->reason));
    hl__item_escalated__free_unpacked(e, NULL);
    hl_inmsg_apply(&m);
}

int alliance_agenda_consume(alliance_t *al)
{
    const hl_handler_t handlers[] = {
        {"ItemEscalated", s_escalated, al},
    };
    return hl_pipeline_consume(al->svc->pipeline, HL_STAGE_ALLIANCE, handlers,
                               sizeof handlers / sizeof handlers[0]);
}
