/*
 * routes_code.c: code into containers over REST (see the route table in
 * router.c):
 *   POST /api/v1/containers/{id}/inject
 *        {"local_path","container_path","safe_local_paths":[...]}
 *        -> Runtime.InjectCode -> 200 {"bytes","entries"}
 *   PUT  /api/v1/containers/{id}/archive?path=/dir  (application/x-tar)
 *        -> Runtime.PutArchive -> 200 {"bytes","entries"}
 * The gateway checks the shapes (ids, paths, keys, a body present); the
 * runtime checks them again and does the real work: resolving beneath
 * SafeLocalPaths and checking every tar entry. The server has already
 * answered 413 for a body over the route's cap and 415 for a wrong
 * Content-Type.
 */
#include "gateway/json_map.h"
#include "gateway/respond.h"
#include "gateway/router.h"

#include "lib/alloc.h"
#include "lib/safe_path.h"
#include "lib/validate.h"

#include <stdlib.h>
#include <string.h>

/* Uploads can be large and engines slow: more than the 30 s default. */
#define CODE_RPC_TIMEOUT_MS (5 * 60 * 1000)

/* What an inject request owns until it is freed (rq->ext). */
struct inject_in {
	char *local_path;
	char *container_path;
	char **narrow;
	size_t nnarrow;
};

static void inject_in_free(void *p)
{
	struct inject_in *x = p;

	if (x == NULL)
		return;
	free(x->local_path);
	free(x->container_path);
	for (size_t i = 0; i < x->nnarrow; i++)
		free(x->narrow[i]);
	free(x->narrow);
	free(x);
}

static void finish_code(struct gw_req *rq, const ProtobufCMessage *out)
{
	const Berth__V1__InjectCodeReply *r
	    = (const Berth__V1__InjectCodeReply *)out;

	gw_respond_json(rq, 200,
	                json_pack("{s:I,s:I}", "bytes", (json_int_t)r->bytes,
	                          "entries", (json_int_t)r->entries));
}

/* The {id} of the path, validated; NULL after answering 400. */
static const char *container_id(struct gw_req *rq)
{
	struct berth_err err;

	if (berth_validate_container_ref("id", rq->params[0], &err) != 0) {
		gw_respond_err(rq, &err);
		return NULL;
	}
	return rq->params[0];
}

/* A required string member. */
static int req_string(const json_t *obj, const char *key, const char **out,
                      struct berth_err *err)
{
	const json_t *v = json_object_get(obj, key);

	if (v == NULL)
		return berth_err_set(err, BERTH_EINVAL, "%s is required", key);
	if (!json_is_string(v))
		return berth_err_set(err, BERTH_EINVAL, "%s: expected a string",
		                     key);
	*out = json_string_value(v);
	return 0;
}

static int parse_inject(const json_t *obj, struct inject_in *x,
                        struct berth_err *err)
{
	const char *key, *lp = NULL, *cp = NULL;
	const json_t *v, *arr;
	size_t i;
	int rv;

