/* validate.c: one appeal object checked field by field, without replying.
 *
 * Every way in that takes an appeal as a JSON object uses this one
 * function: POST /v1/appeals (appeal.c) replies 4xx from the refusal it
 * fills, and the batch import (batch.c) reports it as that line's outcome
 * and goes on with the next line. The rules are the table s_fields below,
 * checked by hl_req_check (the fields listed and no others; text valid
 * UTF-8, no control characters except line breaks in the body, not blank,
 * lengths in characters; a known channel, a plausible phone number, a
 * location on the globe), then what one field cannot say alone: the channel
 * details' sense (channel.c) and org_unit unless a mailbox or QR code fixes
 * the compound. A batch line may also carry its own
 * "idempotency_key". What only the database can tell (does this org unit,
 * category, mailbox or QR code exist, do they agree) is left to the insert,
 * whose constraint names intake_appeal_store maps back to the field.
 *
 * Pure: no I/O. */
#include "intake.h"

#include <string.h>

/* What the table stores: the appeal and the fields it keeps in other forms. */
typedef struct {
    intake_appeal_t a;      /* the strings, pointing into the request */
    int64_t mailbox;        /* 0: not given */
    double lat, lon;        /* location, when has_location */
    bool has_location;      /* "location" given */
    const char *written_at; /* the text given, or NULL */
    const char *line_key;   /* a batch line's own idempotency key */
} s_in_t;

static const char *const s_channels[] = {"qr",       "mailbox", "visit", "web",
                                         "platform", "phone",   NULL};

static const hl_req_field_t s_contact[] = {
    {.name = "name", .type = HL_REQ_TEXT, .max = 50, HL_REQ_AT(s_in_t, a.name)},
    {.name = "phone",
     .type = HL_REQ_TEXT,
     .max = 20,
     .check = intake_phone_invalid,
     HL_REQ_AT(s_in_t, a.phone)},
    {0}};

static const hl_req_field_t s_location[] = {{.name = "lat",
                                             .type = HL_REQ_NUMBER,
                                             .flags = HL_REQ_REQUIRED,
                                             .min = -90,
                                             .max = 90,
                                             HL_REQ_AT(s_in_t, lat)},
                                            {.name = "lon",
                                             .type = HL_REQ_NUMBER,
                                             .flags = HL_REQ_REQUIRED,
                                             .min = -180,
                                             .max = 180,
                                             HL_REQ_AT(s_in_t, lon)},
                                            {0}};

/* "idempotency_key" comes first so that a request without line keys can
 * skip it: POST /v1/appeals takes its key as the Idempotency-Key header. */
static const hl_req_field_t s_fields[] = {
    {.name = "idempotency_key", .type = HL_REQ_TEXT, .max = 200, HL_REQ_AT(s_in_t, line_key)},
    {.name = "channel",
     .type = HL_REQ_TEXT,
     .flags = HL_REQ_REQUIRED,
     .max = 16,
     .allowed = s_channels,
     HL_REQ_AT(s_in_t, a.channel)},
    {.name = "mailbox",
     .type = HL_REQ_INT,
     .min = 1,
     .max = 999,
     .hint = "must be the box's number, an integer from 1 to 999",
     HL_REQ_AT(s_in_t, mailbox)},
    {.name = "qr",
     .type = HL_REQ_TEXT,
     .max = 64,
     .check = intake_qr_problem,
     HL_REQ_AT(s_in_t, a.qr)},
    {.name = "staff", .type = HL_REQ_TEXT, .max = 50, HL_REQ_AT(s_in_t, a.staff)},
    {.name = "written_at", .type = HL_REQ_TEXT, .max = 40, HL_REQ_AT(s_in_t, written_at)},
    {.name = "org_unit", .type = HL_REQ_TEXT, .max = 32, HL_REQ_AT(s_in_t, a.org_unit)},
    {.name = "category", .type = HL_REQ_TEXT, .max = 64, HL_REQ_AT(s_in_t, a.category)},
    {.name = "title", .type = HL_REQ_TEXT, .max = 200, HL_REQ_AT(s_in_t, a.title)},
    {.name = "body",
     .type = HL_REQ_TEXT,
     .flags = HL_REQ_REQUIRED | HL_REQ_MULTILINE,
     .max = 5000,
     HL_REQ_AT(s_in_t, a.body)},
    {.name = "source_ref", .type = HL_REQ_TEXT, .max = 100, HL_REQ_AT(s_in_t, a.source_ref)},
    {.name = "contact",
     .type = HL_REQ_OBJECT,
     .fields = s_contact,
     .hint = "must be an object {name, phone}"},
    {.name = "location",
     .type = HL_REQ_OBJECT,
     .fields = s_location,
     .hint = "must be an object {lat, lon}",
     HL_REQ_AT(s_in_t, has_location)},
    {0}};

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
                            const char **line_key, hl_refusal_t *why)
{
    s_in_t in = {0};
    memset(a, 0, sizeof *a);
    if (hl_req_check(obj, line_key ? s_fields : s_fields + 1, &in, why) != 0)
        return -1;
    in.a.mailbox = (int)in.mailbox;
    if (in.has_location) {
        in.a.has_location = true;
        in.a.lat = in.lat;
        in.a.lon = in.lon;
    }
    if (intake_channel_check(&in.a, in.written_at, now_us, written_at, why) != 0)
        return -1;
    /* A mailbox or QR code fixes the compound (anchor.c, migration 012). */
    if (!in.a.org_unit && !in.a.mailbox && !in.a.qr)
        return hl_refuse(why, 422, "org_unit", "org_unit is required");
    if (line_key)
        *line_key = in.line_key;
    *a = in.a;
    return 0;
}
