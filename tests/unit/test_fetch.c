/* test_fetch: hl_fetch (libcurl's multi interface on the libuv loop)
 * against the tests' fake platform: a 500, an answer slower than the
 * request's timeout (status 0), a 200, a refused connection, several
 * requests at once, and destroying the client with requests in flight
 * (each callback runs once, "shutting down"; the loop closes clean). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hl_fakeplat.h"
#include "hl_fetch.h"
#include "hl_webhook.h"

#define S_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

typedef struct {
    int calls;      /* callbacks run */
    long status[8]; /* their statuses, in order */
    char error[8][64];
} s_seen_t;

static void s_done(void *arg, long status, const char *error)
{
    s_seen_t *s = arg;
    if (s->calls < 8) {
        s->status[s->calls] = status;
        snprintf(s->error[s->calls], sizeof s->error[0], "%s", error ? error : "");
    }
    s->calls++;
}

/* Posts one signed delivery with id `id`. */
static int s_post(hl_fetch_t *f, const char *url, const char *id, long timeout_ms, s_seen_t *s)
{
    const char *body = "{\"type\":\"meeting.held\",\"data\":{}}";
    hl_webhook_key_t key;
    assert_true(hl_webhook_key_parse(S_SECRET, &key));
    long long now = (long long)time(NULL);
    char sig[HL_WEBHOOK_SIG_LEN], h_id[64], h_ts[64], h_sig[96];
    hl_webhook_sign(&key, id, now, body, strlen(body), sig);
    snprintf(h_id, sizeof h_id, "webhook-id: %s", id);
    snprintf(h_ts, sizeof h_ts, "webhook-timestamp: %lld", now);
    snprintf(h_sig, sizeof h_sig, "webhook-signature: %s", sig);
    const char *headers[] = {"Content-Type: application/json", h_id, h_ts, h_sig, NULL};
    return hl_fetch_post(f, url, headers, body, strlen(body), timeout_ms, s_done, s);
}

static void s_run_until(uv_loop_t *loop, const s_seen_t *s, int calls)
{
    while (s->calls < calls)
        uv_run(loop, UV_RUN_ONCE);
}

static void test_statuses_in_order(void **state)
{
    (void)state;
    static const hl_fake_act_t script[] = {HL_FAKE_FAIL, HL_FAKE_SLOW, HL_FAKE_OK};
    hl_fakeplat_t *plat = hl_fakeplat_start(script, 3, S_SECRET, NULL, 800);
    assert_non_null(plat);
    uv_loop_t loop;
    uv_loop_init(&loop);
    hl_fetch_t *f = hl_fetch_new(&loop);
    s_seen_t s = {0};
    assert_int_equal(s_post(f, hl_fakeplat_url(plat), "a", 5000, &s), 0);
    s_run_until(&loop, &s, 1);
    assert_int_equal(s.status[0], 500);
    /* Slower than the timeout: no answer. */
    assert_int_equal(s_post(f, hl_fakeplat_url(plat), "b", 200, &s), 0);
    s_run_until(&loop, &s, 2);
    assert_int_equal(s.status[1], 0);
    assert_true(strlen(s.error[1]) > 0);
    assert_int_equal(s_post(f, hl_fakeplat_url(plat), "c", 5000, &s), 0);
    s_run_until(&loop, &s, 3);
    assert_int_equal(s.status[2], 200);
    /* Nobody listens: no answer, an error. */
    assert_int_equal(s_post(f, "http://127.0.0.1:9/hooks", "d", 2000, &s), 0);
    s_run_until(&loop, &s, 4);
    assert_int_equal(s.status[3], 0);
    assert_int_equal(hl_fetch_active(f), 0);
    hl_fetch_destroy(&f);
    assert_null(f);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    hl_fakeplat_stop(plat);
}

static void test_many_at_once_and_destroy_in_flight(void **state)
{
    (void)state;
    static const hl_fake_act_t script[] = {HL_FAKE_OK, HL_FAKE_OK, HL_FAKE_OK, HL_FAKE_SLOW};
    hl_fakeplat_t *plat = hl_fakeplat_start(script, 4, S_SECRET, NULL, 2000);
    assert_non_null(plat);
    uv_loop_t loop;
    uv_loop_init(&loop);
    hl_fetch_t *f = hl_fetch_new(&loop);
    s_seen_t s = {0};
    for (int i = 0; i < 4; i++) {
        char id[16];
        snprintf(id, sizeof id, "m%d", i);
        assert_int_equal(s_post(f, hl_fakeplat_url(plat), id, 10000, &s), 0);
    }
    assert_int_equal(hl_fetch_active(f), 4);
    s_run_until(&loop, &s, 3); /* three quick answers; one slow one in flight */
    assert_int_equal(hl_fetch_active(f), 1);
    hl_fetch_destroy(&f);
    assert_int_equal(s.calls, 4);
    assert_int_equal(s.status[3], 0);
    assert_string_equal(s.error[3], "shutting down");
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    hl_fakeplat_stop(plat);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_statuses_in_order),
        cmocka_unit_test(test_many_at_once_and_destroy_in_flight),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
