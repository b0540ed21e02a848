/*
 * handlers_health.c: the runtime's WaitHealthy.
 * STUB until its owner lands it: answers UNIMPLEMENTED.
 */
#include "services/runtime/runtime_internal.h"

void rt_wait_healthy(Berth__V1__Runtime_Service *svc,
                     const Berth__V1__WaitHealthyRequest *in,
                     Berth__V1__ContainerDetail_Closure done, void *call)
{
	struct berth_err err = { 0 };

	(void)svc;
	(void)in;
	berth_err_set(&err, BERTH_EUNIMPL, "not implemented yet");
	rt_fail(call, &err, "WaitHealthy");
	done(NULL, call);
}
