/* ratelimit.h: token buckets keyed by text (see ratelimit.c). Pure logic:
 * the caller passes the clock, so tests can drive time. */
#ifndef INTAKE_RATELIMIT_H
#define INTAKE_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct intake_ratelimit intake_ratelimit_t;

/* A table of at most `capacity` buckets. The caller owns it. */
intake_ratelimit_t *intake_ratelimit_new(size_t capacity);
void intake_ratelimit_destroy(intake_ratelimit_t **rl);
/* Takes one token from `key`'s bucket (refilled at `rate_per_min`, holding
 * at most `burst`) at `now_ms`. Returns 0 when admitted, else the
 * milliseconds until a token is available (the request is refused). Keys
 * longer than 71 bytes are cut there. */
long long intake_ratelimit_take(intake_ratelimit_t *rl, const char *key, double rate_per_min,
                                double burst, uint64_t now_ms);
/* intake_ratelimit_take for a request worth `cost` tokens (at least 1):
 * admitted when the bucket holds them, or, when `cost` exceeds `burst`,
 * when it is full; the cost is then taken whole, so the bucket may go
 * negative and the next request waits for the debt to be paid. */
long long intake_ratelimit_take_n(intake_ratelimit_t *rl, const char *key, double rate_per_min,
                                  double burst, double cost, uint64_t now_ms);
/* Drops every bucket that has refilled completely by `now_ms`. */
void intake_ratelimit_sweep(intake_ratelimit_t *rl, uint64_t now_ms);
/* Buckets held. */
size_t intake_ratelimit_size(const intake_ratelimit_t *rl);
/* True when `addr` appears in the comma-separated list `list`. */
bool intake_addr_listed(const char *list, const char *addr);

#endif
