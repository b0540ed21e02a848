/*
 * test_integ_scaleout.c: several runtime instances behind one address.
 *
 * The gateway listens on a tcp:// address (--runtime-listen); two
 * runtime processes dial it (--dial) and share one store. nng spreads
 * calls over both; when one is killed the other keeps answering, and a
 * job created through one is readable through the other.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/alloc.h"
#include "tests/support/berthproc.h"
#include "tests/support/testsupport.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* GET /api/v1/containers until it answers 200, at most `ms`. */
static long wait_ok(const struct ts_berth *gw, int ms)
{
	int64_t until = ts_now_ms() + ms;
	long code = 0;

	while (ts_now_ms() < until) {
		json_t *j = NULL;

		code = ts_http(gw->base, "GET", "/api/v1/containers?all=1",
		               NULL, gw->token, NULL, &j);
		json_decref(j);
		if (code == 200)
			break;
		usleep(100 * 1000);
	}
	return code;
}

/* Polls /readyz until the gateway sees `want` runtime instances (at most
 * 5 s); returns the last count. */
static json_int_t wait_instances(const struct ts_berth *gw, json_int_t want)
{
	json_int_t n = -1;

	for (int i = 0; i < 50 && n != want; i++) {
		json_t *j = NULL;

		ts_http(gw->base, "GET", "/readyz", NULL, gw->token, NULL, &j);
		n = json_integer_value(json_object_get(
		    json_object_get(json_object_get(j, "services"), "runtime"),
		    "instances"));
		json_decref(j);
		if (n != want)
			usleep(100 * 1000);
	}
	return n;
}

static void test_two_runtimes_behind_one_address(void **state)
{
	char *dir = ts_tmpdir("scale");
	char *rt_data = berth_asprintf("%s/runtime", dir);
	char *url = berth_asprintf("tcp://127.0.0.1:%d", ts_free_port());
	const char *gw_args[] = { "--role", "gateway",          "--runtime-url",
		                  url,      "--runtime-listen", NULL };
	struct ts_berth gw, a, b;
	json_t *j = NULL;
	char *job_id, *path;

	(void)state;
	assert_int_equal(ts_berth_start(&gw, NULL, 0, gw_args), 0);
	assert_int_equal(ts_berth_start_runtime_dial(&a, rt_data, url, true),
	                 0);
	assert_int_equal(ts_berth_start_runtime_dial(&b, rt_data, url, true),
	                 0);
	assert_int_equal(wait_ok(&gw, 10000), 200);
	/* Both instances are connected behind the one address. */
	assert_int_equal(wait_instances(&gw, 2), 2);

	/* A job made through whichever instance nng picked. */
	assert_int_equal(ts_http(gw.base, "POST", "/api/v1/images/pull",
	                         "{\"image\":\"berth-test/scale:1\"}", gw.token,
	                         NULL, &j),
	                 202);
	job_id = berth_strdup(ts_json_str(j, "id"));
	json_decref(j);

	/* Either instance may die: the other keeps serving, and sees the
	 * same jobs because they share the store. */
	assert_int_equal(ts_berth_kill(&a, SIGKILL) != -1, 1);
	assert_int_equal(wait_instances(&gw, 1), 1);
	path = berth_asprintf("/api/v1/jobs/%s", job_id);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(wait_ok(&gw, 5000), 200);
		assert_int_equal(
		    ts_http(gw.base, "GET", path, NULL, gw.token, NULL, &j),
		    200);
		assert_string_equal(ts_json_str(j, "id"), job_id);
		json_decref(j);
	}

	assert_int_equal(ts_berth_stop(&gw), 0);
	assert_int_equal(ts_berth_stop(&b), 0);
	ts_berth_stop(&a);
	ts_rmtree(dir);
	free(path);
	free(job_id);
	free(url);
	free(rt_data);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_runtimes_behind_one_address),
	};

	return cmocka_run_group_tests_name("scaleout", tests, NULL, NULL);
}
