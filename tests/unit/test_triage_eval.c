/* test_triage_eval: sizing and consolidation measured on labelled appeals
 * the rules and the scorer were not written from.
 *
 * tests/data/triage-tune.jsonl .. triage-tune11.jsonl (3,260 appeals,
 * compounds 11-52) are the sets the scope cues, the lexicon and the pair
 * model's weights were tuned on; their figures are printed only.
 * tests/data/triage-heldout.jsonl .. triage-heldout10.jsonl (2,880 appeals,
 * compounds 53-94, each written by its own writer and not read while
 * tuning) are the ones reported, with floors.
 * Each set is replayed in file order through the seed rules (as the
 * migrations leave them active) and the in-memory index of open items,
 * exactly as hl-triage decides: every appeal joins the best open item of
 * its community or opens one. "Same item" is scored pairwise over all
 * pairs of appeals of one community.
 *
 * HL_EVAL_THRESHOLD=0.6 (HL_EVAL_WISH_MISMATCH, HL_EVAL_BUILDING_CONFLICT)
 * replaces the threshold (the factors) on them;
 * HL_EVAL_SETS=a.jsonl,b.jsonl replaces the tuning sets (to read a new
 * set once before tuning on it); HL_EVAL_ERRORS=1 prints the tuning sets' mistakes; HL_EVAL_SWEEP=1
 * their figures over a range of thresholds; HL_EVAL_PAIRS=1 every pair's inputs for
 * scripts/fit-scorer.py; HL_EVAL_TUNING_ONLY=1 skips the held-out sets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "triage.h"
#include "index.h"
#include "sizemodel.h"
#include "triage_seed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Regression floors on the held-out sets, below what the ten of them
 * measured with the size model and the trees refitted on out-of-fold
 * sizes at 0.75 (2,880 appeals: size 0.944, precision 0.916, recall 0.668,
 * F1 0.773). The replay is deterministic: a floor that trips means the
 * decisions changed. Of issue 8's targets (size 0.90, precision 0.90, F1
 * 0.85) size and precision are reached, F1 is not
 * (services/triage/README.md). */
#define FLOOR_F1        0.75
#define FLOOR_PRECISION 0.90
#define FLOOR_SIZE      0.92

typedef struct {
    hl_sample_t *s;     /* the appeal */
    char compound[16];  /* cpNNN.S (S: the set it came from) */
    char community[16]; /* cmNN.S */
    char name[64];      /* compound name */
    triage_feats_t f;   /* features */
    triage_verdict_t v; /* the verdict (the rules', then the size model's) */
    triage_size_x_t x;  /* the size model's inputs */
    int want;           /* true size */
    int item;           /* item given by the replay */
    int routed;         /* the size it was handled as: its item's (TriageDecision.size) */
} s_row_t;

typedef struct {
    double size_acc;   /* the rules' size (triage.case.size) */
    double routed_acc; /* the size it was handled as: its item's (what intake shows) */
    double precision, recall, f1;
    int items, matters, n;
    int confusion[TRIAGE_SIZE_COUNT][TRIAGE_SIZE_COUNT]; /* [want][got] */
} s_score_t;

/* HL_EVAL_SIZES_FROM=FILE (tuning sets only): "id<TAB>body<TAB>size" lines
 * that replace the decided size of the appeals they name. fit-size.py
 * --oof writes each tuning appeal's size as a size model fitted without
 * its fold decides it, so the pair model can be fitted and measured out of
 * fold on sizes as good as they are on unseen text, not on the size
 * model's perfect in-sample ones. */
static void s_sizes_from(s_row_t *rows, size_t n, const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char line[20000];
    size_t replaced = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *body = strchr(line, '\t');
        char *size = body ? strrchr(body + 1, '\t') : NULL;
        assert_non_null(size);
        *body++ = '\0';
        *size++ = '\0';
        for (size_t i = 0; i < n; i++)
            if (strcmp(rows[i].s->id, line) == 0 && strcmp(rows[i].s->body, body) == 0) {
                int z = triage_size_parse(size);
                assert_true(z > 0);
                rows[i].v.size = (triage_size_t)z;
                replaced++;
            }
    }
    fclose(f);
    printf("# sizes from %s: %zu of %zu appeals\n", path, replaced, n);
}

