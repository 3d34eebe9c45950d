/* test_intake_channel: the pure parts of the channel details and the batch
 * import: ISO 8601 times, UTF-8 checks, mailbox/qr/staff/written_at rules,
 * NDJSON and RFC 4180 CSV records, and whole-line validation. */
#include "intake.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* 2026-11-28T00:00:00Z */
#define NOW_US (1795824000LL * 1000000)

static void test_time_parse(void **state)
{
    (void)state;
    int64_t us;
    assert_true(hl_time_parse("1970-01-01T00:00:00Z", &us));
    assert_int_equal(us, 0);
    assert_true(hl_time_parse("2026-11-28T08:00:00+08:00", &us));
    assert_int_equal(us, NOW_US);
    assert_true(hl_time_parse("2026-11-28 00:00:00.5z", &us));
    assert_int_equal(us, NOW_US + 500000);
    assert_true(hl_time_parse("2026-11-28", &us)); /* 00:00 UTC+8 */
    assert_int_equal(us, NOW_US - 8LL * 3600 * 1000000);
    assert_true(hl_time_parse("2024-02-29T12:00-0130", &us));
    char out[40];
    hl_time_format(NOW_US + 123456, out);
    assert_string_equal(out, "2026-11-28T00:00:00.123456Z");
    hl_time_format(0, out);
    assert_string_equal(out, "1970-01-01T00:00:00.000000Z");

    static const char *const bad[] = {"",
                                      "2026-11-28T08:00:00", /* no offset: ambiguous */
                                      "2023-02-29",          /* not a leap year */
                                      "2026-13-01",
                                      "2026-11-31",
                                      "2026-11-28T24:00:00Z",
                                      "2026-11-28T08:60Z",
                                      "2026-11-28T08:00:00+15:00",
                                      "2026-11-28T08:00:00Zjunk",
                                      "26-11-28",
                                      "2026/11/28",
                                      "2026-11-28T08:00:00.Z",
                                      "1' OR '1'='1",
                                      "9999999999-01-01",
                                      NULL};
    for (int i = 0; bad[i]; i++)
        assert_false(hl_time_parse(bad[i], &us));
}

/* The refusal status of a one-record CSV batch whose body cell holds the
 * `n` bytes of `cell` (hl_utf8_len checks the bytes). */
static int s_csv_cell(const char *cell, size_t n, char field[HL_REFUSAL_FIELD_MAX])
{
    char body[64];
    memcpy(body, "channel,body\nweb,", 17);
    memcpy(body + 17, cell, n);
    body[17 + n] = '\n';
    intake_records_t r;
    hl_refusal_t why;
    assert_int_equal(intake_csv_parse(body, 18 + n, 10, &r, &why), 0);
    assert_int_equal(r.n, 1);
    int status = r.v[0].refusal.status;
    snprintf(field, HL_REFUSAL_FIELD_MAX, "%s", r.v[0].refusal.field);
    intake_records_close(&r);
    return status;
}

