/* emit.c: `hlctl emit STAGE TYPE JSON` — write one pipeline message as if
 * its stage's producer had, and push it to the buses. For operators
 * (re-inject a message by hand) and for testing one daemon without its
 * upstream. The row is written first, under the stage's usual producer
 * name, so if the push does not get through that producer's sweeper
 * re-sends it like any other pending row. */
#include "hlctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const ProtobufCMessageDescriptor *s_descriptor(const char *type)
{
    static const struct {
        const char *type;
        const ProtobufCMessageDescriptor *d;
    } types[] = {
        {"AppealReceived", &hl__appeal_received__descriptor},
        {"TriageDecision", &hl__triage_decision__descriptor},
        {"ItemEscalated", &hl__item_escalated__descriptor},
        {"WishPosted", &hl__wish_posted__descriptor},
        {"TaskApproved", &hl__task_approved__descriptor},
        {"PointsAwarded", &hl__points_awarded__descriptor},
        {"ItemResolved", &hl__item_resolved__descriptor},
        {"AppealFeedback", &hl__appeal_feedback__descriptor},
        {"LargeItemOffered", &hl__large_item_offered__descriptor},
        {"LargeItemAction", &hl__large_item_action__descriptor},
        {"PlatformEvent", &hl__platform_event__descriptor},
        {"ActionOverdue", &hl__action_overdue__descriptor},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(types[i].type, type) == 0)
            return types[i].d;
    return NULL;
}

/* Sets one scalar field from a JSON value; returns 0 or -1 on a type mismatch. */
static int s_set_scalar(const ProtobufCFieldDescriptor *f, void *where, json_t *v)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        if (!json_is_string(v))
            return -1;
        *(char **)where = strdup(json_string_value(v));
        return 0;
    case PROTOBUF_C_TYPE_INT32:
        if (!json_is_integer(v))
            return -1;
        *(int32_t *)where = (int32_t)json_integer_value(v);
        return 0;
    case PROTOBUF_C_TYPE_INT64:
        if (!json_is_integer(v))
            return -1;
        *(int64_t *)where = (int64_t)json_integer_value(v);
        return 0;
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(v))
            return -1;
        *(protobuf_c_boolean *)where = json_is_true(v);
        return 0;
    case PROTOBUF_C_TYPE_DOUBLE:
        if (!json_is_number(v))
            return -1;
        *(double *)where = json_number_value(v);
        return 0;
    default:
        return -1;
    }
}

static size_t s_scalar_size(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_INT32:
        return sizeof(int32_t);
    case PROTOBUF_C_TYPE_INT64:
        return sizeof(int64_t);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    default:
        return sizeof(double);
    }
}

ProtobufCMessage *hlctl_message_from_json(const char *type, json_t *obj, char *err, size_t errlen)
{
    const ProtobufCMessageDescriptor *d = s_descriptor(type);
    if (!d) {
        snprintf(err, errlen, "unknown message type \"%s\"", type);
        return NULL;
    }
    if (!json_is_object(obj)) {
        snprintf(err, errlen, "the message must be a JSON object");
        return NULL;
    }
    ProtobufCMessage *m = calloc(1, d->sizeof_message);
    protobuf_c_message_init(d, m);
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, key);
        if (!f) {
            snprintf(err, errlen, "%s has no field \"%s\"", type, key);
            goto out_free;
        }
        char *base = (char *)m;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            if (!json_is_array(v)) {
                snprintf(err, errlen, "field \"%s\" must be an array", key);
                goto out_free;
            }
            size_t n = json_array_size(v), size = s_scalar_size(f);
            char *arr = calloc(n ? n : 1, size);
            *(void **)(base + f->offset) = arr;
            *(size_t *)(base + f->quantifier_offset) = n;
            for (size_t i = 0; i < n; i++)
                if (s_set_scalar(f, arr + i * size, json_array_get(v, i)) != 0) {
                    *(size_t *)(base + f->quantifier_offset) = i;
                    snprintf(err, errlen, "element %zu of \"%s\" has the wrong type", i, key);
                    goto out_free;
                }
            continue;
        }
        if (s_set_scalar(f, base + f->offset, v) != 0) {
            snprintf(err, errlen, "field \"%s\" has the wrong JSON type", key);
            goto out_free;
        }
        if (f->quantifier_offset && f->type != PROTOBUF_C_TYPE_STRING)
            *(protobuf_c_boolean *)(base + f->quantifier_offset) = 1;
    }
    return m;
