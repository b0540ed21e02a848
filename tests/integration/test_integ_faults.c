/*
 * test_integ_faults.c: berth under faults, through REST, with the
 * gateway and the runtime as separate processes over ipc://.
 *
 * - the runtime killed with SIGKILL in the middle of a real pull (a
 *   160 MiB random-data image from a private docker-registry on
 *   loopback): the gateway answers 503 retryable while it is down, and
 *   after a restart on the same store the reconcile requeues the pull,
 *   which succeeds with the image on the engine; never stuck, never lost;
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
#include "tests/support/registry.h"
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

/*
 * Size of the random layer the kill test pulls: big enough that the pull
 * takes a few seconds over loopback (the engine gunzips, verifies and
 * unpacks it), so the kill lands mid-download.
 */
#define BIG_MIB 96

/* True when the file at `path` has a line holding both `a` and `b`. */
static bool log_has(const char *path, const char *a, const char *b)
{
	char line[2048];
	FILE *f = fopen(path, "re");
	bool found = false;

	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, a) != NULL && strstr(line, b) != NULL;
	fclose(f);
	return found;
}

/* GET /api/v1/jobs/{id} through `gw`; returns the status, `*j` the body. */
static long get_job(const struct ts_berth *gw, const char *path, json_t **j)
{
	return ts_http(gw->base, "GET", path, NULL, gw->token, NULL, j);
}

