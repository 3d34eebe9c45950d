/* test_intake_open311: the pure parts of the Open311 front — the
 * form-encoded body, XML escaping and documents, W3C datetimes, numbers
 * and the status mapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "intake.h"

static int s_parse(const char *body, intake_form_t *f)
{
    char err[160];
    return intake_form_parse(body, strlen(body), 64, f, err, sizeof err);
}

static void test_form_basic(void **state)
{
    (void)state;
    intake_form_t f;
    assert_int_equal(s_parse("api_key=k1&service_code=parking&lat=31.3&long=118.0"
                             "&attribute%5Bcompound%5D=cp006&description=a+b%26c%3D",
                             &f),
                     0);
    assert_int_equal(f.n, 6);
    assert_string_equal(intake_form_get(&f, "api_key"), "k1");
    assert_string_equal(intake_form_get(&f, "attribute[compound]"), "cp006");
    assert_string_equal(intake_form_get(&f, "description"), "a b&c=");
    assert_null(intake_form_get(&f, "missing"));
    intake_form_close(&f);
    assert_int_equal(f.n, 0);
}

static void test_form_utf8_and_empty(void **state)
{
    (void)state;
    intake_form_t f;
    /* "停车" percent-encoded, an empty value, a bare name, empty pairs. */
    assert_int_equal(s_parse("description=%E5%81%9C%E8%BD%A6&email=&flag&&", &f), 0);
    assert_string_equal(intake_form_get(&f, "description"), "停车");
    assert_string_equal(intake_form_get(&f, "email"), "");
    assert_string_equal(intake_form_get(&f, "flag"), "");
    assert_int_equal(f.n, 3);
    intake_form_close(&f);
    assert_int_equal(s_parse("", &f), 0);
    assert_int_equal(f.n, 0);
    intake_form_close(&f);
}

static void test_form_refusals(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "a=%zz",       /* not hex */
        "a=%4",        /* cut short */
        "a=%",         /* cut short */
        "a=x%00y",     /* NUL */
        "a=%FF%FE",    /* not UTF-8 */
        "a=%C0%AF",    /* overlong */
        "a=%ED%A0%80", /* surrogate */
        "a=%01",       /* control character */
        "=value",      /* empty name */
        "a=1&a=2",     /* repeated */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        intake_form_t f;
        char err[160] = "";
        assert_int_equal(intake_form_parse(bad[i], strlen(bad[i]), 64, &f, err, sizeof err), -1);
        assert_true(strlen(err) > 0);
        intake_form_close(&f);
    }
    /* Lists may repeat. */
    intake_form_t f;
    assert_int_equal(s_parse("v%5B%5D=1&v%5B%5D=2", &f), 0);
    assert_int_equal(f.n, 2);
    intake_form_close(&f);
}

/* The reason quotes the body's bytes; it becomes the Open311 error's
 * description (JSON or XML), so it must be UTF-8 whatever they were.
 * Found by fuzz_open311_form. */
static void test_form_refusal_is_text(void **state)
{
    (void)state;
    static const char *const bad[] = {"\xe5\x9c=%zz", "\xff=1&\xff=2", "a=%C0%AF"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        intake_form_t f;
        char err[160] = "";
        assert_int_equal(intake_form_parse(bad[i], strlen(bad[i]), 64, &f, err, sizeof err), -1);
        assert_true(hl_utf8_len(err) > 0);
        intake_form_close(&f);
    }
}

/* The form of the last s_check and the buffers its appeal points into. */
static intake_form_t s_form;
static char s_body[1024], s_name[64];

/* intake_open311_check of form `body` (xml: the .xml route). */
static int s_check(const char *body, bool xml, intake_appeal_t *a, intake_open311_extra_t *extra,
                   hl_refusal_t *why)
{
    intake_form_close(&s_form);
    assert_int_equal(s_parse(body, &s_form), 0);
    memset(a, 0, sizeof *a);
    return intake_open311_check(&s_form, xml, a, extra, s_body, sizeof s_body, s_name,
                                sizeof s_name, why);
}

