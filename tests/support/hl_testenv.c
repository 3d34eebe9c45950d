/* hl_testenv: databases, ports, processes and HTTP for the tests. */
#include "hl_testenv.h"

#include "hl_alloc.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *const s_names[HL_T_COUNT] = {"hl-bus",    "hl-bus",    "hl-intake",  "hl-triage",
                                                "hl-bounty", "hl-points", "hl-alliance"};

double hl_test_mult(void)
{
    const char *m = getenv("HL_TEST_TIMEOUT_MULT");
    double v = m ? atof(m) : 1.0;
    return v > 0 ? v : 1.0;
}

int hl_test_env_int(const char *name, int def)
{
    const char *v = getenv(name);
    int n = v ? atoi(v) : 0;
    return n > 0 ? n : def;
}

double hl_test_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *hl_test_pg(void)
{
    const char *u = getenv("HL_TEST_PG");
    return u && *u ? u : NULL;
}

static void s_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

PGconn *hl_test_connect(const char *url)
{
    PGconn *conn = PQconnectdb(url);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "test: could not connect to %s: %s", url, PQerrorMessage(conn));
        abort();
    }
    PQclear(PQexec(conn, "SET client_min_messages = warning"));
    return conn;
}

char *hl_test_create_db(const char *name)
{
    const char *admin = hl_test_pg();
    if (!admin)
        return NULL;
    PGconn *conn = hl_test_connect(admin);
    char sql[256];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
    PQclear(PQexec(conn, sql));
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    PGresult *r = PQexec(conn, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "test: could not create database %s: %s", name, PQresultErrorMessage(r));
        abort();
    }
    PQclear(r);
    PQfinish(conn);
    /* Same server, other database: replace the path of the admin URL. */
    const char *slash = strrchr(admin, '/');
    return hl_asprintf("%.*s/%s", (int)(slash - admin), admin, name);
}

/* Runs scripts/pg.sh CMD on s->dir (with ARG); 0 when it exits 0. Its
 * output goes to s->dir/pg.log. */
static int s_pg_sh(hl_test_pgserver_t *s, const char *cmd, const char *arg)
{
    char line[768];
    snprintf(line, sizeof line, "scripts/pg.sh %s '%s' %s >>'%s/pg.log' 2>&1", cmd, s->dir, arg,
             s->dir);
    int rc = system(line);
    if (rc != 0)
        fprintf(stderr, "test: scripts/pg.sh %s %s failed (log in %s/pg.log)\n", cmd, s->dir,
                s->dir);
    return rc == 0 ? 0 : -1;
}

int hl_test_pgserver_new(hl_test_pgserver_t *s)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(s->dir, sizeof s->dir, "%s/hl-test-pg-own-XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(s->dir))
        return -1;
    s->port = hl_test_free_ports(1);
    snprintf(s->admin_url, sizeof s->admin_url, "postgresql://postgres@127.0.0.1:%d/postgres",
             s->port);
    return hl_test_pgserver_start(s);
}

int hl_test_pgserver_start(hl_test_pgserver_t *s)
{
    char port[16];
    snprintf(port, sizeof port, "%d", s->port);
    return s_pg_sh(s, "start", port);
}

int hl_test_pgserver_stop(hl_test_pgserver_t *s, const char *mode)
{
    return s_pg_sh(s, "stop", mode);
}

void hl_test_pgserver_remove(hl_test_pgserver_t *s)
{
    if (!s->dir[0])
        return;
    s_pg_sh(s, "remove", "");
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "test: could not remove %s\n", s->dir);
    s->dir[0] = '\0';
}

long hl_test_scalar(PGconn *conn, const char *sql)
{
    PGresult *r = PQexec(conn, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "test: query failed: %s\n  %s\n", PQresultErrorMessage(r), sql);
        PQclear(r);
        return -1;
    }
    long v = PQntuples(r) && !PQgetisnull(r, 0, 0) ? atol(PQgetvalue(r, 0, 0)) : 0;
    PQclear(r);
    return v;
}

bool hl_test_wait_scalar(PGconn *conn, const char *sql, long want, double seconds)
{
    int rounds = (int)(seconds * hl_test_mult() * 20);
    for (int i = 0; i <= rounds; i++) {
        if (hl_test_scalar(conn, sql) == want)
            return true;
        s_sleep_ms(50);
    }
    fprintf(stderr, "test: gave up waiting for %ld from: %s (last %ld)\n", want, sql,
            hl_test_scalar(conn, sql));
    return false;
}

