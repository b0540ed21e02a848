/*
 * routes_pods.c: REST handlers (see the route table in router.c).
 * STUB until its owner lands it: answers 501.
 */
#include "gateway/respond.h"
#include "gateway/router.h"

void gw_h_pods_list(struct gw_req *rq)
{
	gw_respond_error(rq, BERTH_EUNIMPL, false, "not implemented yet");
}

void gw_h_pods_create(struct gw_req *rq)
{
	gw_respond_error(rq, BERTH_EUNIMPL, false, "not implemented yet");
}

void gw_h_pod_inspect(struct gw_req *rq)
{
	gw_respond_error(rq, BERTH_EUNIMPL, false, "not implemented yet");
}

void gw_h_pod_remove(struct gw_req *rq)
{
	gw_respond_error(rq, BERTH_EUNIMPL, false, "not implemented yet");
}

void gw_h_pod_start(struct gw_req *rq)
{
	gw_respond_error(rq, BERTH_EUNIMPL, false, "not implemented yet");
}

void gw_h_pod_stop(struct gw_req *rq)
{
	gw_respond_error(rq, BERTH_EUNIMPL, false, "not implemented yet");
}
