/*
 * router.h: method + path -> handler, for the gateway.
 *
 * Routes are one flat table (router.c) of method, pattern and handler;
 * a pattern segment "{id}" matches one non-empty path segment and is
 * handed to the handler in rq->params. A path that matches a pattern
 * under another method gets 405 with Allow; no match at all gets 404.
 */
#ifndef BERTH_GATEWAY_ROUTER_H
#define BERTH_GATEWAY_ROUTER_H

#include "gateway/request.h"

#include <stdbool.h>

/* A handler either responds (gw_respond_*) or starts an RPC
 * (gw_rpc_start). It never blocks. */
typedef void (*gw_handler_fn)(struct gw_req *rq);

struct gw_route {
	const char *method;
	const char *pattern;
	gw_handler_fn handler;
	bool public_route; /* no token needed */
};

enum gw_match {
	GW_MATCH_OK,        /* *route set, rq->params filled */
	GW_MATCH_NOT_FOUND, /* no pattern matches the path */
	GW_MATCH_BAD_METHOD /* the path matches, not under this method */
};

/*
 * Finds the route for rq->method and rq->path. On GW_MATCH_OK `*route`
 * points into the static table and rq->params holds copies of the {id}
 * segments (freed with the request). On GW_MATCH_BAD_METHOD, `allow`
 * (`allow_len` bytes) receives the methods the path has, e.g. "GET, DELETE".
 */
enum gw_match gw_route_find(struct gw_req *rq, const struct gw_route **route,
                            char *allow, size_t allow_len);

/* The handlers, by file. */
void gw_h_containers_list(struct gw_req *rq);
void gw_h_containers_create(struct gw_req *rq);
void gw_h_container_inspect(struct gw_req *rq);
void gw_h_container_remove(struct gw_req *rq);
void gw_h_container_start(struct gw_req *rq);
void gw_h_container_stop(struct gw_req *rq);
void gw_h_container_restart(struct gw_req *rq);
void gw_h_healthz(struct gw_req *rq);
void gw_h_readyz(struct gw_req *rq);
void gw_h_runtime_info(struct gw_req *rq);
void gw_h_images_pull(struct gw_req *rq);
void gw_h_job_get(struct gw_req *rq);

#endif
