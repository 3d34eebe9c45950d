/* test_alloc: the growable buffer, JSON string escaping and hl_asprintf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "hl_alloc.h"

static void test_asprintf(void **state)
{
    (void)state;
    char *s = hl_asprintf("%s-%d-%05.1f", "ab", 42, 3.14159);
    assert_string_equal(s, "ab-42-003.1");
    free(s);
    s = hl_asprintf("%s", "");
    assert_string_equal(s, "");
    free(s);
    /* Longer than any stack buffer a lazy implementation might use. */
    char big[5000];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    s = hl_asprintf("<%s>", big);
    assert_int_equal(strlen(s), 5001);
    assert_int_equal(s[0], '<');
    assert_int_equal(s[5000], '>');
    assert_int_equal(s[2500], 'q');
    free(s);
}

static void test_strdup_and_zero_sizes(void **state)
{
    (void)state;
    char *s = hl_strdup("hello");
    assert_string_equal(s, "hello");
    free(s);
    s = hl_strndup("hello world", 5);
    assert_string_equal(s, "hello");
    free(s);
    s = hl_strndup("a\0b", 3);
    assert_int_equal(s[0], 'a');
    assert_int_equal(s[1], '\0');
    assert_int_equal(s[2], 'b');
    assert_int_equal(s[3], '\0');
    free(s);
    void *p = hl_malloc(0);
    assert_non_null(p);
    free(p);
    p = hl_calloc(0, 8);
    assert_non_null(p);
    free(p);
    int *z = hl_calloc(16, sizeof *z);
    for (int i = 0; i < 16; i++)
        assert_int_equal(z[i], 0);
    z = hl_realloc(z, 1024 * sizeof *z);
    z[1023] = 7;
    assert_int_equal(z[0], 0);
    free(z);
}

