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
 * - replay on reconnect: a client back with Last-Event-ID (header or
 *   ?last_event_id=) gets exactly the records a client that stayed got
 *   in its absence, same ids, in order, then the live ones; one back
 *   with the newest id gets no replay; a foreign epoch, an id never
 *   issued or a replay larger than the client's queue gets one
 *   `event: reset` first; a malformed id is 400 naming the field;
 *   `berth events` resumes by itself across a gateway restart (and
 *   prints the reset);
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
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
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

/* Sizes: a replay of a few hundred KiB must fit in `body`. */
#define SSE_RAW_MAX  (64 * 1024)
#define SSE_BODY_MAX (1024 * 1024)

struct sse {
	int fd;
	int status;            /* HTTP status of the response */
	char raw[SSE_RAW_MAX]; /* bytes read, not yet de-chunked */
	size_t rawlen;
	char *body; /* de-chunked bytes not yet parsed (owned) */
	size_t blen;
	size_t chunk_left; /* data bytes left in the current chunk */
	bool chunk_crlf;   /* the CRLF after a chunk's data is due */
	bool ended;        /* the last chunk came, or the socket closed */
	char last_id[64];  /* as EventSource keeps it */
	json_t *error;     /* a non-200 response's JSON body (owned) */
};

struct sse_rec {
	char id[64]; /* "" when the record had none */
	unsigned long long epoch, seq;
	char event[32];
	json_t *data; /* owned */
};

/* Splits "<16 hex>-<seq>"; false when `id` is not of that form. */
static bool split_id(const char *id, unsigned long long *epoch,
                     unsigned long long *seq)
{
	char *end;

	if (strlen(id) < 18 || id[16] != '-')
		return false;
	*epoch = strtoull(id, &end, 16);
	if (end != id + 16)
		return false;
	*seq = strtoull(id + 17, &end, 10);
	return *end == '\0';
}

/* Reads once (up to `ms`) into raw. Returns bytes read, 0 on timeout,
 * -1 at the end of the connection. */
static ssize_t sse_read(struct sse *s, int ms)
{
	struct pollfd p = { s->fd, POLLIN, 0 };
	ssize_t n;

	if (s->rawlen == sizeof(s->raw))
		return 0;
	if (poll(&p, 1, ms) <= 0)
		return 0;
	n = read(s->fd, s->raw + s->rawlen, sizeof(s->raw) - s->rawlen);
	if (n <= 0)
		return -1;
	s->rawlen += (size_t)n;
	return n;
}

static void raw_drop(struct sse *s, size_t n)
{
	s->rawlen -= n;
	memmove(s->raw, s->raw + n, s->rawlen);
}

/* Moves what can be de-chunked from raw to body. */
static void dechunk(struct sse *s)
{
	for (;;) {
		if (s->chunk_crlf) {
			if (s->rawlen < 2)
				return;
			assert_memory_equal(s->raw, "\r\n", 2);
			raw_drop(s, 2);
			s->chunk_crlf = false;
		}
		if (s->chunk_left > 0) {
			size_t n = s->rawlen < s->chunk_left ? s->rawlen
			                                     : s->chunk_left;

			if (n == 0)
				return;
			assert_true(s->blen + n <= SSE_BODY_MAX);
			memcpy(s->body + s->blen, s->raw, n);
			s->blen += n;
			s->chunk_left -= n;
			raw_drop(s, n);
			if (s->chunk_left == 0)
				s->chunk_crlf = true;
			continue;
		}
		{
			char *crlf = memmem(s->raw, s->rawlen, "\r\n", 2);
			unsigned long n;

			if (crlf == NULL)
				return;
			*crlf = '\0';
			n = strtoul(s->raw, NULL, 16);
			raw_drop(s, (size_t)(crlf + 2 - s->raw));
			if (n == 0) {
				s->ended = true;
				return;
			}
			s->chunk_left = n;
		}
	}
}

/*
 * Opens GET `path` with the admin token and `header` (one extra
 * "Name: value" line, or NULL); reads the response head. Returns 0 with
 * s->status 200, or -1 (s->status and s->error say what came back).
 */
