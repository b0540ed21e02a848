/*
 * routes_events.c: GET /api/v1/events, the runtimes' container and job
 * events as Server-Sent Events (gateway/events_sub.h does the
 * streaming).
 *
 *   ?type=container|job   only that kind
 *   ?id=<ref>             only that container (id, id prefix or name)
 *                         or job
 *   ?last_event_id=<id>   resume after that id, for clients that cannot
 *                         set the Last-Event-ID header (which wins when
 *                         both are given: EventSource sends the header
 *                         on its own reconnects, with the URL as it was)
 */
#include "gateway/events_ring.h"
#include "gateway/events_sub.h"
#include "gateway/respond.h"
#include "gateway/router.h"

#include "lib/validate.h"

#include <stdbool.h>
#include <string.h>

/* A bare number: the ids berth sent before they carried an epoch. Such
 * a client is answered as one from another gateway (a reset, then the
 * live stream), not refused: EventSource gives up after a 400, so a
 * page left open across an upgrade would stop for good. */
static bool old_style_id(const char *v)
{
	size_t n = strspn(v, "0123456789");

	return n > 0 && n <= 20 && v[n] == '\0';
}

/*
 * Checks a last seen id (`field` names where it came from). Empty is
 * none, as the SSE spec has it. Returns 0, or answers 400 and returns
 * BERTH_EINVAL. The value is not echoed: it is the client's input, and
 * the field's name and the expected form say enough.
 */
static int last_id_check(struct gw_req *rq, const char *field, const char *v)
{
	uint64_t epoch, seq;

	if (v == NULL || v[0] == '\0' || old_style_id(v)
	    || gw_ev_id_parse(&epoch, &seq, v) == 0)
		return 0;
	gw_respond_error(rq, BERTH_EINVAL, false,
	                 "%s: an event id as this stream sends them "
	                 "(<16 hex digits>-<number>), or nothing",
	                 field);
	return BERTH_EINVAL;
}

void gw_h_events(struct gw_req *rq)
{
	static const char *const allowed[]
	    = { "type", "id", "last_event_id", NULL };
	const char *type, *id, *last_q, *last_h, *last_id;
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
	last_q = gw_req_query(rq, "last_event_id");
	last_h = gw_req_header(rq, "Last-Event-ID");
	if (last_id_check(rq, "last_event_id", last_q) != 0
	    || last_id_check(rq, "Last-Event-ID", last_h) != 0)
		return;
	last_id = last_h != NULL && last_h[0] != '\0' ? last_h : last_q;
	if (last_id != NULL && last_id[0] == '\0')
		last_id = NULL;
	pthread_mutex_lock(&rq->gw->mu);
	stopping = rq->gw->stopping;
	pthread_mutex_unlock(&rq->gw->mu);
	if (stopping || rq->gw->events == NULL) {
		gw_respond_error(rq, BERTH_EUNAVAIL, true,
		                 stopping ? "the gateway is shutting down"
		                          : "the event feed is not running");
		return;
	}
	gw_events_attach(rq->gw->events, rq, type, id, last_id);
}
