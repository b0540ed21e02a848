/*
 * handlers_code.c: the runtime's code injection: InjectCode and PutArchive.
 * STUB until its owner lands it: answers UNIMPLEMENTED.
 */
#include "services/runtime/runtime_internal.h"

void rt_inject_code(Berth__V1__Runtime_Service *svc,
                    const Berth__V1__InjectCodeRequest *in,
                    Berth__V1__InjectCodeReply_Closure done, void *call)
{
	struct berth_err err = { 0 };

	(void)svc;
	(void)in;
	berth_err_set(&err, BERTH_EUNIMPL, "not implemented yet");
	rt_fail(call, &err, "InjectCode");
	done(NULL, call);
}

void rt_put_archive(Berth__V1__Runtime_Service *svc,
                    const Berth__V1__PutArchiveRequest *in,
                    Berth__V1__InjectCodeReply_Closure done, void *call)
{
	struct berth_err err = { 0 };

	(void)svc;
	(void)in;
	berth_err_set(&err, BERTH_EUNIMPL, "not implemented yet");
	rt_fail(call, &err, "PutArchive");
	done(NULL, call);
}
