/* open311.c: Open311 GeoReport v2 under /open311/v2/, so existing Open311
 * clients and aggregators can file and follow appeals without custom code.
 *
 *   GET  discovery.{fmt}                 the endpoint and its formats
 *   GET  services.{fmt}                  one service per category
 *   GET  services/{code}.{fmt}           its attributes (compound, title)
 *   POST requests.{fmt}                  form-encoded, with api_key
 *   GET  requests.{fmt}                  with the standard filters
 *   GET  requests/{id}.{fmt}             one request
 *   GET  tokens/{token}.{fmt}            token -> service_request_id
 *
 * {fmt} is json or xml. A POST becomes an appeal on channel "platform"
 * through intake_appeal_store, the same write POST /v1/appeals makes, and
 * is answered after the commit, so service_request_id (the tracking code)
 * comes back at once and no token is given; tokens/{token} still maps any
 * tracking code (earlier answers gave it as a token). Every refusal is in the
 * standard's error shape, [{"code":400,"description":"..."}], and stores
 * nothing. The mapping of our statuses and fields onto the standard is in
 * OPEN311.md beside this file. */
#include "intake.h"
#include "open311_fmt.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_CHANGESET    "2025-01-01T00:00:00Z" /* when the service list last changed shape */
#define S_JURISDICTION "wuwei"                /* the city's org unit code */
#define S_MAX_RESULTS  1000                   /* the standard's default cap */

typedef enum { S_JSON, S_XML } s_fmt_t;

/* ---- replies --------------------------------------------------------------- */

/* Splits "name.fmt" (the last path segment), or takes "fmt" alone (routes
 * like services.{}); false when fmt is neither json nor xml. `name` gets
 * the part before the dot (empty for a bare format). */
static bool s_split(const char *seg, char *name, size_t namelen, s_fmt_t *fmt)
{
    if (!seg)
        return false;
    const char *dot = strrchr(seg, '.');
    const char *ext = dot ? dot + 1 : seg;
    if (strcmp(ext, "json") == 0)
        *fmt = S_JSON;
    else if (strcmp(ext, "xml") == 0)
        *fmt = S_XML;
    else
        return false;
    size_t n = dot ? (size_t)(dot - seg) : 0;
    if (n >= namelen)
        return false;
    memcpy(name, seg, n);
    name[n] = '\0';
    return true;
}

/* Replies with `v` (stolen) as JSON, or as XML under element `root`. */
static void s_reply(hl_http_req_t *req, s_fmt_t fmt, int status, const char *root, json_t *v)
{
    if (fmt == S_JSON) {
        size_t len;
        char *text = intake_json_text(v, &len);
        json_decref(v);
        hl_http_reply_raw(req, status, "application/json; charset=utf-8", text, len);
        return;
    }
    size_t len;
    char *doc = intake_xml_document(root, v, &len);
    json_decref(v);
    hl_http_reply_raw(req, status, "text/xml; charset=utf-8", doc, len);
}

/* The standard's error: [{"code":status,"description":...}]. */
static void s_error(hl_http_req_t *req, s_fmt_t fmt, int status, const char *fmt_text, ...)
    __attribute__((format(printf, 4, 5)));
static void s_error(hl_http_req_t *req, s_fmt_t fmt, int status, const char *fmt_text, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt_text);
    vsnprintf(msg, sizeof msg, fmt_text, ap);
    va_end(ap);
    s_reply(req, fmt, status, "errors",
            json_pack("[{s:i, s:o}]", "code", status, "description", hl_json_text(msg)));
}

/* Replies to a request admission refused (403 bad key, 429 over the rate,
 * 503 key not checkable now). */
static void s_refuse(hl_http_req_t *req, s_fmt_t fmt, const intake_admission_t *r)
{
    switch (r->verdict) {
    case INTAKE_ADMIT_OK:
        break;
    case INTAKE_ADMIT_BAD_KEY:
        s_error(req, fmt, 403, "api_key is not valid (unknown or revoked)");
        break;
    case INTAKE_ADMIT_LIMITED:
        intake_admission_retry_after(req, r);
        s_error(req, fmt, 429, "too many requests; retry after %lld seconds", r->retry_after_s);
        break;
    case INTAKE_ADMIT_UNCHECKED:
        intake_admission_retry_after(req, r);
        s_error(req, fmt, 503, "could not check the api_key now; retry");
        break;
    }
}

/* Common start of a GET: the format (and, when `named`, the name before
 * it) from the last path segment, the optional jurisdiction_id, the rate
 * limit. */
