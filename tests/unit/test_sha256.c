/* test_sha256: SHA-256 against the FIPS 180-4 / NIST example vectors,
 * block-boundary lengths, and streaming in odd pieces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "hl_sha256.h"

static void s_check(const char *msg, size_t len, const char *want)
{
    char got[65];
    hl_sha256_hex(msg, len, got);
    assert_string_equal(got, want);
}

static void test_empty(void **state)
{
    (void)state;
    s_check("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_abc(void **state)
{
    (void)state;
    s_check("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_two_blocks(void **state)
{
    (void)state;
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    s_check(m, strlen(m), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_896_bits(void **state)
{
    (void)state;
    const char *m =
        "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklm"
        "nopqrlmnopqrsmnopqrstnopqrstu";
    s_check(m, strlen(m), "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void test_million_a(void **state)
{
    (void)state;
    /* Fed in uneven pieces so the buffering across blocks is exercised. */
    char chunk[997];
    memset(chunk, 'a', sizeof chunk);
    hl_sha256_t ctx;
    hl_sha256_init(&ctx);
    size_t left = 1000000;
    while (left) {
        size_t n = left < sizeof chunk ? left : sizeof chunk;
        hl_sha256_update(&ctx, chunk, n);
        left -= n;
    }
    unsigned char d[32];
    hl_sha256_final(&ctx, d);
    static const unsigned char want[32] = {0xcd, 0xc7, 0x6e, 0x5c, 0x99, 0x14, 0xfb, 0x92,
                                           0x81, 0xa1, 0xc7, 0xe2, 0x84, 0xd7, 0x3e, 0x67,
                                           0xf1, 0x80, 0x9a, 0x48, 0xa4, 0x97, 0x20, 0x0e,
                                           0x04, 0x6d, 0x39, 0xcc, 0xc7, 0x11, 0x2c, 0xd0};
    assert_memory_equal(d, want, 32);
}

static void test_padding_edges(void **state)
{
    (void)state;
    /* 55, 56, 63 and 64 bytes: the lengths where padding spills into a
     * second block. Streaming one byte at a time must agree with one call. */
    static const char *const want[] = {
        "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
        "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",
        "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34",
        "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"};
    static const size_t lens[] = {55, 56, 63, 64};
    for (size_t i = 0; i < 4; i++) {
        char m[64];
        memset(m, 'a', lens[i]);
        s_check(m, lens[i], want[i]);
        hl_sha256_t ctx;
        hl_sha256_init(&ctx);
        for (size_t k = 0; k < lens[i]; k++)
            hl_sha256_update(&ctx, m + k, 1);
        unsigned char d1[32], d2[32];
        hl_sha256_final(&ctx, d1);
        hl_sha256_init(&ctx);
        hl_sha256_update(&ctx, m, lens[i]);
        hl_sha256_final(&ctx, d2);
        assert_memory_equal(d1, d2, 32);
    }
}

static void test_differs(void **state)
{
    (void)state;
    char a[65], b[65];
    hl_sha256_hex("key-1", 5, a);
    hl_sha256_hex("key-2", 5, b);
    assert_string_not_equal(a, b);
    assert_int_equal(strlen(a), 64);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),      cmocka_unit_test(test_abc),
        cmocka_unit_test(test_two_blocks), cmocka_unit_test(test_896_bits),
        cmocka_unit_test(test_million_a),  cmocka_unit_test(test_padding_edges),
        cmocka_unit_test(test_differs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
