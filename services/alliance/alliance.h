/* alliance.h: shared state of hl-alliance — the alliances (one per
 * community plus the city), their joint meetings, minutes and action items,
 * pairing, and the Shuang Lian Shuang Ying platform's webhooks both ways
 * (see main.c and README.md). */
#ifndef ALLIANCE_H
#define ALLIANCE_H

#include "hl.h"
#include "hl_fetch.h"
#include "hl_req.h"

#include <stdbool.h>
#include <stddef.h>

#define ALLIANCE_TITLE_MAX    200   /* characters in an agenda item's title */
#define ALLIANCE_TITLE_FROM   60    /* characters of the body used when there is no title */
#define ALLIANCE_BODY_MAX     5000  /* characters in an item's text */
#define ALLIANCE_CODE_MAX     32    /* characters in an org unit or member unit code */
#define ALLIANCE_CATEGORY_MAX 64    /* characters in a category code */
#define ALLIANCE_REASON_MAX   32    /* characters in an escalation reason */
#define ALLIANCE_OUTCOME_MAX  2000  /* characters in an outcome or decision */
#define ALLIANCE_MINUTES_MAX  20000 /* characters in a meeting's minutes */
#define ALLIANCE_TASK_MAX     1000  /* characters in an action item's task */
#define ALLIANCE_NOTE_MAX     2000  /* characters in a platform note or report */
#define ALLIANCE_LIST_MAX     200   /* decisions, attendees or actions in one request */

typedef struct {
    hl_svc_cfg_t svc;                 /* the settings every daemon takes */
    long long action_scan_ms;         /* HL_ACTION_SCAN_MS */
    long long webhook_scan_ms;        /* HL_WEBHOOK_SCAN_MS */
    long long webhook_timeout_ms;     /* HL_WEBHOOK_TIMEOUT_MS */
    long long webhook_max_attempts;   /* HL_WEBHOOK_MAX_ATTEMPTS */
    long long webhook_backoff_ms;     /* HL_WEBHOOK_BACKOFF_MS */
    long long webhook_backoff_max_ms; /* HL_WEBHOOK_BACKOFF_MAX_MS */
    long long webhook_in_flight;      /* HL_WEBHOOK_IN_FLIGHT */
} alliance_cfg_t;

typedef struct {
    hl_service_t *svc;          /* loop, db, pipeline, http */
    const alliance_cfg_t *cfg;  /* configuration */
    hl_metric_t *placed;        /* escalated items put on an agenda */
    hl_metric_t *resolved;      /* outcomes recorded (ItemResolved emitted) */
    hl_metric_t *refused;       /* HTTP requests refused as bad input */
    hl_metric_t *held;          /* meetings held */
    hl_metric_t *carried;       /* items carried to a next meeting */
    hl_metric_t *overdue;       /* overdue action items reported to hl-triage */
    hl_metric_t *inbound_ok;    /* inbound webhooks accepted */
    hl_metric_t *inbound_bad;   /* inbound webhooks refused 401 */
    hl_metric_t *delivered;     /* outbound deliveries answered 2xx */
    hl_metric_t *delivery_fail; /* outbound attempts that failed */
    hl_metric_t *dead;          /* outbound deliveries given up */
    uv_timer_t action_timer;    /* the action-item follow-up */
    uv_timer_t webhook_timer;   /* the delivery scan */
    hl_fetch_t *fetch;          /* outbound HTTP (libcurl) */
    bool scanning_actions;      /* a follow-up read is in flight */
    bool scanning_deliveries;   /* a delivery read is in flight */
    bool stopping;              /* draining: no new scans */
} alliance_t;

/* reply.c: answering from the database. */

/* Replies to a unit's failure: 404 / 409 / 403 / 422 naming the field or
 * rule the database named (its error's constraint), else 503. */
void alliance_reply_dberr(alliance_t *al, hl_http_req_t *req, int rc, const hl_dberr_t *err,
                          const char *what);
/* A request answered with the JSON text one statement returns (one row, one
 * column). The caller may add statements and pipeline messages to `unit`
 * before alliance_call_submit. A NULL result answers 404 naming
 * `missing_field`. */
typedef struct {
    alliance_t *al;                                     /* service */
    hl_http_req_t *req;                                 /* suspended request */
    hl_dbu_t *unit;                                     /* the unit, until submitted */
    int ok_status;                                      /* 200 or 201 */
    const char *missing_field;                          /* 404 field when the JSON is NULL */
    const char *what;                                   /* for 503 messages: "read the agenda" */
    char *json;                                         /* the answer, owned */
    bool got_row;                                       /* the statement returned a row */
    void (*after)(void *arg, int rc, const char *json); /* when done (rc 0: committed), before
                                                          the reply; frees its own state */
    void *after_arg;                                    /* for after */
} alliance_call_t;
alliance_call_t *alliance_call_new(alliance_t *al, hl_http_req_t *req, int ok_status,
                                   const char *what);
/* Adds the statement whose first column of its first row is the answer. */
void alliance_call_answer(alliance_call_t *c, const char *sql, int n, const char *const *params);
/* Suspends the request and submits the unit; the reply follows the commit. */
void alliance_call_submit(alliance_call_t *c);
/* GET helper: one statement, its JSON the answer, NULL: 404 `field`. */
void alliance_get_json(alliance_t *al, hl_http_req_t *req, const char *sql, int n,
                       const char *const *params, const char *field, const char *what);

/* agenda.c: the "alliance" stage consumer (ItemEscalated -> agenda), and
 * the alliances' agendas. */
