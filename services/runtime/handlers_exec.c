/*
 * handlers_exec.c: the runtime's exec: ExecCommand (unary, with a real timeout) and ExecStream.
 * STUB until its owner lands it: answers UNIMPLEMENTED.
 */
#include "services/runtime/runtime_internal.h"

void rt_exec_command(Berth__V1__Runtime_Service *svc,
                     const Berth__V1__ExecRequest *in,
                     Berth__V1__ExecReply_Closure done, void *call)
{
	struct berth_err err = { 0 };

	(void)svc;
	(void)in;
	berth_err_set(&err, BERTH_EUNIMPL, "not implemented yet");
	rt_fail(call, &err, "ExecCommand");
	done(NULL, call);
}

void rt_exec_stream(Berth__V1__Runtime_Service *svc,
                    const Berth__V1__ExecRequest *in,
                    Berth__V1__StreamRef_Closure done, void *call)
{
	struct berth_err err = { 0 };

	(void)svc;
	(void)in;
	berth_err_set(&err, BERTH_EUNIMPL, "not implemented yet");
	rt_fail(call, &err, "ExecStream");
	done(NULL, call);
}
