/* test_seen: the bounded set of message ids a consumer keeps (hl_seen). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "hl_id.h"
#include "hl_seen.h"

static void test_add_has_remove(void **state)
{
    (void)state;
    hl_seen_t *s = hl_seen_new(100);
    assert_true(hl_seen_add(s, "a"));
    assert_false(hl_seen_add(s, "a"));
    assert_true(hl_seen_has(s, "a"));
    assert_false(hl_seen_has(s, "b"));
    assert_int_equal(hl_seen_count(s), 1);
    hl_seen_remove(s, "a");
    assert_false(hl_seen_has(s, "a"));
    assert_int_equal(hl_seen_count(s), 0);
    hl_seen_remove(s, "a"); /* absent: nothing happens */
    assert_true(hl_seen_add(s, "a"));
    hl_seen_destroy(&s);
    assert_null(s);
}

/* Full: the oldest id is forgotten first, whatever was removed between. */
static void test_evicts_oldest(void **state)
{
    (void)state;
    hl_seen_t *s = hl_seen_new(16);
    char id[32];
    for (int i = 0; i < 16; i++) {
        snprintf(id, sizeof id, "m%d", i);
        assert_true(hl_seen_add(s, id));
    }
    assert_int_equal(hl_seen_count(s), 16);
    hl_seen_remove(s, "m5");
    assert_true(hl_seen_add(s, "m16")); /* takes m0's place */
    assert_false(hl_seen_has(s, "m0"));
    assert_true(hl_seen_has(s, "m1"));
    assert_true(hl_seen_add(s, "m17")); /* m1 goes */
    assert_false(hl_seen_has(s, "m1"));
    assert_int_equal(hl_seen_count(s), 15);
    for (int i = 2; i < 18; i++) {
        snprintf(id, sizeof id, "m%d", i);
        assert_int_equal(hl_seen_has(s, id), i != 5);
    }
    hl_seen_destroy(&s);
}

/* Many UUIDs through a small set, with removals: the set agrees with a
 * plain model of "the last `cap` added, minus the removed" at every step
 * (backward-shift deletion keeps every kept id findable). */
static void test_model(void **state)
{
    (void)state;
    enum { CAP = 64, N = 20000 };
    hl_seen_t *s = hl_seen_new(CAP);
    static char ids[N][HL_UUID_LEN + 1];
    static bool removed[N];
    for (int i = 0; i < N; i++) {
        hl_uuid_new(ids[i]);
        assert_true(hl_seen_add(s, ids[i]));
        if (i % 3 == 1) {
            int victim = i - (i * 7 % CAP < i ? i * 7 % CAP : 0);
            hl_seen_remove(s, ids[victim]);
            removed[victim] = true;
        }
        if (i % 97 == 0 || i == N - 1) {
            size_t live = 0;
            for (int k = 0; k <= i; k++) {
                bool want = k > i - CAP && !removed[k];
                assert_int_equal(hl_seen_has(s, ids[k]), want);
                live += want;
            }
            assert_int_equal(hl_seen_count(s), live);
        }
    }
    hl_seen_destroy(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_has_remove),
        cmocka_unit_test(test_evicts_oldest),
        cmocka_unit_test(test_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
