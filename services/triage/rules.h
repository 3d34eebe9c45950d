/* rules.h: the classification rules of hl-triage as pure data and a pure
 * evaluation function (no I/O), so they can be tested without a database.
 * ruleload.c fills a rule set from triage.rule; appeal.c evaluates it. */
#ifndef TRIAGE_RULES_H
#define TRIAGE_RULES_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    TRIAGE_SIZE_NONE = 0, /* not decided (a category-only rule) */
    TRIAGE_SIZE_WISH,     /* micro-wish: the claim board */
    TRIAGE_SIZE_SMALL,    /* small: the compound's three-party council */
    TRIAGE_SIZE_LARGE,    /* large: the regional alliance */
} triage_size_t;

#define TRIAGE_SIZE_COUNT 4 /* including TRIAGE_SIZE_NONE */

/* "wish", "small", "large"; "" for TRIAGE_SIZE_NONE. */
const char *triage_size_name(triage_size_t size);
/* Parses "wish", "small" or "large"; returns -1 for anything else. */
int triage_size_parse(const char *s);

/* One rule as stored in triage.rule, in text form (as libpq returns it).
 * Strings are borrowed; NULL stands for SQL NULL. */
typedef struct {
    long long id;             /* triage.rule.id */
    int version;              /* triage.rule.version */
    int priority;             /* lower runs first */
    const char *category;     /* condition on the given category, or NULL */
    const char *channel;      /* condition on the channel, or NULL */
    const char *keywords;     /* text[] literal, e.g. {想请,代为}; NULL or {} for none */
    const char *exclude;      /* text[] literal of phrases that must not occur */
    const char *size;         /* "wish", "small", "large" or NULL */
    const char *set_category; /* category inferred, or NULL */
    double weight;            /* 0: decides when it matches; else a scope cue's vote */
    const char *model;        /* NULL, or "size": the row stands for the learned size
                                 model (sizemodel.h) and has no other content */
} triage_rule_spec_t;

/* One rule, parsed and normalised; owned by its rule set. */
typedef struct {
    long long id;       /* triage.rule.id */
    int version;        /* its version */
    int priority;       /* evaluation order */
    char *category;     /* condition, or NULL */
    char *channel;      /* condition, or NULL */
    char **keywords;    /* any of these (normalised), none when nkeywords is 0 */
    size_t nkeywords;   /* count */
    char **exclude;     /* none of these (normalised) */
    size_t nexclude;    /* count */
    triage_size_t size; /* outcome, or TRIAGE_SIZE_NONE */
    char *set_category; /* outcome, or NULL */
    double weight;      /* 0: decisive; else this cue's vote for `size` (may be negative) */
    bool model;         /* stands for the learned size model (sizemodel.h) */
} triage_rule_t;

typedef struct triage_rules triage_rules_t;

/* What the rules look at. Strings are borrowed; NULL or "" means absent. */
typedef struct {
    const char *channel;  /* qr, mailbox, visit, ... */
    const char *category; /* the category the resident chose */
    const char *title;    /* the resident's title */
    const char *body;     /* the appeal text */
    const char *place;    /* the compound's name, cut out before matching (电力宿舍 and
                             教育局宿舍 name no department), or NULL */
} triage_appeal_view_t;

/* The verdict. Pointers borrow from the rule set and the appeal view, so
 * they live as long as both. */
typedef struct {
    triage_size_t size;                 /* decided size */
    const triage_rule_t *size_rule;     /* the rule that decided it */
    const char *category;               /* given, inferred, or NULL */
    const triage_rule_t *category_rule; /* the rule that inferred it, NULL if given or none */
    double votes[TRIAGE_SIZE_COUNT];    /* the scope cues' votes by size (all 0 if none ran) */
    unsigned cues;                      /* scope cues that matched */
    triage_size_t rules_size;           /* what the rules decided, before the size model */
    const triage_rule_t *rules_rule;    /* ... and the rule that decided it */
    double size_p;                      /* the model's probability of `size`; 0 when it
                                           did not run */
} triage_verdict_t;

/* An empty rule set; the caller owns it (triage_rules_destroy). */
triage_rules_t *triage_rules_new(void);
/* Frees the set and NULLs the caller's pointer. */
void triage_rules_destroy(triage_rules_t **rules);
/* Parses `spec` and adds it in priority order (ties by id). Returns 0, or
 * HL_EINVAL with a message in `err` (the set is unchanged). */
int triage_rules_add(triage_rules_t *rules, const triage_rule_spec_t *spec, char *err,
                     size_t errlen);
/* Rules in the set. */
size_t triage_rules_count(const triage_rules_t *rules);
/* The i-th rule in evaluation order (i < count). */
const triage_rule_t *triage_rules_at(const triage_rules_t *rules, size_t i);
/* True when some rule decides a size whatever the appeal says (a rule with
 * no conditions and a size): then every appeal gets a verdict. */
bool triage_rules_total(const triage_rules_t *rules);

/* Evaluates the rules on `appeal`: the first matching rule with a size
 * decides the size, where the scope cues (rules with a weight) count as one
 * rule standing at the place of the first of them: every matching cue adds
 * its weight to its size, and the size with the most votes, if above 0,
 * decides (ties: small, then wish, then large), its strongest matching cue
 * being the deciding rule; the category is the given one, else the set_category of
 * the first matching rule that has one. Returns 0, or HL_ENOENT when no rule
 * decided the size (the verdict's size is then TRIAGE_SIZE_NONE). */
int triage_rules_eval(const triage_rules_t *rules, const triage_appeal_view_t *appeal,
                      triage_verdict_t *out);
/* triage_rules_eval, then, when the set has an active size-model row
 * (model = 'size'), the learned size model (sizemodel.h): where it picks
 * another size, that is the verdict's size and the row its size_rule. The
 * model's inputs go to `x` when it is not NULL and the rules decided (the
 * evaluation dumps them for fitting), whether or not the model runs. */
struct triage_size_x;
int triage_rules_decide(const triage_rules_t *rules, const triage_appeal_view_t *appeal,
                        triage_verdict_t *out, struct triage_size_x *x);
/* True when the rules' size rests on nothing the appeal says: the rule
 * that decided it has no condition (rule 9999, "small, other"). Such a
 * size is a guess the consolidation need not respect. The size model's
 * verdict does not change this: it is about what the rules found. */
bool triage_verdict_guessed(const triage_verdict_t *v);
/* True when `rule` matches `appeal` (exposed for tests and tooling). */
bool triage_rule_matches(const triage_rule_t *rule, const triage_appeal_view_t *appeal);

/* Parses a one-dimensional PostgreSQL text[] literal ({a,"b c",d}) into a
 * NULL-terminated array of strings the caller frees with
 * triage_strings_free. NULL elements and nested arrays are refused.
 * Returns 0 or HL_EINVAL. A NULL literal gives an empty array. */
int triage_text_array_parse(const char *literal, char ***out, size_t *n);
void triage_strings_free(char ***strings);

/* Copies `s` into a new string for matching: white space (ASCII and the
 * ideographic space U+3000) removed, ASCII letters lower-cased. Phrases are
 * matched on characters, never on word boundaries. Caller frees. */
char *triage_normalize(const char *s);

#endif