static void test_runtime_killed_mid_pull_resumes(void **state)
{
	char *dir = ts_tmpdir("faults");
	char *rt_data = berth_asprintf("%s/runtime", dir);
	char *url = berth_asprintf("ipc://%s/sock/runtime.sock", dir);
	char *name = berth_asprintf("berth-test/faults-%ld", (long)getpid());
	const char *gw_args[]
	    = { "--role", "gateway", "--runtime-url", url, NULL };
	struct ts_registry reg;
	struct ts_berth rt, gw;
	json_t *j = NULL;
	char *ref = NULL, *want_id = NULL, *engine_id = NULL, *id, *path;
	char *body, *attempt;
	const char *st = "";
	int64_t t0, t_running = -1, t_restart;
	bool running = false;

	(void)state;
	assert_int_equal(ts_registry_start(&reg), 0);
	t0 = ts_now_ms();
	assert_int_equal(ts_registry_put_random_image(&reg, name, "1", BIG_MIB,
	                                              &ref, &want_id),
	                 0);
	print_message("faults: %d MiB image made and pushed in %lld ms\n",
	              BIG_MIB, (long long)(ts_now_ms() - t0));
	assert_int_equal(ts_engine_image_id(ref, NULL), 0);

	assert_int_equal(ts_berth_start_runtime(&rt, rt_data, url), 0);
	assert_int_equal(ts_berth_start(&gw, NULL, 0, gw_args), 0);

	body = berth_asprintf("{\"image\":\"%s\"}", ref);
	t0 = ts_now_ms();
	assert_int_equal(ts_http(gw.base, "POST", "/api/v1/images/pull", body,
	                         gw.token, NULL, &j),
	                 202);
	id = berth_strdup(ts_json_str(j, "id"));
	json_decref(j);
	path = berth_asprintf("/api/v1/jobs/%s", id);

	/*
	 * Wait until the runtime runs the job and the engine has begun (the
	 * first progress line is recorded), at most 15 s.
	 */
	for (int i = 0; i < 750 && !running; i++) {
		j = NULL;
		assert_int_equal(get_job(&gw, path, &j), 200);
		st = ts_json_str(j, "state");
		if (strcmp(st, "running") == 0
		    && ts_json_str(j, "detail")[0] != '\0')
			running = true;
		else if (strcmp(st, "queued") != 0
		         && strcmp(st, "running") != 0)
			fail_msg("the pull ended (%s) %lld ms after it was "
			         "posted, before the runtime could be killed: "
			         "grow BIG_MIB (%d)",
			         st, (long long)(ts_now_ms() - t0), BIG_MIB);
		json_decref(j);
		if (!running)
			usleep(20 * 1000);
		if (ts_now_ms() - t0 > 15000)
			break;
	}
	if (!running)
		fail_msg("the pull job was not running within 15 s (state %s)",
		         st);
	t_running = ts_now_ms() - t0;
	/* Mid-job: the engine does not have the image yet. */
	if (ts_engine_image_id(ref, NULL) != 0)
		fail_msg("the pull finished %lld ms after it was posted, "
		         "before the kill: grow BIG_MIB (%d)",
		         (long long)t_running, BIG_MIB);
	ts_berth_kill(&rt, SIGKILL);
	print_message("faults: runtime killed %lld ms into the pull\n",
	              (long long)t_running);

	/* The runtime is down: the gateway says so, retryable. */
	j = NULL;
	assert_int_equal(get_job(&gw, path, &j), 503);
	assert_string_equal(ts_error_code(j), "UNAVAILABLE");
	assert_true(json_is_true(
	    json_object_get(json_object_get(j, "error"), "retryable")));
	json_decref(j);

	/* Restarted on the same store: reconcile requeues the pull, which
	 * then succeeds (at most 60 s). */
	ts_berth_stop(&rt);
	t_restart = ts_now_ms();
	assert_int_equal(ts_berth_start_runtime(&rt, rt_data, url), 0);
	st = "";
	j = NULL;
	for (int i = 0; i < 600; i++) {
		long code;

		j = NULL;
		code = get_job(&gw, path, &j);
		if (code == 200) {
			st = ts_json_str(j, "state");
			if (strcmp(st, "queued") != 0
			    && strcmp(st, "running") != 0)
				break;
		}
		json_decref(j);
		j = NULL;
		if (ts_now_ms() - t_restart > 60000)
			break;
		usleep(100 * 1000);
	}
	if (j == NULL || strcmp(st, "succeeded") != 0) {
		char *dump = j != NULL ? json_dumps(j, 0) : NULL;

		/* Why, for whoever reads the CI output. */
		ts_berth_print_log(&gw);
		ts_berth_print_log(&rt);
		fail_msg("after the restart the pull job did not succeed "
		         "within 60 s: %s",
		         dump != NULL ? dump : "(no reply)");
	}
	assert_string_equal(ts_json_str(j, "result"), want_id);
	assert_int_equal(json_integer_value(json_object_get(j, "progress")),
	                 100);
	json_decref(j);
	print_message("faults: the requeued pull succeeded %lld ms after the "
	              "restart\n",
	              (long long)(ts_now_ms() - t_restart));
	assert_int_equal(ts_engine_image_id(ref, &engine_id), 1);
	assert_string_equal(engine_id, want_id);
	/* The restarted runtime found the job orphaned, requeued it and ran
	 * it a second time: the kill really interrupted it. */
	assert_true(
	    log_has(rt.log_path, "event=jobs_reconciled", "requeued=1"));
	attempt = berth_asprintf("job=%s image=%s attempt=2", id, ref);
	if (!log_has(rt.log_path, "event=pull_started", attempt))
		fail_msg("the restarted runtime did not run the job again "
		         "(%s); see %s",
		         attempt, rt.log_path);
	free(attempt);

	assert_int_equal(ts_berth_stop(&gw), 0);
	assert_int_equal(ts_berth_stop(&rt), 0);
	/* Removes the pulled image and the registry's directory. */
	ts_registry_stop(&reg);
	ts_rmtree(dir);
	free(engine_id);
	free(want_id);
	free(ref);
	free(body);
	free(path);
	free(id);
	free(name);
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
		cmocka_unit_test(test_runtime_killed_mid_pull_resumes),
		cmocka_unit_test(test_engine_down_is_503_and_recovers),
	};

	return cmocka_run_group_tests_name("faults", tests, NULL, NULL);
}
