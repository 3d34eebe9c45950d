/* test_service: the life every daemon shares, in forked children — the
 * config parsing that stops start-up with a message naming the key, --help,
 * and the SIGTERM drain, including one that times out with a request still
 * waiting for its transaction. Drain tests need HL_TEST_PG. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hl_alloc.h"
#include "hl_err.h"
#include "hl_log.h"
#include "hl_service.h"
#include "hl_testenv.h"

typedef struct {
    hl_svc_cfg_t svc; /* the common keys */
} t_cfg_t;

static const hl_cfg_entry_t s_table[] = {
    HL_SVC_CFG_ENTRIES(t_cfg_t, svc, "8099", ""),
};
#define S_N (sizeof s_table / sizeof s_table[0])

/* ---- in the child ------------------------------------------------------- */

static const char s_sql_slow[] = "SELECT pg_sleep(30)";

static void s_slow_done(void *arg, int rc, const hl_dberr_t *err)
{
    hl_http_req_t *req = arg;
    (void)err;
    if (rc == 0)
        hl_http_reply_json(req, 200, json_pack("{s:b}", "slept", 1));
    else
        hl_http_reply_error(req, 503, NULL, "%s", hl_strerror(rc));
}

/* Suspends the request until a 30-second query ends (or fails). */
static void s_hang(hl_http_req_t *req, void *arg)
{
    hl_service_t *s = arg;
    hl_http_suspend(req);
    hl_dbu_t *u = hl_dbu_new(s->db, s_slow_done, req);
    hl_dbu_stmt(u, s_sql_slow, 0, NULL, NULL, NULL, false, NULL, NULL);
    hl_dbu_submit(&u);
}

/* Runs the test service, with `on_ready` as its own part of /readyz. */
static int s_child_run(bool (*on_ready)(hl_service_t *, json_t *))
{
    static t_cfg_t cfg;
    char *argv[] = {(char *)"hl-test", NULL};
    hl_service_config(1, argv, "hl-test", s_table, S_N, &cfg, &cfg.svc);
    static hl_service_t svc;
    if (hl_service_init(&svc, "hl-test", &cfg.svc) != 0)
        return 1;
    svc.on_ready = on_ready;
    const hl_http_route_t routes[] = {{"GET", "/hang", s_hang, &svc}};
    if (hl_service_listen(&svc, routes, 1) != 0)
        return 1;
    return hl_service_run(&svc);
}

static int s_child_service(void)
{
    return s_child_run(NULL);
}

/* A service whose own part of /readyz (on_ready) says no. */
static bool s_not_ready(hl_service_t *s, json_t *detail)
{
    (void)s;
    json_object_set_new(detail, "index", json_false());
    return false;
}

static int s_child_unready(void)
{
    return s_child_run(s_not_ready);
}

/* Forks a child that runs `fn` with stdout and stderr into `log` (a file
 * path, may be NULL) and exits with its result. */
static pid_t s_fork(int (*fn)(void), const char *log)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (log) {
            int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        _exit(fn());
    }
    return pid;
}

/* Waits for `pid` at most `seconds`; returns its wait status, or -1 (after
 * killing it) when it did not end. */
