/* test_int_triage: hl-triage's items on a real cluster — consolidation of
 * similar appeals into one item resolved once for all, a redelivered
 * AppealReceived changing nothing, the commissioner's override with a
 * version conflict, merge and split, the working-day calendar, and a
 * deadline firing through the injectable clock (HL_CLOCK_OFFSET_S, after a
 * restart: deadlines live in PostgreSQL). The tests run in order and share
 * one cluster. */
#include "hl_testflow.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <signal.h>
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
    /* The index of open items is loaded at start and then never followed
     * (HL_INDEX_SYNC_MS one hour): every change made behind its back must
     * still give each appeal exactly one right case. Three connections
     * (the default is one): a join, its redo and an item's opener ride the
     * community's shard, as they do where operators raise the number. */
    static const char *const env[] = {"HL_RESEND_AFTER_MS=500",  "HL_SWEEP_INTERVAL_MS=200",
                                      "HL_DEADLINE_SCAN_MS=200", "HL_INDEX_SYNC_MS=3600000",
                                      "HL_TRIAGE_CONNECTIONS=3", NULL};
    return hl_test_cluster_up(&s_c, &s_db, "hl_int_triage", 1, env);
}

static int s_teardown(void **state)
{
    (void)state;
    hl_test_cluster_down(&s_c, s_db, s_ok);
    return 0;
}

/* Posts an appeal and waits until triage has its case; writes its id and
 * its item id. */
static void s_appeal(const char *org_unit, const char *channel, const char *body, char id[64],
                     char item[64])
{
    hl_test_appeal_case(
        &s_c, s_db,
        json_pack("{s:s, s:s, s:s}", "channel", channel, "org_unit", org_unit, "body", body), NULL,
        id, item);
}

static long s_post(const char *path, json_t *body, json_t **out)
{
    long st = hl_test_http(&s_c, HL_T_TRIAGE, "POST", path, body, out, NULL);
    json_decref(body);
    return st;
}

static void test_consolidate_and_resolve(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    char a[64], b[64], c[64], ia[64], ib[64], ic[64];
    s_appeal("cp001", "phone", "青枫苑十一幢的声控灯坏掉半个月了，物业讲要统一换，到现在也没换。",
             a, ia);
    s_appeal("cp001", "qr", "青枫苑11号楼楼梯声控灯全不亮，拍手跺脚都没用，晚上上楼只能开手机电筒",
             b, ib);
    /* Another matter in the same compound stays apart. */
    s_appeal("cp001", "qr", "青枫苑有人把电动车推进电梯里，还在楼道里充电，太危险了", c, ic);
    assert_string_equal(ia, ib);
    assert_string_not_equal(ia, ic);
    assert_int_equal(
        hl_test_countf(s_db, "SELECT appeal_count FROM triage.item WHERE id = '%s'", ia), 2);
    assert_int_equal(
        hl_test_countf(s_db, "SELECT count(*) FROM triage.council WHERE item_id = '%s'", ia), 1);
    assert_int_equal(
        hl_test_countf(s_db, "SELECT appeals FROM reporting.item_appeals WHERE item_id = '%s'", ia),
        2);
    /* Both appeals are told the same item. */
    assert_true(
        hl_test_waitf(s_db, 2, 30,
                      "SELECT count(*) FROM intake.appeal WHERE item_id = '%s' AND status = "
                      "'routed'",
                      ia));
    char path[128];
    snprintf(path, sizeof path, "/v1/items/%s/council", ia);
    json_t *rec = json_pack("{s:s, s:[s,s,s], s:s, s:s}", "venue", "晚茶议事厅", "attendees",
                            "party_branch", "owners_committee", "property_company", "decision",
                            "物业本周更换11栋楼道声控灯", "outcome", "已更换");
    assert_int_equal(s_post(path, rec, NULL), 200);
    /* Resolving the item resolves every appeal in it. */
    assert_true(
        hl_test_waitf(s_db, 2, 30,
                      "SELECT count(*) FROM intake.appeal WHERE id IN ('%s', '%s') AND status "
                      "= 'resolved'",
                      a, b));
    assert_int_equal(
        hl_test_countf(s_db,
                       "SELECT count(*) FROM intake.appeal WHERE id = '%s' AND status = "
                       "'resolved'",
                       c),
        0);
    s_ok = true;
}

