/*
 * berth.c: the C SDK (sdk/berth.h): seed 000's Container / Instance
 * interface as calls of the runtime service over lib/rpc.h's client.
 *
 * Every function here builds one protobuf request, makes the call and
 * copies what the caller keeps out of the reply, so no generated type
 * leaks into the public header. Calls that can take long (pull, exec,
 * wait, clone) get deadlines derived from their own timeouts; the rest
 * use the client's short deadline.
 */
#include "sdk/berth.h"

#include "berth/v1/runtime.pb-c.h"
#include "lib/alloc.h"
#include "lib/clock.h"
#include "lib/jobs.h"
#include "lib/rpc.h"

#include <stdlib.h>
#include <string.h>

#define SDK_DEFAULT_TIMEOUT_MS 60000
/* Largest message either way: the runtime accepts as much. */
#define SDK_MAX_MSG           (80u * 1024u * 1024u)
#define SDK_PULL_TIMEOUT_MS   (10 * 60 * 1000)
#define SDK_EXEC_UNTIMED_MS   (10 * 60 * 1000)
#define SDK_CLONE_DEFAULT_MS  (300 * 1000)
#define SDK_INJECT_TIMEOUT_MS (5 * 60 * 1000)
/* Time the runtime needs around a call's own timeout (kill, cleanup). */
#define SDK_MARGIN_MS 15000
/* One WaitContainer call waits at most this long; longer waits loop. */
#define SDK_WAIT_SLICE_MS 60000
/* The longest argv / list the SDK sends (the runtime caps them too). */
#define SDK_MAX_ARGS 4096

struct berth_client {
	struct berth_rpc_client *rpc;
	int timeout_ms;
};

struct berth_instance {
	struct berth_client *c;
	char *id;
	/* Deep copy of the start options; every pointer below is owned. */
	struct berth_options opts;
};

static const ProtobufCServiceDescriptor *const svc
    = &berth__v1__runtime__descriptor;

/* One RPC to the runtime with a deadline of `timeout_ms`. */
static int call(struct berth_client *c, const char *method,
                const ProtobufCMessage *in, ProtobufCMessage **out,
                int timeout_ms, const char *request_id, bool idempotent,
                struct berth_err *err)
{
	struct berth_rpc_opts o = { 0 };

	o.timeout_ms = timeout_ms > 0 ? timeout_ms : c->timeout_ms;
	o.request_id = request_id;
	o.idempotent = idempotent;
	o.caller = "sdk";
	return berth_rpc_call(c->rpc, svc, method, in, out, &o, err);
}

static void msg_free(void *m)
{
	if (m != NULL)
		protobuf_c_message_free_unpacked(m, NULL);
}

/* Length of a NULL-terminated argv, or -1 when it is empty or too long. */
static long argv_len(const char *const *argv)
{
	long n = 0;

	if (argv == NULL)
		return -1;
	while (argv[n] != NULL) {
		if (++n > SDK_MAX_ARGS)
			return -1;
	}
	return n == 0 ? -1 : n;
}

/* ------------------------------------------------------------ client */

int berth_client_open(struct berth_client **out, const char *url,
                      struct berth_err *err)
{
	struct berth_client *c = NULL;
	struct berth_rpc_client_opts copts = { 0 };
	const char *urls[1];
	int rv;

	if (out == NULL || url == NULL || url[0] == '\0')
		return berth_err_set(err, BERTH_EINVAL,
		                     "url: give the runtime's address, e.g. "
		                     "ipc:///run/berth/runtime.sock");
	c = berth_calloc(1, sizeof(*c));
	c->timeout_ms = SDK_DEFAULT_TIMEOUT_MS;
	urls[0] = url;
	/* Exec output and uploads travel in one message each. */
	copts.max_msg = SDK_MAX_MSG;
	rv = berth_rpc_client_alloc(&c->rpc, urls, 1, &copts, err);
	if (rv != 0)
		goto out;
	*out = c;
	c = NULL;
out:
	free(c);
	return rv;
}

void berth_client_close(struct berth_client *c)
{
	if (c == NULL)
		return;
	berth_rpc_client_free(c->rpc);
	free(c);
}

