/* test_triage_item: the view triage.item_context (migration 025) and the one
 * function that turns its rows into a triage_item_t (item.c), against a
 * real, migrated PostgreSQL. Needs HL_TEST_PG; skipped without. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hl_service.h"
#include "hl_testenv.h"
#include "item.h"

static char *s_url;     /* the test database */
static PGconn *s_admin; /* blocking connection */

static void s_exec(const char *sql)
{
    PGresult *r = PQexec(s_admin, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(s_admin));
    PQclear(r);
}

static int s_group_setup(void **state)
{
    (void)state;
    if (!hl_test_pg())
        return 0;
    s_url = hl_test_create_db("hl_unit_triage_item");
    if (hl_service_migrate(s_url) != 0)
        return -1;
    s_admin = hl_test_connect(s_url);
    PQclear(PQexec(s_admin, "SET client_min_messages = warning"));
    PQclear(PQexec(s_admin, "SELECT org.seed_demo()"));
    return 0;
}

static int s_group_teardown(void **state)
{
    (void)state;
    if (s_admin) {
        PQfinish(s_admin);
        s_admin = NULL;
    }
    free(s_url);
    return 0;
}

/* The item of `id` through the view, filled by triage_item_fill; false
 * when the view has no such row. */
static bool s_read(const char *id, triage_item_t *it)
{
    const char *params[1] = {id};
    PGresult *r = PQexecParams(
        s_admin, "SELECT " TRIAGE_ITEM_COLUMNS " FROM triage.item_context WHERE id = $1::uuid", 1,
        NULL, params, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQnfields(r), 21); /* what triage_item_fill reads */
    bool found = PQntuples(r) == 1;
    if (found)
        triage_item_fill(it, r, 0);
    PQclear(r);
    return found;
}

static void test_item_context(void **state)
{
    (void)state;
    if (!s_admin)
        skip();
    /* A routed small item at a compound with two appeals, the later one
     * inserted first, and one escalation. */
    s_exec("INSERT INTO triage.item (id, size, category, org_unit, title, status, route, level,"
           " target, appeal_count, routed_at, compound, due_at, due_stage)"
           " SELECT 'aaaaaaaa-0000-4000-8000-000000000001', 'small', NULL, o.code, '路灯不亮',"
           " 'routed', 'council', 'compound', o.code, 2, now(), o.code,"
           " '2030-01-01T00:00:00Z', 'hear'"
           " FROM org.org_unit o WHERE o.level = 'compound' ORDER BY o.code LIMIT 1");
    s_exec("INSERT INTO triage.\"case\" (appeal_id, item_id, tracking_code, channel, org_unit,"
           " size, rule_id, rule_version, body, received_at, decided_at)"
           " SELECT a.id::uuid, 'aaaaaaaa-0000-4000-8000-000000000001', a.code, 'web', i.org_unit,"
           " 'small', 9999, 1, a.body, a.at::timestamptz, now()"
           " FROM triage.item i, (VALUES"
           "  ('bbbbbbbb-0000-4000-8000-000000000002', 'HLB', '第二封', '2026-01-02T00:00:00Z'),"
           "  ('bbbbbbbb-0000-4000-8000-000000000001', 'HLA', '第一封', '2026-01-01T00:00:00Z'))"
           "  a(id, code, body, at)"
           " WHERE i.id = 'aaaaaaaa-0000-4000-8000-000000000001'");
    triage_item_t it = {0};
    assert_true(s_read("aaaaaaaa-0000-4000-8000-000000000001", &it));
    assert_string_equal(it.id, "aaaaaaaa-0000-4000-8000-000000000001");
    assert_string_equal(it.version, "1");
    assert_string_equal(it.status, "routed");
    assert_true(triage_item_open(&it));
    assert_string_equal(it.route, "council");
    assert_string_equal(it.reopens, "0");
    assert_string_equal(it.size, "small");
    assert_null(it.category);
    assert_string_equal(it.level, "compound");
    assert_string_equal(it.org_level, "compound");
    assert_string_equal(it.target, it.org_unit);
    assert_string_equal(it.compound, it.org_unit);
    assert_non_null(it.parent); /* the compound's community */
    assert_string_equal(it.parent_level, "community");
    assert_string_equal(it.title, "路灯不亮");
    assert_string_equal(it.count, "2");
    assert_non_null(it.due);
    assert_string_equal(it.body, "第一封"); /* the first received, not the first inserted */
    assert_string_equal(
        it.appeals, "bbbbbbbb-0000-4000-8000-000000000001,bbbbbbbb-0000-4000-8000-000000000002");
    assert_null(it.history);
    triage_item_close(&it);
    assert_null(it.id);
    /* An unknown item: no row. */
    assert_false(s_read("aaaaaaaa-0000-4000-8000-00000000000f", &it));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_item_context),
    };
    return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
