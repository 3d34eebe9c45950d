/* activity.c: POST /v1/activities — a recorder (a key of role recorder)
 * records that a study pair (学习搭子) was formed or an event was attended;
 * the rule of that kind pays the earner at once, from the community's
 * budget, through the same plan and statement as a pipeline award
 * (award.c). The award id is derived from kind, source_id and account, so
 * the same activity posted again is answered 200 "repeated" and pays
 * nothing. A recorder bound to a community records only its activities.
 *
 * Order: the body is checked (422 naming the field, nothing read); the key
 * is looked up (401/403); the award is planned (422 when no rule or an
 * unknown org unit); then written, and answered after commit. */
#include "hl_sha256.h"
#include "points.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One POST in flight. */
typedef struct {
    points_t *pt;                       /* service */
    hl_http_req_t *req;                 /* suspended request */
    json_t *body;                       /* parsed body, owned */
    points_award_t award;               /* strings point into body or below */
    char award_id[HL_UUID_LEN + 1];     /* derived from the activity */
    char message_id[HL_UUID_LEN + 1];   /* stands in for a pipeline message */
    char reason[POINTS_REASON_MAX + 1]; /* default reason */
    char key_hash[65];                  /* the caller's key */
    points_actor_t actor;               /* read: who the key is */
    points_plan_t planned;              /* the plan's numbers (strings not kept) */
    const char *outcome;                /* points.award()'s answer, kept by the write unit */
    const char *when;                   /* occurred_at as given, into body, or NULL */
} s_activity_t;

static void s_free(s_activity_t *a)
{
    json_decref(a->body);
    free(a);
}

static const char *const s_kinds[] = {"study_pair", "event", NULL};
static const char *const s_account_kinds[] = {
    "grid_org", "party_member", "volunteer", "member_unit", "compound", "chain", NULL};

/* What the body may hold; stored into s_activity_t (award and when). */
static const hl_req_field_t s_spec[] = {
    {.name = "kind",
     .type = HL_REQ_TEXT,
     .flags = HL_REQ_REQUIRED,
     .max = POINTS_KIND_MAX,
     .allowed = s_kinds,
     .hint = "must be study_pair or event (wishes, large items and councils are awarded by the "
             "daemons that record them)",
     HL_REQ_AT(s_activity_t, award.source_kind)},
    {.name = "source_id",
     .type = HL_REQ_TEXT,
     .flags = HL_REQ_REQUIRED,
     .max = POINTS_SOURCE_MAX,
     HL_REQ_AT(s_activity_t, award.source_id)},
    {.name = "account",
     .type = HL_REQ_TEXT,
     .flags = HL_REQ_REQUIRED,
     .max = POINTS_ACCOUNT_MAX,
     HL_REQ_AT(s_activity_t, award.account)},
    {.name = "account_kind",
     .type = HL_REQ_TEXT,
     .max = 16,
     .allowed = s_account_kinds,
     HL_REQ_AT(s_activity_t, award.account_kind)},
    {.name = "community",
     .type = HL_REQ_TEXT,
     .flags = HL_REQ_REQUIRED,
     .max = POINTS_UNIT_MAX,
     HL_REQ_AT(s_activity_t, award.community)},
    {.name = "org_unit",
     .type = HL_REQ_TEXT,
     .max = POINTS_UNIT_MAX,
     HL_REQ_AT(s_activity_t, award.org_unit)},
    {.name = "occurred_at",
     .type = HL_REQ_TEXT,
     .max = 40,
     .hint = "must be an ISO 8601 time with an offset, e.g. 2026-12-03T19:00:00+08:00",
     HL_REQ_AT(s_activity_t, when)},
    {.name = "basis",
     .type = HL_REQ_TEXT,
     .max = POINTS_BASIS_MAX,
     HL_REQ_AT(s_activity_t, award.basis)},
    {.name = "reason",
     .type = HL_REQ_TEXT,
     .max = POINTS_REASON_MAX,
     HL_REQ_AT(s_activity_t, award.reason)},
    {0}};

