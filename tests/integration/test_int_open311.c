/* test_int_open311: Open311 GeoReport v2 against a real cluster, the way an
 * aggregator would use it — discovery, services, a service definition,
 * form-encoded POSTs with an API key, reading requests back in JSON and
 * XML with the standard filters — and the refusals: bad fields (400, the
 * standard's error shape, nothing stored), no key or a revoked key (403),
 * and a flooding key (429 with Retry-After) while another key is served.
 * API keys: a new key works the moment hlctl prints it, a revoked one is
 * refused within seconds, and made-up keys cost a bounded number of
 * database lookups. */
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
static int s_started, s_finished; /* tests begun and run to the end */
static char s_key_a[80];          /* an aggregator's key, default rate */
static char s_key_flood[80];      /* a key limited to 30 a minute */
static char s_id[40];             /* the request posted in test_post_and_read */

static int s_setup(void **state)
{
    (void)state;
    /* No loopback exemption here: this test is about the limits. */
    static const char *const env[] = {"HL_RATE_EXEMPT=", "HL_RATE_PER_ADDR_PER_MIN=600",
                                      "HL_RATE_BURST=20", "HL_KEY_LOOKUPS_PER_S=5", NULL};
    return hl_test_cluster_up(&s_c, &s_db, "hl_int_open311", 1, env);
}

static int s_teardown(void **state)
{
    (void)state;
    hl_test_cluster_down(&s_c, s_db, s_started == s_finished);
    return 0;
}

#define SKIP_WITHOUT_PG()                                                                          \
    do {                                                                                           \
        if (!hl_test_pg())                                                                         \
            skip();                                                                                \
        s_started++;                                                                               \
    } while (0)

/* One HTTP request to hl-intake, a form-encoded body when `form`; returns
 * the status, the body (caller frees) and the headers in *r. */
static long s_http(const char *method, const char *path, const char *form, const char *extra_header,
                   hl_test_resp_t *r)
{
    char url[1024];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", s_c.http_port[HL_T_INTAKE], path);
    const char *headers[] = {extra_header, NULL};
    return hl_test_http_ex(url, method, form ? "application/x-www-form-urlencoded" : NULL, form,
                           form ? strlen(form) : 0, headers, r);
}

static json_t *s_json(const hl_test_resp_t *r)
{
    json_t *j = json_loads(r->body, 0, NULL);
    if (!j)
        fprintf(stderr, "not JSON: %s\n", r->body);
    assert_non_null(j);
    return j;
}

/* Asserts the standard's error shape with `code`. */
static void s_assert_error(long status, const hl_test_resp_t *r, int code)
{
    if (status != code)
        fprintf(stderr, "want %d, got %ld: %s\n", code, status, r->body);
    assert_int_equal(status, code);
    json_t *j = s_json(r);
    assert_true(json_is_array(j) && json_array_size(j) == 1);
    json_t *e = json_array_get(j, 0);
    assert_int_equal(json_integer_value(json_object_get(e, "code")), code);
    assert_true(json_string_length(json_object_get(e, "description")) > 0);
    json_decref(j);
}

/* Runs hlctl api-key with `args`; the key it prints goes into `out`. */
static int s_hlctl(const char *args, char *out, size_t outlen)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "HL_DATABASE_URL='%s' '%s' api-key %s 2>/dev/null", s_c.db_url,
             hl_test_bin("hlctl"), args);
    FILE *f = popen(cmd, "r");
    if (!f)
        return -1;
    char line[256] = "";
    if (!fgets(line, sizeof line, f))
        line[0] = '\0';
    int rc = pclose(f);
    line[strcspn(line, "\n")] = '\0';
    if (out)
        snprintf(out, outlen, "%s", line);
    return rc;
}

static long s_appeals(void)
{
    return hl_test_scalar(s_db, "SELECT count(*) FROM intake.appeal");
}

/* A POST without service_code answers 400 once the key is active and 403
 * before: it stores nothing either way. Waits up to `seconds` for `want`. */
