/*
 * runtime.h: the runtime service, one instance per engine host.
 *
 * Serves berth.v1.Runtime (proto/berth/v1/runtime.proto) over nng:
 * container lifecycle on one Docker engine, and image pulls as durable
 * jobs in its own SQLite store (runtime.db). A runner thread works the
 * pull queue; on start, pulls left running by a killed process are
 * requeued (a pull is safe to repeat) and any other job is failed with a
 * reason.
 *
 * Route → handler map, for the newcomer: REST POST /api/v1/containers
 * (gateway/routes_containers.c) → Runtime.CreateContainer
 * (services/runtime/handlers_containers.c) → berth_engine_container_create
 * (lib/engine_docker.c).
 */
#ifndef BERTH_SERVICES_RUNTIME_H
#define BERTH_SERVICES_RUNTIME_H

#include "lib/engine.h"
#include "lib/error.h"

#include <stdbool.h>
#include <stddef.h>

struct berth_runtime;

struct berth_runtime_opts {
	const char *data_dir; /* runtime.db lives here (created 0700) */
	const char *url; /* nng address to serve, e.g. inproc://berth/runtime */
	bool dial;       /* dial `url` (scale-out behind a listening client) */
	int workers;     /* concurrent RPC handlers; 0 = 64 */
	struct berth_engine_config engine;
	const char *build_dir; /* reported by Info (seed 001) */
	bool rootless; /* reported by Info when the engine does not say */
	/* Seed 000's SafeLocalPaths: host folders code may be injected or
	 * bind-mounted from; none = refused. Copied. */
	const char *const *safe_local_paths;
	size_t nsafe_local_paths;
	/* Where the event PUB socket listens (or dials, with events_dial):
	 * container and job events for the gateway's SUB side. All-in-one:
	 * "inproc://berth/events"; NULL = events are not published (the
	 * state cache still runs). */
	const char *events_url;
	bool events_dial;
	/* runtime.health_driver: "auto" (NULL or ""), "on" or "off"; who
	 * runs health probes the engine will not run itself. */
	const char *health_driver;
};

/*
 * Opens the store, reconciles its jobs, opens the engine driver, starts
 * the pull runner, the event publisher and the state cache's follower
 * (list and inspect are then served from memory while it is in sync
 * with the engine's event stream) and serves `opts->url`. The engine need not be up: calls
 * then answer UNAVAILABLE (retryable) until it is.
 * Caller owns `*out`; stop and free with berth_runtime_stop().
 */
int berth_runtime_start(struct berth_runtime **out,
                        const struct berth_runtime_opts *opts,
                        struct berth_err *err);

/* Stops serving, lets the running handlers and pull finish its current
 * step, and frees everything. Accepts NULL. */
void berth_runtime_stop(struct berth_runtime *rt);

#endif
