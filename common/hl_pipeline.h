/* hl_pipeline: reliable stages on top of ZeroMQ and the pipeline table.
 *
 * Producer: hl_pipeline_send() adds the outgoing message's row
 * (pipeline.message, pending) to the caller's unit, so the state change and
 * the message commit together; after the commit the envelope is pushed to
 * the stage (fast path). A sweeper re-sends rows still pending after
 * HL_RESEND_AFTER_MS, with exponential back-off, and after
 * HL_MAX_ATTEMPTS marks them dead (hlctl status shows, hlctl replay revives).
 * The sweeper starts with the first stage opened for producing: no daemon
 * can forget it. hl_pipeline_send_if() writes the row only when a guard
 * query agrees, so no service touches pipeline.* itself.
 *
 * Consumer: each received envelope becomes an hl_inmsg_t whose unit starts
 * with `SELECT pipeline.claim(id)`. A handler registered with its payload's
 * protobuf descriptor (hl_msg_handler_t) gets the payload unpacked and
 * checked; the library frees it with the message. That function marks the row done and
 * raises SQLSTATE HLDUP when it was done already, which rolls back every
 * effect the handler added: effects happen exactly once however often a
 * message arrives. Garbage is dead-lettered (logged, counted, stored).
 *
 * See common/README.md for the whole picture. */
#ifndef HL_PIPELINE_H
#define HL_PIPELINE_H

#include "hl_curve.h"
#include "hl_db.h"
#include "hl_id.h"
#include "hl_zsock.h"
#include "hongling.pb-c.h"

#include <stdbool.h>
#include <uv.h>

/* Stages, in the fixed order that fixes their bus ports (base + 2 * index). */
#define HL_STAGES(X)                                                                               \
    X(APPEAL, "appeal")     /* hl-intake -> hl-triage: AppealReceived */                           \
    X(STATUS, "status")     /* hl-triage -> hl-intake: TriageDecision, ItemResolved */             \
    X(BOUNTY, "bounty")     /* hl-triage -> hl-bounty: WishPosted */                               \
    X(ALLIANCE, "alliance") /* hl-triage -> hl-alliance: ItemEscalated */                          \
    X(RESOLUTION,                                                                                  \
      "resolution")         /* hl-bounty, hl-alliance -> hl-triage: TaskApproved, ItemResolved */  \
    X(POINTS, "points")     /* hl-bounty -> hl-points: PointsAwarded */                            \
    X(FEEDBACK, "feedback") /* hl-intake -> hl-triage: AppealFeedback */                           \
    X(PLATFORM, "platform") /* hl-bounty -> hl-alliance: PlatformEvent (to the city platform) */

typedef enum {
#define HL_STAGE_ENUM(name, text) HL_STAGE_##name,
    HL_STAGES(HL_STAGE_ENUM)
#undef HL_STAGE_ENUM
        HL_STAGE_COUNT /* number of stages */
} hl_stage_t;

const char *hl_stage_name(hl_stage_t stage);
/* Returns the stage named `name`, or -1. */
int hl_stage_parse(const char *name);

typedef struct {
    const char *buses;       /* "tcp://host:7100,tcp://host2:7100" */
    const char *producer;    /* this service, e.g. "hl-intake" */
    int hwm;                 /* ZeroMQ high-water mark per socket */
    int resend_after_ms;     /* first re-send of a pending row */
    int sweep_interval_ms;   /* how often the sweeper looks */
    int max_attempts;        /* re-sends before a row is dead */
    int retain_done_s;       /* done rows older than this are deleted */
    int backlog_max;         /* consumer pauses reading above this many units pending */
    const hl_curve_t *curve; /* NULL or CURVE client keys for every bus hop (not owned) */
    bool duplicate_sends;    /* test mode: push every envelope twice (HL_DUPLICATE_SENDS) */
    bool claim_every_copy;   /* tests: no in-memory shortcut for re-sends (hl_seen.h), so
                                every copy reaches pipeline.claim() */
} hl_pipeline_cfg_t;

