/* points.h: shared state of hl-points, the points ledger (see main.c). */
#ifndef POINTS_H
#define POINTS_H

#include "hl.h"

#include <stdbool.h>
#include <stddef.h>

#define POINTS_ACCOUNT_MAX  64    /* characters in an account code */
#define POINTS_AMOUNT_MAX   10000 /* largest |amount| of one award */
#define POINTS_REASON_MAX   200   /* characters in a reason */
#define POINTS_KIND_MAX     32    /* characters in a source kind */
#define POINTS_SOURCE_MAX   64    /* characters in a source id */
#define POINTS_UNIT_MAX     32    /* characters in an org unit code */
#define POINTS_AWARDS_SHOWN 50    /* awards listed with a balance */

typedef struct {
    hl_svc_cfg_t svc; /* the settings every daemon takes */
} points_cfg_t;

typedef struct {
    hl_service_t *svc;       /* loop, db, pipeline, http */
    const points_cfg_t *cfg; /* configuration */
    hl_metric_t *recorded;   /* awards written to the ledger */
    hl_metric_t *repeated;   /* awards whose award_id was recorded already */
} points_t;

/* award.c: the "points" stage consumer (PointsAwarded -> ledger, balances). */
int points_award_consume(points_t *pt);

/* balance.c: GET /v1/balances/{account} and GET /v1/leaderboard. */
void points_balance_get(hl_http_req_t *req, void *arg);
void points_balance_missing(hl_http_req_t *req, void *arg);
void points_leaderboard_get(hl_http_req_t *req, void *arg);

/* validate.c: checks without I/O (unit-tested). */

/* True when `a` is an award the ledger can take; otherwise writes why into
 * `why` (a complete phrase naming the field). */
bool points_award_check(const Hl__PointsAwarded *a, char *why, size_t len);
/* True when `account` (from a URL) is a well-formed account code. */
bool points_account_check(const char *account, char *why, size_t len);

#endif