static int sse_open_h(struct sse *s, const char *path, const char *header)
{
	struct sockaddr_in sa;
	char *rq, *end;

	memset(s, 0, sizeof(*s));
	s->body = berth_malloc(SSE_BODY_MAX + 1);
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
	                    "Authorization: Bearer %s\r\n%s%s"
	                    "Accept: text/event-stream\r\n\r\n",
	                    path, berth.token, header != NULL ? header : "",
	                    header != NULL ? "\r\n" : "");
	if (write(s->fd, rq, strlen(rq)) != (ssize_t)strlen(rq)) {
		free(rq);
		return -1;
	}
	free(rq);
	/* The head, within 5 s. */
	for (int i = 0; i < 50; i++) {
		if (sse_read(s, 100) < 0)
			return -1;
		end = memmem(s->raw, s->rawlen, "\r\n\r\n", 4);
		if (end == NULL)
			continue;
		s->status = (int)strtol(s->raw + 9, NULL, 10);
		if (s->status == 200) {
			raw_drop(s, (size_t)(end + 4 - s->raw));
			return 0;
		}
		/* An error: a JSON body with Content-Length; take it. */
		for (int j = 0; j < 20 && s->error == NULL; j++) {
			char *b
			    = (char *)memmem(s->raw, s->rawlen, "\r\n\r\n", 4)
			    + 4;

			s->error = json_loadb(
			    b, s->rawlen - (size_t)(b - s->raw), 0, NULL);
			if (s->error == NULL && sse_read(s, 100) < 0)
				break;
		}
		return -1;
	}
	return -1;
}

static int sse_open(struct sse *s, const char *path)
{
	int rv = sse_open_h(s, path, NULL);

	if (rv != 0 && s->status != 0)
		print_error("SSE status %d\n", s->status);
	return rv;
}

static void sse_close(struct sse *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	free(s->body);
	s->body = NULL;
	json_decref(s->error);
	s->error = NULL;
}

/*
 * The next SSE record (comments skipped), waiting up to `ms`. A record
 * with an id but no data or event (the stream's opening comment, a
 * keepalive) counts only when `id_only` is set. Returns 0 with `*r`
 * filled, -1 on timeout or a closed stream.
 */
static int sse_next_x(struct sse *s, struct sse_rec *r, int ms, bool id_only)
{
	int64_t deadline = ts_now_ms() + ms;

	memset(r, 0, sizeof(*r));
	for (;;) {
		char *nl;

		dechunk(s);
		while ((nl = memchr(s->body, '\n', s->blen)) != NULL) {
			size_t n = (size_t)(nl - s->body);
			char *line = berth_strndup(s->body, n);

			s->blen -= n + 1;
			memmove(s->body, nl + 1, s->blen);
			if (n == 0) {
				bool done = r->data != NULL
				    || r->event[0] != '\0'
				    || (id_only && r->id[0] != '\0');

				free(line);
				if (r->id[0] != '\0') {
					snprintf(s->last_id, sizeof(s->last_id),
					         "%s", r->id);
					assert_true(split_id(r->id, &r->epoch,
					                     &r->seq));
				}
				if (done)
					return 0;
				memset(r, 0, sizeof(*r));
				continue;
			}
			if (strncmp(line, "id: ", 4) == 0)
				snprintf(r->id, sizeof(r->id), "%.63s",
				         line + 4);
			else if (strncmp(line, "event: ", 7) == 0)
				snprintf(r->event, sizeof(r->event), "%.31s",
				         line + 7);
			else if (strncmp(line, "data: ", 6) == 0)
				r->data = json_loads(line + 6, 0, NULL);
			free(line);
		}
		if (s->ended)
			return -1;
		{
			int64_t left = deadline - ts_now_ms();

			if (left <= 0)
				return -1;
			if (sse_read(s, (int)left) < 0)
				s->ended = true;
		}
	}
}

