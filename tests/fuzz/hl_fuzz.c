/* hl_fuzz.c: one pipeline payload through the checks of its consumers,
 * for fuzz_envelope.c (the payload inside a fuzzed envelope) and
 * fuzz_payload.c (a fuzzed payload of a chosen type). */
#include "hl_fuzz.h"

#include "alliance/alliance.h"
#include "bounty/bounty.h"
#include "points/points.h"
#include "triage/triage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hl_fuzz_text(const char *what, const char *s)
{
    if (!s || hl_utf8_len(s) < 0) {
        fprintf(stderr, "finding: %s is %s\n", what, s ? "not valid UTF-8" : "NULL");
        abort();
    }
}

void hl_fuzz_refusal(const hl_refusal_t *why)
{
    if (why->status < 400 || why->status > 499 || !why->message[0]) {
        fprintf(stderr, "finding: refusal with status %d and message \"%s\"\n", why->status,
                why->message);
        abort();
    }
    hl_fuzz_text("the refusal's field", why->field);
    hl_fuzz_text("the refusal's message", why->message);
}

void hl_fuzz_appeal(const intake_appeal_t *a)
{
    if (!intake_appeal_complete(a)) {
        fprintf(stderr, "finding: an accepted appeal is not complete\n");
        abort();
    }
    const struct {
        const char *name, *value;
    } fields[] = {{"channel", a->channel},
                  {"org_unit", a->org_unit},
                  {"category", a->category},
                  {"title", a->title},
                  {"body", a->body},
                  {"name", a->name},
                  {"phone", a->phone},
                  {"source_ref", a->source_ref},
                  {"qr", a->qr},
                  {"staff", a->staff},
                  {"written_at", a->written_at}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (fields[i].value)
            hl_fuzz_text(fields[i].name, fields[i].value);
}

/* A small rule set shaped like the seed rules: a keyword rule, an excluding
 * one, a channel one and a rule that decides every appeal. */
static triage_rules_t *s_rules(void)
{
    static triage_rules_t *rules;
    static const triage_rule_spec_t specs[] = {
        {1, 1, 10, NULL, NULL, "{想请,代为,\"帮 忙\"}", "{\"不用\"}", "wish", NULL, 0, NULL},
        {2, 1, 20, "parking", NULL, NULL, NULL, NULL, "traffic", 0, NULL},
        {3, 1, 30, NULL, "platform", "{停水,停电}", NULL, "large", "utilities", 0, NULL},
        {5, 1, 50, NULL, NULL, "{城管,#多户}", NULL, "large", NULL, 2.0, NULL},
        {6, 1, 50, NULL, NULL, "{物业}", NULL, "wish", NULL, -1.0, NULL},
        {4, 1, 100, NULL, NULL, NULL, NULL, "small", NULL, 0, NULL},
        {9990, 1, 200, NULL, NULL, NULL, NULL, NULL, NULL, 0, "size"}, /* the size model */
    };
    if (!rules) {
        rules = triage_rules_new();
        char err[256];
        for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
            if (triage_rules_add(rules, &specs[i], err, sizeof err) != 0)
                abort(); /* the harness's own rules must load */
    }
    return rules;
}

/* Each check below gets the unpacked message (NULL when it did not unpack,
 * as the consumers pass it on) and returns why it is refused, or NULL after
 * doing what the consumers do with an accepted one before the database. */

static const char *s_appeal_received(const ProtobufCMessage *msg, char *why, size_t len)
{
    const Hl__AppealReceived *a = (const Hl__AppealReceived *)msg;
    (void)why;
    (void)len;
    const char *bad = triage_appeal_check(a);
    if (bad)
        return bad;
    const char *given = a->category && *a->category ? a->category : NULL;
    const char *title = a->title && *a->title ? a->title : NULL;
    triage_appeal_view_t view = {a->channel, given, title, a->body, a->org_unit};
    triage_verdict_t v;
    triage_rules_decide(s_rules(), &view, &v, NULL);
    free(triage_title_from_body(a->body, 20));
    /* The features and the comparison the index makes (similar.c). */
    triage_feats_t mine, theirs;
    triage_feats_of(&mine, a->body, a->org_unit);
    triage_feats_of(&theirs, title ? title : a->body, a->category);
    bool conflict;
    triage_feats_similarity(NULL, &mine, &theirs, &conflict);
    return NULL;
}

static const char *s_triage_decision(const ProtobufCMessage *msg, char *why, size_t len)
{
    (void)why;
    (void)len;
    return intake_decision_check((const Hl__TriageDecision *)msg);
}

static const char *s_item_escalated(const ProtobufCMessage *msg, char *why, size_t len)
{
    const Hl__ItemEscalated *e = (const Hl__ItemEscalated *)msg;
    if (!alliance_escalation_check(e, why, len))
        return why;
    char title[ALLIANCE_TITLE_MAX * 4 + 1]; /* as agenda.c sizes it */
    alliance_item_title(e, title, sizeof title);
    hl_fuzz_text("the agenda item's title", title);
    return NULL;
}

static const char *s_wish_posted(const ProtobufCMessage *msg, char *why, size_t len)
{
    (void)why;
    (void)len;
    bounty_wish_t wish;
    return bounty_wish_check((const Hl__WishPosted *)msg, 10, &wish);
}

static const char *s_task_approved(const ProtobufCMessage *msg, char *why, size_t len)
{
    (void)why;
    (void)len;
    return triage_task_approved_check((const Hl__TaskApproved *)msg);
}

static const char *s_points_awarded(const ProtobufCMessage *msg, char *why, size_t len)
{
    return points_award_check((const Hl__PointsAwarded *)msg, why, len) ? NULL : why;
}

static const char *s_item_resolved(const ProtobufCMessage *msg, char *why, size_t len)
{
    /* Two consumers: hl-intake on the status stage, hl-triage on resolution. */
    const Hl__ItemResolved *r = (const Hl__ItemResolved *)msg;
    (void)why;
    (void)len;
    const char *bad = intake_resolved_check(r);
    if (bad)
        hl_fuzz_text("the dead-letter reason", bad);
    return triage_item_resolved_check(r);
}

static const char *s_appeal_feedback(const ProtobufCMessage *msg, char *why, size_t len)
{
    return triage_feedback_check((const Hl__AppealFeedback *)msg, why, len) ? NULL : why;
}

static const char *s_large_item_offered(const ProtobufCMessage *msg, char *why, size_t len)
{
    (void)why;
    (void)len;
    return bounty_large_offer_check(msg);
}

static const char *s_large_item_action(const ProtobufCMessage *msg, char *why, size_t len)
{
    (void)why;
    (void)len;
    return bounty_large_action_check(msg);
}

static const char *s_action_overdue(const ProtobufCMessage *msg, char *why, size_t len)
{
    (void)why;
    (void)len;
    return triage_action_overdue_check(msg);
}

/* The payload types of proto/hongling.proto, in its order. */
static const struct {
    const char *type;                                                         /* Envelope.type */
    const ProtobufCMessageDescriptor *descriptor;                             /* what unpacks it */
    const char *(*check)(const ProtobufCMessage *msg, char *why, size_t len); /* above */
} s_types[] = {
    {"AppealReceived", &hl__appeal_received__descriptor, s_appeal_received},
    {"TriageDecision", &hl__triage_decision__descriptor, s_triage_decision},
    {"ItemEscalated", &hl__item_escalated__descriptor, s_item_escalated},
    {"WishPosted", &hl__wish_posted__descriptor, s_wish_posted},
    {"TaskApproved", &hl__task_approved__descriptor, s_task_approved},
    {"PointsAwarded", &hl__points_awarded__descriptor, s_points_awarded},
    {"ItemResolved", &hl__item_resolved__descriptor, s_item_resolved},
    {"AppealFeedback", &hl__appeal_feedback__descriptor, s_appeal_feedback},
    {"LargeItemOffered", &hl__large_item_offered__descriptor, s_large_item_offered},
    {"LargeItemAction", &hl__large_item_action__descriptor, s_large_item_action},
    {"ActionOverdue", &hl__action_overdue__descriptor, s_action_overdue},
};

const char *hl_fuzz_type(unsigned i)
{
    return s_types[i % (sizeof s_types / sizeof s_types[0])].type;
}

void hl_fuzz_message(const char *type, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < sizeof s_types / sizeof s_types[0]; i++) {
        if (strcmp(type, s_types[i].type) != 0)
            continue;
        /* What hl__<type>__unpack and __free_unpacked do, by descriptor. */
        ProtobufCMessage *msg = protobuf_c_message_unpack(s_types[i].descriptor, NULL, len, data);
        char why[160];
        const char *bad = s_types[i].check(msg, why, sizeof why);
        if (bad)
            hl_fuzz_text("the dead-letter reason", bad);
        if (msg)
            protobuf_c_message_free_unpacked(msg, NULL);
    }
}

