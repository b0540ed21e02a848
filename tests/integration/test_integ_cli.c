/*
 * test_integ_cli.c: the `berth` client commands against a real `berth
 * serve` and the real engine: what they print, and their exit statuses
 * (0 done, 1 berth said no, 2 usage); and a second `berth serve` on a
 * port already in use fails instead of sharing it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/alloc.h"
#include "lib/buf.h"
#include "tests/support/berthproc.h"
#include "tests/support/testsupport.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static struct ts_berth berth;

struct run_result {
	int status; /* exit status, or -1 */
	char *out;  /* stdout; owned */
	char *err;  /* stderr; owned */
};

static char *slurp(const char *path)
{
	struct berth_buf b;
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "re");

	berth_buf_init(&b, 1 << 20);
	if (f != NULL) {
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			berth_buf_append(&b, chunk, n);
		fclose(f);
	}
	return berth_buf_steal(&b, NULL);
}

/*
 * Starts `berth ARGS...` (NULL-terminated) with stdout to `out_path` and
 * stderr to `err_path` (NULL: /dev/null), in environment `env` (NULL:
 * ours). Returns the pid, or -1.
 */
static pid_t spawn_berth(const char *const *args, const char *out_path,
                         const char *err_path, char *const *env)
{
	posix_spawn_file_actions_t fa;
	const char *argv[16];
	size_t n = 0;
	pid_t pid;

	argv[n++] = getenv("BERTH_BIN");
	for (size_t i = 0; args[i] != NULL && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(
	    &fa, STDOUT_FILENO, out_path != NULL ? out_path : "/dev/null",
	    O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(
	    &fa, STDERR_FILENO, err_path != NULL ? err_path : "/dev/null",
	    O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (posix_spawn(&pid, argv[0], &fa, NULL, (char **)argv,
	                env != NULL ? env : environ)
	    != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

/* Waits up to `ms` for `pid` (ours) to exit. Past that it is killed and
 * reaped, and false is returned. */
static bool wait_bounded(pid_t pid, int ms, int *status)
{
	for (int waited = 0; waited < ms; waited += 100) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return true;
		usleep(100 * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, status, 0);
	return false;
}

/* Runs `berth ARGS...` (NULL-terminated) with BERTH_URL/BERTH_TOKEN set;
 * a command still running after 2 minutes is stopped (status -1). */
static struct run_result run(const char *const *args)
{
	struct run_result r = { -1, NULL, NULL };
	char *out = berth_asprintf("%s/cli.out", berth.data_dir);
	char *err = berth_asprintf("%s/cli.err", berth.data_dir);
	pid_t pid = spawn_berth(args, out, err, NULL);
	int status;

	if (pid > 0 && wait_bounded(pid, 120000, &status) && WIFEXITED(status))
		r.status = WEXITSTATUS(status);
	r.out = slurp(out);
	r.err = slurp(err);
	free(out);
	free(err);
	return r;
}

static void run_free(struct run_result *r)
{
	free(r->out);
	free(r->err);
}

static int setup(void **state)
{
	(void)state;
	if (ts_berth_start(&berth, NULL, 0, NULL) != 0)
		return -1;
	setenv("BERTH_URL", berth.base, 1);
	setenv("BERTH_TOKEN", berth.token, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return ts_berth_stop(&berth);
}

static void test_run_ps_inspect_stop_rm(void **state)
{
	char *name
	    = berth_asprintf("cli-%ld-%s", (long)getpid(), ts_run_label());
	char *label = berth_asprintf("berth-test=%s", ts_run_label());
	const char *run_args[]
	    = { "run", "--name",      name, "-l",        label,
		"-e",  "GREETING=hi", "-c", "sleep 300", ts_test_image(),
		NULL };
	const char *ps_args[] = { "ps", "-l", label, NULL };
	const char *inspect_args[] = { "inspect", name, NULL };
	const char *stop_args[] = { "stop", "-t", "1", name, NULL };
	const char *rm_args[] = { "rm", "-f", name, NULL };
	struct run_result r;
	json_t *j;

	(void)state;
	r = run(run_args);
	assert_int_equal(r.status, 0);
	assert_int_equal(strspn(r.out, "0123456789abcdef"), 64);
	run_free(&r);

	r = run(ps_args);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "CONTAINER ID"));
	assert_non_null(strstr(r.out, name));
	assert_non_null(strstr(r.out, "running"));
	run_free(&r);

	r = run(inspect_args);
	assert_int_equal(r.status, 0);
	j = json_loads(r.out, 0, NULL);
	assert_non_null(j);
	assert_string_equal(ts_json_str(j, "state"), "running");
	/* Env keys only: the value stays inside the container. */
	assert_null(strstr(r.out, "hi\""));
	json_decref(j);
	run_free(&r);

	r = run(stop_args);
	assert_int_equal(r.status, 0);
	run_free(&r);
	r = run(rm_args);
	assert_int_equal(r.status, 0);
	run_free(&r);

	r = run(inspect_args);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "NOT_FOUND"));
	run_free(&r);
	free(label);
	free(name);
}

/* exec (the command's exit status, its two streams, 124 on timeout),
 * logs and wait (the exit code of a killed container). */
static void test_exec_logs_wait(void **state)
{
	char *name
	    = berth_asprintf("cli-x-%ld-%s", (long)getpid(), ts_run_label());
	char *label = berth_asprintf("berth-test=%s", ts_run_label());
	const char *run_args[] = { "run",
		                   "--name",
		                   name,
		                   "-l",
		                   label,
		                   "-c",
		                   "echo from-the-log; sleep 300",
		                   ts_test_image(),
		                   NULL };
	const char *exec_args[]
	    = { "exec", "-e", "WHO=cli", name,
		"--",   "sh", "-c",      "echo out-$WHO; echo err >&2; exit 5",
		NULL };
	const char *timeout_args[]
	    = { "exec", "-t", "300", name, "sleep", "30", NULL };
	const char *logs_args[] = { "logs", "-n", "5", name, NULL };
	const char *stop_args[] = { "stop", "-t", "0", name, NULL };
	const char *wait_args[] = { "wait", name, NULL };
	const char *rm_args[] = { "rm", "-f", name, NULL };
	struct run_result r;

	(void)state;
	r = run(run_args);
	assert_int_equal(r.status, 0);
	run_free(&r);

	r = run(exec_args);
	assert_int_equal(r.status, 5);
	assert_string_equal(r.out, "out-cli\n");
	assert_string_equal(r.err, "err\n");
	run_free(&r);

	r = run(timeout_args);
	assert_int_equal(r.status, 124);
	assert_non_null(strstr(r.err, "timed out"));
	run_free(&r);

	r = run(logs_args);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "from-the-log"));
	run_free(&r);

	r = run(stop_args);
	assert_int_equal(r.status, 0);
	run_free(&r);
	r = run(wait_args);
	assert_int_equal(r.status, 0);
	assert_int_equal(strtol(r.out, NULL, 10), 137);
	run_free(&r);
	r = run(rm_args);
	assert_int_equal(r.status, 0);
	run_free(&r);
	free(label);
	free(name);
}

