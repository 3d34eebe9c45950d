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
    /* More things residents name in many ways (general knowledge of what
     * appeals are about, grouped by the thing, not by any data set). */
    {"货车", "大车", "渣土车", "重型车", "重车", "拉土车", "水泥罐车", "搅拌车", "卡车"},
    {"空调", "风扇", "电扇", "冷风扇", "电风扇"},
    {"冰箱", "洗衣机", "电视", "家电", "电饭煲", "微波炉"},
    {"燃气灶", "煤气灶", "灶台", "点火", "打不着火", "灶具"},
    {"热水", "洗澡", "淋浴"},
    {"门锁", "锁坏", "防盗门", "木门", "入户门", "换锁", "门关不上", "门关不严"},
    {"褥疮", "气垫床", "护理床", "卧床", "床垫"},
    {"助听器", "老花镜", "眼镜", "假牙", "血压计", "拐杖"},
    {"衣服", "棉衣", "羽绒服", "被子", "棉被", "书包", "文具", "鞋"},
    {"清淤", "淤泥", "淤积", "淤塞", "疏浚", "河道", "河床"},
    {"死鱼", "发黑", "发臭", "黑臭", "水体", "绿藻", "污染"},
    {"改造", "老旧小区", "翻新", "提升", "整治"},
    {"漏雨", "屋面", "防水层", "顶层"},
    {"增容", "跳闸", "断电", "停电", "线路", "电线", "老化"},
    {"管网", "管子", "管道", "立管", "水管", "爆管"},
    {"锈", "锈蚀", "锈穿", "生锈"},
    {"塌陷", "沉降", "下沉", "坍塌"},
    {"坑", "坑洼", "坑槽", "破损", "路面", "烂路", "颠"},
    {"积水", "水淹", "倒灌", "漫", "蹚水"},
    {"拥堵", "堵车", "堵死", "堵塞交通", "车过不去", "出不去"},
    {"早市", "菜摊", "卖菜", "摊贩", "地摊", "占道", "集市", "赶集", "逢集", "大集"},
    {"油烟", "烧烤", "夜宵", "大排档"},
    {"扬尘", "灰尘", "粉尘", "尘土"},
    {"震", "震动", "抖", "晃"},
    {"夜里", "夜间", "晚上", "半夜", "凌晨", "整夜"},
    {"鸽子", "养鸽", "鸽粪", "鸡", "养鸡", "鸭"},
    {"麻将", "棋牌", "打牌"},
    {"信号", "基站", "没信号", "网络差"},
    {"路灯", "不亮", "太黑", "没灯"},
    {"电瓶", "充电桩", "充电棚"},
    {"车棚", "自行车棚", "非机动车"},
    {"围墙", "栏杆", "护栏", "铁栅栏"},
    {"墙皮", "脱落", "掉渣", "掉块", "起皮"},
    {"保温层", "外保温", "保温板"},
    {"阳台", "雨棚", "遮阳棚"},
    {"物业", "物业公司", "保洁", "清扫", "拖地", "打扫"},
    {"楼道", "过道", "走廊", "楼梯间"},
    {"噪音", "吵", "响", "声音"},
    {"低保", "困难", "贫困", "孤儿", "残疾人", "困境"},
    {"独居", "一个人住", "空巢", "孤寡", "没人照顾"},
    {"买菜", "送菜", "买药", "送药", "代购"},
    {"陪诊", "陪同", "带她去", "带他去", "陪着去"},
    {"理发", "剪头", "剪头发"},
    {"辅导", "补课", "功课", "家教", "学习", "补习", "补补"},
    {"搬家", "搬东西", "扛", "搬不动"},
    {"维修", "修理", "修一下", "帮忙修"},
    {"违停", "乱停", "占用车位", "堵门口", "挡道"},
    {"消防", "灭火器", "消防栓", "火灾隐患"},
    {"安全隐患", "危险", "隐患", "砸到人"},
    {"渗水", "渗漏", "洇水", "返潮", "滴水"},
    {"下水", "地漏", "马桶", "返臭", "堵了", "疏通"},
    {"供暖", "暖气"},
    {"猫", "流浪猫", "流浪狗"},
    {"自闭症", "孤独症", "特殊儿童", "脑瘫", "智力障碍", "多动症", "唐氏"},
    {"大扫除", "做卫生", "打扫卫生", "擦窗", "收拾屋子", "家政"},
    {"临时用电", "一户一表", "抄表到户", "供电移交", "电价", "施工用电"},
    {"弃管", "没人管", "无物业", "三无小区", "物业撤", "没有物业"},
    {"臭水沟", "黑臭", "发黑", "水发臭", "河水臭", "河臭"},
    {"活禽", "杀鸡", "宰杀", "鱼摊", "鸡摊", "血水"},
    /* What is wrong with a thing, as against the thing: one lift has a
     * breakdown, adverts, a card reader; one building's water is a burst
     * pipe, a dirty tank, a meter that turns. */
    {"广告", "小广告", "广告屏", "牛皮癣", "传单", "贴满"},
    {"困人", "关在里面", "关里头", "卡住", "下坠", "急停", "停运", "故障"},
    {"公示", "公开", "账目", "收益", "收支", "明细", "去向"},
    {"水箱", "二次供水", "泵房", "蓄水池"},
    {"水表", "电表", "燃气表", "水费", "电费", "燃气费"},
    {"诈骗", "骗子", "贷款", "理财", "保健品", "传销"},
    {"果子", "落果", "白果", "银杏果", "果实"},
    {"中转站", "压缩站", "转运站"},
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

