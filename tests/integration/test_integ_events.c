/*
 * test_integ_events.c: Server-Sent Events and wait, through REST against
 * a real `berth serve` and the real engine.
 *
 * - an SSE client filtered on one container's name receives its
 *   create, start, die (with the exit code) and destroy, in that order,
 *   with strictly increasing ids; wait answers the exit code;
 * - an SSE client on type=job sees a pull from a loopback registry go
 *   queued -> running -> succeeded;
 * - wait on a remove_on_exit (AutoRemove) container that already ended
 *   and was removed still answers its exit code with removed=true;
 * - a wait that times out answers 504 DEADLINE_EXCEEDED, retryable,
 *   quickly;
 * - SSE clients that disconnect give back their descriptors (counted in
 *   /proc/<pid>/fd of berth serve);
 * - bad input: 400 naming the field;
 * - scaled out (gateway --runtime-listen, runtime --dial), the runtime
 *   dials its publisher to the gateway's events address and the
 *   gateway's SSE clients get its events.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/alloc.h"
#include "lib/buf.h"
#include "lib/engine_http.h"
#include "tests/support/berthproc.h"
#include "tests/support/registry.h"
#include "tests/support/testsupport.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct ts_berth berth;

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
	long code = ts_http(berth.base, method, path, body, berth.token, NULL,
	                    out != NULL ? out : &ignored);

	json_decref(ignored);
	return code;
}

/* --- a minimal SSE client over a plain socket ------------------------ */

struct sse {
	int fd;
	char buf[256 * 1024];
	size_t len;
};

struct sse_rec {
	unsigned long long id;
	char event[32];
	json_t *data; /* owned */
};

/* Opens GET `path` with the admin token; reads the response head.
 * Returns 0, or -1. */
