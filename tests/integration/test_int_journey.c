/* test_int_journey: one appeal of every size through every stage of a real
 * cluster (PostgreSQL, two buses, five daemons), asserting the rows each
 * stage writes and the status a resident sees with their tracking code.
 *
 * The same journey runs twice: once as deployed, once with every daemon in
 * the duplicate-send test mode (HL_DUPLICATE_SENDS=1: every envelope pushed
 * after commit, and by the sweeper, is pushed twice), where each effect must
 * still happen once and the consumers must have dropped duplicates. */
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

static hl_cluster_t s_c;
static PGconn *s_db;
static bool s_ok = true;

static int s_setup(void **state)
{
    (void)state;
    static const char *const env[] = {"HL_RESEND_AFTER_MS=500", "HL_SWEEP_INTERVAL_MS=200", NULL};
    s_ok = true;
    return hl_test_cluster_up(&s_c, &s_db, "hl_int_journey", 2, env);
}

static int s_setup_duplicates(void **state)
{
    (void)state;
    static const char *const env[] = {"HL_RESEND_AFTER_MS=500", "HL_SWEEP_INTERVAL_MS=200",
                                      "HL_DUPLICATE_SENDS=1", NULL};
    s_ok = true;
    return hl_test_cluster_up(&s_c, &s_db, "hl_int_journey_dup", 2, env);
}

static int s_teardown(void **state)
{
    (void)state;
    hl_test_cluster_down(&s_c, s_db, s_ok);
    return 0;
}

/* Posts an appeal with a contact; writes its tracking code and id. */
static void s_post(const char *channel, const char *org_unit, const char *body, char code[32],
                   char id[64])
{
    json_t *out = hl_test_post_appeal(&s_c,
                                      json_pack("{s:s, s:s, s:s, s:{s:s, s:s}}", "channel", channel,
                                                "org_unit", org_unit, "body", body, "contact",
                                                "name", "张某", "phone", "13900001111"),
                                      code, id);
    assert_non_null(out);
    assert_string_equal(json_string_value(json_object_get(out, "status")), "received");
    json_decref(out);
}

static void test_small_goes_to_council(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    char code[32], id[64];
    s_post("phone", "cp006",
           "春江花城十四号楼楼上住户半夜经常大声喧哗，邻里多次沟通无果，请求调解。", code, id);
    json_t *a = hl_test_track(&s_c, code, "routed");
    assert_string_equal(json_string_value(json_object_get(a, "size")), "small");
    const char *item = json_string_value(json_object_get(a, "item_id"));
    assert_non_null(item);
    assert_true(hl_test_history_has(a, "received"));
    assert_true(hl_test_history_has(a, "classified"));
    assert_true(hl_test_history_has(a, "routed"));
    assert_null(json_object_get(a, "contact")); /* never any contact data */
    assert_int_equal(
        hl_test_countf(s_db,
                       "SELECT count(*) FROM triage.case WHERE appeal_id = '%s' AND size = "
                       "'small'",
                       id),
        1);
    assert_int_equal(
        hl_test_countf(s_db, "SELECT count(*) FROM triage.council WHERE item_id = '%s'", item), 1);

    char path[128];
    snprintf(path, sizeof path, "/v1/items/%s/council", item);
    json_t *rec = json_pack("{s:s, s:[s,s,s], s:s, s:s}", "venue", "晚茶议事厅", "attendees",
                            "party_branch", "owners_committee", "property_company", "decision",
                            "物业三日内上门调解", "outcome", "双方达成公约");
    assert_int_equal(hl_test_http(&s_c, HL_T_TRIAGE, "POST", path, rec, NULL, NULL), 200);
    /* A second hearing of a resolved item is a conflict, not a second resolution. */
    assert_int_equal(hl_test_http(&s_c, HL_T_TRIAGE, "POST", path, rec, NULL, NULL), 409);
    json_decref(rec);
    json_decref(a);
    a = hl_test_track(&s_c, code, "resolved");
    assert_true(hl_test_history_has(a, "resolved"));
    json_decref(a);
    s_ok = true;
}