/* A set of characters written as a UTF-8 string, decoded once into a
 * sorted table: the surnames are looked up at every character of every
 * appeal, and decoding the string each time was most of that cost. */
#define S_CHARSET_MAX 256
typedef struct {
    const char *utf8;          /* the characters */
    uint32_t c[S_CHARSET_MAX]; /* decoded, sorted (filled on first use) */
    size_t n;                  /* count; 0 until decoded */
} s_charset_t;

static int s_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Is code point `c` one of the characters of `set`? */
static bool s_in(s_charset_t *set, uint32_t c)
{
    if (set->n == 0) {
        const unsigned char *p = (const unsigned char *)set->utf8;
        unsigned cp;
        int len;
        while (*p && (len = hl_utf8_next(p, &cp)) > 0) {
            assert(set->n < S_CHARSET_MAX);
            set->c[set->n++] = cp;
            p += len;
        }
        qsort(set->c, set->n, sizeof set->c[0], s_cmp_u32);
    }
    return bsearch(&c, set->c, set->n, sizeof set->c[0], s_cmp_u32) != NULL;
}

/* Named places outside the compound: a road, river, street, lane, bridge,
 * ditch, lake, market or square, named by the one or two characters before
 * the word (凤河, 东门路, 绣溪路, 鼓楼菜市场). Both the one- and the
 * two-character name are kept, since residents shorten names (月牙河, 牙河
 * is never said, but 凤河 has one character only). Words that only say
 * "a road" (马路, 大路, 这条路, 道路, 公路) name nothing. */
static bool s_cjk(uint32_t c)
{
    return c >= 0x4E00 && c <= 0x9FFF;
}

static bool s_unnamed(uint32_t c)
{
    /* Words before 路/河/街 that make no name: "a road", "the road", and
     * verbs of walking, seeing, blocking (看不清路, 走路, 让路, 过河, 逛街,
     * 沿街, 修路, 堵路). (门 stays: 东门路 is a name.) */
    static s_charset_t stop = {
        .utf8 = "马大小道公条这那的上下出过修挖走边段前后里外旁水铁土在到从是了有个整新老对附近"
                "清带让一问开堵挡绕认引赶找探迷半山断封占拦逛沿满临跳游天网铺烂坏条些片"
                "字线顺趟之头电短思回映报望请把往成入进掉约着及和称以月重该座窜识接挨侧自暴季理雨"
                "照熄漏排至远要心间口"};
    return !s_cjk(c) || s_in(&stop, c);
}

