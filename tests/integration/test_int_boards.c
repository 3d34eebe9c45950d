/* test_int_boards: hl-bounty's boards against a real cluster.
 *
 *  - a wish posted through the pipeline lands on its community's draft
 *    board; nobody claims before the commissioner publishes; only eligible
 *    actors claim (403 naming the rule); claim → extend → complete → reject
 *    (back to claimed with a renewed lease) → complete → approve, with
 *    PointsAwarded emitted once, amount unset and the new fields filled; the
 *    change feed lists every step in order without gaps;
 *  - a lease that ran out while hl-bounty was down returns the wish to the
 *    board once, after the restart;
 *  - a large item: offered (LargeItemOffered), published, claimed by a
 *    member unit whose domains fit, refused to one that does not, directly
 *    and through the platform (LargeItemAction, applied once per action id,
 *    refusals answered with PlatformEvent action.refused), confirmed by the
 *    community (ItemResolved and PointsAwarded);
 *  - an open wish of last month's board is carried over to this month's,
 *    keeping its age, and both boards' feeds say so; the board reads;
 *  - 1,000 concurrent claims at 100 wishes from eligible and ineligible
 *    actors: each wish claimed exactly once, never by an ineligible actor. */
#include "hl_testflow.h"

#include <pthread.h>
#include <signal.h>
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
    static const char *const env[] = {"HL_RESEND_AFTER_MS=500", "HL_SWEEP_INTERVAL_MS=200",
                                      "HL_LEASE_SCAN_MS=200", NULL};
    s_ok = true;
    return hl_test_cluster_up(&s_c, &s_db, "hl_int_boards", 1, env);
}

static int s_teardown(void **state)
{
    (void)state;
    hl_test_cluster_down(&s_c, s_db, s_ok);
    return 0;
}

/* `hlctl emit bounty TYPE JSON` against the cluster. */
static void s_emit(const char *type, json_t *payload)
{
    char *text = json_dumps(payload, JSON_COMPACT);
    json_decref(payload);
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "HL_DATABASE_URL='%s' HL_BUS=tcp://127.0.0.1:%d %s emit bounty %s '%s' "
             ">>%s/hlctl.log 2>&1",
             s_c.db_url, s_c.bus_port[0], hl_test_bin("hlctl"), type, text, s_c.dir);
    free(text);
    assert_int_equal(system(cmd), 0);
}

