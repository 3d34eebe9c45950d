/* similar.c: how alike two appeals' texts are, for consolidating appeals
 * about the same matter into one item (DOMAIN.md workflow 2). Pure: no I/O.
 *
 * Chinese has no spaces to split words on, so a text is compared as the set
 * of its character bigrams (Dice coefficient). Before that it is normalised
 * so that the ways residents write the same place meet:
 *
 *   - the compound's own name is cut out: every appeal of a compound names
 *     it, so it says nothing about the matter;
 *   - Chinese numerals before a building or floor word become digits, and
 *     "号楼", "幢", "栋", "号" after a number all become "栋": 十四号楼,
 *     14幢 and 14栋 are one building;
 *   - punctuation, white space and symbols are dropped; ASCII and
 *     full-width letters are lower-cased, full-width digits made ASCII;
 *   - bigrams of words every appeal uses (小区, 物业, 反映, 希望 ...) are
 *     ignored.
 *
 * Measured on ../shared/data/sample-appeals.jsonl (tests/unit/
 * test_triage_consolidate.c): see services/triage/README.md. */
#include "triage.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bigrams too common in appeals to tell matters apart. */
static const char *const s_stop[] = {
    "小区", "物业", "反映", "住户", "探访", "希望", "社区", "居民", "网格", "格员", "走访", "来电",
    "入户", "一下", "请求", "建议", "问题", "我家", "我们", "没有", "不是", "现在", "天天", "已经",
};

/* Decodes one UTF-8 code point at *p and advances; stray bytes give 0xFFFD. */
static uint32_t s_next(const char **p)
{
    const unsigned char *s = (const unsigned char *)*p;
    uint32_t c = s[0];
    size_t n = c < 0x80             ? 1
               : (c & 0xE0) == 0xC0 ? 2
               : (c & 0xF0) == 0xE0 ? 3
               : (c & 0xF8) == 0xF0 ? 4
                                    : 0;
    if (n == 0) {
        (*p)++;
        return 0xFFFD;
    }
    if (n > 1)
        c &= 0xFFu >> (n + 1);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            (*p)++;
            return 0xFFFD;
        }
        c = (c << 6) | (s[i] & 0x3F);
    }
    *p += n;
    return c;
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

/* 号 幢 栋 楼 单 元 层: words a number before them counts buildings or floors. */
static bool s_counter(uint32_t c)
{
    return c == 0x53F7 || c == 0x5E62 || c == 0x680B || c == 0x697C || c == 0x5355 || c == 0x5143 ||
           c == 0x5C42;
}

static bool s_kept(uint32_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xF900 && c <= 0xFAFF);
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

typedef struct {
    uint32_t *c; /* code points */
    size_t n;    /* used */
    size_t cap;  /* allocated */
} s_points_t;

static void s_push(s_points_t *p, uint32_t c)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 64;
        p->c = hl_realloc(p->c, p->cap * sizeof *p->c);
    }
    p->c[p->n++] = c;
}

/* Decodes `text` with every occurrence of `strip` removed. */
static void s_decode(const char *text, const char *strip, s_points_t *out)
{
    size_t strip_len = strip ? strlen(strip) : 0;
    const char *p = text;
    while (*p) {
        if (strip_len && strncmp(p, strip, strip_len) == 0) {
            p += strip_len;
            continue;
        }
        s_push(out, s_fold(s_next(&p)));
    }
}

/* Chinese numerals before a counter word become digits. */
static void s_numerals(const s_points_t *in, s_points_t *out)
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
            s_push(out, in->c[i]);
            i++;
        }
    }
}

/* After digits, 号楼 / 幢 / 栋 / 号 become 栋; the rest is filtered. */
static void s_buildings(const s_points_t *in, s_points_t *out)
{
    for (size_t i = 0; i < in->n; i++) {
        uint32_t c = in->c[i];
        bool after_digit = i > 0 && in->c[i - 1] >= '0' && in->c[i - 1] <= '9';
        if (after_digit && c == 0x53F7 && i + 1 < in->n && in->c[i + 1] == 0x697C) {
            s_push(out, 0x680B);
            i++;
        } else if (after_digit && (c == 0x53F7 || c == 0x5E62)) {
            s_push(out, 0x680B);
        } else if (s_kept(c)) {
            s_push(out, c);
        }
    }
}

