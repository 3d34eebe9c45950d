/* validate.c: one appeal object checked field by field, without replying.
 *
 * The batch import (batch.c) validates each line on its own and reports
 * every line's outcome in one answer, so it needs the rules of POST
 * /v1/appeals as a function that says what is wrong instead of answering
 * the request. The rules are the same: the same fields, lengths and codes,
 * plus the channel details of channel.c and, on a batch line, a per-line
 * "idempotency_key". What only the database can tell (does this org unit,
 * category, mailbox or QR code exist, do they agree) is left to the insert,
 * whose constraint names intake_appeal_store maps back to the field.
 *
 * Pure: no I/O. */
#include "intake.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const s_channels[] = {"qr", "mailbox", "visit", "web", "platform", "phone"};

/* Optional (or required) string: valid UTF-8, no NUL, not blank, at most
 * `max` code points. */
static int s_string(json_t *obj, const char *key, const char *path, bool required, size_t max,
                    const char **out, intake_refusal_t *why)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return required ? intake_refuse(why, 422, path, "%s is required", path) : 0;
    if (!json_is_string(v))
        return intake_refuse(why, 422, path, "%s must be a string", path);
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (strlen(s) != len || !intake_utf8_valid(s, len))
        return intake_refuse(why, 422, path, "%s must be valid UTF-8 without NUL characters", path);
    if (strspn(s, " \t\r\n") == len)
        return intake_refuse(why, 422, path, "%s must not be empty", path);
    size_t n = intake_utf8_len(s);
    if (n > max)
        return intake_refuse(why, 422, path, "%s is %zu characters long; the limit is %zu", path, n,
                             max);
    *out = s;
    return 0;
}

static int s_only_keys(json_t *obj, const char *const *allowed, const char *prefix,
                       intake_refusal_t *why)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            ok = ok || strcmp(*a, key) == 0;
        if (!ok) {
            char path[64];
            snprintf(path, sizeof path, "%s%.40s", prefix, key);
            return intake_refuse(why, 422, path, "unknown field \"%s\"", path);
        }
    }
    return 0;
}

static int s_location(json_t *loc, intake_appeal_t *a, intake_refusal_t *why)
{
    static const char *const keys[] = {"lat", "lon", NULL};
    if (!json_is_object(loc))
        return intake_refuse(why, 422, "location", "location must be an object {lat, lon}");
    if (s_only_keys(loc, keys, "location.", why) != 0)
        return -1;
    json_t *lat = json_object_get(loc, "lat"), *lon = json_object_get(loc, "lon");
    if (!json_is_number(lat) || !json_is_number(lon))
        return intake_refuse(why, 422, !json_is_number(lat) ? "location.lat" : "location.lon",
                             "location needs numeric lat and lon");
    a->lat = json_number_value(lat);
    a->lon = json_number_value(lon);
    if (!isfinite(a->lat) || a->lat < -90 || a->lat > 90)
        return intake_refuse(why, 422, "location.lat", "location.lat must be in [-90, 90]");
    if (!isfinite(a->lon) || a->lon < -180 || a->lon > 180)
        return intake_refuse(why, 422, "location.lon", "location.lon must be in [-180, 180]");
    a->has_location = true;
    return 0;
}

int intake_appeal_from_json(json_t *obj, int64_t now_us, intake_appeal_t *a, char written_at[40],
                            const char **line_key, intake_refusal_t *why)
{
    static const char *const top[] = {"channel", "org_unit",   "category",        "title",   "body",
                                      "contact", "source_ref", "location",        "mailbox", "qr",
                                      "staff",   "written_at", "idempotency_key", NULL};
    static const char *const contact_keys[] = {"name", "phone", NULL};
    memset(a, 0, sizeof *a);
    *line_key = NULL;
    if (!json_is_object(obj))
        return intake_refuse(why, 400, NULL, "each line must be a JSON object");
    if (s_only_keys(obj, top, "", why) != 0 ||
        s_string(obj, "channel", "channel", true, 16, &a->channel, why) != 0)
        return -1;
    bool known = false;
    for (size_t i = 0; i < sizeof s_channels / sizeof s_channels[0]; i++)
        known = known || strcmp(a->channel, s_channels[i]) == 0;
    if (!known)
        return intake_refuse(why, 422, "channel",
                             "unknown channel \"%.32s\" (qr, mailbox, visit, web, platform, "
                             "phone)",
                             a->channel);
    if (intake_channel_parse(obj, now_us, a, written_at, why) != 0)
        return -1;
    bool anchored = a->mailbox || a->qr;
    if (s_string(obj, "org_unit", "org_unit", !anchored, 32, &a->org_unit, why) != 0 ||
        s_string(obj, "category", "category", false, 64, &a->category, why) != 0 ||
        s_string(obj, "title", "title", false, 200, &a->title, why) != 0 ||
        s_string(obj, "body", "body", true, 5000, &a->body, why) != 0 ||
        s_string(obj, "source_ref", "source_ref", false, 100, &a->source_ref, why) != 0 ||
        s_string(obj, "idempotency_key", "idempotency_key", false, 200, line_key, why) != 0)
        return -1;
    json_t *contact = json_object_get(obj, "contact");
    if (contact && !json_is_null(contact)) {
        if (!json_is_object(contact))
            return intake_refuse(why, 422, "contact", "contact must be an object {name, phone}");
        if (s_only_keys(contact, contact_keys, "contact.", why) != 0 ||
            s_string(contact, "name", "contact.name", false, 50, &a->name, why) != 0 ||
            s_string(contact, "phone", "contact.phone", false, 20, &a->phone, why) != 0)
            return -1;
        const char *bad = a->phone ? intake_phone_invalid(a->phone) : NULL;
        if (bad)
            return intake_refuse(why, 422, "contact.phone", "contact.phone %s", bad);
    }
    json_t *loc = json_object_get(obj, "location");
    if (loc && !json_is_null(loc) && s_location(loc, a, why) != 0)
        return -1;
    return 0;
}
