/* hl_curve: CURVE keys and socket options (see the header). */
#include "hl_curve.h"

#include "hl_alloc.h"
#include "hl_err.h"
#include "hl_log.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ZAP_DOMAIN "hongling"

/* A valid Z85 key decodes to 32 bytes. */
static bool s_key_valid(const char *z85)
{
    uint8_t bin[32];
    return strlen(z85) == HL_CURVE_KEY_LEN && zmq_z85_decode(bin, z85) != NULL;
}

int hl_curve_read_key(const char *path, char out[HL_CURVE_KEY_LEN + 1])
{
    FILE *f = fopen(path, "r");
    if (!f) {
        hl_error("curve", path, "could not open key file: %s", strerror(errno));
        return HL_EIO;
    }
    char buf[256];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *start = buf;
    while (*start && isspace((unsigned char)*start))
        start++;
    char *end = start + strlen(start);
    while (end > start && isspace((unsigned char)end[-1]))
        *--end = '\0';
    if (!s_key_valid(start)) {
        hl_error("curve", path, "key file does not hold one Z85 key of %d characters",
                 HL_CURVE_KEY_LEN);
        return HL_EINVAL;
    }
    memcpy(out, start, HL_CURVE_KEY_LEN + 1);
    return 0;
}

static bool s_given(const char *path)
{
    return path && *path;
}

int hl_curve_load(hl_curve_t *c, const char *secret_file, const char *public_file,
                  const char *server_file, bool server)
{
    memset(c, 0, sizeof *c);
    if (!s_given(secret_file)) {
        if (s_given(public_file) || s_given(server_file)) {
            hl_error("curve", NULL,
                     "bad configuration: HL_CURVE_SECRET_KEY_FILE is needed when other key "
                     "files are given");
            return HL_ECONFIG;
        }
        return 0;
    }
    int rc = hl_curve_read_key(secret_file, c->secret_key);
    if (rc != 0)
        return rc;
    char derived[HL_CURVE_KEY_LEN + 1];
    if (zmq_curve_public(derived, c->secret_key) != 0) {
        hl_error("curve", secret_file, "could not derive the public key: %s",
                 zmq_strerror(zmq_errno()));
        return HL_EINVAL;
    }
    memcpy(c->public_key, derived, sizeof derived);
    if (s_given(public_file)) {
        char given[HL_CURVE_KEY_LEN + 1];
        if ((rc = hl_curve_read_key(public_file, given)) != 0)
            return rc;
        if (strcmp(given, derived) != 0) {
            hl_error("curve", public_file, "public key does not belong to the secret key in %s",
                     secret_file);
            return HL_ECONFIG;
        }
    }
    if (server && s_given(server_file)) {
        hl_error("curve", NULL, "bad configuration: a bus takes no HL_CURVE_SERVER_KEY_FILE");
        return HL_ECONFIG;
    }
    if (!server) {
        if (!s_given(server_file)) {
            hl_error("curve", NULL,
                     "bad configuration: HL_CURVE_SERVER_KEY_FILE (the buses' public key) is "
                     "needed with HL_CURVE_SECRET_KEY_FILE");
            return HL_ECONFIG;
        }
        if ((rc = hl_curve_read_key(server_file, c->server_key)) != 0)
            return rc;
    }
    return 0;
}

bool hl_curve_on(const hl_curve_t *c)
{
    return c && c->secret_key[0] != '\0';
}

static int s_set(hl_zsock_t *z, int option, const void *value, size_t len)
{
    if (zmq_setsockopt(z->sock, option, value, len) != 0) {
        hl_error("socket", z->name, "could not set CURVE option %d: %s", option,
                 zmq_strerror(zmq_errno()));
        return HL_EZMQ;
    }
    return 0;
}

int hl_curve_apply_server(hl_zsock_t *z, const hl_curve_t *c)
{
    if (!hl_curve_on(c))
        return 0;
    int one = 1;
    if (s_set(z, ZMQ_ZAP_DOMAIN, ZAP_DOMAIN, strlen(ZAP_DOMAIN)) != 0 ||
        s_set(z, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
        s_set(z, ZMQ_CURVE_SECRETKEY, c->secret_key, HL_CURVE_KEY_LEN) != 0)
        return HL_EZMQ;
    return 0;
}

int hl_curve_apply_client(hl_zsock_t *z, const hl_curve_t *c)
{
    if (!hl_curve_on(c))
        return 0;
    if (s_set(z, ZMQ_CURVE_SERVERKEY, c->server_key, HL_CURVE_KEY_LEN) != 0 ||
        s_set(z, ZMQ_CURVE_PUBLICKEY, c->public_key, HL_CURVE_KEY_LEN) != 0 ||
        s_set(z, ZMQ_CURVE_SECRETKEY, c->secret_key, HL_CURVE_KEY_LEN) != 0)
        return HL_EZMQ;
    return 0;
}

static bool s_name_ok(const char *name)
{
    if (!*name || strlen(name) > 64)
        return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
            return false;
    return name[0] != '.';
}

static int s_write_file(const char *path, const char *text, mode_t mode, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd < 0) {
        snprintf(err, errlen, "could not create %s: %s", path, strerror(errno));
        return errno == EEXIST ? HL_ECONFLICT : HL_EIO;
    }
    size_t len = strlen(text);
    bool ok = write(fd, text, len) == (ssize_t)len && write(fd, "\n", 1) == 1;
    /* open() applies the umask; the secret's mode must be exactly 0600. */
    ok = fchmod(fd, mode) == 0 && ok;
    ok = close(fd) == 0 && ok;
    if (!ok) {
        snprintf(err, errlen, "could not write %s: %s", path, strerror(errno));
        unlink(path);
        return HL_EIO;
    }
    return 0;
}

int hl_curve_keygen(const char *dir, const char *name, char *err, size_t errlen)
{
    if (!s_name_ok(name)) {
        snprintf(err, errlen,
                 "name \"%s\" must be 1 to 64 letters, digits, '-', '_' or '.', not starting "
                 "with '.'",
                 name);
        return HL_EINVAL;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "could not create directory %s: %s", dir, strerror(errno));
        return HL_EIO;
    }
    char pub[HL_CURVE_KEY_LEN + 1], sec[HL_CURVE_KEY_LEN + 1];
    if (zmq_curve_keypair(pub, sec) != 0) {
        snprintf(err, errlen, "could not make a key pair: %s", zmq_strerror(zmq_errno()));
        return HL_EIO;
    }
    char key_path[4096], pub_path[4096];
    snprintf(key_path, sizeof key_path, "%s/%s.key", dir, name);
    snprintf(pub_path, sizeof pub_path, "%s/%s.pub", dir, name);
    if (access(key_path, F_OK) == 0 || access(pub_path, F_OK) == 0) {
        snprintf(err, errlen, "%s or %s exists already; not overwriting a key", key_path, pub_path);
        return HL_ECONFLICT;
    }
    int rc = s_write_file(key_path, sec, 0600, err, errlen);
    if (rc != 0)
        return rc;
    rc = s_write_file(pub_path, pub, 0644, err, errlen);
    if (rc != 0)
        unlink(key_path);
    return rc;
}
