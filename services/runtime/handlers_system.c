/*
 * handlers_system.c: the runtime's Ping and Info RPCs, and the one place
 * its handlers turn an error into an RPC status (rt_fail).
 */
#include "services/runtime/runtime_internal.h"

#include "lib/alloc.h"
#include "lib/log.h"

#include <stdlib.h>

void rt_fail(void *call, const struct berth_err *err, const char *method)
{
	/* Client mistakes are routine; everything else is worth a warning. */
	enum berth_log_level level
	    = (err->code == BERTH_EINVAL || err->code == BERTH_ENOTFOUND
	       || err->code == BERTH_EEXISTS || err->code == BERTH_EPRECOND)
	    ? BERTH_LOG_DEBUG
	    : BERTH_LOG_WARN;

	berth_log(level, "rpc_failed",
	          "service=runtime method=%s request_id=%s code=%s msg=\"%s\"",
	          method, berth_rpc_call_request_id(call),
	          berth_code_name(err->code), err->msg);
	berth_rpc_call_fail_err(call, err);
}

void rt_ping(Berth__V1__Runtime_Service *svc, const Berth__V1__Empty *in,
             Berth__V1__PingReply_Closure done, void *call)
{
	struct berth_runtime *rt = runtime_of(svc);
	Berth__V1__PingReply out = BERTH__V1__PING_REPLY__INIT;
	struct berth_err err;

	(void)in;
	berth_err_clear(&err);
	/* The service answers even when its engine does not: readiness
	 * reports both facts. */
	out.engine_ok = berth_engine_ping(rt->engine, &err) == 0;
	if (!out.engine_ok)
		out.engine_error = err.msg;
	done(&out, call);
}

void rt_info(Berth__V1__Runtime_Service *svc, const Berth__V1__Empty *in,
             Berth__V1__RuntimeInfo_Closure done, void *call)
{
	struct berth_runtime *rt = runtime_of(svc);
	Berth__V1__RuntimeInfo *out = NULL;
	struct berth_err err;
	int rv;

	(void)in;
	berth_err_clear(&err);
	rv = berth_engine_info(rt->engine, &out, &err);
	if (rv != 0) {
		rt_fail(call, &err, "Info");
		done(NULL, call);
		return;
	}
	/* The configured facts win: seed 001 reports the configuration. */
	if (out->build_dir != NULL && out->build_dir[0] != '\0')
		free(out->build_dir);
	out->build_dir = berth_strdup(rt->build_dir);
	out->rootless = out->rootless || rt->rootless;
	done(out, call);
	protobuf_c_message_free_unpacked(&out->base, NULL);
}
