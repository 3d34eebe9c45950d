/* hl_testflow: a cluster per test binary, formatted queries and an appeal's
 * journey by tracking code, for the integration tests. */
#include "hl_testflow.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

int hl_test_cluster_up(hl_cluster_t *c, PGconn **db, const char *name, int nbuses,
                       const char *const *env)
{
    if (!hl_test_pg())
        return 0;
    for (int i = 0; env && env[i] && i < 8; i++)
        c->extra_env[i] = env[i];
    if (hl_cluster_start(c, name, nbuses) != 0)
        return -1;
    *db = hl_test_connect(c->db_url);
    return 0;
}

void hl_test_cluster_down(hl_cluster_t *c, PGconn *db, bool ok)
{
    if (!hl_test_pg())
        return;
    PQfinish(db);
    hl_cluster_close(c, ok);
}

void hl_test_disconnect(PGconn **db, char **url)
{
    if (*db)
        PQfinish(*db);
    *db = NULL;
    free(*url);
    *url = NULL;
}

void hl_test_exec(PGconn *db, const char *sql)
{
    PGresult *r = PQexec(db, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
}

long hl_test_countf(PGconn *db, const char *fmt, ...)
{
    char sql[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return hl_test_scalar(db, sql);
}

bool hl_test_waitf(PGconn *db, long want, double seconds, const char *fmt, ...)
{
    char sql[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return hl_test_wait_scalar(db, sql, want, seconds);
}

const char *hl_test_textf(PGconn *db, const char *fmt, ...)
{
    static char out[128];
    char sql[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    PGresult *r = PQexec(db, sql);
    out[0] = '\0';
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        snprintf(out, sizeof out, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return out;
}

json_t *hl_test_post_appeal(hl_cluster_t *c, json_t *req, char code[32], char id[64])
{
    json_t *out = NULL;
    long st = hl_test_http(c, HL_T_INTAKE, "POST", "/v1/appeals", req, &out, NULL);
    json_decref(req);
    assert_int_equal(st, 201);
    if (code)
        snprintf(code, 32, "%s", json_string_value(json_object_get(out, "tracking_code")));
    if (id)
        snprintf(id, 64, "%s", json_string_value(json_object_get(out, "id")));
    return out;
}

json_t *hl_test_track(hl_cluster_t *c, const char *code, const char *status)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/appeals/%s", code);
    for (int i = 0; i < (int)(600 * hl_test_mult()); i++) {
        json_t *out = NULL;
        long st = hl_test_http(c, HL_T_INTAKE, "GET", path, NULL, &out, NULL);
        assert_int_equal(st, 200);
        const char *now = json_string_value(json_object_get(out, "status"));
        if (now && strcmp(now, status) == 0)
            return out;
        json_decref(out);
        usleep(50000);
    }
    fail_msg("appeal %s never reached status %s", code, status);
    return NULL;
}

bool hl_test_history_has(json_t *appeal, const char *status)
{
    json_t *h = json_object_get(appeal, "history");
    for (size_t i = 0; i < json_array_size(h); i++)
        if (strcmp(json_string_value(json_object_get(json_array_get(h, i), "status")), status) == 0)
            return true;
    return false;
}

long hl_test_reward_wish(hl_cluster_t *c, PGconn *db, const char *wish)
{
    char grid[64], community[64], path[160];
    snprintf(grid, sizeof grid, "%s",
             hl_test_textf(db,
                           "SELECT g.code FROM bounty.wish w JOIN org.org_unit g ON g.parent = "
                           "w.org_unit AND g.level = 'micro_grid' WHERE w.id = '%s' ORDER BY "
                           "g.code LIMIT 1",
                           wish));
    snprintf(community, sizeof community, "%s",
             hl_test_textf(db,
                           "SELECT u.parent FROM bounty.wish w JOIN org.org_unit u ON u.code = "
                           "w.org_unit WHERE w.id = '%s'",
                           wish));
    if (!grid[0] || !community[0])
        return 404;
    static const char *const steps[] = {"claim", "complete", "review"};
    long st = 0;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        json_t *b =
            i == 0 ? json_pack("{s:s}", "claimant", grid)
            : i == 1 ? json_pack("{s:s, s:s}", "claimant", grid, "evidence", "已办结，照片已上传")
                     : json_pack("{s:s, s:s}", "reviewer", community, "decision", "approve");
        snprintf(path, sizeof path, "/v1/wishes/%s/%s", wish, steps[i]);
        st = hl_test_http(c, HL_T_BOUNTY, "POST", path, b, NULL, NULL);
        json_decref(b);
        if (st != 200)
            return st;
    }
    return st;
}

const char *hl_test_error_field(json_t *reply)
{
    return json_string_value(json_object_get(json_object_get(reply, "error"), "field"));
}

void hl_test_assert_settled(PGconn *db, int accepted)
{
    assert_int_equal(hl_test_scalar(db, "SELECT count(*) FROM intake.appeal"), accepted);
    assert_true(hl_test_wait_scalar(
        db, "SELECT count(*) FROM pipeline.message WHERE done_at IS NULL AND dead_at IS NULL", 0,
        180));
    assert_int_equal(hl_test_scalar(db, "SELECT count(*) FROM pipeline.message WHERE dead_at IS "
                                        "NOT NULL"),
                     0);
    assert_int_equal(hl_test_scalar(db, "SELECT count(*) FROM triage.case"), accepted);
    assert_int_equal(hl_test_scalar(db, "SELECT count(*) FROM intake.appeal a WHERE NOT EXISTS "
                                        "(SELECT 1 FROM triage.case c WHERE c.appeal_id = a.id)"),
                     0);
    /* Exactly one decision reached each resident's history. */
    assert_int_equal(hl_test_scalar(db, "SELECT count(*) FROM (SELECT appeal_id FROM "
                                        "intake.appeal_event WHERE status = 'classified' GROUP BY "
                                        "1 HAVING count(*) <> 1) d"),
                     0);
    assert_int_equal(hl_test_scalar(db, "SELECT count(*) FROM intake.appeal WHERE status = "
                                        "'received'"),
                     0);
    /* Downstream got each wish item and each large item once (appeals that
     * joined an existing item through consolidation send nothing more). */
    assert_int_equal(hl_test_scalar(db, "SELECT count(*) FROM bounty.wish"),
                     hl_test_scalar(db, "SELECT count(*) FROM triage.item WHERE size = 'wish'"));
    assert_int_equal(hl_test_scalar(db, "SELECT count(*) FROM alliance.agenda_item"),
                     hl_test_scalar(db, "SELECT count(*) FROM triage.item WHERE size = 'large'"));
}
