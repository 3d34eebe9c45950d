/* demo.c: `hlctl demo` — the programme's life in the demo city, driven
 * through the running cluster's HTTP APIs exactly as its users would, then
 * a summary and the report's headline figures read back from PostgreSQL.
 *
 * demo_plan.c decides what residents report, round by round. In each round
 * they post their appeals on every channel (letters name their mailbox,
 * scans their compound's QR code, visit notes their staff member); triage
 * classifies and consolidates them; then the demo plays the people: the
 * three-party councils hear the small items, each community's commissioner
 * publishes its wish board, grid organisations and volunteers claim and
 * complete the wishes with their own API keys (hl-bounty's actors, made
 * here) and the community's reviewer approves them, sending some back
 * first, and each alliance's meeting records
 * outcomes for the large items, naming a member unit whose function domain
 * fits. The last round leaves a few matters open, as the report does.
 * Everything is deterministic (a fixed seed), so two runs tell the same
 * story. HL_DEMO_APPEALS (300) sets the size; `--month-of-report` (or
 * HL_DEMO_APPEALS=2100) plays the report's period at the report's scale,
 * whose headline figures reporting.headline then shows beside the report's. */
#include "hlctl.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_DEFAULT_APPEALS 300  /* a month */
#define S_REPORT_APPEALS  2100 /* the report's period */

static const struct {
    const char *channel; /* intake channel */
    int weight;          /* share out of 100 */
} s_channels[] = {{"qr", 35},  {"mailbox", 15}, {"visit", 20},
                  {"web", 10}, {"phone", 15},   {"platform", 5}};

/* How the second, third ... resident to report a matter puts it. */
static const char *const s_openers[] = {"", "再次反映：", "我也遇到这个问题，", "邻居们都在说，",
                                        "向社区反映一下，"};
static const char *const s_closers[] = {"", "谢谢！", "希望尽快解决。", "盼回复。"};
#define S_NOPENERS (sizeof s_openers / sizeof s_openers[0])
#define S_NCLOSERS (sizeof s_closers / sizeof s_closers[0])

typedef struct {
    PGresult *res;    /* owns the strings below */
    int n;            /* compounds */
    int ncommunities; /* distinct communities, numbered in code order */
    int *community;   /* per compound: its community's number */
} s_city_t;

/* Columns of s_city_t.res, one row per compound. */
enum {
    S_CP_CODE,      /* compound code */
    S_CP_NAME,      /* its name */
    S_CP_COMMUNITY, /* its community's code */
    S_CP_VENUE,     /* the community's consultation hall (venue code) */
    S_CP_MAILBOX,   /* a red mailbox of the compound, or NULL */
    S_CP_GRID       /* its first micro-grid (claims its wishes) */
};

typedef struct {
    CURL *curl;       /* one easy handle, reused (keep-alive) */
    char base[64];    /* http://127.0.0.1 */
    int port0;        /* HL_BASE_PORT: intake, then triage, bounty, points, alliance */
    hl_buf_t resp;    /* last response body */
    const char *auth; /* an "Authorization: ..." header to send, or NULL */
} s_http_t;

/* One hl-bounty actor the demo plays, with the key it was given. */
typedef struct {
    char name[48]; /* demo-com-cm01, demo-grid-mg001 ... */
    char key[65];  /* its API key */
} s_actor_t;

typedef struct {
    s_actor_t *v; /* owned */
    size_t n;     /* how many */
    size_t cap;   /* room for */
} s_actors_t;

static size_t s_write_cb(char *data, size_t size, size_t n, void *arg)
{
    hl_buf_append(arg, data, size * n);
    return size * n;
}

/* Sends a request to daemon `offset` (0 intake .. 4 alliance); returns the
 * status (0 on a transport error) and parses the body into *out if asked. */
static long s_call(s_http_t *h, int offset, const char *method, const char *path, json_t *body,
                   json_t **out)
{
    char url[256];
    snprintf(url, sizeof url, "%s:%d%s", h->base, h->port0 + offset, path);
    hl_buf_reset(&h->resp);
    curl_easy_reset(h->curl);
    curl_easy_setopt(h->curl, CURLOPT_URL, url);
    curl_easy_setopt(h->curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, s_write_cb);
    curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &h->resp);
    curl_easy_setopt(h->curl, CURLOPT_TIMEOUT, 30L);
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    if (h->auth)
        hdr = curl_slist_append(hdr, h->auth);
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdr);
    char *text = NULL;
    if (body) {
        text = json_dumps(body, JSON_COMPACT);
        curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, text);
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE, 0L);
    }
    long status = 0;
    if (curl_easy_perform(h->curl) == CURLE_OK)
        curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdr);
    free(text);
    if (out)
        *out = h->resp.data ? json_loads(h->resp.data, 0, NULL) : NULL;
    return status;
}

/* POSTs `body` (consumed) to daemon `offset` at printf-formatted `path`;
 * returns whether it answered 200 or 201. */
static bool s_post(s_http_t *h, int offset, json_t *body, const char *fmt, const char *arg)
{
    char path[192];
    snprintf(path, sizeof path, fmt, arg ? arg : "");
    long st = s_call(h, offset, "POST", path, body, NULL);
    json_decref(body);
    return st == 200 || st == 201;
}