static bool s_get_start(intake_t *in, hl_http_req_t *req, bool named, char *name, size_t namelen,
                        s_fmt_t *fmt)
{
    *fmt = S_JSON;
    if (!s_split(hl_http_param(req, 0), name, namelen, fmt)) {
        s_error(req, S_JSON, 404, "unknown format: use .json or .xml");
        return false;
    }
    if (named != (name[0] != '\0')) {
        s_error(req, *fmt, 404, "no such resource: %s", hl_http_path(req));
        return false;
    }
    const char *j = hl_http_query(req, "jurisdiction_id");
    if (j && strcmp(j, S_JURISDICTION) != 0) {
        s_error(req, *fmt, 404, "jurisdiction_id \"%.40s\" is not served here (use \"%s\")", j,
                S_JURISDICTION);
        return false;
    }
    intake_admission_t r = {INTAKE_ADMIT_OK, 0, NULL};
    r.verdict = intake_admit_addr(in, req, 1, &r.retry_after_s);
    s_refuse(req, *fmt, &r);
    return r.verdict == INTAKE_ADMIT_OK;
}

/* ---- GET discovery --------------------------------------------------------- */

void intake_open311_discovery(hl_http_req_t *req, void *arg)
{
    intake_t *in = arg;
    char name[16];
    s_fmt_t fmt;
    if (!s_get_start(in, req, false, name, sizeof name, &fmt))
        return;
    char url[512];
    snprintf(url, sizeof url, "%s/open311/v2", in->cfg->public_url);
    char key_service[600];
    snprintf(key_service, sizeof key_service,
             "API keys are issued by the city's operators (hlctl api-key create NAME); see %s",
             url);
    json_t *d = json_pack(
        "{s:s, s:s, s:s, s:[{s:s, s:s, s:s, s:s, s:[s, s]}]}", "changeset", S_CHANGESET, "contact",
        "Wuwei Red Neighbour co-governance intake (hl-intake)", "key_service", key_service,
        "endpoints", "specification", "http://wiki.open311.org/GeoReport_v2", "url", url,
        "changeset", S_CHANGESET, "type", "production", "formats", "text/xml", "application/json");
    s_reply(req, fmt, 200, "discovery", d);
}

/* ---- GET services and a service definition ---------------------------- */

typedef struct {
    hl_http_req_t *req; /* suspended request */
    s_fmt_t fmt;        /* reply format */
    json_t *out;        /* the answer being built */
    json_t *values;     /* compound values (definition) */
    bool found;         /* the service exists (definition) */
} s_list_t;

static const char s_sql_services[] =
    "SELECT c.code, c.name, coalesce(string_agg(i.name, ',' ORDER BY i.code), '')"
    " FROM org.category c LEFT JOIN org.category_item i ON i.category = c.code"
    " GROUP BY c.code, c.name, c.sort ORDER BY c.sort, c.code";

static void s_services_rows(void *arg, const PGresult *res)
{
    s_list_t *l = arg;
    for (int i = 0; i < PQntuples(res); i++) {
        char description[256];
        snprintf(description, sizeof description,
                 "Appeals about %s (%s): problems, opinions and suggestions from residents",
                 PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
        json_array_append_new(
            l->out, json_pack("{s:s, s:s, s:s, s:b, s:s, s:s, s:s}", "service_code",
                              PQgetvalue(res, i, 0), "service_name", PQgetvalue(res, i, 1),
                              "description", description, "metadata", 1, "type", "realtime",
                              "keywords", PQgetvalue(res, i, 2), "group", "co-governance"));
    }
}

static void s_list_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_list_t *l = arg;
    if (rc != 0) {
        s_error(l->req, l->fmt, 503, "could not read the services now: %.200s", err->message);
        json_decref(l->out);
    } else {
        s_reply(l->req, l->fmt, 200, "services", l->out);
    }
    free(l);
}

void intake_open311_services(hl_http_req_t *req, void *arg)
{
    intake_t *in = arg;
    char name[16];
    s_fmt_t fmt;
    if (!s_get_start(in, req, false, name, sizeof name, &fmt))
        return;
    s_list_t *l = hl_calloc(1, sizeof *l);
    l->req = req;
    l->fmt = fmt;
    l->out = json_array();
    hl_http_suspend(req);
    hl_dbu_t *u = hl_dbu_new(in->svc->db, s_list_done, l);
    hl_dbu_stmt(u, s_sql_services, 0, NULL, NULL, NULL, false, s_services_rows, l);
    hl_dbu_submit(&u);
}

