/*
 * engine_boot.h: starts a local Docker engine for the all-in-one berth
 * when none answers on the configured socket.
 *
 * The engine is a child of berth (posix_spawn, argv only, no shell), its
 * PID and log kept under the data directory; berth stops exactly that
 * process, and only it, when it exits.
 */
#ifndef BERTH_CLI_ENGINE_BOOT_H
#define BERTH_CLI_ENGINE_BOOT_H

#include "lib/error.h"

#include <stdbool.h>
#include <sys/types.h>

struct engine_boot {
	pid_t pid;      /* 0 when berth did not start the engine */
	char *log_path; /* Caller-owned via engine_boot_fini() */
};

/*
 * Makes sure a Docker engine answers on `socket_path`. When none does and
 * `may_start` is true (root, docker runtime), spawns dockerd listening on
 * it and waits up to `wait_ms` for it to answer. `data_dir` holds
 * dockerd.log and dockerd.pid. `boot` records what was started.
 * Errors: BERTH_EUNAVAIL naming the socket and, when dockerd was started,
 * its log file.
 */
int engine_boot_ensure(struct engine_boot *boot, const char *socket_path,
                       const char *data_dir, bool may_start, int wait_ms,
                       struct berth_err *err);

/* Stops the engine that engine_boot_ensure() started (SIGTERM, then
 * waits), if any, and frees `boot`'s strings. */
void engine_boot_fini(struct engine_boot *boot);

#endif
