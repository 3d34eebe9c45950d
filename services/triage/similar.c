/* similar.c: the features of an appeal's text and how alike two appeals
 * are (see similar.h). Pure: no I/O.
 *
 * Chinese has no spaces to split words on, so a text is read as its
 * character bigrams, after normalising what residents write differently:
 *
 *   - the compound's own name is cut out: every appeal of a compound names
 *     it, so it says nothing about the matter;
 *   - Chinese numerals before a building, unit or floor word become digits,
 *     and 号楼 / 幢 / 栋 / 号 after a number all mean one building: 十四号楼,
 *     14幢 and 14栋 meet;
 *   - punctuation, white space and symbols are dropped; ASCII and
 *     full-width letters are lower-cased, full-width digits made ASCII.
 *
 * Beside the bigrams, an appeal gets entity features (building N, unit N,
 * floor N, the east/west/... gate) and concept features: a lexicon maps the
 * many ways of naming one thing (电梯, 升降梯, 困梯) to one token, so two
 * residents who describe one broken lift in their own words still meet.
 * The lexicon is general knowledge of what residents complain about, not a
 * list fitted to any data set; it lives here, beside the code that reads it.
 *
 * Weights: a bigram weighs its inverse document frequency over the appeals
 * seen so far (triage_df_t), so 小区, 物业, 希望, 反映 fall to almost
 * nothing by themselves; entities and concepts have fixed weights. */
#include "similar.h"

#include "hl.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_POINTS 2048 /* code points of an appeal read for features */

/* ---- the concept lexicon ------------------------------------------------ */

/* One concept per line: every phrase on it yields the same feature. */
static const char *const s_concepts[][12] = {
    {"电梯", "升降梯", "轿厢", "困梯", "关在梯"},
    {"楼道灯", "声控灯", "感应灯", "照明", "灯不亮", "灯坏", "灯泡", "黑漆漆", "摸黑"},
    {"路灯"},
    {"漏水", "渗水", "滴水", "水渍", "渗漏", "洇", "返潮", "水印"},
    {"楼顶", "屋顶", "顶楼", "天台", "防水"},
    {"狗", "犬", "宠物"},
    {"狗叫", "犬吠", "叫个不停", "狂吠", "叫唤"},
    {"狗屎", "粪便", "狗粪", "便便"},
    {"噪音", "噪声", "吵", "扰民", "动静大", "声音大", "轰鸣"},
    {"停车", "车位", "乱停", "停放", "占位"},
    {"地锁", "车位锁"},
    {"消防通道", "生命通道", "消防车道"},
    {"电动车", "电瓶车", "电单车"},
    {"充电", "飞线", "拉线", "插座"},
    {"垃圾", "清运", "垃圾桶", "垃圾箱", "垃圾站"},
    {"臭", "异味", "气味", "味道", "熏"},
    {"堆放", "堆物", "杂物", "堆满", "占用楼道", "废品"},
    {"老鼠", "蟑螂", "蚊子", "苍蝇", "白蚁", "虫"},
    {"马蜂", "蜂窝", "胡蜂", "蜂巢"},
    {"停水", "水压", "自来水", "供水", "水龙头", "水质", "黄水", "没水"},
    {"停电", "跳闸", "电压", "供电", "电表", "变压器", "没电"},
    {"燃气", "天然气", "煤气"},
    {"网络", "信号", "宽带", "光纤"},
    {"下水道", "化粪池", "污水", "堵塞", "堵了", "反水", "返水", "窨井", "管道"},
    {"井盖"},
    {"积水", "淹", "内涝", "排水", "雨水"},
    {"马路", "道路", "路面", "坑洼", "坑", "路口", "斑马线", "人行道"},
    {"红绿灯", "信号灯"},
    {"公交", "站台", "班车"},
    {"摊", "小贩", "占道经营", "商贩", "夜市"},
    {"菜市场", "农贸市场"},
    {"商铺", "门面", "饭店", "餐馆", "烧烤", "油烟", "店"},
    {"工地", "施工", "打桩", "渣土"},
    {"装修", "电钻", "敲墙", "砸墙"},
    {"树", "树枝", "修剪", "枝"},
    {"草坪", "绿化", "花坛", "草地", "绿地", "菜地", "种菜"},
    {"健身器材", "健身", "单杠", "滑梯", "秋千", "游乐"},
    {"座椅", "长椅", "凳"},
    {"门禁", "门卡", "刷卡", "人脸识别", "道闸", "栏杆"},
    {"保安", "门卫", "门岗"},
    {"物业费", "收费", "公摊", "维修基金", "维修资金"},
    {"摄像头", "监控", "可视门铃"},
    {"外墙", "墙皮", "墙面", "瓷砖", "裂缝", "开裂"},
    {"楼梯", "扶手", "台阶"},
    {"窗", "玻璃"},
    {"阳台", "晾衣", "晾晒"},
    {"太阳能", "热水器"},
    {"高空抛物", "坠物", "往下扔", "扔东西"},
    {"老人", "奶奶", "爷爷", "大爷", "大妈", "老太", "阿婆", "孤寡", "独居"},
    {"孩子", "小孩", "儿童", "小朋友"},
    {"学校", "学位", "上学", "入学", "幼儿园", "辅导", "作业", "功课"},
    {"药", "看病", "医院", "体检", "就医", "复查"},
    {"残疾", "轮椅", "拐杖", "行动不便", "瘫痪", "腿脚"},
    {"智能手机", "手机", "微信", "视频", "扫码"},
    {"抽烟", "烟头", "吸烟"},
    {"消防栓", "灭火器", "火灾", "着火", "消防"},
    {"违建", "违章", "搭建", "私搭", "加盖", "圈占", "围起来"},
    {"加装电梯"},
    {"危房", "老旧", "年久失修", "宿舍楼", "墙体"},
    {"快递", "外卖", "驿站", "快递柜"},
    {"喷泉", "水池", "池塘", "河", "沟", "渠"},
    {"减速带", "车速", "开快车", "飙车", "超速"},
    {"广场舞", "音响", "跳舞"},
    {"地下室", "车库"},
    {"单元门", "防盗门", "大铁门"},
    {"广场", "空地"},
    {"厕所", "公厕"},
    {"工厂", "厂", "排放", "烟囱"},
};
#define S_NCONCEPTS (sizeof s_concepts / sizeof s_concepts[0])

