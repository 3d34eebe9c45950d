/* hl_cfg: parse HL_* variables per a declarative table. */
#include "hl_cfg.h"

#include "hl_alloc.h"
#include "hl_err.h"
#include "hl_log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

extern char **environ;

static int s_parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return HL_EINVAL;
}

/* `table` with every HL_CFG_TABLE row replaced by its rows (offsets
 * added), into a new array the caller frees; its length in *flat_n. */
static size_t s_flatten_into(const hl_cfg_entry_t *table, size_t n, size_t base,
                             hl_cfg_entry_t *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (table[i].type != HL_CFG_TABLE) {
            if (out) {
                out[k] = table[i];
                out[k].offset += base;
            }
            k++;
            continue;
        }
        const hl_cfg_entry_t *rows = (const hl_cfg_entry_t *)(const void *)table[i].def;
        size_t sub = 0;
        while (rows[sub].key)
            sub++;
        k += s_flatten_into(rows, sub, base + table[i].offset, out ? out + k : NULL);
    }
    return k;
}

static hl_cfg_entry_t *s_flatten(const hl_cfg_entry_t *table, size_t n, size_t *flat_n)
{
    *flat_n = s_flatten_into(table, n, 0, NULL);
    hl_cfg_entry_t *flat = hl_calloc(*flat_n + 1, sizeof *flat);
    s_flatten_into(table, n, 0, flat);
    return flat;
}

static bool s_known(const char *key, size_t keylen, const hl_cfg_entry_t *table, size_t n,
                    const char *const *extra)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(table[i].key) == keylen && strncmp(table[i].key, key, keylen) == 0)
            return true;
    for (; extra && *extra; extra++)
        if (strlen(*extra) == keylen && strncmp(*extra, key, keylen) == 0)
            return true;
    return false;
}

static int s_load(const hl_cfg_entry_t *table, size_t n, void *out, const char *const *extra_known,
                  char *err, size_t errlen);

int hl_cfg_load(const hl_cfg_entry_t *table, size_t n, void *out, const char *const *extra_known,
                char *err, size_t errlen)
{
    size_t flat_n;
    hl_cfg_entry_t *flat = s_flatten(table, n, &flat_n);
    int rc = s_load(flat, flat_n, out, extra_known, err, errlen);
    free(flat);
    return rc;
}

