/* test_int_intake_batch: channel details and the batch import against a
 * real hl-intake and PostgreSQL, and a corpus of hostile input.
 *
 * - POST /v1/appeals with a mailbox or QR code is anchored to its compound;
 *   a contradicting org_unit, an unknown box or code, a written_at in the
 *   future are 422 naming the field.
 * - POST /v1/appeals/batch (NDJSON and CSV) stores the good lines, reports
 *   every line, loses no good line to a bad one, and a re-sent batch creates
 *   nothing (with the batch's Idempotency-Key, and without one).
 * - The hostile corpus (SQL fragments, a 10 MB string, 100k-deep nesting,
 *   NUL bytes, overlong UTF-8, lone surrogates, wrong content types,
 *   truncated bodies, bad CSV quoting, numbers as strings, huge numbers)
 *   gets 4xx JSON naming the field where there is one, the daemon stays up
 *   and the number of appeals does not move. */
#include "hl_testflow.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

static hl_cluster_t s_c;
static PGconn *s_db;
static bool s_ok = true;

static int s_setup(void **state)
{
    (void)state;
    static const char *const env[] = {"HL_RATE_EXEMPT=127.0.0.1", "HL_BATCH_MAX_LINES=60", NULL};
    return hl_test_cluster_up(&s_c, &s_db, "hl_int_intake_batch", 1, env);
}

static int s_teardown(void **state)
{
    (void)state;
    hl_test_cluster_down(&s_c, s_db, s_ok);
    return 0;
}

static long s_appeals(void)
{
    return hl_test_scalar(s_db, "SELECT count(*) FROM intake.appeal");
}

/* POSTs a raw body to hl-intake; *out gets the parsed JSON answer or NULL. */
static long s_post(const char *path, const char *type, const char *body, size_t len, json_t **out,
                   const char *const *headers)
{
    char url[256], *text = NULL;
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", s_c.http_port[HL_T_INTAKE], path);
    long st = hl_test_http_raw(url, "POST", type, body, len, &text, headers);
    if (out)
        *out = json_loads(text, 0, NULL);
    free(text);
    return st;
}

static json_t *s_result(json_t *answer, size_t i)
{
    return json_array_get(json_object_get(answer, "results"), i);
}

static long s_int(json_t *obj, const char *key)
{
    return (long)json_integer_value(json_object_get(obj, key));
}

