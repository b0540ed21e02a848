/*
 * engine_docker_logs.c: the Docker driver's container logs.
 * STUB until its owner lands it: answers BERTH_EUNIMPL.
 */
#include "lib/engine_docker_internal.h"

int docker_logs(struct berth_engine *e, const char *id,
                const struct berth_logs_opts *opts, berth_engine_output_fn out,
                berth_engine_tick_fn tick, void *arg, struct berth_err *err)
{
	(void)e;
	(void)id;
	(void)opts;
	(void)out;
	(void)tick;
	(void)arg;
	return berth_err_set(err, BERTH_EUNIMPL, "not implemented yet");
}
