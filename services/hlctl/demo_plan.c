/* demo_plan.c: what `hlctl demo` will make residents say, decided before a
 * word is posted (pure: no I/O, unit-tested in test_hlctl_demo_plan.c).
 *
 * The report's period is played as rounds: residents report matters, then
 * the councils sit, the wish board is worked and the joint meeting meets,
 * so that a round's items are resolved before the next round's appeals
 * arrive. A matter is one thing several residents report (the same text in
 * their own words), so the number of items is the number of matters as
 * long as triage consolidates repeated reports of one matter and keeps
 * apart what differs; the plan makes that easy for any sensible
 * consolidation: within a round no two matters of one size share a
 * community and a category, and consecutive rounds use other communities
 * and categories (triage remembers its decisions for a few seconds).
 *
 * At 2,100 appeals the shape is the report's: 345 wishes of which 336 are
 * completed; 336 small matters reported 698 times, heard by councils but
 * for 4; 30 large matters (the rest of the appeals: city-wide matters draw
 * many voices) of which 28 are solved with a member unit; 366 items, 360
 * resolved. Other sizes scale every number. */
#include "hlctl.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

const hlctl_template_t hlctl_demo_templates[] = {
    {"small", "environment",
     "%s%d号楼楼道里堆满了杂物和废纸箱，垃圾没人清理，夏天有异味，请尽快清理。"},
    {"small", "environment", "%s垃圾分类亭周边气味很大，垃圾桶满了没人及时清运，夏天蚊蝇多。"},
    {"small", "environment", "%s%d号楼有住户在楼下长期堆放废品，引来老鼠蟑螂。"},
    {"small", "property",
     "%s%d号楼电梯这个月已经坏了三次，上下楼很不方便，物业费照收却迟迟不彻底检修。"},
    {"small", "property", "%s快递驿站搬走后快递堆在门岗，经常丢件，希望物业重新安排快递柜。"},
    {"small", "property", "%s物业费涨了却没看到服务改善，保安经常不在岗，希望物业公开收支。"},
    {"small", "parking", "%s地下车库有人用地锁占用公共车位，和物业说了也没人管。"},
    {"small", "parking", "%s%d号楼前的空地经常停满私家车，晚上回来没有车位，希望重新规划停车位。"},
    {"small", "parking", "%s小区里电动车乱停乱放，挡住了出入口，希望划定停放区域。"},
    {"small", "neighbour", "%s%d号楼楼上住户半夜经常大声喧哗、拖动家具，多次沟通无果，请求调解。"},
    {"small", "neighbour", "%s%d号楼有住户在楼道里养狗，狗粪没人清理，邻里为此争吵，请求协调。"},
    {"small", "neighbour", "%s%d号楼对门邻居在门口装了摄像头正对我家，多次协商无果，请社区评理。"},
    {"small", "greening", "%s中心绿地被部分居民开垦种菜，绿化被毁，希望三方商量恢复绿化。"},
    {"small", "greening", "%s儿童游乐区的健身器材有几处松动生锈，孩子玩耍不安全，请维修。"},
    {"small", "safety", "%s%d号楼有居民把电动车推进楼道充电，存在火灾隐患，消防通道也被堵。"},
    {"small", "safety", "%s%d号楼屋檐下有一个大马蜂窝，进出的居民担心被蛰，请尽快处理。"},
    {"small", "utilities", "%s%d号楼二次供水水压不足，高层住户早晚用水很不方便，请物业排查水泵。"},
    {"small", "utilities", "%s%d号楼的楼道灯坏了一个多月，晚上上下楼黑漆漆的，请尽快修好。"},
    {"small", "housing", "%s%d号楼外墙瓷砖有脱落，下面是小孩玩耍的地方，怕砸到人，请尽快处理。"},
    {"small", "housing", "%s%d号楼顶层墙面渗水发霉，多次报修没人来看，请尽快维修。"},
    {"large", "roads",
     "%s门口的主干道路面坑洼严重，雨天积水，行人多次摔倒，建议市政部门整体改造。"},
    {"large", "roads",
     "%s旁边的道路路口没有红绿灯，上下学高峰车流人流混杂，建议交警部门增设红绿灯。"},
    {"large", "roads", "%s附近公交线路撤站后居民出行不便，建议公交公司恢复站点或增开支线。"},
    {"large", "market",
     "%s附近农贸市场外马路流动摊贩占道经营，早晚高峰堵塞交通，建议城管规范设置疏导点。"},
    {"large", "utilities",
     "%s一带雨污管网老化，一下暴雨就停水，污水倒灌，建议水务部门统一改造管网。"},
    {"large", "housing",
     "%s是上世纪的老旧宿舍楼，屋顶漏水、墙体开裂，已成危房，希望住建部门纳入老旧小区改造。"},
    {"large", "environment", "%s旁边的河沟垃圾堆放、异味很重，建议城管和生态环境部门联合整治。"},
    {"wish", "elderly", "%s%d号楼独居老人王奶奶腿脚不便，想请志愿者每周帮忙买一次菜。"},
    {"wish", "elderly", "%s%d号楼残疾人张叔叔想请志愿者帮忙推轮椅去医院复查。"},
    {"wish", "elderly", "%s%d号楼空巢老人希望有人陪伴聊天，每月来看看他。"},
    {"wish", "utilities", "%s%d号楼一户人家不会在手机上交水电费，想请志愿者按月帮忙代缴。"},
    {"wish", "utilities", "%s%d号楼一户居民家里网络坏了，想请懂行的志愿者帮忙看看。"},
    {"wish", "other", "%s%d号楼一位单亲妈妈想为孩子借一套初中数学辅导书，微心愿请大家帮忙。"},
    {"wish", "other", "%s%d号楼一位外来务工人员想学用电脑投简历，想找人教一教。"},
    {"wish", "housing", "%s%d号楼一位行动不便的居民家里水龙头漏水，想请志愿者上门帮忙换个新的。"},
    {"wish", "greening", "%s%d号楼几个孩子想在楼下花坛种向日葵，希望有志愿者带着一起种。"},
    {"wish", "environment", "%s%d号楼一户居民想请志愿者帮忙把攒下的废品搬到回收站。"},
};
const size_t hlctl_demo_ntemplates = sizeof hlctl_demo_templates / sizeof hlctl_demo_templates[0];

