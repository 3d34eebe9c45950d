/* test_webhook: HMAC-SHA256 against RFC 4231's vectors, base64 both ways
 * (canonical only), the Standard Webhooks example signature, and every way
 * hl_webhook_verify refuses: missing or malformed headers, stale and future
 * timestamps, tampered id / timestamp / body, a wrong or retired key, and
 * rotation (either of two keys verifies; several v1 entries). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hl_webhook.h"

static void s_hex(const unsigned char *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

static void s_hmac_check(const void *key, size_t keylen, const void *data, size_t len,
                         const char *want)
{
    unsigned char mac[32];
    char hex[65];
    hl_hmac_sha256(key, keylen, data, len, mac);
    s_hex(mac, 32, hex);
    assert_string_equal(hex, want);
}

static void test_hmac_rfc4231(void **state)
{
    (void)state;
    unsigned char k1[20];
    memset(k1, 0x0b, sizeof k1);
    s_hmac_check(k1, sizeof k1, "Hi There", 8,
                 "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    s_hmac_check("Jefe", 4, "what do ya want for nothing?", 28,
                 "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    unsigned char k3[20], d3[50];
    memset(k3, 0xaa, sizeof k3);
    memset(d3, 0xdd, sizeof d3);
    s_hmac_check(k3, sizeof k3, d3, sizeof d3,
                 "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
    /* Test case 6: a key longer than the block is hashed first. */
    unsigned char k6[131];
    memset(k6, 0xaa, sizeof k6);
    const char *d6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    s_hmac_check(k6, sizeof k6, d6, strlen(d6),
                 "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void test_base64(void **state)
{
    (void)state;
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const coded[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                        "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        char out[16];
        hl_base64_encode(plain[i], strlen(plain[i]), out);
        assert_string_equal(out, coded[i]);
        unsigned char back[16];
        long n = hl_base64_decode(coded[i], strlen(coded[i]), back, sizeof back);
        assert_int_equal(n, (long)strlen(plain[i]));
        assert_memory_equal(back, plain[i], (size_t)n);
    }
    unsigned char b[16];
    static const char *const bad[] = {
        "Zg=", "Zg", "Z===", "=Zg=", "Zm9v!A==", "Zh==", "Zm9=", "Zg==Zg==", "Zm 9v"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(hl_base64_decode(bad[i], strlen(bad[i]), b, sizeof b), -1);
    assert_int_equal(hl_base64_decode("Zm9vYmFy", 8, b, 5), -1); /* too long for out */
}

static void test_ct_equal(void **state)
{
    (void)state;
    assert_true(hl_ct_equal("abcd", "abcd", 4));
    assert_false(hl_ct_equal("abcd", "abce", 4));
    assert_false(hl_ct_equal("xbcd", "abcd", 4));
    assert_true(hl_ct_equal("", "", 0));
}

static void test_standard_webhooks_example(void **state)
{
    (void)state;
    hl_webhook_key_t key;
    assert_true(hl_webhook_key_parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &key));
    assert_int_equal(key.len, 24);
    const char *body = "{\"test\": 2432232314}";
    char sig[HL_WEBHOOK_SIG_LEN];
    hl_webhook_sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body), sig);
    assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    assert_int_equal(hl_webhook_verify(&key, 1, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", sig,
                                       body, strlen(body), 1614265330 + 299, 300),
                     HL_WEBHOOK_OK);
}

static void test_key_parse(void **state)
{
    (void)state;
    hl_webhook_key_t k;
    assert_false(hl_webhook_key_parse(NULL, &k));
    assert_false(hl_webhook_key_parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &k));
    assert_false(hl_webhook_key_parse("whsec_", &k));
    assert_false(hl_webhook_key_parse("whsec_Zm9vYmFy", &k)); /* 6 bytes: too short */
    assert_false(hl_webhook_key_parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS!", &k));
}

typedef struct {
    hl_webhook_key_t keys[2];
    char sig[HL_WEBHOOK_SIG_LEN];
    const char *body;
    long long ts;
} s_fix_t;

static void s_fix(s_fix_t *f)
{
    assert_true(hl_webhook_key_parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &f->keys[0]));
    assert_true(hl_webhook_key_parse("whsec_c2Vjb25kLXNlY3JldC1rZXktMTIzNDU2", &f->keys[1]));
    f->body = "{\"type\":\"large_item.claim\"}";
    f->ts = 1790000000;
    hl_webhook_sign(&f->keys[1], "evt_1", f->ts, f->body, strlen(f->body), f->sig);
}

static hl_webhook_verdict_t s_verify(const s_fix_t *f, size_t nkeys, const char *id, const char *ts,
                                     const char *sig, const char *body, long long now)
{
    return hl_webhook_verify(f->keys, nkeys, id, ts, sig, body, strlen(body), now, 300);
}

