/* commission.c: the commissioner's decisions over items (DOMAIN.md
 * workflow 2: "rules first, a person able to override"), over HTTP:
 *
 *   POST /v1/items/{id}/override  {"size"?, "category"?, "target"?, "reason", "version"}
 *   POST /v1/items/{id}/merge     {"into", "reason", "version"?}
 *   POST /v1/items/{id}/split     {"appeal_ids": [...], "reason", "version"?}
 *
 * Each is recorded as a triage.override row beside the automatic decision
 * (triage."case" keeps what the rules said) and re-routes what changed:
 * a size change opens the new route (council row, ItemEscalated to
 * hl-alliance, WishPosted to hl-bounty), and every appeal concerned gets a
 * TriageDecision so hl-intake shows its item and route as they are now.
 *
 * The body is validated first (422 naming the field). A read unit fetches
 * the item(s) and their appeals (404, 409 when closed or at another
 * version, 422 for unknown categories, targets or appeals). The write unit
 * starts with triage.item_claim_version(), which bumps the version only if
 * it is still the one read, and otherwise raises HL409: the whole unit
 * rolls back, so of two commissioners acting on one version one gets 200
 * and the other 409, and nothing is half-applied. */
#include "triage.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One item as read: the columns of s_sql_item. */
typedef struct {
    bool found;           /* it exists */
    triage_item_t it;     /* its columns, owned */
    hl_strlist_t appeals; /* its appeal ids, owned */
} s_item_t;

/* One POST in flight. */
typedef struct {
    triage_t *t;                    /* service */
    hl_http_req_t *req;             /* suspended request */
    json_t *body;                   /* parsed request, owned */
    triage_cmd_t cmd;               /* what the body asks, checked */
    s_item_t item;                  /* read: the item */
    s_item_t other;                 /* read: merge's target item */
    bool category_known;            /* read: override's category exists */
    char target_level[16];          /* read: override's target's level, "" if unknown */
    char new_item[HL_UUID_LEN + 1]; /* split: the new item */
    int new_version;                /* the item's version after the write */
} s_cmd_t;

static void s_item_close(s_item_t *it)
{
    triage_item_close(&it->it);
    hl_strlist_close(&it->appeals);
}

static void s_free(s_cmd_t *c)
{
    json_decref(c->body);
    s_item_close(&c->item);
    s_item_close(&c->other);
    triage_cmd_close(&c->cmd);
    free(c);
}

/* ---- validation -------------------------------------------------------- */

/* What a command's body gives, as the tables below check it. */
typedef struct {
    const char *reason;         /* why, for the record */
    int64_t version;            /* the item version acted on; 0: not given */
    const char *size;           /* override */
    const char *category;       /* override */
    const char *target;         /* override */
    char into[HL_UUID_LEN + 1]; /* merge */
    json_t *appeal_ids;         /* split, borrowed from the body */
} s_body_t;

static const char *const s_sizes[] = {"wish", "small", "large", NULL};
static const hl_req_field_t s_appeal_id[] = {
    {.name = "appeal_id", .type = HL_REQ_UUID, .hint = "must be an appeal id (UUID)"}, {0}};

#define S_REASON                                                                                   \
    {                                                                                              \
        .name = "reason", .type = HL_REQ_TEXT, .flags = HL_REQ_REQUIRED | HL_REQ_MULTILINE,        \
        .max = 2000, HL_REQ_AT(s_body_t, reason)                                                   \
    }
#define S_VERSION                                                                                  \
    {                                                                                              \
        .name = "version", .type = HL_REQ_INT, .min = 1, .max = 2000000000,                        \
        .hint = "must be a positive integer", HL_REQ_AT(s_body_t, version)                         \
    }

static const hl_req_field_t s_override_fields[] = {
    {.name = "size", .type = HL_REQ_TEXT, .max = 8, .allowed = s_sizes, HL_REQ_AT(s_body_t, size)},
    {.name = "category", .type = HL_REQ_TEXT, .max = 32, HL_REQ_AT(s_body_t, category)},
    {.name = "target", .type = HL_REQ_TEXT, .max = 32, HL_REQ_AT(s_body_t, target)},
    S_REASON,
    S_VERSION,
    {0}};
