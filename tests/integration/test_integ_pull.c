/*
 * test_integ_pull.c: image pulls as durable jobs, end to end: REST on the
 * real `berth serve` all-in-one, the real engine, and a private
 * docker-registry on loopback (tests/support/registry.h) holding an image
 * the engine does not have.
 *
 * Proves: a pull job goes queued/running to succeeded with the image id
 * as its result and progress 100, and the image then runs as a container;
 * a tag the registry lacks fails the job with NOT_FOUND naming the image;
 * one Idempotency-Key gives one job. The pulled image, the containers and
 * the registry's directory are removed at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/alloc.h"
#include "tests/support/berthproc.h"
#include "tests/support/registry.h"
#include "tests/support/testsupport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IMAGE_MIB   8
#define JOB_WAIT_MS 60000

static struct ts_berth berth;
static struct ts_registry reg;
static char *ref;     /* in the registry, not on the engine at start */
static char *want_id; /* the id a pull of `ref` gives */
static char *missing; /* same repository, a tag the registry lacks */
static char *ctr;     /* the container made from the pulled image */

static int setup(void **state)
{
	char *name = berth_asprintf("berth-test/pull-%ld", (long)getpid());
	int rv;

	(void)state;
	rv = ts_registry_start(&reg);
	if (rv == 0)
		rv = ts_registry_put_random_image(&reg, name, "1", IMAGE_MIB,
		                                  &ref, &want_id);
	if (rv == 0) {
		missing = berth_asprintf("%s/%s:no-such-tag", reg.host, name);
		rv = ts_berth_start(&berth, NULL, 0, NULL);
	}
	free(name);
	return rv;
}

static int teardown(void **state)
{
	int rv;

	(void)state;
	if (ctr != NULL) {
		char *path
		    = berth_asprintf("/api/v1/containers/%s?force=1", ctr);
		json_t *j = NULL;

		ts_http(berth.base, "DELETE", path, NULL, berth.token, NULL,
		        &j);
		json_decref(j);
		free(path);
		free(ctr);
		ctr = NULL;
	}
	rv = ts_berth_stop(&berth);
	/* Untags (and so removes) the pulled image, stops the registry. */
	ts_registry_stop(&reg);
	free(missing);
	free(want_id);
	free(ref);
	return rv;
}

static long req(const char *method, const char *path, const char *body,
                const char *const *headers, json_t **out)
{
	return ts_http(berth.base, method, path, body, berth.token, headers,
	               out);
}

static char *pull_body(const char *image)
{
	return berth_asprintf("{\"image\":\"%s\"}", image);
}

static bool is_state(const char *s, const char *a, const char *b)
{
	return strcmp(s, a) == 0 || (b != NULL && strcmp(s, b) == 0);
}

/*
 * Polls GET /api/v1/jobs/{id} until the job leaves queued/running (at most
 * JOB_WAIT_MS). Every state seen must be queued, running or the final one;
 * `*saw_active` tells whether queued or running was seen. Returns the last
 * reply (caller owns: json_decref()).
 */
static json_t *wait_job(const char *id, bool *saw_active)
{
	char *path = berth_asprintf("/api/v1/jobs/%s", id);
	int64_t until = ts_now_ms() + JOB_WAIT_MS;
	json_t *j = NULL;

	*saw_active = false;
	for (int i = 0; i < JOB_WAIT_MS / 20; i++) {
		const char *s;

		j = NULL;
		assert_int_equal(req("GET", path, NULL, NULL, &j), 200);
		assert_string_equal(ts_json_str(j, "id"), id);
		s = ts_json_str(j, "state");
		if (!is_state(s, "queued", "running"))
			break;
		*saw_active = true;
		json_decref(j);
		j = NULL;
		if (ts_now_ms() > until)
			break;
		usleep(20 * 1000);
	}
	free(path);
	if (j == NULL)
		fail_msg("job %s did not end within %d ms", id, JOB_WAIT_MS);
	return j;
}

