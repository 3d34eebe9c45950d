/* hlctl.h: the pieces of the operator CLI (see main.c). */
#ifndef HLCTL_H
#define HLCTL_H

#include "hl.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

/* Connects to HL_DATABASE_URL or exits with a message. */
PGconn *hlctl_connect(void);
/* Runs a query with text parameters; exits with the server's message on failure. */
PGresult *hlctl_query(PGconn *conn, const char *sql, int n, const char *const *params);
/* emit.c: `hlctl emit STAGE TYPE JSON`. */
int hlctl_emit(const char *stage, const char *type, const char *json);
/* Builds a protobuf message of `type` from a JSON object by field name.
 * Returns NULL and writes why into `err` on a type or field mismatch. The
 * caller frees it with protobuf_c_message_free_unpacked(msg, NULL). */
ProtobufCMessage *hlctl_message_from_json(const char *type, json_t *obj, char *err, size_t errlen);
/* demo.c: `hlctl demo [--month-of-report]` with its arguments after the
 * command; returns the exit code. */
int hlctl_demo(int argc, char **argv);

/* demo_plan.c: what the demo's residents report, round by round. */

/* A matter's wording. */
typedef struct {
    const char *size;     /* wish, small, large: what triage's rules make of it */
    const char *category; /* org.category code, also what the rules infer */
    const char *text;     /* %s = compound name, %d = building number */
} hlctl_template_t;

extern const hlctl_template_t hlctl_demo_templates[];
extern const size_t hlctl_demo_ntemplates;

/* One thing residents report, maybe many times. */
typedef struct {
    int template;   /* index into hlctl_demo_templates */
    int community;  /* which community (0 .. communities - 1) it is in */
    int round;      /* round it is reported in (0 first) */
    int appeals;    /* residents who report it */
    bool left_open; /* still unresolved when the demo ends */
} hlctl_matter_t;

/* The whole demo: matters in size order (wishes, small, large). */
typedef struct {
    hlctl_matter_t *matters; /* owned: n of them */
    size_t n;                /* matters */
    int rounds;              /* rounds the matters are spread over */
} hlctl_plan_t;

/* Plans `appeals` appeals (>= 1) over `communities` communities (>= 1) in
 * the report's shape (demo_plan.c says how); returns 0 or HL_EINVAL. The
 * caller closes *plan with hlctl_demo_plan_close. */
int hlctl_demo_plan(int appeals, int communities, hlctl_plan_t *plan);
/* Frees what hlctl_demo_plan allocated and zeroes *plan. */
void hlctl_demo_plan_close(hlctl_plan_t *plan);
/* apikey.c: `hlctl api-key create NAME [RATE] | revoke NAME | list`
 * (argv starts after "api-key"). */
int hlctl_api_key(int argc, char **argv);
/* A new random key (64 hex characters) and its SHA-256 (hex), for any key table. */
void hlctl_key_new(char key[65], char hash[65]);
/* Why `name` may not name a key (an hl_req check: 1-64 letters, digits,
 * '.', '_', '-', starting with a letter or digit), or NULL. */
const char *hlctl_key_name_problem(const char *name);
/* pointskey.c: `hlctl points-key create NAME ROLE [COMMUNITY] | revoke NAME | list`. */
int hlctl_points_key(int argc, char **argv);
/* Runs `sql` (an UPDATE ... SET revoked_at = now() WHERE <name> = $1 AND
 * revoked_at IS NULL) for `name`; prints "<what> "<name>" revoked; <after>"
 * or an error; returns the exit code. */
int hlctl_key_revoke(const char *sql, const char *name, const char *what, const char *after);
/* One column of a key listing: its heading and its printf field width
 * (negative: left-aligned; 0: as long as its value). */
typedef struct {
    const char *name; /* the heading */
    int width;        /* the field width, as printf's "%*s" takes it */
} hlctl_column_t;
/* Runs `sql` (a SELECT of `ncolumns` text columns) and prints a heading
 * line and one line a row, each cell padded to its column's width and
 * separated by one space; returns the exit code. */
int hlctl_key_list(const char *sql, const hlctl_column_t *columns, int ncolumns);
/* True when `name` may name a key: 1-64 letters, digits, '.', '_', '-', not
 * starting with a punctuation mark. */
bool hlctl_key_name_ok(const char *name);
/* actorkey.c: `hlctl actor-key create NAME KIND UNIT [PERSON] | revoke NAME
 * | list` (argv starts after "actor-key"). */
int hlctl_actor_key(int argc, char **argv);
/* keygen.c: `hlctl keygen NAME [--out DIR]` with its arguments after the
 * command; returns the exit code. */
int hlctl_keygen(int argc, char **argv);
/* qr.c: `hlctl qr [--out DIR]` (argv starts after "qr"); returns the exit code. */
int hlctl_qr(int argc, char **argv);

#endif
