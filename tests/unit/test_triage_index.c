/* test_triage_index: an appeal's features and similarity (similar.c), the
 * in-memory index of open items (index.c: add, replace, remove, expire,
 * evict, choose) and the scope cues' vote (rules.c). Pure: no database. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hl_err.h"
#include "index.h"
#include "rules.h"
#include "similar.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double s_sim(const char *a, const char *b, bool *conflict)
{
    triage_feats_t x, y;
    triage_feats_of(&x, a, NULL);
    triage_feats_of(&y, b, NULL);
    bool c = false;
    double s = triage_feats_similarity(NULL, &x, &y, &c);
    if (conflict)
        *conflict = c;
    return s;
}

static bool s_has(const triage_feats_t *f, uint32_t feature)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->f[i] == feature)
            return true;
    return false;
}

static void test_buildings_meet(void **state)
{
    (void)state;
    triage_feats_t a, b, c, d;
    triage_feats_of(&a, "十四号楼电梯坏了", NULL);
    triage_feats_of(&b, "14幢电梯坏了", NULL);
    triage_feats_of(&c, "14栋的电梯坏了", NULL);
    triage_feats_of(&d, "二单元三层", NULL);
    uint32_t b14 = (uint32_t)TRIAGE_FEAT_BUILDING << 28 | 14;
    assert_true(s_has(&a, b14));
    assert_true(s_has(&b, b14));
    assert_true(s_has(&c, b14));
    assert_true(s_has(&d, (uint32_t)TRIAGE_FEAT_UNIT << 28 | 2));
    assert_true(s_has(&d, (uint32_t)TRIAGE_FEAT_FLOOR << 28 | 3));
    assert_false(triage_feats_has(&d, TRIAGE_FEAT_BUILDING));
    /* Punctuation, spaces, full-width letters and digits do not count. */
    assert_true(s_sim("楼道灯，坏了！", "楼道 灯坏了", NULL) > 0.999);
    assert_true(s_sim("ＫＴＶ太吵", "ktv 太吵", NULL) > 0.999);
}

static void test_concepts_meet_and_places_divide(void **state)
{
    (void)state;
    bool conflict;
    /* Two ways of naming a stopped lift in one building meet. */
    assert_true(s_sim("5号楼电梯停了", "五栋升降梯又困人", &conflict) > 0.75);
    assert_false(conflict);
    /* The same words about two buildings conflict. */
    s_sim("5号楼电梯停了", "7号楼电梯停了", &conflict);
    assert_true(conflict);
    /* A shared building alone is not a shared matter. */
    assert_true(s_sim("5号楼电梯停了", "5号楼楼道灯不亮", NULL) < 0.5);
    /* Nothing in common. */
    assert_true(s_sim("楼道灯坏了", "车位被占", NULL) < 0.001);
    assert_true(s_sim("", "车位被占", NULL) == 0);
}

static void test_weights_learned(void **state)
{
    (void)state;
    triage_df_t *df = calloc(1, sizeof *df);
    triage_feats_t common, rare;
    triage_feats_of(&common, "物业", NULL);
    triage_feats_of(&rare, "蜂窝", NULL);
    for (int i = 0; i < 50; i++)
        triage_df_add(df, &common);
    triage_df_add(df, &rare);
    uint32_t g_common = 0, g_rare = 0;
    for (size_t i = 0; i < common.n; i++)
        if (TRIAGE_FEAT_KIND(common.f[i]) == TRIAGE_FEAT_GRAM)
            g_common = common.f[i];
    for (size_t i = 0; i < rare.n; i++)
        if (TRIAGE_FEAT_KIND(rare.f[i]) == TRIAGE_FEAT_GRAM)
            g_rare = rare.f[i];
    assert_true(triage_feat_weight(df, g_common) < triage_feat_weight(df, g_rare));
    assert_int_equal(df->docs, 51);
    free(df);
}

static triage_ix_meta_t s_meta(const char *id, const char *compound, triage_size_t size,
                               int64_t created)
{
    triage_ix_meta_t m = {.size = size, .created_us = created, .appeals = 1};
    snprintf(m.id, sizeof m.id, "%s", id);
    snprintf(m.compound, sizeof m.compound, "%s", compound);
    snprintf(m.community, sizeof m.community, "cm01");
    snprintf(m.route, sizeof m.route, "council");
    return m;
}

