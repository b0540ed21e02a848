/*
 * test_integ_engine.c: the Docker engine driver against the real engine
 * at ts_docker_socket() with the local image ts_test_image().
 *
 * Every container carries berth.test=<run label> and a label unique to
 * this process (berth.test.engine), so list checks see only ours even
 * when other test programs share the engine; all are removed at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/alloc.h"
#include "lib/buf.h"
#include "lib/engine.h"
#include "lib/engine_http.h"
#include "lib/rpc.h"
#include "services/runtime/runtime.h"
#include "tests/support/registry.h"
#include "tests/support/testsupport.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_TRACKED 64

static struct berth_engine *eng;
static char *tracked[MAX_TRACKED];
static size_t ntracked;
static char uniq[64];   /* this process's label value and name prefix */
static char volume[96]; /* the named volume the round-trip test makes */
static int name_seq;

static Berth__V1__KeyValue lab_run = BERTH__V1__KEY_VALUE__INIT;
static Berth__V1__KeyValue lab_uniq = BERTH__V1__KEY_VALUE__INIT;
static const Berth__V1__KeyValue *test_labels[2];

/* --- helpers --------------------------------------------------------- */

static void untrack(const char *id)
{
	for (size_t i = 0; i < ntracked; i++) {
		if (strcmp(tracked[i], id) == 0) {
			free(tracked[i]);
			tracked[i] = tracked[--ntracked];
			return;
		}
	}
}

/* Creates a container with the test labels and remembers it. */
static int create(Berth__V1__ContainerSpec *spec, char **id,
                  struct berth_err *err)
{
	int rv;

	if (spec->image == NULL || spec->image[0] == '\0')
		spec->image = (char *)ts_test_image();
	rv = berth_engine_container_create(eng, spec, test_labels, 2, id, err);
	if (rv == 0) {
		assert_true(ntracked < MAX_TRACKED);
		tracked[ntracked++] = berth_strdup(*id);
	}
	return rv;
}

/* A fresh container name unique to this process. */
static char *new_name(void)
{
	return berth_asprintf("berth-itest-%s-%d", uniq, ++name_seq);
}

static Berth__V1__ContainerDetail *inspect(const char *id)
{
	Berth__V1__ContainerDetail *d = NULL;
	struct berth_err err;

	assert_ok(berth_engine_container_inspect(eng, id, &d, &err), &err);
	assert_non_null(d);
	assert_non_null(d->summary);
	return d;
}

static void detail_free(Berth__V1__ContainerDetail *d)
{
	if (d != NULL)
		protobuf_c_message_free_unpacked(&d->base, NULL);
}

/* Polls inspect until the container is no longer running (<= 15 s). */
static Berth__V1__ContainerDetail *wait_exited(const char *id)
{
	int64_t deadline = ts_now_ms() + 15000;

	for (int i = 0; i < 300; i++) {
		Berth__V1__ContainerDetail *d = inspect(id);

		if (!d->running && strcmp(d->summary->state, "exited") == 0)
			return d;
		detail_free(d);
		if (ts_now_ms() > deadline)
			break;
		usleep(50 * 1000);
	}
	fail_msg("container %s did not exit in time", id);
	return NULL;
}

/*
 * A raw request through the driver's own HTTP helper, with one optional
 * extra header. Returns the status, or -1 when the engine did not
 * answer; `*body` (optional) receives the reply (free()).
 */
static long raw_req(const char *method, const char *path, const char *hdr,
                    char **body)
{
	struct berth_buf b;
	struct berth_http_req req = { 0 };
	struct berth_err err;
	long status = -1;

	berth_buf_init(&b, BERTH_HTTP_REPLY_MAX);
	req.method = method;
	req.path = path;
	req.headers = hdr != NULL ? &hdr : NULL;
	req.nheaders = hdr != NULL ? 1 : 0;
	if (berth_http_do(berth_engine_http_target(eng), &req, &status, &b,
	                  &err)
	    != 0) {
		fprintf(stderr, "raw %s %s: %s\n", method, path, err.msg);
		status = -1;
	}
	if (body != NULL)
		*body = berth_buf_steal(&b, NULL);
	berth_buf_fini(&b);
	return status;
}

/* As raw_req(), parsing the reply as JSON into `*out` (optional). */
static long raw(const char *method, const char *path, json_t **out)
{
	char *text = NULL;
	long status = raw_req(method, path, NULL, &text);

	if (out != NULL) {
		*out = json_loads(text, 0, NULL);
		assert_non_null(*out);
	}
	free(text);
	return status;
}

static bool strv_has(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

static const char *kv_get(Berth__V1__KeyValue **kv, size_t n, const char *k)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(kv[i]->key, k) == 0)
			return kv[i]->value;
	return NULL;
}

/* --- a private registry (tests/support/registry.h) ----------------- */

static struct ts_registry reg;

/* --- the runtime service over inproc://, for its create path ------- */

static struct berth_runtime *rt;
static struct berth_rpc_client *rt_cli;
static char *rt_dir;
/* A second runtime on the same engine, as in a scale-out. */
static struct berth_runtime *rt2;
static struct berth_rpc_client *rt2_cli;
static char *rt2_dir;

static void runtime_start(struct berth_runtime **r,
                          struct berth_rpc_client **cli, char **dir,
                          const char *url)
{
	struct berth_runtime_opts o = { 0 };
	struct berth_err err;

	*dir = ts_tmpdir("engine-runtime");
	o.data_dir = *dir;
	o.url = url;
	o.workers = 4;
	o.engine.socket_path = ts_docker_socket();
	o.engine.runtime = ts_engine_runtime();
	assert_ok(berth_runtime_start(r, &o, &err), &err);
	assert_ok(berth_rpc_client_alloc(cli, &url, 1, NULL, &err), &err);
}

/* Starts the two runtime services once, on the engine the tests use. */
static void runtime_up(void)
{
	if (rt != NULL)
		return;
	runtime_start(&rt, &rt_cli, &rt_dir, "inproc://berth-itest-rt1");
	runtime_start(&rt2, &rt2_cli, &rt2_dir, "inproc://berth-itest-rt2");
}

/* One CreateContainer answer, as an async call left it. */
struct create_result {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	int rv;
	char msg[256];
	char *id;
	bool created;
};

