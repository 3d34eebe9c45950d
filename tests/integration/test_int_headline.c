/* test_int_headline: `hlctl demo --month-of-report` against a real cluster
 * (PostgreSQL, two buses, five daemons) makes a city whose headline figures,
 * read from reporting.headline as hl_analyst, come within 5% of the
 * report's; the figures the system does not record have no value. The
 * demo's own output, with the headline table, is kept in the test log. */
#include "hl_testflow.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* The report's figures (DOMAIN.md) that the system computes. */
static const struct {
    const char *figure; /* reporting.headline.figure */
    long report;        /* the report's figure */
} s_expected[] = {
    {"communities", 14},
    {"member_units", 260},
    {"compounds", 94},
    {"micro_grids", 251},
    {"households", 1433},
    {"mailboxes", 122},
    {"shopping_areas", 3},
    {"appeals", 2100},
    {"categories", 12},
    {"items", 366},
    {"items_resolved", 360},
    {"council_accepted", 698},
    {"council_resolved", 689},
    {"wishes_completed", 336},
    {"large_items_by_units", 28},
    {"pioneer_stations", 61},
    {"red_classrooms", 48},
};
#define S_NEXPECTED    (sizeof s_expected / sizeof s_expected[0])
#define S_NOT_RECORDED 10 /* figures with no value (README: "What the system cannot produce") */

static hl_cluster_t s_c;
static PGconn *s_db;
static bool s_ok = true;

static int s_setup(void **state)
{
    (void)state;
    return hl_test_cluster_up(&s_c, &s_db, "hl_int_headline", 2, NULL);
}

static int s_teardown(void **state)
{
    (void)state;
    hl_test_cluster_down(&s_c, s_db, s_ok);
    return 0;
}

static void test_month_of_report_matches_the_report(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "HL_DATABASE_URL='%s' HL_BASE_PORT=%d '%s' demo --month-of-report >%s/demo.log 2>&1",
             s_c.db_url, s_c.http_port[HL_T_INTAKE], hl_test_bin("hlctl"), s_c.dir);
    int rc = system(cmd);
    char path[512];
    snprintf(path, sizeof path, "%s/demo.log", s_c.dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[512];
    while (fgets(line, sizeof line, f))
        printf("    | %s", line);
    fclose(f);
    assert_int_equal(rc, 0);

    /* As the analysts read it. */
    hl_test_exec(s_db, "SET ROLE hl_analyst");
    PGresult *r =
        PQexec(s_db, "SELECT figure, value, report_value FROM reporting.headline ORDER BY ord");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    int matched = 0, unrecorded = 0, off = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *figure = PQgetvalue(r, i, 0);
        if (PQgetisnull(r, i, 1)) {
            unrecorded++;
            continue;
        }
        long value = atol(PQgetvalue(r, i, 1)), report = atol(PQgetvalue(r, i, 2));
        for (size_t k = 0; k < S_NEXPECTED; k++) {
            if (strcmp(s_expected[k].figure, figure) != 0)
                continue;
            matched++;
            assert_int_equal(report, s_expected[k].report);
            if (fabs((double)value / (double)report - 1.0) > 0.05) {
                printf("%s: %ld, the report says %ld (more than 5%% apart)\n", figure, value,
                       report);
                off++;
            }
        }
    }
    PQclear(r);
    hl_test_exec(s_db, "RESET ROLE");
    assert_int_equal(matched, (int)S_NEXPECTED);
    assert_int_equal(unrecorded, S_NOT_RECORDED);
    assert_int_equal(off, 0);

    /* The demo left the pipeline idle: nothing pending, nothing dead. */
    assert_int_equal(hl_test_countf(s_db, "SELECT count(*) FROM pipeline.message"
                                          " WHERE done_at IS NULL"),
                     0);
    s_ok = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_month_of_report_matches_the_report),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
