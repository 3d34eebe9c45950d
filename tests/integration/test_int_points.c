/* test_int_points: hl-points on a real cluster (PostgreSQL, a bus, the five
 * daemons). Awards of every kind — a wish by difficulty and a large item
 * (PointsAwarded without an amount, as hl-bounty sends), a legacy fixed
 * amount, a council held (hl-triage, from a real hearing), a study pair and
 * an event (POST /v1/activities) — are each paid once by the rule in force,
 * as a balanced transaction from the community's budget; re-sent awards pay
 * nothing and the ledger sums to zero. An award of an unknown basis is
 * dead-lettered. Leaderboards by month, quarter and all time, per
 * community, in Beijing time. The contest and grades of 2025Q1 on a
 * dataset whose totals and grades are worked out by hand below. The tests
 * run in order and share one cluster. */
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
static char s_recorder[160];  /* "Authorization: Bearer ..." of a recorder of cm01 */
static char s_city_rec[160];  /* of a city-wide recorder */
static char s_jury[160];      /* of a city-wide jury member */
static char s_jury_cm01[160]; /* of a jury member of cm01 */

static int s_setup(void **state)
{
    (void)state;
    /* No timer: the test computes its quarter itself. */
    static const char *const env[] = {"HL_RESEND_AFTER_MS=500", "HL_SWEEP_INTERVAL_MS=200",
                                      "HL_CONTEST_SCAN_MS=0", NULL};
    return hl_test_cluster_up(&s_c, &s_db, "hl_int_points", 1, env);
}

static int s_teardown(void **state)
{
    (void)state;
    hl_test_cluster_down(&s_c, s_db, s_ok);
    return 0;
}

/* Runs hlctl with `args` (environment of the cluster); the first line it
 * prints goes into `out` when given. Returns its exit status. */
static int s_hlctl(const char *args, char *out, size_t outlen)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "HL_DATABASE_URL='%s' HL_BUS='tcp://127.0.0.1:%d' '%s' %s",
             s_c.db_url, s_c.bus_port[0], hl_test_bin("hlctl"), args);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    char line[256] = "";
    if (!fgets(line, sizeof line, f))
        line[0] = '\0';
    while (fgetc(f) != EOF) {
    }
    int rc = pclose(f);
    line[strcspn(line, "\n")] = '\0';
    if (out)
        snprintf(out, outlen, "%s", line);
    return rc;
}

/* Makes a points key and the Authorization header that presents it. */
static void s_key(const char *args, char header[160])
{
    char key[128];
    char cmd[256];
    snprintf(cmd, sizeof cmd, "points-key create %s", args);
    assert_int_equal(s_hlctl(cmd, key, sizeof key), 0);
    assert_int_equal(strlen(key), 64);
    snprintf(header, 160, "Authorization: Bearer %s", key);
}

/* hlctl emit points PointsAwarded `json` (single quotes not allowed in it). */
static void s_emit(const char *json)
{
    char args[1024];
    snprintf(args, sizeof args, "emit points PointsAwarded '%s' >/dev/null 2>&1", json);
    assert_int_equal(s_hlctl(args, NULL, 0), 0);
}

/* Waits until hl-points' metric `series` reads `want` (its counters move in
 * after-commit callbacks, a moment after the rows they count are visible). */
static bool s_wait_metric(const char *series, double want)
{
    for (int i = 0; i < (int)(300 * hl_test_mult()); i++) {
        if (hl_test_metric(&s_c, HL_T_POINTS, series) == want)
            return true;
        usleep(100000);
    }
    fprintf(stderr, "test: %s is %.0f, not %.0f\n", series,
            hl_test_metric(&s_c, HL_T_POINTS, series), want);
    return false;
}

/* POST /v1/activities with `body` (consumed) and header `auth` (may be NULL). */
static long s_activity(json_t *body, const char *auth, json_t **out)
{
    const char *headers[] = {auth, NULL};
    long st =
        hl_test_http(&s_c, HL_T_POINTS, "POST", "/v1/activities", body, out, auth ? headers : NULL);
    json_decref(body);
    return st;
}

static long s_get(const char *path, json_t **out)
{
    return hl_test_http(&s_c, HL_T_POINTS, "GET", path, NULL, out, NULL);
}

/* The ledger as an accountant checks it: every award two postings summing
 * to zero, the whole ledger zero, every balance its postings' sum. */