static int sse_open(struct sse *s, const char *path)
{
	struct sockaddr_in sa;
	char *rq;
	char *end;

	memset(s, 0, sizeof(*s));
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)berth.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(s->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return -1;
	rq = berth_asprintf("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	                    "Authorization: Bearer %s\r\n"
	                    "Accept: text/event-stream\r\n\r\n",
	                    path, berth.token);
	if (write(s->fd, rq, strlen(rq)) != (ssize_t)strlen(rq)) {
		free(rq);
		return -1;
	}
	free(rq);
	/* The head, within 5 s. */
	for (int i = 0; i < 50; i++) {
		struct pollfd p = { s->fd, POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = read(s->fd, s->buf + s->len, sizeof(s->buf) - 1 - s->len);
		if (n <= 0)
			return -1;
		s->len += (size_t)n;
		s->buf[s->len] = '\0';
		end = strstr(s->buf, "\r\n\r\n");
		if (end != NULL) {
			if (strncmp(s->buf, "HTTP/1.1 200", 12) != 0) {
				print_error("SSE head: %.80s\n", s->buf);
				return -1;
			}
			end += 4;
			s->len -= (size_t)(end - s->buf);
			memmove(s->buf, end, s->len);
			return 0;
		}
	}
	return -1;
}

static void sse_close(struct sse *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/*
 * Removes chunked framing lines: the body is chunked, so between SSE
 * lines there are hex size lines. SSE lines never consist of hex digits
 * alone, so a line of only hex digits is a chunk size and is dropped.
 */
static bool is_chunk_size(const char *line, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((line[i] >= '0' && line[i] <= '9')
		      || (line[i] >= 'a' && line[i] <= 'f')
		      || (line[i] >= 'A' && line[i] <= 'F')))
			return false;
	return true;
}

/*
 * The next SSE record (comments skipped), waiting up to `ms`.
 * Returns 0 with `*r` filled, -1 on timeout or a closed stream.
 */
static int sse_next(struct sse *s, struct sse_rec *r, int ms)
{
	int64_t deadline = ts_now_ms() + ms;
	char line[64 * 1024];
	size_t ll = 0;

	memset(r, 0, sizeof(*r));
	for (;;) {
		char *nl;

		while ((nl = memchr(s->buf, '\n', s->len)) != NULL) {
			size_t n = (size_t)(nl - s->buf);

			if (n > 0 && s->buf[n - 1] == '\r')
				n--;
			if (n < sizeof(line))
				memcpy(line, s->buf, n);
			ll = n < sizeof(line) ? n : 0;
			line[ll] = '\0';
			s->len -= (size_t)(nl + 1 - s->buf);
			memmove(s->buf, nl + 1, s->len);
			if (is_chunk_size(line, ll))
				continue;
			if (ll == 0) {
				if (r->data != NULL || r->event[0] != '\0')
					return 0;
				continue;
			}
			if (strncmp(line, "id: ", 4) == 0)
				r->id = strtoull(line + 4, NULL, 10);
			else if (strncmp(line, "event: ", 7) == 0)
				snprintf(r->event, sizeof(r->event), "%.31s",
				         line + 7);
			else if (strncmp(line, "data: ", 6) == 0)
				r->data = json_loads(line + 6, 0, NULL);
		}
		{
			struct pollfd p = { s->fd, POLLIN, 0 };
			int64_t left = deadline - ts_now_ms();
			ssize_t n;

			if (left <= 0)
				return -1;
			if (poll(&p, 1, (int)left) <= 0)
				return -1;
			n = read(s->fd, s->buf + s->len,
			         sizeof(s->buf) - 1 - s->len);
			if (n <= 0)
				return -1;
			s->len += (size_t)n;
		}
	}
}

/* --- engine helper ---------------------------------------------------- */

static long engine(const char *method, const char *path, const char *body,
                   json_t **out)
{
	struct berth_http_target t
	    = { .socket_path = ts_docker_socket(), .display = "test engine" };
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
	if (out != NULL)
		*out = reply.len > 0
		    ? json_loadb(reply.data, reply.len, 0, NULL)
		    : NULL;
	berth_buf_fini(&reply);
	free(full);
	return status;
}

/* --- tests ------------------------------------------------------------ */

static void test_sse_lifecycle_in_order(void **state)
{
	char *name
	    = berth_asprintf("ev-%s-%ld", ts_run_label(), (long)getpid());
	char *path
	    = berth_asprintf("/api/v1/events?type=container&id=%s", name);
	char *body, *p;
	const char *want[] = { "create", "start", "die", "destroy" };
	size_t next = 0;
	unsigned long long last_id = 0;
	struct sse s;
	json_t *j = NULL;
	char *id;

	(void)state;
	assert_int_equal(sse_open(&s, path), 0);
	body = berth_asprintf("{\"image\":\"%s\",\"name\":\"%s\","
	                      "\"command\":[\"sh\",\"-c\",\"exit 7\"],"
	                      "\"labels\":{\"berth-test\":\"%s\"}}",
	                      ts_test_image(), name, ts_run_label());
	assert_int_equal(req("POST", "/api/v1/containers", body, &j), 201);
	id = berth_strdup(ts_json_str(j, "id"));
	json_decref(j);
	p = berth_asprintf("/api/v1/containers/%s/start", id);
	assert_int_equal(req("POST", p, NULL, NULL), 204);
	free(p);
	p = berth_asprintf("/api/v1/containers/%s/wait?timeout_ms=10000", id);
	assert_int_equal(req("POST", p, NULL, &j), 200);
	assert_int_equal(json_integer_value(json_object_get(j, "exit_code")),
	                 7);
	assert_true(json_is_false(json_object_get(j, "removed")));
	json_decref(j);
	free(p);
	p = berth_asprintf("/api/v1/containers/%s", id);
	assert_int_equal(req("DELETE", p, NULL, NULL), 204);
	free(p);

	while (next < 4) {
		struct sse_rec r;

		if (sse_next(&s, &r, 5000) != 0)
			fail_msg("no '%s' event within 5 s", want[next]);
		assert_string_equal(r.event, "container");
		assert_true(r.id > last_id);
		last_id = r.id;
		assert_string_equal(ts_json_str(r.data, "id"), id);
		if (strcmp(ts_json_str(r.data, "action"), want[next]) == 0) {
			if (next == 2)
				assert_int_equal(
				    json_integer_value(
				        json_object_get(r.data, "exit_code")),
				    7);
			next++;
		}
		json_decref(r.data);
	}
	sse_close(&s);
	free(id);
	free(body);
	free(path);
	free(name);
}

static void test_sse_job_events(void **state)
{
	struct ts_registry reg;
	struct sse s;
	char *ref = NULL, *body, *job_id;
	json_t *j = NULL;
	bool queued = false, running = false, succeeded = false;

	(void)state;
	if (!ts_registry_available() || ts_engine_is_podman()) {
		print_message("skipped: needs docker-registry and the docker "
		              "engine (pushes go through it)\n");
		return;
	}
	memset(&reg, 0, sizeof(reg));
	assert_int_equal(ts_registry_start(&reg), 0);
	assert_int_equal(
	    ts_registry_push(&reg, ts_test_image(), "ev-pull", "v1", &ref), 0);
	ts_engine_image_remove(ref, false);

	assert_int_equal(sse_open(&s, "/api/v1/events?type=job"), 0);
	body = berth_asprintf("{\"image\":\"%s\"}", ref);
	assert_int_equal(req("POST", "/api/v1/images/pull", body, &j), 202);
	job_id = berth_strdup(ts_json_str(j, "id"));
	json_decref(j);
	for (int i = 0; i < 200 && !succeeded; i++) {
		struct sse_rec r;
		const char *act;
		json_t *job;

		if (sse_next(&s, &r, 10000) != 0)
			break;
		assert_string_equal(r.event, "job");
		job = json_object_get(r.data, "job");
		act = ts_json_str(r.data, "action");
		if (strcmp(ts_json_str(job, "id"), job_id) == 0) {
			if (strcmp(act, "queued") == 0) {
				assert_false(running);
				queued = true;
			}
			if (strcmp(act, "running") == 0) {
				assert_true(queued);
				running = true;
			}
			if (strcmp(act, "succeeded") == 0) {
				assert_true(running);
				assert_string_equal(ts_json_str(job, "state"),
				                    "succeeded");
				succeeded = true;
			}
			assert_true(strcmp(act, "failed") != 0);
		}
		json_decref(r.data);
	}
	assert_true(succeeded);
	sse_close(&s);
	free(job_id);
	free(body);
	free(ref);
	ts_registry_stop(&reg);
}

static void test_wait_after_auto_remove(void **state)
{
	char *body = berth_asprintf(
	    "{\"Image\":\"%s\",\"Cmd\":[\"sh\",\"-c\",\"exit 5\"],"
	    "\"Labels\":{\"berth.test\":\"%s\"},"
	    "\"HostConfig\":{\"AutoRemove\":true}}",
	    ts_test_image(), ts_run_label());
	json_t *j = NULL;
	char *id, *p;
	long code = 0;

	(void)state;
	assert_int_equal(engine("POST", "/containers/create", body, &j), 201);
	id = berth_strdup(ts_json_str(j, "Id"));
	json_decref(j);
	p = berth_asprintf("/containers/%s/start", id);
	assert_int_equal(engine("POST", p, NULL, NULL), 204);
	free(p);
	/* Gone from the engine first. */
	p = berth_asprintf("/containers/%s/json", id);
	for (int i = 0; i < 100 && code != 404; i++) {
		code = engine("GET", p, NULL, NULL);
		if (code != 404)
			usleep(50 * 1000);
	}
	free(p);
	assert_int_equal(code, 404);

	p = berth_asprintf("/api/v1/containers/%s/wait", id);
	assert_int_equal(req("POST", p, NULL, &j), 200);
	assert_int_equal(json_integer_value(json_object_get(j, "exit_code")),
	                 5);
	assert_true(json_is_true(json_object_get(j, "removed")));
	json_decref(j);
	free(p);
	free(id);
	free(body);
}

/* A wait that arrives while a remove_on_exit container still runs
 * answers once it is gone, with its exit code and removed=true. */
static void test_wait_on_running_auto_remove(void **state)
{
	char *body = berth_asprintf(
	    "{\"Image\":\"%s\",\"Cmd\":[\"sh\",\"-c\",\"sleep 1; exit 4\"],"
	    "\"Labels\":{\"berth.test\":\"%s\"},"
	    "\"HostConfig\":{\"AutoRemove\":true}}",
	    ts_test_image(), ts_run_label());
	json_t *j = NULL;
	char *id, *p;

	(void)state;
	assert_int_equal(engine("POST", "/containers/create", body, &j), 201);
	id = berth_strdup(ts_json_str(j, "Id"));
	json_decref(j);
	p = berth_asprintf("/containers/%s/start", id);
	assert_int_equal(engine("POST", p, NULL, NULL), 204);
	free(p);
	p = berth_asprintf("/api/v1/containers/%s/wait?timeout_ms=20000", id);
	assert_int_equal(req("POST", p, NULL, &j), 200);
	assert_int_equal(json_integer_value(json_object_get(j, "exit_code")),
	                 4);
	assert_true(json_is_true(json_object_get(j, "removed")));
	json_decref(j);
	free(p);
	/* Gone from the engine when the wait answered. */
	p = berth_asprintf("/containers/%s/json", id);
	assert_int_equal(engine("GET", p, NULL, NULL), 404);
	free(p);
	free(id);
	free(body);
}

static void test_wait_timeout_is_504(void **state)
{
	char *body
	    = berth_asprintf("{\"image\":\"%s\",\"command\":[\"sleep\","
	                     "\"30\"],\"labels\":{\"berth-test\":\"%s\"}}",
	                     ts_test_image(), ts_run_label());
	json_t *j = NULL;
	char *id, *p;
	int64_t t0, ms;

	(void)state;
	assert_int_equal(req("POST", "/api/v1/containers", body, &j), 201);
	id = berth_strdup(ts_json_str(j, "id"));
	json_decref(j);
	p = berth_asprintf("/api/v1/containers/%s/start", id);
	assert_int_equal(req("POST", p, NULL, NULL), 204);
	free(p);
	p = berth_asprintf("/api/v1/containers/%s/wait?timeout_ms=300", id);
	t0 = ts_now_ms();
	assert_int_equal(req("POST", p, NULL, &j), 504);
	ms = ts_now_ms() - t0;
	print_message("wait timeout answered after %lld ms\n", (long long)ms);
	assert_true(ms < 2500);
	assert_string_equal(ts_error_code(j), "DEADLINE_EXCEEDED");
	assert_true(json_is_true(
	    json_object_get(json_object_get(j, "error"), "retryable")));
	json_decref(j);
	free(p);
	p = berth_asprintf("/api/v1/containers/%s?force=1", id);
	assert_int_equal(req("DELETE", p, NULL, NULL), 204);
	free(p);
	free(id);
	free(body);
}

static void test_bad_input(void **state)
{
	json_t *j = NULL;

	(void)state;
	assert_int_equal(
	    req("POST", "/api/v1/containers/x/wait?timeout_ms=abc", NULL, &j),
	    400);
	assert_non_null(strstr(
	    ts_json_str(json_object_get(j, "error"), "message"), "timeout_ms"));
	json_decref(j);
	assert_int_equal(
	    req("POST", "/api/v1/containers/x/wait?condition=gone", NULL, &j),
	    400);
	json_decref(j);
	assert_int_equal(req("GET", "/api/v1/events?type=image", NULL, &j),
	                 400);
	assert_non_null(strstr(
	    ts_json_str(json_object_get(j, "error"), "message"), "type"));
	json_decref(j);
	assert_int_equal(req("GET", "/api/v1/events?what=1", NULL, &j), 400);
	json_decref(j);
	assert_int_equal(
	    req("POST", "/api/v1/containers/nope-xyz-404/wait", NULL, &j), 404);
	json_decref(j);
}

static int count_fds(pid_t pid)
{
	char path[64];
	DIR *d;
	struct dirent *e;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	d = opendir(path);
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/*
 * How many of the connections from client ports `ports` berth still
 * holds a descriptor for: entries of /proc/<pid>/net/tcp with the
 * gateway's local port, one of those remote ports, and an owning
 * inode. (The total descriptor count also moves with the runtime's
 * engine connections and other tests' keep-alive sockets.)
 */
static int held_sockets(pid_t pid, int port, const unsigned *ports,
                        size_t nports)
{
	char path[64], line[512];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%ld/net/tcp", (long)pid);
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned lport = 0, rport = 0, st = 0;
		unsigned long inode = 0;
		char local[64], remote[64];

		if (sscanf(line, " %*d: %63s %63s %x %*s %*s %*s %*s %*s %lu",
		           local, remote, &st, &inode)
		        != 4
		    || strchr(local, ':') == NULL
		    || strchr(remote, ':') == NULL)
			continue;
		if (sscanf(strchr(local, ':') + 1, "%x", &lport) != 1
		    || sscanf(strchr(remote, ':') + 1, "%x", &rport) != 1)
			continue;
		if ((int)lport != port || inode == 0)
			continue;
		for (size_t i = 0; i < nports; i++)
			if (ports[i] == rport)
				n++;
	}
	fclose(f);
	return n;
}

static void test_sse_disconnect_frees_fds(void **state)
{
	struct sse s[8];
	unsigned ports[8];
	int during, after = -1, fds_before, fds_after;

	(void)state;
	fds_before = count_fds(berth.pid);
	for (int i = 0; i < 8; i++) {
		struct sockaddr_in sa;
		socklen_t len = sizeof(sa);

		assert_int_equal(sse_open(&s[i], "/api/v1/events"), 0);
		assert_int_equal(
		    getsockname(s[i].fd, (struct sockaddr *)&sa, &len), 0);
		ports[i] = ntohs(sa.sin_port);
	}
	during = held_sockets(berth.pid, berth.port, ports, 8);
	assert_int_equal(during, 8);
	for (int i = 0; i < 8; i++)
		sse_close(&s[i]);
	/* Noticed within about a second: the feed pokes idle streams
	 * every second and a poked pump looks at its client's socket. */
	for (int i = 0; i < 50; i++) {
		after = held_sockets(berth.pid, berth.port, ports, 8);
		if (after == 0)
			break;
		usleep(100 * 1000);
	}
	fds_after = count_fds(berth.pid);
	print_message("SSE sockets held: %d with the clients, %d after they "
	              "left; all fds %d -> %d\n",
	              during, after, fds_before, fds_after);
	assert_int_equal(after, 0);
}

static void test_scaled_out_events(void **state)
{
	char *dir = ts_tmpdir("ev-scale");
	char *rt_data = berth_asprintf("%s/runtime", dir);
	char *url = berth_asprintf("ipc://%s/rt.sock", dir);
	char *ev_url = berth_asprintf("ipc://%s/ev.sock", dir);
	char *name
	    = berth_asprintf("ev-scale-%s-%ld", ts_run_label(), (long)getpid());
	char *path = berth_asprintf("/api/v1/events?id=%s", name);
	const char *gw_args[]
	    = { "--role",           "gateway",      "--runtime-url", url,
		"--runtime-listen", "--events-url", ev_url,          NULL };
	struct ts_berth gw, rt, saved = berth;
	struct sse s;
	struct sse_rec r;
	json_t *j = NULL;
	char *body;
	bool created = false;

	(void)state;
	assert_int_equal(ts_berth_start(&gw, NULL, 0, gw_args), 0);
	setenv("BERTH_EVENTS_URL", ev_url, 1);
	assert_int_equal(ts_berth_start_runtime_dial(&rt, rt_data, url, true),
	                 0);
	unsetenv("BERTH_EVENTS_URL");
	/* The SSE helper talks to `berth`: point it at this gateway. */
	berth = gw;
	for (int i = 0; i < 50; i++) {
		if (req("GET", "/api/v1/containers", NULL, NULL) == 200)
			break;
		usleep(100 * 1000);
	}
	assert_int_equal(sse_open(&s, path), 0);
	/* The PUB side dials in the background: give it a moment. */
	usleep(500 * 1000);
	body = berth_asprintf("{\"image\":\"%s\",\"name\":\"%s\","
	                      "\"labels\":{\"berth-test\":\"%s\"}}",
	                      ts_test_image(), name, ts_run_label());
	assert_int_equal(req("POST", "/api/v1/containers", body, &j), 201);
	json_decref(j);
	while (!created && sse_next(&s, &r, 5000) == 0) {
		created = strcmp(ts_json_str(r.data, "action"), "create") == 0;
		assert_non_null(
		    strstr(ts_json_str(r.data, "source"), "runtime@"));
		json_decref(r.data);
	}
	sse_close(&s);
	{
		char *p = berth_asprintf("/api/v1/containers/%s?force=1", name);

		assert_int_equal(req("DELETE", p, NULL, NULL), 204);
		free(p);
	}
	berth = saved;
	assert_true(created);
	assert_int_equal(ts_berth_stop(&rt), 0);
	assert_int_equal(ts_berth_stop(&gw), 0);
	free(body);
	free(path);
	free(name);
	free(ev_url);
	free(url);
	free(rt_data);
	ts_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sse_lifecycle_in_order),
		cmocka_unit_test(test_sse_job_events),
		cmocka_unit_test(test_wait_after_auto_remove),
		cmocka_unit_test(test_wait_on_running_auto_remove),
		cmocka_unit_test(test_wait_timeout_is_504),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_sse_disconnect_frees_fds),
		cmocka_unit_test(test_scaled_out_events),
	};

	return cmocka_run_group_tests_name("events", tests, setup, teardown);
}
