/*
 * handlers_containers.c: the runtime's container lifecycle RPCs.
 *
 * Create is idempotent: by name (the same configuration returns the
 * existing container, another one is ALREADY_EXISTS), and by request id
 * when no name is given (a resent request finds the container its first
 * attempt made through the berth.request_id label). The configuration is
 * compared through the berth.spec_hash label written at create.
 *
 * List and inspect are served from the state cache (state_cache.h)
 * while it is in sync with the engine's event stream, from the engine
 * otherwise; this file's own changes refresh the cache before they
 * answer, so a read right after a write sees it.
 */
#include "services/runtime/runtime_internal.h"
#include "services/runtime/state_cache.h"

#include "lib/alloc.h"
#include "lib/log.h"
#include "lib/validate.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *label_value(Berth__V1__KeyValue **labels, size_t n,
                               const char *key)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(labels[i]->key, key) == 0)
			return labels[i]->value;
	}
	return NULL;
}

/*
 * Looks for a container this create already made or that holds its name.
 * Returns 0 with *id set (caller frees) when an identical one exists,
 * BERTH_ENOTFOUND when there is none, BERTH_EEXISTS when the name is
 * taken by a different configuration, BERTH_EPRECOND when (without a
 * name) the request id already made a container of another one.
 */
static int find_existing(struct berth_runtime *rt,
                         const Berth__V1__ContainerSpec *spec,
                         const char *request_id, const char *hash, char **id,
                         struct berth_err *err)
{
	Berth__V1__ContainerDetail *d = NULL;
	Berth__V1__ListContainersReply *list = NULL;
	int rv;

	if (spec->name[0] != '\0') {
		rv = berth_engine_container_inspect(rt->engine, spec->name, &d,
		                                    err);
		if (rv != 0)
			return rv;
		const Berth__V1__ContainerSummary *s = d->summary;
		const char *h = s != NULL
		    ? label_value(s->labels, s->n_labels, BERTH_LABEL_SPEC_HASH)
		    : NULL;

		/* The engine also resolves a reference as an id prefix: a
		 * container found that way does not hold this name. */
		if (s == NULL || s->name == NULL
		    || strcmp(s->name, spec->name) != 0) {
			rv = berth_err_set(err, BERTH_ENOTFOUND,
			                   "no container named \"%s\"",
			                   spec->name);
		} else if (h != NULL && strcmp(h, hash) == 0) {
			*id = berth_strdup(s->id);
			rv = 0;
		} else {
			rv = berth_err_set(
			    err, BERTH_EEXISTS,
			    "a container named \"%s\" already exists with a "
			    "different configuration; remove it or pick "
			    "another name",
			    spec->name);
		}
		protobuf_c_message_free_unpacked(&d->base, NULL);
		return rv;
	}
	if (request_id[0] == '\0')
		return BERTH_ENOTFOUND;

	Berth__V1__ListContainersRequest filter
	    = BERTH__V1__LIST_CONTAINERS_REQUEST__INIT;
	Berth__V1__KeyValue kv = BERTH__V1__KEY_VALUE__INIT;
	Berth__V1__KeyValue *kvs[] = { &kv };

	kv.key = (char *)BERTH_LABEL_REQUEST_ID;
	kv.value = (char *)request_id;
	filter.all = true;
	filter.labels = kvs;
	filter.n_labels = 1;
	rv = berth_engine_container_list(rt->engine, &filter, &list, err);
	if (rv != 0)
		return rv;
	rv = BERTH_ENOTFOUND;
	for (size_t i = 0; i < list->n_containers; i++) {
		const Berth__V1__ContainerSummary *c = list->containers[i];
		const char *h = label_value(c->labels, c->n_labels,
		                            BERTH_LABEL_SPEC_HASH);

		if (h != NULL && strcmp(h, hash) == 0) {
			*id = berth_strdup(c->id);
			rv = 0;
			break;
		}
		/* As for jobs: one request id, one request. */
		rv = berth_err_set(err, BERTH_EPRECOND,
		                   "request id %.128s was already used to "
		                   "create a container with another "
		                   "configuration",
		                   request_id);
	}
	protobuf_c_message_free_unpacked(&list->base, NULL);
	return rv;
}

/*
 * Waits until no other create in this process holds `key`, then holds
 * it. Look-then-create is not atomic at the engine: without this, two
 * identical creates both look, both find nothing and, without a name,
 * both create.
 */
