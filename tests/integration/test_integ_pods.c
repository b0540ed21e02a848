/*
 * test_integ_pods.c: pods end to end over REST, through the real
 * `berth serve` against the engine under test.
 *
 * On Podman: create with labels and a port, a container joining the pod
 * through spec.pod, start, list (by label) with its container, inspect,
 * stop, remove with force; a duplicate name is 409 and a bad body 400
 * with nothing created. On Docker every pod route is 501 UNIMPLEMENTED
 * with a message that says pods need Podman (bad input is still 400).
 * Over nng (an in-process runtime on the same engine), a container spec
 * naming a pod with a bad env key or a string that is not UTF-8 (env
 * value, label value, argv) is INVALID_ARGUMENT naming the field, never
 * echoing the value, and no container is made. A container in a pod
 * gets Docker's health check defaults and, with no systemd, its probes
 * run (the runtime's health driver) until it is healthy.
 *
 * Pods and containers made here carry berth-test=<run>; teardown
 * force-removes them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/alloc.h"
#include "lib/engine.h"
#include "lib/rpc.h"
#include "services/runtime/runtime.h"
#include "tests/support/berthproc.h"
#include "tests/support/testsupport.h"

#include "berth/v1/runtime.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct ts_berth berth;
static int name_seq;
static char *safe_root; /* the berth's SafeLocalPaths (a private folder) */

static int setup(void **state)
{
	char *tmp = ts_tmpdir("integpods");
	int rv;

	(void)state;
	safe_root = realpath(tmp, NULL);
	free(tmp);
	setenv("BERTH_SAFE_LOCAL_PATHS", safe_root, 1);
	rv = ts_berth_start(&berth, NULL, 0, NULL);
	unsetenv("BERTH_SAFE_LOCAL_PATHS");
	return rv;
}

static int teardown(void **state)
{
	int rv;

	(void)state;
	rv = ts_berth_stop(&berth);
	ts_rmtree(safe_root);
	free(safe_root);
	return rv;
}

static long req(const char *method, const char *path, const char *body,
                json_t **out)
{
	json_t *ignored = NULL;
	long st = ts_http(berth.base, method, path, body, berth.token, NULL,
	                  out != NULL ? out : &ignored);

	json_decref(ignored);
	return st;
}

/* A name unique to this run and call. */
static char *unique_name(const char *what)
{
	return berth_asprintf("it-%s-%ld-%d-%s", ts_run_label(), (long)getpid(),
	                      ++name_seq, what);
}

static char *pod_body(const char *name, int host_port)
{
	return berth_asprintf("{\"name\":\"%s\",\"labels\":{\"berth-test\":"
	                      "\"%s\",\"tier\":\"web\"},"
	                      "\"ports\":{\"127.0.0.1:%d\":\"80\"}}",
	                      name, ts_run_label(), host_port);
}

/*
 * Creates container `cname` in pod `pname` through REST, labelled for
 * this run, with `extra` (more JSON members: the command, mounts, ...).
 * Its id goes to `cid` (80 bytes); anything but 201 fails the test.
 */
static void create_member(const char *pname, const char *cname,
                          const char *extra, char *cid)
{
	char *body = berth_asprintf(
	    "{\"image\":\"%s\",\"name\":\"%s\",\"pod\":\"%s\",%s,"
	    "\"labels\":{\"berth-test\":\"%s\"}}",
	    ts_test_image(), cname, pname, extra, ts_run_label());
	json_t *j = NULL;
	long st = req("POST", "/api/v1/containers", body, &j);

	if (st != 201)
		fail_msg("create member: %ld %s", st,
		         ts_json_str(json_object_get(j, "error"), "message"));
	snprintf(cid, 80, "%s", ts_json_str(j, "id"));
	json_decref(j);
	free(body);
}

/* The pods carrying this run's label: how many, and whether one is
 * named `name` (may be NULL). */
