/* bounty.h: shared state of hl-bounty, the claim board (see main.c). */
#ifndef BOUNTY_H
#define BOUNTY_H

#include "hl.h"
#include "hl_apikey.h"
#include "hl_req.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    hl_svc_cfg_t svc;        /* the settings every daemon takes */
    long long wish_points;   /* HL_WISH_POINTS: points when WishPosted.points is unset */
    long long lease_s;       /* HL_LEASE_S: how long a claim holds */
    long long lease_scan_ms; /* HL_LEASE_SCAN_MS: how often expired leases are looked for */
} bounty_cfg_t;

typedef struct {
    hl_service_t *svc;             /* loop, db, pipeline, http */
    const bounty_cfg_t *cfg;       /* configuration */
    hl_apikey_t *keys;             /* actors' API keys (actor.c) */
    uv_timer_t scan_timer;         /* the lease and carry-over scanner (scan.c) */
    bool scanning;                 /* a scan unit is in flight */
    bool scan_stopped;             /* draining: no more scans */
    hl_metric_t *posted;           /* wishes put on a board */
    hl_metric_t *offered;          /* large items put on a board */
    hl_metric_t *claimed_wish;     /* wish claims that won */
    hl_metric_t *claimed_large;    /* large-item claims that won */
    hl_metric_t *claim_refused;    /* claims lost to another claimant (409) */
    hl_metric_t *ineligible;       /* claims refused by the eligibility rules (403) */
    hl_metric_t *extended;         /* leases extended */
    hl_metric_t *released;         /* claims released */
    hl_metric_t *expired;          /* leases that ran out (scanner) */
    hl_metric_t *carried;          /* open entries carried to a later board */
    hl_metric_t *published;        /* boards published */
    hl_metric_t *completed;        /* completions reported */
    hl_metric_t *progressed;       /* large-item progress reports */
    hl_metric_t *approved;         /* reviews that approved (points awarded) */
    hl_metric_t *rejected;         /* reviews that sent the work back */
    hl_metric_t *unauthenticated;  /* calls refused for a missing or bad key (401) */
    hl_metric_t *platform_applied; /* platform actions applied */
    hl_metric_t *platform_refused; /* platform actions refused (action.refused) */
} bounty_t;

/* ---- rules.c: pure decisions, no I/O (unit-tested) ---------------------- */

/* Limits on the text a wish and its workflow carry (characters). */
#define BOUNTY_CODE_MAX     32   /* org unit and member unit codes */
#define BOUNTY_TITLE_MAX    200  /* wish title */
#define BOUNTY_BODY_MAX     5000 /* wish body */
#define BOUNTY_EVIDENCE_MAX 2000 /* completion evidence */
#define BOUNTY_NOTE_MAX     1000 /* reviewer's note */
#define BOUNTY_POINTS_MAX   1000 /* points on one wish */
#define BOUNTY_LIST_DEFAULT 100  /* wishes listed when no limit is given */
#define BOUNTY_LIST_MAX     1000 /* most wishes one list returns */

/* The first day of this month in Beijing time, as SQL: a wish posted at
 * 07:00 on the 1st (23:00 UTC the day before) goes on the new month's board
 * whatever the session's TimeZone. */
#define BOUNTY_SQL_THIS_MONTH "date_trunc('month', now() AT TIME ZONE 'Asia/Shanghai')::date"

/* Where a wish stands. */
typedef enum {
    BOUNTY_OPEN,      /* on the board, unclaimed */
    BOUNTY_CLAIMED,   /* claimed (or sent back by the reviewer) */
    BOUNTY_COMPLETED, /* reported complete, awaiting review */
    BOUNTY_APPROVED,  /* approved, points awarded; final */
} bounty_status_t;

/* Returns the status named `s`, or -1. */
int bounty_status_parse(const char *s);
const char *bounty_status_name(bounty_status_t status);
/* True for an org unit or member unit code: 1..32 of [a-z0-9_-]. */
bool bounty_code_valid(const char *s);
/* Parses "YYYY-MM" (2000..2999, 01..12) into "YYYY-MM-01" (out[11]). */
bool bounty_month_parse(const char *s, char out[11]);
/* Parses a list limit; NULL gives BOUNTY_LIST_DEFAULT, bad input -1. */
int bounty_limit_parse(const char *s);

/* A WishPosted, checked: strings point into the unpacked message. */
typedef struct {
    const char *item_id;    /* uuid */
    const char *appeal_id;  /* uuid or NULL */
    const char *org_unit;   /* code (lifted to its compound by the database) */
    const char *category;   /* code or NULL */
    const char *title;      /* 1..200 characters */
    const char *body;       /* 1..5000 characters */
    int points;             /* 1..1000 */
    const char *difficulty; /* easy, normal or hard (static) */
} bounty_wish_t;

/* Checks a WishPosted; fills `out` and returns NULL, or returns why it is
 * refused (a static string). Points 0 or unset take `default_points`. */
