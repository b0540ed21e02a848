/*
 * routes_exec.c: REST handlers (see the route table in router.c).
 * STUB until its owner lands it: answers 501.
 */
#include "gateway/respond.h"
#include "gateway/router.h"

void gw_h_container_exec(struct gw_req *rq)
{
	gw_respond_error(rq, BERTH_EUNIMPL, false, "not implemented yet");
}
