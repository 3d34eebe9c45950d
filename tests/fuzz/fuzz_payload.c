/* fuzz_payload: each message type of proto/hongling.proto unpacked and
 * checked as its consumers do (hl_fuzz_message), without an envelope
 * around it, so the fuzzer reaches the fields directly. The first byte
 * picks the type (hl_fuzz_type: in the .proto's order); the rest is the
 * payload. */
#include "hl_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    hl_fuzz_message(hl_fuzz_type(data[0]), data + 1, size - 1);
    return 0;
}
