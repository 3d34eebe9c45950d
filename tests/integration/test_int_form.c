/* test_int_form: the QR channel as a resident meets it.
 *
 * `hlctl qr` writes a QR code for every mailbox and compound (SVG and PNG);
 * nothing here decodes a QR matrix, so the test checks the files (one per
 * mailbox and compound, well-formed SVG with the URL in its <title>, PNG
 * signature and a square IHDR) and then "scans" one by opening the URL from
 * the SVG in headless Chromium, with a prepared appeal in the fragment that
 * the page fills in and submits. It reads the tracking code from the DOM,
 * finds the row in PostgreSQL anchored to the mailbox's compound, and opens
 * the status page. Skips cleanly when /usr/bin/chromium is not installed. */
#include "hl_testflow.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#define S_CHROMIUM "/usr/bin/chromium"

static hl_cluster_t s_c;
static PGconn *s_db;
static bool s_ok = true;
static char s_qrdir[300];

static int s_setup(void **state)
{
    (void)state;
    static const char *const env[] = {"HL_RATE_EXEMPT=127.0.0.1", NULL};
    if (access(S_CHROMIUM, X_OK) != 0)
        return 0;
    int rc = hl_test_cluster_up(&s_c, &s_db, "hl_int_form", 1, env);
    snprintf(s_qrdir, sizeof s_qrdir, "%s/qr", s_c.dir);
    return rc;
}

static int s_teardown(void **state)
{
    (void)state;
    if (access(S_CHROMIUM, X_OK) == 0)
        hl_test_cluster_down(&s_c, s_db, s_ok);
    return 0;
}

