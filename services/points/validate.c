/* validate.c: the checks hl-points applies before anything reaches the ledger —
 * a PointsAwarded from the "points" stage (refused and dead-lettered when it
 * fails) and an account code or a number from a URL (answered 400). Pure
 * functions, no I/O, so tests/unit/test_points_validate.c covers them. */
#include "points.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool points_award_check(const Hl__PointsAwarded *a, char *why, size_t len)
{
    if (!a) {
        snprintf(why, len, "payload is not a PointsAwarded message");
        return false;
    }
    if (!a->award_id || !hl_uuid_valid(a->award_id)) {
        snprintf(why, len, "award_id %s", a->award_id ? "is not a UUID" : "is missing");
        return false;
    }
    if (!hl_text_check("account", a->account, POINTS_ACCOUNT_MAX, true, false, why, len))
        return false;
    /* Without an amount the rule of source_kind (and basis) sets it. */
    if (!a->has_amount && !(a->source_kind && *a->source_kind)) {
        snprintf(why, len, "amount is missing and source_kind is empty: no rule can apply");
        return false;
    }
    if (a->has_amount && a->amount == 0) {
        snprintf(why, len, "amount is zero");
        return false;
    }
    if (a->has_amount && (a->amount > POINTS_AMOUNT_MAX || a->amount < -POINTS_AMOUNT_MAX)) {
        snprintf(why, len, "amount %d is out of range (at most %d either way)", (int)a->amount,
                 POINTS_AMOUNT_MAX);
        return false;
    }
    if (a->account_kind && *a->account_kind && !points_account_kind_valid(a->account_kind)) {
        /* Not quoted: the text may be cut in a character or not be UTF-8. */
        snprintf(why, len,
                 "account_kind is none of grid_org, party_member, volunteer, member_unit, "
                 "compound, chain");
        return false;
    }
    return hl_text_check("reason", a->reason, POINTS_REASON_MAX, true, false, why, len) &&
           hl_text_check("source_kind", a->source_kind, POINTS_KIND_MAX, false, false, why, len) &&
           hl_text_check("source_id", a->source_id, POINTS_SOURCE_MAX, false, false, why, len) &&
           hl_text_check("org_unit", a->org_unit, POINTS_UNIT_MAX, false, false, why, len) &&
           hl_text_check("basis", a->basis, POINTS_BASIS_MAX, false, false, why, len) &&
           hl_text_check("reviewer", a->reviewer, POINTS_REVIEWER_MAX, false, false, why, len) &&
           hl_text_check("community", a->community, POINTS_UNIT_MAX, false, false, why, len);
}

bool points_account_check(const char *account, char *why, size_t len)
{
    return hl_text_check("account", account, POINTS_ACCOUNT_MAX, true, false, why, len);
}
