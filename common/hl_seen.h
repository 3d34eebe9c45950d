/* hl_seen: the message ids a consumer has in hand or applied lately, so a
 * re-send that arrives while its original is still queued (the producer's
 * sweeper re-sends after HL_RESEND_AFTER_MS, and a consumer that is behind
 * holds thousands of messages that old) is dropped in memory instead of
 * costing a round trip that ends in HLDUP and splits a whole batch.
 *
 * It is a shortcut, never the guarantee: pipeline.claim() still decides
 * exactly-once in the database, and a set that forgot an id (evicted, or a
 * new process) only costs that round trip. Bounded: at most `cap` ids; the
 * oldest is forgotten first. Pure, no I/O (tests/unit/test_seen.c). */
#ifndef HL_SEEN_H
#define HL_SEEN_H

#include <stdbool.h>
#include <stddef.h>

typedef struct hl_seen hl_seen_t;

/* A set of at most `cap` ids (rounded up to a power of two, at least 16). */
hl_seen_t *hl_seen_new(size_t cap);
void hl_seen_destroy(hl_seen_t **s);
/* Adds `id`; returns false (and changes nothing) when it is there already. */
bool hl_seen_add(hl_seen_t *s, const char *id);
/* True when `id` is in the set. */
bool hl_seen_has(const hl_seen_t *s, const char *id);
/* Forgets `id` (its message failed and must be taken again when re-sent). */
void hl_seen_remove(hl_seen_t *s, const char *id);
/* Ids in the set. */
size_t hl_seen_count(const hl_seen_t *s);

#endif
