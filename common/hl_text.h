/* hl_text: checking the text people send us — UTF-8 that really is UTF-8
 * (no overlong forms, surrogates or values past U+10FFFF), no control
 * characters, not blank, and within a length counted in characters (a
 * Chinese character is one character, not three bytes). Every daemon checks
 * its fields with these, so the rules and the wording of refusals are the
 * same everywhere. */
#ifndef HL_TEXT_H
#define HL_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Decodes one code point at `p` into *cp; returns its length in bytes (1-4),
 * or 0 when `p` does not start a valid UTF-8 sequence. */
int hl_utf8_next(const unsigned char *p, unsigned *cp);
/* Number of code points in `s`, or -1 when it is not valid UTF-8. */
long hl_utf8_len(const char *s);
/* Replaces, in place, every byte of `s` that does not start a valid UTF-8
 * sequence with '?'. For messages that quote what a client sent: raw bytes,
 * or text cut at a byte count ("%.40s" may cut a character in two), must be
 * made text before they go where nothing else is taken (JSON, XML,
 * PostgreSQL text columns): jansson refuses to pack them, and an error
 * reply would lose its body. */
void hl_utf8_repair(char *s);
/* Why `s` is not acceptable as a text field, or NULL when it is: "is missing"
 * and "is empty" (only when `required`), "is not valid UTF-8", "contains
 * control characters" (tab and newlines allowed when `multiline`), "is
 * blank" (spaces only, the ideographic space U+3000 included), "is too long"
 * (more than `max` characters). The string is static. */
const char *hl_text_problem(const char *s, size_t max, bool required, bool multiline);
/* hl_text_problem as a sentence naming the field ("title is too long (the
 * limit is 200 characters)") written to `why`; returns true when acceptable. */
bool hl_text_check(const char *name, const char *s, size_t max, bool required, bool multiline,
                   char *why, size_t len);
/* Writes text `s` as one line into `out` (`outlen` bytes, NUL included),
 * for a title made from a body or a reason quoting one: runs of white space
 * (tabs, line breaks, U+3000 included) become one space, space at either end
 * is dropped, bytes that are not UTF-8 become '?'. At most `max_chars`
 * characters are kept; when any of the text is left out (past `max_chars`,
 * or past what `outlen` holds, always at a character boundary) "…" follows
 * them. Returns the bytes written, NUL not counted. Pure. */
size_t hl_text_cut(char *out, size_t outlen, const char *s, size_t max_chars);
/* Parses an integer parameter (a query string's limit, page, ...): `text`
 * NULL gives `def`; otherwise 1 to 9 ASCII digits and nothing else (no
 * sign, no spaces), within [min, max]. Returns true with *out set, or
 * false with *out untouched. */
bool hl_parse_long(const char *text, long def, long min, long max, long *out);

#endif
