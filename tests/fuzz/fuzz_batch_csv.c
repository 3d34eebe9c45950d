/* fuzz_batch_csv: a POST /v1/appeals/batch body in CSV (text/csv, a header
 * row, RFC 4180 quoting) as hl-intake reads it: intake_csv_parse (lines.c)
 * with a small line limit, then intake_batch_line (batch.c) on every
 * record, with and without the batch's Idempotency-Key. */
#include "hl_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hl_fuzz_batch(intake_csv_parse, data, size);
    return 0;
}
