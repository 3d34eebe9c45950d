/* index.c: the in-memory index of open items (see index.h).
 *
 * Three views of one set of entries: a hash table by item id, an array per
 * community (the candidates scanned when an appeal of that community is
 * decided), and a list in insertion order, oldest first, for eviction when
 * the index is full. An entry keeps its appeals' features compactly (only
 * the features, no text): about 1 KiB per item. */
#include "index.h"

#include "hl.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint32_t *f;        /* sorted features, owned */
    uint16_t n;         /* count */
    triage_sums_t sums; /* their weights summed, again when stale */
} s_kept_t;

typedef struct s_entry s_entry_t;
struct s_entry {
    triage_ix_meta_t meta;            /* what is known of the item */
    s_kept_t kept[TRIAGE_IX_APPEALS]; /* [0] the first appeal, then the latest */
    uint8_t nkept;                    /* used */
    uint8_t next_slot;                /* the slot the next latest appeal replaces */
    s_entry_t *hash_next;             /* chain in the hash table */
    s_entry_t *older, *newer;         /* insertion order */
    struct s_bucket *bucket;          /* its community */
    size_t slot;                      /* its place in bucket->items */
};

typedef struct s_bucket {
    char community[40]; /* community code */
    s_entry_t **items;  /* entries */
    size_t n, cap;      /* used, allocated */
} s_bucket_t;

struct triage_index {
    size_t max_items;    /* bound */
    size_t count;        /* held */
    s_entry_t **table;   /* hash table by id */
    size_t table_size;   /* power of two */
    s_entry_t *oldest;   /* insertion order: head */
    s_entry_t *newest;   /* and tail */
    s_bucket_t *buckets; /* per community */
    size_t nbuckets;     /* used */
    triage_df_t df;      /* bigram weights */
};

static uint64_t s_hash(const char *s)
{
    return hl_fnv1a(s, strlen(s));
}

triage_index_t *triage_index_new(size_t max_items)
{
    assert(max_items > 0);
    triage_index_t *ix = hl_calloc(1, sizeof *ix);
    ix->max_items = max_items;
    ix->table_size = 64;
    while (ix->table_size < max_items)
        ix->table_size *= 2;
    ix->table = hl_calloc(ix->table_size, sizeof *ix->table);
    return ix;
}

static void s_entry_free(s_entry_t *e)
{
    for (size_t i = 0; i < e->nkept; i++)
        free(e->kept[i].f);
    free(e);
}

void triage_index_destroy(triage_index_t **ixp)
{
    triage_index_t *ix = ixp ? *ixp : NULL;
    if (!ix)
        return;
    *ixp = NULL;
    for (s_entry_t *e = ix->oldest, *next; e; e = next) {
        next = e->newer;
        s_entry_free(e);
    }
    for (size_t i = 0; i < ix->nbuckets; i++)
        free(ix->buckets[i].items);
    free(ix->buckets);
    free(ix->table);
    free(ix);
}

size_t triage_index_count(const triage_index_t *ix)
{
    return ix->count;
}

triage_df_t *triage_index_df(triage_index_t *ix)
{
    return &ix->df;
}

static s_entry_t **s_find(const triage_index_t *ix, const char *id)
{
    s_entry_t **p = &ix->table[s_hash(id) & (ix->table_size - 1)];
    while (*p && strcmp((*p)->meta.id, id) != 0)
        p = &(*p)->hash_next;
    return p;
}

/* The place of `community`'s bucket, or nbuckets when it has none. */
static size_t s_bucket_at(const triage_index_t *ix, const char *community)
{
    size_t i = 0;
    while (i < ix->nbuckets && strcmp(ix->buckets[i].community, community) != 0)
        i++;
    return i;
}

/* The bucket of `community`, made when missing. */
static s_bucket_t *s_bucket(triage_index_t *ix, const char *community)
{
    size_t at = s_bucket_at(ix, community);
    if (at < ix->nbuckets)
        return &ix->buckets[at];
    /* Buckets never move once entries point at them: grow by a new array
     * and re-point the entries (communities are few and never go). */
    s_bucket_t *b = hl_calloc(ix->nbuckets + 1, sizeof *b);
    if (ix->nbuckets)
        memcpy(b, ix->buckets, ix->nbuckets * sizeof *b);
    free(ix->buckets);
    ix->buckets = b;
    for (size_t i = 0; i < ix->nbuckets; i++)
        for (size_t k = 0; k < b[i].n; k++)
            b[i].items[k]->bucket = &b[i];
    s_bucket_t *nb = &b[ix->nbuckets++];
    snprintf(nb->community, sizeof nb->community, "%s", community);
    return nb;
}

