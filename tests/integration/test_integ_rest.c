/*
 * test_integ_rest.c: seed 001's REST API end to end, through the real
 * `berth serve` all-in-one (gateway + runtime over inproc://) against the
 * real Docker engine the harness prepared.
 *
 * Every container made here is labelled berth-test=<run> and carries a
 * name with the run's label in it; teardown force-removes them.
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
#include <time.h>
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
	return ts_http(berth.base, method, path, body, berth.token, NULL, out);
}

/* A container name unique to this run and call. */
static char *unique_name(const char *what)
{
	return berth_asprintf("it-%s-%ld-%d-%s", ts_run_label(), (long)getpid(),
	                      ++name_seq, what);
}

/* The JSON body of a create request for the test image. */
static char *create_body(const char *name, const char *command)
{
	return berth_asprintf(
	    "{\"image\":\"%s\",\"name\":\"%s\",\"command\":\"%s\","
	    "\"ports\":{\"0\":\"80\"},"
	    "\"environment\":{\"ENV\":\"production\"},"
	    "\"restart_policy\":\"unless-stopped\","
	    "\"labels\":{\"berth-test\":\"%s\"}}",
	    ts_test_image(), name, command, ts_run_label());
}

static void remove_container(const char *id)
{
	char *path = berth_asprintf("/api/v1/containers/%s?force=1", id);
	json_t *j = NULL;

	req("DELETE", path, NULL, &j);
	json_decref(j);
	free(path);
}

static const char *container_state(const char *id, json_t **holder)
{
	char *path = berth_asprintf("/api/v1/containers/%s", id);
	long st = req("GET", path, NULL, holder);

	free(path);
	assert_int_equal(st, 200);
	return ts_json_str(*holder, "state");
}

/* POST /containers/{id}/<action> answers 204 and leaves `state`. */
static void act_then_state(const char *id, const char *action,
                           const char *state)
{
	char *path = berth_asprintf("/api/v1/containers/%s/%s", id, action);
	json_t *j = NULL, *h = NULL;

	assert_int_equal(req("POST", path, NULL, &j), 204);
	json_decref(j);
	free(path);
	assert_string_equal(container_state(id, &h), state);
	json_decref(h);
}

static void test_healthz_needs_no_token_but_api_does(void **state)
{
	json_t *j = NULL;
	long st;

	(void)state;
	st = ts_http(berth.base, "GET", "/healthz", NULL, NULL, NULL, &j);
	assert_int_equal(st, 200);
	json_decref(j);

	st = ts_http(berth.base, "GET", "/api/v1/containers", NULL, NULL, NULL,
	             &j);
	assert_int_equal(st, 401);
	assert_string_equal(ts_error_code(j), "UNAUTHENTICATED");
	json_decref(j);

	st = ts_http(berth.base, "GET", "/api/v1/containers", NULL,
	             "berth_wrongtoken", NULL, &j);
	assert_int_equal(st, 401);
	/* The reply must not echo what was sent. */
	char *dump = json_dumps(j, 0);
	assert_null(strstr(dump, "wrongtoken"));
	free(dump);
	json_decref(j);

	st = req("GET", "/readyz", NULL, &j);
	assert_int_equal(st, 200);
	json_decref(j);
}

static void test_runtime_info_matches_seed(void **state)
{
	json_t *j = NULL;
	long st;

	(void)state;
	st = req("GET", "/api/v1/runtime/info", NULL, &j);
	assert_int_equal(st, 200);
	assert_string_equal(ts_json_str(j, "runtime"), ts_engine_runtime());
	assert_string_equal(ts_json_str(j, "socket_path"), ts_docker_socket());
	assert_true(json_is_boolean(json_object_get(j, "rootless")));
	assert_true(json_is_string(json_object_get(j, "build_dir")));
	json_decref(j);
}