static bool s_wait_key(const char *key, long want, double seconds)
{
    char form[256];
    snprintf(form, sizeof form, "api_key=%s&address_id=cp001", key);
    for (int i = 0; i < (int)(10 * seconds * hl_test_mult()); i++) {
        hl_test_resp_t r;
        long st = s_http("POST", "/open311/v2/requests.json", form, NULL, &r);
        free(r.body);
        if (st == want)
            return true;
        usleep(100000);
    }
    return false;
}

static void test_discovery(void **state)
{
    (void)state;
    SKIP_WITHOUT_PG();
    hl_test_resp_t r;
    assert_int_equal(s_http("GET", "/open311/v2/discovery.json", NULL, NULL, &r), 200);
    json_t *j = s_json(&r);
    json_t *ep = json_array_get(json_object_get(j, "endpoints"), 0);
    assert_string_equal(json_string_value(json_object_get(ep, "specification")),
                        "http://wiki.open311.org/GeoReport_v2");
    assert_non_null(strstr(json_string_value(json_object_get(ep, "url")), "/open311/v2"));
    assert_int_equal(json_array_size(json_object_get(ep, "formats")), 2);
    json_decref(j);
    free(r.body);
    assert_int_equal(s_http("GET", "/open311/v2/discovery.xml", NULL, NULL, &r), 200);
    assert_non_null(strstr(r.content_type, "text/xml"));
    assert_non_null(strstr(r.body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert_non_null(strstr(r.body, "<format>application/json</format>"));
    free(r.body);
    assert_int_equal(s_http("GET", "/open311/v2/discovery.html", NULL, NULL, &r), 404);
    free(r.body);
    s_finished++;
}

static void test_services(void **state)
{
    (void)state;
    SKIP_WITHOUT_PG();
    hl_test_resp_t r;
    assert_int_equal(s_http("GET", "/open311/v2/services.json", NULL, NULL, &r), 200);
    json_t *j = s_json(&r);
    assert_int_equal(json_array_size(j), 12);
    json_t *first = json_array_get(j, 0);
    assert_string_equal(json_string_value(json_object_get(first, "service_code")), "environment");
    assert_true(json_is_true(json_object_get(first, "metadata")));
    assert_string_equal(json_string_value(json_object_get(first, "type")), "realtime");
    json_decref(j);
    free(r.body);
    assert_int_equal(s_http("GET", "/open311/v2/services.xml", NULL, NULL, &r), 200);
    assert_non_null(strstr(r.body, "<services><service><service_code>environment</service_code>"));
    free(r.body);

    assert_int_equal(s_http("GET", "/open311/v2/services/parking.json", NULL, NULL, &r), 200);
    j = s_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "service_code")), "parking");
    json_t *attr = json_array_get(json_object_get(j, "attributes"), 0);
    assert_string_equal(json_string_value(json_object_get(attr, "code")), "compound");
    assert_true(json_is_true(json_object_get(attr, "required")));
    assert_string_equal(json_string_value(json_object_get(attr, "datatype")), "singlevaluelist");
    assert_int_equal(json_array_size(json_object_get(attr, "values")), 94);
    json_decref(j);
    free(r.body);
    assert_int_equal(s_http("GET", "/open311/v2/services/parking.xml", NULL, NULL, &r), 200);
    assert_non_null(strstr(r.body, "<service_definition><service_code>parking</service_code>"
                                   "<attributes><attribute><variable>true</variable>"));
    free(r.body);
    s_assert_error(s_http("GET", "/open311/v2/services/nosuch.json", NULL, NULL, &r), &r, 404);
    free(r.body);
    s_finished++;
}

