/* scan.c: the board's clock. Every HL_LEASE_SCAN_MS (and once at start) one
 * unit returns claims whose lease ran out to their board and carries open
 * entries of an earlier month (quarter) to their community's current board.
 * Both are SQL functions (bounty.expire_leases, bounty.carry_over) whose
 * UPDATEs are guarded by the state they change, so an expired claim
 * returns once however many scans or replicas race, and a claim that
 * lapsed while hl-bounty was down returns at the first scan after it
 * starts. One scan at a time; a scan that fails is simply tried again at
 * the next tick. */
#include "bounty.h"

#include <string.h>

#define S_SCAN_BATCH "500" /* most entries each function moves per scan */

static const char s_sql_expire[] =
    "SELECT out_kind, out_id::text, out_claimant FROM bounty.expire_leases(" S_SCAN_BATCH ")";
static const char s_sql_carry[] =
    "SELECT out_kind, out_id::text FROM bounty.carry_over(" S_SCAN_BATCH ")";

static void s_expired_rows(void *arg, const PGresult *res)
{
    bounty_t *b = arg;
    for (int i = 0; i < PQntuples(res); i++) {
        hl_metric_add(b->expired, 1);
        hl_info(strcmp(PQgetvalue(res, i, 0), "wish") == 0 ? "wish" : "large_item",
                PQgetvalue(res, i, 1), "lease of %s ended: back on the board",
                PQgetvalue(res, i, 2));
    }
}

static void s_carried_rows(void *arg, const PGresult *res)
{
    bounty_t *b = arg;
    for (int i = 0; i < PQntuples(res); i++) {
        hl_metric_add(b->carried, 1);
        hl_debug(strcmp(PQgetvalue(res, i, 0), "wish") == 0 ? "wish" : "large_item",
                 PQgetvalue(res, i, 1), "carried over to this period's board");
    }
}

static void s_scan_done(void *arg, int rc, const hl_dberr_t *err)
{
    bounty_t *b = arg;
    b->scanning = false;
    if (rc != 0 && rc != HL_ESHUTDOWN)
        hl_warn("scan", NULL, "could not scan leases: %s", err && err->message ? err->message : "");
}

static void s_scan(bounty_t *b)
{
    if (b->scanning || b->scan_stopped)
        return;
    b->scanning = true;
    hl_dbu_t *u = hl_dbu_new(b->svc->db, s_scan_done, b);
    hl_dbu_stmt(u, s_sql_expire, 0, NULL, NULL, NULL, false, s_expired_rows, b);
    hl_dbu_stmt(u, s_sql_carry, 0, NULL, NULL, NULL, false, s_carried_rows, b);
    /* Its own transaction: a scan never sinks (or is sunk by) a caller's unit. */
    hl_dbu_solo(u);
    hl_dbu_submit(&u);
}

static void s_tick(uv_timer_t *t)
{
    s_scan(t->data);
}

void bounty_scan_start(bounty_t *b)
{
    uv_timer_init(b->svc->loop, &b->scan_timer);
    b->scan_timer.data = b;
    uv_unref((uv_handle_t *)&b->scan_timer);
    uv_timer_start(&b->scan_timer, s_tick, 0, (uint64_t)b->cfg->lease_scan_ms);
}

void bounty_scan_stop(bounty_t *b)
{
    b->scan_stopped = true;
    uv_timer_stop(&b->scan_timer);
}