out_free:
    protobuf_c_message_free_unpacked(m, NULL);
    return NULL;
}

/* Which daemon normally writes each stage's rows (and so re-sends them). */
static const char *s_producer(hl_stage_t stage, const char *type)
{
    if (stage == HL_STAGE_RESOLUTION && strcmp(type, "TaskApproved") == 0)
        return "hl-bounty";
    if (stage == HL_STAGE_BOUNTY && strncmp(type, "LargeItem", 9) == 0)
        return "hl-alliance";
    static const char *const producers[HL_STAGE_COUNT] = {
        [HL_STAGE_APPEAL] = "hl-intake",       [HL_STAGE_STATUS] = "hl-triage",
        [HL_STAGE_BOUNTY] = "hl-triage",       [HL_STAGE_ALLIANCE] = "hl-triage",
        [HL_STAGE_RESOLUTION] = "hl-alliance", [HL_STAGE_POINTS] = "hl-bounty",
        [HL_STAGE_FEEDBACK] = "hl-intake",     [HL_STAGE_PLATFORM] = "hl-bounty",
    };
    return producers[stage];
}

int hlctl_emit(const char *stage_name, const char *type, const char *text)
{
    int stage = hl_stage_parse(stage_name);
    if (stage < 0) {
        fprintf(stderr, "hlctl: unknown stage \"%s\"\n", stage_name);
        return 2;
    }
    json_error_t jerr;
    json_t *obj = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (!obj) {
        fprintf(stderr, "hlctl: malformed JSON: %s\n", jerr.text);
        return 2;
    }
    char err[256];
    ProtobufCMessage *m = hlctl_message_from_json(type, obj, err, sizeof err);
    json_decref(obj);
    if (!m) {
        fprintf(stderr, "hlctl: %s\n", err);
        return 2;
    }
    /* The trace id is the appeal (or item) the message is about, when it names one. */
    const char *trace = NULL;
    char trace_buf[HL_UUID_LEN + 1];
    static const char *const trace_fields[] = {"appeal_id", "item_id", "wish_id", "award_id"};
    for (size_t i = 0; i < 4 && !trace; i++) {
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name(m->descriptor, trace_fields[i]);
        const char *v = f ? *(const char **)((const char *)m + f->offset) : NULL;
        if (v && hl_uuid_valid(v)) {
            memcpy(trace_buf, v, sizeof trace_buf);
            trace = trace_buf;
        }
    }
    char id[HL_UUID_LEN + 1];
    size_t len;
    const char *producer = s_producer((hl_stage_t)stage, type);
    uint8_t *env = hl_envelope_pack((hl_stage_t)stage, type, trace, producer, m, id, &len);
    protobuf_c_message_free_unpacked(m, NULL);

    PGconn *conn = hlctl_connect();
    const char *values[7] = {id, stage_name, type, trace ? trace : id, producer, (char *)env, "0"};
    int lengths[7] = {0, 0, 0, 0, 0, (int)len, 0};
    int formats[7] = {0, 0, 0, 0, 0, 1, 0};
    PGresult *r = PQexecParams(conn, hl_sql_insert_message, 7, NULL, values, lengths, formats, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "hlctl: could not write the message: %s", PQresultErrorMessage(r));
        PQclear(r);
        PQfinish(conn);
        free(env);
        return 1;
    }
    PQclear(r);
    PQfinish(conn);

    const char *buses = getenv("HL_BUS");
    if (!buses)
        buses = "tcp://127.0.0.1:7100";
    void *ctx = zmq_ctx_new();
    void *sock = zmq_socket(ctx, ZMQ_PUSH);
    int linger = 2000;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    for (int b = 0; b < hl_bus_count(buses); b++) {
        char ep[256];
        if (hl_bus_endpoint(buses, b, stage, 0, ep, sizeof ep) == 0)
            zmq_connect(sock, ep);
    }
    int sent = zmq_send(sock, env, len, 0);
    zmq_close(sock);
    zmq_ctx_term(ctx);
    free(env);
    printf("%s\n", id);
    if (sent < 0)
        fprintf(stderr, "hlctl: push failed (%s); %s's sweeper will re-send the row\n",
                zmq_strerror(zmq_errno()), producer);
    return 0;
}