static void s_named(const s_points_t *p, s_bag_t *b)
{
    /* 路 河 街 巷 桥 沟 渠 湖; 场 after 市/菜/广 (市场 菜场 广场) */
    static const uint32_t words[] = {0x8DEF, 0x6CB3, 0x8857, 0x5DF7,
                                     0x6865, 0x6C9F, 0x6E20, 0x6E56};
    for (size_t i = 1; i < p->n; i++) {
        uint32_t w = p->c[i];
        size_t end = i; /* the name ends before p->c[end] */
        bool place = false;
        for (size_t k = 0; k < sizeof words / sizeof words[0] && !place; k++)
            place = w == words[k];
        if (!place && w == 0x573A /* 场 */ && i >= 2 &&
            (p->c[i - 1] == 0x5E02 || p->c[i - 1] == 0x83DC || p->c[i - 1] == 0x5E7F)) {
            place = true;
            end = i - 1; /* 鼓楼菜场: the name is before 菜场 */
            if (end >= 1 && p->c[end] == 0x5E02 && p->c[end - 1] == 0x83DC)
                end--; /* 菜市场 */
        }
        /* 沟通 (to talk things over) and 路灯, 路面, 路况, 路线, 路费 name
         * no place; nor does a verb or a measure before the word (反映河道,
         * 希望街道, 变成河, 往河里). */
        uint32_t after = i + 1 < p->n ? p->c[i + 1] : 0;
        if (place && w == 0x6C9F /* 沟 */ && after == 0x901A /* 通 */)
            place = false;
        /* 街道 (the subdistrict office), 广场舞 (square dancing), 市场监管
         * (the market regulator) name no place either. */
        if (place && w == 0x8857 /* 街 */ && after == 0x9053 /* 道 */)
            place = false;
        if (place && w == 0x573A /* 场 */ && (after == 0x821E /* 舞 */ || after == 0x76D1 /* 监 */))
            place = false;
        if (place && w == 0x8DEF /* 路 */ &&
            (after == 0x706F /* 灯 */ || after == 0x9762 /* 面 */ || after == 0x51B5 /* 况 */ ||
             after == 0x7EBF /* 线 */ || after == 0x8D39 /* 费 */))
            place = false;
        if (!place || end < 1 || s_unnamed(p->c[end - 1]))
            continue;
        uint32_t one = p->c[end - 1];
        s_add(b, s_feat(TRIAGE_FEAT_NAMED, s_mix((uint64_t)one << 32 | w)));
        if (end >= 2 && !s_unnamed(p->c[end - 2]))
            s_add(b, s_feat(TRIAGE_FEAT_NAMED,
                            s_mix((uint64_t)p->c[end - 2] << 42 ^ (uint64_t)one << 21 ^ w)));
    }
}

bool triage_text_names_place(const char *text)
{
    if (!text)
        return false;
    s_points_t *raw = hl_calloc(2, sizeof *raw), *p = raw + 1;
    s_decode(text, NULL, raw);
    s_normalise(raw, p);
    s_bag_t *b = hl_calloc(1, sizeof *b);
    s_named(p, b);
    bool named = b->n > 0;
    free(b);
    free(raw);
    return named;
}

/* Persons: a surname and a form of address after it (章奶奶, 孙大爷, 冯爹爹,
 * 陈某, 王师傅). A wish is one person's need; two residents writing about
 * one old lady name her the same way, and two old people of one compound
 * are two wishes. The surnames are the common ones of the country (not of
 * any sample); 楼, 卫, 安, 长 and the like are left out, being far more
 * often "the upstairs aunt", "the gatekeeper" than a name. */
static bool s_surname(uint32_t c)
{
    static s_charset_t names = {
        .utf8 = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡"
                "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷"
                "侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔汤章葛柳鲁倪殷庞温俞施祝童"};
    return s_in(&names, c);
}

static void s_persons(const s_points_t *p, s_bag_t *b)
{
    static const char *const address[] = {
        "奶奶", "爷爷", "大爷", "大妈", "大娘", "阿姨", "叔叔", "婆婆", "阿婆", "爹爹", "老爷子",
        "老太", "师傅", "大姐", "大哥", "伯伯", "大伯", "老师", "女士", "先生", "某",
    };
    for (size_t i = 0; i + 1 < p->n; i++) {
        if (!s_surname(p->c[i]))
            continue;
        for (size_t k = 0; k < sizeof address / sizeof address[0]; k++)
            if (s_at(p, i + 1, address[k])) {
                s_add(b, s_feat(TRIAGE_FEAT_PERSON, p->c[i]));
                break;
            }
    }
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
    s_named(p, b);
    s_persons(p, b);
    /* Gates: 东门 西门 南门 北门 大门 正门 后门 侧门. */
    static const uint32_t sides[] = {0x4E1C, 0x897F, 0x5357, 0x5317,
                                     0x5927, 0x6B63, 0x540E, 0x4FA7};
    for (size_t i = 0; i + 1 < p->n; i++)
        if (p->c[i + 1] == 0x95E8 /* 门 */)
            for (uint32_t k = 0; k < sizeof sides / sizeof sides[0]; k++)
                if (p->c[i] == sides[k])
                    s_add(b, s_feat(TRIAGE_FEAT_GATE, k));
}