static bool s_port_free(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

int hl_test_free_ports(int span)
{
    static unsigned seed;
    if (!seed)
        seed = (unsigned)getpid() * 2654435761u ^ (unsigned)time(NULL);
    for (int tries = 0; tries < 200; tries++) {
        seed = seed * 1103515245u + 12345u;
        int base = 20000 + (int)((seed >> 8) % 30000);
        bool ok = true;
        for (int p = base; p < base + span && ok; p++)
            ok = s_port_free(p);
        if (ok)
            return base;
    }
    abort();
}

const char *hl_test_bin(const char *name)
{
    static char path[512];
    const char *build = getenv("BUILD");
    snprintf(path, sizeof path, "%s/bin/%s", build && *build ? build : "build", name);
    return path;
}

static int s_run_hlctl(hl_cluster_t *c, const char *cmd)
{
    pid_t pid = fork();
    if (pid == 0) {
        setenv("HL_DATABASE_URL", c->db_url, 1);
        char log[512];
        snprintf(log, sizeof log, "%s/hlctl-%s.log", c->dir, cmd);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        execl(hl_test_bin("hlctl"), "hlctl", cmd, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void s_bus_list(hl_cluster_t *c, char *out, size_t len)
{
    if (c->nbuses == 2)
        snprintf(out, len, "tcp://127.0.0.1:%d,tcp://127.0.0.1:%d", c->bus_port[0], c->bus_port[1]);
    else
        snprintf(out, len, "tcp://127.0.0.1:%d", c->bus_port[0]);
}

int hl_cluster_spawn(hl_cluster_t *c, int which)
{
    char log[512], port[16], bus[128], bind[64];
    snprintf(log, sizeof log, "%s/%s%s-%d.log", c->dir, s_names[which],
             which == HL_T_BUS1 ? "2" : "", c->starts[which]++);
    s_bus_list(c, bus, sizeof bus);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 2);
        dup2(fd, 1);
        if (which <= HL_T_BUS1) {
            snprintf(bind, sizeof bind, "tcp://127.0.0.1:%d", c->bus_port[which]);
            setenv("HL_BUS_BIND", bind, 1);
        } else {
            snprintf(port, sizeof port, "%d", c->http_port[which]);
            setenv("HL_DATABASE_URL", c->db_url, 1);
            setenv("HL_BUS", bus, 1);
            setenv("HL_HTTP_PORT", port, 1);
            setenv("HL_HTTP_ADDR", "127.0.0.1", 1);
            /* Tests post thousands of appeals from loopback without a key:
             * no per-address limit for them unless a test sets its own. */
            setenv("HL_RATE_EXEMPT", "127.0.0.1", 1);
            for (int i = 0; i < 8 && c->extra_env[i]; i++)
                putenv((char *)c->extra_env[i]);
        }
        const char *bin = hl_test_bin(s_names[which]);
        if (getenv("HL_VALGRIND") && which > HL_T_BUS1)
            execlp("valgrind", "valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
                   "--errors-for-leak-kinds=definite", bin, (char *)NULL);
        execl(bin, s_names[which], (char *)NULL);
        _exit(127);
    }
    c->pid[which] = pid;
    if (which <= HL_T_BUS1) {
        s_sleep_ms(50);
        return 0;
    }
    return hl_cluster_wait_ready(c, which, 30) ? 0 : -1;
}

bool hl_cluster_wait_ready(hl_cluster_t *c, int which, double seconds)
{
    int rounds = (int)(seconds * hl_test_mult() * 20);
    for (int i = 0; i <= rounds; i++) {
        if (hl_test_http(c, which, "GET", "/readyz", NULL, NULL, NULL) == 200)
            return true;
        s_sleep_ms(50);
    }
    fprintf(stderr, "test: %s did not become ready (logs in %s)\n", s_names[which], c->dir);
    return false;
}

int hl_cluster_start(hl_cluster_t *c, const char *name, int nbuses)
{
    memset(c->pid, 0, sizeof c->pid);
    memset(c->starts, 0, sizeof c->starts);
    c->nbuses = nbuses;
    const char *tmp = getenv("TMPDIR");
    snprintf(c->dir, sizeof c->dir, "%s/hl-test-%s-XXXXXX", tmp ? tmp : "/tmp", name);
    if (!mkdtemp(c->dir))
        return -1;
    c->db_url = hl_test_create_db(name);
    if (!c->db_url)
        return -1;
    if (s_run_hlctl(c, "migrate") != 0 || s_run_hlctl(c, "seed-demo") != 0) {
        fprintf(stderr, "test: could not migrate or seed (logs in %s)\n", c->dir);
        return -1;
    }
    int base = hl_test_free_ports(2 * 16 + 8);
    c->bus_port[0] = base;
    c->bus_port[1] = base + 16;
    for (int i = HL_T_INTAKE; i < HL_T_COUNT; i++)
        c->http_port[i] = base + 32 + i;
    for (int i = 0; i < HL_T_COUNT; i++) {
        if (i == HL_T_BUS1 && nbuses < 2)
            continue;
        if (hl_cluster_spawn(c, i) != 0)
            return -1;
    }
    return 0;
}

void hl_cluster_kill(hl_cluster_t *c, int which, int sig)
{
    if (!c->pid[which])
        return;
    kill(c->pid[which], sig);
    int st;
    waitpid(c->pid[which], &st, 0);
    c->pid[which] = 0;
}

long hl_cluster_peak_rss_kb(hl_cluster_t *c, int which)
{
    if (!c->pid[which])
        return -1;
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)c->pid[which]);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kb = atol(line + 6);
    fclose(f);
    return kb;
}

