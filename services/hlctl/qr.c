/* qr.c: `hlctl qr [--out DIR]`, the QR codes to print and hang up.
 *
 * Every compound has a QR code at its gates and every red mailbox one of its
 * own (org.qr_code). Each encodes HL_PUBLIC_URL + "/r?src=" + the code's
 * token, which opens hl-intake's resident form already anchored to the
 * compound (services/intake/form.c). This writes, for each, an SVG (drawn
 * by hand: one path of unit squares, the URL in its <title> and as a
 * caption) and a PNG (libpng, 8-bit grey, 8 pixels per module), both with
 * the four-module quiet zone the standard asks for: DIR/mailbox-001.svg ...
 * mailbox-122.png and DIR/compound-cp001.svg ... compound-cp094.png. The
 * matrix itself comes from libqrencode, at error-correction level M. */
#include "hlctl.h"

#include <errno.h>
#include <png.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define S_QUIET 4 /* modules of white border */
#define S_SCALE 8 /* PNG pixels per module */

/* Creates `dir` and its parents. */
static int s_mkdirs(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(path, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static void s_xml(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

static int s_svg(const char *path, const QRcode *qr, const char *url, const char *caption)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int side = qr->width + 2 * S_QUIET, text = 6;
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%dmm\" "
            "height=\"%dmm\" shape-rendering=\"crispEdges\">\n<title>",
            side, side + text, side * 2, (side + text) * 2);
    s_xml(f, url);
    fputs("</title>\n<desc>", f);
    s_xml(f, caption);
    fprintf(f,
            "</desc>\n<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n<path fill=\"#000\" d=\"",
            side, side + text);
    for (int y = 0; y < qr->width; y++)
        for (int x = 0; x < qr->width; x++)
            if (qr->data[y * qr->width + x] & 1)
                fprintf(f, "M%d %dh1v1h-1z", x + S_QUIET, y + S_QUIET);
    fprintf(f,
            "\"/>\n<text x=\"%d\" y=\"%d\" font-size=\"3\" text-anchor=\"middle\" "
            "font-family=\"sans-serif\">",
            side / 2, side + 3);
    s_xml(f, caption);
    fputs("</text>\n</svg>\n", f);
    return fclose(f) == 0 ? 0 : -1;
}

static int s_png(const char *path, const QRcode *qr)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    int px = (qr->width + 2 * S_QUIET) * S_SCALE;
    png_bytep row = malloc((size_t)px);
    if (!png || !info || !row || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(row);
        fclose(f);
        return -1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)px, (png_uint_32)px, 8, PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < px; y++) {
        int my = y / S_SCALE - S_QUIET;
        for (int x = 0; x < px; x++) {
            int mx = x / S_SCALE - S_QUIET;
            bool dark = my >= 0 && my < qr->width && mx >= 0 && mx < qr->width &&
                        (qr->data[my * qr->width + mx] & 1);
            row[x] = dark ? 0 : 255;
        }
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(row);
    return fclose(f) == 0 ? 0 : -1;
}

/* Writes both files of one code; returns 0 or -1 (reported). */
static int s_code(const char *dir, const char *stem, const char *url, const char *caption)
{
    QRcode *qr = QRcode_encodeString(url, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!qr) {
        fprintf(stderr, "hlctl: could not encode \"%s\": %s\n", url, strerror(errno));
        return -1;
    }
    char path[4096];
    int rc = 0;
    snprintf(path, sizeof path, "%s/%s.svg", dir, stem);
    if (s_svg(path, qr, url, caption) != 0) {
        fprintf(stderr, "hlctl: could not write %s: %s\n", path, strerror(errno));
        rc = -1;
    }
    snprintf(path, sizeof path, "%s/%s.png", dir, stem);
    if (rc == 0 && s_png(path, qr) != 0) {
        fprintf(stderr, "hlctl: could not write %s\n", path);
        rc = -1;
    }
    QRcode_free(qr);
    return rc;
}

int hlctl_qr(int argc, char **argv)
{
    const char *dir = "var/qr";
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            dir = argv[++i];
        } else {
            fprintf(stderr, "usage: hlctl qr [--out DIR]\n");
            return 2;
        }
    }
    const char *base = getenv("HL_PUBLIC_URL");
    if (!base || !*base)
        base = "http://127.0.0.1:8080";
    size_t blen = strlen(base);
    while (blen > 0 && base[blen - 1] == '/')
        blen--;
    if (s_mkdirs(dir) != 0) {
        fprintf(stderr, "hlctl: could not create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    PGconn *conn = hlctl_connect();
    PGresult *r = hlctl_query(conn,
                              "SELECT q.token, q.kind, coalesce(m.number, 0), q.compound, u.name,"
                              " coalesce(m.location, '')"
                              " FROM org.qr_code q JOIN org.org_unit u ON u.code = q.compound"
                              " LEFT JOIN org.mailbox m ON m.qr_token = q.token"
                              " ORDER BY q.kind, m.number, q.token",
                              0, NULL);
    int written = 0, failed = 0, mailboxes = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *token = PQgetvalue(r, i, 0), *kind = PQgetvalue(r, i, 1);
        if (strspn(token, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
            strlen(token)) {
            fprintf(stderr, "hlctl: skipping QR token \"%s\": not URL-safe\n", token);
            failed++;
            continue;
        }
        char url[1024], stem[128], caption[512];
        snprintf(url, sizeof url, "%.*s/r?src=%s", (int)blen, base, token);
        bool mailbox = strcmp(kind, "mailbox") == 0;
        if (mailbox) {
            snprintf(stem, sizeof stem, "mailbox-%03d", atoi(PQgetvalue(r, i, 2)));
            snprintf(caption, sizeof caption, "红色信箱 %03d · %s", atoi(PQgetvalue(r, i, 2)),
                     PQgetvalue(r, i, 5));
        } else {
            snprintf(stem, sizeof stem, "compound-%.100s", PQgetvalue(r, i, 3));
            snprintf(caption, sizeof caption, "%s · 问题帮办，“码”上就办", PQgetvalue(r, i, 4));
        }
        if (s_code(dir, stem, url, caption) == 0) {
            written++;
            mailboxes += mailbox;
        } else {
            failed++;
        }
    }
    PQclear(r);
    PQfinish(conn);
    printf("wrote %d QR codes (%d mailboxes, %d compounds) to %s as SVG and PNG, under %.*s/r\n",
           written, mailboxes, written - mailboxes, dir, (int)blen, base);
    return failed ? 1 : 0;
}