static void create_done(void *arg, int rv, ProtobufCMessage *output,
                        const struct berth_err *err)
{
	struct create_result *r = arg;
	Berth__V1__CreateContainerReply *rep
	    = (Berth__V1__CreateContainerReply *)output;

	pthread_mutex_lock(&r->mu);
	r->rv = rv;
	if (rv != 0 && err != NULL)
		snprintf(r->msg, sizeof(r->msg), "%s", err->msg);
	if (rep != NULL) {
		r->id = berth_strdup(rep->id);
		r->created = rep->created;
		protobuf_c_message_free_unpacked(output, NULL);
	}
	r->done = true;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

/*
 * Sends `n` identical CreateContainer calls at once (with `request_id`,
 * which may be NULL) and waits for every answer, 60 s at most.
 */
static void creates_at_once(const Berth__V1__ContainerSpec *spec,
                            const char *request_id, struct create_result *r,
                            size_t n, bool both_runtimes)
{
	Berth__V1__CreateContainerRequest req
	    = BERTH__V1__CREATE_CONTAINER_REQUEST__INIT;
	struct berth_rpc_opts o
	    = { .timeout_ms = 60000, .request_id = request_id };
	struct berth_err err;

	req.spec = (Berth__V1__ContainerSpec *)spec;
	for (size_t i = 0; i < n; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		pthread_mutex_init(&r[i].mu, NULL);
		pthread_cond_init(&r[i].cv, NULL);
	}
	for (size_t i = 0; i < n; i++)
		assert_ok(berth_rpc_call_async(
		              both_runtimes && i % 2 == 1 ? rt2_cli : rt_cli,
		              &berth__v1__runtime__descriptor,
		              "CreateContainer", &req.base, &o, create_done,
		              &r[i], &err),
		          &err);
	for (size_t i = 0; i < n; i++) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 60;
		pthread_mutex_lock(&r[i].mu);
		while (!r[i].done)
			if (pthread_cond_timedwait(&r[i].cv, &r[i].mu, &until)
			    != 0)
				break;
		pthread_mutex_unlock(&r[i].mu);
		assert_true(r[i].done);
		if (r[i].id != NULL) {
			bool seen = false;

			for (size_t k = 0; k < ntracked; k++)
				seen = seen || strcmp(tracked[k], r[i].id) == 0;
			if (!seen) {
				assert_true(ntracked < MAX_TRACKED);
				tracked[ntracked++] = berth_strdup(r[i].id);
			}
		}
	}
}

static void create_results_fini(struct create_result *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].id);
		pthread_cond_destroy(&r[i].cv);
		pthread_mutex_destroy(&r[i].mu);
	}
}

/* Containers carrying berth-test=<run> and berth-test.key=<value>. */
static size_t count_labelled(const char *value)
{
	Berth__V1__ListContainersRequest f
	    = BERTH__V1__LIST_CONTAINERS_REQUEST__INIT;
	Berth__V1__ListContainersReply *rep = NULL;
	Berth__V1__KeyValue kv = BERTH__V1__KEY_VALUE__INIT;
	Berth__V1__KeyValue *kvs[] = { &kv };
	struct berth_err err;
	size_t n;

	kv.key = "berth-test.key";
	kv.value = (char *)value;
	f.all = true;
	f.labels = kvs;
	f.n_labels = 1;
	assert_ok(berth_engine_container_list(eng, &f, &rep, &err), &err);
	n = rep->n_containers;
	protobuf_c_message_free_unpacked(&rep->base, NULL);
	return n;
}

/* --- setup / teardown ------------------------------------------------ */