const char *bounty_wish_check(const Hl__WishPosted *msg, int default_points, bounty_wish_t *out);

/* ---- the engine's pure decisions (rules.c) -------------------------------- */

/* What a board holds. */
typedef enum {
    BOUNTY_WISH,  /* micro-wishes, monthly */
    BOUNTY_LARGE, /* large items, quarterly */
} bounty_kind_t;

/* "wish" or "large" (the board's and the rules' entry_kind). */
const char *bounty_kind_name(bounty_kind_t kind);

/* Who calls (bounty.actor.kind). */
typedef enum {
    BOUNTY_ACTOR_GRID_ORG,     /* party organisation of a micro-grid, compound or community */
    BOUNTY_ACTOR_VOLUNTEER,    /* volunteer registered with a community */
    BOUNTY_ACTOR_PARTY_MEMBER, /* party member registered with a community */
    BOUNTY_ACTOR_REVIEWER,     /* a community's reviewer */
    BOUNTY_ACTOR_COMMISSIONER, /* publishes a community's (or the city's) boards */
    BOUNTY_ACTOR_MEMBER_UNIT,  /* an alliance member unit */
} bounty_actor_kind_t;

/* Returns the actor kind named `s`, or -1. */
int bounty_actor_kind_parse(const char *s);
const char *bounty_actor_kind_name(bounty_actor_kind_t kind);

/* An authenticated caller, copied out of the key table. */
typedef struct {
    char name[80];      /* bounty.actor.name, or "platform:<partner>" */
    int kind;           /* bounty_actor_kind_t */
    char unit[40];      /* org unit (or member unit) the actor stands for */
    char person[80];    /* pseudonymous person, "" when none */
    char level[16];     /* level of an org unit, "" for a member unit */
    char compound[40];  /* the compound of that org unit (itself, or a micro-grid's), "" */
    char community[40]; /* the community of that org unit (itself or above), "" */
} bounty_actor_t;

/* The account a claim by `a` is paid to: the grid organisation's org unit,
 * the volunteer's or party member's own code, the member unit. Writes the
 * account kind to *kind (grid_org, volunteer, party_member, member_unit). */
const char *bounty_account_of(const bounty_actor_t *a, const char **kind);

/* One eligibility rule (bounty.eligibility_rule), strings not owned. */
typedef struct {
    const char *code;        /* e.g. "wish.volunteer.community" */
    const char *actor_kind;  /* kind of actor it admits */
    const char *scope;       /* micro_grid, compound, community, category_domain */
    const char *description; /* the rule in words */
} bounty_rule_t;

/* What the database says about an entry before a transition. */
typedef struct {
    bool found;                   /* the entry exists */
    bounty_kind_t kind;           /* wish or large item */
    int status;                   /* its bounty_status_t */
    bool published;               /* its board is published */
    const char *micro_grid;       /* wish: micro-grid it is anchored to, or NULL */
    const char *compound;         /* wish: its compound */
    const char *community;        /* its community (a large item's: its board's) */
    const char *category;         /* its category, or NULL */
    bool fits;                    /* large: the actor's unit fits the category */
    const char *claimant;         /* account holding the claim, or NULL */
    const char *claimant_kind;    /* that account's kind, or NULL */
    const char *completed_by;     /* actor that reported it complete, or NULL */
    const char *completer_person; /* that actor's person, or NULL */
    int64_t lease_until_us;       /* while claimed: when the lease ends */
    bool lease_extended;          /* the lease was extended already */
} bounty_facts_t;

/* Who may claim: the first active rule for the entry's kind that admits
 * `a`, or a 403 naming the rule for the actor's kind (or saying that no
 * rule admits that kind). Writes the admitting rule's code to *rule. */
hl_refusal_t bounty_eligible(const bounty_actor_t *a, const bounty_facts_t *f,
                             const bounty_rule_t *rules, size_t nrules, const char **rule);

/* The transitions of the engine. */
typedef enum {
    BOUNTY_DO_CLAIM,    /* take it, with a lease */
    BOUNTY_DO_EXTEND,   /* lengthen the lease, once */
    BOUNTY_DO_RELEASE,  /* give it back to the board */
    BOUNTY_DO_PROGRESS, /* large items: report progress */
    BOUNTY_DO_COMPLETE, /* report it done, with evidence */
    BOUNTY_DO_REVIEW,   /* the community approves or rejects */
} bounty_do_t;

const char *bounty_do_name(bounty_do_t what);

/* Decides whether `a` may make transition `what` on the entry described by
 * `f` at `now_us` (claims also ask bounty_eligible). */
hl_refusal_t bounty_transition_verdict(bounty_do_t what, const bounty_actor_t *a,
                                       const bounty_facts_t *f, int64_t now_us);

/* Decides whether `a` may publish a board of `community` that is
 * published already or not. */
