/* item.h: one triage item as hl-triage reads it, filled in one place.
 *
 * Every read of an item with its context (the commissioner's commands, the
 * deadline scanner, a resident's reopening) selects TRIAGE_ITEM_COLUMNS
 * from the view triage.item_context (migrations/025) and turns each row
 * into a triage_item_t with triage_item_fill, so no caller reads a column
 * by number. */
#ifndef TRIAGE_ITEM_H
#define TRIAGE_ITEM_H

#include <libpq-fe.h>
#include <stdbool.h>

/* The select list that triage_item_fill reads, in its order. */
#define TRIAGE_ITEM_COLUMNS                                                                        \
    "id::text, version::text, status, route, reopen_count::text, size, category, level, target,"   \
    " parent, parent_level, org_unit, org_level, compound, community, title,"                      \
    " appeal_count::text, due_at::text, first_body, appeals, history"

/* One item. Strings are owned; NULL where the column is SQL NULL. */
typedef struct {
    char *id;           /* the item */
    char *version;      /* its version, decimal */
    char *status;       /* open, routed or resolved */
    char *route;        /* council, alliance or board */
    char *reopens;      /* times reopened by residents, decimal */
    char *size;         /* wish, small or large */
    char *category;     /* category code */
    char *level;        /* level routed at */
    char *target;       /* org unit routed to */
    char *parent;       /* the target's parent (NULL at the top) */
    char *parent_level; /* that parent's level */
    char *org_unit;     /* where the matter is */
    char *org_level;    /* that unit's level */
    char *compound;     /* compound it lies in */
    char *community;    /* community it lies in */
    char *title;        /* short title */
    char *count;        /* appeals in it, decimal */
    char *due;          /* deadline of its stage */
    char *body;         /* its first appeal's text */
    char *appeals;      /* its appeal ids, comma-separated, oldest first */
    char *history;      /* earlier escalations, one line */
} triage_item_t;

/* Fills `it` from row `row` of a result selecting TRIAGE_ITEM_COLUMNS
 * (copies; close with triage_item_close). */
void triage_item_fill(triage_item_t *it, const PGresult *res, int row);
/* Frees the strings and zeroes `it`. */
void triage_item_close(triage_item_t *it);
/* True when the item is open or routed (not resolved). */
bool triage_item_open(const triage_item_t *it);

#endif
