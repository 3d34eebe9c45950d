/* demo.c: `hlctl demo` — a month in the life of the city, driven through
 * the running cluster's HTTP APIs exactly as its users would, then a
 * summary read back from PostgreSQL.
 *
 * Residents post appeals on every channel (mailbox letters carry their
 * mailbox number and compound, QR appeals their compound's code); triage
 * classifies them; the demo then plays the people: councils hear small
 * matters, grid organisations claim, complete and get approved for wishes,
 * and the joint meeting records outcomes for large items. The appeal texts
 * are generated from templates and the seeded compounds, deterministically
 * (a fixed seed), so two runs tell the same story. */
#include "hlctl.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    const char *size;     /* wish, small, large (the demo's own truth) */
    const char *category; /* org.category code */
    const char *text;     /* %s = compound name, %d = building number */
} s_template_t;

static const s_template_t s_templates[] = {
    {"small", "environment", "%s%d号楼楼道里堆满了杂物和废纸箱，消防通道被堵，请物业尽快清理。"},
    {"small", "environment", "%s垃圾分类亭周边气味很大，垃圾桶满了没人及时清运，夏天蚊蝇多。"},
    {"small", "property", "%s%d号楼电梯这个月已经坏了三次，老人上下楼很困难，希望物业彻底检修。"},
    {"small", "property", "%s小区大门门禁坏了一周没人修，外来人员随便进出，不安全。"},
    {"small", "parking", "%s地下车库有人用地锁占用公共车位，和物业说了也没人管。"},
    {"small", "parking", "%s%d号楼前消防通道经常停满私家车，希望规划停车位并加装隔离桩。"},
    {"small", "neighbour", "%s%d号楼楼上住户半夜经常大声喧哗、拖动家具，多次沟通无果，请求调解。"},
    {"small", "neighbour", "%s%d号楼有住户在楼道里养狗，狗粪没人清理，邻里为此争吵，请求协调。"},
    {"small", "greening", "%s中心绿地被部分居民开垦种菜，绿化被毁，希望三方商量恢复绿化。"},
    {"small", "safety", "%s%d号楼有居民把电动车推进楼道充电，存在火灾隐患，请加装充电桩。"},
    {"small", "utilities", "%s%d号楼二次供水水压不足，高层住户早晚用水困难，请物业排查水泵。"},
    {"small", "housing", "%s%d号楼外墙瓷砖有脱落，下面是人行道，怕砸到人，请尽快处理。"},
    {"large", "roads",
     "%s门口的主干道路面坑洼严重，雨天积水，电动车多次摔倒，建议市政部门整体改造。"},
    {"large", "roads", "%s旁边的路口没有红绿灯，上下学高峰车流人流混杂，建议交警部门增设信号灯。"},
    {"large", "market",
     "%s附近农贸市场外马路流动摊贩占道经营，早晚高峰堵塞交通，建议城管规范设置疏导点。"},
    {"large", "utilities", "%s一带雨污管网老化，每逢暴雨污水倒灌，建议水务部门统一改造管网。"},
    {"large", "housing", "%s是上世纪的老旧宿舍楼，屋面漏水墙体开裂，希望纳入老旧小区改造计划。"},
    {"large", "roads", "%s附近公交线路撤站后居民出行不便，建议公交公司恢复站点或增开支线。"},
    {"large", "environment",
     "%s东侧工地夜间施工噪音扰民，渣土车沿路撒漏，建议城管和生态环境部门联合执法。"},
    {"wish", "elderly", "%s%d号楼独居老人王奶奶腿脚不便，想请志愿者每周帮忙买一次菜。"},
    {"wish", "elderly", "%s%d号楼李爷爷不会用手机交水电费，想请志愿者按月帮忙代为缴纳。"},
    {"wish", "elderly", "%s%d号楼一位老人想请人帮忙修理家里坏了的老式收音机。"},
    {"wish", "other", "%s%d号楼一位单亲妈妈想为孩子借一套初中数学辅导书，微心愿请大家帮忙。"},
    {"wish", "other", "%s%d号楼残疾人张叔叔想请志愿者帮忙推轮椅去医院复查。"},
    {"wish", "elderly", "%s%d号楼空巢老人希望有人陪伴聊天，每月来看看他。"},
};
#define S_NTEMPLATES (sizeof s_templates / sizeof s_templates[0])