static int group_setup(void **state)
{
	struct berth_engine_config cfg = { 0 };
	struct berth_err err;

	(void)state;
	snprintf(uniq, sizeof(uniq), "%ld-%lld", (long)getpid(),
	         (long long)(ts_now_ms() % 100000000));
	snprintf(volume, sizeof(volume), "berth-itest-vol-%s", uniq);
	lab_run.key = "berth.test";
	lab_run.value = (char *)ts_run_label();
	lab_uniq.key = "berth.test.engine";
	lab_uniq.value = uniq;
	test_labels[0] = &lab_run;
	test_labels[1] = &lab_uniq;
	cfg.socket_path = ts_docker_socket();
	cfg.runtime = ts_engine_runtime();
	if (berth_engine_open(&eng, &cfg, &err) != 0) {
		fprintf(stderr, "engine open: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	struct berth_err err;
	char *path;

	(void)state;
	berth_rpc_client_free(rt_cli);
	berth_rpc_client_free(rt2_cli);
	berth_runtime_stop(rt);
	berth_runtime_stop(rt2);
	ts_rmtree(rt_dir);
	ts_rmtree(rt2_dir);
	free(rt_dir);
	free(rt2_dir);
	while (ntracked > 0) {
		char *id = tracked[--ntracked];

		(void)berth_engine_container_remove(eng, id, true, true, &err);
		free(id);
	}
	/* The named volume of the round-trip test, if it was made. */
	path = berth_asprintf("/v1.41/volumes/%s", volume);
	(void)raw_req("DELETE", path, NULL, NULL);
	free(path);
	ts_registry_stop(&reg);
	berth_engine_free(eng);
	eng = NULL;
	return 0;
}

/* --- tests ----------------------------------------------------------- */

static void test_ping_and_info(void **state)
{
	Berth__V1__RuntimeInfo *ri = NULL;
	struct berth_err err;

	(void)state;
	assert_ok(berth_engine_ping(eng, &err), &err);
	assert_ok(berth_engine_info(eng, &ri, &err), &err);
	assert_string_equal(ri->runtime, ts_engine_runtime());
	assert_string_equal(ri->socket_path, ts_docker_socket());
	assert_true(strlen(ri->engine_version) > 0);
	assert_string_equal(ri->api_version, "1.41");
	assert_string_equal(ri->os, "linux");
	assert_true(strlen(ri->arch) > 0);
	assert_true(ri->images >= 1);
	assert_true(ri->containers >= ri->containers_running);
	assert_string_equal(ri->build_dir, "");
	assert_string_equal(berth_engine_ops(eng)->name, ts_engine_runtime());
	assert_string_equal(berth_engine_runtime(eng), ts_engine_runtime());
	protobuf_c_message_free_unpacked(&ri->base, NULL);
}

static void test_image_exists(void **state)
{
	struct berth_err err;
	bool exists = false;

	(void)state;
	assert_ok(
	    berth_engine_image_exists(eng, ts_test_image(), &exists, &err),
	    &err);
	assert_true(exists);
	assert_ok(berth_engine_image_exists(eng, "berth-test/does-not-exist:1",
	                                    &exists, &err),
	          &err);
	assert_false(exists);
}

static void test_lifecycle(void **state)
{
	Berth__V1__ContainerSpec spec = BERTH__V1__CONTAINER_SPEC__INIT;
	Berth__V1__ContainerDetail *d;
	struct berth_err err;
	char *name = new_name();
	char *id = NULL;

	(void)state;
	spec.name = name;
	/* sh as PID 1 exits 3 on SIGTERM: proves stop sends TERM first. */
	spec.command_line = "trap 'exit 3' TERM; sleep 300 & wait";
	assert_ok(create(&spec, &id, &err), &err);
	assert_true(strlen(id) == 64);

	d = inspect(id);
	assert_string_equal(d->summary->state, "created");
	assert_string_equal(d->summary->name, name);
	assert_false(d->running);
	detail_free(d);

	assert_ok(berth_engine_container_start(eng, id, &err), &err);
	d = inspect(id);
	assert_true(d->running);
	assert_string_equal(d->summary->state, "running");
	assert_true(strlen(d->started_at) > 0);
	assert_true(strncmp(d->image_id, "sha256:", 7) == 0);
	detail_free(d);

	assert_ok(berth_engine_container_stop(eng, id, 5, &err), &err);
	d = inspect(id);
	assert_false(d->running);
	assert_string_equal(d->summary->state, "exited");
	assert_int_equal(d->exit_code, 3);
	assert_true(strlen(d->finished_at) > 0);
	detail_free(d);

	/* Restart runs it again. */
	assert_ok(berth_engine_container_restart(eng, id, 5, &err), &err);
	d = inspect(id);
	assert_true(d->running);
	detail_free(d);

	assert_ok(berth_engine_container_remove(eng, id, true, true, &err),
	          &err);
	assert_int_equal(berth_engine_container_inspect(eng, id, &d, &err),
	                 BERTH_ENOTFOUND);
	untrack(id);
	free(id);
	free(name);
}

static void test_command_line_runs_under_shell(void **state)
{
	Berth__V1__ContainerSpec spec = BERTH__V1__CONTAINER_SPEC__INIT;
	Berth__V1__ContainerDetail *d;
	struct berth_err err;
	char *id = NULL;

	(void)state;
	spec.command_line = "exit 7";
	assert_ok(create(&spec, &id, &err), &err);
	d = inspect(id);
	assert_int_equal(d->n_command, 3);
	assert_string_equal(d->command[0], "/bin/sh");
	assert_string_equal(d->command[1], "-c");
	assert_string_equal(d->command[2], "exit 7");
	detail_free(d);
	assert_ok(berth_engine_container_start(eng, id, &err), &err);
	d = wait_exited(id);
	assert_int_equal(d->exit_code, 7);
	detail_free(d);
	free(id);
}

static void test_argv_command_is_not_reparsed(void **state)
{
	Berth__V1__ContainerSpec spec = BERTH__V1__CONTAINER_SPEC__INIT;
	char *cmd[] = { "/bin/sh", "-c", "exit $0", "9" };
	Berth__V1__ContainerDetail *d;
	struct berth_err err;
	char *id = NULL;

	(void)state;
	spec.command = cmd;
	spec.n_command = 4;
	assert_ok(create(&spec, &id, &err), &err);
	assert_ok(berth_engine_container_start(eng, id, &err), &err);
	d = wait_exited(id);
	assert_int_equal(d->exit_code, 9);
	assert_int_equal(d->n_command, 4);
	assert_string_equal(d->command[2], "exit $0");
	detail_free(d);

	/* command and command_line together are refused before the engine. */
	spec.command_line = "true";
	assert_int_equal(create(&spec, &id, &err), BERTH_EINVAL);
	free(id);
}

static void test_spec_round_trip(void **state)
{
	Berth__V1__ContainerSpec spec = BERTH__V1__CONTAINER_SPEC__INIT;
	Berth__V1__KeyValue env0 = BERTH__V1__KEY_VALUE__INIT;
	Berth__V1__KeyValue env1 = BERTH__V1__KEY_VALUE__INIT;
	Berth__V1__KeyValue *env[] = { &env0, &env1 };
	Berth__V1__KeyValue ul = BERTH__V1__KEY_VALUE__INIT;
	Berth__V1__KeyValue *labels[] = { &ul };
	Berth__V1__PortBinding p0 = BERTH__V1__PORT_BINDING__INIT;
	Berth__V1__PortBinding p1 = BERTH__V1__PORT_BINDING__INIT;
	Berth__V1__PortBinding *ports[] = { &p0, &p1 };
	Berth__V1__Mount m0 = BERTH__V1__MOUNT__INIT;
	Berth__V1__Mount m1 = BERTH__V1__MOUNT__INIT;
	Berth__V1__Mount *mounts[] = { &m0, &m1 };
	Berth__V1__RestartPolicy rp = BERTH__V1__RESTART_POLICY__INIT;
	char *entry[] = { "/bin/sh" };
	char *cmd[] = { "-c", "sleep 300" };
	Berth__V1__ContainerDetail *d;
	struct berth_err err;
	char *dir = ts_tmpdir("engine");
	char *id = NULL, *path;
	json_t *j = NULL, *host, *logc;
	bool seen_bind = false, seen_vol = false, seen_8080 = false,
	     seen_53 = false;

	(void)state;
	env0.key = "GREETING";
	env0.value = "hello";
	env1.key = "SECRET_TOKEN";
	env1.value = "hunter2-do-not-show";
	spec.env = env;
	spec.n_env = 2;
	ul.key = "app";
	ul.value = "web";
	spec.labels = labels;
	spec.n_labels = 1;
	p0.host_ip = "127.0.0.1";
	p0.host_port = 0;
	p0.container_port = 8080;
	p1.container_port = 53;
	p1.protocol = "udp";
	spec.ports = ports;
	spec.n_ports = 2;
	m0.source = dir;
	m0.target = "/data";
	m0.read_only = true;
	m1.source = volume;
	m1.target = "/vol";
	m1.type = "volume";
	spec.mounts = mounts;
	spec.n_mounts = 2;
	rp.name = "on-failure";
	rp.max_retries = 3;
	spec.restart_policy = &rp;
	spec.entrypoint = entry;
	spec.n_entrypoint = 1;
	spec.command = cmd;
	spec.n_command = 2;
	spec.working_dir = "/tmp";

	assert_ok(create(&spec, &id, &err), &err);
	d = inspect(id);
	assert_true(strv_has(d->env_keys, d->n_env_keys, "GREETING"));
	assert_true(strv_has(d->env_keys, d->n_env_keys, "SECRET_TOKEN"));
	for (size_t i = 0; i < d->n_env_keys; i++) {
		assert_null(strchr(d->env_keys[i], '='));
		assert_null(strstr(d->env_keys[i], "hunter2"));
	}
	assert_string_equal(
	    kv_get(d->summary->labels, d->summary->n_labels, "app"), "web");
	assert_string_equal(
	    kv_get(d->summary->labels, d->summary->n_labels, "berth.test"),
	    ts_run_label());
	assert_string_equal(kv_get(d->summary->labels, d->summary->n_labels,
	                           "berth.test.engine"),
	                    uniq);
	assert_non_null(d->restart_policy);
	assert_string_equal(d->restart_policy->name, "on-failure");
	assert_int_equal(d->restart_policy->max_retries, 3);
	assert_int_equal(d->n_entrypoint, 1);
	assert_string_equal(d->entrypoint[0], "/bin/sh");
	assert_int_equal(d->n_command, 2);
	assert_string_equal(d->command[1], "sleep 300");
	assert_string_equal(d->working_dir, "/tmp");
	for (size_t i = 0; i < d->summary->n_ports; i++) {
		Berth__V1__PortBinding *p = d->summary->ports[i];

		if (p->container_port == 8080) {
			assert_string_equal(p->protocol, "tcp");
			assert_string_equal(p->host_ip, "127.0.0.1");
			seen_8080 = true;
		} else if (p->container_port == 53) {
			assert_string_equal(p->protocol, "udp");
			seen_53 = true;
		}
	}
	assert_true(seen_8080 && seen_53);
	detail_free(d);

	/* Running: mounts appear and the engine picks the host port. */
	assert_ok(berth_engine_container_start(eng, id, &err), &err);
	d = inspect(id);
	for (size_t i = 0; i < d->n_mounts; i++) {
		Berth__V1__Mount *m = d->mounts[i];

		if (strcmp(m->target, "/data") == 0) {
			assert_string_equal(m->type, "bind");
			assert_string_equal(m->source, dir);
			assert_true(m->read_only);
			seen_bind = true;
		} else if (strcmp(m->target, "/vol") == 0) {
			assert_string_equal(m->type, "volume");
			assert_string_equal(m->source, volume);
			assert_false(m->read_only);
			seen_vol = true;
		}
	}
	assert_true(seen_bind && seen_vol);
	seen_8080 = false;
	for (size_t i = 0; i < d->summary->n_ports; i++) {
		Berth__V1__PortBinding *p = d->summary->ports[i];

		if (p->container_port == 8080 && p->host_port != 0)
			seen_8080 = true;
	}
	assert_true(seen_8080);
	detail_free(d);

	/* The protective defaults, seen in the engine's own JSON. */
	path = berth_asprintf("/v1.41/containers/%s/json", id);
	assert_int_equal(raw("GET", path, &j), 200);
	host = json_object_get(j, "HostConfig");
	assert_int_equal(json_integer_value(json_object_get(host, "PidsLimit")),
	                 4096);
	logc = json_object_get(host, "LogConfig");
	assert_string_equal(json_string_value(json_object_get(logc, "Type")),
	                    "json-file");
	if (ts_engine_is_podman()) {
		/* Podman keeps the size limit as its own "Size" (seen only
		 * in libpod's inspect) and has no file count at all. */
		json_t *lj = NULL;
		char *lpath
		    = berth_asprintf("/v4.0.0/libpod/containers/%s/json", id);

		assert_int_equal(raw("GET", lpath, &lj), 200);
		assert_string_equal(
		    json_string_value(json_object_get(
		        json_object_get(json_object_get(lj, "HostConfig"),
		                        "LogConfig"),
		        "Size")),
		    "10MB");
		json_decref(lj);
		free(lpath);
	} else {
		/* Checked for NULL first: an engine that drops an option
		 * must fail the test, not crash it. */
		const char *max_size = json_string_value(json_object_get(
		    json_object_get(logc, "Config"), "max-size"));
		const char *max_file = json_string_value(json_object_get(
		    json_object_get(logc, "Config"), "max-file"));
		assert_non_null(max_size);
		assert_string_equal(max_size, "10m");
		assert_non_null(max_file);
		assert_string_equal(max_file, "3");
	}
	json_decref(j);
	free(path);

	assert_ok(berth_engine_container_remove(eng, id, true, true, &err),
	          &err);
	untrack(id);
	free(id);
	ts_rmtree(dir);
	free(dir);
}

static void test_start_and_stop_twice(void **state)
{
	Berth__V1__ContainerSpec spec = BERTH__V1__CONTAINER_SPEC__INIT;
	struct berth_err err;
	char *id = NULL;

	(void)state;
	spec.command_line = "sleep 300";
	assert_ok(create(&spec, &id, &err), &err);
	assert_ok(berth_engine_container_start(eng, id, &err), &err);
	assert_ok(berth_engine_container_start(eng, id, &err), &err);
	assert_ok(berth_engine_container_stop(eng, id, 0, &err), &err);
	assert_ok(berth_engine_container_stop(eng, id, 0, &err), &err);
	free(id);
}

/* An upload into a folder the container lacks is NOT_FOUND on both
 * engines (Podman alone would create the folder), and nothing is made. */
static void test_archive_missing_folder(void **state)
{
	Berth__V1__ContainerSpec spec = BERTH__V1__CONTAINER_SPEC__INIT;
	static const char empty_tar[1024]; /* two zero blocks: end of archive */
	struct berth_err err;
	char *id = NULL;
	json_t *j = NULL;
	char *path;

	(void)state;
	spec.command_line = "sleep 300";
	assert_ok(create(&spec, &id, &err), &err);
	assert_ok(berth_engine_container_start(eng, id, &err), &err);
	assert_ok(berth_engine_ops(eng)->archive_put(eng, id, "/tmp", empty_tar,
	                                             sizeof(empty_tar), &err),
	          &err);
	assert_int_equal(
	    berth_engine_ops(eng)->archive_put(
	        eng, id, "/no/such/dir", empty_tar, sizeof(empty_tar), &err),
	    BERTH_ENOTFOUND);
	assert_non_null(strstr(err.msg, "/no/such/dir"));
	assert_int_equal(berth_engine_ops(eng)->archive_put(
	                     eng, "berth-itest-no-such-container", "/tmp",
	                     empty_tar, sizeof(empty_tar), &err),
	                 BERTH_ENOTFOUND);
	path = berth_asprintf("/v1.41/containers/%s/archive?path=/no/such/dir",
	                      id);
	assert_int_equal(raw("GET", path, &j), 404);
	json_decref(j);
	free(path);
	assert_ok(berth_engine_container_stop(eng, id, 0, &err), &err);
	free(id);
}

static void test_duplicate_name(void **state)
{
	Berth__V1__ContainerSpec spec = BERTH__V1__CONTAINER_SPEC__INIT;
	struct berth_err err;
	char *name = new_name();
	char *id = NULL, *id2 = NULL;

	(void)state;
	spec.name = name;
	assert_ok(create(&spec, &id, &err), &err);
	assert_int_equal(create(&spec, &id2, &err), BERTH_EEXISTS);
	assert_int_equal(err.code, BERTH_EEXISTS);
	assert_non_null(strstr(err.msg, name));
	assert_null(id2);
	free(id);
	free(name);
}

static void test_missing_image(void **state)
{
	Berth__V1__ContainerSpec spec = BERTH__V1__CONTAINER_SPEC__INIT;
	struct berth_err err;
	char *id = NULL;

	(void)state;
	spec.image = "berth-test/does-not-exist:1";
	assert_int_equal(create(&spec, &id, &err), BERTH_ENOTFOUND);
	assert_non_null(strstr(err.msg, "pull"));
	assert_non_null(strstr(err.msg, "berth-test/does-not-exist:1"));
	assert_null(id);
}

static void test_unknown_id(void **state)
{
	const char *ids[] = { "berth-itest-no-such-container",
		              "0123456789abcdef0123456789abcdef" };
	Berth__V1__ContainerDetail *d = NULL;
	struct berth_err err;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(
		    berth_engine_container_start(eng, ids[i], &err),
		    BERTH_ENOTFOUND);
		assert_int_equal(
		    berth_engine_container_stop(eng, ids[i], 1, &err),
		    BERTH_ENOTFOUND);
		assert_int_equal(
		    berth_engine_container_restart(eng, ids[i], 1, &err),
		    BERTH_ENOTFOUND);
		assert_int_equal(berth_engine_container_remove(
		                     eng, ids[i], true, false, &err),
		                 BERTH_ENOTFOUND);
		assert_int_equal(
		    berth_engine_container_inspect(eng, ids[i], &d, &err),
		    BERTH_ENOTFOUND);
		assert_null(d);
		assert_false(err.retryable);
	}
	/* An id can never become another API path. */
	assert_int_equal(
	    berth_engine_container_inspect(eng, "../../info", &d, &err),
	    BERTH_EINVAL);
	assert_int_equal(
	    berth_engine_container_remove(eng, "a/../b", true, false, &err),
	    BERTH_EINVAL);
	assert_int_equal(berth_engine_container_start(eng, "", &err),
	                 BERTH_EINVAL);
}

static void test_list_by_label(void **state)
{
	Berth__V1__ContainerSpec spec = BERTH__V1__CONTAINER_SPEC__INIT;
	Berth__V1__ListContainersRequest req
	    = BERTH__V1__LIST_CONTAINERS_REQUEST__INIT;
	Berth__V1__KeyValue lf = BERTH__V1__KEY_VALUE__INIT;
	Berth__V1__KeyValue lm = BERTH__V1__KEY_VALUE__INIT;
	Berth__V1__KeyValue lo = BERTH__V1__KEY_VALUE__INIT;
	Berth__V1__KeyValue *filters[] = { &lf, &lo };
	Berth__V1__KeyValue *both[] = { &lo, &lm };
	Berth__V1__ListContainersReply *rep = NULL;
	struct berth_err err;
	char *name_a = new_name(), *name_b = new_name();
	char *a = NULL, *b = NULL;
	char *tag = berth_asprintf("list-%s", uniq);

	(void)state;
	lo.key = "berth.test.list";
	lo.value = tag;
	lm.key = BERTH_LABEL_MANAGED;
	lm.value = "true";
	/* A: managed, B: not; both carry the list label as a user label. */
	spec.name = name_a;
	spec.labels = both;
	spec.n_labels = 2;
	assert_ok(create(&spec, &a, &err), &err);
	spec.name = name_b;
	spec.labels = filters + 1;
	spec.n_labels = 1;
	assert_ok(create(&spec, &b, &err), &err);

	lf.key = "berth.test.engine";
	lf.value = uniq;
	req.labels = filters;
	req.n_labels = 2;
	req.all = true;
	assert_ok(berth_engine_container_list(eng, &req, &rep, &err), &err);
	assert_int_equal(rep->n_containers, 2);
	for (size_t i = 0; i < rep->n_containers; i++) {
		Berth__V1__ContainerSummary *s = rep->containers[i];

		assert_true(strcmp(s->id, a) == 0 || strcmp(s->id, b) == 0);
		assert_true(strcmp(s->name, name_a) == 0
		            || strcmp(s->name, name_b) == 0);
		assert_string_equal(s->state, "created");
		assert_string_equal(s->image, ts_test_image());
		assert_true(s->created > 0);
		assert_string_equal(
		    kv_get(s->labels, s->n_labels, "berth.test.list"), tag);
	}
	protobuf_c_message_free_unpacked(&rep->base, NULL);

	/* Not all: nothing of ours runs. */
	req.all = false;
	assert_ok(berth_engine_container_list(eng, &req, &rep, &err), &err);
	assert_int_equal(rep->n_containers, 0);
	protobuf_c_message_free_unpacked(&rep->base, NULL);

	/* berth_only keeps the managed one. */
	req.all = true;
	req.berth_only = true;
	assert_ok(berth_engine_container_list(eng, &req, &rep, &err), &err);
	assert_int_equal(rep->n_containers, 1);
	assert_string_equal(rep->containers[0]->id, a);
	protobuf_c_message_free_unpacked(&rep->base, NULL);

	/* By name and state. */
	req.berth_only = false;
	req.name = name_b;
	req.state = "created";
	assert_ok(berth_engine_container_list(eng, &req, &rep, &err), &err);
	assert_int_equal(rep->n_containers, 1);
	assert_string_equal(rep->containers[0]->id, b);
	protobuf_c_message_free_unpacked(&rep->base, NULL);

	free(tag);
	free(a);
	free(b);
	free(name_a);
	free(name_b);
}

struct progress_log {
	int calls;
	int last;
	int stop; /* return this from the callback */
};

static int count_progress(void *arg, int percent, const char *status)
{
	struct progress_log *pl = arg;

	assert_true(percent >= -1 && percent <= 100);
	assert_non_null(status);
	assert_null(strchr(status, '\n'));
	pl->calls++;
	pl->last = percent;
	return pl->stop;
}

static void test_pull_missing_fails_fast(void **state)
{
	const char *refs[] = {
		"berth-test/does-not-exist:1",
		"berth-nohost.invalid:5000/a/b@sha256:"
		"00000000000000000000000000000000000000000000000000000000000000"
		"00",
	};
	struct progress_log pl = { 0 };
	struct berth_err err;
	char *image_id = NULL;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		int64_t t0 = ts_now_ms();
		int rv = berth_engine_image_pull(eng, refs[i], count_progress,
		                                 &pl, &image_id, &err);

		assert_true(rv == BERTH_ENOTFOUND || rv == BERTH_EUNAVAIL);
		assert_null(image_id);
		assert_true(ts_now_ms() - t0 < 60000);
		assert_non_null(strstr(
		    err.msg, i == 0 ? "does-not-exist" : "berth-nohost"));
		assert_null(strchr(err.msg, '\n'));
	}
	assert_int_equal(
	    berth_engine_image_pull(eng, "", NULL, NULL, &image_id, &err),
	    BERTH_EINVAL);
}