static unsigned s_rand(unsigned *state)
{
    *state = *state * 1103515245u + 12345u;
    return (*state >> 16) & 0x7fff;
}

static long s_scalar(PGconn *conn, const char *sql)
{
    PGresult *r = hlctl_query(conn, sql, 0, NULL);
    long v = PQntuples(r) ? atol(PQgetvalue(r, 0, 0)) : 0;
    PQclear(r);
    return v;
}

/* Waits until `sql` (a count) reaches zero, up to `seconds`. */
static bool s_wait_zero(PGconn *conn, const char *sql, int seconds)
{
    for (int i = 0; i < seconds * 10; i++) {
        if (s_scalar(conn, sql) == 0)
            return true;
        usleep(100000);
    }
    return false;
}

/* Waits until every message written so far has been applied. */
static bool s_wait_pipeline(PGconn *conn)
{
    return s_wait_zero(
        conn, "SELECT count(*) FROM pipeline.message WHERE done_at IS NULL AND dead_at IS NULL",
        60);
}

static int s_city_load(PGconn *conn, s_city_t *city)
{
    memset(city, 0, sizeof *city);
    city->res = hlctl_query(
        conn,
        "SELECT u.code, u.name, u.parent,"
        " (SELECT v.code FROM org.venue v WHERE v.org_unit = u.parent"
        "   AND v.kind IN ('evening_tea', 'red_hall', 'fengqiao') ORDER BY v.kind, v.code LIMIT 1),"
        " (SELECT min(m.number) FROM org.mailbox m WHERE m.compound = u.code),"
        " (SELECT min(g.code) FROM org.org_unit g WHERE g.parent = u.code)"
        " FROM org.org_unit u WHERE u.level = 'compound' ORDER BY u.parent, u.code",
        0, NULL);
    city->n = PQntuples(city->res);
    if (city->n == 0) {
        fprintf(stderr, "hlctl demo: no compounds: run hlctl seed-demo first\n");
        PQclear(city->res);
        return -1;
    }
    city->community = hl_calloc((size_t)city->n, sizeof *city->community);
    for (int i = 0; i < city->n; i++) {
        bool next = i > 0 && strcmp(PQgetvalue(city->res, i, S_CP_COMMUNITY),
                                    PQgetvalue(city->res, i - 1, S_CP_COMMUNITY)) != 0;
        city->ncommunities += i == 0 || next;
        city->community[i] = city->ncommunities - 1;
    }
    return 0;
}

static void s_city_close(s_city_t *city)
{
    PQclear(city->res);
    free(city->community);
}

static const char *s_cp(const s_city_t *city, int i, int col)
{
    return PQgetisnull(city->res, i, col) ? NULL : PQgetvalue(city->res, i, col);
}

/* The compound row of `code`, or -1. */
static int s_city_find(const s_city_t *city, const char *code)
{
    for (int i = 0; code && i < city->n; i++)
        if (strcmp(s_cp(city, i, S_CP_CODE), code) == 0)
            return i;
    return -1;
}

/* A compound of community number `community`, drawn with `seed`. */
static int s_city_pick(const s_city_t *city, int community, unsigned *seed)
{
    int first = -1, count = 0;
    for (int i = 0; i < city->n; i++)
        if (city->community[i] == community) {
            first = first < 0 ? i : first;
            count++;
        }
    return first + (int)(s_rand(seed) % (unsigned)count);
}

/* The appeal the `nth` resident to report `m` (in compound `cp`, building
 * `building`) posts: text in their words, a channel with its details, a
 * category if they chose one, contact details if they left them. */
static json_t *s_appeal(const s_city_t *city, const hlctl_matter_t *m, int cp, int building,
                        int nth, unsigned *seed)
{
    const hlctl_template_t *t = &hlctl_demo_templates[m->template];
    char core[512], body[640];
    snprintf(core, sizeof core, t->text, s_cp(city, cp, S_CP_NAME), building);
    snprintf(body, sizeof body, "%s%s%s", s_openers[(size_t)nth % S_NOPENERS], core,
             s_closers[(size_t)nth / S_NOPENERS % S_NCLOSERS]);
    int roll = (int)(s_rand(seed) % 100), acc = 0;
    const char *channel = "web";
    for (size_t c = 0; c < sizeof s_channels / sizeof s_channels[0]; c++) {
        acc += s_channels[c].weight;
        if (roll < acc) {
            channel = s_channels[c].channel;
            break;
        }
    }
    const char *mailbox = s_cp(city, cp, S_CP_MAILBOX);
    if (strcmp(channel, "mailbox") == 0 && !mailbox)
        channel = "qr";
    json_t *req = json_pack("{s:s, s:s, s:s}", "channel", channel, "org_unit",
                            s_cp(city, cp, S_CP_CODE), "body", body);
    if (s_rand(seed) % 10 < 6) /* most residents pick a category */
        json_object_set_new(req, "category", json_string(t->category));
    /* Channel details as the clerks and scanners send them: a letter names
     * its mailbox, a scan its QR token, a visit note its staff member. */
    char source[48];
    if (strcmp(channel, "mailbox") == 0) {
        json_object_set_new(req, "mailbox", json_integer(atoi(mailbox)));
    } else if (strcmp(channel, "qr") == 0) {
        snprintf(source, sizeof source, "cp-%s", s_cp(city, cp, S_CP_CODE));
        json_object_set_new(req, "qr", json_string(source));
    } else if (strcmp(channel, "visit") == 0) {
        snprintf(source, sizeof source, "visit-note:%05u", s_rand(seed));
        json_object_set_new(req, "source_ref", json_string(source));
    }
    if (strcmp(channel, "visit") == 0 || strcmp(channel, "mailbox") == 0)
        json_object_set_new(req, "staff", json_string("网格员"));
    if (s_rand(seed) % 2) {
        char phone[16];
        snprintf(phone, sizeof phone, "139%08u", s_rand(seed) * 7919u % 100000000u);
        json_object_set_new(req, "contact",
                            json_pack("{s:s, s:s}", "name", "居民", "phone", phone));
    }
    return req;
}

