/* test_bounty_rules: the claim board's pure decisions (services/bounty/rules.c):
 * WishPosted checks, list filters, and who may claim, complete and review. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "bounty.h"

#define S_ITEM   "11111111-1111-4111-8111-111111111111"
#define S_APPEAL "22222222-2222-4222-8222-222222222222"

/* A WishPosted that passes every check. */
static Hl__WishPosted s_good_wish(void)
{
    Hl__WishPosted m = HL__WISH_POSTED__INIT;
    m.item_id = S_ITEM;
    m.appeal_id = S_APPEAL;
    m.title = "帮独居老人换灯泡";
    m.body = "3号楼王奶奶家客厅灯坏了";
    m.org_unit = "cp006";
    m.category = "elderly";
    return m;
}

static void test_status_names(void **state)
{
    (void)state;
    assert_int_equal(bounty_status_parse("open"), BOUNTY_OPEN);
    assert_int_equal(bounty_status_parse("claimed"), BOUNTY_CLAIMED);
    assert_int_equal(bounty_status_parse("completed"), BOUNTY_COMPLETED);
    assert_int_equal(bounty_status_parse("approved"), BOUNTY_APPROVED);
    assert_int_equal(bounty_status_parse("Open"), -1);
    assert_int_equal(bounty_status_parse(""), -1);
    assert_int_equal(bounty_status_parse(NULL), -1);
    for (int s = BOUNTY_OPEN; s <= BOUNTY_APPROVED; s++)
        assert_int_equal(bounty_status_parse(bounty_status_name((bounty_status_t)s)), s);
    assert_string_equal(bounty_status_name((bounty_status_t)42), "?");
}

static void test_utf8_len(void **state)
{
    (void)state;
    assert_int_equal(hl_utf8_len(""), 0);
    assert_int_equal(hl_utf8_len("abc"), 3);
    assert_int_equal(hl_utf8_len("微心愿"), 3);
    assert_int_equal(hl_utf8_len("a\xF0\x9F\x98\x80"), 2); /* U+1F600 */
    assert_int_equal(hl_utf8_len("\xC3"), -1);             /* truncated */
    assert_int_equal(hl_utf8_len("\x80"), -1);             /* lone continuation */
    assert_int_equal(hl_utf8_len("\xC0\xAF"), -1);         /* overlong '/' */
    assert_int_equal(hl_utf8_len("\xED\xA0\x80"), -1);     /* surrogate */
    assert_int_equal(hl_utf8_len("\xF4\x90\x80\x80"), -1); /* past U+10FFFF */
    assert_int_equal(hl_utf8_len("\xFF"), -1);
}

static void test_code_valid(void **state)
{
    (void)state;
    assert_true(bounty_code_valid("cp006"));
    assert_true(bounty_code_valid("mu250"));
    assert_true(bounty_code_valid("a"));
    assert_true(bounty_code_valid("01234567890123456789012345678901")); /* 32 */
    assert_false(bounty_code_valid("012345678901234567890123456789012"));
    assert_false(bounty_code_valid(""));
    assert_false(bounty_code_valid(NULL));
    assert_false(bounty_code_valid("cp 006"));
    assert_false(bounty_code_valid("cp'006"));
    assert_false(bounty_code_valid("小区"));
}

static void test_month_parse(void **state)
{
    (void)state;
    char out[11];
    assert_true(bounty_month_parse("2026-11", out));
    assert_string_equal(out, "2026-11-01");
    assert_true(bounty_month_parse("2000-01", out));
    assert_string_equal(out, "2000-01-01");
    assert_false(bounty_month_parse("2026-13", out));
    assert_false(bounty_month_parse("2026-00", out));
    assert_false(bounty_month_parse("1999-12", out));
    assert_false(bounty_month_parse("202611", out));
    assert_false(bounty_month_parse("2026-1", out));
    assert_false(bounty_month_parse("2026-11-01", out));
    assert_false(bounty_month_parse("2026/11", out));
    assert_false(bounty_month_parse("20x6-11", out));
    assert_false(bounty_month_parse("", out));
    assert_false(bounty_month_parse(NULL, out));
}

static void test_limit_parse(void **state)
{
    (void)state;
    assert_int_equal(bounty_limit_parse(NULL), BOUNTY_LIST_DEFAULT);
    assert_int_equal(bounty_limit_parse("1"), 1);
    assert_int_equal(bounty_limit_parse("1000"), 1000);
    assert_int_equal(bounty_limit_parse("0"), -1);
    assert_int_equal(bounty_limit_parse("1001"), -1);
    assert_int_equal(bounty_limit_parse("99999999999"), -1);
    assert_int_equal(bounty_limit_parse("-5"), -1);
    assert_int_equal(bounty_limit_parse("10x"), -1);
    assert_int_equal(bounty_limit_parse(""), -1);
}