static int sse_next(struct sse *s, struct sse_rec *r, int ms)
{
	return sse_next_x(s, r, ms, false);
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
	unsigned long long last_seq = 0, epoch = 0;
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

		/* Podman's died event can trail the exit by seconds (its
		 * cleanup process writes it; seen once on a cold start). */
		if (sse_next(&s, &r, 15000) != 0)
			fail_msg("no '%s' event within 15 s", want[next]);
		assert_string_equal(r.event, "container");
		if (epoch == 0)
			epoch = r.epoch;
		assert_true(r.epoch == epoch);
		assert_true(r.seq > last_seq);
		last_seq = r.seq;
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

/* --- replay on reconnect (Last-Event-ID) ------------------------------ */

/* Creates a container named `name` running `cmd` (a shell line) with
 * the test label and `nbig` labels of 4000 bytes; returns its id. */
static char *make_container(const char *name, const char *cmd, int nbig)
{
	struct berth_buf labels;
	json_t *j = NULL;
	char *body, *id;

	berth_buf_init(&labels, 1024 * 1024);
	for (int i = 0; i < nbig; i++) {
		char key[32];

		snprintf(key, sizeof(key), ",\"big%d\":\"", i);
		assert_int_equal(berth_buf_append(&labels, key, strlen(key)),
		                 0);
		for (int k = 0; k < 4000; k++)
			assert_int_equal(berth_buf_append(&labels, "x", 1), 0);
		assert_int_equal(berth_buf_append(&labels, "\"", 1), 0);
	}
	assert_int_equal(berth_buf_append(&labels, "", 1), 0);
	body = berth_asprintf("{\"image\":\"%s\",\"name\":\"%s\","
	                      "\"command\":[\"sh\",\"-c\",\"%s\"],"
	                      "\"labels\":{\"berth-test\":\"%s\"%s}}",
	                      ts_test_image(), name, cmd, ts_run_label(),
	                      labels.data);
	assert_int_equal(req("POST", "/api/v1/containers", body, &j), 201);
	id = berth_strdup(ts_json_str(j, "id"));
	json_decref(j);
	free(body);
	berth_buf_fini(&labels);
	return id;
}

static void container_call(const char *method, const char *id,
                           const char *suffix, long want)
{
	char *p = berth_asprintf("/api/v1/containers/%s%s", id, suffix);

	assert_int_equal(req(method, p, NULL, NULL), want);
	free(p);
}

/* The id the stream's opening record carries (the newest). */
static void hello_id(struct sse *s, struct sse_rec *r)
{
	assert_int_equal(sse_next_x(s, r, 5000, true), 0);
	assert_string_equal(r->event, "");
	assert_null(r->data);
	assert_true(r->id[0] != '\0');
}

#define MAX_RECS 32

struct recs {
	struct sse_rec r[MAX_RECS];
	size_t n;
};

static void recs_fini(struct recs *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		json_decref(rs->r[i].data);
	rs->n = 0;
}

/* Collects `s`'s records until one with `action` came and then none for
 * `quiet_ms`. */
static void collect_until(struct sse *s, struct recs *rs, const char *action,
                          int quiet_ms)
{
	bool seen = false;

	for (int i = 0; i < MAX_RECS; i++) {
		struct sse_rec r;

		if (sse_next(s, &r, seen ? quiet_ms : 10000) != 0)
			break;
		assert_true(rs->n < MAX_RECS);
		if (strcmp(ts_json_str(r.data, "action"), action) == 0)
			seen = true;
		rs->r[rs->n++] = r;
	}
	if (!seen)
		fail_msg("no '%s' event within 10 s", action);
}

/* Reads `n` records from `s` and checks they are `want`'s, in order. */
static void expect_same(struct sse *s, const struct sse_rec *want, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct sse_rec r;

		if (sse_next(s, &r, 3000) != 0)
			fail_msg("record %zu of %zu (%s) was not replayed", i,
			         n, want[i].id);
		assert_string_equal(r.id, want[i].id);
		assert_string_equal(r.event, want[i].event);
		assert_true(json_equal(r.data, want[i].data));
		json_decref(r.data);
	}
}

/* The next record of `s` is the live `action` with `want_id`. */
static void expect_live(struct sse *s, const char *action, const char *want_id)
{
	struct sse_rec r;

	if (sse_next(s, &r, 10000) != 0)
		fail_msg("no live '%s' event", action);
	assert_string_equal(ts_json_str(r.data, "action"), action);
	assert_string_equal(r.id, want_id);
	json_decref(r.data);
}

/*
 * A client that left and comes back with the last id it saw gets
 * exactly the records it missed, in order, then the live stream: the
 * same records, with the same ids, as a client that stayed. One that
 * saw no event resumes from the id of the stream's opening record
 * (here through ?last_event_id=).
 */
