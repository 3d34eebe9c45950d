/* status.c: the "status" stage consumer. hl-triage reports how each appeal
 * was classified and routed (TriageDecision) and when its item was resolved
 * (ItemResolved, with the appeal ids); here that becomes the status and the
 * history a resident sees with their tracking code; route "escalated"
 * (an item that climbed a level) shows as status escalated. Statuses only
 * move forward (intake.status_next), so messages arriving out of order
 * never undo a later step — except that a reopened appeal (feedback.c) is
 * moved on by its item's new escalation or resolution, a new round. */
#include "intake.h"

#include <stdio.h>
#include <string.h>

/* The decision and its two history steps in one statement (one of the
 * statements every appeal costs PostgreSQL; an unknown appeal changes
 * nothing). */
static const char s_sql_decision[] =
    "WITH u AS (UPDATE intake.appeal SET size = $2, item_id = $3::uuid, updated_at = now(),"
    " status = intake.status_next(status,"
    "          CASE WHEN $4 = 'escalated' THEN 'escalated' ELSE 'routed' END)"
    " WHERE id = $1::uuid RETURNING id)"
    " INSERT INTO intake.appeal_event (appeal_id, status, detail)"
    " SELECT u.id, v.s, v.d FROM u, (VALUES (1, 'classified', $5), (2, 'routed', $6)) v(n, s, d)"
    " ORDER BY v.n";
static const char s_sql_resolved[] = "UPDATE intake.appeal SET updated_at = now(),"
                                     " status = intake.status_next(status, 'resolved')"
                                     " WHERE id = ANY($1::uuid[])";
static const char s_sql_resolved_events[] =
    "INSERT INTO intake.appeal_event (appeal_id, status, detail)"
    " SELECT id, 'resolved', $2 FROM intake.appeal WHERE id = ANY($1::uuid[])";

const char *intake_decision_check(const void *msg)
{
    const Hl__TriageDecision *d = msg;
    if (!d || !hl_uuid_valid(d->appeal_id) || !hl_uuid_valid(d->item_id) || !d->size || !d->route)
        return "TriageDecision lacks appeal_id, item_id, size or route";
    return NULL;
}

const char *intake_resolved_check(const void *msg)
{
    const Hl__ItemResolved *r = msg;
    if (!r || r->n_appeal_ids == 0)
        return "ItemResolved on the status stage must list appeal_ids";
    for (size_t i = 0; i < r->n_appeal_ids; i++)
        if (!hl_uuid_valid(r->appeal_ids[i]))
            return "ItemResolved has a malformed appeal id";
    return NULL;
}

static void s_decision(hl_inmsg_t *m, const void *msg, void *arg)
{
    (void)arg;
    const Hl__TriageDecision *d = msg;
    char classified[128], routed[128];
    snprintf(classified, sizeof classified, "%s%s%s", d->size, d->category ? ", " : "",
             d->category ? d->category : "");
    snprintf(routed, sizeof routed, "to %s", d->route);
    HL_DBU(m->unit, s_sql_decision, NULL, NULL, d->appeal_id, d->size, d->item_id, d->route,
           classified, routed);
    hl_inmsg_apply(&m);
}

static void s_resolved(hl_inmsg_t *m, const void *msg, void *arg)
{
    (void)arg;
    const Hl__ItemResolved *r = msg;
    hl_buf_t ids = {0};
    hl_buf_append(&ids, "{", 1);
    for (size_t i = 0; i < r->n_appeal_ids; i++)
        hl_buf_printf(&ids, "%s%s", i ? "," : "", r->appeal_ids[i]);
    hl_buf_append(&ids, "}", 1);
    char detail[256];
    hl_text_cut(detail, sizeof detail, r->outcome ? r->outcome : "resolved", 200);
    HL_DBU(m->unit, s_sql_resolved, NULL, NULL, ids.data);
    HL_DBU(m->unit, s_sql_resolved_events, NULL, NULL, ids.data, detail);
    hl_buf_close(&ids);
    hl_inmsg_apply(&m);
}

int intake_status_consume(intake_t *in)
{
    const hl_msg_handler_t handlers[] = {
        {&hl__triage_decision__descriptor, intake_decision_check, s_decision, in},
        {&hl__item_resolved__descriptor, intake_resolved_check, s_resolved, in},
    };
    return hl_pipeline_consume_msgs(in->svc->pipeline, HL_STAGE_STATUS, handlers,
                                    sizeof handlers / sizeof handlers[0]);
}