static void test_verify_refusals(void **state)
{
    (void)state;
    s_fix_t f;
    s_fix(&f);
    const char *ts = "1790000000";
    long long now = f.ts;
    assert_int_equal(s_verify(&f, 2, "evt_1", ts, f.sig, f.body, now), HL_WEBHOOK_OK);
    /* Rotation: the second key verifies; the first alone does not. */
    assert_int_equal(s_verify(&f, 1, "evt_1", ts, f.sig, f.body, now), HL_WEBHOOK_BAD_SIGNATURE);
    /* Headers missing or malformed. */
    assert_int_equal(s_verify(&f, 2, NULL, ts, f.sig, f.body, now), HL_WEBHOOK_NO_ID);
    assert_int_equal(s_verify(&f, 2, "", ts, f.sig, f.body, now), HL_WEBHOOK_NO_ID);
    assert_int_equal(s_verify(&f, 2, "evt 1", ts, f.sig, f.body, now), HL_WEBHOOK_NO_ID);
    assert_int_equal(s_verify(&f, 2, "evt_1", NULL, f.sig, f.body, now), HL_WEBHOOK_NO_TIMESTAMP);
    assert_int_equal(s_verify(&f, 2, "evt_1", "-1790000000", f.sig, f.body, now),
                     HL_WEBHOOK_NO_TIMESTAMP);
    assert_int_equal(s_verify(&f, 2, "evt_1", "1790000000.5", f.sig, f.body, now),
                     HL_WEBHOOK_NO_TIMESTAMP);
    assert_int_equal(s_verify(&f, 2, "evt_1", ts, NULL, f.body, now), HL_WEBHOOK_NO_SIGNATURE);
    assert_int_equal(s_verify(&f, 2, "evt_1", ts, "", f.body, now), HL_WEBHOOK_NO_SIGNATURE);
    assert_int_equal(s_verify(&f, 2, "evt_1", ts, "v2,abcd", f.body, now), HL_WEBHOOK_NO_SIGNATURE);
    /* Stale either way, by one second past the window. */
    assert_int_equal(s_verify(&f, 2, "evt_1", ts, f.sig, f.body, now + 301), HL_WEBHOOK_STALE);
    assert_int_equal(s_verify(&f, 2, "evt_1", ts, f.sig, f.body, now - 301), HL_WEBHOOK_STALE);
    assert_int_equal(s_verify(&f, 2, "evt_1", ts, f.sig, f.body, now + 300), HL_WEBHOOK_OK);
    /* Tampered: id, timestamp (re-signed window), body, signature. */
    assert_int_equal(s_verify(&f, 2, "evt_2", ts, f.sig, f.body, now), HL_WEBHOOK_BAD_SIGNATURE);
    assert_int_equal(s_verify(&f, 2, "evt_1", "1790000001", f.sig, f.body, now),
                     HL_WEBHOOK_BAD_SIGNATURE);
    assert_int_equal(s_verify(&f, 2, "evt_1", ts, f.sig, "{\"type\":\"large_item.claiM\"}", now),
                     HL_WEBHOOK_BAD_SIGNATURE);
    char bad[HL_WEBHOOK_SIG_LEN];
    memcpy(bad, f.sig, sizeof bad);
    bad[10] = bad[10] == 'A' ? 'B' : 'A';
    assert_int_equal(s_verify(&f, 2, "evt_1", ts, bad, f.body, now), HL_WEBHOOK_BAD_SIGNATURE);
    /* Several entries: one good among others verifies. */
    char list[256];
    snprintf(list, sizeof list, "v1,AAAA %s v2,xyz", f.sig);
    assert_int_equal(s_verify(&f, 2, "evt_1", ts, list, f.body, now), HL_WEBHOOK_OK);
    snprintf(list, sizeof list, "v1,AAAA %s", bad);
    assert_int_equal(s_verify(&f, 2, "evt_1", ts, list, f.body, now), HL_WEBHOOK_BAD_SIGNATURE);
    /* No keys at all: nothing verifies. */
    assert_int_equal(s_verify(&f, 0, "evt_1", ts, f.sig, f.body, now), HL_WEBHOOK_BAD_SIGNATURE);
    assert_non_null(hl_webhook_verdict_field(HL_WEBHOOK_STALE));
    assert_null(hl_webhook_verdict_field(HL_WEBHOOK_OK));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hmac_rfc4231), cmocka_unit_test(test_base64),
        cmocka_unit_test(test_ct_equal),     cmocka_unit_test(test_standard_webhooks_example),
        cmocka_unit_test(test_key_parse),    cmocka_unit_test(test_verify_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
