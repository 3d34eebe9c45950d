/* bounty.h: shared state of hl-bounty, the claim board (see main.c). */
#ifndef BOUNTY_H
#define BOUNTY_H

#include "hl.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    hl_svc_cfg_t svc;      /* the settings every daemon takes */
    long long wish_points; /* HL_WISH_POINTS: points when WishPosted.points is unset */
} bounty_cfg_t;

typedef struct {
    hl_service_t *svc;          /* loop, db, pipeline, http */
    const bounty_cfg_t *cfg;    /* configuration */
    hl_metric_t *posted;        /* wishes put on a board */
    hl_metric_t *claimed;       /* claims that won */
    hl_metric_t *claim_refused; /* claims lost to another claimant (409) */
    hl_metric_t *completed;     /* completions reported */
    hl_metric_t *approved;      /* reviews that approved (points awarded) */
    hl_metric_t *rejected;      /* reviews that sent the work back */
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
    const char *item_id;   /* uuid */
    const char *appeal_id; /* uuid or NULL */
    const char *org_unit;  /* code (lifted to its compound by the database) */
    const char *category;  /* code or NULL */
    const char *title;     /* 1..200 characters */
    const char *body;      /* 1..5000 characters */
    int points;            /* 1..1000 */
} bounty_wish_t;

/* Checks a WishPosted; fills `out` and returns NULL, or returns why it is
 * refused (a static string). Points 0 or unset take `default_points`. */
const char *bounty_wish_check(const Hl__WishPosted *msg, int default_points, bounty_wish_t *out);

/* An HTTP refusal: status, the field it concerns, a message; status 0 = go on. */
typedef struct {
    int status;          /* 0, 403, 404, 409 or 422 */
    const char *field;   /* request field concerned, or NULL */
    const char *message; /* static text */
} bounty_verdict_t;

/* What the database said about a claim request before the write. */
typedef struct {
    bool wish_found;                /* the wish exists */
    int status;                     /* its bounty_status_t */
    const char *wish_community;     /* community of the wish's compound */
    const char *claimant_level;     /* org unit level of the claimant, NULL if not an org unit */
    const char *claimant_community; /* community of a compound or micro-grid claimant */
    bool claimant_member;           /* the claimant is a member unit */
} bounty_claim_facts_t;

/* Decides whether the claim may be written. */
bounty_verdict_t bounty_claim_verdict(const bounty_claim_facts_t *f);

/* Why a guarded transition (claim, complete) changed nothing, given the
 * wish as it is now (found false when it does not exist). */
bounty_verdict_t bounty_claim_conflict(bool found, int status);
bounty_verdict_t bounty_complete_conflict(bool found, int status, const char *claimant,
                                          const char *asked_by);

/* What the database said about a review request before the write. */
typedef struct {
    bool wish_found;            /* the wish exists */
    int status;                 /* its bounty_status_t */
    const char *wish_community; /* community of the wish's compound */
    const char *reviewer_level; /* org unit level of the reviewer, NULL if unknown */
} bounty_review_facts_t;

/* Decides whether the review may be written. */
bounty_verdict_t bounty_review_verdict(const bounty_review_facts_t *f, const char *reviewer);

/* Writes the PointsAwarded reason for a wish titled `title` into out[len]. */
void bounty_award_reason(const char *title, char *out, size_t len);

/* ---- request.c: HTTP helpers for the write endpoints --------------------- */

/* Reads string field `key` of `obj`; replies 422 and returns false when it
 * is missing (and `required`), not a string, blank, or over `max`
 * characters. Absent optional fields give NULL. */
bool bounty_body_string(hl_http_req_t *req, json_t *obj, const char *key, bool required, size_t max,
                        const char **out);
/* Replies 422 naming the first key of `obj` not in `allowed` (NULL-ended). */
bool bounty_body_only(hl_http_req_t *req, json_t *obj, const char *const *allowed);
/* The {id} path segment when it is a UUID; else replies 400 and returns NULL. */
const char *bounty_path_id(hl_http_req_t *req);
/* Replies with a verdict's status, field and message. */
void bounty_reply_verdict(hl_http_req_t *req, const bounty_verdict_t *v);
/* Replies 503 with Retry-After for a unit that failed in the database. */
void bounty_reply_db_error(hl_http_req_t *req, const char *what, const hl_dberr_t *err);
/* A text column as JSON, null for SQL NULL. */
json_t *bounty_text_or_null(const PGresult *res, int row, int col);

/* ---- post.c: the "bounty" stage consumer (WishPosted) -------------------- */
int bounty_post_consume(bounty_t *b);

/* ---- board.c: GET /v1/wishes, GET /v1/wishes/{id}, GET /v1/boards/current */
void bounty_wishes_get(hl_http_req_t *req, void *arg);
void bounty_wish_get(hl_http_req_t *req, void *arg);
void bounty_board_current_get(hl_http_req_t *req, void *arg);

/* ---- claim.c: POST /v1/wishes/{id}/claim and /complete ------------------- */
void bounty_claim_post(hl_http_req_t *req, void *arg);
void bounty_complete_post(hl_http_req_t *req, void *arg);

/* ---- review.c: POST /v1/wishes/{id}/review ------------------------------- */
void bounty_review_post(hl_http_req_t *req, void *arg);

#endif
