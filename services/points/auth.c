/* auth.c: who is calling the recording endpoints of hl-points (POST
 * /v1/activities, the contest's scores and computation). A caller presents
 * "Authorization: Bearer <key>"; only the key's SHA-256 is looked up
 * (points.api_key, created by `hlctl points-key create NAME ROLE
 * [COMMUNITY]`), in the same read unit as the request's other facts, so a
 * key revoked is refused on the next request. The key's name is the actor
 * recorded on what it does. */
#include "hl_sha256.h"
#include "points.h"

#include <stdio.h>
#include <string.h>

bool points_auth_hash(hl_http_req_t *req, char hash[65])
{
    const char *h = hl_http_header(req, "Authorization");
    if (!h || strncmp(h, "Bearer ", 7) != 0 || !h[7] || strlen(h + 7) > 256) {
        hl_http_add_header(req, "WWW-Authenticate", "Bearer realm=\"hl-points\"");
        hl_http_reply_error(req, 401, "Authorization",
                            "a key is required: Authorization: Bearer <key> (hlctl points-key)");
        return false;
    }
    hl_sha256_hex(h + 7, strlen(h + 7), hash);
    return true;
}

static const char s_sql_key[] = "SELECT name, role, coalesce(community, '') FROM points.api_key"
                                " WHERE key_hash = $1 AND revoked_at IS NULL";

static void s_key_rows(void *arg, const PGresult *res)
{
    points_actor_t *a = arg;
    if (PQntuples(res) != 1)
        return;
    snprintf(a->name, sizeof a->name, "%s", PQgetvalue(res, 0, 0));
    snprintf(a->role, sizeof a->role, "%s", PQgetvalue(res, 0, 1));
    snprintf(a->community, sizeof a->community, "%s", PQgetvalue(res, 0, 2));
}

void points_auth_add(hl_dbu_t *u, const char *hash, points_actor_t *actor)
{
    memset(actor, 0, sizeof *actor);
    HL_DBU(u, s_sql_key, s_key_rows, actor, hash);
}

bool points_auth_check(hl_http_req_t *req, const points_actor_t *actor, const char *role)
{
    if (!*actor->name) {
        hl_http_add_header(req, "WWW-Authenticate", "Bearer realm=\"hl-points\"");
        hl_http_reply_error(req, 401, "Authorization", "the key is not known or was revoked");
        return false;
    }
    if (strcmp(actor->role, role) != 0) {
        hl_http_reply_error(req, 403, "Authorization",
                            "key \"%s\" is a %s key; this needs a %s key", actor->name, actor->role,
                            role);
        return false;
    }
    return true;
}
