/*
 * routes_containers.c: /api/v1/containers: list, create, inspect, start,
 * stop, restart, remove. Each handler validates what the path, query
 * and body name, fills the RPC input held in the request, and starts
 * the call; its finish function turns the reply into JSON.
 */
#include "gateway/json_map.h"
#include "gateway/respond.h"
#include "gateway/router.h"

#include "lib/alloc.h"
#include "lib/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STOP_TIMEOUT 3600 /* seconds */

/* Endpoints that take no body refuse one rather than ignore it. */
static int no_body(struct gw_req *rq)
{
	if (rq->body.len == 0)
		return 0;
	gw_respond_error(rq, BERTH_EINVAL, false, "%s %s takes no request body",
	                 rq->method, rq->path);
	return BERTH_EINVAL;
}

/* "1"/"true" -> true, "0"/"false" -> false; absent -> false. */
static int query_bool(struct gw_req *rq, const char *key,
                      protobuf_c_boolean *out)
{
	const char *v = gw_req_query(rq, key);

	*out = false;
	if (v == NULL || strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
		return 0;
	if (v[0] == '\0' || strcmp(v, "1") == 0 || strcmp(v, "true") == 0) {
		*out = true;
		return 0;
	}
	gw_respond_error(rq, BERTH_EINVAL, false,
	                 "%s: expected 1, true, 0 or false", key);
	return BERTH_EINVAL;
}

/* The {id} of the path, validated. */
static const char *container_id(struct gw_req *rq)
{
	struct berth_err err;

	if (berth_validate_container_ref("id", rq->params[0], &err) != 0) {
		gw_respond_err(rq, &err);
		return NULL;
	}
	return rq->params[0];
}

/* Parses the body as one strict JSON object. */
static json_t *body_object(struct gw_req *rq)
{
	struct berth_err err;
	json_t *obj = NULL;

	if (rq->body.len == 0) {
		gw_respond_error(rq, BERTH_EINVAL, false,
		                 "a JSON body is required");
		return NULL;
	}
	if (gw_json_parse_object(&obj, rq->body.data, rq->body.len, &err)
	    != 0) {
		gw_respond_err(rq, &err);
		return NULL;
	}
	return obj;
}

/* ----------------------------------------------------------------- list */

/* Cap for the list's JSON: far above any real list (200 containers
 * are about 60 KiB), well below what would hurt the gateway. */
#define LIST_JSON_MAX (64u << 20)

static void finish_list(struct gw_req *rq, const ProtobufCMessage *out)
{
	const Berth__V1__ListContainersReply *r
	    = (const Berth__V1__ListContainersReply *)out;
	struct berth_buf b;

	berth_buf_init(&b, LIST_JSON_MAX);
	if (gw_json_container_list(&b, r) != 0) {
		berth_buf_fini(&b);
		gw_respond_error(rq, BERTH_ELIMIT, false,
		                 "the container list is larger than %u MiB; "
		                 "narrow it with label, name or state",
		                 LIST_JSON_MAX >> 20);
		return;
	}
	gw_respond_json_text(rq, 200, berth_buf_steal(&b, NULL));
}

void gw_h_containers_list(struct gw_req *rq)
{
	static const char *const keys[]
	    = { "all", "label", "name", "state", NULL };
	static const char *const states[]
	    = { "created", "running", "paused",   "restarting",
		"exited",  "dead",    "removing", NULL };
	Berth__V1__ListContainersRequest *in = &rq->in.list;
	struct berth_err err;
	const char *name, *state;

	if (no_body(rq) != 0 || gw_req_query_only(rq, keys) != 0)
		return;
	berth__v1__list_containers_request__init(in);
	if (query_bool(rq, "all", &in->all) != 0)
		return;
	name = gw_req_query(rq, "name");
	if (name != NULL && name[0] != '\0') {
		if (berth_validate_name("name", name, &err) != 0) {
			gw_respond_err(rq, &err);
			return;
		}
		in->name = (char *)name;
	}
	state = gw_req_query(rq, "state");
	if (state != NULL && state[0] != '\0') {
		bool ok = false;

		for (size_t i = 0; states[i] != NULL && !ok; i++)
			ok = strcmp(state, states[i]) == 0;
		if (!ok) {
			gw_respond_error(rq, BERTH_EINVAL, false,
			                 "state: expected created, running, "
			                 "paused, restarting, exited, dead or "
			                 "removing");
			return;
		}
		in->state = (char *)state;
	}
	if (gw_req_label_filters(rq) != 0)
		return;
	in->labels = rq->label_ptrs;
	in->n_labels = rq->nlabel_kvs;
	gw_rpc_start(rq, "ListContainers", &in->base, false, 0, finish_list);
}

/* --------------------------------------------------------------- create */

static void finish_create(struct gw_req *rq, const ProtobufCMessage *out)
{
	const Berth__V1__CreateContainerReply *r
	    = (const Berth__V1__CreateContainerReply *)out;
	json_t *warnings = json_array();
	char *loc;

	for (size_t i = 0; i < r->n_warnings; i++) {
		json_t *w = json_string(r->warnings[i]);

		if (w != NULL)
			json_array_append_new(warnings, w);
	}
	loc = berth_asprintf("/api/v1/containers/%s", r->id);
	gw_respond_header(rq, "Location", loc);
	free(loc);
	gw_respond_json(rq, r->created ? 201 : 200,
	                json_pack("{s:s?,s:b,s:o}", "id", r->id, "created",
	                          (int)r->created, "warnings", warnings));
}

void gw_h_containers_create(struct gw_req *rq)
{
	static const char *const keys[] = { NULL };
	struct berth_err err;
	json_t *obj;
	int rv;

	if (gw_req_query_only(rq, keys) != 0)
		return;
	obj = body_object(rq);
	if (obj == NULL)
		return;
	rv = gw_json_to_container_spec(&rq->spec, obj, &err);
	json_decref(obj);
	if (rv != 0) {
		gw_respond_err(rq, &err);
		return;
	}
	berth__v1__create_container_request__init(&rq->in.create);
	rq->in.create.spec = rq->spec;
	gw_rpc_start(rq, "CreateContainer", &rq->in.create.base, true, 0,
	             finish_create);
}

/* ------------------------------------------------- inspect, start, ... */

static void finish_inspect(struct gw_req *rq, const ProtobufCMessage *out)
{
	gw_respond_json(
	    rq, 200,
	    gw_json_container_detail((const Berth__V1__ContainerDetail *)out));
}

static void finish_no_content(struct gw_req *rq, const ProtobufCMessage *out)
{
	(void)out;
	gw_respond_empty(rq, 204);
}

/* inspect (read) and start (write) take a plain ContainerRef. */
static void ref_call(struct gw_req *rq, const char *method, bool mutating,
                     gw_finish_fn finish)
{
	static const char *const keys[] = { NULL };
	const char *id;

	if (no_body(rq) != 0 || gw_req_query_only(rq, keys) != 0)
		return;
	if ((id = container_id(rq)) == NULL)
		return;
	berth__v1__container_ref__init(&rq->in.ref);
	rq->in.ref.id = (char *)id;
	gw_rpc_start(rq, method, &rq->in.ref.base, mutating, 0, finish);
}

void gw_h_container_inspect(struct gw_req *rq)
{
	ref_call(rq, "InspectContainer", false, finish_inspect);
}

void gw_h_container_start(struct gw_req *rq)
{
	ref_call(rq, "StartContainer", true, finish_no_content);
}

static void stop_call(struct gw_req *rq, const char *method)
{
	static const char *const keys[] = { "timeout", NULL };
	const char *id, *t;
	long secs = -1;
	int budget_ms;

	if (no_body(rq) != 0 || gw_req_query_only(rq, keys) != 0)
		return;
	if ((id = container_id(rq)) == NULL)
		return;
	t = gw_req_query(rq, "timeout");
	if (t != NULL) {
		char *end = NULL;

		secs = strtol(t, &end, 10);
		if (t[0] < '0' || t[0] > '9' || *end != '\0' || secs < 0
		    || secs > MAX_STOP_TIMEOUT) {
			gw_respond_error(rq, BERTH_EINVAL, false,
			                 "timeout: expected whole seconds "
			                 "0..%d",
			                 MAX_STOP_TIMEOUT);
			return;
		}
	}
	berth__v1__stop_container_request__init(&rq->in.stop);
	rq->in.stop.id = (char *)id;
	rq->in.stop.timeout_seconds = (int32_t)secs;
	/* The engine may wait the full grace period before it kills. */
	budget_ms = 30000 + (secs >= 0 ? (int)secs : 10) * 1000;
	gw_rpc_start(rq, method, &rq->in.stop.base, true, budget_ms,
	             finish_no_content);
}

void gw_h_container_stop(struct gw_req *rq)
{
	stop_call(rq, "StopContainer");
}

void gw_h_container_restart(struct gw_req *rq)
{
	stop_call(rq, "RestartContainer");
}

void gw_h_container_remove(struct gw_req *rq)
{
	static const char *const keys[] = { "force", "volumes", NULL };
	const char *id;

	if (no_body(rq) != 0 || gw_req_query_only(rq, keys) != 0)
		return;
	if ((id = container_id(rq)) == NULL)
		return;
	berth__v1__remove_container_request__init(&rq->in.remove);
	rq->in.remove.id = (char *)id;
	if (query_bool(rq, "force", &rq->in.remove.force) != 0
	    || query_bool(rq, "volumes", &rq->in.remove.remove_volumes) != 0)
		return;
	gw_rpc_start(rq, "RemoveContainer", &rq->in.remove.base, true, 0,
	             finish_no_content);
}
