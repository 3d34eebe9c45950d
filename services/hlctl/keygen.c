/* hlctl keygen: writes a CurveZMQ key pair for one daemon or for the buses.
 *
 *   hlctl keygen NAME [--out DIR]   ->  DIR/NAME.key (secret, 0600), DIR/NAME.pub
 *
 * The daemon gets NAME.key as HL_CURVE_SECRET_KEY_FILE; NAME.pub goes into
 * every bus's HL_CURVE_ALLOWED_KEYS_DIR. The buses' own pair ("hl-bus")
 * gives them HL_CURVE_SECRET_KEY_FILE and every daemon
 * HL_CURVE_SERVER_KEY_FILE. Existing files are never overwritten. */
#include "hlctl.h"

#include <stdio.h>
#include <string.h>

int hlctl_keygen(int argc, char **argv)
{
    const char *name = NULL;
    const char *dir = ".";
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            dir = argv[++i];
        } else if (argv[i][0] != '-' && !name) {
            name = argv[i];
        } else {
            fprintf(stderr, "usage: hlctl keygen NAME [--out DIR]\n");
            return 2;
        }
    }
    if (!name) {
        fprintf(stderr, "usage: hlctl keygen NAME [--out DIR]\n");
        return 2;
    }
    char err[512];
    int rc = hl_curve_keygen(dir, name, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "hlctl: keygen: %s\n", err);
        return rc == HL_EINVAL ? 2 : 1;
    }
    char pub[HL_CURVE_KEY_LEN + 1], path[4096];
    snprintf(path, sizeof path, "%s/%s.pub", dir, name);
    if (hl_curve_read_key(path, pub) != 0)
        return 1;
    printf("%s/%s.key (secret, mode 0600)\n%s/%s.pub  %s\n", dir, name, dir, name, pub);
    return 0;
}