static void key_hold(struct berth_runtime *rt, const char *key)
{
	pthread_mutex_lock(&rt->mu);
	for (;;) {
		bool busy = false;

		for (size_t i = 0; i < rt->ncreating && !busy; i++)
			busy = strcmp(rt->creating[i], key) == 0;
		if (!busy)
			break;
		pthread_cond_wait(&rt->create_done, &rt->mu);
	}
	if (rt->ncreating == rt->creating_cap) {
		rt->creating_cap = rt->creating_cap * 2 + 8;
		rt->creating = berth_realloc(
		    rt->creating, rt->creating_cap * sizeof(*rt->creating));
	}
	rt->creating[rt->ncreating++] = (char *)key;
	pthread_mutex_unlock(&rt->mu);
}

static void key_release(struct berth_runtime *rt, const char *key)
{
	pthread_mutex_lock(&rt->mu);
	for (size_t i = 0; i < rt->ncreating; i++) {
		if (rt->creating[i] == key) {
			rt->creating[i] = rt->creating[--rt->ncreating];
			break;
		}
	}
	pthread_cond_broadcast(&rt->create_done);
	pthread_mutex_unlock(&rt->mu);
}

/* How long a create that lost its name waits for the winner to show. */
#define NAME_RACE_TRIES    40
#define NAME_RACE_SLEEP_MS 50

/*
 * After the engine said the name is in use: either a container with it
 * exists (the same configuration: return it), or a create elsewhere
 * (another runtime on this engine) holds it, and the engine reserves a
 * name before the container can be inspected, so look a little while.
 * Returns as find_existing(), with BERTH_EEXISTS (retryable) if nothing
 * showed up in time.
 */
static int find_winner(struct berth_runtime *rt,
                       const Berth__V1__ContainerSpec *spec,
                       const char *request_id, const char *hash, char **id,
                       struct berth_err *err)
{
	const struct timespec pause = { 0, NAME_RACE_SLEEP_MS * 1000000L };
	int rv = BERTH_ENOTFOUND;

	for (int i = 0; i < NAME_RACE_TRIES && rv == BERTH_ENOTFOUND; i++) {
		if (i > 0)
			nanosleep(&pause, NULL);
		rv = find_existing(rt, spec, request_id, hash, id, err);
	}
	if (rv == BERTH_ENOTFOUND)
		rv = berth_err_set_retryable(
		    err, BERTH_EEXISTS,
		    "container name %s is held by a container being created "
		    "or removed; try again",
		    spec->name);
	return rv;
}

void rt_create_container(Berth__V1__Runtime_Service *svc,
                         const Berth__V1__CreateContainerRequest *in,
                         Berth__V1__CreateContainerReply_Closure done,
                         void *call)
{
	struct berth_runtime *rt = runtime_of(svc);
	Berth__V1__CreateContainerReply out
	    = BERTH__V1__CREATE_CONTAINER_REPLY__INIT;
	const Berth__V1__ContainerSpec *spec = in->spec;
	const char *request_id = berth_rpc_call_request_id(call);
	const char *caller = berth_rpc_call_metadata(call, "caller");
	Berth__V1__KeyValue l_managed = BERTH__V1__KEY_VALUE__INIT;
	Berth__V1__KeyValue l_owner = BERTH__V1__KEY_VALUE__INIT;
	Berth__V1__KeyValue l_req = BERTH__V1__KEY_VALUE__INIT;
	Berth__V1__KeyValue l_hash = BERTH__V1__KEY_VALUE__INIT;
	const Berth__V1__KeyValue *labels[]
	    = { &l_managed, &l_owner, &l_req, &l_hash };
	char hash[BERTH_SHA256_HEX_LEN + 1];
	struct berth_err err;
	char *key = NULL;
	char *id = NULL;
	int rv;

	berth_err_clear(&err);
	rv = runtime_spec_check(spec, &err);
	if (rv == 0)
		rv = runtime_bind_mounts_check(rt, spec, &err);
	if (rv != 0)
		goto out;
	runtime_spec_hash(spec, hash);
	if (spec->name[0] != '\0')
		key = berth_asprintf("name:%s", spec->name);
	else if (request_id[0] != '\0')
		key = berth_asprintf("req:%s", request_id);
	if (key != NULL)
		key_hold(rt, key);

	/* With a name, the engine itself refuses a second container: create
	 * first and look only when the name is taken, one engine call in the
	 * common case. Without one, a resent request is known only by its
	 * request id label, so look first. */
	if (spec->name[0] == '\0') {
		rv = find_existing(rt, spec, request_id, hash, &id, &err);
		if (rv == 0) {
			out.created = false;
			goto out;
		}
		if (rv != BERTH_ENOTFOUND)
			goto out;
	}

	l_managed.key = (char *)BERTH_LABEL_MANAGED;
	l_managed.value = (char *)"true";
	l_owner.key = (char *)BERTH_LABEL_OWNER;
	l_owner.value = (char *)(caller != NULL ? caller : "");
	l_req.key = (char *)BERTH_LABEL_REQUEST_ID;
	l_req.value = (char *)request_id;
	l_hash.key = (char *)BERTH_LABEL_SPEC_HASH;
	l_hash.value = hash;
	berth_err_clear(&err);
	rv = berth_engine_container_create(rt->engine, spec, labels, 4, &id,
	                                   &err);
	if (rv == 0) {
		out.created = true;
		runtime_cache_refresh(rt, id);
		goto out;
	}
	if (rv == BERTH_EEXISTS && spec->name[0] != '\0') {
		rv = find_winner(rt, spec, request_id, hash, &id, &err);
		out.created = false;
	}
out:
	if (key != NULL)
		key_release(rt, key);
	if (rv != 0) {
		rt_fail(call, &err, "CreateContainer");
		done(NULL, call);
	} else {
		out.id = id;
		done(&out, call);
	}
	free(id);
	free(key);
}

