/* hl_sha256: SHA-256 (FIPS 180-4), for storing API keys hashed. A key is
 * 32 random bytes, so a plain hash (no salt, no stretching) is enough: it
 * cannot be guessed from its hash, and lookups stay one comparison. */
#ifndef HL_SHA256_H
#define HL_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t state[8];     /* chaining value */
    uint64_t bits;         /* message length so far, bits */
    unsigned char buf[64]; /* partial block */
    size_t buflen;         /* bytes in buf */
} hl_sha256_t;

void hl_sha256_init(hl_sha256_t *ctx);
void hl_sha256_update(hl_sha256_t *ctx, const void *data, size_t len);
void hl_sha256_final(hl_sha256_t *ctx, unsigned char out[32]);
/* The digest of `len` bytes as 64 lower-case hex characters plus NUL. */
void hl_sha256_hex(const void *data, size_t len, char out[65]);

#endif