void berth_client_set_timeout_ms(struct berth_client *c, int timeout_ms)
{
	if (c != NULL)
		c->timeout_ms
		    = timeout_ms > 0 ? timeout_ms : SDK_DEFAULT_TIMEOUT_MS;
}

/* ------------------------------------------------------------ images */

static bool job_finished(const char *state)
{
	return strcmp(state, "succeeded") == 0 || strcmp(state, "failed") == 0
	    || strcmp(state, "cancelled") == 0;
}

/* Turns a finished job into 0 or its error. */
static int job_outcome(const Berth__V1__Job *job, const char *image,
                       struct berth_err *err)
{
	int code;

	if (strcmp(job->state, "succeeded") == 0)
		return 0;
	if (strcmp(job->state, "cancelled") == 0)
		return berth_err_set(err, BERTH_ECANCELLED,
		                     "pull of %s was cancelled", image);
	code = job->error_code != BERTH__V1__CODE__OK ? -(int)job->error_code
	                                              : BERTH_EUNKNOWN;
	return berth_err_set(err, code, "%s",
	                     job->error[0] != '\0' ? job->error
	                                           : "pull failed");
}

int berth_pull_image_timeout(struct berth_client *c, const char *image,
                             int timeout_ms, struct berth_err *err)
{
	Berth__V1__PullImageRequest rq = BERTH__V1__PULL_IMAGE_REQUEST__INIT;
	Berth__V1__JobRef ref = BERTH__V1__JOB_REF__INIT;
	Berth__V1__Job *job = NULL;
	int64_t deadline;
	int rv, pause_ms = 50;
	char *id = NULL;

	if (c == NULL || image == NULL || image[0] == '\0')
		return berth_err_set(err, BERTH_EINVAL,
		                     "image: give an image reference");
	if (timeout_ms <= 0)
		return berth_err_set(err, BERTH_EINVAL,
		                     "timeout_ms: must be positive");
	deadline = berth_clock_mono_ms() + timeout_ms;
	rq.image = (char *)image;
	/* Each call within what is left of the caller's timeout. */
	rv = call(c, "PullImage", &rq.base, (ProtobufCMessage **)&job,
	          timeout_ms < c->timeout_ms ? timeout_ms : 0, NULL, false,
	          err);
	if (rv != 0)
		goto out;
	id = berth_strdup(job->id);
	ref.id = id;
	/* Bounded by the deadline; the pause grows to 1 s so a long pull
	 * costs a call a second. */
	while (!job_finished(job->state)) {
		int64_t left = deadline - berth_clock_mono_ms();

		if (left <= 0) {
			rv = berth_err_set(
			    err, BERTH_ETIMEDOUT,
			    "pull of %s still running after %d ms "
			    "(job %s)",
			    image, timeout_ms, id);
			goto out;
		}
		berth_sleep_ms(pause_ms < left ? pause_ms : (int)left);
		pause_ms = pause_ms * 2 > 1000 ? 1000 : pause_ms * 2;
		msg_free(job);
		job = NULL;
		left = deadline - berth_clock_mono_ms();
		rv = call(c, "GetJob", &ref.base, (ProtobufCMessage **)&job,
		          left > 0 && left < c->timeout_ms ? (int)left : 0,
		          NULL, true, err);
		if (rv != 0)
			goto out;
	}
	rv = job_outcome(job, image, err);
out:
	msg_free(job);
	free(id);
	return rv;
}

int berth_pull_image(struct berth_client *c, const char *image,
                     struct berth_err *err)
{
	return berth_pull_image_timeout(c, image, SDK_PULL_TIMEOUT_MS, err);
}

/* -------------------------------------------------------- containers */

/*
 * Lexical normal form of an absolute path: no "//", no "." components,
 * no trailing '/'. Refuses ".." (the runtime resolves the real path;
 * this check only narrows). Caller owns the result; free with free().
 */
static char *path_normal(const char *p)
{
	size_t n = strlen(p), o = 0;
	char *r;

	if (p[0] != '/')
		return NULL;
	r = berth_malloc(n + 2);
	for (size_t i = 0; i < n;) {
		size_t j;

		while (i < n && p[i] == '/')
			i++;
		j = i;
		while (j < n && p[j] != '/')
			j++;
		if (j - i == 1 && p[i] == '.') {
			i = j;
			continue;
		}
		if (j - i == 2 && p[i] == '.' && p[i + 1] == '.') {
			free(r);
			return NULL;
		}
		if (j > i) {
			r[o++] = '/';
			memcpy(r + o, p + i, j - i);
			o += j - i;
		}
		i = j;
	}
	if (o == 0)
		r[o++] = '/';
	r[o] = '\0';
	return r;
}