static size_t run_pods(const char *name, json_t **match)
{
	char *path = berth_asprintf("/api/v1/pods?label=berth-test=%s",
	                            ts_run_label());
	json_t *reply = NULL, *a, *p;
	size_t i, n;

	assert_int_equal(req("GET", path, NULL, &reply), 200);
	free(path);
	a = json_object_get(reply, "pods");
	assert_true(json_is_array(a));
	n = json_array_size(a);
	if (match != NULL) {
		*match = NULL;
		json_array_foreach(a, i, p)
		{
			if (name != NULL
			    && strcmp(ts_json_str(p, "name"), name) == 0)
				*match = json_incref(p);
		}
	}
	json_decref(reply);
	return n;
}

static bool has_string(const json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
	{
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return true;
	}
	return false;
}

/* Waits (at most 5 s) for container `cid` to reach `state`; returns its
 * inspect JSON (caller owns). The runtime serves reads from a cache fed
 * by engine events, so a change made through the pod shows shortly. */
static json_t *await_state(const char *cid, const char *state)
{
	char *path = berth_asprintf("/api/v1/containers/%s", cid);
	int64_t deadline = ts_now_ms() + 5000;
	json_t *j = NULL;

	for (int i = 0; i < 100; i++) {
		json_decref(j);
		j = NULL;
		assert_int_equal(req("GET", path, NULL, &j), 200);
		if (strcmp(ts_json_str(j, "state"), state) == 0
		    || ts_now_ms() > deadline)
			break;
		usleep(50 * 1000);
	}
	free(path);
	assert_string_equal(ts_json_str(j, "state"), state);
	return j;
}

/* Bad bodies are 400 naming the field, on both engines, and make
 * nothing. */
static void test_bad_input_creates_nothing(void **state)
{
	static const struct {
		const char *body;
		const char *field;
	} bad[] = {
		{ "{\"name\":\"bad name!\"}", "name" },
		{ "{\"name\":\"\"}", "name" },
		{ "{\"labels\":{}}", "name" },
		{ "{\"name\":\"ok\",\"image\":\"x\"}", "image" },
		{ "{\"name\":\"ok\",\"labels\":{\"berth.managed\":\"x\"}}",
		  "labels" },
		{ "{\"name\":\"ok\",\"ports\":{\"99999\":\"80\"}}", "ports" },
		{ "{\"name\":\"ok\",\"labels\":\"x\"}", "labels" },
	};
	size_t before = 0;

	(void)state;
	if (ts_engine_is_podman())
		before = run_pods(NULL, NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *j = NULL;
		long st = req("POST", "/api/v1/pods", bad[i].body, &j);
		const json_t *e = json_object_get(j, "error");

		if (st != 400)
			fail_msg("%s: status %ld", bad[i].body, st);
		assert_string_equal(ts_error_code(j), "INVALID_ARGUMENT");
		assert_non_null(
		    strstr(ts_json_str(e, "message"), bad[i].field));
		json_decref(j);
	}
	assert_int_equal(req("GET", "/api/v1/pods/bad%20id", NULL, NULL), 400);
	assert_int_equal(
	    req("DELETE", "/api/v1/pods/x?force=maybe", NULL, NULL), 400);
	if (ts_engine_is_podman())
		assert_int_equal(run_pods(NULL, NULL), before);
}

