/* hlctl: the operator's command line.
 *
 *   hlctl migrate                 apply migrations
 *   hlctl seed-demo               build the demo city (idempotent)
 *   hlctl status                  pipeline lag per stage, pending and dead rows
 *   hlctl replay [STAGE]          give dead messages another chance
 *   hlctl emit STAGE TYPE JSON    write and push one pipeline message
 *   hlctl demo [--month-of-report]  drive a month (or the report's period) of appeals
 *                                 through a running cluster; print the headline figures
 *   hlctl api-key create NAME     print a new API key for a machine client (revoke, list)
 *   hlctl keygen NAME [--out DIR] write a CurveZMQ key pair (NAME.key, NAME.pub)
 *   hlctl qr [--out DIR]          QR codes for every mailbox and compound
 *
 * A command-line tool runs one thing and exits, so it uses blocking libpq:
 * the event-loop rules are for the daemons. */
#include "hlctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int s_migrate(int argc, char **argv)
{
    (void)argc, (void)argv;
    hl_log_init("hlctl", HL_LOG_INFO);
    const char *url = getenv("HL_DATABASE_URL");
    return hl_service_migrate(url ? url : "postgresql://localhost:5432/hongling") == 0 ? 0 : 1;
}

static int s_seed(int argc, char **argv)
{
    (void)argc, (void)argv;
    PGconn *conn = hlctl_connect();
    PQclear(hlctl_query(conn, "SELECT org.seed_demo()", 0, NULL));
    PGresult *r = hlctl_query(conn,
                              "SELECT level, count(*) FROM org.org_unit GROUP BY level"
                              " ORDER BY min(CASE level WHEN 'city' THEN 0 WHEN 'town' THEN 1"
                              " WHEN 'community' THEN 2 WHEN 'compound' THEN 3"
                              " WHEN 'micro_grid' THEN 4 ELSE 5 END)",
                              0, NULL);
    printf("demo city:");
    for (int i = 0; i < PQntuples(r); i++)
        printf(" %s %s%s", PQgetvalue(r, i, 1), PQgetvalue(r, i, 0),
               i + 1 < PQntuples(r) ? "," : "\n");
    PQclear(r);
    r = hlctl_query(conn,
                    "SELECT (SELECT count(*) FROM org.member_unit), (SELECT count(*) FROM "
                    "org.mailbox), (SELECT count(*) FROM org.category),"
                    " (SELECT count(DISTINCT chain) FROM org.org_unit)",
                    0, NULL);
    printf("           %s member units, %s mailboxes, %s categories, %s chains\n",
           PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3));
    PQclear(r);
    PQfinish(conn);
    return 0;
}

static int s_status(int argc, char **argv)
{
    (void)argc, (void)argv;
    PGconn *conn = hlctl_connect();
    PGresult *r =
        hlctl_query(conn,
                    "SELECT stage, pending, dead, done_retained,"
                    " coalesce(round(extract(epoch FROM oldest_pending)::numeric, 1)::text, '-'),"
                    " coalesce(resends, 0)"
                    " FROM reporting.pipeline_lag ORDER BY stage",
                    0, NULL);
    printf("%-12s %8s %6s %8s %12s %8s\n", "stage", "pending", "dead", "done", "oldest(s)",
           "resends");
    long pending = 0, dead = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        printf("%-12s %8s %6s %8s %12s %8s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
               PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4), PQgetvalue(r, i, 5));
        pending += atol(PQgetvalue(r, i, 1));
        dead += atol(PQgetvalue(r, i, 2));
    }
    PQclear(r);
    r = hlctl_query(conn, "SELECT count(*) FROM pipeline.dead_letter", 0, NULL);
    printf("total: %ld pending, %ld dead; %s unparseable frames in pipeline.dead_letter\n", pending,
           dead, PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(conn);
    return 0;
}