/* Whether `path` is `base` or below it, component-wise. */
static bool path_within(const char *path, const char *base)
{
	char *p = path_normal(path), *b = path_normal(base);
	bool ok = false;
	size_t bl;

	if (p == NULL || b == NULL)
		goto out;
	bl = strlen(b);
	if (strcmp(b, "/") == 0)
		ok = true;
	else
		ok = strncmp(p, b, bl) == 0 && (p[bl] == '\0' || p[bl] == '/');
out:
	free(p);
	free(b);
	return ok;
}

/* Checks the options before anything is sent. */
static int options_check(const struct berth_options *o, struct berth_err *err)
{
	if (o->nmounts > 0 && o->mounts == NULL)
		return berth_err_set(err, BERTH_EINVAL, "mounts: NULL array");
	if (o->nenvironment > 0 && o->environment == NULL)
		return berth_err_set(err, BERTH_EINVAL,
		                     "environment: NULL array");
	if (o->nlabels > 0 && o->labels == NULL)
		return berth_err_set(err, BERTH_EINVAL, "labels: NULL array");
	if (o->ncommand > 0 && o->command == NULL)
		return berth_err_set(err, BERTH_EINVAL, "command: NULL array");
	if (o->nsafe_local_paths > 0 && o->safe_local_paths == NULL)
		return berth_err_set(err, BERTH_EINVAL,
		                     "safe_local_paths: NULL array");
	if (o->nmounts > SDK_MAX_ARGS || o->nenvironment > SDK_MAX_ARGS
	    || o->nlabels > SDK_MAX_ARGS || o->ncommand > SDK_MAX_ARGS
	    || o->nsafe_local_paths > SDK_MAX_ARGS)
		return berth_err_set(err, BERTH_EINVAL,
		                     "options: more than %d entries in a list",
		                     SDK_MAX_ARGS);
	for (size_t i = 0; i < o->ncommand; i++) {
		if (o->command[i] == NULL)
			return berth_err_set(err, BERTH_EINVAL,
			                     "command[%zu]: NULL", i);
	}
	for (size_t i = 0; i < o->nenvironment; i++) {
		if (o->environment[i].key == NULL
		    || o->environment[i].value == NULL)
			return berth_err_set(err, BERTH_EINVAL,
			                     "environment[%zu]: NULL key or "
			                     "value",
			                     i);
	}
	for (size_t i = 0; i < o->nlabels; i++) {
		if (o->labels[i].key == NULL || o->labels[i].value == NULL)
			return berth_err_set(err, BERTH_EINVAL,
			                     "labels[%zu]: NULL key or value",
			                     i);
	}
	for (size_t i = 0; i < o->nsafe_local_paths; i++) {
		char *n = o->safe_local_paths[i] != NULL
		    ? path_normal(o->safe_local_paths[i])
		    : NULL;

		if (n == NULL)
			return berth_err_set(err, BERTH_EINVAL,
			                     "safe_local_paths[%zu]: not an "
			                     "absolute path without '..'",
			                     i);
		free(n);
	}
	for (size_t i = 0; i < o->nmounts; i++) {
		const struct berth_mount *m = &o->mounts[i];
		bool inside = o->nsafe_local_paths == 0;

		if (m->source == NULL || m->target == NULL)
			return berth_err_set(
			    err, BERTH_EINVAL,
			    "mounts[%zu]: NULL source or target", i);
		for (size_t j = 0; j < o->nsafe_local_paths && !inside; j++)
			inside = path_within(m->source, o->safe_local_paths[j]);
		if (!inside)
			return berth_err_set(err, BERTH_EPERM,
			                     "mounts[%zu].source: outside the "
			                     "options' safe_local_paths",
			                     i);
	}
	return 0;
}

static const char **strv_dup(const char *const *v, size_t n)
{
	const char **r;

	if (v == NULL)
		return NULL;
	r = berth_calloc(n + 1, sizeof(*r));
	for (size_t i = 0; i < n; i++)
		r[i] = berth_strdup(v[i]);
	return r;
}

