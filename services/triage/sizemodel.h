/* sizemodel.h: the learned size model. A multinomial logistic regression
 * (scikit-learn, fitted by scripts/fit-size.py on the tuning sets) reads
 * the rules' verdict (their size, whether it was the last-resort guess, the
 * scope cues' votes) and the appeal's text as hashed character 1- to
 * 3-grams, and gives a probability for each size. It runs after the rules
 * when the active rule set has the row that stands for it (triage.rule
 * model = 'size', id 9990): where it disagrees with the rules, the case is
 * sized by it and records rule 9990, and the rules' own verdict stays in the
 * verdict (rules_size, rules_rule). Deactivating row 9990 turns it off
 * within a minute, like any rule. See services/triage/README.md. */
#ifndef TRIAGE_SIZEMODEL_H
#define TRIAGE_SIZEMODEL_H

#include "rules.h"

#include <stdint.h>

#define TRIAGE_SIZE_BUCKETS 4096 /* hashed n-gram buckets (a power of two) */
#define TRIAGE_SIZE_DENSE   14   /* the verdict's and the channel's inputs */

/* What the model reads of one appeal. */
typedef struct triage_size_x {
    uint64_t grams[TRIAGE_SIZE_BUCKETS / 64]; /* buckets present (each counts once) */
    unsigned ngrams;                          /* how many are set */
    float dense[TRIAGE_SIZE_DENSE];           /* see triage_size_features */
} triage_size_x_t;

/* Fills `x` from the matching text of an appeal (as the rules see it:
 * normalised, the compound's name cut out), its channel and the rules'
 * verdict `v` (before the model). */
void triage_size_features(triage_size_x_t *x, const char *text, const char *channel,
                          const triage_verdict_t *v);
/* The model's probabilities by size (p[TRIAGE_SIZE_NONE] = 0); returns the
 * most probable size. */
triage_size_t triage_size_predict(const triage_size_x_t *x, double p[TRIAGE_SIZE_COUNT]);

#endif