hl_refusal_t bounty_publish_verdict(const bounty_actor_t *a, bool found, const char *community,
                                    bool published);

/* Lease arithmetic, in microseconds since the epoch. */
/* When a claim made (or renewed by a rejection) at `now_us` lapses. */
int64_t bounty_lease_until(int64_t now_us, long long lease_s);
/* The end of an extended lease: one more lease period after the current end. */
int64_t bounty_lease_extend(int64_t until_us, long long lease_s);
/* True when a lease ending at `until_us` has lapsed at `now_us`. */
bool bounty_lease_expired(int64_t until_us, int64_t now_us);

/* Parses a difficulty ("easy", "normal", "hard"); NULL or "" gives
 * "normal"; anything else NULL. Returns a static string. */
const char *bounty_difficulty_parse(const char *s);

/* Writes the PointsAwarded reason for a wish titled `title` into out[len]. */
void bounty_award_reason(const char *title, char *out, size_t len);

/* ---- request.c: what the HTTP endpoints share ----------------------------- */
/* The text rule of a code field (org unit, member unit): NULL when `s` is
 * one, else why not (an hl_req_field_t check). */
const char *bounty_code_check(const char *s);
/* The text rule of a month field ("YYYY-MM"). */
const char *bounty_month_check(const char *s);
/* The JSON body of a POST that may have none ({} then), checked against
 * `spec` into `out`; the caller owns it. Replies and returns NULL when the
 * request is refused. */
json_t *bounty_optional_body(hl_http_req_t *req, const hl_req_field_t *spec, void *out);

/* ---- actor.c: who is calling -------------------------------------------- */
/* Starts the actors' key table. */
void bounty_actors_start(bounty_t *b);
/* Called with the caller once its key checked out; when it did not, the
 * request was answered (401 or 503) and `actor` is NULL. */
typedef void(bounty_auth_fn)(hl_http_req_t *req, const bounty_actor_t *actor, void *arg);
/* Reads "Authorization: Bearer <key>" and resolves it; suspends `req`. */
void bounty_authenticate(bounty_t *b, hl_http_req_t *req, bounty_auth_fn *done, void *arg);

/* ---- post.c: the "bounty" stage consumer -------------------------------- */
/* WishPosted, LargeItemOffered, and LargeItemAction (engine.c). */
int bounty_post_consume(bounty_t *b);
/* Why a LargeItemOffered cannot go on a board (it is dead-lettered), or
 * NULL. Pure. */
const char *bounty_large_offer_check(const void *msg);

/* ---- engine.c: the transitions, for HTTP callers and the platform --------- */
/* POST /v1/wishes/{id}/{claim,extend,release,complete,review} */
void bounty_wish_claim_post(hl_http_req_t *req, void *arg);
void bounty_wish_extend_post(hl_http_req_t *req, void *arg);
void bounty_wish_release_post(hl_http_req_t *req, void *arg);
void bounty_wish_complete_post(hl_http_req_t *req, void *arg);
void bounty_wish_review_post(hl_http_req_t *req, void *arg);
/* POST /v1/large-items/{id}/{claim,extend,release,progress,complete,review} */
void bounty_large_claim_post(hl_http_req_t *req, void *arg);
void bounty_large_extend_post(hl_http_req_t *req, void *arg);
void bounty_large_release_post(hl_http_req_t *req, void *arg);
void bounty_large_progress_post(hl_http_req_t *req, void *arg);
void bounty_large_complete_post(hl_http_req_t *req, void *arg);
void bounty_large_review_post(hl_http_req_t *req, void *arg);
/* LargeItemAction from the city platform: the same transitions, once per
 * action id, answered with PlatformEvent. The check refuses (dead-letters)
 * what is malformed; a well-formed action that breaks a rule is refused to
 * the platform instead. */
const char *bounty_large_action_check(const void *msg);
void bounty_large_action(hl_inmsg_t *m, const void *msg, void *arg);

/* ---- publish.c: publication, the change feed, difficulty ------------------ */
void bounty_board_publish_post(hl_http_req_t *req, void *arg);
void bounty_board_changes_get(hl_http_req_t *req, void *arg);
void bounty_wish_difficulty_post(hl_http_req_t *req, void *arg);

/* ---- scan.c: leases that ran out, open entries carried over -------------- */
void bounty_scan_start(bounty_t *b);
void bounty_scan_stop(bounty_t *b);

/* ---- board.c: reading the boards ------------------------------------------- */
void bounty_wishes_get(hl_http_req_t *req, void *arg);
void bounty_wish_get(hl_http_req_t *req, void *arg);
void bounty_boards_get(hl_http_req_t *req, void *arg);
void bounty_board_get(hl_http_req_t *req, void *arg);
void bounty_board_current_get(hl_http_req_t *req, void *arg);
void bounty_large_items_get(hl_http_req_t *req, void *arg);
void bounty_large_item_get(hl_http_req_t *req, void *arg);

#endif
