/* hl_migrate: apply the compiled-in migrations. Start-up code, so it uses
 * blocking libpq on purpose: nothing else runs until the schema is right. */
#include "hl_migrate.h"

#include "hl_err.h"
#include "hl_log.h"

#include <stdio.h>
#include <stdlib.h>

/* Any constant shared by every migrator; chosen once, never changed. */
#define HL_MIGRATE_LOCK "7361402"

static int s_exec(PGconn *conn, const char *sql, const char *what)
{
    PGresult *r = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(r);
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : HL_EDB;
    if (rc != 0)
        hl_error("migration", what, "could not run migration step: %s", PQresultErrorMessage(r));
    PQclear(r);
    return rc;
}

int hl_migrate(PGconn *conn, int *applied)
{
    int count = 0;
    int rc = s_exec(conn,
                    "SELECT pg_advisory_lock(" HL_MIGRATE_LOCK ");"
                    "CREATE TABLE IF NOT EXISTS public.hl_migration ("
                    " version integer PRIMARY KEY, name text NOT NULL,"
                    " applied_at timestamptz NOT NULL DEFAULT now())",
                    "lock");
    if (rc != 0)
        goto out_unlock;
    for (size_t i = 0; i < hl_migrations_count; i++) {
        const hl_migration_t *m = &hl_migrations[i];
        char version[16];
        snprintf(version, sizeof version, "%d", m->version);
        const char *params[2] = {version, m->name};
        PGresult *r = PQexecParams(conn, "SELECT 1 FROM public.hl_migration WHERE version = $1", 1,
                                   NULL, params, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            hl_error("migration", m->name, "could not read migration table: %s",
                     PQresultErrorMessage(r));
            PQclear(r);
            rc = HL_EDB;
            goto out_unlock;
        }
        int done = PQntuples(r);
        PQclear(r);
        if (done)
            continue;
        if ((rc = s_exec(conn, "BEGIN", m->name)) != 0)
            goto out_unlock;
        if ((rc = s_exec(conn, m->sql, m->name)) != 0) {
            s_exec(conn, "ROLLBACK", m->name);
            goto out_unlock;
        }
        r = PQexecParams(conn, "INSERT INTO public.hl_migration (version, name) VALUES ($1, $2)", 2,
                         NULL, params, NULL, NULL, 0);
        rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : HL_EDB;
        PQclear(r);
        if (rc != 0 || (rc = s_exec(conn, "COMMIT", m->name)) != 0) {
            s_exec(conn, "ROLLBACK", m->name);
            goto out_unlock;
        }
        hl_info("migration", m->name, "applied migration %d", m->version);
        count++;
    }
out_unlock:
    s_exec(conn, "SELECT pg_advisory_unlock(" HL_MIGRATE_LOCK ")", "unlock");
    if (applied)
        *applied = count;
    return rc;
}
