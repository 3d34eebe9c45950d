/* fuzz_envelope: one frame off the bus as every consumer reads it
 * (hl_pipeline.c): hl__envelope__unpack, hl_envelope_check, and, for an
 * envelope it accepts, the payload through the checks of the consumers
 * of its type (hl_fuzz_message). */
#include "hl_fuzz.h"

#include "hl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Hl__Envelope *env = hl__envelope__unpack(NULL, size, data);
    if (!hl_envelope_check(env)) {
        hl_stage_parse(env->stage ? env->stage : "");
        hl_fuzz_message(env->type, env->payload.data, env->payload.len);
    }
    if (env)
        hl__envelope__free_unpacked(env, NULL);
    return 0;
}
