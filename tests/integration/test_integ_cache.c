/*
 * test_integ_cache.c: the runtime's state cache against a real engine.
 *
 * - a container created, started, killed and removed with direct
 *   engine API calls (not through berth) shows up in berth's list, and
 *   each state change is seen there, within 200 ms (measured);
 * - on Podman, with the event file unusable (BERTH_PODMAN_EVENTS_FILE
 *   names a file in no folder), the driver falls back to the API's event
 *   stream and the cache still follows (within that stream's lateness);
 * - on a private Podman API service whose event file is rotated every
 *   few events (events_logfile_max_size), each of many containers made
 *   and removed behind berth's back is listed, then gone, within the
 *   bound: no event is lost across Podman's rotations;
 * - after a private dockerd (tests/harness/private-dockerd; never the
 *   shared engine) is stopped and started again, berth's list resyncs:
 *   a container created after the restart is listed, one removed then
 *   is gone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/alloc.h"
#include "lib/buf.h"
#include "lib/engine_http.h"
#include "tests/support/berthproc.h"
#include "tests/support/testsupport.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* How soon a change behind berth's back must show: the bound,
 * on both engines. (Podman's API hands out events 70-250 ms late, as it
 * polls its event file; berth reads that file itself.) */
#define VISIBLE_MS 200
/* Polling step while measuring. */
#define POLL_US 5000

/* One Engine API call on `sock`; returns the HTTP status (-1 on a
 * transport failure) and, when `out` is given, the parsed JSON body. */
static long engine(const char *sock, const char *method, const char *path,
                   const char *body, json_t **out)
{
	struct berth_http_target t
	    = { .socket_path = sock, .display = "test engine" };
	struct berth_http_req rq = { 0 };
	struct berth_buf reply;
	struct berth_err err;
	char *full = berth_asprintf("/v1.41%s", path);
	long status = -1;

	berth_buf_init(&reply, BERTH_HTTP_REPLY_MAX);
	rq.method = method;
	rq.path = full;
	rq.body = body;
	rq.body_len = body != NULL ? strlen(body) : 0;
	if (berth_http_do(&t, &rq, &status, &reply, &err) != 0)
		status = -1;
	if (out != NULL) {
		*out = reply.len > 0
		    ? json_loadb(reply.data, reply.len, 0, NULL)
		    : NULL;
	}
	berth_buf_fini(&reply);
	free(full);
	return status;
}

/* Creates a labelled container directly on the engine; caller owns id. */
static char *engine_create(const char *sock, const char *cmd)
{
	char *body
	    = berth_asprintf("{\"Image\":\"%s\",\"Cmd\":[\"sh\",\"-c\",\"%s\"],"
	                     "\"Labels\":{\"berth.test\":\"%s\"}}",
	                     ts_test_image(), cmd, ts_run_label());
	json_t *j = NULL;
	long code = engine(sock, "POST", "/containers/create", body, &j);
	char *id = NULL;

	if (code == 201 && ts_json_str(j, "Id") != NULL)
		id = berth_strdup(ts_json_str(j, "Id"));
	else
		print_error("engine create: %ld\n", code);
	json_decref(j);
	free(body);
	return id;
}

/* The state berth lists for container `id` ("" when not listed), or
 * NULL when the list call failed. */
static const char *listed_state(const struct ts_berth *b, const char *id,
                                char *buf, size_t len)
{
	char *path = berth_asprintf(
	    "/api/v1/containers?all=1&label=berth.test=%s", ts_run_label());
	json_t *j = NULL, *c;
	size_t i;
	long code = ts_http(b->base, "GET", path, NULL, b->token, NULL, &j);
	const char *res = NULL;

	free(path);
	if (code != 200)
		print_error("list: HTTP %ld\n", code);
	if (code == 200) {
		buf[0] = '\0';
		res = buf;
		json_array_foreach(json_object_get(j, "containers"), i, c)
		{
			const char *cid = ts_json_str(c, "id");

			if (cid != NULL && strcmp(cid, id) == 0)
				snprintf(buf, len, "%s",
				         ts_json_str(c, "state") != NULL
				             ? ts_json_str(c, "state")
				             : "?");
		}
	}
	json_decref(j);
	return res;
}