static const hl_req_field_t s_merge_fields[] = {{.name = "into",
                                                 .type = HL_REQ_UUID,
                                                 .flags = HL_REQ_REQUIRED,
                                                 .hint = "must be an item id (UUID)",
                                                 HL_REQ_AT(s_body_t, into)},
                                                S_REASON,
                                                S_VERSION,
                                                {0}};
static const hl_req_field_t s_split_fields[] = {{.name = "appeal_ids",
                                                 .type = HL_REQ_ARRAY,
                                                 .flags = HL_REQ_REQUIRED,
                                                 .min = 1,
                                                 .max = 1000,
                                                 .fields = s_appeal_id,
                                                 .hint = "must be a non-empty array of appeal ids",
                                                 HL_REQ_AT(s_body_t, appeal_ids)},
                                                S_REASON,
                                                S_VERSION,
                                                {0}};

int triage_cmd_check(json_t *body, triage_cmd_t *c, hl_refusal_t *why)
{
    s_body_t b = {0};
    const hl_req_field_t *spec = c->kind == TRIAGE_CMD_OVERRIDE ? s_override_fields
                                 : c->kind == TRIAGE_CMD_MERGE  ? s_merge_fields
                                                                : s_split_fields;
    if (hl_req_check(body, spec, &b, why) != 0)
        return -1;
    c->reason = b.reason;
    c->version = b.version;
    if (c->kind == TRIAGE_CMD_OVERRIDE) {
        if (!b.version)
            return hl_refuse(why, 422, "version",
                             "version is required: the item version you acted on (GET "
                             "/v1/items/{id} shows it)");
        c->size = b.size;
        c->category = b.category;
        c->target = b.target;
        if (!c->size && !c->category && !c->target)
            return hl_refuse(why, 422, "size",
                             "give at least one of size, category and target to override");
    } else if (c->kind == TRIAGE_CMD_MERGE) {
        memcpy(c->into, b.into, sizeof c->into);
        if (strcmp(c->into, c->item_id) == 0)
            return hl_refuse(why, 422, "into", "an item cannot be merged into itself");
    } else {
        c->split = hl_calloc(json_array_size(b.appeal_ids) + 1, sizeof *c->split);
        size_t i;
        json_t *v;
        json_array_foreach(b.appeal_ids, i, v)
        {
            char id[HL_UUID_LEN + 1], field[48];
            hl_uuid_canonical(json_string_value(v), id); /* the table checked it */
            snprintf(field, sizeof field, "appeal_ids[%zu]", i);
            for (size_t k = 0; k < c->n_split; k++)
                if (strcmp(c->split[k], id) == 0)
                    return hl_refuse(why, 422, field, "appeal %s is listed twice", id);
            c->split[c->n_split++] = hl_strdup(id);
        }
    }
    return 0;
}

void triage_cmd_close(triage_cmd_t *c)
{
    for (size_t i = 0; i < c->n_split; i++)
        free(c->split[i]);
    free(c->split);
    c->split = NULL;
    c->n_split = 0;
}

/* ---- the write ------------------------------------------------------- */

static const char s_sql_claim[] = "SELECT triage.item_claim_version($1::uuid, $2::int)";
static const char s_sql_override[] =
    "UPDATE triage.item SET size = $2, category = $3, route = $4, level = $5, target = $6,"
    " due_stage = CASE WHEN $7::bool THEN $8 ELSE due_stage END,"
    " due_at = CASE WHEN $7::bool THEN triage.deadline(now(), $2, $8, $3) ELSE due_at END"
    " WHERE id = $1::uuid";
static const char s_sql_record[] =
    "INSERT INTO triage.override (id, item_id, kind, size_before, size_after, category_before,"
    " category_after, target_before, target_after, other_item, appeal_ids, reason, version)"
    " VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, $7, $8, $9, $10::uuid,"
    " COALESCE($11::uuid[], '{}'), $12, $13::int)";
static const char s_sql_council[] =
    "INSERT INTO triage.council (id, item_id) VALUES ($1::uuid, $2::uuid)"
    " ON CONFLICT (item_id) DO NOTHING";