/* The race of issue 8: the item an appeal would join is resolved after the
 * index saw it open and before the join commits. The join fails in SQL and
 * the appeal is decided again in the same delivery: exactly one case, in a
 * new item, and the resolved item keeps its one appeal. */
static void test_join_race_decides_again(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    char a[64], b[64], ia[64], ib[64];
    s_appeal("cp002", "phone", "蓝湾丽都5号楼电梯坏了三天，老人上不了楼。", a, ia);
    char path[128];
    snprintf(path, sizeof path, "/v1/items/%s/council", ia);
    json_t *rec = json_pack("{s:s, s:[s,s,s], s:s, s:s}", "venue", "红色议事厅", "attendees",
                            "party_branch", "owners_committee", "property_company", "decision",
                            "物业联系电梯公司维修", "outcome", "已修好");
    assert_int_equal(s_post(path, rec, NULL), 200);
    /* The index still believes the item open (it is never synced here). */
    s_appeal("cp002", "qr", "蓝湾丽都5栋的电梯又停了，困在一楼上不去", b, ib);
    assert_string_not_equal(ia, ib);
    assert_int_equal(
        hl_test_countf(s_db, "SELECT count(*) FROM triage.case WHERE appeal_id = '%s'", b), 1);
    assert_int_equal(
        hl_test_countf(s_db, "SELECT appeal_count FROM triage.item WHERE id = '%s'", ia), 1);
    assert_int_equal(hl_test_countf(s_db,
                                    "SELECT count(*) FROM triage.case WHERE appeal_id = '%s' AND "
                                    "opened_item AND item_id = '%s'",
                                    b, ib),
                     1);
    assert_true(hl_test_waitf(s_db, 0, 30,
                              "SELECT count(*) FROM pipeline.message WHERE stage = 'appeal' AND "
                              "done_at IS NULL AND trace_id = '%s'",
                              b));
    s_ok = true;
}

/* A stack of letters about one matter arrives at once (a batch): the
 * decisions overlap in time, yet they make one item, not one each. */