/* Milliseconds until berth lists `id` in `want` ("" = not listed); -1
 * when that does not happen within 3 s. */
static int64_t until_listed(const struct ts_berth *b, const char *id,
                            const char *want)
{
	int64_t t0 = ts_now_ms();
	char st[32];
	const char *s = NULL;

	while (ts_now_ms() - t0 < 3000) {
		s = listed_state(b, id, st, sizeof(st));
		if (s != NULL && strcmp(s, want) == 0)
			return ts_now_ms() - t0;
		usleep(POLL_US);
	}
	print_error("wanted state \"%s\", berth lists \"%s\"\n", want,
	            s != NULL ? s : "(list failed)");
	return -1;
}

/* The berth a test started, stopped by the teardown even when an
 * assertion ended the test early. */
static struct ts_berth b;
static char *saved_socket;
static char *priv_dir;   /* a private dockerd's folder, while it runs */
static pid_t podman_pid; /* a private Podman API service, while it runs */
static char *podman_dir; /* its folder (socket, containers.conf, events) */

static int run_script(const char *const *argv, char *out, size_t outlen);

static int stop_berth(void **state)
{
	(void)state;
	unsetenv("BERTH_PODMAN_EVENTS_FILE");
	if (b.pid > 0)
		ts_berth_stop(&b);
	if (priv_dir != NULL) {
		const char *stop[] = { "tests/harness/private-dockerd", "stop",
			               priv_dir, NULL };

		run_script(stop, NULL, 0);
		ts_rmtree(priv_dir);
		free(priv_dir);
		priv_dir = NULL;
	}
	if (podman_pid > 0) {
		kill(podman_pid, SIGTERM);
		waitpid(podman_pid, NULL, 0);
		podman_pid = 0;
	}
	if (podman_dir != NULL) {
		ts_rmtree(podman_dir);
		free(podman_dir);
		podman_dir = NULL;
	}
	if (saved_socket != NULL) {
		setenv("BERTH_TEST_DOCKER_SOCKET", saved_socket, 1);
		free(saved_socket);
		saved_socket = NULL;
	}
	return 0;
}

static void test_behind_the_back_within_200ms(void **state)
{
	const char *sock = ts_docker_socket();
	char *id, *path;
	int64_t ms;

	(void)state;
	assert_int_equal(ts_berth_start(&b, NULL, 0, NULL), 0);
	/* The cache is in sync once berth lists what the engine has. */
	usleep(300 * 1000);

	id = engine_create(sock, "sleep 30");
	assert_non_null(id);
	ms = until_listed(&b, id, "created");
	print_message("created behind berth's back: listed after %lld ms\n",
	              (long long)ms);
	assert_true(ms >= 0 && ms <= VISIBLE_MS);

	path = berth_asprintf("/containers/%s/start", id);
	assert_int_equal(engine(sock, "POST", path, NULL, NULL), 204);
	free(path);
	ms = until_listed(&b, id, "running");
	print_message("started: seen after %lld ms\n", (long long)ms);
	assert_true(ms >= 0 && ms <= VISIBLE_MS);

	path = berth_asprintf("/containers/%s/kill", id);
	assert_int_equal(engine(sock, "POST", path, NULL, NULL), 204);
	free(path);
	ms = until_listed(&b, id, "exited");
	print_message("killed: seen after %lld ms\n", (long long)ms);
	assert_true(ms >= 0 && ms <= VISIBLE_MS);

	path = berth_asprintf("/containers/%s?force=1", id);
	assert_int_equal(engine(sock, "DELETE", path, NULL, NULL), 204);
	free(path);
	ms = until_listed(&b, id, "");
	print_message("removed: gone after %lld ms\n", (long long)ms);
	assert_true(ms >= 0 && ms <= VISIBLE_MS);

	/* Inspect from memory agrees with the engine. */
	{
		json_t *j = NULL;
		char *p = berth_asprintf("/api/v1/containers/%s", id);

		assert_int_equal(
		    ts_http(b.base, "GET", p, NULL, b.token, NULL, &j), 404);
		json_decref(j);
		free(p);
	}
	free(id);
	assert_int_equal(ts_berth_stop(&b), 0);
}