static void test_wish_good(void **state)
{
    (void)state;
    Hl__WishPosted m = s_good_wish();
    bounty_wish_t w;
    assert_null(bounty_wish_check(&m, 10, &w));
    assert_string_equal(w.item_id, S_ITEM);
    assert_string_equal(w.appeal_id, S_APPEAL);
    assert_string_equal(w.org_unit, "cp006");
    assert_string_equal(w.category, "elderly");
    assert_int_equal(w.points, 10);
}

static void test_wish_points(void **state)
{
    (void)state;
    Hl__WishPosted m = s_good_wish();
    bounty_wish_t w;
    m.has_points = 1;
    m.points = 25;
    assert_null(bounty_wish_check(&m, 10, &w));
    assert_int_equal(w.points, 25);
    m.points = 0; /* explicit zero means "not set" */
    assert_null(bounty_wish_check(&m, 7, &w));
    assert_int_equal(w.points, 7);
    m.points = 1000;
    assert_null(bounty_wish_check(&m, 7, &w));
    m.points = 1001;
    assert_non_null(bounty_wish_check(&m, 7, &w));
    m.points = -3;
    assert_non_null(bounty_wish_check(&m, 7, &w));
}

static void test_wish_optional_empty(void **state)
{
    (void)state;
    Hl__WishPosted m = s_good_wish();
    bounty_wish_t w;
    m.appeal_id = "";
    m.category = "";
    assert_null(bounty_wish_check(&m, 10, &w));
    assert_null(w.appeal_id);
    assert_null(w.category);
    m.appeal_id = NULL;
    m.category = NULL;
    assert_null(bounty_wish_check(&m, 10, &w));
}

static void test_wish_refused(void **state)
{
    (void)state;
    bounty_wish_t w;
    assert_non_null(bounty_wish_check(NULL, 10, &w));

    Hl__WishPosted m = s_good_wish();
    m.item_id = NULL;
    assert_non_null(strstr(bounty_wish_check(&m, 10, &w), "item_id"));
    m = s_good_wish();
    m.item_id = "not-a-uuid";
    assert_non_null(strstr(bounty_wish_check(&m, 10, &w), "item_id"));
    m = s_good_wish();
    m.appeal_id = "nope";
    assert_non_null(strstr(bounty_wish_check(&m, 10, &w), "appeal_id"));
    m = s_good_wish();
    m.org_unit = NULL;
    assert_non_null(strstr(bounty_wish_check(&m, 10, &w), "org_unit"));
    m = s_good_wish();
    m.org_unit = "cp'; drop";
    assert_non_null(strstr(bounty_wish_check(&m, 10, &w), "org_unit"));
    m = s_good_wish();
    m.category = "no such";
    assert_non_null(strstr(bounty_wish_check(&m, 10, &w), "category"));
    m = s_good_wish();
    m.title = " \t\n";
    assert_non_null(strstr(bounty_wish_check(&m, 10, &w), "title"));
    m = s_good_wish();
    m.title = NULL;
    assert_non_null(strstr(bounty_wish_check(&m, 10, &w), "title"));
    m = s_good_wish();
    m.body = "";
    assert_non_null(strstr(bounty_wish_check(&m, 10, &w), "body"));
    m = s_good_wish();
    m.body = "bad \xC3";
    assert_non_null(strstr(bounty_wish_check(&m, 10, &w), "body"));
}

static void test_wish_title_limit(void **state)
{
    (void)state;
    /* 200 three-byte characters pass, 201 do not: the limit counts characters. */
    char title[3 * 201 + 1] = "";
    for (int i = 0; i < 200; i++)
        strcat(title, "愿");
    Hl__WishPosted m = s_good_wish();
    bounty_wish_t w;
    m.title = title;
    assert_null(bounty_wish_check(&m, 10, &w));
    strcat(title, "愿");
    assert_non_null(bounty_wish_check(&m, 10, &w));
}

/* Facts of a claim that should succeed: micro-grid of the wish's community. */
static bounty_claim_facts_t s_claim_ok(void)
{
    return (bounty_claim_facts_t){.wish_found = true,
                                  .status = BOUNTY_OPEN,
                                  .wish_community = "cm06",
                                  .claimant_level = "micro_grid",
                                  .claimant_community = "cm06",
                                  .claimant_member = false};
}

static void test_claim_allowed(void **state)
{
    (void)state;
    bounty_claim_facts_t f = s_claim_ok();
    assert_int_equal(bounty_claim_verdict(&f).status, 0);
    f.claimant_level = "compound";
    assert_int_equal(bounty_claim_verdict(&f).status, 0);
    /* A member unit may claim any community's wish. */
    f = s_claim_ok();
    f.claimant_level = NULL;
    f.claimant_community = NULL;
    f.claimant_member = true;
    assert_int_equal(bounty_claim_verdict(&f).status, 0);
}