typedef struct hl_pipeline hl_pipeline_t;

typedef struct hl_inmsg hl_inmsg_t;
/* Decides a message again after its unit failed with `err` (see
 * hl_inmsg_apply_redo); must end with hl_inmsg_apply, _reject or _retry. */
typedef void(hl_redo_fn)(hl_inmsg_t *m, const hl_dberr_t *err, void *arg);

/* One received message being applied. */
struct hl_inmsg {
    hl_pipeline_t *pipeline;       /* owner */
    hl_stage_t stage;              /* where it came from */
    Hl__Envelope *env;             /* unpacked envelope, owned */
    hl_dbu_t *unit;                /* the claim and the handler's effects */
    hl_db_t *db;                   /* the connection `unit` runs on (hl_inmsg_shard) */
    uint64_t start_ns;             /* arrival, for the latency histogram */
    void *user;                    /* free for the handler's own state */
    void (*user_free)(void *user); /* frees `user` with the message, when set */
    hl_redo_fn *redo;              /* see hl_inmsg_apply_redo */
    void *redo_arg;                /* passed to redo */
    int redos;                     /* times redone */
    bool final;                    /* applied (or a duplicate): never to be taken again */
    const void *payload;           /* unpacked payload for an hl_msg_handler_t (e.g. a
                                      const Hl__AppealReceived *), owned, freed with the
                                      message; NULL for an hl_handler_t */
};

/* Handles one message type; must end with hl_inmsg_apply or hl_inmsg_reject
 * (now or later, e.g. after a read). */
typedef void(hl_consume_fn)(hl_inmsg_t *m, void *arg);

typedef struct {
    const char *type;  /* Envelope.type this handles, e.g. "AppealReceived" */
    hl_consume_fn *fn; /* the handler */
    void *arg;         /* passed to fn */
} hl_handler_t;

/* Why an unpacked payload is refused (static text, dead-letter reason),
 * or NULL when it may be handled. `msg` is the payload's own type. */
typedef const char *(hl_msg_check_fn)(const void *msg);
/* Handles one checked payload `msg` (also m->payload), valid as long as `m`
 * is: until hl_inmsg_apply, _reject or _retry, which the handler must
 * call, now or later. */
typedef void(hl_msg_fn)(hl_inmsg_t *m, const void *msg, void *arg);

/* A run of checked messages of one type, received in one burst, to be
 * applied by one unit (see hl_batch_fn). */
#define HL_BATCH_MAX 256
typedef struct {
    hl_inmsg_t *const *m; /* in arrival order; m[i]->payload is the checked payload */
    size_t n;             /* 1 .. HL_BATCH_MAX */
    hl_dbu_t *unit;       /* the unit that applies them, claim included */
} hl_batch_t;
/* Adds to b->unit the effects of b->m[0 .. k-1], for a k of its choosing
 * (1 <= k <= b->n: stop before a message that must not share a statement
 * with an earlier one, e.g. a second decision on the same appeal), and
 * returns k. Only statements: no reads, no hl_inmsg_* call. The library
 * adds one claim for the k messages (pipeline.claim_all, which raises
 * HLDUP when any was applied already) and submits; the rest form the next
 * batch. If the unit fails, each message is applied alone through the
 * handler's `fn`, so a duplicate or a message the database refuses is
 * found and treated alone, exactly as without batching. */
typedef size_t(hl_batch_fn)(const hl_batch_t *b, void *arg);

/* A handler registered with its payload's type: the library matches
 * Envelope.type to the descriptor's short name, unpacks the payload
 * (dead-lettering one that does not unpack, or that `check` refuses) and
 * frees it with the message. With `batch` set, the messages of this type
 * that arrive in one burst are applied together by `batch` (one claim and
 * a few statements for up to HL_BATCH_MAX messages instead of two or more
 * each); a message of another type on the stage first sends the batch
 * collected so far, so units still commit in arrival order. */
