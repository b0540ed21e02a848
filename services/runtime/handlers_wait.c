/*
 * handlers_wait.c: the runtime's WaitContainer.
 * STUB until its owner lands it: answers UNIMPLEMENTED.
 */
#include "services/runtime/runtime_internal.h"

void rt_wait_container(Berth__V1__Runtime_Service *svc,
                       const Berth__V1__WaitRequest *in,
                       Berth__V1__WaitReply_Closure done, void *call)
{
	struct berth_err err = { 0 };

	(void)svc;
	(void)in;
	berth_err_set(&err, BERTH_EUNIMPL, "not implemented yet");
	rt_fail(call, &err, "WaitContainer");
	done(NULL, call);
}