static s_row_t *s_prepare(triage_rules_t *rs, hl_sample_t *s, const int *set, size_t n)
{
    s_row_t *rows = calloc(n, sizeof *rows);
    for (size_t i = 0; i < n; i++) {
        s_row_t *r = &rows[i];
        r->s = &s[i];
        assert_true(s[i].compound >= 1 && s[i].compound <= 94);
        snprintf(r->compound, sizeof r->compound, "cp%03d.%d", (int)s[i].compound, set[i]);
        snprintf(r->community, sizeof r->community, "cm%02d.%d",
                 (int)((s[i].compound - 1) % 14 + 1), set[i]);
        hl_test_compound_name((int)s[i].compound, r->name, sizeof r->name);
        r->want = triage_size_parse(s[i].size);
        assert_true(r->want > 0);
        triage_appeal_view_t a = {s[i].channel, NULL, NULL, s[i].body, r->name};
        assert_int_equal(triage_rules_decide(rs, &a, &r->v, &r->x), 0);
        triage_feats_of(&r->f, s[i].body, r->name);
    }
    return rows;
}

static void s_replay(s_row_t *rows, size_t n, const triage_scorer_t *sc, s_score_t *out)
{
    memset(out, 0, sizeof *out);
    triage_index_t *ix = triage_index_new(10000);
    for (size_t i = 0; i < n; i++) {
        s_row_t *r = &rows[i];
        triage_ix_query_t q = {r->community, r->compound, r->v.category,
                               r->v.size,    &r->f,       triage_verdict_guessed(&r->v)};
        triage_ix_why_t why;
        const triage_ix_meta_t *best = triage_index_best(ix, sc, &q, &why);
        if (getenv("HL_EVAL_DEBUG"))
            printf("# %s compared %zu best %.3f (text %.3f)\n", r->s->id, why.compared, why.score,
                   why.similarity);
        if (best) {
            r->item = atoi(best->id);
            r->routed = best->size;
            assert_true(triage_index_add_appeal(ix, best->id, &r->f, true));
        } else {
            triage_ix_meta_t m = {.size = r->v.size, .appeals = 1};
            r->item = out->items++;
            r->routed = r->v.size;
            snprintf(m.id, sizeof m.id, "%d", r->item);
            snprintf(m.category, sizeof m.category, "%s", r->v.category ? r->v.category : "");
            snprintf(m.compound, sizeof m.compound, "%s", r->compound);
            snprintf(m.community, sizeof m.community, "%s", r->community);
            triage_index_put(ix, &m);
            triage_index_add_appeal(ix, m.id, &r->f, false);
        }
        triage_df_add(triage_index_df(ix), &r->f);
    }
    triage_index_destroy(&ix);
    int tp = 0, fp = 0, fn = 0, sized = 0, routed = 0;
    for (size_t i = 0; i < n; i++) {
        sized += (int)rows[i].v.size == rows[i].want;
        routed += rows[i].routed == rows[i].want;
        out->confusion[rows[i].want][rows[i].v.size]++;
        bool first = true;
        for (size_t j = 0; j < n; j++) {
            if (j < i && strcmp(rows[i].s->matter, rows[j].s->matter) == 0)
                first = false;
            if (j <= i || strcmp(rows[i].community, rows[j].community) != 0)
                continue;
            bool same = rows[i].item == rows[j].item;
            bool truth = strcmp(rows[i].s->matter, rows[j].s->matter) == 0;
            tp += same && truth;
            fp += same && !truth;
            fn += truth && !same;
        }
        out->matters += first;
    }
    out->n = (int)n;
    out->size_acc = (double)sized / (double)n;
    out->routed_acc = (double)routed / (double)n;
    out->precision = tp + fp ? (double)tp / (tp + fp) : 1.0;
    out->recall = tp + fn ? (double)tp / (tp + fn) : 1.0;
    out->f1 = out->precision + out->recall > 0
                  ? 2 * out->precision * out->recall / (out->precision + out->recall)
                  : 0;
}

static void s_print(const char *name, const s_score_t *s)
{
    printf("# %s: %d appeals, size accuracy %.3f (as routed, the item's size: %.3f); same item: "
           "precision %.3f recall %.3f F1 %.3f; %d items for %d matters\n",
           name, s->n, s->size_acc, s->routed_acc, s->precision, s->recall, s->f1, s->items,
           s->matters);
    printf("#   size (rows true, columns decided: wish small large):");
    for (int w = TRIAGE_SIZE_WISH; w < TRIAGE_SIZE_COUNT; w++)
        printf("  %s %d/%d/%d", triage_size_name((triage_size_t)w), s->confusion[w][1],
               s->confusion[w][2], s->confusion[w][3]);
    printf("\n");
}

/* HL_EVAL_SIZES=1: one line per appeal with what the rules decided, for
 * trying size models offline (tuning sets only). */
static void s_sizes(const s_row_t *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const s_row_t *r = &rows[i];
        printf("SIZEROW\t%s\t%s\t%s\t%s\t%s\t%s\t%lld\t", r->compound, r->s->id, r->s->channel,
               triage_size_name((triage_size_t)r->want), triage_size_name(r->v.rules_size),
               triage_size_name(r->v.size), r->v.size_rule ? r->v.size_rule->id : 0);
        const char *sep = "";
        for (int b = 0; b < TRIAGE_SIZE_BUCKETS; b++)
            if (r->x.grams[b / 64] & ((uint64_t)1 << (b % 64))) {
                printf("%s%d", sep, b);
                sep = ",";
            }
        printf("\t");
        for (int d = 0; d < TRIAGE_SIZE_DENSE; d++)
            printf("%s%.9g", d ? "," : "", (double)r->x.dense[d]);
        printf("\t%s\n", r->s->body);
    }
}