static void test_wish_claimed_and_rewarded(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    char code[32], id[64];
    s_post("visit", "cp005",
           "入户探访丹桂园独居老人罗奶奶，老人不会用手机交水电费，想请志愿者按月代为缴纳。", code,
           id);
    json_t *a = hl_test_track(&s_c, code, "routed");
    assert_string_equal(json_string_value(json_object_get(a, "size")), "wish");
    const char *item = json_string_value(json_object_get(a, "item_id"));
    assert_true(
        hl_test_waitf(s_db, 1, 30, "SELECT count(*) FROM bounty.wish WHERE item_id = '%s'", item));

    json_t *list = NULL;
    assert_int_equal(hl_test_http(&s_c, HL_T_BOUNTY, "GET", "/v1/wishes?status=open&org_unit=cp005",
                                  NULL, &list, NULL),
                     200);
    const char *wish = NULL;
    json_t *wishes = json_object_get(list, "wishes");
    for (size_t i = 0; i < json_array_size(wishes); i++) {
        json_t *w = json_array_get(wishes, i);
        if (strcmp(json_string_value(json_object_get(w, "item_id")), item) == 0)
            wish = json_string_value(json_object_get(w, "id"));
    }
    assert_non_null(wish);

    /* The claimant: the party group of a micro-grid of the same compound,
     * with its key; the reviewer: the community's. */
    PGresult *r = PQexec(s_db, "SELECT code FROM org.org_unit WHERE parent = 'cp005' AND level = "
                               "'micro_grid' ORDER BY code LIMIT 1");
    char grid[32], community[32], path[160], board[64], name[64];
    char grid_key[65], reviewer_key[65];
    snprintf(grid, sizeof grid, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    r = PQexec(s_db, "SELECT parent FROM org.org_unit WHERE code = 'cp005'");
    snprintf(community, sizeof community, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    snprintf(name, sizeof name, "grid-%s", grid);
    assert_int_equal(hl_test_actor(s_db, name, "grid_org", grid, NULL, grid_key), 0);
    snprintf(name, sizeof name, "reviewer-%s", community);
    assert_int_equal(hl_test_actor(s_db, name, "reviewer", community, NULL, reviewer_key), 0);

    /* The board is a draft until the commissioner publishes it. */
    snprintf(path, sizeof path, "/v1/wishes/%s/claim", wish);
    assert_int_equal(hl_test_http_key(&s_c, HL_T_BOUNTY, "POST", path, NULL, NULL, grid_key), 409);
    snprintf(board, sizeof board, "%s",
             hl_test_textf(s_db, "SELECT board_id FROM bounty.wish WHERE id = '%s'", wish));
    long published = hl_test_publish_board(&s_c, s_db, board);
    assert_true(published == 200 || published == 409);

    assert_int_equal(hl_test_http_key(&s_c, HL_T_BOUNTY, "POST", path, NULL, NULL, grid_key), 200);
    assert_int_equal(hl_test_http_key(&s_c, HL_T_BOUNTY, "POST", path, NULL, NULL, grid_key), 409);
    json_t *b = json_pack("{s:s}", "evidence", "已代缴十一月水电费，收据已拍照");
    snprintf(path, sizeof path, "/v1/wishes/%s/complete", wish);
    assert_int_equal(hl_test_http_key(&s_c, HL_T_BOUNTY, "POST", path, b, NULL, grid_key), 200);
    json_decref(b);
    /* No points before the community approves. */
    assert_int_equal(
        hl_test_countf(s_db, "SELECT count(*) FROM points.ledger WHERE account = '%s'", grid), 0);
    b = json_pack("{s:s}", "decision", "approve");
    snprintf(path, sizeof path, "/v1/wishes/%s/review", wish);
    assert_int_equal(hl_test_http_key(&s_c, HL_T_BOUNTY, "POST", path, b, NULL, reviewer_key), 200);
    assert_int_equal(hl_test_http_key(&s_c, HL_T_BOUNTY, "POST", path, b, NULL, reviewer_key), 409);
    json_decref(b);

    assert_true(hl_test_waitf(s_db, 1, 30,
                              "SELECT count(*) FROM points.ledger WHERE account = '%s'", grid));
    json_t *bal = NULL;
    snprintf(path, sizeof path, "/v1/balances/%s", grid);
    assert_int_equal(hl_test_http(&s_c, HL_T_POINTS, "GET", path, NULL, &bal, NULL), 200);
    assert_true(json_integer_value(json_object_get(bal, "balance")) > 0);
    json_decref(bal);
    json_decref(list);
    json_decref(a);
    a = hl_test_track(&s_c, code, "resolved");
    json_decref(a);
    s_ok = true;
}

static void test_large_goes_to_alliance(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    char code[32], id[64];
    s_post("web", "cp010",
           "红旗路下穿隧道排水能力不足，短时强降雨即积水封闭，建议市政部门增设强排泵站。", code,
           id);
    json_t *a = hl_test_track(&s_c, code, "routed");
    assert_string_equal(json_string_value(json_object_get(a, "size")), "large");
    char item[64];
    snprintf(item, sizeof item, "%s", json_string_value(json_object_get(a, "item_id")));
    assert_true(hl_test_waitf(
        s_db, 1, 30, "SELECT count(*) FROM alliance.agenda_item WHERE item_id = '%s'", item));

    json_t *m = NULL;
    assert_int_equal(hl_test_http(&s_c, HL_T_ALLIANCE, "GET", "/v1/meetings/next", NULL, &m, NULL),
                     200);
    const char *mid = json_string_value(json_object_get(json_object_get(m, "meeting"), "id"));
    assert_non_null(mid);
    char path[160];
    snprintf(path, sizeof path, "/v1/meetings/%s/outcomes", mid);
    json_t *b = json_pack("{s:s, s:s, s:s}", "item_id", item, "outcome",
                          "市城管局牵头，汛前完成泵站建设", "unit", "mu001");
    assert_int_equal(hl_test_http(&s_c, HL_T_ALLIANCE, "POST", path, b, NULL, NULL), 200);
    assert_int_equal(hl_test_http(&s_c, HL_T_ALLIANCE, "POST", path, b, NULL, NULL), 409);
    json_decref(b);
    json_decref(m);
    json_decref(a);
    a = hl_test_track(&s_c, code, "resolved");
    json_decref(a);
    assert_true(hl_test_waitf(s_db, 1, 30,
                              "SELECT count(*) FROM triage.item WHERE id = '%s' AND status = "
                              "'resolved'",
                              item));
    s_ok = true;
}

static void test_idempotency_key(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    long before = hl_test_countf(s_db, "SELECT count(*) FROM intake.appeal");
    const char *hdr[] = {"Idempotency-Key: journey-1", NULL};
    json_t *req = json_pack("{s:s, s:s, s:s}", "channel", "mailbox", "org_unit", "cp003", "body",
                            "惠民小区9幢北侧绿化带被车辆长期碾压占用。");
    json_t *a = NULL, *b = NULL;
    assert_int_equal(hl_test_http(&s_c, HL_T_INTAKE, "POST", "/v1/appeals", req, &a, hdr), 201);
    assert_int_equal(hl_test_http(&s_c, HL_T_INTAKE, "POST", "/v1/appeals", req, &b, hdr), 200);
    assert_string_equal(json_string_value(json_object_get(a, "tracking_code")),
                        json_string_value(json_object_get(b, "tracking_code")));
    json_object_set_new(req, "body", json_string("另一件事"));
    assert_int_equal(hl_test_http(&s_c, HL_T_INTAKE, "POST", "/v1/appeals", req, NULL, hdr), 422);
    assert_int_equal(hl_test_countf(s_db, "SELECT count(*) FROM intake.appeal"), before + 1);
    json_decref(req);
    json_decref(a);
    json_decref(b);
    s_ok = true;
}

static void test_bad_input_stores_nothing(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    long before = hl_test_countf(s_db, "SELECT count(*) FROM intake.appeal");
    static const struct {
        const char *body;  /* request body */
        long status;       /* expected status */
        const char *field; /* expected error field, or NULL */
    } cases[] = {
        {"{\"channel\":\"qr\",\"org_unit\":\"cp001\"", 400, NULL},
        {"[1,2]", 400, NULL},
        {"{\"org_unit\":\"cp001\",\"body\":\"x\"}", 422, "channel"},
        {"{\"channel\":\"fax\",\"org_unit\":\"cp001\",\"body\":\"x\"}", 422, "channel"},
        {"{\"channel\":\"qr\",\"org_unit\":\"nowhere\",\"body\":\"x\"}", 422, "org_unit"},
        {"{\"channel\":\"qr\",\"org_unit\":\"cp001\",\"body\":\"x\",\"category\":\"zzz\"}", 422,
         "category"},
        {"{\"channel\":\"qr\",\"org_unit\":\"cp001\",\"body\":\"   \"}", 422, "body"},
        {"{\"channel\":\"qr\",\"org_unit\":\"cp001\",\"body\":\"x\",\"location\":{\"lat\":91,"
         "\"lon\":0}}",
         422, "location.lat"},
        {"{\"channel\":\"qr\",\"org_unit\":\"cp001\",\"body\":\"x\",\"contact\":{\"phone\":\"abc\"}"
         "}",
         422, "contact.phone"},
        {"{\"channel\":\"qr\",\"org_unit\":\"cp001\",\"body\":\"x\",\"extra\":1}", 422, "extra"},
        {"{\"channel\":\"qr\",\"org_unit\":\"cp001\",\"body\":\"\xff\xfe\"}", 400, NULL},
        {"{\"channel\":\"qr\",\"org_unit\":\"cp001\",\"body\":\"x'); DROP TABLE intake.appeal;--\","
         "\"category\":\"' OR 1=1 --\"}",
         422, "category"},
    };
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/appeals", s_c.http_port[HL_T_INTAKE]);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = NULL;
        long st = hl_test_http_raw(url, "POST", "application/json", cases[i].body,
                                   strlen(cases[i].body), &out, NULL);
        json_t *j = json_loads(out, 0, NULL);
        if (st != cases[i].status)
            fail_msg("case %zu: status %ld, want %ld: %s", i, st, cases[i].status, out);
        json_t *err = json_object_get(j, "error");
        assert_non_null(err);
        assert_non_null(json_string_value(json_object_get(err, "message")));
        if (cases[i].field)
            assert_string_equal(json_string_value(json_object_get(err, "field")), cases[i].field);
        json_decref(j);
        free(out);
    }
    /* Over the body limit: refused from the Content-Length alone. */
    size_t big = 2 * 1024 * 1024;
    char *huge = malloc(big);
    memset(huge, 'a', big);
    assert_int_equal(hl_test_http_raw(url, "POST", "application/json", huge, big, NULL, NULL), 413);
    free(huge);
    /* Wrong content type, unknown tracking code, unknown endpoint. */
    assert_int_equal(hl_test_http_raw(url, "POST", "text/plain", "{}", 2, NULL, NULL), 415);
    assert_int_equal(
        hl_test_http(&s_c, HL_T_INTAKE, "GET", "/v1/appeals/HL0000000000", NULL, NULL, NULL), 404);
    assert_int_equal(hl_test_http(&s_c, HL_T_INTAKE, "GET", "/v1/nothing", NULL, NULL, NULL), 404);
    assert_int_equal(hl_test_http(&s_c, HL_T_INTAKE, "DELETE", "/v1/appeals", NULL, NULL, NULL),
                     405);
    assert_int_equal(hl_test_countf(s_db, "SELECT count(*) FROM intake.appeal"), before);
    s_ok = true;
}

static void test_reference_data(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    json_t *cats = NULL, *units = NULL;
    assert_int_equal(hl_test_http(&s_c, HL_T_INTAKE, "GET", "/v1/categories", NULL, &cats, NULL),
                     200);
    assert_int_equal(json_array_size(cats), 12);
    assert_non_null(json_string_value(json_object_get(json_array_get(cats, 0), "name")));
    assert_int_equal(
        hl_test_http(&s_c, HL_T_INTAKE, "GET", "/v1/org-units?level=compound", NULL, &units, NULL),
        200);
    assert_int_equal(json_array_size(units), 94);
    assert_non_null(json_string_value(json_object_get(json_array_get(units, 0), "parent")));
    assert_int_equal(
        hl_test_http(&s_c, HL_T_INTAKE, "GET", "/v1/org-units?level=planet", NULL, NULL, NULL),
        400);
    json_decref(cats);
    json_decref(units);
}

static void test_every_daemon_reports(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    for (int d = HL_T_INTAKE; d < HL_T_COUNT; d++) {
        json_t *h = NULL;
        assert_int_equal(hl_test_http(&s_c, d, "GET", "/healthz", NULL, &h, NULL), 200);
        assert_string_equal(json_string_value(json_object_get(h, "status")), "ok");
        json_decref(h);
        assert_int_equal(hl_test_http(&s_c, d, "GET", "/readyz", NULL, NULL, NULL), 200);
        char url[128], *text = NULL;
        snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", s_c.http_port[d]);
        assert_int_equal(hl_test_http_raw(url, "GET", NULL, NULL, 0, &text, NULL), 200);
        assert_non_null(strstr(text, "# TYPE hl_pipeline_consumed_total counter"));
        free(text);
    }
}

/* With every envelope pushed twice: each appeal has one case and one
 * decision, each item one resolution, each wish and council one points award, each large
 * item one agenda entry, and the consumers saw (and dropped) duplicates. */
static void test_sent_twice_applied_once(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    assert_true(hl_test_waitf(
        s_db, 0, 30,
        "SELECT count(*) FROM pipeline.message WHERE done_at IS NULL AND dead_at IS NULL"));
    long appeals = hl_test_countf(s_db, "SELECT count(*) FROM intake.appeal");
    assert_true(appeals >= 3);
    assert_int_equal(hl_test_countf(s_db, "SELECT count(*) FROM triage.case"), appeals);
    assert_int_equal(hl_test_countf(s_db, "SELECT count(DISTINCT appeal_id) FROM triage.case"),
                     appeals);
    static const char *const once[] = {"classified", "routed", "resolved"};
    for (size_t i = 0; i < sizeof once / sizeof once[0]; i++)
        assert_int_equal(hl_test_countf(s_db,
                                        "SELECT count(*) FROM (SELECT appeal_id FROM "
                                        "intake.appeal_event WHERE status = '%s' GROUP BY 1 "
                                        "HAVING count(*) > 1) d",
                                        once[i]),
                         0);
    /* The three journeys' appeals were all resolved, each once. */
    assert_int_equal(
        hl_test_countf(s_db, "SELECT count(*) FROM intake.appeal_event WHERE status = 'resolved'"),
        3);
    /* One award for the wish, one for the council held, each once. */
    assert_int_equal(
        hl_test_countf(s_db, "SELECT count(*) FROM points.ledger WHERE source_kind = 'wish'"), 1);
    assert_int_equal(
        hl_test_countf(s_db, "SELECT count(*) FROM points.ledger WHERE source_kind = 'council'"),
        hl_test_countf(s_db, "SELECT count(*) FROM triage.council WHERE recorded_at IS NOT NULL"));
    assert_int_equal(hl_test_countf(s_db, "SELECT coalesce(sum(amount), 0) FROM points.posting"),
                     0);
    assert_int_equal(hl_test_countf(s_db, "SELECT count(*) FROM bounty.wish"),
                     hl_test_countf(s_db, "SELECT count(*) FROM triage.item WHERE size = 'wish'"));
    assert_int_equal(hl_test_countf(s_db, "SELECT count(*) FROM alliance.agenda_item"),
                     hl_test_countf(s_db, "SELECT count(*) FROM triage.item WHERE size = 'large'"));
    assert_int_equal(
        hl_test_countf(s_db, "SELECT count(*) FROM pipeline.message WHERE dead_at IS NOT NULL"), 0);
    double duplicates = 0;
    for (int d = HL_T_INTAKE; d < HL_T_COUNT; d++) {
        double n = hl_test_metric(&s_c, d, "hl_pipeline_duplicates_total");
        assert_true(n >= 0);
        duplicates += n;
    }
    /* Every stage the journeys used saw its second copies dropped. */
    static const char *const stages[] = {"appeal",   "status",     "bounty",
                                         "alliance", "resolution", "points"};
    for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++) {
        char series[96];
        snprintf(series, sizeof series, "hl_pipeline_duplicates_total{stage=\"%s\"}", stages[i]);
        double n = 0;
        for (int d = HL_T_INTAKE; d < HL_T_COUNT; d++) {
            double v = hl_test_metric(&s_c, d, series);
            n += v > 0 ? v : 0;
        }
        fprintf(stderr, "journey: stage %s: %.0f duplicates dropped\n", stages[i], n);
        assert_true(n > 0);
    }
    fprintf(stderr, "journey: %ld appeals, %.0f duplicate deliveries dropped, every effect once\n",
            appeals, duplicates);
    s_ok = true;
}

