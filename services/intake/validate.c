/* validate.c: one appeal object checked field by field, without replying.
 *
 * Every way in that takes an appeal as a JSON object uses this one
 * function: POST /v1/appeals (appeal.c) replies 4xx from the refusal it
 * fills, and the batch import (batch.c) reports it as that line's outcome
 * and goes on with the next line. The rules: the fields listed below and no
 * others, text checked by hl_text (valid UTF-8, no control characters
 * except line breaks in the body, not blank, lengths in characters), a
 * known channel, the channel details of channel.c, a plausible phone number
 * and a location on the globe. A batch line may also carry its own
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

/* Optional (or required) text field `key` of `obj`, reported as `path`. */
static int s_string(json_t *obj, const char *key, const char *path, bool required, size_t max,
                    const char **out, intake_refusal_t *why)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return required ? intake_refuse(why, 422, path, "%s is required", path) : 0;
    return intake_text_field(v, path, max, strcmp(key, "body") == 0, out, why);
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
    return intake_location_set(a, json_number_value(lat), json_number_value(lon), "location.lat",
                               "location.lon", why);
}

int intake_location_set(intake_appeal_t *a, double lat, double lon, const char *lat_field,
                        const char *lon_field, intake_refusal_t *why)
{
    if (!isfinite(lat) || lat < -90 || lat > 90)
        return intake_refuse(why, 422, lat_field, "%s must be in [-90, 90]", lat_field);
    if (!isfinite(lon) || lon < -180 || lon > 180)
        return intake_refuse(why, 422, lon_field, "%s must be in [-180, 180]", lon_field);
    a->lat = lat;
    a->lon = lon;
    a->has_location = true;
    return 0;
}

const char *intake_phone_invalid(const char *phone)
{
    size_t digits = 0;
    for (const char *p = phone; *p; p++) {
        if (*p >= '0' && *p <= '9')
            digits++;
        else if (!(*p == '+' && p == phone) && *p != '-' && *p != ' ')
            return "may hold only digits, spaces, '-' and a leading '+'";
    }
    if (digits < 5 || digits > 15)
        return "must have 5 to 15 digits";
    return NULL;
}

int intake_appeal_from_json(json_t *obj, int64_t now_us, intake_appeal_t *a, char written_at[40],
                            const char **line_key, intake_refusal_t *why)
{
    /* "idempotency_key" comes first so that a request without line keys
     * (line_key NULL) can skip it: POST /v1/appeals takes its key as the
     * Idempotency-Key header. */
    static const char *const top[] = {
        "idempotency_key", "channel",  "org_unit", "category", "title", "body",       "contact",
        "source_ref",      "location", "mailbox",  "qr",       "staff", "written_at", NULL};
    static const char *const contact_keys[] = {"name", "phone", NULL};
    const char *unused_key;
    memset(a, 0, sizeof *a);
    if (!json_is_object(obj))
        return intake_refuse(why, 400, NULL, "an appeal must be a JSON object");
    if (s_only_keys(obj, line_key ? top : top + 1, "", why) != 0 ||
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
    /* A mailbox or QR code fixes the compound (anchor.c, migration 012). */
    bool anchored = a->mailbox || a->qr;
    if (s_string(obj, "org_unit", "org_unit", !anchored, 32, &a->org_unit, why) != 0 ||
        s_string(obj, "category", "category", false, 64, &a->category, why) != 0 ||
        s_string(obj, "title", "title", false, 200, &a->title, why) != 0 ||
        s_string(obj, "body", "body", true, 5000, &a->body, why) != 0 ||
        s_string(obj, "source_ref", "source_ref", false, 100, &a->source_ref, why) != 0 ||
        s_string(obj, "idempotency_key", "idempotency_key", false, 200,
                 line_key ? line_key : &unused_key, why) != 0)
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
