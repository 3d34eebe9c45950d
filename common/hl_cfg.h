/* hl_cfg: configuration as one declarative table per service.
 *
 * Each entry names an HL_* environment variable, its type, default, bounds
 * and meaning, and where in the service's config struct it lands. The table
 * is parsed once at start into a struct the service then passes around as
 * const; nothing reads getenv() later. An unknown HL_* variable, or a value
 * out of range, stops start-up and names the key. */
#ifndef HL_CFG_H
#define HL_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum {
    HL_CFG_STR,   /* const char * (points into the environment or the default) */
    HL_CFG_INT,   /* long long, checked against [min, max] */
    HL_CFG_BOOL,  /* bool: 0/1, true/false, yes/no, on/off */
    HL_CFG_TABLE, /* the rows of another table, whose offsets count from `offset`: e.g.
                     hl_service.h's rows every daemon shares, in a service's table. `def`
                     is that table (HL_CFG_SUBTABLE), ended by a row with key NULL */
} hl_cfg_type_t;

typedef struct hl_cfg_entry {
    const char *key;    /* environment variable, e.g. "HL_HTTP_PORT" */
    hl_cfg_type_t type; /* how the value is parsed */
    const char *def;    /* default, as text */
    long long min;      /* lower bound (HL_CFG_INT) */
    long long max;      /* upper bound (HL_CFG_INT) */
    size_t offset;      /* offsetof() the field in the config struct */
    bool secret;        /* never printed (URLs have their password masked anyway) */
    const char *desc;   /* one line for --help and the README */
} hl_cfg_entry_t;

/* The `def` of an HL_CFG_TABLE row: rows stay eight fields, so every
 * service's positional table compiles as it did. */
#define HL_CFG_SUBTABLE(rows) ((const char *)(rows))

/* Fills `out` from the environment per `table`. On a bad value writes a
 * message naming the key into `err` and returns HL_ECONFIG. HL_* variables
 * that appear in none of the `known` tables (NULL-terminated list of
 * table/count pairs is too clumsy, so: `table` plus `extra_known`, a
 * NULL-terminated list of other keys the process accepts) are refused too. */
int hl_cfg_load(const hl_cfg_entry_t *table, size_t n, void *out, const char *const *extra_known,
                char *err, size_t errlen);

/* Prints the table as --help text. */
void hl_cfg_help(FILE *f, const char *program, const hl_cfg_entry_t *table, size_t n);

/* Logs the effective configuration once, one line, secrets and passwords masked. */
void hl_cfg_log(const hl_cfg_entry_t *table, size_t n, const void *cfg);

/* Copies `url` into `out` with any password replaced by "***". */
void hl_cfg_mask_url(const char *url, char *out, size_t outlen);

#endif