static int s_load(const hl_cfg_entry_t *table, size_t n, void *out, const char *const *extra_known,
                  char *err, size_t errlen)
{
    for (char **e = environ; e && *e; e++) {
        if (strncmp(*e, "HL_", 3) != 0)
            continue;
        const char *eq = strchr(*e, '=');
        size_t keylen = eq ? (size_t)(eq - *e) : strlen(*e);
        if (!s_known(*e, keylen, table, n, extra_known)) {
            snprintf(err, errlen, "unknown configuration variable \"%.*s\"", (int)keylen, *e);
            return HL_ECONFIG;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const hl_cfg_entry_t *c = &table[i];
        const char *v = getenv(c->key);
        if (!v)
            v = c->def;
        char *field = (char *)out + c->offset;
        switch (c->type) {
        case HL_CFG_STR:
            *(const char **)field = v;
            break;
        case HL_CFG_INT: {
            errno = 0;
            char *end = NULL;
            long long x = strtoll(v, &end, 10);
            if (errno || end == v || *end != '\0') {
                snprintf(err, errlen, "%s: \"%s\" is not a whole number", c->key, v);
                return HL_ECONFIG;
            }
            if (x < c->min || x > c->max) {
                snprintf(err, errlen, "%s: %lld is out of range [%lld, %lld]", c->key, x, c->min,
                         c->max);
                return HL_ECONFIG;
            }
            *(long long *)field = x;
            break;
        }
        case HL_CFG_BOOL:
            if (s_parse_bool(v, (bool *)field) != 0) {
                snprintf(err, errlen, "%s: \"%s\" is not a boolean (use 0 or 1)", c->key, v);
                return HL_ECONFIG;
            }
            break;
        case HL_CFG_TABLE: /* flattened away */
            break;
        }
    }
    return 0;
}

void hl_cfg_help(FILE *f, const char *program, const hl_cfg_entry_t *tree, size_t tree_n)
{
    size_t n;
    hl_cfg_entry_t *table = s_flatten(tree, tree_n, &n);
    fprintf(f, "usage: %s [--help]\n\nConfiguration (environment variables):\n", program);
    for (size_t i = 0; i < n; i++) {
        const hl_cfg_entry_t *c = &table[i];
        fprintf(f, "  %-24s %s (default \"%s\"", c->key, c->desc, c->def);
        if (c->type == HL_CFG_INT)
            fprintf(f, ", %lld..%lld", c->min, c->max);
        fprintf(f, ")\n");
    }
    free(table);
}

/* Returns where the value of the next "password" keyword at or after `p`
 * starts (libpq allows spaces around '='; "sslpassword" counts too), or NULL. */
static const char *s_next_password(const char *p)
{
    for (const char *k = strstr(p, "password"); k; k = strstr(k + 1, "password")) {
        const char *v = k + 8;
        while (*v == ' ' || *v == '\t')
            v++;
        if (*v != '=')
            continue;
        v++;
        while (*v == ' ' || *v == '\t')
            v++;
        return v;
    }
    return NULL;
}

/* Returns the end of the value at `v`: a quoted keyword value ends after its
 * closing quote (\' escapes), a bare one at white space or a URL's '&'. */
static const char *s_value_end(const char *v)
{
    if (*v != '\'')
        return v + strcspn(v, " \t\n&");
    for (v++; *v && *v != '\''; v++)
        if (*v == '\\' && v[1])
            v++;
    return *v ? v + 1 : v;
}

void hl_cfg_mask_url(const char *url, char *out, size_t outlen)
{
    /* postgresql://user:password@host/db -> postgresql://user:***@host/db;
     * keyword form "password=secret" and URL parameter "?password=secret"
     * -> "password=***", every occurrence. */
    hl_buf_t b = {0};
    hl_buf_append(&b, "", 0);
    const char *p = url;
    const char *scheme = strstr(url, "://");
    if (scheme) {
        const char *auth = scheme + 3;
        size_t authlen = strcspn(auth, "/?#");
        const char *at = NULL;
        for (const char *q = auth; q < auth + authlen; q++)
            if (*q == '@')
                at = q;
        const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
        if (colon) {
            hl_buf_append(&b, url, (size_t)(colon + 1 - url));
            hl_buf_append(&b, "***", 3);
            p = at;
        }
    }
    for (const char *v; (v = s_next_password(p)) != NULL; p = s_value_end(v)) {
        hl_buf_append(&b, p, (size_t)(v - p));
        hl_buf_append(&b, "***", 3);
    }
    hl_buf_append(&b, p, strlen(p));
    snprintf(out, outlen, "%s", b.data);
    hl_buf_close(&b);
}

void hl_cfg_log(const hl_cfg_entry_t *tree, size_t tree_n, const void *cfg)
{
    size_t n;
    hl_cfg_entry_t *table = s_flatten(tree, tree_n, &n);
    hl_buf_t b = {0};
    for (size_t i = 0; i < n; i++) {
        const hl_cfg_entry_t *c = &table[i];
        const char *field = (const char *)cfg + c->offset;
        hl_buf_printf(&b, "%s%s=", i ? " " : "", c->key);
        if (c->secret) {
            hl_buf_printf(&b, "***");
            continue;
        }
        switch (c->type) {
        case HL_CFG_STR: {
            char masked[512];
            hl_cfg_mask_url(*(const char *const *)field, masked, sizeof masked);
            hl_buf_printf(&b, "%s", masked);
            break;
        }
        case HL_CFG_INT:
            hl_buf_printf(&b, "%lld", *(const long long *)field);
            break;
        case HL_CFG_BOOL:
            hl_buf_printf(&b, "%d", *(const bool *)field ? 1 : 0);
            break;
        case HL_CFG_TABLE: /* flattened away */
            break;
        }
    }
    hl_info(NULL, NULL, "configuration: %s", b.data ? b.data : "");
    hl_buf_close(&b);
    free(table);
}
