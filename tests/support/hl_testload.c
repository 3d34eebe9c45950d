/* hl_testload: the appeal load generator shared by the crash tests. */
#include "hl_testload.h"

#include "hl_alloc.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
static const char *const s_compounds[] = {"cp001", "cp002", "cp003", "cp005",
                                          "cp006", "cp009", "cp010"};

typedef struct {
    CURL *easy; /* the transfer */
    char *body; /* its JSON, owned */
} s_xfer_t;

static size_t s_discard(char *d, size_t s, size_t n, void *a)
{
    (void)d;
    (void)a;
    return s * n;
}

static void s_start(CURLM *multi, s_xfer_t *x, int i, const char *url, struct curl_slist *hdr)
{
    free(x->body);
    json_t *j = json_pack("{s:s, s:s, s:s}", "channel", i % 3 ? "qr" : "mailbox", "org_unit",
                          s_compounds[i % 7], "body", s_bodies[i % 8]);
    x->body = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    x->easy = curl_easy_init();
    curl_easy_setopt(x->easy, CURLOPT_URL, url);
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->body);
    curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, s_discard);
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, (long)(30000 * hl_test_mult()));
    curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
    curl_multi_add_handle(multi, x->easy);
}

hl_test_load_t hl_test_load(hl_cluster_t *c, int total, int parallel,
                            void (*on_progress)(int finished, void *arg), void *arg)
{
    hl_test_load_t r = {0, 0};
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/appeals", c->http_port[HL_T_INTAKE]);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    s_xfer_t *xfers = hl_calloc((size_t)parallel, sizeof *xfers);
    int started = 0, finished = 0;
    for (; started < parallel && started < total; started++)
        s_start(multi, &xfers[started], started, url, hdr);
    while (finished < total) {
        int running, left;
        curl_multi_perform(multi, &running);
        CURLMsg *msg;
        while ((msg = curl_multi_info_read(multi, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            s_xfer_t *x;
            long status = 0;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            if (status == 201)
                r.accepted++;
            else
                r.refused++;
            curl_multi_remove_handle(multi, x->easy);
            curl_easy_cleanup(x->easy);
            finished++;
            if (on_progress)
                on_progress(finished, arg);
            if (started < total)
                s_start(multi, x, started++, url, hdr);
        }
        curl_multi_wait(multi, NULL, 0, 50, NULL);
    }
    for (int i = 0; i < parallel; i++)
        free(xfers[i].body);
    free(xfers);
    curl_slist_free_all(hdr);
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    return r;
}
