/*
 * test_integ_sdk.c: the C SDK (sdk/berth.h) end to end: a real
 * `berth serve --role runtime` on an ipc:// address, with
 * BERTH_SAFE_LOCAL_PATHS set to a private folder, driven through the SDK
 * and then through the built example (examples/instance_demo), against
 * the real engine. Outcomes are checked on the engine itself with raw
 * requests on its socket.
 *
 * Containers made here are labelled berth-test=<run> and named
 * sdk-<run>-<pid>-<n>; each test removes its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/alloc.h"
#include "lib/buf.h"
#include "sdk/berth.h"
#include "tests/support/berthproc.h"
#include "tests/support/testsupport.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static struct ts_berth rt;
static struct berth_client *cli;
static char *tmp;  /* everything of this test; removed at the end */
static char *safe; /* the operator's SafeLocalPaths */
static char *url;
static int name_seq;
static pid_t git_daemon = -1; /* stopped at teardown if a test failed */

/* ------------------------------------------------------------ helpers */

static size_t sink(char *p, size_t size, size_t n, void *arg)
{
	return berth_buf_append(arg, p, size * n) == 0 ? size * n : 0;
}

/* One raw request to the engine; the status, or -1. */
static long engine_get(const char *path)
{
	CURL *c = curl_easy_init();
	char *u = berth_asprintf("http://localhost/v1.41%s", path);
	struct berth_buf out;
	long st = -1;

	berth_buf_init(&out, 4 << 20);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, ts_docker_socket());
	curl_easy_setopt(c, CURLOPT_URL, u);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
	curl_easy_cleanup(c);
	berth_buf_fini(&out);
	free(u);
	return st;
}

/* Whether the engine knows container `ref` (id or name). */
static long container_status(const char *ref)
{
	char *p = berth_asprintf("/containers/%s/json", ref);
	long st = engine_get(p);

	free(p);
	return st;
}

/* Waits up to `ms` for the engine to answer 404 for `ref`. */
static bool gone_within(const char *ref, int ms)
{
	int64_t end = ts_now_ms() + ms;

	for (int i = 0; i < 200 && ts_now_ms() < end; i++) {
		if (container_status(ref) == 404)
			return true;
		usleep(100 * 1000);
	}
	return container_status(ref) == 404;
}

static char *unique_name(void)
{
	return berth_asprintf("sdk-%s-%ld-%d", ts_run_label(), (long)getpid(),
	                      ++name_seq);
}

static const struct berth_kv run_label[1] = { { "berth-test", NULL } };