static const char s_sql_service[] = "SELECT code FROM org.category WHERE code = $1";
static const char s_sql_compounds[] =
    "SELECT code, name FROM org.org_unit WHERE level = 'compound' ORDER BY code";

static void s_service_rows(void *arg, const PGresult *res)
{
    s_list_t *l = arg;
    l->found = PQntuples(res) == 1;
}

static void s_compound_rows(void *arg, const PGresult *res)
{
    s_list_t *l = arg;
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(l->values, json_pack("{s:s, s:s}", "key", PQgetvalue(res, i, 0),
                                                   "name", PQgetvalue(res, i, 1)));
}

static void s_definition_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_list_t *l = arg;
    if (rc != 0) {
        s_error(l->req, l->fmt, 503, "could not read the service now: %.200s", err->message);
        json_decref(l->out);
    } else if (!l->found) {
        s_error(l->req, l->fmt, 404, "no service has this service_code");
        json_decref(l->out);
    } else {
        json_t *attrs = json_pack(
            "[{s:b, s:s, s:s, s:b, s:s, s:i, s:s, s:O}, {s:b, s:s, s:s, s:b, s:s, s:i, s:s}]",
            "variable", 1, "code", "compound", "datatype", "singlevaluelist", "required", 1,
            "datatype_description",
            "the compound (小区) the request concerns; address_id may carry the same code instead",
            "order", 1, "description", "小区 Compound", "values", l->values, "variable", 1, "code",
            "title", "datatype", "string", "required", 0, "datatype_description",
            "at most 200 characters", "order", 2, "description", "标题 Short title");
        json_object_set_new(l->out, "attributes", attrs);
        s_reply(l->req, l->fmt, 200, "service_definition", l->out);
    }
    json_decref(l->values);
    free(l);
}

void intake_open311_service(hl_http_req_t *req, void *arg)
{
    intake_t *in = arg;
    char code[65];
    s_fmt_t fmt;
    if (!s_get_start(in, req, true, code, sizeof code, &fmt))
        return;
    s_list_t *l = hl_calloc(1, sizeof *l);
    l->req = req;
    l->fmt = fmt;
    l->out = json_pack("{s:s}", "service_code", code);
    l->values = json_array();
    hl_http_suspend(req);
    hl_dbu_t *u = hl_dbu_new(in->svc->db, s_definition_done, l);
    HL_DBU(u, s_sql_service, s_service_rows, l, code);
    hl_dbu_stmt(u, s_sql_compounds, 0, NULL, NULL, NULL, false, s_compound_rows, l);
    hl_dbu_submit(&u);
}

/* ---- POST requests ------------------------------------------------------------ */

typedef struct {
    intake_t *in;       /* service */
    hl_http_req_t *req; /* suspended request */
    s_fmt_t fmt;        /* reply format */
    intake_form_t form; /* the request's fields (until validated) */
    char client[80];    /* API key name */
    char *address;      /* address_string, owned, or NULL */
    char *address_id;   /* address_id, owned, or NULL */
    char *media_url;    /* media_url, owned, or NULL */
} s_post_t;

static const char s_sql_extra[] =
    "INSERT INTO intake.open311_request (appeal_id, client, address, address_id, media_url)"
    " VALUES ($1::uuid, $2, $3, $4, $5)";

static void s_post_extra(hl_dbu_t *u, const char *appeal_id, void *arg)
{
    s_post_t *p = arg;
    HL_DBU(u, s_sql_extra, NULL, NULL, appeal_id, p->client, p->address, p->address_id,
           p->media_url);
}

static void s_post_free(s_post_t *p)
{
    intake_form_close(&p->form);
    free(p->address);
    free(p->address_id);
    free(p->media_url);
    free(p);
}

static void s_post_done(void *arg, const intake_appeal_result_t *r)
{
    s_post_t *p = arg;
    if (r->status == 200 || r->status == 201) {
        /* Creation is synchronous: the service_request_id is the answer,
         * and no token (the standard's stand-in for an id to come). */
        s_reply(p->req, p->fmt, 201, "service_requests",
                json_pack("[{s:s, s:s, s:n}]", "service_request_id", r->tracking_code,
                          "service_notice", "received; follow it with the service_request_id",
                          "account_id"));
    } else if (r->status == 422) {
        const char *field = r->field ? r->field : "";
        if (strcmp(field, "category") == 0)
            s_error(p->req, p->fmt, 400, "service_code: no service has this code");
        else if (strcmp(field, "org_unit") == 0)
            s_error(p->req, p->fmt, 400, "attribute[compound]: %s", r->message);
        else
            s_error(p->req, p->fmt, 400, "%s%s%s", r->field ? r->field : "", r->field ? ": " : "",
                    r->message);
    } else {
        s_error(p->req, p->fmt, 503, "%s", r->message ? r->message : "could not store it now");
    }
    s_post_free(p);
}