static int s_wait(pid_t pid, double seconds)
{
    for (int i = 0; i < (int)(seconds * hl_test_mult() * 100); i++) {
        int st = 0;
        if (waitpid(pid, &st, WNOHANG) == pid)
            return st;
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

static char *s_slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    hl_buf_t b = {0};
    hl_buf_append(&b, "", 0);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        hl_buf_append(&b, chunk, n);
    fclose(f);
    return b.data;
}

/* ---- the environment of a child ---------------------------------------- */

static char s_log[256];

static int s_setup(void **state)
{
    (void)state;
    snprintf(s_log, sizeof s_log, "/tmp/hl-test-service-%d.log", (int)getpid());
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    static const char *const keys[] = {"HL_DATABASE_URL", "HL_HTTP_PORT",        "HL_HTTP_ADDR",
                                       "HL_BUS",          "HL_DRAIN_TIMEOUT_MS", "HL_LOG_LEVEL",
                                       "HL_TYPO_KEY",     "HL_DB_ROLE"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        unsetenv(keys[i]);
    unlink(s_log);
    return 0;
}

static int s_config_only(void)
{
    static t_cfg_t cfg;
    char *argv[] = {(char *)"hl-test", NULL};
    hl_service_config(1, argv, "hl-test", s_table, S_N, &cfg, &cfg.svc);
    return cfg.svc.http_port == 8099 ? 0 : 1;
}

static char *s_help_argv[3];

static int s_config_args(void)
{
    static t_cfg_t cfg;
    hl_service_config(2, s_help_argv, "hl-test", s_table, S_N, &cfg, &cfg.svc);
    return 1; /* not reached */
}

/* Runs the config step in a child; returns its exit code, output in s_log. */
static int s_config_exit(int (*fn)(void))
{
    pid_t pid = s_fork(fn, s_log);
    int st = s_wait(pid, 10);
    assert_true(st != -1 && WIFEXITED(st));
    return WEXITSTATUS(st);
}

static void test_config_defaults(void **state)
{
    (void)state;
    setenv("HL_LOG_LEVEL", "error", 1);
    assert_int_equal(s_config_exit(s_config_only), 0);
}

static void test_config_help(void **state)
{
    (void)state;
    s_help_argv[0] = (char *)"hl-test";
    s_help_argv[1] = (char *)"--help";
    assert_int_equal(s_config_exit(s_config_args), 0);
    char *out = s_slurp(s_log);
    for (size_t i = 0; i < S_N; i++)
        if (s_table[i].type != HL_CFG_TABLE)
            assert_non_null(strstr(out, s_table[i].key));
    for (const hl_cfg_entry_t *c = hl_svc_cfg_table; c->key; c++)
        assert_non_null(strstr(out, c->key)); /* the shared rows, expanded */
    assert_null(strstr(out, "(every daemon)"));
    free(out);
}

static void test_config_unknown_argument(void **state)
{
    (void)state;
    s_help_argv[0] = (char *)"hl-test";
    s_help_argv[1] = (char *)"--port=80";
    assert_int_equal(s_config_exit(s_config_args), 2);
    char *out = s_slurp(s_log);
    assert_non_null(strstr(out, "--port=80"));
    free(out);
}

static void test_config_bad_values(void **state)
{
    (void)state;
    setenv("HL_HTTP_PORT", "70000", 1);
    assert_int_equal(s_config_exit(s_config_only), 2);
    char *out = s_slurp(s_log);
    assert_non_null(strstr(out, "HL_HTTP_PORT"));
    free(out);
    unsetenv("HL_HTTP_PORT");
    setenv("HL_TYPO_KEY", "1", 1);
    assert_int_equal(s_config_exit(s_config_only), 2);
    out = s_slurp(s_log);
    assert_non_null(strstr(out, "HL_TYPO_KEY"));
    free(out);
    unsetenv("HL_TYPO_KEY");
    setenv("HL_LOG_LEVEL", "loud", 1);
    assert_int_equal(s_config_exit(s_config_only), 2);
    out = s_slurp(s_log);
    assert_non_null(strstr(out, "HL_LOG_LEVEL"));
    free(out);
}

/* ---- drain ------------------------------------------------------------- */

static int s_port;

static void s_service_env(const char *drain_ms)
{
    char *url = hl_test_create_db("hl_unit_service");
    char port[16], bus[64];
    s_port = hl_test_free_ports(1);
    snprintf(port, sizeof port, "%d", s_port);
    snprintf(bus, sizeof bus, "tcp://127.0.0.1:%d", hl_test_free_ports(2 * 6));
    setenv("HL_DATABASE_URL", url, 1);
    setenv("HL_HTTP_PORT", port, 1);
    setenv("HL_HTTP_ADDR", "127.0.0.1", 1);
    setenv("HL_BUS", bus, 1);
    setenv("HL_DRAIN_TIMEOUT_MS", drain_ms, 1);
    setenv("HL_LOG_LEVEL", "info", 1);
    free(url);
}

static long s_get(const char *path, char **out)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", s_port, path);
    return hl_test_http_raw(url, "GET", NULL, NULL, 0, out, NULL);
}

static bool s_wait_ready(void)
{
    for (int i = 0; i < (int)(200 * hl_test_mult()); i++) {
        if (s_get("/readyz", NULL) == 200)
            return true;
        struct timespec ts = {0, 50 * 1000000};
        nanosleep(&ts, NULL);
    }
    return false;
}

/* Starts the child service with drain timeout `drain_ms`, ready. */
static pid_t s_start(const char *drain_ms)
{
    s_service_env(drain_ms);
    pid_t pid = s_fork(s_child_service, s_log);
    assert_true(s_wait_ready());
    return pid;
}

static long s_hang_status;

static void *s_hang_thread(void *arg)
{
    (void)arg;
    s_hang_status = s_get("/hang", NULL);
    return NULL;
}

static void test_drain_idle(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    pid_t pid = s_start("5000");
    uint64_t t0 = uv_hrtime();
    kill(pid, SIGTERM);
    int st = s_wait(pid, 10);
    assert_true(st != -1);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_true((uv_hrtime() - t0) / 1000000 < 2000);
    char *out = s_slurp(s_log);
    assert_non_null(strstr(out, "drained: exiting"));
    free(out);
}

/* A service's own readiness (hl-triage: rules and index loaded) holds
 * /readyz at 503 with its detail, while /healthz answers. */
static void test_app_not_ready(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    s_service_env("5000");
    pid_t pid = s_fork(s_child_unready, s_log);
    bool alive = false;
    for (int i = 0; i < (int)(200 * hl_test_mult()) && !alive; i++) {
        alive = s_get("/healthz", NULL) == 200;
        struct timespec ts = {0, 50 * 1000000};
        nanosleep(&ts, NULL);
    }
    assert_true(alive);
    char *body = NULL;
    assert_int_equal(s_get("/readyz", &body), 503);
    assert_non_null(body);
    assert_non_null(strstr(body, "\"index\":false"));
    free(body);
    kill(pid, SIGTERM);
    int st = s_wait(pid, 10);
    assert_true(st != -1 && WIFEXITED(st));
}

/* /metrics carries hl_db's counters per connection, each name's HELP and
 * TYPE once. */
static void test_db_metrics(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    pid_t pid = s_start("5000");
    char *body = NULL;
    assert_int_equal(s_get("/metrics", &body), 200);
    assert_non_null(body);
    assert_non_null(strstr(body, "hl_db_ready{conn=\"main\"} 1"));
    assert_non_null(strstr(body, "hl_db_units_pending{conn=\"main\"}"));
    assert_non_null(strstr(body, "hl_db_transactions_total{conn=\"main\"}"));
    const char *type = strstr(body, "# TYPE hl_db_units_total counter");
    assert_non_null(type);
    assert_null(strstr(type + 1, "# TYPE hl_db_units_total"));
    free(body);
    kill(pid, SIGTERM);
    int st = s_wait(pid, 10);
    assert_true(st != -1 && WIFEXITED(st));
}

static void test_drain_times_out_with_suspended_request(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    pid_t pid = s_start("300");
    pthread_t th;
    s_hang_status = -1;
    assert_int_equal(pthread_create(&th, NULL, s_hang_thread, NULL), 0);
    /* Let the request reach its 30 s query, then ask the daemon to stop. */
    struct timespec ts = {0, 300 * 1000000};
    nanosleep(&ts, NULL);
    uint64_t t0 = uv_hrtime();
    kill(pid, SIGTERM);
    int st = s_wait(pid, 10);
    pthread_join(th, NULL);
    char *out = s_slurp(s_log);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("daemon did not exit 0 (status %d, signal %d); its log:\n%s", st,
                 st != -1 && WIFSIGNALED(st) ? WTERMSIG(st) : 0, out);
    assert_non_null(strstr(out, "drain timed out"));
    free(out);
    /* Well before the query's 30 s: the drain limit held. */
    assert_true((uv_hrtime() - t0) / 1000000 < 3000);
    /* The waiting client got an answer or a closed connection, not a hang. */
    assert_true(s_hang_status == 503 || s_hang_status == 0);
}

int main(void)
{
    hl_log_init("test_service", HL_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_config_defaults, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_config_help, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_config_unknown_argument, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_config_bad_values, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_drain_idle, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_db_metrics, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_app_not_ready, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_drain_times_out_with_suspended_request, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
