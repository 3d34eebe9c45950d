/* points.h: shared state of hl-points, the points ledger (see main.c). */
#ifndef POINTS_H
#define POINTS_H

#include "hl.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POINTS_ACCOUNT_MAX  64    /* characters in an account code */
#define POINTS_AMOUNT_MAX   10000 /* largest |amount| of one award */
#define POINTS_REASON_MAX   200   /* characters in a reason */
#define POINTS_KIND_MAX     32    /* characters in a source kind */
#define POINTS_SOURCE_MAX   64    /* characters in a source id */
#define POINTS_UNIT_MAX     32    /* characters in an org unit code */
#define POINTS_BASIS_MAX    32    /* characters in a rule basis */
#define POINTS_REVIEWER_MAX 64    /* characters in a reviewer's code */
#define POINTS_AWARDS_SHOWN 50    /* awards listed with a balance */
#define POINTS_RULE_ID_MAX  64    /* characters in a rule id */

typedef struct {
    hl_svc_cfg_t svc;          /* the settings every daemon takes */
    long long contest_scan_ms; /* how often the quarter just ended is looked at */
} points_cfg_t;

typedef struct {
    hl_service_t *svc;        /* loop, db, pipeline, http */
    const points_cfg_t *cfg;  /* configuration */
    hl_metric_t *recorded;    /* awards written to the ledger */
    hl_metric_t *repeated;    /* awards whose award_id was recorded already */
    hl_metric_t *unruled;     /* awards refused: no rule for their kind and basis */
    hl_metric_t *refused;     /* awards refused otherwise (account kind, community) */
    hl_metric_t *computed;    /* contest quarters computed */
    uv_timer_t contest_timer; /* computes the quarter just ended (contest.c) */
    bool contest_busy;        /* a timer computation is in flight */
} points_t;

/* ---- rules.c: picking the rule in force (pure) ------------------------- */

/* One version of a rule, as read from points.rule. */
typedef struct {
    char id[POINTS_RULE_ID_MAX + 1];  /* kind[.basis] */
    int version;                      /* version number */
    char kind[POINTS_KIND_MAX + 1];   /* source kind, "fixed" for legacy amounts */
    char basis[POINTS_BASIS_MAX + 1]; /* "" for the rule of events without a basis */
    int amount;                       /* points per award; 0 for fixed */
    bool active;                      /* false: retired from valid_from on */
    int64_t valid_from_us;            /* takes effect, microseconds since the epoch */
} points_rule_t;

/* The rule an event of `kind` with `basis` ("" or NULL: none) at `at_us`
 * is paid by: of the versions whose kind and basis match exactly, the one
 * with the latest valid_from at or before at_us, if it is active. With
 * `fixed` (the award came with its own amount) the rule of kind "fixed"
 * is picked instead. Returns its index in `rules`, or -1 with the reason
 * in `why` (a phrase naming kind and basis). */
int points_rule_pick(const points_rule_t *rules, size_t n, const char *kind, const char *basis,
                     int64_t at_us, bool fixed, char *why, size_t len);

/* True when `kind` is an account kind an award may name (grid_org,
 * party_member, volunteer, member_unit, compound, chain). */
bool points_account_kind_valid(const char *kind);

/* ---- grade.c: the contest and the grades (pure) ----------------------- */

enum {
    POINTS_C_PARTY_BUILDING,      /* 党建特色 */
    POINTS_C_SANITATION,          /* 环境卫生 */
    POINTS_C_PETITIONS_STABILITY, /* 信访稳定 */
    POINTS_C_SATISFACTION,        /* 居民满意度 */
    POINTS_C_COUNT
};
/* The criterion's code ("party_building" ...). */
const char *points_criterion_code(int criterion);
/* The criterion named `code`, or -1. */
int points_criterion_parse(const char *code);

/* The system's aggregates for one compound and quarter (points.compound_inputs). */
typedef struct {
    int items;                   /* items opened in the quarter (no wishes, not merged) */
    int items_resolved;          /* of those, resolved */
    double resolve_hours;        /* their mean hours to resolution; < 0 when none resolved */
    int item_reopens;            /* reopenings of those items */
    int confirms;                /* residents' confirmations given in the quarter */
    int feedback_reopens;        /* residents' reopenings given in the quarter */
    int wishes_done;             /* wishes approved in the quarter */
    int councils_held;           /* council hearings recorded in the quarter */
    bool manual[POINTS_C_COUNT]; /* a manual score is recorded */
    double manual_score[POINTS_C_COUNT]; /* that score, 0-100 */
} points_inputs_t;

/* Where a criterion's score came from. */
typedef enum {
    POINTS_SRC_NONE,   /* no data and no manual score: left out of the total */
    POINTS_SRC_SYSTEM, /* computed from the system's aggregates */
    POINTS_SRC_MANUAL, /* recorded by the jury */
} points_source_t;

typedef struct {
    double score[POINTS_C_COUNT];           /* 0-100, one decimal; 0 when source NONE */
    points_source_t source[POINTS_C_COUNT]; /* where each came from */
    bool has_total;                         /* some criterion has a score */
    double total;                           /* weighted mean, one decimal */
    char grade;                             /* 'A', 'B', 'C', or 0 without a total */
} points_grade_t;

/* Scores the four criteria (a manual score wins, else the system's formula
 * where it has data; README gives the formulas), the weighted mean of
 * those with a score under `weight`, and the grade by `min_a` and `min_b`. */
