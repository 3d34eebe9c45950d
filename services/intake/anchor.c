/* anchor.c: the compound a mailbox or QR code fixes, looked up before the
 * insert.
 *
 * A letter from red mailbox 12 or a scan of code "cp-cp006" needs no
 * org_unit from the client: the box or code knows its compound. The
 * AppealReceived message that travels with the insert must name that
 * compound, and the message is built before its transaction runs, so an
 * appeal that leaves org_unit out is resolved by one read first (a read
 * unit, batched with whatever else the loop turn holds). When the client
 * gives org_unit too, nothing is read here: the trigger of migration 012
 * refuses a contradiction inside the insert. */
#include "intake.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct {
    intake_anchor_fn *done; /* caller's callback */
    void *arg;              /* its argument */
    int mailbox;            /* asked for, 0 when none */
    char *qr;               /* asked for, owned, or NULL */
    char *compound;         /* found, owned */
    bool qr_unknown;        /* the token is not in org.qr_code */
    bool mailbox_unknown;   /* the number is not in org.mailbox */
} s_anchor_t;

static const char s_sql_anchor[] =
    "SELECT (SELECT compound FROM org.mailbox WHERE number = $1::int),"
    " (SELECT compound FROM org.qr_code WHERE token = $2)";

static void s_rows(void *arg, const PGresult *res)
{
    s_anchor_t *x = arg;
    if (PQntuples(res) != 1)
        return;
    x->mailbox_unknown = x->mailbox && PQgetisnull(res, 0, 0);
    x->qr_unknown = x->qr && PQgetisnull(res, 0, 1);
    int col = x->mailbox ? 0 : 1;
    if (!PQgetisnull(res, 0, col))
        x->compound = hl_strdup(PQgetvalue(res, 0, col));
}

static void s_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_anchor_t *x = arg;
    hl_refusal_t why = {0};
    if (rc != 0)
        hl_refuse(&why, 503, NULL, "could not look up the compound now: %.200s", err->message);
    else if (x->mailbox_unknown)
        hl_refuse(&why, 422, "mailbox", "no mailbox has number %d", x->mailbox);
    else if (x->qr_unknown)
        hl_refuse(&why, 422, "qr", "no QR code has token \"%.64s\"", x->qr);
    else if (!x->compound)
        hl_refuse(&why, 503, NULL, "could not look up the compound now");
    x->done(x->arg, why.status ? NULL : x->compound, &why);
    free(x->compound);
    free(x->qr);
    free(x);
}

void intake_anchor_resolve(intake_t *in, int mailbox, const char *qr, intake_anchor_fn *done,
                           void *arg)
{
    s_anchor_t *x = hl_calloc(1, sizeof *x);
    x->done = done;
    x->arg = arg;
    x->mailbox = mailbox;
    x->qr = qr ? hl_strdup(qr) : NULL;
    char number[16];
    snprintf(number, sizeof number, "%d", mailbox);
    hl_dbu_t *u = hl_dbu_new(in->svc->db, s_done, x);
    HL_DBU(u, s_sql_anchor, s_rows, x, mailbox ? number : NULL, qr);
    hl_dbu_submit(&u);
}
