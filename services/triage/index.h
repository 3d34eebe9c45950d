/* index.h: hl-triage's in-memory index of open items, the candidates an
 * appeal may join (consolidation). Pure: no I/O, no loop.
 *
 * Items are kept per community, each with the features of a few of its
 * appeals (the first and the latest TRIAGE_IX_APPEALS - 1), so deciding an
 * appeal reads nothing from PostgreSQL and costs the same with ten thousand
 * or ten million appeals stored. The index is bounded (max_items; the
 * oldest item goes first) and is a cache: PostgreSQL stays the truth.
 * Joining checks in SQL that the item is still open with the route the
 * index knew (triage.item_join), and sync.c folds in what other replicas
 * and the commissioner changed. */
#ifndef TRIAGE_INDEX_H
#define TRIAGE_INDEX_H

#include "rules.h"
#include "similar.h"

#include <stddef.h>
#include <stdint.h>

#define TRIAGE_IX_APPEALS 4 /* appeals' features kept per item */

/* What is known of an open item. */
typedef struct {
    char id[40];        /* item id (canonical UUID) */
    triage_size_t size; /* its size */
    char category[24];  /* its category, "" for none */
    char compound[40];  /* the compound it lies in, "" for none */
    char community[40]; /* the community it lies in */
    char route[16];     /* council, alliance or board */
    char level[16];     /* compound, community, town or city */
    char target[40];    /* org unit routed to */
    int64_t created_us; /* when its first appeal opened it */
    uint32_t appeals;   /* appeals in it (as known here) */
} triage_ix_meta_t;

typedef struct triage_index triage_index_t;

/* A new, empty index of at most `max_items` items. Caller owns it. */
triage_index_t *triage_index_new(size_t max_items);
/* Frees the index and NULLs the caller's pointer. */
void triage_index_destroy(triage_index_t **ix);
/* Items held. */
size_t triage_index_count(const triage_index_t *ix);
/* The document frequencies learned so far (bigram weights), owned by the
 * index. */
triage_df_t *triage_index_df(triage_index_t *ix);

/* Adds item `meta` or, when its id is known, replaces what is known of it
 * (its appeals' features stay). Returns the entry (valid until the item is
 * removed, expired or evicted). */
const triage_ix_meta_t *triage_index_put(triage_index_t *ix, const triage_ix_meta_t *meta);
/* The entry of item `id`, or NULL. */
const triage_ix_meta_t *triage_index_get(const triage_index_t *ix, const char *id);
/* Keeps the features of one more appeal of item `id` (the first always,
 * then the latest); counts it in `appeals` when `count` is true. Returns
 * false when the item is not held. */
bool triage_index_add_appeal(triage_index_t *ix, const char *id, const triage_feats_t *f,
                             bool count);
/* Forgets item `id` (resolved, merged away, or found changed). */
void triage_index_remove(triage_index_t *ix, const char *id);
/* Forgets every item created before `before_us`; returns how many. */
size_t triage_index_expire(triage_index_t *ix, int64_t before_us);

/* The appeal being decided. Strings borrowed; NULL or "" where absent. */
typedef struct {
    const char *community;       /* where it is */
    const char *compound;        /* its compound */
    const char *category;        /* the category it was given */
    triage_size_t size;          /* the size the rules gave it */
    const triage_feats_t *feats; /* its features */
    bool size_guessed;           /* the size came from no cue (triage_verdict_guessed) */
} triage_ix_query_t;

/* Fills the context parts of a pair (bias, sizes, category) of a new
 * appeal `q` and an item `m` (similar.h: TRIAGE_X_*). */
void triage_pair_context(const triage_ix_meta_t *m, const triage_ix_query_t *q, triage_pair_t *x);

/* How the chosen item compared, for the case's record. */
typedef struct {
    double score;      /* adjusted score of the best item (0 when none compared) */
    double similarity; /* its raw text similarity */
    size_t compared;   /* items compared */
} triage_ix_why_t;

/* The item of the appeal's community the appeal should join: the highest
 * score (the pair model's probability against each of its kept appeals,
 * half the closest and half their mean, times the scorer's factors for a
 * wish against a non-wish and for a building conflict; another compound's
 * item only when it is large) if at least the scorer's threshold; NULL to
 * open a new item.
 * Writes the comparison to `why` when not NULL. Not const: kept appeals'
 * sums are refreshed when stale. */
const triage_ix_meta_t *triage_index_best(triage_index_t *ix, const triage_scorer_t *sc,
                                          const triage_ix_query_t *q, triage_ix_why_t *why);

#endif
