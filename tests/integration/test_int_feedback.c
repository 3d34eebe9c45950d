/* test_int_feedback: residents answer a resolution with their tracking code
 * (POST /v1/appeals/{code}/confirm and .../reopen) on a real cluster. A
 * small appeal resolved by its council is confirmed (once: a second answer
 * is 409); another is reopened, goes back to a fresh council hearing, is
 * resolved again, reopened again and then climbs a level as a large item
 * onto the alliance's agenda, while the resident's status follows every
 * step. Refusals (404, 409, 422) store nothing. The tests run in order and
 * share one cluster. */
#include "hl_testflow.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static hl_cluster_t s_c;
static PGconn *s_db;
static bool s_ok = true;

static int s_setup(void **state)
{
    (void)state;
    static const char *const env[] = {"HL_RESEND_AFTER_MS=500", "HL_SWEEP_INTERVAL_MS=200", NULL};
    return hl_test_cluster_up(&s_c, &s_db, "hl_int_feedback", 1, env);
}

static int s_teardown(void **state)
{
    (void)state;
    hl_test_cluster_down(&s_c, s_db, s_ok);
    return 0;
}

/* Posts a small appeal and waits until hl-intake shows it routed to a
 * council; writes its id, tracking code and item id. */
static void s_appeal(const char *org_unit, const char *body, char id[64], char code[32],
                     char item[64])
{
    hl_test_appeal_case(&s_c, s_db,
                        json_pack("{s:s, s:s, s:s, s:s}", "channel", "qr", "org_unit", org_unit,
                                  "category", "neighbour", "body", body),
                        code, id, item);
    assert_true(
        hl_test_waitf(s_db, 1, 30,
                      "SELECT count(*) FROM intake.appeal WHERE id = '%s' AND status = 'routed'"
                      " AND size = 'small'",
                      id));
    assert_string_equal(hl_test_textf(s_db, "SELECT route FROM triage.item WHERE id = '%s'", item),
                        "council");
}

/* The council hears item `item`; waits until appeal `id` shows resolved. */
static void s_hear(const char *item, const char *id, const char *outcome)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/items/%s/council", item);
    json_t *rec = json_pack("{s:s, s:[s,s,s], s:s, s:s}", "venue", "晚茶议事厅", "attendees",
                            "party_branch", "owners_committee", "property_company", "decision",
                            "三方约定调解", "outcome", outcome);
    long st = hl_test_http(&s_c, HL_T_TRIAGE, "POST", path, rec, NULL, NULL);
    json_decref(rec);
    assert_int_equal(st, 200);
    assert_true(hl_test_waitf(
        s_db, 1, 30, "SELECT count(*) FROM intake.appeal WHERE id = '%s' AND status = 'resolved'",
        id));
}

/* POST /v1/appeals/{code}/{what} with `reason` (NULL: no body). Returns the
 * status; *out (may be NULL) gets the reply. */
static long s_answer(const char *code, const char *what, const char *reason, json_t **out)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/appeals/%s/%s", code, what);
    json_t *body = reason ? json_pack("{s:s}", "reason", reason) : NULL;
    long st = hl_test_http(&s_c, HL_T_INTAKE, "POST", path, body, out, NULL);
    json_decref(body);
    return st;
}

