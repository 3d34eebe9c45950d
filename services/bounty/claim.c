/* claim.c: claiming a wish and reporting it complete.
 *
 * A claim first reads the wish and the claimant (an org unit must be a
 * compound or micro-grid of the wish's community; a member unit may claim
 * any wish), then writes the claim with an UPDATE guarded by status =
 * 'open'. The guard is what makes a claim exclusive: of two claimants
 * racing, in one transaction or in two, exactly one UPDATE changes the row
 * and the other changes nothing and is answered 409. The same unit reads
 * the wish back, so a refusal says why without another round trip.
 *
 * Completion needs no read first: its UPDATE is guarded by status =
 * 'claimed' and the claimant, and the read-back tells 404, 403 and 409
 * apart when it changed nothing. Neither step emits a message: points and
 * the item's resolution wait for the community's review (review.c). */
#include "bounty.h"

#include <stdlib.h>
#include <string.h>

/* One claim or completion in flight. */
typedef struct {
    bounty_t *b;                /* service */
    hl_http_req_t *req;         /* suspended request */
    json_t *json;               /* the parsed body, owned; strings below point into it */
    const char *claimant;       /* who claims or completes */
    const char *evidence;       /* completion only */
    char id[HL_UUID_LEN + 1];   /* the wish */
    bounty_claim_facts_t facts; /* what the read found (claim) */
    char *wish_community;       /* owned; facts.wish_community points here */
    char *claimant_level;       /* owned; facts.claimant_level points here */
    char *claimant_community;   /* owned; facts.claimant_community points here */
    char *at;                   /* claimed_at / completed_at of a write that won, owned */
    bool found;                 /* read-back: the wish exists */
    int status;                 /* read-back: its status now */
    char *current_claimant;     /* read-back: its claimant now, owned */
} s_claim_t;

static void s_claim_free(s_claim_t *c)
{
    json_decref(c->json);
    free(c->wish_community);
    free(c->claimant_level);
    free(c->claimant_community);
    free(c->at);
    free(c->current_claimant);
    free(c);
}

static char *s_dup_or_null(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : hl_strdup(PQgetvalue(res, row, col));
}

/* Parses the body shared by both endpoints; replies and returns NULL on bad input. */
static s_claim_t *s_claim_new(hl_http_req_t *req, bounty_t *b, bool complete)
{
    static const char *const claim_keys[] = {"claimant", NULL};
    static const char *const complete_keys[] = {"claimant", "evidence", NULL};
    const char *id = bounty_path_id(req);
    if (!id)
        return NULL;
    json_t *j = hl_http_json_body(req);
    if (!j)
        return NULL;
    s_claim_t *c = hl_calloc(1, sizeof *c);
    c->b = b;
    c->req = req;
    c->json = j;
    memcpy(c->id, id, sizeof c->id);
    if (!bounty_body_only(req, j, complete ? complete_keys : claim_keys) ||
        !bounty_body_string(req, j, "claimant", true, BOUNTY_CODE_MAX, &c->claimant))
        goto out_free;
    if (!bounty_code_valid(c->claimant)) {
        hl_http_reply_error(req, 422, "claimant",
                            "claimant must be an org unit or member unit code, e.g. mg012");
        goto out_free;
    }
    if (complete &&
        !bounty_body_string(req, j, "evidence", true, BOUNTY_EVIDENCE_MAX, &c->evidence))
        goto out_free;
    return c;
out_free:
    s_claim_free(c);
    return NULL;
}

/* The read-back after a guarded write: the wish as it is now. */
static const char s_sql_now[] = "SELECT status, claimant FROM bounty.wish WHERE id = $1::uuid";

static void s_now_rows(void *arg, const PGresult *res)
{
    s_claim_t *c = arg;
    if (PQntuples(res) != 1)
        return;
    c->found = true;
    c->status = bounty_status_parse(PQgetvalue(res, 0, 0));
    c->current_claimant = s_dup_or_null(res, 0, 1);
}

static void s_won_rows(void *arg, const PGresult *res)
{
    s_claim_t *c = arg;
    if (PQntuples(res) == 1)
        c->at = hl_strdup(PQgetvalue(res, 0, 0));
}

/* ---- POST /v1/wishes/{id}/claim ------------------------------------------ */

static const char s_sql_claim_facts[] =
    "SELECT w.status, c.parent, u.level,"
    "       CASE u.level WHEN 'compound' THEN u.parent WHEN 'micro_grid' THEN p.parent END,"
    "       EXISTS (SELECT 1 FROM org.member_unit m WHERE m.code = $2)"
    "  FROM bounty.wish w"
    "  JOIN org.org_unit c ON c.code = w.org_unit"
    "  LEFT JOIN org.org_unit u ON u.code = $2"
    "  LEFT JOIN org.org_unit p ON p.code = u.parent"
    " WHERE w.id = $1::uuid";

