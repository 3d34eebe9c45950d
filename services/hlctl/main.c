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

static void s_usage(FILE *f)
{
    fprintf(f,
            "usage: hlctl COMMAND [ARGS]\n\n"
            "  migrate               apply database migrations\n"
            "  seed-demo             build the demo city shaped like the report (idempotent)\n"
            "  status                pipeline lag per stage: pending, dead, oldest pending\n"
            "  replay [STAGE]        revive dead pipeline messages (all stages or one)\n"
            "  emit STAGE TYPE JSON  write one pipeline message built from JSON and push it\n"
            "  demo [--month-of-report]  drive a realistic month of appeals through the\n"
            "                        cluster (HL_DEMO_APPEALS, 300), or the report's period at\n"
            "                        its scale (2,100), and print the report's headline figures\n"
            "  api-key create NAME [RATE_PER_MIN]   print a new API key (shown once)\n"
            "  api-key revoke NAME   end a key (hl-intake refuses it within ~2 s)\n"
            "  api-key list          the keys, their rates, created and revoked\n"
            "  actor-key create NAME KIND UNIT [PERSON]  register an hl-bounty actor and\n"
            "                        print its API key (KIND: grid_org, volunteer,\n"
            "                        party_member, reviewer, commissioner, member_unit)\n"
            "  actor-key revoke NAME end an actor's key (hl-bounty refuses it within ~2 s)\n"
            "  actor-key list        the actors and whether they hold an active key\n"
            "  keygen NAME [--out DIR]  write a CurveZMQ key pair: DIR/NAME.key (secret,\n"
            "                        0600) and DIR/NAME.pub\n"
            "  qr [--out DIR]        write a QR code (SVG and PNG) for every mailbox and\n"
            "                        compound, encoding HL_PUBLIC_URL/r?src=TOKEN (var/qr)\n\n"
            "Environment: HL_DATABASE_URL (default postgresql://localhost:5432/hongling),\n"
            "HL_BUS (for emit), HL_DEMO_APPEALS and HL_BASE_PORT (for demo).\n");
}

static int s_migrate(void)
{
    const char *url = getenv("HL_DATABASE_URL");
    return hl_service_migrate(url ? url : "postgresql://localhost:5432/hongling") == 0 ? 0 : 1;
}

static int s_seed(void)
{
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

static int s_status(void)
{
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

static int s_replay(const char *stage)
{
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

int main(int argc, char **argv)
{
    hl_log_init("hlctl", HL_LOG_WARN);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        s_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "migrate") == 0) {
        hl_log_init("hlctl", HL_LOG_INFO);
        return s_migrate();
    }
    if (strcmp(cmd, "seed-demo") == 0)
        return s_seed();
    if (strcmp(cmd, "status") == 0)
        return s_status();
    if (strcmp(cmd, "replay") == 0)
        return s_replay(argc > 2 ? argv[2] : NULL);
    if (strcmp(cmd, "emit") == 0) {
        if (argc != 5) {
            fprintf(stderr, "usage: hlctl emit STAGE TYPE JSON\n");
            return 2;
        }
        return hlctl_emit(argv[2], argv[3], argv[4]);
    }
    if (strcmp(cmd, "demo") == 0)
        return hlctl_demo(argc - 2, argv + 2);
    if (strcmp(cmd, "api-key") == 0)
        return hlctl_api_key(argc - 2, argv + 2);
    if (strcmp(cmd, "actor-key") == 0)
        return hlctl_actor_key(argc - 2, argv + 2);
    if (strcmp(cmd, "keygen") == 0)
        return hlctl_keygen(argc - 2, argv + 2);
    if (strcmp(cmd, "qr") == 0)
        return hlctl_qr(argc - 2, argv + 2);
    fprintf(stderr, "hlctl: unknown command \"%s\"\n", cmd);
    s_usage(stderr);
    return 2;
}
