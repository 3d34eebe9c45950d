/* test_req: the request checks and refusals every daemon shares (hl_req). */
#include "hl_req.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

typedef struct {
    const char *title;          /* TEXT */
    const char *body;           /* TEXT, multiline */
    const char *size;           /* TEXT, allowed values */
    const char *code;           /* TEXT with a check */
    int64_t version;            /* INT */
    double lat;                 /* NUMBER inside "location" */
    bool urgent;                /* BOOL */
    char into[HL_UUID_LEN + 1]; /* UUID */
    json_t *ids;                /* ARRAY of UUIDs */
    const char *contact_name;   /* TEXT inside "contact" */
} s_form_t;

static const char *s_code_check(const char *s)
{
    return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789") == strlen(s)
               ? NULL
               : "must be an org unit code, e.g. cp006";
}

static const char *const s_sizes[] = {"wish", "small", "large", NULL};
static const hl_req_field_t s_location[] = {
    {.name = "lat", .type = HL_REQ_NUMBER, .min = -90, .max = 90, HL_REQ_AT(s_form_t, lat)}, {0}};
static const hl_req_field_t s_contact[] = {
    {.name = "name", .type = HL_REQ_TEXT, .max = 5, HL_REQ_AT(s_form_t, contact_name)}, {0}};
static const hl_req_field_t s_uuid_entry[] = {{.name = "id", .type = HL_REQ_UUID}, {0}};
static const hl_req_field_t s_spec[] = {
    {.name = "title",
     .type = HL_REQ_TEXT,
     .flags = HL_REQ_REQUIRED,
     .max = 10,
     HL_REQ_AT(s_form_t, title)},
    {.name = "body",
     .type = HL_REQ_TEXT,
     .flags = HL_REQ_MULTILINE,
     .max = 100,
     HL_REQ_AT(s_form_t, body)},
    {.name = "size", .type = HL_REQ_TEXT, .max = 8, .allowed = s_sizes, HL_REQ_AT(s_form_t, size)},
    {.name = "code",
     .type = HL_REQ_TEXT,
     .max = 32,
     .check = s_code_check,
     HL_REQ_AT(s_form_t, code)},
    {.name = "version", .type = HL_REQ_INT, .min = 1, .max = 1000, HL_REQ_AT(s_form_t, version)},
    {.name = "urgent", .type = HL_REQ_BOOL, HL_REQ_AT(s_form_t, urgent)},
    {.name = "into",
     .type = HL_REQ_UUID,
     .hint = "must be an item id (UUID)",
     HL_REQ_AT(s_form_t, into)},
    {.name = "appeal_ids",
     .type = HL_REQ_ARRAY,
     .min = 1,
     .max = 3,
     .fields = s_uuid_entry,
     HL_REQ_AT(s_form_t, ids)},
    {.name = "location", .type = HL_REQ_OBJECT, .fields = s_location},
    {.name = "contact", .type = HL_REQ_OBJECT, .fields = s_contact},
    {0}};

/* Checks `text` against s_spec; returns the status (0 accepted). */
static int s_check(const char *text, s_form_t *f, hl_refusal_t *why)
{
    json_error_t err;
    json_t *obj = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    assert_non_null(obj);
    memset(f, 0, sizeof *f);
    memset(why, 0, sizeof *why);
    int rc = hl_req_check(obj, s_spec, f, why);
    assert_true(rc == 0 || rc == -1);
    assert_int_equal(rc == 0, why->status == 0);
    /* Stored strings point into obj: keep it alive for the test's length. */
    static json_t *keep[64];
    static size_t nkeep;
    if (nkeep == 64) {
        for (size_t i = 0; i < nkeep; i++)
            json_decref(keep[i]);
        nkeep = 0;
    }
    keep[nkeep++] = obj;
    return why->status;
}