/* Posts the appeals of round `round`, the matters' reports interleaved as
 * residents would send them; returns how many were stored. */
static int s_post_round(s_http_t *h, const s_city_t *city, const hlctl_plan_t *plan, int round,
                        unsigned *seed, int *failed)
{
    size_t first = plan->n, count = 0;
    int most = 0;
    for (size_t i = 0; i < plan->n; i++)
        if (plan->matters[i].round == round) {
            first = first < plan->n ? first : i;
            count = i + 1 - first;
            most = plan->matters[i].appeals > most ? plan->matters[i].appeals : most;
        }
    /* Where each matter is: a compound of its community, a building. */
    int *cp = hl_calloc(count + 1, sizeof *cp), *building = hl_calloc(count + 1, sizeof *building);
    for (size_t k = 0; k < count; k++) {
        cp[k] = s_city_pick(city, plan->matters[first + k].community % city->ncommunities, seed);
        building[k] = 1 + (int)(s_rand(seed) % 24);
    }
    int ok = 0;
    for (int nth = 0; nth < most; nth++)
        for (size_t k = 0; k < count; k++) {
            const hlctl_matter_t *m = &plan->matters[first + k];
            if (m->round != round || nth >= m->appeals)
                continue;
            if (s_post(h, 0, s_appeal(city, m, cp[k], building[k], nth, seed), "/v1/appeals", NULL))
                ok++;
            else
                (*failed)++;
        }
    free(cp);
    free(building);
    return ok;
}

static json_t *s_array(json_t *obj, const char *key)
{
    json_t *a = obj ? json_object_get(obj, key) : NULL;
    return json_is_array(a) ? a : NULL;
}

