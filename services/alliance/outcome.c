/* outcome.c: POST /v1/meetings/{id}/outcomes — the joint meeting records
 * what it decided on one agenda item, possibly naming the member unit that
 * took it on. One unit of work resolves the item (alliance.record_outcome,
 * which resolves a pending item only, so a second outcome for the same item
 * fails with 409 and rolls back) and writes the ItemResolved message for
 * hl-triage on the "resolution" stage: the outcome and its message commit
 * together or not at all. The caller is answered after that commit. A
 * member unit named must exist (422 unit) and have a function domain that
 * fits the item's category (403, rule function_domain). */
#include "alliance.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char s_sql_record[] = "SELECT alliance.record_outcome($1::uuid, $2::uuid, $3, $4,"
                                   " timestamptz 'epoch' + $5::bigint * interval '1 microsecond')";

/* ItemResolved goes out only for an item hl-triage knows (not a community's direct add). */
static const char s_guard_escalated[] =
    "SELECT 1 FROM alliance.agenda_item WHERE $1::uuid IS NOT NULL AND item_id = $2::uuid"
    " AND source = 'escalated'";

typedef struct {
    alliance_t *al;                /* service */
    hl_http_req_t *req;            /* suspended request */
    json_t *body;                  /* the parsed request, owned */
    alliance_outcome_t o;          /* fields, pointing into body */
    char meeting[HL_UUID_LEN + 1]; /* the meeting */
    const char *resolved_by;       /* unit code or "joint meeting" */
    int64_t resolved_at_us;        /* stored and sent */
} s_post_t;

static void s_post_free(s_post_t *p)
{
    json_decref(p->body);
    free(p);
}

static void s_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_post_t *p = arg;
    if (rc == 0) {
        hl_metric_add(p->al->resolved, 1);
        hl_info("item", p->o.item_id, "resolved by %s at joint meeting %s", p->resolved_by,
                p->meeting);
        hl_http_reply_json(p->req, 200,
                           json_pack("{s:s, s:s, s:s, s:s}", "item_id", p->o.item_id, "status",
                                     "resolved", "meeting_id", p->meeting, "resolved_by",
                                     p->resolved_by));
    } else {
        alliance_reply_dberr(p->al, p->req, rc, err, "record the outcome");
    }
    s_post_free(p);
}

void alliance_outcome_post(hl_http_req_t *req, void *arg)
{
    alliance_t *al = arg;
    char id[HL_REQ_ID_MAX];
    if (!hl_req_path_id(req, 0, HL_REQ_ID_UUID, "joint meeting", id))
        return;
    json_t *body = hl_http_json_body(req);
    if (!body) {
        hl_metric_add(al->refused, 1);
        return;
    }
    s_post_t *p = hl_calloc(1, sizeof *p);
    p->al = al;
    p->req = req;
    p->body = body;
    hl_refusal_t why;
    if (alliance_outcome_parse(body, &p->o, &why) != 0) {
        hl_metric_add(al->refused, 1);
        hl_req_reply(req, &why);
        s_post_free(p);
        return;
    }
    memcpy(p->meeting, id, HL_UUID_LEN);
    p->resolved_by = p->o.unit ? p->o.unit : "joint meeting";
    p->resolved_at_us = hl_time_us();
    hl_http_suspend(req);

    char at[24];
    snprintf(at, sizeof at, "%" PRId64, p->resolved_at_us);
    hl_dbu_t *u = hl_dbu_new(al->svc->db, s_done, p);
    HL_DBU(u, s_sql_record, NULL, NULL, p->meeting, p->o.item_id, p->o.outcome, p->o.unit, at);
    Hl__ItemResolved msg_out = HL__ITEM_RESOLVED__INIT;
    msg_out.item_id = (char *)p->o.item_id;
    msg_out.outcome = (char *)p->o.outcome;
    msg_out.resolved_by = (char *)p->resolved_by;
    msg_out.has_resolved_at_us = 1;
    msg_out.resolved_at_us = p->resolved_at_us;
    char msg_id[HL_UUID_LEN + 1];
    hl_uuid_new(msg_id);
    hl_pipeline_send_if(al->svc->pipeline, u, HL_STAGE_RESOLUTION, p->o.item_id, &msg_out.base,
                        msg_id, s_guard_escalated, p->o.item_id);
    hl_dbu_submit(&u);
}
