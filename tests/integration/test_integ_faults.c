/*
 * test_integ_faults.c: berth under faults, through REST, with the
 * gateway and the runtime as separate processes over ipc://.
 *
 * - the runtime killed with SIGKILL right after it accepted a job: after
 *   a restart the job ends (succeeded, or failed with a reason), never
 *   stuck and never lost;
 * - the engine stopped: 503 with a retryable error, and recovery once it
 *   is back. This uses a private dockerd (tests/harness/private-dockerd),
 *   never the shared engine.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/alloc.h"
#include "tests/support/berthproc.h"
#include "tests/support/testsupport.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Runs a harness script with argv only; returns its exit status and, when
 * `out` is given, its first output line. */
static int run_script(const char *const *argv, char *out, size_t outlen)
{
	posix_spawn_file_actions_t fa;
	char *path
	    = berth_asprintf("%s/script-out-%ld", "/tmp", (long)getpid());
	pid_t pid;
	int status = -1;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, path,
	                                 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (posix_spawn(&pid, argv[0], &fa, NULL, (char **)argv, environ) == 0)
		waitpid(pid, &status, 0);
	posix_spawn_file_actions_destroy(&fa);
	if (out != NULL) {
		FILE *f = fopen(path, "re");

		out[0] = '\0';
		if (f != NULL) {
			if (fgets(out, (int)outlen, f) != NULL)
				out[strcspn(out, "\n")] = '\0';
			fclose(f);
		}
	}
	unlink(path);
	free(path);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_runtime_killed_mid_job_reconciles(void **state)
{
	char *dir = ts_tmpdir("faults");
	char *rt_data = berth_asprintf("%s/runtime", dir);
	char *url = berth_asprintf("ipc://%s/sock/runtime.sock", dir);
	const char *gw_args[]
	    = { "--role", "gateway", "--runtime-url", url, NULL };
	struct ts_berth rt, gw;
	json_t *j = NULL;
	char *id, *path;
	const char *st;

	(void)state;
	assert_int_equal(ts_berth_start_runtime(&rt, rt_data, url), 0);
	assert_int_equal(ts_berth_start(&gw, NULL, 0, gw_args), 0);

	assert_int_equal(ts_http(gw.base, "POST", "/api/v1/images/pull",
	                         "{\"image\":\"berth-test/killed:1\"}",
	                         gw.token, NULL, &j),
	                 202);
	id = berth_strdup(ts_json_str(j, "id"));
	json_decref(j);

	/* Killed with the job queued or running. */
	ts_berth_kill(&rt, SIGKILL);
	path = berth_asprintf("/api/v1/jobs/%s", id);
	assert_int_equal(
	    ts_http(gw.base, "GET", path, NULL, gw.token, NULL, &j), 503);
	assert_true(json_is_true(
	    json_object_get(json_object_get(j, "error"), "retryable")));
	json_decref(j);

	/* Restarted on the same store: the job is still there and ends. */
	ts_berth_stop(&rt);
	assert_int_equal(ts_berth_start_runtime(&rt, rt_data, url), 0);
	st = "";
	for (int i = 0; i < 300; i++) {
		j = NULL;
		long code
		    = ts_http(gw.base, "GET", path, NULL, gw.token, NULL, &j);
		if (code == 200) {
			st = ts_json_str(j, "state");
			if (strcmp(st, "succeeded") == 0
			    || strcmp(st, "failed") == 0)
				break;
		}
		json_decref(j);
		j = NULL;
		usleep(200 * 1000);
	}
	assert_non_null(j);
	st = ts_json_str(j, "state");
	assert_true(strcmp(st, "succeeded") == 0 || strcmp(st, "failed") == 0);
	if (strcmp(st, "failed") == 0) {
		const char *msg
		    = ts_json_str(json_object_get(j, "error"), "message");
		assert_true(strlen(msg) > 0);
	}
	json_decref(j);

	assert_int_equal(ts_berth_stop(&gw), 0);
	assert_int_equal(ts_berth_stop(&rt), 0);
	ts_rmtree(dir);
	free(path);
	free(id);
	free(url);
	free(rt_data);
	free(dir);
}

static void test_engine_down_is_503_and_recovers(void **state)
{
	char *dir = ts_tmpdir("engine");
	const char *start[]
	    = { "tests/harness/private-dockerd", "start", dir, NULL };
	const char *stop[]
	    = { "tests/harness/private-dockerd", "stop", dir, NULL };
	char sock[512];
	struct ts_berth b;
	json_t *j = NULL;
	long code;

	char *shared = berth_strdup(ts_docker_socket());

	(void)state;
	assert_int_equal(run_script(start, sock, sizeof(sock)), 0);
	setenv("BERTH_TEST_DOCKER_SOCKET", sock, 1);
	assert_int_equal(ts_berth_start(&b, NULL, 0, NULL), 0);
	assert_int_equal(ts_http(b.base, "GET", "/api/v1/containers", NULL,
	                         b.token, NULL, &j),
	                 200);
	json_decref(j);

	assert_int_equal(run_script(stop, NULL, 0), 0);
	code = ts_http(b.base, "GET", "/api/v1/containers", NULL, b.token, NULL,
	               &j);
	assert_int_equal(code, 503);
	assert_string_equal(ts_error_code(j), "UNAVAILABLE");
	assert_true(json_is_true(
	    json_object_get(json_object_get(j, "error"), "retryable")));
	json_decref(j);
	assert_int_equal(
	    ts_http(b.base, "GET", "/readyz", NULL, b.token, NULL, &j), 503);
	json_decref(j);

	/* The engine comes back; berth serves again without a restart. */
	assert_int_equal(run_script(start, sock, sizeof(sock)), 0);
	code = 0;
	for (int i = 0; i < 50 && code != 200; i++) {
		j = NULL;
		code = ts_http(b.base, "GET", "/api/v1/containers", NULL,
		               b.token, NULL, &j);
		json_decref(j);
		if (code != 200)
			usleep(100 * 1000);
	}
	assert_int_equal(code, 200);

	assert_int_equal(ts_berth_stop(&b), 0);
	run_script(stop, NULL, 0);
	setenv("BERTH_TEST_DOCKER_SOCKET", shared, 1);
	free(shared);
	ts_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runtime_killed_mid_job_reconciles),
		cmocka_unit_test(test_engine_down_is_503_and_recovers),
	};

	return cmocka_run_group_tests_name("faults", tests, NULL, NULL);
}
