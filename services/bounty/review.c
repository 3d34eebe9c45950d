/* review.c: the community's review of a completed wish, the only step that
 * produces pipeline messages.
 *
 * A read first checks the reviewer (a community, the one the wish's compound
 * belongs to) and collects what the messages carry. Approval then writes,
 * in one unit: the wish approved with a fresh award id, its history step,
 * PointsAwarded for hl-points (stage "points") and TaskApproved for
 * hl-triage (stage "resolution"). The UPDATE is guarded by status =
 * 'completed' and by the claimant and evidence the read saw, and
 * bounty.expect_changed() fails the whole unit when the guard matched
 * nothing, so a concurrent review (or a reject and re-completion between
 * our read and our write) can never leave messages for a transition that did
 * not happen: points are awarded once, after approval, or not at all.
 * Rejection sends the wish back to 'claimed' with the reviewer's note. */
#include "bounty.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One review in flight. */
typedef struct {
    bounty_t *b;                    /* service */
    hl_http_req_t *req;             /* suspended request */
    json_t *json;                   /* the parsed body, owned; strings below point into it */
    const char *reviewer;           /* the community reviewing */
    const char *note;               /* optional note */
    bool approve;                   /* decision */
    char id[HL_UUID_LEN + 1];       /* the wish */
    bounty_review_facts_t facts;    /* what the read found */
    PGresult *wish;                 /* the read's row (copied), owned */
    char award_id[HL_UUID_LEN + 1]; /* new award id (approval) */
    int points;                     /* points awarded (approval) */
} s_review_t;

/* Columns of s_sql_facts. */
enum {
    S_STATUS,         /* the wish's status */
    S_COMMUNITY,      /* community of its compound */
    S_REVIEWER_LEVEL, /* org unit level of the reviewer, NULL if unknown */
    S_TITLE,          /* for the award's reason */
    S_POINTS,         /* points on offer */
    S_CLAIMANT,       /* who completed it */
    S_EVIDENCE,       /* what they reported */
    S_ITEM_ID,        /* triage item */
    S_APPEAL_ID,      /* first appeal, may be NULL (trace id) */
    S_AWARD_UNIT,     /* compound the award is credited to */
};

static void s_review_free(s_review_t *r)
{
    json_decref(r->json);
    PQclear(r->wish);
    free(r);
}

static const char *s_col(const s_review_t *r, int col)
{
    return PQgetisnull(r->wish, 0, col) ? NULL : PQgetvalue(r->wish, 0, col);
}

/* The wish, its community, the reviewer's level and the compound the award
 * is credited to: the claimant's own compound when the claimant is a grid
 * organisation, else the wish's. */
static const char s_sql_facts[] =
    "SELECT w.status, c.parent, r.level, w.title, w.points, w.claimant, w.evidence,"
    "       w.item_id::text, w.appeal_id::text,"
    "       coalesce(CASE cu.level WHEN 'compound' THEN cu.code"
    "                              WHEN 'micro_grid' THEN cu.parent END, w.org_unit)"
    "  FROM bounty.wish w"
    "  JOIN org.org_unit c ON c.code = w.org_unit"
    "  LEFT JOIN org.org_unit r ON r.code = $2"
    "  LEFT JOIN org.org_unit cu ON w.claimant_kind = 'org_unit' AND cu.code = w.claimant"
    " WHERE w.id = $1::uuid";

static const char s_sql_approve[] =
    "WITH u AS ("
    "  UPDATE bounty.wish SET status = 'approved', reviewer = $2, review_note = $3,"
    "         award_id = $4::uuid,"
    "         reviewed_at = 'epoch'::timestamptz + $5::bigint * interval '1 microsecond'"
    "   WHERE id = $1::uuid AND status = 'completed' AND claimant = $6 AND evidence = $7"
    "  RETURNING id, reviewed_at),"
    " e AS ("
    "  INSERT INTO bounty.wish_event (wish_id, at, action, status, actor, note)"
    "  SELECT id, reviewed_at, 'approved', 'approved', $2, $3 FROM u)"
    " SELECT bounty.expect_changed((SELECT count(*) FROM u),"
    "                              'wish ' || $1 || ' is no longer the completed wish reviewed')";

static const char s_sql_reject[] =
    "WITH u AS ("
    "  UPDATE bounty.wish SET status = 'claimed', reviewer = $2, review_note = $3,"
    "         reviewed_at = now()"
    "   WHERE id = $1::uuid AND status = 'completed' AND claimant = $4 AND evidence = $5"
    "  RETURNING id),"
    " e AS ("
    "  INSERT INTO bounty.wish_event (wish_id, action, status, actor, note)"
    "  SELECT id, 'rejected', 'claimed', $2, $3 FROM u)"
    " SELECT bounty.expect_changed((SELECT count(*) FROM u),"
    "                              'wish ' || $1 || ' is no longer the completed wish reviewed')";

static void s_write_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_review_t *r = arg;
    if (rc == HL_ECONFLICT) {
        hl_http_reply_error(r->req, 409, "id",
                            "the wish changed while it was being reviewed; read it and try again");
    } else if (rc != 0) {
        bounty_reply_db_error(r->req, "record the review", err);
    } else if (r->approve) {
        hl_metric_add(r->b->approved, 1);
        hl_info("wish", r->id, "approved by %s: %d points to %s (award %s)", r->reviewer, r->points,
                s_col(r, S_CLAIMANT), r->award_id);
        json_t *body =
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:i}", "id", r->id, "status", "approved",
                      "reviewer", r->reviewer, "claimant", s_col(r, S_CLAIMANT), "award_id",
                      r->award_id, "points", r->points);
        hl_http_reply_json(r->req, 200, body);
    } else {
        hl_metric_add(r->b->rejected, 1);
        hl_info("wish", r->id, "rejected by %s: back to %s", r->reviewer, s_col(r, S_CLAIMANT));
        json_t *body = json_pack("{s:s, s:s, s:s, s:s}", "id", r->id, "status", "claimed",
                                 "reviewer", r->reviewer, "claimant", s_col(r, S_CLAIMANT));
        json_object_set_new(body, "note", r->note ? json_string(r->note) : json_null());
        hl_http_reply_json(r->req, 200, body);
    }
    s_review_free(r);
}

