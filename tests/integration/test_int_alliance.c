/* test_int_alliance: the alliances and the city platform on a real cluster
 * (PostgreSQL, a bus, five daemons) with a fake platform (hl_fakeplat)
 * playing the other side.
 *
 *   1. escalation -> per-community agenda -> meeting held with one item
 *      decided (an action item) and one carried over -> the action item
 *      overdue -> the follow-up (hl-triage escalates the item, which moves
 *      to the city's next meeting); the function-domain rule (403) and
 *      unknown units, items, meetings (404/422 naming the field) change
 *      nothing.
 *   2. every outbound event (meeting.held, and PlatformEvents put on stage
 *      "platform") received by the fake platform exactly once in effect,
 *      though it answers 500, answers slowly past the client's timeout and
 *      loses its answers; a partner that never answers gets its deliveries
 *      dead-lettered, and revived.
 *   3. inbound: a fitting unit's claim accepted (one LargeItemAction per
 *      webhook-id), a non-fitting one refused 403, 100+ tampered, stale,
 *      replayed, unsigned requests all 401 with nothing stored, and a
 *      secret rotation (the third secret retires the first).
 *   4. the claim through hl-bounty's large-item board, end to end (runs
 *      where hl-bounty has the board: the boards issue's branch). */
#include "hl_fakeplat.h"
#include "hl_testflow.h"
#include "hl_webhook.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define S_SECRET1 "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define S_SECRET2 "whsec_c2Vjb25kLXNlY3JldC1rZXktMTIzNDU2"
#define S_SECRET3 "whsec_dGhpcmQtc2VjcmV0LWtleS1hYmNkZWZnaA=="
#define S_WRONG   "whsec_d3Jvbmctc2VjcmV0LWtleS0xMjM0NTY3OA=="

static hl_cluster_t s_c;
static PGconn *s_db;
static bool s_ok = true;
static hl_fakeplat_t *s_plat;
/* Shared between the tests, in order. */
static char s_item_a[64], s_item_b[64], s_action[64];

static int s_setup(void **state)
{
    (void)state;
    static const char *const env[] = {
        "HL_RESEND_AFTER_MS=500",        "HL_SWEEP_INTERVAL_MS=200",  "HL_ACTION_SCAN_MS=200",
        "HL_WEBHOOK_SCAN_MS=100",        "HL_WEBHOOK_TIMEOUT_MS=800", "HL_WEBHOOK_BACKOFF_MS=100",
        "HL_WEBHOOK_BACKOFF_MAX_MS=400", "HL_DEADLINE_SCAN_MS=200",   NULL};
    if (hl_test_cluster_up(&s_c, &s_db, "hl_int_alliance", 1, env) != 0)
        return -1;
    if (!hl_test_pg())
        return 0;
    /* Fails, slow answers past the 800 ms timeout, lost answers, then success. */
    static const hl_fake_act_t script[] = {HL_FAKE_FAIL, HL_FAKE_SLOW,        HL_FAKE_APPLY_FAIL,
                                           HL_FAKE_OK,   HL_FAKE_UNAVAILABLE, HL_FAKE_OK};
    s_plat =
        hl_fakeplat_start(script, sizeof script / sizeof script[0], S_SECRET1, S_SECRET2, 1500);
    if (!s_plat)
        return -1;
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT alliance.set_partner('slsy', '双联双应平台', '%s', '" S_SECRET1 "');"
             "SELECT alliance.set_partner('slsy', '双联双应平台', '%s', '" S_SECRET2 "')",
             hl_fakeplat_url(s_plat), hl_fakeplat_url(s_plat));
    hl_test_exec(s_db, sql);
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    hl_fakeplat_stop(s_plat);
    hl_test_cluster_down(&s_c, s_db, s_ok);
    return 0;
}

static long s_http(const char *method, const char *path, json_t *body, json_t **out)
{
    return hl_test_http(&s_c, HL_T_ALLIANCE, method, path, body, out, NULL);
}

/* POSTs `body` (consumed) and asserts the status and the error's field. */
static void s_refused(const char *path, json_t *body, long status, const char *field)
{
    json_t *out = NULL;
    long got = s_http("POST", path, body, &out);
    if (got != status ||
        (field && (!hl_test_error_field(out) || strcmp(hl_test_error_field(out), field) != 0))) {
        char *text = out ? json_dumps(out, 0) : NULL;
        fprintf(stderr, "POST %s: want %ld %s, got %ld %s\n", path, status, field ? field : "", got,
                text ? text : "");
        free(text);
    }
    assert_int_equal(got, status);
    if (field)
        assert_string_equal(hl_test_error_field(out), field);
    json_decref(body);
    json_decref(out);
}

/* Posts an appeal, follows it to its item and makes that item large (the
 * commissioner's override) if triage sorted it otherwise. */