static const char *s_str(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* The councils hear every small item waiting for them but `leave`. */
static int s_hear_councils(s_http_t *h, const s_city_t *city, int leave)
{
    json_t *q = NULL;
    s_call(h, 1, "GET", "/v1/queue?size=small&status=routed&limit=500", NULL, &q);
    json_t *items = s_array(q, "items");
    int heard = 0;
    for (size_t i = 0; items && i < json_array_size(items); i++) {
        json_t *item = json_array_get(items, i);
        int cp = s_city_find(city, s_str(item, "org_unit"));
        if (leave > 0 && leave--)
            continue; /* waits for next month's hearing */
        const char *venue = cp >= 0 ? s_cp(city, cp, S_CP_VENUE) : NULL;
        json_t *rec = json_pack("{s:s, s:[s,s,s], s:s, s:s}", "venue", venue ? venue : "晚茶议事厅",
                                "attendees", "party_branch", "owners_committee", "property_company",
                                "decision", "三方议定：物业一周内整改，党支部跟踪回访", "outcome",
                                "已整改，居民回访满意");
        heard += s_post(h, 1, rec, "/v1/items/%s/council", s_str(item, "id"));
    }
    json_decref(q);
    return heard;
}

/* Registers actor `name` (`kind`, standing for `unit`) and gives it a
 * fresh key (revoking one a previous run left). */
static void s_actor_add(PGconn *conn, s_actors_t *actors, const char *name, const char *kind,
                        const char *unit)
{
    if (actors->n == actors->cap) {
        actors->cap = actors->cap ? 2 * actors->cap : 64;
        actors->v = hl_realloc(actors->v, actors->cap * sizeof *actors->v);
    }
    s_actor_t *a = &actors->v[actors->n++];
    snprintf(a->name, sizeof a->name, "%s", name);
    char hash[65];
    hlctl_key_new(a->key, hash);
    bool member = strcmp(kind, "member_unit") == 0;
    const char *params[4] = {name, kind, member ? NULL : unit, member ? unit : NULL};
    PQclear(hlctl_query(conn,
                        "INSERT INTO bounty.actor (name, kind, org_unit, member_unit)"
                        " VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING",
                        4, params));
    PQclear(hlctl_query(conn,
                        "UPDATE bounty.api_key SET revoked_at = now()"
                        " WHERE actor = $1 AND revoked_at IS NULL",
                        1, params));
    const char *key_params[2] = {name, hash};
    PQclear(hlctl_query(conn, "INSERT INTO bounty.api_key (actor, key_hash) VALUES ($1, $2)", 2,
                        key_params));
}

/* The people of the boards: per community a commissioner, a reviewer and
 * a volunteer; per compound the party group of its first micro-grid. */
static void s_actors_make(PGconn *conn, const s_city_t *city, s_actors_t *actors)
{
    char name[48];
    for (int i = 0; i < city->n; i++) {
        const char *community = s_cp(city, i, S_CP_COMMUNITY);
        if (i == 0 || city->community[i] != city->community[i - 1]) {
            static const char *const kinds[][2] = {
                {"com", "commissioner"}, {"rev", "reviewer"}, {"vol", "volunteer"}};
            for (size_t k = 0; k < 3; k++) {
                snprintf(name, sizeof name, "demo-%s-%s", kinds[k][0], community);
                s_actor_add(conn, actors, name, kinds[k][1], community);
            }
        }
        const char *grid = s_cp(city, i, S_CP_GRID);
        if (grid) {
            snprintf(name, sizeof name, "demo-grid-%s", grid);
            s_actor_add(conn, actors, name, "grid_org", grid);
        }
    }
}

/* The key of actor `prefix` + `unit` (demo-rev- + cm01), or NULL. */
static const char *s_key(const s_actors_t *actors, const char *prefix, const char *unit)
{
    char name[48];
    snprintf(name, sizeof name, "%s%s", prefix, unit ? unit : "");
    for (size_t i = 0; i < actors->n; i++)
        if (strcmp(actors->v[i].name, name) == 0)
            return actors->v[i].key;
    return NULL;
}

/* POSTs as the actor holding `key`. */
static bool s_post_as(s_http_t *h, const char *key, json_t *body, const char *fmt, const char *arg)
{
    char auth[96];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
    h->auth = auth;
    bool ok = s_post(h, 2, body, fmt, arg);
    h->auth = NULL;
    return ok;
}

/* Each community's commissioner publishes its boards still in draft. */
static int s_publish_boards(s_http_t *h, const s_actors_t *actors)
{
    json_t *q = NULL;
    s_call(h, 2, "GET", "/v1/boards?limit=1000", NULL, &q);
    json_t *boards = s_array(q, "boards");
    int published = 0;
    for (size_t i = 0; boards && i < json_array_size(boards); i++) {
        json_t *b = json_array_get(boards, i);
        const char *key = s_key(actors, "demo-com-", s_str(b, "community"));
        if (key && !json_is_true(json_object_get(b, "published")))
            published += s_post_as(h, key, NULL, "/v1/boards/%s/publish", s_str(b, "id"));
    }
    json_decref(q);
    return published;
}

/* Grid organisations (and, for every third wish, a volunteer) claim and
 * complete the open wishes and their communities' reviewers approve them,
 * sending every fifth back once first, but for `leave_open` left on the
 * board and `leave_unreviewed` awaiting review. */
static int s_work_wishes(s_http_t *h, const s_city_t *city, const s_actors_t *actors,
                         int leave_open, int leave_unreviewed)
{
    json_t *q = NULL;
    s_call(h, 2, "GET", "/v1/wishes?status=open&limit=1000", NULL, &q);
    json_t *wishes = s_array(q, "wishes");
    int approved = 0;
    for (size_t i = 0; wishes && i < json_array_size(wishes); i++) {
        json_t *w = json_array_get(wishes, i);
        const char *id = s_str(w, "id"), *community = s_str(w, "community");
        int cp = s_city_find(city, s_str(w, "org_unit"));
        const char *grid = cp >= 0 ? s_cp(city, cp, S_CP_GRID) : NULL;
        const char *mg = s_str(w, "micro_grid");
        /* A wish of another micro-grid of the compound goes to the volunteer. */
        bool volunteer = i % 3 == 2 || !grid || (mg && strcmp(mg, grid) != 0);
        const char *claimer =
            volunteer ? s_key(actors, "demo-vol-", community) : s_key(actors, "demo-grid-", grid);
        const char *reviewer = s_key(actors, "demo-rev-", community);
        if (!id || !claimer || !reviewer || (leave_open > 0 && leave_open--))
            continue; /* stays open on the board */
        json_t *evidence = json_pack("{s:s}", "evidence", "已上门完成，附照片两张");
        if (!s_post_as(h, claimer, NULL, "/v1/wishes/%s/claim", id) ||
            !s_post_as(h, claimer, json_incref(evidence), "/v1/wishes/%s/complete", id) ||
            (leave_unreviewed > 0 && leave_unreviewed--)) {
            json_decref(evidence);
            continue; /* awaiting review */
        }
        if (i % 5 == 4 &&
            s_post_as(h, reviewer,
                      json_pack("{s:s, s:s}", "decision", "reject", "note", "照片不清楚，请补充"),
                      "/v1/wishes/%s/review", id))
            s_post_as(h, claimer, json_incref(evidence), "/v1/wishes/%s/complete", id);
        json_decref(evidence);
        approved += s_post_as(
            h, reviewer, json_pack("{s:s, s:s}", "decision", "approve", "note", "社区审核通过"),
            "/v1/wishes/%s/review", id);
    }
    json_decref(q);
    return approved;
}

/* The open large items on published boards (offered by hl-alliance after
 * a joint meeting): a member unit whose domains fit claims each, reports
 * progress and completes it, and the community's reviewer confirms it. */
static int s_work_large(s_http_t *h, PGconn *conn, s_actors_t *actors)
{
    PGresult *r = hlctl_query(conn,
                              "SELECT l.id::text, l.community,"
                              " (SELECT min(m.code) FROM org.member_unit m"
                              "   WHERE org.unit_fits_category(m.code, l.category))"
                              " FROM bounty.large_item l JOIN bounty.board b ON b.id = l.board_id"
                              " WHERE l.status = 'open' AND b.published_at IS NOT NULL"
                              " ORDER BY l.created_at",
                              0, NULL);
    int confirmed = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *id = PQgetvalue(r, i, 0), *community = PQgetvalue(r, i, 1);
        const char *unit = PQgetvalue(r, i, 2);
        const char *reviewer = s_key(actors, "demo-rev-", community);
        if (!*unit || !reviewer)
            continue;
        if (!s_key(actors, "demo-unit-", unit)) {
            char name[48];
            snprintf(name, sizeof name, "demo-unit-%s", unit);
            s_actor_add(conn, actors, name, "member_unit", unit);
        }
        const char *key = s_key(actors, "demo-unit-", unit);
        if (s_post_as(h, key, NULL, "/v1/large-items/%s/claim", id) &&
            s_post_as(h, key, json_pack("{s:s}", "note", "已牵头约谈相关方，制定整治方案"),
                      "/v1/large-items/%s/progress", id) &&
            s_post_as(h, key, json_pack("{s:s}", "evidence", "整治完成，附现场照片与居民回访记录"),
                      "/v1/large-items/%s/complete", id))
            confirmed += s_post_as(h, reviewer, json_pack("{s:s}", "decision", "approve"),
                                   "/v1/large-items/%s/review", id);
    }
    PQclear(r);
    return confirmed;
}