static void test_seed_lifecycle(void **state)
{
	char *name = unique_name("life");
	char *body = create_body(name, "sleep 300");
	char *id = NULL, *path = NULL;
	json_t *j = NULL;
	long st;

	(void)state;
	st = req("POST", "/api/v1/containers", body, &j);
	assert_int_equal(st, 201);
	id = berth_strdup(ts_json_str(j, "id"));
	assert_true(strlen(id) >= 12);
	json_decref(j);

	/* The same request again: the same container, nothing new. */
	st = req("POST", "/api/v1/containers", body, &j);
	assert_int_equal(st, 200);
	assert_string_equal(ts_json_str(j, "id"), id);
	assert_false(json_is_true(json_object_get(j, "created")));
	json_decref(j);

	act_then_state(id, "start", "running");

	act_then_state(id, "stop?timeout=1", "exited");

	act_then_state(id, "restart?timeout=1", "running");

	/* It is listed, with its label. */
	path = berth_asprintf("/api/v1/containers?all=1&label=berth-test=%s",
	                      ts_run_label());
	assert_int_equal(req("GET", path, NULL, &j), 200);
	free(path);
	json_t *list = json_object_get(j, "containers");
	size_t i;
	json_t *c;
	bool found = false;
	json_array_foreach(list, i, c)
	{
		if (strcmp(ts_json_str(c, "id"), id) == 0)
			found = true;
	}
	assert_true(found);
	json_decref(j);

	path = berth_asprintf("/api/v1/containers/%s?force=1", id);
	assert_int_equal(req("DELETE", path, NULL, &j), 204);
	json_decref(j);
	free(path);

	path = berth_asprintf("/api/v1/containers/%s", id);
	assert_int_equal(req("GET", path, NULL, &j), 404);
	assert_string_equal(ts_error_code(j), "NOT_FOUND");
	json_decref(j);
	free(path);

	free(id);
	free(body);
	free(name);
}

static void test_duplicate_name_with_other_config_conflicts(void **state)
{
	char *name = unique_name("dup");
	char *body = create_body(name, "sleep 300");
	char *other = create_body(name, "sleep 301");
	json_t *j = NULL;
	char *id;

	(void)state;
	assert_int_equal(req("POST", "/api/v1/containers", body, &j), 201);
	id = berth_strdup(ts_json_str(j, "id"));
	json_decref(j);
	assert_int_equal(req("POST", "/api/v1/containers", other, &j), 409);
	assert_string_equal(ts_error_code(j), "ALREADY_EXISTS");
	json_decref(j);
	remove_container(id);
	free(id);
	free(body);
	free(other);
	free(name);
}

static void test_create_without_name_is_idempotent_by_key(void **state)
{
	char key[96], hdr[128];
	const char *headers[] = { hdr, NULL };
	char *body = berth_asprintf(
	    "{\"image\":\"%s\",\"command\":[\"sleep\",\"300\"],"
	    "\"labels\":{\"berth-test\":\"%s\"}}",
	    ts_test_image(), ts_run_label());
	char *other = berth_asprintf(
	    "{\"image\":\"%s\",\"command\":[\"sleep\",\"301\"],"
	    "\"labels\":{\"berth-test\":\"%s\"}}",
	    ts_test_image(), ts_run_label());
	json_t *j = NULL;
	char *id;

	(void)state;
	snprintf(key, sizeof(key), "create-%ld-%s", (long)getpid(),
	         ts_run_label());
	snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", key);
	assert_int_equal(ts_http(berth.base, "POST", "/api/v1/containers", body,
	                         berth.token, headers, &j),
	                 201);
	id = berth_strdup(ts_json_str(j, "id"));
	json_decref(j);
	/* A retry of the same request finds the container it made. */
	assert_int_equal(ts_http(berth.base, "POST", "/api/v1/containers", body,
	                         berth.token, headers, &j),
	                 200);
	assert_string_equal(ts_json_str(j, "id"), id);
	json_decref(j);
	/* The key of another request is refused, and makes nothing. */
	assert_int_equal(ts_http(berth.base, "POST", "/api/v1/containers",
	                         other, berth.token, headers, &j),
	                 409);
	assert_string_equal(ts_error_code(j), "FAILED_PRECONDITION");
	json_decref(j);
	remove_container(id);
	free(id);
	free(other);
	free(body);
}

