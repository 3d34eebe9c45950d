/* hl_testflow: the steps the integration tests repeat against a running
 * cluster (hl_testenv.h) — bring one up per test binary and take it down,
 * printf-style scalar queries of its database and waits on them, an appeal
 * posted to hl-intake and followed by its tracking code. Functions that assert fail the current
 * cmocka test. */
#ifndef HL_TESTFLOW_H
#define HL_TESTFLOW_H

#include "hl_testenv.h"
#include "hongling.pb-c.h"

#include <stddef.h>

/* Starts cluster `c` as `name` with `nbuses` buses, every daemon also given
 * the NULL-ended HL_* settings `env` (may be NULL, at most 8), and connects
 * *db to its database. Without a test PostgreSQL it does nothing and
 * returns 0 (the tests then skip); -1 when the cluster does not start. */
int hl_test_cluster_up(hl_cluster_t *c, PGconn **db, const char *name, int nbuses,
                       const char *const *env);
/* Undoes hl_test_cluster_up: closes db and the cluster, keeping its logs
 * unless `ok`. Nothing without a test PostgreSQL. */
void hl_test_cluster_down(hl_cluster_t *c, PGconn *db, bool ok);

/* Closes *db when open and frees *url, leaving both NULL. */
void hl_test_disconnect(PGconn **db, char **url);
/* Runs `sql` on `db`, failing the test unless it succeeds. */
void hl_test_exec(PGconn *db, const char *sql);
/* hl_test_scalar of printf-formatted SQL (at most 1023 bytes). */
long hl_test_countf(PGconn *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* hl_test_wait_scalar of printf-formatted SQL: waits up to `seconds` until
 * it returns `want`. */
bool hl_test_waitf(PGconn *db, long want, double seconds, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The text value of printf-formatted SQL returning exactly one row, else "".
 * Static buffer (127 bytes), overwritten by the next call. */
const char *hl_test_textf(PGconn *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* After a load of `accepted` appeals (and any faults): every one stored,
 * decided by hl-triage exactly once, its effects downstream once; the
 * pipeline settles (waits up to 180 s) with nothing pending and nothing
 * dead. Fails the test otherwise. */
void hl_test_assert_settled(PGconn *db, int accepted);

/* POSTs appeal `req` (consumed) to hl-intake's /v1/appeals and asserts 201;
 * copies the reply's tracking code into `code` and its id into `id` (either
 * may be NULL). Returns the reply (caller decrefs; may be NULL). */
json_t *hl_test_post_appeal(hl_cluster_t *c, json_t *req, char code[32], char id[64]);
/* hl_test_post_appeal (`code` and `id` may be NULL), then waits up to 30 s
 * until hl-triage holds the appeal's case and writes the id of its item into
 * `item` (64 bytes). Fails the test otherwise. */
void hl_test_appeal_case(hl_cluster_t *c, PGconn *db, json_t *req, char code[32], char id[64],
                         char item[64]);
/* GETs /v1/appeals/{code} (asserting 200) until its status is `status`,
 * for up to 30 s; returns the reply (caller decrefs) or fails the test. */
json_t *hl_test_track(hl_cluster_t *c, const char *code, const char *status);
/* Whether the "history" of a tracked appeal holds a step with `status`. */
bool hl_test_history_has(json_t *appeal, const char *status);
/* Registers hl-bounty actor `name` (bounty.actor: `kind`, standing for org
 * unit or member unit `unit`, held by `person` or NULL) if it is new, and
 * gives it an active API key derived from its name, written to `key`
 * (65 bytes). Idempotent. Returns 0, or -1 when the database refused. */
int hl_test_actor(PGconn *db, const char *name, const char *kind, const char *unit,
                  const char *person, char key[65]);
/* hl_test_http to daemon `which` with "Authorization: Bearer <key>" (no
 * header when `key` is NULL). */
long hl_test_http_key(hl_cluster_t *c, int which, const char *method, const char *path,
                      json_t *body, json_t **out, const char *key);
/* Publishes the board `board` as the commissioner of its community
 * (registered on first use); returns 200, 409 (published already) or what
 * refused it. */
long hl_test_publish_board(hl_cluster_t *c, PGconn *db, const char *board);
/* Takes open wish `wish` through hl-bounty's API as a community would: its
 * commissioner publishes the board if need be, the party group of a
 * micro-grid of its compound claims and completes it, its community's
 * reviewer approves (then hl-bounty awards points through the pipeline).
 * Returns 200 when approved, else the status that refused a step (0: no
 * answer). Does not fail the test, so load tests may call it while daemons
 * are down. */
long hl_test_reward_wish(hl_cluster_t *c, PGconn *db, const char *wish);
/* The payloads of every pipeline message of `type` (e.g. "PointsAwarded")
 * written so far, unpacked with `desc`; returns how many, the messages in
 * *out (free each with protobuf_c_message_free_unpacked, then the array). */
size_t hl_test_messages(PGconn *db, const char *type, const ProtobufCMessageDescriptor *desc,
                        ProtobufCMessage ***out);
/* The "field" of an error reply {"error":{"field":...}}, or NULL. */
const char *hl_test_error_field(json_t *reply);

#endif
