/* fuzz_cfg: the configuration as a daemon reads it (hl_cfg.c). The input
 * is an environment, one NAME=VALUE a line; it replaces the process's
 * environment, and hl_cfg_load reads it through the table every daemon
 * shares (HL_SVC_CFG_ENTRIES) and the list of known keys, then, as
 * hl_service_config does, the log level is parsed and the configuration
 * logged (URLs masked; the line itself is not printed: the log level is
 * "error"). */
#include "hl_fuzz.h"

#include "hl.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    hl_svc_cfg_t svc; /* what every daemon takes */
} s_cfg_t;

static const hl_cfg_entry_t s_table[] = {
    HL_SVC_CFG_ENTRIES(s_cfg_t, svc, "8080", "hl_intake"),
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* putenv keeps the strings it is given: they live here until the next
     * input has replaced the environment. */
    static char *block;
    clearenv();
    free(block);
    block = malloc(size + 1);
    memcpy(block, data, size);
    block[size] = '\0';
    for (char *line = block, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *eq = strchr(line, '=');
        if (eq && eq != line)
            putenv(line);
    }
    hl_log_init("fuzz_cfg", HL_LOG_ERROR);
    s_cfg_t cfg;
    char err[256];
    if (hl_cfg_load(s_table, sizeof s_table / sizeof s_table[0], &cfg, hl_known_keys, err,
                    sizeof err) == 0) {
        hl_log_level_parse(cfg.svc.log_level);
        hl_cfg_log(s_table, sizeof s_table / sizeof s_table[0], &cfg);
    }
    return 0;
}