int alliance_agenda_consume(alliance_t *al);
void alliance_alliances_get(hl_http_req_t *req, void *arg);
void alliance_alliance_get(hl_http_req_t *req, void *arg);
void alliance_agenda_get(hl_http_req_t *req, void *arg);
void alliance_agenda_post(hl_http_req_t *req, void *arg);

/* meeting.c: meetings, extra meetings, holding one with its minutes. */
void alliance_meeting_next(hl_http_req_t *req, void *arg);
void alliance_meeting_get(hl_http_req_t *req, void *arg);
void alliance_meeting_post(hl_http_req_t *req, void *arg);
void alliance_meeting_held(hl_http_req_t *req, void *arg);

/* outcome.c: POST /v1/meetings/{id}/outcomes, which emits ItemResolved. */
void alliance_outcome_post(hl_http_req_t *req, void *arg);

/* action.c: action items and their follow-up (ActionOverdue to hl-triage). */
void alliance_actions_get(hl_http_req_t *req, void *arg);
void alliance_action_done(hl_http_req_t *req, void *arg);
void alliance_actions_start(alliance_t *al);
void alliance_actions_stop(alliance_t *al);

/* member.c: member units by function domain. */
void alliance_member_units_get(hl_http_req_t *req, void *arg);
/* pairing.c: pairing, party members, contributions. */
void alliance_contributions_get(hl_http_req_t *req, void *arg);
void alliance_pairings_get(hl_http_req_t *req, void *arg);
void alliance_pairing_post(hl_http_req_t *req, void *arg);
void alliance_party_members_get(hl_http_req_t *req, void *arg);
void alliance_party_member_post(hl_http_req_t *req, void *arg);

/* inbound.c: POST /v1/platform/{partner}/webhooks. */
void alliance_inbound_post(hl_http_req_t *req, void *arg);

/* deliver.c: stage "platform" into the outbox, and the deliveries. */
int alliance_platform_consume(alliance_t *al);
void alliance_deliveries_get(hl_http_req_t *req, void *arg);
void alliance_deliveries_replay(hl_http_req_t *req, void *arg);
void alliance_deliver_start(alliance_t *al);
void alliance_deliver_stop(alliance_t *al);
/* The SQL that queues an outbound event for every active partner:
 * $1 event id, $2 type, $3 JSON body. */
extern const char alliance_sql_enqueue[];
/* The body of an outbound event: {"type", "timestamp", "data"} with `data`
 * (stolen). Returns malloc'd text. */
char *alliance_event_body(const char *type, int64_t at_us, json_t *data);

/* validate.c: checks without I/O (unit-tested). */

/* True when `e` can go on an agenda; otherwise writes why into `why`. */
bool alliance_escalation_check(const Hl__ItemEscalated *e, char *why, size_t len);
/* alliance_escalation_check as the typed handler's check: NULL, or the
 * dead-letter reason ("ItemEscalated refused: ...") in a thread-local buffer
 * valid until the next call. */
const char *alliance_escalation_problem(const void *msg);
/* Writes the agenda title of a checked item into `out`: its title, or when
 * it has none the first ALLIANCE_TITLE_FROM characters of its body (cut on a
 * character boundary, "…" appended when cut). */
void alliance_item_title(const Hl__ItemEscalated *e, char *out, size_t outlen);

/* A parsed POST /v1/meetings/{id}/outcomes body; strings point into the JSON. */
typedef struct {
    char item_id[HL_UUID_LEN + 1]; /* required UUID, lower-case */
    const char *outcome;           /* required text */
    const char *unit;              /* member unit code, or NULL for the joint meeting itself */
} alliance_outcome_t;
/* Parses an outcome body: 0, or -1 with the refusal in `why`. */
int alliance_outcome_parse(json_t *body, alliance_outcome_t *out, hl_refusal_t *why);

/* A parsed POST /v1/meetings/{id}/held body. */
typedef struct {
    const char *minutes; /* or NULL */
    json_t *attendance;  /* array of unit codes (borrowed from the body), or NULL */
    json_t *decisions;   /* normalised array for alliance.hold_meeting (owned) */
    size_t resolved;     /* decisions of kind resolved */
    size_t board;        /* decisions of kind board */
} alliance_held_t;
/* Parses a held body (NULL: no body) into `out` (its decisions always
 * owned, also on failure): each action gets a fresh id and its deadline in
 * full (a date means 23:59:59 that day, Beijing time). 0, or -1 with `why`. */
int alliance_held_parse(json_t *body, alliance_held_t *out, hl_refusal_t *why);
/* True when `code` looks like a function domain code (lower-case ASCII
 * letters, digits and '_', 1..64), so junk never reaches SQL. */
bool alliance_domain_wellformed(const char *code);
/* True when `code` looks like an org / member unit / partner code (ASCII
 * letters, digits, '_' and '-', 1..ALLIANCE_CODE_MAX). */
bool alliance_code_wellformed(const char *code);
/* hl_req checks: NULL when fine, else why not. */
const char *alliance_code_check(const char *s);
const char *alliance_date_check(const char *s);
/* True when `text` is a date YYYY-MM-DD. */
bool alliance_date_wellformed(const char *text);

/* A parsed inbound platform webhook body. */
typedef struct {
    const char *kind;              /* claim, progress, complete (static) */
    char item_id[HL_UUID_LEN + 1]; /* UUID */
    const char *unit;              /* member unit code */
    const char *note;              /* or NULL */
    double hours;                  /* reported hours, or -1 */
} alliance_inbound_t;
/* Parses {"type": "large_item.claim|progress|complete", "data": {...}}. */
int alliance_inbound_parse(json_t *body, alliance_inbound_t *out, hl_refusal_t *why);

#endif