static void s_assert_balanced(void)
{
    assert_int_equal(hl_test_countf(s_db, "SELECT coalesce(sum(amount), 0) FROM points.posting"),
                     0);
    assert_int_equal(hl_test_countf(s_db, "SELECT count(*) FROM (SELECT award_id FROM"
                                          " points.posting GROUP BY award_id"
                                          " HAVING count(*) <> 2 OR sum(amount) <> 0) x"),
                     0);
    assert_int_equal(hl_test_countf(s_db, "SELECT count(*) FROM points.ledger l WHERE NOT EXISTS"
                                          " (SELECT 1 FROM points.posting p"
                                          "   WHERE p.award_id = l.award_id)"),
                     0);
    assert_int_equal(hl_test_countf(s_db, "SELECT count(*) FROM points.balance b FULL JOIN"
                                          " (SELECT account, sum(amount) s, count(*) n"
                                          "    FROM points.posting GROUP BY account) p"
                                          " ON p.account = b.account"
                                          " WHERE b.balance IS DISTINCT FROM p.s"
                                          "    OR b.awards IS DISTINCT FROM p.n::int"),
                     0);
}

#define S_WISH_AWARD  "11111111-1111-4111-8111-111111111111"
#define S_LARGE_AWARD "22222222-2222-4222-8222-222222222222"
#define S_FIXED_AWARD "33333333-3333-4333-8333-333333333333"
#define S_BAD_AWARD   "44444444-4444-4444-8444-444444444444"

static void test_pipeline_awards_paid_by_rule_once(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    /* A hard wish and a large item, amount unset: the rules pay 20 and 50. */
    s_emit("{\"award_id\":\"" S_WISH_AWARD "\",\"account\":\"cp001\",\"account_kind\":\"grid_org\","
           "\"reason\":\"帮独居老人换灯泡\",\"source_kind\":\"wish\",\"basis\":\"hard\","
           "\"source_id\":\"w-1\",\"org_unit\":\"cp001\",\"reviewer\":\"cm01-reviewer\","
           "\"community\":\"cm01\"}");
    s_emit("{\"award_id\":\"" S_LARGE_AWARD "\",\"account\":\"mu001\","
           "\"account_kind\":\"member_unit\",\"reason\":\"主干道占道经营整治\","
           "\"source_kind\":\"large_item\",\"source_id\":\"i-9\",\"org_unit\":\"cp015\","
           "\"reviewer\":\"cm01-commissioner\"}");
    /* A legacy award with its own amount: the fixed rule, kind inferred. */
    s_emit("{\"award_id\":\"" S_FIXED_AWARD "\",\"account\":\"mg001\",\"amount\":7,"
           "\"reason\":\"老式奖励\",\"source_kind\":\"wish\",\"org_unit\":\"cp001\"}");
    /* A basis no rule knows: dead-lettered, nothing stored. */
    s_emit("{\"award_id\":\"" S_BAD_AWARD "\",\"account\":\"cp001\",\"reason\":\"?\","
           "\"source_kind\":\"wish\",\"basis\":\"heroic\",\"org_unit\":\"cp001\"}");
    assert_true(hl_test_waitf(s_db, 3, 30, "SELECT count(*) FROM points.ledger"));
    assert_true(hl_test_waitf(s_db, 1, 30,
                              "SELECT count(*) FROM pipeline.message WHERE stage = 'points'"
                              " AND dead_at IS NOT NULL AND last_error LIKE '%%no points rule for"
                              " source_kind \"wish\" with basis \"heroic\"%%'"));
    assert_int_equal(
        hl_test_countf(s_db,
                       "SELECT count(*) FROM points.ledger WHERE award_id = '" S_BAD_AWARD "'"),
        0);
    assert_true(s_wait_metric("hl_points_awards_unruled_total", 1));

    assert_string_equal(hl_test_textf(s_db,
                                      "SELECT concat_ws('|', amount, rule_id, rule_version,"
                                      " reviewer, community, budget, basis) FROM points.ledger"
                                      " WHERE award_id = '" S_WISH_AWARD "'"),
                        "20|wish.hard|1|cm01-reviewer|cm01|budget.cm01|hard");
    /* The large item names no community: its org unit's (cp015 is in cm01). */
    assert_string_equal(hl_test_textf(s_db,
                                      "SELECT concat_ws('|', amount, rule_id, community, budget)"
                                      " FROM points.ledger WHERE award_id = '" S_LARGE_AWARD "'"),
                        "50|large_item|cm01|budget.cm01");
    assert_string_equal(
        hl_test_textf(s_db, "SELECT concat_ws('|', l.amount, l.rule_id, a.kind) FROM points.ledger"
                            " l JOIN points.account a ON a.code = l.account"
                            " WHERE award_id = '" S_FIXED_AWARD "'"),
        "7|fixed|grid_org");

    /* The same awards re-sent under new message ids: nothing moves. */
    s_emit("{\"award_id\":\"" S_WISH_AWARD "\",\"account\":\"cp001\",\"account_kind\":\"grid_org\","
           "\"reason\":\"帮独居老人换灯泡\",\"source_kind\":\"wish\",\"basis\":\"hard\","
           "\"org_unit\":\"cp001\",\"community\":\"cm01\"}");
    s_emit("{\"award_id\":\"" S_FIXED_AWARD "\",\"account\":\"mg001\",\"amount\":7,"
           "\"reason\":\"老式奖励\",\"source_kind\":\"wish\",\"org_unit\":\"cp001\"}");
    assert_true(hl_test_waitf(s_db, 0, 30,
                              "SELECT count(*) FROM pipeline.message WHERE stage = 'points'"
                              " AND done_at IS NULL AND dead_at IS NULL"));
    assert_true(s_wait_metric("hl_points_awards_repeated_total", 2));
    assert_int_equal(hl_test_countf(s_db, "SELECT count(*) FROM points.ledger"), 3);
    assert_int_equal(hl_test_countf(s_db, "SELECT balance FROM points.balance"
                                          " WHERE account = 'budget.cm01'"),
                     -77);
    s_assert_balanced();

    /* GET /v1/balances shows the account's kind and each award's rule. */
    json_t *out = NULL;
    assert_int_equal(s_get("/v1/balances/cp001", &out), 200);
    assert_int_equal(json_integer_value(json_object_get(out, "balance")), 20);
    assert_string_equal(json_string_value(json_object_get(out, "account_kind")), "grid_org");
    json_t *award = json_array_get(json_object_get(out, "awards"), 0);
    assert_string_equal(json_string_value(json_object_get(award, "rule_id")), "wish.hard");
    assert_string_equal(json_string_value(json_object_get(award, "reviewer")), "cm01-reviewer");
    json_decref(out);
    s_ok = true;
}

