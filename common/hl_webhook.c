/* hl_webhook: HMAC-SHA256, base64 and Standard Webhooks signatures (see
 * hl_webhook.h). The HMAC follows RFC 2104 over hl_sha256; it is checked
 * against RFC 4231's test vectors in tests/unit/test_webhook.c. */
#include "hl_webhook.h"

#include "hl_sha256.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hl_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                    unsigned char out[32])
{
    assert(key || keylen == 0);
    assert(data || len == 0);
    unsigned char k[64] = {0}, pad[64], inner[32];
    if (keylen > sizeof k) {
        hl_sha256_t h;
        hl_sha256_init(&h);
        hl_sha256_update(&h, key, keylen);
        hl_sha256_final(&h, k);
    } else if (keylen > 0) {
        memcpy(k, key, keylen);
    }
    hl_sha256_t h;
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x36;
    hl_sha256_init(&h);
    hl_sha256_update(&h, pad, sizeof pad);
    hl_sha256_update(&h, data, len);
    hl_sha256_final(&h, inner);
    for (int i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x5c;
    hl_sha256_init(&h);
    hl_sha256_update(&h, pad, sizeof pad);
    hl_sha256_update(&h, inner, sizeof inner);
    hl_sha256_final(&h, out);
}

static const char s_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t hl_base64_encode(const void *data, size_t len, char *out)
{
    const unsigned char *p = data;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < len)
            v |= p[i + 2];
        out[o++] = s_b64[(v >> 18) & 63];
        out[o++] = s_b64[(v >> 12) & 63];
        out[o++] = i + 1 < len ? s_b64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? s_b64[v & 63] : '=';
    }
    out[o] = '\0';
    return o;
}

static int s_b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

long hl_base64_decode(const char *text, size_t len, unsigned char *out, size_t max)
{
    if (len % 4 != 0)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        int pad = 0;
        for (int j = 0; j < 4; j++) {
            char c = text[i + j];
            /* '=' only at the end: the last one, or the last two. */
            if (c == '=' && i + 4 == len && (j == 3 || (j == 2 && text[i + 3] == '='))) {
                v[j] = 0;
                pad++;
                continue;
            }
            if ((v[j] = s_b64_value(c)) < 0)
                return -1;
        }
        uint32_t w =
            (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        size_t n = 3 - (size_t)pad;
        if (o + n > max)
            return -1;
        unsigned char b[3] = {(unsigned char)(w >> 16), (unsigned char)(w >> 8), (unsigned char)w};
        /* Canonical only: the bits a pad hides must be zero. */
        if ((pad == 1 && b[2] != 0) || (pad == 2 && b[1] != 0))
            return -1;
        memcpy(out + o, b, n);
        o += n;
    }
    return (long)o;
}

bool hl_ct_equal(const void *a, const void *b, size_t len)
{
    const volatile unsigned char *x = a, *y = b;
    unsigned char diff = 0;
    for (size_t i = 0; i < len; i++)
        diff |= (unsigned char)(x[i] ^ y[i]);
    return diff == 0;
}

bool hl_webhook_key_parse(const char *secret, hl_webhook_key_t *key)
{
    memset(key, 0, sizeof *key);
    if (!secret || strncmp(secret, "whsec_", 6) != 0)
        return false;
    long n = hl_base64_decode(secret + 6, strlen(secret + 6), key->key, sizeof key->key);
    if (n < 16)
        return false;
    key->len = (size_t)n;
    return true;
}

/* The HMAC of "id.timestamp.body". */
static void s_mac(const hl_webhook_key_t *key, const char *id, long long timestamp,
                  const void *body, size_t len, unsigned char out[32])
{
    char head[HL_WEBHOOK_ID_MAX + 40];
    int n = snprintf(head, sizeof head, "%s.%lld.", id, timestamp);
    assert(n > 0 && (size_t)n < sizeof head);
    size_t total = (size_t)n + len;
    unsigned char *msg = malloc(total ? total : 1);
    if (!msg)
        abort();
    memcpy(msg, head, (size_t)n);
    if (len)
        memcpy(msg + n, body, len);
    hl_hmac_sha256(key->key, key->len, msg, total, out);
    free(msg);
}