static void test_letters_arriving_together_make_one_item(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    static const char batch[] = "{\"channel\":\"mailbox\",\"org_unit\":\"cp009\",\"body\":"
                                "\"汇景园8号楼楼顶太阳能热水管漏水，"
                                "外墙渗湿，请协调维修。\"}\n"
                                "{\"channel\":\"mailbox\",\"org_unit\":\"cp009\",\"body\":"
                                "\"汇景园八号楼顶上的太阳能热水器管子漏水，"
                                "墙都湿透了，希望尽快修。\"}\n"
                                "{\"channel\":\"mailbox\",\"org_unit\":\"cp009\",\"body\":"
                                "\"汇景园8号楼太阳能热水管漏水好几天，"
                                "七楼外墙渗湿发霉。\"}\n";
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/appeals/batch", s_c.http_port[HL_T_INTAKE]);
    assert_int_equal(
        hl_test_http_raw(url, "POST", "application/x-ndjson", batch, strlen(batch), NULL, NULL),
        200);
    assert_true(hl_test_waitf(s_db, 3, 30,
                              "SELECT count(*) FROM triage.case c JOIN intake.appeal a ON "
                              "a.id = c.appeal_id WHERE a.org_unit = 'cp009' AND a.body LIKE "
                              "'%%太阳能热水%%'"));
    assert_int_equal(hl_test_countf(s_db, "SELECT count(DISTINCT c.item_id) FROM triage.case c "
                                          "JOIN intake.appeal a ON a.id = c.appeal_id WHERE "
                                          "a.org_unit = 'cp009' AND a.body LIKE '%%太阳能热水%%'"),
                     1);
    /* Why each joined, beside the rule that sized it: one case opened the
     * item; the two others record the score (at least the threshold, 0.75 by
     * default: HL_CONSOLIDATE_PERMILLE), the
     * text similarity and how many items were compared. */
    assert_int_equal(hl_test_countf(s_db,
                                    "SELECT count(*) FROM triage.case c JOIN intake.appeal a"
                                    " ON a.id = c.appeal_id WHERE a.body LIKE '%%太阳能热水%%'"
                                    " AND c.opened_item AND c.rule_id IS NOT NULL"),
                     1);
    assert_int_equal(hl_test_countf(s_db,
                                    "SELECT count(*) FROM triage.case c JOIN intake.appeal a"
                                    " ON a.id = c.appeal_id WHERE a.body LIKE '%%太阳能热水%%'"
                                    " AND NOT c.opened_item AND c.join_score >= 0.75"
                                    " AND c.similarity > 0 AND c.compared >= 1"
                                    " AND c.rule_id IS NOT NULL"),
                     2);
    /* The commissioner reads the same through GET /v1/items/{id}. */
    char path[96];
    snprintf(path, sizeof path, "/v1/items/%s",
             hl_test_textf(s_db, "SELECT c.item_id FROM triage.case c JOIN intake.appeal a"
                                 " ON a.id = c.appeal_id WHERE a.body LIKE '%%太阳能热水%%'"
                                 " LIMIT 1"));
    json_t *it = NULL;
    assert_int_equal(hl_test_http(&s_c, HL_T_TRIAGE, "GET", path, NULL, &it, NULL), 200);
    json_t *appeals = json_object_get(it, "appeals");
    assert_int_equal(json_array_size(appeals), 3);
    int opened = 0, joined = 0;
    for (size_t i = 0; i < json_array_size(appeals); i++) {
        json_t *a = json_array_get(appeals, i);
        if (json_is_true(json_object_get(a, "opened_item")))
            opened++;
        else if (json_number_value(json_object_get(a, "join_score")) >= 0.75 &&
                 json_number_value(json_object_get(a, "similarity")) > 0 &&
                 json_integer_value(json_object_get(a, "compared")) >= 1)
            joined++;
        assert_true(json_is_integer(json_object_get(a, "rule_id")));
    }
    json_decref(it);
    assert_int_equal(opened, 1);
    assert_int_equal(joined, 2);
    s_ok = true;
}

/* The same matter reported again just after its item was resolved opens a
 * new item: triage's memory of its recent decisions does not offer the
 * resolved one (if it did, the appeal could never join it and would be
 * re-sent until dead-lettered when nothing else arrives). */
static void test_reported_again_after_resolution(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    const char *text = "汇景园三号楼门口的路灯坏了两个星期，晚上出门看不清路。";
    char a[64], b[64], ia[64], ib[64], path[128];
    s_appeal("cp009", "phone", text, a, ia);
    snprintf(path, sizeof path, "/v1/items/%s/council", ia);
    json_t *rec = json_pack("{s:s, s:[s,s,s], s:s, s:s}", "venue", "晚茶议事厅", "attendees",
                            "party_branch", "owners_committee", "property_company", "decision",
                            "物业换路灯", "outcome", "已更换");
    assert_int_equal(s_post(path, rec, NULL), 200);
    s_appeal("cp009", "qr", text, b, ib);
    assert_string_not_equal(ia, ib);
    s_ok = true;
}