/* A member unit whose function domains fit a large item of `category`
 * (org.unit_fits_category: the rule hl-alliance enforces), agencies first. */
static char *s_unit_for(PGconn *conn, const char *category)
{
    const char *params[1] = {category};
    PGresult *r = hlctl_query(conn,
                              "SELECT code FROM org.member_unit u"
                              " WHERE org.unit_fits_category(u.code, $1)"
                              " ORDER BY kind <> 'agency', code LIMIT 1",
                              1, params);
    char *unit = PQntuples(r) ? hl_strdup(PQgetvalue(r, 0, 0)) : NULL;
    PQclear(r);
    return unit;
}

/* Prints the head of one alliance's agenda, as its secretariat sees it. */
static void s_print_agenda(json_t *ag)
{
    json_t *items = s_array(ag, "agenda");
    printf("    %-24s %s: %zu item(s)", s_str(ag, "name") ? s_str(ag, "name") : "?",
           s_str(json_object_get(ag, "meeting"), "scheduled_for")
               ? s_str(json_object_get(ag, "meeting"), "scheduled_for")
               : "-",
           json_array_size(items));
    for (size_t i = 0; i < json_array_size(items) && i < 2; i++) {
        json_t *a = json_array_get(items, i);
        printf("%s%zu. %.36s (%lld appeals%s)", i ? "; " : " — ", i + 1, s_str(a, "title"),
               (long long)json_integer_value(json_object_get(a, "appeal_count")),
               json_integer_value(json_object_get(a, "carried")) > 0 ? ", carried" : "");
    }
    printf("\n");
}

/* Every alliance with open items holds its next meeting (when `held`; in
 * the last round the meetings only record outcomes and stay planned): the
 * items on each community's agenda but `leave` (hard matters take more
 * than one meeting; the first alliances leave them) are resolved by a
 * member unit whose function domains fit, the rest carried to the next
 * meeting. Prints each community's agenda when `show`. */