static void strv_free(const char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free((char *)v[i]);
	free(v);
}

static struct berth_kv *kv_dup(const struct berth_kv *v, size_t n)
{
	struct berth_kv *r;

	if (v == NULL)
		return NULL;
	r = berth_calloc(n + 1, sizeof(*r));
	for (size_t i = 0; i < n; i++) {
		r[i].key = berth_strdup(v[i].key);
		r[i].value = berth_strdup(v[i].value);
	}
	return r;
}

static void kv_free(const struct berth_kv *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free((char *)v[i].key);
		free((char *)v[i].value);
	}
	free((void *)v);
}

/* Deep copy of checked options into `d`. */
static void options_copy(struct berth_options *d, const struct berth_options *s)
{
	struct berth_mount *m = NULL;

	*d = *s;
	if (s->mounts != NULL) {
		m = berth_calloc(s->nmounts + 1, sizeof(*m));
		for (size_t i = 0; i < s->nmounts; i++) {
			m[i].source = berth_strdup(s->mounts[i].source);
			m[i].target = berth_strdup(s->mounts[i].target);
			m[i].read_only = s->mounts[i].read_only;
		}
	}
	d->mounts = m;
	d->environment = kv_dup(s->environment, s->nenvironment);
	d->working_dir = berth_strdup(s->working_dir);
	d->safe_local_paths = (const char *const *)strv_dup(
	    s->safe_local_paths, s->nsafe_local_paths);
	d->name = berth_strdup(s->name);
	d->command = (const char *const *)strv_dup(s->command, s->ncommand);
	d->labels = kv_dup(s->labels, s->nlabels);
}

static void options_fini(struct berth_options *o)
{
	if (o->mounts != NULL) {
		for (size_t i = 0; i < o->nmounts; i++) {
			free((char *)o->mounts[i].source);
			free((char *)o->mounts[i].target);
		}
		free((void *)o->mounts);
	}
	kv_free(o->environment, o->nenvironment);
	free((char *)o->working_dir);
	strv_free((const char **)o->safe_local_paths, o->nsafe_local_paths);
	free((char *)o->name);
	strv_free((const char **)o->command, o->ncommand);
	kv_free(o->labels, o->nlabels);
	memset(o, 0, sizeof(*o));
}

/* KeyValue messages borrowing `v`'s strings; free the array only. */
static Berth__V1__KeyValue **kv_msgs(const struct berth_kv *v, size_t n,
                                     Berth__V1__KeyValue **store)
{
	Berth__V1__KeyValue *kv;
	Berth__V1__KeyValue **ptrs;

	if (n == 0) {
		*store = NULL;
		return NULL;
	}
	kv = berth_calloc(n, sizeof(*kv));
	ptrs = berth_calloc(n, sizeof(*ptrs));
	for (size_t i = 0; i < n; i++) {
		berth__v1__key_value__init(&kv[i]);
		kv[i].key = (char *)v[i].key;
		kv[i].value = (char *)v[i].value;
		ptrs[i] = &kv[i];
	}
	*store = kv;
	return ptrs;
}

/* Removes a container this SDK call made, keeping the caller's error. */
static void undo_create(struct berth_client *c, const char *id)
{
	Berth__V1__RemoveContainerRequest rq
	    = BERTH__V1__REMOVE_CONTAINER_REQUEST__INIT;
	ProtobufCMessage *out = NULL;
	struct berth_err ignored;

	rq.id = (char *)id;
	rq.force = true;
	rq.remove_volumes = true;
	if (call(c, "RemoveContainer", &rq.base, &out, 0, NULL, true, &ignored)
	    == 0)
		msg_free(out);
}

int berth_start_container(struct berth_client *c, const char *image,
                          const struct berth_options *opts,
                          struct berth_instance **out, struct berth_err *err)
{
	static const struct berth_options none = { 0 };
	Berth__V1__CreateContainerRequest rq
	    = BERTH__V1__CREATE_CONTAINER_REQUEST__INIT;
	Berth__V1__ContainerSpec spec = BERTH__V1__CONTAINER_SPEC__INIT;
	Berth__V1__ContainerRef ref = BERTH__V1__CONTAINER_REF__INIT;
	Berth__V1__CreateContainerReply *created = NULL;
	Berth__V1__KeyValue *env_store = NULL, *label_store = NULL;
	Berth__V1__Mount *mount_store = NULL;
	ProtobufCMessage *empty = NULL;
	struct berth_instance *inst = NULL;
	char request_id[BERTH_JOB_ID_LEN + 1];
	int rv;

