/* test_soak_diskfull (make soak): the database's disk full while appeals flow.
 *
 * The test runs a PostgreSQL of its own (scripts/pg.sh in a temporary
 * directory) and mounts a small tmpfs (HL_DISKFULL_MB, 64 MB; needs root:
 * the test skips, saying why, when it is not root or the mount fails). A
 * tablespace lives on the tmpfs and every table and index of the cluster's
 * database moves there before the load; the WAL stays on the ordinary disk,
 * so a full tmpfs gives ordinary errors (SQLSTATE 53100 disk_full, "could
 * not extend file") and no PANIC. Once a quarter of the appeals are
 * answered, a filler file takes every free byte of the tmpfs; once intake
 * has answered 503 for a while the filler goes and space returns. Then:
 *   - while the disk is full hl-intake answers 503 with Retry-After (no 503
 *     lacks the header), nothing else but 201 or 200;
 *   - every appeal answered 201 (or 200: stored by a try answered 503) is
 *     stored, each once — no 201 that is not stored;
 *   - nothing is half-written: each appeal has its "received" history row
 *     and its pipeline message, each message of intake its appeal;
 *   - everything resumes by itself: nothing pending, nothing dead, each
 *     appeal has its triage case.
 * HL_DISKFULL_APPEALS (3000) sizes it. The tmpfs is unmounted and the
 * server removed on every path (cmocka's group teardown). */
#include "hl_testflow.h"
#include "hl_testload.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define S_FULL_503S 20  /* 503s the full disk must cause before space returns */
#define S_FULL_S    2.0 /* how long the disk stays full, at least */

static hl_test_pgserver_t s_pg; /* the server whose tablespace fills */
static char *s_shared_pg;       /* HL_TEST_PG as tests/run.sh set it */
static char s_mnt[256];         /* the tmpfs mount point, "" when not mounted */
static char s_filler[300];      /* the file that fills it */
static const char *s_skip;      /* why the test skips, NULL when it runs */
static hl_cluster_t s_c;        /* the cluster */
static PGconn *s_db;            /* its database */
static bool s_ok;               /* the test ran to its end */

/* Runs a shell command quietly; true when it exits 0. */
static bool s_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool s_sh(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    return system(line) == 0;
}

static void s_umount(void)
{
    if (!s_mnt[0])
        return;
    unlink(s_filler);
    if (!s_sh("umount '%s' 2>/dev/null", s_mnt) && !s_sh("umount -l '%s'", s_mnt))
        fprintf(stderr, "diskfull: could not unmount %s\n", s_mnt);
    if (rmdir(s_mnt) != 0)
        fprintf(stderr, "diskfull: could not remove %s: %s\n", s_mnt, strerror(errno));
    s_mnt[0] = '\0';
}