static void test_pull_from_local_registry(void **state)
{
	struct progress_log pl = { 0 };
	struct berth_err err;
	char *repo, *name, *ref = NULL, *missing, *esc_img, *path, *want_ref;
	char *image_id = NULL, *by_digest = NULL;
	const char *want_id, *digest;
	json_t *img = NULL, *pulled = NULL, *rd;
	bool exists = false;

	(void)state;
	if (!ts_registry_available())
		skip(); /* apt-get install docker-registry */
	assert_int_equal(ts_registry_start(&reg), 0);

	/* Put the test image into the registry under a fresh name. */
	repo = berth_asprintf("%s/berth-itest/bb-%s", reg.host, uniq);
	name = berth_asprintf("berth-itest/bb-%s", uniq);
	missing = berth_asprintf("%s:no-such-tag", repo);
	esc_img = berth_http_escape(ts_test_image());
	path = berth_asprintf("/v1.41/images/%s/json", esc_img);
	assert_int_equal(raw("GET", path, &img), 200);
	want_id = json_string_value(json_object_get(img, "Id"));
	assert_non_null(want_id);
	free(path);
	/* Tag and push; the tag is removed again at teardown. */
	assert_int_equal(
	    ts_registry_push(&reg, ts_test_image(), name, "1", &ref), 0);
	want_ref = berth_asprintf("%s:1", repo);
	assert_string_equal(ref, want_ref);
	free(want_ref);
	/* Untag so the pull has to bring the reference back. */
	path = berth_asprintf("/v1.41/images/%s", ref);
	assert_int_equal(raw_req("DELETE", path, NULL, NULL), 200);
	free(path);
	assert_ok(berth_engine_image_exists(eng, ref, &exists, &err), &err);
	assert_false(exists);

	/* A real pull: progress lines, 100 at the end, the image id. */
	assert_ok(berth_engine_image_pull(eng, ref, count_progress, &pl,
	                                  &image_id, &err),
	          &err);
	assert_string_equal(image_id, want_id);
	assert_true(pl.calls >= 2);
	assert_int_equal(pl.last, 100);
	assert_ok(berth_engine_image_exists(eng, ref, &exists, &err), &err);
	assert_true(exists);
	free(image_id);
	image_id = NULL;

	/* By digest: host with port and '@sha256:' split correctly. */
	path = berth_asprintf("/v1.41/images/%s/json", ref);
	assert_int_equal(raw("GET", path, &pulled), 200);
	free(path);
	rd = json_object_get(pulled, "RepoDigests");
	assert_true(json_array_size(rd) >= 1);
	digest = strchr(json_string_value(json_array_get(rd, 0)), '@');
	assert_non_null(digest);
	by_digest = berth_asprintf("%s%s", repo, digest);
	ts_registry_track(&reg, by_digest);
	assert_ok(berth_engine_image_pull(eng, by_digest, NULL, NULL, &image_id,
	                                  &err),
	          &err);
	assert_string_equal(image_id, want_id);
	free(image_id);
	image_id = NULL;

	/* The callback stops a pull at its first line. */
	pl.calls = 0;
	pl.stop = 1;
	assert_int_equal(berth_engine_image_pull(eng, ref, count_progress, &pl,
	                                         &image_id, &err),
	                 BERTH_ECANCELLED);
	assert_int_equal(pl.calls, 1);
	assert_null(image_id);

	/* A tag the registry does not have: manifest unknown. */
	assert_int_equal(
	    berth_engine_image_pull(eng, missing, NULL, NULL, &image_id, &err),
	    BERTH_ENOTFOUND);
	assert_non_null(strstr(err.msg, "not found"));
	assert_null(image_id);

	json_decref(pulled);
	json_decref(img);
	free(by_digest);
	free(esc_img);
	free(missing);
	free(ref);
	free(name);
	free(repo);
	ts_registry_stop(&reg);
}