/* ---- decoding and normalising ----------------------------------------- */

typedef struct {
    uint32_t c[S_MAX_POINTS]; /* code points */
    size_t n;                 /* used */
} s_points_t;

static void s_push(s_points_t *p, uint32_t c)
{
    if (p->n < S_MAX_POINTS)
        p->c[p->n++] = c;
}

static uint32_t s_fold(uint32_t c)
{
    if (c >= 0xFF10 && c <= 0xFF19)
        return c - 0xFF10 + '0';
    if (c >= 0xFF21 && c <= 0xFF3A)
        return c - 0xFF21 + 'a';
    if (c >= 0xFF41 && c <= 0xFF5A)
        return c - 0xFF41 + 'a';
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 'a';
    return c;
}

/* Decodes `text` with every occurrence of `strip` removed; stray bytes
 * become U+FFFD, which is not kept. */
static void s_decode(const char *text, const char *strip, s_points_t *out)
{
    size_t strip_len = strip ? strlen(strip) : 0;
    const unsigned char *p = (const unsigned char *)text;
    while (*p && out->n < S_MAX_POINTS) {
        if (strip_len && strncmp((const char *)p, strip, strip_len) == 0) {
            p += strip_len;
            continue;
        }
        unsigned cp = 0xFFFD;
        int len = hl_utf8_next(p, &cp);
        p += len > 0 ? len : 1;
        s_push(out, s_fold(len > 0 ? cp : 0xFFFD));
    }
}

static int s_numeral(uint32_t c)
{
    static const uint32_t digits[] = {0x96F6, 0x4E00, 0x4E8C, 0x4E09, 0x56DB,
                                      0x4E94, 0x516D, 0x4E03, 0x516B, 0x4E5D}; /* 零一二三…九 */
    for (int i = 0; i < 10; i++)
        if (c == digits[i])
            return i;
    if (c == 0x4E24) /* 两 */
        return 2;
    if (c == 0x5341) /* 十 */
        return 10;
    return -1;
}

/* 号 幢 栋 楼 单 层: words a number before them counts buildings, units or floors. */
static bool s_counter(uint32_t c)
{
    return c == 0x53F7 || c == 0x5E62 || c == 0x680B || c == 0x697C || c == 0x5355 || c == 0x5C42;
}