static void test_post_and_read(void **state)
{
    (void)state;
    SKIP_WITHOUT_PG();
    assert_int_equal(s_hlctl("create aggregator-a", s_key_a, sizeof s_key_a), 0);
    assert_int_equal(strlen(s_key_a), 64);
    /* Stored hashed: the key itself is nowhere in the table. */
    char sql[640];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM intake.api_key WHERE key_hash = '%s'", s_key_a);
    assert_int_equal(hl_test_scalar(s_db, sql), 0);
    long before = s_appeals();
    char form[1024];
    snprintf(form, sizeof form,
             "api_key=%s&service_code=parking&lat=31.3&long=118.02"
             "&attribute%%5Bcompound%%5D=cp006&attribute%%5Btitle%%5D=%%E5%%9C%%B0%%E9%%94%%81"
             "&description=%%E8%%BD%%A6%%E4%%BD%%8D%%E8%%A2%%AB%%E5%%8D%%A0+%%26+%%3Cb%%3E"
             "&first_name=Li&last_name=Wei&phone=13800000001&email=li%%40example.cn"
             "&media_url=https%%3A%%2F%%2Fexample.cn%%2Fp.jpg&device_id=&account_id=",
             s_key_a);
    /* The key works the moment it is printed: no waiting for a reload. */
    double printed = hl_test_now();
    hl_test_resp_t r;
    long st = s_http("POST", "/open311/v2/requests.json", form, NULL, &r);
    if (st != 201)
        fprintf(stderr, "POST: %s\n", r.body);
    assert_int_equal(st, 201);
    fprintf(stderr, "open311: a new key's first POST answered 201 %.0f ms after hlctl printed it\n",
            (hl_test_now() - printed) * 1000);
    json_t *j = s_json(&r);
    json_t *one = json_array_get(j, 0);
    snprintf(s_id, sizeof s_id, "%s",
             json_string_value(json_object_get(one, "service_request_id")));
    assert_int_equal(strlen(s_id), 12);
    assert_true(json_is_null(json_object_get(one, "account_id")));
    /* Creation is synchronous: the id is the answer, no token beside it. */
    assert_null(json_object_get(one, "token"));
    json_decref(j);
    free(r.body);
    /* A second active key with the same name is refused. */
    assert_true(s_hlctl("create aggregator-a", NULL, 0) != 0);
    /* Stored before the answer, on the platform channel, contact kept apart. */
    assert_int_equal(s_appeals(), before + 1);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM intake.appeal a JOIN intake.resident r ON r.id = a.resident_id"
             " JOIN intake.open311_request o ON o.appeal_id = a.id"
             " WHERE a.tracking_code = '%s' AND a.channel = 'platform' AND a.org_unit = 'cp006'"
             " AND a.category = 'parking' AND r.name = 'Li Wei' AND o.client = 'aggregator-a'",
             s_id);
    assert_int_equal(hl_test_scalar(s_db, sql), 1);

    char path[128];
    snprintf(path, sizeof path, "/open311/v2/requests/%s.json?extensions=true", s_id);
    assert_int_equal(s_http("GET", path, NULL, NULL, &r), 200);
    j = s_json(&r);
    one = json_array_get(j, 0);
    assert_string_equal(json_string_value(json_object_get(one, "service_request_id")), s_id);
    assert_string_equal(json_string_value(json_object_get(one, "status")), "open");
    assert_string_equal(json_string_value(json_object_get(one, "service_code")), "parking");
    assert_string_equal(json_string_value(json_object_get(one, "description")), "车位被占 & <b>");
    assert_string_equal(json_string_value(json_object_get(one, "media_url")),
                        "https://example.cn/p.jpg");
    assert_true(json_real_value(json_object_get(one, "long")) > 118.01);
    assert_non_null(json_object_get(one, "requested_datetime"));
    json_t *ext = json_object_get(one, "extended_attributes");
    assert_non_null(json_string_value(json_object_get(ext, "detailed_status")));
    assert_string_equal(json_string_value(json_object_get(ext, "channel")), "platform");
    /* Contact details are never shown back. */
    assert_null(strstr(r.body, "13800000001"));
    assert_null(strstr(r.body, "Li Wei"));
    json_decref(j);
    free(r.body);

    snprintf(path, sizeof path, "/open311/v2/requests/%s.xml", s_id);
    assert_int_equal(s_http("GET", path, NULL, NULL, &r), 200);
    char want[128];
    snprintf(want, sizeof want, "<service_requests><request><service_request_id>%s<", s_id);
    assert_non_null(strstr(r.body, want));
    assert_non_null(strstr(r.body, "<description>车位被占 &amp; &lt;b&gt;</description>"));
    free(r.body);

    /* GET tokens/{token} still maps codes issued as tokens before. */
    snprintf(path, sizeof path, "/open311/v2/tokens/%s.json", s_id);
    assert_int_equal(s_http("GET", path, NULL, NULL, &r), 200);
    j = s_json(&r);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(j, 0), "service_request_id")), s_id);
    assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "token")), s_id);
    json_decref(j);
    free(r.body);
    snprintf(path, sizeof path, "/open311/v2/tokens/%s.xml", s_id);
    assert_int_equal(s_http("GET", path, NULL, NULL, &r), 200);
    assert_non_null(strstr(r.body, "<token>"));
    free(r.body);
    s_assert_error(s_http("GET", "/open311/v2/requests/HL0000000000.json", NULL, NULL, &r), &r,
                   404);
    free(r.body);
    s_finished++;
}

