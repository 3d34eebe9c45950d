/* apikey.c: `hlctl api-key create NAME [RATE_PER_MIN]`, `hlctl api-key
 * revoke NAME` and `hlctl api-key list`: the keys machine clients (the
 * external platform, Open311 aggregators) present to hl-intake. A key is 32
 * random bytes shown once, in hex; only its SHA-256 is stored, so a leaked
 * database does not leak keys. hl-intake looks a key it does not know yet
 * up on first use, so a new key works at once, and reloads the active keys
 * every 2 seconds, so a revoked key is refused within about 2 s. */
#include "hl_sha256.h"
#include "hlctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *hlctl_key_name_problem(const char *name)
{
    bool ok = name[0] != '.' && name[0] != '_' && name[0] != '-';
    for (const char *p = name; *p && ok; p++)
        ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
             *p == '.' || *p == '_' || *p == '-';
    return ok ? NULL
              : "must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or "
                "digit";
}

bool hlctl_key_name_ok(const char *name)
{
    size_t n = strlen(name);
    return n >= 1 && n <= 64 && !hlctl_key_name_problem(name);
}

void hlctl_key_new(char key[65], char hash[65])
{
    unsigned char raw[32];
    hl_random_bytes(raw, sizeof raw);
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(key + 2 * i, 3, "%02x", raw[i]);
    hl_sha256_hex(key, 64, hash);
}

/* The arguments of `create`, checked as every daemon checks a request. */
static const hl_req_field_t s_create_args[] = {
    {.name = "name",
     .type = HL_REQ_TEXT,
     .flags = HL_REQ_REQUIRED,
     .max = 64,
     .check = hlctl_key_name_problem},
    {.name = "rate",
     .type = HL_REQ_INT,
     .min = 1,
     .max = 1000000,
     .hint = "must be a whole number of requests per minute from 1 to 1000000"},
    {0}};

static int s_create(const char *name, const char *rate)
{
    hl_req_pair_t args[] = {{"name", name}, {"rate", rate ? rate : ""}};
    hl_refusal_t why;
    if (hl_req_check_pairs(args, 2, s_create_args, NULL, &why) != 0) {
        fprintf(stderr, "hlctl: %s\n", why.message);
        return 2;
    }
    if (rate && !*rate)
        rate = NULL; /* empty: the default rate, as when not given */
    char key[65], hash[65];
    hlctl_key_new(key, hash);
    PGconn *conn = hlctl_connect();
    /* A revoked name may be given a new key; an active one may not. */
    const char *params[3] = {name, hash, rate};
    PGresult *r = hlctl_query(
        conn,
        "INSERT INTO intake.api_key (name, key_hash, rate_per_min) VALUES ($1, $2, $3::int)"
        " ON CONFLICT (name) DO UPDATE SET key_hash = EXCLUDED.key_hash,"
        " rate_per_min = EXCLUDED.rate_per_min, created_at = now(), revoked_at = NULL"
        " WHERE intake.api_key.revoked_at IS NOT NULL RETURNING id",
        3, params);
    int rows = PQntuples(r);
    PQclear(r);
    PQfinish(conn);
    if (rows != 1) {
        fprintf(stderr, "hlctl: an active key named \"%s\" exists; revoke it first\n", name);
        return 1;
    }
    printf("%s\n", key);
    fprintf(stderr, "api key \"%s\" created (shown once; hl-intake accepts it at once)\n", name);
    return 0;
}

int hlctl_key_revoke(const char *sql, const char *name, const char *what, const char *after)
{
    PGconn *conn = hlctl_connect();
    const char *params[1] = {name};
    PGresult *r = hlctl_query(conn, sql, 1, params);
    int rows = atoi(PQcmdTuples(r));
    PQclear(r);
    PQfinish(conn);
    if (rows != 1) {
        fprintf(stderr, "hlctl: no active %s named \"%s\"\n", what, name);
        return 1;
    }
    printf("%s \"%s\" revoked; %s\n", what, name, after);
    return 0;
}

int hlctl_key_list(const char *sql, const hlctl_column_t *columns, int ncolumns)
{
    PGconn *conn = hlctl_connect();
    PGresult *r = hlctl_query(conn, sql, 0, NULL);
    /* Row -1 is the header. */
    for (int i = -1; i < PQntuples(r); i++)
        for (int c = 0; c < ncolumns; c++)
            printf("%*s%s", columns[c].width, i < 0 ? columns[c].name : PQgetvalue(r, i, c),
                   c + 1 < ncolumns ? " " : "\n");
    PQclear(r);
    PQfinish(conn);
    return 0;
}

static int s_revoke(const char *name)
{
    return hlctl_key_revoke("UPDATE intake.api_key SET revoked_at = now()"
                            " WHERE name = $1 AND revoked_at IS NULL",
                            name, "api key", "hl-intake refuses it within about 2 s");
}

static int s_list(void)
{
    static const hlctl_column_t columns[] = {
        {"name", -24}, {"rate/min", 10}, {"created", 17}, {"revoked", 17}};
    return hlctl_key_list("SELECT name, coalesce(rate_per_min::text, 'default'),"
                          " to_char(created_at, 'YYYY-MM-DD HH24:MI'),"
                          " coalesce(to_char(revoked_at, 'YYYY-MM-DD HH24:MI'), '-')"
                          " FROM intake.api_key ORDER BY name",
                          columns, 4);
}

int hlctl_api_key(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[0], "create") == 0 && argc <= 3)
        return s_create(argv[1], argc == 3 ? argv[2] : NULL);
    if (argc == 2 && strcmp(argv[0], "revoke") == 0)
        return s_revoke(argv[1]);
    if (argc == 1 && strcmp(argv[0], "list") == 0)
        return s_list();
    fprintf(stderr, "usage: hlctl api-key create NAME [RATE_PER_MIN] | revoke NAME | list\n");
    return 2;
}