static void test_redelivered_appeal_changes_nothing(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    char a[64], ia[64];
    s_appeal("cp005", "phone",
             "丹桂园有户人家在楼下空地堆放收来的废品，纸板塑料瓶堆成山，招蟑螂老鼠。", a, ia);
    long decisions =
        hl_test_countf(s_db,
                       "SELECT count(*) FROM pipeline.message WHERE type = 'TriageDecision'"
                       " AND trace_id = '%s'",
                       a);
    assert_int_equal(decisions, 1);
    /* The pipeline re-sends the message as if its first delivery was lost,
     * to a process that never saw it (a fresh hl-triage: the one that
     * applied it would drop the copy in memory before the database), so
     * only the claim and the case's key stand between it and a second case. */
    hl_cluster_kill(&s_c, HL_T_TRIAGE, SIGTERM);
    assert_int_equal(hl_cluster_spawn(&s_c, HL_T_TRIAGE), 0);
    PQclear(PQexec(s_db, "UPDATE pipeline.message SET done_at = NULL, done_by = NULL,"
                         " next_attempt_at = now() WHERE type = 'AppealReceived'"));
    assert_true(hl_test_waitf(s_db, 0, 30,
                              "SELECT count(*) FROM pipeline.message WHERE type = 'AppealReceived'"
                              " AND done_at IS NULL"));
    assert_int_equal(
        hl_test_countf(s_db, "SELECT count(*) FROM triage.case WHERE appeal_id = '%s'", a), 1);
    assert_int_equal(
        hl_test_countf(s_db, "SELECT appeal_count FROM triage.item WHERE id = '%s'", ia), 1);
    assert_int_equal(
        hl_test_countf(s_db,
                       "SELECT count(*) FROM pipeline.message WHERE type = 'TriageDecision'"
                       " AND trace_id = '%s'",
                       a),
        1);
    assert_int_equal(
        hl_test_countf(s_db, "SELECT sum(appeal_count) FROM triage.item WHERE status <> 'merged'"),
        hl_test_countf(s_db, "SELECT count(*) FROM triage.case"));
    s_ok = true;
}

static void test_override_conflict(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    char a[64], ia[64], path[128];
    s_appeal("cp002", "qr", "蓝湾丽都3栋楼下的垃圾桶一直没人清，臭得很", a, ia);
    assert_string_equal(hl_test_textf(s_db, "SELECT size FROM triage.item WHERE id = '%s'", ia),
                        "small");
    long version = hl_test_countf(s_db, "SELECT version FROM triage.item WHERE id = '%s'", ia);
    snprintf(path, sizeof path, "/v1/items/%s/override", ia);
    /* Bad input: 422 naming the field, nothing stored. */
    json_t *out = NULL;
    assert_int_equal(
        s_post(path, json_pack("{s:s, s:I}", "reason", "x", "version", (json_int_t)version), &out),
        422);
    json_decref(out);
    assert_int_equal(s_post(path,
                            json_pack("{s:s, s:s, s:I}", "size", "huge", "reason", "x", "version",
                                      (json_int_t)version),
                            NULL),
                     422);
    assert_int_equal(s_post(path, json_pack("{s:s, s:s}", "size", "large", "reason", "x"), NULL),
                     422);
    assert_int_equal(
        hl_test_countf(s_db, "SELECT count(*) FROM triage.override WHERE item_id = '%s'", ia), 0);
    /* Two commissioners acting on the same version: one wins. */
    long first =
        s_post(path,
               json_pack("{s:s, s:s, s:I}", "size", "large", "reason",
                         "整个片区的垃圾清运都停了，需要街道协调", "version", (json_int_t)version),
               NULL);
    long second = s_post(path,
                         json_pack("{s:s, s:s, s:I}", "category", "property", "reason", "物业问题",
                                   "version", (json_int_t)version),
                         NULL);
    assert_int_equal(first, 200);
    assert_int_equal(second, 409);
    assert_int_equal(
        hl_test_countf(s_db, "SELECT count(*) FROM triage.override WHERE item_id = '%s'", ia), 1);
    assert_string_equal(hl_test_textf(s_db, "SELECT size FROM triage.item WHERE id = '%s'", ia),
                        "large");
    assert_string_equal(hl_test_textf(s_db, "SELECT category FROM triage.item WHERE id = '%s'", ia),
                        "environment");
    /* The automatic decision is kept beside it. */
    assert_string_equal(
        hl_test_textf(s_db, "SELECT size FROM triage.case WHERE appeal_id = '%s'", a), "small");
    assert_int_equal(hl_test_countf(s_db, "SELECT version FROM triage.item WHERE id = '%s'", ia),
                     version + 1);
    /* Re-routed: now on the alliance's agenda, and the resident told. */
    assert_true(hl_test_waitf(
        s_db, 1, 30, "SELECT count(*) FROM alliance.agenda_item WHERE item_id = '%s'", ia));
    assert_true(hl_test_waitf(
        s_db, 1, 30, "SELECT count(*) FROM intake.appeal WHERE id = '%s' AND size = 'large'", a));
    snprintf(path, sizeof path, "/v1/items/%s/override", "00000000-0000-4000-8000-000000000000");
    assert_int_equal(
        s_post(path, json_pack("{s:s, s:s, s:i}", "size", "large", "reason", "x", "version", 1),
               NULL),
        404);
    s_ok = true;
}