typedef struct {
    const ProtobufCMessageDescriptor *type; /* e.g. &hl__appeal_received__descriptor */
    hl_msg_check_fn *check;                 /* NULL: any payload that unpacks */
    hl_msg_fn *fn;                          /* the handler */
    void *arg;                              /* passed to fn and batch */
    hl_batch_fn *batch;                     /* NULL: one message a unit */
} hl_msg_handler_t;

hl_pipeline_t *hl_pipeline_new(uv_loop_t *loop, void *zctx, hl_db_t *db,
                               const hl_pipeline_cfg_t *cfg);
/* Consumer side: opens `n` more connections like `cfg` (at most
 * HL_PIPELINE_SHARDS; the pipeline owns and closes them) over which
 * hl_inmsg_shard spreads the messages a handler chooses to spread. One
 * connection runs one transaction at a time, so a consumer whose units are
 * mostly PostgreSQL's work keeps one backend busy and no more; with more
 * connections, more backends work at once. Returns 0 or HL_EINVAL. */
#define HL_PIPELINE_SHARDS 8
int hl_pipeline_shards(hl_pipeline_t *p, const hl_db_cfg_t *cfg, int n);
/* Consumer side, before the handler adds anything to m->unit: moves the
 * unit (so far only its claim) to the connection `key` picks, the main one
 * or a shard. One key, one connection: units with the same key commit in
 * the order they were submitted (hl-triage keys by community, so a join
 * never runs before the unit that opened its item). A redo stays there. */
void hl_inmsg_shard(hl_inmsg_t *m, uint64_t key);
/* Units queued or in flight on the shard connections (drain waits for
 * them as for the main connection's). */
size_t hl_pipeline_shard_pending(const hl_pipeline_t *p);
/* How many shard connections there are, and the i-th (i < that). */
int hl_pipeline_nshards(const hl_pipeline_t *p);
hl_db_t *hl_pipeline_shard(const hl_pipeline_t *p, int i);
/* True when every shard connection is ready (true with none). */
bool hl_pipeline_shards_ready(const hl_pipeline_t *p);
/* Closes sockets and timers; in-flight messages are left to the sweeper. */
void hl_pipeline_destroy(hl_pipeline_t **p);

/* Opens the PUSH side of `stage` (connected to every bus) and, with the
 * first stage, starts the sweeper for this producer's rows. */
int hl_pipeline_produce(hl_pipeline_t *p, hl_stage_t stage);
/* Opens the PULL side of `stage` and dispatches by type to `handlers`
 * (copied). */
int hl_pipeline_consume(hl_pipeline_t *p, hl_stage_t stage, const hl_handler_t *handlers, size_t n);
/* Opens the PULL side of `stage` and dispatches by payload type to typed
 * `handlers` (copied). */
int hl_pipeline_consume_msgs(hl_pipeline_t *p, hl_stage_t stage, const hl_msg_handler_t *handlers,
                             size_t n);
/* Starts the sweeper (hl_pipeline_produce does it; kept for old callers). */
void hl_pipeline_start_sweeper(hl_pipeline_t *p);
/* Stops reading every consumer stage and stops the sweeper (drain): what
 * is pending stays pending for the next start or another replica. */
void hl_pipeline_stop_consuming(hl_pipeline_t *p);
/* True when at least one bus connection is up for every opened stage. */
bool hl_pipeline_connected(const hl_pipeline_t *p);

/* Sends `payload` on `stage`: its pending row joins unit `u` and the
 * envelope is pushed once `u` commits. The type is the payload's own
 * (its descriptor's short name), so type and payload cannot disagree; the
 * stage must have been opened with hl_pipeline_produce (a row of a stage
 * this daemon does not produce would never be re-sent: asserted, and
 * logged and refused in a build without asserts). `trace_id` is the
 * appeal (or item) the message follows. Writes the new message id to
 * `id_out` when not NULL. Returns 0 or HL_EINVAL. */