/* Docker has no pods: a clear 501 on every route. */
static void test_docker_says_unimplemented(void **state)
{
	static const char *const routes[][2] = {
		{ "GET", "/api/v1/pods" },
		{ "GET", "/api/v1/pods/x" },
		{ "POST", "/api/v1/pods/x/start" },
		{ "POST", "/api/v1/pods/x/stop" },
		{ "DELETE", "/api/v1/pods/x" },
	};
	char *name, *body;
	json_t *j = NULL;

	(void)state;
	if (ts_engine_is_podman())
		skip();
	name = unique_name("docker");
	body = pod_body(name, ts_free_port());
	assert_int_equal(req("POST", "/api/v1/pods", body, &j), 501);
	assert_string_equal(ts_error_code(j), "UNIMPLEMENTED");
	assert_non_null(strstr(
	    ts_json_str(json_object_get(j, "error"), "message"), "podman"));
	json_decref(j);
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		j = NULL;
		assert_int_equal(req(routes[i][0], routes[i][1], NULL, &j),
		                 501);
		assert_string_equal(ts_error_code(j), "UNIMPLEMENTED");
		json_decref(j);
	}
	free(body);
	free(name);
}

/* The whole life of a pod with a container in it, on Podman. */
static void test_pod_lifecycle(void **state)
{
	char *pname, *cname, *body, *path;
	json_t *j = NULL, *p = NULL;
	char pod_id[80], cid[80];
	long st;

	(void)state;
	if (!ts_engine_is_podman())
		skip();
	pname = unique_name("pod");
	cname = unique_name("member");
	body = pod_body(pname, ts_free_port());
	/* create: 201 with berth's labels and the caller's */
	st = req("POST", "/api/v1/pods", body, &j);
	if (st != 201)
		fail_msg("create pod: %ld %s", st,
		         ts_json_str(json_object_get(j, "error"), "message"));
	snprintf(pod_id, sizeof(pod_id), "%s", ts_json_str(j, "id"));
	assert_int_equal(strlen(pod_id), 64);
	assert_string_equal(ts_json_str(j, "name"), pname);
	assert_string_equal(
	    ts_json_str(json_object_get(j, "labels"), "berth.managed"), "true");
	assert_string_equal(ts_json_str(json_object_get(j, "labels"), "tier"),
	                    "web");
	assert_int_equal(json_array_size(json_object_get(j, "containers")), 0);
	json_decref(j);

	/* the same name again: 409, and still one pod of that name */
	j = NULL;
	assert_int_equal(req("POST", "/api/v1/pods", body, &j), 409);
	assert_string_equal(ts_error_code(j), "ALREADY_EXISTS");
	json_decref(j);

	/* a container joins through spec.pod */
	create_member(pname, cname,
	              "\"command\":[\"sh\",\"-c\",\"trap 'exit 0' TERM; "
	              "while true; do sleep 0.2; done\"]",
	              cid);

	/* start the pod: its container runs, and says which pod it is in */
	path = berth_asprintf("/api/v1/pods/%s/start", pname);
	assert_int_equal(req("POST", path, NULL, NULL), 204);
	assert_int_equal(req("POST", path, NULL, NULL), 204); /* again: ok */
	free(path);
	j = await_state(cid, "running");
	assert_string_equal(ts_json_str(j, "pod"), pname);
	json_decref(j);

	/* list by label shows it, running, with its container (the infra
	 * container is the engine's, not listed) */
	run_pods(pname, &p);
	assert_non_null(p);
	assert_string_equal(ts_json_str(p, "id"), pod_id);
	assert_string_equal(ts_json_str(p, "status"), "Running");
	assert_int_equal(json_array_size(json_object_get(p, "containers")), 1);
	assert_true(has_string(json_object_get(p, "containers"), cid));
	json_decref(p);
	/* a label that no pod of ours has selects nothing of ours */
	path = berth_asprintf("/api/v1/pods?label=berth-test=%s"
	                      "&label=tier=none",
	                      ts_run_label());
	j = NULL;
	assert_int_equal(req("GET", path, NULL, &j), 200);
	assert_int_equal(json_array_size(json_object_get(j, "pods")), 0);
	json_decref(j);
	free(path);

	/* inspect by id */
	path = berth_asprintf("/api/v1/pods/%s", pod_id);
	j = NULL;
	assert_int_equal(req("GET", path, NULL, &j), 200);
	assert_string_equal(ts_json_str(j, "name"), pname);
	assert_true(has_string(json_object_get(j, "containers"), cid));
	json_decref(j);
	free(path);

	/* stop: the container stops with it */
	path = berth_asprintf("/api/v1/pods/%s/stop", pname);
	assert_int_equal(req("POST", path, NULL, NULL), 204);
	assert_int_equal(req("POST", path, NULL, NULL), 204); /* again: ok */
	free(path);
	json_decref(await_state(cid, "exited"));

	/* remove with force: the pod and its container are gone */
	path = berth_asprintf("/api/v1/pods/%s?force=1", pname);
	assert_int_equal(req("DELETE", path, NULL, NULL), 204);
	assert_int_equal(req("DELETE", path, NULL, NULL), 404);
	free(path);
	path = berth_asprintf("/api/v1/pods/%s", pname);
	assert_int_equal(req("GET", path, NULL, NULL), 404);
	free(path);
	/* (the container's removal reaches the runtime's cache as an
	 * engine event: give it a moment) */
	path = berth_asprintf("/api/v1/containers/%s", cid);
	for (int i = 0; i < 100 && req("GET", path, NULL, NULL) != 404; i++)
		usleep(50 * 1000);
	assert_int_equal(req("GET", path, NULL, NULL), 404);
	free(path);
	run_pods(pname, &p);
	assert_null(p);

	free(body);
	free(cname);
	free(pname);
}