static void test_merge_and_split(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    char a[64], b[64], ia[64], ib[64], path[128];
    s_appeal("cp003", "qr", "惠民小区地下车库有人把车位用地锁锁住，那是公共车位不是他家的。", a,
             ia);
    s_appeal("cp003", "web", "惠民小区9幢北侧绿化带被车辆长期碾压占用，建议物业设置隔离桩。", b,
             ib);
    assert_string_not_equal(ia, ib);
    snprintf(path, sizeof path, "/v1/items/%s/merge", ia);
    assert_int_equal(s_post(path, json_pack("{s:s, s:s}", "into", ia, "reason", "x"), NULL), 422);
    assert_int_equal(
        s_post(path, json_pack("{s:s, s:s}", "into", ib, "reason", "同一批车主占用公共区域"), NULL),
        200);
    assert_string_equal(hl_test_textf(s_db, "SELECT status FROM triage.item WHERE id = '%s'", ia),
                        "merged");
    assert_int_equal(
        hl_test_countf(s_db, "SELECT appeal_count FROM triage.item WHERE id = '%s'", ib), 2);
    assert_int_equal(
        hl_test_countf(s_db, "SELECT count(*) FROM triage.case WHERE item_id = '%s'", ib), 2);
    assert_true(hl_test_waitf(
        s_db, 1, 30, "SELECT count(*) FROM intake.appeal WHERE id = '%s' AND item_id = '%s'", a,
        ib));
    /* Merged already: a conflict. */
    assert_int_equal(s_post(path, json_pack("{s:s, s:s}", "into", ib, "reason", "again"), NULL),
                     409);
    /* Split appeal a out again. */
    snprintf(path, sizeof path, "/v1/items/%s/split", ib);
    assert_int_equal(
        s_post(path, json_pack("{s:[s,s], s:s}", "appeal_ids", a, b, "reason", "x"), NULL), 422);
    assert_int_equal(s_post(path,
                            json_pack("{s:[s], s:s}", "appeal_ids",
                                      "00000000-0000-4000-8000-000000000000", "reason", "x"),
                            NULL),
                     422);
    json_t *out = NULL;
    assert_int_equal(
        s_post(path, json_pack("{s:[s], s:s}", "appeal_ids", a, "reason", "其实是两件事"), &out),
        200);
    const char *fresh = json_string_value(json_object_get(out, "new_item_id"));
    assert_non_null(fresh);
    assert_int_equal(
        hl_test_countf(s_db, "SELECT appeal_count FROM triage.item WHERE id = '%s'", ib), 1);
    assert_int_equal(
        hl_test_countf(s_db, "SELECT appeal_count FROM triage.item WHERE id = '%s'", fresh), 1);
    assert_string_equal(
        hl_test_textf(s_db, "SELECT item_id FROM triage.case WHERE appeal_id = '%s'", a), fresh);
    assert_int_equal(
        hl_test_countf(s_db, "SELECT count(*) FROM triage.council WHERE item_id = '%s'", fresh), 1);
    assert_int_equal(
        hl_test_countf(s_db,
                       "SELECT count(*) FROM triage.override WHERE kind IN ('merge', 'split')"),
        2);
    json_decref(out);
    s_ok = true;
}