static void test_council_held_pays_once(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    char id[64], item[64], path[128];
    hl_test_appeal_case(&s_c, s_db,
                        json_pack("{s:s, s:s, s:s, s:s}", "channel", "qr", "org_unit", "cp002",
                                  "category", "neighbour", "body",
                                  "楼上邻居每天半夜在家里跳绳，咚咚响，说了几次都不听"),
                        NULL, id, item);
    assert_true(hl_test_waitf(s_db, 1, 30,
                              "SELECT count(*) FROM intake.appeal WHERE id = '%s'"
                              " AND status = 'routed' AND size = 'small'",
                              id));
    snprintf(path, sizeof path, "/v1/items/%s/council", item);
    json_t *rec = json_pack("{s:s, s:[s,s,s], s:s, s:s}", "venue", "红色议事厅", "attendees",
                            "party_branch", "owners_committee", "property_company", "decision",
                            "三方约定调解", "outcome", "双方约定晚十点后不再跳绳");
    assert_int_equal(hl_test_http(&s_c, HL_T_TRIAGE, "POST", path, rec, NULL, NULL), 200);
    /* Heard again: 409, and no second award. */
    assert_int_equal(hl_test_http(&s_c, HL_T_TRIAGE, "POST", path, rec, NULL, NULL), 409);
    json_decref(rec);
    assert_true(hl_test_waitf(s_db, 1, 30,
                              "SELECT count(*) FROM points.ledger WHERE source_kind = 'council'"
                              " AND source_id = '%s'",
                              item));
    assert_string_equal(hl_test_textf(s_db,
                                      "SELECT concat_ws('|', account, amount, rule_id, org_unit,"
                                      " community, reviewer) FROM points.ledger"
                                      " WHERE source_kind = 'council'"),
                        "cp002|8|council|cp002|cm02|council");
    assert_true(hl_test_waitf(s_db, 0, 30,
                              "SELECT count(*) FROM pipeline.message WHERE stage = 'points'"
                              " AND done_at IS NULL AND dead_at IS NULL"));
    assert_int_equal(
        hl_test_countf(s_db, "SELECT count(*) FROM points.ledger WHERE source_kind = 'council'"),
        1);
    s_assert_balanced();
    s_ok = true;
}

static json_t *s_act(const char *kind, const char *source, const char *account,
                     const char *community, const char *at)
{
    json_t *b = json_pack("{s:s, s:s, s:s, s:s}", "kind", kind, "source_id", source, "account",
                          account, "community", community);
    if (at)
        json_object_set_new(b, "occurred_at", json_string(at));
    return b;
}