/* intake_open311_check: what POST requests.{fmt} accepts and refuses. */
static void test_post_check(void **state)
{
    (void)state;
    intake_appeal_t a;
    intake_open311_extra_t extra;
    hl_refusal_t why;
    assert_int_equal(s_check("api_key=k&service_code=parking&address_string=3%E5%8F%B7%E6%A5%BC"
                             "&description=%E5%9C%B0%E9%94%81&attribute%5Bcompound%5D=cp006"
                             "&first_name=Li&last_name=Wei",
                             false, &a, &extra, &why),
                     0);
    assert_true(intake_appeal_complete(&a));
    assert_string_equal(a.channel, "platform");
    assert_string_equal(a.org_unit, "cp006");
    assert_string_equal(a.body, "地锁\n地址 Address: 3号楼");
    assert_string_equal(a.name, "Li Wei");
    assert_string_equal(extra.address, "3号楼");
    assert_null(extra.media_url);

    assert_int_equal(
        s_check("api_key=k&service_code=parking&description=d", true, &a, &extra, &why), -1);
    assert_int_equal(why.status, 400);
    assert_non_null(strstr(why.message, "a location is required"));

    assert_int_equal(
        s_check("jurisdiction_id=elsewhere&service_code=parking", false, &a, &extra, &why), -1);
    assert_int_equal(why.status, 404);

    /* "a" and 21 characters of 3 bytes: "%.60s" in the refusal cuts the
     * 20th in two; the refusal is text all the same. */
    char form[256] = "a";
    for (int i = 0; i < 21; i++)
        strcat(form, "%E4%BF%A1");
    strcat(form, "=1");
    assert_int_equal(s_check(form, false, &a, &extra, &why), -1);
    assert_non_null(strstr(why.message, "unknown field"));
    assert_true(hl_utf8_len(why.message) > 0);
    intake_form_close(&s_form);
}

static void test_form_field_cap(void **state)
{
    (void)state;
    intake_form_t f;
    char err[160];
    const char *body = "a=1&b=2&c=3&d=4";
    assert_int_equal(intake_form_parse(body, strlen(body), 3, &f, err, sizeof err), -1);
    assert_non_null(strstr(err, "more than 3"));
    intake_form_close(&f);
    assert_int_equal(intake_form_parse(body, strlen(body), 4, &f, err, sizeof err), 0);
    intake_form_close(&f);
}

static void test_form_binary_length(void **state)
{
    (void)state;
    /* The length given wins over a NUL in the buffer. */
    intake_form_t f;
    char err[160];
    const char body[] = "a=1\0&b=2";
    assert_int_equal(intake_form_parse(body, sizeof body - 1, 8, &f, err, sizeof err), -1);
    intake_form_close(&f);
    assert_int_equal(intake_form_parse(body, 3, 8, &f, err, sizeof err), 0);
    assert_string_equal(intake_form_get(&f, "a"), "1");
    intake_form_close(&f);
}

static void test_xml_escape(void **state)
{
    (void)state;
    hl_buf_t b = {0};
    intake_xml_escape(&b, "a & b < c > d \" e ' f");
    assert_string_equal(b.data, "a &amp; b &lt; c &gt; d &quot; e &apos; f");
    hl_buf_reset(&b);
    intake_xml_escape(&b, "x\x01y\x1fz\x7f\tok\n");
    assert_string_equal(b.data, "xyz\tok\n");
    hl_buf_reset(&b);
    intake_xml_escape(&b, "楼道堆物 &amp;");
    assert_string_equal(b.data, "楼道堆物 &amp;amp;");
    hl_buf_close(&b);
}