	if (c == NULL || out == NULL)
		return berth_err_set(err, BERTH_EINVAL,
		                     "client and out are required");
	if (image == NULL || image[0] == '\0')
		return berth_err_set(err, BERTH_EINVAL,
		                     "image: give an image reference");
	if (opts == NULL)
		opts = &none;
	rv = options_check(opts, err);
	if (rv != 0)
		return rv;
	rv = berth_uuid_v4(request_id, err);
	if (rv != 0)
		return rv;

	spec.image = (char *)image;
	spec.name = (char *)(opts->name != NULL ? opts->name : "");
	spec.working_dir
	    = (char *)(opts->working_dir != NULL ? opts->working_dir : "");
	spec.command = (char **)opts->command;
	spec.n_command = opts->command != NULL ? opts->ncommand : 0;
	spec.env = kv_msgs(opts->environment, opts->nenvironment, &env_store);
	spec.n_env = opts->nenvironment;
	spec.labels = kv_msgs(opts->labels, opts->nlabels, &label_store);
	spec.n_labels = opts->nlabels;
	spec.remove_on_exit = !opts->keep_alive;
	if (opts->nmounts > 0) {
		mount_store = berth_calloc(opts->nmounts, sizeof(*mount_store));
		spec.mounts = berth_calloc(opts->nmounts, sizeof(*spec.mounts));
		for (size_t i = 0; i < opts->nmounts; i++) {
			berth__v1__mount__init(&mount_store[i]);
			mount_store[i].source = (char *)opts->mounts[i].source;
			mount_store[i].target = (char *)opts->mounts[i].target;
			mount_store[i].read_only = opts->mounts[i].read_only;
			mount_store[i].type = "bind";
			spec.mounts[i] = &mount_store[i];
		}
		spec.n_mounts = opts->nmounts;
	}
	rq.spec = &spec;
	rv = call(c, "CreateContainer", &rq.base, (ProtobufCMessage **)&created,
	          0, request_id, true, err);
	if (rv != 0)
		goto out;
	ref.id = created->id;
	rv = call(c, "StartContainer", &ref.base, &empty, 0, NULL, true, err);
	if (rv != 0) {
		if (created->created)
			undo_create(c, created->id);
		goto out;
	}
	inst = berth_calloc(1, sizeof(*inst));
	inst->c = c;
	inst->id = berth_strdup(created->id);
	options_copy(&inst->opts, opts);
	*out = inst;
out:
	msg_free(empty);
	msg_free(created);
	free(spec.env);
	free(env_store);
	free(spec.labels);
	free(label_store);
	free(spec.mounts);
	free(mount_store);
	return rv;
}

static int check_id(struct berth_client *c, const char *id,
                    struct berth_err *err)
{
	if (c == NULL)
		return berth_err_set(err, BERTH_EINVAL, "client is required");
	if (id == NULL || id[0] == '\0')
		return berth_err_set(err, BERTH_EINVAL,
		                     "id: give a container id or name");
	return 0;
}

int berth_stop_container_timeout(struct berth_client *c, const char *id,
                                 int timeout_s, struct berth_err *err)
{
	Berth__V1__StopContainerRequest rq
	    = BERTH__V1__STOP_CONTAINER_REQUEST__INIT;
	ProtobufCMessage *out = NULL;
	int rv, grace_ms;

	rv = check_id(c, id, err);
	if (rv != 0)
		return rv;
	if (timeout_s < -1 || timeout_s > 3600)
		return berth_err_set(
		    err, BERTH_EINVAL,
		    "timeout_s: -1 (engine default) or 0..3600");
	rq.id = (char *)id;
	rq.timeout_seconds = timeout_s;
	/* The engine's default grace is 10 s: leave room for it. */
	grace_ms = (timeout_s < 0 ? 10 : timeout_s) * 1000;
	rv = call(c, "StopContainer", &rq.base, &out, c->timeout_ms + grace_ms,
	          NULL, true, err);
	msg_free(out);
	return rv;
}