static const char *s_code_problem(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 32)
        return "must be a code";
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-' || *p == '.'))
            return "must be a code";
    return NULL;
}

static bool s_code_ok(const char *s)
{
    return s_code_problem(s) == NULL;
}

static const char *s_email_problem(const char *s)
{
    const char *at = strchr(s, '@');
    return !at || strchr(s, ' ') || at == s || at[1] == '\0' ? "is not an e-mail address" : NULL;
}

static const char *s_media_problem(const char *s)
{
    if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
        return "must be an http:// or https:// URL";
    if (strpbrk(s, " \t\r\n<>\""))
        return "must not contain spaces, quotes or angle brackets";
    return NULL;
}

/* What POST requests.{fmt} stores from the form besides the appeal. */
typedef struct {
    const char *jurisdiction, *service_code, *address, *address_id, *email, *device, *account,
        *first, *last, *phone, *description, *media, *compound, *title, *api_key;
    double lat, lon;       /* location, when given */
    bool has_lat, has_lon; /* which of lat and long came */
} s_form_in_t;

/* The form's fields: clients send every field, empty when unused, so an
 * empty one counts as absent (hl_req_check_pairs); refusals are 400. What
 * one field cannot say alone is checked after, in intake_open311_check. */
static const hl_req_field_t s_form_fields[] = {
    {.name = "api_key", .type = HL_REQ_TEXT, .max = 256, HL_REQ_AT(s_form_in_t, api_key)},
    {.name = "jurisdiction_id",
     .type = HL_REQ_TEXT,
     .max = 64,
     HL_REQ_AT(s_form_in_t, jurisdiction)},
    {.name = "service_code",
     .type = HL_REQ_TEXT,
     .max = 64,
     .check = s_code_problem,
     .hint = "names no service (see services.json)",
     HL_REQ_AT(s_form_in_t, service_code)},
    {.name = "lat",
     .type = HL_REQ_NUMBER,
     .min = -90,
     .max = 90,
     .hint = "must be a decimal number in [-90, 90]",
     HL_REQ_AT(s_form_in_t, lat)},
    {.name = "long",
     .type = HL_REQ_NUMBER,
     .min = -180,
     .max = 180,
     .hint = "must be a decimal number in [-180, 180]",
     HL_REQ_AT(s_form_in_t, lon)},
    {.name = "address_string", .type = HL_REQ_TEXT, .max = 200, HL_REQ_AT(s_form_in_t, address)},
    {.name = "address_id",
     .type = HL_REQ_TEXT,
     .max = 32,
     .check = s_code_problem,
     .hint = "must be an org unit code such as cp001",
     HL_REQ_AT(s_form_in_t, address_id)},
    {.name = "email",
     .type = HL_REQ_TEXT,
     .max = 254,
     .check = s_email_problem,
     HL_REQ_AT(s_form_in_t, email)},
    {.name = "device_id", .type = HL_REQ_TEXT, .max = 100, HL_REQ_AT(s_form_in_t, device)},
    {.name = "account_id", .type = HL_REQ_TEXT, .max = 100, HL_REQ_AT(s_form_in_t, account)},
    {.name = "first_name", .type = HL_REQ_TEXT, .max = 25, HL_REQ_AT(s_form_in_t, first)},
    {.name = "last_name", .type = HL_REQ_TEXT, .max = 25, HL_REQ_AT(s_form_in_t, last)},
    {.name = "phone",
     .type = HL_REQ_TEXT,
     .max = 20,
     .check = intake_phone_invalid,
     HL_REQ_AT(s_form_in_t, phone)},
    {.name = "description",
     .type = HL_REQ_TEXT,
     .flags = HL_REQ_MULTILINE,
     .max = 4000,
     HL_REQ_AT(s_form_in_t, description)},
    {.name = "media_url",
     .type = HL_REQ_TEXT,
     .max = 500,
     .check = s_media_problem,
     HL_REQ_AT(s_form_in_t, media)},
    {.name = "attribute[compound]",
     .type = HL_REQ_TEXT,
     .max = 32,
     .check = s_code_problem,
     .hint = "must be a compound code such as cp001",
     HL_REQ_AT(s_form_in_t, compound)},
    {.name = "attribute[title]", .type = HL_REQ_TEXT, .max = 200, HL_REQ_AT(s_form_in_t, title)},
    {0}};

