/*
 * routes_system.c: the gateway's own and the runtime's system endpoints:
 * /healthz (the process answers), /readyz (each service answers Ping),
 * /api/v1/runtime/info, /api/v1/images/pull (a job) and /api/v1/jobs/{id}.
 */
#include "gateway/json_map.h"
#include "gateway/respond.h"
#include "gateway/router.h"

#include "lib/alloc.h"
#include "lib/validate.h"

#include <stdlib.h>
#include <string.h>

static int no_input(struct gw_req *rq)
{
	static const char *const keys[] = { NULL };

	if (rq->body.len > 0) {
		gw_respond_error(rq, BERTH_EINVAL, false,
		                 "%s %s takes no request body", rq->method,
		                 rq->path);
		return BERTH_EINVAL;
	}
	return gw_req_query_only(rq, keys);
}

void gw_h_healthz(struct gw_req *rq)
{
	gw_respond_json(rq, 200, json_pack("{s:s}", "status", "ok"));
}

/* Ready when the runtime answers Ping and its engine is up. */
static void finish_readyz(struct gw_req *rq, const ProtobufCMessage *out)
{
	const Berth__V1__PingReply *r = (const Berth__V1__PingReply *)out;
	/* How many runtime instances are connected: more than one when
	 * several serve behind one address. */
	int peers = berth_rpc_client_peers(rq->gw->rpc);
	json_t *svc;
	bool ok = r != NULL && r->engine_ok;

	if (ok)
		svc = json_pack("{s:b,s:i}", "ok", 1, "instances", peers);
	else if (r != NULL)
		svc = json_pack("{s:b,s:s}", "ok", 0, "error",
		                r->engine_error[0] != '\0'
		                    ? r->engine_error
		                    : "the container engine is down");
	else
		svc = json_pack("{s:b,s:s}", "ok", 0, "error",
		                rq->rpc_err.msg[0] != '\0'
		                    ? rq->rpc_err.msg
		                    : "the runtime service does not answer");
	if (svc == NULL) /* an error text that is not UTF-8 */
		svc = json_pack("{s:b}", "ok", (int)ok);
	if (!ok)
		gw_respond_header(rq, "Retry-After", "1");
	gw_respond_json(rq, ok ? 200 : 503,
	                json_pack("{s:s,s:{s:o}}", "status",
	                          ok ? "ready" : "not ready", "services",
	                          "runtime", svc));
}

void gw_h_readyz(struct gw_req *rq)
{
	if (no_input(rq) != 0)
		return;
	berth__v1__empty__init(&rq->in.empty);
	rq->finish_errors = true;
	gw_rpc_start(rq, "Ping", &rq->in.empty.base, false, 5000,
	             finish_readyz);
}

static void finish_info(struct gw_req *rq, const ProtobufCMessage *out)
{
	gw_respond_json(
	    rq, 200, gw_json_runtime_info((const Berth__V1__RuntimeInfo *)out));
}

void gw_h_runtime_info(struct gw_req *rq)
{
	if (no_input(rq) != 0)
		return;
	berth__v1__empty__init(&rq->in.empty);
	gw_rpc_start(rq, "Info", &rq->in.empty.base, false, 0, finish_info);
}

static void finish_pull(struct gw_req *rq, const ProtobufCMessage *out)
{
	const Berth__V1__Job *job = (const Berth__V1__Job *)out;
	char *loc = berth_asprintf("/api/v1/jobs/%s", job->id);

	gw_respond_header(rq, "Location", loc);
	free(loc);
	gw_respond_json(rq, 202, gw_json_job(job));
}

void gw_h_images_pull(struct gw_req *rq)
{
	static const char *const keys[] = { NULL };
	struct berth_err err;
	json_t *obj = NULL;
	int rv;

	if (gw_req_query_only(rq, keys) != 0)
		return;
	if (rq->body.len == 0) {
		gw_respond_error(rq, BERTH_EINVAL, false,
		                 "a JSON body is required: {\"image\": "
		                 "\"name:tag\"}");
		return;
	}
	rv = gw_json_parse_object(&obj, rq->body.data, rq->body.len, &err);
	if (rv == 0)
		rv = gw_json_to_pull_image(&rq->scratch, obj, &err);
	json_decref(obj);
	if (rv != 0) {
		gw_respond_err(rq, &err);
		return;
	}
	berth__v1__pull_image_request__init(&rq->in.pull);
	rq->in.pull.image = rq->scratch;
	gw_rpc_start(rq, "PullImage", &rq->in.pull.base, true, 0, finish_pull);
}

static void finish_job(struct gw_req *rq, const ProtobufCMessage *out)
{
	gw_respond_json(rq, 200, gw_json_job((const Berth__V1__Job *)out));
}

void gw_h_job_get(struct gw_req *rq)
{
	struct berth_err err;

	if (no_input(rq) != 0)
		return;
	if (berth_validate_job_id("id", rq->params[0], &err) != 0) {
		gw_respond_err(rq, &err);
		return;
	}
	berth__v1__job_ref__init(&rq->in.job);
	rq->in.job.id = rq->params[0];
	gw_rpc_start(rq, "GetJob", &rq->in.job.base, false, 0, finish_job);
}
