/* text.c: small pure text helpers of hl-triage. An item needs a title for
 * the commissioner's queue, the wish board and the alliance agenda; most
 * appeals (a typed-in letter, a visit note, a QR form) come without one, so
 * one is cut from the opening of the text. */
#include "triage.h"

#include <stdlib.h>
#include <string.h>

/* Length in bytes of the UTF-8 sequence starting at `s` (1 for stray bytes). */
static size_t s_seq_len(const char *s)
{
    unsigned cp;
    int n = hl_utf8_next((const unsigned char *)s, &cp);
    return n > 0 ? (size_t)n : 1;
}

static bool s_is_space(const char *s, size_t len)
{
    return (len == 1 && strchr(" \t\r\n\f\v", *s)) ||
           (len == 3 && memcmp(s, "\xE3\x80\x80", 3) == 0); /* U+3000 */
}

/* Sentence ends: 。！？； and their ASCII forms, and line breaks. */
static bool s_is_stop(const char *s, size_t len)
{
    static const char *const stops[] = {"。", "！", "？", "；", "!", "?", ";", "\n", "\r"};
    for (size_t i = 0; i < sizeof stops / sizeof stops[0]; i++)
        if (strlen(stops[i]) == len && memcmp(stops[i], s, len) == 0)
            return true;
    return false;
}

/* Skips white space and sentence ends. */
static const char *s_skip_blank(const char *p)
{
    while (*p) {
        size_t n = s_seq_len(p);
        if (!s_is_space(p, n) && !s_is_stop(p, n))
            break;
        p += n;
    }
    return p;
}

/* True when the clause [p, end) opens a letter: it starts with 致, 各位,
 * 尊敬的 or 亲爱的, or ends by greeting someone (您好, 书记好, 姐姐好 ...). */
static bool s_is_salutation(const char *p, const char *end)
{
    static const char *const starts[] = {"致", "各位", "尊敬的", "亲爱的"};
    static const char *const ends[] = {"您好",   "你好",   "们好",    "书记好", "主任好",
                                       "姐姐好", "哥哥好", "阿姨好",  "叔叔好", "同志好",
                                       "干部好", "领导好", "网格员好"};
    size_t len = (size_t)(end - p);
    for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++)
        if (len > strlen(starts[i]) && strncmp(p, starts[i], strlen(starts[i])) == 0)
            return true;
    for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++) {
        size_t n = strlen(ends[i]);
        if (len >= n && memcmp(end - n, ends[i], n) == 0)
            return true;
    }
    return false;
}

/* A letter's salutation ("书记您好：", "致社区居委会：", "各位社区干部好！"):
 * a short opening clause closed by a sentence end, a colon or a comma.
 * Returns what follows it, or `p` when there is none. */
static const char *s_skip_salutation(const char *p)
{
    static const char *const closers[] = {"：", ":", "，", ","};
    const char *q = p;
    for (size_t chars = 0; *q && chars <= 12; chars++) {
        size_t n = s_seq_len(q);
        bool closer = s_is_stop(q, n);
        for (size_t i = 0; !closer && i < sizeof closers / sizeof closers[0]; i++)
            closer = strlen(closers[i]) == n && memcmp(closers[i], q, n) == 0;
        if (closer)
            return s_is_salutation(p, q) ? s_skip_blank(q + n) : p;
        q += n;
    }
    return p;
}

char *triage_title_from_body(const char *body, size_t max)
{
    /* Leading white space, sentence ends and a salutation say nothing. */
    const char *p = s_skip_blank(body ? body : "");
    const char *rest = s_skip_salutation(p);
    if (*rest)
        p = rest;
    /* The first sentence, cut to `max` characters as every title is. */
    const char *end = p;
    while (*end && !s_is_stop(end, s_seq_len(end)))
        end += s_seq_len(end);
    char *sentence = hl_strndup(p, (size_t)(end - p));
    size_t len = max * 4 + 4; /* max characters of up to 4 bytes, and "…" */
    char *out = hl_malloc(len);
    size_t n = hl_text_cut(out, len, sentence, max);
    free(sentence);
    if (n == 0) {
        free(out);
        return hl_strdup("（无标题）");
    }
    return out;
}
