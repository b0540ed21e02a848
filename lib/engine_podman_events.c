/*
 * engine_podman_events.c: the Podman driver's event source. For now the
 * compat event stream shared with the Docker driver.
 */
#include "lib/engine_podman_events.h"

#include "lib/engine_docker_internal.h"

int podman_events(struct berth_engine *e, int64_t since_unix_ms,
                  berth_engine_event_fn fn, berth_engine_tick_fn tick,
                  void *arg, struct berth_err *err)
{
	return docker_events(e, since_unix_ms, fn, tick, arg, err);
}
