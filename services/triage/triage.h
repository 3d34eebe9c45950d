/* triage.h: shared state of hl-triage, the commissioner's stage (see main.c). */
#ifndef TRIAGE_H
#define TRIAGE_H

#include "hl.h"
#include "index.h"
#include "item.h"
#include "rules.h"
#include "similar.h"

#include <stdint.h>

/* org.c: the org tree in memory (reference data). */
typedef struct triage_org triage_org_t;
/* Where an org unit sits: its level, the compound and community at or
 * above it ("" where none). */
typedef struct {
    char level[16];         /* its level */
    char compound[40];      /* compound at or above it */
    char compound_name[80]; /* that compound's name */
    char community[40];     /* community at or above it */
} triage_org_place_t;
/* Builds the tree from rows (code, level, parent, name). Caller owns it. */
triage_org_t *triage_org_new(const PGresult *res);
void triage_org_destroy(triage_org_t **org);
/* Fills `out` for unit `code`; false when the unit is not known here. */
bool triage_org_place(const triage_org_t *org, const char *code, triage_org_place_t *out);

typedef struct {
    hl_svc_cfg_t svc;               /* the settings every daemon takes */
    long long consolidate_permille; /* least text similarity (per mille) to join an item */
    long long connections;          /* PostgreSQL connections appeals are decided on */
    long long consolidate_days;     /* only items opened this many days back are joined */
    long long deadline_scan_ms;     /* how often overdue items are looked for */
    long long clock_offset_s;       /* seconds added to now() by the deadline scanner (tests) */
    long long index_max_items;      /* open items kept in memory (index.h) */
    long long index_sync_ms;        /* how often the index follows the database */
} triage_cfg_t;

typedef struct {
    hl_service_t *svc;                         /* loop, db, pipeline, http */
    triage_index_t *index;                     /* open items, the consolidation candidates */
    triage_org_t *org;                         /* the org tree, loaded with the index */
    bool index_ready;                          /* loaded once: decisions may use it */
    triage_scorer_t scorer;                    /* consolidation weights and threshold */
    char me[64];                               /* host:pid, recorded on every case decided here */
    uv_timer_t sync;                           /* follows the database (sync.c) */
    bool syncing;                              /* a sync read is in flight */
    long long item_seq;                        /* last triage.item.change_seq seen */
    long long case_seq;                        /* last triage.case.seq seen */
    hl_metric_t *joined;                       /* appeals that joined an open item */
    hl_metric_t *redecided;                    /* decisions taken again after a join failed */
    hl_metric_t *index_items;                  /* items in the index */
    const triage_cfg_t *cfg;                   /* configuration */
    triage_rules_t *rules;                     /* active rules, owned; NULL until loaded */
    uv_timer_t reload;                         /* reloads the rules every minute */
    bool loading;                              /* a rule load is in flight */
    uv_timer_t deadlines;                      /* looks for overdue items */
    bool scanning;                             /* a deadline scan is in flight */
    hl_metric_t *escalated;                    /* items escalated as overdue */
    hl_metric_t *decisions[TRIAGE_SIZE_COUNT]; /* appeals classified, by size */
    hl_metric_t *resolved;                     /* items resolved */
    hl_metric_t *councils;                     /* council hearings recorded */
    hl_metric_t *deferred;                     /* messages left for re-delivery */
    hl_metric_t *rule_loads;                   /* rule sets loaded */
    hl_metric_t *rule_errors;                  /* rules skipped as unusable */
    hl_metric_t *rules_active;                 /* rules in the current set */
} triage_t;

/* ruleload.c: loads triage.rule into memory at start, on every reconnect
 * and every 60 s; triage_rules_reload asks for a load now (no-op when one
 * is in flight). */
void triage_rules_start(triage_t *t);
void triage_rules_stop(triage_t *t);
void triage_rules_reload(triage_t *t);

/* appeal.c: the "appeal" stage consumer (AppealReceived). */
int triage_appeal_consume(triage_t *t);
/* What can never be applied and is refused for good: the reason (static
 * text) why AppealReceived `a` (NULL: it did not unpack) is refused, or
 * NULL. Pure, like the other *_check functions of the consumers. */
const char *triage_appeal_check(const void *msg);
/* sync.c: loads the index of open items at start (and after it was
 * dropped), then folds in every HL_INDEX_SYNC_MS what others changed. */
void triage_sync_start(triage_t *t);
void triage_sync_stop(triage_t *t);
/* An appeal named an org unit the tree in memory lacks: reload the tree. */
void triage_sync_org_missed(triage_t *t);
/* A message that cannot be applied now (a read it needs failed) is left
 * pending, for the producer's sweeper to send again. */
