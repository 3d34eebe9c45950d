/* hl_id: UUIDs and tracking codes. */
#include "hl_id.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static const char s_crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

void hl_random_bytes(void *buf, size_t len)
{
    unsigned char *p = buf;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0)
            abort(); /* no entropy source: nothing safe to do */
        p += n;
        len -= (size_t)n;
    }
}

/* Version 7 (RFC 9562): the first 48 bits are the Unix time in
 * milliseconds, the other 74 random. Ids made one after another sort
 * together, so a B-tree over them (every primary key here: appeals, cases,
 * items, pipeline messages) takes new ones at one edge, in pages already in
 * memory, instead of anywhere in the whole index: with a million appeals
 * stored, random (version 4) keys made each insert touch a page of its own
 * in each such index. The time they reveal is stored beside them anyway. */
void hl_uuid_new(char out[HL_UUID_LEN + 1])
{
    unsigned char b[16];
    hl_random_bytes(b, sizeof b);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(ms >> (40 - 8 * i));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x70);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, HL_UUID_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
}

bool hl_uuid_valid(const char *s)
{
    if (!s || strlen(s) != HL_UUID_LEN)
        return false;
    for (int i = 0; i < HL_UUID_LEN; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]))
            return false;
    }
    return true;
}

bool hl_uuid_canonical(const char *s, char out[HL_UUID_LEN + 1])
{
    if (!hl_uuid_valid(s))
        return false;
    for (int i = 0; i < HL_UUID_LEN; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[HL_UUID_LEN] = '\0';
    return true;
}

void hl_tracking_new(char out[HL_TRACKING_LEN + 1])
{
    unsigned char b[10];
    hl_random_bytes(b, sizeof b);
    out[0] = 'H';
    out[1] = 'L';
    for (int i = 0; i < 10; i++)
        out[2 + i] = s_crockford[b[i] & 31];
    out[HL_TRACKING_LEN] = '\0';
}

bool hl_tracking_valid(const char *s)
{
    if (!s || strlen(s) != HL_TRACKING_LEN || s[0] != 'H' || s[1] != 'L')
        return false;
    for (int i = 2; i < HL_TRACKING_LEN; i++)
        if (!strchr(s_crockford, s[i]))
            return false;
    return true;
}

uint64_t hl_fnv1a(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}
