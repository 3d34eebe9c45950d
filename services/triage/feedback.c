/* feedback.c: the "feedback" stage consumer. hl-intake sends AppealFeedback
 * when a resident confirms or reopens a resolved appeal with their tracking
 * code (DOMAIN.md: "The resident is notified through their tracking status
 * and can confirm or reopen; a reopened item comes back to the council, and
 * a second reopening escalates it").
 *
 * Every message becomes a triage.feedback row. A confirmation changes
 * nothing else. A reopening of a resolved small item (route council) is
 * read first (the item, its appeals, its place), then in the message's own
 * unit:
 *
 *   - the first reopening sends the item back to its council:
 *     triage.item_reopen() routes it again with a new "hear" deadline, the
 *     council row is reset to pending for a new hearing (its earlier
 *     record is kept in triage.feedback.hearing), and each appeal gets a
 *     TriageDecision with route "council";
 *   - the second (and any later) reopening escalates it: it becomes a
 *     large item routed to the alliance and climbs one level through
 *     triage_escalate_add (escalate.c): escalation row with reason
 *     "reopened", TriageDecision "escalated" per appeal, ItemEscalated with
 *     reason "reopened twice".
 *
 * triage.item_reopen() names the version read and raises 40001 when the
 * item moved meanwhile, so the message is left for re-delivery and re-read.
 * A reopening of an item that is not resolved (another appeal of it
 * reopened it first), of a large item or wish, or of an unknown item is
 * only recorded. Redelivery is a no-op through the claim. */
#include "triage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_REASON_MAX 500 /* characters, as hl-intake checks */

/* One reopening being applied. */
typedef struct {
    triage_t *t;                  /* service */
    hl_inmsg_t *m;                /* the message */
    const Hl__AppealFeedback *fb; /* its payload, freed with the message */
    triage_item_t it;             /* the item read, owned; it.id NULL when none */
} s_reopen_t;

static const char s_sql_record[] =
    "INSERT INTO triage.feedback (id, appeal_id, item_id, kind, reason, effect, hearing, at)"
    " VALUES ($1::uuid, $2::uuid, (SELECT id FROM triage.item WHERE id = $3::uuid), $4, $5, "
    "$6::text,"
    " CASE WHEN $6::text = 'council' THEN (SELECT to_jsonb(k) - 'id' - 'item_id' FROM "
    "triage.council k"
    "   WHERE k.item_id = $3::uuid) END,"
    " to_timestamp($7::float8 / 1e6))";
static const char s_sql_item[] =
    "SELECT " TRIAGE_ITEM_COLUMNS " FROM triage.item_context"
    " WHERE id = COALESCE((SELECT item_id FROM triage.case WHERE appeal_id = $1::uuid),"
    "  NULLIF($2, '')::uuid)";
static const char s_sql_reopen[] = "SELECT triage.item_reopen($1::uuid, $2::int, $3::boolean,"
                                   " now() + make_interval(secs => $4::float8))";
static const char s_sql_council_reset[] =
    "INSERT INTO triage.council (id, item_id) VALUES ($1::uuid, $2::uuid)"
    " ON CONFLICT (item_id) DO UPDATE SET venue = NULL, venue_code = NULL, heard_at = NULL,"
    " attendees = NULL, decision = NULL, outcome = NULL, assignee = NULL, due_date = NULL,"
    " recorded_at = NULL, created_at = now()";

static void s_free(s_reopen_t *r)
{
    triage_item_close(&r->it);
    free(r);
}

static void s_record(hl_inmsg_t *m, const Hl__AppealFeedback *fb, const char *item_id,
                     const char *effect)
{
    char id[HL_UUID_LEN + 1], at[24];
    hl_uuid_new(id);
    snprintf(at, sizeof at, "%lld", (long long)(fb->has_at_us ? fb->at_us : hl_time_us()));
    const char *reason = fb->reason && *fb->reason ? fb->reason : NULL;
    HL_DBU(m->unit, s_sql_record, NULL, NULL, id, fb->appeal_id,
           item_id ? item_id : (fb->item_id && *fb->item_id ? fb->item_id : NULL), fb->kind, reason,
           effect, at);
}

static void s_item_rows(void *arg, const PGresult *res)
{
    s_reopen_t *r = arg;
    if (PQntuples(res) != 1)
        return;
    triage_item_fill(&r->it, res, 0);
}