static void test_xml_document(void **state)
{
    (void)state;
    json_t *v =
        json_pack("[{s:s, s:b, s:n, s:i, s:[{s:s, s:s}]}]", "service_code", "a<b", "metadata", 1,
                  "group", "order", 3, "values", "key", "cp001", "name", "青枫苑");
    size_t len;
    char *doc = intake_xml_document("services", v, &len);
    assert_string_equal(doc, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                             "<services><service><service_code>a&lt;b</service_code>"
                             "<metadata>true</metadata><group></group><order>3</order>"
                             "<values><value><key>cp001</key><name>青枫苑</name></value></values>"
                             "</service></services>\n");
    assert_int_equal(len, strlen(doc));
    free(doc);
    json_decref(v);
    v = json_pack("[{s:i, s:s}]", "code", 400, "description", "bad & worse");
    doc = intake_xml_document("errors", v, &len);
    assert_non_null(strstr(doc, "<errors><error><code>400</code><description>bad &amp; "
                                "worse</description></error></errors>"));
    free(doc);
    json_decref(v);
    assert_string_equal(intake_xml_item_name("service_requests"), "request");
    assert_string_equal(intake_xml_item_name("formats"), "format");
    assert_string_equal(intake_xml_item_name("unknown"), "item");
}

static void test_numbers(void **state)
{
    (void)state;
    double v;
    assert_true(intake_parse_double("31.3", &v));
    assert_true(v > 31.29 && v < 31.31);
    assert_true(intake_parse_double("-118", &v));
    assert_true(intake_parse_double("1e1", &v));
    assert_false(intake_parse_double("", &v));
    assert_false(intake_parse_double("nan", &v));
    assert_false(intake_parse_double("inf", &v));
    assert_false(intake_parse_double("1e999", &v));
    assert_false(intake_parse_double("31.3abc", &v));
    assert_false(intake_parse_double(" 31.3", &v));
    assert_false(intake_parse_double("0x10", &v));
    assert_false(intake_parse_double(NULL, &v));
}

static void test_text_ok(void **state)
{
    (void)state;
    assert_true(intake_text_ok("楼道 ok\t\r\n"));
    assert_true(intake_text_ok("\xF0\x9F\x98\x80"));  /* emoji, 4 bytes */
    assert_false(intake_text_ok("\xE5\x81"));         /* cut short */
    assert_false(intake_text_ok("\xF4\x90\x80\x80")); /* past U+10FFFF */
    assert_false(intake_text_ok("a\x1b"));
}

static void test_status(void **state)
{
    (void)state;
    assert_string_equal(intake_open311_status("received"), "open");
    assert_string_equal(intake_open311_status("escalated"), "open");
    assert_string_equal(intake_open311_status("reopened"), "open");
    assert_string_equal(intake_open311_status("resolved"), "closed");
    assert_string_equal(intake_open311_status("confirmed"), "closed");
    bool open, closed;
    assert_true(intake_open311_status_list("open", &open, &closed));
    assert_true(open && !closed);
    assert_true(intake_open311_status_list("closed,open", &open, &closed));
    assert_true(open && closed);
    assert_false(intake_open311_status_list("", &open, &closed));
    assert_false(intake_open311_status_list("open,", &open, &closed));
    assert_false(intake_open311_status_list("pending", &open, &closed));
    assert_false(intake_open311_status_list("open,,closed", &open, &closed));
}

/* Coordinates print as given in JSON and XML alike, not as their nearest
 * double (31.300000000000001). */
static void test_real_digits(void **state)
{
    (void)state;
    json_t *v = json_pack("[{s:f, s:f, s:s}]", "lat", 31.3, "long", 118.0234567, "x", "地");
    size_t len;
    char *text = intake_json_text(v, &len);
    assert_string_equal(text, "[{\"lat\":31.3,\"long\":118.0234567,\"x\":\"地\"}]\n");
    assert_int_equal(len, strlen(text));
    free(text);
    char *doc = intake_xml_document("service_requests", v, &len);
    assert_non_null(strstr(doc, "<lat>31.3</lat>"));
    assert_non_null(strstr(doc, "<long>118.0234567</long>"));
    free(doc);
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_form_basic),
        cmocka_unit_test(test_form_utf8_and_empty),
        cmocka_unit_test(test_form_refusals),
        cmocka_unit_test(test_form_field_cap),
        cmocka_unit_test(test_post_check),
        cmocka_unit_test(test_form_refusal_is_text),
        cmocka_unit_test(test_form_binary_length),
        cmocka_unit_test(test_xml_escape),
        cmocka_unit_test(test_xml_document),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_text_ok),
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_real_digits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
