/* hl_testload: the appeal load generator shared by the crash and
 * PostgreSQL-stop tests. */
#include "hl_testload.h"

#include "hl_alloc.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
    CURL *easy;             /* the transfer, NULL while waiting to retry */
    char *body;             /* its JSON, owned */
    int n;                  /* which appeal */
    hl_buf_t reply;         /* the answer's body */
    char retry_after[16];   /* the answer's Retry-After */
    double retry_at;        /* waiting: post again at this time (hl_test_now) */
    struct curl_slist *hdr; /* its headers, owned */
} s_xfer_t;

static size_t s_keep(char *d, size_t s, size_t n, void *arg)
{
    hl_buf_append(arg, d, s * n);
    return s * n;
}

static size_t s_header(char *d, size_t s, size_t n, void *arg)
{
    s_xfer_t *x = arg;
    size_t len = s * n;
    if (len > 13 && strncasecmp(d, "Retry-After: ", 13) == 0)
        snprintf(x->retry_after, sizeof x->retry_after, "%.*s", (int)strcspn(d + 13, "\r\n"),
                 d + 13);
    return len;
}

/* Posts appeal `x->n` (again, when retrying: the same body and key). */
static void s_start(CURLM *multi, s_xfer_t *x, const char *url, const hl_test_load_cfg_t *cfg)
{
    int i = x->n;
    if (!x->body) {
        json_t *j = json_pack("{s:s, s:s, s:s}", "channel", i % 3 ? "qr" : "mailbox", "org_unit",
                              s_compounds[i % 7], "body", s_bodies[i % 8]);
        x->body = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        x->hdr = curl_slist_append(NULL, "Content-Type: application/json");
        if (cfg->retry) {
            char key[128];
            snprintf(key, sizeof key, "Idempotency-Key: %s-%d", cfg->key_prefix, i);
            x->hdr = curl_slist_append(x->hdr, key);
        }
    }
    hl_buf_close(&x->reply);
    x->retry_after[0] = '\0';
    x->easy = curl_easy_init();
    curl_easy_setopt(x->easy, CURLOPT_URL, url);
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->body);
    curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->hdr);
    curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, s_keep);
    curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, &x->reply);
    curl_easy_setopt(x->easy, CURLOPT_HEADERFUNCTION, s_header);
    curl_easy_setopt(x->easy, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, (long)(30000 * hl_test_mult()));
    curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
    curl_multi_add_handle(multi, x->easy);
}

/* Makes `x` appeal number `n`, fresh. */
static void s_reset(s_xfer_t *x, int n)
{
    free(x->body);
    x->body = NULL;
    curl_slist_free_all(x->hdr);
    x->hdr = NULL;
    x->n = n;
}

/* Counts the answer of `x` into `r`; true when it is final. */
static bool s_account(s_xfer_t *x, long status, const hl_test_load_cfg_t *cfg, hl_test_load_t *r)
{
    if (status == 503) {
        r->unavailable++;
        if (!x->retry_after[0])
            r->no_retry_after++;
        if (cfg->retry) {
            double wait = atof(x->retry_after);
            x->retry_at = hl_test_now() + (wait > 0 ? wait : 1);
            return false;
        }
    }
    if (status == 0) {
        r->unanswered++;
        if (cfg->retry) {
            /* Connection refused or reset: the appeal may have been stored
             * before the answer was lost; its key makes the retry say so. */
            x->retry_at = hl_test_now() + 0.2;
            return false;
        }
    }
    if (status == 201 || (cfg->retry && status == 200)) {
        status == 201 ? r->accepted++ : r->replayed++;
        hl_buf_append(&x->reply, "", 1);
        json_t *j = json_loads(x->reply.data ? x->reply.data : "", 0, NULL);
        const char *code = json_string_value(json_object_get(j, "tracking_code"));
        snprintf(r->codes[x->n], sizeof r->codes[x->n], "%s", code ? code : "");
        json_decref(j);
    } else {
        r->refused++;
    }
    r->finished++;
    return true;
}

hl_test_load_t hl_test_load_run(hl_cluster_t *c, const hl_test_load_cfg_t *cfg)
{
    hl_test_load_t r = {0};
    r.codes = hl_calloc((size_t)cfg->total + 1, sizeof *r.codes);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/appeals", c->http_port[HL_T_INTAKE]);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    s_xfer_t *xfers = hl_calloc((size_t)cfg->parallel, sizeof *xfers);
    int started = 0;
    for (; started < cfg->parallel && started < cfg->total; started++) {
        s_reset(&xfers[started], started);
        s_start(multi, &xfers[started], url, cfg);
    }
    while (r.finished < cfg->total) {
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
            curl_multi_remove_handle(multi, x->easy);
            curl_easy_cleanup(x->easy);
            x->easy = NULL;
            if (!s_account(x, status, cfg, &r))
                continue; /* waits for its retry */
            if (cfg->on_progress)
                cfg->on_progress(r.finished, cfg->arg);
            if (started < cfg->total) {
                s_reset(x, started++);
                s_start(multi, x, url, cfg);
            }
        }
        double now = hl_test_now();
        for (int i = 0; i < cfg->parallel; i++) {
            s_xfer_t *x = &xfers[i];
            if (!x->easy && x->body && x->retry_at > 0 && now >= x->retry_at) {
                x->retry_at = 0;
                s_start(multi, x, url, cfg);
            }
        }
        if (cfg->on_tick)
            cfg->on_tick(&r, cfg->arg);
        /* curl_multi_poll, not _wait: it also sleeps when every appeal is
         * waiting out its Retry-After (no transfer to wait on). */
        curl_multi_poll(multi, NULL, 0, 50, NULL);
    }
    for (int i = 0; i < cfg->parallel; i++) {
        s_reset(&xfers[i], 0);
        hl_buf_close(&xfers[i].reply);
    }
    free(xfers);
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    return r;
}

long hl_test_load_stored(PGconn *db, const hl_test_load_t *r, int total, long *codes)
{
    hl_buf_t list = {0};
    hl_buf_append(&list, "{", 1);
    *codes = 0;
    for (int i = 0; i < total; i++) {
        if (!r->codes[i][0])
            continue;
        hl_buf_printf(&list, "%s%s", *codes ? "," : "", r->codes[i]);
        ++*codes;
    }
    hl_buf_append(&list, "}", 2);
    const char *params[1] = {list.data};
    PGresult *res = PQexecParams(db,
                                 "SELECT count(DISTINCT tracking_code) FROM intake.appeal"
                                 " WHERE tracking_code = ANY($1::text[])",
                                 1, NULL, params, NULL, NULL, 0);
    long n = PQresultStatus(res) == PGRES_TUPLES_OK ? atol(PQgetvalue(res, 0, 0)) : -1;
    if (n < 0)
        fprintf(stderr, "load: %s", PQresultErrorMessage(res));
    PQclear(res);
    hl_buf_close(&list);
    return n;
}

void hl_test_load_free(hl_test_load_t *r)
{
    free(r->codes);
    r->codes = NULL;
}

hl_test_load_t hl_test_load(hl_cluster_t *c, int total, int parallel,
                            void (*on_progress)(int finished, void *arg), void *arg)
{
    hl_test_load_cfg_t cfg = {
        .total = total, .parallel = parallel, .on_progress = on_progress, .arg = arg};
    hl_test_load_t r = hl_test_load_run(c, &cfg);
    hl_test_load_free(&r);
    return r;
}
