/* test_alliance_validate: the pure checks of hl-alliance (services/alliance/
 * validate.c) — what an ItemEscalated must hold to go on an agenda, the
 * agenda title made from an item without one, and the JSON bodies of
 * POST /v1/meetings/{id}/outcomes and /held. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "alliance.h"

#include <string.h>

#define S_ITEM_ID "5aad146d-9b43-4955-a487-90078900df9e"

static Hl__ItemEscalated s_item(void)
{
    Hl__ItemEscalated e = HL__ITEM_ESCALATED__INIT;
    e.item_id = S_ITEM_ID;
    e.title = "主干道占道经营";
    e.body = "早晚高峰摊点占道，行人只能走机动车道";
    e.category = "market";
    e.org_unit = "cp001";
    e.has_level = e.has_appeal_count = 1;
    e.level = 3;
    e.appeal_count = 12;
    e.reason = "large";
    return e;
}

static void s_refused(const Hl__ItemEscalated *e, const char *want)
{
    char why[160] = "";
    assert_false(alliance_escalation_check(e, why, sizeof why));
    if (!strstr(why, want))
        print_error("reason \"%s\" lacks \"%s\"\n", why, want);
    assert_non_null(strstr(why, want));
}

static void test_escalation_valid(void **state)
{
    (void)state;
    char why[160];
    Hl__ItemEscalated e = s_item();
    assert_true(alliance_escalation_check(&e, why, sizeof why));
    /* Only item_id and some text are needed. */
    Hl__ItemEscalated bare = HL__ITEM_ESCALATED__INIT;
    bare.item_id = S_ITEM_ID;
    bare.body = "老旧宿舍楼漏雨\n楼梯破损";
    assert_true(alliance_escalation_check(&bare, why, sizeof why));
    bare.body = NULL;
    bare.title = "t";
    assert_true(alliance_escalation_check(&bare, why, sizeof why));
}

static void test_escalation_refused(void **state)
{
    (void)state;
    s_refused(NULL, "not an ItemEscalated");
    Hl__ItemEscalated e = s_item();
    e.item_id = NULL;
    s_refused(&e, "item_id is missing");
    e.item_id = "item-7";
    s_refused(&e, "item_id is not a UUID");
    e = s_item();
    e.title = e.body = NULL;
    s_refused(&e, "neither title nor body");
    e.title = e.body = "";
    s_refused(&e, "neither title nor body");
    e = s_item();
    e.title = "line\nbreak";
    s_refused(&e, "title contains control characters");
    e = s_item();
    e.level = -1;
    s_refused(&e, "level -1 is out of range");
    e = s_item();
    e.appeal_count = -3;
    s_refused(&e, "appeal_count -3 is negative");
    e = s_item();
    e.org_unit = "a-code-far-longer-than-thirty-two-chars";
    s_refused(&e, "org_unit is too long");
    e = s_item();
    e.body = "bad \xff byte";
    s_refused(&e, "body is not valid UTF-8");
    e = s_item();
    e.title = "   ";
    s_refused(&e, "title is blank");
    char long_title[202];
    memset(long_title, 't', 201);
    long_title[201] = '\0';
    e = s_item();
    e.title = long_title;
    s_refused(&e, "title is too long");
}

/* The typed handler's check: NULL, or the dead-letter reason. */
static void test_escalation_problem(void **state)
{
    (void)state;
    Hl__ItemEscalated e = s_item();
    assert_null(alliance_escalation_problem(&e));
    e.level = -1;
    assert_string_equal(alliance_escalation_problem(&e),
                        "ItemEscalated refused: level -1 is out of range (0 to 100)");
}

static void s_title(const char *title, const char *body, const char *want)
{
    Hl__ItemEscalated e = HL__ITEM_ESCALATED__INIT;
    e.title = (char *)title;
    e.body = (char *)body;
    char out[ALLIANCE_TITLE_MAX * 4 + 1];
    alliance_item_title(&e, out, sizeof out);
    if (strcmp(out, want) != 0)
        print_error("got \"%s\", want \"%s\"\n", out, want);
    assert_string_equal(out, want);
}

