/* hl_id: identifiers made on this side of the database.
 *
 * Ids are UUIDv4 from getrandom(2), made by the producer so that one
 * pipelined transaction can insert a row and the message that refers to it
 * without a round trip for RETURNING. Tracking codes are what a resident
 * writes down: 10 Crockford base-32 characters (50 bits), grouped for reading. */
#ifndef HL_ID_H
#define HL_ID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HL_UUID_LEN     36 /* text form without the NUL */
#define HL_TRACKING_LEN 12 /* "HL" + 10 characters, no separator */

/* Writes a new random UUID in text form into out[HL_UUID_LEN + 1]. */
void hl_uuid_new(char out[HL_UUID_LEN + 1]);
/* True when `s` is a UUID in canonical text form (any case). */
bool hl_uuid_valid(const char *s);
/* When `s` is a UUID, writes its canonical (lower-case) form to `out` and
 * returns true; otherwise leaves `out` alone and returns false. */
bool hl_uuid_canonical(const char *s, char out[HL_UUID_LEN + 1]);
/* Writes a new tracking code ("HL" + 10 base-32 characters) into out[13]. */
void hl_tracking_new(char out[HL_TRACKING_LEN + 1]);
/* True when `s` looks like a tracking code (so lookups of junk never reach SQL). */
bool hl_tracking_valid(const char *s);
/* FNV-1a of `len` bytes: a fast, stable, non-cryptographic hash for hash
 * tables and fingerprints (the same value in every process and build). */
uint64_t hl_fnv1a(const void *data, size_t len);
/* Fills `buf` with `len` random bytes (getrandom; aborts if the kernel cannot). */
void hl_random_bytes(void *buf, size_t len);

#endif