int berth_stop_container(struct berth_client *c, const char *id,
                         struct berth_err *err)
{
	return berth_stop_container_timeout(c, id, -1, err);
}

static int remove_container(struct berth_client *c, const char *id, bool force,
                            struct berth_err *err)
{
	Berth__V1__RemoveContainerRequest rq
	    = BERTH__V1__REMOVE_CONTAINER_REQUEST__INIT;
	ProtobufCMessage *out = NULL;
	int rv;

	rv = check_id(c, id, err);
	if (rv != 0)
		return rv;
	rq.id = (char *)id;
	rq.force = force;
	rq.remove_volumes = true;
	rv = call(c, "RemoveContainer", &rq.base, &out, 0, NULL, true, err);
	msg_free(out);
	return rv;
}

int berth_remove_container(struct berth_client *c, const char *id,
                           struct berth_err *err)
{
	return remove_container(c, id, false, err);
}

int berth_remove_container_force(struct berth_client *c, const char *id,
                                 struct berth_err *err)
{
	return remove_container(c, id, true, err);
}

/* ---------------------------------------------------------- instance */

const char *berth_instance_id(const struct berth_instance *inst)
{
	return inst != NULL ? inst->id : NULL;
}

const struct berth_options *
berth_instance_options(const struct berth_instance *inst)
{
	return inst != NULL ? &inst->opts : NULL;
}

void berth_instance_free(struct berth_instance *inst)
{
	if (inst == NULL)
		return;
	options_fini(&inst->opts);
	free(inst->id);
	free(inst);
}

void berth_exec_result_free(struct berth_exec_result *res)
{
	if (res == NULL)
		return;
	free(res->stdout_data);
	free(res->stderr_data);
	free(res);
}

/* A NUL-terminated copy of a bytes field (which is NULL when empty). */
static char *bytes_dup(const ProtobufCBinaryData *b)
{
	if (b->len == 0 || b->data == NULL)
		return berth_strdup("");
	return berth_strndup((const char *)b->data, b->len);
}

int berth_instance_exec_ex(const struct berth_instance *inst,
                           const char *const *argv,
                           const struct berth_exec_opts *opts,
                           struct berth_exec_result **out,
                           struct berth_err *err)
{
	static const struct berth_exec_opts none = { 0 };
	Berth__V1__ExecRequest rq = BERTH__V1__EXEC_REQUEST__INIT;
	Berth__V1__ExecReply *rep = NULL;
	Berth__V1__KeyValue *env_store = NULL;
	struct berth_exec_result *res;
	long argc = argv_len(argv);
	int rv, rpc_ms;

	if (inst == NULL || out == NULL)
		return berth_err_set(err, BERTH_EINVAL,
		                     "instance and out are required");
	if (argc < 0)
		return berth_err_set(err, BERTH_EINVAL,
		                     "argv: give a command (1..%d arguments, "
		                     "NULL-terminated)",
		                     SDK_MAX_ARGS);
	if (opts == NULL)
		opts = &none;
	if (opts->timeout_ms < 0 || opts->timeout_ms > SDK_EXEC_UNTIMED_MS)
		return berth_err_set(err, BERTH_EINVAL,
		                     "timeout_ms: 0 (none) or up to %d",
		                     SDK_EXEC_UNTIMED_MS);
	if (opts->nenv > SDK_MAX_ARGS || (opts->nenv > 0 && opts->env == NULL))
		return berth_err_set(err, BERTH_EINVAL,
		                     "env: NULL array or too many entries");
	for (size_t i = 0; i < opts->nenv; i++) {
		if (opts->env[i].key == NULL || opts->env[i].value == NULL)
			return berth_err_set(err, BERTH_EINVAL,
			                     "env[%zu]: NULL key or value", i);
	}
	rq.id = inst->id;
	rq.command = (char **)argv;
	rq.n_command = (size_t)argc;
	rq.env = kv_msgs(opts->env, opts->nenv, &env_store);
	rq.n_env = opts->nenv;
	rq.working_dir
	    = (char *)(opts->working_dir != NULL ? opts->working_dir : "");
	rq.user = (char *)(opts->user != NULL ? opts->user : "");
	rq.timeout_ms = opts->timeout_ms;
	rq.max_output_bytes = opts->max_output_bytes;
	rpc_ms = opts->timeout_ms > 0 ? (int)opts->timeout_ms + SDK_MARGIN_MS
	                              : SDK_EXEC_UNTIMED_MS;
	/* Not idempotent: a command must not run twice because a reply was
	 * lost. */
	rv = call(inst->c, "ExecCommand", &rq.base, (ProtobufCMessage **)&rep,
	          rpc_ms, NULL, false, err);
	if (rv != 0)
		goto out;
	res = berth_calloc(1, sizeof(*res));
	res->exit_code = rep->exit_code;
	res->stdout_data = bytes_dup(&rep->stdout);
	res->stdout_len = rep->stdout.len;
	res->stderr_data = bytes_dup(&rep->stderr);
	res->stderr_len = rep->stderr.len;
	res->timed_out = rep->timed_out;
	res->stdout_truncated = rep->stdout_truncated;
	res->output_budget_exhausted
	    = rep->stdout_budget_exhausted || rep->stderr_budget_exhausted;
	res->stderr_truncated = rep->stderr_truncated;
	res->duration_ms = rep->duration_ms;
	*out = res;
out:
	msg_free(rep);
	free(rq.env);
	free(env_store);
	return rv;
}