void triage_inmsg_defer(triage_t *t, hl_inmsg_t **m, const char *why);

/* Where an appeal sits in the org tree. Strings borrowed. */
typedef struct {
    const char *org_unit;  /* the appeal's anchor */
    const char *level;     /* its level: compound, micro_grid, community, ... */
    const char *compound;  /* the compound at or above it, or NULL */
    const char *community; /* the community at or above it, or NULL */
} triage_place_t;

/* Where an item goes. Strings are literals or borrowed from the place. */
typedef struct {
    const char *route;  /* council, alliance or board */
    const char *level;  /* compound, community, town or city */
    const char *target; /* org unit routed to */
} triage_route_t;

/* A new item, about to be opened by its first appeal. Strings borrowed. */
typedef struct {
    const char *id;        /* new item id */
    const char *appeal_id; /* the appeal opening it (trace id of the messages) */
    triage_size_t size;    /* decided size */
    const char *category;  /* decided category, or NULL */
    const char *org_unit;  /* where the matter is */
    const char *title;     /* short title */
    const char *body;      /* the appeal text */
    triage_route_t route;  /* where it goes */
    const char *compound;  /* compound it lies in, or NULL */
    const char *community; /* community it lies in, or NULL */
} triage_new_item_t;

/* route.c: the plan (pure) and the statements that open and route an item. */
void triage_route_plan(triage_size_t size, const triage_place_t *place, triage_route_t *out);
void triage_route_open_item(triage_t *t, hl_dbu_t *u, const triage_new_item_t *item);
/* The rung of an item level in ItemEscalated.level: compound 1, community 2,
 * town 3, city 4; 0 for anything else. */
int triage_level_rank(const char *level);
/* The stage whose time limit runs first for an item of `size`: "hear" for
 * small items (the council must sit), "resolve" for the others. */
const char *triage_due_stage(triage_size_t size);
/* Adds a TriageDecision for one appeal to `u`: tells hl-intake the item it
 * is in and where that item is now (after a merge, split, override or
 * escalation; route "escalated" for the latter). */
void triage_route_tell(triage_t *t, hl_dbu_t *u, const char *appeal_id, const char *item_id,
                       const char *size, const char *category, const char *route,
                       const char *target);

/* resolve.c: the "resolution" stage consumer (ItemResolved, TaskApproved),
 * and the statements that resolve an item, shared with council.c. */
int triage_resolution_consume(triage_t *t);
/* Why an ItemResolved or TaskApproved on the resolution stage is refused
 * (no valid item_id; NULL: it did not unpack), or NULL. Pure. */
const char *triage_item_resolved_check(const void *msg);
const char *triage_task_approved_check(const void *msg);
/* Adds to `u` the statements that resolve item `item_id` once: the guarded
 * UPDATE and the ItemResolved message for hl-intake listing `appeal_ids`,
 * written only when that UPDATE resolved the item (hl_pipeline_send_if), so
 * a concurrent resolution sends nothing. Writes that message's
 * id to `msg_id`: later statements in `u` can test "this unit resolved the
 * item" as triage.item.resolved_message = msg_id. Returns a flag, kept
 * with the unit and valid until its done callback returns, that is true
 * after commit exactly when this unit resolved the item. */
const bool *triage_resolve_add(triage_t *t, hl_dbu_t *u, const char *item_id, const char *outcome,
                               const char *resolved_by, char *const *appeal_ids,
                               size_t n_appeal_ids, char msg_id[HL_UUID_LEN + 1]);

/* queue.c: GET /v1/queue and GET /v1/items/{id}. */
void triage_queue_get(hl_http_req_t *req, void *arg);
void triage_item_get(hl_http_req_t *req, void *arg);
/* commission.c: the commissioner's decisions over items: override
 * (size, category, target), merge and split, each naming the item version
 * it acted on (409 when it moved). */
void triage_override_post(hl_http_req_t *req, void *arg);
typedef enum {
    TRIAGE_CMD_OVERRIDE, /* size, category, target */
    TRIAGE_CMD_MERGE,    /* into another item */
    TRIAGE_CMD_SPLIT,    /* some appeals into a new item */
} triage_cmd_kind_t;
/* What a commissioner's command asks, as its body says it. */
typedef struct {
    triage_cmd_kind_t kind;        /* which command (set by the caller) */
    char item_id[HL_UUID_LEN + 1]; /* the item in the path (set by the caller) */
    char into[HL_UUID_LEN + 1];    /* merge: the item merged into */
    const char *reason;            /* into the body */
    long long version;             /* version acted on; 0: the one read (merge, split) */
    const char *size;              /* override: into the body, or NULL */
    const char *category;          /* override: into the body, or NULL */
    const char *target;            /* override: into the body, or NULL */
    char **split;                  /* split: the appeal ids, owned, lower case */
    size_t n_split;                /* count */
} triage_cmd_t;
/* Checks the body of command `c` (kind and item_id set): the kind's field
 * table, then what the fields say together. Strings point into `body`.
 * Returns 0, or -1 with `why` (422 naming the field; 400 not an object).
 * Pure. Free with triage_cmd_close. */
