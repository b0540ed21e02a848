/*
 * handlers_clone.c: the runtime's CloneRepo.
 * STUB until its owner lands it: answers UNIMPLEMENTED.
 */
#include "services/runtime/runtime_internal.h"

void rt_clone_repo(Berth__V1__Runtime_Service *svc,
                   const Berth__V1__CloneRepoRequest *in,
                   Berth__V1__CloneRepoReply_Closure done, void *call)
{
	struct berth_err err = { 0 };

	(void)svc;
	(void)in;
	berth_err_set(&err, BERTH_EUNIMPL, "not implemented yet");
	rt_fail(call, &err, "CloneRepo");
	done(NULL, call);
}