/* A container cannot join a pod that does not exist, nor bring its own
 * ports into one; and a resent create (same Idempotency-Key) gives the
 * first pod, not a conflict. */
static void test_pod_refusals_and_resend(void **state)
{
	const char *hdr[] = { NULL, NULL };
	char *pname, *body, *key, *cbody, *path;
	json_t *a = NULL, *b = NULL, *j = NULL;

	(void)state;
	if (!ts_engine_is_podman())
		skip();
	pname = unique_name("resend");
	body = berth_asprintf("{\"name\":\"%s\",\"labels\":{"
	                      "\"berth-test\":\"%s\"}}",
	                      pname, ts_run_label());
	key = berth_asprintf("Idempotency-Key: pods-%ld-%lld", (long)getpid(),
	                     (long long)ts_now_ms());
	hdr[0] = key;
	assert_int_equal(ts_http(berth.base, "POST", "/api/v1/pods", body,
	                         berth.token, hdr, &a),
	                 201);
	assert_int_equal(ts_http(berth.base, "POST", "/api/v1/pods", body,
	                         berth.token, hdr, &b),
	                 201);
	assert_string_equal(ts_json_str(a, "id"), ts_json_str(b, "id"));

	cbody
	    = berth_asprintf("{\"image\":\"%s\",\"pod\":\"it-no-such-pod-%ld\","
	                     "\"labels\":{\"berth-test\":\"%s\"}}",
	                     ts_test_image(), (long)getpid(), ts_run_label());
	assert_int_equal(req("POST", "/api/v1/containers", cbody, &j), 404);
	json_decref(j);
	free(cbody);
	cbody = berth_asprintf("{\"image\":\"%s\",\"pod\":\"%s\","
	                       "\"ports\":{\"0\":\"80\"},"
	                       "\"labels\":{\"berth-test\":\"%s\"}}",
	                       ts_test_image(), pname, ts_run_label());
	j = NULL;
	assert_int_equal(req("POST", "/api/v1/containers", cbody, &j), 400);
	assert_non_null(strstr(
	    ts_json_str(json_object_get(j, "error"), "message"), "ports"));
	json_decref(j);
	free(cbody);

	path = berth_asprintf("/api/v1/pods/%s", pname);
	assert_int_equal(req("DELETE", path, NULL, NULL), 204);
	free(path);
	json_decref(a);
	json_decref(b);
	free(key);
	free(body);
	free(pname);
}