static void test_dead_socket_is_unavailable(void **state)
{
	struct berth_engine_config cfg = { 0 };
	struct berth_engine *dead = NULL;
	Berth__V1__RuntimeInfo *ri = NULL;
	struct sockaddr_un sa = { 0 };
	struct berth_err err;
	char *dir = ts_tmpdir("engine-dead");
	char *paths[2];
	int fd;

	(void)state;
	/* A path with nothing at all, and a socket file nobody listens on. */
	paths[0] = berth_asprintf("%s/missing.sock", dir);
	paths[1] = berth_asprintf("%s/stale.sock", dir);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	sa.sun_family = AF_UNIX;
	assert_true(strlen(paths[1]) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, paths[1], strlen(paths[1]) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);

	for (size_t i = 0; i < 2; i++) {
		int64_t t0;

		cfg.socket_path = paths[i];
		cfg.runtime = ts_engine_runtime();
		assert_ok(berth_engine_open(&dead, &cfg, &err), &err);
		t0 = ts_now_ms();
		assert_int_equal(berth_engine_ping(dead, &err), BERTH_EUNAVAIL);
		assert_true(ts_now_ms() - t0 < 1000);
		assert_true(err.retryable);
		assert_non_null(strstr(err.msg, paths[i]));
		assert_int_equal(berth_engine_info(dead, &ri, &err),
		                 BERTH_EUNAVAIL);
		assert_null(ri);
		berth_engine_free(dead);
		dead = NULL;
	}
	close(fd);
	free(paths[0]);
	free(paths[1]);
	ts_rmtree(dir);
	free(dir);
}

