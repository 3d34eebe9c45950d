/* test_triage_requests: the checks of the commissioner's commands
 * (override, merge, split) and of a council hearing — pure functions over
 * the JSON body, through hl_req's field tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "triage.h"

#define ITEM "aaaaaaaa-0000-4000-8000-000000000001"

/* Checks `text` as command `kind` on ITEM; returns the status (0 accepted). */
static int s_cmd(triage_cmd_kind_t kind, const char *text, triage_cmd_t *c, hl_refusal_t *why)
{
    json_t *body = json_loads(text, JSON_DECODE_ANY, NULL);
    assert_non_null(body);
    memset(c, 0, sizeof *c);
    memset(why, 0, sizeof *why);
    c->kind = kind;
    strcpy(c->item_id, ITEM);
    int rc = triage_cmd_check(body, c, why);
    assert_int_equal(rc == 0, why->status == 0);
    triage_cmd_close(c);
    json_decref(body); /* only status and field are looked at after this */
    return why->status;
}

static void s_refused(triage_cmd_kind_t kind, const char *text, const char *field)
{
    triage_cmd_t c;
    hl_refusal_t why;
    assert_int_equal(s_cmd(kind, text, &c, &why), 422);
    assert_string_equal(why.field, field);
}

static void test_override(void **state)
{
    (void)state;
    triage_cmd_t c;
    hl_refusal_t why;
    assert_int_equal(s_cmd(TRIAGE_CMD_OVERRIDE,
                           "{\"size\":\"large\",\"reason\":\"整片停了\",\"version\":3}", &c, &why),
                     0);
    s_refused(TRIAGE_CMD_OVERRIDE, "{\"reason\":\"r\",\"version\":3}", "size"); /* nothing to do */
    s_refused(TRIAGE_CMD_OVERRIDE, "{\"size\":\"large\",\"reason\":\"r\"}", "version");
    s_refused(TRIAGE_CMD_OVERRIDE, "{\"size\":\"huge\",\"reason\":\"r\",\"version\":3}", "size");
    s_refused(TRIAGE_CMD_OVERRIDE, "{\"size\":\"large\",\"version\":3}", "reason");
    s_refused(TRIAGE_CMD_OVERRIDE, "{\"size\":\"large\",\"reason\":\"a\\u0007b\",\"version\":3}",
              "reason"); /* control characters: refused now, as everywhere */
    s_refused(TRIAGE_CMD_OVERRIDE, "{\"size\":\"large\",\"reason\":\"r\",\"version\":0}",
              "version");
    s_refused(TRIAGE_CMD_OVERRIDE, "{\"size\":\"large\",\"reason\":\"r\",\"version\":3,\"into\":1}",
              "into"); /* merge's field is unknown here */
    assert_int_equal(s_cmd(TRIAGE_CMD_OVERRIDE, "[]", &c, &why), 400);
}

static void test_merge(void **state)
{
    (void)state;
    triage_cmd_t c;
    hl_refusal_t why;
    assert_int_equal(
        s_cmd(TRIAGE_CMD_MERGE,
              "{\"into\":\"AAAAAAAA-0000-4000-8000-000000000002\",\"reason\":\"同一件事\"}", &c,
              &why),
        0);
    assert_string_equal(c.into, "aaaaaaaa-0000-4000-8000-000000000002"); /* lower-cased */
    s_refused(TRIAGE_CMD_MERGE, "{\"into\":\"" ITEM "\",\"reason\":\"r\"}", "into"); /* itself */
    s_refused(TRIAGE_CMD_MERGE, "{\"into\":\"nope\",\"reason\":\"r\"}", "into");
    s_refused(TRIAGE_CMD_MERGE, "{\"reason\":\"r\"}", "into");
}

static void test_split(void **state)
{
    (void)state;
    json_t *body = json_loads("{\"appeal_ids\":[\"BBBBBBBB-0000-4000-8000-000000000001\","
                              "\"bbbbbbbb-0000-4000-8000-000000000002\"],\"reason\":\"两件事\"}",
                              0, NULL);
    triage_cmd_t c = {.kind = TRIAGE_CMD_SPLIT, .item_id = ITEM};
    hl_refusal_t why;
    assert_int_equal(triage_cmd_check(body, &c, &why), 0);
    assert_int_equal(c.n_split, 2);
    assert_string_equal(c.split[0], "bbbbbbbb-0000-4000-8000-000000000001");
    triage_cmd_close(&c);
    json_decref(body);
    s_refused(TRIAGE_CMD_SPLIT, "{\"appeal_ids\":[],\"reason\":\"r\"}", "appeal_ids");
    s_refused(TRIAGE_CMD_SPLIT, "{\"appeal_ids\":[\"x\"],\"reason\":\"r\"}", "appeal_ids[0]");
    s_refused(TRIAGE_CMD_SPLIT,
              "{\"appeal_ids\":[\"bbbbbbbb-0000-4000-8000-000000000001\","
              "\"BBBBBBBB-0000-4000-8000-000000000001\"],\"reason\":\"r\"}",
              "appeal_ids[1]"); /* listed twice, whatever the case */
}

static int s_hearing(const char *text, hl_refusal_t *why)
{
    json_t *body = json_loads(text, 0, NULL);
    assert_non_null(body);
    triage_hearing_t h = {0};
    memset(why, 0, sizeof *why);
    int rc = triage_hearing_check(body, &h, why);
    if (rc == 0) {
        assert_non_null(h.attendees);
        assert_non_null(h.venue);
    }
    triage_hearing_close(&h);
    json_decref(body);
    return why->status;
}

static void test_hearing(void **state)
{
    (void)state;
    hl_refusal_t why;
    assert_int_equal(
        s_hearing("{\"venue\":\"晚茶议事厅\",\"heard_at\":\"2024-05-01T19:30:00+08:00\","
                  "\"attendees\":[\"party_branch\",\"owners_committee\"],"
                  "\"decision\":\"第一条\\n第二条\",\"outcome\":\"修好了\","
                  "\"due_date\":\"2024-05-31\"}",
                  &why),
        0);
    static const struct {
        const char *json, *field;
    } bad[] = {
        {"{\"attendees\":[\"a\"],\"decision\":\"d\",\"outcome\":\"o\"}", "venue"},
        {"{\"venue\":\"v\",\"attendees\":[],\"decision\":\"d\",\"outcome\":\"o\"}", "attendees"},
        {"{\"venue\":\"v\",\"attendees\":[\" \"],\"decision\":\"d\",\"outcome\":\"o\"}",
         "attendees[0]"},
        {"{\"venue\":\"v\\nw\",\"attendees\":[\"a\"],\"decision\":\"d\",\"outcome\":\"o\"}",
         "venue"}, /* one line */
        {"{\"venue\":\"v\",\"attendees\":[\"a\"],\"decision\":\"d\",\"outcome\":\"o\","
         "\"heard_at\":\"yesterday\"}",
         "heard_at"},
        {"{\"venue\":\"v\",\"attendees\":[\"a\"],\"decision\":\"d\",\"outcome\":\"o\","
         "\"due_date\":\"1969-12-31\"}",
         "due_date"},
        {"{\"venue\":\"v\",\"attendees\":[\"a\"],\"decision\":\"d\",\"outcome\":\"o\",\"x\":1}",
         "x"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(s_hearing(bad[i].json, &why), 422);
        assert_string_equal(why.field, bad[i].field);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_override),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_hearing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
