/*
 * engine_podman_events.h: the Podman driver's event source.
 *
 * Podman 4.3 without journald logs its events to a file, and its API
 * service hands them out by polling that file every 250 ms: 70-250 ms
 * late. So when Podman is reached on a local unix socket, its
 * events_logger is "file" (GET /libpod/info) and not rootless, and the
 * event file (engine_podman_events_conf.h says where) can be read, the
 * driver follows that file itself (engine_podman_events_file.h), with
 * the events mapped as the compatible stream gives them
 * (engine_podman_events_line.h). Otherwise it follows the compatible
 * /events stream, as the Docker driver does. Which source is used is
 * logged at debug ("podman_events_source").
 *
 * GET /libpod/info takes most of a second, so the file is followed at
 * once and the answer checked when it comes: when Podman turns out not
 * to log to the file, the compatible stream takes over from the same
 * starting point (an event could then be delivered twice; the cache and
 * the event feed tolerate that).
 */
#ifndef BERTH_LIB_ENGINE_PODMAN_EVENTS_H
#define BERTH_LIB_ENGINE_PODMAN_EVENTS_H

#include "lib/engine.h"

/*
 * The `events` op of the Podman driver (contract in engine.h): follows
 * from `since_unix_ms` (0 = now) until `tick` (called about every
 * 250 ms) or `fn` says stop (BERTH_ECANCELLED), or the engine stops
 * answering its ping, checked every second (BERTH_EUNAVAIL, retryable).
 */
int podman_events(struct berth_engine *e, int64_t since_unix_ms,
                  berth_engine_event_fn fn, berth_engine_tick_fn tick,
                  void *arg, struct berth_err *err);

#endif
