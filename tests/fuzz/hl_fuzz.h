/* hl_fuzz.h: what the libFuzzer harnesses in tests/fuzz/ share.
 *
 * Each harness tests/fuzz/fuzz_<name>.c defines LLVMFuzzerTestOneInput
 * and calls the project's own parsing and checking code (libhl and the
 * services' objects, linked as the daemons link them), never a copy of it.
 * tests/fuzz/run.sh runs them; README.md ("Fuzzing, sanitizers and CI")
 * lists them. */
#ifndef HL_FUZZ_H
#define HL_FUZZ_H

#include "intake/intake.h"

#include <stddef.h>
#include <stdint.h>

/* The libFuzzer entry point every harness defines. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The i-th payload type of proto/hongling.proto (modulo their number). */
const char *hl_fuzz_type(unsigned i);

/* Unpacks `len` bytes as a payload of Envelope.type `type` and runs what
 * every consumer of that type does before it touches the database: its
 * check function(s) and, for an accepted message, the pure functions that
 * read the message (triage's rules, title and similarity for an
 * AppealReceived; alliance's agenda title for an ItemEscalated). An unknown
 * type is ignored, as the pipeline dead-letters it unread. */
void hl_fuzz_message(const char *type, const uint8_t *data, size_t len);

/* What must hold whatever the input, beyond "no crash, no leak, no
 * sanitizer report": each of these prints what failed and aborts, which
 * libFuzzer reports as a crash with the input. */

/* `s` (called `what`) is valid UTF-8: it reaches someone as JSON text or a
 * PostgreSQL text column, which take nothing else. */
void hl_fuzz_text(const char *what, const char *s);
/* A refusal has a status, a message, and field and message are text. */
void hl_fuzz_refusal(const hl_refusal_t *why);
/* An appeal a validator accepted can be stored: intake_appeal_complete,
 * and every string is text. */
void hl_fuzz_appeal(const intake_appeal_t *a);

/* The clock the harnesses give validators (2026-01-01T00:00:00Z): fixed,
 * so a finding reproduces whenever it is run again. */
#define HL_FUZZ_NOW_US (1767225600LL * 1000000)

/* Most records a fuzzed batch may hold (HL_BATCH_MAX_LINES is 1000): small,
 * so that the limit's refusal is reached too. */
#define HL_FUZZ_BATCH_MAX 64

/* A batch reader of lines.c: intake_ndjson_parse or intake_csv_parse. */
typedef int(hl_fuzz_reader_fn)(const char *body, size_t len, size_t max, intake_records_t *out,
                               hl_refusal_t *why);
/* A batch body as POST /v1/appeals/batch takes it: `read` with a limit of
 * HL_FUZZ_BATCH_MAX records, then every record through intake_batch_line,
 * without and with the batch's Idempotency-Key. */
void hl_fuzz_batch(hl_fuzz_reader_fn *read, const uint8_t *data, size_t size);

#endif