static const char s_sql_move_all[] =
    "UPDATE triage.case SET item_id = $2::uuid WHERE item_id = $1::uuid";
static const char s_sql_count_add[] =
    "UPDATE triage.item SET appeal_count = appeal_count + $2::int WHERE id = $1::uuid";
static const char s_sql_merged[] =
    "UPDATE triage.item SET status = 'merged', merged_into = $2::uuid, due_at = NULL"
    " WHERE id = $1::uuid";
static const char s_sql_split_item[] =
    "INSERT INTO triage.item (id, size, category, org_unit, title, status, route, level, target,"
    " appeal_count, created_at, routed_at, compound, community, due_stage, due_at)"
    " SELECT $2::uuid, size, category, org_unit, title, 'routed', route, level, target,"
    " $3::int, now(), now(), compound, community, due_stage, due_at"
    " FROM triage.item WHERE id = $1::uuid";
static const char s_sql_split_move[] =
    "UPDATE triage.case SET item_id = $2::uuid WHERE item_id = $1::uuid"
    " AND appeal_id = ANY($3::uuid[])";

static void s_write_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_cmd_t *c = arg;
    if (rc == HL_ECONFLICT) {
        hl_http_reply_error(c->req, 409, "version",
                            "item %s changed meanwhile (or was closed): read it again",
                            c->cmd.item_id);
    } else if (rc == HL_EINVAL) {
        hl_http_reply_error(c->req, 422, NULL, "refused: %s", err->message);
    } else if (rc != 0) {
        hl_warn("item", c->cmd.item_id, "could not apply the commissioner's decision: %s",
                err->message);
        hl_http_add_header(c->req, "Retry-After", "1");
        hl_http_reply_error(c->req, 503, NULL, "could not store the decision now; retry");
    } else if (c->cmd.kind == TRIAGE_CMD_OVERRIDE) {
        hl_info("item", c->cmd.item_id, "overridden by the commissioner");
        hl_http_reply_json(c->req, 200,
                           json_pack("{s:s, s:i, s:s}", "item_id", c->cmd.item_id, "version",
                                     c->new_version, "status", "overridden"));
    } else if (c->cmd.kind == TRIAGE_CMD_MERGE) {
        hl_info("item", c->cmd.item_id, "merged into %s", c->cmd.into);
        hl_http_reply_json(c->req, 200,
                           json_pack("{s:s, s:s, s:i}", "item_id", c->cmd.into, "merged",
                                     c->cmd.item_id, "moved", (int)c->item.appeals.n));
    } else {
        hl_info("item", c->cmd.item_id, "split: %zu appeals to %s", c->cmd.n_split, c->new_item);
        hl_http_reply_json(c->req, 200,
                           json_pack("{s:s, s:s, s:i, s:i}", "item_id", c->cmd.item_id,
                                     "new_item_id", c->new_item, "moved", (int)c->cmd.n_split,
                                     "version", c->new_version));
    }
    s_free(c);
}

/* A uuid[] literal of `ids`. Caller frees. */
static char *s_uuid_array(char *const *ids, size_t n)
{
    hl_buf_t b = {0};
    for (size_t i = 0; i < n; i++)
        hl_buf_pgarray_add(&b, ids[i]);
    hl_buf_pgarray_end(&b);
    return b.data;
}

/* The messages that put item `id` (size, category, target as given) on a
 * new route: a council row, ItemEscalated or WishPosted. */
