/* rules.c: the claim board's decisions, free of I/O so they can be tested
 * alone — what a WishPosted must carry before it goes on a board, which
 * filters a list accepts, who may claim and review a wish, and which HTTP
 * answer a refused transition gets. The handlers in post.c, board.c,
 * claim.c and review.c gather the facts from the database and ask here. */
#include "bounty.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const s_status_names[] = {"open", "claimed", "completed", "approved"};

int bounty_status_parse(const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; i < (int)(sizeof s_status_names / sizeof s_status_names[0]); i++)
        if (strcmp(s, s_status_names[i]) == 0)
            return i;
    return -1;
}

const char *bounty_status_name(bounty_status_t status)
{
    return (unsigned)status < sizeof s_status_names / sizeof s_status_names[0]
               ? s_status_names[status]
               : "?";
}

bool bounty_code_valid(const char *s)
{
    if (!s)
        return false;
    size_t n = strlen(s);
    if (n == 0 || n > BOUNTY_CODE_MAX)
        return false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

static bool s_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

bool bounty_month_parse(const char *s, char out[11])
{
    if (!s || strlen(s) != 7 || s[4] != '-' || !s_digits(s, 4) || !s_digits(s + 5, 2))
        return false;
    int year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int month = (s[5] - '0') * 10 + (s[6] - '0');
    if (year < 2000 || year > 2999 || month < 1 || month > 12)
        return false;
    snprintf(out, 11, "%04d-%02d-01", year, month);
    return true;
}

int bounty_limit_parse(const char *s)
{
    if (!s)
        return BOUNTY_LIST_DEFAULT;
    size_t n = strlen(s);
    if (n == 0 || n > 4 || !s_digits(s, n))
        return -1;
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v >= 1 && v <= BOUNTY_LIST_MAX ? v : -1;
}

/* A required text of 1..max characters that is not only white space. */
static bool s_text_ok(const char *s, long max)
{
    if (!s)
        return false;
    long n = hl_utf8_len(s);
    return n >= 1 && n <= max && strspn(s, " \t\r\n") < strlen(s);
}

const char *bounty_wish_check(const Hl__WishPosted *msg, int default_points, bounty_wish_t *out)
{
    memset(out, 0, sizeof *out);
    if (!msg)
        return "payload is not a WishPosted";
    if (!msg->item_id || !hl_uuid_valid(msg->item_id))
        return "item_id is missing or not a UUID";
    if (msg->appeal_id && *msg->appeal_id && !hl_uuid_valid(msg->appeal_id))
        return "appeal_id is not a UUID";
    if (!bounty_code_valid(msg->org_unit))
        return "org_unit is missing or not an org unit code";
    if (msg->category && *msg->category && !bounty_code_valid(msg->category))
        return "category is not a category code";
    if (!s_text_ok(msg->title, BOUNTY_TITLE_MAX))
        return "title must be 1 to 200 characters of valid UTF-8, not blank";
    if (!s_text_ok(msg->body, BOUNTY_BODY_MAX))
        return "body must be 1 to 5000 characters of valid UTF-8, not blank";
    int points = default_points;
    if (msg->has_points && msg->points != 0) {
        if (msg->points < 0 || msg->points > BOUNTY_POINTS_MAX)
            return "points must be 1 to 1000 (or unset for the default)";
        points = msg->points;
    }
    out->item_id = msg->item_id;
    out->appeal_id = msg->appeal_id && *msg->appeal_id ? msg->appeal_id : NULL;
    out->org_unit = msg->org_unit;
    out->category = msg->category && *msg->category ? msg->category : NULL;
    out->title = msg->title;
    out->body = msg->body;
    out->difficulty = bounty_difficulty_parse(msg->difficulty);
    if (!out->difficulty)
        return "difficulty must be easy, normal or hard (or unset for normal)";
    out->points = points;
    return NULL;
}

static hl_refusal_t s_verdict(int status, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A refusal as a value (hl_refuse fills one in place). */
static hl_refusal_t s_verdict(int status, const char *field, const char *fmt, ...)
{
    char message[HL_REFUSAL_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    hl_refusal_t v;
    hl_refuse(&v, status, field, "%s", message);
    return v;
}

static const hl_refusal_t s_go = {0, "", ""};

static bool s_eq(const char *a, const char *b)
{
    return a && b && *a && strcmp(a, b) == 0;
}

const char *bounty_kind_name(bounty_kind_t kind)
{
    return kind == BOUNTY_LARGE ? "large" : "wish";
}

/* "wish" or "large item", for messages. */
static const char *s_entry(const bounty_facts_t *f)
{
    return f->kind == BOUNTY_LARGE ? "large item" : "wish";
}

static const char *const s_actor_kinds[] = {"grid_org", "volunteer",    "party_member",
                                            "reviewer", "commissioner", "member_unit"};

int bounty_actor_kind_parse(const char *s)
{
    for (int i = 0; s && i < (int)(sizeof s_actor_kinds / sizeof s_actor_kinds[0]); i++)
        if (strcmp(s, s_actor_kinds[i]) == 0)
            return i;
    return -1;
}

const char *bounty_actor_kind_name(bounty_actor_kind_t kind)
{
    return (unsigned)kind < sizeof s_actor_kinds / sizeof s_actor_kinds[0] ? s_actor_kinds[kind]
                                                                           : "?";
}

const char *bounty_account_of(const bounty_actor_t *a, const char **kind)
{
    *kind = bounty_actor_kind_name((bounty_actor_kind_t)a->kind);
    switch (a->kind) {
    case BOUNTY_ACTOR_GRID_ORG:
    case BOUNTY_ACTOR_MEMBER_UNIT:
        return a->unit;
    default:
        return a->name;
    }
}

/* True when rule `r` admits actor `a` to entry `f`. */
static bool s_rule_admits(const bounty_rule_t *r, const bounty_actor_t *a, const bounty_facts_t *f)
{
    if (strcmp(r->scope, "category_domain") == 0)
        return a->kind == BOUNTY_ACTOR_MEMBER_UNIT && f->fits;
    if (a->kind == BOUNTY_ACTOR_MEMBER_UNIT)
        return false;
    if (strcmp(r->scope, "micro_grid") == 0) {
        if (strcmp(a->level, "micro_grid") != 0)
            return false;
        /* A wish anchored to its whole compound is any of its micro-grids'. */
        return f->micro_grid ? s_eq(a->unit, f->micro_grid) : s_eq(a->compound, f->compound);
    }
    if (strcmp(r->scope, "compound") == 0)
        return strcmp(a->level, "compound") == 0 && s_eq(a->unit, f->compound);
    if (strcmp(r->scope, "community") == 0)
        return strcmp(a->level, "community") == 0 && s_eq(a->unit, f->community);
    return false;
}

hl_refusal_t bounty_eligible(const bounty_actor_t *a, const bounty_facts_t *f,
                             const bounty_rule_t *rules, size_t nrules, const char **rule)
{
    const char *kind = bounty_actor_kind_name((bounty_actor_kind_t)a->kind);
    const bounty_rule_t *closest = NULL;
    *rule = NULL;
    for (size_t i = 0; i < nrules; i++) {
        if (strcmp(rules[i].actor_kind, kind) != 0)
            continue;
        if (s_rule_admits(&rules[i], a, f)) {
            *rule = rules[i].code;
            return s_go;
        }
        if (!closest)
            closest = &rules[i];
    }
    if (!closest)
        return s_verdict(403, "rule", "no eligibility rule lets a %s claim a %s", kind, s_entry(f));
    if (strcmp(closest->scope, "category_domain") == 0)
        return s_verdict(403, closest->code,
                         "%s %s may not claim this %s: rule %s: %s (its category is %s)", kind,
                         a->unit, s_entry(f), closest->code, closest->description,
                         f->category ? f->category : "none");
    return s_verdict(403, closest->code, "%s %s (%s) may not claim this %s of %s: rule %s: %s",
                     kind, a->name, a->unit, s_entry(f),
                     f->micro_grid ? f->micro_grid
                     : f->compound ? f->compound
                                   : f->community,
                     closest->code, closest->description);
}

static const char *const s_do_names[] = {"claim",    "extend",   "release",
                                         "progress", "complete", "review"};

const char *bounty_do_name(bounty_do_t what)
{
    return (unsigned)what < sizeof s_do_names / sizeof s_do_names[0] ? s_do_names[what] : "?";
}

/* The caller holds the claim: its account is the entry's claimant. */
static bool s_holds(const bounty_actor_t *a, const bounty_facts_t *f)
{
    const char *kind;
    const char *account = bounty_account_of(a, &kind);
    if (!s_eq(account, f->claimant))
        return false;
    /* Claims made before actors existed name an org unit or member unit. */
    return s_eq(kind, f->claimant_kind) ||
           (a->kind == BOUNTY_ACTOR_GRID_ORG && s_eq(f->claimant_kind, "org_unit")) ||
           (a->kind == BOUNTY_ACTOR_MEMBER_UNIT && s_eq(f->claimant_kind, "member_unit"));
}

static hl_refusal_t s_need_claimed(bounty_do_t what, const bounty_actor_t *a,
                                   const bounty_facts_t *f, int64_t now_us)
{
    const char *verb = bounty_do_name(what);
    if (f->status == BOUNTY_OPEN)
        return s_verdict(409, "id", "the %s is not claimed; claim it first", s_entry(f));
    if (!s_holds(a, f))
        return s_verdict(403, "Authorization", "only the claimant of the %s may %s it (held by %s)",
                         s_entry(f), verb, f->claimant ? f->claimant : "nobody");
    if (f->status == BOUNTY_COMPLETED)
        return s_verdict(409, "id", "the %s is completed and awaits review", s_entry(f));
    if (f->status == BOUNTY_APPROVED)
        return s_verdict(409, "id", "the %s is approved already", s_entry(f));
    if (bounty_lease_expired(f->lease_until_us, now_us))
        return s_verdict(409, "id", "the claim's lease has ended; the %s goes back to the board",
                         s_entry(f));
    return s_go;
}

/* A reviewer (or commissioner) of the entry's community. */
static bool s_reviews_for(const bounty_actor_t *a, const char *community)
{
    return (a->kind == BOUNTY_ACTOR_REVIEWER || a->kind == BOUNTY_ACTOR_COMMISSIONER) &&
           s_eq(a->unit, community);
}

hl_refusal_t bounty_transition_verdict(bounty_do_t what, const bounty_actor_t *a,
                                       const bounty_facts_t *f, int64_t now_us)
{
    if (!f->found)
        return s_verdict(404, "id", "no %s has this id", s_entry(f));
    switch (what) {
    case BOUNTY_DO_CLAIM:
        if (!f->published)
            return s_verdict(409, "id",
                             "the %s's board is not published yet; its commissioner publishes it",
                             s_entry(f));
        if (f->status != BOUNTY_OPEN)
            return s_verdict(409, "id", "the %s is already claimed", s_entry(f));
        return s_go;
    case BOUNTY_DO_EXTEND:
        if (f->status == BOUNTY_CLAIMED && s_holds(a, f) && f->lease_extended)
            return s_verdict(409, "id", "the lease was extended once already");
        return s_need_claimed(what, a, f, now_us);
    case BOUNTY_DO_RELEASE:
        return s_need_claimed(what, a, f, now_us);
    case BOUNTY_DO_PROGRESS:
        if (f->kind != BOUNTY_LARGE)
            return s_verdict(404, "id", "only large items take progress reports");
        return s_need_claimed(what, a, f, now_us);
    case BOUNTY_DO_COMPLETE:
        return s_need_claimed(what, a, f, now_us);
    case BOUNTY_DO_REVIEW:
        if (!s_reviews_for(a, f->community))
            return s_verdict(403, "Authorization",
                             "only a reviewer of community %s may review this %s",
                             f->community ? f->community : "?", s_entry(f));
        if (s_eq(a->name, f->completed_by) || s_eq(a->person, f->completer_person))
            return s_verdict(403, "Authorization", "reviewing your own completion is refused");
        if (f->status != BOUNTY_COMPLETED)
            return s_verdict(409, "id",
                             f->status == BOUNTY_APPROVED
                                 ? "the %s is approved already"
                                 : "the %s is not completed, so there is nothing to review",
                             s_entry(f));
        return s_go;
    }
    return s_verdict(422, NULL, "unknown transition");
}

hl_refusal_t bounty_publish_verdict(const bounty_actor_t *a, bool found, const char *community,
                                    bool published)
{
    if (!found)
        return s_verdict(404, "id", "no board has this id");
    if (a->kind != BOUNTY_ACTOR_COMMISSIONER || !s_eq(a->unit, community))
        return s_verdict(403, "Authorization", "only the commissioner of %s may publish its board",
                         community ? community : "?");
    if (published)
        return s_verdict(409, "id", "the board is published already");
    return s_go;
}

int64_t bounty_lease_until(int64_t now_us, long long lease_s)
{
    return now_us + (int64_t)lease_s * 1000000;
}

int64_t bounty_lease_extend(int64_t until_us, long long lease_s)
{
    return until_us + (int64_t)lease_s * 1000000;
}

bool bounty_lease_expired(int64_t until_us, int64_t now_us)
{
    return until_us <= now_us;
}

const char *bounty_difficulty_parse(const char *s)
{
    static const char *const names[] = {"easy", "normal", "hard"};
    if (!s || !*s)
        return "normal";
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i]) == 0)
            return names[i];
    return NULL;
}

void bounty_award_reason(const char *title, char *out, size_t len)
{
    static const char prefix[] = "micro-wish completed: ";
    if (len == 0)
        return;
    snprintf(out, len, "%s%s", prefix, title ? title : "");
    /* snprintf may have cut a multi-byte character: drop its leading bytes. */
    size_t n = strlen(out);
    if (n + 1 == len) {
        size_t end = n;
        while (end > 0 && ((unsigned char)out[end - 1] & 0xC0) == 0x80)
            end--;
        if (end > 0 && ((unsigned char)out[end - 1] & 0xC0) == 0xC0) {
            unsigned lead = (unsigned char)out[end - 1];
            size_t need = (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : 4;
            if (n - (end - 1) < need)
                out[end - 1] = '\0';
        }
    }
}