static const struct {
    const char *channel; /* intake channel */
    int weight;          /* share out of 100 */
} s_channels[] = {{"qr", 35},  {"mailbox", 15}, {"visit", 20},
                  {"web", 10}, {"phone", 15},   {"platform", 5}};

typedef struct {
    CURL *curl;    /* one easy handle, reused (keep-alive) */
    char base[64]; /* http://127.0.0.1 */
    int port0;     /* HL_BASE_PORT: intake, then triage, bounty, points, alliance */
    hl_buf_t resp; /* last response body */
} s_http_t;

static size_t s_write_cb(char *data, size_t size, size_t n, void *arg)
{
    hl_buf_append(arg, data, size * n);
    return size * n;
}

/* Sends a request to daemon `offset` (0 intake .. 4 alliance); returns the
 * status (0 on a transport error) and parses the body into *out if asked. */
static long s_call(s_http_t *h, int offset, const char *method, const char *path, json_t *body,
                   json_t **out)
{
    char url[256];
    snprintf(url, sizeof url, "%s:%d%s", h->base, h->port0 + offset, path);
    hl_buf_reset(&h->resp);
    curl_easy_reset(h->curl);
    curl_easy_setopt(h->curl, CURLOPT_URL, url);
    curl_easy_setopt(h->curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, s_write_cb);
    curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &h->resp);
    curl_easy_setopt(h->curl, CURLOPT_TIMEOUT, 30L);
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    char *text = NULL;
    if (body) {
        text = json_dumps(body, JSON_COMPACT);
        curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, text);
        curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdr);
    }
    long status = 0;
    if (curl_easy_perform(h->curl) == CURLE_OK)
        curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdr);
    free(text);
    if (out)
        *out = h->resp.data ? json_loads(h->resp.data, 0, NULL) : NULL;
    return status;
}

static unsigned s_rand(unsigned *state)
{
    *state = *state * 1103515245u + 12345u;
    return (*state >> 16) & 0x7fff;
}

static long s_scalar(PGconn *conn, const char *sql)
{
    PGresult *r = hlctl_query(conn, sql, 0, NULL);
    long v = PQntuples(r) ? atol(PQgetvalue(r, 0, 0)) : 0;
    PQclear(r);
    return v;
}

/* Waits until `sql` (a count) reaches zero, up to `seconds`. */
static bool s_wait_zero(PGconn *conn, const char *sql, int seconds)
{
    for (int i = 0; i < seconds * 10; i++) {
        if (s_scalar(conn, sql) == 0)
            return true;
        usleep(100000);
    }
    return false;
}

