/* hl.h: the umbrella header of libhl, the library every hongling daemon links. */
#ifndef HL_H
#define HL_H

#include "hl_alloc.h"
#include "hl_cfg.h"
#include "hl_curve.h"
#include "hl_zap.h"
#include "hl_db.h"
#include "hl_err.h"
#include "hl_http.h"
#include "hl_id.h"
#include "hl_log.h"
#include "hl_metrics.h"
#include "hl_migrate.h"
#include "hl_pipeline.h"
#include "hl_req.h"
#include "hl_service.h"
#include "hl_text.h"
#include "hl_time.h"
#include "hl_webhook.h"
#include "hl_zsock.h"

#endif