int berth_instance_exec(const struct berth_instance *inst,
                        const char *const *argv, struct berth_exec_result **out,
                        struct berth_err *err)
{
	return berth_instance_exec_ex(inst, argv, NULL, out, err);
}

int berth_instance_exec_timeout(const struct berth_instance *inst,
                                const char *const *argv, int64_t timeout_ms,
                                struct berth_exec_result **out,
                                struct berth_err *err)
{
	struct berth_exec_opts o = { 0 };

	if (timeout_ms <= 0)
		return berth_err_set(err, BERTH_EINVAL,
		                     "timeout_ms: must be positive");
	o.timeout_ms = timeout_ms;
	return berth_instance_exec_ex(inst, argv, &o, out, err);
}

int berth_instance_inject_local_code(const struct berth_instance *inst,
                                     const char *local_path,
                                     const char *container_path,
                                     struct berth_err *err)
{
	Berth__V1__InjectCodeRequest rq = BERTH__V1__INJECT_CODE_REQUEST__INIT;
	ProtobufCMessage *out = NULL;
	int rv;

	if (inst == NULL)
		return berth_err_set(err, BERTH_EINVAL, "instance is required");
	if (local_path == NULL || local_path[0] == '\0')
		return berth_err_set(err, BERTH_EINVAL,
		                     "local_path: give a host path");
	if (container_path == NULL || container_path[0] != '/')
		return berth_err_set(err, BERTH_EINVAL,
		                     "container_path: give an absolute path");
	rq.id = inst->id;
	rq.local_path = (char *)local_path;
	rq.container_path = (char *)container_path;
	rq.safe_local_paths = (char **)inst->opts.safe_local_paths;
	rq.n_safe_local_paths = inst->opts.safe_local_paths != NULL
	    ? inst->opts.nsafe_local_paths
	    : 0;
	/* Extracting the same tar twice gives the same files: resending
	 * after a lost reply is safe. */
	rv = call(inst->c, "InjectCode", &rq.base, &out, SDK_INJECT_TIMEOUT_MS,
	          NULL, true, err);
	msg_free(out);
	return rv;
}