static void test_confirm(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    char id[64], code[32], item[64];
    s_appeal("cp002", "楼上邻居每天半夜在家里跳绳，咚咚响，说了几次都不听，想请议事会调解", id,
             code, item);
    /* Not resolved yet: 409 naming the status, nothing stored. */
    json_t *out = NULL;
    assert_int_equal(s_answer(code, "confirm", NULL, &out), 409);
    assert_string_equal(hl_test_error_field(out), "tracking_code");
    assert_non_null(strstr(
        json_string_value(json_object_get(json_object_get(out, "error"), "message")), "routed"));
    json_decref(out);
    s_hear(item, id, "双方约定晚十点后不再跳绳");
    out = NULL;
    assert_int_equal(s_answer(code, "confirm", "问题解决了，谢谢", &out), 200);
    assert_string_equal(json_string_value(json_object_get(out, "status")), "confirmed");
    assert_string_equal(json_string_value(json_object_get(out, "tracking_code")), code);
    json_decref(out);
    /* A second answer is refused; confirmed is final. */
    assert_int_equal(s_answer(code, "confirm", NULL, NULL), 409);
    assert_int_equal(s_answer(code, "reopen", "又开始跳了", NULL), 409);
    assert_int_equal(
        hl_test_countf(s_db,
                       "SELECT count(*) FROM intake.appeal_event WHERE appeal_id = '%s'"
                       " AND status IN ('confirmed', 'reopened')",
                       id),
        1);
    /* The history shows it; triage records it and changes nothing else. */
    char path[64];
    snprintf(path, sizeof path, "/v1/appeals/%s", code);
    out = NULL;
    assert_int_equal(hl_test_http(&s_c, HL_T_INTAKE, "GET", path, NULL, &out, NULL), 200);
    assert_string_equal(json_string_value(json_object_get(out, "status")), "confirmed");
    json_t *hist = json_object_get(out, "history");
    json_t *last = json_array_get(hist, json_array_size(hist) - 1);
    assert_string_equal(json_string_value(json_object_get(last, "status")), "confirmed");
    assert_string_equal(json_string_value(json_object_get(last, "detail")), "问题解决了，谢谢");
    json_decref(out);
    assert_true(hl_test_waitf(s_db, 1, 30,
                              "SELECT count(*) FROM triage.feedback WHERE appeal_id = '%s'"
                              " AND kind = 'confirm' AND effect = 'recorded' AND item_id = '%s'",
                              id, item));
    assert_string_equal(hl_test_textf(s_db, "SELECT status FROM triage.item WHERE id = '%s'", item),
                        "resolved");
    assert_int_equal(
        hl_test_countf(s_db, "SELECT reopen_count FROM triage.item WHERE id = '%s'", item), 0);
    assert_int_equal(hl_test_countf(s_db,
                                    "SELECT count(*) FROM reporting.feedback WHERE appeal_id = '%s'"
                                    " AND kind = 'confirm'",
                                    id),
                     1);
    s_ok = true;
}

