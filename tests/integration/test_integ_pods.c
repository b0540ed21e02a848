/*
 * test_integ_pods.c: pods end to end over REST, through the real
 * `berth serve` against the engine under test.
 *
 * On Podman: create with labels and a port, a container joining the pod
 * through spec.pod, start, list (by label) with its container, inspect,
 * stop, remove with force; a duplicate name is 409 and a bad body 400
 * with nothing created. On Docker every pod route is 501 UNIMPLEMENTED
 * with a message that says pods need Podman (bad input is still 400).
 *
 * Pods and containers made here carry berth-test=<run>; teardown
 * force-removes them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/alloc.h"
#include "tests/support/berthproc.h"
#include "tests/support/testsupport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct ts_berth berth;
static int name_seq;

static int setup(void **state)
{
	(void)state;
	return ts_berth_start(&berth, NULL, 0, NULL);
}

static int teardown(void **state)
{
	(void)state;
	return ts_berth_stop(&berth);
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
	char *pname, *cname, *body, *cbody, *path;
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
	cbody
	    = berth_asprintf("{\"image\":\"%s\",\"name\":\"%s\",\"pod\":\"%s\","
	                     "\"command\":[\"sh\",\"-c\",\"trap 'exit 0' TERM; "
	                     "while true; do sleep 0.2; done\"],"
	                     "\"labels\":{\"berth-test\":\"%s\"}}",
	                     ts_test_image(), cname, pname, ts_run_label());
	j = NULL;
	st = req("POST", "/api/v1/containers", cbody, &j);
	if (st != 201)
		fail_msg("create member: %ld %s", st,
		         ts_json_str(json_object_get(j, "error"), "message"));
	snprintf(cid, sizeof(cid), "%s", ts_json_str(j, "id"));
	json_decref(j);

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

	free(cbody);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_input_creates_nothing),
		cmocka_unit_test(test_docker_says_unimplemented),
		cmocka_unit_test(test_pod_lifecycle),
		cmocka_unit_test(test_pod_refusals_and_resend),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
