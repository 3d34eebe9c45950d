/* test_intake_ratelimit: token buckets with an injected clock — burst,
 * refill, Retry-After, independence of keys, and a bounded table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "ratelimit.h"

static void test_burst_then_refused(void **state)
{
    (void)state;
    intake_ratelimit_t *rl = intake_ratelimit_new(16);
    for (int i = 0; i < 10; i++)
        assert_int_equal(intake_ratelimit_take(rl, "a", 60, 10, 1000), 0);
    /* 60 per minute: the next token is a second away. */
    long long wait = intake_ratelimit_take(rl, "a", 60, 10, 1000);
    assert_true(wait > 990 && wait <= 1000);
    intake_ratelimit_destroy(&rl);
    assert_null(rl);
}

static void test_refill(void **state)
{
    (void)state;
    intake_ratelimit_t *rl = intake_ratelimit_new(16);
    for (int i = 0; i < 5; i++)
        assert_int_equal(intake_ratelimit_take(rl, "a", 120, 5, 0), 0);
    assert_true(intake_ratelimit_take(rl, "a", 120, 5, 0) > 0);
    /* 120 per minute is one per 500 ms. */
    assert_true(intake_ratelimit_take(rl, "a", 120, 5, 499) > 0);
    /* By 1000 ms two tokens have come back (a refusal costs nothing). */
    assert_int_equal(intake_ratelimit_take(rl, "a", 120, 5, 1000), 0);
    assert_int_equal(intake_ratelimit_take(rl, "a", 120, 5, 1000), 0);
    assert_true(intake_ratelimit_take(rl, "a", 120, 5, 1000) > 0);
    /* A long pause refills to the burst, never beyond. */
    for (int i = 0; i < 5; i++)
        assert_int_equal(intake_ratelimit_take(rl, "a", 120, 5, 3600000), 0);
    assert_true(intake_ratelimit_take(rl, "a", 120, 5, 3600000) > 0);
    intake_ratelimit_destroy(&rl);
}

static void test_keys_independent(void **state)
{
    (void)state;
    intake_ratelimit_t *rl = intake_ratelimit_new(16);
    for (int i = 0; i < 3; i++)
        assert_int_equal(intake_ratelimit_take(rl, "flooder", 60, 3, 0), 0);
    assert_true(intake_ratelimit_take(rl, "flooder", 60, 3, 0) > 0);
    assert_int_equal(intake_ratelimit_take(rl, "polite", 60, 3, 0), 0);
    assert_int_equal(intake_ratelimit_size(rl), 2);
    intake_ratelimit_destroy(&rl);
}

/* A batch costs one token per line: admitted whole or refused whole, and a
 * batch larger than the bucket needs a full one and leaves it in debt. */
static void test_batch_cost(void **state)
{
    (void)state;
    intake_ratelimit_t *rl = intake_ratelimit_new(16);
    /* 60 per minute, burst 10: a batch of 4 leaves 6 ... */
    assert_int_equal(intake_ratelimit_take_n(rl, "a", 60, 10, 4, 0), 0);
    /* ... so one of 7 is refused whole, waiting for the one token missing ... */
    long long wait = intake_ratelimit_take_n(rl, "a", 60, 10, 7, 0);
    assert_true(wait > 990 && wait <= 1000);
    /* ... and the refusal took nothing: 6 single requests still pass. */
    for (int i = 0; i < 6; i++)
        assert_int_equal(intake_ratelimit_take(rl, "a", 60, 10, 0), 0);
    assert_true(intake_ratelimit_take(rl, "a", 60, 10, 0) > 0);

    /* 25 lines against a bucket of 10: refused until it is full again ... */
    assert_true(intake_ratelimit_take_n(rl, "b", 60, 10, 25, 0) == 0);
    /* ... and then it owes 15: the next single request waits 16 s. */
    wait = intake_ratelimit_take(rl, "b", 60, 10, 0);
    assert_true(wait > 15990 && wait <= 16000);
    wait = intake_ratelimit_take_n(rl, "b", 60, 10, 25, 10000);
    assert_true(wait > 14990 && wait <= 15000); /* needs 10, has -5 */
    assert_int_equal(intake_ratelimit_take_n(rl, "b", 60, 10, 25, 25000), 0);
    intake_ratelimit_destroy(&rl);
}