/* Mounts the tmpfs; sets s_skip when it cannot (not root, no mount). */
static int s_mount(int mb)
{
    if (geteuid() != 0) {
        s_skip = "not root: mounting a tmpfs needs root";
        return 0;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(s_mnt, sizeof s_mnt, "%s/hl-test-diskfull-XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(s_mnt)) {
        s_mnt[0] = '\0';
        s_skip = "could not make the mount point";
        return 0;
    }
    if (!s_sh("mount -t tmpfs -o size=%dm,mode=0755 hl-diskfull '%s'", mb, s_mnt)) {
        rmdir(s_mnt);
        s_mnt[0] = '\0';
        s_skip = "mount -t tmpfs failed (no CAP_SYS_ADMIN in this container?)";
        return 0;
    }
    snprintf(s_filler, sizeof s_filler, "%s/filler", s_mnt);
    return 0;
}

/* The tablespace on the tmpfs, in the test's own server. */
static int s_tablespace(void)
{
    /* PostgreSQL runs as "hongling" under root (scripts/pg.sh made it). */
    if (!s_sh("mkdir '%s/ts' && chown hongling '%s/ts' && chmod 0700 '%s/ts'", s_mnt, s_mnt,
              s_mnt)) {
        fprintf(stderr, "diskfull: could not make %s/ts for user hongling\n", s_mnt);
        return -1;
    }
    PGconn *admin = hl_test_connect(s_pg.admin_url);
    char sql[400];
    snprintf(sql, sizeof sql, "CREATE TABLESPACE hl_diskfull LOCATION '%s/ts'", s_mnt);
    PGresult *r = PQexec(admin, sql);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
    if (rc != 0)
        fprintf(stderr, "diskfull: %s: %s", sql, PQerrorMessage(admin));
    PQclear(r);
    PQfinish(admin);
    return rc;
}

static int s_setup(void **state)
{
    (void)state;
    if (!hl_test_pg())
        return 0;
    s_shared_pg = strdup(hl_test_pg());
    if (s_mount(hl_test_env_int("HL_DISKFULL_MB", 64)) != 0)
        return -1;
    if (s_skip)
        return 0;
    if (hl_test_pgserver_new(&s_pg) != 0 || s_tablespace() != 0)
        return -1;
    setenv("HL_TEST_PG", s_pg.admin_url, 1);
    const char *env[] = {"HL_RESEND_AFTER_MS=1000", "HL_SWEEP_INTERVAL_MS=250", NULL};
    return hl_test_cluster_up(&s_c, &s_db, "hl_int_diskfull", 1, env);
}

static int s_teardown(void **state)
{
    (void)state;
    if (!s_shared_pg)
        return 0;
    if (!s_skip)
        hl_test_cluster_down(&s_c, s_db, s_ok);
    /* The server first: its files on the tmpfs keep it busy. */
    hl_test_pgserver_remove(&s_pg);
    s_umount();
    setenv("HL_TEST_PG", s_shared_pg, 1);
    free(s_shared_pg);
    return 0;
}

/* Writes the filler until the tmpfs has no byte left; returns its size in MB. */
static double s_fill(void)
{
    int fd = open(s_filler, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    static char block[1 << 16];
    double bytes = 0;
    for (;;) {
        ssize_t n = write(fd, block, sizeof block);
        if (n <= 0)
            break;
        bytes += (double)n;
    }
    close(fd);
    return bytes / (1 << 20);
}

typedef struct {
    int total;          /* appeals in the load */
    int phase;          /* 0 before, 1 full, 2 space returned */
    double filler_mb;   /* what the filler took */
    double full_at;     /* when the tmpfs filled (hl_test_now) */
    double freed_at;    /* when the filler went */
    double first_201_s; /* first 201 after the filler went, seconds after */
    int unavailable_at; /* 503s counted when it filled */
    int accepted_at;    /* 201s and 200s counted when it filled */
    int accepted_freed; /* 201s and 200s counted when space returned */
    int full_503s;      /* 503s while full */
    int full_201s;      /* 201s and 200s while full (rows that still fit) */
} s_filler_t;

static void s_tick(const hl_test_load_t *so_far, void *arg)
{
    s_filler_t *s = arg;
    double now = hl_test_now();
    int ok = so_far->accepted + so_far->replayed;
    if (s->phase == 0) {
        if (so_far->finished < s->total / 4)
            return;
        s->filler_mb = s_fill();
        s->full_at = hl_test_now();
        s->unavailable_at = so_far->unavailable;
        s->accepted_at = ok;
        s->phase = 1;
        return;
    }
    if (s->phase == 1) {
        int seen = so_far->unavailable - s->unavailable_at;
        if (now - s->full_at < S_FULL_S || seen < S_FULL_503S) {
            /* A full disk must show as 503s, and soon. */
            assert_true(now - s->full_at < 60 * hl_test_mult());
            return;
        }
        s->full_503s = seen;
        s->full_201s = ok - s->accepted_at;
        assert_int_equal(unlink(s_filler), 0);
        s->freed_at = hl_test_now();
        s->accepted_freed = ok;
        s->phase = 2;
        fprintf(stderr,
                "diskfull: full for %.1f s (filler %.1f MB): %d answers 503, %d appeals still "
                "stored meanwhile (room left in their pages); space returned\n",
                s->freed_at - s->full_at, s->filler_mb, s->full_503s, s->full_201s);
        return;
    }
    if (s->first_201_s == 0 && ok > s->accepted_freed)
        s->first_201_s = now - s->freed_at;
}

static void test_disk_full_under_load(void **state)
{
    (void)state;
    if (!hl_test_pg())
        skip();
    if (s_skip) {
        fprintf(stderr, "diskfull: skipped: %s\n", s_skip);
        skip();
    }
    int total = hl_test_env_int("HL_DISKFULL_APPEALS", 3000);

    /* Every table and index of the cluster's database onto the tmpfs. */
    hl_test_exec(s_db, "ALTER TABLE ALL IN TABLESPACE pg_default SET TABLESPACE hl_diskfull");
    hl_test_exec(s_db, "ALTER INDEX ALL IN TABLESPACE pg_default SET TABLESPACE hl_diskfull");
    assert_int_equal(hl_test_scalar(s_db, "SELECT count(*) FROM pg_class c JOIN pg_namespace n "
                                          "ON n.oid = c.relnamespace WHERE n.nspname = 'intake' "
                                          "AND c.relkind IN ('r', 'i') AND c.reltablespace = 0"),
                     0);

    s_filler_t s = {.total = total};
    hl_test_load_cfg_t cfg = {.total = total,
                              .parallel = 16,
                              .retry = true,
                              .key_prefix = "diskfull",
                              .on_tick = s_tick,
                              .arg = &s};
    double started = hl_test_now();
    hl_test_load_t r = hl_test_load_run(&s_c, &cfg);
    double took = hl_test_now() - started;
    if (s.phase == 1) /* the load ended while full: free it for the checks */
        unlink(s_filler);
    fprintf(stderr,
            "diskfull: %d appeals in %.1f s: %d answered 201, %d answered 200 (stored by a try "
            "answered 503), %d answers 503 (%d without Retry-After), %d other answers; first "
            "201 %.2f s after space returned\n",
            total, took, r.accepted, r.replayed, r.unavailable, r.no_retry_after, r.refused,
            s.first_201_s);
    assert_int_equal(s.phase, 2);
    assert_int_equal(r.refused, 0);
    assert_int_equal(r.no_retry_after, 0);
    assert_true(s.full_503s >= S_FULL_503S);
    assert_int_equal(r.accepted + r.replayed, total);

    long codes = 0;
    assert_int_equal(hl_test_load_stored(s_db, &r, total, &codes), total);
    assert_int_equal(codes, total);
    hl_test_load_free(&r);

    /* Nothing half-written: the appeal, its history row and its pipeline
     * message are one transaction. */
    assert_int_equal(hl_test_scalar(s_db, "SELECT count(*) FROM intake.appeal a WHERE NOT EXISTS "
                                          "(SELECT 1 FROM intake.appeal_event e WHERE "
                                          "e.appeal_id = a.id AND e.status = 'received')"),
                     0);
    assert_int_equal(hl_test_scalar(s_db,
                                    "SELECT count(*) FROM intake.appeal a WHERE NOT EXISTS "
                                    "(SELECT 1 FROM pipeline.message m WHERE m.trace_id = "
                                    "a.id AND m.producer = 'hl-intake' AND m.stage = 'appeal')"),
                     0);
    assert_int_equal(
        hl_test_scalar(
            s_db, "SELECT count(*) FROM pipeline.message m WHERE "
                  "m.producer = 'hl-intake' AND m.stage = 'appeal' AND NOT EXISTS (SELECT 1 FROM "
                  "intake.appeal a WHERE a.id = m.trace_id)"),
        0);
    double settle0 = hl_test_now();
    hl_test_assert_settled(s_db, total);
    fprintf(stderr,
            "diskfull: all %d stored once, none half-written, all triaged %.1f s after the load "
            "(%.1f s after space returned); %ld pipeline messages re-sent\n",
            total, hl_test_now() - settle0, hl_test_now() - s.freed_at,
            hl_test_scalar(s_db, "SELECT count(*) FROM pipeline.message WHERE attempts > 0"));
    assert_int_equal(hl_cluster_stop(&s_c), 0);
    s_ok = true;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_disk_full_under_load),
    };
    return cmocka_run_group_tests_name("integration: database disk full", tests, s_setup,
                                       s_teardown);
}
