/*
 * routes_pods.c: /api/v1/pods (Podman): list, create, inspect, start,
 * stop, remove.
 *
 *   POST   /api/v1/pods             {"name","labels":{},"ports":{...}}
 *          labels and ports as a container's (ports: seed 001's map,
 *          host port -> container port); 201 with the pod
 *   GET    /api/v1/pods?label=k=v   {"pods":[...]}, filtered by labels (all match)
 *   GET    /api/v1/pods/{id}        one pod, with its containers
 *   POST   /api/v1/pods/{id}/start, /stop   204
 *   DELETE /api/v1/pods/{id}?force=1        204 (force: with containers)
 *
 * A pod is {"id","name","status","created","labels","containers"}. On a
 * runtime that drives Docker every route answers 501 UNIMPLEMENTED.
 */
#include "gateway/json_map.h"
#include "gateway/respond.h"
#include "gateway/router.h"

#include "lib/alloc.h"
#include "lib/validate.h"

#include <stdlib.h>
#include <string.h>

static int no_body(struct gw_req *rq)
{
	if (rq->body.len == 0)
		return 0;
	gw_respond_error(rq, BERTH_EINVAL, false, "%s %s takes no request body",
	                 rq->method, rq->path);
	return BERTH_EINVAL;
}

/* The {id} of the path, validated (pod ids and names as containers'). */
static const char *pod_id(struct gw_req *rq)
{
	struct berth_err err;

	if (berth_validate_container_ref("id", rq->params[0], &err) != 0) {
		gw_respond_err(rq, &err);
		return NULL;
	}
	return rq->params[0];
}

static json_t *pod_json(const Berth__V1__PodSummary *p)
{
	json_t *labels = json_object(), *cs = json_array();

	for (size_t i = 0; i < p->n_labels; i++) {
		json_t *v = json_string(p->labels[i]->value);

		if (v != NULL)
			json_object_set_new(labels, p->labels[i]->key, v);
	}
	for (size_t i = 0; i < p->n_container_ids; i++) {
		json_t *v = json_string(p->container_ids[i]);

		if (v != NULL)
			json_array_append_new(cs, v);
	}
	return json_pack("{s:s?,s:s?,s:s?,s:I,s:o,s:o}", "id", p->id, "name",
	                 p->name, "status", p->status, "created",
	                 (json_int_t)p->created, "labels", labels, "containers",
	                 cs);
}

/* ----------------------------------------------------------------- list */

static void finish_list(struct gw_req *rq, const ProtobufCMessage *out)
{
	const Berth__V1__ListPodsReply *r
	    = (const Berth__V1__ListPodsReply *)out;
	json_t *a = json_array();

	for (size_t i = 0; i < r->n_pods; i++)
		json_array_append_new(a, pod_json(r->pods[i]));
	/* The same shape as the container list: room for more members. */
	gw_respond_json(rq, 200, json_pack("{s:o}", "pods", a));
}

void gw_h_pods_list(struct gw_req *rq)
{
	static const char *const keys[] = { "label", NULL };

	if (gw_req_query_only(rq, keys) != 0 || no_body(rq) != 0)
		return;
	berth__v1__list_pods_request__init(&rq->in.pod_list);
	if (gw_req_label_filters(rq) != 0)
		return;
	rq->in.pod_list.labels = rq->label_ptrs;
	rq->in.pod_list.n_labels = rq->nlabel_kvs;
	gw_rpc_start(rq, "ListPods", &rq->in.pod_list.base, false, 0,
	             finish_list);
}

/* --------------------------------------------------------------- create */

static void finish_create(struct gw_req *rq, const ProtobufCMessage *out)
{
	const Berth__V1__PodSummary *p = (const Berth__V1__PodSummary *)out;
	char *loc = berth_asprintf("/api/v1/pods/%s", p->id);

	gw_respond_header(rq, "Location", loc);
	free(loc);
	gw_respond_json(rq, 201, pod_json(p));
}

/*
 * Checks the body's keys and maps "labels" and "ports" with the
 * container body's own rules (same fields, same messages): they go
 * through a container body of just those members. The spec lands in
 * rq->spec (owned by the request); the PodSpec borrows its arrays.
 */
static int map_pod(struct gw_req *rq, const json_t *obj, Berth__V1__PodSpec *ps,
                   struct berth_err *err)
{
	const char *key;
	json_t *v, *c;
	int rv;