/* How many requests GET requests.json?query returns, and whether s_id is one. */
static long s_list(const char *query, bool *has_id)
{
    char path[512];
    snprintf(path, sizeof path, "/open311/v2/requests.json?%s", query);
    hl_test_resp_t r;
    long st = s_http("GET", path, NULL, NULL, &r);
    if (st != 200)
        fprintf(stderr, "GET %s: %ld %s\n", path, st, r.body);
    assert_int_equal(st, 200);
    json_t *j = s_json(&r);
    *has_id = false;
    size_t i;
    json_t *v;
    json_array_foreach(j, i,
                       v) if (strcmp(json_string_value(json_object_get(v, "service_request_id")),
                                     s_id) == 0) *has_id = true;
    long n = (long)json_array_size(j);
    json_decref(j);
    free(r.body);
    return n;
}

/* Lets the per-address bucket refill (20 at 600 a minute take 2 s). */
static void s_rest(void)
{
    usleep((useconds_t)(2100000 * hl_test_mult()));
}

static void test_filters(void **state)
{
    (void)state;
    SKIP_WITHOUT_PG();
    s_rest();
    assert_true(s_id[0]);
    bool has;
    char q[256];
    snprintf(q, sizeof q, "service_request_id=%s", s_id);
    assert_int_equal(s_list(q, &has), 1);
    assert_true(has);
    /* service_request_id overrides the other filters, as the standard says. */
    snprintf(q, sizeof q, "service_request_id=%s&status=closed&service_code=roads", s_id);
    assert_int_equal(s_list(q, &has), 1);
    s_list("service_code=parking,roads&status=open", &has);
    assert_true(has);
    s_list("status=closed", &has);
    assert_false(has);
    s_list("service_code=environment", &has);
    assert_false(has);
    s_list("start_date=2000-01-01T00:00:00Z&end_date=2100-01-01T00:00:00%2B08:00", &has);
    assert_true(has);
    assert_int_equal(s_list("start_date=2099-01-01T00:00:00Z&end_date=2099-02-01T00:00:00Z", &has),
                     0);
    assert_int_equal(s_list("page_size=1", &has), 1);

    s_rest();
    hl_test_resp_t r;
    static const char *const bad[] = {"start_date=yesterday", "end_date=2010-01-01T00:00:00",
                                      "status=pending",       "service_request_id=x';--",
                                      "page_size=0",          "page_size=5000",
                                      "service_code=a%20b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, "/open311/v2/requests.json?%s", bad[i]);
        s_assert_error(s_http("GET", path, NULL, NULL, &r), &r, 400);
        free(r.body);
    }
    assert_int_equal(s_http("GET", "/open311/v2/requests.xml?status=open", NULL, NULL, &r), 200);
    assert_non_null(strstr(r.body, "<service_requests><request>"));
    free(r.body);
    assert_int_equal(s_http("GET", "/open311/v2/requests.xml?status=bogus", NULL, NULL, &r), 400);
    assert_non_null(strstr(r.body, "<errors><error><code>400</code><description>"));
    free(r.body);
    s_finished++;
}