/* The state changes that take a container reference and answer Empty. */
enum control_op {
	CONTROL_START,
	CONTROL_STOP,
	CONTROL_RESTART,
	CONTROL_REMOVE
};

struct control_args {
	const char *id;
	int timeout_s; /* stop, restart */
	bool force;    /* remove */
	bool volumes;  /* remove */
};

static int control_engine(struct berth_runtime *rt, enum control_op op,
                          const struct control_args *a, struct berth_err *err)
{
	switch (op) {
	case CONTROL_START:
		return berth_engine_container_start(rt->engine, a->id, err);
	case CONTROL_STOP:
		return berth_engine_container_stop(rt->engine, a->id,
		                                   a->timeout_s, err);
	case CONTROL_RESTART:
		return berth_engine_container_restart(rt->engine, a->id,
		                                      a->timeout_s, err);
	case CONTROL_REMOVE:
		return berth_engine_container_remove(rt->engine, a->id,
		                                     a->force, a->volumes, err);
	}
	return berth_err_set(err, BERTH_EINTERNAL, "unknown control op");
}

/* Runs the change, then brings the cache up to date with it. */
static int control_run(struct berth_runtime *rt, enum control_op op,
                       const struct control_args *a, struct berth_err *err)
{
	Berth__V1__ContainerDetail *d = NULL;
	char *full_id = NULL;
	int rv = berth_validate_container_ref("id", a->id, err);

	if (rv != 0)
		return rv;
	if (op == CONTROL_START || op == CONTROL_RESTART) {
		/* The bind sources of a container berth made must still
		 * resolve inside SafeLocalPaths (see safe_mounts.c). */
		rv = runtime_bind_mounts_recheck(rt, a->id, err);
		if (rv != 0)
			return rv;
	}
	/* A removed container cannot be inspected afterwards: learn its
	 * full id first (from memory when possible). */
	if (op == CONTROL_REMOVE
	    && state_cache_inspect(runtime_cache(rt), a->id, &d)) {
		full_id = berth_strdup(d->summary->id);
		protobuf_c_message_free_unpacked(&d->base, NULL);
	}
	rv = control_engine(rt, op, a, err);
	if (rv == 0 && op == CONTROL_REMOVE && full_id != NULL) {
		struct state_cache *c = runtime_cache(rt);

		state_cache_drop(c, state_cache_ticket(c), full_id);
	} else if (rv == 0 && op != CONTROL_REMOVE) {
		runtime_cache_refresh(rt, a->id);
	}
	free(full_id);
	return rv;
}

/* Runs one state change and answers the call. */
static void control(Berth__V1__Runtime_Service *svc, enum control_op op,
                    const struct control_args *a, const char *method,
                    Berth__V1__Empty_Closure done, void *call)
{
	Berth__V1__Empty out = BERTH__V1__EMPTY__INIT;
	struct berth_err err;

	berth_err_clear(&err);
	if (control_run(runtime_of(svc), op, a, &err) != 0) {
		rt_fail(call, &err, method);
		done(NULL, call);
		return;
	}
	done(&out, call);
}

