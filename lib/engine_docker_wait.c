/*
 * engine_docker_wait.c: the Docker driver's waiting for a container.
 * STUB until its owner lands it: answers BERTH_EUNIMPL.
 */
#include "lib/engine_docker_internal.h"

int docker_wait(struct berth_engine *e, const char *id, const char *condition,
                berth_engine_tick_fn tick, void *arg, int *exit_code,
                struct berth_err *err)
{
	(void)e;
	(void)id;
	(void)condition;
	(void)tick;
	(void)arg;
	(void)exit_code;
	return berth_err_set(err, BERTH_EUNIMPL, "not implemented yet");
}
