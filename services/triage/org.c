/* org.c: the org tree in memory, so that deciding an appeal does not ask
 * PostgreSQL where its org unit sits (a recursive query that cost more than
 * the rest of the read). Reference data: ~1,800 units, loaded with the
 * index (sync.c) and again whenever an appeal names a unit it lacks (then
 * appeal.c asks PostgreSQL for that one appeal). Pure: no I/O. */
#include "triage.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    char *code;   /* org unit code, owned */
    char *level;  /* its level, owned */
    char *parent; /* its parent's code or NULL, owned */
    char *name;   /* its name, owned */
} s_unit_t;

struct triage_org {
    s_unit_t *units; /* sorted by code */
    size_t n;        /* count */
};

static int s_cmp(const void *a, const void *b)
{
    return strcmp(((const s_unit_t *)a)->code, ((const s_unit_t *)b)->code);
}

triage_org_t *triage_org_new(const PGresult *res)
{
    triage_org_t *org = hl_calloc(1, sizeof *org);
    org->n = (size_t)PQntuples(res);
    org->units = hl_calloc(org->n + 1, sizeof *org->units);
    for (size_t i = 0; i < org->n; i++) {
        s_unit_t *u = &org->units[i];
        u->code = hl_strdup(PQgetvalue(res, (int)i, 0));
        u->level = hl_strdup(PQgetvalue(res, (int)i, 1));
        u->parent = PQgetisnull(res, (int)i, 2) ? NULL : hl_strdup(PQgetvalue(res, (int)i, 2));
        u->name = hl_strdup(PQgetvalue(res, (int)i, 3));
    }
    qsort(org->units, org->n, sizeof *org->units, s_cmp);
    return org;
}

void triage_org_destroy(triage_org_t **orgp)
{
    triage_org_t *org = orgp ? *orgp : NULL;
    if (!org)
        return;
    *orgp = NULL;
    for (size_t i = 0; i < org->n; i++) {
        free(org->units[i].code);
        free(org->units[i].level);
        free(org->units[i].parent);
        free(org->units[i].name);
    }
    free(org->units);
    free(org);
}

static const s_unit_t *s_find(const triage_org_t *org, const char *code)
{
    s_unit_t key = {.code = (char *)code};
    return code ? bsearch(&key, org->units, org->n, sizeof *org->units, s_cmp) : NULL;
}

bool triage_org_place(const triage_org_t *org, const char *code, triage_org_place_t *out)
{
    memset(out, 0, sizeof *out);
    const s_unit_t *u = org ? s_find(org, code) : NULL;
    if (!u)
        return false;
    snprintf(out->level, sizeof out->level, "%s", u->level);
    for (int depth = 0; u && depth < 10; depth++, u = s_find(org, u->parent)) {
        if (!out->compound[0] && strcmp(u->level, "compound") == 0) {
            snprintf(out->compound, sizeof out->compound, "%s", u->code);
            snprintf(out->compound_name, sizeof out->compound_name, "%s", u->name);
        }
        if (!out->community[0] && strcmp(u->level, "community") == 0)
            snprintf(out->community, sizeof out->community, "%s", u->code);
    }
    return true;
}