/* What the fields together must say (each alone passed the table). */
static int s_form_rules(const s_form_in_t *in, bool xml, hl_refusal_t *why)
{
    if (in->jurisdiction && strcmp(in->jurisdiction, S_JURISDICTION) != 0)
        return hl_refuse(why, 404, "jurisdiction_id",
                         "jurisdiction_id \"%.40s\" is not served here (use \"%s\")",
                         in->jurisdiction, S_JURISDICTION);
    if (!in->service_code)
        return hl_refuse(why, 400, "service_code", "service_code is required (see services.%s)",
                         xml ? "xml" : "json");
    if (in->has_lat != in->has_lon)
        return hl_refuse(why, 400, "lat", "lat and long must be given together");
    if (!in->has_lat && !in->address && !in->address_id)
        return hl_refuse(why, 400, "lat",
                         "a location is required: lat and long, address_string or address_id");
    if (in->compound && in->address_id && strcmp(in->compound, in->address_id) != 0)
        return hl_refuse(why, 400, "attribute[compound]",
                         "attribute[compound] and address_id name different places");
    if (!in->compound && !in->address_id)
        return hl_refuse(why, 400, "attribute[compound]",
                         "attribute[compound] is required (or address_id with the "
                         "compound code): the city routes by compound");
    if (!in->description)
        return hl_refuse(why, 400, "description",
                         "description is required: it is the appeal's text");
    return 0;
}

int intake_open311_check(const intake_form_t *f, bool xml, intake_appeal_t *a,
                         intake_open311_extra_t *extra, char *body_buf, size_t body_len,
                         char *name_buf, size_t name_len, hl_refusal_t *why)
{
    memset(extra, 0, sizeof *extra);
    hl_req_pair_t *pairs = hl_calloc(f->n ? f->n : 1, sizeof *pairs);
    for (size_t i = 0; i < f->n; i++)
        pairs[i] = (hl_req_pair_t){f->fields[i].name, f->fields[i].value};
    s_form_in_t in = {.lat = NAN, .lon = NAN};
    int rc = hl_req_check_pairs(pairs, f->n, s_form_fields, &in, why);
    free(pairs);
    if (rc != 0)
        return -1;
    in.has_lat = !isnan(in.lat);
    in.has_lon = !isnan(in.lon);
    if (s_form_rules(&in, xml, why) != 0)
        return -1;
    if (in.has_lat) {
        a->has_location = true;
        a->lat = in.lat;
        a->lon = in.lon;
    }
    /* The address, when given as text, travels with the appeal's body so
     * triage and the council see it; it is kept apart too. */
    if (in.address)
        snprintf(body_buf, body_len, "%s\n地址 Address: %s", in.description, in.address);
    else
        snprintf(body_buf, body_len, "%s", in.description);
    if (in.first || in.last)
        snprintf(name_buf, name_len, "%s%s%s", in.first ? in.first : "",
                 in.first && in.last ? " " : "", in.last ? in.last : "");
    a->channel = "platform";
    a->org_unit = in.compound ? in.compound : in.address_id;
    a->category = in.service_code;
    a->title = in.title;
    a->body = body_buf;
    a->name = in.first || in.last ? name_buf : NULL;
    a->phone = in.phone;
    extra->address = in.address;
    extra->address_id = in.address_id;
    extra->media_url = in.media;
    return 0;
}

/* The rest of POST requests, once the key is checked and within its rate. */
static void s_post_admitted(void *arg, const intake_admission_t *r)
{
    s_post_t *p = arg;
    intake_t *in = p->in;
    if (r->verdict != INTAKE_ADMIT_OK) {
        s_refuse(p->req, p->fmt, r);
        s_post_free(p);
        return;
    }
    snprintf(p->client, sizeof p->client, "%s", r->key_name);
    intake_appeal_t a = {0};
    intake_open311_extra_t extra;
    hl_refusal_t why_not;
    char body_text[16384], person[64];
    if (intake_open311_check(&p->form, p->fmt == S_XML, &a, &extra, body_text, sizeof body_text,
                             person, sizeof person, &why_not) != 0) {
        hl_metric_add(in->refused, 1);
        s_error(p->req, p->fmt, why_not.status, "%s", why_not.message);
        s_post_free(p);
        return;
    }
    p->address = extra.address ? hl_strdup(extra.address) : NULL;
    p->address_id = extra.address_id ? hl_strdup(extra.address_id) : NULL;
    p->media_url = extra.media_url ? hl_strdup(extra.media_url) : NULL;
    char source_ref[100];
    snprintf(source_ref, sizeof source_ref, "open311:%.80s", p->client);
    a.source_ref = source_ref;
    a.extra = s_post_extra;
    a.extra_arg = p;
    hl_http_suspend(p->req);
    intake_appeal_store(in, &a, s_post_done, p);
    /* The store copied what it keeps; the fields are not needed again. */
    intake_form_close(&p->form);
}