static void s_open_route(s_cmd_t *c, hl_dbu_t *u, const char *id, triage_size_t size,
                         const char *category, const char *target, const char *level,
                         int appeal_count, const char *reason)
{
    const triage_item_t *col = &c->item.it;
    hl_pipeline_t *p = c->t->svc->pipeline;
    const char *trace = c->item.appeals.n ? c->item.appeals.v[0] : id;
    if (size == TRIAGE_SIZE_SMALL) {
        char council[HL_UUID_LEN + 1];
        hl_uuid_new(council);
        HL_DBU(u, s_sql_council, NULL, NULL, council, id);
    } else if (size == TRIAGE_SIZE_LARGE) {
        Hl__ItemEscalated msg = HL__ITEM_ESCALATED__INIT;
        msg.item_id = (char *)id;
        msg.title = col->title;
        msg.body = col->body ? col->body : "";
        msg.category = (char *)(category ? category : "");
        msg.org_unit = col->org_unit;
        msg.has_level = 1;
        msg.level = triage_level_rank(level);
        msg.has_appeal_count = 1;
        msg.appeal_count = appeal_count;
        msg.reason = (char *)reason;
        hl_pipeline_send(p, u, HL_STAGE_ALLIANCE, trace, &msg.base, NULL);
    } else {
        Hl__WishPosted msg = HL__WISH_POSTED__INIT;
        msg.item_id = (char *)id;
        msg.appeal_id = (char *)trace;
        msg.title = col->title;
        msg.body = col->body ? col->body : "";
        msg.org_unit = (char *)target;
        msg.category = (char *)(category ? category : "");
        hl_pipeline_send(p, u, HL_STAGE_BOUNTY, trace, &msg.base, NULL);
    }
}

static void s_write_override(s_cmd_t *c, hl_dbu_t *u, const char *version)
{
    const triage_item_t *col = &c->item.it;
    triage_size_t old_size = (triage_size_t)triage_size_parse(col->size);
    triage_size_t size = c->cmd.size ? (triage_size_t)triage_size_parse(c->cmd.size) : old_size;
    const char *category = c->cmd.category ? c->cmd.category : col->category;
    bool resized = size != old_size;
    triage_route_t r = {col->route, col->level, col->target};
    if (resized) {
        triage_place_t place = {col->org_unit, col->org_level, col->compound, col->community};
        triage_route_plan(size, &place, &r);
    }
    if (c->cmd.target) {
        r.target = c->cmd.target;
        r.level = c->target_level;
    }
    HL_DBU(u, s_sql_override, NULL, NULL, c->cmd.item_id, triage_size_name(size), category, r.route,
           r.level, r.target, resized ? "true" : "false", triage_due_stage(size));
    if (resized)
        s_open_route(c, u, c->cmd.item_id, size, category, r.target, r.level,
                     (int)c->item.appeals.n, "override");
    char id[HL_UUID_LEN + 1];
    hl_uuid_new(id);
    HL_DBU(u, s_sql_record, NULL, NULL, id, c->cmd.item_id, "override", col->size,
           triage_size_name(size), col->category, category, col->target, r.target, NULL, NULL,
           c->cmd.reason, version);
    for (size_t i = 0; i < c->item.appeals.n; i++)
        triage_route_tell(c->t, u, c->item.appeals.v[i], c->cmd.item_id, triage_size_name(size),
                          category, r.route, r.target);
}

static void s_write_merge(s_cmd_t *c, hl_dbu_t *u, const char *version)
{
    const triage_item_t *into = &c->other.it;
    char other_version[16], moved[16];
    snprintf(other_version, sizeof other_version, "%s", into->version);
    snprintf(moved, sizeof moved, "%zu", c->item.appeals.n);
    HL_DBU(u, s_sql_claim, NULL, NULL, c->cmd.into, other_version);
    HL_DBU(u, s_sql_move_all, NULL, NULL, c->cmd.item_id, c->cmd.into);
    HL_DBU(u, s_sql_count_add, NULL, NULL, c->cmd.into, moved);
    HL_DBU(u, s_sql_merged, NULL, NULL, c->cmd.item_id, c->cmd.into);
    char id[HL_UUID_LEN + 1];
    hl_uuid_new(id);
    char *ids = s_uuid_array(c->item.appeals.v, c->item.appeals.n);
    HL_DBU(u, s_sql_record, NULL, NULL, id, c->cmd.item_id, "merge", NULL, NULL, NULL, NULL, NULL,
           NULL, c->cmd.into, ids, c->cmd.reason, version);
    free(ids);
    for (size_t i = 0; i < c->item.appeals.n; i++)
        triage_route_tell(c->t, u, c->item.appeals.v[i], c->cmd.into, into->size, into->category,
                          into->route, into->target);
}

