/* similar.h: how alike two appeals are, for consolidating appeals about the
 * same matter into one item (DOMAIN.md workflow 2). Pure: no I/O, no loop.
 *
 * An appeal's text becomes a sorted set of 32-bit features (similar.c):
 * normalised character bigrams, place entities (building, unit, floor, gate)
 * and concepts (one token for every way residents name a lift, a leak, a
 * barking dog ...). Bigrams are weighted by inverse document frequency
 * learned from the appeals themselves (triage_df_t), so words every appeal
 * uses weigh little without a fixed filler list; entities and concepts have
 * fixed weights. Two appeals are compared by weighted overlap; two different
 * buildings named on both sides count strongly against. */
#ifndef TRIAGE_SIMILAR_H
#define TRIAGE_SIMILAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The kind of a feature, in its top 4 bits. */
enum {
    TRIAGE_FEAT_GRAM = 0,     /* a character bigram (hashed) */
    TRIAGE_FEAT_BUILDING = 1, /* building number N (十四号楼 = 14幢 = 14栋) */
    TRIAGE_FEAT_UNIT = 2,     /* unit (单元) number N */
    TRIAGE_FEAT_FLOOR = 3,    /* floor N (N楼 without 号, N层) */
    TRIAGE_FEAT_GATE = 4,     /* a named gate: east, west, south, north, main, back, side */
    TRIAGE_FEAT_CONCEPT = 5,  /* a concept of the lexicon */
    TRIAGE_FEAT_NAMED = 6,    /* a named road, river, street, bridge, market (凤河, 东门路) */
    TRIAGE_FEAT_PERSON = 7, /* a person by surname and form of address (章奶奶, 孙大爷, 陈某) */
};
#define TRIAGE_FEAT_KIND(f) ((f) >> 28)
#define TRIAGE_FEAT_MAX     128 /* features kept per appeal (text order) */

/* The features of one appeal: sorted, unique. */
typedef struct {
    uint32_t f[TRIAGE_FEAT_MAX]; /* features */
    uint16_t n;                  /* count */
} triage_feats_t;

/* Fills `out` from `text` with every occurrence of `strip` (the compound's
 * name; NULL or "" for none) cut out first. */
void triage_feats_of(triage_feats_t *out, const char *text, const char *strip);
/* True when `text` names a road, river, street or market (凤河, 东门路). */
bool triage_text_names_place(const char *text);
/* True when `a` names at least one feature of kind `kind`. */
bool triage_feats_has(const triage_feats_t *a, unsigned kind);

/* Document frequencies of bigram features, learned from the appeals seen:
 * a fixed table of counters indexed by a hash (collisions only blur the
 * weights a little), so memory stays bounded however many appeals come. */
#define TRIAGE_DF_SLOTS (1u << 16)
typedef struct {
    uint32_t count[TRIAGE_DF_SLOTS]; /* appeals whose text has the feature */
    uint64_t docs;                   /* appeals counted */
    double log_docs;                 /* log(docs + 1), kept by triage_df_add */
} triage_df_t;

/* Counts the features of one appeal. */
void triage_df_add(triage_df_t *df, const triage_feats_t *a);
/* The weight of feature `f`: idf for bigrams, fixed for the rest. */
double triage_feat_weight(const triage_df_t *df, uint32_t f);

/* How alike two appeals are, 0..1: weighted overlap of their features (how much of the shorter one
 * the other covers). Sets *conflict when both name a building (or both a unit, or both a gate) and
 * they share none: a strong sign of two matters. `df` NULL weighs every bigram 1. */
double triage_feats_similarity(const triage_df_t *df, const triage_feats_t *a,
                               const triage_feats_t *b, bool *conflict);
/* The same over two sorted feature arrays; with `same_compound` false the
 * places named count neither for nor against (building 5 of two compounds
 * is two buildings). */
double triage_similarity_raw(const triage_df_t *df, const uint32_t *a, size_t na, const uint32_t *b,
                             size_t nb, bool same_compound, bool *conflict);

/* What is known of a pair (a new appeal, one kept appeal of an item): the
 * inputs of the pair model. Text parts come from triage_pair_of, context
 * parts (sizes, categories) from the index. */