/* The report's shape at its own scale (DOMAIN.md, "Figures in the report"). */
#define S_REPORT_APPEALS      2100 /* appeals collected */
#define S_REPORT_WISHES       345  /* wishes posted: 336 completed, 9 still open */
#define S_REPORT_WISHES_OPEN  9
#define S_REPORT_SMALL        336 /* small items: with the large ones, 366 */
#define S_REPORT_SMALL_APPEAL 698 /* appeals the councils took up ... */
#define S_REPORT_SMALL_OPEN   4   /* ... all heard but these items' (689 resolved) */
#define S_REPORT_LARGE        30  /* large items: 28 solved with member units */
#define S_REPORT_LARGE_OPEN   2
#define S_REPORT_ROUNDS       12 /* rounds the period is played in */

static const char *const s_sizes[] = {"wish", "small", "large"};

/* `report_value` at the scale of `appeals` (rounded). */
static int s_scaled(int report_value, int appeals)
{
    return (int)(((long long)report_value * appeals + S_REPORT_APPEALS / 2) / S_REPORT_APPEALS);
}

static int s_min(int a, int b)
{
    return a < b ? a : b;
}

/* The categories of `size`'s templates, each once, in template order;
 * returns how many (at most `max`). */
static int s_categories(const char *size, const char **out, int max)
{
    int n = 0;
    for (size_t t = 0; t < hlctl_demo_ntemplates; t++) {
        const hlctl_template_t *x = &hlctl_demo_templates[t];
        if (strcmp(x->size, size) != 0)
            continue;
        bool seen = false;
        for (int k = 0; k < n; k++)
            seen = seen || strcmp(out[k], x->category) == 0;
        if (!seen && n < max)
            out[n++] = x->category;
    }
    return n;
}