static void s_large_item(const char *org_unit, const char *text, const char *category,
                         char item[64])
{
    char code[32], id[64];
    json_t *out =
        hl_test_post_appeal(&s_c,
                            json_pack("{s:s, s:s, s:s, s:s}", "channel", "web", "org_unit",
                                      org_unit, "body", text, "category", category),
                            code, id);
    json_decref(out);
    json_t *a = hl_test_track(&s_c, code, "routed");
    snprintf(item, 64, "%s", json_string_value(json_object_get(a, "item_id")));
    bool large = strcmp(json_string_value(json_object_get(a, "size")), "large") == 0;
    json_decref(a);
    if (!large) {
        char path[128];
        snprintf(path, sizeof path, "/v1/items/%s", item);
        json_t *it = NULL;
        assert_int_equal(hl_test_http(&s_c, HL_T_TRIAGE, "GET", path, NULL, &it, NULL), 200);
        json_int_t version = json_integer_value(json_object_get(it, "version"));
        json_decref(it);
        snprintf(path, sizeof path, "/v1/items/%s/override", item);
        json_t *b = json_pack("{s:s, s:s, s:s, s:I}", "size", "large", "category", category,
                              "reason", "a matter for the alliance", "version", version);
        assert_int_equal(hl_test_http(&s_c, HL_T_TRIAGE, "POST", path, b, NULL, NULL), 200);
        json_decref(b);
    }
    assert_true(hl_test_waitf(
        s_db, 1, 30, "SELECT count(*) FROM alliance.agenda_item WHERE item_id = '%s'", item));
}

/* The agenda of alliance `code`: the reply (caller decrefs). */
static json_t *s_agenda(const char *code)
{
    char path[96];
    snprintf(path, sizeof path, "/v1/alliances/%s/agenda", code);
    json_t *out = NULL;
    assert_int_equal(s_http("GET", path, NULL, &out), 200);
    return out;
}

static bool s_agenda_has(json_t *agenda, const char *item)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(agenda, "agenda"), i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "item_id")), item) == 0)
            return true;
    }
    return false;
}