int hl_pipeline_send(hl_pipeline_t *p, hl_dbu_t *u, hl_stage_t stage, const char *trace_id,
                     const ProtobufCMessage *payload, char id_out[HL_UUID_LEN + 1]);
/* hl_pipeline_send, but the row is written, and the envelope pushed after
 * commit, only when `guard` returns a row at that point of the unit: a
 * query in which $1 is the message's id and $2 is `guard_arg` (NULL
 * allowed). `id` is the message id, made by the caller (hl_uuid_new) so
 * that statements queued before can refer to it; for example, send the
 * ItemResolved only if this unit's UPDATE stamped its id on the item.
 * `guard` must be static text (statements are prepared by address). */
int hl_pipeline_send_if(hl_pipeline_t *p, hl_dbu_t *u, hl_stage_t stage, const char *trace_id,
                        const ProtobufCMessage *payload, const char *id, const char *guard,
                        const char *guard_arg);

/* The older form of hl_pipeline_send, with the type given as text.
 * Packs `payload` into an envelope for `stage`, adds its pending row to `u`,
 * and arranges for it to be sent once `u` commits. `trace_id` is the appeal
 * (or item) the message follows. Writes the new message id to `id_out` when
 * not NULL. */
void hl_pipeline_emit(hl_pipeline_t *p, hl_dbu_t *u, hl_stage_t stage, const char *type,
                      const char *trace_id, const ProtobufCMessage *payload,
                      char id_out[HL_UUID_LEN + 1]);

/* Packs `payload` into a new Envelope (fresh id written to `id_out`);
 * returns malloc'd bytes the caller frees, length in *len. */
uint8_t *hl_envelope_pack(hl_stage_t stage, const char *type, const char *trace_id,
                          const char *producer, const ProtobufCMessage *payload,
                          char id_out[HL_UUID_LEN + 1], size_t *len);

/* Why a received envelope cannot be dispatched (NULL: it did not unpack;
 * no valid id, type or payload), or NULL when it can. The reason is static
 * text. Pure: the fuzz harness calls it on arbitrary bytes. */
const char *hl_envelope_check(const Hl__Envelope *env);

/* The SQL that writes a pending row: $1 id, $2 stage, $3 type, $4 trace id,
 * $5 producer, $6 envelope (binary), $7 first re-send delay in ms. */
extern const char hl_sql_insert_message[];

/* Consumer side: submits the message's unit; frees `*m` later and NULLs it. */
void hl_inmsg_apply(hl_inmsg_t **m);
/* Consumer side: hl_inmsg_apply, except that when the unit fails with
 * HL_ERETRY (SQLSTATE 40001: a row the decision relied on moved), `redo` is
 * called with a fresh unit holding the claim again, at most
 * HL_INMSG_REDOS times, so the handler decides again on what it now knows
 * in the same delivery instead of waiting for a re-send. */
#define HL_INMSG_REDOS 3
void hl_inmsg_apply_redo(hl_inmsg_t **m, hl_redo_fn *redo, void *arg);
/* Consumer side: refuses the message for good (dead-letters it with
 * `reason`, logs, counts); frees `*m` later and NULLs it. */
void hl_inmsg_reject(hl_inmsg_t **m, const char *reason);

/* Consumer side: gives the message back without applying it (a read it
 * needed failed, or it arrived too early): nothing is written, the row stays
 * pending and the producer's sweeper re-sends it after its back-off. Logs
 * `why`, counts hl_pipeline_apply_failures_total, frees `*m`, NULLs it. */
void hl_inmsg_retry(hl_inmsg_t **m, const char *why);

/* Test hooks: the sockets of a stage (NULL when not open). */
hl_zsock_t *hl_pipeline_push_socket(hl_pipeline_t *p, hl_stage_t stage);
hl_zsock_t *hl_pipeline_pull_socket(hl_pipeline_t *p, hl_stage_t stage);

#endif