static void test_podman_stream_fallback(void **state)
{
	const char *sock = ts_docker_socket();
	char *id, *path;
	int64_t ms;

	(void)state;
	if (!ts_engine_is_podman()) {
		print_message("skipped: Podman only\n");
		return;
	}
	setenv("BERTH_PODMAN_EVENTS_FILE", "/nonexistent/berth/events.log", 1);
	assert_int_equal(ts_berth_start(&b, NULL, 0, NULL), 0);
	unsetenv("BERTH_PODMAN_EVENTS_FILE");
	usleep(300 * 1000);

	id = engine_create(sock, "sleep 30");
	assert_non_null(id);
	ms = until_listed(&b, id, "created");
	print_message("stream fallback: created listed after %lld ms\n",
	              (long long)ms);
	/* The API's stream is up to 250 ms late, and a second late at its
	 * start: only that it arrives is asserted. */
	assert_true(ms >= 0);
	path = berth_asprintf("/containers/%s?force=1", id);
	assert_int_equal(engine(sock, "DELETE", path, NULL, NULL), 204);
	free(path);
	ms = until_listed(&b, id, "");
	print_message("stream fallback: removed gone after %lld ms\n",
	              (long long)ms);
	assert_true(ms >= 0 && ms <= 1000);
	free(id);
	assert_int_equal(ts_berth_stop(&b), 0);
}

/* The inode of `path`, 0 when it cannot be read. Podman's rotation
 * renames a new file over the old one. */
static ino_t inode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_ino : 0;
}

static void test_podman_rotation(void **state)
{
	const char *argv[]
	    = { "podman", "system", "service", "--time=0", NULL, NULL };
	char *conf, *events, *sock, *url, *text;
	int rotations = 0;
	ino_t ino;

	(void)state;
	if (!ts_engine_is_podman()) {
		print_message("skipped: Podman only\n");
		return;
	}
	podman_dir = ts_tmpdir("cache-podman");
	conf = berth_asprintf("%s/containers.conf", podman_dir);
	events = berth_asprintf("%s/events.log", podman_dir);
	sock = berth_asprintf("%s/podman.sock", podman_dir);
	url = berth_asprintf("unix://%s", sock);
	/* About 16 events per file: a rotation every 8 containers. */
	text = berth_asprintf(
	    "[containers]\ndefault_ulimits = [\"nofile=1024:1024\","
	    "\"nproc=4096:4096\"]\n[engine]\nevents_logger = \"file\"\n"
	    "events_logfile_path = \"%s\"\nevents_logfile_max_size = 4000\n",
	    events);
	{
		FILE *f = fopen(conf, "we");

		assert_non_null(f);
		fputs(text, f);
		fclose(f);
	}
	argv[4] = url;
	setenv("CONTAINERS_CONF", conf, 1);
	assert_int_equal(posix_spawnp(&podman_pid, "podman", NULL, NULL,
	                              (char **)argv, environ),
	                 0);
	unsetenv("CONTAINERS_CONF");
	for (int i = 0; i < 100; i++) {
		if (engine(sock, "GET", "/_ping", NULL, NULL) == 200)
			break;
		usleep(100 * 1000);
	}
	assert_int_equal(engine(sock, "GET", "/_ping", NULL, NULL), 200);

	saved_socket = berth_strdup(ts_docker_socket());
	setenv("BERTH_TEST_DOCKER_SOCKET", sock, 1);
	setenv("BERTH_PODMAN_EVENTS_FILE", events, 1);
	assert_int_equal(ts_berth_start(&b, NULL, 0, NULL), 0);
	usleep(300 * 1000);

	ino = inode_of(events);
	for (int i = 0; i < 30; i++) {
		char *id = engine_create(sock, "true");
		char *path;
		int64_t created, gone;

		assert_non_null(id);
		created = until_listed(&b, id, "created");
		path = berth_asprintf("/containers/%s?force=1", id);
		assert_int_equal(engine(sock, "DELETE", path, NULL, NULL), 204);
		free(path);
		gone = until_listed(&b, id, "");
		if (created < 0 || created > VISIBLE_MS || gone < 0
		    || gone > VISIBLE_MS)
			print_error("container %d: listed after %lld ms, gone "
			            "after %lld ms\n",
			            i, (long long)created, (long long)gone);
		assert_true(created >= 0 && created <= VISIBLE_MS);
		assert_true(gone >= 0 && gone <= VISIBLE_MS);
		free(id);
		if (inode_of(events) != ino) {
			ino = inode_of(events);
			rotations++;
		}
	}
	print_message("30 containers across %d rotations of Podman's event "
	              "file: each listed and gone within %d ms\n",
	              rotations, VISIBLE_MS);
	assert_true(rotations >= 2);
	assert_int_equal(ts_berth_stop(&b), 0);
	free(conf);
	free(events);
	free(sock);
	free(url);
	free(text);
}