static void test_accepts_and_stores(void **state)
{
    (void)state;
    s_form_t f;
    hl_refusal_t why;
    assert_int_equal(s_check("{\"title\":\"春江\",\"body\":\"a\\nb\",\"size\":\"small\","
                             "\"code\":\"cp006\",\"version\":7,\"urgent\":true,"
                             "\"into\":\"0A0B0C0D-0000-4000-8000-00000000000F\","
                             "\"appeal_ids\":[\"0a0b0c0d-0000-4000-8000-000000000001\"],"
                             "\"location\":{\"lat\":31.5},\"contact\":{\"name\":\"王\"}}",
                             &f, &why),
                     0);
    assert_string_equal(f.title, "春江");
    assert_string_equal(f.body, "a\nb");
    assert_string_equal(f.size, "small");
    assert_string_equal(f.code, "cp006");
    assert_int_equal(f.version, 7);
    assert_true(f.urgent);
    assert_string_equal(f.into, "0a0b0c0d-0000-4000-8000-00000000000f"); /* lower-cased */
    assert_int_equal(json_array_size(f.ids), 1);
    assert_true(f.lat == 31.5);
    assert_string_equal(f.contact_name, "王");
}

static void test_absent_and_null_leave_defaults(void **state)
{
    (void)state;
    s_form_t f;
    hl_refusal_t why;
    assert_int_equal(s_check("{\"title\":\"t\",\"body\":null}", &f, &why), 0);
    assert_null(f.body);
    assert_int_equal(f.version, 0);
    assert_string_equal(f.into, "");
}

/* One refusal: status, field and the words it must contain. */
static void s_refused(const char *text, int status, const char *field, const char *words)
{
    s_form_t f;
    hl_refusal_t why;
    assert_int_equal(s_check(text, &f, &why), status);
    assert_string_equal(why.field, field);
    if (!strstr(why.message, words))
        fail_msg("\"%s\" does not say \"%s\"", why.message, words);
}

static void test_refusals_name_the_field(void **state)
{
    (void)state;
    s_refused("[1]", 400, "", "must be a JSON object");
    s_refused("{\"title\":\"t\",\"colour\":1}", 422, "colour", "unknown field \"colour\"");
    s_refused("{}", 422, "title", "title is required");
    s_refused("{\"title\":null}", 422, "title", "title is required");
    s_refused("{\"title\":5}", 422, "title", "title must be a string");
    s_refused("{\"title\":\"\"}", 422, "title", "title is empty");
    s_refused("{\"title\":\"  \"}", 422, "title", "title is blank");
    s_refused("{\"title\":\"\\u3000\"}", 422, "title", "title is blank");
    s_refused("{\"title\":\"a\\u0000b\"}", 422, "title", "must not contain NUL");
    s_refused("{\"title\":\"a\\tb\"}", 422, "title", "title contains control characters");
    s_refused("{\"title\":\"a\\u0085b\"}", 422, "title", "control characters"); /* C1 */
    s_refused("{\"title\":\"t\",\"body\":\"a\\u001bb\"}", 422, "body", "control characters");
    s_refused("{\"title\":\"12345678901\"}", 422, "title",
              "title is too long (the limit is 10 characters)");
    s_refused("{\"title\":\"t\",\"size\":\"huge\"}", 422, "size",
              "size must be one of: wish, small, large");
    s_refused("{\"title\":\"t\",\"code\":\"CP 6\"}", 422, "code",
              "code must be an org unit code, e.g. cp006");
    s_refused("{\"title\":\"t\",\"version\":0}", 422, "version",
              "version must be an integer from 1 to 1000");
    s_refused("{\"title\":\"t\",\"version\":1.5}", 422, "version", "must be an integer");
    s_refused("{\"title\":\"t\",\"version\":\"7\"}", 422, "version", "must be an integer");
    s_refused("{\"title\":\"t\",\"urgent\":1}", 422, "urgent", "urgent must be true or false");
    s_refused("{\"title\":\"t\",\"into\":\"x\"}", 422, "into", "into must be an item id (UUID)");
    s_refused("{\"title\":\"t\",\"appeal_ids\":[]}", 422, "appeal_ids", "1 to 3 entries");
    s_refused("{\"title\":\"t\",\"appeal_ids\":\"a\"}", 422, "appeal_ids", "must be an array");
    s_refused("{\"title\":\"t\",\"appeal_ids\":[\"0a0b0c0d-0000-4000-8000-000000000001\",7]}", 422,
              "appeal_ids[1]", "appeal_ids[1] must be a UUID");
    s_refused("{\"title\":\"t\",\"appeal_ids\":[null]}", 422, "appeal_ids[0]", "must not be null");
    s_refused("{\"title\":\"t\",\"location\":[]}", 422, "location", "must be an object");
    s_refused("{\"title\":\"t\",\"location\":{\"lat\":91}}", 422, "location.lat",
              "location.lat must be a number from -90 to 90");
    s_refused("{\"title\":\"t\",\"location\":{\"lon\":1}}", 422, "location.lon",
              "unknown field \"location.lon\"");
    s_refused("{\"title\":\"t\",\"contact\":{\"name\":\"123456\"}}", 422, "contact.name",
              "contact.name is too long");
}

