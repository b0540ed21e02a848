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
	{ "GET",    "/healthz",                          gw_h_healthz, true, NULL, 0 },
	/* -> Runtime.Ping */
	{ "GET",    "/readyz",                           gw_h_readyz, false, NULL, 0 },
	/* -> Runtime.ListContainers */
	{ "GET",    "/api/v1/containers",                gw_h_containers_list, false, NULL, 0 },
	/* -> Runtime.CreateContainer */
	{ "POST",   "/api/v1/containers",                gw_h_containers_create, false, NULL, 0 },
	/* -> Runtime.InspectContainer */
	{ "GET",    "/api/v1/containers/{id}",           gw_h_container_inspect, false, NULL, 0 },
	/* -> Runtime.RemoveContainer */
	{ "DELETE", "/api/v1/containers/{id}",           gw_h_container_remove, false, NULL, 0 },
	/* -> Runtime.StartContainer */
	{ "POST",   "/api/v1/containers/{id}/start",     gw_h_container_start, false, NULL, 0 },
	/* -> Runtime.StopContainer */
	{ "POST",   "/api/v1/containers/{id}/stop",      gw_h_container_stop, false, NULL, 0 },
	/* -> Runtime.RestartContainer */
	{ "POST",   "/api/v1/containers/{id}/restart",   gw_h_container_restart, false, NULL, 0 },
	/* -> Runtime.Info */
	{ "GET",    "/api/v1/runtime/info",              gw_h_runtime_info, false, NULL, 0 },
	/* -> Runtime.PullImage */
	{ "POST",   "/api/v1/images/pull",               gw_h_images_pull, false, NULL, 0 },
	/* -> Runtime.GetJob */
	{ "GET",    "/api/v1/jobs/{id}",                 gw_h_job_get, false, NULL, 0 },
	/* -> Runtime.ExecCommand, or ExecStream + ReadStream (?stream=1) */
	{ "POST",   "/api/v1/containers/{id}/exec",      gw_h_container_exec, false, NULL, 0 },
	/* -> Runtime.OpenLogs + ReadStream + CloseStream */
	{ "GET",    "/api/v1/containers/{id}/logs",      gw_h_container_logs, false, NULL, 0 },
	/* -> Runtime.WaitContainer, or WaitHealthy (?condition=healthy) */
	{ "POST",   "/api/v1/containers/{id}/wait",      gw_h_container_wait, false, NULL, 0 },
	/* -> Runtime.InjectCode */
	{ "POST",   "/api/v1/containers/{id}/inject",    gw_h_container_inject, false, NULL, 0 },
	/* -> Runtime.PutArchive (tar body) */
	{ "PUT",    "/api/v1/containers/{id}/archive",   gw_h_container_archive_put, false,
	  "application/x-tar", GW_ARCHIVE_MAX_BODY },
	/* -> Runtime.CloneRepo */
	{ "POST",   "/api/v1/containers/{id}/clone",     gw_h_container_clone, false, NULL, 0 },
	/* -> (the runtimes' event PUB sockets) */
	{ "GET",    "/api/v1/events",                    gw_h_events, false, NULL, 0 },
	/* -> Runtime.ListPods */
	{ "GET",    "/api/v1/pods",                      gw_h_pods_list, false, NULL, 0 },
	/* -> Runtime.CreatePod */
	{ "POST",   "/api/v1/pods",                      gw_h_pods_create, false, NULL, 0 },
	/* -> Runtime.InspectPod */
	{ "GET",    "/api/v1/pods/{id}",                 gw_h_pod_inspect, false, NULL, 0 },
	/* -> Runtime.RemovePod */
	{ "DELETE", "/api/v1/pods/{id}",                 gw_h_pod_remove, false, NULL, 0 },
	/* -> Runtime.StartPod */
	{ "POST",   "/api/v1/pods/{id}/start",           gw_h_pod_start, false, NULL, 0 },
	/* -> Runtime.StopPod */
	{ "POST",   "/api/v1/pods/{id}/stop",            gw_h_pod_stop, false, NULL, 0 },
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

const struct gw_route *gw_route_peek(const char *method, const char *path)
{
	for (size_t i = 0; i < NROUTES; i++)
		if (strcmp(routes[i].method, method) == 0
		    && match(routes[i].pattern, path, NULL) >= 0)
			return &routes[i];
	return NULL;
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