static void test_sse_resume_replays_the_gap(void **state)
{
	char *name
	    = berth_asprintf("evr-%s-%ld", ts_run_label(), (long)getpid());
	char *path
	    = berth_asprintf("/api/v1/events?type=container&id=%s", name);
	char *hdr, *qpath, *id;
	struct sse a, b, c, d;
	struct sse_rec hello, r;
	struct recs stayed = { .n = 0 };
	char x1[64], destroy_id[64];

	(void)state;
	assert_int_equal(sse_open(&b, path), 0); /* the client that stays */
	assert_int_equal(sse_open(&a, path), 0);
	hello_id(&a, &hello);
	id = make_container(name, "sleep 0.3; exit 3", 0);
	assert_int_equal(sse_next(&a, &r, 10000), 0);
	assert_string_equal(ts_json_str(r.data, "action"), "create");
	assert_true(r.seq > hello.seq && r.epoch == hello.epoch);
	snprintf(x1, sizeof(x1), "%s", r.id);
	json_decref(r.data);
	sse_close(&a); /* gone: what follows is its gap */

	container_call("POST", id, "/start", 204);
	container_call("POST", id, "/wait?timeout_ms=10000", 200);
	collect_until(&b, &stayed, "die", 1500);
	assert_string_equal(stayed.r[0].id, x1);
	print_message("the staying client saw %zu records; the one that "
	              "left missed %zu\n",
	              stayed.n, stayed.n - 1);
	assert_true(stayed.n >= 3); /* create, start, die at least */

	/* Back with Last-Event-ID: the missed ones, nothing before, nothing
	 * twice. */
	hdr = berth_asprintf("Last-Event-ID: %s", x1);
	assert_int_equal(sse_open_h(&c, path, hdr), 0);
	expect_same(&c, stayed.r + 1, stayed.n - 1);
	assert_int_equal(sse_next(&c, &r, 700), -1);

	/* Never saw an event: resumes from the opening record's id. */
	qpath = berth_asprintf("%s&last_event_id=%s", path, hello.id);
	assert_int_equal(sse_open(&d, qpath), 0);
	expect_same(&d, stayed.r, stayed.n);
	assert_int_equal(sse_next(&d, &r, 700), -1);

	/* Then the live stream, the same for all three. */
	container_call("DELETE", id, "", 204);
	assert_int_equal(sse_next(&b, &r, 10000), 0);
	assert_string_equal(ts_json_str(r.data, "action"), "destroy");
	snprintf(destroy_id, sizeof(destroy_id), "%s", r.id);
	json_decref(r.data);
	expect_live(&c, "destroy", destroy_id);
	expect_live(&d, "destroy", destroy_id);

	sse_close(&d);
	sse_close(&c);
	sse_close(&b);
	recs_fini(&stayed);
	free(qpath);
	free(hdr);
	free(id);
	free(path);
	free(name);
}

/* A client that comes back with the newest id missed nothing: no
 * replay (not even of records before it), then the live stream. */
static void test_sse_resume_at_newest(void **state)
{
	char *name
	    = berth_asprintf("evn-%s-%ld", ts_run_label(), (long)getpid());
	char *path
	    = berth_asprintf("/api/v1/events?type=container&id=%s", name);
	char *hdr, *id;
	struct sse a, n, c;
	struct sse_rec r, newest;

	(void)state;
	assert_int_equal(sse_open(&a, path), 0);
	id = make_container(name, "sleep 30", 0);
	assert_int_equal(sse_next(&a, &r, 10000), 0);
	assert_string_equal(ts_json_str(r.data, "action"), "create");
	json_decref(r.data);
	/* The newest id now, from a new client's opening record. */
	assert_int_equal(sse_open(&n, "/api/v1/events"), 0);
	hello_id(&n, &newest);
	sse_close(&n);
	assert_true(newest.seq >= r.seq && newest.epoch == r.epoch);
	sse_close(&a);

	hdr = berth_asprintf("Last-Event-ID: %s", newest.id);
	assert_int_equal(sse_open_h(&c, path, hdr), 0);
	assert_int_equal(sse_next(&c, &r, 1000), -1); /* no replay */
	container_call("DELETE", id, "?force=1", 204);
	for (int i = 0; i < MAX_RECS; i++) {
		assert_int_equal(sse_next(&c, &r, 10000), 0);
		assert_string_equal(r.event, "container");
		assert_true(r.seq > newest.seq);
		if (strcmp(ts_json_str(r.data, "action"), "destroy") == 0) {
			json_decref(r.data);
			break;
		}
		json_decref(r.data);
	}
	sse_close(&c);
	free(hdr);
	free(id);
	free(path);
	free(name);
}