static void test_unknown_field_comes_first(void **state)
{
    (void)state;
    /* Unknown keys are refused before a missing required one is noticed. */
    s_refused("{\"x\":1}", 422, "x", "unknown field");
}

static void test_invalid_utf8_in_text(void **state)
{
    (void)state;
    /* jansson refuses bad UTF-8 in JSON; a form or query does not. */
    hl_req_pair_t pairs[] = {{"title", "a\xc0\xafz"}};
    s_form_t f = {0};
    hl_refusal_t why;
    assert_int_equal(hl_req_check_pairs(pairs, 1, s_spec, &f, &why), -1);
    assert_int_equal(why.status, 400);
    assert_string_equal(why.field, "title");
    assert_string_equal(why.message, "title is not valid UTF-8");
}

static void test_pairs(void **state)
{
    (void)state;
    s_form_t f = {0};
    hl_refusal_t why;
    hl_req_pair_t ok[] = {{"title", "t"}, {"version", "12"}, {"urgent", "false"}, {"body", ""}};
    assert_int_equal(hl_req_check_pairs(ok, 4, s_spec, &f, &why), 0);
    assert_string_equal(f.title, "t");
    assert_int_equal(f.version, 12);
    assert_false(f.urgent);
    assert_null(f.body); /* empty counts as absent */

    hl_req_pair_t unknown[] = {{"title", "t"}, {"colour", "red"}};
    assert_int_equal(hl_req_check_pairs(unknown, 2, s_spec, &f, &why), -1);
    assert_int_equal(why.status, 400);
    assert_string_equal(why.field, "colour");

    hl_req_pair_t twice[] = {{"title", "t"}, {"title", "u"}};
    assert_int_equal(hl_req_check_pairs(twice, 2, s_spec, &f, &why), -1);
    assert_string_equal(why.message, "title is given more than once");

    hl_req_pair_t empty_required[] = {{"title", ""}};
    assert_int_equal(hl_req_check_pairs(empty_required, 1, s_spec, &f, &why), -1);
    assert_string_equal(why.message, "title is required");

    const char *bad_ints[] = {"12x", "", "-", "+3", " 3", "0x10", "1234567890123456789"};
    for (size_t i = 0; i < sizeof bad_ints / sizeof bad_ints[0]; i++) {
        hl_req_pair_t p[] = {{"title", "t"}, {"version", bad_ints[i]}};
        int rc = hl_req_check_pairs(p, 2, s_spec, &f, &why);
        if (bad_ints[i][0] == '\0') {
            assert_int_equal(rc, 0); /* empty: absent */
            continue;
        }
        assert_int_equal(rc, -1);
        assert_string_equal(why.field, "version");
    }
    hl_req_pair_t bool_bad[] = {{"title", "t"}, {"urgent", "yes"}};
    assert_int_equal(hl_req_check_pairs(bool_bad, 2, s_spec, &f, &why), -1);
    assert_string_equal(why.message, "urgent must be true or false");
}

typedef struct {
    double lat; /* NUMBER */
} s_num_t;

static void test_pairs_numbers(void **state)
{
    (void)state;
    static const hl_req_field_t spec[] = {
        {.name = "lat", .type = HL_REQ_NUMBER, .min = -90, .max = 90, HL_REQ_AT(s_num_t, lat)},
        {0}};
    const char *bad[] = {"nan", "inf", "0x1p3", "1e999", "90.5", "1 ", "--1"};
    s_num_t n = {0};
    hl_refusal_t why;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hl_req_pair_t p[] = {{"lat", bad[i]}};
        assert_int_equal(hl_req_check_pairs(p, 1, spec, &n, &why), -1);
        assert_string_equal(why.message, "lat must be a number from -90 to 90");
    }
    hl_req_pair_t p[] = {{"lat", "-31.25e0"}};
    assert_int_equal(hl_req_check_pairs(p, 1, spec, &n, &why), 0);
    assert_true(n.lat == -31.25);
}

