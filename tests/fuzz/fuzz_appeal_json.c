/* fuzz_appeal_json: the body of POST /v1/appeals as hl-intake reads it —
 * hl_http_json_parse (what hl_http_json_body does with the bytes), then
 * intake_appeal_from_json, the one validator of an appeal object, as the
 * request takes it (no line key) and as a batch line takes it (with one),
 * and the request's fingerprint. */
#include "hl_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    json_t *j = hl_http_json_parse((const char *)data, size, err, sizeof err);
    if (!j) {
        hl_fuzz_text("the parse error", err);
        return 0;
    }
    const int64_t now_us = HL_FUZZ_NOW_US;
    intake_appeal_t a;
    char written_at[40], hash[17];
    hl_refusal_t why;
    if (intake_appeal_from_json(j, now_us, &a, written_at, NULL, &why) == 0) {
        hl_fuzz_appeal(&a);
        intake_fingerprint((const char *)data, size, hash);
    } else {
        hl_fuzz_refusal(&why);
    }
    const char *line_key;
    if (intake_appeal_from_json(j, now_us, &a, written_at, &line_key, &why) == 0) {
        hl_fuzz_appeal(&a);
        if (line_key)
            hl_fuzz_text("idempotency_key", line_key);
    } else {
        hl_fuzz_refusal(&why);
    }
    json_decref(j);
    return 0;
}
