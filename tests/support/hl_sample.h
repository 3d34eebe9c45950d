/* hl_sample: data files of the repository for the tests — its root, the
 * rows between two markers of a migration's seed INSERT, and the shared
 * sample of appeals (../shared/data/sample-appeals.jsonl beside the
 * repository, which may be absent). */
#ifndef HL_SAMPLE_H
#define HL_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>

/* Finds the repository root (the directory holding migrations/) from the
 * working directory or up to three levels above it, as a relative path. */
bool hl_test_repo_root(char *out, size_t len);

/* Calls `row` with the `ncols` SQL literals (numbers and '...' strings as
 * text, NULL as NULL; freed after the call) of every "    (" line between
 * the lines holding "-- <marker> begin" and "-- <marker> end" of the file
 * at `relpath` below the repository root. Fails the test when the file is
 * missing or a literal is malformed. ncols at most 16. */
void hl_test_sql_rows(const char *relpath, const char *marker, int ncols,
                      void (*row)(char **v, void *arg), void *arg);

/* One appeal of the shared sample; fields absent from its line are NULL
 * (compound 0). */
typedef struct {
    char *id;           /* sample id */
    long long compound; /* N of compound cpNNN */
    char *channel;      /* intake channel */
    char *body;         /* the appeal's text */
    char *size;         /* true size: wish, small, large */
    char *matter;       /* true matter (appeals of one matter belong together) */
    char *category;     /* true category, or NULL */
} hl_sample_t;

/* Loads the sample in file order (lines that are not JSON are left out)
 * into *n rows; returns NULL, after printing "# <path> is absent", when it
 * is not there (the test then skips). Free with hl_test_sample_free. */
hl_sample_t *hl_test_sample_load(size_t *n);
/* The same for a file of that shape at `relpath` below the repository root
 * (tests/data/...); NULL, after printing "# <path> is absent", when absent. */
hl_sample_t *hl_test_sample_load_file(const char *relpath, size_t *n);
/* The name of compound cpNNN (1-based `index`) as seeded by
 * migrations/002_org.sql (its compound_names array); fails the test when
 * it cannot be read. */
void hl_test_compound_name(int index, char *out, size_t len);
void hl_test_sample_free(hl_sample_t *rows, size_t n);

#endif
