/*
 * routes_wait.c: POST /api/v1/containers/{id}/wait?condition=&timeout_ms=
 *
 *   condition  not-running (default), next-exit, removed: Runtime.
 *              WaitContainer, answered {"exit_code","oom_killed",
 *              "removed"};
 *              healthy: Runtime.WaitHealthy, answered with the
 *              container's health fields {"health_status", ...}.
 *   timeout_ms 0 = the runtime's default (30 s; 60 s for healthy), at
 *              most 300000. When it passes: 504 DEADLINE_EXCEEDED,
 *              retryable (wait again).
 */
#include "gateway/respond.h"
#include "gateway/router.h"

#include "lib/validate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define WAIT_MAX_MS 300000
/* The RPC outlives the wait by this much, so the runtime's answer (and
 * not the gateway's own deadline) decides. */
#define WAIT_SLACK_MS 5000

static void finish_wait(struct gw_req *rq, const ProtobufCMessage *out)
{
	const Berth__V1__WaitReply *w = (const Berth__V1__WaitReply *)out;

	gw_respond_json(rq, 200,
	                json_pack("{s:i,s:b,s:b}", "exit_code", w->exit_code,
	                          "oom_killed", w->oom_killed, "removed",
	                          w->removed));
}

static void finish_healthy(struct gw_req *rq, const ProtobufCMessage *out)
{
	const Berth__V1__ContainerDetail *d
	    = (const Berth__V1__ContainerDetail *)out;

	gw_respond_json(
	    rq, 200,
	    json_pack("{s:s,s:i,s:s,s:b}", "health_status",
	              d->health_status != NULL ? d->health_status : "",
	              "health_failing_streak", (int)d->health_failing_streak,
	              "health_last_output",
	              d->health_last_output != NULL ? d->health_last_output
	                                            : "",
	              "running", d->running));
}

/* timeout_ms: absent = 0; else an integer 0..WAIT_MAX_MS. */
static int query_timeout(struct gw_req *rq, int *out)
{
	const char *v = gw_req_query(rq, "timeout_ms");
	char *end = NULL;
	long n;

	*out = 0;
	if (v == NULL)
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	if (v[0] == '\0' || *end != '\0' || errno != 0 || n < 0
	    || n > WAIT_MAX_MS) {
		gw_respond_error(rq, BERTH_EINVAL, false,
		                 "timeout_ms: an integer from 0 to %d",
		                 WAIT_MAX_MS);
		return BERTH_EINVAL;
	}
	*out = (int)n;
	return 0;
}

void gw_h_container_wait(struct gw_req *rq)
{
	static const char *const allowed[]
	    = { "condition", "timeout_ms", NULL };
	const char *cond;
	struct berth_err err;
	int timeout_ms;

	if (gw_req_query_only(rq, allowed) != 0)
		return;
	if (rq->body.len > 0) {
		gw_respond_error(rq, BERTH_EINVAL, false,
		                 "POST .../wait takes no request body");
		return;
	}
	if (berth_validate_container_ref("id", rq->params[0], &err) != 0) {
		gw_respond_err(rq, &err);
		return;
	}
	if (query_timeout(rq, &timeout_ms) != 0)
		return;
	cond = gw_req_query(rq, "condition");
	if (cond == NULL || cond[0] == '\0')
		cond = "not-running";
	if (strcmp(cond, "healthy") == 0) {
		berth__v1__wait_healthy_request__init(&rq->in.wait_healthy);
		rq->in.wait_healthy.id = rq->params[0];
		rq->in.wait_healthy.timeout_ms = timeout_ms;
		gw_rpc_start(
		    rq, "WaitHealthy", &rq->in.wait_healthy.base, false,
		    (timeout_ms > 0 ? timeout_ms : 60000) + WAIT_SLACK_MS,
		    finish_healthy);
		return;
	}
	if (strcmp(cond, "not-running") != 0 && strcmp(cond, "next-exit") != 0
	    && strcmp(cond, "removed") != 0) {
		gw_respond_error(rq, BERTH_EINVAL, false,
		                 "condition: not-running, next-exit, removed "
		                 "or healthy");
		return;
	}
	berth__v1__wait_request__init(&rq->in.wait);
	rq->in.wait.id = rq->params[0];
	rq->in.wait.condition = (char *)cond;
	rq->in.wait.timeout_ms = timeout_ms;
	gw_rpc_start(rq, "WaitContainer", &rq->in.wait.base, false,
	             (timeout_ms > 0 ? timeout_ms : 30000) + WAIT_SLACK_MS,
	             finish_wait);
}