void points_grade_compute(const points_inputs_t *in, const double weight[POINTS_C_COUNT],
                          double min_a, double min_b, points_grade_t *out);

/* Parses "2026Q4" (also "2026-Q4"): writes the first day of the quarter
 * ("2026-10-01") and of the next ("2027-01-01"). False when malformed or
 * outside 2000..2199. */
bool points_quarter_parse(const char *text, char first[11], char next[11]);

/* Parses a leaderboard period: "all" (or NULL; `at` must be NULL), "month"
 * with `at` "2026-12", or "quarter" with `at` "2026Q4"; `at` NULL means the
 * period holding `now_us` in Beijing time. Writes its first day and the
 * next period's ("" for all) and a label ("2026-12", "2026Q4", "all").
 * False when malformed. */
bool points_period_parse(const char *period, const char *at, int64_t now_us, char first[11],
                         char next[11], char label[12]);

/* ---- main.c's parts --------------------------------------------------- */

/* award.c: the "points" stage consumer (PointsAwarded -> ledger, balances). */
int points_award_consume(points_t *pt);

/* What one award is, however it arrived (a message or an HTTP request). */
typedef struct {
    const char *award_id;     /* UUID */
    const char *account;      /* earner */
    const char *account_kind; /* NULL or "": inferred (legacy) */
    bool has_amount;          /* a fixed (legacy) amount came with it */
    int amount;               /* that amount */
    const char *reason;       /* why */
    const char *source_kind;  /* wish, council ... */
    const char *source_id;    /* or NULL */
    const char *org_unit;     /* credited org unit, or NULL */
    const char *basis;        /* or NULL */
    const char *reviewer;     /* or NULL */
    const char *community;    /* or NULL: from org_unit */
    int64_t at_us;            /* when the event happened */
    const char *message_id;   /* carrying message; NULL: a new UUID */
} points_award_t;

/* What points_award_plan decided; valid during its callback only. */
typedef struct {
    int rc;                               /* 0, or HL_E* when the read failed */
    const char *db_message;               /* with rc != 0 */
    char refused[200];                    /* "" or why the award cannot be paid */
    bool unruled;                         /* refused because no rule fits */
    char rule_id[POINTS_RULE_ID_MAX + 1]; /* the rule that pays */
    int rule_version;                     /* its version */
    int amount;                           /* points paid */
    char account_kind[16];                /* the earner's account kind */
    char community[40];                   /* the award's community, "" for none */
    points_award_t award;                 /* the award (strings owned by the plan) */
} points_plan_t;

typedef void(points_plan_fn)(void *arg, const points_plan_t *plan);

/* Reads the rules of the award's kind and what the award names (the
 * account's kind, the org unit's community), then calls `fn` with the
 * plan: the rule in force at a->at_us and the amount, or why the award
 * is refused (nothing to write then). Strings in `a` are copied. */
void points_award_plan(points_t *pt, const points_award_t *a, points_plan_fn *fn, void *arg);

/* Adds the planned award to `u` (points.award(): the transaction, its two
 * postings and the balances, in one statement). Returns a buffer kept by
 * the unit that holds, after commit, "recorded", "repeated" or "kind:<k>"
 * (the account turned out to have kind k: nothing written). */
const char *points_award_add(hl_dbu_t *u, const points_plan_t *plan);

/* balance.c: GET /v1/balances/{account} and GET /v1/leaderboard. */
void points_balance_get(hl_http_req_t *req, void *arg);
void points_balance_missing(hl_http_req_t *req, void *arg);
void points_leaderboard_get(hl_http_req_t *req, void *arg);

/* auth.c: the Authorization: Bearer key of the recording endpoints. */
typedef struct {
    char name[72];      /* the key's name: the actor */
    char role[16];      /* recorder or jury */
    char community[40]; /* "" when city-wide */
} points_actor_t;
/* The SHA-256 (hex) of the request's bearer key into `hash`; replies 401
 * and returns false when there is none. */
bool points_auth_hash(hl_http_req_t *req, char hash[65]);
/* Adds the key's lookup to `u`; fills *actor (name "" when unknown). */
void points_auth_add(hl_dbu_t *u, const char *hash, points_actor_t *actor);
/* Replies 401/403 and returns false unless *actor exists with `role`. */
bool points_auth_check(hl_http_req_t *req, const points_actor_t *actor, const char *role);

/* activity.c: POST /v1/activities (study pairs, events attended). */
void points_activity_post(hl_http_req_t *req, void *arg);
/* rules.c: GET /v1/rules. */
void points_rules_get(hl_http_req_t *req, void *arg);

/* contest.c: the quarterly contest and grades; the timer that computes
 * the quarter just ended once. */
void points_contest_start(points_t *pt);
void points_contest_stop(points_t *pt);
void points_contest_compute(hl_http_req_t *req, void *arg);
void points_contest_score(hl_http_req_t *req, void *arg);
void points_contest_get(hl_http_req_t *req, void *arg);
void points_grades_list(hl_http_req_t *req, void *arg);
void points_grade_get(hl_http_req_t *req, void *arg);

/* validate.c: checks without I/O (unit-tested). */

/* True when `a` is an award the ledger can take; otherwise writes why into
 * `why` (a complete phrase naming the field). */
bool points_award_check(const Hl__PointsAwarded *a, char *why, size_t len);
/* True when `account` (from a URL) is a well-formed account code. */
bool points_account_check(const char *account, char *why, size_t len);

#endif