/* Runs a harness script with argv only; its first output line in
 * `out`. */
static int run_script(const char *const *argv, char *out, size_t outlen)
{
	posix_spawn_file_actions_t fa;
	char *path = berth_asprintf("/tmp/cache-script-%ld", (long)getpid());
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

static void test_resync_after_engine_restart(void **state)
{
	char *dir = ts_tmpdir("cache-engine");
	const char *start[]
	    = { "tests/harness/private-dockerd", "start", dir, NULL };
	const char *stop[]
	    = { "tests/harness/private-dockerd", "stop", dir, NULL };
	char sock[512];
	char *shared = berth_strdup(ts_docker_socket());
	char *a = NULL, *c = NULL, *path;
	int64_t ms;

	(void)state;
	if (ts_engine_is_podman()) {
		print_message("skipped: private dockerd only\n");
		free(shared);
		ts_rmtree(dir);
		free(dir);
		return;
	}
	priv_dir = berth_strdup(dir);
	assert_int_equal(run_script(start, sock, sizeof(sock)), 0);
	{
		const char *mk[] = { "tests/harness/make-busybox-image", sock,
			             ts_test_image(), NULL };

		assert_int_equal(run_script(mk, NULL, 0), 0);
	}
	saved_socket = berth_strdup(shared);
	setenv("BERTH_TEST_DOCKER_SOCKET", sock, 1);
	assert_int_equal(ts_berth_start(&b, NULL, 0, NULL), 0);

	a = engine_create(sock, "true");
	assert_non_null(a);
	assert_true(until_listed(&b, a, "created") >= 0);

	/* Down and up: the stream breaks, berth reads from the engine
	 * meanwhile, and resyncs once the engine is back. */
	assert_int_equal(run_script(stop, NULL, 0), 0);
	assert_int_equal(run_script(start, sock, sizeof(sock)), 0);
	path = berth_asprintf("/containers/%s?force=1", a);
	assert_int_equal(engine(sock, "DELETE", path, NULL, NULL), 204);
	free(path);
	c = engine_create(sock, "true");
	assert_non_null(c);

	ms = until_listed(&b, c, "created");
	print_message("after the restart: new container listed after %lld "
	              "ms\n",
	              (long long)ms);
	assert_true(ms >= 0);
	assert_true(until_listed(&b, a, "") >= 0);
	/* And the cache follows the new stream again: a change after the
	 * resync is seen within the bound. */
	path = berth_asprintf("/containers/%s?force=1", c);
	assert_int_equal(engine(sock, "DELETE", path, NULL, NULL), 204);
	free(path);
	ms = until_listed(&b, c, "");
	assert_true(ms >= 0 && ms <= VISIBLE_MS + 2000);

	assert_int_equal(ts_berth_stop(&b), 0);
	run_script(stop, NULL, 0);
	free(priv_dir);
	priv_dir = NULL;
	setenv("BERTH_TEST_DOCKER_SOCKET", shared, 1);
	free(shared);
	free(a);
	free(c);
	ts_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_behind_the_back_within_200ms,
		                          stop_berth),
		cmocka_unit_test_teardown(test_podman_stream_fallback,
		                          stop_berth),
		cmocka_unit_test_teardown(test_podman_rotation, stop_berth),
		cmocka_unit_test_teardown(test_resync_after_engine_restart,
		                          stop_berth),
	};

	return cmocka_run_group_tests_name("cache", tests, NULL, NULL);
}
