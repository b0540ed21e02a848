/*
 * engine_podman.c: the Podman driver. Podman's Docker-compatible API
 * answers most calls, so this reuses the Docker driver's ops and
 * normalises where Podman differs (errors, pulls, events, pods).
 * STUB until its owner lands it: the Docker ops, unchanged.
 */
#include "lib/engine_docker_internal.h"

static int podman_no_pods(struct berth_err *err)
{
	return berth_err_set(err, BERTH_EUNIMPL, "not implemented yet");
}

static int podman_pod_create(struct berth_engine *e,
                             const Berth__V1__PodSpec *spec,
                             const Berth__V1__KeyValue *const *labels,
                             size_t nlabels, char **id, struct berth_err *err)
{
	(void)e;
	(void)spec;
	(void)labels;
	(void)nlabels;
	(void)id;
	return podman_no_pods(err);
}

static int podman_pod_ref(struct berth_engine *e, const char *id,
                          struct berth_err *err)
{
	(void)e;
	(void)id;
	return podman_no_pods(err);
}

static int podman_pod_remove(struct berth_engine *e, const char *id, bool force,
                             struct berth_err *err)
{
	(void)force;
	return podman_pod_ref(e, id, err);
}

static int podman_pod_list(struct berth_engine *e,
                           const Berth__V1__ListPodsRequest *filter,
                           Berth__V1__ListPodsReply **out,
                           struct berth_err *err)
{
	(void)e;
	(void)filter;
	(void)out;
	return podman_no_pods(err);
}

static int podman_pod_inspect(struct berth_engine *e, const char *id,
                              Berth__V1__PodSummary **out,
                              struct berth_err *err)
{
	(void)out;
	return podman_pod_ref(e, id, err);
}

const struct berth_engine_ops berth_engine_podman_ops = {
	.name = "podman",
	.ping = docker_ping,
	.info = docker_info,
	.image_pull = docker_image_pull,
	.image_exists = docker_image_exists,
	.container_create = docker_container_create,
	.container_start = docker_container_start,
	.container_stop = docker_container_stop,
	.container_restart = docker_container_restart,
	.container_remove = docker_container_remove,
	.container_list = docker_container_list,
	.container_inspect = docker_container_inspect,
	.exec_create = docker_exec_create,
	.exec_start = docker_exec_start,
	.exec_inspect = docker_exec_inspect,
	.logs = docker_logs,
	.wait = docker_wait,
	.archive_put = docker_archive_put,
	.events = docker_events,
	.pod_create = podman_pod_create,
	.pod_start = podman_pod_ref,
	.pod_stop = podman_pod_ref,
	.pod_remove = podman_pod_remove,
	.pod_list = podman_pod_list,
	.pod_inspect = podman_pod_inspect,
};