static int s_replay(int argc, char **argv)
{
    const char *stage = argc > 0 ? argv[0] : NULL;
    if (stage && hl_stage_parse(stage) < 0) {
        fprintf(stderr, "hlctl: unknown stage \"%s\"\n", stage);
        return 2;
    }
    PGconn *conn = hlctl_connect();
    const char *params[1] = {stage};
    PGresult *r = hlctl_query(conn,
                              "UPDATE pipeline.message SET dead_at = NULL, last_error = NULL,"
                              " attempts = 0, next_attempt_at = now()"
                              " WHERE dead_at IS NOT NULL AND done_at IS NULL"
                              " AND ($1::text IS NULL OR stage = $1)",
                              1, params);
    printf("revived %s dead messages; their producers' sweepers re-send them now\n",
           PQcmdTuples(r));
    PQclear(r);
    PQfinish(conn);
    return 0;
}

static int s_emit(int argc, char **argv)
{
    (void)argc;
    return hlctl_emit(argv[0], argv[1], argv[2]);
}

/* One command: its name, its arguments for the usage, what it does, how
 * many arguments it takes, and the function that runs it (arguments after
 * the command's name; returns the exit code). */
typedef struct {
    const char *name;                  /* as typed */
    const char *args;                  /* for the usage, "" when none */
    const char *help;                  /* what it does (lines after the first indented) */
    int min_args;                      /* fewest arguments */
    int max_args;                      /* most arguments, -1: the command checks them */
    int (*run)(int argc, char **argv); /* the command */
} s_command_t;

static const s_command_t s_commands[] = {
    {"migrate", "", "apply database migrations", 0, 0, s_migrate},
    {"seed-demo", "", "build the demo city shaped like the report (idempotent)", 0, 0, s_seed},
    {"status", "", "pipeline lag per stage: pending, dead, oldest pending", 0, 0, s_status},
    {"replay", "[STAGE]", "revive dead pipeline messages (all stages or one)", 0, 1, s_replay},
    {"emit", "STAGE TYPE JSON", "write one pipeline message built from JSON and push it", 3, 3,
     s_emit},
    {"demo", "[--month-of-report]",
     "drive a realistic month of appeals through the\n"
     "                        cluster (HL_DEMO_APPEALS, 300), or the report's period at\n"
     "                        its scale (2,100), and print the report's headline figures",
     0, -1, hlctl_demo},
    {"api-key", "create NAME [RATE_PER_MIN] | revoke NAME | list",
     "print a new API key (shown once), end one\n"
     "                        (hl-intake refuses it within ~2 s), or list the keys",
     1, -1, hlctl_api_key},
    {"keygen", "NAME [--out DIR]",
     "write a CurveZMQ key pair: DIR/NAME.key (secret,\n"
     "                        0600) and DIR/NAME.pub",
     1, -1, hlctl_keygen},
    {"qr", "[--out DIR]",
     "write a QR code (SVG and PNG) for every mailbox and\n"
     "                        compound, encoding HL_PUBLIC_URL/r?src=TOKEN (var/qr)",
     0, -1, hlctl_qr},
};
#define S_NCOMMANDS (sizeof s_commands / sizeof s_commands[0])

static void s_usage(FILE *f)
{
    fprintf(f, "usage: hlctl COMMAND [ARGS]\n\n");
    for (size_t i = 0; i < S_NCOMMANDS; i++) {
        const s_command_t *c = &s_commands[i];
        char head[96];
        snprintf(head, sizeof head, "%s%s%s", c->name, *c->args ? " " : "", c->args);
        if (strlen(head) <= 21)
            fprintf(f, "  %-21s %s\n", head, c->help);
        else
            fprintf(f, "  %s\n  %-21s %s\n", head, "", c->help);
    }
    fprintf(f, "\nEnvironment: HL_DATABASE_URL (default postgresql://localhost:5432/hongling),\n"
               "HL_BUS (for emit), HL_DEMO_APPEALS and HL_BASE_PORT (for demo).\n");
}

int main(int argc, char **argv)
{
    hl_log_init("hlctl", HL_LOG_WARN);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        s_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < S_NCOMMANDS; i++) {
        const s_command_t *c = &s_commands[i];
        if (strcmp(argv[1], c->name) != 0)
            continue;
        int n = argc - 2;
        if (n < c->min_args || (c->max_args >= 0 && n > c->max_args)) {
            fprintf(stderr, "usage: hlctl %s %s\n", c->name, c->args);
            return 2;
        }
        return c->run(n, argv + 2);
    }
    fprintf(stderr, "hlctl: unknown command \"%s\"\n", argv[1]);
    s_usage(stderr);
    return 2;
}