static void s_errors(const s_row_t *rows, size_t n)
{
    triage_df_t *df = calloc(1, sizeof *df);
    for (size_t i = 0; i < n; i++)
        triage_df_add(df, &rows[i].f);
    for (size_t i = 0; i < n; i++)
        if ((int)rows[i].v.size != rows[i].want)
            printf("# SIZE %s want %s got %s (rule %lld): %s\n", rows[i].s->id,
                   triage_size_name((triage_size_t)rows[i].want), triage_size_name(rows[i].v.size),
                   rows[i].v.size_rule->id, rows[i].s->body);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            if (strcmp(rows[i].community, rows[j].community) != 0)
                continue;
            bool same = rows[i].item == rows[j].item;
            bool truth = strcmp(rows[i].s->matter, rows[j].s->matter) == 0;
            if (same == truth)
                continue;
            bool conflict;
            double sim = triage_feats_similarity(df, &rows[i].f, &rows[j].f, &conflict);
            printf("# %s %s~%s sim %.2f%s %s/%s %s/%s items %d/%d\n#    %s\n#    %s\n",
                   same ? "WRONG-MERGE" : "MISSED", rows[i].s->id, rows[j].s->id, sim,
                   conflict ? " conflict" : "", triage_size_name(rows[i].v.size),
                   triage_size_name(rows[j].v.size), rows[i].compound, rows[j].compound,
                   rows[i].item, rows[j].item, rows[i].s->body, rows[j].s->body);
        }
    free(df);
}

/* Every pair of one community: its similarity and what else is known, for
 * studying the scorer (HL_EVAL_PAIRS=1). */
static void s_pairs(const s_row_t *rows, size_t n)
{
    triage_df_t *df = calloc(1, sizeof *df);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcmp(rows[i].community, rows[j].community) != 0)
                continue;
            triage_ix_meta_t m = {.size = rows[j].v.size};
            snprintf(m.category, sizeof m.category, "%s",
                     rows[j].v.category ? rows[j].v.category : "");
            snprintf(m.compound, sizeof m.compound, "%s", rows[j].compound);
            triage_ix_query_t q = {rows[i].community,  rows[i].compound,
                                   rows[i].v.category, rows[i].v.size,
                                   &rows[i].f,         triage_verdict_guessed(&rows[i].v)};
            triage_pair_t x;
            triage_pair_of(df, rows[i].f.f, rows[i].f.n, rows[j].f.f, rows[j].f.n,
                           strcmp(rows[i].compound, rows[j].compound) == 0, &x);
            triage_pair_context(&m, &q, &x);
            double in[TRIAGE_MODEL_X];
            triage_pair_expand(&x, in);
            printf("PAIR %d", strcmp(rows[i].s->matter, rows[j].s->matter) == 0);
            for (int k = 0; k < TRIAGE_MODEL_X; k++)
                printf(" %.4f", in[k]);
            printf("\n");
        }
        triage_df_add(df, &rows[i].f);
    }
    free(df);
}

/* The threshold of the pair model over a range, on the tuning sets. */
static void s_sweep(s_row_t *rows, size_t n, const triage_scorer_t *base)
{
    for (double th = 0.2; th < 0.96; th += 0.05) {
        triage_scorer_t sc = *base;
        sc.threshold = th;
        s_score_t s;
        s_replay(rows, n, &sc, &s);
        printf("# sweep threshold %.2f -> P %.3f R %.3f F1 %.3f\n", th, s.precision, s.recall,
               s.f1);
    }
}

/* Loads the sets at `paths` (NULL-terminated) into one array, in order,
 * and which set each row came from into *set (caller frees); NULL when the
 * first is absent (a later absent one is left out).
 *
 * Each set is its own town: the sets were written independently over the
 * same compound numbers, and two writers may both describe one real matter
 * under two matter names (教育局宿舍 2栋's blocked drain is in two of them).
 * Counted together, such a pair is a "wrong merge" that is right, and the
 * pair model fitted on it learns to be timid. */