/*
 * Strings that are not UTF-8 cannot go into the engine's JSON: jansson
 * refuses them, and a refused argv entry, env value or filter must fail
 * the call instead of quietly dropping out of it.
 */
static void test_non_utf8_is_refused_not_dropped(void **state)
{
	Berth__V1__ContainerSpec spec = BERTH__V1__CONTAINER_SPEC__INIT;
	Berth__V1__ListContainersRequest f
	    = BERTH__V1__LIST_CONTAINERS_REQUEST__INIT;
	Berth__V1__ListContainersReply *rep = NULL;
	Berth__V1__KeyValue env = BERTH__V1__KEY_VALUE__INIT;
	Berth__V1__KeyValue *envs[] = { &env };
	Berth__V1__KeyValue kv = BERTH__V1__KEY_VALUE__INIT;
	Berth__V1__KeyValue *kvs[] = { &kv };
	char *argv[] = { "echo", "caf\xe9" };
	struct berth_err err;
	char *id = NULL;

	(void)state;
	spec.command = argv;
	spec.n_command = 2;
	assert_int_equal(create(&spec, &id, &err), BERTH_EINVAL);
	assert_non_null(strstr(err.msg, "command[1]"));
	assert_null(id);

	spec.command = NULL;
	spec.n_command = 0;
	env.key = "SECRET";
	env.value = "s3cr\xff";
	spec.env = envs;
	spec.n_env = 1;
	assert_int_equal(create(&spec, &id, &err), BERTH_EINVAL);
	assert_non_null(strstr(err.msg, "env[0]"));
	assert_null(strstr(err.msg, "s3cr"));
	assert_null(id);

	/* A filter that cannot be sent must not widen the list. */
	kv.key = "berth.test.engine";
	kv.value = "\xc3";
	f.all = true;
	f.labels = kvs;
	f.n_labels = 1;
	assert_int_equal(berth_engine_container_list(eng, &f, &rep, &err),
	                 BERTH_EINVAL);
	assert_null(rep);
}

