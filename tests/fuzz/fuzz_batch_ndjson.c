/* fuzz_batch_ndjson: a POST /v1/appeals/batch body in NDJSON as hl-intake
 * reads it: intake_ndjson_parse (lines.c) with a small line limit, then
 * intake_batch_line (batch.c) on every record, with and without the
 * batch's Idempotency-Key. */
#include "hl_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hl_fuzz_batch(intake_ndjson_parse, data, size);
    return 0;
}