static int s_post_appeals(s_http_t *h, PGconn *conn, int n)
{
    PGresult *cp = hlctl_query(conn,
                               "SELECT code, name FROM org.org_unit WHERE level = 'compound' "
                               "ORDER BY code",
                               0, NULL);
    PGresult *mb =
        hlctl_query(conn, "SELECT number, compound FROM org.mailbox ORDER BY number", 0, NULL);
    int ncp = PQntuples(cp), nmb = PQntuples(mb);
    if (ncp == 0) {
        fprintf(stderr, "hlctl demo: no compounds: run hlctl seed-demo first\n");
        PQclear(cp);
        PQclear(mb);
        return -1;
    }
    unsigned seed = 20261128;
    int ok = 0, failed = 0;
    for (int i = 0; i < n; i++) {
        /* The report's shape: most matters are small, some are wishes, a few
         * are large enough for the alliance. */
        int size_roll = (int)(s_rand(&seed) % 100);
        const char *size = size_roll < 76 ? "small" : size_roll < 92 ? "wish" : "large";
        const s_template_t *t;
        do
            t = &s_templates[s_rand(&seed) % S_NTEMPLATES];
        while (strcmp(t->size, size) != 0);
        int roll = (int)(s_rand(&seed) % 100), acc = 0;
        const char *channel = "web";
        for (size_t c = 0; c < sizeof s_channels / sizeof s_channels[0]; c++) {
            acc += s_channels[c].weight;
            if (roll < acc) {
                channel = s_channels[c].channel;
                break;
            }
        }
        /* Appeals cluster in a few busy compounds, as they do. */
        int ci = (int)(s_rand(&seed) % 3 == 0 ? s_rand(&seed) % 12 : s_rand(&seed) % (unsigned)ncp);
        char source[32] = "";
        int mailbox = 0;
        if (strcmp(channel, "mailbox") == 0 && nmb > 0) {
            int m = (int)(s_rand(&seed) % (unsigned)nmb);
            const char *compound = PQgetvalue(mb, m, 1);
            for (int k = 0; k < ncp; k++)
                if (strcmp(PQgetvalue(cp, k, 0), compound) == 0)
                    ci = k;
            mailbox = atoi(PQgetvalue(mb, m, 0));
        } else if (strcmp(channel, "qr") == 0) {
            snprintf(source, sizeof source, "cp-%s", PQgetvalue(cp, ci, 0));
        } else if (strcmp(channel, "visit") == 0) {
            snprintf(source, sizeof source, "visit-note:%04d", i);
        }
        char body[512];
        snprintf(body, sizeof body, t->text, PQgetvalue(cp, ci, 1), 1 + (int)(s_rand(&seed) % 24));
        json_t *req = json_pack("{s:s, s:s, s:s}", "channel", channel, "org_unit",
                                PQgetvalue(cp, ci, 0), "body", body);
        if (s_rand(&seed) % 10 < 6) /* most residents pick a category */
            json_object_set_new(req, "category", json_string(t->category));
        /* Channel details as the clerks and scanners send them: a letter names
         * its mailbox, a scan its QR token, a visit note its staff member. */
        if (mailbox)
            json_object_set_new(req, "mailbox", json_integer(mailbox));
        else if (strcmp(channel, "qr") == 0)
            json_object_set_new(req, "qr", json_string(source));
        else if (source[0])
            json_object_set_new(req, "source_ref", json_string(source));
        if (strcmp(channel, "visit") == 0 || mailbox)
            json_object_set_new(req, "staff", json_string("网格员"));
        if (s_rand(&seed) % 2) {
            char phone[16];
            snprintf(phone, sizeof phone, "139%08u", s_rand(&seed) * 7919u % 100000000u);
            json_object_set_new(req, "contact",
                                json_pack("{s:s, s:s}", "name", "居民", "phone", phone));
        }
        long st = s_call(h, 0, "POST", "/v1/appeals", req, NULL);
        json_decref(req);
        if (st == 201)
            ok++;
        else
            failed++;
    }
    PQclear(cp);
    PQclear(mb);
    printf("  posted %d appeals (%d refused or failed)\n", ok, failed);
    return ok;
}

static json_t *s_array(json_t *obj, const char *key)
{
    json_t *a = obj ? json_object_get(obj, key) : NULL;
    return json_is_array(a) ? a : NULL;
}

static void s_hear_councils(s_http_t *h)
{
    json_t *q = NULL;
    s_call(h, 1, "GET", "/v1/queue?size=small&status=routed&limit=500", NULL, &q);
    json_t *items = s_array(q, "items");
    int heard = 0, n = items ? (int)json_array_size(items) : 0;
    for (int i = 0; i < n; i++) {
        if (i % 7 == 6)
            continue; /* some matters wait for next month's hearing */
        const char *id = json_string_value(json_object_get(json_array_get(items, i), "id"));
        char path[128];
        snprintf(path, sizeof path, "/v1/items/%s/council", id ? id : "");
        json_t *rec = json_pack("{s:s, s:[s,s,s], s:s, s:s}", "venue", "晚茶议事厅", "attendees",
                                "party_branch", "owners_committee", "property_company", "decision",
                                "三方议定：物业一周内整改，党支部跟踪回访", "outcome",
                                "已整改，居民回访满意");
        if (s_call(h, 1, "POST", path, rec, NULL) == 200)
            heard++;
        json_decref(rec);
    }
    json_decref(q);
    printf("  three-party councils heard %d of %d small items\n", heard, n);
}