static void test_meeting_journey(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    /* Two large items in 米公社区 (cm03): a street market (cp017), smoke from
     * barbecue shops (cp031). */
    s_large_item("cp017",
                 "书院路米公苑至锦绣华庭一段每天清晨自发形成马路菜市，摊贩沿路两侧摆放，"
                 "菜叶污水满地，散市后无人清扫，车辆行人通行困难。",
                 "market", s_item_a);
    s_large_item("cp031",
                 "锦绣华庭沿街商铺多家烧烤店无油烟净化设施，夜间露天经营，油烟和噪声扰民严重。",
                 "environment", s_item_b);
    assert_int_equal(hl_test_countf(s_db,
                                    "SELECT count(*) FROM alliance.agenda_item WHERE item_id IN"
                                    " ('%s', '%s') AND alliance = 'cm03' AND community = 'cm03'",
                                    s_item_a, s_item_b),
                     2);

    /* The community's agenda has both, the oldest first; another community's
     * and the city's have neither. */
    json_t *ag = s_agenda("cm03");
    json_t *first = json_array_get(json_object_get(ag, "agenda"), 0);
    assert_string_equal(json_string_value(json_object_get(first, "item_id")), s_item_a);
    assert_true(s_agenda_has(ag, s_item_b));
    char meeting[64];
    snprintf(meeting, sizeof meeting, "%s",
             json_string_value(json_object_get(json_object_get(ag, "meeting"), "id")));
    json_decref(ag);
    ag = s_agenda("cm01");
    assert_false(s_agenda_has(ag, s_item_a));
    json_decref(ag);
    ag = s_agenda("city");
    assert_false(s_agenda_has(ag, s_item_a));
    json_decref(ag);

    /* The community adds an item directly; bad adds change nothing. */
    long items = hl_test_countf(s_db, "SELECT count(*) FROM alliance.agenda_item");
    s_refused("/v1/alliances/cm03/agenda",
              json_pack("{s:s, s:s}", "title", "x", "org_unit", "cp001"), 422, "org_unit");
    s_refused("/v1/alliances/cm03/agenda",
              json_pack("{s:s, s:s}", "title", "x", "category", "weather"), 422, "category");
    s_refused("/v1/alliances/cm99/agenda", json_pack("{s:s}", "title", "x"), 404, "alliance");
    s_refused("/v1/alliances/cm03/agenda", json_pack("{s:i}", "title", 5), 422, "title");
    assert_int_equal(hl_test_countf(s_db, "SELECT count(*) FROM alliance.agenda_item"), items);
    json_t *out = NULL;
    assert_int_equal(
        s_http("POST", "/v1/alliances/cm03/agenda",
               json_pack("{s:s, s:s, s:s, s:i}", "title", "社区老年食堂选址", "category", "elderly",
                         "org_unit", "cp017", "appeal_count", 12),
               &out),
        201);
    char direct[64];
    snprintf(direct, sizeof direct, "%s", json_string_value(json_object_get(out, "item_id")));
    assert_string_equal(json_string_value(json_object_get(out, "meeting_id")), meeting);
    json_decref(out);
    /* Twelve residents put it first. */
    ag = s_agenda("cm03");
    first = json_array_get(json_object_get(ag, "agenda"), 0);
    assert_string_equal(json_string_value(json_object_get(first, "item_id")), direct);
    json_decref(ag);

    /* The function-domain rule: the audit bureau cannot resolve a market item. */
    char path[160];
    snprintf(path, sizeof path, "/v1/meetings/%s/outcomes", meeting);
    s_refused(path,
              json_pack("{s:s, s:s, s:s}", "item_id", s_item_a, "outcome", "审计", "unit", "mu003"),
              403, "function_domain");
    s_refused(path,
              json_pack("{s:s, s:s, s:s}", "item_id", s_item_a, "outcome", "x", "unit", "mu999"),
              422, "unit");
    s_refused(
        path,
        json_pack("{s:s, s:s}", "item_id", "00000000-0000-4000-8000-000000000000", "outcome", "x"),
        404, "item_id");
    s_refused("/v1/meetings/00000000-0000-4000-8000-000000000000/outcomes",
              json_pack("{s:s, s:s}", "item_id", s_item_a, "outcome", "x"), 404, "id");

    /* Holding it badly changes nothing. */
    snprintf(path, sizeof path, "/v1/meetings/%s/held", meeting);
    char due[32];
    time_t tomorrow = time(NULL) + 2 * 86400;
    strftime(due, sizeof due, "%Y-%m-%d", gmtime(&tomorrow));
#define S_DECISION_A(unit)                                                                         \
    json_pack("{s:s, s:s, s:s, s:[s, s], s:[{s:s, s:s, s:s}]}", "item_id", s_item_a, "kind",       \
              "assigned", "text", "市场监管局牵头设临时疏导点，城管配合", "tags",                  \
              "discuss_together", "solve_together", "actions", "unit", unit, "task",               \
              "书院路设临时疏导点并清理占道摊位", "due_at", due)
    s_refused(path,
              json_pack("{s:[s, s], s:[o]}", "attendance", "mu008", "mu999", "decisions",
                        S_DECISION_A("mu008")),
              422, "attendance[1]");
    s_refused(path, json_pack("{s:[o]}", "decisions", S_DECISION_A("mu003")), 403,
              "function_domain");
    s_refused(path,
              json_pack("{s:[{s:s, s:s, s:s}]}", "decisions", "item_id",
                        "00000000-0000-4000-8000-000000000000", "kind", "resolved", "text", "x"),
              404, "decisions[0].item_id");
    s_refused("/v1/meetings/00000000-0000-4000-8000-000000000000/held", json_pack("{}"), 404, "id");
    assert_string_equal(
        hl_test_textf(s_db, "SELECT status FROM alliance.meeting WHERE id = '%s'", meeting),
        "planned");
    assert_int_equal(hl_test_countf(s_db, "SELECT count(*) FROM alliance.decision"), 0);

    /* Held: A assigned with an action item, the direct item resolved by the
     * meeting itself, B not reached — carried to the next meeting. */
    json_t *held = json_pack("{s:s, s:[s, s], s:[o, {s:s, s:s, s:s, s:[s]}]}", "minutes",
                             "一、书院路马路菜市；二、老年食堂选址", "attendance", "mu008", "mu001",
                             "decisions", S_DECISION_A("mu008"), "item_id", direct, "kind",
                             "resolved", "text", "选址社区服务中心一楼", "tags", "share_venues");
    assert_int_equal(s_http("POST", path, held, &out), 200);
    json_decref(held);
    assert_int_equal(json_integer_value(json_object_get(out, "carried")), 1);
    assert_int_equal(json_integer_value(json_object_get(out, "decided")), 2);
    char next[64];
    snprintf(next, sizeof next, "%s", json_string_value(json_object_get(out, "next_meeting")));
    json_decref(out);
    assert_int_equal(s_http("POST", path, json_pack("{}"), NULL), 409);
    /* Nothing orphaned: B sits on the next meeting, undecided, carried once. */
    assert_int_equal(hl_test_countf(s_db, "SELECT count(*) FROM alliance.agenda_item a JOIN"
                                          " alliance.meeting m ON m.id = a.meeting_id"
                                          " WHERE a.status = 'pending' AND m.status = 'held'"),
                     0);
    assert_int_equal(hl_test_countf(s_db,
                                    "SELECT count(*) FROM alliance.agenda_item WHERE item_id ="
                                    " '%s' AND meeting_id = '%s' AND carried = 1 AND status ="
                                    " 'pending'",
                                    s_item_b, next),
                     1);
    assert_int_equal(hl_test_countf(s_db,
                                    "SELECT count(*) FROM alliance.decision WHERE meeting_id ="
                                    " '%s' AND item_id = '%s' AND kind = 'carried' AND"
                                    " to_meeting = '%s'",
                                    meeting, s_item_b, next),
                     1);
    assert_int_equal(hl_test_countf(s_db,
                                    "SELECT count(*) FROM alliance.attendance WHERE meeting_id ="
                                    " '%s'",
                                    meeting),
                     2);
    ag = s_agenda("cm03");
    assert_true(s_agenda_has(ag, s_item_b));
    assert_false(s_agenda_has(ag, s_item_a));
    json_decref(ag);
    snprintf(
        s_action, sizeof s_action, "%s",
        hl_test_textf(s_db, "SELECT id FROM alliance.action_item WHERE item_id = '%s'", s_item_a));
    assert_true(strlen(s_action) == 36);
    /* The minutes read back: decisions with their tags, the action item. */
    snprintf(path, sizeof path, "/v1/meetings/%s", meeting);
    assert_int_equal(s_http("GET", path, NULL, &out), 200);
    assert_int_equal(json_array_size(json_object_get(out, "decisions")), 3);
    assert_int_equal(json_array_size(json_object_get(out, "action_items")), 1);
    json_decref(out);

    /* The deadline passes (the test moves it rather than waiting two days):
     * the follow-up reports it once, hl-triage escalates the item a level
     * (community -> town) and it lands on the city's next meeting. */
    hl_test_exec(s_db, "UPDATE alliance.action_item SET due_at = now() - interval '2 days'");
    assert_true(hl_test_waitf(s_db, 1, 30,
                              "SELECT count(*) FROM alliance.action_item WHERE id = '%s' AND"
                              " overdue_notified_at IS NOT NULL",
                              s_action));
    assert_int_equal(s_http("GET", "/v1/action-items?status=overdue", NULL, &out), 200);
    assert_int_equal(json_array_size(json_object_get(out, "action_items")), 1);
    json_decref(out);
    assert_true(hl_test_waitf(
        s_db, 1, 30, "SELECT count(*) FROM triage.escalation WHERE item_id = '%s'", s_item_a));
    assert_true(hl_test_waitf(s_db, 1, 30,
                              "SELECT count(*) FROM alliance.agenda_item WHERE item_id = '%s'"
                              " AND alliance = 'city' AND status = 'pending'",
                              s_item_a));
    ag = s_agenda("city");
    first = json_array_get(json_object_get(ag, "agenda"), 0);
    assert_string_equal(json_string_value(json_object_get(first, "item_id")), s_item_a);
    assert_true(json_real_value(json_object_get(first, "overdue_days")) > 0 ||
                json_integer_value(json_object_get(first, "overdue_days")) > 0);
    json_decref(ag);
    assert_int_equal(hl_test_countf(s_db, "SELECT count(*) FROM pipeline.message WHERE type ="
                                          " 'ActionOverdue'"),
                     1);

    /* The unit reports it done; its hours count in its contributions. */
    snprintf(path, sizeof path, "/v1/action-items/%s/done", s_action);
    s_refused(path, json_pack("{s:s, s:i}", "report", "已设疏导点", "hours", -3), 422, "hours");
    assert_int_equal(
        s_http("POST", path, json_pack("{s:s, s:f}", "report", "已设疏导点", "hours", 6.5), NULL),
        200);
    assert_int_equal(s_http("POST", path, json_pack("{s:s}", "report", "again"), NULL), 409);
    assert_int_equal(s_http("GET", "/v1/member-units/mu008/contributions", NULL, &out), 200);
    json_t *q = json_array_get(json_object_get(out, "quarters"), 0);
    assert_true(json_number_value(json_object_get(q, "hours")) > 6.4);
    assert_int_equal(json_integer_value(json_object_get(q, "items_taken")), 1);
    json_decref(out);
    assert_int_equal(s_http("GET", "/v1/member-units/mu999/contributions", NULL, NULL), 404);
    s_ok = true;
}