static const char s_sql_claim[] =
    "WITH u AS ("
    "  UPDATE bounty.wish SET status = 'claimed', claimant = $2, claimant_kind = $3,"
    "         claimed_at = now()"
    "   WHERE id = $1::uuid AND status = 'open'"
    "  RETURNING id, claimed_at),"
    " e AS ("
    "  INSERT INTO bounty.wish_event (wish_id, action, status, actor)"
    "  SELECT id, 'claimed', 'claimed', $2 FROM u)"
    " SELECT to_json(claimed_at)#>>'{}' FROM u";

static void s_claim_facts_rows(void *arg, const PGresult *res)
{
    s_claim_t *c = arg;
    if (PQntuples(res) != 1)
        return;
    c->facts.wish_found = true;
    c->facts.status = bounty_status_parse(PQgetvalue(res, 0, 0));
    c->facts.wish_community = c->wish_community = s_dup_or_null(res, 0, 1);
    c->facts.claimant_level = c->claimant_level = s_dup_or_null(res, 0, 2);
    c->facts.claimant_community = c->claimant_community = s_dup_or_null(res, 0, 3);
    c->facts.claimant_member = PQgetvalue(res, 0, 4)[0] == 't';
}

static void s_claim_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_claim_t *c = arg;
    if (rc != 0) {
        bounty_reply_db_error(c->req, "claim the wish", err);
    } else if (c->at) {
        hl_metric_add(c->b->claimed, 1);
        hl_debug("wish", c->id, "claimed by %s", c->claimant);
        hl_http_reply_json(c->req, 200,
                           json_pack("{s:s, s:s, s:s, s:s}", "id", c->id, "status", "claimed",
                                     "claimant", c->claimant, "claimed_at", c->at));
    } else {
        bounty_verdict_t v = bounty_claim_conflict(c->found, c->status);
        if (v.status == 409) {
            hl_metric_add(c->b->claim_refused, 1);
            hl_debug("wish", c->id, "claim by %s lost to a claim written first", c->claimant);
        }
        bounty_reply_verdict(c->req, &v);
    }
    s_claim_free(c);
}

static void s_claim_facts_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_claim_t *c = arg;
    if (rc != 0) {
        bounty_reply_db_error(c->req, "read the wish", err);
        s_claim_free(c);
        return;
    }
    bounty_verdict_t v = bounty_claim_verdict(&c->facts);
    if (v.status != 0) {
        if (v.status == 409)
            hl_metric_add(c->b->claim_refused, 1);
        bounty_reply_verdict(c->req, &v);
        s_claim_free(c);
        return;
    }
    const char *kind = c->facts.claimant_level ? "org_unit" : "member_unit";
    hl_dbu_t *u = hl_dbu_new(c->b->svc->db, s_claim_done, c);
    HL_DBU(u, s_sql_claim, s_won_rows, c, c->id, c->claimant, kind);
    HL_DBU(u, s_sql_now, s_now_rows, c, c->id);
    hl_dbu_submit(&u);
}

void bounty_claim_post(hl_http_req_t *req, void *arg)
{
    bounty_t *b = arg;
    s_claim_t *c = s_claim_new(req, b, false);
    if (!c)
        return;
    hl_http_suspend(req);
    hl_dbu_t *u = hl_dbu_new(b->svc->db, s_claim_facts_done, c);
    HL_DBU(u, s_sql_claim_facts, s_claim_facts_rows, c, c->id, c->claimant);
    hl_dbu_submit(&u);
}

/* ---- POST /v1/wishes/{id}/complete --------------------------------------- */

static const char s_sql_complete[] =
    "WITH u AS ("
    "  UPDATE bounty.wish SET status = 'completed', evidence = $3, completed_at = now()"
    "   WHERE id = $1::uuid AND status = 'claimed' AND claimant = $2"
    "  RETURNING id, completed_at),"
    " e AS ("
    "  INSERT INTO bounty.wish_event (wish_id, action, status, actor, note)"
    "  SELECT id, 'completed', 'completed', $2, $3 FROM u)"
    " SELECT to_json(completed_at)#>>'{}' FROM u";

static void s_complete_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_claim_t *c = arg;
    if (rc != 0) {
        bounty_reply_db_error(c->req, "complete the wish", err);
    } else if (c->at) {
        hl_metric_add(c->b->completed, 1);
        hl_debug("wish", c->id, "completed by %s", c->claimant);
        hl_http_reply_json(c->req, 200,
                           json_pack("{s:s, s:s, s:s, s:s}", "id", c->id, "status", "completed",
                                     "claimant", c->claimant, "completed_at", c->at));
    } else {
        bounty_verdict_t v =
            bounty_complete_conflict(c->found, c->status, c->current_claimant, c->claimant);
        bounty_reply_verdict(c->req, &v);
    }
    s_claim_free(c);
}

void bounty_complete_post(hl_http_req_t *req, void *arg)
{
    bounty_t *b = arg;
    s_claim_t *c = s_claim_new(req, b, true);
    if (!c)
        return;
    hl_http_suspend(req);
    hl_dbu_t *u = hl_dbu_new(b->svc->db, s_complete_done, c);
    HL_DBU(u, s_sql_complete, s_won_rows, c, c->id, c->claimant, c->evidence);
    HL_DBU(u, s_sql_now, s_now_rows, c, c->id);
    hl_dbu_submit(&u);
}