static void test_item_title(void **state)
{
    (void)state;
    s_title("主干道占道经营", "whatever", "主干道占道经营");
    s_title("", "short body", "short body");
    s_title(NULL, "two\nlines\there  ", "two lines here");
    /* 60 characters are kept whole; one more is cut with an ellipsis. */
    char sixty[3 * 61 + 1] = "";
    for (int i = 0; i < 60; i++)
        strcat(sixty, "楼");
    s_title(NULL, sixty, sixty);
    char sixty_one[3 * 62 + 1];
    snprintf(sixty_one, sizeof sixty_one, "%s漏", sixty);
    char want[3 * 62 + 1];
    snprintf(want, sizeof want, "%s…", sixty);
    s_title(NULL, sixty_one, want);
    /* A small buffer is never overrun and ends on a character boundary. */
    Hl__ItemEscalated e = HL__ITEM_ESCALATED__INIT;
    e.body = sixty;
    char small[11];
    alliance_item_title(&e, small, sizeof small);
    assert_true(strlen(small) < sizeof small);
    assert_null(hl_text_problem(small, 60, true, false));
}

static void s_outcome_refused(const char *json, const char *want_field, const char *want_msg)
{
    /* NUL is allowed here so the parser's own NUL check is reached. */
    json_t *j = json_loads(json, JSON_ALLOW_NUL, NULL);
    assert_non_null(j);
    alliance_outcome_t o;
    hl_refusal_t why = {0};
    bool ok = alliance_outcome_parse(j, &o, &why) == 0;
    /* The wording is hl_req's (tests/unit/test_req.c); the field is ours. */
    (void)want_msg;
    if (ok || strcmp(why.field, want_field) != 0)
        print_error("%s: ok=%d field=%s msg=%s\n", json, ok, why.field, why.message);
    assert_false(ok);
    assert_string_equal(why.field, want_field);
    assert_int_equal(why.status, 422);
    assert_true(strlen(why.message) > 0);
    json_decref(j);
}

static void test_outcome_body(void **state)
{
    (void)state;
    json_t *j = json_loads("{\"item_id\":\"" S_ITEM_ID "\",\"outcome\":\"设置临时摊区\","
                           "\"unit\":\"mu017\"}",
                           0, NULL);
    alliance_outcome_t o;
    hl_refusal_t why;
    assert_int_equal(alliance_outcome_parse(j, &o, &why), 0);
    assert_string_equal(o.item_id, S_ITEM_ID);
    assert_string_equal(o.outcome, "设置临时摊区");
    assert_string_equal(o.unit, "mu017");
    json_decref(j);
    j = json_loads("{\"item_id\":\"" S_ITEM_ID "\",\"outcome\":\"line one\\nline two\","
                   "\"unit\":null}",
                   0, NULL);
    assert_int_equal(alliance_outcome_parse(j, &o, &why), 0);
    assert_null(o.unit);
    json_decref(j);

    s_outcome_refused("{\"outcome\":\"x\"}", "item_id", "item_id is missing");
    s_outcome_refused("{\"item_id\":\"nope\",\"outcome\":\"x\"}", "item_id", "UUID");
    s_outcome_refused("{\"item_id\":7,\"outcome\":\"x\"}", "item_id", "must be a string");
    s_outcome_refused("{\"item_id\":\"" S_ITEM_ID "\"}", "outcome", "outcome is missing");
    s_outcome_refused("{\"item_id\":\"" S_ITEM_ID "\",\"outcome\":\"\"}", "outcome",
                      "outcome is empty");
    s_outcome_refused("{\"item_id\":\"" S_ITEM_ID "\",\"outcome\":\" \\n \"}", "outcome",
                      "outcome is blank");
    s_outcome_refused("{\"item_id\":\"" S_ITEM_ID "\",\"outcome\":null}", "outcome",
                      "outcome is missing");
    s_outcome_refused("{\"item_id\":\"" S_ITEM_ID "\",\"outcome\":\"x\",\"unit\":\"\"}", "unit",
                      "must not be empty");
    s_outcome_refused("{\"item_id\":\"" S_ITEM_ID "\",\"outcome\":\"x\",\"unit\":17}", "unit",
                      "must be a string");
    s_outcome_refused("{\"item_id\":\"" S_ITEM_ID "\",\"outcome\":\"x\",\"by\":\"me\"}", "by",
                      "unknown field \"by\"");
    s_outcome_refused("{\"item_id\":\"" S_ITEM_ID "\",\"outcome\":\"a\\u0000b\"}", "outcome",
                      "NUL");
}

