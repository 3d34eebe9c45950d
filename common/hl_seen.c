/* hl_seen.c: a bounded set of ids (see hl_seen.h).
 *
 * An id is kept as a 128-bit hash of its text (two independent 64-bit
 * hashes). A false "seen" would drop a message never applied until it is
 * evicted and re-sent again; with 128 bits that is a 2^-128 chance per
 * pair, which is never in practice. Ids live in a ring in the order added, which
 * gives the eviction order, and in an open-addressing table (linear
 * probing, deletion by backward shift) that points into the ring. */
#include "hl_seen.h"

#include "hl_alloc.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t a, b; /* the id's hash; a == b == 0 marks a removed entry */
} s_key_t;

struct hl_seen {
    s_key_t *ring;   /* ids in the order added */
    size_t cap;      /* ring size (power of two) */
    size_t head;     /* next ring position to fill */
    size_t used;     /* ring positions filled (live or removed) */
    size_t live;     /* ids in the set */
    uint32_t *table; /* ring position + 1, 0 for empty */
    size_t tsize;    /* table size: 2 * cap */
};

static s_key_t s_hash(const char *id)
{
    uint64_t a = 0xcbf29ce484222325ULL, b = 0x84222325cbf29ce4ULL;
    for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
        a = (a ^ *p) * 0x100000001b3ULL;
        b = (b + *p) * 0x9E3779B97F4A7C15ULL;
        b ^= b >> 29;
    }
    if (a == 0 && b == 0)
        a = 1;
    return (s_key_t){a, b};
}

static size_t s_slot_of(const hl_seen_t *s, s_key_t k)
{
    return (size_t)(k.a ^ (k.b >> 17)) & (s->tsize - 1);
}

static bool s_eq(s_key_t x, s_key_t y)
{
    return x.a == y.a && x.b == y.b;
}

/* The table slot holding `k`, or the empty slot where it would go. */
static size_t s_find(const hl_seen_t *s, s_key_t k, bool *found)
{
    size_t i = s_slot_of(s, k);
    for (;;) {
        uint32_t v = s->table[i];
        if (v == 0) {
            *found = false;
            return i;
        }
        if (s_eq(s->ring[v - 1], k)) {
            *found = true;
            return i;
        }
        i = (i + 1) & (s->tsize - 1);
    }
}

/* Empties table slot `i` and shifts back the entries after it that would
 * no longer be found. */
static void s_table_delete(hl_seen_t *s, size_t i)
{
    size_t mask = s->tsize - 1, j = i;
    s->table[i] = 0;
    for (;;) {
        j = (j + 1) & mask;
        uint32_t v = s->table[j];
        if (v == 0)
            return;
        size_t home = s_slot_of(s, s->ring[v - 1]);
        /* Move v back into the hole if its home is not in (i, j]. */
        bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!between) {
            s->table[i] = v;
            s->table[j] = 0;
            i = j;
        }
    }
}

hl_seen_t *hl_seen_new(size_t cap)
{
    size_t c = 16;
    while (c < cap && c < ((size_t)1 << 30))
        c <<= 1;
    hl_seen_t *s = hl_calloc(1, sizeof *s);
    s->cap = c;
    s->tsize = c * 2;
    s->ring = hl_calloc(c, sizeof *s->ring);
    s->table = hl_calloc(s->tsize, sizeof *s->table);
    return s;
}

void hl_seen_destroy(hl_seen_t **sp)
{
    hl_seen_t *s = *sp;
    if (!s)
        return;
    free(s->ring);
    free(s->table);
    free(s);
    *sp = NULL;
}

static void s_forget(hl_seen_t *s, size_t slot, size_t pos)
{
    s_table_delete(s, slot);
    s->ring[pos] = (s_key_t){0, 0};
    s->live--;
}

bool hl_seen_add(hl_seen_t *s, const char *id)
{
    assert(s && id);
    s_key_t k = s_hash(id);
    bool found;
    s_find(s, k, &found);
    if (found)
        return false;
    if (s->used == s->cap) {
        /* Full: the oldest position is the one about to be overwritten. */
        s_key_t old = s->ring[s->head];
        if (old.a || old.b) {
            size_t slot = s_find(s, old, &found);
            assert(found);
            s_forget(s, slot, s->head);
        }
        s->used--;
    }
    size_t pos = s->head;
    s->ring[pos] = k;
    s->head = (s->head + 1) & (s->cap - 1);
    s->used++;
    s->live++;
    size_t slot = s_find(s, k, &found);
    s->table[slot] = (uint32_t)pos + 1;
    return true;
}

bool hl_seen_has(const hl_seen_t *s, const char *id)
{
    assert(s && id);
    bool found;
    s_find(s, s_hash(id), &found);
    return found;
}

void hl_seen_remove(hl_seen_t *s, const char *id)
{
    assert(s && id);
    bool found;
    size_t slot = s_find(s, s_hash(id), &found);
    if (found)
        s_forget(s, slot, s->table[slot] - 1);
}

size_t hl_seen_count(const hl_seen_t *s)
{
    return s->live;
}
