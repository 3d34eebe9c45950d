/* inbound.c: POST /v1/platform/{partner}/webhooks — unit claims, progress
 * reports and completions from the Shuang Lian Shuang Ying platform.
 *
 * Signed the Standard Webhooks way (common/hl_webhook.h): the partner's
 * active secrets (two while one rotates) are read first, then the
 * signature over "id.timestamp.body" is checked in constant time, the
 * timestamp must lie within 5 minutes of now, and a webhook-id received
 * before is a replay. Every one of these refusals is 401 and stores
 * nothing: no row is written before the signature holds, and the replay
 * guard is the primary key of alliance.inbound, checked in the same unit
 * that stores the webhook, so two copies racing each other store one.
 *
 * A verified webhook is then checked like a direct call (item known: 404,
 * unit known: 422, the unit's function domains fit the item's category:
 * 403) and, in one unit, stored (alliance.inbound, alliance.claim for a
 * claim) with one LargeItemAction for hl-bounty (stage "bounty",
 * action_id = webhook-id), which applies it once and answers with a
 * PlatformEvent that deliver.c sends back to the platform. Answer: 202. */
#include "alliance.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char s_sql_partner[] =
    "SELECT p.active, s.secret FROM alliance.partner p LEFT JOIN alliance.partner_secret s"
    " ON s.partner = p.code AND s.retired_at IS NULL WHERE p.code = $1 ORDER BY s.id DESC";
static const char s_sql_seen[] =
    "SELECT 1 FROM alliance.inbound WHERE partner = $1 AND webhook_id = $2";
static const char s_sql_accept[] =
    "SELECT alliance.accept_inbound($1, $2, to_timestamp($3::bigint), $4, $5::uuid, $6, $7,"
    " $8::numeric)";

typedef struct {
    alliance_t *al;                      /* service */
    hl_http_req_t *req;                  /* suspended request */
    char partner[ALLIANCE_CODE_MAX + 1]; /* from the path */
    char id[HL_WEBHOOK_ID_MAX + 1];      /* webhook-id (checked printable) */
    char *ts;                            /* webhook-timestamp, owned, or NULL */
    char *sig;                           /* webhook-signature, owned, or NULL */
    hl_webhook_key_t keys[2];            /* active secrets, newest first */
    size_t nkeys;                        /* how many */
    bool active;                         /* the partner exists and is active */
    bool seen;                           /* the id was received before */
    json_t *body;                        /* parsed after verification, owned */
    alliance_inbound_t in;               /* points into body */
} s_in_t;

static void s_free(s_in_t *x)
{
    free(x->ts);
    free(x->sig);
    json_decref(x->body);
    free(x);
}

static void s_refuse(s_in_t *x, const char *field, const char *why)
{
    hl_metric_add(x->al->inbound_bad, 1);
    hl_info("partner", x->partner, "inbound webhook %s refused: %s", x->id[0] ? x->id : "-", why);
    hl_http_reply_error(x->req, 401, field, "%s", why);
}

static void s_partner_rows(void *arg, const PGresult *res)
{
    s_in_t *x = arg;
    for (int i = 0; i < PQntuples(res); i++) {
        x->active = strcmp(PQgetvalue(res, i, 0), "t") == 0;
        if (!PQgetisnull(res, i, 1) && x->nkeys < 2 &&
            hl_webhook_key_parse(PQgetvalue(res, i, 1), &x->keys[x->nkeys]))
            x->nkeys++;
    }
}

static void s_seen_rows(void *arg, const PGresult *res)
{
    s_in_t *x = arg;
    x->seen = PQntuples(res) > 0;
}

static void s_accept_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_in_t *x = arg;
    const char *con = err && err->constraint ? err->constraint : "";
    if (rc == 0) {
        hl_metric_add(x->al->inbound_ok, 1);
        hl_info("partner", x->partner, "inbound webhook %s: %s of item %s by %s", x->id, x->in.kind,
                x->in.item_id, x->in.unit);
        hl_http_reply_json(
            x->req, 202,
            json_pack("{s:b, s:s, s:s}", "accepted", 1, "action_id", x->id, "kind", x->in.kind));
    } else if (rc == HL_ECONFLICT && strcmp(con, "webhook-id") == 0) {
        s_refuse(x, "webhook-id", "webhook-id was received already (replay refused)");
    } else {
        alliance_reply_dberr(x->al, x->req, rc, err, "take the webhook");
    }
    s_free(x);
}