/*
 * A container in a pod with a health check that gives no timeout: libpod
 * takes a zero as given (every probe then "exceeded timeout of 0s"), so
 * the driver fills in Docker's defaults as the compatible API does; and
 * with no systemd here the runtime's health driver runs the probes, so
 * the container becomes healthy.
 */
static void test_in_pod_health_check(void **state)
{
	char *pname, *cname, *body, *path;
	json_t *j = NULL, *hc;
	char cid[80];
	const char *status = "";

	(void)state;
	if (!ts_engine_is_podman())
		skip();
	pname = unique_name("health");
	cname = unique_name("probed");
	body = berth_asprintf("{\"name\":\"%s\",\"labels\":{"
	                      "\"berth-test\":\"%s\"}}",
	                      pname, ts_run_label());
	assert_int_equal(req("POST", "/api/v1/pods", body, NULL), 201);
	create_member(pname, cname,
	              "\"command\":[\"sleep\",\"60\"],"
	              "\"health\":{\"test\":[\"CMD-SHELL\",\"true\"],"
	              "\"interval_ms\":200}",
	              cid);
	path = berth_asprintf("/api/v1/containers/%s/start", cid);
	assert_int_equal(req("POST", path, NULL, NULL), 204);
	free(path);

	/* The engine's own record: 30 s timeout, 3 retries. */
	path = berth_asprintf("/api/v1/containers/%s", cid);
	assert_int_equal(req("GET", path, NULL, &j), 200);
	hc = json_object_get(j, "health");
	assert_int_equal(json_integer_value(json_object_get(hc, "timeout_ms")),
	                 30000);
	assert_int_equal(json_integer_value(json_object_get(hc, "retries")), 3);
	assert_int_equal(json_integer_value(json_object_get(hc, "interval_ms")),
	                 200);
	/* Healthy within a few probes (bounded: 10 s). */
	for (int64_t end = ts_now_ms() + 10000; ts_now_ms() < end;) {
		json_decref(j);
		j = NULL;
		assert_int_equal(req("GET", path, NULL, &j), 200);
		status = ts_json_str(j, "health_status");
		if (strcmp(status, "healthy") == 0)
			break;
		usleep(100 * 1000);
	}
	assert_string_equal(status, "healthy");
	json_decref(j);
	free(path);

	path = berth_asprintf("/api/v1/pods/%s?force=1", pname);
	assert_int_equal(req("DELETE", path, NULL, NULL), 204);
	free(path);
	free(body);
	free(cname);
	free(pname);
}

/*
 * The in-pod create path (libpod's SpecGenerator) passes the same checks
 * as every other create, over nng where no gateway checked first: a bad
 * env key, and strings that are not UTF-8 (which JSON cannot carry: a
 * dropped value would change what runs), are INVALID_ARGUMENT naming the
 * field, and nothing is created. On Docker the same specs are refused
 * too (a pod needs Podman, and the checks come first).
 */
