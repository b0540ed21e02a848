/*
 * engine_podman_events.h: the Podman driver's event source.
 */
#ifndef BERTH_LIB_ENGINE_PODMAN_EVENTS_H
#define BERTH_LIB_ENGINE_PODMAN_EVENTS_H

#include "lib/engine.h"

/* The `events` op of the Podman driver (see engine.h). */
int podman_events(struct berth_engine *e, int64_t since_unix_ms,
                  berth_engine_event_fn fn, berth_engine_tick_fn tick,
                  void *arg, struct berth_err *err);

#endif