/* Checks a reset record: its id is the newest of our epoch, its data
 * says why and names the oldest id the gateway still has. */
static void check_reset(const struct sse_rec *r, const struct sse_rec *ours,
                        const char *reason)
{
	const char *msg, *oldest;
	unsigned long long e, q;

	assert_string_equal(r->event, "reset");
	assert_true(r->epoch == ours->epoch && r->seq >= ours->seq);
	assert_string_equal(ts_json_str(r->data, "reason"), reason);
	msg = ts_json_str(r->data, "message");
	assert_non_null(strstr(msg, "missed"));
	assert_string_equal(ts_json_str(r->data, "last_id"), r->id);
	if (json_is_null(json_object_get(r->data, "oldest_id")))
		return; /* nothing held yet */
	oldest = ts_json_str(r->data, "oldest_id");
	assert_true(split_id(oldest, &e, &q));
	assert_true(e == ours->epoch && q <= r->seq);
}

/* An id from another gateway process (foreign epoch) or one this
 * gateway never issued: one reset record first, then the live stream. */
static void test_sse_reset_on_foreign_or_unknown_id(void **state)
{
	char *name
	    = berth_asprintf("evf-%s-%ld", ts_run_label(), (long)getpid());
	char *path
	    = berth_asprintf("/api/v1/events?type=container&id=%s", name);
	char *hdr, *qpath, *id;
	struct sse n, c, d;
	struct sse_rec ours, r, reset;

	(void)state;
	assert_int_equal(sse_open(&n, "/api/v1/events"), 0);
	hello_id(&n, &ours);
	sse_close(&n);
	/* Another gateway's epoch: ours with one bit flipped. */
	hdr = berth_asprintf("Last-Event-ID: %016llx-%llu", ours.epoch ^ 1ull,
	                     ours.seq);
	assert_int_equal(sse_open_h(&c, path, hdr), 0);
	assert_int_equal(sse_next(&c, &reset, 3000), 0);
	check_reset(&reset, &ours, "foreign_id");
	{
		char *t = json_dumps(reset.data, JSON_COMPACT);

		print_message("reset: id %s data %s\n", reset.id, t);
		free(t);
	}
	/* Ours, but never issued. */
	qpath = berth_asprintf("%s&last_event_id=%016llx-%llu", path,
	                       ours.epoch, ours.seq + 1000000);
	assert_int_equal(sse_open(&d, qpath), 0);
	assert_int_equal(sse_next(&d, &r, 3000), 0);
	check_reset(&r, &ours, "expired_id");
	json_decref(r.data);
	/* A bare number (the ids of berth before epochs): foreign too, not
	 * refused, so a page open across the upgrade carries on. */
	{
		struct sse o;

		assert_int_equal(sse_open_h(&o, path, "Last-Event-ID: 496"), 0);
		assert_int_equal(sse_next(&o, &r, 3000), 0);
		check_reset(&r, &ours, "foreign_id");
		json_decref(r.data);
		sse_close(&o);
	}

	id = make_container(name, "sleep 30", 0);
	assert_int_equal(sse_next(&c, &r, 10000), 0);
	assert_string_equal(ts_json_str(r.data, "action"), "create");
	assert_true(r.seq > reset.seq);
	json_decref(r.data);
	assert_int_equal(sse_next(&d, &r, 10000), 0);
	assert_string_equal(ts_json_str(r.data, "action"), "create");
	json_decref(r.data);
	container_call("DELETE", id, "?force=1", 204);
	json_decref(reset.data);
	sse_close(&d);
	sse_close(&c);
	free(qpath);
	free(hdr);
	free(id);
	free(path);
	free(name);
}