static bool s_kept(uint32_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xF900 && c <= 0xFAFF);
}

static bool s_digit(uint32_t c)
{
    return c >= '0' && c <= '9';
}

/* The value of a run of 1-3 Chinese numerals, or -1 when it is no number. */
static int s_numeral_value(const uint32_t *c, size_t n)
{
    int v[3];
    for (size_t i = 0; i < n; i++)
        v[i] = s_numeral(c[i]);
    if (n == 1)
        return v[0];
    if (v[0] == 10 && n == 2)
        return v[1] < 10 ? 10 + v[1] : -1;
    if (v[1] == 10 && n == 2)
        return v[0] < 10 ? v[0] * 10 : -1;
    if (n == 3 && v[1] == 10 && v[0] < 10 && v[2] < 10)
        return v[0] * 10 + v[2];
    int total = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] == 10)
            return -1;
        total = total * 10 + v[i];
    }
    return total;
}

/* Chinese numerals before a counter word become digits; what is not kept
 * (punctuation, symbols, space) goes. */
static void s_normalise(const s_points_t *in, s_points_t *out)
{
    for (size_t i = 0; i < in->n;) {
        size_t run = 0;
        while (run < 3 && i + run < in->n && s_numeral(in->c[i + run]) >= 0)
            run++;
        size_t used = 0;
        for (size_t k = run; k >= 1 && !used; k--) {
            if (i + k < in->n && s_counter(in->c[i + k])) {
                int v = s_numeral_value(in->c + i, k);
                if (v >= 0) {
                    char digits[8];
                    int len = snprintf(digits, sizeof digits, "%d", v);
                    for (int d = 0; d < len; d++)
                        s_push(out, (uint32_t)digits[d]);
                    used = k;
                }
            }
        }
        if (used) {
            i += used;
        } else {
            if (s_kept(in->c[i]))
                s_push(out, in->c[i]);
            i++;
        }
    }
}

/* ---- features ------------------------------------------------------------ */

static uint32_t s_feat(unsigned kind, uint32_t value)
{
    return (uint32_t)kind << 28 | (value & 0x0FFFFFFFu);
}

static uint32_t s_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return (uint32_t)x;
}

typedef struct {
    uint32_t f[TRIAGE_FEAT_MAX * 2]; /* gathered, unsorted */
    size_t n;                        /* count */
} s_bag_t;

static void s_add(s_bag_t *b, uint32_t f)
{
    if (b->n < sizeof b->f / sizeof b->f[0])
        b->f[b->n++] = f;
}

/* Does `p` (decoded, normalised) hold phrase `w` at `at`? */
static bool s_at(const s_points_t *p, size_t at, const char *w)
{
    const unsigned char *s = (const unsigned char *)w;
    size_t i = at;
    while (*s) {
        unsigned cp;
        int len = hl_utf8_next(s, &cp);
        if (len <= 0 || i >= p->n || p->c[i] != cp)
            return false;
        s += len;
        i++;
    }
    return true;
}

/* Place entities: a number and the word after it. */
static void s_entities(const s_points_t *p, s_bag_t *b)
{
    for (size_t i = 0; i < p->n; i++) {
        if (!s_digit(p->c[i]) || (i > 0 && s_digit(p->c[i - 1])))
            continue;
        uint32_t v = 0;
        size_t j = i;
        while (j < p->n && s_digit(p->c[j]) && v < 100000)
            v = v * 10 + (p->c[j++] - '0');
        while (j < p->n && s_digit(p->c[j]))
            j++;
        if (j >= p->n)
            break;
        uint32_t w = p->c[j], next = j + 1 < p->n ? p->c[j + 1] : 0;
        if (w == 0x53F7 /* 号 */ && next == 0x697C /* 楼 */)
            s_add(b, s_feat(TRIAGE_FEAT_BUILDING, v));
        else if (w == 0x53F7 /* 号 */ && v < 100)
            s_add(b, s_feat(TRIAGE_FEAT_BUILDING, v));
        else if (w == 0x5E62 /* 幢 */ || w == 0x680B /* 栋 */)
            s_add(b, s_feat(TRIAGE_FEAT_BUILDING, v));
        else if (w == 0x5355 /* 单 */ && next == 0x5143 /* 元 */)
            s_add(b, s_feat(TRIAGE_FEAT_UNIT, v));
        else if (w == 0x5C42 /* 层 */)
            s_add(b, s_feat(TRIAGE_FEAT_FLOOR, v));
        else if (w == 0x697C /* 楼 */ && next != 0x9053 /* 道 */ && next != 0x68AF /* 梯 */ &&
                 next != 0x9876 /* 顶 */)
            s_add(b, s_feat(TRIAGE_FEAT_FLOOR, v));
    }
    /* Gates: 东门 西门 南门 北门 大门 正门 后门 侧门. */
    static const uint32_t sides[] = {0x4E1C, 0x897F, 0x5357, 0x5317,
                                     0x5927, 0x6B63, 0x540E, 0x4FA7};
    for (size_t i = 0; i + 1 < p->n; i++)
        if (p->c[i + 1] == 0x95E8 /* 门 */)
            for (uint32_t k = 0; k < sizeof sides / sizeof sides[0]; k++)
                if (p->c[i] == sides[k])
                    s_add(b, s_feat(TRIAGE_FEAT_GATE, k));
}