/* The first code point of every phrase of the lexicon, decoded once: a
 * phrase is only compared where the text has its first character (decoding
 * every phrase at every place was a third of hl-triage's CPU). */
static uint32_t s_first[S_NCONCEPTS][12];

static void s_first_init(void)
{
    static bool done;
    if (done)
        return;
    for (size_t k = 0; k < S_NCONCEPTS; k++)
        for (size_t w = 0; w < 12 && s_concepts[k][w]; w++) {
            unsigned cp = 0;
            if (hl_utf8_next((const unsigned char *)s_concepts[k][w], &cp) <= 0)
                cp = 0xFFFD; /* never in decoded text */
            s_first[k][w] = cp;
        }
    done = true;
}

static void s_concepts_of(const s_points_t *p, s_bag_t *b)
{
    s_first_init();
    for (uint32_t k = 0; k < S_NCONCEPTS; k++) {
        bool found = false;
        for (size_t w = 0; w < 12 && s_concepts[k][w] && !found; w++)
            for (size_t i = 0; i < p->n && !found; i++)
                found = p->c[i] == s_first[k][w] && s_at(p, i, s_concepts[k][w]);
        if (found)
            s_add(b, s_feat(TRIAGE_FEAT_CONCEPT, k));
    }
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
#define S_W_NAMED    10.0 /* a named road, river, market */
#define S_W_PERSON   10.0 /* a person */

#define S_PLACE_BONUS 1.3 /* a shared building, unit, floor, gate or person raises the overlap */

static bool s_place(uint32_t f)
{
    unsigned k = TRIAGE_FEAT_KIND(f);
    return (k >= TRIAGE_FEAT_BUILDING && k <= TRIAGE_FEAT_GATE) || k == TRIAGE_FEAT_PERSON;
}

void triage_df_add(triage_df_t *df, const triage_feats_t *a)
{
    assert(df && a);
    df->docs++;
    df->log_docs = log((double)df->docs + 1.0);
    for (size_t i = 0; i < a->n; i++)
        if (TRIAGE_FEAT_KIND(a->f[i]) == TRIAGE_FEAT_GRAM) {
            uint32_t *c = &df->count[a->f[i] % TRIAGE_DF_SLOTS];
            if (*c < UINT32_MAX)
                (*c)++;
        }
}

/* Below this many appeals counted, every bigram weighs 1: on a new
 * installation the first few appeals would make every bigram either "seen
 * everywhere" or "never seen", and two letters about one lamp, the second
 * and third appeals ever, would look less alike than they are. */
#define S_DF_MIN_DOCS 50

/* log(d + 0.5) for the counts most bigrams have, filled as they are met:
 * the weights are read ~100 times per comparison, hundreds of comparisons
 * per appeal, and log() was a third of hl-triage's CPU. Zero means not yet
 * computed (no count gives 0). Single-threaded, like the daemon. */
#define S_LOG_COUNTS 65536
static double s_log_count[S_LOG_COUNTS];

static double s_log_half(uint32_t d)
{
    if (d >= S_LOG_COUNTS)
        return log((double)d + 0.5);
    if (s_log_count[d] == 0)
        s_log_count[d] = log((double)d + 0.5);
    return s_log_count[d];
}

/* The fixed weight of each kind of feature but bigrams (whose weight is
 * their idf). (Kinds run 0-7.) */
static const double s_kind_w[8] = {
    [TRIAGE_FEAT_GRAM] = 0,          [TRIAGE_FEAT_BUILDING] = S_W_BUILDING,
    [TRIAGE_FEAT_UNIT] = S_W_UNIT,   [TRIAGE_FEAT_FLOOR] = S_W_FLOOR,
    [TRIAGE_FEAT_GATE] = S_W_GATE,   [TRIAGE_FEAT_CONCEPT] = S_W_CONCEPT,
    [TRIAGE_FEAT_NAMED] = S_W_NAMED, [TRIAGE_FEAT_PERSON] = S_W_PERSON,
};

/* The squared fixed weight of `kind`. */
static inline double s_kind_w2(unsigned kind)
{
    return s_kind_w[kind & 7] * s_kind_w[kind & 7];
}

/* The squared weight of feature `f` (what every sum uses): the idf of a
 * bigram, at least 0.0025, or the fixed weight of an entity or concept. */
static inline double s_w2(const triage_df_t *df, uint32_t f)
{
    unsigned k = TRIAGE_FEAT_KIND(f);
    if (k != TRIAGE_FEAT_GRAM)
        return s_kind_w2(k);
    if (!df || df->docs < S_DF_MIN_DOCS)
        return 1.0;
    double idf = df->log_docs - s_log_half(df->count[f % TRIAGE_DF_SLOTS]);
    return idf > 0.0025 ? idf : 0.0025;
}

double triage_feat_weight(const triage_df_t *df, uint32_t f)
{
    unsigned k = TRIAGE_FEAT_KIND(f);
    return k == TRIAGE_FEAT_GRAM ? sqrt(s_w2(df, f)) : s_kind_w[k & 7];
}

double triage_feats_similarity(const triage_df_t *df, const triage_feats_t *a,
                               const triage_feats_t *b, bool *conflict)
{
    assert(a && b);
    return triage_similarity_raw(df, a->f, a->n, b->f, b->n, true, conflict);
}

/* The squared weight of features of a kind that weighs a fixed amount
 * (every kind but bigrams). */
void triage_sums_of(const triage_df_t *df, const uint32_t *f, size_t n, triage_sums_t *out)
{
    memset(out, 0, sizeof *out);
    out->docs = df ? (uint32_t)df->docs : 0;
    for (size_t i = 0; i < n; i++) {
        unsigned k = TRIAGE_FEAT_KIND(f[i]) & 7;
        if (k == TRIAGE_FEAT_GRAM)
            out->gram += s_w2(df, f[i]);
        if (out->kinds[k] < UINT8_MAX)
            out->kinds[k]++;
    }
}

bool triage_sums_stale(const triage_df_t *df, const triage_sums_t *s)
{
    uint64_t docs = df ? df->docs : 0;
    return docs > (uint64_t)s->docs + s->docs / 64 + 1 || docs < s->docs ||
           (s->docs < S_DF_MIN_DOCS) != (docs < S_DF_MIN_DOCS);
}

void triage_side_of(const triage_df_t *df, const uint32_t *f, size_t n, triage_side_t *out)
{
    assert(n <= TRIAGE_FEAT_MAX);
    out->f = f;
    out->n = n;
    triage_sums_of(df, f, n, &out->sums);
    for (size_t i = 0; i < n; i++)
        out->w2[i] = s_w2(df, f[i]);
}

/* What a comparison learns: the two sides' sums (borrowed) and what they
 * share, summed the same ways (all, place features, bigrams) and counted
 * by kind. */
typedef struct {
    const triage_sums_t *a, *b;
    double num, pn, gn;
    unsigned shared[8];
} s_cmp_t;

/* What a side's text weighs: everything but its place features. */
static double s_text_w2(const triage_sums_t *t)
{
    return t->gram + t->kinds[TRIAGE_FEAT_CONCEPT] * s_kind_w2(TRIAGE_FEAT_CONCEPT) +
           t->kinds[TRIAGE_FEAT_NAMED] * s_kind_w2(TRIAGE_FEAT_NAMED);
}

static void s_compare(const triage_side_t *a, const uint32_t *bf, size_t bn,
                      const triage_sums_t *bs, s_cmp_t *m)
{
    memset(m, 0, sizeof *m);
    m->a = &a->sums;
    m->b = bs;
    const uint32_t *af = a->f;
    size_t i = 0, j = 0, an = a->n;
    while (i < an && j < bn) {
        if (af[i] < bf[j]) {
            i++;
        } else if (bf[j] < af[i]) {
            j++;
        } else {
            unsigned k = TRIAGE_FEAT_KIND(af[i]) & 7;
            double w2 = a->w2[i];
            m->num += w2;
            m->pn += s_place(af[i]) ? w2 : 0;
            m->gn += k == TRIAGE_FEAT_GRAM ? w2 : 0;
            m->shared[k]++;
            i++;
            j++;
        }
    }
}

/* Two buildings (units, gates) named and none shared, in one compound. */
static bool s_conflict(const s_cmp_t *m, bool same_compound)
{
    static const unsigned places[] = {TRIAGE_FEAT_BUILDING, TRIAGE_FEAT_UNIT, TRIAGE_FEAT_GATE};
    for (size_t k = 0; same_compound && k < sizeof places / sizeof places[0]; k++)
        if (m->a->kinds[places[k]] && m->b->kinds[places[k]] && !m->shared[places[k]])
            return true;
    return false;
}

/* Overlap coefficient: how much of the shorter text the other covers (a
 * one-line QR appeal is all inside a long visit note of the same matter,
 * while a cosine would punish the length of the note). Places alone never
 * make two appeals alike (one building has many matters): the overlap is of
 * what the texts say, and a shared place raises it. */
static double s_overlap(const s_cmp_t *m, bool same_compound)
{
    double ta = s_text_w2(m->a), tb = s_text_w2(m->b), least = ta < tb ? ta : tb;
    if (least <= 0)
        return 0;
    double sim = (m->num - m->pn) / least;
    if (same_compound && m->pn > 0) /* "building 5" of two compounds is two buildings */
        sim *= S_PLACE_BONUS;
    return sim > 1 ? 1 : sim;
}

double triage_similarity_raw(const triage_df_t *df, const uint32_t *af, size_t an,
                             const uint32_t *bf, size_t bn, bool same_compound, bool *conflict)
{
    triage_side_t a;
    triage_sums_t b;
    triage_side_of(df, af, an, &a);
    triage_sums_of(df, bf, bn, &b);
    s_cmp_t m;
    s_compare(&a, bf, bn, &b, &m);
    if (conflict)
        *conflict = s_conflict(&m, same_compound);
    return s_overlap(&m, same_compound);
}

void triage_pair_of(const triage_df_t *df, const uint32_t *af, size_t an, const uint32_t *bf,
                    size_t bn, bool same_compound, triage_pair_t *out)
{
    triage_side_t a;
    triage_sums_t b;
    triage_side_of(df, af, an, &a);
    triage_sums_of(df, bf, bn, &b);
    triage_pair_fast(&a, bf, bn, &b, same_compound, out);
}

void triage_pair_fast(const triage_side_t *a, const uint32_t *bf, size_t bn,
                      const triage_sums_t *bs, bool same_compound, triage_pair_t *out)
{
    memset(out, 0, sizeof *out);
    s_cmp_t m;
    s_compare(a, bf, bn, bs, &m);
    unsigned ca = a->sums.kinds[TRIAGE_FEAT_CONCEPT], cb = bs->kinds[TRIAGE_FEAT_CONCEPT];
    unsigned cs = m.shared[TRIAGE_FEAT_CONCEPT], cmin = ca < cb ? ca : cb;
    unsigned na = a->sums.kinds[TRIAGE_FEAT_NAMED], nb = bs->kinds[TRIAGE_FEAT_NAMED];
    unsigned ns = m.shared[TRIAGE_FEAT_NAMED];
    out->x[TRIAGE_X_TEXT] = s_overlap(&m, same_compound);
    out->x[TRIAGE_X_CONFLICT] = s_conflict(&m, same_compound);
    out->x[TRIAGE_X_CONCEPTS] = cmin ? (double)cs / cmin : 0;
    out->x[TRIAGE_X_CONCEPT_ANY] = cs > 0;
    out->x[TRIAGE_X_CONCEPT_CONFLICT] = ca && cb && !cs;
    /* The kept side's sums may lag the weights a little: never above 1. */
    double ga = a->sums.gram, gb = bs->gram;
    double cos = ga > 0 && gb > 0 ? m.gn / sqrt(ga * gb) : 0;
    out->x[TRIAGE_X_GRAM_COS] = cos > 1 ? 1 : cos;
    out->x[TRIAGE_X_PLACE] = same_compound && m.pn > 0;
    out->x[TRIAGE_X_NAMED] = ns > 0;
    out->x[TRIAGE_X_NAMED_CONFLICT] = na && nb && !ns;
    out->x[TRIAGE_X_SAME_COMPOUND] = same_compound;
    unsigned pa = a->sums.kinds[TRIAGE_FEAT_PERSON], pb = bs->kinds[TRIAGE_FEAT_PERSON];
    unsigned ps = m.shared[TRIAGE_FEAT_PERSON];
    out->x[TRIAGE_X_PERSON] = same_compound && ps > 0;
    out->x[TRIAGE_X_PERSON_CONFLICT] = same_compound && pa && pb && !ps;
}

/* The pair model: gradient-boosted regression trees over the inputs of
 * triage_pair_expand (TRIAGE_MODEL_X), fitted on every pair of appeals of one
 * community in the tuning sets tests/data/triage-tune*.jsonl
 * (scripts/fit-scorer.py reads HL_EVAL_PAIRS output of test_triage_eval);
 * the held-out sets played no part. Each tree is complete, S_MODEL_DEPTH levels
 * laid out as a heap: inner node i sends the pair to 2i+1 when input in[i]
 * <= le[i] (the input compared as a float, as the fitter did), else to
 * 2i+2; the leaf reached adds its v to the log-odds. The fitter pads a leaf
 * found early with comparisons that always go left, so the walk is three
 * comparisons and no branch (2.7 us a pair walking sklearn's own node lists
 * with a branch at each node, 0.5 us this way, on random inputs). */
#include "scorer_model.h" /* S_MODEL_DEPTH, S_MODEL_TREES, S_MODEL_BASE, S_MODEL_INPUTS */
_Static_assert(S_MODEL_INPUTS == TRIAGE_MODEL_X,
               "scorer_model.h was fitted on other inputs: refit it (scripts/fit-scorer.py)");
#define S_INNER ((1 << S_MODEL_DEPTH) - 1)
typedef struct {
    uint8_t in[S_INNER];
    double le[S_INNER];
    double v[S_INNER + 1];
} s_tree_t;
#define S_MODEL_TABLE
#include "scorer_model.h"

static double s_past(double v, double knot)
{
    return v > knot ? v - knot : 0;
}

void triage_pair_expand(const triage_pair_t *x, double out[TRIAGE_MODEL_X])
{
    const double *v = x->x;
    double text = v[TRIAGE_X_TEXT], cos = v[TRIAGE_X_GRAM_COS], large = v[TRIAGE_X_LARGE_ANY];
    memcpy(out, v, sizeof x->x);
    double *d = out + TRIAGE_PAIR_X;
    d[0] = s_past(text, 0.3);
    d[1] = s_past(text, 0.5);
    d[2] = s_past(text, 0.7);
    d[3] = s_past(cos, 0.2);
    d[4] = s_past(cos, 0.4);
    d[5] = text * v[TRIAGE_X_SAME_COMPOUND];
    d[6] = cos * v[TRIAGE_X_SAME_COMPOUND];
    d[7] = text * large;
    d[8] = v[TRIAGE_X_CONCEPTS] * large;
    d[9] = v[TRIAGE_X_NAMED] * large;
    d[10] = text * v[TRIAGE_X_PLACE];
    d[11] = text * v[TRIAGE_X_CONCEPT_ANY];
}

double triage_pair_score(const triage_pair_t *x)
{
    double in[TRIAGE_MODEL_X], z = S_MODEL_BASE;
    triage_pair_expand(x, in);
    for (int i = 0; i < TRIAGE_MODEL_X; i++)
        in[i] = (float)in[i];
    for (const s_tree_t *t = s_trees; t < s_trees + S_MODEL_TREES; t++) {
        unsigned i = 0;
        for (int d = 0; d < S_MODEL_DEPTH; d++)
            i = 2 * i + 1 + (in[t->in[i]] > t->le[i]);
        z += t->v[i - S_INNER];
    }
    return 1.0 / (1.0 + exp(-z));
}

triage_scorer_t triage_scorer_default(void)
{
    return (triage_scorer_t){
        .threshold = TRIAGE_THRESHOLD_PERMILLE / 1000.0,
        .wish_mismatch = 0.40,
        .building_conflict = 0.10,
    };
}