static void test_bad_posts_store_nothing(void **state)
{
    (void)state;
    SKIP_WITHOUT_PG();
    long before = s_appeals();
    long extra = hl_test_scalar(s_db, "SELECT count(*) FROM intake.open311_request");
    static const char *const bad[] = {
        "service_code=&address_id=cp001&description=x", /* no service */
        "service_code=parking&lat=91&long=118&attribute%5Bcompound%5D=cp001&description=x",
        "service_code=parking&lat=abc&long=118&attribute%5Bcompound%5D=cp001&description=x",
        "service_code=parking&lat=31&attribute%5Bcompound%5D=cp001&description=x", /* no long */
        "service_code=parking&description=x&attribute%5Bcompound%5D=cp001",        /* no place */
        "service_code=parking&address_string=x&description=x",                     /* compound */
        "service_code=parking&address_id=cp001",                                   /* no text */
        "service_code=parking&address_id=cp001&description=x&attribute%5Bcolour%5D=red",
        "service_code=parking&address_id=cp001&description=x&nickname=z",
        "service_code=parking&address_id=cp001&description=x&phone=call+me",
        "service_code=parking&address_id=cp001&description=x&email=nobody",
        "service_code=parking&address_id=cp001&description=x&media_url=ftp%3A%2F%2Fx",
        "service_code=nosuch&address_id=cp001&description=x",
        "service_code=parking&address_id=cp999&description=x",
        "service_code=parking&address_id=cp001&attribute%5Bcompound%5D=cp002&description=x",
        "service_code=parking&address_id=cp001&description=%FF%FE",
        "service_code=parking&address_id=cp001&description=x&description=y",
        /* "%.60s" of this unknown name cuts its 20th character in two: the
         * error was once "null" (not UTF-8, jansson would not pack it). */
        "service_code=parking&address_id=cp001&description=x&a%E4%BF%A1%E4%BF%A1%E4%BF%A1"
        "%E4%BF%A1%E4%BF%A1%E4%BF%A1%E4%BF%A1%E4%BF%A1%E4%BF%A1%E4%BF%A1%E4%BF%A1%E4%BF%A1"
        "%E4%BF%A1%E4%BF%A1%E4%BF%A1%E4%BF%A1%E4%BF%A1%E4%BF%A1%E4%BF%A1%E4%BF%A1%E4%BF%A1=z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char form[512];
        snprintf(form, sizeof form, "api_key=%s&%s", s_key_a, bad[i]);
        hl_test_resp_t r;
        long st = s_http("POST", "/open311/v2/requests.json", form, NULL, &r);
        if (st != 400)
            fprintf(stderr, "case %zu: %ld %s\n", i, st, r.body);
        s_assert_error(st, &r, 400);
        free(r.body);
    }
    /* XML errors for .xml, and the wrong content type. */
    hl_test_resp_t r;
    char form[256];
    snprintf(form, sizeof form, "api_key=%s&lat=1", s_key_a);
    assert_int_equal(s_http("POST", "/open311/v2/requests.xml", form, NULL, &r), 400);
    assert_non_null(strstr(r.body, "<errors><error><code>400</code>"));
    free(r.body);
    assert_int_equal(s_appeals(), before);
    assert_int_equal(hl_test_scalar(s_db, "SELECT count(*) FROM intake.open311_request"), extra);
    s_finished++;
}

static void test_keys_required(void **state)
{
    (void)state;
    SKIP_WITHOUT_PG();
    long before = s_appeals();
    hl_test_resp_t r;
    const char *form = "service_code=parking&address_id=cp001&description=x";
    s_assert_error(s_http("POST", "/open311/v2/requests.json", form, NULL, &r), &r, 403);
    free(r.body);
    s_assert_error(s_http("POST", "/open311/v2/requests.json",
                          "api_key=0000&service_code=parking&address_id=cp001&description=x", NULL,
                          &r),
                   &r, 403);
    free(r.body);
    /* POST /v1/appeals: a bad bearer key is 401, not served anonymously. */
    assert_int_equal(s_http("POST", "/v1/appeals", NULL, "Authorization: Bearer 0000", &r), 401);
    free(r.body);
    assert_int_equal(s_appeals(), before);
    s_finished++;
}

