/* rules.c: the claim board's decisions, free of I/O so they can be tested
 * alone — what a WishPosted must carry before it goes on a board, which
 * filters a list accepts, who may claim and review a wish, and which HTTP
 * answer a refused transition gets. The handlers in post.c, board.c,
 * claim.c and review.c gather the facts from the database and ask here. */
#include "bounty.h"

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
    out->points = points;
    return NULL;
}

static bounty_verdict_t s_verdict(int status, const char *field, const char *message)
{
    return (bounty_verdict_t){status, field, message};
}

static const bounty_verdict_t s_go = {0, NULL, NULL};

static bounty_verdict_t s_not_found(void)
{
    return s_verdict(404, "id", "no wish has this id");
}

bounty_verdict_t bounty_claim_verdict(const bounty_claim_facts_t *f)
{
    if (!f->wish_found)
        return s_not_found();
    if (!f->claimant_level && !f->claimant_member)
        return s_verdict(422, "claimant", "claimant is neither an org unit nor a member unit code");
    if (f->claimant_level) {
        if (strcmp(f->claimant_level, "compound") != 0 &&
            strcmp(f->claimant_level, "micro_grid") != 0)
            return s_verdict(422, "claimant",
                             "claimant must be a grid organisation (compound or micro_grid) or a "
                             "member unit");
        if (!f->claimant_community || !f->wish_community ||
            strcmp(f->claimant_community, f->wish_community) != 0)
            return s_verdict(422, "claimant",
                             "claimant is not eligible: grid organisations may claim only wishes "
                             "of their own community");
    }
    if (f->status != BOUNTY_OPEN)
        return bounty_claim_conflict(true, f->status);
    return s_go;
}

bounty_verdict_t bounty_claim_conflict(bool found, int status)
{
    if (!found)
        return s_not_found();
    if (status == BOUNTY_OPEN) /* cannot lose to nobody; say so rather than lie */
        return s_verdict(409, "id", "the wish changed while it was being claimed; try again");
    return s_verdict(409, "id", "the wish is already claimed");
}

bounty_verdict_t bounty_complete_conflict(bool found, int status, const char *claimant,
                                          const char *asked_by)
{
    if (!found)
        return s_not_found();
    if (status == BOUNTY_OPEN)
        return s_verdict(409, "id", "the wish is not claimed; claim it first");
    if (!claimant || !asked_by || strcmp(claimant, asked_by) != 0)
        return s_verdict(403, "claimant", "only the claimant of the wish may complete it");
    if (status == BOUNTY_COMPLETED)
        return s_verdict(409, "id", "the wish is already completed and awaits review");
    if (status == BOUNTY_APPROVED)
        return s_verdict(409, "id", "the wish is already approved");
    return s_verdict(409, "id", "the wish changed while it was being completed; try again");
}

bounty_verdict_t bounty_review_verdict(const bounty_review_facts_t *f, const char *reviewer)
{
    if (!f->wish_found)
        return s_not_found();
    if (!f->reviewer_level)
        return s_verdict(422, "reviewer", "reviewer is not an org unit code");
    if (strcmp(f->reviewer_level, "community") != 0)
        return s_verdict(422, "reviewer", "reviewer must be a community");
    if (!f->wish_community || !reviewer || strcmp(f->wish_community, reviewer) != 0)
        return s_verdict(422, "reviewer",
                         "reviewer is not the community the wish's compound belongs to");
    if (f->status != BOUNTY_COMPLETED)
        return s_verdict(409, "id",
                         f->status == BOUNTY_APPROVED
                             ? "the wish is already approved"
                             : "the wish is not completed, so there is nothing to review");
    return s_go;
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