static void test_buf_append(void **state)
{
    (void)state;
    hl_buf_t b = {0};
    hl_buf_append(&b, "abc", 3);
    assert_int_equal(b.len, 3);
    assert_string_equal(b.data, "abc");
    hl_buf_append(&b, "defXX", 3);
    assert_int_equal(b.len, 6);
    assert_string_equal(b.data, "abcdef");
    hl_buf_append(&b, "", 0);
    assert_int_equal(b.len, 6);
    assert_string_equal(b.data, "abcdef");
    /* Embedded NUL bytes are kept; the terminator follows len. */
    hl_buf_append(&b, "g\0h", 3);
    assert_int_equal(b.len, 9);
    assert_memory_equal(b.data, "abcdefg\0h", 10);
    /* Grow well past the first allocation, byte by byte. */
    hl_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    for (int i = 0; i < 10000; i++) {
        char c = (char)('a' + i % 26);
        hl_buf_append(&b, &c, 1);
        assert_true(b.cap > b.len);
    }
    assert_int_equal(b.len, 10000);
    assert_int_equal(strlen(b.data), 10000);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(b.data[i], 'a' + i % 26);
    hl_buf_close(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    /* A closed buffer is reusable. */
    hl_buf_append(&b, "x", 1);
    assert_string_equal(b.data, "x");
    hl_buf_close(&b);
}

static void test_buf_printf(void **state)
{
    (void)state;
    hl_buf_t b = {0};
    hl_buf_printf(&b, "%d", 1);
    hl_buf_printf(&b, "%s", "");
    hl_buf_printf(&b, ",%s=%lld", "two", 2LL);
    assert_string_equal(b.data, "1,two=2");
    assert_int_equal(b.len, 7);
    char big[3000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    hl_buf_printf(&b, "[%s]", big);
    assert_int_equal(b.len, 7 + 3001);
    assert_int_equal(strlen(b.data), b.len);
    assert_int_equal(b.data[b.len - 1], ']');
    assert_int_equal(b.data[8], 'z');
    hl_buf_reset(&b);
    hl_buf_printf(&b, "%s", "");
    assert_non_null(b.data);
    assert_string_equal(b.data, "");
    hl_buf_close(&b);
}

/* Escapes `in`, checks the text against `want` and that JSON parsing of it
 * gives back exactly `in`. */
static void s_escape(const char *in, const char *want)
{
    hl_buf_t b = {0};
    hl_buf_append(&b, "\"", 1);
    hl_buf_json_escape(&b, in);
    hl_buf_append(&b, "\"", 1);
    if (want) {
        assert_int_equal(b.len, strlen(want) + 2);
        assert_memory_equal(b.data + 1, want, strlen(want));
    }
    json_error_t err;
    json_t *j = json_loads(b.data, JSON_DECODE_ANY, &err);
    if (!j)
        fail_msg("escaped text is not JSON: %s: %s", b.data, err.text);
    assert_true(json_is_string(j));
    assert_string_equal(json_string_value(j), in);
    json_decref(j);
    hl_buf_close(&b);
}

static void test_pgarray(void **state)
{
    (void)state;
    hl_buf_t b = {0};
    hl_buf_pgarray_end(&b);
    assert_string_equal(b.data, "{}");
    hl_buf_close(&b);
    hl_buf_pgarray_add(&b, "a,b");
    hl_buf_pgarray_add(&b, "q\"\\");
    hl_buf_pgarray_add(&b, "");
    hl_buf_pgarray_end(&b);
    assert_string_equal(b.data, "{\"a,b\",\"q\\\"\\\\\",\"\"}");
    hl_buf_close(&b);
}

static void test_json_escape(void **state)
{
    (void)state;
    s_escape("", "");
    s_escape("plain text", "plain text");
    s_escape("say \"hi\"", "say \\\"hi\\\"");
    s_escape("C:\\path\\", "C:\\\\path\\\\");
    s_escape("a\nb\rc\td", "a\\nb\\rc\\td");
    s_escape("\x01\x02\x1f", "\\u0001\\u0002\\u001f");
    s_escape("bell\a back\b ff\f vt\v", "bell\\u0007 back\\u0008 ff\\u000c vt\\u000b");
    s_escape("slash / stays", "slash / stays");
    s_escape("\x7f", "\x7f");
    /* UTF-8 passes through unchanged. */
    s_escape("街道 社区 \"网格\"", "街道 社区 \\\"网格\\\"");
    s_escape("emoji \xf0\x9f\x98\x80 ok", "emoji \xf0\x9f\x98\x80 ok");
    s_escape("ü é ñ", "ü é ñ");
}

/* Bytes that are not UTF-8 (a client's, or text cut at a byte count) become
 * U+FFFD: a log line quoting them was not JSON. */
static void test_json_escape_not_utf8(void **state)
{
    (void)state;
    hl_buf_t b = {0};
    hl_buf_json_escape(&b, "key \"\xe4\xbf\" \xff\xc0\xaf end \xe4\xbf\xa1");
    assert_string_equal(b.data,
                        "key \\\"\\ufffd\\ufffd\\\" \\ufffd\\ufffd\\ufffd end \xe4\xbf\xa1");
    hl_buf_close(&b);
}

static void test_json_escape_every_byte(void **state)
{
    (void)state;
    /* Every ASCII byte 1..127 in one string survives a JSON round trip. */
    char all[128];
    for (int i = 1; i < 128; i++)
        all[i - 1] = (char)i;
    all[127] = '\0';
    s_escape(all, NULL);
    /* Appending to existing content keeps it. */
    hl_buf_t b = {0};
    hl_buf_append(&b, "x=", 2);
    hl_buf_json_escape(&b, "\"");
    assert_string_equal(b.data, "x=\\\"");
    hl_buf_close(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_asprintf),
        cmocka_unit_test(test_strdup_and_zero_sizes),
        cmocka_unit_test(test_buf_append),
        cmocka_unit_test(test_pgarray),
        cmocka_unit_test(test_buf_printf),
        cmocka_unit_test(test_json_escape),
        cmocka_unit_test(test_json_escape_not_utf8),
        cmocka_unit_test(test_json_escape_every_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