static const char *s_lookup(const void *src, const char *name)
{
    return strcmp(name, "version") == 0 ? (const char *)src : NULL;
}

static void test_text_lookup(void **state)
{
    (void)state;
    static const hl_req_field_t spec[] = {
        {.name = "version", .type = HL_REQ_INT, .min = 1, .max = 500, HL_REQ_AT(s_form_t, version)},
        {0}};
    s_form_t f = {.version = 50};
    hl_refusal_t why;
    assert_int_equal(hl_req_check_text(s_lookup, NULL, spec, &f, &why), 0);
    assert_int_equal(f.version, 50); /* absent: the default stands */
    assert_int_equal(hl_req_check_text(s_lookup, "501", spec, &f, &why), -1);
    assert_int_equal(why.status, 400);
    assert_string_equal(why.message, "version must be an integer from 1 to 500");
    assert_int_equal(hl_req_check_text(s_lookup, "-2", spec, &f, &why), -1);
    assert_int_equal(hl_req_check_text(s_lookup, "500", spec, &f, &why), 0);
    assert_int_equal(f.version, 500);
}

static void test_ids(void **state)
{
    (void)state;
    char id[HL_REQ_ID_MAX];
    hl_refusal_t why;
    assert_int_equal(
        hl_req_id("0A0B0C0D-0000-4000-8000-00000000000F", HL_REQ_ID_UUID, "item", id, &why), 0);
    assert_string_equal(id, "0a0b0c0d-0000-4000-8000-00000000000f");
    /* Malformed and unknown ids get one answer. */
    assert_int_equal(hl_req_id("nope", HL_REQ_ID_UUID, "item", id, &why), -1);
    hl_refusal_t unknown;
    hl_refuse_unknown_id(&unknown, HL_REQ_ID_UUID, "item");
    assert_int_equal(why.status, 404);
    assert_int_equal(unknown.status, 404);
    assert_string_equal(why.field, "id");
    assert_string_equal(why.message, unknown.message);
    assert_string_equal(why.message, "no item has this id");
    assert_int_equal(hl_req_id(NULL, HL_REQ_ID_UUID, "item", id, &why), -1);

    char code[HL_TRACKING_LEN + 1];
    hl_tracking_new(code);
    assert_int_equal(hl_req_id(code, HL_REQ_ID_TRACKING, "appeal", id, &why), 0);
    assert_string_equal(id, code);
    assert_int_equal(hl_req_id("HL123", HL_REQ_ID_TRACKING, "appeal", id, &why), -1);
    assert_string_equal(why.field, "tracking_code");
    assert_string_equal(why.message, "no appeal has this tracking code");
}

static void test_refusal_json_and_repair(void **state)
{
    (void)state;
    hl_refusal_t why;
    assert_int_equal(hl_refuse(&why, 422, "ti\xfftle", "bad \"%s\"", "x\xc3"), -1);
    assert_string_equal(why.field, "ti?tle");
    assert_string_equal(why.message, "bad \"x?\"");
    json_t *j = hl_refusal_json(&why);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "error"), "status")),
                     422);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "field")),
                        "ti?tle");
    json_decref(j);
    hl_refuse(&why, 400, NULL, "no field");
    j = hl_refusal_json(&why);
    assert_null(json_object_get(json_object_get(j, "error"), "field"));
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts_and_stores),
        cmocka_unit_test(test_absent_and_null_leave_defaults),
        cmocka_unit_test(test_refusals_name_the_field),
        cmocka_unit_test(test_unknown_field_comes_first),
        cmocka_unit_test(test_invalid_utf8_in_text),
        cmocka_unit_test(test_pairs),
        cmocka_unit_test(test_pairs_numbers),
        cmocka_unit_test(test_text_lookup),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_refusal_json_and_repair),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
