/* request.c: what hl-bounty's HTTP endpoints share beyond hl_req — the
 * text rules of its code and month fields, and the body of a POST that may
 * come without one (claim, extend, publish). */
#include "bounty.h"

#include <string.h>

const char *bounty_code_check(const char *s)
{
    return bounty_code_valid(s) ? NULL : "must be a code of letters, digits, '_', '-' or '.'";
}

const char *bounty_month_check(const char *s)
{
    char period[11];
    return bounty_month_parse(s, period) ? NULL : "must be YYYY-MM, e.g. 2026-11";
}

json_t *bounty_optional_body(hl_http_req_t *req, const hl_req_field_t *spec, void *out)
{
    size_t len = 0;
    const char *body = hl_http_body(req, &len);
    if (body && len > 0)
        return hl_req_body(req, spec, out);
    json_t *j = json_object();
    hl_refusal_t why;
    if (hl_req_check(j, spec, out, &why) != 0) {
        hl_req_reply(req, &why);
        json_decref(j);
        return NULL;
    }
    return j;
}
