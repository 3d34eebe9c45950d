/* hl_zap: the ZAP handler of a bus (see the header). */
#include "hl_zap.h"

#include "hl_alloc.h"
#include "hl_err.h"
#include "hl_log.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZAP_ENDPOINT     "inproc://zeromq.zap.01"
#define ZAP_LOG_EVERY_MS 10000 /* a denied key is logged again after this long */

/* ZAP ------------------------------------------------------------------ */

int hl_zap_allow(hl_zap_t *zap, const char *z85)
{
    uint8_t bin[32];
    if (strlen(z85) != HL_CURVE_KEY_LEN || !zmq_z85_decode(bin, z85))
        return HL_EINVAL;
    zap->keys = hl_realloc(zap->keys, (zap->nkeys + 1) * sizeof *zap->keys);
    memcpy(zap->keys[zap->nkeys++], bin, 32);
    return 0;
}

static bool s_admitted(const hl_zap_t *zap, const uint8_t *key)
{
    for (size_t i = 0; i < zap->nkeys; i++)
        if (memcmp(zap->keys[i], key, 32) == 0)
            return true;
    return false;
}

static void s_forget_request(hl_zap_t *zap)
{
    for (int i = 0; i < zap->nframes; i++)
        free(zap->frames[i]);
    zap->nframes = 0;
    zap->overflow = false;
}

static void s_reply(hl_zap_t *zap, const char *id, size_t idlen, const char *status,
                    const char *text)
{
    hl_zsock_t *z = &zap->sock;
    if (hl_zsock_send(z, "1.0", 3, true) != 0 || hl_zsock_send(z, id, idlen, true) != 0 ||
        hl_zsock_send(z, status, strlen(status), true) != 0 ||
        hl_zsock_send(z, text, strlen(text), true) != 0 || hl_zsock_send(z, "", 0, true) != 0 ||
        hl_zsock_send(z, "", 0, false) != 0)
        hl_warn("zap", NULL, "could not answer a ZAP request");
}

/* Frames of a request (RFC 27): version, request id, domain, address,
 * routing id, mechanism, then the mechanism's credentials (CURVE: the
 * client's 32-byte public key). */
static void s_decide(hl_zap_t *zap)
{
    char **f = zap->frames;
    size_t *len = zap->frame_len;
    if (zap->overflow || zap->nframes < 6 || len[0] != 3 || memcmp(f[0], "1.0", 3) != 0) {
        hl_warn("zap", NULL, "malformed ZAP request (%d frames): refused", zap->nframes);
        if (zap->nframes >= 2)
            s_reply(zap, f[1], len[1], "500", "malformed request");
        hl_metric_add(zap->denied, 1);
        return;
    }
    char address[64];
    snprintf(address, sizeof address, "%.*s", (int)(len[3] < 63 ? len[3] : 63), f[3]);
    bool curve = len[5] == 5 && memcmp(f[5], "CURVE", 5) == 0;
    if (curve && zap->nframes == 7 && len[6] == 32 && s_admitted(zap, (uint8_t *)f[6])) {
        s_reply(zap, f[1], len[1], "200", "OK");
        hl_metric_add(zap->allowed, 1);
        char z85[HL_CURVE_KEY_LEN + 1];
        zmq_z85_encode(z85, (uint8_t *)f[6], 32);
        hl_debug("zap", z85, "admitted peer %s", address);
        return;
    }
    s_reply(zap, f[1], len[1], "400", curve ? "unknown key" : "CURVE required");
    hl_metric_add(zap->denied, 1);
    char z85[HL_CURVE_KEY_LEN + 1] = "(none)";
    if (curve && zap->nframes == 7 && len[6] == 32)
        zmq_z85_encode(z85, (uint8_t *)f[6], 32);
    /* A refused client reconnects every few hundred milliseconds: log a key
     * once, then again only after a while or when another key comes. */
    uint64_t now = uv_now(zap->sock.loop);
    if (strcmp(z85, zap->last_denied) != 0 || now - zap->last_log_ms >= ZAP_LOG_EVERY_MS) {
        hl_warn("zap", z85, "denied peer %s: %s", address,
                curve ? "public key not in the allowed list" : "mechanism is not CURVE");
        memcpy(zap->last_denied, z85, sizeof z85);
        zap->last_log_ms = now;
    }
}

static void s_zap_recv_cb(hl_zsock_t *z, zmq_msg_t *frame, bool more, void *arg)
{
    hl_zap_t *zap = arg;
    (void)z;
    if (zap->nframes < 7) {
        size_t n = zmq_msg_size(frame);
        zap->frames[zap->nframes] = hl_malloc(n + 1);
        memcpy(zap->frames[zap->nframes], zmq_msg_data(frame), n);
        zap->frames[zap->nframes][n] = '\0';
        zap->frame_len[zap->nframes++] = n;
    } else {
        zap->overflow = true;
    }
    if (more)
        return;
    s_decide(zap);
    s_forget_request(zap);
}

static int s_load_dir(hl_zap_t *zap, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        hl_error("zap", dir, "could not open the allowed keys directory: %s", strerror(errno));
        return HL_EIO;
    }
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".pub") != 0 || e->d_name[0] == '.')
            continue;
        char path[4096], key[HL_CURVE_KEY_LEN + 1];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if ((rc = hl_curve_read_key(path, key)) != 0)
            break;
        hl_zap_allow(zap, key);
        hl_info("zap", key, "admitting %s", e->d_name);
    }
    closedir(d);
    return rc;
}

int hl_zap_init(hl_zap_t *zap, uv_loop_t *loop, void *zctx, const char *dir,
                const char *metric_prefix)
{
    memset(zap, 0, sizeof *zap);
    char name[128];
    snprintf(name, sizeof name, "%s_zap_denied_total", metric_prefix);
    zap->denied = hl_metric_counter(name, "CURVE handshakes refused by the ZAP handler", NULL);
    snprintf(name, sizeof name, "%s_zap_allowed_total", metric_prefix);
    zap->allowed = hl_metric_counter(name, "CURVE handshakes admitted by the ZAP handler", NULL);
    int rc = hl_zsock_init(&zap->sock, loop, zctx, ZMQ_REP, "zap", 1000, 0);
    if (rc != 0)
        return rc;
    if (dir && (rc = s_load_dir(zap, dir)) != 0)
        goto out_close;
    if ((rc = hl_zsock_bind(&zap->sock, ZAP_ENDPOINT)) != 0)
        goto out_close;
    if (zap->nkeys == 0)
        hl_warn("zap", dir, "no *.pub files: every peer will be refused");
    hl_zsock_set_cb(&zap->sock, s_zap_recv_cb, NULL, zap);
    return 0;
out_close:
    hl_zap_close(zap);
    return rc;
}

void hl_zap_close(hl_zap_t *zap)
{
    s_forget_request(zap);
    free(zap->keys);
    zap->keys = NULL;
    zap->nkeys = 0;
    hl_zsock_close(&zap->sock, NULL);
}
