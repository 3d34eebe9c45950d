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

/* Decisions and their two history steps each (classified, routed) in one
 * statement, for one decision or a batch of them (the statement every
 * appeal costs PostgreSQL here; an unknown appeal changes nothing). The
 * arrays are parallel; events keep the decisions' order. */
static const char s_sql_decisions[] =
    "WITH d AS (SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[],"
    "                                $6::text[]) WITH ORDINALITY"
    "             AS d(appeal, size, item, route, classified, routed, n)),"
    " u AS (UPDATE intake.appeal a SET size = d.size, item_id = d.item, updated_at = now(),"
    "        status = intake.status_next(a.status,"
    "                 CASE WHEN d.route = 'escalated' THEN 'escalated' ELSE 'routed' END)"
    "       FROM d WHERE a.id = d.appeal RETURNING a.id, d.n, d.classified, d.routed)"
    " INSERT INTO intake.appeal_event (appeal_id, status, detail)"
    " SELECT u.id, v.s, CASE v.k WHEN 1 THEN u.classified ELSE u.routed END"
    "   FROM u, (VALUES (1, 'classified'), (2, 'routed')) v(k, s) ORDER BY u.n, v.k";
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

/* Adds the statement recording the decisions of messages m[0 .. n-1]. */
static void s_decisions(hl_dbu_t *u, hl_inmsg_t *const *m, size_t n)
{
    hl_buf_t col[6] = {{0}};
    for (size_t i = 0; i < n; i++) {
        const Hl__TriageDecision *d = m[i]->payload;
        char classified[128], routed[128];
        snprintf(classified, sizeof classified, "%s%s%s", d->size, d->category ? ", " : "",
                 d->category ? d->category : "");
        snprintf(routed, sizeof routed, "to %s", d->route);
        const char *v[6] = {d->appeal_id, d->size, d->item_id, d->route, classified, routed};
        for (int c = 0; c < 6; c++)
            hl_buf_pgarray_add(&col[c], v[c]);
    }
    for (int c = 0; c < 6; c++)
        hl_buf_pgarray_end(&col[c]);
    HL_DBU(u, s_sql_decisions, NULL, NULL, col[0].data, col[1].data, col[2].data, col[3].data,
           col[4].data, col[5].data);
    for (int c = 0; c < 6; c++)
        hl_buf_close(&col[c]);
}

static void s_decision(hl_inmsg_t *m, const void *msg, void *arg)
{
    (void)msg;
    (void)arg;
    s_decisions(m->unit, &m, 1);
    hl_inmsg_apply(&m);
}

/* A burst of decisions, one statement, up to the first appeal decided twice
 * in it (its second decision must follow the first: the next batch). */
static size_t s_decision_batch(const hl_batch_t *b, void *arg)
{
    (void)arg;
    size_t k = 1;
    for (; k < b->n; k++) {
        const Hl__TriageDecision *d = b->m[k]->payload;
        bool again = false;
        for (size_t j = 0; j < k && !again; j++)
            again = strcmp(((const Hl__TriageDecision *)b->m[j]->payload)->appeal_id,
                           d->appeal_id) == 0;
        if (again)
            break;
    }
    s_decisions(b->unit, b->m, k);
    return k;
}

static void s_resolved(hl_inmsg_t *m, const void *msg, void *arg)
{
    (void)arg;
    const Hl__ItemResolved *r = msg;
    hl_buf_t ids = {0};
    for (size_t i = 0; i < r->n_appeal_ids; i++)
        hl_buf_pgarray_add(&ids, r->appeal_ids[i]);
    hl_buf_pgarray_end(&ids);
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
        {&hl__triage_decision__descriptor, intake_decision_check, s_decision, in, s_decision_batch},
        {&hl__item_resolved__descriptor, intake_resolved_check, s_resolved, in, NULL},
    };
    return hl_pipeline_consume_msgs(in->svc->pipeline, HL_STAGE_STATUS, handlers,
                                    sizeof handlers / sizeof handlers[0]);
}
