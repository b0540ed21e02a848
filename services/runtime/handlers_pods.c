/*
 * handlers_pods.c: the runtime's pods (Podman): CreatePod, StartPod,
 * StopPod, RemovePod, ListPods, InspectPod.
 *
 * Pods carry berth's labels as containers do (berth.managed,
 * berth.owner, berth.request_id), so a list can select berth's own pods
 * and a resent create finds its first attempt. Every field is checked
 * here as well as in the gateway (the nng API is public too). On Docker
 * the engine ops answer UNIMPLEMENTED with a message that says so.
 */
#include "services/runtime/runtime_internal.h"

#include "lib/validate.h"

#include <stdlib.h>
#include <string.h>

/* Caps on what one pod carries (a container body has the same). */
#define POD_MAX_LABELS 64
#define POD_MAX_PORTS  64

/* The value of label `key`, or NULL. Borrowed from `s`. */
static const char *pod_label(const Berth__V1__PodSummary *s, const char *key)
{
	for (size_t i = 0; i < s->n_labels; i++)
		if (strcmp(s->labels[i]->key, key) == 0)
			return s->labels[i]->value;
	return NULL;
}

/*
 * Checks a pod spec with the container rules: name as a container name,
 * label keys (berth.* reserved) and ports as a container's.
 */
static int pod_spec_check(const Berth__V1__PodSpec *spec, struct berth_err *err)
{
	Berth__V1__ContainerSpec c = BERTH__V1__CONTAINER_SPEC__INIT;

	if (spec == NULL)
		return berth_err_set(err, BERTH_EINVAL, "spec: required");
	if (berth_validate_name("name", spec->name, err) != 0)
		return BERTH_EINVAL;
	if (spec->n_labels > POD_MAX_LABELS)
		return berth_err_set(err, BERTH_EINVAL, "labels: at most %d",
		                     POD_MAX_LABELS);
	if (spec->n_ports > POD_MAX_PORTS)
		return berth_err_set(err, BERTH_EINVAL, "ports: at most %d",
		                     POD_MAX_PORTS);
	for (size_t i = 0; i < spec->n_labels; i++)
		if (berth_validate_text("labels", spec->labels[i]->value, 4096,
		                        err)
		    != 0)
			return BERTH_EINVAL;
	/* The container checks, on a container with only these fields. */
	c.image = (char *)"pod";
	c.labels = spec->labels;
	c.n_labels = spec->n_labels;
	c.ports = spec->ports;
	c.n_ports = spec->n_ports;
	return runtime_spec_check(&c, err);
}

static int pod_ref_check(const char *id, struct berth_err *err)
{
	return berth_validate_container_ref("id", id, err);
}

void rt_create_pod(Berth__V1__Runtime_Service *svc,
                   const Berth__V1__CreatePodRequest *in,
                   Berth__V1__PodSummary_Closure done, void *call)
{
	struct berth_runtime *rt = runtime_of(svc);
	const struct berth_engine_ops *ops = berth_engine_ops(rt->engine);
	const char *request_id = berth_rpc_call_request_id(call);
	const char *caller = berth_rpc_call_metadata(call, "caller");
	Berth__V1__KeyValue l_managed = BERTH__V1__KEY_VALUE__INIT;
	Berth__V1__KeyValue l_owner = BERTH__V1__KEY_VALUE__INIT;
	Berth__V1__KeyValue l_req = BERTH__V1__KEY_VALUE__INIT;
	const Berth__V1__KeyValue *labels[] = { &l_managed, &l_owner, &l_req };
	Berth__V1__PodSummary *out = NULL;
	struct berth_err err;
	char *id = NULL;
	int rv;

	berth_err_clear(&err);
	rv = pod_spec_check(in->spec, &err);
	if (rv != 0)
		goto out;
	l_managed.key = (char *)BERTH_LABEL_MANAGED;
	l_managed.value = (char *)"true";
	l_owner.key = (char *)BERTH_LABEL_OWNER;
	l_owner.value = (char *)(caller != NULL ? caller : "");
	l_req.key = (char *)BERTH_LABEL_REQUEST_ID;
	l_req.value = (char *)request_id;
	rv = ops->pod_create(rt->engine, in->spec, labels, 3, &id, &err);
	if (rv == BERTH_EEXISTS && request_id[0] != '\0') {
		/* A resent create (same request id) finds its first
		 * attempt; anyone else's pod of that name stays a conflict. */
		struct berth_err e2;
		const char *req;

		berth_err_clear(&e2);
		if (ops->pod_inspect(rt->engine, in->spec->name, &out, &e2) == 0
		    && (req = pod_label(out, BERTH_LABEL_REQUEST_ID)) != NULL
		    && strcmp(req, request_id) == 0) {
			rv = 0;
			goto out;
		}
		if (out != NULL)
			protobuf_c_message_free_unpacked(&out->base, NULL);
		out = NULL;
		goto out;
	}
	if (rv != 0)
		goto out;
	rv = ops->pod_inspect(rt->engine, id, &out, &err);
out:
	if (rv != 0) {
		rt_fail(call, &err, "CreatePod");
		done(NULL, call);
	} else {
		done(out, call);
	}
	if (out != NULL)
		protobuf_c_message_free_unpacked(&out->base, NULL);
	free(id);
}