static hl_sample_t *s_load(const char *const *paths, size_t *n, int **set)
{
    hl_sample_t *all = NULL;
    *n = 0;
    *set = NULL;
    for (size_t p = 0; paths[p]; p++) {
        size_t k;
        hl_sample_t *s = hl_test_sample_load_file(paths[p], &k);
        if (!s) {
            if (p == 0)
                return NULL;
            continue;
        }
        all = realloc(all, (*n + k) * sizeof *all);
        *set = realloc(*set, (*n + k) * sizeof **set);
        memcpy(all + *n, s, k * sizeof *s);
        for (size_t i = 0; i < k; i++)
            (*set)[*n + i] = (int)p;
        *n += k;
        free(s); /* the rows' strings now belong to `all` */
    }
    return all;
}

static bool s_eval(const char *const *paths, const char *name, s_score_t *out, bool tuning)
{
    size_t n;
    int *set;
    hl_sample_t *s = s_load(paths, &n, &set);
    if (!s)
        return false;
    assert_true(n >= 100);
    triage_rules_t *rs = s_seed_rules();
    s_row_t *rows = s_prepare(rs, s, set, n);
    if (tuning && getenv("HL_EVAL_SIZES_FROM"))
        s_sizes_from(rows, n, getenv("HL_EVAL_SIZES_FROM"));
    triage_scorer_t sc = triage_scorer_default();
    if (tuning && getenv("HL_EVAL_THRESHOLD"))
        sc.threshold = atof(getenv("HL_EVAL_THRESHOLD"));
    if (tuning && getenv("HL_EVAL_WISH_MISMATCH"))
        sc.wish_mismatch = atof(getenv("HL_EVAL_WISH_MISMATCH"));
    if (tuning && getenv("HL_EVAL_BUILDING_CONFLICT"))
        sc.building_conflict = atof(getenv("HL_EVAL_BUILDING_CONFLICT"));
    s_replay(rows, n, &sc, out);
    s_print(name, out);
    if (tuning && getenv("HL_EVAL_ERRORS"))
        s_errors(rows, n);
    if (tuning && getenv("HL_EVAL_PAIRS"))
        s_pairs(rows, n);
    if (tuning && getenv("HL_EVAL_SIZES"))
        s_sizes(rows, n);
    if (tuning && getenv("HL_EVAL_SWEEP"))
        s_sweep(rows, n, &sc);
    free(rows);
    free(set);
    triage_rules_destroy(&rs);
    hl_test_sample_free(s, n);
    return true;
}

/* The tuning set: printed, with only a sanity floor (the figures the cues
 * and weights were fitted to say little about unseen text). */
static void test_tuning_set(void **state)
{
    (void)state;
    s_score_t s;
    static const char *const tuning[] = {
        "tests/data/triage-tune.jsonl",   "tests/data/triage-tune2.jsonl",
        "tests/data/triage-tune3.jsonl",  "tests/data/triage-tune4.jsonl",
        "tests/data/triage-tune5.jsonl",  "tests/data/triage-tune6.jsonl",
        "tests/data/triage-tune7.jsonl",  "tests/data/triage-tune8.jsonl",
        "tests/data/triage-tune9.jsonl",  "tests/data/triage-tune10.jsonl",
        "tests/data/triage-tune11.jsonl", NULL};
    const char *sets[17] = {NULL};
    const char *const *use = tuning;
    char *list = getenv("HL_EVAL_SETS") ? strdup(getenv("HL_EVAL_SETS")) : NULL;
    if (list) {
        size_t n = 0;
        for (char *save = NULL, *p = strtok_r(list, ",", &save); p && n < 16;
             p = strtok_r(NULL, ",", &save))
            sets[n++] = p;
        use = sets;
    }
    bool found = s_eval(use, list ? "chosen sets" : "tuning sets (fitted)", &s, true);
    free(list);
    if (!found)
        skip();
    assert_true(s.size_acc > 0.5);
    assert_true(s.f1 > 0.5);
}

/* The held-out set: what we report, with the floors. */
static void test_heldout_set(void **state)
{
    (void)state;
    s_score_t s;
    if (getenv("HL_EVAL_TUNING_ONLY"))
        skip(); /* while tuning, the held-out set stays unread */
    static const char *const sets[] = {"tests/data/triage-heldout.jsonl",
                                       "tests/data/triage-heldout2.jsonl",
                                       "tests/data/triage-heldout3.jsonl",
                                       "tests/data/triage-heldout4.jsonl",
                                       "tests/data/triage-heldout5.jsonl",
                                       "tests/data/triage-heldout6.jsonl",
                                       "tests/data/triage-heldout7.jsonl",
                                       "tests/data/triage-heldout8.jsonl",
                                       "tests/data/triage-heldout9.jsonl",
                                       "tests/data/triage-heldout10.jsonl",
                                       NULL};
    if (!s_eval(sets, "held-out sets", &s, false))
        skip();
    assert_true(s.size_acc >= FLOOR_SIZE);
    assert_true(s.precision >= FLOOR_PRECISION);
    assert_true(s.f1 >= FLOOR_F1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tuning_set),
        cmocka_unit_test(test_heldout_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
