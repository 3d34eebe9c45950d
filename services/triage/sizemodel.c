/* sizemodel.c: the learned size model's inputs and its arithmetic (see
 * sizemodel.h). The weights are generated: size_model.h, written by
 * scripts/fit-size.py from the features this file computes (the eval dumps
 * them, HL_EVAL_SIZES=1), so fitting and use can never disagree on what an
 * input means. */
#include "sizemodel.h"

#include "hl_text.h"

#include <math.h>
#include <string.h>

#include "size_model.h"

_Static_assert(S_SIZE_BUCKETS == TRIAGE_SIZE_BUCKETS && S_SIZE_DENSE == TRIAGE_SIZE_DENSE,
               "size_model.h was fitted on other inputs: run scripts/fit-size.py");

/* Characters that make up grams: letters and digits, CJK ideographs. The
 * rest (punctuation, marks, separators) ends a run. */
static bool s_gram_char(unsigned cp)
{
    return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
           (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) ||
           (cp >= 0xF900 && cp <= 0xFAFF);
}

/* FNV-1a over the bytes of one gram. */
static uint32_t s_hash(const unsigned char *p, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

static void s_set(triage_size_x_t *x, uint32_t h)
{
    uint32_t b = h & (TRIAGE_SIZE_BUCKETS - 1);
    uint64_t bit = (uint64_t)1 << (b & 63);
    if (!(x->grams[b >> 6] & bit)) {
        x->grams[b >> 6] |= bit;
        x->ngrams++;
    }
}

static const char *const s_channels[6] = {"qr", "mailbox", "visit", "web", "phone", "platform"};

void triage_size_features(triage_size_x_t *x, const char *text, const char *channel,
                          const triage_verdict_t *v)
{
    memset(x, 0, sizeof *x);
    /* The byte offsets of the last three gram characters in the current run. */
    const unsigned char *start[3] = {NULL};
    int run = 0;
    const unsigned char *p = (const unsigned char *)(text ? text : "");
    while (*p) {
        unsigned cp;
        int len = hl_utf8_next(p, &cp);
        if (len <= 0) {
            len = 1;
            cp = 0xFFFD;
        }
        if (!s_gram_char(cp)) {
            run = 0;
            p += len;
            continue;
        }
        start[0] = start[1];
        start[1] = start[2];
        start[2] = p;
        run++;
        const unsigned char *end = p + len;
        for (int n = 1; n <= 3 && n <= run; n++) {
            const unsigned char *from = start[3 - n];
            s_set(x, s_hash(from, (size_t)(end - from)));
        }
        p = end;
    }
    float *d = x->dense;
    if (v->size > TRIAGE_SIZE_NONE && v->size < TRIAGE_SIZE_COUNT)
        d[v->size - 1] = 1;
    d[3] = triage_verdict_guessed(v) ? 1 : 0;
    d[4] = (float)v->votes[TRIAGE_SIZE_WISH];
    d[5] = (float)v->votes[TRIAGE_SIZE_SMALL];
    d[6] = (float)v->votes[TRIAGE_SIZE_LARGE];
    d[7] = (float)(v->cues > 5 ? 5 : v->cues) / 5;
    for (int i = 0; i < 6; i++)
        d[8 + i] = channel && strcmp(channel, s_channels[i]) == 0 ? 1 : 0;
}

triage_size_t triage_size_predict(const triage_size_x_t *x, double p[TRIAGE_SIZE_COUNT])
{
    /* One pass over the grams present, summing each size's weights. */
    double g[3] = {0, 0, 0};
    for (int w = 0; w < TRIAGE_SIZE_BUCKETS / 64; w++)
        for (uint64_t bits = x->grams[w]; bits; bits &= bits - 1) {
            int b = w * 64 + __builtin_ctzll(bits);
            for (int k = 0; k < 3; k++)
                g[k] += s_size_w[k][b];
        }
    double z[3];
    double unit = x->ngrams ? 1 / sqrt((double)x->ngrams) : 0;
    for (int k = 0; k < 3; k++) {
        z[k] = s_size_b[k] + g[k] * unit;
        for (int i = 0; i < TRIAGE_SIZE_DENSE; i++)
            z[k] += s_size_w[k][TRIAGE_SIZE_BUCKETS + i] * x->dense[i];
    }
    double top = fmax(z[0], fmax(z[1], z[2])), sum = 0;
    for (int k = 0; k < 3; k++)
        sum += exp(z[k] - top);
    int best = 0;
    p[TRIAGE_SIZE_NONE] = 0;
    for (int k = 0; k < 3; k++) {
        p[k + 1] = exp(z[k] - top) / sum;
        if (z[k] > z[best])
            best = k;
    }
    return (triage_size_t)(best + 1);
}