static void test_pipeline_settles_and_drains(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    assert_true(
        hl_test_waitf(s_db, 0, 30, "SELECT count(*) FROM pipeline.message WHERE done_at IS NULL"));
    assert_int_equal(
        hl_test_countf(s_db, "SELECT count(*) FROM pipeline.message WHERE dead_at IS NOT NULL"), 0);
    assert_int_equal(hl_test_countf(s_db, "SELECT count(*) FROM pipeline.dead_letter"), 0);
    /* Graceful drain: SIGTERM, every process exits 0. */
    assert_int_equal(hl_cluster_stop(&s_c), 0);
    s_ok = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_data),
        cmocka_unit_test(test_small_goes_to_council),
        cmocka_unit_test(test_wish_claimed_and_rewarded),
        cmocka_unit_test(test_large_goes_to_alliance),
        cmocka_unit_test(test_idempotency_key),
        cmocka_unit_test(test_bad_input_stores_nothing),
        cmocka_unit_test(test_every_daemon_reports),
        cmocka_unit_test(test_pipeline_settles_and_drains),
    };
    const struct CMUnitTest twice[] = {
        cmocka_unit_test(test_small_goes_to_council),
        cmocka_unit_test(test_wish_claimed_and_rewarded),
        cmocka_unit_test(test_large_goes_to_alliance),
        cmocka_unit_test(test_sent_twice_applied_once),
        cmocka_unit_test(test_pipeline_settles_and_drains),
    };
    int failed = cmocka_run_group_tests_name("integration: journey", tests, s_setup, s_teardown);
    return failed + cmocka_run_group_tests_name("integration: journey, every envelope sent twice",
                                                twice, s_setup_duplicates, s_teardown);
}