static void test_channel_details(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    json_t *a = NULL;
    /* Written yesterday (written_at may be at most a year old). */
    PGresult *r = PQexec(s_db, "SELECT to_char(now() - interval '1 day', 'YYYY-MM-DD')");
    char body[512];
    snprintf(body, sizeof body,
             "{\"channel\":\"mailbox\",\"mailbox\":3,\"staff\":\"网格员王芳\","
             "\"written_at\":\"%s\",\"body\":\"楼道灯坏了\"}",
             PQgetvalue(r, 0, 0));
    PQclear(r);
    assert_int_equal(s_post("/v1/appeals", "application/json", body, strlen(body), &a, NULL), 201);
    char q[256];
    snprintf(q, sizeof q,
             "SELECT count(*) FROM intake.appeal a JOIN org.mailbox m ON m.number = a.mailbox"
             " WHERE a.tracking_code = '%s' AND a.org_unit = m.compound AND a.staff = '网格员王芳'"
             " AND a.written_at < a.received_at",
             json_string_value(json_object_get(a, "tracking_code")));
    assert_int_equal(hl_test_scalar(s_db, q), 1);
    json_decref(a);

    const char *qr = "{\"channel\":\"qr\",\"qr\":\"cp-cp006\",\"body\":\"垃圾没人清\"}";
    assert_int_equal(s_post("/v1/appeals", "application/json", qr, strlen(qr), &a, NULL), 201);
    json_decref(a);
    assert_int_equal(hl_test_scalar(s_db, "SELECT count(*) FROM intake.appeal"
                                          " WHERE qr_token = 'cp-cp006' AND org_unit = 'cp006'"),
                     1);

    long before = s_appeals();
    static const struct {
        const char *body, *field;
    } bad[] = {
        {"{\"channel\":\"mailbox\",\"mailbox\":3,\"org_unit\":\"cp001\",\"body\":\"x\"}",
         "org_unit"},
        {"{\"channel\":\"mailbox\",\"mailbox\":555,\"body\":\"x\"}", "mailbox"},
        {"{\"channel\":\"qr\",\"qr\":\"cp-cp999\",\"body\":\"x\"}", "qr"},
        {"{\"channel\":\"qr\",\"qr\":\"cp-cp006\",\"org_unit\":\"cp007\",\"body\":\"x\"}",
         "org_unit"},
        {"{\"channel\":\"visit\",\"org_unit\":\"cp001\",\"written_at\":\"2099-01-01T00:00:00Z\","
         "\"body\":\"x\"}",
         "written_at"},
        {"{\"channel\":\"visit\",\"body\":\"x\"}", "org_unit"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(
            s_post("/v1/appeals", "application/json", bad[i].body, strlen(bad[i].body), &a, NULL),
            422);
        assert_string_equal(hl_test_error_field(a), bad[i].field);
        json_decref(a);
    }
    assert_int_equal(s_appeals(), before);
    s_ok = true;
}

static void test_batch_ndjson(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    long before = s_appeals();
    const char body[] =
        "{\"channel\":\"mailbox\",\"mailbox\":5,\"staff\":\"王芳\",\"body\":\"信一：楼道灯坏了\"}\n"
        "{\"channel\":\"mailbox\",\"mailbox\":5,\"org_unit\":\"cp001\",\"body\":\"信二\"}\n"
        "this is not json\n"
        "\n"
        "{\"channel\":\"mailbox\",\"mailbox\":7,\"body\":\"信三\",\"category\":\"nope\"}\n"
        "{\"channel\":\"visit\",\"org_unit\":\"cp010\",\"staff\":\"李强\",\"body\":\"入户：老人想"
        "装扶手\"}\n";
    const char *hdr[] = {"Idempotency-Key: stack-2026-11-28", NULL};
    json_t *a = NULL;
    assert_int_equal(
        s_post("/v1/appeals/batch", "application/x-ndjson", body, sizeof body - 1, &a, hdr), 200);
    assert_int_equal(s_int(a, "created"), 2);
    assert_int_equal(s_int(a, "failed"), 3);
    assert_int_equal(json_array_size(json_object_get(a, "results")), 5);
    assert_int_equal(s_int(s_result(a, 0), "line"), 1);
    assert_int_equal(s_int(s_result(a, 0), "status"), 201);
    assert_string_equal(hl_test_error_field(s_result(a, 1)), "org_unit");
    assert_int_equal(s_int(s_result(a, 2), "status"), 400);
    assert_int_equal(s_int(s_result(a, 3), "line"), 5);
    assert_string_equal(hl_test_error_field(s_result(a, 3)), "category");
    assert_int_equal(s_int(s_result(a, 4), "status"), 201);
    char code0[32];
    snprintf(code0, sizeof code0, "%s",
             json_string_value(json_object_get(s_result(a, 0), "tracking_code")));
    json_decref(a);
    assert_int_equal(s_appeals(), before + 2);
    assert_int_equal(hl_test_scalar(s_db, "SELECT count(*) FROM intake.appeal a JOIN org.mailbox"
                                          " m ON m.number = 5 WHERE a.mailbox = 5"
                                          " AND a.org_unit = m.compound AND a.staff = '王芳'"),
                     1);

    /* The same batch again: nothing new, the same codes. */
    assert_int_equal(
        s_post("/v1/appeals/batch", "application/x-ndjson", body, sizeof body - 1, &a, hdr), 200);
    assert_int_equal(s_int(a, "created"), 0);
    assert_int_equal(s_int(a, "replayed"), 2);
    assert_int_equal(s_int(s_result(a, 0), "status"), 200);
    assert_string_equal(json_string_value(json_object_get(s_result(a, 0), "tracking_code")), code0);
    json_decref(a);
    assert_int_equal(s_appeals(), before + 2);
    s_ok = true;
}

static void test_batch_csv(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    long before = s_appeals();
    const char body[] =
        "channel,mailbox,org_unit,body,contact_name,contact_phone,lat,lon,staff\r\n"
        "mailbox,9,,\"有逗号, 和\"\"引号\"\"的信\n第二行\",张三,13900001111,31.3,118.1,王芳\r\n"
        "mailbox,10,,bad\"quote,,,,,\r\n"
        "visit,,cp020,探访记录：电梯常坏,,,,,李强\r\n"
        "visit,,cp020,经纬度坏了,,,91,0,李强\r\n"
        "mailbox,abc,,信,,,,,\r\n";
    json_t *a = NULL;
    assert_int_equal(
        s_post("/v1/appeals/batch", "text/csv; charset=utf-8", body, sizeof body - 1, &a, NULL),
        200);
    assert_int_equal(s_int(a, "created"), 2);
    assert_int_equal(s_int(a, "failed"), 3);
    assert_int_equal(s_int(s_result(a, 0), "line"), 2);
    assert_int_equal(s_int(s_result(a, 1), "line"), 4);
    assert_int_equal(s_int(s_result(a, 1), "status"), 422);
    assert_int_equal(s_int(s_result(a, 2), "status"), 201);
    assert_string_equal(hl_test_error_field(s_result(a, 3)), "location.lat");
    assert_string_equal(hl_test_error_field(s_result(a, 4)), "mailbox");
    json_decref(a);
    assert_int_equal(s_appeals(), before + 2);
    assert_int_equal(hl_test_scalar(s_db, "SELECT count(*) FROM intake.appeal"
                                          " WHERE body = E'有逗号, 和\"引号\"的信\\n第二行'"
                                          " AND resident_id IS NOT NULL AND lat = 31.3"),
                     1);
    /* Re-sent without any key: the lines' fingerprints recognise it. */
    assert_int_equal(s_post("/v1/appeals/batch", "text/csv", body, sizeof body - 1, &a, NULL), 200);
    assert_int_equal(s_int(a, "replayed"), 2);
    assert_int_equal(s_int(a, "created"), 0);
    json_decref(a);
    assert_int_equal(s_appeals(), before + 2);
    s_ok = true;
}

static void test_batch_bad_line_loses_nothing(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    long before = s_appeals();
    char *body = malloc(64 * 200);
    size_t len = 0;
    /* Line 30's org unit does not exist; it is 11 characters of 3 bytes,
     * so "%.32s" in the refusal cuts the last one in two (the line's error
     * was once null: not UTF-8, jansson would not pack it). */
    for (int i = 1; i <= 60; i++)
        len += (size_t)sprintf(body + len,
                               i == 30
                                   ? "{\"channel\":\"web\",\"org_unit\":\"信信信信信信信信信信信\","
                                     "\"body\":\"line %d\"}\n"
                                   : "{\"channel\":\"web\",\"org_unit\":\"cp011\",\"body\":"
                                     "\"line %d\"}\n",
                               i);
    json_t *a = NULL;
    const char *hdr[] = {"Idempotency-Key: sixty", NULL};
    assert_int_equal(s_post("/v1/appeals/batch", "application/x-ndjson", body, len, &a, hdr), 200);
    assert_int_equal(s_int(a, "created"), 59);
    assert_int_equal(s_int(a, "failed"), 1);
    assert_string_equal(hl_test_error_field(s_result(a, 29)), "org_unit");
    const char *why =
        json_string_value(json_object_get(json_object_get(s_result(a, 29), "error"), "message"));
    assert_non_null(why);
    assert_non_null(strstr(why, "unknown org unit code"));
    json_decref(a);
    assert_int_equal(s_appeals(), before + 59);

    /* One line over HL_BATCH_MAX_LINES: the batch is refused whole. */
    len += (size_t)sprintf(body + len,
                           "{\"channel\":\"web\",\"org_unit\":\"cp011\",\"body\":\"61\"}\n");
    assert_int_equal(s_post("/v1/appeals/batch", "application/x-ndjson", body, len, &a, NULL), 413);
    json_decref(a);
    free(body);
    assert_int_equal(s_appeals(), before + 59);
    s_ok = true;
}

/* Sends `head` then `body_part` on a raw socket and closes its write side,
 * as a client that dies mid-body does. Returns the bytes answered. */
static size_t s_truncated(const char *head, const char *body_part)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)s_c.http_port[HL_T_INTAKE])};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_true(write(fd, head, strlen(head)) > 0);
    assert_true(write(fd, body_part, strlen(body_part)) > 0);
    shutdown(fd, SHUT_WR);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[4096];
    size_t got = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        got += (size_t)n;
    close(fd);
    return got;
}