void intake_open311_requests_post(hl_http_req_t *req, void *arg)
{
    intake_t *in = arg;
    char name[16];
    s_fmt_t fmt = S_JSON;
    if (!s_split(hl_http_param(req, 0), name, sizeof name, &fmt) || name[0]) {
        s_error(req, S_JSON, 404, "unknown format: use .json or .xml");
        return;
    }
    const char *ct = hl_http_header(req, "Content-Type");
    if (ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0) {
        s_error(req, fmt, 400,
                "content type must be application/x-www-form-urlencoded, not \"%.64s\"", ct);
        return;
    }
    size_t len;
    const char *body = hl_http_body(req, &len);
    intake_form_t f;
    char why[160];
    if (intake_form_parse(body, len, 64, &f, why, sizeof why) != 0) {
        intake_form_close(&f);
        hl_metric_add(in->refused, 1);
        s_error(req, fmt, 400, "malformed form body: %s", why);
        return;
    }
    s_post_t *p = hl_calloc(1, sizeof *p);
    p->in = in;
    p->req = req;
    p->fmt = fmt;
    p->form = f;
    const char *key = intake_form_get(&p->form, "api_key");
    if (!key)
        key = hl_http_query(req, "api_key");
    if (!key || !*key) {
        s_error(req, fmt, 403, "api_key is required to post a service request");
        s_post_free(p);
        return;
    }
    intake_admit(in, req, key, 1, s_post_admitted, p);
}

/* ---- GET requests, requests/{id}, tokens/{token} ----------------------------- */

typedef struct {
    hl_http_req_t *req; /* suspended request */
    s_fmt_t fmt;        /* reply format */
    json_t *out;        /* the list */
    bool extensions;    /* add extended_attributes */
    bool one;           /* requests/{id}: 404 when empty */
    bool token;         /* tokens/{token}: the short form */
} s_query_t;

/* One statement serves all three: with $1 (codes) every other filter is
 * ignored, as the standard says; otherwise the 90-day window applies. */
static const char s_sql_requests[] =
    "SELECT a.tracking_code, a.status, a.category, c.name, a.body,"
    " CASE WHEN a.size = 'large' THEN '区域化党建联盟 Regional alliance' ELSE u.name END,"
    " to_json(a.received_at)#>>'{}', to_json(a.updated_at)#>>'{}', o.address,"
    " coalesce(o.address_id, a.org_unit), a.lat::text, a.lon::text, o.media_url,"
    " (SELECT e.detail FROM intake.appeal_event e WHERE e.appeal_id = a.id"
    "   ORDER BY e.at DESC, e.id DESC LIMIT 1),"
    " a.size, a.item_id::text, a.channel, a.org_unit, a.title"
    " FROM intake.appeal a"
    " JOIN org.org_unit u ON u.code = a.org_unit"
    " LEFT JOIN org.category c ON c.code = a.category"
    " LEFT JOIN intake.open311_request o ON o.appeal_id = a.id"
    " WHERE CASE WHEN $1::text[] IS NOT NULL THEN a.tracking_code = ANY($1::text[]) ELSE"
    "  ($2::text[] IS NULL OR a.category = ANY($2::text[]))"
    "  AND a.received_at >= coalesce($3::timestamptz,"
    "        coalesce($4::timestamptz, now()) - interval '90 days')"
    "  AND a.received_at <= coalesce($4::timestamptz, now())"
    "  AND ($5::text IS NULL"
    "       OR ($5 = 'open') = (a.status NOT IN ('resolved', 'confirmed')))"
    " END"
    " ORDER BY a.received_at DESC, a.tracking_code LIMIT $6::int OFFSET $7::int";

