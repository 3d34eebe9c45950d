/* fuzz_open311_form: the body of an Open311 POST requests.{json,xml}
 * (application/x-www-form-urlencoded) as hl-intake reads it:
 * intake_form_parse with the handler's field limit, then
 * intake_open311_check with the handler's buffers. The first byte picks
 * the format (it only changes a message); the rest is the body. */
#include "hl_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    bool xml = data[0] & 1;
    const char *body = (const char *)data + 1;
    intake_form_t f;
    char err[160];
    if (intake_form_parse(body, size - 1, 64, &f, err, sizeof err) != 0) {
        hl_fuzz_text("the form's error", err);
    } else {
        intake_appeal_t a = {0};
        intake_open311_extra_t extra;
        hl_refusal_t why;
        char body_text[16384], person[64]; /* as intake_open311_requests_post */
        if (intake_open311_check(&f, xml, &a, &extra, body_text, sizeof body_text, person,
                                 sizeof person, &why) != 0) {
            hl_fuzz_refusal(&why);
        } else {
            hl_fuzz_appeal(&a);
            if (extra.address)
                hl_fuzz_text("address_string", extra.address);
            if (extra.media_url)
                hl_fuzz_text("media_url", extra.media_url);
        }
    }
    intake_form_close(&f);
    return 0;
}