/* Parses a held body; returns whether it was accepted, the field otherwise. */
static bool s_held(const char *text, alliance_held_t *h, const char **field, char *msg)
{
    static hl_refusal_t why;
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    assert_true(!text || j);
    memset(&why, 0, sizeof why);
    bool ok = alliance_held_parse(j, h, &why) == 0;
    *field = why.field;
    snprintf(msg, 200, "%.150s", why.message);
    json_decref(j);
    return ok;
}

static void test_held_body(void **state)
{
    (void)state;
    alliance_held_t h;
    const char *field;
    char msg[200];
    assert_true(s_held(NULL, &h, &field, msg));
    assert_null(h.minutes);
    assert_int_equal(json_array_size(h.decisions), 0);
    json_decref(h.decisions);
    assert_true(s_held("{}", &h, &field, msg));
    json_decref(h.decisions);
    assert_false(s_held("{\"minutes\":5}", &h, &field, msg));
    assert_string_equal(field, "minutes");
    json_decref(h.decisions);
    assert_false(s_held("{\"minute\":\"typo\"}", &h, &field, msg));
    assert_string_equal(field, "minute");
    json_decref(h.decisions);
    /* A full set of minutes: each action gets an id and its deadline in full. */
    assert_true(s_held("{\"minutes\":\"一、占道经营\",\"attendance\":[\"mu001\",\"mu004\"],"
                       "\"decisions\":[{\"item_id\":\"" S_ITEM_ID "\",\"kind\":\"assigned\","
                       "\"text\":\"设摊区\",\"tags\":[\"discuss_together\",\"solve_together\"],"
                       "\"actions\":[{\"unit\":\"mu001\",\"task\":\"划线\",\"due_at\":"
                       "\"2027-01-15\"}]}]}",
                       &h, &field, msg));
    json_t *a = json_array_get(json_object_get(json_array_get(h.decisions, 0), "actions"), 0);
    assert_string_equal(json_string_value(json_object_get(a, "due_at")),
                        "2027-01-15T23:59:59+08:00");
    assert_true(hl_uuid_valid(json_string_value(json_object_get(a, "id"))));
    json_decref(h.decisions);
    static const struct {
        const char *body, *field;
    } bad[] = {
        {"{\"attendance\":\"mu001\"}", "attendance"},
        {"{\"attendance\":[\"mu 001\"]}", "attendance[0]"},
        {"{\"decisions\":{}}", "decisions"},
        {"{\"decisions\":[5]}", "decisions[0]"},
        {"{\"decisions\":[{\"item_id\":\"x\",\"kind\":\"resolved\",\"text\":\"t\"}]}",
         "decisions[0].item_id"},
        {"{\"decisions\":[{\"item_id\":\"" S_ITEM_ID "\",\"kind\":\"maybe\",\"text\":\"t\"}]}",
         "decisions[0].kind"},
        {"{\"decisions\":[{\"item_id\":\"" S_ITEM_ID "\",\"kind\":\"resolved\"}]}",
         "decisions[0].text"},
        {"{\"decisions\":[{\"item_id\":\"" S_ITEM_ID
         "\",\"kind\":\"resolved\",\"text\":\"t\",\"tags\":[\"co_build\",\"gossip\"]}]}",
         "decisions[0].tags[1]"},
        {"{\"decisions\":[{\"item_id\":\"" S_ITEM_ID "\",\"kind\":\"assigned\",\"text\":\"t\"}]}",
         "decisions[0].actions"},
        {"{\"decisions\":[{\"item_id\":\"" S_ITEM_ID "\",\"kind\":\"assigned\",\"text\":\"t\","
         "\"actions\":[{\"unit\":\"mu001\",\"task\":\"x\",\"due_at\":\"next week\"}]}]}",
         "decisions[0].actions[0].due_at"},
        {"{\"decisions\":[{\"item_id\":\"" S_ITEM_ID "\",\"kind\":\"assigned\",\"text\":\"t\","
         "\"actions\":[{\"unit\":\"mu001\",\"due_at\":\"2027-01-01\"}]}]}",
         "decisions[0].actions[0].task"},
        {"{\"decisions\":[{\"item_id\":\"" S_ITEM_ID "\",\"kind\":\"board\",\"text\":\"t\","
         "\"actions\":[{\"unit\":\"mu001\",\"task\":\"x\",\"due_at\":\"2027-01-01\"}]}]}",
         "decisions[0].actions"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(s_held(bad[i].body, &h, &field, msg));
        assert_string_equal(field, bad[i].field);
        json_decref(h.decisions);
    }
}

static void test_inbound_body(void **state)
{
    (void)state;
    alliance_inbound_t in;
    hl_refusal_t why;
    json_t *j = json_loads("{\"type\":\"large_item.claim\",\"data\":{\"item_id\":\"" S_ITEM_ID
                           "\",\"unit\":\"mu001\"}}",
                           0, NULL);
    assert_int_equal(alliance_inbound_parse(j, &in, &why), 0);
    assert_string_equal(in.kind, "claim");
    json_decref(j);
    j = json_loads("{\"type\":\"large_item.progress\",\"data\":{\"item_id\":\"" S_ITEM_ID
                   "\",\"unit\":\"mu001\"}}",
                   0, NULL);
    assert_int_equal(alliance_inbound_parse(j, &in, &why), -1);
    assert_string_equal(why.field, "data.note");
    json_decref(j);
    j = json_loads("{\"type\":\"large_item.steal\",\"data\":{}}", 0, NULL);
    assert_int_equal(alliance_inbound_parse(j, &in, &why), -1);
    assert_string_equal(why.field, "type");
    json_decref(j);
}

static void test_domain_and_numbers(void **state)
{
    (void)state;
    assert_true(alliance_domain_wellformed("city_management"));
    assert_true(alliance_domain_wellformed("audit"));
    assert_false(alliance_domain_wellformed(NULL));
    assert_false(alliance_domain_wellformed(""));
    assert_false(alliance_domain_wellformed("City"));
    assert_false(alliance_domain_wellformed("city management"));
    assert_false(alliance_domain_wellformed("a'--"));
}

static void test_text_problem(void **state)
{
    (void)state;
    assert_null(hl_text_problem("a\tb\nc", 10, true, true));
    assert_string_equal(hl_text_problem("a\tb", 10, true, false), "contains control characters");
    assert_string_equal(hl_text_problem("\xe3\x80\x80 \n", 10, true, true), "is blank");
    assert_string_equal(hl_text_problem("\xf4\x90\x80\x80", 10, true, false), "is not valid UTF-8");
    assert_string_equal(hl_text_problem("\xc1\xbf", 10, true, false), "is not valid UTF-8");
    assert_string_equal(hl_text_problem(NULL, 10, true, false), "is missing");
    assert_null(hl_text_problem(NULL, 10, false, false));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escalation_valid),   cmocka_unit_test(test_escalation_refused),
        cmocka_unit_test(test_escalation_problem), cmocka_unit_test(test_item_title),
        cmocka_unit_test(test_outcome_body),       cmocka_unit_test(test_held_body),
        cmocka_unit_test(test_inbound_body),       cmocka_unit_test(test_domain_and_numbers),
        cmocka_unit_test(test_text_problem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
