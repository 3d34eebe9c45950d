/* pointskey.c: `hlctl points-key create NAME recorder|jury [COMMUNITY]`,
 * `hlctl points-key revoke NAME` and `hlctl points-key list`: the keys of
 * the people who record activities (recorder) and contest scores (jury) at
 * hl-points. Like api-key: the key is shown once, only its SHA-256 is
 * stored (points.api_key), and hl-points looks it up on every request, so
 * a revoked key is refused at once. The name is the actor hl-points
 * records on what the key did. */
#include "hlctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const s_roles[] = {"recorder", "jury", NULL};

/* The arguments of `create`, checked as every daemon checks a request. */
static const hl_req_field_t s_create_args[] = {
    {.name = "name",
     .type = HL_REQ_TEXT,
     .flags = HL_REQ_REQUIRED,
     .max = 64,
     .check = hlctl_key_name_problem},
    {.name = "role", .type = HL_REQ_TEXT, .flags = HL_REQ_REQUIRED, .max = 16, .allowed = s_roles},
    {.name = "community", .type = HL_REQ_TEXT, .max = 32},
    {0}};

static int s_create(const char *name, const char *role, const char *community)
{
    hl_req_pair_t args[] = {
        {"name", name}, {"role", role}, {"community", community ? community : ""}};
    hl_refusal_t why;
    if (hl_req_check_pairs(args, 3, s_create_args, NULL, &why) != 0) {
        fprintf(stderr, "hlctl: %s\n", why.message);
        return 2;
    }
    if (community && !*community)
        community = NULL;
    char key[65], hash[65];
    hlctl_key_new(key, hash);
    PGconn *conn = hlctl_connect();
    const char *params[4] = {name, hash, role, community};
    PGresult *r = PQexecParams(
        conn,
        "INSERT INTO points.api_key (name, key_hash, role, community)"
        " SELECT $1, $2, $3, $4 WHERE $4::text IS NULL OR EXISTS"
        "  (SELECT 1 FROM org.org_unit WHERE code = $4 AND level = 'community')"
        " ON CONFLICT (name) DO UPDATE SET key_hash = EXCLUDED.key_hash, role = EXCLUDED.role,"
        " community = EXCLUDED.community, created_at = now(), revoked_at = NULL"
        " WHERE points.api_key.revoked_at IS NOT NULL RETURNING name",
        4, NULL, params, NULL, NULL, 0);
    int rows = PQresultStatus(r) == PGRES_TUPLES_OK ? PQntuples(r) : -1;
    if (rows < 0)
        fprintf(stderr, "hlctl: could not create the key: %s", PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(conn);
    if (rows == 0) {
        fprintf(stderr,
                "hlctl: no key made: an active key named \"%s\" exists (revoke it first), or "
                "\"%s\" is not a community\n",
                name, community ? community : "");
        return 1;
    }
    if (rows < 0)
        return 1;
    printf("%s\n", key);
    fprintf(stderr, "points key \"%s\" (%s, %s) created; shown once\n", name, role,
            community ? community : "whole city");
    return 0;
}

static int s_revoke(const char *name)
{
    return hlctl_key_revoke("UPDATE points.api_key SET revoked_at = now()"
                            " WHERE name = $1 AND revoked_at IS NULL",
                            name, "points key", "hl-points refuses it from its next request");
}

static int s_list(void)
{
    static const hlctl_column_t columns[] = {
        {"name", -24}, {"role", -9}, {"community", -9}, {"created", 17}, {"revoked", 17}};
    return hlctl_key_list("SELECT name, role, coalesce(community, 'city'),"
                          " to_char(created_at, 'YYYY-MM-DD HH24:MI'),"
                          " coalesce(to_char(revoked_at, 'YYYY-MM-DD HH24:MI'), '-')"
                          " FROM points.api_key ORDER BY name",
                          columns, 5);
}

int hlctl_points_key(int argc, char **argv)
{
    if ((argc == 3 || argc == 4) && strcmp(argv[0], "create") == 0)
        return s_create(argv[1], argv[2], argc == 4 ? argv[3] : NULL);
    if (argc == 2 && strcmp(argv[0], "revoke") == 0)
        return s_revoke(argv[1]);
    if (argc == 1 && strcmp(argv[0], "list") == 0)
        return s_list();
    fprintf(stderr,
            "usage: hlctl points-key create NAME recorder|jury [COMMUNITY] | revoke NAME | list\n");
    return 2;
}
