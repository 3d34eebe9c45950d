/* db.c: hlctl's connection to PostgreSQL. A command-line tool runs one
 * thing and exits, so it uses blocking libpq and exits on the first
 * database error with the server's message. */
#include "hlctl.h"

#include <stdio.h>
#include <stdlib.h>

PGconn *hlctl_connect(void)
{
    const char *url = getenv("HL_DATABASE_URL");
    if (!url)
        url = "postgresql://localhost:5432/hongling";
    PGconn *conn = PQconnectdb(url);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "hlctl: could not connect to the database: %s", PQerrorMessage(conn));
        exit(1);
    }
    PQclear(PQexec(conn, "SET client_min_messages = warning"));
    return conn;
}

PGresult *hlctl_query(PGconn *conn, const char *sql, int n, const char *const *params)
{
    PGresult *r = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        fprintf(stderr, "hlctl: query failed: %s", PQresultErrorMessage(r));
        PQclear(r);
        PQfinish(conn);
        exit(1);
    }
    return r;
}