static int s_hold_meetings(s_http_t *h, PGconn *conn, int leave, bool held, bool show)
{
    json_t *list = NULL;
    s_call(h, 4, "GET", "/v1/alliances", NULL, &list);
    int resolved = 0;
    if (show)
        printf("  the agendas of the alliances' next meetings (overdue first, then residents, "
               "then age):\n");
    size_t k;
    json_t *al;
    json_array_foreach(s_array(list, "alliances"), k, al)
    {
        const char *code = s_str(al, "code");
        if (!code || json_integer_value(json_object_get(al, "open_items")) == 0)
            continue;
        char path[96];
        snprintf(path, sizeof path, "/v1/alliances/%s/agenda", code);
        json_t *ag = NULL;
        s_call(h, 4, "GET", path, NULL, &ag);
        const char *mid = s_str(json_object_get(ag, "meeting"), "id");
        if (show)
            s_print_agenda(ag);
        json_t *decisions = json_array(), *attendance = json_array();
        size_t i;
        json_t *a;
        json_array_foreach(s_array(ag, "agenda"), i, a)
        {
            const char *item = s_str(a, "item_id");
            if (!mid || !item || strcmp(s_str(a, "status"), "pending") != 0 ||
                (leave > 0 && leave--))
                continue;
            char *unit = s_unit_for(conn, s_str(a, "category"));
            json_t *d = json_pack("{s:s, s:s, s:s, s:[s, s]}", "item_id", item, "kind", "resolved",
                                  "text", "联席会议议定：成员单位牵头，一月内完成整治", "tags",
                                  "discuss_together", "solve_together");
            if (unit) {
                json_object_set_new(d, "unit", json_string(unit));
                json_array_append_new(attendance, json_string(unit));
            }
            free(unit);
            if (held) {
                json_array_append_new(decisions, d);
                continue;
            }
            json_t *o = json_pack("{s:s, s:s}", "item_id", item, "outcome", s_str(d, "text"));
            if (json_object_get(d, "unit"))
                json_object_set(o, "unit", json_object_get(d, "unit"));
            json_decref(d);
            resolved += s_post(h, 4, o, "/v1/meetings/%s/outcomes", mid);
        }
        if (mid && held) {
            /* A unit resolving several items attends once. */
            json_t *seen = json_object();
            json_t *unique = json_array();
            json_array_foreach(attendance, i, a)
            {
                if (!json_object_get(seen, json_string_value(a))) {
                    json_object_set_new(seen, json_string_value(a), json_true());
                    json_array_append(unique, a);
                }
            }
            json_decref(seen);
            size_t n = json_array_size(decisions);
            if (s_post(h, 4,
                       json_pack(
                           "{s:s, s:o, s:o}", "minutes",
                           "联席会议听取本社区大事项，成员单位认领并限期办结；未议事项转下次会议",
                           "attendance", unique, "decisions", decisions),
                       "/v1/meetings/%s/held", mid))
                resolved += (int)n;
        } else {
            json_decref(decisions);
        }
        json_decref(attendance);
        json_decref(ag);
    }
    json_decref(list);
    return resolved;
}

/* One round: appeals, triage, councils, board, meeting. */
static void s_round(s_http_t *h, PGconn *conn, const s_city_t *city, s_actors_t *actors,
                    const hlctl_plan_t *plan, int round, unsigned *seed, int *failed)
{
    bool last = round == plan->rounds - 1;
    int open[3] = {0, 0, 0}; /* wish, small, large matters left open this round */
    for (size_t i = 0; i < plan->n; i++) {
        const hlctl_matter_t *m = &plan->matters[i];
        const char *size = hlctl_demo_templates[m->template].size;
        if (m->round == round && m->left_open)
            open[size[0] == 'w' ? 0 : size[0] == 's' ? 1 : 2]++;
    }
    int posted = s_post_round(h, city, plan, round, seed, failed);
    if (!s_wait_zero(conn, "SELECT count(*) FROM intake.appeal WHERE status = 'received'", 60))
        printf("  (some appeals are still waiting for triage)\n");
    s_wait_pipeline(conn); /* the routed items land on the board and the agenda */
    int heard = s_hear_councils(h, city, open[1]);
    int published = s_publish_boards(h, actors);
    int approved = s_work_wishes(h, city, actors, (open[0] + 1) / 2, open[0] / 2);
    int resolved = s_hold_meetings(h, conn, open[2], !last, round == 0 || last);
    s_wait_pipeline(conn); /* large items the meeting sent reach their boards */
    published += s_publish_boards(h, actors);
    int confirmed = s_work_large(h, conn, actors);
    if (!s_wait_pipeline(conn))
        printf("  (the pipeline is still catching up)\n");
    printf("  round %2d/%d: %4d appeals posted; councils heard %d small items, %d boards "
           "published, %d wishes approved, the alliances' meetings resolved %d large items, %d "
           "confirmed on the large-item boards\n",
           round + 1, plan->rounds, posted, heard, published, approved, resolved, confirmed);
}

/* ---- points: the learning circle's activities, the jury, the contest ---- */

/* A key of `role` named demo-<role> (replaced on every run) into `header`. */
static void s_points_key(PGconn *conn, const char *role, char header[96])
{
    char key[65], hash[65], name[32];
    hlctl_key_new(key, hash);
    snprintf(name, sizeof name, "demo-%s", role);
    const char *params[] = {name, hash, role};
    PQclear(hlctl_query(conn,
                        "INSERT INTO points.api_key (name, key_hash, role) VALUES ($1, $2, $3)"
                        " ON CONFLICT (name) DO UPDATE SET key_hash = EXCLUDED.key_hash,"
                        " role = EXCLUDED.role, community = NULL, revoked_at = NULL",
                        3, params));
    snprintf(header, 96, "Authorization: Bearer %s", key);
}

/* Study pairs and events recorded in every community (POST /v1/activities),
 * a sanitation score for every compound from the jury, and this quarter's
 * contest computed (POST /v1/contests/{quarter}/compute). */