static void s_add(triage_index_t *ix, const char *id, const char *compound, triage_size_t size,
                  int64_t created, const char *text)
{
    triage_ix_meta_t m = s_meta(id, compound, size, created);
    triage_index_put(ix, &m);
    triage_feats_t f;
    triage_feats_of(&f, text, NULL);
    assert_true(triage_index_add_appeal(ix, id, &f, false));
}

static const triage_ix_meta_t *s_best(triage_index_t *ix, const char *compound, triage_size_t size,
                                      const char *text)
{
    triage_feats_t f;
    triage_feats_of(&f, text, NULL);
    triage_scorer_t sc = triage_scorer_default();
    triage_ix_query_t q = {"cm01", compound, NULL, size, &f, false};
    return triage_index_best(ix, &sc, &q, NULL);
}

static void test_index_add_replace_remove(void **state)
{
    (void)state;
    triage_index_t *ix = triage_index_new(10);
    s_add(ix, "a", "cp001", TRIAGE_SIZE_SMALL, 1, "5号楼电梯坏了三天");
    s_add(ix, "b", "cp001", TRIAGE_SIZE_SMALL, 2, "5号楼楼道灯不亮");
    assert_int_equal(triage_index_count(ix), 2);
    const triage_ix_meta_t *m = s_best(ix, "cp001", TRIAGE_SIZE_SMALL, "五栋升降梯又停了");
    assert_non_null(m);
    assert_string_equal(m->id, "a");
    /* Replacing what is known keeps the appeals' features. */
    triage_ix_meta_t changed = s_meta("a", "cp001", TRIAGE_SIZE_SMALL, 1);
    snprintf(changed.route, sizeof changed.route, "alliance");
    triage_index_put(ix, &changed);
    assert_int_equal(triage_index_count(ix), 2);
    m = s_best(ix, "cp001", TRIAGE_SIZE_SMALL, "五栋升降梯又停了");
    assert_non_null(m);
    assert_string_equal(m->route, "alliance");
    /* Counting a join. */
    triage_feats_t f;
    triage_feats_of(&f, "5栋电梯停运", NULL);
    assert_true(triage_index_add_appeal(ix, "a", &f, true));
    assert_int_equal(triage_index_get(ix, "a")->appeals, 2);
    /* Closed (resolved, merged): gone, and nothing else is alike. */
    triage_index_remove(ix, "a");
    assert_null(triage_index_get(ix, "a"));
    assert_null(s_best(ix, "cp001", TRIAGE_SIZE_SMALL, "五栋升降梯又停了"));
    assert_false(triage_index_add_appeal(ix, "a", &f, true));
    triage_index_remove(ix, "nothing");
    triage_index_destroy(&ix);
    assert_null(ix);
}

static void test_index_expire_and_evict(void **state)
{
    (void)state;
    triage_index_t *ix = triage_index_new(3);
    s_add(ix, "old", "cp001", TRIAGE_SIZE_SMALL, 100, "围墙倒了");
    s_add(ix, "mid", "cp001", TRIAGE_SIZE_SMALL, 200, "路灯不亮");
    s_add(ix, "new", "cp001", TRIAGE_SIZE_SMALL, 300, "垃圾没人清");
    /* A fourth evicts the oldest: memory stays bounded. */
    s_add(ix, "newest", "cp001", TRIAGE_SIZE_SMALL, 400, "狗叫扰民");
    assert_int_equal(triage_index_count(ix), 3);
    assert_null(triage_index_get(ix, "old"));
    /* Expiry forgets what was created before the cut. */
    assert_int_equal(triage_index_expire(ix, 300), 1);
    assert_null(triage_index_get(ix, "mid"));
    assert_non_null(triage_index_get(ix, "new"));
    assert_int_equal(triage_index_count(ix), 2);
    triage_index_destroy(&ix);
}