/* Runs a shell command and returns its standard output (caller frees). */
static char *s_run(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    size_t n;
    while ((n = fread(out + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (cap - len < 4096)
            out = realloc(out, cap *= 2);
    }
    out[len] = '\0';
    pclose(p);
    return out;
}

/* The DOM of `url` after its scripts ran (virtual time lets fetches settle). */
static char *s_dom(const char *url)
{
    char dir[] = "/tmp/hl-chromium-XXXXXX", cmd[2048];
    assert_non_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd,
             "timeout %d " S_CHROMIUM " --headless --no-sandbox --disable-gpu"
             " --disable-background-networking --disable-component-update --disable-sync"
             " --no-first-run --user-data-dir=%s --virtual-time-budget=8000 --dump-dom '%s'"
             " 2>/dev/null; rm -rf %s",
             (int)(60 * hl_test_mult()), dir, url, dir);
    return s_run(cmd);
}

/* Copies the text of the element with id `id` (no nested tags) into out. */
static bool s_element_text(const char *dom, const char *id, char *out, size_t size)
{
    char needle[64];
    snprintf(needle, sizeof needle, "id=\"%s\"", id);
    const char *p = strstr(dom, needle);
    if (!p || !(p = strchr(p, '>')))
        return false;
    const char *end = strchr(++p, '<');
    if (!end || (size_t)(end - p) >= size)
        return false;
    memcpy(out, p, (size_t)(end - p));
    out[end - p] = '\0';
    return true;
}

static void test_qr_files(void **state)
{
    (void)state;
    if (!hl_test_pg() || access(S_CHROMIUM, X_OK) != 0)
        skip();
    s_ok = false;
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "HL_DATABASE_URL='%s' HL_PUBLIC_URL=http://127.0.0.1:%d/ %s qr --out %s", s_c.db_url,
             s_c.http_port[HL_T_INTAKE], hl_test_bin("hlctl"), s_qrdir);
    char *out = s_run(cmd);
    assert_non_null(strstr(out, "wrote 216 QR codes (122 mailboxes, 94 compounds)"));
    free(out);
    PGresult *r = PQexec(s_db, "SELECT CASE kind WHEN 'mailbox' THEN 'mailbox-' ||"
                               " lpad(m.number::text, 3, '0') ELSE 'compound-' || q.compound END,"
                               " q.token FROM org.qr_code q"
                               " LEFT JOIN org.mailbox m ON m.qr_token = q.token");
    assert_int_equal(PQntuples(r), 122 + 94);
    for (int i = 0; i < PQntuples(r); i++) {
        char path[512], title[256], buf[8192];
        snprintf(path, sizeof path, "%s/%s.svg", s_qrdir, PQgetvalue(r, i, 0));
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = '\0';
        fseek(f, -8, SEEK_END);
        char tail[9] = {0};
        assert_int_equal(fread(tail, 1, 8, f), 8);
        fclose(f);
        assert_int_equal(strncmp(buf, "<?xml", 5), 0);
        assert_non_null(strstr(buf, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert_non_null(strstr(tail, "</svg>"));
        snprintf(title, sizeof title, "<title>http://127.0.0.1:%d/r?src=%s</title>",
                 s_c.http_port[HL_T_INTAKE], PQgetvalue(r, i, 1));
        assert_non_null(strstr(buf, title));

        snprintf(path, sizeof path, "%s/%s.png", s_qrdir, PQgetvalue(r, i, 0));
        f = fopen(path, "rb");
        assert_non_null(f);
        unsigned char png[24];
        assert_int_equal(fread(png, 1, sizeof png, f), sizeof png);
        fclose(f);
        assert_memory_equal(png, "\x89PNG\r\n\x1a\n", 8);
        assert_memory_equal(png + 12, "IHDR", 4);
        uint32_t w = (uint32_t)png[16] << 24 | png[17] << 16 | png[18] << 8 | png[19];
        uint32_t h = (uint32_t)png[20] << 24 | png[21] << 16 | png[22] << 8 | png[23];
        assert_true(w >= 21 * 8 && w == h);
    }
    PQclear(r);
    s_ok = true;
}

static void test_form_submit_and_track(void **state)
{
    (void)state;
    if (!hl_test_pg() || access(S_CHROMIUM, X_OK) != 0)
        skip();
    s_ok = false;
    /* "Scan" mailbox 3's code: the URL printed in its SVG. */
    char path[512], svg[8192], url[1024];
    snprintf(path, sizeof path, "%s/mailbox-003.svg", s_qrdir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    svg[fread(svg, 1, sizeof svg - 1, f)] = '\0';
    fclose(f);
    const char *t = strstr(svg, "<title>");
    assert_non_null(t);
    t += 7;
    snprintf(url, sizeof url, "%.*s", (int)(strstr(t, "</title>") - t), t);
    long before = hl_test_scalar(s_db, "SELECT count(*) FROM intake.appeal");

    /* 小区东门路灯坏了一周 / 李四 / roads */
    char full[2048];
    snprintf(full, sizeof full,
             "%s#category=roads&body=%%E5%%B0%%8F%%E5%%8C%%BA%%E4%%B8%%9C%%E9%%97%%A8%%E8%%B7%%AF"
             "%%E7%%81%%AF%%E5%%9D%%8F%%E4%%BA%%86%%E4%%B8%%80%%E5%%91%%A8"
             "&name=%%E6%%9D%%8E%%E5%%9B%%9B&phone=13900002222&submit=1",
             url);
    char *dom = s_dom(full);
    char code[64] = "";
    if (!s_element_text(dom, "tracking-code", code, sizeof code) || strlen(code) != 12)
        fail_msg("no tracking code in the page:\n%.2000s", dom);
    free(dom);
    char q[512];
    snprintf(q, sizeof q,
             "SELECT count(*) FROM intake.appeal a JOIN org.mailbox m ON m.qr_token = a.qr_token"
             " WHERE a.tracking_code = '%s' AND a.channel = 'qr' AND a.qr_token = 'mb-003'"
             " AND a.org_unit = m.compound AND a.category = 'roads'"
             " AND a.body = '小区东门路灯坏了一周' AND a.resident_id IS NOT NULL",
             code);
    assert_int_equal(hl_test_scalar(s_db, q), 1);
    assert_int_equal(hl_test_scalar(s_db, "SELECT count(*) FROM intake.appeal"), before + 1);

    /* The status page shows it, in Chinese. */
    snprintf(full, sizeof full, "http://127.0.0.1:%d/t/%s", s_c.http_port[HL_T_INTAKE], code);
    dom = s_dom(full);
    char status[128] = "";
    assert_true(s_element_text(dom, "result-code", status, sizeof status));
    assert_string_equal(status, code);
    assert_true(s_element_text(dom, "status", status, sizeof status));
    assert_non_null(strstr(status, "已")); /* 已受理 or a later step */
    assert_non_null(strstr(dom, "<li data-status=\"received\">"));
    free(dom);

    /* Without a source the form says to scan a code and sends nothing. */
    snprintf(full, sizeof full, "http://127.0.0.1:%d/form#body=x&submit=1",
             s_c.http_port[HL_T_INTAKE]);
    dom = s_dom(full);
    assert_non_null(strstr(dom, "<p id=\"nosrc\" class=\"error\">"));
    free(dom);
    assert_int_equal(hl_test_scalar(s_db, "SELECT count(*) FROM intake.appeal"), before + 1);

    /* The pages carry a strict Content-Security-Policy. */
    snprintf(full, sizeof full, "curl -s -m 5 -D - -o /dev/null http://127.0.0.1:%d/r?src=cp-cp001",
             s_c.http_port[HL_T_INTAKE]);
    char *headers = s_run(full);
    assert_non_null(
        strstr(headers, "Content-Security-Policy: default-src 'none'; script-src 'self'"));
    free(headers);
    s_ok = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qr_files),
        cmocka_unit_test(test_form_submit_and_track),
    };
    return cmocka_run_group_tests_name("integration: QR codes and the resident form", tests,
                                       s_setup, s_teardown);
}