	json_object_foreach((json_t *)obj, key, v)
	{
		if (strcmp(key, "name") != 0 && strcmp(key, "labels") != 0
		    && strcmp(key, "ports") != 0)
			return berth_err_set(err, BERTH_EINVAL,
			                     "%.64s: unknown field (a pod has "
			                     "name, labels and ports)",
			                     key);
	}
	v = json_object_get(obj, "name");
	if (v == NULL)
		return berth_err_set(err, BERTH_EINVAL, "name: required");
	if (!json_is_string(v))
		return berth_err_set(err, BERTH_EINVAL,
		                     "name: expected a string");
	rv = berth_validate_name("name", json_string_value(v), err);
	if (rv != 0)
		return rv;
	c = json_pack("{s:s}", "image", "pod");
	if (json_object_get(obj, "labels") != NULL)
		json_object_set(c, "labels", json_object_get(obj, "labels"));
	if (json_object_get(obj, "ports") != NULL)
		json_object_set(c, "ports", json_object_get(obj, "ports"));
	rv = gw_json_to_container_spec(&rq->spec, c, err);
	json_decref(c);
	if (rv != 0)
		return rv;
	ps->name = rq->scratch = berth_strdup(json_string_value(v));
	ps->labels = rq->spec->labels;
	ps->n_labels = rq->spec->n_labels;
	ps->ports = rq->spec->ports;
	ps->n_ports = rq->spec->n_ports;
	return 0;
}

void gw_h_pods_create(struct gw_req *rq)
{
	static const char *const keys[] = { NULL };
	Berth__V1__PodSpec *ps;
	struct berth_err err;
	json_t *obj = NULL;
	int rv;

	if (gw_req_query_only(rq, keys) != 0)
		return;
	if (rq->body.len == 0) {
		gw_respond_error(rq, BERTH_EINVAL, false,
		                 "a JSON body is required");
		return;
	}
	rv = gw_json_parse_object(&obj, rq->body.data, rq->body.len, &err);
	if (rv != 0) {
		gw_respond_err(rq, &err);
		return;
	}
	ps = berth_malloc(sizeof(*ps));
	berth__v1__pod_spec__init(ps);
	rq->ext = ps;
	rq->ext_free = free;
	rv = map_pod(rq, obj, ps, &err);
	json_decref(obj);
	if (rv != 0) {
		gw_respond_err(rq, &err);
		return;
	}
	berth__v1__create_pod_request__init(&rq->in.pod_create);
	rq->in.pod_create.spec = ps;
	gw_rpc_start(rq, "CreatePod", &rq->in.pod_create.base, true, 0,
	             finish_create);
}

/* ------------------------------------------------- inspect, start, ... */

static void finish_inspect(struct gw_req *rq, const ProtobufCMessage *out)
{
	gw_respond_json(rq, 200, pod_json((const Berth__V1__PodSummary *)out));
}

static void finish_no_content(struct gw_req *rq, const ProtobufCMessage *out)
{
	(void)out;
	gw_respond_empty(rq, 204);
}

static void ref_call(struct gw_req *rq, const char *method, bool mutating,
                     gw_finish_fn finish)
{
	static const char *const keys[] = { NULL };
	const char *id;

	if (gw_req_query_only(rq, keys) != 0 || no_body(rq) != 0)
		return;
	id = pod_id(rq);
	if (id == NULL)
		return;
	berth__v1__pod_ref__init(&rq->in.pod);
	rq->in.pod.id = (char *)id;
	gw_rpc_start(rq, method, &rq->in.pod.base, mutating, 0, finish);
}

void gw_h_pod_inspect(struct gw_req *rq)
{
	ref_call(rq, "InspectPod", false, finish_inspect);
}

void gw_h_pod_start(struct gw_req *rq)
{
	ref_call(rq, "StartPod", true, finish_no_content);
}

void gw_h_pod_stop(struct gw_req *rq)
{
	ref_call(rq, "StopPod", true, finish_no_content);
}

void gw_h_pod_remove(struct gw_req *rq)
{
	static const char *const keys[] = { "force", NULL };
	const char *force;
	const char *id;

	if (gw_req_query_only(rq, keys) != 0 || no_body(rq) != 0)
		return;
	id = pod_id(rq);
	if (id == NULL)
		return;
	berth__v1__remove_pod_request__init(&rq->in.pod_remove);
	rq->in.pod_remove.id = (char *)id;
	force = gw_req_query(rq, "force");
	if (force != NULL) {
		if (force[0] == '\0' || strcmp(force, "1") == 0
		    || strcmp(force, "true") == 0) {
			rq->in.pod_remove.force = true;
		} else if (strcmp(force, "0") != 0
		           && strcmp(force, "false") != 0) {
			gw_respond_error(rq, BERTH_EINVAL, false,
			                 "force: expected 1, true, 0 or false");
			return;
		}
	}
	gw_rpc_start(rq, "RemovePod", &rq->in.pod_remove.base, true, 0,
	             finish_no_content);
}