static void test_errors_and_usage(void **state)
{
	const char *rm_args[] = { "rm", "no-such-container-cli", NULL };
	const char *create_args[] = { "create", NULL };
	const char *bad_env[] = { "create", "-e", "NOEQUALS", "img", NULL };
	const char *ps_args[] = { "ps", NULL };
	struct run_result r;

	(void)state;
	r = run(rm_args);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "NOT_FOUND"));
	run_free(&r);

	r = run(create_args);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "usage"));
	run_free(&r);

	r = run(bad_env);
	assert_int_equal(r.status, 2);
	run_free(&r);

	setenv("BERTH_TOKEN", "berth_not-the-token", 1);
	r = run(ps_args);
	setenv("BERTH_TOKEN", berth.token, 1);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "UNAUTHENTICATED"));
	assert_null(strstr(r.err, "not-the-token"));
	run_free(&r);
}

static void test_pull_of_missing_image_exits_1(void **state)
{
	const char *args[] = { "pull", "berth-test/cli-missing:1", NULL };
	struct run_result r;

	(void)state;
	r = run(args);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "failed"));
	assert_non_null(strstr(r.err, "berth-test/cli-missing:1"));
	run_free(&r);
}

/*
 * A second gateway on the address of a running one must fail at start
 * (SO_REUSEPORT would have the kernel split the connections between
 * the two, each with its own tokens). Bounded: a serve that does not
 * exit within 15 s is stopped and the test fails.
 */