static void s_write_split(s_cmd_t *c, hl_dbu_t *u, const char *version)
{
    const triage_item_t *col = &c->item.it;
    char moved[16], minus[16];
    snprintf(moved, sizeof moved, "%zu", c->cmd.n_split);
    snprintf(minus, sizeof minus, "-%zu", c->cmd.n_split);
    hl_uuid_new(c->new_item);
    char *ids = s_uuid_array(c->cmd.split, c->cmd.n_split);
    HL_DBU(u, s_sql_split_item, NULL, NULL, c->cmd.item_id, c->new_item, moved);
    HL_DBU(u, s_sql_split_move, NULL, NULL, c->cmd.item_id, c->new_item, ids);
    HL_DBU(u, s_sql_count_add, NULL, NULL, c->cmd.item_id, minus);
    s_open_route(c, u, c->new_item, (triage_size_t)triage_size_parse(col->size), col->category,
                 col->target, col->level, (int)c->cmd.n_split, "split");
    char id[HL_UUID_LEN + 1];
    hl_uuid_new(id);
    HL_DBU(u, s_sql_record, NULL, NULL, id, c->cmd.item_id, "split", NULL, NULL, NULL, NULL, NULL,
           NULL, c->new_item, ids, c->cmd.reason, version);
    free(ids);
    for (size_t i = 0; i < c->cmd.n_split; i++)
        triage_route_tell(c->t, u, c->cmd.split[i], c->new_item, col->size, col->category,
                          col->route, col->target);
}

static void s_write(s_cmd_t *c)
{
    hl_dbu_t *u = hl_dbu_new(c->t->svc->db, s_write_done, c);
    char version[16];
    snprintf(version, sizeof version, "%lld", c->cmd.version);
    c->new_version = (int)c->cmd.version + 1;
    HL_DBU(u, s_sql_claim, NULL, NULL, c->cmd.item_id, version);
    if (c->cmd.kind == TRIAGE_CMD_OVERRIDE)
        s_write_override(c, u, version);
    else if (c->cmd.kind == TRIAGE_CMD_MERGE)
        s_write_merge(c, u, version);
    else
        s_write_split(c, u, version);
    hl_dbu_submit(&u);
}

/* ---- the read -------------------------------------------------------- */

static const char s_sql_item[] =
    "SELECT " TRIAGE_ITEM_COLUMNS " FROM triage.item_context WHERE id = $1::uuid";
static const char s_sql_appeals[] =
    "SELECT appeal_id::text FROM triage.case WHERE item_id = $1::uuid"
    " ORDER BY received_at, appeal_id";
static const char s_sql_category[] = "SELECT 1 FROM org.category WHERE code = $1";
static const char s_sql_target[] = "SELECT level FROM org.org_unit WHERE code = $1";

static void s_item_rows(void *arg, const PGresult *res)
{
    s_item_t *it = arg;
    if (PQntuples(res) != 1)
        return;
    it->found = true;
    triage_item_fill(&it->it, res, 0);
}

static void s_category_rows(void *arg, const PGresult *res)
{
    s_cmd_t *c = arg;
    c->category_known = PQntuples(res) == 1;
}

static void s_target_rows(void *arg, const PGresult *res)
{
    s_cmd_t *c = arg;
    if (PQntuples(res) == 1)
        snprintf(c->target_level, sizeof c->target_level, "%s", PQgetvalue(res, 0, 0));
}

static bool s_open(const s_item_t *it)
{
    return triage_item_open(&it->it);
}