/* The checks a field spec cannot make, and the derived award id. */
static bool s_validate(s_activity_t *a)
{
    points_award_t *w = &a->award;
    const char *when = a->when;
    if (!w->account_kind)
        w->account_kind = "volunteer";
    int64_t now = hl_time_us();
    w->at_us = now;
    if (when) {
        if (!hl_time_parse(when, &w->at_us)) {
            hl_http_reply_error(a->req, 422, "occurred_at",
                                "occurred_at must be an ISO 8601 time with an offset, e.g. "
                                "2026-12-03T19:00:00+08:00");
            return false;
        }
        if (w->at_us > now + 3600LL * 1000000) {
            hl_http_reply_error(a->req, 422, "occurred_at", "occurred_at is in the future");
            return false;
        }
    }
    if (!w->reason) {
        snprintf(
            a->reason, sizeof a->reason, "%s %s",
            strcmp(w->source_kind, "event") == 0 ? "event attended:" : "study pair:", w->source_id);
        w->reason = a->reason;
    }
    /* The same activity of the same earner is one award, however often posted. */
    char seed[256];
    int n = snprintf(seed, sizeof seed, "activity\n%s\n%s\n%s", w->source_kind, w->source_id,
                     w->account);
    unsigned char digest[32];
    hl_sha256_t ctx;
    hl_sha256_init(&ctx);
    hl_sha256_update(&ctx, seed, (size_t)n < sizeof seed ? (size_t)n : sizeof seed - 1);
    hl_sha256_final(&ctx, digest);
    digest[6] = (unsigned char)((digest[6] & 0x0f) | 0x50); /* name-based, like a UUIDv5 */
    digest[8] = (unsigned char)((digest[8] & 0x3f) | 0x80);
    static const char hex[] = "0123456789abcdef";
    char *o = a->award_id;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        *o++ = hex[digest[i] >> 4];
        *o++ = hex[digest[i] & 15];
    }
    *o = '\0';
    w->award_id = a->award_id;
    hl_uuid_new(a->message_id);
    w->message_id = a->message_id;
    return true;
}

static void s_write_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_activity_t *a = arg;
    const points_plan_t *p = &a->planned;
    if (rc != 0) {
        hl_req_reply_db(a->req, "award", "record the activity", err);
    } else if (strncmp(a->outcome, "kind:", 5) == 0) {
        hl_metric_add(a->pt->refused, 1);
        hl_http_reply_error(a->req, 422, "account_kind", "account \"%s\" is a %s account",
                            a->award.account, a->outcome + 5);
    } else {
        bool fresh = strcmp(a->outcome, "recorded") == 0;
        hl_metric_add(fresh ? a->pt->recorded : a->pt->repeated, 1);
        hl_info("award", a->award_id, "%s %s of %s by %s: %d points by rule %s v%d",
                fresh ? "recorded" : "repeated", a->award.source_kind, a->award.account,
                a->actor.name, p->amount, p->rule_id, p->rule_version);
        hl_http_reply_json(a->req, fresh ? 201 : 200,
                           json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:i, s:s}", "award_id",
                                     a->award_id, "status", a->outcome, "account", a->award.account,
                                     "community", p->community, "rule_id", p->rule_id,
                                     "rule_version", p->rule_version, "recorded_by", a->actor.name,
                                     "amount", p->amount, "source_id", a->award.source_id));
    }
    s_free(a);
}

static void s_planned(void *arg, const points_plan_t *plan)
{
    s_activity_t *a = arg;
    if (plan->rc != 0) {
        hl_req_reply_db(a->req, "award", "read the rules", NULL);
        s_free(a);
        return;
    }
    if (*plan->refused) {
        if (plan->unruled)
            hl_metric_add(a->pt->unruled, 1);
        const char *field = plan->unruled                                 ? "kind"
                            : strncmp(plan->refused, "org_unit", 8) == 0  ? "org_unit"
                            : strncmp(plan->refused, "community", 9) == 0 ? "community"
                                                                          : "account_kind";
        hl_http_reply_error(a->req, 422, field, "%s", plan->refused);
        s_free(a);
        return;
    }
    a->planned = *plan;
    memset(&a->planned.award, 0, sizeof a->planned.award);
    hl_dbu_t *u = hl_dbu_new(a->pt->svc->db, s_write_done, a);
    a->outcome = points_award_add(u, plan);
    hl_dbu_submit(&u);
}

static void s_key_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_activity_t *a = arg;
    if (rc != 0) {
        hl_req_reply_db(a->req, "award", "check the key", err);
        s_free(a);
        return;
    }
    if (!points_auth_check(a->req, &a->actor, "recorder")) {
        s_free(a);
        return;
    }
    if (*a->actor.community && strcmp(a->actor.community, a->award.community) != 0) {
        hl_http_reply_error(a->req, 403, "community",
                            "key \"%s\" records activities of community %s only, not %s",
                            a->actor.name, a->actor.community, a->award.community);
        s_free(a);
        return;
    }
    a->award.reviewer = a->actor.name;
    points_award_plan(a->pt, &a->award, s_planned, a);
}

void points_activity_post(hl_http_req_t *req, void *arg)
{
    points_t *pt = arg;
    char hash[65];
    if (!points_auth_hash(req, hash))
        return;
    s_activity_t *a = hl_calloc(1, sizeof *a);
    a->pt = pt;
    a->req = req;
    a->body = hl_req_body(req, s_spec, a);
    if (!a->body) {
        free(a);
        return;
    }
    memcpy(a->key_hash, hash, sizeof hash);
    if (!s_validate(a)) {
        s_free(a);
        return;
    }
    hl_http_suspend(req);
    hl_dbu_t *u = hl_dbu_new(pt->svc->db, s_key_done, a);
    points_auth_add(u, a->key_hash, &a->actor);
    hl_dbu_submit(&u);
}