/* Adds the approval and its two messages to `u`. */
static void s_approve(s_review_t *r, hl_dbu_t *u)
{
    hl_pipeline_t *p = r->b->svc->pipeline;
    int64_t now_us = hl_time_us();
    char now_text[32];
    snprintf(now_text, sizeof now_text, "%lld", (long long)now_us);
    hl_uuid_new(r->award_id);
    r->points = atoi(s_col(r, S_POINTS));
    const char *claimant = s_col(r, S_CLAIMANT);
    const char *evidence = s_col(r, S_EVIDENCE);
    const char *item_id = s_col(r, S_ITEM_ID);
    const char *appeal_id = s_col(r, S_APPEAL_ID);
    const char *trace = appeal_id ? appeal_id : item_id;
    HL_DBU(u, s_sql_approve, NULL, NULL, r->id, r->reviewer, r->note, r->award_id, now_text,
           claimant, evidence);

    char reason[1024];
    bounty_award_reason(s_col(r, S_TITLE), reason, sizeof reason);
    Hl__PointsAwarded award = HL__POINTS_AWARDED__INIT;
    award.award_id = r->award_id;
    award.account = (char *)claimant;
    award.has_amount = 1;
    award.amount = r->points;
    award.reason = reason;
    award.source_kind = "wish";
    award.source_id = r->id;
    award.org_unit = (char *)s_col(r, S_AWARD_UNIT);
    hl_pipeline_emit(p, u, HL_STAGE_POINTS, "PointsAwarded", trace, &award.base, NULL);

    Hl__TaskApproved done = HL__TASK_APPROVED__INIT;
    done.wish_id = r->id;
    done.item_id = (char *)item_id;
    done.claimant = (char *)claimant;
    done.reviewer = (char *)r->reviewer;
    done.evidence = (char *)evidence;
    done.has_approved_at_us = 1;
    done.approved_at_us = now_us;
    hl_pipeline_emit(p, u, HL_STAGE_RESOLUTION, "TaskApproved", trace, &done.base, NULL);
}

static void s_facts_rows(void *arg, const PGresult *res)
{
    s_review_t *r = arg;
    if (PQntuples(res) != 1)
        return;
    r->wish = PQcopyResult(res, PG_COPYRES_ATTRS | PG_COPYRES_TUPLES);
    if (!r->wish)
        abort(); /* out of memory, like every other allocation */
    r->facts.wish_found = true;
    r->facts.status = bounty_status_parse(s_col(r, S_STATUS));
    r->facts.wish_community = s_col(r, S_COMMUNITY);
    r->facts.reviewer_level = s_col(r, S_REVIEWER_LEVEL);
}

static void s_facts_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_review_t *r = arg;
    if (rc != 0) {
        bounty_reply_db_error(r->req, "read the wish", err);
        s_review_free(r);
        return;
    }
    bounty_verdict_t v = bounty_review_verdict(&r->facts, r->reviewer);
    if (v.status != 0) {
        bounty_reply_verdict(r->req, &v);
        s_review_free(r);
        return;
    }
    hl_dbu_t *u = hl_dbu_new(r->b->svc->db, s_write_done, r);
    if (r->approve)
        s_approve(r, u);
    else
        HL_DBU(u, s_sql_reject, NULL, NULL, r->id, r->reviewer, r->note, s_col(r, S_CLAIMANT),
               s_col(r, S_EVIDENCE));
    hl_dbu_submit(&u);
}

void bounty_review_post(hl_http_req_t *req, void *arg)
{
    static const char *const keys[] = {"reviewer", "decision", "note", NULL};
    bounty_t *b = arg;
    const char *id = bounty_path_id(req);
    if (!id)
        return;
    json_t *j = hl_http_json_body(req);
    if (!j)
        return;
    s_review_t *r = hl_calloc(1, sizeof *r);
    r->b = b;
    r->req = req;
    r->json = j;
    memcpy(r->id, id, sizeof r->id);
    const char *decision;
    if (!bounty_body_only(req, j, keys) ||
        !bounty_body_string(req, j, "reviewer", true, BOUNTY_CODE_MAX, &r->reviewer) ||
        !bounty_body_string(req, j, "decision", true, 16, &decision) ||
        !bounty_body_string(req, j, "note", false, BOUNTY_NOTE_MAX, &r->note))
        goto out_free;
    if (!bounty_code_valid(r->reviewer)) {
        hl_http_reply_error(req, 422, "reviewer", "reviewer must be a community code, e.g. cm01");
        goto out_free;
    }
    if (strcmp(decision, "approve") != 0 && strcmp(decision, "reject") != 0) {
        hl_http_reply_error(req, 422, "decision", "decision must be \"approve\" or \"reject\"");
        goto out_free;
    }
    r->approve = strcmp(decision, "approve") == 0;
    hl_http_suspend(req);
    hl_dbu_t *u = hl_dbu_new(b->svc->db, s_facts_done, r);
    HL_DBU(u, s_sql_facts, s_facts_rows, r, r->id, r->reviewer);
    hl_dbu_submit(&u);
    return;
out_free:
    s_review_free(r);
}