static void test_hostile_corpus(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_ok = false;
    long before = s_appeals();
    static const struct {
        const char *path, *type, *body;
        size_t len;        /* 0: strlen(body) */
        int status;        /* expected */
        const char *field; /* expected field, or NULL for none asserted */
    } corpus[] = {
        /* SQL fragments in every field */
        {"/v1/appeals", "application/json",
         "{\"channel\":\"web'; DROP TABLE "
         "intake.appeal;--\",\"org_unit\":\"cp001\",\"body\":\"x\"}",
         0, 422, "channel"},
        {"/v1/appeals", "application/json",
         "{\"channel\":\"web\",\"org_unit\":\"cp001' OR '1'='1\",\"body\":\"x\"}", 0, 422,
         "org_unit"},
        {"/v1/appeals", "application/json",
         "{\"channel\":\"web\",\"org_unit\":\"cp001\",\"category\":\"x'); DELETE FROM "
         "intake.appeal;--\",\"body\":\"x\"}",
         0, 422, "category"},
        {"/v1/appeals", "application/json",
         "{\"channel\":\"qr\",\"qr\":\"1 UNION SELECT * FROM intake.resident\",\"body\":\"x\"}", 0,
         422, "qr"},
        {"/v1/appeals", "application/json",
         "{\"channel\":\"qr\",\"qr\":\"mb-001' --\",\"body\":\"x\"}", 0, 422, "qr"},
        {"/v1/appeals", "application/json",
         "{\"channel\":\"web\",\"org_unit\":\"cp001\",\"body\":\"x\",\"contact\":{\"phone\":"
         "\"1;DROP TABLE x\"}}",
         0, 422, "contact.phone"},
        {"/v1/appeals", "application/json",
         "{\"channel\":\"visit\",\"org_unit\":\"cp001\",\"body\":\"x\",\"written_at\":\"now()\"}",
         0, 422, "written_at"},
        /* numbers as strings, huge numbers, negative mailbox */
        {"/v1/appeals", "application/json",
         "{\"channel\":\"mailbox\",\"mailbox\":\"3\",\"body\":\"x\"}", 0, 422, "mailbox"},
        {"/v1/appeals", "application/json",
         "{\"channel\":\"mailbox\",\"mailbox\":-3,\"body\":\"x\"}", 0, 422, "mailbox"},
        {"/v1/appeals", "application/json",
         "{\"channel\":\"mailbox\",\"mailbox\":1e400,\"body\":\"x\"}", 0, 400, NULL},
        {"/v1/appeals", "application/json",
         "{\"channel\":\"mailbox\",\"mailbox\":123456789012345678901234567890,\"body\":\"x\"}", 0,
         400, NULL},
        {"/v1/appeals", "application/json",
         "{\"channel\":\"web\",\"org_unit\":\"cp001\",\"body\":\"x\",\"location\":{\"lat\":\"31\","
         "\"lon\":118}}",
         0, 422, "location.lat"},
        {"/v1/appeals", "application/json",
         "{\"channel\":\"web\",\"org_unit\":\"cp001\",\"body\":\"x\",\"location\":{\"lat\":31,"
         "\"lon\":1e300}}",
         0, 422, "location.lon"},
        {"/v1/appeals", "application/json",
         "{\"channel\":\"web\",\"org_unit\":\"cp001\",\"body\":123}", 0, 422, "body"},
        /* NUL bytes, escaped and raw; overlong UTF-8; lone surrogates */
        {"/v1/appeals", "application/json",
         "{\"channel\":\"web\",\"org_unit\":\"cp001\",\"body\":\"a\\u0000b\"}", 0, 400, NULL},
        {"/v1/appeals", "application/json",
         "{\"channel\":\"web\",\"org_unit\":\"cp001\",\"body\":\"a\0b\"}", 50, 400, NULL},
        {"/v1/appeals", "application/json",
         "{\"channel\":\"web\",\"org_unit\":\"cp001\",\"body\":\"\xC0\xAF\"}", 0, 400, NULL},
        {"/v1/appeals", "application/json",
         "{\"channel\":\"web\",\"org_unit\":\"cp001\",\"body\":\"\xED\xA0\x80\"}", 0, 400, NULL},
        {"/v1/appeals", "application/json",
         "{\"channel\":\"web\",\"org_unit\":\"cp001\",\"body\":\"\\ud800\"}", 0, 400, NULL},
        /* truncated and wrong JSON */
        {"/v1/appeals", "application/json", "{\"channel\":\"web\",\"org_unit\":\"cp0", 0, 400,
         NULL},
        {"/v1/appeals", "application/json", "[1,2,3]", 0, 400, NULL},
        {"/v1/appeals", "application/json",
         "{\"channel\":\"web\",\"channel\":\"qr\",\"org_unit\":\"cp001\",\"body\":\"x\"}", 0, 400,
         NULL},
        /* wrong content types */
        {"/v1/appeals", "text/plain", "{\"channel\":\"web\"}", 0, 415, NULL},
        {"/v1/appeals", "application/x-www-form-urlencoded", "channel=web&body=x", 0, 415, NULL},
        {"/v1/appeals/batch", "application/json", "{\"channel\":\"web\"}", 0, 415, "Content-Type"},
        {"/v1/appeals/batch", "text/csv; charset=gbk", "channel,body\nweb,x\n", 0, 415,
         "Content-Type"},
        {"/v1/appeals/batch", "multipart/form-data; boundary=x", "--x--", 0, 415, "Content-Type"},
        /* bad batches as a whole */
        {"/v1/appeals/batch", "text/csv", "channel,body,password\nweb,x,y\n", 0, 422, "header"},
        {"/v1/appeals/batch", "text/csv", "channel,\"body\nweb,x\n", 0, 422, "header"},
        {"/v1/appeals/batch", "application/x-ndjson", "\n\n  \n", 0, 422, NULL},
        {"/v1/appeals/batch", "text/csv", "channel,body\n", 0, 422, NULL},
    };
    for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++) {
        json_t *a = NULL;
        size_t len = corpus[i].len ? corpus[i].len : strlen(corpus[i].body);
        long st = s_post(corpus[i].path, corpus[i].type, corpus[i].body, len, &a, NULL);
        if (st != corpus[i].status)
            fail_msg("corpus %zu (%s): status %ld, want %d", i, corpus[i].body, st,
                     corpus[i].status);
        assert_non_null(json_object_get(a, "error")); /* a JSON error, always */
        if (corpus[i].field &&
            (!hl_test_error_field(a) || strcmp(hl_test_error_field(a), corpus[i].field) != 0))
            fail_msg("corpus %zu: field %s, want %s", i,
                     hl_test_error_field(a) ? hl_test_error_field(a) : "(none)", corpus[i].field);
        json_decref(a);
    }

    /* Batch lines with hostile content are refused one by one. */
    const char lines[] =
        "{\"channel\":\"web\",\"org_unit\":\"cp001\",\"body\":\"a\\u0000b\"}\n"
        "{\"channel\":\"mailbox\",\"mailbox\":\"12\",\"body\":\"x\"}\n"
        "{\"channel\":\"web\",\"org_unit\":\"cp001\",\"body\":\"\xC0\xAF\"}\n"
        "{\"channel\":\"web\",\"org_unit\":\"'||pg_sleep(10)||'\",\"body\":\"x\"}\n"
        "{\"channel\":\"web\",\"org_unit\":\"cp001\",\"body\":\"x\",\"idempotency_key\":7}\n";
    json_t *a = NULL;
    assert_int_equal(
        s_post("/v1/appeals/batch", "application/x-ndjson", lines, sizeof lines - 1, &a, NULL),
        200);
    assert_int_equal(s_int(a, "failed"), 5);
    json_decref(a);
    const char csv[] = "channel,org_unit,body\n"
                       "web,cp001,\"unterminated\n"
                       "web,cp001,more\n";
    assert_int_equal(s_post("/v1/appeals/batch", "text/csv", csv, sizeof csv - 1, &a, NULL), 200);
    assert_int_equal(s_int(a, "failed"), 1);
    json_decref(a);

    /* 10 MB string: refused before it is read whole. */
    size_t big = 10u << 20;
    char *huge = malloc(big + 64);
    int n = sprintf(huge, "{\"channel\":\"web\",\"org_unit\":\"cp001\",\"body\":\"");
    memset(huge + n, 'A', big);
    strcpy(huge + n + big, "\"}");
    assert_int_equal(s_post("/v1/appeals", "application/json", huge, strlen(huge), &a, NULL), 413);
    json_decref(a);
    assert_int_equal(
        s_post("/v1/appeals/batch", "application/x-ndjson", huge, strlen(huge), &a, NULL), 413);
    json_decref(a);
    /* 100k-deep nesting, as a body and as a batch line (within the size limit). */
    size_t depth = 100000;
    memset(huge, '[', depth);
    memset(huge + depth, ']', depth);
    huge[2 * depth] = '\0';
    assert_int_equal(s_post("/v1/appeals", "application/json", huge, 2 * depth, &a, NULL), 400);
    json_decref(a);
    assert_int_equal(s_post("/v1/appeals/batch", "application/x-ndjson", huge, 2 * depth, &a, NULL),
                     200);
    assert_int_equal(s_int(a, "failed"), 1);
    json_decref(a);
    free(huge);

    /* Bodies cut short by a client that goes away. */
    char head[256];
    snprintf(head, sizeof head,
             "POST /v1/appeals/batch HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
             "Content-Length: 5000\r\n\r\n");
    s_truncated(head, "channel,org_unit,body\nweb,cp001,cut short");
    snprintf(head, sizeof head,
             "POST /v1/appeals HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             "Content-Length: 5000\r\n\r\n");
    s_truncated(head, "{\"channel\":\"web\",\"org_unit\":\"cp001\",\"body\":\"cut");

    /* Still alive, nothing stored. */
    char url[128], *text = NULL;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/healthz", s_c.http_port[HL_T_INTAKE]);
    assert_int_equal(hl_test_http_raw(url, "GET", NULL, NULL, 0, &text, NULL), 200);
    free(text);
    assert_int_equal(s_appeals(), before);
    s_ok = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_channel_details), cmocka_unit_test(test_batch_ndjson),
        cmocka_unit_test(test_batch_csv),       cmocka_unit_test(test_batch_bad_line_loses_nothing),
        cmocka_unit_test(test_hostile_corpus),
    };
    return cmocka_run_group_tests_name("integration: intake channels and batch", tests, s_setup,
                                       s_teardown);
}
