/*
 * engine_docker_events.c: the Docker driver's following the engine event stream.
 * STUB until its owner lands it: answers BERTH_EUNIMPL.
 */
#include "lib/engine_docker_internal.h"

int docker_events(struct berth_engine *e, int64_t since_unix_ms,
                  berth_engine_event_fn fn, berth_engine_tick_fn tick,
                  void *arg, struct berth_err *err)
{
	(void)e;
	(void)since_unix_ms;
	(void)fn;
	(void)tick;
	(void)arg;
	return berth_err_set(err, BERTH_EUNIMPL, "not implemented yet");
}