static void s_bucket_add(s_bucket_t *b, s_entry_t *e)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 16;
        b->items = hl_realloc(b->items, b->cap * sizeof *b->items);
    }
    e->bucket = b;
    e->slot = b->n;
    b->items[b->n++] = e;
}

static void s_bucket_drop(s_entry_t *e)
{
    s_bucket_t *b = e->bucket;
    b->items[e->slot] = b->items[--b->n];
    b->items[e->slot]->slot = e->slot;
    e->bucket = NULL;
}

static void s_unlink(triage_index_t *ix, s_entry_t *e)
{
    s_entry_t **p = s_find(ix, e->meta.id);
    assert(*p == e);
    *p = e->hash_next;
    s_bucket_drop(e);
    if (e->older)
        e->older->newer = e->newer;
    else
        ix->oldest = e->newer;
    if (e->newer)
        e->newer->older = e->older;
    else
        ix->newest = e->older;
    ix->count--;
    s_entry_free(e);
}

const triage_ix_meta_t *triage_index_put(triage_index_t *ix, const triage_ix_meta_t *meta)
{
    assert(ix && meta && meta->id[0] && meta->community[0]);
    s_entry_t **p = s_find(ix, meta->id);
    if (*p) {
        s_entry_t *e = *p;
        if (strcmp(e->meta.community, meta->community) != 0) {
            s_bucket_drop(e);
            s_bucket_add(s_bucket(ix, meta->community), e);
        }
        e->meta = *meta;
        return &e->meta;
    }
    if (ix->count >= ix->max_items && ix->oldest)
        s_unlink(ix, ix->oldest);
    s_entry_t *e = hl_calloc(1, sizeof *e);
    e->meta = *meta;
    p = s_find(ix, meta->id); /* the eviction may have changed the chain */
    *p = e;
    s_bucket_add(s_bucket(ix, meta->community), e);
    e->older = ix->newest;
    if (ix->newest)
        ix->newest->newer = e;
    else
        ix->oldest = e;
    ix->newest = e;
    ix->count++;
    return &e->meta;
}

const triage_ix_meta_t *triage_index_get(const triage_index_t *ix, const char *id)
{
    s_entry_t *e = *s_find(ix, id);
    return e ? &e->meta : NULL;
}

bool triage_index_add_appeal(triage_index_t *ix, const char *id, const triage_feats_t *f,
                             bool count)
{
    s_entry_t *e = *s_find(ix, id);
    if (!e)
        return false;
    if (count)
        e->meta.appeals++;
    s_kept_t k = {.f = hl_calloc(f->n ? f->n : 1, sizeof *k.f), .n = f->n};
    memcpy(k.f, f->f, f->n * sizeof *k.f);
    triage_sums_of(&ix->df, k.f, k.n, &k.sums);
    if (e->nkept < TRIAGE_IX_APPEALS) {
        e->kept[e->nkept++] = k;
        return true;
    }
    /* Full: the first appeal stays, the oldest of the latest goes. */
    size_t slot = 1 + e->next_slot;
    e->next_slot = (uint8_t)((e->next_slot + 1) % (TRIAGE_IX_APPEALS - 1));
    free(e->kept[slot].f);
    e->kept[slot] = k;
    return true;
}

void triage_index_remove(triage_index_t *ix, const char *id)
{
    s_entry_t *e = *s_find(ix, id);
    if (e)
        s_unlink(ix, e);
}

size_t triage_index_expire(triage_index_t *ix, int64_t before_us)
{
    size_t n = 0;
    for (s_entry_t *e = ix->oldest, *next; e; e = next) {
        next = e->newer;
        if (e->meta.created_us < before_us) {
            s_unlink(ix, e);
            n++;
        }
    }
    return n;
}

