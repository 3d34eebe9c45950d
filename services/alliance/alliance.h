/* alliance.h: shared state of hl-alliance, the regional alliance's joint
 * meetings (see main.c). */
#ifndef ALLIANCE_H
#define ALLIANCE_H

#include "hl.h"

#include <stdbool.h>
#include <stddef.h>

#define ALLIANCE_TITLE_MAX    200   /* characters in an agenda item's title */
#define ALLIANCE_TITLE_FROM   60    /* characters of the body used when there is no title */
#define ALLIANCE_BODY_MAX     5000  /* characters in an item's text */
#define ALLIANCE_CODE_MAX     32    /* characters in an org unit or member unit code */
#define ALLIANCE_CATEGORY_MAX 64    /* characters in a category code */
#define ALLIANCE_REASON_MAX   32    /* characters in an escalation reason */
#define ALLIANCE_OUTCOME_MAX  2000  /* characters in an outcome */
#define ALLIANCE_MINUTES_MAX  20000 /* characters in a meeting's minutes */

typedef struct {
    hl_svc_cfg_t svc;                /* the settings every daemon takes */
    long long meeting_interval_days; /* HL_MEETING_INTERVAL_DAYS */
} alliance_cfg_t;

typedef struct {
    hl_service_t *svc;         /* loop, db, pipeline, http */
    const alliance_cfg_t *cfg; /* configuration */
    hl_metric_t *placed;       /* escalated items put on an agenda */
    hl_metric_t *resolved;     /* outcomes recorded (ItemResolved emitted) */
    hl_metric_t *refused;      /* HTTP requests refused as bad input */
} alliance_t;

/* agenda.c: the "alliance" stage consumer (ItemEscalated -> agenda). */
int alliance_agenda_consume(alliance_t *al);

/* meeting.c: GET /v1/meetings/next, GET /v1/meetings/{id},
 * POST /v1/meetings/{id}/held. */
void alliance_meeting_next(hl_http_req_t *req, void *arg);
void alliance_meeting_get(hl_http_req_t *req, void *arg);
void alliance_meeting_held(hl_http_req_t *req, void *arg);

/* outcome.c: POST /v1/meetings/{id}/outcomes, which emits ItemResolved. */
void alliance_outcome_post(hl_http_req_t *req, void *arg);

/* member.c: GET /v1/member-units. */
void alliance_member_units_get(hl_http_req_t *req, void *arg);

/* validate.c: checks without I/O (unit-tested). */

/* True when `e` can go on an agenda; otherwise writes why into `why`. */
bool alliance_escalation_check(const Hl__ItemEscalated *e, char *why, size_t len);
/* Writes the agenda title of a checked item into `out`: its title, or when
 * it has none the first ALLIANCE_TITLE_FROM characters of its body (cut on a
 * character boundary, "…" appended when cut). */
void alliance_item_title(const Hl__ItemEscalated *e, char *out, size_t outlen);

/* A parsed POST /v1/meetings/{id}/outcomes body; strings point into the JSON. */
typedef struct {
    const char *item_id; /* required UUID */
    const char *outcome; /* required text */
    const char *unit;    /* member unit code, or NULL for the joint meeting itself */
} alliance_outcome_t;

/* Parses an outcome body. On failure names the offending field in `*field`
 * (static) and writes the message into `msg`. */
bool alliance_outcome_parse(json_t *body, alliance_outcome_t *out, const char **field, char *msg,
                            size_t len);
/* Parses a POST /v1/meetings/{id}/held body (NULL: no body); `*minutes` is
 * NULL when none were given. */
bool alliance_held_parse(json_t *body, const char **minutes, const char **field, char *msg,
                         size_t len);
/* True when `code` looks like a function domain code (lower-case ASCII
 * letters, digits and '_', 1..64), so junk never reaches SQL. */
bool alliance_domain_wellformed(const char *code);

#endif