static void s_concepts_of(const s_points_t *p, s_bag_t *b)
{
    for (uint32_t k = 0; k < S_NCONCEPTS; k++) {
        bool found = false;
        for (size_t w = 0; w < 12 && s_concepts[k][w] && !found; w++)
            for (size_t i = 0; i < p->n && !found; i++)
                found = s_at(p, i, s_concepts[k][w]);
        if (found)
            s_add(b, s_feat(TRIAGE_FEAT_CONCEPT, k));
    }
}

static int s_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

void triage_feats_of(triage_feats_t *out, const char *text, const char *strip)
{
    assert(out);
    memset(out, 0, sizeof *out);
    if (!text)
        return;
    s_points_t *raw = hl_calloc(2, sizeof *raw), *p = raw + 1;
    s_decode(text, strip && *strip ? strip : NULL, raw);
    s_normalise(raw, p);
    s_bag_t *b = hl_calloc(1, sizeof *b);
    /* Entities and concepts first: they must survive the cap. */
    s_entities(p, b);
    s_concepts_of(p, b);
    for (size_t i = 0; i + 1 < p->n; i++) {
        uint32_t a = p->c[i], c = p->c[i + 1];
        if (s_digit(a) && s_digit(c))
            continue; /* numbers are read as entities */
        s_add(b, s_feat(TRIAGE_FEAT_GRAM, s_mix((uint64_t)a << 32 | c)));
    }
    /* Unique, keeping the first TRIAGE_FEAT_MAX in the order found. */
    for (size_t i = 0; i < b->n && out->n < TRIAGE_FEAT_MAX; i++) {
        bool seen = false;
        for (size_t k = 0; k < out->n && !seen; k++)
            seen = out->f[k] == b->f[i];
        if (!seen)
            out->f[out->n++] = b->f[i];
    }
    qsort(out->f, out->n, sizeof out->f[0], s_cmp_u32);
    free(b);
    free(raw);
}

bool triage_feats_has(const triage_feats_t *a, unsigned kind)
{
    for (size_t i = 0; i < a->n; i++)
        if (TRIAGE_FEAT_KIND(a->f[i]) == kind)
            return true;
    return false;
}

/* ---- weights and similarity -------------------------------------------- */

/* Fixed weights of the features that name a place or a thing. They were
 * chosen on tests/data/triage-tune.jsonl (see the README); a bigram weighs
 * the square root of its idf, so a phrase only one resident used does not
 * outweigh the lift or the building both name. */
#define S_W_BUILDING 12.0 /* a building */
#define S_W_UNIT     6.0  /* a unit */
#define S_W_FLOOR    1.0  /* a floor */
#define S_W_GATE     8.0  /* a gate */
#define S_W_CONCEPT  12.0 /* a concept */

#define S_PLACE_BONUS 1.3 /* a shared building, unit, floor or gate raises the overlap */

static bool s_place(uint32_t f)
{
    unsigned k = TRIAGE_FEAT_KIND(f);
    return k >= TRIAGE_FEAT_BUILDING && k <= TRIAGE_FEAT_GATE;
}

