/* feedback.c: POST /v1/appeals/{tracking_code}/confirm and .../reopen — a
 * resident answers the resolution of their appeal with the tracking code
 * (DOMAIN.md workflow 3: "can confirm or reopen; a reopened item comes back
 * to the council, and a second reopening escalates it").
 *
 * The body is optional for confirm and must hold {"reason": "..."} for
 * reopen (at most 500 characters; 422 naming the field otherwise). A read
 * unit finds the appeal (404) and checks it is resolved (409 naming its
 * status). The write unit then moves it, guarded, from resolved to
 * confirmed or reopened (intake.feedback_apply raises HL409 when another
 * request came first, which rolls the whole unit back), adds the history
 * step and emits AppealFeedback on stage "feedback" for hl-triage, which
 * records it and, for a reopening, routes the item again. The reply goes
 * out after commit. */
#include "intake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_REASON_MAX 500 /* characters */

/* One request in flight. */
typedef struct {
    intake_t *in;                  /* service */
    hl_http_req_t *req;            /* suspended request */
    const char *kind;              /* "confirm" or "reopen" (literal) */
    char code[HL_REQ_ID_MAX];      /* tracking code */
    char *reason;                  /* owned, or NULL */
    bool found;                    /* read: the appeal exists */
    char id[HL_UUID_LEN + 1];      /* read: its id */
    char item_id[HL_UUID_LEN + 1]; /* read: its item, "" when none */
    char status[16];               /* read: its status */
} s_feedback_t;

static const char s_sql_find[] =
    "SELECT id::text, COALESCE(item_id::text, ''), status FROM intake.appeal"
    " WHERE tracking_code = $1";
static const char s_sql_apply[] = "SELECT intake.feedback_apply($1::uuid, $2)";
static const char s_sql_event[] =
    "INSERT INTO intake.appeal_event (appeal_id, status, detail) VALUES ($1::uuid, $2, $3)";

static const char *s_status_of(const char *kind)
{
    return strcmp(kind, "confirm") == 0 ? "confirmed" : "reopened";
}

static void s_free(s_feedback_t *f)
{
    free(f->reason);
    free(f);
}

static void s_write_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_feedback_t *f = arg;
    if (rc == HL_ECONFLICT) {
        hl_http_reply_error(f->req, 409, "tracking_code", "%s", err->message);
    } else if (rc == HL_ENOENT) {
        hl_req_reply_unknown_id(f->req, HL_REQ_ID_TRACKING, "appeal");
    } else if (rc != 0) {
        hl_req_reply_db(f->req, "appeal", "record the resident's feedback", err);
    } else {
        hl_info("appeal", f->id, "resident %s the resolution", s_status_of(f->kind));
        hl_http_reply_json(
            f->req, 200,
            json_pack("{s:s, s:s}", "tracking_code", f->code, "status", s_status_of(f->kind)));
    }
    s_free(f);
}

static void s_write(s_feedback_t *f)
{
    intake_t *in = f->in;
    hl_dbu_t *u = hl_dbu_new(in->svc->db, s_write_done, f);
    HL_DBU(u, s_sql_apply, NULL, NULL, f->id, f->kind);
    HL_DBU(u, s_sql_event, NULL, NULL, f->id, s_status_of(f->kind), f->reason);
    Hl__AppealFeedback msg = HL__APPEAL_FEEDBACK__INIT;
    msg.appeal_id = f->id;
    msg.item_id = f->item_id[0] ? f->item_id : NULL;
    msg.kind = (char *)f->kind;
    msg.reason = f->reason;
    msg.has_at_us = 1;
    msg.at_us = hl_time_us();
    hl_pipeline_send(in->svc->pipeline, u, HL_STAGE_FEEDBACK, f->id, &msg.base, NULL);
    hl_dbu_submit(&u);
}

static void s_find_rows(void *arg, const PGresult *res)
{
    s_feedback_t *f = arg;
    if (PQntuples(res) != 1)
        return;
    f->found = true;
    snprintf(f->id, sizeof f->id, "%s", PQgetvalue(res, 0, 0));
    snprintf(f->item_id, sizeof f->item_id, "%s", PQgetvalue(res, 0, 1));
    snprintf(f->status, sizeof f->status, "%s", PQgetvalue(res, 0, 2));
}

static void s_find_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_feedback_t *f = arg;
    if (rc != 0) {
        hl_req_reply_db(f->req, "appeal", "read the appeal", err);
    } else if (!f->found) {
        hl_req_reply_unknown_id(f->req, HL_REQ_ID_TRACKING, "appeal");
    } else if (strcmp(f->status, "resolved") != 0) {
        hl_http_reply_error(f->req, 409, "tracking_code",
                            "the appeal is %s, not resolved: only a resolved appeal can be "
                            "confirmed or reopened",
                            f->status);
    } else {
        s_write(f);
        return;
    }
    s_free(f);
}

typedef struct {
    const char *reason; /* into the body */
} s_body_t;

static const hl_req_field_t s_body_fields[] = {{.name = "reason",
                                                .type = HL_REQ_TEXT,
                                                .flags = HL_REQ_MULTILINE,
                                                .max = S_REASON_MAX,
                                                HL_REQ_AT(s_body_t, reason)},
                                               {0}};

/* Reads the optional body into *reason (owned). Replies and returns false
 * on bad input. */
static bool s_body(hl_http_req_t *req, bool reason_required, char **reason)
{
    *reason = NULL;
    size_t len = 0;
    const char *raw = hl_http_body(req, &len);
    s_body_t b = {0};
    json_t *j = NULL;
    if (raw && len > 0 && !(j = hl_req_body(req, s_body_fields, &b)))
        return false;
    if (reason_required && !b.reason) {
        hl_http_reply_error(req, 422, "reason",
                            "reason is required: say why the matter is not settled");
        json_decref(j);
        return false;
    }
    if (b.reason)
        *reason = hl_strdup(b.reason);
    json_decref(j);
    return true;
}

static void s_post(hl_http_req_t *req, intake_t *in, const char *kind)
{
    char code[HL_REQ_ID_MAX];
    if (!hl_req_path_id(req, 0, HL_REQ_ID_TRACKING, "appeal", code))
        return;
    char *reason;
    if (!s_body(req, strcmp(kind, "reopen") == 0, &reason))
        return;
    s_feedback_t *f = hl_calloc(1, sizeof *f);
    f->in = in;
    f->req = req;
    f->kind = kind;
    f->reason = reason;
    snprintf(f->code, sizeof f->code, "%s", code);
    hl_http_suspend(req);
    hl_dbu_t *u = hl_dbu_new(in->svc->db, s_find_done, f);
    HL_DBU(u, s_sql_find, s_find_rows, f, f->code);
    hl_dbu_submit(&u);
}

void intake_feedback_confirm(hl_http_req_t *req, void *arg)
{
    s_post(req, arg, "confirm");
}

void intake_feedback_reopen(hl_http_req_t *req, void *arg)
{
    s_post(req, arg, "reopen");
}