	json_object_foreach((json_t *)obj, key, v)
	{
		if (strcmp(key, "local_path") != 0
		    && strcmp(key, "container_path") != 0
		    && strcmp(key, "safe_local_paths") != 0)
			return berth_err_set(err, BERTH_EINVAL,
			                     "unknown field \"%.64s\"", key);
	}
	rv = req_string(obj, "local_path", &lp, err);
	if (rv == 0)
		rv = berth_safe_path_check("local_path", lp, err);
	if (rv == 0)
		rv = req_string(obj, "container_path", &cp, err);
	if (rv == 0)
		rv = berth_validate_container_path("container_path", cp, err);
	if (rv != 0)
		return rv;
	arr = json_object_get(obj, "safe_local_paths");
	if (arr != NULL && !json_is_array(arr))
		return berth_err_set(err, BERTH_EINVAL,
		                     "safe_local_paths: expected an array of "
		                     "absolute paths");
	if (arr != NULL && json_array_size(arr) > BERTH_SAFE_ROOTS_MAX)
		return berth_err_set(err, BERTH_EINVAL,
		                     "safe_local_paths: at most %d entries",
		                     BERTH_SAFE_ROOTS_MAX);
	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v))
			return berth_err_set(
			    err, BERTH_EINVAL,
			    "safe_local_paths[%zu]: expected a "
			    "string",
			    i);
		rv = berth_safe_path_check("safe_local_paths",
		                           json_string_value(v), err);
		if (rv != 0)
			return rv;
	}
	x->local_path = berth_strdup(lp);
	x->container_path = berth_strdup(cp);
	x->nnarrow = arr != NULL ? json_array_size(arr) : 0;
	x->narrow = berth_calloc(x->nnarrow + 1, sizeof(char *));
	for (i = 0; i < x->nnarrow; i++)
		x->narrow[i]
		    = berth_strdup(json_string_value(json_array_get(arr, i)));
	return 0;
}

void gw_h_container_inject(struct gw_req *rq)
{
	static const char *const keys[] = { NULL };
	struct berth_err err;
	struct inject_in *x;
	const char *id;
	json_t *obj = NULL;
	int rv;

	if (gw_req_query_only(rq, keys) != 0)
		return;
	if ((id = container_id(rq)) == NULL)
		return;
	if (rq->body.len == 0) {
		gw_respond_error(rq, BERTH_EINVAL, false,
		                 "a JSON body is required: {\"local_path\", "
		                 "\"container_path\"}");
		return;
	}
	rv = gw_json_parse_object(&obj, rq->body.data, rq->body.len, &err);
	if (rv != 0) {
		gw_respond_err(rq, &err);
		return;
	}
	x = berth_calloc(1, sizeof(*x));
	rv = parse_inject(obj, x, &err);
	json_decref(obj);
	if (rv != 0) {
		inject_in_free(x);
		gw_respond_err(rq, &err);
		return;
	}
	rq->ext = x;
	rq->ext_free = inject_in_free;
	berth__v1__inject_code_request__init(&rq->in.inject);
	rq->in.inject.id = (char *)id;
	rq->in.inject.local_path = x->local_path;
	rq->in.inject.container_path = x->container_path;
	rq->in.inject.n_safe_local_paths = x->nnarrow;
	rq->in.inject.safe_local_paths = x->narrow;
	gw_rpc_start(rq, "InjectCode", &rq->in.inject.base, true,
	             CODE_RPC_TIMEOUT_MS, finish_code);
}

void gw_h_container_archive_put(struct gw_req *rq)
{
	static const char *const keys[] = { "path", NULL };
	struct berth_err err;
	const char *id, *path;

	if (gw_req_query_only(rq, keys) != 0)
		return;
	if ((id = container_id(rq)) == NULL)
		return;
	path = gw_req_query(rq, "path");
	if (path == NULL) {
		gw_respond_error(
		    rq, BERTH_EINVAL, false,
		    "path is required: ?path=/folder/in/container");
		return;
	}
	if (berth_validate_container_path("path", path, &err) != 0) {
		gw_respond_err(rq, &err);
		return;
	}
	if (rq->body.len == 0) {
		gw_respond_error(rq, BERTH_EINVAL, false,
		                 "a tar body is required (Content-Type: "
		                 "application/x-tar)");
		return;
	}
	rq->scratch = berth_strdup(path);
	berth__v1__put_archive_request__init(&rq->in.archive);
	rq->in.archive.id = (char *)id;
	rq->in.archive.path = rq->scratch;
	rq->in.archive.tar.data = (uint8_t *)rq->body.data;
	rq->in.archive.tar.len = rq->body.len;
	gw_rpc_start(rq, "PutArchive", &rq->in.archive.base, true,
	             CODE_RPC_TIMEOUT_MS, finish_code);
}