static void test_sctp_port_passes_gateway_and_runtime(void **state)
{
	char *name = unique_name("sctp");
	char *body = berth_asprintf(
	    "{\"image\":\"%s\",\"name\":\"%s\",\"ports\":{\"0\":"
	    "\"9000/sctp\"},\"labels\":{\"berth-test\":\"%s\"}}",
	    ts_test_image(), name, ts_run_label());
	json_t *j = NULL;

	(void)state;
	/* Both layers check ports: they must agree on what is allowed.
	 * Podman 4.3 cannot publish sctp: its driver says so (501). */
	if (ts_engine_is_podman()) {
		assert_int_equal(req("POST", "/api/v1/containers", body, &j),
		                 501);
		assert_string_equal(ts_error_code(j), "UNIMPLEMENTED");
	} else {
		assert_int_equal(req("POST", "/api/v1/containers", body, &j),
		                 201);
		remove_container(ts_json_str(j, "id"));
	}
	json_decref(j);
	free(body);
	free(name);
}

static void test_unknown_image_is_not_found(void **state)
{
	char *body = berth_asprintf(
	    "{\"image\":\"berth-test/absent-%ld:1\",\"labels\":"
	    "{\"berth-test\":\"%s\"}}",
	    (long)getpid(), ts_run_label());
	json_t *j = NULL;
	json_t *j2 = NULL;
	char *path;

	(void)state;
	assert_int_equal(req("POST", "/api/v1/containers", body, &j), 404);
	assert_string_equal(ts_error_code(j), "NOT_FOUND");
	/* The message tells the person what to do. */
	assert_non_null(strstr(json_string_value(json_object_get(
	                           json_object_get(j, "error"), "message")),
	                       "pull"));
	json_decref(j);
	/* Nothing was left behind. */
	path = berth_asprintf("/api/v1/containers?all=1&label=berth-test=%s",
	                      ts_run_label());
	assert_int_equal(req("GET", path, NULL, &j2), 200);
	json_t *list = json_object_get(j2, "containers");
	size_t i;
	json_t *c;
	json_array_foreach(list, i, c)
	{
		assert_null(strstr(ts_json_str(c, "image"), "absent-"));
	}
	json_decref(j2);
	free(path);
	free(body);
}

static void test_bad_input_is_400_naming_the_field(void **state)
{
	json_t *j = NULL;
	const char *msg;

	(void)state;
	assert_int_equal(req("POST", "/api/v1/containers", "{\"image\":", &j),
	                 400);
	assert_string_equal(ts_error_code(j), "INVALID_ARGUMENT");
	json_decref(j);

	assert_int_equal(
	    req("POST", "/api/v1/containers", "{\"imagee\":\"x\"}", &j), 400);
	msg = json_string_value(
	    json_object_get(json_object_get(j, "error"), "message"));
	assert_non_null(msg);
	assert_non_null(strstr(msg, "imagee"));
	json_decref(j);

	assert_int_equal(
	    req("POST", "/api/v1/containers", "{\"image\":42}", &j), 400);
	msg = json_string_value(
	    json_object_get(json_object_get(j, "error"), "message"));
	assert_non_null(strstr(msg, "image"));
	json_decref(j);

	assert_int_equal(req("POST", "/api/v1/containers",
	                     "{\"image\":\"a\",\"image\":\"b\"}", &j),
	                 400);
	json_decref(j);

	assert_int_equal(
	    req("POST", "/api/v1/containers", "{\"image\":\"UPPER/Case\"}", &j),
	    400);
	json_decref(j);

	assert_int_equal(req("POST", "/api/v1/containers",
	                     "{\"image\":\"busybox\",\"environment\":"
	                     "{\"BAD-KEY\":\"x\"}}",
	                     &j),
	                 400);
	json_decref(j);
}

static void test_unknown_id_is_404(void **state)
{
	json_t *j = NULL;

	(void)state;
	assert_int_equal(req("POST",
	                     "/api/v1/containers/no-such-container-xyz/start",
	                     NULL, &j),
	                 404);
	assert_string_equal(ts_error_code(j), "NOT_FOUND");
	json_decref(j);
	assert_int_equal(
	    req("DELETE", "/api/v1/containers/no-such-container-xyz", NULL, &j),
	    404);
	json_decref(j);
	/* Characters outside the allow-list never reach a service. */
	assert_int_equal(
	    req("POST", "/api/v1/containers/bad%20id/start", NULL, &j), 400);
	json_decref(j);
}