int berth_instance_clone_repo_ex(const struct berth_instance *inst,
                                 const char *repo_url, const char *target_dir,
                                 const struct berth_clone_opts *opts,
                                 char **commit_out, struct berth_err *err)
{
	static const struct berth_clone_opts none = { 0 };
	Berth__V1__CloneRepoRequest rq = BERTH__V1__CLONE_REPO_REQUEST__INIT;
	Berth__V1__GitCredentials cred = BERTH__V1__GIT_CREDENTIALS__INIT;
	Berth__V1__CloneRepoReply *rep = NULL;
	int rv, clone_ms;

	if (inst == NULL)
		return berth_err_set(err, BERTH_EINVAL, "instance is required");
	if (repo_url == NULL || repo_url[0] == '\0')
		return berth_err_set(err, BERTH_EINVAL,
		                     "repo_url: give a repository URL");
	if (target_dir == NULL || target_dir[0] != '/')
		return berth_err_set(err, BERTH_EINVAL,
		                     "target_dir: give an absolute path");
	if (opts == NULL)
		opts = &none;
	if (opts->timeout_ms < 0 || opts->timeout_ms > 3600 * 1000)
		return berth_err_set(err, BERTH_EINVAL,
		                     "timeout_ms: 0 (300 s) or up to one hour");
	rq.id = inst->id;
	rq.repo_url = (char *)repo_url;
	rq.target_dir = (char *)target_dir;
	rq.branch = (char *)(opts->branch != NULL ? opts->branch : "");
	rq.commit = (char *)(opts->commit != NULL ? opts->commit : "");
	rq.timeout_ms = opts->timeout_ms;
	rq.max_bytes = opts->max_bytes;
	if (opts->credentials != NULL) {
		const struct berth_git_credentials *g = opts->credentials;

#define CRED(f) cred.f = (char *)(g->f != NULL ? g->f : "")
		CRED(username);
		CRED(password);
		CRED(ssh_private_key);
		CRED(ssh_passphrase);
		CRED(ssh_known_hosts);
#undef CRED
		rq.credentials = &cred;
	}
	clone_ms
	    = (opts->timeout_ms > 0 ? opts->timeout_ms : SDK_CLONE_DEFAULT_MS)
	    + SDK_MARGIN_MS;
	rv = call(inst->c, "CloneRepo", &rq.base, (ProtobufCMessage **)&rep,
	          clone_ms, NULL, true, err);
	if (rv != 0)
		goto out;
	if (commit_out != NULL)
		*commit_out = berth_strdup(rep->commit);
out:
	msg_free(rep);
	return rv;
}

int berth_instance_clone_repo(const struct berth_instance *inst,
                              const char *repo_url, const char *target_dir,
                              struct berth_err *err)
{
	return berth_instance_clone_repo_ex(inst, repo_url, target_dir, NULL,
	                                    NULL, err);
}

/* Waits in slices of at most SDK_WAIT_SLICE_MS until `deadline` (mono
 * ms; 0 = none). */
static int wait_until(const struct berth_instance *inst, int64_t deadline,
                      int *exit_code, struct berth_err *err)
{
	Berth__V1__WaitRequest rq = BERTH__V1__WAIT_REQUEST__INIT;
	Berth__V1__WaitReply *rep = NULL;
	int rv;

	rq.id = inst->id;
	rq.condition = "not-running";
	/* Each slice is bounded; without a deadline the loop runs until
	 * the container stops or the runtime fails the call. */
	for (;;) {
		int64_t left = SDK_WAIT_SLICE_MS;

		if (deadline != 0) {
			left = deadline - berth_clock_mono_ms();
			if (left <= 0)
				return berth_err_set(err, BERTH_ETIMEDOUT,
				                     "container %.12s still "
				                     "running",
				                     inst->id);
			if (left > SDK_WAIT_SLICE_MS)
				left = SDK_WAIT_SLICE_MS;
		}
		rq.timeout_ms = (int32_t)left;
		rv = call(inst->c, "WaitContainer", &rq.base,
		          (ProtobufCMessage **)&rep, (int)left + SDK_MARGIN_MS,
		          NULL, true, err);
		if (rv == 0)
			break;
		if (rv != BERTH_ETIMEDOUT)
			return rv;
	}
	*exit_code = rep->exit_code;
	msg_free(rep);
	return 0;
}

int berth_instance_wait(const struct berth_instance *inst, int *exit_code,
                        struct berth_err *err)
{
	if (inst == NULL || exit_code == NULL)
		return berth_err_set(err, BERTH_EINVAL,
		                     "instance and exit_code are required");
	return wait_until(inst, 0, exit_code, err);
}

int berth_instance_wait_timeout(const struct berth_instance *inst,
                                int timeout_ms, int *exit_code,
                                struct berth_err *err)
{
	if (inst == NULL || exit_code == NULL)
		return berth_err_set(err, BERTH_EINVAL,
		                     "instance and exit_code are required");
	if (timeout_ms <= 0)
		return berth_err_set(err, BERTH_EINVAL,
		                     "timeout_ms: must be positive");
	return wait_until(inst, berth_clock_mono_ms() + timeout_ms, exit_code,
	                  err);
}