static void test_serve_refuses_a_port_in_use(void **state)
{
	char *data = ts_tmpdir("cli-port");
	const char *addr = berth.base + strlen("http://");
	char *errp = berth_asprintf("%s/serve.err", data);
	const char *args[] = { "serve",    "--data",
		               data,       "--http",
		               addr,       "--no-engine-start",
		               "--socket", ts_docker_socket(),
		               NULL };
	int status = -1;
	pid_t pid;
	char *text;
	json_t *j = NULL;

	(void)state;
	pid = spawn_berth(args, NULL, errp, NULL);
	assert_true(pid > 0);
	if (!wait_bounded(pid, 15000, &status))
		fail_msg("a second berth serve on %s kept running", addr);
	assert_true(WIFEXITED(status));
	assert_int_not_equal(WEXITSTATUS(status), 0);
	text = slurp(errp);
	assert_non_null(strstr(text, "cannot listen"));
	free(text);
	/* The first one still answers. */
	assert_int_equal(
	    ts_http(berth.base, "GET", "/healthz", NULL, NULL, NULL, &j), 200);
	json_decref(j);
	free(errp);
	ts_rmtree(data);
	free(data);
}

/*
 * `berth events` whose gateway goes away for good retries, 1 s apart,
 * and gives up after 10 attempts in a row that got no stream: exit 1
 * with the reason on stderr, neither at once (a busy loop) nor never.
 */
static void test_events_gives_up_on_a_gone_gateway(void **state)
{
	const char *args[] = { "events", NULL };
	struct ts_berth g;
	char *envs[2], *env[64], *errp, *text;
	size_t ne = 0;
	int status = -1;
	int64_t gone_ms, took_ms;
	bool exited;
	pid_t pid;

	(void)state;
	assert_int_equal(ts_berth_start(&g, NULL, 0, NULL), 0);
	errp = berth_asprintf("%s/events.err", berth.data_dir);
	envs[0] = berth_asprintf("BERTH_URL=%s", g.base);
	envs[1] = berth_asprintf("BERTH_TOKEN=%s", g.token);
	for (char **e = environ; *e != NULL && ne < 60; e++)
		if (strncmp(*e, "BERTH_URL=", 10) != 0
		    && strncmp(*e, "BERTH_TOKEN=", 12) != 0)
			env[ne++] = *e;
	env[ne++] = envs[0];
	env[ne++] = envs[1];
	env[ne] = NULL;
	pid = spawn_berth(args, NULL, errp, env);
	assert_true(pid > 0);
	usleep(1000 * 1000); /* the stream opens (and has an id) */
	assert_int_equal(ts_berth_kill(&g, SIGTERM), 0);
	gone_ms = ts_now_ms();
	exited = wait_bounded(pid, 25000, &status);
	took_ms = ts_now_ms() - gone_ms;
	if (!exited)
		fail_msg("berth events still retrying 25 s after its gateway "
		         "went away");
	text = slurp(errp);
	print_message("berth events gave up %lld ms after its gateway went\n",
	              (long long)took_ms);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_non_null(strstr(text, "gave up after 10 attempts"));
	assert_non_null(strstr(text, "resuming the event stream after"));
	assert_true(took_ms >= 5000);
	free(text);
	assert_int_equal(ts_berth_stop(&g), 0);
	free(envs[0]);
	free(envs[1]);
	free(errp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_ps_inspect_stop_rm),
		cmocka_unit_test(test_exec_logs_wait),
		cmocka_unit_test(test_errors_and_usage),
		cmocka_unit_test(test_pull_of_missing_image_exits_1),
		cmocka_unit_test(test_serve_refuses_a_port_in_use),
		cmocka_unit_test(test_events_gives_up_on_a_gone_gateway),
	};

	return cmocka_run_group_tests_name("cli", tests, setup, teardown);
}