static void test_index_gates(void **state)
{
    (void)state;
    triage_index_t *ix = triage_index_new(10);
    s_add(ix, "small", "cp001", TRIAGE_SIZE_SMALL, 1, "5号楼电梯坏了三天");
    s_add(ix, "wish", "cp001", TRIAGE_SIZE_WISH, 2, "独居老人想请人帮忙买药");
    s_add(ix, "road", "cp001", TRIAGE_SIZE_LARGE, 3, "门口马路一下雨就积水，请市政来修");
    /* A small matter of another compound never joins: building 5 there is
     * another building. */
    assert_null(s_best(ix, "cp015", TRIAGE_SIZE_SMALL, "5号楼电梯坏了三天"));
    /* A large one of a neighbouring compound may. */
    const triage_ix_meta_t *m =
        s_best(ix, "cp015", TRIAGE_SIZE_LARGE, "门口马路一下雨就积水，请市政来修一修");
    assert_non_null(m);
    assert_string_equal(m->id, "road");
    /* But a large appeal never joins another compound's small item: a small
     * matter lies inside its compound and goes to that compound's council,
     * so word for word the same text is another matter there (the demo's
     * river of rubbish had joined a compound's rubbish kiosk). */
    assert_null(s_best(ix, "cp015", TRIAGE_SIZE_LARGE, "5号楼电梯坏了三天"));
    /* A wish and a matter for the council stay apart. */
    assert_null(s_best(ix, "cp001", TRIAGE_SIZE_SMALL, "独居老人想请人帮忙买药"));
    /* Another community has no candidates. */
    triage_feats_t f;
    triage_feats_of(&f, "5号楼电梯坏了三天", NULL);
    triage_scorer_t sc = triage_scorer_default();
    triage_ix_query_t q = {"cm02", "cp002", NULL, TRIAGE_SIZE_SMALL, &f, false};
    triage_ix_why_t why;
    assert_null(triage_index_best(ix, &sc, &q, &why));
    assert_int_equal(why.compared, 0);
    triage_index_destroy(&ix);
}

/* ---- the scope cues' vote -------------------------------------------- */

static void s_rule(triage_rules_t *rs, long long id, int priority, const char *keywords,
                   const char *size, double weight)
{
    char err[256] = "";
    triage_rule_spec_t spec = {.id = id,
                               .version = 1,
                               .priority = priority,
                               .keywords = keywords,
                               .size = size,
                               .weight = weight};
    assert_int_equal(triage_rules_add(rs, &spec, err, sizeof err), 0);
}

/* Named places: a road, river or market named by the characters before
 * the word; "a road" alone names nothing. */
static void test_named_places(void **state)
{
    (void)state;
    assert_true(triage_text_names_place("凤河淤泥堆得老高 水都不流了"));
    assert_true(triage_text_names_place("东门路早市把路堵死了"));
    assert_true(triage_text_names_place("鼓楼菜场地上全是污水"));
    assert_false(triage_text_names_place("门口马路一下雨就积水"));
    assert_false(triage_text_names_place("这条路晚上太黑"));
    assert_false(triage_text_names_place("三号楼门口的路灯坏了，晚上出门看不清路"));
    assert_false(triage_text_names_place("小区里让路不让路吵起来了，逛街回来走路都难"));
    assert_false(triage_text_names_place("5号楼电梯坏了三天"));
    assert_false(triage_text_names_place(NULL));
    /* Words that only look like names: 沟通 (to talk), 路灯, 路面, 街道 (the
     * subdistrict), 广场舞, a verb before the word (反映河道, 希望街道). */
    assert_false(triage_text_names_place("已与物业沟通，物业说下周修"));
    assert_false(triage_text_names_place("大门口外面的路灯坏了，照明路面一片黑"));
    assert_false(triage_text_names_place("希望街道出面协调，居民反映河道有味"));
    assert_false(triage_text_names_place("中心广场跳广场舞的音响太吵"));
    assert_true(triage_text_names_place("绣溪路的路灯坏了"));
    /* The same river named by two residents is one feature; two rivers
     * are two (and count as a conflict in the pair). */
    triage_feats_t a, b, c;
    triage_feats_of(&a, "凤河发臭 死鱼一片", NULL);
    triage_feats_of(&b, "御景湾东边的凤河淤积严重，请清淤", NULL);
    triage_feats_of(&c, "双桥河发臭 死鱼一片", NULL);
    triage_pair_t x;
    triage_pair_of(NULL, a.f, a.n, b.f, b.n, false, &x);
    assert_true(x.x[TRIAGE_X_NAMED] == 1);
    triage_pair_of(NULL, a.f, a.n, c.f, c.n, false, &x);
    assert_true(x.x[TRIAGE_X_NAMED] == 0);
    assert_true(x.x[TRIAGE_X_NAMED_CONFLICT] == 1);
}

