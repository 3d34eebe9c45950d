/* actorkey.c: `hlctl actor-key create NAME KIND UNIT [PERSON]`, `hlctl
 * actor-key revoke NAME` and `hlctl actor-key list`: who may call hl-bounty's
 * claim, complete, review and publish endpoints. `create` registers the
 * actor (bounty.actor: a grid organisation, a volunteer or party member of
 * a community, a community reviewer, a commissioner, a member unit) if it is
 * new and prints a fresh key for it, shown once; only its SHA-256 is
 * stored. The database checks that UNIT fits KIND (a volunteer belongs to a
 * community, a grid organisation stands for a micro-grid, compound or
 * community ...). PERSON, optional, is a pseudonymous id of the key's
 * holder: actors sharing a person count as one reviewer, so nobody reviews
 * their own completion under a second key. hl-bounty accepts a new key at
 * once and refuses a revoked one within about 2 s. */
#include "hlctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int s_create(const char *name, const char *kind, const char *unit, const char *person)
{
    if (!hlctl_key_name_ok(name) || (person && !hlctl_key_name_ok(person))) {
        fprintf(stderr,
                "hlctl: actor name and person must be 1 to 64 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit\n");
        return 2;
    }
    static const char *const kinds[] = {
        "grid_org", "volunteer", "party_member", "reviewer", "commissioner", "member_unit", NULL};
    bool known = false;
    for (const char *const *k = kinds; *k; k++)
        known = known || strcmp(*k, kind) == 0;
    if (!known) {
        fprintf(stderr,
                "hlctl: kind \"%s\" must be grid_org, volunteer, party_member, reviewer, "
                "commissioner or member_unit\n",
                kind);
        return 2;
    }
    char key[65], hash[65];
    hlctl_key_new(key, hash);
    PGconn *conn = hlctl_connect();
    bool member = strcmp(kind, "member_unit") == 0;
    const char *params[5] = {name, kind, member ? NULL : unit, member ? unit : NULL, person};
    /* The actor stays what it was registered as: a second create with
     * another kind or unit is refused rather than silently changing it. */
    PGresult *r = hlctl_query(conn,
                              "INSERT INTO bounty.actor (name, kind, org_unit, member_unit, person)"
                              " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING",
                              5, params);
    PQclear(r);
    r = hlctl_query(conn,
                    "SELECT count(*) FROM bounty.actor WHERE name = $1 AND kind = $2"
                    " AND coalesce(org_unit, member_unit) = $3"
                    " AND person IS NOT DISTINCT FROM $4",
                    4, (const char *const[]){name, kind, unit, person});
    bool same = atoi(PQgetvalue(r, 0, 0)) == 1;
    PQclear(r);
    if (!same) {
        PQfinish(conn);
        fprintf(stderr, "hlctl: actor \"%s\" exists with another kind, unit or person\n", name);
        return 1;
    }
    r = hlctl_query(conn,
                    "INSERT INTO bounty.api_key (actor, key_hash)"
                    " SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM bounty.api_key"
                    " WHERE actor = $1 AND revoked_at IS NULL) RETURNING id",
                    2, (const char *const[]){name, hash});
    int rows = PQntuples(r);
    PQclear(r);
    PQfinish(conn);
    if (rows != 1) {
        fprintf(stderr, "hlctl: actor \"%s\" holds an active key; revoke it first\n", name);
        return 1;
    }
    printf("%s\n", key);
    fprintf(stderr, "key for %s \"%s\" of %s created (shown once; hl-bounty accepts it at once)\n",
            kind, name, unit);
    return 0;
}

static int s_revoke(const char *name)
{
    return hlctl_key_revoke("UPDATE bounty.api_key SET revoked_at = now()"
                            " WHERE actor = $1 AND revoked_at IS NULL",
                            name, "actor key", "hl-bounty refuses it within about 2 s");
}

static int s_list(void)
{
    static const hlctl_column_t columns[] = {
        {"name", -24}, {"kind", -13}, {"unit", -10}, {"person", -16}, {"key", 0}};
    return hlctl_key_list(
        "SELECT a.name, a.kind, coalesce(a.org_unit, a.member_unit), coalesce(a.person, '-'),"
        " CASE WHEN EXISTS (SELECT 1 FROM bounty.api_key k WHERE k.actor = a.name"
        "                   AND k.revoked_at IS NULL) THEN 'active' ELSE '-' END"
        " FROM bounty.actor a ORDER BY a.kind, a.name",
        columns, 5);
}

int hlctl_actor_key(int argc, char **argv)
{
    if ((argc == 4 || argc == 5) && strcmp(argv[0], "create") == 0)
        return s_create(argv[1], argv[2], argv[3], argc == 5 ? argv[4] : NULL);
    if (argc == 2 && strcmp(argv[0], "revoke") == 0)
        return s_revoke(argv[1]);
    if (argc == 1 && strcmp(argv[0], "list") == 0)
        return s_list();
    fprintf(stderr, "usage: hlctl actor-key create NAME KIND UNIT [PERSON] | revoke NAME | list\n");
    return 2;
}