static void test_working_days(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    /* The National Day week is off; Sunday 20 September 2026 is worked. */
    assert_string_equal(hl_test_textf(s_db,
                                      "SELECT triage.add_working_days('2026-09-30 10:00+08', 1)"
                                      " AT TIME ZONE 'Asia/Shanghai'"),
                        "2026-10-08 10:00:00");
    assert_string_equal(hl_test_textf(s_db,
                                      "SELECT triage.add_working_days('2026-09-18 10:00+08', 2)"
                                      " AT TIME ZONE 'Asia/Shanghai'"),
                        "2026-09-21 10:00:00");
    assert_string_equal(hl_test_textf(s_db,
                                      "SELECT triage.add_working_days('2026-03-06 09:00+08', 1)"
                                      " AT TIME ZONE 'Asia/Shanghai'"),
                        "2026-03-09 09:00:00");
    /* A category's own limit wins over the default. */
    assert_string_equal(
        hl_test_textf(s_db, "SELECT triage.deadline('2026-03-02 09:00+08', 'small', 'hear',"
                            " 'safety') AT TIME ZONE 'Asia/Shanghai'"),
        "2026-03-04 09:00:00");
    assert_string_equal(
        hl_test_textf(s_db, "SELECT triage.deadline('2026-03-02 09:00+08', 'small', 'hear',"
                            " 'parking') AT TIME ZONE 'Asia/Shanghai'"),
        "2026-03-09 09:00:00");
}

static void test_deadline_escalates(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    char a[64], ia[64];
    s_appeal("cp004", "phone", "农机厂宿舍3号楼门口的路灯坏了好几天，晚上黑漆漆的", a, ia);
    assert_string_equal(hl_test_textf(s_db, "SELECT level FROM triage.item WHERE id = '%s'", ia),
                        "compound");
    assert_int_equal(
        hl_test_countf(s_db, "SELECT count(*) FROM triage.item WHERE id = '%s' AND due_at > now()",
                       ia),
        1);
    json_t *out = NULL;
    assert_int_equal(hl_test_http(&s_c, HL_T_TRIAGE, "GET", "/v1/escalations/due?within_hours=2000",
                                  NULL, &out, NULL),
                     200);
    assert_true(json_array_size(json_object_get(out, "items")) >= 1);
    json_decref(out);
    assert_int_equal(hl_test_http(&s_c, HL_T_TRIAGE, "GET", "/v1/escalations/due?within_hours=x",
                                  NULL, NULL, NULL),
                     400);
    /* Nothing is due yet. */
    assert_int_equal(hl_test_countf(s_db, "SELECT count(*) FROM triage.escalation"), 0);
    /* Restart hl-triage with its clock 12 days ahead (more than any small
     * limit, fewer than the next one): the deadline fires within a scan. */
    hl_cluster_kill(&s_c, HL_T_TRIAGE, SIGTERM);
    s_c.extra_env[3] = "HL_CLOCK_OFFSET_S=1036800";
    assert_int_equal(hl_cluster_spawn(&s_c, HL_T_TRIAGE), 0);
    assert_true(hl_test_waitf(s_db, 1, 30,
                              "SELECT count(*) FROM triage.escalation WHERE item_id = '%s'", ia));
    assert_string_equal(hl_test_textf(s_db, "SELECT level FROM triage.item WHERE id = '%s'", ia),
                        "community");
    assert_string_equal(
        hl_test_textf(s_db, "SELECT target FROM triage.item WHERE id = '%s'", ia),
        hl_test_textf(s_db, "SELECT parent FROM org.org_unit WHERE code = 'cp004'"));
    assert_string_equal(
        hl_test_textf(s_db, "SELECT to_level FROM reporting.escalation WHERE item_id = '%s'", ia),
        "community");
    /* The resident's history shows it. */
    assert_true(hl_test_waitf(s_db, 1, 30,
                              "SELECT count(*) FROM intake.appeal_event WHERE appeal_id = '%s'"
                              " AND detail = 'to escalated'",
                              a));
    /* The new deadline is ahead of the shifted clock: it does not fire again. */
    assert_int_equal(hl_test_countf(s_db,
                                    "SELECT count(*) FROM triage.item WHERE id = '%s'"
                                    " AND due_at > now() + interval '12 days'",
                                    ia),
                     1);
    s_ok = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_consolidate_and_resolve),
        cmocka_unit_test(test_join_race_decides_again),
        cmocka_unit_test(test_letters_arriving_together_make_one_item),
        cmocka_unit_test(test_reported_again_after_resolution),
        cmocka_unit_test(test_redelivered_appeal_changes_nothing),
        cmocka_unit_test(test_override_conflict),
        cmocka_unit_test(test_merge_and_split),
        cmocka_unit_test(test_working_days),
        cmocka_unit_test(test_deadline_escalates),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