/* Options for a labelled, named container running `argv`. */
static void base_opts(struct berth_options *o, struct berth_kv *label,
                      const char *name, const char *const *argv, size_t argc)
{
	memset(o, 0, sizeof(*o));
	*label = run_label[0];
	label->value = ts_run_label();
	o->labels = label;
	o->nlabels = 1;
	o->name = name;
	o->command = argv;
	o->ncommand = argc;
	o->keep_alive = true;
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static const char *const sleeper[] = { "sleep", "300" };

/* -------------------------------------------------------------- setup */

static int group_setup(void **state)
{
	struct berth_err err = { 0 };
	char *sock_dir;

	(void)state;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	tmp = ts_tmpdir("sdk");
	safe = berth_asprintf("%s/safe", tmp);
	sock_dir = berth_asprintf("%s/rpc", tmp);
	mkdir(safe, 0700);
	mkdir(sock_dir, 0700);
	url = berth_asprintf("ipc://%s/runtime.sock", sock_dir);
	free(sock_dir);
	setenv("BERTH_SAFE_LOCAL_PATHS", safe, 1);
	if (ts_berth_start_runtime(&rt, NULL, url) != 0)
		return -1;
	if (berth_client_open(&cli, url, &err) != 0) {
		print_error("open: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static void stop_git_daemon(void)
{
	if (git_daemon > 0) {
		kill(git_daemon, SIGTERM);
		waitpid(git_daemon, NULL, 0);
		git_daemon = -1;
	}
}

static int group_teardown(void **state)
{
	int rv;

	(void)state;
	stop_git_daemon();
	berth_client_close(cli);
	rv = ts_berth_stop(&rt);
	ts_rmtree(tmp);
	free(tmp);
	free(safe);
	free(url);
	curl_global_cleanup();
	return rv;
}

/* -------------------------------------------------------------- tests */

static void test_bad_arguments(void **state)
{
	struct berth_client *c = NULL;
	struct berth_instance *inst = NULL;
	struct berth_err err = { 0 };
	struct berth_mount m = { "/etc", "/x", true };
	const char *narrow[1];
	struct berth_options o = { 0 };
	char *dead;
	int64_t t0;

	(void)state;
	assert_int_equal(berth_client_open(&c, "", &err), BERTH_EINVAL);
	assert_null(c);
	assert_int_equal(berth_client_open(&c, "nosuch://x", &err),
	                 BERTH_EINVAL);

	/* A runtime that is not there: UNAVAILABLE quickly, retryable. */
	dead = berth_asprintf("ipc://%s/nobody.sock", tmp);
	assert_ok(berth_client_open(&c, dead, &err), &err);
	t0 = ts_now_ms();
	assert_int_equal(berth_stop_container(c, "x", &err), BERTH_EUNAVAIL);
	assert_true(err.retryable);
	assert_true(ts_now_ms() - t0 < 5000);
	berth_client_close(c);
	free(dead);

	assert_int_equal(berth_start_container(cli, "", NULL, &inst, &err),
	                 BERTH_EINVAL);
	assert_int_equal(berth_stop_container(cli, "", &err), BERTH_EINVAL);
	assert_int_equal(berth_remove_container(cli, NULL, &err), BERTH_EINVAL);

	/* A mount outside the options' own safe_local_paths: refused here,
	 * before anything reaches the engine. */
	narrow[0] = safe;
	o.mounts = &m;
	o.nmounts = 1;
	o.safe_local_paths = narrow;
	o.nsafe_local_paths = 1;
	o.name = "sdk-never-made";
	assert_int_equal(
	    berth_start_container(cli, ts_test_image(), &o, &inst, &err),
	    BERTH_EPERM);
	assert_non_null(strstr(err.msg, "mounts[0]"));
	/* A prefix is not a parent: /safe-x is not inside /safe. */
	m.source = berth_asprintf("%s-x", safe);
	assert_int_equal(
	    berth_start_container(cli, ts_test_image(), &o, &inst, &err),
	    BERTH_EPERM);
	free((char *)m.source);
	m.source = berth_asprintf("%s/../etc", safe);
	assert_int_equal(
	    berth_start_container(cli, ts_test_image(), &o, &inst, &err),
	    BERTH_EPERM);
	free((char *)m.source);
	assert_null(inst);
	assert_int_equal(container_status("sdk-never-made"), 404);

	/* An empty argv never reaches the runtime. */
	{
		const char *const empty[] = { NULL };
		struct berth_exec_result *res = NULL;
		struct berth_instance *fake = NULL;
		struct berth_kv label;
		char *name = unique_name();

		base_opts(&o, &label, name, sleeper, 2);
		assert_ok(berth_start_container(cli, ts_test_image(), &o, &fake,
		                                &err),
		          &err);
		assert_int_equal(berth_instance_exec(fake, empty, &res, &err),
		                 BERTH_EINVAL);
		assert_null(res);
		assert_int_equal(berth_instance_inject_local_code(
		                     fake, safe, "relative", &err),
		                 BERTH_EINVAL);
		assert_ok(berth_remove_container_force(
		              cli, berth_instance_id(fake), &err),
		          &err);
		assert_true(gone_within(name, 5000));
		berth_instance_free(fake);
		free(name);
	}
}

static void test_pull_missing_image(void **state)
{
	struct berth_err err = { 0 };
	int rv;

	(void)state;
	rv = berth_pull_image_timeout(cli, "berth-test/sdk-missing:1", 60000,
	                              &err);
	assert_int_not_equal(rv, 0);
	assert_int_equal(err.code, rv);
	assert_non_null(strstr(err.msg, "berth-test/sdk-missing"));
	assert_int_equal(berth_pull_image_timeout(cli, "x", 0, &err),
	                 BERTH_EINVAL);
}

static void test_start_missing_image(void **state)
{
	struct berth_instance *inst = NULL;
	struct berth_err err = { 0 };
	struct berth_options o;
	struct berth_kv label;
	char *name = unique_name();

	(void)state;
	base_opts(&o, &label, name, sleeper, 2);
	assert_int_equal(berth_start_container(cli, "berth-test/sdk-missing:1",
	                                       &o, &inst, &err),
	                 BERTH_ENOTFOUND);
	assert_null(inst);
	assert_int_equal(container_status(name), 404);
	free(name);
}

/* Start, options, stop, wait, remove; the engine agrees at each step. */
static void test_lifecycle(void **state)
{
	struct berth_instance *inst = NULL;
	struct berth_err err = { 0 };
	struct berth_kv env[2] = { { "GREETING", "hello" }, { "EMPTY", "" } };
	struct berth_options o;
	const struct berth_options *got;
	struct berth_kv label;
	char *name = unique_name();
	char *id;
	int code = -1, rv;

	(void)state;
	base_opts(&o, &label, name, sleeper, 2);
	o.environment = env;
	o.nenvironment = 2;
	o.working_dir = "/tmp";
	assert_ok(berth_start_container(cli, ts_test_image(), &o, &inst, &err),
	          &err);
	id = berth_strdup(berth_instance_id(inst));
	assert_true(strlen(id) >= 12);
	assert_int_equal(container_status(id), 200);
	assert_int_equal(container_status(name), 200);

	/* The instance keeps its own copy of the options. */
	got = berth_instance_options(inst);
	assert_ptr_not_equal(got->name, name);
	assert_string_equal(got->name, name);
	assert_string_equal(got->working_dir, "/tmp");
	assert_int_equal(got->nenvironment, 2);
	assert_string_equal(got->environment[0].key, "GREETING");
	assert_string_equal(got->environment[1].value, "");
	assert_int_equal(got->ncommand, 2);
	assert_string_equal(got->command[1], "300");
	assert_true(got->keep_alive);

	/* A wait bounded in time ends with DEADLINE_EXCEEDED while the
	 * container runs. */
	rv = berth_instance_wait_timeout(inst, 700, &code, &err);
	assert_int_equal(rv, BERTH_ETIMEDOUT);
	assert_int_equal(code, -1);

	assert_ok(berth_stop_container_timeout(cli, id, 0, &err), &err);
	assert_ok(berth_instance_wait_timeout(inst, 20000, &code, &err), &err);
	assert_int_equal(code, 137); /* SIGKILL */
	assert_int_equal(container_status(id), 200);
	assert_ok(berth_remove_container(cli, id, &err), &err);
	assert_int_equal(container_status(id), 404);
	assert_int_equal(berth_remove_container(cli, id, &err),
	                 BERTH_ENOTFOUND);
	assert_int_equal(berth_stop_container(cli, id, &err), BERTH_ENOTFOUND);
	berth_instance_free(inst);
	free(id);
	free(name);
}

static void test_exec(void **state)
{
	static const char *const sep[]
	    = { "sh", "-c", "echo out; echo err >&2; exit 3", NULL };
	static const char *const envp[]
	    = { "sh", "-c", "echo \"$GREETING/$EXTRA/$(pwd)/$(id -u)\"", NULL };
	static const char *const slow[] = { "sleep", "30", NULL };
	struct berth_exec_opts eo = { 0 };
	struct berth_kv env[1] = { { "GREETING", "hello" } };
	struct berth_kv extra[1] = { { "EXTRA", "more" } };
	struct berth_instance *inst = NULL;
	struct berth_exec_result *res = NULL;
	struct berth_err err = { 0 };
	struct berth_options o;
	struct berth_kv label;
	char *name = unique_name();
	int64_t t0;

	(void)state;
	base_opts(&o, &label, name, sleeper, 2);
	o.environment = env;
	o.nenvironment = 1;
	assert_ok(berth_start_container(cli, ts_test_image(), &o, &inst, &err),
	          &err);
	assert_ok(berth_instance_exec(inst, sep, &res, &err), &err);
	assert_int_equal(res->exit_code, 3);
	assert_string_equal(res->stdout_data, "out\n");
	assert_int_equal(res->stdout_len, 4);
	assert_string_equal(res->stderr_data, "err\n");
	assert_false(res->timed_out);
	berth_exec_result_free(res);
	res = NULL;

	/* Container env, per-exec env, working dir and user. */
	eo.env = extra;
	eo.nenv = 1;
	eo.working_dir = "/etc";
	eo.user = "65534";
	assert_ok(berth_instance_exec_ex(inst, envp, &eo, &res, &err), &err);
	assert_int_equal(res->exit_code, 0);
	assert_string_equal(res->stdout_data, "hello/more//etc/65534\n");
	berth_exec_result_free(res);
	res = NULL;

	/* The timeout really ends the command. */
	t0 = ts_now_ms();
	assert_ok(berth_instance_exec_timeout(inst, slow, 500, &res, &err),
	          &err);
	assert_true(res->timed_out);
	assert_true(ts_now_ms() - t0 < 10000);
	berth_exec_result_free(res);
	res = NULL;

	/* Exec in a stopped container: FAILED_PRECONDITION. */
	assert_ok(berth_stop_container_timeout(cli, name, 0, &err), &err);
	assert_int_equal(berth_instance_exec(inst, sep, &res, &err),
	                 BERTH_EPRECOND);
	assert_null(res);
	assert_ok(berth_remove_container(cli, name, &err), &err);
	assert_int_equal(berth_instance_exec(inst, sep, &res, &err),
	                 BERTH_ENOTFOUND);
	berth_instance_free(inst);
	free(name);
}

/* Code injection by copy, and the SafeLocalPaths rules on it. */
static void test_inject(void **state)
{
	static const char *const cat[]
	    = { "cat", "/code/hello.txt", "/code/sub/deep.txt", NULL };
	char *app = berth_asprintf("%s/app", safe);
	char *sub = berth_asprintf("%s/app/sub", safe);
	char *other = berth_asprintf("%s/other", safe);
	char *outside = berth_asprintf("%s/outside", tmp);
	char *f;
	const char *narrow[1] = { app };
	struct berth_instance *inst = NULL;
	struct berth_exec_result *res = NULL;
	struct berth_err err = { 0 };
	struct berth_options o;
	struct berth_kv label;
	char *name = unique_name();

	(void)state;
	mkdir(app, 0755);
	mkdir(sub, 0755);
	mkdir(other, 0755);
	mkdir(outside, 0755);
	f = berth_asprintf("%s/hello.txt", app);
	write_file(f, "hi from the host\n");
	free(f);
	f = berth_asprintf("%s/deep.txt", sub);
	write_file(f, "deeper\n");
	free(f);
	f = berth_asprintf("%s/x.txt", other);
	write_file(f, "other\n");
	free(f);
	f = berth_asprintf("%s/secret.txt", outside);
	write_file(f, "secret\n");
	free(f);

	base_opts(&o, &label, name, sleeper, 2);
	o.safe_local_paths = narrow; /* narrower than the operator's */
	o.nsafe_local_paths = 1;
	assert_ok(berth_start_container(cli, ts_test_image(), &o, &inst, &err),
	          &err);
	assert_ok(berth_instance_inject_local_code(inst, app, "/code", &err),
	          &err);
	assert_ok(berth_instance_exec(inst, cat, &res, &err), &err);
	assert_int_equal(res->exit_code, 0);
	assert_string_equal(res->stdout_data, "hi from the host\ndeeper\n");
	/* Outside the operator's list, and outside the options' narrower
	 * one (inside the operator's): both refused. */
	assert_int_equal(
	    berth_instance_inject_local_code(inst, outside, "/code", &err),
	    BERTH_EPERM);
	assert_null(strstr(err.msg, "secret"));
	assert_int_equal(
	    berth_instance_inject_local_code(inst, other, "/code", &err),
	    BERTH_EPERM);
	assert_ok(berth_remove_container_force(cli, name, &err), &err);
	assert_true(gone_within(name, 5000));
	berth_exec_result_free(res);
	berth_instance_free(inst);
	free(name);
	free(app);
	free(sub);
	free(other);
	free(outside);
}

/* The exit code of the container's own command; with keep_alive=false
 * the runtime removes the container once it ends. */
static void test_wait_exit_code(void **state)
{
	static const char *const seven[] = { "sh", "-c", "sleep 1; exit 7" };
	struct berth_instance *inst = NULL;
	struct berth_err err = { 0 };
	struct berth_options o;
	struct berth_kv label;
	char *name = unique_name();
	int code = -1, rv;

	(void)state;
	base_opts(&o, &label, name, seven, 3);
	assert_ok(berth_start_container(cli, ts_test_image(), &o, &inst, &err),
	          &err);
	assert_ok(berth_instance_wait_timeout(inst, 20000, &code, &err), &err);
	assert_int_equal(code, 7);
	assert_ok(berth_remove_container(cli, name, &err), &err);
	berth_instance_free(inst);
	inst = NULL;
	free(name);

	/* keep_alive=false: removed by the runtime when its command ends. */
	name = unique_name();
	base_opts(&o, &label, name, seven, 3);
	o.keep_alive = false;
	assert_ok(berth_start_container(cli, ts_test_image(), &o, &inst, &err),
	          &err);
	assert_false(berth_instance_options(inst)->keep_alive);
	rv = berth_instance_wait_timeout(inst, 20000, &code, &err);
	if (rv == 0)
		assert_int_equal(code, 7);
	else
		assert_int_equal(rv, BERTH_ENOTFOUND); /* already removed */
	assert_true(gone_within(name, 10000));
	berth_instance_free(inst);
	free(name);
}

/* ---------------------------------------------------- clone (git daemon) */

static pid_t spawn_quiet(const char *const *argv, const char *log)
{
	posix_spawn_file_actions_t fa;
	pid_t pid = -1;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
	                                 O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log,
	                                 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
	if (posix_spawnp(&pid, argv[0], &fa, NULL, (char **)argv, environ) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

/* Runs argv to completion (bounded by its own nature: local git); the
 * exit status, or -1. */
static int run_cmd(const char *const *argv, const char *log)
{
	pid_t pid = spawn_quiet(argv, log);
	int st;

	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_clone(void **state)
{
	static const char *const cat[] = { "cat", "/src/README", NULL };
	char *work = berth_asprintf("%s/gitwork", tmp);
	char *base = berth_asprintf("%s/gitbase", tmp);
	char *bare = berth_asprintf("%s/gitbase/demo.git", tmp);
	char *log = berth_asprintf("%s/git.log", tmp);
	char *readme = berth_asprintf("%s/gitwork/README", tmp);
	char port_arg[32], repo[128];
	int port = ts_free_port();
	struct berth_instance *inst = NULL;
	struct berth_exec_result *res = NULL;
	struct berth_err err = { 0 };
	struct berth_options o;
	struct berth_kv label;
	char *name = unique_name();
	char *commit = NULL;
	int rv = 0;

	(void)state;
	mkdir(work, 0755);
	mkdir(base, 0755);
	write_file(readme, "cloned by berth\n");
	{
		const char *init[]
		    = { "git", "-C", work, "init", "-q", "-b", "main", NULL };
		const char *add[]
		    = { "git", "-C", work, "add", "README", NULL };
		const char *commit_argv[] = { "git",
			                      "-C",
			                      work,
			                      "-c",
			                      "user.name=t",
			                      "-c",
			                      "user.email=t@t",
			                      "commit",
			                      "-q",
			                      "-m",
			                      "one",
			                      NULL };
		const char *clone[]
		    = { "git", "clone", "-q", "--bare", work, bare, NULL };

		assert_int_equal(run_cmd(init, log), 0);
		assert_int_equal(run_cmd(add, log), 0);
		assert_int_equal(run_cmd(commit_argv, log), 0);
		assert_int_equal(run_cmd(clone, log), 0);
	}
	snprintf(port_arg, sizeof(port_arg), "--port=%d", port);
	{
		char *base_arg = berth_asprintf("--base-path=%s", base);
		const char *gd[] = { "git",
			             "daemon",
			             "--export-all",
			             "--reuseaddr",
			             "--listen=127.0.0.1",
			             port_arg,
			             base_arg,
			             base,
			             NULL };

		git_daemon = spawn_quiet(gd, log);
		free(base_arg);
	}
	assert_true(git_daemon > 0);
	snprintf(repo, sizeof(repo), "git://127.0.0.1:%d/demo.git", port);

	base_opts(&o, &label, name, sleeper, 2);
	assert_ok(berth_start_container(cli, ts_test_image(), &o, &inst, &err),
	          &err);
	/* git daemon needs a moment to listen: retry while it refuses. */
	for (int i = 0; i < 30; i++) {
		rv = berth_instance_clone_repo_ex(inst, repo, "/src", NULL,
		                                  &commit, &err);
		if (rv == 0 || rv == BERTH_EUNIMPL || rv == BERTH_EINVAL)
			break;
		usleep(200 * 1000);
	}
	{
		assert_ok(rv, &err);
		assert_int_equal(strlen(commit), 40);
		assert_ok(berth_instance_exec(inst, cat, &res, &err), &err);
		assert_string_equal(res->stdout_data, "cloned by berth\n");
		/* A scheme berth does not allow. */
		assert_int_equal(berth_instance_clone_repo(inst, "file:///etc",
		                                           "/src2", &err),
		                 BERTH_EINVAL);
		/* A branch the repository does not have; credentials are
		 * never echoed in the error. */
		{
			struct berth_git_credentials gc = { 0 };
			struct berth_clone_opts co = { 0 };
			char *c2 = NULL;

			gc.username = "someone";
			gc.password = "s3cr3t-pw";
			co.branch = "no-such-branch";
			co.credentials = &gc;
			co.timeout_ms = 20000;
			rv = berth_instance_clone_repo_ex(inst, repo, "/src3",
			                                  &co, &c2, &err);
			assert_int_equal(rv, BERTH_ENOTFOUND);
			assert_null(c2);
			assert_null(strstr(err.msg, "s3cr3t"));
		}
	}
	berth_remove_container_force(cli, name, &err);
	stop_git_daemon();
	berth_exec_result_free(res);
	berth_instance_free(inst);
	free(commit);
	free(name);
	free(work);
	free(base);
	free(bare);
	free(log);
	free(readme);
}

/* One client shared by several threads, each starting and removing its
 * own container. */
struct th_arg {
	char *name;
	int rv;
	char msg[BERTH_ERR_MSG_MAX];
};

static void *th_lifecycle(void *p)
{
	struct th_arg *a = p;
	struct berth_instance *inst = NULL;
	struct berth_err err = { 0 };
	struct berth_options o;
	struct berth_kv label;

	base_opts(&o, &label, a->name, sleeper, 2);
	a->rv = berth_start_container(cli, ts_test_image(), &o, &inst, &err);
	if (a->rv == 0)
		a->rv = berth_remove_container_force(
		    cli, berth_instance_id(inst), &err);
	snprintf(a->msg, sizeof(a->msg), "%s", err.msg);
	berth_instance_free(inst);
	return NULL;
}

static void test_threads(void **state)
{
	struct th_arg a[4];
	pthread_t th[4];

	(void)state;
	for (int i = 0; i < 4; i++) {
		a[i].name = unique_name();
		a[i].rv = -1;
		assert_int_equal(
		    pthread_create(&th[i], NULL, th_lifecycle, &a[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 4; i++) {
		if (a[i].rv != 0)
			fail_msg("thread %d: %s", i, a[i].msg);
		assert_true(gone_within(a[i].name, 5000));
		free(a[i].name);
	}
}

/* ------------------------------------------------------ the example */

/* build/<dir>/examples/instance_demo, beside build/<dir>/bin/berth. */
static char *example_path(void)
{
	const char *bin = getenv("BERTH_BIN");
	char *copy = berth_strdup(bin != NULL ? bin : "build/bin/berth");
	char *top = berth_strdup(dirname(dirname(copy)));
	char *p = berth_asprintf("%s/examples/instance_demo", top);

	free(copy);
	free(top);
	return p;
}

static char *read_all(const char *path)
{
	struct berth_buf b;
	char chunk[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	berth_buf_init(&b, 1 << 20);
	while (fd >= 0 && (n = read(fd, chunk, sizeof(chunk))) > 0)
		berth_buf_append(&b, chunk, (size_t)n);
	if (fd >= 0)
		close(fd);
	return berth_buf_steal(&b, NULL);
}

static void test_example(void **state)
{
	char *demo = example_path();
	char *code = berth_asprintf("%s/demo-code", safe);
	char *script = berth_asprintf("%s/demo-code/run.sh", safe);
	char *log = berth_asprintf("%s/demo.log", tmp);
	char *label = berth_asprintf("berth-test=%s", ts_run_label());
	char *out, *idp;
	char id[80] = "";
	int st = -1;
	pid_t pid;

	(void)state;
	if (access(demo, X_OK) != 0) {
		print_error("no example binary at %s (make it first)\n", demo);
		fail();
	}
	mkdir(code, 0755);
	write_file(script,
	           "echo \"hello from injected code in $(pwd)\"\n"
	           "test -f /mnt/src/run.sh && echo mount-ok\n");
	{
		const char *argv[] = { demo, "--skip-pull",   "--label", label,
			               url,  ts_test_image(), code,      "--",
			               "sh", "/app/run.sh",   NULL };

		pid = spawn_quiet(argv, log);
	}
	assert_true(pid > 0);
	/* The demo bounds its own steps (wait 60 s); bound ours too. */
	for (int i = 0; i < 900; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			break;
		usleep(100 * 1000);
		st = -1;
	}
	if (st == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	out = read_all(log);
	print_message("%s", out);
	idp = strstr(out, "started container ");
	if (idp != NULL)
		sscanf(idp, "started container %79s", id);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_non_null(strstr(out, "hello from injected code in /app\n"));
	assert_non_null(strstr(out, "mount-ok\n"));
	assert_non_null(strstr(out, "container exit code: 0\n"));
	assert_true(id[0] != '\0');
	assert_true(gone_within(id, 10000));
	free(out);
	free(demo);
	free(code);
	free(script);
	free(log);
	free(label);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_pull_missing_image),
		cmocka_unit_test(test_start_missing_image),
		cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_exec),
		cmocka_unit_test(test_inject),
		cmocka_unit_test(test_wait_exit_code),
		cmocka_unit_test(test_clone),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_example),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