static void s_points_round(s_http_t *h, PGconn *conn, const s_city_t *city, unsigned *seed)
{
    char recorder[96], jury[96], quarter[16], path[64];
    s_points_key(conn, "recorder", recorder);
    s_points_key(conn, "jury", jury);
    PGresult *r = hlctl_query(
        conn, "SELECT to_char(now() AT TIME ZONE 'Asia/Shanghai', 'YYYY\"Q\"Q')", 0, NULL);
    snprintf(quarter, sizeof quarter, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    int pairs = 0, events = 0, scores = 0;
    h->auth = recorder;
    for (int i = 0; i < city->n; i++) {
        const char *cp = PQgetvalue(city->res, i, S_CP_CODE);
        const char *cm = PQgetvalue(city->res, i, S_CP_COMMUNITY);
        char source[48], account[48];
        snprintf(source, sizeof source, "sp-%s-%u", cp, s_rand(seed) % 1000);
        snprintf(account, sizeof account, "vol-%s-%u", cp, s_rand(seed) % 3);
        pairs += s_post(h, 3,
                        json_pack("{s:s, s:s, s:s, s:s, s:s}", "kind", "study_pair", "source_id",
                                  source, "account", account, "community", cm, "org_unit", cp),
                        "/v1/activities", NULL);
        snprintf(source, sizeof source, "ev-%s-%u", cm, s_rand(seed) % 14);
        snprintf(account, sizeof account, "pm-%s-%u", cp, s_rand(seed) % 4);
        events += s_post(h, 3,
                         json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kind", "event", "source_id",
                                   source, "account", account, "account_kind", "party_member",
                                   "community", cm, "org_unit", cp),
                         "/v1/activities", NULL);
    }
    h->auth = jury;
    for (int i = 0; i < city->n; i++)
        scores +=
            s_post(h, 3,
                   json_pack("{s:s, s:s, s:i, s:s}", "compound",
                             PQgetvalue(city->res, i, S_CP_CODE), "criterion", "sanitation",
                             "score", 68 + (int)(s_rand(seed) % 31), "note", "季度环境卫生检查"),
                   "/v1/contests/%s/scores", quarter);
    snprintf(path, sizeof path, "/v1/contests/%s/compute", quarter);
    long st = s_call(h, 3, "POST", path, NULL, NULL);
    h->auth = NULL;
    printf("  points: %d study pairs and %d event attendances recorded, %d sanitation scores; "
           "contest %s computed: %s\n",
           pairs, events, scores, quarter, st == 200 ? "yes" : "NO");
}

static void s_print_rows(PGconn *conn, const char *title, const char *sql)
{
    PGresult *r = hlctl_query(conn, sql, 0, NULL);
    printf("  %-22s", title);
    for (int i = 0; i < PQntuples(r); i++)
        printf("%s %s%s", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
               i + 1 < PQntuples(r) ? ", " : "");
    printf("\n");
    PQclear(r);
}

static void s_summary(PGconn *conn)
{
    printf("\nWhat the system did (read back from PostgreSQL):\n");
    s_print_rows(conn, "appeals by channel:",
                 "SELECT channel, count(*) FROM reporting.appeal GROUP BY 1 ORDER BY 2 DESC");
    s_print_rows(conn, "appeals by category:",
                 "SELECT coalesce(k.name, c.category, '未分类'), count(*)"
                 " FROM reporting.case c LEFT JOIN reporting.category k ON k.code = c.category"
                 " GROUP BY 1 ORDER BY 2 DESC");
    s_print_rows(
        conn, "routed by size:", "SELECT size, count(*) FROM reporting.case GROUP BY 1 ORDER BY 1");
    s_print_rows(conn, "items by status:",
                 "SELECT status, count(*) FROM reporting.item GROUP BY 1 ORDER BY 1");
    s_print_rows(conn, "appeals by status:",
                 "SELECT status, count(*) FROM reporting.appeal GROUP BY 1 ORDER BY 1");
    s_print_rows(conn, "wishes by status:",
                 "SELECT status, count(*) FROM reporting.wish GROUP BY 1 ORDER BY 1");
    s_print_rows(conn, "boards published:",
                 "SELECT kind, count(*) FILTER (WHERE published_at IS NOT NULL) || ' of '"
                 " || count(*) FROM bounty.board GROUP BY 1 ORDER BY 1");
    s_print_rows(conn, "claims by kind:",
                 "SELECT actor_kind, count(*) FROM bounty.wish_event WHERE action = 'claimed'"
                 " GROUP BY 1 UNION ALL SELECT 'member_unit (large)', count(*)"
                 " FROM bounty.large_item_event WHERE action = 'claimed' ORDER BY 1");
    s_print_rows(conn, "leases and reviews:",
                 "SELECT 'leases expired', (SELECT count(*) FROM bounty.wish_event"
                 " WHERE action = 'expired') + (SELECT count(*) FROM bounty.large_item_event"
                 " WHERE action = 'expired') UNION ALL SELECT 'rejections',"
                 " (SELECT count(*) FROM bounty.wish_event WHERE action = 'rejected')"
                 " + (SELECT count(*) FROM bounty.large_item_event WHERE action = 'rejected')");
    s_print_rows(conn, "points awarded:",
                 "SELECT 'awards ' || count(*), 'points ' || coalesce(sum(amount), 0)"
                 " FROM reporting.points_ledger");
    s_print_rows(conn, "pipeline:",
                 "SELECT 'pending', coalesce(sum(pending), 0) FROM reporting.pipeline_lag"
                 " UNION ALL SELECT 'dead', coalesce(sum(dead), 0) FROM reporting.pipeline_lag");
}