/* The next event of container `id` within `ms`; -1 when none came. */
static int next_of(struct sse *c, const char *id, struct sse_rec *r, int ms)
{
	int64_t deadline = ts_now_ms() + ms;

	while (ts_now_ms() < deadline) {
		if (sse_next(c, r, (int)(deadline - ts_now_ms())) != 0)
			return -1;
		if (strcmp(ts_json_str(r->data, "id"), id) == 0)
			return 0;
		json_decref(r->data);
	}
	return -1;
}

/*
 * A container whose engine event is longer than 256 KiB (70 labels of
 * 4000 bytes) once stalled the feed: the runtime's event stream failed
 * on that line and replayed it on every reconnect. Its events now come
 * through without their labels, and the feed goes on.
 */
static void test_sse_huge_engine_event_does_not_stall(void **state)
{
	char *name
	    = berth_asprintf("evh-%s-%ld", ts_run_label(), (long)getpid());
	char *name2 = berth_asprintf("%s-after", name);
	char *id, *id2;
	struct sse c;
	struct sse_rec r;

	(void)state;
	assert_int_equal(sse_open(&c, "/api/v1/events?type=container"), 0);
	id = make_container(name, "exit 0", 70);
	assert_int_equal(next_of(&c, id, &r, 10000), 0);
	assert_string_equal(ts_json_str(r.data, "action"), "create");
	json_decref(r.data);
	container_call("DELETE", id, "", 204);
	assert_int_equal(next_of(&c, id, &r, 10000), 0);
	assert_string_equal(ts_json_str(r.data, "action"), "destroy");
	json_decref(r.data);
	/* And a plain container after it is seen, name and labels too. */
	id2 = make_container(name2, "exit 0", 0);
	assert_int_equal(next_of(&c, id2, &r, 10000), 0);
	assert_string_equal(ts_json_str(r.data, "action"), "create");
	assert_string_equal(ts_json_str(r.data, "name"), name2);
	json_decref(r.data);
	container_call("DELETE", id2, "", 204);
	sse_close(&c);
	free(id2);
	free(id);
	free(name2);
	free(name);
}

/* A replay larger than the client's queue (256 KiB) is not queued: the
 * client gets a reset instead. Each event of a container with 24 labels
 * of 4000 bytes is about 96 KiB. */
static void test_sse_replay_too_large_resets(void **state)
{
	char *name
	    = berth_asprintf("evl-%s-%ld", ts_run_label(), (long)getpid());
	char *path
	    = berth_asprintf("/api/v1/events?type=container&id=%s", name);
	char *hdr, *id;
	struct sse a, b, c;
	struct sse_rec hello, r;
	struct recs stayed = { .n = 0 };
	size_t bytes = 0;

	(void)state;
	assert_int_equal(sse_open(&b, path), 0);
	assert_int_equal(sse_open(&a, path), 0);
	hello_id(&a, &hello);
	sse_close(&a);
	id = make_container(name, "exit 0", 24);
	container_call("POST", id, "/start", 204);
	container_call("POST", id, "/wait?timeout_ms=10000", 200);
	container_call("DELETE", id, "", 204);
	collect_until(&b, &stayed, "destroy", 1000);
	for (size_t i = 0; i < stayed.n; i++) {
		char *t = json_dumps(stayed.r[i].data, JSON_COMPACT);

		bytes += strlen(t);
		free(t);
	}
	print_message("%zu records, %zu bytes of data to replay\n", stayed.n,
	              bytes);
	assert_true(bytes > 256 * 1024);
	hdr = berth_asprintf("Last-Event-ID: %s", hello.id);
	assert_int_equal(sse_open_h(&c, path, hdr), 0);
	assert_int_equal(sse_next(&c, &r, 3000), 0);
	check_reset(&r, &hello, "replay_too_large");
	json_decref(r.data);
	assert_int_equal(sse_next(&c, &r, 700), -1); /* and no replay */
	sse_close(&c);
	sse_close(&b);
	recs_fini(&stayed);
	free(hdr);
	free(id);
	free(path);
	free(name);
}

/* A resumed client gets the newest id right after its (here empty)
 * replay, so a filtered client whose filter matched nothing meanwhile
 * does not keep coming back with an id that other containers' events
 * push out of the ring: before, only a keepalive (15 s) moved it on. */
