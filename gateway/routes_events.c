/*
 * routes_events.c: GET /api/v1/events, the runtimes' container and job
 * events as Server-Sent Events (gateway/events_sub.h does the
 * streaming).
 *
 *   ?type=container|job   only that kind
 *   ?id=<ref>             only that container (id, id prefix or name)
 *                         or job
 */
#include "gateway/events_sub.h"
#include "gateway/respond.h"
#include "gateway/router.h"

#include "lib/validate.h"

#include <string.h>

void gw_h_events(struct gw_req *rq)
{
	static const char *const allowed[] = { "type", "id", NULL };
	const char *type, *id;
	struct berth_err err;
	bool stopping;

	if (gw_req_query_only(rq, allowed) != 0)
		return;
	if (rq->body.len > 0) {
		gw_respond_error(rq, BERTH_EINVAL, false,
		                 "GET /api/v1/events takes no request body");
		return;
	}
	type = gw_req_query(rq, "type");
	id = gw_req_query(rq, "id");
	if (type != NULL && type[0] == '\0')
		type = NULL;
	if (id != NULL && id[0] == '\0')
		id = NULL;
	if (type != NULL && strcmp(type, "container") != 0
	    && strcmp(type, "job") != 0) {
		gw_respond_error(rq, BERTH_EINVAL, false,
		                 "type: container or job");
		return;
	}
	if (id != NULL && berth_validate_container_ref("id", id, &err) != 0) {
		gw_respond_err(rq, &err);
		return;
	}
	pthread_mutex_lock(&rq->gw->mu);
	stopping = rq->gw->stopping;
	pthread_mutex_unlock(&rq->gw->mu);
	if (stopping || rq->gw->events == NULL) {
		gw_respond_error(rq, BERTH_EUNAVAIL, true,
		                 stopping ? "the gateway is shutting down"
		                          : "the event feed is not running");
		return;
	}
	gw_events_attach(rq->gw->events, rq, type, id);
}