/* Persons: a surname with a form of address is one feature however it is
 * addressed (章奶奶 by a neighbour, 章奶奶 in a visit note); two persons
 * are a conflict in one compound, nothing across compounds; the upstairs
 * aunt (楼上阿姨) and a bare 大爷 name nobody. */
static void test_persons(void **state)
{
    (void)state;
    triage_feats_t a, b, c, none;
    triage_feats_of(&a, "章奶奶家房子漏雨 能不能帮她补一下瓦", NULL);
    triage_feats_of(&b, "入户走访香樟苑平房区，困难老人章奶奶家瓦屋顶多处破损", NULL);
    triage_feats_of(&c, "孙大爷家的燃气灶打不着火了，想找人修一下", NULL);
    triage_feats_of(&none, "楼上阿姨天天在楼道喂猫，门口大爷也说太臭", NULL);
    assert_true(triage_feats_has(&a, TRIAGE_FEAT_PERSON));
    assert_true(triage_feats_has(&c, TRIAGE_FEAT_PERSON));
    assert_false(triage_feats_has(&none, TRIAGE_FEAT_PERSON));
    triage_feats_t mou;
    triage_feats_of(&mou, "入户走访东门小区4栋，独居老人陈某下周需到医院复查", NULL);
    assert_true(triage_feats_has(&mou, TRIAGE_FEAT_PERSON));
    triage_pair_t x;
    triage_pair_of(NULL, a.f, a.n, b.f, b.n, true, &x);
    assert_true(x.x[TRIAGE_X_PERSON] == 1 && x.x[TRIAGE_X_PERSON_CONFLICT] == 0);
    assert_true(x.x[TRIAGE_X_PLACE] == 1); /* a person counts as a place */
    triage_pair_of(NULL, a.f, a.n, c.f, c.n, true, &x);
    assert_true(x.x[TRIAGE_X_PERSON] == 0 && x.x[TRIAGE_X_PERSON_CONFLICT] == 1);
    triage_pair_of(NULL, a.f, a.n, c.f, c.n, false, &x);
    assert_true(x.x[TRIAGE_X_PERSON] == 0 && x.x[TRIAGE_X_PERSON_CONFLICT] == 0);
    /* The model's terms start with the pair's inputs. */
    double in[TRIAGE_MODEL_X];
    triage_pair_of(NULL, a.f, a.n, b.f, b.n, true, &x);
    triage_pair_expand(&x, in);
    for (int k = 0; k < TRIAGE_PAIR_X; k++)
        assert_true(in[k] == x.x[k]);
    assert_true(in[TRIAGE_PAIR_X + 5] == x.x[TRIAGE_X_TEXT]); /* text × one compound */
}

/* The pair model: one matter in other words scores above two matters of
 * one building, and a building conflict pulls the score down. */
static void test_pair_model(void **state)
{
    (void)state;
    triage_feats_t a, b, c, d;
    triage_feats_of(&a, "3栋电梯又坏了，老人上不去楼", NULL);
    triage_feats_of(&b, "三号楼的升降梯停了好几天，困梯了两次", NULL);
    triage_feats_of(&c, "3栋楼道里堆满了杂物，消防通道堵了", NULL);
    triage_feats_of(&d, "8栋电梯又坏了，老人上不去楼", NULL);
    triage_ix_meta_t m = {.size = TRIAGE_SIZE_SMALL};
    triage_ix_query_t q = {"cm01", "cp001", NULL, TRIAGE_SIZE_SMALL, &a, false};
    triage_pair_t same, other, conflict;
    triage_pair_of(NULL, a.f, a.n, b.f, b.n, true, &same);
    triage_pair_context(&m, &q, &same);
    triage_pair_of(NULL, a.f, a.n, c.f, c.n, true, &other);
    triage_pair_context(&m, &q, &other);
    triage_pair_of(NULL, a.f, a.n, d.f, d.n, true, &conflict);
    triage_pair_context(&m, &q, &conflict);
    assert_true(same.x[TRIAGE_X_CONCEPT_ANY] == 1);
    assert_true(conflict.x[TRIAGE_X_CONFLICT] == 1);
    double ps = triage_pair_score(&same), po = triage_pair_score(&other),
           pc = triage_pair_score(&conflict);
    assert_true(ps > po);
    assert_true(ps > 0 && ps < 1 && po > 0 && pc > 0);
    /* Through the index: the same lift in other words joins; building 8's
     * lift, word for word the same, does not (the conflict's factor). */
    triage_index_t *ix = triage_index_new(10);
    s_add(ix, "lift3", "cp001", TRIAGE_SIZE_SMALL, 1, "3栋电梯又坏了，老人上不去楼");
    const triage_ix_meta_t *hit =
        s_best(ix, "cp001", TRIAGE_SIZE_SMALL, "3栋电梯又坏了，老人上不去楼，快修");
    assert_non_null(hit);
    assert_string_equal(hit->id, "lift3");
    assert_null(s_best(ix, "cp001", TRIAGE_SIZE_SMALL, "8栋电梯又坏了，老人上不去楼"));
    triage_index_destroy(&ix);
}