static void test_reopen_twice(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    char id[64], code[32], item[64];
    s_appeal("cp003", "隔壁邻居在公共走廊堆满杂物，进出都要侧身，协商多次无果，请求评理", id, code,
             item);
    const char *level0 = "compound";
    assert_string_equal(hl_test_textf(s_db, "SELECT level FROM triage.item WHERE id = '%s'", item),
                        level0);
    s_hear(item, id, "邻居答应一周内清走杂物");
    long version = hl_test_countf(s_db, "SELECT version FROM triage.item WHERE id = '%s'", item);
    /* Refusals store nothing: no reason, an empty one, an unknown field,
     * an unknown or malformed code. */
    json_t *out = NULL;
    assert_int_equal(s_answer(code, "reopen", NULL, &out), 422);
    assert_string_equal(hl_test_error_field(out), "reason");
    json_decref(out);
    out = NULL;
    assert_int_equal(s_answer(code, "reopen", "   ", &out), 422);
    assert_string_equal(hl_test_error_field(out), "reason");
    json_decref(out);
    char path[128];
    snprintf(path, sizeof path, "/v1/appeals/%s/reopen", code);
    json_t *bad = json_pack("{s:s, s:s}", "reason", "没清", "phone", "13800000000");
    out = NULL;
    assert_int_equal(hl_test_http(&s_c, HL_T_INTAKE, "POST", path, bad, &out, NULL), 422);
    assert_string_equal(hl_test_error_field(out), "phone");
    json_decref(out);
    json_decref(bad);
    char *longer = malloc(3 * 501 + 1);
    longer[0] = '\0';
    for (int i = 0; i < 501; i++)
        strcat(longer, "杂");
    out = NULL;
    assert_int_equal(s_answer(code, "reopen", longer, &out), 422);
    assert_string_equal(hl_test_error_field(out), "reason");
    json_decref(out);
    free(longer);
    out = NULL;
    assert_int_equal(s_answer("HL0000000000", "reopen", "没清", &out), 404);
    assert_string_equal(hl_test_error_field(out), "tracking_code");
    json_decref(out);
    assert_int_equal(s_answer("nonsense", "confirm", NULL, NULL), 404);
    assert_string_equal(hl_test_textf(s_db, "SELECT status FROM intake.appeal WHERE id = '%s'", id),
                        "resolved");
    assert_int_equal(hl_test_countf(s_db,
                                    "SELECT count(*) FROM pipeline.message WHERE stage = 'feedback'"
                                    " AND trace_id = '%s'",
                                    id),
                     0);

    /* First reopening: back to a fresh council hearing. */
    out = NULL;
    assert_int_equal(s_answer(code, "reopen", "杂物还在，没有清走", &out), 200);
    assert_string_equal(json_string_value(json_object_get(out, "status")), "reopened");
    json_decref(out);
    assert_string_equal(hl_test_textf(s_db, "SELECT status FROM intake.appeal WHERE id = '%s'", id),
                        "reopened");
    assert_true(
        hl_test_waitf(s_db, 1, 30,
                      "SELECT count(*) FROM triage.item WHERE id = '%s' AND status = 'routed'"
                      " AND reopen_count = 1 AND resolved_at IS NULL AND outcome IS NULL"
                      " AND due_stage = 'hear' AND route = 'council'",
                      item));
    assert_int_equal(hl_test_countf(s_db, "SELECT version FROM triage.item WHERE id = '%s'", item),
                     version + 1);
    assert_int_equal(hl_test_countf(s_db,
                                    "SELECT count(*) FROM triage.council WHERE item_id = '%s'"
                                    " AND decision IS NULL AND recorded_at IS NULL",
                                    item),
                     1);
    assert_string_equal(
        hl_test_textf(s_db,
                      "SELECT hearing->>'outcome' FROM triage.feedback WHERE appeal_id"
                      " = '%s' AND effect = 'council'",
                      id),
        "邻居答应一周内清走杂物");
    /* The resident's history shows it routed to the council again, status
     * still reopened. */
    assert_true(hl_test_waitf(s_db, 2, 30,
                              "SELECT count(*) FROM intake.appeal_event WHERE appeal_id = '%s'"
                              " AND status = 'routed' AND detail = 'to council'",
                              id));
    assert_string_equal(hl_test_textf(s_db, "SELECT status FROM intake.appeal WHERE id = '%s'", id),
                        "reopened");
    /* A second reopening while it is not resolved is refused. */
    assert_int_equal(s_answer(code, "reopen", "还是没清", NULL), 409);

    /* The council hears it again: resolved again, and reopened again. */
    s_hear(item, id, "物业与居委会协助清运杂物");
    assert_int_equal(
        hl_test_countf(s_db,
                       "SELECT count(*) FROM intake.appeal_event WHERE appeal_id = '%s'"
                       " AND status = 'resolved'",
                       id),
        2);
    out = NULL;
    assert_int_equal(s_answer(code, "reopen", "清了又堆回来了", &out), 200);
    json_decref(out);
    /* Second reopening: up one level, a large item for the alliance. */
    assert_true(
        hl_test_waitf(s_db, 1, 30,
                      "SELECT count(*) FROM triage.item WHERE id = '%s' AND status = 'routed'"
                      " AND reopen_count = 2 AND size = 'large' AND route = 'alliance'"
                      " AND level = 'community'",
                      item));
    assert_string_equal(
        hl_test_textf(s_db, "SELECT target FROM triage.item WHERE id = '%s'", item),
        hl_test_textf(s_db, "SELECT parent FROM org.org_unit WHERE code = 'cp003'"));
    assert_int_equal(hl_test_countf(s_db,
                                    "SELECT count(*) FROM triage.escalation WHERE item_id = '%s'"
                                    " AND reason = 'reopened' AND from_level = 'compound'"
                                    " AND to_level = 'community'",
                                    item),
                     1);
    assert_true(hl_test_waitf(
        s_db, 1, 30, "SELECT count(*) FROM alliance.agenda_item WHERE item_id = '%s'", item));
    assert_true(
        hl_test_waitf(s_db, 1, 30,
                      "SELECT count(*) FROM intake.appeal WHERE id = '%s' AND status = 'escalated'"
                      " AND size = 'large'",
                      id));
    assert_int_equal(
        hl_test_countf(s_db,
                       "SELECT count(*) FROM intake.appeal_event WHERE appeal_id = '%s'"
                       " AND detail = 'to escalated'",
                       id),
        1);
    assert_int_equal(hl_test_countf(s_db,
                                    "SELECT count(*) FROM reporting.feedback WHERE appeal_id = '%s'"
                                    " AND kind = 'reopen'",
                                    id),
                     2);
    /* Nothing was dead-lettered on the way. */
    assert_int_equal(
        hl_test_countf(s_db, "SELECT count(*) FROM pipeline.message WHERE dead_at IS NOT NULL"), 0);
    s_ok = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_confirm),
        cmocka_unit_test(test_reopen_twice),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