static void test_activities(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    s_key("rec-cm01 recorder cm01", s_recorder);
    s_key("rec-city recorder", s_city_rec);
    s_key("jury-city jury", s_jury);
    s_key("jury-cm01 jury cm01", s_jury_cm01);
    json_t *out = NULL;
    assert_int_equal(
        s_activity(s_act("study_pair", "sp-1", "v-wang", "cm01", "2026-12-01T10:00:00+08:00"),
                   s_recorder, &out),
        201);
    assert_string_equal(json_string_value(json_object_get(out, "rule_id")), "study_pair");
    assert_int_equal(json_integer_value(json_object_get(out, "amount")), 3);
    assert_string_equal(json_string_value(json_object_get(out, "recorded_by")), "rec-cm01");
    char award[64];
    snprintf(award, sizeof award, "%s", json_string_value(json_object_get(out, "award_id")));
    json_decref(out);
    /* Posted again: the same award, paid once. */
    out = NULL;
    assert_int_equal(
        s_activity(s_act("study_pair", "sp-1", "v-wang", "cm01", "2026-12-01T10:00:00+08:00"),
                   s_recorder, &out),
        200);
    assert_string_equal(json_string_value(json_object_get(out, "status")), "repeated");
    assert_string_equal(json_string_value(json_object_get(out, "award_id")), award);
    json_decref(out);
    out = NULL;
    json_t *ev = s_act("event", "ev-rc001-1203", "pm-li", "cm01", NULL);
    json_object_set_new(ev, "account_kind", json_string("party_member"));
    json_object_set_new(ev, "org_unit", json_string("mg001"));
    assert_int_equal(s_activity(ev, s_recorder, &out), 201);
    assert_int_equal(json_integer_value(json_object_get(out, "amount")), 2);
    json_decref(out);

    /* Refusals: each names its field or rule, and stores nothing. */
    long before = hl_test_countf(s_db, "SELECT count(*) FROM points.ledger");
    struct {
        json_t *body;
        const char *auth;
        long status;
        const char *field;
    } bad[] = {
        {s_act("event", "e-2", "v-a", "cm01", NULL), NULL, 401, "Authorization"},
        {s_act("event", "e-2", "v-a", "cm01", NULL), "Authorization: Bearer nope", 401,
         "Authorization"},
        {s_act("event", "e-2", "v-a", "cm01", NULL), s_jury, 403, "Authorization"},
        {s_act("event", "e-2", "v-a", "cm02", NULL), s_recorder, 403, "community"},
        {s_act("wish", "e-2", "v-a", "cm01", NULL), s_recorder, 422, "kind"},
        {s_act("event", "e-2", "v-a", "cm01", "yesterday"), s_recorder, 422, "occurred_at"},
        {s_act("event", "e-2", "v-a", "cm01", "2099-01-01T00:00:00+08:00"), s_recorder, 422,
         "occurred_at"},
        {json_pack("{s:s, s:s, s:s, s:s, s:s}", "kind", "event", "source_id", "e-2", "account",
                   "v-a", "community", "cm01", "org_unit", "cp002"),
         s_recorder, 422, "org_unit"},
        {json_pack("{s:s, s:s, s:s, s:s, s:s}", "kind", "event", "source_id", "e-2", "account",
                   "v-a", "community", "cm01", "basis", "vip"),
         s_recorder, 422, "kind"},
        {json_pack("{s:s, s:s, s:s, s:s, s:s}", "kind", "event", "source_id", "e-2", "account",
                   "v-a", "community", "cm01", "colour", "red"),
         s_recorder, 422, "colour"},
        {json_pack("{s:s, s:s, s:s, s:s, s:s}", "kind", "event", "source_id", "e-2", "account",
                   "cp001", "community", "cm01", "account_kind", "volunteer"),
         s_recorder, 422, "account_kind"},
        {json_pack("{s:s, s:s, s:s}", "kind", "event", "source_id", "e-2", "account", "v-a"),
         s_recorder, 422, "community"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        out = NULL;
        long st = s_activity(bad[i].body, bad[i].auth, &out);
        if (st != bad[i].status || !hl_test_error_field(out) ||
            strcmp(hl_test_error_field(out), bad[i].field) != 0)
            print_error("case %zu: %ld %s\n", i, st, out ? json_dumps(out, 0) : "(no body)");
        assert_int_equal(st, bad[i].status);
        assert_string_equal(hl_test_error_field(out), bad[i].field);
        json_decref(out);
    }
    assert_int_equal(hl_test_countf(s_db, "SELECT count(*) FROM points.ledger"), before);
    s_assert_balanced();
    s_ok = true;
}

/* The accounts of a leaderboard reply, "account:points" joined by spaces. */
static const char *s_leaders(const char *query)
{
    static char text[512];
    char path[256];
    snprintf(path, sizeof path, "/v1/leaderboard?%s", query);
    json_t *out = NULL;
    long st = s_get(path, &out);
    text[0] = '\0';
    if (st != 200) {
        snprintf(text, sizeof text, "HTTP %ld", st);
    } else {
        size_t i;
        json_t *l;
        json_array_foreach(json_object_get(out, "leaders"), i, l)
        {
            size_t n = strlen(text);
            snprintf(text + n, sizeof text - n, "%s%s:%lld", i ? " " : "",
                     json_string_value(json_object_get(
                         l, json_object_get(l, "account") ? "account" : "org_unit")),
                     (long long)json_integer_value(json_object_get(l, "points")));
        }
    }
    json_decref(out);
    return text;
}

static void test_leaderboards_by_period(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    struct {
        const char *kind, *source, *account, *community, *at;
    } acts[] = {
        /* 23:30 Beijing time on 31 October: October (15:30 UTC). */
        {"event", "ev-1031", "v-zhao", "cm01", "2026-10-31T23:30:00+08:00"},
        /* 00:30 Beijing time on 1 November: November, though still 31 October in UTC. */
        {"event", "ev-1101", "v-qian", "cm01", "2026-11-01T00:30:00+08:00"},
        {"study_pair", "sp-1101", "v-qian", "cm01", "2026-11-01T09:00:00+08:00"},
        {"study_pair", "sp-0915", "v-sun", "cm01", "2026-09-15T09:00:00+08:00"},
        {"event", "ev-cm02", "v-li", "cm02", "2026-11-10T09:00:00+08:00"},
        {"study_pair", "sp-cm02", "v-li", "cm02", "2026-11-11T09:00:00+08:00"},
        {"study_pair", "sp-cm02b", "v-zhou", "cm02", "2026-11-12T09:00:00+08:00"},
    };
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++)
        assert_int_equal(s_activity(s_act(acts[i].kind, acts[i].source, acts[i].account,
                                          acts[i].community, acts[i].at),
                                    s_city_rec, NULL),
                         201);
    /* November, volunteers of the city: v-li 2+3, v-qian 2+3 (tie, code order), v-zhou 3. */
    assert_string_equal(s_leaders("period=month&at=2026-11&kind=volunteer"),
                        "v-li:5 v-qian:5 v-zhou:3");
    assert_string_equal(s_leaders("period=month&at=2026-10&kind=volunteer"), "v-zhao:2");
    /* The fourth quarter in cm01: v-qian, v-zhao and v-wang (1 December);
     * v-sun's September is Q3. */
    assert_string_equal(s_leaders("period=quarter&at=2026Q4&kind=volunteer&community=cm01"),
                        "v-qian:5 v-wang:3 v-zhao:2");
    assert_string_equal(s_leaders("period=quarter&at=2026Q3&community=cm01"), "v-sun:3");
    /* All time in cm02, and all time in the city for the top three of every kind. */
    assert_string_equal(s_leaders("community=cm02"), "cp002:8 v-li:5 v-zhou:3");
    assert_string_equal(s_leaders("limit=3"), "mu001:50 cp001:20 cp002:8");
    assert_string_equal(s_leaders("kind=member_unit"), "mu001:50");
    assert_string_equal(s_leaders("kind=org_unit&limit=2"), "cp015:50 cp001:27");
    /* Budget accounts never rank. */
    assert_null(strstr(s_leaders("limit=100"), "budget"));
    /* Refusals name the parameter. */
    json_t *out = NULL;
    assert_int_equal(s_get("/v1/leaderboard?period=week", &out), 400);
    assert_string_equal(hl_test_error_field(out), "period");
    json_decref(out);
    out = NULL;
    assert_int_equal(s_get("/v1/leaderboard?period=month&at=2026-13", &out), 400);
    assert_string_equal(hl_test_error_field(out), "at");
    json_decref(out);
    out = NULL;
    assert_int_equal(s_get("/v1/leaderboard?community=cm99", &out), 404);
    assert_string_equal(hl_test_error_field(out), "community");
    json_decref(out);
    s_assert_balanced();
    s_ok = true;
}