/* Writes a PlatformEvent onto stage "platform" as hl-bounty would. */
static void s_emit_event(const char *id, const char *type, const char *subject)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "HL_DATABASE_URL='%s' HL_BUS=tcp://127.0.0.1:%d '%s' emit platform PlatformEvent"
             " '{\"event_id\":\"%s\",\"type\":\"%s\",\"subject_id\":\"%s\",\"community\":"
             "\"cm03\",\"data_json\":\"{\\\"quarter\\\":\\\"2026Q4\\\"}\"}' >/dev/null 2>&1",
             s_c.db_url, s_c.bus_port[0], hl_test_bin("hlctl"), id, type, subject);
    assert_int_equal(system(cmd), 0);
}

static void test_outbound_exactly_once(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    static const char *const types[] = {"board.published", "large_item.claimed",
                                        "large_item.progress", "large_item.resolved"};
    for (int i = 0; i < 12; i++) {
        char id[32];
        snprintf(id, sizeof id, "evt-%02d", i);
        s_emit_event(id, types[i % 4], s_item_a);
    }
    /* The same event again (a re-sent message): still one delivery. */
    s_emit_event("evt-00", "board.published", s_item_a);
    assert_true(hl_test_waitf(s_db, 13, 30,
                              "SELECT count(*) FROM alliance.delivery WHERE partner = 'slsy'"));
    assert_true(hl_test_waitf(s_db, 0, 90,
                              "SELECT count(*) FROM alliance.delivery WHERE status <> 'delivered'"
                              " AND partner = 'slsy'"));
    /* Every event (12 and meeting.held) applied once by the platform. */
    PGresult *r = PQexec(s_db, "SELECT event_id, type FROM alliance.delivery WHERE partner ="
                               " 'slsy' ORDER BY event_id");
    assert_int_equal(PQntuples(r), 13);
    for (int i = 0; i < PQntuples(r); i++) {
        assert_int_equal(hl_fakeplat_applied(s_plat, PQgetvalue(r, i, 0)), 1);
        assert_string_equal(hl_fakeplat_type(s_plat, PQgetvalue(r, i, 0)), PQgetvalue(r, i, 1));
    }
    PQclear(r);
    hl_fakeplat_stats_t st = hl_fakeplat_stats(s_plat);
    printf("fake platform: %zu requests, %zu applied, %zu duplicates, %zu bad signatures\n",
           st.requests, st.applied, st.duplicates, st.bad);
    assert_int_equal(st.applied, 13);
    assert_int_equal(st.bad, 0);
    assert_true(st.duplicates > 0); /* lost answers and slow ones came again */
    assert_true(st.requests > 13);  /* the failures were retried */

    /* A partner that never answers: every delivery dead after its attempts. */
    hl_test_exec(s_db, "SELECT alliance.set_partner('down', '停用的平台',"
                       " 'http://127.0.0.1:9/hooks', '" S_SECRET1 "')");
    s_emit_event("evt-down", "board.published", s_item_a);
    assert_true(hl_test_waitf(s_db, 1, 120,
                              "SELECT count(*) FROM alliance.delivery WHERE partner = 'down' AND"
                              " status = 'dead' AND attempts = 12"));
    json_t *out = NULL;
    assert_int_equal(s_http("GET", "/v1/platform/deliveries?status=dead", NULL, &out), 200);
    assert_int_equal(json_array_size(json_object_get(out, "deliveries")), 1);
    json_decref(out);
    assert_int_equal(s_http("POST", "/v1/platform/deliveries/replay?partner=down", NULL, &out),
                     200);
    assert_int_equal(json_integer_value(json_object_get(out, "revived")), 1);
    json_decref(out);
    hl_test_exec(s_db, "UPDATE alliance.partner SET active = false WHERE code = 'down';"
                       "UPDATE alliance.delivery SET status = 'dead' WHERE partner = 'down'");
    /* slsy had one delivery of evt-down too. */
    assert_true(hl_test_waitf(s_db, 1, 60,
                              "SELECT count(*) FROM alliance.delivery WHERE partner = 'slsy' AND"
                              " event_id = 'evt-down' AND status = 'delivered'"));
    s_ok = true;
}

