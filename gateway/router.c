/*
 * router.c: the gateway's route table and the matcher over it.
 *
 * The whole REST surface is the table below: read it to know what the
 * gateway answers. Each route names the RPC it makes (proto/berth/v1/
 * runtime.proto); the handler of Runtime.CreateContainer is
 * rt_create_container() in services/runtime/handlers_*.c (likewise for
 * every method), which calls the engine op of the same name,
 * berth_engine_container_create(), in lib/engine_docker.c. Matching is segment by segment; "{id}" takes one
 * segment. Ties cannot happen: no two patterns match the same path.
 */
#include "gateway/router.h"

#include "lib/alloc.h"

#include <stdio.h>
#include <string.h>

/* clang-format off */
static const struct gw_route routes[] = {
	/* -> (none: the process answers) */
	{ "GET",    "/healthz",                          gw_h_healthz, true },
	/* -> Runtime.Ping */
	{ "GET",    "/readyz",                           gw_h_readyz, false },
	/* -> Runtime.ListContainers */
	{ "GET",    "/api/v1/containers",                gw_h_containers_list, false },
	/* -> Runtime.CreateContainer */
	{ "POST",   "/api/v1/containers",                gw_h_containers_create, false },
	/* -> Runtime.InspectContainer */
	{ "GET",    "/api/v1/containers/{id}",           gw_h_container_inspect, false },
	/* -> Runtime.RemoveContainer */
	{ "DELETE", "/api/v1/containers/{id}",           gw_h_container_remove, false },
	/* -> Runtime.StartContainer */
	{ "POST",   "/api/v1/containers/{id}/start",     gw_h_container_start, false },
	/* -> Runtime.StopContainer */
	{ "POST",   "/api/v1/containers/{id}/stop",      gw_h_container_stop, false },
	/* -> Runtime.RestartContainer */
	{ "POST",   "/api/v1/containers/{id}/restart",   gw_h_container_restart, false },
	/* -> Runtime.Info */
	{ "GET",    "/api/v1/runtime/info",              gw_h_runtime_info, false },
	/* -> Runtime.PullImage */
	{ "POST",   "/api/v1/images/pull",               gw_h_images_pull, false },
	/* -> Runtime.GetJob */
	{ "GET",    "/api/v1/jobs/{id}",                 gw_h_job_get, false },
};
/* clang-format on */

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/*
 * Matches `path` against `pattern`. On a match, and when `params` is not
 * NULL, the {id} segments are copied there. Returns the number of
 * params, or -1 when it does not match.
 */
static int match(const char *pattern, const char *path,
                 char *params[GW_MAX_PARAMS])
{
	const char *p = pattern, *s = path;
	const char *seg[GW_MAX_PARAMS];
	size_t seglen[GW_MAX_PARAMS];
	int n = 0;

	while (*p != '\0' && *s != '\0') {
		if (*p != '/' || *s != '/')
			return -1;
		p++;
		s++;
		const char *pe = strchr(p, '/'), *se = strchr(s, '/');
		size_t pl = pe != NULL ? (size_t)(pe - p) : strlen(p);
		size_t sl = se != NULL ? (size_t)(se - s) : strlen(s);

		if (pl == 4 && memcmp(p, "{id}", 4) == 0) {
			if (sl == 0 || n == GW_MAX_PARAMS)
				return -1;
			seg[n] = s;
			seglen[n] = sl;
			n++;
		} else if (pl != sl || memcmp(p, s, pl) != 0) {
			return -1;
		}
		p += pl;
		s += sl;
	}
	if (*p != '\0' || *s != '\0')
		return -1;
	if (params != NULL)
		for (int i = 0; i < n; i++)
			params[i] = berth_strndup(seg[i], seglen[i]);
	return n;
}

enum gw_match gw_route_find(struct gw_req *rq, const struct gw_route **route,
                            char *allow, size_t allow_len)
{
	bool path_known = false;
	size_t used = 0;

	if (allow_len > 0)
		allow[0] = '\0';
	for (size_t i = 0; i < NROUTES; i++) {
		if (match(routes[i].pattern, rq->path, NULL) < 0)
			continue;
		if (strcmp(routes[i].method, rq->method) == 0) {
			int n = match(routes[i].pattern, rq->path, rq->params);

			rq->nparams = (size_t)n;
			*route = &routes[i];
			return GW_MATCH_OK;
		}
		path_known = true;
		if (used < allow_len) {
			int w
			    = snprintf(allow + used, allow_len - used, "%s%s",
			               used > 0 ? ", " : "", routes[i].method);
			if (w > 0)
				used += (size_t)w;
		}
	}
	return path_known ? GW_MATCH_BAD_METHOD : GW_MATCH_NOT_FOUND;
}