static bool s_same(const char *a, const char *b)
{
    return a && b && *a && *b && strcmp(a, b) == 0;
}

static bool s_both(const char *a, const char *b)
{
    return a && b && *a && *b;
}

void triage_pair_context(const triage_ix_meta_t *m, const triage_ix_query_t *q, triage_pair_t *x)
{
    x->x[TRIAGE_X_BIAS] = 1;
    x->x[TRIAGE_X_SIZE_SAME] = m->size == q->size;
    x->x[TRIAGE_X_WISH_DIFF] = (m->size == TRIAGE_SIZE_WISH) != (q->size == TRIAGE_SIZE_WISH);
    x->x[TRIAGE_X_LARGE_ANY] = m->size == TRIAGE_SIZE_LARGE || q->size == TRIAGE_SIZE_LARGE;
    x->x[TRIAGE_X_SIZE_GUESSED] = m->size != q->size && q->size_guessed;
    x->x[TRIAGE_X_CATEGORY_DIFF] =
        s_both(m->category, q->category) && strcmp(m->category, q->category) != 0;
}

const triage_ix_meta_t *triage_index_best(triage_index_t *ix, const triage_scorer_t *sc,
                                          const triage_ix_query_t *q, triage_ix_why_t *why)
{
    assert(ix && sc && q && q->feats);
    triage_ix_why_t best = {0};
    const s_entry_t *chosen = NULL;
    size_t at = q->community && *q->community ? s_bucket_at(ix, q->community) : ix->nbuckets;
    const s_bucket_t *b = at < ix->nbuckets ? &ix->buckets[at] : NULL;
    triage_side_t side; /* the appeal's weights, once */
    if (b)
        triage_side_of(&ix->df, q->feats->f, q->feats->n, &side);
    for (size_t i = 0; b && i < b->n; i++) {
        s_entry_t *e = b->items[i];
        const triage_ix_meta_t *m = &e->meta;
        bool same_compound = s_same(m->compound, q->compound);
        /* Only a large matter (a road, a market, a drain outside) is shared
         * by neighbouring compounds; "building 5" of two compounds is two
         * buildings. The item must be large: a small item lies inside its
         * compound and goes to its council, so a large appeal from next
         * door is another matter (an appeal sized small may still join a
         * large item: residents often describe a road as their doorstep). */
        if (!same_compound && m->size != TRIAGE_SIZE_LARGE)
            continue;
        /* A wish (one person's need, for the board) and a matter for the
         * council or the alliance are routed apart: joining them takes
         * more than the text. */
        double factor = (m->size == TRIAGE_SIZE_WISH) != (q->size == TRIAGE_SIZE_WISH)
                            ? sc->wish_mismatch
                            : 1.0;
        /* The pair model weighs every appeal the item keeps; the item
         * scores as half its closest one and half their mean, so one close
         * short note does not carry an appeal into an item whose other
         * letters are about something else (a roof leak and an upstairs
         * bathroom leak, met through "5号楼漏水"). */
        double score = 0, sim = 0, sum = 0;
        for (size_t k = 0; k < e->nkept; k++) {
            s_kept_t *kept = &e->kept[k];
            if (triage_sums_stale(&ix->df, &kept->sums))
                triage_sums_of(&ix->df, kept->f, kept->n, &kept->sums);
            triage_pair_t x;
            triage_pair_fast(&side, kept->f, kept->n, &kept->sums, same_compound, &x);
            triage_pair_context(m, q, &x);
            /* Two buildings (units, gates) named and none shared: two
             * matters, however alike the words ("3栋电梯坏了", "8栋电梯坏了"). */
            double p = triage_pair_score(&x) * factor *
                       (x.x[TRIAGE_X_CONFLICT] ? sc->building_conflict : 1.0);
            if (p > score) {
                score = p;
                sim = x.x[TRIAGE_X_TEXT];
            }
            sum += p;
        }
        if (e->nkept > 1)
            score = 0.5 * score + 0.5 * sum / e->nkept;
        best.compared++;
        if (score > best.score) {
            best.score = score;
            best.similarity = sim;
            chosen = e;
        }
    }
    if (why)
        *why = best;
    return chosen && best.score >= sc->threshold ? &chosen->meta : NULL;
}