static void s_work_wishes(s_http_t *h, PGconn *conn)
{
    json_t *q = NULL;
    s_call(h, 2, "GET", "/v1/wishes?status=open&limit=500", NULL, &q);
    json_t *wishes = s_array(q, "wishes");
    int n = wishes ? (int)json_array_size(wishes) : 0, approved = 0;
    for (int i = 0; i < n; i++) {
        json_t *w = json_array_get(wishes, i);
        const char *id = json_string_value(json_object_get(w, "id"));
        const char *cp = json_string_value(json_object_get(w, "org_unit"));
        if (!id || !cp || i % 5 == 4)
            continue; /* a few wishes stay open on the board */
        const char *params[1] = {cp};
        PGresult *r = hlctl_query(conn,
                                  "SELECT g.code, c.parent FROM org.org_unit g"
                                  " JOIN org.org_unit c ON c.code = g.parent"
                                  " WHERE g.parent = $1 AND g.level = 'micro_grid'"
                                  " ORDER BY g.code LIMIT 1",
                                  1, params);
        if (PQntuples(r) == 0) {
            PQclear(r);
            continue;
        }
        char grid[32], community[32], path[160];
        snprintf(grid, sizeof grid, "%s", PQgetvalue(r, 0, 0));
        PQclear(r);
        params[0] = cp;
        r = hlctl_query(conn, "SELECT parent FROM org.org_unit WHERE code = $1", 1, params);
        snprintf(community, sizeof community, "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
        PQclear(r);

        json_t *b = json_pack("{s:s}", "claimant", grid);
        snprintf(path, sizeof path, "/v1/wishes/%s/claim", id);
        long st = s_call(h, 2, "POST", path, b, NULL);
        json_decref(b);
        if (st != 200)
            continue;
        b = json_pack("{s:s, s:s}", "claimant", grid, "evidence", "已上门完成，附照片两张");
        snprintf(path, sizeof path, "/v1/wishes/%s/complete", id);
        st = s_call(h, 2, "POST", path, b, NULL);
        json_decref(b);
        if (st != 200 || i % 6 == 5)
            continue; /* awaiting review */
        b = json_pack("{s:s, s:s, s:s}", "reviewer", community, "decision", "approve", "note",
                      "社区审核通过");
        snprintf(path, sizeof path, "/v1/wishes/%s/review", id);
        if (s_call(h, 2, "POST", path, b, NULL) == 200)
            approved++;
        json_decref(b);
    }
    json_decref(q);
    printf("  grid organisations completed %d of %d wishes on the board (approved)\n", approved, n);
}

static void s_hold_meeting(s_http_t *h, PGconn *conn)
{
    json_t *m = NULL;
    s_call(h, 4, "GET", "/v1/meetings/next", NULL, &m);
    json_t *agenda = s_array(m, "agenda");
    const char *mid = json_string_value(json_object_get(json_object_get(m, "meeting"), "id"));
    int n = agenda ? (int)json_array_size(agenda) : 0, resolved = 0;
    for (int i = 0; i < n && mid; i++) {
        if (i % 3 == 2)
            continue; /* hard matters take more than one meeting */
        json_t *a = json_array_get(agenda, i);
        const char *item = json_string_value(json_object_get(a, "item_id"));
        char path[160];
        snprintf(path, sizeof path, "/v1/meetings/%s/outcomes", mid);
        PGresult *r = hlctl_query(conn,
                                  "SELECT code FROM org.member_unit WHERE kind = 'agency'"
                                  " ORDER BY code LIMIT 1 OFFSET 0",
                                  0, NULL);
        json_t *b = json_pack("{s:s, s:s}", "item_id", item ? item : "", "outcome",
                              "联席会议议定：成员单位牵头，一月内完成整治");
        if (PQntuples(r))
            json_object_set_new(b, "unit", json_string(PQgetvalue(r, 0, 0)));
        PQclear(r);
        if (s_call(h, 4, "POST", path, b, NULL) == 200)
            resolved++;
        json_decref(b);
    }
    json_decref(m);
    printf("  the joint meeting resolved %d of %d large items on its agenda\n", resolved, n);
}

static void s_print_rows(PGconn *conn, const char *title, const char *sql)
{
    PGresult *r = hlctl_query(conn, sql, 0, NULL);
    printf("  %-22s", title);
    for (int i = 0; i < PQntuples(r); i++)
        printf("%s %s%s", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
               i + 1 < PQntuples(r) ? ", " : "");
    printf("\n");
    PQclear(r);
}

static void s_summary(PGconn *conn)
{
    printf("\nWhat the system did (read back from PostgreSQL):\n");
    s_print_rows(conn, "appeals by channel:",
                 "SELECT channel, count(*) FROM intake.appeal GROUP BY 1 ORDER BY 2 DESC");
    s_print_rows(conn, "appeals by category:",
                 "SELECT coalesce(cat.name, c.category, '未分类'), count(*)"
                 " FROM triage.case c LEFT JOIN org.category cat ON cat.code = c.category"
                 " GROUP BY 1 ORDER BY 2 DESC");
    s_print_rows(conn,
                 "routed by size:", "SELECT size, count(*) FROM triage.case GROUP BY 1 ORDER BY 1");
    s_print_rows(
        conn, "items by status:", "SELECT status, count(*) FROM triage.item GROUP BY 1 ORDER BY 1");
    s_print_rows(conn, "appeals by status:",
                 "SELECT status, count(*) FROM intake.appeal GROUP BY 1 ORDER BY 1");
    s_print_rows(conn, "wishes by status:",
                 "SELECT status, count(*) FROM bounty.wish GROUP BY 1 ORDER BY 1");
    s_print_rows(conn, "points awarded:",
                 "SELECT 'awards ' || count(*), 'points ' || coalesce(sum(amount), 0)"
                 " FROM points.ledger");
    s_print_rows(conn, "pipeline:",
                 "SELECT 'pending', count(*) FILTER (WHERE done_at IS NULL AND dead_at IS NULL)"
                 " FROM pipeline.message UNION ALL SELECT 'dead', count(*) FILTER (WHERE dead_at"
                 " IS NOT NULL) FROM pipeline.message");
}

int hlctl_demo(void)
{
    const char *n_text = getenv("HL_DEMO_APPEALS");
    const char *port_text = getenv("HL_BASE_PORT");
    int n = n_text ? atoi(n_text) : 300;
    s_http_t h = {0};
    h.port0 = port_text ? atoi(port_text) : 8080;
    snprintf(h.base, sizeof h.base, "http://127.0.0.1");
    if (n <= 0 || n > 1000000 || h.port0 <= 0 || h.port0 > 65530) {
        fprintf(stderr, "hlctl demo: HL_DEMO_APPEALS must be 1..1000000 and HL_BASE_PORT a port\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    h.curl = curl_easy_init();
    PGconn *conn = hlctl_connect();
    printf("A month in the demo city:\n");
    int rc = 0;
    if (s_post_appeals(&h, conn, n) < 0) {
        rc = 1;
        goto out;
    }
    if (!s_wait_zero(conn, "SELECT count(*) FROM intake.appeal WHERE status = 'received'", 60))
        printf("  (some appeals are still waiting for triage)\n");
    else
        printf("  triage classified and routed every appeal\n");
    /* Give the downstream stages a moment to land the routed items. */
    s_wait_zero(conn,
                "SELECT count(*) FROM pipeline.message WHERE done_at IS NULL AND dead_at IS NULL",
                30);
    s_hear_councils(&h);
    s_work_wishes(&h, conn);
    s_hold_meeting(&h, conn);
    if (!s_wait_zero(conn,
                     "SELECT count(*) FROM pipeline.message WHERE done_at IS NULL AND dead_at IS "
                     "NULL",
                     60))
        printf("  (the pipeline is still catching up)\n");
    s_summary(conn);
out:
    PQfinish(conn);
    curl_easy_cleanup(h.curl);
    hl_buf_close(&h.resp);
    curl_global_cleanup();
    return rc;
}