/* An item scores as half its closest kept appeal and half the mean of all
 * it keeps: an appeal close to one short note of an item whose other letter
 * is about something else scores below that note's own probability. */
static void test_item_score_blends(void **state)
{
    (void)state;
    static const char *const kept[] = {"5号楼漏水了", "5号楼顶楼防水层老化，一下雨天花板就渗水"};
    const char *ask = "5号楼楼上卫生间漏水，漏到我家吊顶";
    triage_index_t *ix = triage_index_new(10);
    s_add(ix, "leak", "cp001", TRIAGE_SIZE_SMALL, 1, kept[0]);
    triage_feats_t f, k;
    triage_feats_of(&k, kept[1], NULL);
    assert_true(triage_index_add_appeal(ix, "leak", &k, true));
    triage_feats_of(&f, ask, NULL);
    triage_ix_query_t q = {"cm01", "cp001", NULL, TRIAGE_SIZE_SMALL, &f, false};
    double p[2];
    for (int i = 0; i < 2; i++) {
        triage_feats_of(&k, kept[i], NULL);
        triage_pair_t x;
        triage_pair_of(NULL, f.f, f.n, k.f, k.n, true, &x);
        triage_pair_context(triage_index_get(ix, "leak"), &q, &x);
        p[i] = triage_pair_score(&x);
    }
    triage_scorer_t sc = triage_scorer_default();
    triage_ix_why_t why;
    triage_index_best(ix, &sc, &q, &why);
    double hi = p[0] > p[1] ? p[0] : p[1];
    assert_true(fabs(why.score - (0.5 * hi + 0.25 * (p[0] + p[1]))) < 1e-9);
    assert_true(why.score < hi);
    triage_index_destroy(&ix);
}

/* A comparison with the weights prepared once (the index's way) gives what
 * triage_pair_of gives, and a kept appeal's sums go stale only once the
 * counts have grown by more than 1/64. */
static void test_pair_fast_and_sums(void **state)
{
    (void)state;
    triage_df_t *df = calloc(1, sizeof *df);
    assert_non_null(df);
    triage_feats_t a, b, filler;
    triage_feats_of(&a, "3栋电梯又坏了，困在里面半小时，物业电话打不通", NULL);
    triage_feats_of(&b, "三号楼电梯又停了好几天，老人上不去楼，物业不管", NULL);
    triage_feats_of(&filler, "小区物业不作为，希望社区督促", NULL);
    for (int i = 0; i < 60; i++) /* past the 50 below which every bigram weighs 1 */
        triage_df_add(df, &filler);
    triage_df_add(df, &a);
    triage_df_add(df, &b);
    triage_pair_t slow, fast;
    triage_pair_of(df, a.f, a.n, b.f, b.n, true, &slow);
    triage_side_t side;
    triage_sums_t sums;
    triage_side_of(df, a.f, a.n, &side);
    triage_sums_of(df, b.f, b.n, &sums);
    triage_pair_fast(&side, b.f, b.n, &sums, true, &fast);
    for (int k = 0; k < TRIAGE_PAIR_X; k++)
        assert_true(fabs(slow.x[k] - fast.x[k]) < 1e-12);
    assert_true(fast.x[TRIAGE_X_GRAM_COS] > 0 && fast.x[TRIAGE_X_GRAM_COS] <= 1);
    assert_false(triage_sums_stale(df, &sums));
    triage_df_add(df, &filler); /* 63 documents: within 62 + 62/64 + 1 */
    assert_false(triage_sums_stale(df, &sums));
    triage_df_add(df, &filler); /* 64: stale, summed again by the index */
    assert_true(triage_sums_stale(df, &sums));
    /* Below 50 appeals every bigram weighs 1; the 50th makes sums taken
     * before it stale, however little the counts grew. */
    memset(df, 0, sizeof *df);
    for (int i = 0; i < 49; i++)
        triage_df_add(df, &filler);
    triage_sums_of(df, b.f, b.n, &sums);
    assert_true(TRIAGE_FEAT_KIND(b.f[0]) == TRIAGE_FEAT_GRAM); /* sorted: kind 0 first */
    assert_true(triage_feat_weight(df, b.f[0]) == 1.0);
    triage_df_add(df, &filler);
    assert_true(triage_sums_stale(df, &sums));
    free(df);
}