static char s_url[128];

static long s_send(const char *body, const hl_fake_sign_t *how)
{
    return hl_fakeplat_send(s_url, body, how, NULL);
}

/* What bad webhooks must not change. */
static long s_stored(void)
{
    return hl_test_countf(s_db, "SELECT (SELECT count(*) FROM alliance.inbound) +"
                                " (SELECT count(*) FROM alliance.claim) * 1000 +"
                                " (SELECT count(*) FROM pipeline.message WHERE type ="
                                " 'LargeItemAction') * 1000000");
}

static void test_inbound(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    snprintf(s_url, sizeof s_url, "http://127.0.0.1:%d/v1/platform/slsy/webhooks",
             s_c.http_port[HL_T_ALLIANCE]);
    char body[512], other[512];
    snprintf(body, sizeof body,
             "{\"type\":\"large_item.claim\",\"data\":{\"item_id\":\"%s\",\"unit\":\"mu008\"}}",
             s_item_a);
    long long now = (long long)time(NULL);

    /* A fitting unit's claim: accepted once. */
    hl_fake_sign_t good = {.secret = S_SECRET2, .id = "in-claim-1", .timestamp = now};
    assert_int_equal(s_send(body, &good), 202);
    assert_int_equal(hl_test_countf(s_db, "SELECT count(*) FROM pipeline.message WHERE type ="
                                          " 'LargeItemAction' AND stage = 'bounty'"),
                     1);
    assert_int_equal(hl_test_countf(s_db,
                                    "SELECT count(*) FROM alliance.claim WHERE unit = 'mu008'"
                                    " AND item_id = '%s' AND action_id = 'in-claim-1'",
                                    s_item_a),
                     1);
    /* The other active secret works as well (rotation). */
    snprintf(other, sizeof other,
             "{\"type\":\"large_item.progress\",\"data\":{\"item_id\":\"%s\",\"unit\":\"mu008\","
             "\"note\":\"疏导点已设\",\"hours\":3}}",
             s_item_a);
    hl_fake_sign_t good1 = {.secret = S_SECRET1, .id = "in-progress-1", .timestamp = now};
    assert_int_equal(s_send(other, &good1), 202);

    /* A non-fitting unit (the audit bureau): 403, nothing stored. */
    long before = s_stored();
    char audit[512];
    snprintf(audit, sizeof audit,
             "{\"type\":\"large_item.claim\",\"data\":{\"item_id\":\"%s\",\"unit\":\"mu003\"}}",
             s_item_a);
    hl_fake_sign_t a = {.secret = S_SECRET2, .id = "in-audit-1", .timestamp = now};
    char *reply = NULL;
    assert_int_equal(hl_fakeplat_send(s_url, audit, &a, &reply), 403);
    assert_non_null(strstr(reply, "function_domain"));
    free(reply);
    /* Unknown item or unit: 404 / 422 naming the field. */
    snprintf(audit, sizeof audit,
             "{\"type\":\"large_item.claim\",\"data\":{\"item_id\":"
             "\"00000000-0000-4000-8000-000000000000\",\"unit\":\"mu008\"}}");
    a.id = "in-unknown-item";
    assert_int_equal(hl_fakeplat_send(s_url, audit, &a, &reply), 404);
    assert_non_null(strstr(reply, "item_id"));
    free(reply);
    snprintf(audit, sizeof audit,
             "{\"type\":\"large_item.claim\",\"data\":{\"item_id\":\"%s\",\"unit\":\"mu999\"}}",
             s_item_a);
    a.id = "in-unknown-unit";
    assert_int_equal(hl_fakeplat_send(s_url, audit, &a, &reply), 422);
    assert_non_null(strstr(reply, "\"unit\""));
    free(reply);
    assert_int_equal(s_stored(), before);

    /* 100+ bad requests: each 401, nothing stored. */
    int n = 0;
    now = (long long)time(NULL);
#define S_BAD(b, ...)                                                                              \
    do {                                                                                           \
        hl_fake_sign_t how_ = {__VA_ARGS__};                                                       \
        long got_ = s_send((b), &how_);                                                            \
        if (got_ != 401)                                                                           \
            fprintf(stderr, "bad webhook %d answered %ld\n", n, got_);                             \
        assert_int_equal(got_, 401);                                                               \
        n++;                                                                                       \
    } while (0)
    char id[64];
    /* Unsigned, or signed in no way we accept. */
    S_BAD(body, .id = "u1", .timestamp = now);
    S_BAD(body, .id = "u2", .timestamp = now, .sig_text = "");
    S_BAD(body, .id = "u3", .timestamp = now, .sig_text = "v1,");
    S_BAD(body, .id = "u4", .timestamp = now, .sig_text = "v1");
    S_BAD(body, .id = "u5", .timestamp = now,
          .sig_text = "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    S_BAD(body, .id = "u6", .timestamp = now, .sig_text = "v1,!!!!");
    S_BAD(body, .id = "u7", .timestamp = now, .sig_text = "v1,AAAA");
    S_BAD(body, .id = "u8", .timestamp = now, .sig_text = "sha256=abcdef");
    S_BAD(body, .secret = S_SECRET2, .timestamp = now); /* no webhook-id */
    S_BAD(body, .secret = S_SECRET2, .id = "u10");      /* no webhook-timestamp */
    S_BAD(body, .secret = S_SECRET2);                   /* neither */
    S_BAD(body, .secret = S_SECRET2, .id = "bad id", .timestamp = now);
    /* Wrong secrets. */
    for (int i = 0; i < 5; i++) {
        snprintf(id, sizeof id, "wrong-%d", i);
        S_BAD(body, .secret = i % 2 ? S_WRONG : S_SECRET3, .id = id, .timestamp = now);
    }
    /* Stale or from the future, and timestamps that are no number. */
    static const long long skew[] = {-301, -302, -600, -3600, -86400,
                                     301,  400,  3600, 86400, -100000000};
    for (size_t i = 0; i < sizeof skew / sizeof skew[0]; i++) {
        snprintf(id, sizeof id, "stale-%zu", i);
        S_BAD(body, .secret = S_SECRET2, .id = id, .timestamp = now + skew[i]);
    }
    static const char *const bad_ts[] = {"abc", "1.5", "-5",   " 1",
                                         "",    "1e9", "0x10", "99999999999999"};
    for (size_t i = 0; i < sizeof bad_ts / sizeof bad_ts[0]; i++) {
        snprintf(id, sizeof id, "badts-%zu", i);
        S_BAD(body, .secret = S_SECRET2, .id = id, .timestamp = now, .ts_text = bad_ts[i]);
    }
    /* Tampered bodies: one character changed in 40 places (signed as sent before). */
    size_t blen = strlen(body);
    for (size_t i = 0; i < 40; i++) {
        char t[512];
        memcpy(t, body, blen + 1);
        size_t at = (i * 7) % blen;
        t[at] = t[at] == 'x' ? 'y' : 'x';
        snprintf(id, sizeof id, "tamper-%zu", i);
        S_BAD(t, .secret = S_SECRET2, .id = id, .timestamp = now, .signed_body = body);
    }
    /* Tampered id or timestamp: the signature was for other ones. */
    for (int i = 0; i < 5; i++) {
        char sig[HL_WEBHOOK_SIG_LEN], signed_id[32];
        hl_webhook_key_t key;
        hl_webhook_key_parse(S_SECRET2, &key);
        snprintf(signed_id, sizeof signed_id, "orig-%d", i);
        hl_webhook_sign(&key, signed_id, now, body, strlen(body), sig);
        snprintf(id, sizeof id, "swapped-%d", i);
        S_BAD(body, .id = id, .timestamp = now, .sig_text = sig);
        hl_webhook_sign(&key, id, now + 1 + i, body, strlen(body), sig);
        S_BAD(body, .id = id, .timestamp = now, .sig_text = sig);
        /* Cut short. */
        sig[20] = '\0';
        S_BAD(body, .id = id, .timestamp = now, .sig_text = sig);
    }
    /* Replays of the accepted claim: freshly timed and signed, same id. */
    for (int i = 0; i < 10; i++) {
        S_BAD(body, .secret = S_SECRET2, .id = "in-claim-1", .timestamp = now + i % 3);
        S_BAD(i % 2 ? other : body, .secret = S_SECRET1, .id = "in-progress-1", .timestamp = now);
    }
    /* Unknown partners. */
    char saved[128];
    snprintf(saved, sizeof saved, "%s", s_url);
    static const char *const partners[] = {"nobody", "SLSY", "slsy2"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(s_url, sizeof s_url, "http://127.0.0.1:%d/v1/platform/%s/webhooks",
                 s_c.http_port[HL_T_ALLIANCE], partners[i]);
        snprintf(id, sizeof id, "partner-%zu", i);
        S_BAD(body, .secret = S_SECRET2, .id = id, .timestamp = now);
    }
    snprintf(s_url, sizeof s_url, "%s", saved);
    /* Rotation: a third secret retires the first, which is refused from now on. */
    hl_test_exec(s_db,
                 "SELECT alliance.set_partner('slsy', '双联双应平台',"
                 " (SELECT endpoint FROM alliance.partner WHERE code = 'slsy'), '" S_SECRET3 "')");
    S_BAD(body, .secret = S_SECRET1, .id = "retired-1", .timestamp = now);
    printf("bad inbound webhooks: %d, every one 401\n", n);
    assert_true(n >= 100);
    assert_int_equal(s_stored(), before);
    assert_true(hl_test_metric(&s_c, HL_T_ALLIANCE,
                               "hl_alliance_webhooks_in_total{result=\"unauthorized\"}") >= n);
    /* The new and the middle secret both work. */
    snprintf(other, sizeof other,
             "{\"type\":\"large_item.complete\",\"data\":{\"item_id\":\"%s\",\"unit\":\"mu008\","
             "\"note\":\"占道摊位已清理，疏导点运行\"}}",
             s_item_a);
    hl_fake_sign_t g3 = {.secret = S_SECRET3, .id = "in-complete-1", .timestamp = now};
    assert_int_equal(s_send(other, &g3), 202);
    /* Each accepted webhook became exactly one LargeItemAction. */
    assert_int_equal(hl_test_countf(s_db, "SELECT count(*) FROM pipeline.message WHERE type ="
                                          " 'LargeItemAction'"),
                     3);
    assert_int_equal(hl_test_countf(s_db, "SELECT count(*) FROM alliance.inbound"), 3);
    s_ok = true;
}

static void test_pairing(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    json_t *out = NULL;
    assert_int_equal(s_http("POST", "/v1/pairings",
                            json_pack("{s:s, s:s, s:s, s:s}", "unit", "mu004", "community", "cm03",
                                      "starts_on", "2026-01-01", "ends_on", "2026-12-31"),
                            &out),
                     201);
    json_decref(out);
    s_refused("/v1/pairings",
              json_pack("{s:s, s:s, s:s}", "unit", "mu004", "community", "cm03", "starts_on",
                        "2026-06-01"),
              409, "starts_on");
    s_refused("/v1/pairings",
              json_pack("{s:s, s:s, s:s}", "unit", "mu999", "community", "cm03", "starts_on",
                        "2026-06-01"),
              422, "unit");
    s_refused("/v1/pairings",
              json_pack("{s:s, s:s, s:s}", "unit", "mu004", "community", "cp001", "starts_on",
                        "2026-06-01"),
              422, "community");
    assert_int_equal(s_http("GET", "/v1/pairings?community=cm03&unit=mu004", NULL, &out), 200);
    assert_int_equal(json_array_size(json_object_get(out, "pairings")), 1);
    json_decref(out);
    assert_int_equal(s_http("POST", "/v1/party-members",
                            json_pack("{s:s, s:s, s:s, s:s}", "member_no", "DY-0001", "name",
                                      "李某", "unit", "mu001", "community", "cm03"),
                            &out),
                     201);
    json_decref(out);
    s_refused("/v1/party-members",
              json_pack("{s:s, s:s, s:s, s:s}", "member_no", "DY-0001", "name", "李某", "unit",
                        "mu001", "community", "cm03"),
              409, "member_no");
    s_refused("/v1/party-members",
              json_pack("{s:s, s:s, s:s, s:s}", "member_no", "DY-0002", "name", "王某", "unit",
                        "mu001", "community", "cm77"),
              422, "community");
    assert_int_equal(s_http("GET", "/v1/party-members?community=cm03", NULL, &out), 200);
    assert_int_equal(json_integer_value(json_object_get(out, "count")), 1);
    json_decref(out);
    assert_int_equal(s_http("GET", "/v1/alliances/cm03", NULL, &out), 200);
    assert_true(json_array_size(json_object_get(out, "members")) > 10);
    json_decref(out);
    assert_int_equal(s_http("GET", "/v1/alliances/cm99", NULL, NULL), 404);
    assert_int_equal(s_http("GET", "/v1/alliances", NULL, &out), 200);
    assert_int_equal(json_array_size(json_object_get(out, "alliances")), 15);
    json_decref(out);
    s_ok = true;
}

/* The claim end to end, through hl-bounty's quarterly large-item board:
 * a meeting sends item B to the board (LargeItemOffered); a fitting unit
 * claims it through the platform (LargeItemAction); hl-bounty applies it
 * and the platform hears large_item.claimed; a second unit's claim is
 * refused by hl-bounty (taken) and the platform hears action.refused. The
 * board is hl-bounty's (the boards issue, branch i12-boards): where this
 * build's hl-bounty has none, the test says so and skips. */
static void test_claim_through_bounty(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    if (hl_test_countf(s_db, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON"
                             " n.oid = c.relnamespace WHERE n.nspname = 'bounty' AND"
                             " c.relname = 'large_item'") == 0) {
        printf("hl-bounty has no large-item board in this build (branch i12-boards): "
               "the claim through the board was not run\n");
        skip();
    }
    s_ok = false;
    char meeting[64], path[160];
    snprintf(meeting, sizeof meeting, "%s",
             hl_test_textf(s_db, "SELECT meeting_id FROM alliance.agenda_item WHERE item_id = '%s'",
                           s_item_b));
    snprintf(path, sizeof path, "/v1/meetings/%s/held", meeting);
    assert_int_equal(
        s_http("POST", path,
               json_pack("{s:[{s:s, s:s, s:s, s:[s]}]}", "decisions", "item_id", s_item_b, "kind",
                         "board", "text", "列入本季度大事项榜单，由职能相符的成员单位揭榜", "tags",
                         "solve_together"),
               NULL),
        200);
    assert_true(hl_test_waitf(
        s_db, 1, 30, "SELECT count(*) FROM bounty.large_item WHERE item_id = '%s'", s_item_b));
    /* Published as the commissioner would through hl-bounty's API. */
    hl_test_exec(s_db, "UPDATE bounty.board SET published_at = now() WHERE published_at IS NULL"
                       " AND kind = 'large'");
    char fit[32], other[32], body[512];
    snprintf(fit, sizeof fit, "%s",
             hl_test_textf(s_db, "SELECT min(code) FROM org.member_unit"
                                 " WHERE org.unit_fits_category(code, 'environment')"));
    snprintf(other, sizeof other, "%s",
             hl_test_textf(s_db,
                           "SELECT min(code) FROM org.member_unit WHERE code > '%s' AND"
                           " org.unit_fits_category(code, 'environment')",
                           fit));
    long long now = (long long)time(NULL);
    snprintf(body, sizeof body,
             "{\"type\":\"large_item.claim\",\"data\":{\"item_id\":\"%s\",\"unit\":\"%s\"}}",
             s_item_b, fit);
    hl_fake_sign_t how = {.secret = S_SECRET3, .id = "e2e-claim-1", .timestamp = now};
    assert_int_equal(s_send(body, &how), 202);
    assert_true(hl_test_waitf(s_db, 1, 60,
                              "SELECT (count(*) > 0)::int FROM alliance.delivery WHERE partner ="
                              " 'slsy' AND type = 'large_item.claimed' AND status = 'delivered'"
                              " AND body LIKE '%%%s%%'",
                              s_item_b));
    snprintf(body, sizeof body,
             "{\"type\":\"large_item.claim\",\"data\":{\"item_id\":\"%s\",\"unit\":\"%s\"}}",
             s_item_b, other);
    how.id = "e2e-claim-2";
    assert_int_equal(s_send(body, &how), 202);
    assert_true(hl_test_waitf(s_db, 1, 60,
                              "SELECT (count(*) > 0)::int FROM alliance.delivery WHERE partner ="
                              " 'slsy' AND type = 'action.refused' AND status = 'delivered'"
                              " AND body LIKE '%%e2e-claim-2%%'"));
    /* Every such event is applied once by the platform: once none is left
     * pending (on a loaded machine one may still be on its way when the
     * two waited for above are through). */
    assert_true(hl_test_waitf(s_db, 0, 60,
                              "SELECT count(*) FROM alliance.delivery WHERE partner = 'slsy'"
                              " AND type IN ('large_item.claimed', 'action.refused')"
                              " AND status <> 'delivered'"));
    PGresult *r = PQexec(s_db, "SELECT event_id FROM alliance.delivery WHERE partner = 'slsy'"
                               " AND type IN ('large_item.claimed', 'action.refused')");
    for (int i = 0; i < PQntuples(r); i++)
        assert_int_equal(hl_fakeplat_applied(s_plat, PQgetvalue(r, i, 0)), 1);
    PQclear(r);
    s_ok = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_meeting_journey),
        cmocka_unit_test(test_outbound_exactly_once),
        cmocka_unit_test(test_inbound),
        cmocka_unit_test(test_pairing),
        cmocka_unit_test(test_claim_through_bounty),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