static void s_read_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_in_t *x = arg;
    if (rc != 0) {
        alliance_reply_dberr(x->al, x->req, rc, err, "read the partner");
        s_free(x);
        return;
    }
    size_t len;
    const char *body = hl_http_body(x->req, &len);
    /* An unknown or inactive partner verifies against no key: the same 401
     * as a bad signature, so the answer does not tell which partners exist. */
    hl_webhook_verdict_t v =
        hl_webhook_verify(x->keys, x->active ? x->nkeys : 0, x->id, x->ts, x->sig, body, len,
                          (long long)time(NULL), HL_WEBHOOK_TOLERANCE_S);
    if (v != HL_WEBHOOK_OK) {
        s_refuse(x, hl_webhook_verdict_field(v), hl_webhook_verdict_text(v));
        s_free(x);
        return;
    }
    if (x->seen) {
        s_refuse(x, "webhook-id", "webhook-id was received already (replay refused)");
        s_free(x);
        return;
    }
    x->body = hl_http_json_body(x->req);
    if (!x->body) {
        hl_metric_add(x->al->refused, 1);
        s_free(x);
        return;
    }
    hl_refusal_t why;
    if (alliance_inbound_parse(x->body, &x->in, &why) != 0) {
        hl_metric_add(x->al->refused, 1);
        hl_req_reply(x->req, &why);
        s_free(x);
        return;
    }
    char hours[32] = "";
    if (x->in.hours >= 0)
        snprintf(hours, sizeof hours, "%.1f", x->in.hours);
    hl_dbu_t *u = hl_dbu_new(x->al->svc->db, s_accept_done, x);
    HL_DBU(u, s_sql_accept, NULL, NULL, x->partner, x->id, x->ts, x->in.kind, x->in.item_id,
           x->in.unit, x->in.note, hours[0] ? hours : NULL);
    Hl__LargeItemAction a = HL__LARGE_ITEM_ACTION__INIT;
    a.action_id = x->id;
    a.kind = (char *)x->in.kind;
    a.item_id = x->in.item_id;
    a.unit = (char *)x->in.unit;
    a.note = (char *)x->in.note;
    a.has_at_us = 1;
    a.at_us = strtoll(x->ts, NULL, 10) * 1000000;
    a.partner = x->partner;
    hl_pipeline_send(x->al->svc->pipeline, u, HL_STAGE_BOUNTY, x->in.item_id, &a.base, NULL);
    hl_dbu_submit(&u);
}

void alliance_inbound_post(hl_http_req_t *req, void *arg)
{
    alliance_t *al = arg;
    const char *partner = hl_http_param(req, 0);
    s_in_t *x = hl_calloc(1, sizeof *x);
    x->al = al;
    x->req = req;
    if (alliance_code_wellformed(partner))
        snprintf(x->partner, sizeof x->partner, "%s", partner);
    const char *id = hl_http_header(req, "webhook-id");
    const char *ts = hl_http_header(req, "webhook-timestamp");
    const char *sig = hl_http_header(req, "webhook-signature");
    x->ts = ts ? hl_strdup(ts) : NULL;
    x->sig = sig ? hl_strdup(sig) : NULL;
    /* Refusals that need no key come first: nothing is read for them. */
    size_t len;
    const char *body = hl_http_body(req, &len);
    hl_webhook_verdict_t v = hl_webhook_verify(NULL, 0, id, ts, sig, body, len,
                                               (long long)time(NULL), HL_WEBHOOK_TOLERANCE_S);
    if (v != HL_WEBHOOK_BAD_SIGNATURE) {
        s_refuse(x, hl_webhook_verdict_field(v), hl_webhook_verdict_text(v));
        s_free(x);
        return;
    }
    snprintf(x->id, sizeof x->id, "%s", id);
    if (!x->partner[0]) {
        s_refuse(x, "webhook-signature", hl_webhook_verdict_text(HL_WEBHOOK_BAD_SIGNATURE));
        s_free(x);
        return;
    }
    hl_http_suspend(req);
    hl_dbu_t *u = hl_dbu_new(al->svc->db, s_read_done, x);
    HL_DBU(u, s_sql_partner, s_partner_rows, x, x->partner);
    HL_DBU(u, s_sql_seen, s_seen_rows, x, x->partner, x->id);
    hl_dbu_submit(&u);
}