/*
 * Two identical named creates that arrive at once: one makes the
 * container, the other finds it (created=false). Never ALREADY_EXISTS,
 * never two containers, whether both reach one runtime or one each
 * reaches two runtimes on the same engine. Docker holds the name a
 * moment before the container can be inspected, which is where the
 * loser used to fail.
 */
static void test_runtime_named_creates_at_once(void **state)
{
	(void)state;
	runtime_up();
	for (int round = 0; round < 6; round++) {
		Berth__V1__ContainerSpec spec = BERTH__V1__CONTAINER_SPEC__INIT;
		Berth__V1__KeyValue l1 = BERTH__V1__KEY_VALUE__INIT;
		Berth__V1__KeyValue l2 = BERTH__V1__KEY_VALUE__INIT;
		Berth__V1__KeyValue *ls[] = { &l1, &l2 };
		struct create_result r[2];
		char *name = new_name();

		l1.key = "berth-test";
		l1.value = (char *)ts_run_label();
		l2.key = "berth-test.key";
		l2.value = name;
		spec.image = (char *)ts_test_image();
		spec.name = name;
		spec.labels = ls;
		spec.n_labels = 2;
		/* Odd rounds: one create through each runtime. */
		creates_at_once(&spec, NULL, r, 2, round % 2 == 1);
		for (size_t i = 0; i < 2; i++)
			if (r[i].rv != 0)
				fail_msg("round %d create %zu: %s (%s)", round,
				         i, r[i].msg, berth_code_name(r[i].rv));
		assert_string_equal(r[0].id, r[1].id);
		assert_true(r[0].created != r[1].created);
		assert_int_equal(count_labelled(name), 1);
		create_results_fini(r, 2);
		free(name);
	}
}