/* ---- the contest of 2025Q1 on a known dataset ------------------------------
 *
 * Quarter 2025Q1 is 2025-01-01 00:00 to 2025-04-01 00:00 Beijing time. Three
 * compounds of community cm03 get data; every other compound has none.
 *
 * cp003 (X): four small items opened in the quarter (one at 00:30 on
 *   1 January Beijing time, still 31 December in UTC), three resolved after
 *   48, 96 and 144 hours (mean 96 h: within 7 days, speed 1), one of them
 *   reopened once; a fifth item opened at 23:30 on 31 December Beijing time
 *   does not count. Residents confirmed 4 times and reopened once in the
 *   quarter (a confirmation in April does not count). Two councils recorded
 *   and one wish approved in the quarter. The jury scores sanitation 90.
 *     party building 50 + 10 x 2 + 5 x 1                      = 75
 *     sanitation     manual                                   = 90
 *     petitions      50 x 3/4 + 30 x 1 + 20 x (1 - 1/3) = 80.83 -> 80.8
 *     satisfaction   100 x 4/5                                = 80
 *     total (30 x 75 + 20 x 90 + 25 x 80.8 + 25 x 80) / 100   = 80.7 -> B
 * cp017 (Y): no system data; the jury scores party building 98 (over the
 *   system's 50), sanitation 96 and satisfaction 95 (a survey).
 *     total (30 x 98 + 20 x 96 + 25 x 95) / 75 = 96.47 -> 96.5 -> A
 * cp031 (Z): two items opened, none resolved; 1 confirmation, 3 reopenings.
 *     party building 50, petitions 0 + 0 + 20 = 20, satisfaction 25
 *     total (30 x 50 + 25 x 20 + 25 x 25) / 80 = 32.81 -> 32.8 -> C
 * Every other compound: party building 50 only, total 50 -> C.
 * Grades: A 1, B 1, C 92. */

