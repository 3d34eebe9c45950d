/* reply.c: how hl-alliance answers from the database. Most reads and
 * several writes build their JSON answer in PostgreSQL (json_build_object
 * over one snapshot), so a request is one unit whose first statement's text
 * is the reply; errors raised by the alliance's SQL functions carry the
 * field or rule in their constraint name (HL404 / HL409 / HL403 / HL422 /
 * HL400) and are answered here, in one place. */
#include "alliance.h"

#include <stdlib.h>
#include <string.h>

void alliance_reply_dberr(alliance_t *al, hl_http_req_t *req, int rc, const hl_dberr_t *err,
                          const char *what)
{
    const char *con = err && err->constraint && *err->constraint ? err->constraint : NULL;
    const char *msg = err && err->message ? err->message : hl_strerror(rc);
    /* The server's message starts with "ERROR:  " in some paths; the text
     * after it is what a caller needs. */
    const char *colon = strstr(msg, "ERROR:  ");
    if (colon)
        msg = colon + 8;
    char clean[400];
    size_t n = strcspn(msg, "\n");
    if (n >= sizeof clean)
        n = sizeof clean - 1;
    memcpy(clean, msg, n);
    clean[n] = '\0';
    switch (rc) {
    case HL_ENOENT:
        hl_http_reply_error(req, 404, con, "%s", clean);
        return;
    case HL_ECONFLICT:
        hl_http_reply_error(req, 409, con, "%s", clean);
        return;
    case HL_EFORBIDDEN:
        hl_metric_add(al->refused, 1);
        hl_http_reply_error(req, 403, con ? con : "function_domain", "%s", clean);
        return;
    case HL_EINVAL:
        hl_metric_add(al->refused, 1);
        /* A foreign key's name ends in the column: agenda_item_category_fkey. */
        if (con && strstr(con, "_fkey")) {
            static const char *const cols[] = {"category", "org_unit",  "unit",
                                               "venue",    "community", "alliance"};
            for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
                if (strstr(con, cols[i])) {
                    con = cols[i];
                    break;
                }
        }
        hl_http_reply_error(req, 422, con, "%s", clean);
        return;
    default:
        hl_warn("request", hl_http_path(req), "could not %s: %s", what, clean);
        hl_http_add_header(req, "Retry-After", "1");
        hl_http_reply_error(req, 503, NULL, "could not %s now; retry", what);
        return;
    }
}

static void s_answer_rows(void *arg, const PGresult *res)
{
    alliance_call_t *c = arg;
    if (PQntuples(res) < 1 || PQnfields(res) < 1)
        return;
    c->got_row = true;
    if (!PQgetisnull(res, 0, 0)) {
        free(c->json);
        c->json = hl_strdup(PQgetvalue(res, 0, 0));
    }
}

static void s_done(void *arg, int rc, const hl_dberr_t *err)
{
    alliance_call_t *c = arg;
    if (c->after)
        c->after(c->after_arg, rc, c->json);
    if (rc != 0) {
        alliance_reply_dberr(c->al, c->req, rc, err, c->what);
    } else {
        if (!c->json) {
            hl_http_reply_error(c->req, 404, c->missing_field, "not found");
        } else {
            size_t len = strlen(c->json);
            char *body = hl_malloc(len + 2);
            memcpy(body, c->json, len);
            body[len] = '\n';
            body[len + 1] = '\0';
            hl_http_reply_raw(c->req, c->ok_status, "application/json; charset=utf-8", body,
                              len + 1);
        }
    }
    free(c->json);
    free(c);
}

alliance_call_t *alliance_call_new(alliance_t *al, hl_http_req_t *req, int ok_status,
                                   const char *what)
{
    alliance_call_t *c = hl_calloc(1, sizeof *c);
    c->al = al;
    c->req = req;
    c->ok_status = ok_status;
    c->what = what;
    c->unit = hl_dbu_new(al->svc->db, s_done, c);
    return c;
}

void alliance_call_answer(alliance_call_t *c, const char *sql, int n, const char *const *params)
{
    hl_dbu_stmt(c->unit, sql, n, params, NULL, NULL, false, s_answer_rows, c);
}

void alliance_call_submit(alliance_call_t *c)
{
    hl_http_suspend(c->req);
    hl_dbu_submit(&c->unit);
}

void alliance_get_json(alliance_t *al, hl_http_req_t *req, const char *sql, int n,
                       const char *const *params, const char *field, const char *what)
{
    alliance_call_t *c = alliance_call_new(al, req, 200, what);
    c->missing_field = field;
    alliance_call_answer(c, sql, n, params);
    alliance_call_submit(c);
}
