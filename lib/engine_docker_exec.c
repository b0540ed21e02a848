/*
 * engine_docker_exec.c: the Docker driver's exec: create, start (demultiplexed output) and inspect.
 * STUB until its owner lands it: answers BERTH_EUNIMPL.
 */
#include "lib/engine_docker_internal.h"

int docker_exec_create(struct berth_engine *e, const char *id,
                       const struct berth_exec_spec *spec, char **exec_id,
                       struct berth_err *err)
{
	(void)e;
	(void)id;
	(void)spec;
	(void)exec_id;
	return berth_err_set(err, BERTH_EUNIMPL, "not implemented yet");
}

int docker_exec_start(struct berth_engine *e, const char *exec_id,
                      berth_engine_output_fn out, berth_engine_tick_fn tick,
                      void *arg, struct berth_err *err)
{
	(void)e;
	(void)exec_id;
	(void)out;
	(void)tick;
	(void)arg;
	return berth_err_set(err, BERTH_EUNIMPL, "not implemented yet");
}

int docker_exec_inspect(struct berth_engine *e, const char *exec_id,
                        struct berth_exec_state *st, struct berth_err *err)
{
	(void)e;
	(void)exec_id;
	(void)st;
	return berth_err_set(err, BERTH_EUNIMPL, "not implemented yet");
}