static void test_in_pod_create_checks_over_nng(void **state)
{
	const char *url = "inproc://berth-itest-pods";
	struct berth_engine_config cfg = { 0 };
	struct berth_runtime_opts o = { 0 };
	struct berth_runtime *rt = NULL;
	struct berth_rpc_client *cli = NULL;
	struct berth_engine *eng = NULL;
	struct berth_err err;
	char *dir = ts_tmpdir("pods-runtime");
	char *pname = unique_name("checks"), *pbody = NULL, *path = NULL;
	char bad_value[] = "s3cr\xff\xfet";
	char bad_label[] = "web\xc3";
	char bad_arg[] = "\xe2\x82";
	char *cmd_ok[] = { "true" };
	char *cmd_bad[] = { "echo", bad_arg };
	static const char *const fields[]
	    = { "env", "env", "labels", "command" };
	json_t *pod = NULL;

	(void)state;
	cfg.runtime = ts_engine_runtime();
	cfg.socket_path = ts_docker_socket();
	assert_ok(berth_engine_open(&eng, &cfg, &err), &err);
	o.data_dir = dir;
	o.url = url;
	o.workers = 2;
	o.engine = cfg;
	assert_ok(berth_runtime_start(&rt, &o, &err), &err);
	assert_ok(berth_rpc_client_alloc(&cli, &url, 1, NULL, &err), &err);
	if (ts_engine_is_podman()) {
		pbody = berth_asprintf("{\"name\":\"%s\",\"labels\":{"
		                       "\"berth-test\":\"%s\"}}",
		                       pname, ts_run_label());
		assert_int_equal(req("POST", "/api/v1/pods", pbody, NULL), 201);
	}
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		Berth__V1__ContainerSpec spec = BERTH__V1__CONTAINER_SPEC__INIT;
		Berth__V1__CreateContainerRequest in
		    = BERTH__V1__CREATE_CONTAINER_REQUEST__INIT;
		Berth__V1__KeyValue env = BERTH__V1__KEY_VALUE__INIT;
		Berth__V1__KeyValue lab = BERTH__V1__KEY_VALUE__INIT;
		Berth__V1__KeyValue *envs[] = { &env }, *labs[] = { &lab };
		Berth__V1__ContainerDetail *d = NULL;
		struct berth_rpc_opts ro = { 0 };
		ProtobufCMessage *rep = NULL;
		char *cname = unique_name("in-pod");
		int rv;

		spec.image = (char *)ts_test_image();
		spec.name = cname;
		spec.pod = pname;
		spec.command = cmd_ok;
		spec.n_command = 1;
		spec.env = envs;
		spec.n_env = 1;
		spec.labels = labs;
		spec.n_labels = 1;
		env.key = (char *)"GREETING";
		env.value = (char *)"hello";
		lab.key = (char *)"berth-test";
		lab.value = (char *)ts_run_label();
		switch (i) {
		case 0: env.key = (char *)"BAD=KEY"; break;
		case 1: env.value = bad_value; break;
		case 2:
			lab.key = (char *)"tier";
			lab.value = bad_label;
			break;
		default:
			spec.command = cmd_bad;
			spec.n_command = 2;
			break;
		}
		in.spec = &spec;
		ro.timeout_ms = 10000;
		berth_err_clear(&err);
		rv = berth_rpc_call(cli, &berth__v1__runtime__descriptor,
		                    "CreateContainer", &in.base, &rep, &ro,
		                    &err);
		if (rep != NULL)
			protobuf_c_message_free_unpacked(rep, NULL);
		if (rv != BERTH_EINVAL)
			fail_msg(
			    "case %zu: code %d (%s), want INVALID_ARGUMENT", i,
			    rv, err.msg);
		if (strstr(err.msg, fields[i]) == NULL)
			fail_msg("case %zu: \"%s\" does not name %s", i,
			         err.msg, fields[i]);
		/* The value may be a secret: never in the message. */
		assert_null(strstr(err.msg, "s3cr"));
		/* Nothing made: the engine does not know the name. */
		assert_int_equal(
		    berth_engine_container_inspect(eng, cname, &d, &err),
		    BERTH_ENOTFOUND);
		free(cname);
	}
	if (ts_engine_is_podman()) {
		/* The driver's own check, for callers of the library that
		 * skip the runtime's: the same key straight to the engine. */
		Berth__V1__ContainerSpec spec = BERTH__V1__CONTAINER_SPEC__INIT;
		Berth__V1__KeyValue env = BERTH__V1__KEY_VALUE__INIT;
		Berth__V1__KeyValue *envs[] = { &env };
		Berth__V1__ContainerDetail *d = NULL;
		char *cname = unique_name("in-pod-lib"), *cid = NULL;

		spec.image = (char *)ts_test_image();
		spec.name = cname;
		spec.pod = pname;
		spec.env = envs;
		spec.n_env = 1;
		env.key = (char *)"BAD=KEY";
		env.value = (char *)"x";
		assert_int_equal(berth_engine_container_create(eng, &spec, NULL,
		                                               0, &cid, &err),
		                 BERTH_EINVAL);
		assert_non_null(strstr(err.msg, "env[0].key"));
		assert_null(cid);
		assert_int_equal(
		    berth_engine_container_inspect(eng, cname, &d, &err),
		    BERTH_ENOTFOUND);
		free(cname);

		path = berth_asprintf("/api/v1/pods/%s", pname);
		assert_int_equal(req("GET", path, NULL, &pod), 200);
		assert_int_equal(
		    json_array_size(json_object_get(pod, "container_ids")), 0);
		json_decref(pod);
		free(path);
		path = berth_asprintf("/api/v1/pods/%s?force=1", pname);
		assert_int_equal(req("DELETE", path, NULL, NULL), 204);
	}
	berth_rpc_client_free(cli);
	berth_runtime_stop(rt);
	berth_engine_free(eng);
	ts_rmtree(dir);
	free(dir);
	free(path);
	free(pbody);
	free(pname);
}