static void test_cues_vote(void **state)
{
    (void)state;
    triage_rules_t *rs = triage_rules_new();
    s_rule(rs, 10, 10, "{调解}", "small", 0); /* decisive, before the cues */
    s_rule(rs, 1, 150, "{城管,市政}", "large", 2.0);
    s_rule(rs, 2, 150, "{#多户}", "large", 2.0);
    s_rule(rs, 3, 150, "{物业,楼道}", "small", 1.0);
    s_rule(rs, 4, 150, "{独居}", "wish", 1.5);
    s_rule(rs, 5, 150, "{物业}", "wish", -1.5);
    s_rule(rs, 9999, 9999, NULL, "small", 0);
    triage_verdict_t v;
    triage_appeal_view_t a = {"qr", NULL, NULL, "门口马路坏了请市政修，物业不管", NULL};
    assert_int_equal(triage_rules_eval(rs, &a, &v), 0);
    assert_int_equal(v.size, TRIAGE_SIZE_LARGE);
    assert_int_equal(v.size_rule->id, 1);
    assert_true(v.votes[TRIAGE_SIZE_LARGE] == 2.0 && v.votes[TRIAGE_SIZE_SMALL] == 1.0);
    /* Numbers are read as scope: 30 households. */
    a = (triage_appeal_view_t){"qr", NULL, NULL, "这一片30多户都停水了", NULL};
    assert_int_equal(triage_rules_eval(rs, &a, &v), 0);
    assert_int_equal(v.size_rule->id, 2);
    /* Counter-evidence: one old person, but addressed to the property company. */
    a = (triage_appeal_view_t){"qr", NULL, NULL, "独居老人家楼道灯坏了，物业不管", NULL};
    assert_int_equal(triage_rules_eval(rs, &a, &v), 0);
    assert_int_equal(v.size, TRIAGE_SIZE_SMALL);
    /* A decisive rule before the cues wins alone. */
    a = (triage_appeal_view_t){"qr", NULL, NULL, "请市政来调解", NULL};
    assert_int_equal(triage_rules_eval(rs, &a, &v), 0);
    assert_int_equal(v.size_rule->id, 10);
    assert_int_equal(v.cues, 0);
    /* No cue: the last resort. */
    a = (triage_appeal_view_t){"qr", NULL, NULL, "随便说说", NULL};
    assert_int_equal(triage_rules_eval(rs, &a, &v), 0);
    assert_int_equal(v.size_rule->id, 9999);
    /* The compound's own name is no cue (市政小区 is a place). */
    a = (triage_appeal_view_t){"qr", NULL, NULL, "市政小区3号楼楼道很脏", "市政小区"};
    assert_int_equal(triage_rules_eval(rs, &a, &v), 0);
    assert_int_equal(v.size, TRIAGE_SIZE_SMALL);
    /* A cue must have a size and no category. */
    char err[256] = "";
    triage_rule_spec_t bad = {.id = 7, .priority = 1, .set_category = "roads", .weight = 1};
    assert_int_equal(triage_rules_add(rs, &bad, err, sizeof err), HL_EINVAL);
    assert_non_null(strstr(err, "scope cue"));
    triage_rules_destroy(&rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buildings_meet),
        cmocka_unit_test(test_concepts_meet_and_places_divide),
        cmocka_unit_test(test_weights_learned),
        cmocka_unit_test(test_index_add_replace_remove),
        cmocka_unit_test(test_index_expire_and_evict),
        cmocka_unit_test(test_index_gates),
        cmocka_unit_test(test_cues_vote),
        cmocka_unit_test(test_named_places),
        cmocka_unit_test(test_persons),
        cmocka_unit_test(test_pair_model),
        cmocka_unit_test(test_item_score_blends),
        cmocka_unit_test(test_pair_fast_and_sums),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
