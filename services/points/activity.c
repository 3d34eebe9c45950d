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
    points_t *pt;                     /* service */
    hl_http_req_t *req;               /* suspended request */
    json_t *body;                     /* parsed body, owned */
    points_award_t award;             /* strings point into body or below */
    char award_id[HL_UUID_LEN + 1];   /* derived from the activity */
    char message_id[HL_UUID_LEN + 1]; /* stands in for a pipeline message */
    char reason[POINTS_REASON_MAX + 1]; /* default reason */
    char key_hash[65];                /* the caller's key */
    points_actor_t actor;             /* read: who the key is */
    points_plan_t planned;            /* the plan's numbers (strings not kept) */
    const char *outcome;              /* points.award()'s answer, kept by the write unit */
} s_activity_t;

static void s_free(s_activity_t *a)
{
    json_decref(a->body);
    free(a);
}

/* A string field: required or not, 1..max characters, one line. */
static bool s_field(hl_http_req_t *req, json_t *body, const char *key, size_t max, bool required,
                    const char **out)
{
    json_t *v = json_object_get(body, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required)
            hl_http_reply_error(req, 422, key, "%s is required", key);
        return !required;
    }
    char why[160];
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    if (!s || strlen(s) != json_string_length(v)) {
        hl_http_reply_error(req, 422, key, "%s must be a string", key);
        return false;
    }
    if (!hl_text_check(key, s, max, true, false, why, sizeof why)) {
        hl_http_reply_error(req, 422, key, "%s", why);
        return false;
    }
    *out = s;
    return true;
}

static bool s_validate(s_activity_t *a)
{
    static const char *const allowed[] = {"kind",      "source_id", "account",     "account_kind",
                                          "community", "org_unit",  "occurred_at", "basis",
                                          "reason",    NULL};
    const char *key;
    json_t *v;
    json_object_foreach(a->body, key, v)
    {
        bool ok = false;
        for (const char *const *k = allowed; *k; k++)
            ok = ok || strcmp(*k, key) == 0;
        if (!ok) {
            char field[80];
            snprintf(field, sizeof field, "%.64s", key);
            hl_http_reply_error(a->req, 422, field, "unknown field \"%s\"", field);
            return false;
        }
    }
    points_award_t *w = &a->award;
    const char *when = NULL;
    if (!s_field(a->req, a->body, "kind", POINTS_KIND_MAX, true, &w->source_kind) ||
        !s_field(a->req, a->body, "source_id", POINTS_SOURCE_MAX, true, &w->source_id) ||
        !s_field(a->req, a->body, "account", POINTS_ACCOUNT_MAX, true, &w->account) ||
        !s_field(a->req, a->body, "account_kind", 16, false, &w->account_kind) ||
        !s_field(a->req, a->body, "community", POINTS_UNIT_MAX, true, &w->community) ||
        !s_field(a->req, a->body, "org_unit", POINTS_UNIT_MAX, false, &w->org_unit) ||
        !s_field(a->req, a->body, "occurred_at", 40, false, &when) ||
        !s_field(a->req, a->body, "basis", POINTS_BASIS_MAX, false, &w->basis) ||
        !s_field(a->req, a->body, "reason", POINTS_REASON_MAX, false, &w->reason))
        return false;
    if (strcmp(w->source_kind, "study_pair") != 0 && strcmp(w->source_kind, "event") != 0) {
        hl_http_reply_error(a->req, 422, "kind",
                            "kind must be study_pair or event (wishes, large items and councils "
                            "are awarded by the daemons that record them)");
        return false;
    }
    if (!w->account_kind)
        w->account_kind = "volunteer";
    if (!points_account_kind_valid(w->account_kind)) {
        hl_http_reply_error(a->req, 422, "account_kind",
                            "account_kind must be grid_org, party_member, volunteer, member_unit, "
                            "compound or chain");
        return false;
    }
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
        snprintf(a->reason, sizeof a->reason, "%s %s",
                 strcmp(w->source_kind, "event") == 0 ? "event attended:" : "study pair:",
                 w->source_id);
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
        hl_http_reply_error(a->req, 503, NULL, "could not record the activity now: %s",
                            err->message);
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
        hl_http_reply_json(
            a->req, fresh ? 201 : 200,
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:i, s:s}", "award_id", a->award_id,
                      "status", a->outcome, "account", a->award.account, "community",
                      p->community, "rule_id", p->rule_id, "rule_version", p->rule_version,
                      "recorded_by", a->actor.name, "amount", p->amount, "source_id",
                      a->award.source_id));
    }
    s_free(a);
}

static void s_planned(void *arg, const points_plan_t *plan)
{
    s_activity_t *a = arg;
    if (plan->rc != 0) {
        hl_http_reply_error(a->req, 503, NULL, "could not read the rules now: %s",
                            plan->db_message);
        s_free(a);
        return;
    }
    if (*plan->refused) {
        if (plan->unruled)
            hl_metric_add(a->pt->unruled, 1);
        const char *field = plan->unruled                                ? "kind"
                            : strncmp(plan->refused, "org_unit", 8) == 0 ? "org_unit"
                            : strncmp(plan->refused, "community", 9) == 0
                                ? "community"
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
        hl_http_reply_error(a->req, 503, NULL, "could not check the key now: %s", err->message);
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
    json_t *body = hl_http_json_body(req);
    if (!body)
        return;
    s_activity_t *a = hl_calloc(1, sizeof *a);
    a->pt = pt;
    a->req = req;
    a->body = body;
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