/* Before a pod starts: the bind sources of every container in it that
 * berth made, as for a container started alone (safe_mounts.c). */
static int pod_binds_still_safe(struct berth_runtime *rt, const char *id,
                                struct berth_err *err)
{
	Berth__V1__PodSummary *p = NULL;
	int rv;

	rv = berth_engine_ops(rt->engine)->pod_inspect(rt->engine, id, &p, err);
	for (size_t i = 0; rv == 0 && i < p->n_container_ids; i++) {
		rv = runtime_bind_mounts_recheck(rt, p->container_ids[i], err);
		/* Removed since the pod was read: nothing of it will start,
		 * and NOT_FOUND would tell the caller the pod is gone. */
		if (rv == BERTH_ENOTFOUND) {
			berth_err_clear(err);
			rv = 0;
		}
	}
	if (p != NULL)
		protobuf_c_message_free_unpacked(&p->base, NULL);
	return rv;
}

/* StartPod and StopPod. */
static void pod_action(Berth__V1__Runtime_Service *svc, const char *id,
                       bool start, Berth__V1__Empty_Closure done, void *call)
{
	struct berth_runtime *rt = runtime_of(svc);
	const struct berth_engine_ops *ops = berth_engine_ops(rt->engine);
	Berth__V1__Empty empty = BERTH__V1__EMPTY__INIT;
	struct berth_err err;
	int rv;

	berth_err_clear(&err);
	rv = pod_ref_check(id, &err);
	if (rv == 0 && start)
		rv = pod_binds_still_safe(rt, id, &err);
	if (rv == 0)
		rv = start ? ops->pod_start(rt->engine, id, &err)
		           : ops->pod_stop(rt->engine, id, &err);
	if (rv != 0) {
		rt_fail(call, &err, start ? "StartPod" : "StopPod");
		done(NULL, call);
		return;
	}
	done(&empty, call);
}

void rt_start_pod(Berth__V1__Runtime_Service *svc, const Berth__V1__PodRef *in,
                  Berth__V1__Empty_Closure done, void *call)
{
	pod_action(svc, in->id, true, done, call);
}

void rt_stop_pod(Berth__V1__Runtime_Service *svc, const Berth__V1__PodRef *in,
                 Berth__V1__Empty_Closure done, void *call)
{
	pod_action(svc, in->id, false, done, call);
}

void rt_remove_pod(Berth__V1__Runtime_Service *svc,
                   const Berth__V1__RemovePodRequest *in,
                   Berth__V1__Empty_Closure done, void *call)
{
	struct berth_runtime *rt = runtime_of(svc);
	Berth__V1__Empty empty = BERTH__V1__EMPTY__INIT;
	struct berth_err err;
	int rv;

	berth_err_clear(&err);
	rv = pod_ref_check(in->id, &err);
	if (rv == 0)
		rv = berth_engine_ops(rt->engine)
		         ->pod_remove(rt->engine, in->id, in->force, &err);
	if (rv != 0) {
		rt_fail(call, &err, "RemovePod");
		done(NULL, call);
		return;
	}
	done(&empty, call);
}

void rt_list_pods(Berth__V1__Runtime_Service *svc,
                  const Berth__V1__ListPodsRequest *in,
                  Berth__V1__ListPodsReply_Closure done, void *call)
{
	struct berth_runtime *rt = runtime_of(svc);
	Berth__V1__ListPodsReply *out = NULL;
	struct berth_err err;
	int rv = 0;

	berth_err_clear(&err);
	if (in->n_labels > POD_MAX_LABELS)
		rv = berth_err_set(&err, BERTH_EINVAL, "labels: at most %d",
		                   POD_MAX_LABELS);
	for (size_t i = 0; i < in->n_labels && rv == 0; i++) {
		const char *k = in->labels[i]->key;

		/* berth.* keys are fine in a filter: they select, not set. */
		rv = berth_validate_label_key(
		    "label", strncmp(k, "berth.", 6) == 0 ? k + 6 : k, &err);
		if (rv == 0)
			rv = berth_validate_text("label", in->labels[i]->value,
			                         4096, &err);
	}
	if (rv == 0)
		rv = berth_engine_ops(rt->engine)
		         ->pod_list(rt->engine, in, &out, &err);
	if (rv != 0) {
		rt_fail(call, &err, "ListPods");
		done(NULL, call);
		return;
	}
	done(out, call);
	protobuf_c_message_free_unpacked(&out->base, NULL);
}

void rt_inspect_pod(Berth__V1__Runtime_Service *svc,
                    const Berth__V1__PodRef *in,
                    Berth__V1__PodSummary_Closure done, void *call)
{
	struct berth_runtime *rt = runtime_of(svc);
	Berth__V1__PodSummary *out = NULL;
	struct berth_err err;
	int rv;

	berth_err_clear(&err);
	rv = pod_ref_check(in->id, &err);
	if (rv == 0)
		rv = berth_engine_ops(rt->engine)
		         ->pod_inspect(rt->engine, in->id, &out, &err);
	if (rv != 0) {
		rt_fail(call, &err, "InspectPod");
		done(NULL, call);
		return;
	}
	done(out, call);
	protobuf_c_message_free_unpacked(&out->base, NULL);
}