static void test_claim_refused(void **state)
{
    (void)state;
    bounty_claim_facts_t f = s_claim_ok();
    f.wish_found = false;
    assert_int_equal(bounty_claim_verdict(&f).status, 404);

    f = s_claim_ok();
    f.claimant_level = NULL;
    f.claimant_community = NULL;
    bounty_verdict_t v = bounty_claim_verdict(&f);
    assert_int_equal(v.status, 422);
    assert_string_equal(v.field, "claimant");

    f = s_claim_ok();
    f.claimant_level = "household";
    f.claimant_community = NULL;
    assert_int_equal(bounty_claim_verdict(&f).status, 422);
    f.claimant_level = "community";
    assert_int_equal(bounty_claim_verdict(&f).status, 422);

    f = s_claim_ok();
    f.claimant_community = "cm05"; /* another community's grid */
    v = bounty_claim_verdict(&f);
    assert_int_equal(v.status, 422);
    assert_string_equal(v.field, "claimant");

    f = s_claim_ok();
    f.status = BOUNTY_CLAIMED;
    assert_int_equal(bounty_claim_verdict(&f).status, 409);
    f.status = BOUNTY_APPROVED;
    assert_int_equal(bounty_claim_verdict(&f).status, 409);
}

static void test_claim_conflict(void **state)
{
    (void)state;
    assert_int_equal(bounty_claim_conflict(false, 0).status, 404);
    assert_int_equal(bounty_claim_conflict(true, BOUNTY_CLAIMED).status, 409);
    assert_int_equal(bounty_claim_conflict(true, BOUNTY_OPEN).status, 409);
}

static void test_complete_conflict(void **state)
{
    (void)state;
    assert_int_equal(bounty_complete_conflict(false, 0, NULL, "mg014").status, 404);
    assert_int_equal(bounty_complete_conflict(true, BOUNTY_OPEN, NULL, "mg014").status, 409);
    assert_int_equal(bounty_complete_conflict(true, BOUNTY_CLAIMED, "mg015", "mg014").status, 403);
    assert_int_equal(bounty_complete_conflict(true, BOUNTY_COMPLETED, "mg015", "mg014").status,
                     403);
    assert_int_equal(bounty_complete_conflict(true, BOUNTY_COMPLETED, "mg014", "mg014").status,
                     409);
    assert_int_equal(bounty_complete_conflict(true, BOUNTY_APPROVED, "mg014", "mg014").status, 409);
}

static void test_review(void **state)
{
    (void)state;
    bounty_review_facts_t f = {true, BOUNTY_COMPLETED, "cm06", "community"};
    assert_int_equal(bounty_review_verdict(&f, "cm06").status, 0);
    bounty_verdict_t v = bounty_review_verdict(&f, "cm05");
    assert_int_equal(v.status, 422);
    assert_string_equal(v.field, "reviewer");
    f.reviewer_level = "compound";
    assert_int_equal(bounty_review_verdict(&f, "cm06").status, 422);
    f.reviewer_level = NULL;
    assert_int_equal(bounty_review_verdict(&f, "zz").status, 422);
    f = (bounty_review_facts_t){true, BOUNTY_CLAIMED, "cm06", "community"};
    assert_int_equal(bounty_review_verdict(&f, "cm06").status, 409);
    f.status = BOUNTY_APPROVED;
    assert_int_equal(bounty_review_verdict(&f, "cm06").status, 409);
    f.status = BOUNTY_OPEN;
    assert_int_equal(bounty_review_verdict(&f, "cm06").status, 409);
    f.wish_found = false;
    assert_int_equal(bounty_review_verdict(&f, "cm06").status, 404);
}

static void test_award_reason(void **state)
{
    (void)state;
    char out[64];
    bounty_award_reason("换灯泡", out, sizeof out);
    assert_string_equal(out, "micro-wish completed: 换灯泡");
    /* Cut inside a character: the partial character is dropped, never half-kept. */
    char small[27]; /* the 22-byte prefix, 换, one byte of 灯 and the NUL */
    bounty_award_reason("换灯泡", small, sizeof small);
    assert_string_equal(small, "micro-wish completed: 换");
    assert_true(hl_utf8_len(small) > 0);
    char tiny[24];
    bounty_award_reason("换灯泡", tiny, sizeof tiny);
    assert_string_equal(tiny, "micro-wish completed: ");
    bounty_award_reason(NULL, out, sizeof out);
    assert_string_equal(out, "micro-wish completed: ");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_names),   cmocka_unit_test(test_utf8_len),
        cmocka_unit_test(test_code_valid),     cmocka_unit_test(test_month_parse),
        cmocka_unit_test(test_limit_parse),    cmocka_unit_test(test_wish_good),
        cmocka_unit_test(test_wish_points),    cmocka_unit_test(test_wish_optional_empty),
        cmocka_unit_test(test_wish_refused),   cmocka_unit_test(test_wish_title_limit),
        cmocka_unit_test(test_claim_allowed),  cmocka_unit_test(test_claim_refused),
        cmocka_unit_test(test_claim_conflict), cmocka_unit_test(test_complete_conflict),
        cmocka_unit_test(test_review),         cmocka_unit_test(test_award_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
