/* test_migrate: the compiled-in migrations against a real PostgreSQL — a
 * fresh database gets all of them, a second run none, concurrent migrators
 * take turns, and a failing migration leaves nothing half-done. Needs
 * HL_TEST_PG; skipped without. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hl_err.h"
#include "hl_log.h"
#include "hl_migrate.h"
#include "hl_service.h"
#include "hl_testenv.h"

#define S_NEED_PG()                                                                                \
    do {                                                                                           \
        if (!hl_test_pg())                                                                         \
            skip();                                                                                \
    } while (0)

static void test_compiled_list(void **state)
{
    (void)state;
    /* The list is what the migration files hold: ordered, distinct, named. */
    assert_true(hl_migrations_count >= 2);
    assert_int_equal(hl_migrations[0].version, 1);
    assert_string_equal(hl_migrations[0].name, "001_base");
    for (size_t i = 0; i < hl_migrations_count; i++) {
        const hl_migration_t *m = &hl_migrations[i];
        assert_true(m->version > 0);
        char prefix[8];
        snprintf(prefix, sizeof prefix, "%03d_", m->version);
        assert_int_equal(strncmp(m->name, prefix, 4), 0);
        assert_true(strlen(m->sql) > 0);
        if (i > 0)
            assert_true(m->version > hl_migrations[i - 1].version);
    }
}

static void s_check_table(PGconn *c)
{
    assert_int_equal(hl_test_scalar(c, "SELECT count(*) FROM public.hl_migration"),
                     (long)hl_migrations_count);
    for (size_t i = 0; i < hl_migrations_count; i++) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM public.hl_migration WHERE version = %d AND name = '%s'",
                 hl_migrations[i].version, hl_migrations[i].name);
        assert_int_equal(hl_test_scalar(c, sql), 1);
    }
}

static void test_fresh_then_again(void **state)
{
    (void)state;
    S_NEED_PG();
    char *url = hl_test_create_db("hl_unit_migrate");
    PGconn *c = hl_test_connect(url);
    int applied = -1;
    assert_int_equal(hl_migrate(c, &applied), 0);
    assert_int_equal(applied, (int)hl_migrations_count);
    s_check_table(c);
    /* The schema is there: the pipeline table and its claim function. */
    assert_int_equal(hl_test_scalar(c, "SELECT count(*) FROM pipeline.message"), 0);
    assert_int_equal(hl_test_scalar(c, "SELECT count(*) FROM pg_proc WHERE proname = 'claim'"), 1);
    applied = -1;
    assert_int_equal(hl_migrate(c, &applied), 0);
    assert_int_equal(applied, 0);
    s_check_table(c);
    /* And the lock was released: another session can take it at once. */
    PGconn *other = hl_test_connect(url);
    assert_int_equal(hl_test_scalar(other, "SELECT pg_try_advisory_lock(7361402)::int"), 1);
    PQfinish(other);
    /* hl_service_migrate does the same from a URL. */
    assert_int_equal(hl_service_migrate(url), 0);
    s_check_table(c);
    PQfinish(c);
    free(url);
}

static void test_concurrent_migrators(void **state)
{
    (void)state;
    S_NEED_PG();
    char *url = hl_test_create_db("hl_unit_migrate_race");
    enum { N = 4 };
    pid_t pids[N];
    for (int i = 0; i < N; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            PGconn *c = PQconnectdb(url);
            if (PQstatus(c) != CONNECTION_OK)
                _exit(3);
            PQclear(PQexec(c, "SET client_min_messages = warning"));
            int applied = -1;
            int rc = hl_migrate(c, &applied);
            PQfinish(c);
            /* Exit status: 100 + applied on success. */
            _exit(rc == 0 ? 100 + applied : 2);
        }
    }
    int total = 0;
    for (int i = 0; i < N; i++) {
        int st = 0;
        assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
        assert_true(WIFEXITED(st));
        int code = WEXITSTATUS(st);
        if (code < 100)
            fail_msg("migrator %d failed with status %d", i, code);
        total += code - 100;
    }
    /* Exactly one of them applied everything, the others nothing. */
    assert_int_equal(total, (int)hl_migrations_count);
    PGconn *c = hl_test_connect(url);
    s_check_table(c);
    PQfinish(c);
    free(url);
}

static void test_failure_applies_nothing_more(void **state)
{
    (void)state;
    S_NEED_PG();
    char *url = hl_test_create_db("hl_unit_migrate_fail");
    PGconn *c = hl_test_connect(url);
    /* Something already in the way of the first migration. */
    PQclear(PQexec(c, "CREATE SCHEMA org"));
    int applied = -1;
    assert_int_equal(hl_migrate(c, &applied), HL_EDB);
    assert_int_equal(applied, 0);
    assert_int_equal(hl_test_scalar(c, "SELECT count(*) FROM public.hl_migration"), 0);
    /* Rolled back whole: none of 001's other schemas exist. */
    assert_int_equal(
        hl_test_scalar(c, "SELECT count(*) FROM pg_namespace WHERE nspname = 'pipeline'"), 0);
    /* The connection is usable and the lock free. */
    assert_int_equal(hl_test_scalar(c, "SELECT 1"), 1);
    PGconn *other = hl_test_connect(url);
    assert_int_equal(hl_test_scalar(other, "SELECT pg_try_advisory_lock(7361402)::int"), 1);
    PQfinish(other);
    /* Once the obstacle is gone, everything applies. */
    PQclear(PQexec(c, "DROP SCHEMA org"));
    assert_int_equal(hl_migrate(c, &applied), 0);
    assert_int_equal(applied, (int)hl_migrations_count);
    s_check_table(c);
    PQfinish(c);
    free(url);
}

static void test_unreachable_database(void **state)
{
    (void)state;
    char url[128];
    snprintf(url, sizeof url, "postgresql://postgres@127.0.0.1:%d/x?connect_timeout=2",
             hl_test_free_ports(1));
    assert_int_equal(hl_service_migrate(url), HL_EDB);
}

int main(void)
{
    hl_log_init("test_migrate", (hl_log_level_t)(HL_LOG_ERROR + 1));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compiled_list),
        cmocka_unit_test(test_fresh_then_again),
        cmocka_unit_test(test_concurrent_migrators),
        cmocka_unit_test(test_failure_applies_nothing_more),
        cmocka_unit_test(test_unreachable_database),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
