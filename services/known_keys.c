/* known_keys.c: every HL_* variable any hongling program accepts, so that
 * a key meant for one daemon in a shared environment (compose, the test
 * harness, scripts) is not refused by another as a typo. It lives outside
 * libhl, linked into every program (the Makefile's hl_program, the tests
 * and the fuzz harnesses): a program's own names are the programs' business,
 * not the library's. Add a new HL_* name here and to README.md. */
#include "hl_service.h"

const char *const hl_known_keys[] = {
    "HL_DATABASE_URL", "HL_DB_ROLE", "HL_BUS", "HL_HTTP_ADDR", "HL_HTTP_PORT", "HL_LOG_LEVEL",
    "HL_MIGRATE", "HL_DB_BATCH_MAX", "HL_BODY_LIMIT", "HL_HTTP_CONN_LIMIT", "HL_RESEND_AFTER_MS",
    "HL_SWEEP_INTERVAL_MS", "HL_MAX_ATTEMPTS", "HL_RETAIN_DONE_S", "HL_ZMQ_HWM",
    "HL_DRAIN_TIMEOUT_MS", "HL_DUPLICATE_SENDS",
    /* hl-bus */
    "HL_BUS_BIND", "HL_CURVE_ALLOWED_KEYS_DIR",
    /* CurveZMQ */
    "HL_CURVE_SECRET_KEY_FILE", "HL_CURVE_PUBLIC_KEY_FILE", "HL_CURVE_SERVER_KEY_FILE",
    /* service-specific */
    "HL_PUBLIC_URL", "HL_BATCH_MAX_LINES", "HL_WISH_POINTS", "HL_ACTION_SCAN_MS",
    "HL_WEBHOOK_SCAN_MS", "HL_WEBHOOK_TIMEOUT_MS", "HL_WEBHOOK_MAX_ATTEMPTS",
    "HL_WEBHOOK_BACKOFF_MS", "HL_WEBHOOK_BACKOFF_MAX_MS", "HL_WEBHOOK_IN_FLIGHT",
    "HL_CONSOLIDATE_PERMILLE", "HL_TRIAGE_CONNECTIONS", "HL_CONSOLIDATE_DAYS",
    "HL_DEADLINE_SCAN_MS", "HL_CLOCK_OFFSET_S", "HL_INDEX_MAX_ITEMS", "HL_INDEX_SYNC_MS",
    "HL_RATE_PER_KEY_PER_MIN", "HL_RATE_PER_ADDR_PER_MIN", "HL_RATE_BURST", "HL_RATE_EXEMPT",
    "HL_KEY_LOOKUPS_PER_S", "HL_CONTEST_SCAN_MS", "HL_LEASE_S", "HL_LEASE_SCAN_MS",
    /* compose and its test, the netns test */
    "HL_IMAGE_PREFIX", "HL_IMAGE_TAG", "HL_POSTGRES_IMAGE", "HL_INTAKE_PORTS", "HL_COMPOSE_APPEALS",
    "HL_NETNS_CUT_S", "HL_NETNS_APPEALS",
    /* scripts and tests */
    "HL_VAR", "HL_PG_PORT", "HL_TEST_TIMEOUT_MULT", "HL_VALGRIND", "HL_DEMO_APPEALS",
    "HL_BASE_PORT", "HL_BUS_PORT", "HL_KEEP", "HL_CRASH_APPEALS", "HL_TEST_PG", "HL_CRASH_ROUNDS",
    "HL_PGSTOP_APPEALS", "HL_PGSTOP_ROUNDS", "HL_KILL_APPEALS", "HL_KILL_ROUNDS",
    "HL_SIGSTOP_SECONDS", "HL_SIGSTOP_RATE", "HL_SIGSTOP_RSS_MB", "HL_BENCH_APPEALS",
    "HL_BENCH_CONCURRENCY", "HL_BENCH_STORED", "HL_BENCH_LOG_LEVEL", "HL_BENCH_PGSS",
    "HL_BENCH_DOWNSTREAM", "HL_BENCH_CEILING_S", "HL_BENCH_PAIRS", "HL_TESTS", "HL_FUZZ_SECONDS",
    "HL_DISKFULL_APPEALS", "HL_DISKFULL_MB", NULL};