static void test_utf8(void **state)
{
    (void)state;
    char field[HL_REFUSAL_FIELD_MAX];
    assert_int_equal(s_csv_cell("红色信箱 ok", strlen("红色信箱 ok"), field), 0);
    assert_int_equal(s_csv_cell("\xF0\x9F\x98\x80", 4, field), 0); /* emoji */
    static const struct {
        const char *bytes;
        size_t len;
    } bad[] = {
        {"a\0b", 3},             /* NUL */
        {"\xC0\xAF", 2},         /* overlong '/' */
        {"\xE0\x80\xAF", 3},     /* overlong, 3 bytes */
        {"\xED\xA0\x80", 3},     /* surrogate U+D800 */
        {"\xF4\x90\x80\x80", 4}, /* beyond U+10FFFF */
        {"\xE7\xBA", 2},         /* truncated */
        {"\x80", 1},             /* stray continuation */
        {"\xFF", 1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(s_csv_cell(bad[i].bytes, bad[i].len, field), 422);
        assert_string_equal(field, "body");
    }
}

/* Parses `json` as a request and returns intake_appeal_from_json's result. */
static int s_line(const char *json, intake_appeal_t *a, char written[40], hl_refusal_t *why)
{
    json_t *obj = json_loads(json, 0, NULL);
    assert_non_null(obj);
    const char *key;
    memset(why, 0, sizeof *why);
    int rc = intake_appeal_from_json(obj, NOW_US, a, written, &key, why);
    json_decref(obj); /* strings are not used after this point */
    return rc;
}

static void test_channel_details(void **state)
{
    (void)state;
    intake_appeal_t a;
    hl_refusal_t why;
    char w[40];
    assert_int_equal(s_line("{\"channel\":\"mailbox\",\"mailbox\":12,\"body\":\"x\","
                            "\"staff\":\"王芳\",\"written_at\":\"2026-11-27\"}",
                            &a, w, &why),
                     0);
    assert_int_equal(a.mailbox, 12);
    assert_null(a.org_unit); /* the mailbox fixes it */
    assert_string_equal(w, "2026-11-26T16:00:00.000000Z");
    assert_int_equal(s_line("{\"channel\":\"qr\",\"qr\":\"cp-cp006\",\"body\":\"x\"}", &a, w, &why),
                     0);

    static const struct {
        const char *json, *field;
    } bad[] = {
        {"{\"channel\":\"mailbox\",\"mailbox\":0,\"body\":\"x\"}", "mailbox"},
        {"{\"channel\":\"mailbox\",\"mailbox\":-3,\"body\":\"x\"}", "mailbox"},
        {"{\"channel\":\"mailbox\",\"mailbox\":\"12\",\"body\":\"x\"}", "mailbox"},
        {"{\"channel\":\"mailbox\",\"mailbox\":12.5,\"body\":\"x\"}", "mailbox"},
        {"{\"channel\":\"mailbox\",\"mailbox\":99999999999999999,\"body\":\"x\"}", "mailbox"},
        {"{\"channel\":\"web\",\"mailbox\":12,\"body\":\"x\"}", "mailbox"},
        {"{\"channel\":\"web\",\"qr\":\"cp-cp006\",\"body\":\"x\"}", "qr"},
        {"{\"channel\":\"qr\",\"qr\":\"cp-cp006'; DROP TABLE x;--\",\"body\":\"x\"}", "qr"},
        {"{\"channel\":\"qr\",\"qr\":\"\",\"body\":\"x\"}", "qr"},
        {"{\"channel\":\"visit\",\"org_unit\":\"cp001\",\"staff\":\"   \",\"body\":\"x\"}",
         "staff"},
        {"{\"channel\":\"visit\",\"org_unit\":\"cp001\",\"staff\":\"a\\nb\",\"body\":\"x\"}",
         "staff"},
        {"{\"channel\":\"visit\",\"org_unit\":\"cp001\",\"staff\":"
         "\"123456789012345678901234567890123456789012345678901\",\"body\":\"x\"}",
         "staff"},
        {"{\"channel\":\"visit\",\"org_unit\":\"cp001\",\"written_at\":\"2026-11-28T09:00:00Z\","
         "\"body\":\"x\"}",
         "written_at"}, /* nine hours ahead */
        {"{\"channel\":\"visit\",\"org_unit\":\"cp001\",\"written_at\":\"2024-01-01\","
         "\"body\":\"x\"}",
         "written_at"}, /* too old */
        {"{\"channel\":\"visit\",\"org_unit\":\"cp001\",\"written_at\":1700000000,\"body\":\"x\"}",
         "written_at"},
        {"{\"channel\":\"visit\",\"body\":\"x\"}", "org_unit"},
        {"{\"channel\":\"fax\",\"org_unit\":\"cp001\",\"body\":\"x\"}", "channel"},
        {"{\"channel\":\"web\",\"org_unit\":\"cp001\",\"body\":\"x\",\"evil\":1}", "evil"},
        {"{\"channel\":\"web\",\"org_unit\":\"cp001\",\"body\":\"x\",\"location\":{\"lat\":91,"
         "\"lon\":0}}",
         "location.lat"},
        {"{\"channel\":\"web\",\"org_unit\":\"cp001\",\"body\":\"x\",\"contact\":{\"phone\":"
         "\"1' OR 1=1\"}}",
         "contact.phone"},
        {"{\"channel\":\"web\",\"org_unit\":\"cp001\",\"body\":\" \"}", "body"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(s_line(bad[i].json, &a, w, &why), -1);
        assert_int_equal(why.status, 422);
        assert_string_equal(why.field, bad[i].field);
    }
}

/* The same function checks POST /v1/appeals (no line key: the key is a
 * header) and batch lines, with hl_text's rules for text. */
static void test_request_and_line(void **state)
{
    (void)state;
    intake_appeal_t a;
    hl_refusal_t why;
    char w[40];
    const char *key = NULL;
    json_t *obj = json_loads("{\"channel\":\"web\",\"org_unit\":\"cp001\",\"body\":\"x\","
                             "\"idempotency_key\":\"k1\"}",
                             0, NULL);
    assert_int_equal(intake_appeal_from_json(obj, NOW_US, &a, w, &key, &why), 0);
    assert_string_equal(key, "k1");
    assert_int_equal(intake_appeal_from_json(obj, NOW_US, &a, w, NULL, &why), -1);
    assert_int_equal(why.status, 422);
    assert_string_equal(why.field, "idempotency_key");
    json_decref(obj);

    obj = json_loads("{\"channel\":\"web\",\"org_unit\":\"cp001\",\"body\":\"第一行\\n\\t第二行\","
                     "\"location\":{\"lat\":31.3,\"lon\":118.02}}",
                     0, NULL);
    assert_int_equal(intake_appeal_from_json(obj, NOW_US, &a, w, NULL, &why), 0);
    assert_true(a.has_location);
    json_decref(obj);

    static const struct {
        const char *json, *field;
    } bad[] = {
        {"{\"channel\":\"web\",\"org_unit\":\"cp001\",\"title\":\"a\\nb\",\"body\":\"x\"}",
         "title"}, /* line breaks only in the body */
        {"{\"channel\":\"web\",\"org_unit\":\"cp001\",\"body\":\"a\\u0001b\"}", "body"},
        {"{\"channel\":\"web\",\"org_unit\":\"cp001\",\"title\":\"\u3000\u3000\",\"body\":\"x\"}",
         "title"}, /* ideographic spaces are blank */
        {"{\"channel\":\"web\",\"org_unit\":\"cp001\",\"body\":\"x\",\"contact\":{\"name\":"
         "\"123456789012345678901234567890123456789012345678901\"}}",
         "contact.name"},
        {"{\"channel\":\"web\",\"org_unit\":\"cp001\",\"body\":\"x\",\"location\":{\"lat\":0,"
         "\"lon\":-180.5}}",
         "location.lon"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        obj = json_loads(bad[i].json, 0, NULL);
        assert_non_null(obj);
        assert_int_equal(intake_appeal_from_json(obj, NOW_US, &a, w, NULL, &why), -1);
        assert_int_equal(why.status, 422);
        assert_string_equal(why.field, bad[i].field);
        json_decref(obj);
    }
    obj = json_loads("[1]", 0, NULL);
    assert_int_equal(intake_appeal_from_json(obj, NOW_US, &a, w, NULL, &why), -1);
    assert_int_equal(why.status, 400);
    json_decref(obj);
}

static void test_ndjson(void **state)
{
    (void)state;
    const char body[] = "{\"a\":1}\n\n  \r\n[1]\n{bad\n{\"b\":2}";
    intake_records_t r;
    hl_refusal_t why;
    assert_int_equal(intake_ndjson_parse(body, sizeof body - 1, 10, &r, &why), 0);
    assert_int_equal(r.n, 4);
    assert_int_equal(r.v[0].line, 1);
    assert_int_equal(r.v[0].refusal.status, 0);
    assert_int_equal(r.v[1].line, 4);
    assert_int_equal(r.v[1].refusal.status, 400); /* not an object */
    assert_int_equal(r.v[2].refusal.status, 400); /* malformed */
    assert_int_equal(r.v[3].line, 6);
    assert_int_equal(r.v[3].refusal.status, 0);
    intake_records_close(&r);
    assert_int_equal(intake_ndjson_parse(body, sizeof body - 1, 3, &r, &why), -1);
    assert_int_equal(why.status, 413);
}

static void test_csv(void **state)
{
    (void)state;
    const char body[] = "\xEF\xBB\xBF"
                        "channel,mailbox,body,contact_name,lat,lon\r\n"
                        "mailbox,3,\"逗号, \"\"引号\"\"\n换行\",张三,31.3,118.1\r\n"
                        "mailbox,4,bad\"quote,,,\n"
                        "mailbox,x,b,,,\n"
                        "\n"
                        "mailbox,5,\"unterminated,,,\n"
                        "mailbox,6,never read,,,\n";
    intake_records_t r;
    hl_refusal_t why;
    assert_int_equal(intake_csv_parse(body, sizeof body - 1, 10, &r, &why), 0);
    assert_int_equal(r.n, 4);
    assert_int_equal(r.v[0].line, 2);
    assert_int_equal(r.v[0].refusal.status, 0);
    json_t *o = r.v[0].obj;
    assert_string_equal(json_string_value(json_object_get(o, "body")), "逗号, \"引号\"\n换行");
    assert_int_equal(json_integer_value(json_object_get(o, "mailbox")), 3);
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "contact"), "name")),
                        "张三");
    assert_true(json_is_real(json_object_get(json_object_get(o, "location"), "lat")));
    assert_int_equal(r.v[1].line, 4);
    assert_int_equal(r.v[1].refusal.status, 422); /* quote inside unquoted field */
    assert_int_equal(r.v[2].line, 5);
    assert_string_equal(r.v[2].refusal.field, "mailbox");
    assert_int_equal(r.v[3].line, 7);
    assert_non_null(strstr(r.v[3].refusal.message, "unterminated"));
    intake_records_close(&r);

    static const char *const bad_headers[] = {"channel,body,nope\nweb,x,y\n",
                                              "channel,body,body\nweb,x,y\n",
                                              "channel,\"body\nweb,x\n", NULL};
    for (int i = 0; bad_headers[i]; i++) {
        assert_int_equal(intake_csv_parse(bad_headers[i], strlen(bad_headers[i]), 10, &r, &why),
                         -1);
        assert_string_equal(why.field, "header");
    }
    const char invalid[] = "channel,body\nweb,\xC0\xAF\nweb,a\x01"
                           "b\nweb,c,d\n";
    assert_int_equal(intake_csv_parse(invalid, sizeof invalid - 1, 10, &r, &why), 0);
    assert_int_equal(r.n, 3);
    assert_string_equal(r.v[0].refusal.field, "body"); /* overlong UTF-8 */
    assert_int_equal(r.v[1].refusal.status, 0);   /* control bytes are kept for the validator */
    assert_int_equal(r.v[2].refusal.status, 422); /* too many fields */
    intake_records_close(&r);
}