/* The `pick`-th template (modulo their number) of `size` and `category`. */
static int s_template(const char *size, const char *category, int pick)
{
    int n = 0;
    for (size_t t = 0; t < hlctl_demo_ntemplates; t++)
        n += strcmp(hlctl_demo_templates[t].size, size) == 0 &&
             strcmp(hlctl_demo_templates[t].category, category) == 0;
    int want = pick % n;
    for (size_t t = 0; t < hlctl_demo_ntemplates; t++)
        if (strcmp(hlctl_demo_templates[t].size, size) == 0 &&
            strcmp(hlctl_demo_templates[t].category, category) == 0 && want-- == 0)
            return (int)t;
    return -1;
}

/* Adds `count` matters of `size` reported `appeals` times in all, spread
 * evenly over the rounds; the last `open` stay unresolved (they fall in
 * the last round as long as a round holds at least that many). */
static void s_add(hlctl_plan_t *p, int size, int count, int appeals, int open, int communities)
{
    if (count <= 0)
        return;
    const char *categories[16];
    int ncat = s_categories(s_sizes[size], categories, 16);
    int slots = communities * ncat;
    int per_round = (count + p->rounds - 1) / p->rounds;
    int first = 0; /* first matter of the current round */
    for (int k = 0; k < count; k++) {
        hlctl_matter_t *m = &p->matters[p->n++];
        m->round = (int)((long long)k * p->rounds / count);
        while (first < k && (int)((long long)first * p->rounds / count) < m->round)
            first++;
        /* Round r takes slots r*per_round onwards: consecutive rounds take
         * different slots while 2 * per_round <= slots. */
        int slot = (m->round * per_round + (k - first)) % slots;
        m->community = slot % communities;
        const char *category = categories[(slot / communities + m->community) % ncat];
        m->template = s_template(s_sizes[size], category, m->round + m->community);
        m->appeals = appeals / count + (k < appeals % count);
        m->left_open = k >= count - open;
    }
}

int hlctl_demo_plan(int appeals, int communities, hlctl_plan_t *p)
{
    assert(p);
    memset(p, 0, sizeof *p);
    if (appeals < 1 || communities < 1)
        return HL_EINVAL;
    int wishes = s_min(appeals, s_scaled(S_REPORT_WISHES, appeals));
    int small_appeals = s_min(appeals - wishes, s_scaled(S_REPORT_SMALL_APPEAL, appeals));
    int small = s_min(small_appeals, s_scaled(S_REPORT_SMALL, appeals));
    if (small == 0 && small_appeals > 0)
        small = 1;
    int large_appeals = appeals - wishes - small_appeals;
    int large = s_min(large_appeals, s_scaled(S_REPORT_LARGE, appeals));
    if (large == 0 && large_appeals > 0)
        large = 1;
    p->rounds = s_scaled(S_REPORT_ROUNDS, appeals);
    if (p->rounds < 1)
        p->rounds = 1;
    p->matters = hl_calloc((size_t)(wishes + small + large), sizeof *p->matters);
    s_add(p, 0, wishes, wishes, s_min(wishes, s_scaled(S_REPORT_WISHES_OPEN, appeals)),
          communities);
    s_add(p, 1, small, small_appeals, s_min(small, s_scaled(S_REPORT_SMALL_OPEN, appeals)),
          communities);
    s_add(p, 2, large, large_appeals, s_min(large, s_scaled(S_REPORT_LARGE_OPEN, appeals)),
          communities);
    return 0;
}

void hlctl_demo_plan_close(hlctl_plan_t *p)
{
    assert(p);
    free(p->matters);
    memset(p, 0, sizeof *p);
}