static void s_request_rows(void *arg, const PGresult *res)
{
    s_query_t *q = arg;
    for (int i = 0; i < PQntuples(res); i++) {
        if (q->token) {
            json_array_append_new(q->out,
                                  json_pack("{s:s, s:s}", "service_request_id",
                                            PQgetvalue(res, i, 0), "token", PQgetvalue(res, i, 0)));
            continue;
        }
        const char *status = PQgetvalue(res, i, 1);
        json_t *r = json_object();
        json_object_set_new(r, "service_request_id", json_string(PQgetvalue(res, i, 0)));
        json_object_set_new(r, "status", json_string(intake_open311_status(status)));
        json_object_set_new(r, "status_notes", hl_req_col_text(res, i, 13));
        json_object_set_new(r, "service_name", hl_req_col_text(res, i, 3));
        json_object_set_new(r, "service_code", hl_req_col_text(res, i, 2));
        json_object_set_new(r, "description", hl_req_col_text(res, i, 4));
        json_object_set_new(r, "agency_responsible", hl_req_col_text(res, i, 5));
        json_object_set_new(r, "service_notice", json_null());
        json_object_set_new(r, "requested_datetime", hl_req_col_text(res, i, 6));
        json_object_set_new(r, "updated_datetime", hl_req_col_text(res, i, 7));
        json_object_set_new(r, "expected_datetime", json_null());
        json_object_set_new(r, "address", hl_req_col_text(res, i, 8));
        json_object_set_new(r, "address_id", hl_req_col_text(res, i, 9));
        json_object_set_new(r, "zipcode", json_null());
        json_object_set_new(r, "lat",
                            PQgetisnull(res, i, 10) ? json_null()
                                                    : json_real(atof(PQgetvalue(res, i, 10))));
        json_object_set_new(r, "long",
                            PQgetisnull(res, i, 11) ? json_null()
                                                    : json_real(atof(PQgetvalue(res, i, 11))));
        json_object_set_new(r, "media_url", hl_req_col_text(res, i, 12));
        if (q->extensions) {
            char detailed[32];
            size_t k = 0;
            for (; status[k] && k < sizeof detailed - 1; k++)
                detailed[k] =
                    (char)(status[k] >= 'a' && status[k] <= 'z' ? status[k] - 32 : status[k]);
            detailed[k] = '\0';
            json_object_set_new(
                r, "extended_attributes",
                json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "detailed_status", detailed,
                          "size", hl_req_col_text(res, i, 14), "item_id",
                          hl_req_col_text(res, i, 15), "channel", hl_req_col_text(res, i, 16),
                          "org_unit", hl_req_col_text(res, i, 17), "title",
                          hl_req_col_text(res, i, 18), "escalated",
                          json_boolean(strcmp(status, "escalated") == 0 ||
                                       strcmp(PQgetvalue(res, i, 14), "large") == 0)));
        }
        json_array_append_new(q->out, r);
    }
}

static void s_query_done(void *arg, int rc, const hl_dberr_t *err)
{
    s_query_t *q = arg;
    if (rc != 0) {
        s_error(q->req, q->fmt, 503, "could not read the requests now: %.200s", err->message);
        json_decref(q->out);
    } else if (q->one && json_array_size(q->out) == 0) {
        s_error(q->req, q->fmt, 404, "no service request has this %s",
                q->token ? "token" : "service_request_id");
        json_decref(q->out);
    } else {
        s_reply(q->req, q->fmt, 200, "service_requests", q->out);
    }
    free(q);
}

/* Checks a comma-separated list of codes with `ok` and turns it into a
 * PostgreSQL array literal in `out`; false when an item is bad. */
static bool s_list_param(const char *s, bool (*ok)(const char *), hl_buf_t *out, size_t max)
{
    hl_buf_append(out, "{", 1);
    size_t n = 0;
    const char *p = s;
    while (true) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char item[40];
        if (len == 0 || len >= sizeof item || ++n > max)
            return false;
        memcpy(item, p, len);
        item[len] = '\0';
        if (!ok(item))
            return false;
        hl_buf_printf(out, "%s\"%s\"", n > 1 ? "," : "", item);
        if (!end)
            break;
        p = end + 1;
    }
    hl_buf_append(out, "}", 1);
    return true;
}

static bool s_tracking_ok(const char *s)
{
    return hl_tracking_valid(s);
}

static void s_query_submit(intake_t *in, s_query_t *q, const char *ids, const char *codes,
                           const char *start, const char *end, const char *status, int limit,
                           int offset)
{
    char lim[16], off[16];
    snprintf(lim, sizeof lim, "%d", limit);
    snprintf(off, sizeof off, "%d", offset);
    hl_http_suspend(q->req);
    hl_dbu_t *u = hl_dbu_new(in->svc->db, s_query_done, q);
    HL_DBU(u, s_sql_requests, s_request_rows, q, ids, codes, start, end, status, lim, off);
    hl_dbu_submit(&u);
}

