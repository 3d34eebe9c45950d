/* item.c: the one place a row of triage.item_context becomes a
 * triage_item_t (see item.h). */
#include "item.h"

#include "hl_alloc.h"

#include <stdlib.h>
#include <string.h>

/* The fields in the order of TRIAGE_ITEM_COLUMNS. */
/* clang-format off */
#define S_FIELDS(X) \
    X(id) \
    X(version) \
    X(status) \
    X(route) \
    X(reopens) \
    X(size) \
    X(category) \
    X(level) \
    X(target) \
    X(parent) \
    X(parent_level) \
    X(org_unit) \
    X(org_level) \
    X(compound) \
    X(community) \
    X(title) \
    X(count) \
    X(due) \
    X(body) \
    X(appeals) \
    X(history)

/* clang-format on */

void triage_item_fill(triage_item_t *it, const PGresult *res, int row)
{
    int k = 0;
#define S_FILL(name)                                                                               \
    it->name = PQgetisnull(res, row, k) ? NULL : hl_strdup(PQgetvalue(res, row, k));               \
    k++;
    S_FIELDS(S_FILL)
#undef S_FILL
}

void triage_item_close(triage_item_t *it)
{
#define S_FREE(name) free(it->name);
    S_FIELDS(S_FREE)
#undef S_FREE
    memset(it, 0, sizeof *it);
}

bool triage_item_open(const triage_item_t *it)
{
    return it->status && (strcmp(it->status, "routed") == 0 || strcmp(it->status, "open") == 0);
}