/* POST `path` with `body` (consumed, may be NULL) as `key`; the reply in *out. */
static long s_post(const char *key, json_t *body, json_t **out, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static long s_post(const char *key, json_t *body, json_t **out, const char *fmt, ...)
{
    char path[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    long st = hl_test_http_key(&s_c, HL_T_BOUNTY, "POST", path, body, out, key);
    json_decref(body);
    return st;
}

static const char *s_str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* The error's field of a refusal (and frees it). */
static void s_expect_field(json_t *reply, const char *field)
{
    assert_non_null(reply);
    assert_string_equal(hl_test_error_field(reply), field);
    json_decref(reply);
}

/* The PointsAwarded emitted for `source_id`, or NULL (caller frees). */
static Hl__PointsAwarded *s_award_for(const char *source_id, size_t *count)
{
    ProtobufCMessage **msgs;
    size_t n = hl_test_messages(s_db, "PointsAwarded", &hl__points_awarded__descriptor, &msgs);
    Hl__PointsAwarded *found = NULL;
    *count = 0;
    for (size_t i = 0; i < n; i++) {
        Hl__PointsAwarded *a = (Hl__PointsAwarded *)msgs[i];
        if (a->source_id && strcmp(a->source_id, source_id) == 0) {
            (*count)++;
            if (!found) {
                found = a;
                continue;
            }
        }
        protobuf_c_message_free_unpacked(msgs[i], NULL);
    }
    free(msgs);
    return found;
}

/* ---- the wish board ------------------------------------------------------- */

static void test_wish_board_flow(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    /* A micro-grid of a compound, its community, and another community. */
    char grid[32], compound[32], community[32], other[32];
    snprintf(grid, sizeof grid, "%s",
             hl_test_textf(s_db, "SELECT code FROM org.org_unit WHERE level = 'micro_grid'"
                                 " ORDER BY code OFFSET 20 LIMIT 1"));
    snprintf(compound, sizeof compound, "%s",
             hl_test_textf(s_db, "SELECT parent FROM org.org_unit WHERE code = '%s'", grid));
    snprintf(community, sizeof community, "%s",
             hl_test_textf(s_db, "SELECT parent FROM org.org_unit WHERE code = '%s'", compound));
    snprintf(other, sizeof other, "%s",
             hl_test_textf(s_db,
                           "SELECT code FROM org.org_unit WHERE level = 'community'"
                           " AND code <> '%s' ORDER BY code LIMIT 1",
                           community));

    const char *item = "a1111111-1111-4111-8111-111111111111";
    s_emit("WishPosted",
           json_pack("{s:s, s:s, s:s, s:s, s:s}", "item_id", item, "title", "帮独居老人换灯泡",
                     "body", "3号楼王奶奶家客厅灯坏了，想请人帮忙换", "org_unit", grid, "category",
                     "elderly"));
    assert_true(
        hl_test_waitf(s_db, 1, 30, "SELECT count(*) FROM bounty.wish WHERE item_id = '%s'", item));
    char wish[64], board[64];
    snprintf(wish, sizeof wish, "%s",
             hl_test_textf(s_db, "SELECT id FROM bounty.wish WHERE item_id = '%s'", item));
    snprintf(board, sizeof board, "%s",
             hl_test_textf(s_db, "SELECT board_id FROM bounty.wish WHERE id = '%s'", wish));
    /* On its community's board of this month, as a draft, remembering its micro-grid. */
    assert_int_equal(hl_test_countf(s_db,
                                    "SELECT count(*) FROM bounty.board b JOIN bounty.wish w ON"
                                    " w.board_id = b.id WHERE w.id = '%s' AND b.community = '%s'"
                                    " AND b.kind = 'wish' AND b.published_at IS NULL"
                                    " AND w.micro_grid = '%s' AND w.org_unit = '%s'"
                                    " AND w.difficulty = 'normal'",
                                    wish, community, grid, compound),
                     1);

    char k_grid[65], k_vol[65], k_far[65], k_rev[65], k_com[65], k_self[65], k_mu[65];
    char name[64];
    snprintf(name, sizeof name, "b-grid-%s", grid);
    assert_int_equal(hl_test_actor(s_db, name, "grid_org", grid, NULL, k_grid), 0);
    assert_int_equal(hl_test_actor(s_db, "b-vol-zhang", "volunteer", community, "p-zhang", k_vol),
                     0);
    assert_int_equal(hl_test_actor(s_db, "b-vol-far", "volunteer", other, NULL, k_far), 0);
    assert_int_equal(hl_test_actor(s_db, "b-rev", "reviewer", community, NULL, k_rev), 0);
    assert_int_equal(hl_test_actor(s_db, "b-com", "commissioner", community, NULL, k_com), 0);
    /* The volunteer is also the community's reviewer under a second key. */
    assert_int_equal(hl_test_actor(s_db, "b-rev-zhang", "reviewer", community, "p-zhang", k_self),
                     0);
    assert_int_equal(hl_test_actor(s_db, "b-mu", "member_unit",
                                   hl_test_textf(s_db, "SELECT min(code) FROM org.member_unit"),
                                   NULL, k_mu),
                     0);

    json_t *reply = NULL;
    /* No key, an unknown key: 401. */
    assert_int_equal(s_post(NULL, NULL, &reply, "/v1/wishes/%s/claim", wish), 401);
    s_expect_field(reply, "Authorization");
    assert_int_equal(s_post("0000", NULL, &reply, "/v1/wishes/%s/claim", wish), 401);
    json_decref(reply);
    /* A draft cannot be claimed; a reviewer cannot publish; the commissioner can, once. */
    assert_int_equal(s_post(k_vol, NULL, &reply, "/v1/wishes/%s/claim", wish), 409);
    json_decref(reply);
    assert_int_equal(s_post(k_rev, NULL, &reply, "/v1/boards/%s/publish", board), 403);
    json_decref(reply);
    assert_int_equal(s_post(k_com, json_pack("{s:s}", "difficulty", "hard"), NULL,
                            "/v1/wishes/%s/difficulty", wish),
                     200);
    assert_int_equal(s_post(k_com, NULL, &reply, "/v1/boards/%s/publish", board), 200);
    assert_string_equal(s_str(reply, "published_by"), "b-com");
    json_decref(reply);
    assert_int_equal(s_post(k_com, NULL, NULL, "/v1/boards/%s/publish", board), 409);

    /* Ineligible claimants: refused naming the rule, nothing stored. */
    assert_int_equal(s_post(k_far, NULL, &reply, "/v1/wishes/%s/claim", wish), 403);
    s_expect_field(reply, "wish.volunteer.community");
    assert_int_equal(s_post(k_mu, NULL, &reply, "/v1/wishes/%s/claim", wish), 403);
    s_expect_field(reply, "rule");
    assert_int_equal(s_post(k_rev, NULL, &reply, "/v1/wishes/%s/claim", wish), 403);
    json_decref(reply);
    assert_int_equal(
        hl_test_countf(s_db, "SELECT count(*) FROM bounty.wish WHERE id = '%s' AND status = 'open'",
                       wish),
        1);
    /* A bad body is refused whole. */
    assert_int_equal(
        s_post(k_vol, json_pack("{s:s}", "claimant", "mg001"), &reply, "/v1/wishes/%s/claim", wish),
        422);
    s_expect_field(reply, "claimant");

    /* The eligible volunteer claims; a second claim loses. */
    assert_int_equal(s_post(k_vol, NULL, &reply, "/v1/wishes/%s/claim", wish), 200);
    assert_string_equal(s_str(reply, "claimant"), "b-vol-zhang");
    assert_string_equal(s_str(reply, "claimant_kind"), "volunteer");
    assert_non_null(s_str(reply, "lease_until"));
    json_decref(reply);
    assert_int_equal(s_post(k_grid, NULL, NULL, "/v1/wishes/%s/claim", wish), 409);
    /* The default lease is seven days, extended once by seven more. */
    assert_int_equal(
        hl_test_countf(s_db,
                       "SELECT count(*) FROM bounty.wish WHERE id = '%s' AND lease_until"
                       " BETWEEN claimed_at + interval '7 days' - interval '1 minute'"
                       " AND claimed_at + interval '7 days' + interval '1 minute'",
                       wish),
        1);
    assert_int_equal(s_post(k_grid, NULL, NULL, "/v1/wishes/%s/extend", wish), 403);
    assert_int_equal(s_post(k_vol, NULL, NULL, "/v1/wishes/%s/extend", wish), 200);
    assert_int_equal(s_post(k_vol, NULL, &reply, "/v1/wishes/%s/extend", wish), 409);
    json_decref(reply);
    assert_int_equal(
        hl_test_countf(s_db,
                       "SELECT count(*) FROM bounty.wish WHERE id = '%s' AND lease_extended AND"
                       " lease_until BETWEEN claimed_at + interval '14 days' - interval '1 minute'"
                       " AND claimed_at + interval '14 days' + interval '1 minute'",
                       wish),
        1);

    /* Only the claimant completes; nobody reviews their own completion. */
    assert_int_equal(s_post(k_grid, json_pack("{s:s}", "evidence", "换好了"), NULL,
                            "/v1/wishes/%s/complete", wish),
                     403);
    assert_int_equal(s_post(k_vol, json_pack("{s:s}", "evidence", "灯泡已换，附照片"), NULL,
                            "/v1/wishes/%s/complete", wish),
                     200);
    assert_int_equal(s_post(k_self, json_pack("{s:s}", "decision", "approve"), &reply,
                            "/v1/wishes/%s/review", wish),
                     403);
    assert_non_null(
        strstr(json_string_value(json_object_get(json_object_get(reply, "error"), "message")),
               "own completion"));
    json_decref(reply);
    /* A rejection needs a reason and sends the wish back with a new lease. */
    assert_int_equal(
        s_post(k_rev, json_pack("{s:s}", "decision", "reject"), NULL, "/v1/wishes/%s/review", wish),
        422);
    assert_int_equal(
        s_post(k_rev, json_pack("{s:s, s:s}", "decision", "reject", "note", "照片看不清，请补拍"),
               &reply, "/v1/wishes/%s/review", wish),
        200);
    assert_string_equal(s_str(reply, "status"), "claimed");
    json_decref(reply);
    assert_int_equal(
        hl_test_countf(s_db,
                       "SELECT count(*) FROM bounty.wish WHERE id = '%s' AND status ="
                       " 'claimed' AND NOT lease_extended AND review_note ="
                       " '照片看不清，请补拍' AND lease_until > now() + interval '6 days'",
                       wish),
        1);
    assert_int_equal(s_post(k_vol, json_pack("{s:s}", "evidence", "已补拍清晰照片"), NULL,
                            "/v1/wishes/%s/complete", wish),
                     200);
    /* No award before approval. */
    size_t awards = 0;
    Hl__PointsAwarded *a = s_award_for(wish, &awards);
    assert_null(a);
    assert_int_equal(s_post(k_rev, json_pack("{s:s}", "decision", "approve"), &reply,
                            "/v1/wishes/%s/review", wish),
                     200);
    char award_id[64];
    snprintf(award_id, sizeof award_id, "%s", s_str(reply, "award_id"));
    json_decref(reply);
    assert_int_equal(s_post(k_rev, json_pack("{s:s}", "decision", "approve"), NULL,
                            "/v1/wishes/%s/review", wish),
                     409);

    /* PointsAwarded: once, amount unset, hl-points' fields filled. */
    a = s_award_for(wish, &awards);
    assert_non_null(a);
    assert_int_equal(awards, 1);
    assert_false(a->has_amount);
    assert_string_equal(a->award_id, award_id);
    assert_string_equal(a->account, "b-vol-zhang");
    assert_string_equal(a->account_kind, "volunteer");
    assert_string_equal(a->basis, "hard");
    assert_string_equal(a->reviewer, "b-rev");
    assert_string_equal(a->community, community);
    assert_string_equal(a->org_unit, compound);
    assert_string_equal(a->source_kind, "wish");
    protobuf_c_message_free_unpacked(&a->base, NULL);
    assert_int_equal(hl_test_countf(s_db,
                                    "SELECT count(*) FROM bounty.wish WHERE id = '%s' AND"
                                    " award_id = '%s' AND status = 'approved'",
                                    wish, award_id),
                     1);
    assert_int_equal(
        hl_test_countf(s_db, "SELECT count(*) FROM pipeline.message WHERE type = 'TaskApproved'"),
        1);

    /* Every step recorded the actor who took it. */
    assert_int_equal(hl_test_countf(s_db,
                                    "SELECT count(*) FROM bounty.wish_event WHERE wish_id = '%s'"
                                    " AND action IN ('claimed', 'extended', 'completed')"
                                    " AND actor = 'b-vol-zhang' AND actor_kind = 'volunteer'",
                                    wish),
                     4);

    /* The change feed: every step in order, numbered without gaps. */
    json_t *feed = NULL;
    char path[200];
    snprintf(path, sizeof path, "/v1/boards/%s/changes?since=0", board);
    assert_int_equal(hl_test_http(&s_c, HL_T_BOUNTY, "GET", path, NULL, &feed, NULL), 200);
    json_t *changes = json_object_get(feed, "changes");
    static const char *const want[] = {"posted",   "difficulty", "published",
                                       "claimed",  "extended",   "completed",
                                       "rejected", "completed",  "approved"};
    assert_int_equal(json_array_size(changes), sizeof want / sizeof want[0]);
    for (size_t i = 0; i < json_array_size(changes); i++) {
        json_t *ch = json_array_get(changes, i);
        assert_int_equal(json_integer_value(json_object_get(ch, "seq")), (json_int_t)i + 1);
        assert_string_equal(s_str(ch, "action"), want[i]);
    }
    json_decref(feed);
    snprintf(path, sizeof path, "/v1/boards/%s/changes?since=7", board);
    assert_int_equal(hl_test_http(&s_c, HL_T_BOUNTY, "GET", path, NULL, &feed, NULL), 200);
    assert_int_equal(json_array_size(json_object_get(feed, "changes")), 2);
    assert_int_equal(json_integer_value(json_object_get(feed, "next")), 9);
    json_decref(feed);
    snprintf(path, sizeof path, "/v1/boards/%s/changes?since=x", board);
    assert_int_equal(hl_test_http(&s_c, HL_T_BOUNTY, "GET", path, NULL, &feed, NULL), 400);
    json_decref(feed);
    s_ok = true;
}

/* ---- leases across a restart ---------------------------------------------- */

static void test_lease_expires_across_restart(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    /* hl-bounty again with two-second leases. */
    hl_cluster_kill(&s_c, HL_T_BOUNTY, SIGTERM);
    int e = 0;
    while (e < 7 && s_c.extra_env[e])
        e++;
    s_c.extra_env[e] = "HL_LEASE_S=2";
    assert_int_equal(hl_cluster_spawn(&s_c, HL_T_BOUNTY), 0);

    const char *item = "a2222222-2222-4222-8222-222222222222";
    const char *grid = hl_test_textf(s_db, "SELECT code FROM org.org_unit WHERE level ="
                                           " 'micro_grid' ORDER BY code OFFSET 40 LIMIT 1");
    s_emit("WishPosted", json_pack("{s:s, s:s, s:s, s:s}", "item_id", item, "title", "代取药品",
                                   "body", "腿脚不便，想请人帮忙去社区医院取药", "org_unit", grid));
    assert_true(
        hl_test_waitf(s_db, 1, 30, "SELECT count(*) FROM bounty.wish WHERE item_id = '%s'", item));
    char wish[64], board[64], community[32], key[65];
    snprintf(wish, sizeof wish, "%s",
             hl_test_textf(s_db, "SELECT id FROM bounty.wish WHERE item_id = '%s'", item));
    snprintf(board, sizeof board, "%s",
             hl_test_textf(s_db, "SELECT board_id FROM bounty.wish WHERE id = '%s'", wish));
    snprintf(community, sizeof community, "%s",
             hl_test_textf(s_db, "SELECT community FROM bounty.board WHERE id = '%s'", board));
    long st = hl_test_publish_board(&s_c, s_db, board);
    assert_true(st == 200 || st == 409);
    assert_int_equal(hl_test_actor(s_db, "lease-vol", "volunteer", community, NULL, key), 0);
    assert_int_equal(s_post(key, NULL, NULL, "/v1/wishes/%s/claim", wish), 200);

    /* hl-bounty dies at once; the lease runs out while nobody scans. */
    hl_cluster_kill(&s_c, HL_T_BOUNTY, SIGKILL);
    assert_true(hl_test_waitf(s_db, 1, 30,
                              "SELECT count(*) FROM bounty.wish WHERE id = '%s' AND lease_until"
                              " < now() - interval '1 second'",
                              wish));
    assert_int_equal(
        hl_test_countf(
            s_db, "SELECT count(*) FROM bounty.wish WHERE id = '%s' AND status = 'claimed'", wish),
        1);
    assert_int_equal(hl_cluster_spawn(&s_c, HL_T_BOUNTY), 0);
    assert_true(hl_test_waitf(
        s_db, 1, 30, "SELECT count(*) FROM bounty.wish WHERE id = '%s' AND status = 'open'", wish));
    /* Back on the board once, however many scans have run since. */
    assert_true(hl_test_waitf(s_db, 1, 5,
                              "SELECT (count(*) FILTER (WHERE action = 'expired') >= 1)::int"
                              " FROM bounty.wish_event WHERE wish_id = '%s'",
                              wish));
    usleep(1000000); /* five more scans */
    assert_int_equal(hl_test_countf(s_db,
                                    "SELECT count(*) FROM bounty.wish_event WHERE wish_id = '%s'"
                                    " AND action = 'expired'",
                                    wish),
                     1);
    assert_true(hl_test_metric(&s_c, HL_T_BOUNTY, "hl_bounty_leases_expired_total") >= 1);
    /* Claimable again, by anyone eligible. */
    assert_int_equal(s_post(key, NULL, NULL, "/v1/wishes/%s/claim", wish), 200);
    assert_int_equal(
        s_post(key, json_pack("{s:s}", "note", "临时有事"), NULL, "/v1/wishes/%s/release", wish),
        200);
    assert_int_equal(
        hl_test_countf(s_db, "SELECT count(*) FROM bounty.wish WHERE id = '%s' AND status = 'open'",
                       wish),
        1);

    /* Back to the default lease for the tests that follow. */
    hl_cluster_kill(&s_c, HL_T_BOUNTY, SIGTERM);
    s_c.extra_env[e] = NULL;
    assert_int_equal(hl_cluster_spawn(&s_c, HL_T_BOUNTY), 0);
    s_ok = true;
}

/* ---- carry-over and the board reads ------------------------------------- */

static void test_carry_over(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    char community[32], compound[32];
    snprintf(community, sizeof community, "%s",
             hl_test_textf(s_db, "SELECT code FROM org.org_unit WHERE level = 'community'"
                                 " ORDER BY code OFFSET 6 LIMIT 1"));
    snprintf(
        compound, sizeof compound, "%s",
        hl_test_textf(s_db, "SELECT min(code) FROM org.org_unit WHERE parent = '%s'", community));
    /* Last month's published board with an open wish posted 40 days ago, and an approved one. */
    hl_test_exec(s_db, "BEGIN");
    char sql[2048];
    snprintf(
        sql, sizeof sql,
        "INSERT INTO bounty.board (id, kind, community, period_start, published_at)"
        " VALUES ('c0000000-0000-4000-8000-000000000001', 'wish', '%s',"
        " (date_trunc('month', now() AT TIME ZONE 'Asia/Shanghai') - interval '1 month')::date,"
        " now() - interval '40 days');"
        "INSERT INTO bounty.wish (id, board_id, item_id, org_unit, title, body, points,"
        " created_at) VALUES ('c0000000-0000-4000-8000-000000000002',"
        " 'c0000000-0000-4000-8000-000000000001', gen_random_uuid(), '%s', '修理晾衣架',"
        " '阳台晾衣架坏了', 10, now() - interval '40 days');",
        community, compound);
    hl_test_exec(s_db, sql);
    hl_test_exec(s_db, "COMMIT");
    const char *wish = "c0000000-0000-4000-8000-000000000002";
    const char *old_board = "c0000000-0000-4000-8000-000000000001";
    assert_true(hl_test_waitf(s_db, 1, 30,
                              "SELECT count(*) FROM bounty.wish WHERE id = '%s' AND carried_over ="
                              " 1 AND board_id <> first_board_id",
                              wish));
    char board[64];
    snprintf(board, sizeof board, "%s",
             hl_test_textf(s_db, "SELECT board_id FROM bounty.wish WHERE id = '%s'", wish));
    /* On this month's board of its community, as old as it was. */
    assert_int_equal(hl_test_countf(s_db,
                                    "SELECT count(*) FROM bounty.board b JOIN bounty.wish w ON"
                                    " w.board_id = b.id WHERE w.id = '%s' AND b.community = '%s'"
                                    " AND b.period_start = date_trunc('month', now() AT TIME ZONE"
                                    " 'Asia/Shanghai')::date AND w.created_at < now() - interval"
                                    " '39 days' AND w.status = 'open'",
                                    wish, community),
                     1);
    assert_int_equal(hl_test_countf(s_db,
                                    "SELECT count(*) FROM bounty.board_change WHERE board_id = '%s'"
                                    " AND action = 'carried_out' AND entry_id = '%s'",
                                    old_board, wish),
                     1);
    assert_int_equal(hl_test_countf(s_db,
                                    "SELECT count(*) FROM bounty.board_change WHERE board_id = '%s'"
                                    " AND action = 'carried_in' AND entry_id = '%s'",
                                    board, wish),
                     1);
    /* Carried once, however many scans ran. */
    usleep(600000);
    assert_int_equal(
        hl_test_countf(s_db, "SELECT carried_over FROM bounty.wish WHERE id = '%s'", wish), 1);

    /* The reads: the current board of the community lists it; the list of boards both. */
    json_t *got = NULL;
    char path[200];
    snprintf(path, sizeof path, "/v1/boards/current?community=%s&kind=wish", community);
    assert_int_equal(hl_test_http(&s_c, HL_T_BOUNTY, "GET", path, NULL, &got, NULL), 200);
    assert_string_equal(s_str(json_object_get(got, "board"), "id"), board);
    json_t *wishes = json_object_get(got, "wishes");
    bool listed = false;
    for (size_t i = 0; i < json_array_size(wishes); i++)
        listed = listed || strcmp(s_str(json_array_get(wishes, i), "id"), wish) == 0;
    assert_true(listed);
    json_decref(got);
    snprintf(path, sizeof path, "/v1/boards?community=%s&kind=wish", community);
    assert_int_equal(hl_test_http(&s_c, HL_T_BOUNTY, "GET", path, NULL, &got, NULL), 200);
    assert_true(json_array_size(json_object_get(got, "boards")) >= 2);
    json_decref(got);
    snprintf(path, sizeof path, "/v1/boards/%s", old_board);
    assert_int_equal(hl_test_http(&s_c, HL_T_BOUNTY, "GET", path, NULL, &got, NULL), 200);
    assert_int_equal(json_array_size(json_object_get(got, "wishes")), 0);
    json_decref(got);
    /* The wish itself: its columns, the detail ones and its history. */
    snprintf(path, sizeof path, "/v1/wishes/%s", wish);
    assert_int_equal(hl_test_http(&s_c, HL_T_BOUNTY, "GET", path, NULL, &got, NULL), 200);
    assert_string_equal(s_str(got, "id"), wish);
    assert_string_equal(s_str(got, "board_id"), board);
    assert_string_equal(s_str(got, "body"), "阳台晾衣架坏了");
    assert_true(json_is_null(json_object_get(got, "award_id")));
    assert_true(json_is_array(json_object_get(got, "history")));
    json_decref(got);
    /* Bad queries and ids. */
    assert_int_equal(hl_test_http(&s_c, HL_T_BOUNTY, "GET",
                                  "/v1/wishes/c0000000-0000-4000-8000-0000000000ff", NULL, &got,
                                  NULL),
                     404);
    s_expect_field(got, "id");
    assert_int_equal(hl_test_http(&s_c, HL_T_BOUNTY, "GET", "/v1/boards/current", NULL, &got, NULL),
                     400);
    s_expect_field(got, "community");
    assert_int_equal(
        hl_test_http(&s_c, HL_T_BOUNTY, "GET", "/v1/boards?kind=huge", NULL, &got, NULL), 400);
    s_expect_field(got, "kind");
    assert_int_equal(
        hl_test_http(&s_c, HL_T_BOUNTY, "GET", "/v1/boards/not-a-uuid", NULL, &got, NULL), 404);
    s_expect_field(got, "id");
    assert_int_equal(hl_test_http(&s_c, HL_T_BOUNTY, "GET",
                                  "/v1/large-items/c0000000-0000-4000-8000-0000000000ff", NULL,
                                  &got, NULL),
                     404);
    json_decref(got);
    s_ok = true;
}

/* ---- the large-item board ------------------------------------------------- */

static void s_action(const char *action_id, const char *kind, const char *item, const char *unit,
                     const char *note)
{
    s_emit("LargeItemAction",
           json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "action_id", action_id, "kind", kind,
                     "item_id", item, "unit", unit, "note", note, "partner", "slsy"));
}

static void test_large_item_board(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    const char *item = "b3333333-3333-4333-8333-333333333333";
    char community[32], fit[32], misfit[32];
    snprintf(community, sizeof community, "%s",
             hl_test_textf(s_db, "SELECT code FROM org.org_unit WHERE level = 'community'"
                                 " ORDER BY code LIMIT 1"));
    snprintf(fit, sizeof fit, "%s",
             hl_test_textf(s_db, "SELECT min(code) FROM org.member_unit"
                                 " WHERE org.unit_fits_category(code, 'parking')"));
    snprintf(misfit, sizeof misfit, "%s",
             hl_test_textf(s_db, "SELECT min(code) FROM org.member_unit"
                                 " WHERE NOT org.unit_fits_category(code, 'parking')"));
    assert_true(fit[0] && misfit[0]);
    s_emit("LargeItemOffered",
           json_pack("{s:s, s:s, s:s, s:s, s:s, s:i}", "item_id", item, "title", "主干道占道摆摊",
                     "body", "红旗路两侧夜间占道经营，影响通行", "category", "parking", "community",
                     community, "appeal_count", 14));
    assert_true(hl_test_waitf(s_db, 1, 30,
                              "SELECT count(*) FROM bounty.large_item WHERE item_id = '%s'", item));
    char entry[64], board[64];
    snprintf(entry, sizeof entry, "%s",
             hl_test_textf(s_db, "SELECT id FROM bounty.large_item WHERE item_id = '%s'", item));
    snprintf(board, sizeof board, "%s",
             hl_test_textf(s_db,
                           "SELECT b.id FROM bounty.board b JOIN bounty.large_item l ON"
                           " l.board_id = b.id WHERE l.id = '%s' AND b.kind = 'large' AND"
                           " b.community = '%s' AND b.published_at IS NULL"
                           " AND extract(month FROM b.period_start)::int %% 3 = 1",
                           entry, community));
    assert_true(board[0] != '\0');

    char k_fit[65], k_misfit[65], k_rev[65], name[64];
    snprintf(name, sizeof name, "unit-%s", fit);
    assert_int_equal(hl_test_actor(s_db, name, "member_unit", fit, NULL, k_fit), 0);
    snprintf(name, sizeof name, "unit-%s", misfit);
    assert_int_equal(hl_test_actor(s_db, name, "member_unit", misfit, NULL, k_misfit), 0);
    snprintf(name, sizeof name, "large-rev-%s", community);
    assert_int_equal(hl_test_actor(s_db, name, "reviewer", community, NULL, k_rev), 0);

    assert_int_equal(hl_test_publish_board(&s_c, s_db, board), 200);
    assert_true(hl_test_waitf(s_db, 1, 10,
                              "SELECT count(*) FROM pipeline.message WHERE type = 'PlatformEvent'"
                              " AND stage = 'platform'"));

    /* Directly: the unit that does not fit is refused naming the rule. */
    json_t *reply = NULL;
    assert_int_equal(s_post(k_misfit, NULL, &reply, "/v1/large-items/%s/claim", entry), 403);
    s_expect_field(reply, "large.member_unit.category_domain");
    assert_int_equal(s_post(k_fit, NULL, &reply, "/v1/large-items/%s/claim", entry), 200);
    assert_string_equal(s_str(reply, "claimant"), fit);
    json_decref(reply);
    assert_int_equal(s_post(k_fit, json_pack("{s:s}", "note", "转交平台办理"), NULL,
                            "/v1/large-items/%s/release", entry),
                     200);

    /* Through the platform: the misfit is refused (and told), the fit applied, once. */
    s_action("act-1", "claim", item, misfit, "");
    assert_true(hl_test_waitf(s_db, 1, 30,
                              "SELECT count(*) FROM bounty.platform_action WHERE action_id ="
                              " 'act-1' AND outcome = 'refused'"
                              " AND reason LIKE '%%large.member_unit.category_domain%%'"));
    assert_int_equal(hl_test_countf(s_db,
                                    "SELECT count(*) FROM bounty.large_item WHERE id = '%s'"
                                    " AND status = 'open'",
                                    entry),
                     1);
    s_action("act-2", "claim", item, fit, "");
    assert_true(hl_test_waitf(s_db, 1, 30,
                              "SELECT count(*) FROM bounty.large_item WHERE id = '%s' AND status"
                              " = 'claimed' AND claimant = '%s' AND claimed_by = 'platform:slsy'",
                              entry, fit));
    /* The same action again (a webhook re-delivered): nothing changes. */
    s_action("act-2", "claim", item, fit, "");
    s_action("act-3", "progress", item, fit, "已约谈摊主，设置临时疏导点");
    assert_true(hl_test_waitf(s_db, 1, 30,
                              "SELECT count(*) FROM bounty.platform_action WHERE action_id ="
                              " 'act-3' AND outcome = 'applied'"));
    assert_int_equal(hl_test_countf(s_db,
                                    "SELECT count(*) FROM bounty.large_item_event WHERE item_id ="
                                    " '%s' AND action = 'claimed'",
                                    entry),
                     2); /* once directly, once through the platform */
    assert_int_equal(
        hl_test_countf(s_db,
                       "SELECT count(*) FROM bounty.platform_action WHERE action_id LIKE 'act-%%'"),
        3);
    /* A second claim through the platform loses and is refused. */
    s_action("act-4", "claim", item, fit, "");
    assert_true(hl_test_waitf(s_db, 1, 30,
                              "SELECT count(*) FROM bounty.platform_action WHERE action_id ="
                              " 'act-4' AND outcome = 'refused'"));
    /* Every refusal went back to the platform. */
    ProtobufCMessage **msgs;
    size_t n = hl_test_messages(s_db, "PlatformEvent", &hl__platform_event__descriptor, &msgs);
    int refused = 0, claimed = 0, progress = 0, published = 0;
    for (size_t i = 0; i < n; i++) {
        Hl__PlatformEvent *ev = (Hl__PlatformEvent *)msgs[i];
        refused += strcmp(ev->type, "action.refused") == 0;
        claimed += strcmp(ev->type, "large_item.claimed") == 0;
        progress += strcmp(ev->type, "large_item.progress") == 0;
        published += strcmp(ev->type, "board.published") == 0;
        protobuf_c_message_free_unpacked(msgs[i], NULL);
    }
    free(msgs);
    assert_int_equal(refused, 2);
    assert_int_equal(claimed, 2);
    assert_int_equal(progress, 1);
    assert_true(published >= 1);

    /* It completes; the community confirms. */
    assert_int_equal(s_post(k_fit, json_pack("{s:s}", "evidence", "设置疏导点，夜间巡查常态化"),
                            NULL, "/v1/large-items/%s/complete", entry),
                     200);
    assert_int_equal(s_post(k_rev, json_pack("{s:s}", "decision", "approve"), NULL,
                            "/v1/large-items/%s/review", entry),
                     200);
    assert_true(hl_test_waitf(s_db, 1, 10,
                              "SELECT count(*) FROM pipeline.message WHERE type = 'ItemResolved'"
                              " AND stage = 'resolution' AND producer = 'hl-bounty'"));
    size_t awards = 0;
    Hl__PointsAwarded *a = s_award_for(entry, &awards);
    assert_non_null(a);
    assert_int_equal(awards, 1);
    assert_false(a->has_amount);
    assert_string_equal(a->source_kind, "large_item");
    assert_string_equal(a->account, fit);
    assert_string_equal(a->account_kind, "member_unit");
    assert_string_equal(a->community, community);
    protobuf_c_message_free_unpacked(&a->base, NULL);
    json_t *got = NULL;
    char path[160];
    snprintf(path, sizeof path, "/v1/large-items?community=%s&status=approved&unit=%s", community,
             fit);
    assert_int_equal(hl_test_http(&s_c, HL_T_BOUNTY, "GET", path, NULL, &got, NULL), 200);
    assert_int_equal(json_array_size(json_object_get(got, "large_items")), 1);
    json_decref(got);
    snprintf(path, sizeof path, "/v1/large-items/%s", entry);
    assert_int_equal(hl_test_http(&s_c, HL_T_BOUNTY, "GET", path, NULL, &got, NULL), 200);
    assert_string_equal(s_str(got, "status"), "approved");
    assert_true(json_array_size(json_object_get(got, "history")) >= 7);
    json_decref(got);
    s_ok = true;
}

/* ---- 1,000 concurrent claims at 100 wishes --------------------------------- */

#define S_WISHES  100
#define S_CLAIMS  1000
#define S_THREADS 50
#define S_ACTORS  10 /* of each: eligible, ineligible */

static char s_wish_ids[S_WISHES][64];
static char s_keys[2 * S_ACTORS][65];

typedef struct {
    int first;      /* first claim this thread makes */
    int ok, lost;   /* 200s, 409s */
    int refused;    /* 403s */
    int other;      /* anything else */
    int wrong_wins; /* 200s for an ineligible actor */
} s_worker_t;

static void *s_worker(void *arg)
{
    s_worker_t *w = arg;
    for (int i = w->first; i < S_CLAIMS; i += S_THREADS) {
        /* Wish i % 100 gets ten claims from ten consecutive actors: five eligible, five not. */
        int actor = (i / S_WISHES + i) % (2 * S_ACTORS);
        char path[128];
        snprintf(path, sizeof path, "/v1/wishes/%s/claim", s_wish_ids[i % S_WISHES]);
        long st = hl_test_http_key(&s_c, HL_T_BOUNTY, "POST", path, NULL, NULL, s_keys[actor]);
        if (st == 200) {
            w->ok++;
            w->wrong_wins += actor % 2 == 1;
        } else if (st == 409) {
            w->lost++;
        } else if (st == 403) {
            w->refused++;
        } else {
            w->other++;
        }
    }
    return NULL;
}

static void test_concurrent_claims(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    char community[32], other[32];
    snprintf(community, sizeof community, "%s",
             hl_test_textf(s_db, "SELECT code FROM org.org_unit WHERE level = 'community'"
                                 " ORDER BY code OFFSET 3 LIMIT 1"));
    snprintf(other, sizeof other, "%s",
             hl_test_textf(s_db, "SELECT code FROM org.org_unit WHERE level = 'community'"
                                 " ORDER BY code OFFSET 4 LIMIT 1"));
    /* 100 wishes on the community's published board. */
    hl_test_exec(s_db, "BEGIN");
    char sql[1024];
    snprintf(sql, sizeof sql,
             "INSERT INTO bounty.wish (id, board_id, first_board_id, item_id, org_unit, title,"
             " body, points)"
             " SELECT gen_random_uuid(), b, b, gen_random_uuid(), c.code, '微心愿 ' || g,"
             "        '并发认领测试', 10"
             "   FROM generate_series(1, %d) g,"
             "        LATERAL (SELECT bounty.board_for('wish', '%s') AS b) x,"
             "        LATERAL (SELECT code FROM org.org_unit WHERE parent = '%s'"
             "                  AND level = 'compound' ORDER BY code LIMIT 1) c",
             S_WISHES, community, community);
    hl_test_exec(s_db, sql);
    hl_test_exec(s_db, "COMMIT");
    PGresult *r = PQexec(s_db, "SELECT w.id, w.board_id FROM bounty.wish w"
                               " WHERE w.body = '并发认领测试' ORDER BY w.title");
    assert_int_equal(PQntuples(r), S_WISHES);
    for (int i = 0; i < S_WISHES; i++)
        snprintf(s_wish_ids[i], sizeof s_wish_ids[i], "%s", PQgetvalue(r, i, 0));
    char board[64];
    snprintf(board, sizeof board, "%s", PQgetvalue(r, 0, 1));
    PQclear(r);
    long st = hl_test_publish_board(&s_c, s_db, board);
    assert_true(st == 200 || st == 409);
    /* Even actors are volunteers of the community, odd ones of another. */
    for (int a = 0; a < 2 * S_ACTORS; a++) {
        char name[64];
        snprintf(name, sizeof name, "crowd-%d", a);
        assert_int_equal(
            hl_test_actor(s_db, name, "volunteer", a % 2 ? other : community, NULL, s_keys[a]), 0);
    }
    /* One request first: curl's global set-up is not thread-safe. */
    assert_int_equal(hl_test_http(&s_c, HL_T_BOUNTY, "GET", "/healthz", NULL, NULL, NULL), 200);

    s_worker_t workers[S_THREADS];
    pthread_t threads[S_THREADS];
    double t0 = hl_test_now();
    for (int i = 0; i < S_THREADS; i++) {
        memset(&workers[i], 0, sizeof workers[i]);
        workers[i].first = i;
        assert_int_equal(pthread_create(&threads[i], NULL, s_worker, &workers[i]), 0);
    }
    s_worker_t sum = {0};
    for (int i = 0; i < S_THREADS; i++) {
        pthread_join(threads[i], NULL);
        sum.ok += workers[i].ok;
        sum.lost += workers[i].lost;
        sum.refused += workers[i].refused;
        sum.other += workers[i].other;
        sum.wrong_wins += workers[i].wrong_wins;
    }
    double took = hl_test_now() - t0;
    fprintf(stderr,
            "boards: %d concurrent claims at %d wishes in %.2f s: %d won, %d lost (409), "
            "%d ineligible (403), %d other\n",
            S_CLAIMS, S_WISHES, took, sum.ok, sum.lost, sum.refused, sum.other);
    assert_int_equal(sum.other, 0);
    assert_int_equal(sum.wrong_wins, 0);
    assert_int_equal(sum.ok, S_WISHES);
    assert_int_equal(sum.refused, S_CLAIMS / 2);
    assert_int_equal(sum.lost, S_CLAIMS / 2 - S_WISHES);
    /* In the database: each wish claimed exactly once, by an eligible actor. */
    assert_int_equal(hl_test_countf(s_db,
                                    "SELECT count(*) FROM bounty.wish w WHERE w.body = "
                                    "'并发认领测试' AND w.status = 'claimed' AND w.claimant IN"
                                    " (SELECT name FROM bounty.actor WHERE org_unit = '%s')"
                                    " AND (SELECT count(*) FROM bounty.wish_event e WHERE"
                                    " e.wish_id = w.id AND e.action = 'claimed') = 1",
                                    community),
                     S_WISHES);

    /* Each completed and approved: one award each. */
    char reviewer[65];
    assert_int_equal(hl_test_actor(s_db, "crowd-reviewer", "reviewer", community, NULL, reviewer),
                     0);
    for (int i = 0; i < S_WISHES; i++) {
        const char *holder =
            hl_test_textf(s_db, "SELECT claimant FROM bounty.wish WHERE id = '%s'", s_wish_ids[i]);
        int a = atoi(holder + strlen("crowd-"));
        assert_int_equal(s_post(s_keys[a], json_pack("{s:s}", "evidence", "已完成"), NULL,
                                "/v1/wishes/%s/complete", s_wish_ids[i]),
                         200);
        assert_int_equal(s_post(reviewer, json_pack("{s:s}", "decision", "approve"), NULL,
                                "/v1/wishes/%s/review", s_wish_ids[i]),
                         200);
    }
    ProtobufCMessage **msgs;
    size_t n = hl_test_messages(s_db, "PointsAwarded", &hl__points_awarded__descriptor, &msgs);
    int mine = 0;
    for (size_t i = 0; i < n; i++) {
        Hl__PointsAwarded *aw = (Hl__PointsAwarded *)msgs[i];
        for (int w = 0; w < S_WISHES; w++)
            mine += strcmp(aw->source_id, s_wish_ids[w]) == 0;
        protobuf_c_message_free_unpacked(msgs[i], NULL);
    }
    free(msgs);
    assert_int_equal(mine, S_WISHES);
    s_ok = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wish_board_flow),
        cmocka_unit_test(test_carry_over),
        cmocka_unit_test(test_large_item_board),
        cmocka_unit_test(test_concurrent_claims),
        cmocka_unit_test(test_lease_expires_across_restart),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
