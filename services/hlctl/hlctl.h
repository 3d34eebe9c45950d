/* hlctl.h: the pieces of the operator CLI (see main.c). */
#ifndef HLCTL_H
#define HLCTL_H

#include "hl.h"

#include <libpq-fe.h>

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
/* demo.c: `hlctl demo`. */
int hlctl_demo(void);
/* apikey.c: `hlctl api-key create NAME [RATE] | revoke NAME | list`
 * (argv starts after "api-key"). */
int hlctl_api_key(int argc, char **argv);
/* keygen.c: `hlctl keygen NAME [--out DIR]` with its arguments after the
 * command; returns the exit code. */
int hlctl_keygen(int argc, char **argv);
/* qr.c: `hlctl qr [--out DIR]` (argv starts after "qr"); returns the exit code. */
int hlctl_qr(int argc, char **argv);

#endif