void hl_fuzz_batch(hl_fuzz_reader_fn *read, const uint8_t *data, size_t size)
{
    const int64_t now_us = HL_FUZZ_NOW_US;
    intake_records_t recs;
    hl_refusal_t why;
    if (read((const char *)data, size, HL_FUZZ_BATCH_MAX, &recs, &why) != 0)
        hl_fuzz_refusal(&why);
    for (size_t i = 0; i < recs.n; i++) {
        intake_record_t *rec = &recs.v[i];
        hl_refusal_t kept = rec->refusal;
        intake_appeal_t a;
        char written_at[40], hash[17], key[INTAKE_BATCH_KEY_MAX];
        for (int pass = 0; pass < 2; pass++) {
            rec->refusal = kept; /* the reader's refusal, or none */
            const char *batch_key = pass ? "letters-2026-01-01" : NULL;
            if (intake_batch_line(rec, now_us, batch_key, &a, written_at, hash, key) != 0) {
                hl_fuzz_refusal(&rec->refusal);
                continue;
            }
            hl_fuzz_appeal(&a);
            hl_fuzz_text("the line's idempotency key", key);
            /* A line's own key is its key, whole: cut, two keys could meet. */
            const char *own = json_string_value(json_object_get(rec->obj, "idempotency_key"));
            if (own && strcmp(own, key) != 0) {
                fprintf(stderr, "finding: the line's key \"%s\" became \"%s\"\n", own, key);
                abort();
            }
        }
    }
    intake_records_close(&recs);
}