static void test_sse_resume_ends_with_the_newest_id(void **state)
{
	char *name
	    = berth_asprintf("evq-%s-%ld", ts_run_label(), (long)getpid());
	char *other
	    = berth_asprintf("evo-%s-%ld", ts_run_label(), (long)getpid());
	char *path
	    = berth_asprintf("/api/v1/events?type=container&id=%s", name);
	char *hdr, *id, *opath;
	struct sse a, n, c;
	struct sse_rec hello, newest, r;
	struct recs seen = { .n = 0 };

	(void)state;
	assert_int_equal(sse_open(&a, path), 0);
	hello_id(&a, &hello);
	sse_close(&a);
	/* Events this client's filter does not take, followed to the
	 * last on another stream. */
	opath = berth_asprintf("/api/v1/events?type=container&id=%s", other);
	assert_int_equal(sse_open(&n, opath), 0);
	id = make_container(other, "sleep 30", 0);
	container_call("DELETE", id, "?force=1", 204);
	collect_until(&n, &seen, "destroy", 500);
	newest = seen.r[seen.n - 1];
	sse_close(&n);
	assert_true(newest.seq > hello.seq);

	hdr = berth_asprintf("Last-Event-ID: %s", hello.id);
	assert_int_equal(sse_open_h(&c, path, hdr), 0);
	if (sse_next_x(&c, &r, 2000, true) != 0)
		fail_msg("no id after the replay within 2 s");
	assert_null(r.data);
	assert_true(r.epoch == newest.epoch && r.seq >= newest.seq);
	sse_close(&c);
	recs_fini(&seen);
	free(opath);
	free(hdr);
	free(id);
	free(path);
	free(other);
	free(name);
}

/* A malformed id is refused with 400 naming where it came from, and no
 * stream opens. */
static void test_sse_malformed_last_id(void **state)
{
	static const char *const bad[] = {
		"-496",
		"abc",
		"0123456789ABCDEF-1",
		"0123456789abcdef-01",
		"0123456789abcdef-1 2",
		"0123456789abcdef-",
	};
	struct sse c;
	json_t *j = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *hdr = berth_asprintf("Last-Event-ID: %s", bad[i]);
		const char *msg;

		assert_int_equal(sse_open_h(&c, "/api/v1/events", hdr), -1);
		assert_int_equal(c.status, 400);
		assert_non_null(c.error);
		msg = ts_json_str(json_object_get(c.error, "error"), "message");
		assert_non_null(strstr(msg, "Last-Event-ID"));
		sse_close(&c);
		free(hdr);
	}
	assert_int_equal(
	    req("GET", "/api/v1/events?last_event_id=1x2", NULL, &j), 400);
	assert_non_null(
	    strstr(ts_json_str(json_object_get(j, "error"), "message"),
	           "last_event_id"));
	json_decref(j);
	/* A good header does not excuse a bad query value. */
	assert_int_equal(sse_open_h(&c, "/api/v1/events?last_event_id=x",
	                            "Last-Event-ID: 0123456789abcdef-1"),
	                 -1);
	assert_int_equal(c.status, 400);
	sse_close(&c);
}

/* --- the CLI's `berth events` resumes ----------------------------------- */

/* One line of `fd` (a pipe), within `ms`; NULL on timeout or EOF.
 * `buf`/`len` keep what was read past the line. Caller frees. */
static char *pipe_line(int fd, char *buf, size_t cap, size_t *len, int ms)
{
	int64_t deadline = ts_now_ms() + ms;

	for (;;) {
		char *nl = memchr(buf, '\n', *len);
		struct pollfd p = { fd, POLLIN, 0 };
		int64_t left = deadline - ts_now_ms();
		ssize_t n;

		if (nl != NULL) {
			char *line = berth_strndup(buf, (size_t)(nl - buf));

			*len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, *len);
			return line;
		}
		if (left <= 0 || *len == cap || poll(&p, 1, (int)left) <= 0)
			return NULL;
		n = read(fd, buf + *len, cap - *len);
		if (n <= 0)
			return NULL;
		*len += (size_t)n;
	}
}

