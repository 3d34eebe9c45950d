/* actor.c: who is calling. Claim, extend, release, progress, complete,
 * review, publish and setting a difficulty need "Authorization: Bearer
 * <key>", a key `hlctl actor-key create` bound to one actor (bounty.actor).
 * The key table itself (memory, reload every 2 s, lookup on first use,
 * negative cache) is libhl's hl_apikey, shared with hl-intake; here are
 * bounty's SQL, which also resolves the actor's org unit to its level,
 * compound and community so that eligibility needs no further query, and
 * the 401/503 answers. */
#include "bounty.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The columns a key carries, after its hash: name, kind, unit, person,
 * level, compound, community. */
#define S_ACTOR_COLS                                                                               \
    " a.name, a.kind, coalesce(a.org_unit, a.member_unit), coalesce(a.person, ''),"                \
    " coalesce(u.level, ''),"                                                                      \
    " coalesce(CASE u.level WHEN 'compound' THEN u.code WHEN 'micro_grid' THEN u.parent END, '')," \
    " coalesce(CASE u.level WHEN 'community' THEN u.code WHEN 'compound' THEN u.parent"            \
    "                       WHEN 'micro_grid' THEN p.parent END, '')"                              \
    " FROM bounty.api_key k JOIN bounty.actor a ON a.name = k.actor"                               \
    " LEFT JOIN org.org_unit u ON u.code = a.org_unit"                                             \
    " LEFT JOIN org.org_unit p ON p.code = u.parent"

static const char s_sql_keys[] = "SELECT k.key_hash," S_ACTOR_COLS " WHERE k.revoked_at IS NULL";
static const char s_sql_key[] =
    "SELECT" S_ACTOR_COLS " WHERE k.key_hash = $1 AND k.revoked_at IS NULL";

void bounty_actors_start(bounty_t *b)
{
    const hl_apikey_cfg_t cfg = {
        .reload_sql = s_sql_keys,
        .lookup_sql = s_sql_key,
        .ncols = 7,
        .lookups_per_s = 50,
        .metric = "hl_bounty_api_key",
    };
    b->keys = hl_apikey_new(b->svc->loop, b->svc->db, &cfg);
}

/* A resolve in flight. */
typedef struct {
    bounty_t *b;          /* service */
    hl_http_req_t *req;   /* suspended request */
    bounty_auth_fn *done; /* caller's callback */
    void *arg;            /* and argument */
} s_auth_t;

static void s_copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

static void s_resolved(void *arg, hl_apikey_state_t state, const char *const *cols)
{
    s_auth_t a = *(s_auth_t *)arg;
    free(arg);
    if (state == HL_APIKEY_UNCHECKED) {
        hl_http_add_header(a.req, "Retry-After", "1");
        hl_http_reply_error(a.req, 503, "Authorization", "could not check the API key now; retry");
        a.done(a.req, NULL, a.arg);
        return;
    }
    if (state != HL_APIKEY_ACTIVE) {
        hl_metric_add(a.b->unauthenticated, 1);
        hl_http_add_header(a.req, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
        hl_http_reply_error(a.req, 401, "Authorization", "unknown or revoked API key");
        a.done(a.req, NULL, a.arg);
        return;
    }
    bounty_actor_t actor;
    memset(&actor, 0, sizeof actor);
    s_copy(actor.name, sizeof actor.name, cols[0]);
    actor.kind = bounty_actor_kind_parse(cols[1]);
    s_copy(actor.unit, sizeof actor.unit, cols[2]);
    s_copy(actor.person, sizeof actor.person, cols[3]);
    s_copy(actor.level, sizeof actor.level, cols[4]);
    s_copy(actor.compound, sizeof actor.compound, cols[5]);
    s_copy(actor.community, sizeof actor.community, cols[6]);
    a.done(a.req, &actor, a.arg);
}

void bounty_authenticate(bounty_t *b, hl_http_req_t *req, bounty_auth_fn *done, void *arg)
{
    const char *auth = hl_http_header(req, "Authorization");
    hl_http_suspend(req);
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0 || !auth[7]) {
        hl_metric_add(b->unauthenticated, 1);
        hl_http_add_header(req, "WWW-Authenticate", "Bearer");
        hl_http_reply_error(req, 401, "Authorization",
                            "an actor's API key is required: \"Authorization: Bearer <key>\" "
                            "(hlctl actor-key create)");
        done(req, NULL, arg);
        return;
    }
    s_auth_t *a = hl_calloc(1, sizeof *a);
    a->b = b;
    a->req = req;
    a->done = done;
    a->arg = arg;
    hl_apikey_resolve(b->keys, auth + 7, s_resolved, a);
}
