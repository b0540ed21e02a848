/*
 * registry.h: a private Docker registry (distribution's docker-registry)
 * on loopback for integration tests, and helpers that put images into it
 * through the Engine API only (no docker CLI).
 *
 * Each registry runs from its own temporary directory (config file and
 * storage) on 127.0.0.1:<free port>, which dockerd treats as insecure by
 * default, and is stopped by its PID, never by name. Every engine object
 * made here (helper containers, committed images) carries the label
 * berth.test=<ts_run_label()>; image references made or pulled by a test
 * are recorded in the struct so ts_registry_stop() removes exactly those
 * from the engine, and nothing else.
 *
 * The functions print their reason to stderr on failure and return -1;
 * they never abort, so a test can still run its teardown.
 */
#ifndef BERTH_TESTS_REGISTRY_H
#define BERTH_TESTS_REGISTRY_H

#include <stdbool.h>
#include <sys/types.h>

#define TS_REGISTRY_BIN     "/usr/bin/docker-registry"
#define TS_REGISTRY_MAXREFS 16

struct ts_registry {
	pid_t pid; /* 0 when not running */
	int port;
	char host[32]; /* "127.0.0.1:PORT", the reference prefix */
	char *dir;     /* owned; config, storage and log; removed at stop */
	char *refs[TS_REGISTRY_MAXREFS]; /* owned; engine refs to remove */
	unsigned nrefs;
};

/* True when the docker-registry binary is installed (make deps). */
bool ts_registry_available(void);

/*
 * Starts docker-registry on 127.0.0.1:<free port> with a config file in a
 * new temporary directory and storage under it; waits up to 10 s until
 * GET /v2/ answers 200. Returns 0, or -1 with the registry's log printed
 * (the struct is then safe to pass to ts_registry_stop()).
 */
int ts_registry_start(struct ts_registry *r);

/*
 * Removes every recorded engine reference (untag without force, so a
 * shared image keeps its other tags; a reference already gone is fine),
 * stops the registry by PID (SIGTERM, then SIGKILL after 5 s), reaps it
 * and removes its directory. Accepts a never-started or zeroed struct and
 * may be called twice.
 */
void ts_registry_stop(struct ts_registry *r);

/* Records engine reference `ref` (copied) for removal at stop. */
void ts_registry_track(struct ts_registry *r, const char *ref);

/*
 * Pushes the local engine image `local` into the registry as
 * "<host>/<name>:<tag>": tag on the engine, then push with an
 * X-Registry-Auth of an empty auth object. The new tag is recorded for
 * removal. `*ref` gets the full reference; caller owns it (free()).
 */
int ts_registry_push(struct ts_registry *r, const char *local, const char *name,
                     const char *tag, char **ref);

/*
 * Makes an image "<host>/<name>:<tag>" on the engine: the harness's
 * busybox image plus one layer holding `mib` MiB of random
 * (incompressible) data in /berth-blob, committed from a labelled helper
 * container (removed again). Its Cmd is /bin/sh. Pushes it, then removes
 * it from the engine again, so pulling `*ref` has to download the layer.
 * `*ref` gets the reference and `*image_id` ("sha256:...") the id a pull
 * of it yields; caller owns both (free()). The reference is recorded for
 * removal (the pulled image is removed at stop).
 */
int ts_registry_put_random_image(struct ts_registry *r, const char *name,
                                 const char *tag, unsigned mib, char **ref,
                                 char **image_id);

/*
 * Engine helpers on ts_docker_socket().
 * ts_engine_image_id(): 1 when `ref` exists (and `*id`, when not NULL,
 * gets its id; caller owns it), 0 when it does not, -1 when the engine
 * did not answer.
 * ts_engine_image_remove(): DELETE /images/<ref> (force when asked);
 * returns the HTTP status, or -1.
 */
int ts_engine_image_id(const char *ref, char **id);
long ts_engine_image_remove(const char *ref, bool force);

#endif