int triage_cmd_check(json_t *body, triage_cmd_t *c, hl_refusal_t *why);
void triage_cmd_close(triage_cmd_t *c);
void triage_merge_post(hl_http_req_t *req, void *arg);
void triage_split_post(hl_http_req_t *req, void *arg);
/* escalate.c: the deadline scanner and GET /v1/escalations/due. */
void triage_deadlines_start(triage_t *t);
void triage_deadlines_stop(triage_t *t);
void triage_escalations_due_get(hl_http_req_t *req, void *arg);
/* Stage "resolution", ActionOverdue from hl-alliance: the item's deadline
 * comes forward to now, so the scanner escalates it on its next pass. */
const char *triage_action_overdue_check(const void *msg);
void triage_action_overdue(hl_inmsg_t *m, const void *msg, void *arg);
/* An item about to climb one level. Strings borrowed; NULL where absent. */
typedef struct {
    const char *id;           /* the item */
    const char *size;         /* its size (large: the alliance is told) */
    const char *category;     /* its category */
    const char *level;        /* its level now */
    const char *target;       /* its target org unit now */
    const char *parent;       /* the target's parent (NULL at the top) */
    const char *parent_level; /* that parent's level */
    const char *org_unit;     /* where the matter is */
    const char *title;        /* short title */
    const char *count;        /* appeal count, decimal */
    const char *due;          /* the deadline that was missed, or NULL */
    const char *body;         /* the first appeal's text, or NULL */
    const char *appeals;      /* its appeal ids, comma-separated */
    const char *history;      /* earlier escalations, one line, or NULL */
} triage_climb_t;
/* The climb of item `it` (strings borrowed from it). */
triage_climb_t triage_climb_of(const triage_item_t *it);
/* Adds to `u` one climb of item `c` (the caller claimed or guarded it):
 * level and target to the parent (at the city it stays), a new "resolve"
 * deadline, a triage.escalation row with `reason` (overdue, reopened), a
 * TriageDecision with route "escalated" for each appeal and, for a large
 * item or one at the city, ItemEscalated to hl-alliance whose reason is
 * `told`. Returns the level it climbs to (borrowed from `c`). */
const char *triage_escalate_add(triage_t *t, hl_dbu_t *u, const triage_climb_t *c,
                                const char *reason, const char *told);
/* feedback.c: the "feedback" stage consumer (AppealFeedback). */
int triage_feedback_consume(triage_t *t);
/* True when AppealFeedback `fb` can be applied; otherwise why not (NULL:
 * it did not unpack; no valid appeal_id, a malformed item_id, an unknown
 * kind, a bad reason) into `why`. Pure. */
bool triage_feedback_check(const Hl__AppealFeedback *fb, char *why, size_t len);
/* triage_feedback_check as a typed handler's check (static text). */
const char *triage_feedback_problem(const void *msg);
/* council.c: POST /v1/items/{id}/council. */
void triage_council_post(hl_http_req_t *req, void *arg);
/* A council hearing as its body says it. */
typedef struct {
    const char *venue;     /* into the body */
    const char *heard_at;  /* heard_at_utc, or NULL */
    char heard_at_utc[40]; /* heard_at as parsed, in UTC */
    const char *decision;  /* into the body */
    const char *outcome;   /* into the body */
    const char *assignee;  /* into the body, or NULL */
    const char *due_date;  /* into the body, or NULL */
    char *attendees;       /* JSON array text, owned */
} triage_hearing_t;
/* Checks a hearing's body: its field table, then the times. Returns 0, or
 * -1 with `why` (422 naming the field). Pure. Free with
 * triage_hearing_close. */
int triage_hearing_check(json_t *body, triage_hearing_t *c, hl_refusal_t *why);
void triage_hearing_close(triage_hearing_t *c);

/* text.c (pure): a short title from an appeal's text: its opening up to the
 * first sentence end, at most `max` characters, "…" when cut. Caller frees. */
char *triage_title_from_body(const char *body, size_t max);

#endif