static int s_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t s_gram(uint32_t a, uint32_t b)
{
    return (uint64_t)a << 32 | b;
}

static bool s_stopped(uint64_t g)
{
    for (size_t i = 0; i < sizeof s_stop / sizeof s_stop[0]; i++) {
        const char *p = s_stop[i];
        uint32_t a = s_next(&p);
        uint32_t b = s_next(&p);
        if (g == s_gram(a, b))
            return true;
    }
    return false;
}

void triage_shingles_init(triage_shingles_t *s, const char *text, const char *strip)
{
    assert(s);
    memset(s, 0, sizeof *s);
    if (!text)
        return;
    s_points_t raw = {0}, numbered = {0}, kept = {0};
    s_decode(text, strip && *strip ? strip : NULL, &raw);
    s_numerals(&raw, &numbered);
    s_buildings(&numbered, &kept);
    if (kept.n >= 2) {
        s->grams = hl_calloc(kept.n - 1, sizeof *s->grams);
        for (size_t i = 0; i + 1 < kept.n; i++) {
            uint64_t g = s_gram(kept.c[i], kept.c[i + 1]);
            if (!s_stopped(g))
                s->grams[s->n++] = g;
        }
        qsort(s->grams, s->n, sizeof *s->grams, s_cmp_u64);
        size_t w = 0;
        for (size_t i = 0; i < s->n; i++)
            if (w == 0 || s->grams[w - 1] != s->grams[i])
                s->grams[w++] = s->grams[i];
        s->n = w;
    }
    free(raw.c);
    free(numbered.c);
    free(kept.c);
}

void triage_shingles_close(triage_shingles_t *s)
{
    if (!s)
        return;
    free(s->grams);
    s->grams = NULL;
    s->n = 0;
}

double triage_dice(const triage_shingles_t *a, const triage_shingles_t *b)
{
    assert(a && b);
    if (a->n == 0 || b->n == 0)
        return 0.0;
    size_t i = 0, j = 0, common = 0;
    while (i < a->n && j < b->n) {
        if (a->grams[i] == b->grams[j]) {
            common++;
            i++;
            j++;
        } else if (a->grams[i] < b->grams[j]) {
            i++;
        } else {
            j++;
        }
    }
    return 2.0 * (double)common / (double)(a->n + b->n);
}

double triage_similarity(const char *a, const char *strip_a, const char *b, const char *strip_b)
{
    triage_shingles_t x, y;
    triage_shingles_init(&x, a, strip_a);
    triage_shingles_init(&y, b, strip_b);
    double d = triage_dice(&x, &y);
    triage_shingles_close(&x);
    triage_shingles_close(&y);
    return d;
}

int triage_consolidate_pick(const triage_candidate_t *candidates, size_t n,
                            const triage_candidate_t *appeal, double threshold, double *score)
{
    assert(appeal);
    triage_shingles_t mine;
    triage_shingles_init(&mine, appeal->body, appeal->compound_name);
    int best = -1;
    double best_score = 0.0;
    for (size_t i = 0; i < n; i++) {
        const triage_candidate_t *c = &candidates[i];
        if (!c->size || !appeal->size || strcmp(c->size, appeal->size) != 0)
            continue;
        if ((c->category == NULL) != (appeal->category == NULL) ||
            (c->category && strcmp(c->category, appeal->category) != 0))
            continue;
        bool same_place =
            c->compound && appeal->compound && strcmp(c->compound, appeal->compound) == 0;
        triage_shingles_t theirs;
        triage_shingles_init(&theirs, c->body, c->compound_name);
        double s = triage_dice(&mine, &theirs);
        triage_shingles_close(&theirs);
        double need = same_place ? threshold : threshold * TRIAGE_NEIGHBOUR_FACTOR;
        if (s >= need && s > best_score) {
            best = (int)i;
            best_score = s;
        }
    }
    triage_shingles_close(&mine);
    if (score)
        *score = best_score;
    return best;
}
