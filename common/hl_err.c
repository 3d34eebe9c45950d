/* hl_err: names for the HL_E* codes. */
#include "hl_err.h"

const char *hl_strerror(int rc)
{
    switch (rc) {
    case HL_OK:
        return "success";
#define HL_ERR_CASE(name, text)                                                                    \
    case HL_##name:                                                                                \
        return text;
        HL_ERRNO_MAP(HL_ERR_CASE)
#undef HL_ERR_CASE
    default:
        return "unknown error";
    }
}
