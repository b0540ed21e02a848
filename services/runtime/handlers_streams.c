/*
 * handlers_streams.c: the runtime's logs and output streams: OpenLogs, ReadStream, CloseStream.
 * STUB until its owner lands it: answers UNIMPLEMENTED.
 */
#include "services/runtime/runtime_internal.h"

void rt_open_logs(Berth__V1__Runtime_Service *svc,
                  const Berth__V1__LogsRequest *in,
                  Berth__V1__StreamRef_Closure done, void *call)
{
	struct berth_err err = { 0 };

	(void)svc;
	(void)in;
	berth_err_set(&err, BERTH_EUNIMPL, "not implemented yet");
	rt_fail(call, &err, "OpenLogs");
	done(NULL, call);
}

void rt_read_stream(Berth__V1__Runtime_Service *svc,
                    const Berth__V1__ReadStreamRequest *in,
                    Berth__V1__StreamChunk_Closure done, void *call)
{
	struct berth_err err = { 0 };

	(void)svc;
	(void)in;
	berth_err_set(&err, BERTH_EUNIMPL, "not implemented yet");
	rt_fail(call, &err, "ReadStream");
	done(NULL, call);
}

void rt_close_stream(Berth__V1__Runtime_Service *svc,
                     const Berth__V1__StreamRef *in,
                     Berth__V1__Empty_Closure done, void *call)
{
	struct berth_err err = { 0 };

	(void)svc;
	(void)in;
	berth_err_set(&err, BERTH_EUNIMPL, "not implemented yet");
	rt_fail(call, &err, "CloseStream");
	done(NULL, call);
}
