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
	/* The body this route takes: NULL = JSON; else this media type,
	 * delivered raw in rq->body. */
	const char *body_type;
	size_t max_body; /* 0 = the gateway's default cap */
};

/* Cap of an uploaded tar (PUT .../archive): it travels in one nng
 * message, so it stays under the runtime's message limit. */
#define GW_ARCHIVE_MAX_BODY (64u * 1024u * 1024u)

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

/* The route for `method` and `path`, or NULL; params are not copied.
 * Used before the body is read, to pick its cap and type. */
const struct gw_route *gw_route_peek(const char *method, const char *path);

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
/* routes_exec.c */
void gw_h_container_exec(struct gw_req *rq);
/* routes_logs.c */
void gw_h_container_logs(struct gw_req *rq);
/* routes_wait.c */
void gw_h_container_wait(struct gw_req *rq);
/* routes_code.c */
void gw_h_container_inject(struct gw_req *rq);
void gw_h_container_archive_put(struct gw_req *rq);
/* routes_clone.c */
void gw_h_container_clone(struct gw_req *rq);
/* routes_events.c */
void gw_h_events(struct gw_req *rq);
/* routes_pods.c */
void gw_h_pods_list(struct gw_req *rq);
void gw_h_pods_create(struct gw_req *rq);
void gw_h_pod_inspect(struct gw_req *rq);
void gw_h_pod_remove(struct gw_req *rq);
void gw_h_pod_start(struct gw_req *rq);
void gw_h_pod_stop(struct gw_req *rq);

#endif