static void s_item(const char *id, const char *compound, const char *status, const char *created,
                   const char *resolved, int reopens)
{
    char sql[1024];
    snprintf(sql, sizeof sql,
             "INSERT INTO triage.item (id, size, category, org_unit, title, status, route, level,"
             " target, created_at, resolved_at, compound, community, reopen_count)"
             " VALUES ('%s', 'small', 'neighbour', '%s', '测试事项', '%s', 'council', 'compound',"
             " '%s', '%s', %s%s%s, '%s', 'cm03', %d)",
             id, compound, status, compound, created, resolved ? "'" : "",
             resolved ? resolved : "NULL", resolved ? "'" : "", compound, reopens);
    hl_test_exec(s_db, sql);
}

static void s_feedback(const char *item, const char *kind, const char *at)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO triage.feedback (id, appeal_id, item_id, kind, reason, effect, at)"
             " VALUES (gen_random_uuid(), gen_random_uuid(), '%s', '%s', %s, 'recorded', '%s')",
             item, kind, strcmp(kind, "reopen") == 0 ? "'又漏水了'" : "NULL", at);
    hl_test_exec(s_db, sql);
}

static void s_council(const char *item, const char *at)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO triage.council (id, item_id, venue, heard_at, attendees, decision,"
             " outcome, recorded_at) VALUES (gen_random_uuid(), '%s', '晚茶议事厅', '%s',"
             " '{party_branch,owners_committee,property_company}', '约定', '办结', '%s')",
             item, at, at);
    hl_test_exec(s_db, sql);
}

static long s_score(const char *compound, const char *criterion, double score, const char *auth,
                    json_t **out)
{
    json_t *b = json_pack("{s:s, s:s, s:f, s:s}", "compound", compound, "criterion", criterion,
                          "score", score, "note", "季度检查");
    const char *headers[] = {auth, NULL};
    long st = hl_test_http(&s_c, HL_T_POINTS, "POST", "/v1/contests/2025Q1/scores", b, out,
                           auth ? headers : NULL);
    json_decref(b);
    return st;
}

static double s_num(json_t *o, const char *path)
{
    char key[64];
    snprintf(key, sizeof key, "%s", path);
    json_t *v = o;
    for (char *k = strtok(key, "."); k && v; k = strtok(NULL, "."))
        v = json_object_get(v, k);
    return json_number_value(v);
}

