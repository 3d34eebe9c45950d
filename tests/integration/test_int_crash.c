/* test_int_crash: while thousands of appeals flow, kill -9 hl-triage and an
 * hl-bus at random moments and restart them; afterwards every accepted
 * appeal has exactly one triage decision, nothing is left pending, nothing
 * is dead, and no effect happened twice.
 *
 * HL_CRASH_APPEALS (default 5000) and HL_CRASH_ROUNDS (default 6) size it. */
#include "hl_testenv.h"

#include <curl/curl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define S_PARALLEL 24

static const char *const s_bodies[] = {
    "春江花城十四号楼二单元窗外有马蜂窝，孩子不敢开窗，物业说要找专业的人摘。",
    "惠民小区地下车库有人把车位用地锁锁住，那是公共车位不是他家的。",
    "丹桂园有户人家在楼下空地堆放收来的废品，纸板塑料瓶堆成山，招蟑螂老鼠。",
    "红旗路下穿隧道排水能力不足，短时强降雨即积水封闭，建议市政部门增设强排泵站。",
    "城南农贸市场外清早卸货的冷链货车占满整条人行道，建议城管和市场监管联合整治。",
    "入户探访独居老人，老人不会用手机交水电费，想请志愿者按月代为缴纳。",
    "一位奶奶来电：孙女要参加学校合唱比赛，需要一条白色演出裙，想请社区帮忙借一条。",
    "望湖居16号楼对门邻居安装的可视门铃摄像头正对家门，双方为此争吵，请求调解。",
};

typedef struct {
    CURL *easy;    /* the transfer */
    char *body;    /* its JSON, owned */
    char url[128]; /* intake endpoint */
} s_xfer_t;

static size_t s_discard(char *d, size_t s, size_t n, void *a)
{
    (void)d;
    (void)a;
    return s * n;
}

static void s_start(CURLM *multi, s_xfer_t *x, int i, const char *url)
{
    const char *compounds[] = {"cp001", "cp002", "cp003", "cp005", "cp006", "cp009", "cp010"};
    free(x->body);
    x->body = NULL;
    json_t *j = json_pack("{s:s, s:s, s:s}", "channel", i % 3 ? "qr" : "mailbox", "org_unit",
                          compounds[i % 7], "body", s_bodies[i % 8]);
    x->body = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    snprintf(x->url, sizeof x->url, "%s", url);
    x->easy = curl_easy_init();
    static struct curl_slist *hdr;
    if (!hdr)
        hdr = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(x->easy, CURLOPT_URL, x->url);
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->body);
    curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, s_discard);
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, (long)(30000 * hl_test_mult()));
    curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
    curl_multi_add_handle(multi, x->easy);
}

static void test_kill_triage_and_bus_under_load(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    const char *n_text = getenv("HL_CRASH_APPEALS");
    const char *r_text = getenv("HL_CRASH_ROUNDS");
    int total = n_text ? atoi(n_text) : 5000;
    int rounds = r_text ? atoi(r_text) : 6;

    hl_cluster_t c = {0};
    c.extra_env[0] = "HL_RESEND_AFTER_MS=1000";
    c.extra_env[1] = "HL_SWEEP_INTERVAL_MS=250";
    c.extra_env[2] = "HL_MAX_ATTEMPTS=1000";
    assert_int_equal(hl_cluster_start(&c, "hl_int_crash", 2), 0);
    PGconn *db = hl_test_connect(c.db_url);
    bool ok = false;

    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/appeals", c.http_port[HL_T_INTAKE]);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    s_xfer_t xfers[S_PARALLEL] = {0};
    int started = 0, finished = 0, accepted = 0, refused = 0;
    for (; started < S_PARALLEL && started < total; started++)
        s_start(multi, &xfers[started], started, url);

    /* Kill moments, spread over the run at random. */
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    int *kill_at = calloc((size_t)rounds + 1, sizeof *kill_at);
    for (int k = 0; k < rounds; k++)
        kill_at[k] = (int)((long)total * (k + 1) / (rounds + 1)) + (int)(rand_r(&seed) % 97);
    int next_kill = 0, kills_triage = 0, kills_bus = 0;

    while (finished < total) {
        int running;
        curl_multi_perform(multi, &running);
        int left;
        CURLMsg *msg;
        while ((msg = curl_multi_info_read(multi, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            s_xfer_t *x;
            long status = 0;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            if (status == 201)
                accepted++;
            else
                refused++;
            curl_multi_remove_handle(multi, x->easy);
            curl_easy_cleanup(x->easy);
            finished++;
            if (started < total)
                s_start(multi, x, started++, url);
        }
        if (next_kill < rounds && finished >= kill_at[next_kill]) {
            /* Alternate victims; now and then both at once. */
            int victim = next_kill % 3;
            if (victim != 1) {
                hl_cluster_kill(&c, HL_T_TRIAGE, SIGKILL);
                kills_triage++;
            }
            if (victim != 0) {
                int bus = (next_kill / 3) % 2 ? HL_T_BUS1 : HL_T_BUS0;
                hl_cluster_kill(&c, bus, SIGKILL);
                kills_bus++;
                usleep((useconds_t)(rand_r(&seed) % 300) * 1000);
                assert_int_equal(hl_cluster_spawn(&c, bus), 0);
            }
            if (!c.pid[HL_T_TRIAGE]) {
                usleep((useconds_t)(rand_r(&seed) % 300) * 1000);
                assert_int_equal(hl_cluster_spawn(&c, HL_T_TRIAGE), 0);
            }
            next_kill++;
        }
        curl_multi_wait(multi, NULL, 0, 50, NULL);
    }
    for (int i = 0; i < S_PARALLEL; i++)
        free(xfers[i].body);
    curl_multi_cleanup(multi);
    free(kill_at);
    fprintf(stderr,
            "crash: %d appeals accepted, %d refused; killed hl-triage %d and hl-bus %d times\n",
            accepted, refused, kills_triage, kills_bus);

    /* Intake was never killed, so every request got an answer. */
    assert_int_equal(refused, 0);
    assert_int_equal(hl_test_scalar(db, "SELECT count(*) FROM intake.appeal"), accepted);
    /* Let the sweepers finish the job, then check every effect once. */
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
    fprintf(stderr, "crash: %ld pipeline messages applied, %ld re-sent at least once\n",
            hl_test_scalar(db, "SELECT count(*) FROM pipeline.message"),
            hl_test_scalar(db, "SELECT count(*) FROM pipeline.message WHERE attempts > 0"));
    assert_int_equal(hl_cluster_stop(&c), 0);
    ok = true;
    PQfinish(db);
    hl_cluster_close(&c, ok);
    curl_global_cleanup();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_triage_and_bus_under_load),
    };
    return cmocka_run_group_tests_name("integration: crash", tests, NULL, NULL);
}
