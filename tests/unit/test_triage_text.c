/* test_triage_text: the pure helpers of hl-triage — titles cut from an
 * appeal's text, the ISO 8601 checks of the council form (text.c), and the
 * routing plan by size and place (route.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "triage.h"

#include <stdlib.h>
#include <string.h>

static void s_title(const char *body, size_t max, const char *want)
{
    char *got = triage_title_from_body(body, max);
    bool same = strcmp(got, want) == 0;
    if (!same)
        print_error("title of \"%s\": got \"%s\", want \"%s\"\n", body, got, want);
    free(got);
    assert_true(same);
}

static void test_title_stops_at_sentence_end(void **state)
{
    (void)state;
    s_title("惠民小区地下车库有人把车位用地锁锁住。那是公共车位", 20,
            "惠民小区地下车库有人把车位用地锁锁住");
    s_title("楼道灯坏了！快修", 20, "楼道灯坏了");
    s_title("Lights out? Fix", 20, "Lights out");
}

static void test_title_cuts_long_text(void **state)
{
    (void)state;
    s_title("春江花城十四号楼二单元窗外有马蜂窝，孩子不敢开窗，物业说要找专业的人摘", 20,
            "春江花城十四号楼二单元窗外有马蜂窝，孩子…");
    /* Exactly max characters is not cut. */
    s_title("一二三四五", 5, "一二三四五");
    s_title("一二三四五六", 5, "一二三四五…");
    assert_int_equal(hl_utf8_len("春江花城十四号楼二单元窗外有马蜂窝，孩子…"), 21);
}

static void test_title_spaces(void **state)
{
    (void)state;
    /* Leading space and stops are dropped; runs of space become one. */
    s_title("  　。汇景园 小区里的宣传栏玻璃碎了   通知都被雨打湿了", 30,
            "汇景园 小区里的宣传栏玻璃碎了 通知都被雨打湿了");
    s_title("蓝湾丽都\n后面空地", 20, "蓝湾丽都");
}

static void test_title_skips_salutation(void **state)
{
    (void)state;
    s_title("书记您好：丹桂园旁的城南农贸市场外，清早卸货的冷链货车占满整条人行道", 20,
            "丹桂园旁的城南农贸市场外，清早卸货的冷链…");
    s_title("各位社区干部好！农机厂宿舍是七十年代末的砖混楼", 20, "农机厂宿舍是七十年代末的砖混楼");
    s_title("致社区居委会：望湖居地面车位收费标准一直没公示", 20,
            "望湖居地面车位收费标准一直没公示");
    s_title("网格员姐姐好，我是春江花城的四年级学生", 20, "我是春江花城的四年级学生");
    /* Not a salutation: kept. */
    s_title("楼道灯坏了：快修", 20, "楼道灯坏了：快修");
    s_title("今天天气很好，但是楼道灯坏了", 20, "今天天气很好，但是楼道灯坏了");
    /* Nothing but a salutation: it is the title. */
    s_title("书记您好！", 20, "书记您好");
}

static void test_title_degenerate(void **state)
{
    (void)state;
    s_title("", 20, "（无标题）");
    s_title(NULL, 20, "（无标题）");
    s_title(" 。！？ ", 20, "（无标题）");
    /* A stray byte that is not UTF-8 is one character, not overrun, and
     * made '?' (hl_text_cut): a title is stored as text. */
    s_title("ab\xE3", 20, "ab?");
}

static void test_utf8_len(void **state)
{
    (void)state;
    assert_int_equal(hl_utf8_len(""), 0);
    assert_int_equal(hl_utf8_len("abc"), 3);
    assert_int_equal(hl_utf8_len("晚茶议事厅"), 5);
}

static void test_route_plan_by_size(void **state)
{
    (void)state;
    triage_place_t compound = {"cp006", "compound", "cp006", "cm06"};
    triage_route_t r;
    triage_route_plan(TRIAGE_SIZE_SMALL, &compound, &r);
    assert_string_equal(r.route, "council");
    assert_string_equal(r.target, "cp006");
    assert_string_equal(r.level, "compound");
    triage_route_plan(TRIAGE_SIZE_WISH, &compound, &r);
    assert_string_equal(r.route, "board");
    assert_string_equal(r.target, "cp006");
    assert_string_equal(r.level, "compound");
    triage_route_plan(TRIAGE_SIZE_LARGE, &compound, &r);
    assert_string_equal(r.route, "alliance");
    assert_string_equal(r.target, "cm06");
    assert_string_equal(r.level, "community");
}

static void test_route_plan_by_place(void **state)
{
    (void)state;
    triage_route_t r;
    /* Below a compound: routed to the compound. */
    triage_place_t household = {"hh0007", "household", "cp001", "cm01"};
    triage_route_plan(TRIAGE_SIZE_SMALL, &household, &r);
    assert_string_equal(r.target, "cp001");
    assert_string_equal(r.level, "compound");
    /* A community's own appeal stays with it, small or large. */
    triage_place_t community = {"cm03", "community", NULL, "cm03"};
    triage_route_plan(TRIAGE_SIZE_SMALL, &community, &r);
    assert_string_equal(r.target, "cm03");
    assert_string_equal(r.level, "community");
    triage_route_plan(TRIAGE_SIZE_LARGE, &community, &r);
    assert_string_equal(r.target, "cm03");
    assert_string_equal(r.level, "community");
    /* A town's appeal: above the community, it stays at the town. */
    triage_place_t town = {"t1", "town", NULL, NULL};
    triage_route_plan(TRIAGE_SIZE_LARGE, &town, &r);
    assert_string_equal(r.target, "t1");
    assert_string_equal(r.level, "town");
    triage_route_plan(TRIAGE_SIZE_WISH, &town, &r);
    assert_string_equal(r.target, "t1");
    assert_string_equal(r.level, "town");
}

static void test_level_rank(void **state)
{
    (void)state;
    assert_int_equal(triage_level_rank("compound"), 1);
    assert_int_equal(triage_level_rank("community"), 2);
    assert_int_equal(triage_level_rank("town"), 3);
    assert_int_equal(triage_level_rank("city"), 4);
    assert_int_equal(triage_level_rank("household"), 0);
    assert_int_equal(triage_level_rank(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_title_stops_at_sentence_end),
        cmocka_unit_test(test_title_cuts_long_text),
        cmocka_unit_test(test_title_spaces),
        cmocka_unit_test(test_title_skips_salutation),
        cmocka_unit_test(test_title_degenerate),
        cmocka_unit_test(test_utf8_len),
        cmocka_unit_test(test_route_plan_by_size),
        cmocka_unit_test(test_route_plan_by_place),
        cmocka_unit_test(test_level_rank),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