void rt_start_container(Berth__V1__Runtime_Service *svc,
                        const Berth__V1__ContainerRef *in,
                        Berth__V1__Empty_Closure done, void *call)
{
	struct control_args a = { .id = in->id };

	control(svc, CONTROL_START, &a, "StartContainer", done, call);
}

void rt_stop_container(Berth__V1__Runtime_Service *svc,
                       const Berth__V1__StopContainerRequest *in,
                       Berth__V1__Empty_Closure done, void *call)
{
	struct control_args a
	    = { .id = in->id, .timeout_s = in->timeout_seconds };

	control(svc, CONTROL_STOP, &a, "StopContainer", done, call);
}

void rt_restart_container(Berth__V1__Runtime_Service *svc,
                          const Berth__V1__StopContainerRequest *in,
                          Berth__V1__Empty_Closure done, void *call)
{
	struct control_args a
	    = { .id = in->id, .timeout_s = in->timeout_seconds };

	control(svc, CONTROL_RESTART, &a, "RestartContainer", done, call);
}

void rt_remove_container(Berth__V1__Runtime_Service *svc,
                         const Berth__V1__RemoveContainerRequest *in,
                         Berth__V1__Empty_Closure done, void *call)
{
	struct control_args a = { .id = in->id,
		                  .force = in->force,
		                  .volumes = in->remove_volumes };

	control(svc, CONTROL_REMOVE, &a, "RemoveContainer", done, call);
}

/* Answers a list straight from the cache's borrowed reply. */
struct list_answer {
	Berth__V1__ListContainersReply_Closure done;
	void *call;
};

static void answer_list(void *arg, const Berth__V1__ListContainersReply *r)
{
	struct list_answer *a = arg;

	a->done(r, a->call); /* packs the reply before it returns */
}

void rt_list_containers(Berth__V1__Runtime_Service *svc,
                        const Berth__V1__ListContainersRequest *in,
                        Berth__V1__ListContainersReply_Closure done, void *call)
{
	struct berth_runtime *rt = runtime_of(svc);
	Berth__V1__ListContainersReply *out = NULL;
	struct berth_err err;
	int rv = 0;

	berth_err_clear(&err);
	for (size_t i = 0; i < in->n_labels && rv == 0; i++) {
		/* berth.* keys are fine in a filter: they select, not set. */
		if (strncmp(in->labels[i]->key, "berth.", 6) != 0)
			rv = berth_validate_label_key("label",
			                              in->labels[i]->key, &err);
	}
	/* A name filter is matched as the engine does (a regex), so only
	 * name characters are taken: no pattern can be slow or crash. */
	if (rv == 0 && in->name[0] != '\0')
		rv = berth_validate_name("name", in->name, &err);
	if (rv == 0 && in->state[0] != '\0')
		rv = berth_validate_name("state", in->state, &err);
	for (size_t i = 0; i < in->n_labels && rv == 0; i++) {
		rv = berth_validate_text("label", in->labels[i]->key, 256,
		                         &err);
		if (rv == 0 && in->labels[i]->value != NULL)
			rv = berth_validate_text("label", in->labels[i]->value,
			                         4096, &err);
	}
	if (rv == 0) {
		struct list_answer a = { done, call };

		if (state_cache_list_borrowed(runtime_cache(rt), in,
		                              answer_list, &a))
			return;
		rv = berth_engine_container_list(rt->engine, in, &out, &err);
	}
	if (rv != 0) {
		rt_fail(call, &err, "ListContainers");
		done(NULL, call);
		return;
	}
	done(out, call);
	protobuf_c_message_free_unpacked(&out->base, NULL);
}

void rt_inspect_container(Berth__V1__Runtime_Service *svc,
                          const Berth__V1__ContainerRef *in,
                          Berth__V1__ContainerDetail_Closure done, void *call)
{
	struct berth_runtime *rt = runtime_of(svc);
	Berth__V1__ContainerDetail *out = NULL;
	struct berth_err err;
	int rv;

	berth_err_clear(&err);
	rv = berth_validate_container_ref("id", in->id, &err);
	if (rv == 0 && !state_cache_inspect(runtime_cache(rt), in->id, &out))
		rv = berth_engine_container_inspect(rt->engine, in->id, &out,
		                                    &err);
	if (rv != 0) {
		rt_fail(call, &err, "InspectContainer");
		done(NULL, call);
		return;
	}
	done(out, call);
	protobuf_c_message_free_unpacked(&out->base, NULL);
}
