/* hl_testflow: a cluster per test binary, formatted queries and an appeal's
 * journey by tracking code, for the integration tests. */
#include "hl_testflow.h"
#include "hl_sha256.h"

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

void hl_test_appeal_case(hl_cluster_t *c, PGconn *db, json_t *req, char code[32], char id[64],
                         char item[64])
{
    char own_id[64];
    if (!id)
        id = own_id;
    json_decref(hl_test_post_appeal(c, req, code, id));
    assert_true(
        hl_test_waitf(db, 1, 30, "SELECT count(*) FROM triage.case WHERE appeal_id = '%s'", id));
    snprintf(item, 64, "%s",
             hl_test_textf(db, "SELECT item_id FROM triage.case WHERE appeal_id = '%s'", id));
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

int hl_test_actor(PGconn *db, const char *name, const char *kind, const char *unit,
                  const char *person, char key[65])
{
    char seed[128];
    snprintf(seed, sizeof seed, "hl-test-key:%s", name);
    char hash[65];
    hl_sha256_hex(seed, strlen(seed), key); /* the key: 64 hex digits */
    hl_sha256_hex(key, 64, hash);
    bool member = strcmp(kind, "member_unit") == 0;
    const char *params[6] = {name, kind, member ? NULL : unit, member ? unit : NULL, person, hash};
    PGresult *r = PQexecParams(
        db,
        "WITH a AS (INSERT INTO bounty.actor (name, kind, org_unit, member_unit, person)"
        "           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING)"
        " INSERT INTO bounty.api_key (actor, key_hash) SELECT $1, $6"
        "  WHERE NOT EXISTS (SELECT 1 FROM bounty.api_key WHERE key_hash = $6)",
        6, NULL, params, NULL, NULL, 0);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
    if (rc != 0)
        fprintf(stderr, "hl_test_actor %s: %s", name, PQerrorMessage(db));
    PQclear(r);
    return rc;
}

long hl_test_http_key(hl_cluster_t *c, int which, const char *method, const char *path,
                      json_t *body, json_t **out, const char *key)
{
    char auth[128];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", key ? key : "");
    const char *const headers[] = {auth, NULL};
    return hl_test_http(c, which, method, path, body, out, key ? headers : NULL);
}

long hl_test_publish_board(hl_cluster_t *c, PGconn *db, const char *board)
{
    char community[64], name[80], key[65], path[160];
    snprintf(community, sizeof community, "%s",
             hl_test_textf(db, "SELECT community FROM bounty.board WHERE id = '%s'", board));
    if (!community[0])
        return 404;
    snprintf(name, sizeof name, "commissioner-%s", community);
    if (hl_test_actor(db, name, "commissioner", community, NULL, key) != 0)
        return 0;
    snprintf(path, sizeof path, "/v1/boards/%s/publish", board);
    return hl_test_http_key(c, HL_T_BOUNTY, "POST", path, NULL, NULL, key);
}

long hl_test_reward_wish(hl_cluster_t *c, PGconn *db, const char *wish)
{
    char grid[64], community[64], board[64], path[160];
    snprintf(grid, sizeof grid, "%s",
             hl_test_textf(db,
                           "SELECT coalesce(w.micro_grid, g.code) FROM bounty.wish w"
                           " JOIN org.org_unit g ON g.parent = w.org_unit AND g.level ="
                           " 'micro_grid' WHERE w.id = '%s' ORDER BY g.code LIMIT 1",
                           wish));
    snprintf(community, sizeof community, "%s",
             hl_test_textf(db,
                           "SELECT u.parent FROM bounty.wish w JOIN org.org_unit u ON u.code = "
                           "w.org_unit WHERE w.id = '%s'",
                           wish));
    snprintf(board, sizeof board, "%s",
             hl_test_textf(db, "SELECT board_id FROM bounty.wish WHERE id = '%s'", wish));
    if (!grid[0] || !community[0] || !board[0])
        return 404;
    long st = hl_test_publish_board(c, db, board);
    if (st != 200 && st != 409)
        return st;
    char claimer[80], reviewer[80], claim_key[65], review_key[65];
    snprintf(claimer, sizeof claimer, "grid-%s", grid);
    snprintf(reviewer, sizeof reviewer, "reviewer-%s", community);
    if (hl_test_actor(db, claimer, "grid_org", grid, NULL, claim_key) != 0 ||
        hl_test_actor(db, reviewer, "reviewer", community, NULL, review_key) != 0)
        return 0;
    static const char *const steps[] = {"claim", "complete", "review"};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        json_t *b = i == 0   ? NULL
                    : i == 1 ? json_pack("{s:s}", "evidence", "已办结，照片已上传")
                             : json_pack("{s:s}", "decision", "approve");
        snprintf(path, sizeof path, "/v1/wishes/%s/%s", wish, steps[i]);
        st = hl_test_http_key(c, HL_T_BOUNTY, "POST", path, b, NULL,
                              i == 2 ? review_key : claim_key);
        json_decref(b);
        if (st != 200)
            return st;
    }
    return st;
}

size_t hl_test_messages(PGconn *db, const char *type, const ProtobufCMessageDescriptor *desc,
                        ProtobufCMessage ***out)
{
    const char *params[1] = {type};
    PGresult *r = PQexecParams(db,
                               "SELECT envelope FROM pipeline.message WHERE type = $1"
                               " ORDER BY created_at, id",
                               1, NULL, params, NULL, NULL, 1);
    size_t n = PQresultStatus(r) == PGRES_TUPLES_OK ? (size_t)PQntuples(r) : 0;
    *out = calloc(n ? n : 1, sizeof **out);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        Hl__Envelope *env = hl__envelope__unpack(NULL, (size_t)PQgetlength(r, (int)i, 0),
                                                 (const uint8_t *)PQgetvalue(r, (int)i, 0));
        if (!env)
            continue;
        ProtobufCMessage *m =
            protobuf_c_message_unpack(desc, NULL, env->payload.len, env->payload.data);
        hl__envelope__free_unpacked(env, NULL);
        if (m)
            (*out)[k++] = m;
    }
    PQclear(r);
    return k;
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