/* hl-intake's API key lookups so far (hl_intake_api_key_lookups_total). */
static double s_lookups(void)
{
    return hl_test_metric(&s_c, HL_T_INTAKE, "hl_intake_api_key_lookups_total");
}

static void test_new_key_and_made_up_keys(void **state)
{
    (void)state;
    SKIP_WITHOUT_PG();
    /* The JSON API takes a new key at once too. */
    char key[80];
    assert_int_equal(s_hlctl("create platform-b", key, sizeof key), 0);
    char auth[128];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
    const char *appeal = "{\"channel\":\"platform\",\"org_unit\":\"cp006\",\"body\":\"路灯不亮\"}";
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/appeals", s_c.http_port[HL_T_INTAKE]);
    const char *headers[] = {auth, NULL};
    hl_test_resp_t r;
    long st = hl_test_http_ex(url, "POST", "application/json", appeal, strlen(appeal), headers, &r);
    if (st != 201)
        fprintf(stderr, "bearer POST: %ld %s\n", st, r.body);
    assert_int_equal(st, 201);
    free(r.body);
    /* And so does a batch, whose admission then waits for the lookup. */
    assert_int_equal(s_hlctl("create platform-c", key, sizeof key), 0);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
    const char *batch = "{\"channel\":\"platform\",\"org_unit\":\"cp006\",\"body\":\"井盖松动\"}\n"
                        "{\"channel\":\"platform\",\"org_unit\":\"cp007\",\"body\":\"树枝挡路\"}\n";
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/appeals/batch", s_c.http_port[HL_T_INTAKE]);
    st = hl_test_http_ex(url, "POST", "application/x-ndjson", batch, strlen(batch), headers, &r);
    if (st != 200)
        fprintf(stderr, "bearer batch: %ld %s\n", st, r.body);
    assert_int_equal(st, 200);
    json_t *j = s_json(&r);
    assert_int_equal(json_integer_value(json_object_get(j, "created")), 2);
    json_decref(j);
    free(r.body);

    /* One made-up key sent 50 times costs one lookup: it is then known to
     * be unknown. */
    long before = s_appeals();
    double lookups = s_lookups();
    const char *same = "api_key=feedfeedfeedfeed&service_code=parking&address_id=cp001&"
                       "description=x";
    for (int i = 0; i < 50; i++) {
        s_assert_error(s_http("POST", "/open311/v2/requests.json", same, NULL, &r), &r, 403);
        free(r.body);
    }
    assert_true(s_lookups() - lookups == 1);

    /* 100 different made-up keys as fast as they come: the lookups stay
     * within HL_KEY_LOOKUPS_PER_S (5 here, burst 5) of the time taken; the
     * rest are "retry later" (503, Retry-After), never served. */
    lookups = s_lookups();
    double started = hl_test_now();
    int refused = 0, unchecked = 0;
    for (int i = 0; i < 100; i++) {
        char form[256];
        snprintf(form, sizeof form,
                 "api_key=madeup%04d&service_code=parking&address_id=cp001&description=x", i);
        st = s_http("POST", "/open311/v2/requests.json", form, NULL, &r);
        if (st == 503) {
            unchecked++;
            assert_true(atoi(r.retry_after) >= 1);
        } else {
            s_assert_error(st, &r, 403);
            refused++;
        }
        free(r.body);
    }
    double took = hl_test_now() - started;
    double spent = s_lookups() - lookups;
    fprintf(stderr,
            "open311: 100 made-up keys in %.2f s: %d refused after a lookup, %d told to retry; "
            "%.0f database lookups\n",
            took, refused, unchecked, spent);
    assert_true(spent == refused);
    assert_true(spent <= 5 + 5 * (took + 1));
    assert_int_equal(refused + unchecked, 100);
    assert_int_equal(s_appeals(), before);
    s_finished++;
}