const char *hl_cluster_name(int which)
{
    return which >= 0 && which < HL_T_COUNT ? s_names[which] : "?";
}

int hl_cluster_stop(hl_cluster_t *c)
{
    int bad = 0;
    /* Daemons first (they drain into the buses), buses last. */
    for (int i = HL_T_COUNT - 1; i >= 0; i--) {
        if (!c->pid[i])
            continue;
        kill(c->pid[i], SIGTERM);
        int st = 0;
        waitpid(c->pid[i], &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "test: %s exited with status %d (logs in %s)\n", s_names[i],
                    WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), c->dir);
            bad++;
        }
        c->pid[i] = 0;
    }
    return bad;
}

void hl_cluster_close(hl_cluster_t *c, bool ok)
{
    for (int i = 0; i < HL_T_COUNT; i++)
        hl_cluster_kill(c, i, SIGKILL);
    if (ok && !getenv("HL_KEEP")) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", c->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "test: could not remove %s\n", c->dir);
    } else {
        fprintf(stderr, "test: logs kept in %s\n", c->dir);
    }
    free(c->db_url);
    c->db_url = NULL;
}

/* ---- HTTP ---------------------------------------------------------------- */

static size_t s_write(char *data, size_t size, size_t n, void *arg)
{
    hl_buf_append(arg, data, size * n);
    return size * n;
}

/* Copies the value of header line `data` into `out` when it is `name`. */
static void s_header_value(const char *data, size_t len, const char *name, char *out, size_t size)
{
    size_t n = strlen(name);
    if (len <= n + 1 || strncasecmp(data, name, n) != 0 || data[n] != ':')
        return;
    const char *v = data + n + 1;
    while (v < data + len && *v == ' ')
        v++;
    size_t vlen = 0;
    while (v + vlen < data + len && v[vlen] != '\r' && v[vlen] != '\n')
        vlen++;
    snprintf(out, size, "%.*s", (int)vlen, v);
}

static size_t s_header(char *data, size_t size, size_t n, void *arg)
{
    hl_test_resp_t *r = arg;
    s_header_value(data, size * n, "Retry-After", r->retry_after, sizeof r->retry_after);
    s_header_value(data, size * n, "Content-Type", r->content_type, sizeof r->content_type);
    return size * n;
}

long hl_test_http_ex(const char *url, const char *method, const char *content_type,
                     const char *body, size_t len, const char *const *headers, hl_test_resp_t *r)
{
    static bool inited;
    if (!inited) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        inited = true;
    }
    memset(r, 0, sizeof *r);
    CURL *curl = curl_easy_init();
    hl_buf_t resp = {0};
    struct curl_slist *hdr = NULL;
    char ct[256];
    if (content_type) {
        snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
        hdr = curl_slist_append(hdr, ct);
    }
    for (const char *const *h = headers; h && *h; h++)
        hdr = curl_slist_append(hdr, *h);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, s_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)(20000 * hl_test_mult()));
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdr);
    if (body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)len);
    }
    if (curl_easy_perform(curl) == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(curl);
    r->body = resp.data ? resp.data : hl_strdup("");
    return r->status;
}

long hl_test_http_raw(const char *url, const char *method, const char *content_type,
                      const char *body, size_t len, char **out, const char *const *headers)
{
    hl_test_resp_t r;
    hl_test_http_ex(url, method, content_type, body, len, headers, &r);
    if (out)
        *out = r.body;
    else
        free(r.body);
    return r.status;
}

long hl_test_http(hl_cluster_t *c, int which, const char *method, const char *path, json_t *body,
                  json_t **out, const char *const *headers)
{
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", c->http_port[which], path);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    char *resp = NULL;
    long st = hl_test_http_raw(url, method, text ? "application/json" : NULL, text,
                               text ? strlen(text) : 0, out ? &resp : NULL, headers);
    free(text);
    if (out) {
        *out = resp && *resp ? json_loads(resp, 0, NULL) : NULL;
        free(resp);
    }
    return st;
}

double hl_test_metric(hl_cluster_t *c, int which, const char *series)
{
    char url[128], *text = NULL;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", c->http_port[which]);
    if (hl_test_http_raw(url, "GET", NULL, NULL, 0, &text, NULL) != 200) {
        free(text);
        return -1;
    }
    size_t n = strlen(series);
    double sum = 0;
    for (char *line = text; line && *line;) {
        char *end = strchr(line, '\n');
        /* "name value" or, when only a name was asked for, "name{...} value". */
        if (strncmp(line, series, n) == 0 &&
            (line[n] == ' ' || (line[n] == '{' && !strchr(series, '{')))) {
            const char *value = strchr(line + n, ' ');
            if (value)
                sum += atof(value + 1);
        }
        line = end ? end + 1 : NULL;
    }
    free(text);
    return sum;
}
