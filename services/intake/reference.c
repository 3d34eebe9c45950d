/* reference.c: the reference data a form or client needs to post an
 * appeal — the categories and the org units (by level, or under a parent).
 * Read straight from the org schema, so an edit there shows at once. */
#include "intake.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    hl_http_req_t *req; /* suspended request */
    json_t *list;       /* the answer */
    bool with_parent;   /* org units carry level and parent */
} s_list_t;

static void s_rows(void *arg, const PGresult *res)
{
    s_list_t *l = arg;
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *o =
            json_pack("{s:s, s:s}", "code", PQgetvalue(res, i, 0), "name", PQgetvalue(res, i, 1));
        if (l->with_parent) {
            json_object_set_new(o, "level", json_string(PQgetvalue(res, i, 2)));
            json_object_set_new(o, "parent", hl_req_col_text(res, i, 3));
        }
        json_array_append_new(l->list, o);
    }
}

static void s_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_list_t *l = arg;
    if (rc != 0) {
        hl_req_reply_db(l->req, "reference", "read reference data", err);
        json_decref(l->list);
    } else {
        hl_http_reply_json(l->req, 200, l->list);
    }
    free(l);
}

static s_list_t *s_start(hl_http_req_t *req, bool with_parent)
{
    s_list_t *l = hl_calloc(1, sizeof *l);
    l->req = req;
    l->list = json_array();
    l->with_parent = with_parent;
    hl_http_suspend(req);
    return l;
}

static const char s_sql_categories[] = "SELECT code, name FROM org.category ORDER BY sort, code";

void intake_categories_get(hl_http_req_t *req, void *arg)
{
    intake_t *in = arg;
    s_list_t *l = s_start(req, false);
    hl_dbu_t *u = hl_dbu_new(in->svc->db, s_done, l);
    hl_dbu_stmt(u, s_sql_categories, 0, NULL, NULL, NULL, false, s_rows, l);
    hl_dbu_submit(&u);
}

static const char s_sql_units[] =
    "SELECT code, name, level, parent FROM org.org_unit"
    " WHERE ($1::text IS NULL OR level = $1) AND ($2::text IS NULL OR parent = $2)"
    " ORDER BY code";

typedef struct {
    const char *level;  /* ?level= */
    const char *parent; /* ?parent= */
} s_units_q_t;

static const char *const s_levels[] = {"city",       "town",      "community", "compound",
                                       "micro_grid", "household", NULL};
static const hl_req_field_t s_units_query[] = {
    {.name = "level",
     .type = HL_REQ_TEXT,
     .max = 16,
     .allowed = s_levels,
     HL_REQ_AT(s_units_q_t, level)},
    {.name = "parent", .type = HL_REQ_TEXT, .max = 32, HL_REQ_AT(s_units_q_t, parent)},
    {0}};

void intake_org_units_get(hl_http_req_t *req, void *arg)
{
    intake_t *in = arg;
    s_units_q_t q = {0};
    if (!hl_req_query(req, s_units_query, &q))
        return;
    const char *level = q.level, *parent = q.parent;
    if (!level && !parent) {
        hl_http_reply_error(req, 400, "level",
                            "give ?level=... or ?parent=... (the whole tree is 1,800 rows)");
        return;
    }
    s_list_t *l = s_start(req, true);
    hl_dbu_t *u = hl_dbu_new(in->svc->db, s_done, l);
    HL_DBU(u, s_sql_units, s_rows, l, level, parent);
    hl_dbu_submit(&u);
}
