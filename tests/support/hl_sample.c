/* hl_sample: the repository's root, seed rows of a migration and the
 * shared sample of appeals, for the tests. */
#include "hl_sample.h"

#include "hl_alloc.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

bool hl_test_repo_root(char *out, size_t len)
{
    const char *ups[] = {".", "..", "../..", "../../.."};
    for (size_t i = 0; i < sizeof ups / sizeof ups[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/migrations/001_base.sql", ups[i]);
        if (access(path, R_OK) == 0) {
            snprintf(out, len, "%s", ups[i]);
            return true;
        }
    }
    return false;
}

/* Reads one SQL literal (number, NULL or '...' with '' escapes) at *p. */
static char *s_sql_literal(const char **p)
{
    while (**p == ' ' || **p == ',')
        (*p)++;
    if (**p == '\'') {
        hl_buf_t b = {0};
        (*p)++;
        for (;;) {
            if (**p == '\0')
                fail_msg("unterminated string in a seed row");
            if (**p == '\'' && (*p)[1] == '\'') {
                hl_buf_append(&b, "'", 1);
                *p += 2;
            } else if (**p == '\'') {
                (*p)++;
                break;
            } else {
                hl_buf_append(&b, (*p)++, 1);
            }
        }
        return b.data ? b.data : hl_strdup("");
    }
    const char *start = *p;
    while (**p && **p != ',' && **p != ')')
        (*p)++;
    char *tok = hl_strndup(start, (size_t)(*p - start));
    if (strcmp(tok, "NULL") == 0) {
        free(tok);
        return NULL;
    }
    return tok;
}

void hl_test_sql_rows(const char *relpath, const char *marker, int ncols,
                      void (*row)(char **v, void *arg), void *arg)
{
    char root[64], path[600], line[4096], begin[128], end[128];
    if (!hl_test_repo_root(root, sizeof root))
        fail_msg("cannot find %s from the working directory", relpath);
    snprintf(path, sizeof path, "%s/%s", root, relpath);
    snprintf(begin, sizeof begin, "-- %s begin", marker);
    snprintf(end, sizeof end, "-- %s end", marker);
    assert_true(ncols > 0 && ncols <= 16);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    bool in = false;
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, begin))
            in = true;
        else if (strstr(line, end))
            break;
        else if (in && strncmp(line, "    (", 5) == 0) {
            const char *p = line + 5;
            char *v[16];
            for (int i = 0; i < ncols; i++)
                v[i] = s_sql_literal(&p);
            row(v, arg);
            for (int i = 0; i < ncols; i++)
                free(v[i]);
        }
    }
    fclose(f);
}

static char *s_dup(json_t *j, const char *key)
{
    const char *v = json_string_value(json_object_get(j, key));
    return v ? hl_strdup(v) : NULL;
}

static hl_sample_t *s_load(const char *path, size_t *n)
{
    *n = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("# %s is absent\n", path);
        return NULL;
    }
    size_t cap = 64;
    hl_sample_t *rows = calloc(cap, sizeof *rows);
    char line[16384];
    while (fgets(line, sizeof line, f)) {
        json_t *j = json_loads(line, 0, NULL);
        if (!j)
            continue;
        if (*n == cap)
            rows = realloc(rows, (cap *= 2) * sizeof *rows);
        hl_sample_t *r = &rows[(*n)++];
        r->id = s_dup(j, "id");
        r->compound = json_integer_value(json_object_get(j, "compound"));
        r->channel = s_dup(j, "channel");
        r->body = s_dup(j, "body");
        r->size = s_dup(j, "size");
        r->matter = s_dup(j, "matter");
        r->category = s_dup(j, "category");
        json_decref(j);
    }
    fclose(f);
    return rows;
}

hl_sample_t *hl_test_sample_load(size_t *n)
{
    return hl_test_sample_load_file("../shared/data/sample-appeals.jsonl", n);
}

hl_sample_t *hl_test_sample_load_file(const char *relpath, size_t *n)
{
    char root[64], path[600];
    *n = 0;
    if (!hl_test_repo_root(root, sizeof root))
        fail_msg("cannot find the repository root");
    snprintf(path, sizeof path, "%s/%s", root, relpath);
    return s_load(path, n);
}

void hl_test_compound_name(int index, char *out, size_t len)
{
    char root[64], path[600], line[4096];
    out[0] = '\0';
    if (!hl_test_repo_root(root, sizeof root))
        fail_msg("cannot find the repository root");
    snprintf(path, sizeof path, "%s/migrations/002_org.sql", root);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot read %s", path);
    /* compound_names constant text[] := ARRAY[ '青枫苑', '蓝湾丽都', ... ]; */
    bool in = false;
    int k = 0;
    while (!out[0] && fgets(line, sizeof line, f)) {
        if (!in && !strstr(line, "compound_names constant text[]"))
            continue;
        in = true;
        for (char *p = strchr(line, '\''); p && !out[0]; p = strchr(p, '\'')) {
            char *end = strchr(p + 1, '\'');
            if (!end)
                break;
            if (++k == index)
                snprintf(out, len, "%.*s", (int)(end - p - 1), p + 1);
            p = end + 1;
        }
        if (strstr(line, "];"))
            break;
    }
    fclose(f);
    if (!out[0])
        fail_msg("no name for compound %d in %s", index, path);
}

void hl_test_sample_free(hl_sample_t *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].id);
        free(rows[i].channel);
        free(rows[i].body);
        free(rows[i].size);
        free(rows[i].category);
        free(rows[i].matter);
    }
    free(rows);
}