/* The next JSON line of the CLI with "action" (or "reason") `want`,
 * skipping others (Podman adds some), within 15 s. */
static void cli_expect(int fd, char *buf, size_t cap, size_t *len,
                       const char *key, const char *want)
{
	for (int i = 0; i < MAX_RECS; i++) {
		char *line = pipe_line(fd, buf, cap, len, 15000);
		json_t *j;
		bool hit;

		if (line == NULL)
			fail_msg("berth events printed no %s=%s", key, want);
		j = json_loads(line, 0, NULL);
		free(line);
		assert_non_null(j);
		hit = json_is_string(json_object_get(j, key))
		    && strcmp(ts_json_str(j, key), want) == 0;
		json_decref(j);
		if (hit)
			return;
	}
	fail_msg("berth events printed no %s=%s", key, want);
}

/*
 * `berth events` keeps the last id it saw; when its gateway restarts
 * (same port and data) it comes back with that id, gets a reset (the
 * new gateway process has another epoch) and follows the live stream.
 */
static void test_cli_events_resumes(void **state)
{
	char *name
	    = berth_asprintf("evc-%s-%ld", ts_run_label(), (long)getpid());
	const char *argv[]
	    = { getenv("BERTH_BIN"), "events", "--id", NULL, NULL };
	struct ts_berth g, g2, saved = berth;
	posix_spawn_file_actions_t fa;
	char buf[64 * 1024], *id, *envs[3], *env[64];
	size_t len = 0, ne = 0;
	int pfd[2], st;
	pid_t pid;

	(void)state;
	assert_int_equal(ts_berth_start(&g, NULL, 0, NULL), 0);
	berth = g; /* req() and the container helpers talk to it */
	argv[3] = name;
	envs[0] = berth_asprintf("BERTH_URL=%s", g.base);
	envs[1] = berth_asprintf("BERTH_TOKEN=%s", g.token);
	envs[2] = NULL;
	for (char **e = environ; *e != NULL && ne < 60; e++)
		if (strncmp(*e, "BERTH_URL=", 10) != 0
		    && strncmp(*e, "BERTH_TOKEN", 11) != 0
		    && strncmp(*e, "BERTH_DATA=", 11) != 0)
			env[ne++] = *e;
	env[ne++] = envs[0];
	env[ne++] = envs[1];
	env[ne] = NULL;
	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null",
	                                 O_WRONLY, 0);
	assert_int_equal(
	    posix_spawn(&pid, argv[0], &fa, NULL, (char **)argv, env), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	usleep(500 * 1000); /* the stream opens */

	id = make_container(name, "sleep 30", 0);
	cli_expect(pfd[0], buf, sizeof(buf), &len, "action", "create");
	/* The gateway goes away and comes back on the same port. */
	assert_int_equal(ts_berth_kill(&g, SIGTERM), 0);
	assert_int_equal(ts_berth_start(&g2, g.data_dir, g.port, NULL), 0);
	berth = g2;
	cli_expect(pfd[0], buf, sizeof(buf), &len, "reason", "foreign_id");
	container_call("POST", id, "/start", 204);
	cli_expect(pfd[0], buf, sizeof(buf), &len, "action", "start");
	container_call("DELETE", id, "?force=1", 204);

	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	close(pfd[0]);
	berth = saved;
	assert_int_equal(ts_berth_stop(&g2), 0);
	assert_int_equal(ts_berth_stop(&g), 0);
	free(envs[0]);
	free(envs[1]);
	free(id);
	free(name);
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
		cmocka_unit_test(test_sse_resume_replays_the_gap),
		cmocka_unit_test(test_sse_resume_at_newest),
		cmocka_unit_test(test_sse_reset_on_foreign_or_unknown_id),
		cmocka_unit_test(test_sse_replay_too_large_resets),
		cmocka_unit_test(test_sse_huge_engine_event_does_not_stall),
		cmocka_unit_test(test_sse_resume_ends_with_the_newest_id),
		cmocka_unit_test(test_sse_malformed_last_id),
		cmocka_unit_test(test_cli_events_resumes),
		cmocka_unit_test(test_sse_disconnect_frees_fds),
		cmocka_unit_test(test_scaled_out_events),
	};

	return cmocka_run_group_tests_name("events", tests, setup, teardown);
}
