/* hl_migrate: numbered SQL migrations, applied in order, each in its own
 * transaction, recorded in public.hl_migration. An advisory lock makes
 * concurrent migrators (several daemons started with HL_MIGRATE=1) take
 * turns; the second finds nothing left to do. The SQL is compiled into the
 * binaries from migrations/NNN_name.sql (scripts/embed-sql.sh). */
#ifndef HL_MIGRATE_H
#define HL_MIGRATE_H

#include <libpq-fe.h>
#include <stddef.h>

typedef struct {
    int version;      /* NNN from the file name */
    const char *name; /* file name without .sql */
    const char *sql;  /* the whole file */
} hl_migration_t;

extern const hl_migration_t hl_migrations[];
extern const size_t hl_migrations_count;

/* Applies every migration newer than the database's, on a blocking
 * connection. Writes how many were applied to *applied (may be NULL).
 * Returns 0 or HL_EDB (logged, with the failing migration named). */
int hl_migrate(PGconn *conn, int *applied);

#endif