static void test_contest_and_grades_by_hand(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    /* cp003 */
    s_item("a0000000-0000-4000-8000-000000000001", "cp003", "resolved", "2024-12-31 16:30+00",
           "2025-01-03 00:30+08", 0); /* 48 h */
    s_item("a0000000-0000-4000-8000-000000000002", "cp003", "resolved", "2025-02-01 00:00+08",
           "2025-02-05 00:00+08", 1); /* 96 h, reopened once */
    s_item("a0000000-0000-4000-8000-000000000003", "cp003", "resolved", "2025-03-01 00:00+08",
           "2025-03-07 00:00+08", 0); /* 144 h */
    s_item("a0000000-0000-4000-8000-000000000004", "cp003", "routed", "2025-03-20 00:00+08", NULL,
           0);
    s_item("a0000000-0000-4000-8000-000000000005", "cp003", "resolved", "2024-12-31 15:30+00",
           "2025-01-02 00:00+08", 3); /* 31 Dec in Beijing: not Q1 */
    for (int i = 0; i < 4; i++)
        s_feedback("a0000000-0000-4000-8000-000000000001", "confirm", "2025-02-10 10:00+08");
    s_feedback("a0000000-0000-4000-8000-000000000002", "reopen", "2025-02-06 10:00+08");
    s_feedback("a0000000-0000-4000-8000-000000000003", "confirm", "2025-04-01 00:10+08");
    s_council("a0000000-0000-4000-8000-000000000001", "2025-01-02 19:00+08");
    s_council("a0000000-0000-4000-8000-000000000002", "2025-02-04 19:00+08");
    s_council("a0000000-0000-4000-8000-000000000005", "2024-12-31 23:00+08"); /* Q4 2024 */
    hl_test_exec(s_db, "INSERT INTO bounty.board (id, kind, period_start, community) VALUES"
                       " ('b0000000-0000-4000-8000-000000000001', 'wish', '2025-02-01', 'cm03')");
    hl_test_exec(s_db,
                 "INSERT INTO bounty.wish (id, board_id, item_id, org_unit, title, body, points,"
                 " status, claimant, claimant_kind, claimed_at, evidence, completed_at, reviewer,"
                 " reviewed_at, award_id, created_at) VALUES"
                 " ('c0000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-000000000001',"
                 " 'c0000000-0000-4000-8000-0000000000f1', 'mg007', '换灯泡', '楼道灯坏了', 10,"
                 " 'approved', 'mg007', 'org_unit', '2025-02-02 10:00+08', '已换',"
                 " '2025-02-03 10:00+08', 'cm03', '2025-02-04 10:00+08',"
                 " 'c0000000-0000-4000-8000-0000000000f2', '2025-02-01 10:00+08')");
    assert_string_equal(hl_test_textf(s_db, "SELECT parent FROM org.org_unit WHERE code = 'mg007'"),
                        "cp003");
    /* cp031 */
    s_item("a0000000-0000-4000-8000-000000000031", "cp031", "routed", "2025-01-10 00:00+08", NULL,
           0);
    s_item("a0000000-0000-4000-8000-000000000032", "cp031", "routed", "2025-01-11 00:00+08", NULL,
           0);
    s_feedback("a0000000-0000-4000-8000-000000000031", "confirm", "2025-02-10 10:00+08");
    for (int i = 0; i < 3; i++)
        s_feedback("a0000000-0000-4000-8000-000000000032", "reopen", "2025-02-11 10:00+08");

    /* Manual scores: refusals first (nothing stored), then the jury's. */
    json_t *out = NULL;
    assert_int_equal(s_score("cp003", "sanitation", 101, s_jury, &out), 422);
    assert_string_equal(hl_test_error_field(out), "score");
    json_decref(out);
    out = NULL;
    assert_int_equal(s_score("cp003", "beauty", 80, s_jury, &out), 422);
    assert_string_equal(hl_test_error_field(out), "criterion");
    json_decref(out);
    out = NULL;
    assert_int_equal(s_score("cm03", "sanitation", 80, s_jury, &out), 422);
    assert_string_equal(hl_test_error_field(out), "compound");
    json_decref(out);
    out = NULL;
    assert_int_equal(s_score("cp003", "sanitation", 80, s_jury_cm01, &out), 403);
    assert_string_equal(hl_test_error_field(out), "compound");
    json_decref(out);
    assert_int_equal(s_score("cp003", "sanitation", 80, s_recorder, NULL), 403);
    assert_int_equal(s_score("cp003", "sanitation", 80, NULL, NULL), 401);
    assert_int_equal(hl_test_countf(s_db, "SELECT count(*) FROM points.manual_score"), 0);
    /* A first score for cp003 is corrected: the later one counts. */
    assert_int_equal(s_score("cp003", "sanitation", 60, s_jury, NULL), 201);
    assert_int_equal(s_score("cp003", "sanitation", 90, s_jury, NULL), 201);
    assert_int_equal(s_score("cp017", "party_building", 98, s_jury, NULL), 201);
    assert_int_equal(s_score("cp017", "sanitation", 96, s_jury, NULL), 201);
    assert_int_equal(s_score("cp017", "satisfaction", 95, s_jury, NULL), 201);

    /* Computing needs a city-wide jury key and a quarter that has begun. */
    const char *jury[] = {s_jury, NULL}, *jury_cm01[] = {s_jury_cm01, NULL},
               *rec[] = {s_recorder, NULL};
    assert_int_equal(
        hl_test_http(&s_c, HL_T_POINTS, "POST", "/v1/contests/2025Q1/compute", NULL, NULL, rec),
        403);
    assert_int_equal(hl_test_http(&s_c, HL_T_POINTS, "POST", "/v1/contests/2025Q1/compute", NULL,
                                  NULL, jury_cm01),
                     403);
    out = NULL;
    assert_int_equal(
        hl_test_http(&s_c, HL_T_POINTS, "POST", "/v1/contests/2199Q1/compute", NULL, &out, jury),
        422);
    assert_string_equal(hl_test_error_field(out), "quarter");
    json_decref(out);
    out = NULL;
    assert_int_equal(
        hl_test_http(&s_c, HL_T_POINTS, "POST", "/v1/contests/2025Q9/compute", NULL, &out, jury),
        400);
    assert_string_equal(hl_test_error_field(out), "quarter");
    json_decref(out);
    assert_int_equal(hl_test_countf(s_db, "SELECT count(*) FROM points.grade"), 0);

    out = NULL;
    assert_int_equal(
        hl_test_http(&s_c, HL_T_POINTS, "POST", "/v1/contests/2025Q1/compute", NULL, &out, jury),
        200);
    assert_int_equal(json_integer_value(json_object_get(out, "compounds")), 94);
    assert_int_equal(s_num(out, "grades.A"), 1);
    assert_int_equal(s_num(out, "grades.B"), 1);
    assert_int_equal(s_num(out, "grades.C"), 92);
    assert_int_equal(json_integer_value(json_object_get(out, "chains")), 42);
    json_decref(out);

    /* X: every input and score traceable. */
    out = NULL;
    assert_int_equal(s_get("/v1/grades/2025Q1/cp003", &out), 200);
    assert_string_equal(json_string_value(json_object_get(out, "grade")), "B");
    assert_true(s_num(out, "total") > 80.69 && s_num(out, "total") < 80.71);
    assert_int_equal(s_num(out, "inputs.items"), 4);
    assert_int_equal(s_num(out, "inputs.items_resolved"), 3);
    assert_true(s_num(out, "inputs.resolve_hours") > 95.99 &&
                s_num(out, "inputs.resolve_hours") < 96.01);
    assert_int_equal(s_num(out, "inputs.item_reopens"), 1);
    assert_int_equal(s_num(out, "inputs.confirms"), 4);
    assert_int_equal(s_num(out, "inputs.feedback_reopens"), 1);
    assert_int_equal(s_num(out, "inputs.wishes_done"), 1);
    assert_int_equal(s_num(out, "inputs.councils_held"), 2);
    assert_true(s_num(out, "scores.party_building.score") == 75);
    assert_true(s_num(out, "scores.sanitation.score") == 90);
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(out, "scores"), "sanitation"), "source")),
        "manual");
    assert_true(s_num(out, "scores.petitions_stability.score") > 80.79 &&
                s_num(out, "scores.petitions_stability.score") < 80.81);
    assert_true(s_num(out, "scores.satisfaction.score") == 80);
    assert_true(s_num(out, "weights.party_building") == 30);
    assert_true(s_num(out, "thresholds.A") == 85);
    assert_string_equal(json_string_value(json_object_get(out, "computed_by")), "jury-city");
    json_decref(out);

    assert_string_equal(hl_test_textf(s_db, "SELECT concat_ws('|', total, grade) FROM points.grade"
                                            " WHERE quarter = '2025-01-01' AND compound = 'cp017'"),
                        "96.5|A");
    assert_string_equal(hl_test_textf(s_db, "SELECT concat_ws('|', total, grade) FROM points.grade"
                                            " WHERE quarter = '2025-01-01' AND compound = 'cp031'"),
                        "32.8|C");
    assert_int_equal(hl_test_countf(s_db, "SELECT count(*) FROM points.grade WHERE quarter ="
                                          " '2025-01-01' AND total = 50 AND grade = 'C'"),
                     91);
    /* The latest quarter's grades are the compounds' grades now. */
    assert_string_equal(hl_test_textf(s_db,
                                      "SELECT string_agg(grade, '' ORDER BY code) FROM"
                                      " org.org_unit WHERE code IN ('cp003', 'cp017', 'cp031')"),
                        "BAC");

    /* The contest table: a chain's score is the mean total of its compounds. */
    assert_int_equal(
        hl_test_countf(s_db,
                       "SELECT count(*) FROM points.chain_score s WHERE quarter = '2025-01-01'"
                       " AND score IS DISTINCT FROM (SELECT round(avg(g.total), 1)"
                       "   FROM org.chain_member m JOIN points.grade g"
                       "     ON g.compound = m.compound AND g.quarter = s.quarter"
                       "  WHERE m.chain = s.chain)"),
        0);
    out = NULL;
    assert_int_equal(s_get("/v1/contests/2025Q1?community=cm03", &out), 200);
    json_t *chains = json_object_get(out, "chains");
    assert_int_equal(json_array_size(chains), 3);
    assert_int_equal(s_num(json_array_get(chains, 0), "rank_in_community"), 1);
    json_decref(out);

    /* The listing, filtered. */
    out = NULL;
    assert_int_equal(s_get("/v1/grades/2025Q1?community=cm03&grade=A", &out), 200);
    assert_int_equal(json_array_size(json_object_get(out, "grades")), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(out, "grades"), 0), "compound")),
                        "cp017");
    json_decref(out);
    out = NULL;
    assert_int_equal(s_get("/v1/grades/2025Q2", &out), 404);
    json_decref(out);
    out = NULL;
    assert_int_equal(s_get("/v1/grades/2025Q1?grade=D", &out), 400);
    assert_string_equal(hl_test_error_field(out), "grade");
    json_decref(out);
    s_ok = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipeline_awards_paid_by_rule_once),
        cmocka_unit_test(test_council_held_pays_once),
        cmocka_unit_test(test_activities),
        cmocka_unit_test(test_leaderboards_by_period),
        cmocka_unit_test(test_contest_and_grades_by_hand),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
