/* hl_webhook: HMAC-SHA256 (RFC 2104 on hl_sha256), base64, a constant-time
 * comparison, and webhooks signed the Standard Webhooks way
 * (https://www.standardwebhooks.com): the signed content is
 * "<webhook-id>.<webhook-timestamp>.<body>", the signature header lists one
 * or more "v1,<base64 of the HMAC>" separated by spaces, and a secret is
 * "whsec_" followed by the base64 of the key.
 *
 * Used both ways by hl-alliance (the city platform's webhooks) and by the
 * tests' fake platform. Pure: no I/O, no clock (the caller passes "now"). */
#ifndef HL_WEBHOOK_H
#define HL_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HL_WEBHOOK_TOLERANCE_S 300  /* timestamps further from now are refused */
#define HL_WEBHOOK_KEY_MAX     64   /* bytes of a decoded secret key */
#define HL_WEBHOOK_SIG_LEN     48   /* "v1," + 44 base64 characters + NUL */
#define HL_WEBHOOK_ID_MAX      128  /* characters in a webhook-id */
#define HL_WEBHOOK_SIGS_MAX    1024 /* characters in a webhook-signature header */

/* HMAC-SHA256 of `len` bytes of `data` under `key`. */
void hl_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                    unsigned char out[32]);

/* Base64 (RFC 4648, with padding) of `len` bytes into `out`, which holds at
 * least 4 * ((len + 2) / 3) + 1 bytes. Returns the length written. */
size_t hl_base64_encode(const void *data, size_t len, char *out);
/* Decodes standard base64 (padding required, no whitespace) into `out`
 * (room for `max` bytes). Returns the decoded length, or -1 when malformed
 * or too long. */
long hl_base64_decode(const char *text, size_t len, unsigned char *out, size_t max);

/* True when the `len` bytes at a and b are equal, in time that does not
 * depend on where they differ. */
bool hl_ct_equal(const void *a, const void *b, size_t len);

/* A decoded secret. */
typedef struct {
    unsigned char key[HL_WEBHOOK_KEY_MAX]; /* the key bytes */
    size_t len;                            /* how many */
} hl_webhook_key_t;

/* Decodes "whsec_<base64>" (16..64 key bytes). Returns false when malformed. */
bool hl_webhook_key_parse(const char *secret, hl_webhook_key_t *key);

/* Writes "v1,<base64>" for id.timestamp.body under `key` into `out`. */
void hl_webhook_sign(const hl_webhook_key_t *key, const char *id, long long timestamp,
                     const void *body, size_t len, char out[HL_WEBHOOK_SIG_LEN]);

/* Why a webhook was refused (every one answers 401). */
typedef enum {
    HL_WEBHOOK_OK,           /* signed by one of the keys, in time */
    HL_WEBHOOK_NO_ID,        /* webhook-id missing, empty, too long or not printable ASCII */
    HL_WEBHOOK_NO_TIMESTAMP, /* webhook-timestamp missing or not whole seconds */
    HL_WEBHOOK_STALE,        /* timestamp outside the tolerance */
    HL_WEBHOOK_NO_SIGNATURE, /* webhook-signature missing, empty or without a v1 entry */
    HL_WEBHOOK_BAD_SIGNATURE /* no v1 signature matches any key */
} hl_webhook_verdict_t;

/* Verifies a webhook against `nkeys` keys (two while a secret rotates). The
 * headers may be NULL (missing). `now` is seconds since the epoch. Every v1
 * entry is compared with every key in constant time. */
hl_webhook_verdict_t hl_webhook_verify(const hl_webhook_key_t *keys, size_t nkeys, const char *id,
                                       const char *timestamp, const char *signature,
                                       const void *body, size_t len, long long now,
                                       long long tolerance_s);
/* Text for a verdict ("signature does not match"), for the 401 reply. */
const char *hl_webhook_verdict_text(hl_webhook_verdict_t v);
/* The header a verdict is about ("webhook-signature"), or NULL for OK. */
const char *hl_webhook_verdict_field(hl_webhook_verdict_t v);

#endif