static void test_clock_backwards(void **state)
{
    (void)state;
    intake_ratelimit_t *rl = intake_ratelimit_new(4);
    assert_int_equal(intake_ratelimit_take(rl, "a", 60, 1, 5000), 0);
    /* A clock that steps back grants nothing extra. */
    assert_true(intake_ratelimit_take(rl, "a", 60, 1, 1000) > 0);
    intake_ratelimit_destroy(&rl);
}

static void test_sweep_drops_idle(void **state)
{
    (void)state;
    intake_ratelimit_t *rl = intake_ratelimit_new(64);
    char key[32];
    for (int i = 0; i < 50; i++) {
        snprintf(key, sizeof key, "10.0.0.%d", i);
        assert_int_equal(intake_ratelimit_take(rl, key, 60, 10, 0), 0);
    }
    assert_int_equal(intake_ratelimit_size(rl), 50);
    intake_ratelimit_sweep(rl, 500);
    assert_int_equal(intake_ratelimit_size(rl), 50); /* not refilled yet */
    intake_ratelimit_sweep(rl, 1000);
    assert_int_equal(intake_ratelimit_size(rl), 0);
    intake_ratelimit_destroy(&rl);
}

static void test_bounded(void **state)
{
    (void)state;
    /* 10,000 distinct clients through a table of 100: it never grows past
     * its capacity, and each newcomer is still served. */
    intake_ratelimit_t *rl = intake_ratelimit_new(100);
    char key[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(key, sizeof key, "192.0.2.%d:%d", i % 250, i);
        assert_int_equal(intake_ratelimit_take(rl, key, 60, 5, (uint64_t)i), 0);
        assert_true(intake_ratelimit_size(rl) <= 100);
    }
    assert_int_equal(intake_ratelimit_size(rl), 100);
    /* The most recent client's bucket is still there and still counts. */
    for (int i = 0; i < 4; i++)
        assert_int_equal(intake_ratelimit_take(rl, key, 60, 5, 10000), 0);
    assert_true(intake_ratelimit_take(rl, key, 60, 5, 10000) > 0);
    intake_ratelimit_destroy(&rl);
}

static void test_long_keys_cut(void **state)
{
    (void)state;
    intake_ratelimit_t *rl = intake_ratelimit_new(4);
    char a[200], b[200];
    memset(a, 'x', sizeof a - 1);
    a[sizeof a - 1] = '\0';
    memcpy(b, a, sizeof b);
    b[150] = 'y'; /* differs only past the cut: the same bucket */
    assert_int_equal(intake_ratelimit_take(rl, a, 60, 1, 0), 0);
    assert_true(intake_ratelimit_take(rl, b, 60, 1, 0) > 0);
    assert_int_equal(intake_ratelimit_size(rl), 1);
    intake_ratelimit_destroy(&rl);
}

static void test_addr_listed(void **state)
{
    (void)state;
    assert_true(intake_addr_listed("127.0.0.1", "127.0.0.1"));
    assert_true(intake_addr_listed("10.0.0.1, 127.0.0.1", "127.0.0.1"));
    assert_true(intake_addr_listed("10.0.0.1,::1", "::1"));
    assert_false(intake_addr_listed("127.0.0.10", "127.0.0.1"));
    assert_false(intake_addr_listed("127.0.0.1", "127.0.0.10"));
    assert_false(intake_addr_listed("", "127.0.0.1"));
    assert_false(intake_addr_listed(NULL, "127.0.0.1"));
    assert_false(intake_addr_listed("127.0.0.1", ""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_cost),      cmocka_unit_test(test_burst_then_refused),
        cmocka_unit_test(test_refill),          cmocka_unit_test(test_keys_independent),
        cmocka_unit_test(test_clock_backwards), cmocka_unit_test(test_sweep_drops_idle),
        cmocka_unit_test(test_bounded),         cmocka_unit_test(test_long_keys_cut),
        cmocka_unit_test(test_addr_listed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