static void test_pull_then_run(void **state)
{
	char *body = pull_body(ref);
	char *name, *create, *path, *id;
	json_t *j = NULL, *job;
	bool active;
	char *engine_id = NULL;

	(void)state;
	assert_int_equal(ts_engine_image_id(ref, NULL), 0);

	assert_int_equal(req("POST", "/api/v1/images/pull", body, NULL, &j),
	                 202);
	id = berth_strdup(ts_json_str(j, "id"));
	assert_int_equal(strlen(id), 36);
	assert_true(is_state(ts_json_str(j, "state"), "queued", "running"));
	json_decref(j);

	job = wait_job(id, &active);
	if (strcmp(ts_json_str(job, "state"), "succeeded") != 0) {
		char *dump = json_dumps(job, 0);

		fail_msg("pull job did not succeed: %s", dump);
	}
	assert_string_equal(ts_json_str(job, "result"), want_id);
	assert_int_equal(json_integer_value(json_object_get(job, "progress")),
	                 100);
	assert_true(json_is_null(json_object_get(job, "error")));
	json_decref(job);

	/* The engine has it now, under the reference, with that id. */
	assert_int_equal(ts_engine_image_id(ref, &engine_id), 1);
	assert_string_equal(engine_id, want_id);
	free(engine_id);

	/* It runs. */
	name = berth_asprintf("it-pull-%s-%ld", ts_run_label(), (long)getpid());
	create = berth_asprintf(
	    "{\"image\":\"%s\",\"name\":\"%s\",\"command\":\"sleep 300\","
	    "\"labels\":{\"berth-test\":\"%s\"}}",
	    ref, name, ts_run_label());
	assert_int_equal(req("POST", "/api/v1/containers", create, NULL, &j),
	                 201);
	ctr = berth_strdup(ts_json_str(j, "id"));
	json_decref(j);
	path = berth_asprintf("/api/v1/containers/%s/start", ctr);
	assert_int_equal(req("POST", path, NULL, NULL, &j), 204);
	json_decref(j);
	free(path);
	path = berth_asprintf("/api/v1/containers/%s", ctr);
	assert_int_equal(req("GET", path, NULL, NULL, &j), 200);
	assert_string_equal(ts_json_str(j, "state"), "running");
	assert_string_equal(ts_json_str(j, "image"), ref);
	json_decref(j);
	free(path);

	path = berth_asprintf("/api/v1/containers/%s?force=1", ctr);
	assert_int_equal(req("DELETE", path, NULL, NULL, &j), 204);
	json_decref(j);
	free(path);
	free(ctr);
	ctr = NULL;

	free(create);
	free(name);
	free(id);
	free(body);
}

static void test_missing_tag_fails_not_found(void **state)
{
	char *body = pull_body(missing);
	json_t *j = NULL, *job, *err;
	const char *msg;
	bool active;
	char *id;

	(void)state;
	assert_int_equal(req("POST", "/api/v1/images/pull", body, NULL, &j),
	                 202);
	id = berth_strdup(ts_json_str(j, "id"));
	json_decref(j);
	job = wait_job(id, &active);
	assert_string_equal(ts_json_str(job, "state"), "failed");
	assert_string_equal(ts_json_str(job, "result"), "");
	err = json_object_get(job, "error");
	assert_string_equal(ts_json_str(err, "code"), "NOT_FOUND");
	msg = ts_json_str(err, "message");
	if (strstr(msg, missing) == NULL)
		fail_msg("message does not name %s: %s", missing, msg);
	json_decref(job);
	assert_int_equal(ts_engine_image_id(missing, NULL), 0);
	free(id);
	free(body);
}

static void test_idempotency_key_gives_one_job(void **state)
{
	char *body = pull_body(ref);
	char hdr[128];
	const char *headers[] = { hdr, NULL };
	json_t *j = NULL, *job;
	bool active;
	char *id;

	(void)state;
	snprintf(hdr, sizeof(hdr), "Idempotency-Key: it-pull-%ld-%s",
	         (long)getpid(), ts_run_label());
	assert_int_equal(req("POST", "/api/v1/images/pull", body, headers, &j),
	                 202);
	id = berth_strdup(ts_json_str(j, "id"));
	json_decref(j);
	assert_int_equal(req("POST", "/api/v1/images/pull", body, headers, &j),
	                 202);
	assert_string_equal(ts_json_str(j, "id"), id);
	json_decref(j);

	/* Without the key it is another job. */
	assert_int_equal(req("POST", "/api/v1/images/pull", body, NULL, &j),
	                 202);
	assert_string_not_equal(ts_json_str(j, "id"), id);
	json_decref(wait_job(ts_json_str(j, "id"), &active));
	json_decref(j);

	job = wait_job(id, &active);
	assert_string_equal(ts_json_str(job, "state"), "succeeded");
	assert_string_equal(ts_json_str(job, "result"), want_id);
	json_decref(job);
	free(id);
	free(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pull_then_run),
		cmocka_unit_test(test_missing_tag_fails_not_found),
		cmocka_unit_test(test_idempotency_key_gives_one_job),
	};

	return cmocka_run_group_tests_name("pull", tests, setup, teardown);
}