static void test_flood_and_revoke(void **state)
{
    (void)state;
    SKIP_WITHOUT_PG();
    assert_int_equal(s_hlctl("create flooder 30", s_key_flood, sizeof s_key_flood), 0);
    assert_true(s_wait_key(s_key_flood, 400, 15));
    long before = s_appeals();
    char flood[512], polite[512];
    snprintf(flood, sizeof flood,
             "api_key=%s&service_code=roads&address_id=cp010&description=flood", s_key_flood);
    snprintf(polite, sizeof polite,
             "api_key=%s&service_code=roads&address_id=cp011&description=polite", s_key_a);
    int created = 0, limited = 0, polite_ok = 0;
    for (int i = 0; i < 40; i++) {
        hl_test_resp_t r;
        long st = s_http("POST", "/open311/v2/requests.json", flood, NULL, &r);
        if (st == 201)
            created++;
        else if (st == 429) {
            limited++;
            assert_true(atoi(r.retry_after) >= 1);
            assert_non_null(strstr(r.body, "\"code\":429"));
        } else {
            fprintf(stderr, "flood: %ld %s\n", st, r.body);
            fail();
        }
        free(r.body);
        if (i % 10 == 9) {
            st = s_http("POST", "/open311/v2/requests.json", polite, NULL, &r);
            polite_ok += st == 201;
            free(r.body);
        }
    }
    /* A burst of 20 (the setting; s_wait_key took one) plus what 30 a
     * minute refills meanwhile. */
    fprintf(stderr, "flood: %d created, %d limited, %d of 4 polite ones served\n", created, limited,
            polite_ok);
    assert_true(created >= 19 && created <= 24);
    assert_true(limited >= 16);
    assert_int_equal(polite_ok, 4);
    assert_int_equal(s_appeals(), before + created + polite_ok);

    /* A revoked key is refused within seconds (the table reloads every 2 s). */
    assert_int_equal(s_hlctl("revoke aggregator-a", NULL, 0), 0);
    double revoked = hl_test_now();
    assert_true(s_wait_key(s_key_a, 403, 6));
    fprintf(stderr, "open311: a revoked key was refused %.1f s after hlctl revoked it\n",
            hl_test_now() - revoked);
    /* And a revoked name can be given a fresh key. */
    char fresh[80];
    assert_int_equal(s_hlctl("create aggregator-a", fresh, sizeof fresh), 0);
    assert_string_not_equal(fresh, s_key_a);
    s_finished++;
}

static void test_anonymous_flood(void **state)
{
    (void)state;
    SKIP_WITHOUT_PG();
    /* Without a key the limit is per address: 20 at once, then 429. The
     * bodies are empty, so the ones let through are refused as bad input
     * and nothing is stored. */
    s_rest();
    long before = s_appeals();
    int limited = 0;
    char retry[16] = "";
    for (int i = 0; i < 40; i++) {
        hl_test_resp_t r;
        long st = s_http("POST", "/v1/appeals", NULL, NULL, &r);
        if (st == 429) {
            limited++;
            snprintf(retry, sizeof retry, "%s", r.retry_after);
        } else {
            assert_int_equal(st / 100, 4);
        }
        free(r.body);
    }
    assert_true(limited >= 10);
    assert_true(atoi(retry) >= 1);
    assert_int_equal(s_appeals(), before);
    assert_int_equal(hl_cluster_stop(&s_c), 0);
    s_finished++;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_discovery),
        cmocka_unit_test(test_services),
        cmocka_unit_test(test_post_and_read),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_bad_posts_store_nothing),
        cmocka_unit_test(test_keys_required),
        cmocka_unit_test(test_new_key_and_made_up_keys),
        cmocka_unit_test(test_flood_and_revoke),
        cmocka_unit_test(test_anonymous_flood),
    };
    return cmocka_run_group_tests_name("integration: open311", tests, s_setup, s_teardown);
}
