/* hl_fakeplat: a fake Shuang Lian Shuang Ying platform for the tests — a
 * small HTTP server (libmicrohttpd, a thread per connection, so a slow
 * answer holds up only its own delivery) that receives hl-alliance's
 * outbound webhooks and plays the other side's failures, and a client that
 * sends signed inbound webhooks (Standard Webhooks, common/hl_webhook.h),
 * good or deliberately bad.
 *
 * Receiving: every POST is verified with the platform's secrets (either of
 * two, as during a rotation) and a 5-minute window; a verified delivery is
 * "applied" once per webhook-id (a set), the way a real receiver makes
 * at-least-once delivery exactly-once in effect. The answer follows a
 * script cycling over the requests: answer 500 without applying, apply and
 * then answer 500 (so the same id comes again), sleep past the client's
 * timeout and then apply (a slow answer), or answer 200. */
#ifndef HL_FAKEPLAT_H
#define HL_FAKEPLAT_H

#include <stdbool.h>
#include <stddef.h>

/* What the fake does with one request. */
typedef enum {
    HL_FAKE_OK,         /* apply, 200 */
    HL_FAKE_FAIL,       /* 500, nothing applied */
    HL_FAKE_APPLY_FAIL, /* apply, then 500 (the sender must try again: a duplicate) */
    HL_FAKE_SLOW,       /* sleep slow_ms, apply, 200 (the sender has given up by then) */
    HL_FAKE_UNAVAILABLE /* 503, nothing applied */
} hl_fake_act_t;

typedef struct hl_fakeplat hl_fakeplat_t;

/* Starts the server on a free port of 127.0.0.1 with the `script` (n acts,
 * cycled; NULL: always OK) and the secrets ("whsec_...", 1 or 2) it
 * verifies with. Returns NULL (logged) when it cannot start. */
hl_fakeplat_t *hl_fakeplat_start(const hl_fake_act_t *script, size_t n, const char *secret1,
                                 const char *secret2, int slow_ms);
/* Stops it and frees it. */
void hl_fakeplat_stop(hl_fakeplat_t *f);
/* The URL deliveries go to ("http://127.0.0.1:PORT/hooks"). */
const char *hl_fakeplat_url(const hl_fakeplat_t *f);

/* Counters (thread-safe reads). */
typedef struct {
    size_t requests;   /* POSTs received */
    size_t verified;   /* of them, with a good signature in the window */
    size_t bad;        /* with a bad or missing signature, or stale (answered 401) */
    size_t applied;    /* distinct webhook-ids applied */
    size_t duplicates; /* verified deliveries of an id applied before */
} hl_fakeplat_stats_t;
hl_fakeplat_stats_t hl_fakeplat_stats(hl_fakeplat_t *f);
/* How many times webhook-id `id` was applied (0 or 1) and delivered (any). */
int hl_fakeplat_applied(hl_fakeplat_t *f, const char *id);
int hl_fakeplat_deliveries(hl_fakeplat_t *f, const char *id);
/* The type ("meeting.held") of applied event `id`, or "" (static buffer). */
const char *hl_fakeplat_type(hl_fakeplat_t *f, const char *id);

/* ---- the platform's client side: inbound webhooks to hl-alliance ---- */

/* How to spoil a signed request. */
typedef struct {
    const char *secret;      /* sign with this ("whsec_..."); NULL: no signature header */
    const char *id;          /* webhook-id; NULL: header left out */
    long long timestamp;     /* seconds; 0: header left out */
    const char *ts_text;     /* sent instead of the number when not NULL */
    const char *sig_text;    /* sent instead of the signature when not NULL */
    const char *signed_body; /* sign this body but send `body` (tampering); NULL: body */
} hl_fake_sign_t;

/* POSTs `body` to `url` with the headers `how` says; returns the status
 * (0: no answer) and the reply in *out (caller frees; may be NULL). */
long hl_fakeplat_send(const char *url, const char *body, const hl_fake_sign_t *how, char **out);

#endif