/* A refusal is sent as JSON (or an Open311 error, or a batch line's
 * outcome), so its field and message must be UTF-8 even when they quote
 * raw bytes or text cut at a byte count; jansson would refuse to pack them
 * and the reply lose its body. Found by fuzz_batch_csv, fuzz_batch_ndjson
 * and fuzz_appeal_json. */
static void test_refusals_are_text(void **state)
{
    (void)state;
    intake_records_t r;
    hl_refusal_t why;
    const char header[] = "channel,\xff\xfe,body\nweb,x,y\n"; /* raw bytes in a column name */
    assert_int_equal(intake_csv_parse(header, sizeof header - 1, 10, &r, &why), -1);
    assert_string_equal(why.field, "header");
    assert_true(hl_utf8_len(why.message) > 0);
    assert_non_null(strstr(why.message, "unknown column \"??\""));

    const char line[] = "{\"channel\":\"\xe8\xb7\"}\n"; /* a character cut in two */
    assert_int_equal(intake_ndjson_parse(line, sizeof line - 1, 10, &r, &why), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.v[0].refusal.status, 400);
    assert_true(hl_utf8_len(r.v[0].refusal.message) > 0);
    intake_records_close(&r);

    /* "%.32s" of an 11-character channel (33 bytes) and "%.40s" of a key
     * of 14 characters (42 bytes) cut the last character. */
    intake_appeal_t a;
    char w[40];
    assert_int_equal(s_line("{\"channel\":\"信信信信信信信信信信信\",\"body\":\"x\"}", &a, w, &why),
                     -1);
    assert_string_equal(why.field, "channel");
    assert_true(hl_utf8_len(why.message) > 0);
    assert_int_equal(
        s_line("{\"信信信信信信信信信信信信信信\":1,\"channel\":\"web\"}", &a, w, &why), -1);
    assert_true(hl_utf8_len(why.field) > 0);
    assert_true(hl_utf8_len(why.message) > 0);
}