/* Points by rule, the contest table and the grades (hl-points). */
static void s_points_summary(PGconn *conn)
{
    s_print_rows(conn, "points by rule:",
                 "SELECT rule_id || ' v' || rule_version, sum(awards) || ' awards ' || sum(points)"
                 " || ' points' FROM reporting.points_by_rule GROUP BY rule_id, rule_version"
                 " ORDER BY 1");
    s_print_rows(conn, "ledger:",
                 "SELECT 'postings sum to', coalesce(sum(amount), 0)::text FROM points.posting");
    s_print_rows(conn, "contest, best chains:",
                 "SELECT c.chain || ' ' || coalesce(c.score::text, '-'), '(' || k.name || ')'"
                 " FROM reporting.chain_contest c JOIN reporting.chain k ON k.code = c.chain"
                 " WHERE c.quarter = (SELECT max(quarter) FROM reporting.chain_contest)"
                 " ORDER BY c.rank, c.chain LIMIT 5");
    s_print_rows(conn, "community winners:",
                 "SELECT kind, count(*) FROM reporting.chain_contest"
                 " WHERE quarter = (SELECT max(quarter) FROM reporting.chain_contest)"
                 " AND rank_in_community = 1 GROUP BY 1 ORDER BY 2 DESC, 1");
    s_print_rows(conn, "compound grades:",
                 "SELECT coalesce(grade, 'ungraded'), count(*) FROM reporting.compound_grade"
                 " WHERE quarter = (SELECT max(quarter) FROM reporting.compound_grade)"
                 " GROUP BY 1 ORDER BY 1");
}

/* The report's figures beside this run's (reporting.headline). */
static void s_headline(PGconn *conn, int appeals)
{
    PGresult *r =
        hlctl_query(conn,
                    "SELECT label, coalesce(value::text, '-'), report_text,"
                    " coalesce(to_char(deviation * 100, 'FMSG990.0') || '%', 'not recorded')"
                    " FROM reporting.headline ORDER BY ord",
                    0, NULL);
    printf("\nThe report's headline figures (reporting.headline):\n");
    printf("  %-50s %9s %9s  %s\n", "figure", "this run", "report", "");
    for (int i = 0; i < PQntuples(r); i++)
        printf("  %-50s %9s %9s  %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
               PQgetvalue(r, i, 2), PQgetvalue(r, i, 3));
    PQclear(r);
    if (appeals != S_REPORT_APPEALS)
        printf("  (this run had %d appeals: `hlctl demo --month-of-report` plays the report's "
               "%d)\n",
               appeals, S_REPORT_APPEALS);
}

int hlctl_demo(int argc, char **argv)
{
    const char *n_text = getenv("HL_DEMO_APPEALS");
    const char *port_text = getenv("HL_BASE_PORT");
    int n = n_text ? atoi(n_text) : S_DEFAULT_APPEALS;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--month-of-report") == 0) {
            n = S_REPORT_APPEALS;
        } else {
            fprintf(stderr, "usage: hlctl demo [--month-of-report]\n");
            return 2;
        }
    }
    s_http_t h = {0};
    h.port0 = port_text ? atoi(port_text) : 8080;
    snprintf(h.base, sizeof h.base, "http://127.0.0.1");
    if (n <= 0 || n > 1000000 || h.port0 <= 0 || h.port0 > 65530) {
        fprintf(stderr, "hlctl demo: HL_DEMO_APPEALS must be 1..1000000 and HL_BASE_PORT a port\n");
        return 2;
    }
    PGconn *conn = hlctl_connect();
    s_city_t city;
    if (s_city_load(conn, &city) != 0) {
        PQfinish(conn);
        return 1;
    }
    hlctl_plan_t plan;
    hlctl_demo_plan(n, city.ncommunities, &plan);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    h.curl = curl_easy_init();
    printf("%s in the demo city: %d appeals in %d rounds\n",
           n == S_REPORT_APPEALS ? "The report's period" : "A month", n, plan.rounds);
    unsigned seed = 20261128;
    int failed = 0;
    s_actors_t actors = {0};
    s_actors_make(conn, &city, &actors);
    for (int round = 0; round < plan.rounds; round++)
        s_round(&h, conn, &city, &actors, &plan, round, &seed, &failed);
    if (failed)
        printf("  %d appeals were refused or failed\n", failed);
    s_points_round(&h, conn, &city, &seed);
    s_summary(conn);
    s_points_summary(conn);
    s_headline(conn, n);
    hlctl_demo_plan_close(&plan);
    free(actors.v);
    s_city_close(&city);
    PQfinish(conn);
    curl_easy_cleanup(h.curl);
    hl_buf_close(&h.resp);
    curl_global_cleanup();
    return 0;
}