/*
 * A pod's start checks the bind sources of the containers berth made in
 * it, as a container's own start does: a source swapped for a symlink
 * that leads out of SafeLocalPaths refuses the start (403) and nothing
 * runs; with the folder back, the pod starts.
 */
static void test_pod_start_rechecks_binds(void **state)
{
	char *pname, *cname, *body, *cbody, *path;
	char *src = NULL, *aside = NULL, *outside = NULL;
	json_t *j = NULL;
	char cid[80];

	(void)state;
	if (!ts_engine_is_podman())
		skip();
	src = berth_asprintf("%s/src", safe_root);
	aside = berth_asprintf("%s/src-aside", safe_root);
	outside = ts_tmpdir("integpods-out");
	assert_int_equal(mkdir(src, 0755), 0);
	pname = unique_name("pod");
	cname = unique_name("bound");
	body = pod_body(pname, ts_free_port());
	assert_int_equal(req("POST", "/api/v1/pods", body, NULL), 201);
	cbody = berth_asprintf(
	    "\"command\":[\"sleep\",\"300\"],"
	    "\"mounts\":[{\"source\":\"%s\",\"target\":\"/data\","
	    "\"type\":\"bind\"}]",
	    src);
	create_member(pname, cname, cbody, cid);

	assert_int_equal(rename(src, aside), 0);
	assert_int_equal(symlink(outside, src), 0);
	path = berth_asprintf("/api/v1/pods/%s/start", pname);
	j = NULL;
	assert_int_equal(req("POST", path, NULL, &j), 403);
	assert_non_null(
	    strstr(ts_json_str(json_object_get(j, "error"), "message"),
	           "mounts[0].source"));
	json_decref(j);
	j = await_state(cid, "created");
	json_decref(j);

	assert_int_equal(unlink(src), 0);
	assert_int_equal(rename(aside, src), 0);
	assert_int_equal(req("POST", path, NULL, NULL), 204);
	j = await_state(cid, "running");
	json_decref(j);
	free(path);

	path = berth_asprintf("/api/v1/pods/%s?force=1", pname);
	assert_int_equal(req("DELETE", path, NULL, NULL), 204);
	free(path);
	ts_rmtree(outside);
	free(outside);
	free(aside);
	free(src);
	free(cbody);
	free(body);
	free(cname);
	free(pname);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_input_creates_nothing),
		cmocka_unit_test(test_docker_says_unimplemented),
		cmocka_unit_test(test_pod_lifecycle),
		cmocka_unit_test(test_pod_refusals_and_resend),
		cmocka_unit_test(test_in_pod_create_checks_over_nng),
		cmocka_unit_test(test_in_pod_health_check),
		cmocka_unit_test(test_pod_start_rechecks_binds),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