/* A line's own idempotency key may be 200 characters: kept whole, not cut
 * at 255 bytes, where two long keys that differ only at the end became one
 * (and the second line was refused as a reuse) or a character was cut in
 * two (and the insert refused the key). */
static void test_batch_line_key(void **state)
{
    (void)state;
    char key[200 * 3 + 1] = "";
    for (int i = 0; i < 200; i++)
        strcat(key, "信");
    char body[1024];
    snprintf(body, sizeof body,
             "{\"channel\":\"web\",\"org_unit\":\"cp001\",\"body\":\"x\","
             "\"idempotency_key\":\"%s\"}\n"
             "{\"channel\":\"web\",\"org_unit\":\"cp001\",\"body\":\"y\"}\n",
             key);
    intake_records_t r;
    hl_refusal_t why;
    assert_int_equal(intake_ndjson_parse(body, strlen(body), 10, &r, &why), 0);
    assert_int_equal(r.n, 2);
    intake_appeal_t a;
    char w[40], hash[17], line_key[INTAKE_BATCH_KEY_MAX];
    assert_int_equal(intake_batch_line(&r.v[0], NOW_US, "b1", &a, w, hash, line_key), 0);
    assert_string_equal(line_key, key);
    assert_int_equal(intake_batch_line(&r.v[1], NOW_US, "b1", &a, w, hash, line_key), 0);
    assert_string_equal(line_key, "b1:2");
    assert_int_equal(intake_batch_line(&r.v[1], NOW_US, NULL, &a, w, hash, line_key), 0);
    assert_int_equal(strncmp(line_key, "line:", 5), 0);
    assert_int_equal(strlen(line_key), 5 + 16);
    intake_records_close(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_parse),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_channel_details),
        cmocka_unit_test(test_request_and_line),
        cmocka_unit_test(test_ndjson),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_refusals_are_text),
        cmocka_unit_test(test_batch_line_key),
    };
    return cmocka_run_group_tests_name("intake channel details and batch records", tests, NULL,
                                       NULL);
}