void intake_open311_requests_get(hl_http_req_t *req, void *arg)
{
    intake_t *in = arg;
    char name[16];
    s_fmt_t fmt;
    if (!s_get_start(in, req, false, name, sizeof name, &fmt))
        return;
    const char *ids = hl_http_query(req, "service_request_id");
    const char *codes = hl_http_query(req, "service_code");
    const char *start = hl_http_query(req, "start_date");
    const char *end = hl_http_query(req, "end_date");
    const char *status = hl_http_query(req, "status");
    const char *ext = hl_http_query(req, "extensions");
    long page = 1, page_size = S_MAX_RESULTS;
    hl_buf_t id_list = {0}, code_list = {0};
    bool open = false, closed = false;
    if (ids && !s_list_param(ids, s_tracking_ok, &id_list, S_MAX_RESULTS)) {
        s_error(req, fmt, 400,
                "service_request_id must be a comma-separated list of "
                "service request ids (like HL7K3M9QXP2A)");
        goto out_close;
    }
    if (codes && !s_list_param(codes, s_code_ok, &code_list, 100)) {
        s_error(req, fmt, 400, "service_code must be a comma-separated list of service codes");
        goto out_close;
    }
    /* The filters reach SQL as the instants we parsed, written in UTC, so
     * a bare date means 00:00 UTC+8 whatever the session's time zone. */
    char start_utc[40], end_utc[40];
    int64_t us;
    if (start) {
        if (!hl_time_parse(start, &us)) {
            s_error(req, fmt, 400,
                    "start_date must be a W3C datetime with a time zone, e.g. "
                    "2010-01-01T00:00:00Z");
            goto out_close;
        }
        hl_time_format(us, start_utc);
        start = start_utc;
    }
    if (end) {
        if (!hl_time_parse(end, &us)) {
            s_error(req, fmt, 400,
                    "end_date must be a W3C datetime with a time zone, e.g. 2010-01-01T00:00:00Z");
            goto out_close;
        }
        hl_time_format(us, end_utc);
        end = end_utc;
    }
    if (status && !intake_open311_status_list(status, &open, &closed)) {
        s_error(req, fmt, 400, "status must be open, closed or open,closed");
        goto out_close;
    }
    if (ext && strcmp(ext, "true") != 0 && strcmp(ext, "false") != 0) {
        s_error(req, fmt, 400, "extensions must be true or false");
        goto out_close;
    }
    if (!hl_parse_long(hl_http_query(req, "page"), 1, 1, 1000000, &page)) {
        s_error(req, fmt, 400, "page must be a whole number from 1");
        goto out_close;
    }
    if (!hl_parse_long(hl_http_query(req, "page_size"), S_MAX_RESULTS, 1, S_MAX_RESULTS,
                       &page_size)) {
        s_error(req, fmt, 400, "page_size must be a whole number from 1 to %d", S_MAX_RESULTS);
        goto out_close;
    }
    s_query_t *q = hl_calloc(1, sizeof *q);
    q->req = req;
    q->fmt = fmt;
    q->out = json_array();
    q->extensions = ext && strcmp(ext, "true") == 0;
    /* Both statuses asked for is the same as no filter. */
    const char *st = open != closed ? (open ? "open" : "closed") : NULL;
    s_query_submit(in, q, ids ? id_list.data : NULL, codes ? code_list.data : NULL, start, end, st,
                   page_size, (page - 1) * page_size);
out_close:
    hl_buf_close(&id_list);
    hl_buf_close(&code_list);
}

static void s_one(hl_http_req_t *req, intake_t *in, bool token)
{
    char id[40];
    s_fmt_t fmt;
    if (!s_get_start(in, req, true, id, sizeof id, &fmt))
        return;
    const char *ext = hl_http_query(req, "extensions");
    if (!hl_tracking_valid(id)) {
        s_error(req, fmt, 404, "no service request has this %s",
                token ? "token" : "service_request_id");
        return;
    }
    char list[48];
    snprintf(list, sizeof list, "{\"%s\"}", id);
    s_query_t *q = hl_calloc(1, sizeof *q);
    q->req = req;
    q->fmt = fmt;
    q->out = json_array();
    q->one = true;
    q->token = token;
    q->extensions = ext && strcmp(ext, "true") == 0;
    s_query_submit(in, q, list, NULL, NULL, NULL, NULL, 1, 0);
}

void intake_open311_request_get(hl_http_req_t *req, void *arg)
{
    s_one(req, arg, false);
}

void intake_open311_token_get(hl_http_req_t *req, void *arg)
{
    s_one(req, arg, true);
}
