/* hl_err: the one list of error codes every libhl action returns.
 *
 * Actions return 0 or a negative HL_E* value; hl_strerror() names it. The
 * list is an X-macro so the enum and the strings cannot drift apart. */
#ifndef HL_ERR_H
#define HL_ERR_H

#define HL_ERRNO_MAP(X)                                                                            \
    X(EINVAL, "invalid argument")                                                                  \
    X(ENOENT, "not found")                                                                         \
    X(ECONFLICT, "conflict with existing data")                                                    \
    X(EDUPLICATE, "duplicate message")                                                             \
    X(EAGAIN, "resource temporarily unavailable")                                                  \
    X(EDB, "database error")                                                                       \
    X(EDBCONN, "database connection lost")                                                         \
    X(ERETRY, "transaction must be retried")                                                       \
    X(EZMQ, "message bus error")                                                                   \
    X(EPROTO, "malformed message")                                                                 \
    X(ETOOBIG, "too large")                                                                        \
    X(ECONFIG, "bad configuration")                                                                \
    X(EIO, "input/output error")                                                                   \
    X(ESHUTDOWN, "shutting down")                                                                  \
    X(EFORBIDDEN, "refused by a rule")                                                             \
    X(EFAULT, "injected fault")

typedef enum {
    HL_OK = 0, /* success */
#define HL_ERR_ENUM(name, text) HL_##name,
    HL__ERR_FIRST = -1000, /* keeps the codes negative and clear of errno */
    HL_ERRNO_MAP(HL_ERR_ENUM)
#undef HL_ERR_ENUM
} hl_err_t;

/* Returns a static string naming the error code `rc` (0 gives "success"). */
const char *hl_strerror(int rc);

#endif