enum {
    TRIAGE_X_BIAS = 0,         /* 1 */
    TRIAGE_X_TEXT,             /* triage_similarity_raw */
    TRIAGE_X_CONCEPTS,         /* shared concepts / concepts of the side with fewer */
    TRIAGE_X_CONCEPT_ANY,      /* at least one concept shared */
    TRIAGE_X_GRAM_COS,         /* idf-weighted cosine of the bigrams */
    TRIAGE_X_PLACE,            /* a building, unit or gate shared (same compound) */
    TRIAGE_X_CONFLICT,         /* both name buildings (units, gates), none shared */
    TRIAGE_X_NAMED,            /* a named road, river, market shared */
    TRIAGE_X_NAMED_CONFLICT,   /* both name such places, none shared */
    TRIAGE_X_SAME_COMPOUND,    /* one compound */
    TRIAGE_X_SIZE_SAME,        /* the same size */
    TRIAGE_X_WISH_DIFF,        /* a wish and not a wish */
    TRIAGE_X_LARGE_ANY,        /* either is large */
    TRIAGE_X_CATEGORY_DIFF,    /* both have a category and they differ */
    TRIAGE_X_CONCEPT_CONFLICT, /* both name concepts, none shared (a lamp, a leak) */
    TRIAGE_X_SIZE_GUESSED,     /* the sizes differ and the new appeal's was a guess */
    TRIAGE_X_PERSON,           /* a person named on both sides (same compound) */
    TRIAGE_X_PERSON_CONFLICT,  /* both name persons, none shared (same compound) */
    TRIAGE_PAIR_X
};
typedef struct {
    double x[TRIAGE_PAIR_X];
} triage_pair_t;
/* What a feature array weighs, summed once: the squared idf of its bigrams
 * (the only part that follows the document frequencies) and how many
 * features of each kind it has (entities and concepts weigh a fixed
 * amount). `docs` is df->docs when the bigrams were summed. */
typedef struct {
    double gram;      /* sum of the bigrams' squared weights */
    uint32_t docs;    /* df->docs at that time */
    uint8_t kinds[8]; /* features of each kind (TRIAGE_FEAT_KIND), at most 255 */
} triage_sums_t;
/* Sums `f` (n features) with the weights of `df` (NULL: every bigram 1). */
void triage_sums_of(const triage_df_t *df, const uint32_t *f, size_t n, triage_sums_t *out);
/* True when the counts grew by more than 1/64 since `s` was summed: the
 * index sums a kept appeal again then (the weights move that slowly). */
bool triage_sums_stale(const triage_df_t *df, const triage_sums_t *s);

/* The new appeal's side of its comparisons, prepared once: its features,
 * their squared weights and its sums. */
typedef struct {
    const uint32_t *f;          /* features (borrowed, sorted) */
    size_t n;                   /* count */
    double w2[TRIAGE_FEAT_MAX]; /* squared weight of each */
    triage_sums_t sums;         /* their sums */
} triage_side_t;
void triage_side_of(const triage_df_t *df, const uint32_t *f, size_t n, triage_side_t *out);
/* triage_pair_of for a prepared side `a` and a kept appeal `bf` whose sums
 * `bs` are known: only the features the two share are weighed, so a
 * comparison is one walk of two sorted arrays with no arithmetic for the
 * features they do not share. */
void triage_pair_fast(const triage_side_t *a, const uint32_t *bf, size_t bn,
                      const triage_sums_t *bs, bool same_compound, triage_pair_t *out);
/* Fills the text parts of `out` (the rest zero; x[TRIAGE_X_BIAS] is set by
 * the caller with the context). */
void triage_pair_of(const triage_df_t *df, const uint32_t *a, size_t an, const uint32_t *b,
                    size_t bn, bool same_compound, triage_pair_t *out);
/* What the pair model weighs: the inputs of the pair, then terms made of
 * them (how far the text overlap and the cosine go past 0.3, 0.5, 0.7 and
 * 0.2, 0.4; the text read again for one compound, for a large matter, with
 * a shared place, with a shared concept; concepts and named places for a
 * large matter), so a linear model can bend where the evidence does. */
#define TRIAGE_MODEL_X (TRIAGE_PAIR_X + 12)
void triage_pair_expand(const triage_pair_t *x, double out[TRIAGE_MODEL_X]);
/* The pair model: the probability that the two appeals are one matter. */
double triage_pair_score(const triage_pair_t *x);

/* Tunable weights of the scorer (triage_scorer_default gives the tuned set;
 * tests/unit/test_triage_eval.c measures them). */
typedef struct {
    double threshold;         /* least adjusted score to join an item */
    double wish_mismatch;     /* factor when one side is a wish and the other is not */
    double building_conflict; /* factor when both name buildings and none is shared */
} triage_scorer_t;

/* The threshold the out-of-fold rule chose (services/triage/README.md), in
 * per mille: the default of both triage_scorer_default and
 * HL_CONSOLIDATE_PERMILLE, which replaces it in the daemon. */
#define TRIAGE_THRESHOLD_PERMILLE 750

/* The default weights. */
triage_scorer_t triage_scorer_default(void);

#endif