/* Polls a job until it leaves queued/running, for at most `ms`. */
static json_t *wait_job(const char *id, int ms)
{
	char *path = berth_asprintf("/api/v1/jobs/%s", id);
	json_t *j = NULL;
	int64_t until = ts_now_ms() + ms;

	while (ts_now_ms() < until) {
		long st = req("GET", path, NULL, &j);

		assert_int_equal(st, 200);
		const char *s = ts_json_str(j, "state");
		if (strcmp(s, "queued") != 0 && strcmp(s, "running") != 0)
			break;
		json_decref(j);
		j = NULL;
		usleep(200 * 1000);
	}
	free(path);
	return j;
}

static void test_pull_of_missing_image_fails_as_a_job(void **state)
{
	const char *body = "{\"image\":\"berth-test/does-not-exist:1\"}";
	json_t *j = NULL, *job;
	char *id;

	(void)state;
	assert_int_equal(req("POST", "/api/v1/images/pull", body, &j), 202);
	id = berth_strdup(ts_json_str(j, "id"));
	assert_int_equal(strlen(id), 36);
	json_decref(j);
	job = wait_job(id, 60000);
	assert_non_null(job);
	assert_string_equal(ts_json_str(job, "state"), "failed");
	const char *code = ts_json_str(json_object_get(job, "error"), "code");
	assert_true(strcmp(code, "NOT_FOUND") == 0
	            || strcmp(code, "UNAVAILABLE") == 0);
	/* The engine's resolver error loses the host's DNS server address. */
	const char *msg = ts_json_str(json_object_get(job, "error"), "message");
	assert_non_null(strstr(msg, "berth-test/does-not-exist:1"));
	assert_null(strstr(msg, ":53:"));
	json_decref(job);
	free(id);
}

static void test_idempotency_key(void **state)
{
	char key[96], hdr[128];
	const char *headers[] = { hdr, NULL };
	json_t *j = NULL;
	char *id;

	(void)state;
	snprintf(key, sizeof(key), "it-%ld-%s", (long)getpid(), ts_run_label());
	snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", key);
	assert_int_equal(ts_http(berth.base, "POST", "/api/v1/images/pull",
	                         "{\"image\":\"berth-test/idem:1\"}",
	                         berth.token, headers, &j),
	                 202);
	id = berth_strdup(ts_json_str(j, "id"));
	json_decref(j);
	assert_int_equal(ts_http(berth.base, "POST", "/api/v1/images/pull",
	                         "{\"image\":\"berth-test/idem:1\"}",
	                         berth.token, headers, &j),
	                 202);
	assert_string_equal(ts_json_str(j, "id"), id);
	json_decref(j);
	/* The same key for another request is refused. */
	assert_int_equal(ts_http(berth.base, "POST", "/api/v1/images/pull",
	                         "{\"image\":\"berth-test/idem:2\"}",
	                         berth.token, headers, &j),
	                 409);
	assert_string_equal(ts_error_code(j), "FAILED_PRECONDITION");
	json_decref(j);
	json_decref(wait_job(id, 60000));
	free(id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_healthz_needs_no_token_but_api_does),
		cmocka_unit_test(test_runtime_info_matches_seed),
		cmocka_unit_test(test_seed_lifecycle),
		cmocka_unit_test(
		    test_duplicate_name_with_other_config_conflicts),
		cmocka_unit_test(test_create_without_name_is_idempotent_by_key),
		cmocka_unit_test(test_sctp_port_passes_gateway_and_runtime),
		cmocka_unit_test(test_unknown_image_is_not_found),
		cmocka_unit_test(test_bad_input_is_400_naming_the_field),
		cmocka_unit_test(test_unknown_id_is_404),
		cmocka_unit_test(test_pull_of_missing_image_fails_as_a_job),
		cmocka_unit_test(test_idempotency_key),
	};

	return cmocka_run_group_tests_name("rest", tests, setup, teardown);
}