void hl_webhook_sign(const hl_webhook_key_t *key, const char *id, long long timestamp,
                     const void *body, size_t len, char out[HL_WEBHOOK_SIG_LEN])
{
    assert(key && id && strlen(id) <= HL_WEBHOOK_ID_MAX);
    unsigned char mac[32];
    s_mac(key, id, timestamp, body, len, mac);
    memcpy(out, "v1,", 3);
    hl_base64_encode(mac, sizeof mac, out + 3);
}

static bool s_id_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > HL_WEBHOOK_ID_MAX)
        return false;
    for (const char *p = id; *p; p++)
        if (*p <= ' ' || *p > '~')
            return false;
    return true;
}

/* Whole seconds, plain digits, no sign, at most 12 of them. */
static bool s_timestamp(const char *text, long long *out)
{
    size_t n = text ? strlen(text) : 0;
    if (n == 0 || n > 12)
        return false;
    long long v = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return true;
}

hl_webhook_verdict_t hl_webhook_verify(const hl_webhook_key_t *keys, size_t nkeys, const char *id,
                                       const char *timestamp, const char *signature,
                                       const void *body, size_t len, long long now,
                                       long long tolerance_s)
{
    if (!s_id_ok(id))
        return HL_WEBHOOK_NO_ID;
    long long ts;
    if (!s_timestamp(timestamp, &ts))
        return HL_WEBHOOK_NO_TIMESTAMP;
    if (ts < now - tolerance_s || ts > now + tolerance_s)
        return HL_WEBHOOK_STALE;
    if (!signature || !*signature || strlen(signature) > HL_WEBHOOK_SIGS_MAX)
        return HL_WEBHOOK_NO_SIGNATURE;
    unsigned char want[2][32];
    size_t usable = nkeys < 2 ? nkeys : 2;
    for (size_t k = 0; k < usable; k++)
        s_mac(&keys[k], id, ts, body, len, want[k]);
    bool any_v1 = false, match = false;
    const char *p = signature;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *end = strchr(p, ' ');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > 3 && strncmp(p, "v1,", 3) == 0) {
            any_v1 = true;
            unsigned char got[33];
            if (hl_base64_decode(p + 3, n - 3, got, sizeof got) == 32)
                for (size_t k = 0; k < usable; k++)
                    match |= hl_ct_equal(got, want[k], 32);
        }
        p += n;
    }
    if (!any_v1)
        return HL_WEBHOOK_NO_SIGNATURE;
    return match ? HL_WEBHOOK_OK : HL_WEBHOOK_BAD_SIGNATURE;
}

const char *hl_webhook_verdict_text(hl_webhook_verdict_t v)
{
    switch (v) {
    case HL_WEBHOOK_OK:
        return "signature verified";
    case HL_WEBHOOK_NO_ID:
        return "webhook-id is missing or malformed";
    case HL_WEBHOOK_NO_TIMESTAMP:
        return "webhook-timestamp is missing or not whole seconds since the epoch";
    case HL_WEBHOOK_STALE:
        return "webhook-timestamp is outside the accepted window around now (replay or clock skew)";
    case HL_WEBHOOK_NO_SIGNATURE:
        return "webhook-signature is missing or has no v1 signature";
    case HL_WEBHOOK_BAD_SIGNATURE:
        return "webhook-signature does not match the body under any active secret";
    }
    return "refused";
}

const char *hl_webhook_verdict_field(hl_webhook_verdict_t v)
{
    switch (v) {
    case HL_WEBHOOK_OK:
        return NULL;
    case HL_WEBHOOK_NO_ID:
        return "webhook-id";
    case HL_WEBHOOK_NO_TIMESTAMP:
    case HL_WEBHOOK_STALE:
        return "webhook-timestamp";
    case HL_WEBHOOK_NO_SIGNATURE:
    case HL_WEBHOOK_BAD_SIGNATURE:
        return "webhook-signature";
    }
    return NULL;
}