/* The same request id sent twice at once, no name: one container. */
static void test_runtime_request_id_creates_at_once(void **state)
{
	(void)state;
	runtime_up();
	for (int round = 0; round < 4; round++) {
		Berth__V1__ContainerSpec spec = BERTH__V1__CONTAINER_SPEC__INIT;
		Berth__V1__KeyValue l1 = BERTH__V1__KEY_VALUE__INIT;
		Berth__V1__KeyValue l2 = BERTH__V1__KEY_VALUE__INIT;
		Berth__V1__KeyValue *ls[] = { &l1, &l2 };
		struct create_result r[2];
		char *key = new_name();

		l1.key = "berth-test";
		l1.value = (char *)ts_run_label();
		l2.key = "berth-test.key";
		l2.value = key;
		spec.image = (char *)ts_test_image();
		spec.labels = ls;
		spec.n_labels = 2;
		creates_at_once(&spec, key, r, 2, false);
		for (size_t i = 0; i < 2; i++)
			if (r[i].rv != 0)
				fail_msg("round %d create %zu: %s (%s)", round,
				         i, r[i].msg, berth_code_name(r[i].rv));
		assert_string_equal(r[0].id, r[1].id);
		assert_true(r[0].created != r[1].created);
		assert_int_equal(count_labelled(key), 1);
		create_results_fini(r, 2);
		free(key);
	}
}

/*
 * Docker resolves a reference by id, then name, then id prefix: a new
 * name that happens to be a prefix of another container's id must not
 * be taken for that container.
 */
static void test_runtime_name_that_is_an_id_prefix(void **state)
{
	Berth__V1__ContainerSpec spec = BERTH__V1__CONTAINER_SPEC__INIT;
	Berth__V1__KeyValue l1 = BERTH__V1__KEY_VALUE__INIT;
	Berth__V1__KeyValue *ls[] = { &l1 };
	Berth__V1__ContainerDetail *d = NULL;
	struct create_result r[1];
	struct berth_err err;
	char prefix[13];
	char *other = NULL;

	(void)state;
	runtime_up();
	assert_ok(create(&spec, &other, &err), &err);
	memcpy(prefix, other, 12);
	prefix[12] = '\0';
	l1.key = "berth-test";
	l1.value = (char *)ts_run_label();
	spec.image = (char *)ts_test_image();
	spec.name = prefix;
	spec.labels = ls;
	spec.n_labels = 1;
	creates_at_once(&spec, NULL, r, 1, false);
	if (r[0].rv != 0)
		fail_msg("create named %s: %s (%s)", prefix, r[0].msg,
		         berth_code_name(r[0].rv));
	assert_true(r[0].created);
	assert_string_not_equal(r[0].id, other);
	assert_ok(berth_engine_container_inspect(eng, r[0].id, &d, &err), &err);
	assert_string_equal(d->summary->name, prefix);
	detail_free(d);
	/* Removed by name, so a later run never meets it. */
	assert_ok(berth_engine_container_remove(eng, r[0].id, true, true, &err),
	          &err);
	untrack(r[0].id);
	create_results_fini(r, 1);
	free(other);
}

/* Abandons the pull once its deadline (an int64_t, ms) has passed. */
static int abandon_after(void *arg, int percent, const char *status)
{
	(void)percent;
	(void)status;
	return ts_now_ms() >= *(int64_t *)arg ? 1 : 0;
}

/*
 * An engine that takes the pull and then says nothing (a registry that
 * hangs): the caller must still be able to abandon it, as the runtime
 * does when it shuts down, without waiting for the low-speed limit.
 */
static void test_silent_pull_can_be_abandoned(void **state)
{
	struct berth_engine_config cfg = { 0 };
	struct berth_engine *silent = NULL;
	struct sockaddr_un sa = { 0 };
	struct berth_err err;
	char *dir = ts_tmpdir("engine-silent");
	char *path = berth_asprintf("%s/silent.sock", dir);
	char *image_id = NULL;
	int64_t t0, deadline;
	int fd;

	(void)state;
	/* Listening, never accepting: the kernel completes the connection
	 * and the request is written, but no answer ever comes. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	sa.sun_family = AF_UNIX;
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	cfg.socket_path = path;
	cfg.runtime = ts_engine_runtime();
	assert_ok(berth_engine_open(&silent, &cfg, &err), &err);
	t0 = ts_now_ms();
	deadline = t0 + 1000;
	assert_int_equal(berth_engine_image_pull(silent, "berth-test/quiet:1",
	                                         abandon_after, &deadline,
	                                         &image_id, &err),
	                 BERTH_ECANCELLED);
	assert_true(ts_now_ms() - t0 < 5000);
	assert_null(image_id);
	berth_engine_free(silent);
	close(fd);
	free(path);
	ts_rmtree(dir);
	free(dir);
}

static void test_open_rejects_bad_config(void **state)
{
	struct berth_engine_config cfg = { 0 };
	struct berth_engine *e = NULL;
	struct berth_err err;

	(void)state;
	assert_int_equal(berth_engine_open(&e, &cfg, &err), BERTH_EINVAL);
	cfg.socket_path = "/nonexistent";
	cfg.runtime = "rkt";
	assert_int_equal(berth_engine_open(&e, &cfg, &err), BERTH_EINVAL);
	cfg.runtime = NULL;
	cfg.socket_path = NULL;
	cfg.url = "tcp://user:secret@127.0.0.1:2375";
	assert_int_equal(berth_engine_open(&e, &cfg, &err), BERTH_EINVAL);
	assert_null(strstr(err.msg, "secret"));
	assert_null(e);
	berth_engine_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ping_and_info),
		cmocka_unit_test(test_image_exists),
		cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_command_line_runs_under_shell),
		cmocka_unit_test(test_argv_command_is_not_reparsed),
		cmocka_unit_test(test_spec_round_trip),
		cmocka_unit_test(test_start_and_stop_twice),
		cmocka_unit_test(test_duplicate_name),
		cmocka_unit_test(test_archive_missing_folder),
		cmocka_unit_test(test_missing_image),
		cmocka_unit_test(test_unknown_id),
		cmocka_unit_test(test_list_by_label),
		cmocka_unit_test(test_pull_missing_fails_fast),
		cmocka_unit_test(test_pull_from_local_registry),
		cmocka_unit_test(test_dead_socket_is_unavailable),
		cmocka_unit_test(test_open_rejects_bad_config),
		cmocka_unit_test(test_silent_pull_can_be_abandoned),
		cmocka_unit_test(test_non_utf8_is_refused_not_dropped),
		cmocka_unit_test(test_runtime_named_creates_at_once),
		cmocka_unit_test(test_runtime_request_id_creates_at_once),
		cmocka_unit_test(test_runtime_name_that_is_an_id_prefix),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
