/* hl_text: UTF-8 and text-field checks shared by every daemon. */
#include "hl_text.h"

#include <stdio.h>
#include <string.h>

int hl_utf8_next(const unsigned char *p, unsigned *cp)
{
    unsigned c = p[0], min;
    int more;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        more = 1, min = 0x80, c &= 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        more = 2, min = 0x800, c &= 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        more = 3, min = 0x10000, c &= 0x07;
    } else {
        return 0;
    }
    for (int i = 1; i <= more; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3F);
    }
    /* Overlong forms, values past U+10FFFF and surrogates are not UTF-8. */
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return more + 1;
}

long hl_utf8_len(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    long n = 0;
    while (*p) {
        unsigned cp;
        int len = hl_utf8_next(p, &cp);
        if (len == 0)
            return -1;
        p += len;
        n++;
    }
    return n;
}

void hl_utf8_repair(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        unsigned cp;
        int n = hl_utf8_next(p, &cp);
        if (n == 0)
            *p++ = '?';
        else
            p += n;
    }
}

const char *hl_text_problem(const char *s, size_t max, bool required, bool multiline)
{
    if (!s)
        return required ? "is missing" : NULL;
    if (!*s)
        return required ? "is empty" : NULL;
    const unsigned char *p = (const unsigned char *)s;
    size_t chars = 0;
    bool visible = false;
    while (*p) {
        unsigned cp;
        int n = hl_utf8_next(p, &cp);
        if (n == 0)
            return "is not valid UTF-8";
        bool space = cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0x3000;
        if ((cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) &&
            !(multiline && (cp == '\t' || cp == '\n' || cp == '\r')))
            return "contains control characters";
        visible = visible || !space;
        chars++;
        p += n;
    }
    if (!visible)
        return "is blank";
    if (chars > max)
        return "is too long";
    return NULL;
}

bool hl_text_check(const char *name, const char *s, size_t max, bool required, bool multiline,
                   char *why, size_t len)
{
    const char *problem = hl_text_problem(s, max, required, multiline);
    if (!problem)
        return true;
    if (strcmp(problem, "is too long") == 0)
        snprintf(why, len, "%s is too long (the limit is %zu characters)", name, max);
    else
        snprintf(why, len, "%s %s", name, problem);
    return false;
}

static bool s_is_space(unsigned cp)
{
    return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\v' || cp == '\f' ||
           cp == 0x3000;
}

size_t hl_text_cut(char *out, size_t outlen, const char *s, size_t max_chars)
{
    static const char ellipsis[] = "\xe2\x80\xa6"; /* "…" */
    const size_t elen = sizeof ellipsis - 1;
    if (outlen == 0)
        return 0;
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t used = 0, chars = 0, safe = 0; /* safe: a cut there leaves room for "…" */
    bool pending_space = false, cut = false;
    while (*p) {
        unsigned cp;
        int n = hl_utf8_next(p, &cp);
        bool bad = n == 0; /* a byte that is not UTF-8: written as '?' */
        if (bad)
            n = 1, cp = '?';
        if (s_is_space(cp)) {
            pending_space = chars > 0;
            p += n;
            continue;
        }
        size_t need_chars = (pending_space ? 1 : 0) + 1;
        size_t need_bytes = (pending_space ? 1 : 0) + (size_t)n;
        if (chars + need_chars > max_chars || used + need_bytes + 1 > outlen) {
            cut = true;
            break;
        }
        if (pending_space) {
            out[used++] = ' ';
            chars++;
            pending_space = false;
        }
        if (bad)
            out[used] = '?';
        else
            memcpy(out + used, p, (size_t)n);
        used += (size_t)n;
        chars++;
        p += n;
        if (used + elen + 1 <= outlen)
            safe = used;
    }
    if (cut) {
        if (used + elen + 1 > outlen)
            used = safe;
        while (used > 0 && out[used - 1] == ' ')
            used--;
        if (used + elen + 1 <= outlen) {
            memcpy(out + used, ellipsis, elen);
            used += elen;
        }
    }
    out[used] = '\0';
    return used;
}

bool hl_parse_long(const char *text, long def, long min, long max, long *out)
{
    if (!text) {
        *out = def;
        return true;
    }
    long v = 0;
    size_t n = 0;
    for (; text[n]; n++) {
        if (text[n] < '0' || text[n] > '9' || n >= 9)
            return false;
        v = v * 10 + (text[n] - '0');
    }
    if (n == 0 || v < min || v > max)
        return false;
    *out = v;
    return true;
}