/* Adds the reopening's effects to m->unit. */
static void s_reopen(s_reopen_t *r)
{
    triage_t *t = r->t;
    hl_inmsg_t *m = r->m;
    const triage_item_t *c = &r->it;
    bool escalate = atoi(c->reopens) + 1 >= 2;
    char offset[24];
    snprintf(offset, sizeof offset, "%lld", t->cfg->clock_offset_s);
    HL_DBU(m->unit, s_sql_reopen, NULL, NULL, c->id, c->version, escalate ? "true" : "false",
           offset);
    s_record(m, r->fb, c->id, escalate ? "escalated" : "council");
    if (escalate) {
        triage_climb_t climb = triage_climb_of(c);
        climb.size = "large";
        climb.due = NULL;
        const char *to = triage_escalate_add(t, m->unit, &climb, "reopened", "reopened twice");
        hl_info("item", c->id, "reopened again by a resident: escalated to %s, alliance", to);
        return;
    }
    char council[HL_UUID_LEN + 1];
    hl_uuid_new(council);
    HL_DBU(m->unit, s_sql_council_reset, NULL, NULL, council, c->id);
    char *appeals = hl_strdup(c->appeals ? c->appeals : "");
    for (char *save = NULL, *a = strtok_r(appeals, ",", &save); a; a = strtok_r(NULL, ",", &save))
        triage_route_tell(t, m->unit, a, c->id, c->size, c->category, "council", c->target);
    free(appeals);
    hl_info("item", c->id, "reopened by a resident: back to the council of %s", c->target);
}

static void s_read_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_reopen_t *r = arg;
    hl_inmsg_t *m = r->m;
    if (rc != 0) {
        triage_inmsg_defer(r->t, &m, err->message);
    } else {
        const triage_item_t *c = &r->it;
        if (c->id && c->status && strcmp(c->status, "resolved") == 0 && c->route &&
            strcmp(c->route, "council") == 0 && c->reopens && c->version) {
            s_reopen(r);
        } else {
            hl_info("appeal", r->fb->appeal_id,
                    "reopening recorded only: item %s is %s (%s), not a resolved council item",
                    c->id ? c->id : "unknown", c->status ? c->status : "-",
                    c->route ? c->route : "-");
            s_record(m, r->fb, c->id, "recorded");
        }
        hl_inmsg_apply(&m);
    }
    s_free(r);
}

bool triage_feedback_check(const Hl__AppealFeedback *fb, char *why, size_t len)
{
    const char *bad = NULL;
    if (!fb || !hl_uuid_valid(fb->appeal_id))
        bad = "AppealFeedback lacks a valid appeal_id";
    else if (fb->item_id && *fb->item_id && !hl_uuid_valid(fb->item_id))
        bad = "AppealFeedback has a malformed item_id";
    else if (!fb->kind || (strcmp(fb->kind, "confirm") != 0 && strcmp(fb->kind, "reopen") != 0))
        bad = "AppealFeedback kind must be confirm or reopen";
    else
        return hl_text_check("reason", fb->reason, S_REASON_MAX, strcmp(fb->kind, "reopen") == 0,
                             true, why, len);
    snprintf(why, len, "%s", bad);
    return false;
}

const char *triage_feedback_problem(const void *msg)
{
    static _Thread_local char why[160];
    return triage_feedback_check(msg, why, sizeof why) ? NULL : why;
}

static void s_feedback(hl_inmsg_t *m, const void *msg, void *arg)
{
    triage_t *t = arg;
    const Hl__AppealFeedback *fb = msg;
    if (strcmp(fb->kind, "confirm") == 0) {
        s_record(m, fb, NULL, "recorded");
        hl_inmsg_apply(&m);
        return;
    }
    s_reopen_t *r = hl_calloc(1, sizeof *r);
    r->t = t;
    r->m = m;
    r->fb = fb;
    hl_dbu_t *u = hl_dbu_new(t->svc->db, s_read_done, r);
    HL_DBU(u, s_sql_item, s_item_rows, r, fb->appeal_id, fb->item_id ? fb->item_id : "");
    hl_dbu_submit(&u);
}

int triage_feedback_consume(triage_t *t)
{
    const hl_msg_handler_t handlers[] = {
        {&hl__appeal_feedback__descriptor, triage_feedback_problem, s_feedback, t, NULL}};
    return hl_pipeline_consume_msgs(t->svc->pipeline, HL_STAGE_FEEDBACK, handlers,
                                    sizeof handlers / sizeof handlers[0]);
}
