/* intake.h: shared state of hl-intake, the front door (see main.c). */
#ifndef INTAKE_H
#define INTAKE_H

#include "hl.h"

typedef struct {
    hl_svc_cfg_t svc; /* the settings every daemon takes */
} intake_cfg_t;

typedef struct {
    hl_service_t *svc;       /* loop, db, pipeline, http */
    const intake_cfg_t *cfg; /* configuration */
    hl_metric_t *accepted;   /* appeals stored */
    hl_metric_t *replayed;   /* idempotent repeats answered */
    hl_metric_t *refused;    /* appeals refused as bad input */
} intake_t;

/* appeal.c: POST /v1/appeals and GET /v1/appeals/{tracking_code}. */
void intake_appeal_post(hl_http_req_t *req, void *arg);
void intake_appeal_get(hl_http_req_t *req, void *arg);
/* reference.c: GET /v1/categories and GET /v1/org-units. */
void intake_categories_get(hl_http_req_t *req, void *arg);
void intake_org_units_get(hl_http_req_t *req, void *arg);
/* status.c: the "status" stage consumer, which keeps residents' status. */
int intake_status_consume(intake_t *in);
/* Counts UTF-8 code points (the string is already valid UTF-8). */
size_t intake_utf8_len(const char *s);

#endif