void triage_df_add(triage_df_t *df, const triage_feats_t *a)
{
    assert(df && a);
    df->docs++;
    for (size_t i = 0; i < a->n; i++)
        if (TRIAGE_FEAT_KIND(a->f[i]) == TRIAGE_FEAT_GRAM) {
            uint32_t *c = &df->count[a->f[i] % TRIAGE_DF_SLOTS];
            if (*c < UINT32_MAX)
                (*c)++;
        }
}

double triage_feat_weight(const triage_df_t *df, uint32_t f)
{
    switch (TRIAGE_FEAT_KIND(f)) {
    case TRIAGE_FEAT_BUILDING:
        return S_W_BUILDING;
    case TRIAGE_FEAT_UNIT:
        return S_W_UNIT;
    case TRIAGE_FEAT_FLOOR:
        return S_W_FLOOR;
    case TRIAGE_FEAT_GATE:
        return S_W_GATE;
    case TRIAGE_FEAT_CONCEPT:
        return S_W_CONCEPT;
    default:
        break;
    }
    if (!df || df->docs == 0)
        return 1.0;
    double n = (double)df->docs, d = (double)df->count[f % TRIAGE_DF_SLOTS];
    double idf = log((n + 1.0) / (d + 0.5));
    return sqrt(idf > 0.0025 ? idf : 0.0025);
}

double triage_feats_similarity(const triage_df_t *df, const triage_feats_t *a,
                               const triage_feats_t *b, bool *conflict)
{
    assert(a && b);
    return triage_similarity_raw(df, a->f, a->n, b->f, b->n, true, conflict);
}

double triage_similarity_raw(const triage_df_t *df, const uint32_t *af, size_t an,
                             const uint32_t *bf, size_t bn, bool same_compound, bool *conflict)
{
    double num = 0, da = 0, db = 0, pn = 0, pa = 0, pb = 0; /* p*: place features */
    /* Per entity kind: named on each side, shared. */
    unsigned named_a[8] = {0}, named_b[8] = {0}, shared[8] = {0};
    size_t i = 0, j = 0;
    while (i < an || j < bn) {
        if (j >= bn || (i < an && af[i] < bf[j])) {
            double w = triage_feat_weight(df, af[i]);
            da += w * w;
            pa += s_place(af[i]) ? w * w : 0;
            named_a[TRIAGE_FEAT_KIND(af[i]) & 7]++;
            i++;
        } else if (i >= an || bf[j] < af[i]) {
            double w = triage_feat_weight(df, bf[j]);
            db += w * w;
            pb += s_place(bf[j]) ? w * w : 0;
            named_b[TRIAGE_FEAT_KIND(bf[j]) & 7]++;
            j++;
        } else {
            double w = triage_feat_weight(df, af[i]);
            num += w * w;
            da += w * w;
            db += w * w;
            if (s_place(af[i])) {
                pn += w * w;
                pa += w * w;
                pb += w * w;
            }
            unsigned k = TRIAGE_FEAT_KIND(af[i]) & 7;
            named_a[k]++;
            named_b[k]++;
            shared[k]++;
            i++;
            j++;
        }
    }

    if (conflict) {
        *conflict = false;
        static const unsigned places[] = {TRIAGE_FEAT_BUILDING, TRIAGE_FEAT_UNIT, TRIAGE_FEAT_GATE};
        for (size_t k = 0; k < sizeof places / sizeof places[0]; k++) {
            unsigned kind = places[k];
            if (same_compound && named_a[kind] && named_b[kind] && !shared[kind])
                *conflict = true;
        }
    }
    /* Overlap coefficient: how much of the shorter text the other covers
     * (a one-line QR appeal is all inside a long visit note of the same
     * matter, while a cosine would punish the length of the note). Places
     * alone never make two appeals alike (one building has many matters):
     * the overlap is of what the texts say, and a shared place raises it. */
    double least = (da - pa) < (db - pb) ? (da - pa) : (db - pb);
    if (least <= 0)
        return 0;
    double sim = (num - pn) / least;
    if (same_compound && pn > 0) /* "building 5" of two compounds is two buildings */
        sim *= S_PLACE_BONUS;
    return sim > 1 ? 1 : sim;
}

triage_scorer_t triage_scorer_default(void)
{
    return (triage_scorer_t){
        .threshold = 0.75,
        .other_compound = 1.0,
        .size_mismatch = 0.8,
        .wish_mismatch = 0.40,
        .category_mismatch = 1.0,
        .building_conflict = 0.10,
    };
}