/* The reason the command cannot be applied (replied), or false to write. */
static bool s_refused(s_cmd_t *c)
{
    hl_http_req_t *req = c->req;
    if (!c->item.found) {
        hl_req_reply_unknown_id(req, HL_REQ_ID_UUID, "item");
        return true;
    }
    if (!s_open(&c->item)) {
        hl_http_reply_error(req, 409, "id", "item %s is %s", c->cmd.item_id, c->item.it.status);
        return true;
    }
    long long current = atoll(c->item.it.version);
    if (c->cmd.version && c->cmd.version != current) {
        hl_http_reply_error(req, 409, "version", "item %s is at version %lld, not %lld",
                            c->cmd.item_id, current, c->cmd.version);
        return true;
    }
    c->cmd.version = current;
    if (c->cmd.kind == TRIAGE_CMD_OVERRIDE) {
        if (c->cmd.category && !c->category_known) {
            hl_http_reply_error(req, 422, "category", "no category has code \"%s\"",
                                c->cmd.category);
            return true;
        }
        if (c->cmd.target && triage_level_rank(c->target_level) == 0) {
            hl_http_reply_error(req, 422, "target",
                                "target must be a compound, community, town or the city");
            return true;
        }
    } else if (c->cmd.kind == TRIAGE_CMD_MERGE) {
        if (!c->other.found) {
            hl_http_reply_error(req, 422, "into", "no item has id %s", c->cmd.into);
            return true;
        }
        if (!s_open(&c->other)) {
            hl_http_reply_error(req, 409, "into", "item %s is %s", c->cmd.into, c->other.it.status);
            return true;
        }
    } else {
        for (size_t i = 0; i < c->cmd.n_split; i++) {
            bool mine = false;
            for (size_t k = 0; k < c->item.appeals.n && !mine; k++)
                mine = strcmp(c->item.appeals.v[k], c->cmd.split[i]) == 0;
            if (!mine) {
                char field[48];
                snprintf(field, sizeof field, "appeal_ids[%zu]", i);
                hl_http_reply_error(req, 422, field, "appeal %s is not in item %s", c->cmd.split[i],
                                    c->cmd.item_id);
                return true;
            }
        }
        if (c->cmd.n_split >= c->item.appeals.n) {
            hl_http_reply_error(req, 422, "appeal_ids", "at least one appeal must stay in item %s",
                                c->cmd.item_id);
            return true;
        }
    }
    return false;
}

static void s_read_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_cmd_t *c = arg;
    if (rc != 0) {
        hl_req_reply_db(c->req, "item", "read the item", err);
    } else if (!s_refused(c)) {
        s_write(c);
        return;
    }
    s_free(c);
}

static void s_post(hl_http_req_t *req, triage_t *t, triage_cmd_kind_t kind)
{
    char id[HL_REQ_ID_MAX];
    json_t *body = hl_req_path_body(req, HL_REQ_ID_UUID, "item", id);
    if (!body)
        return;
    s_cmd_t *c = hl_calloc(1, sizeof *c);
    c->t = t;
    c->req = req;
    c->body = body;
    c->cmd.kind = kind;
    memcpy(c->cmd.item_id, id, sizeof c->cmd.item_id);
    hl_refusal_t why;
    if (triage_cmd_check(body, &c->cmd, &why) != 0) {
        hl_req_reply(req, &why);
        s_free(c);
        return;
    }
    hl_http_suspend(req);
    hl_dbu_t *u = hl_dbu_new(t->svc->db, s_read_done, c);
    HL_DBU(u, s_sql_item, s_item_rows, &c->item, c->cmd.item_id);
    HL_DBU(u, s_sql_appeals, hl_db_rows_column, &c->item.appeals, c->cmd.item_id);
    if (kind == TRIAGE_CMD_MERGE) {
        HL_DBU(u, s_sql_item, s_item_rows, &c->other, c->cmd.into);
        HL_DBU(u, s_sql_appeals, hl_db_rows_column, &c->other.appeals, c->cmd.into);
    }
    if (kind == TRIAGE_CMD_OVERRIDE) {
        HL_DBU(u, s_sql_category, s_category_rows, c, c->cmd.category);
        HL_DBU(u, s_sql_target, s_target_rows, c, c->cmd.target);
    }
    hl_dbu_submit(&u);
}

void triage_override_post(hl_http_req_t *req, void *arg)
{
    s_post(req, arg, TRIAGE_CMD_OVERRIDE);
}

void triage_merge_post(hl_http_req_t *req, void *arg)
{
    s_post(req, arg, TRIAGE_CMD_MERGE);
}

void triage_split_post(hl_http_req_t *req, void *arg)
{
    s_post(req, arg, TRIAGE_CMD_SPLIT);
}
