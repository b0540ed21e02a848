/*
 * test_integ_options.c: container options end to end against the real
 * engine: health checks (reported, WaitHealthy healthy / unhealthy / not
 * running / none / deadline), resource limits (memory and CPUs visible
 * in the engine, the pids limit really bounding a fork loop), read-only
 * root, cap_drop ALL, no-new-privileges, user, remove_on_exit, networks
 * at create (and a failed connect leaving nothing behind), idempotent
 * create with options, and bad values answered 400 with nothing made.
 *
 * REST goes to a real `berth serve`; WaitHealthy is called over nng on
 * an in-process runtime serving the same engine; the engine itself is
 * asked directly (its HTTP API on the socket) to check what berth set.
 * Everything made here carries berth-test=<run> and
 * berth-test-options=<this process>, and is removed at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/alloc.h"
#include "lib/buf.h"
#include "lib/engine.h"
#include "lib/engine_http.h"
#include "lib/rpc.h"
#include "services/runtime/runtime.h"
#include "tests/support/berthproc.h"
#include "tests/support/testsupport.h"

#include "berth/v1/runtime.pb-c.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static struct ts_berth berth;
static struct berth_engine *eng;
static struct berth_runtime *rt;
static struct berth_rpc_client *cli;
static char *rt_dir;
static char uniq[64]; /* this process's label value and name part */
static int name_seq;

/* --- REST and engine helpers ------------------------------------------ */

static long req(const char *method, const char *path, const char *body,
                json_t **out)
{
	return ts_http(berth.base, method, path, body, berth.token, NULL, out);
}

/* A raw engine request; `*out` (optional) gets the JSON reply or NULL. */
static long raw(const char *method, const char *path, const char *body,
                json_t **out)
{
	struct berth_buf b;
	struct berth_http_req r = { 0 };
	struct berth_err err;
	long status = -1;
	size_t len = 0;
	char *text;

	berth_buf_init(&b, BERTH_HTTP_REPLY_MAX);
	r.method = method;
	r.path = path;
	r.body = body;
	r.body_len = body != NULL ? strlen(body) : 0;
	if (berth_http_do(berth_engine_http_target(eng), &r, &status, &b, &err)
	    != 0)
		fail_msg("engine %s %s: %s", method, path, err.msg);
	text = berth_buf_steal(&b, &len);
	if (out != NULL)
		*out = text != NULL ? json_loadb(text, len, 0, NULL) : NULL;
	free(text);
	berth_buf_fini(&b);
	return status;
}

/* The engine's log of a container (stdout and stderr, frames joined).
 * Caller frees. */
static char *engine_logs(const char *id)
{
	struct berth_buf b;
	struct berth_http_req r = { 0 };
	struct berth_err err;
	long status = -1;
	size_t len = 0, o = 0, k = 0;
	char *path
	    = berth_asprintf("/v1.41/containers/%s/logs?stdout=1&stderr=1", id);
	char *text, *out;

	berth_buf_init(&b, BERTH_HTTP_REPLY_MAX);
	r.method = "GET";
	r.path = path;
	assert_ok(
	    berth_http_do(berth_engine_http_target(eng), &r, &status, &b, &err),
	    &err);
	assert_int_equal(status, 200);
	text = berth_buf_steal(&b, &len);
	out = berth_malloc(len + 1);
	/* 8-byte frame headers: stream, 0, 0, 0, big-endian length. */
	while (text != NULL && o + 8 <= len) {
		size_t n = ((size_t)(unsigned char)text[o + 4] << 24)
		    | ((size_t)(unsigned char)text[o + 5] << 16)
		    | ((size_t)(unsigned char)text[o + 6] << 8)
		    | (size_t)(unsigned char)text[o + 7];

		o += 8;
		if (n > len - o)
			n = len - o;
		memcpy(out + k, text + o, n);
		k += n;
		o += n;
	}
	out[k] = '\0';
	free(text);
	free(path);
	berth_buf_fini(&b);
	return out;
}

static char *unique_name(const char *what)
{
	return berth_asprintf("it-opt-%s-%d-%s", uniq, ++name_seq, what);
}

/* The labels member every body here carries. */
static char *labels_json(void)
{
	return berth_asprintf(
	    "\"labels\":{\"berth-test\":\"%s\",\"berth-test-options\":\"%s\"}",
	    ts_run_label(), uniq);
}

/* POST /api/v1/containers with `extra` members; answers the id. */
static char *create(const char *name, const char *command, const char *extra)
{
	char *lab = labels_json();
	char *body = berth_asprintf(
	    "{\"image\":\"%s\",\"name\":\"%s\",\"command\":\"%s\",%s%s%s}",
	    ts_test_image(), name, command, lab, extra[0] != '\0' ? "," : "",
	    extra);
	json_t *j = NULL;
	long st = req("POST", "/api/v1/containers", body, &j);
	char *id;

	if (st != 201)
		fail_msg("create %s: %ld %s", name, st,
		         j != NULL ? json_dumps(j, 0) : "");
	id = berth_strdup(ts_json_str(j, "id"));
	json_decref(j);
	free(body);
	free(lab);
	return id;
}

static void start(const char *id)
{
	char *path = berth_asprintf("/api/v1/containers/%s/start", id);
	json_t *j = NULL;

	assert_int_equal(req("POST", path, NULL, &j), 204);
	json_decref(j);
	free(path);
}

static void remove_container(const char *id)
{
	char *path = berth_asprintf("/api/v1/containers/%s?force=1", id);
	json_t *j = NULL;

	req("DELETE", path, NULL, &j);
	json_decref(j);
	free(path);
}

/*
 * berth's detail (REST). Reads come from the runtime's cache, which
 * first records a container from the engine's create event (no image
 * id yet, no configuration) and inspects it right behind: a detail is
 * read again until it is the whole one, bounded to 2 s. Caller
 * json_decref()s.
 */
static json_t *detail(const char *id)
{
	char *path = berth_asprintf("/api/v1/containers/%s", id);
	int64_t end = ts_now_ms() + 2000;
	json_t *j = NULL;

	assert_int_equal(req("GET", path, NULL, &j), 200);
	for (int i = 0; i < 40 && ts_json_str(j, "image_id")[0] == '\0'
	     && ts_now_ms() < end;
	     i++) {
		json_decref(j);
		usleep(50 * 1000);
		j = NULL;
		assert_int_equal(req("GET", path, NULL, &j), 200);
	}
	free(path);
	return j;
}

/* The engine's own inspect. Caller json_decref()s. */
static json_t *engine_inspect(const char *id, long *status)
{
	char *path = berth_asprintf("/v1.41/containers/%s/json", id);
	json_t *j = NULL;
	long st = raw("GET", path, NULL, &j);

	free(path);
	if (status != NULL)
		*status = st;
	return j;
}

/* Waits (bounded) until the container has exited. */
static void wait_exited(const char *id)
{
	int64_t end = ts_now_ms() + 20000;

	for (int i = 0; i < 400 && ts_now_ms() < end; i++) {
		json_t *c = engine_inspect(id, NULL);
		bool running = json_is_true(
		    json_object_get(json_object_get(c, "State"), "Running"));

		json_decref(c);
		if (!running)
			return;
		usleep(50 * 1000);
	}
	fail_msg("container %s did not exit in time", id);
}

/* How many containers with a label `key`=`value` the engine has. */
static size_t count_labelled(const char *key, const char *value)
{
	char *filt = berth_asprintf("{\"label\":[\"%s=%s\"]}", key, value);
	char *esc = berth_http_escape(filt);
	char *path
	    = berth_asprintf("/v1.41/containers/json?all=1&filters=%s", esc);
	json_t *a = NULL;
	size_t n;

	assert_int_equal(raw("GET", path, NULL, &a), 200);
	n = json_array_size(a);
	json_decref(a);
	free(path);
	free(esc);
	free(filt);
	return n;
}

/* WaitHealthy over nng. Returns the code; `*out` the detail on 0. */
static int wait_healthy(const char *id, int timeout_ms,
                        Berth__V1__ContainerDetail **out, struct berth_err *err)
{
	Berth__V1__WaitHealthyRequest in
	    = BERTH__V1__WAIT_HEALTHY_REQUEST__INIT;
	struct berth_rpc_opts o = { 0 };
	ProtobufCMessage *rep = NULL;
	int rv;

	in.id = (char *)id;
	in.timeout_ms = timeout_ms;
	o.timeout_ms = timeout_ms + 10000;
	berth_err_clear(err);
	rv = berth_rpc_call(cli, &berth__v1__runtime__descriptor, "WaitHealthy",
	                    &in.base, &rep, &o, err);
	if (rv == 0 && out != NULL)
		*out = (Berth__V1__ContainerDetail *)rep;
	else if (rep != NULL)
		protobuf_c_message_free_unpacked(rep, NULL);
	return rv;
}

/* Runs argv `cmd_json` (a JSON array) in the container through the
 * engine's exec API, detached, and waits (bounded) for it to end.
 * Podman reports a detached exec as running long after its process
 * ended, so there it runs attached: the start returns at its end. */
static void engine_exec(const char *id, const char *cmd_json)
{
	bool attached = ts_engine_is_podman();
	char *path = berth_asprintf("/v1.41/containers/%s/exec", id);
	char *body = berth_asprintf("{\"Cmd\":%s%s}", cmd_json,
	                            attached ? ",\"AttachStdout\":true" : "");
	char *start = NULL, *insp = NULL;
	json_t *j = NULL;
	int64_t end = ts_now_ms() + 10000;
	bool running = true;

	assert_int_equal(raw("POST", path, body, &j), 201);
	start = berth_asprintf("/v1.41/exec/%s/start", ts_json_str(j, "Id"));
	insp = berth_asprintf("/v1.41/exec/%s/json", ts_json_str(j, "Id"));
	json_decref(j);
	assert_int_equal(
	    raw("POST", start,
	        attached ? "{\"Detach\":false}" : "{\"Detach\":true}", NULL),
	    200);
	for (int i = 0; i < 200 && running && ts_now_ms() < end; i++) {
		assert_int_equal(raw("GET", insp, NULL, &j), 200);
		running = json_is_true(json_object_get(j, "Running"));
		json_decref(j);
		if (running)
			usleep(50 * 1000);
	}
	assert_false(running);
	free(insp);
	free(start);
	free(body);
	free(path);
}

static const char *health_status(json_t *d)
{
	return ts_json_str(d, "health_status");
}

/*
 * berth's detail once it reports `want` (and, with `output`, a last
 * probe output holding it). REST reads come from the runtime's cache,
 * which follows the engine's events and re-inspects behind them: allow
 * it a moment, bounded to 3 s. Caller json_decref()s.
 */
static json_t *detail_with_health(const char *id, const char *want,
                                  const char *output)
{
	int64_t end = ts_now_ms() + 3000;
	json_t *j = detail(id);

	for (int i = 0; i < 60 && ts_now_ms() < end; i++) {
		if (strcmp(health_status(j), want) == 0
		    && (output == NULL
		        || strstr(ts_json_str(j, "health_last_output"), output)
		            != NULL))
			break;
		json_decref(j);
		usleep(50 * 1000);
		j = detail(id);
	}
	assert_string_equal(health_status(j), want);
	return j;
}

/* --- setup --------------------------------------------------------------- */

static int setup(void **state)
{
	struct berth_engine_config cfg = { 0 };
	struct berth_runtime_opts o = { 0 };
	const char *url = "inproc://berth-itest-options";
	struct berth_err err;

	(void)state;
	snprintf(uniq, sizeof(uniq), "%s-%ld", ts_run_label(), (long)getpid());
	cfg.runtime = ts_engine_runtime();
	cfg.socket_path = ts_docker_socket();
	if (berth_engine_open(&eng, &cfg, &err) != 0) {
		fprintf(stderr, "engine open: %s\n", err.msg);
		return -1;
	}
	rt_dir = ts_tmpdir("options-runtime");
	o.data_dir = rt_dir;
	o.url = url;
	o.workers = 4;
	o.engine = cfg;
	if (berth_runtime_start(&rt, &o, &err) != 0
	    || berth_rpc_client_alloc(&cli, &url, 1, NULL, &err) != 0) {
		fprintf(stderr, "runtime: %s\n", err.msg);
		return -1;
	}
	return ts_berth_start(&berth, NULL, 0, NULL);
}

static int teardown(void **state)
{
	char *filt
	    = berth_asprintf("{\"label\":[\"berth-test-options=%s\"]}", uniq);
	char *esc = berth_http_escape(filt);
	char *path
	    = berth_asprintf("/v1.41/containers/json?all=1&filters=%s", esc);
	json_t *a = NULL, *c;
	size_t i;
	int rv;

	(void)state;
	/* Whatever a failed test left behind. */
	if (raw("GET", path, NULL, &a) == 200) {
		json_array_foreach(a, i, c)
		{
			char *p = berth_asprintf(
			    "/v1.41/containers/%s?force=1",
			    json_string_value(json_object_get(c, "Id")));

			raw("DELETE", p, NULL, NULL);
			free(p);
		}
	}
	json_decref(a);
	free(path);
	free(esc);
	free(filt);
	rv = ts_berth_stop(&berth);
	berth_rpc_client_free(cli);
	berth_runtime_stop(rt);
	ts_rmtree(rt_dir);
	free(rt_dir);
	berth_engine_free(eng);
	return rv;
}

/* --- health ------------------------------------------------------------- */

/*
 * Podman runs health probes from systemd timers; with no systemd (as in
 * the containers these tests run in) the runtime's health driver runs
 * them (services/runtime/health_driver.c), so the same transitions hold
 * on both engines.
 */

static void test_health_starting_then_healthy(void **state)
{
	char *name = unique_name("healthy");
	/* The probe fails until an exec makes the file; the start period
	 * keeps those failures from counting. */
	char *id = create(name, "mkdir -p /tmp; sleep 60",
	                  "\"health\":{\"test\":[\"CMD-SHELL\","
	                  "\"test -f /tmp/ok\"],\"interval_ms\":200,"
	                  "\"timeout_ms\":2000,\"retries\":2,"
	                  "\"start_period\":\"20s\"}");
	Berth__V1__ContainerDetail *d = NULL;
	json_t *j, *c, *hc, *w = NULL;
	char *path;
	struct berth_err err;

	(void)state;
	/* Passed to the engine in nanoseconds. */
	c = engine_inspect(id, NULL);
	hc = json_object_get(json_object_get(c, "Config"), "Healthcheck");
	assert_int_equal(json_integer_value(json_object_get(hc, "Interval")),
	                 200000000LL);
	assert_int_equal(json_integer_value(json_object_get(hc, "Timeout")),
	                 2000000000LL);
	assert_int_equal(json_integer_value(json_object_get(hc, "StartPeriod")),
	                 20000000000LL);
	assert_int_equal(json_integer_value(json_object_get(hc, "Retries")), 2);
	assert_string_equal(
	    json_string_value(json_array_get(json_object_get(hc, "Test"), 0)),
	    "CMD-SHELL");
	json_decref(c);

	start(id);
	j = detail_with_health(id, "starting", NULL);
	hc = json_object_get(j, "health");
	assert_int_equal(json_integer_value(json_object_get(hc, "interval_ms")),
	                 200);
	assert_int_equal(
	    json_integer_value(json_object_get(hc, "start_period_ms")), 20000);
	json_decref(j);
	/* Still starting after a while: the probe keeps failing. */
	usleep(600 * 1000);
	j = detail(id);
	assert_string_equal(health_status(j), "starting");
	json_decref(j);

	engine_exec(id, "[\"touch\",\"/tmp/ok\"]");
	assert_ok(wait_healthy(id, 15000, &d, &err), &err);
	assert_string_equal(d->health_status, "healthy");
	assert_true(d->running);
	protobuf_c_message_free_unpacked(&d->base, NULL);

	/* The same through REST (the events engineer's wait route). */
	path = berth_asprintf(
	    "/api/v1/containers/%s/wait?condition=healthy&timeout_ms=5000", id);
	assert_int_equal(req("POST", path, NULL, &w), 200);
	assert_string_equal(health_status(w), "healthy");
	json_decref(w);
	free(path);

	j = detail_with_health(id, "healthy", NULL);
	assert_int_equal(
	    json_integer_value(json_object_get(j, "health_failing_streak")), 0);
	json_decref(j);
	remove_container(id);
	free(id);
	free(name);
}

static void test_health_unhealthy(void **state)
{
	char *name = unique_name("unhealthy");
	char *id = create(name, "sleep 60",
	                  "\"health\":{\"test\":[\"CMD-SHELL\","
	                  "\"echo probe-says-no!; i=0; while [ $i -lt 700 ]; "
	                  "do printf \\u00e9; i=$((i+1)); done; exit 1\"],"
	                  "\"interval_ms\":200,\"retries\":2}");
	struct berth_err err;
	json_t *j, *w = NULL;
	char *path;
	long st;

	(void)state;
	start(id);
	assert_int_equal(wait_healthy(id, 15000, NULL, &err), BERTH_EPRECOND);
	if (strstr(err.msg, "unhealthy") == NULL
	    || strstr(err.msg, "probe-says-no") == NULL)
		fail_msg("WaitHealthy said \"%s\"", err.msg);
	path = berth_asprintf(
	    "/api/v1/containers/%s/wait?condition=healthy&timeout_ms=5000", id);
	st = req("POST", path, NULL, &w);
	assert_int_equal(st, 409); /* FAILED_PRECONDITION */
	assert_string_equal(ts_error_code(w), "FAILED_PRECONDITION");
	json_decref(w);
	free(path);

	j = detail_with_health(id, "unhealthy", "probe-says-no");
	assert_non_null(
	    strstr(ts_json_str(j, "health_last_output"), "probe-says-no"));
	/* 15 + 1400 bytes of output, cut to 1 KiB on a character boundary
	 * (a split "é" would be invalid UTF-8, which JSON cannot carry).
	 * Podman 4.3 keeps only a probe's first line (seen here). */
	assert_true(strlen(ts_json_str(j, "health_last_output")) <= 1024);
	if (!ts_engine_is_podman())
		assert_true(strlen(ts_json_str(j, "health_last_output"))
		            >= 1020);
	/* An engine event's status reaches the cache before the inspect
	 * that brings the streak with it (state_cache_patch()), and
	 * Podman's health events and its record disagree for a moment:
	 * allow the inspect that follows its moment (bounded to 3 s). */
	for (int64_t end = ts_now_ms() + 3000;
	     json_integer_value(json_object_get(j, "health_failing_streak")) < 2
	     && ts_now_ms() < end;) {
		json_decref(j);
		usleep(50 * 1000);
		j = detail(id);
	}
	assert_true(
	    json_integer_value(json_object_get(j, "health_failing_streak"))
	    >= 2);
	json_decref(j);
	remove_container(id);
	free(id);
	free(name);
}

static void test_wait_healthy_refusals(void **state)
{
	char *n1 = unique_name("nocheck"), *n2 = unique_name("exited");
	char *n3 = unique_name("slow");
	char *plain = create(n1, "sleep 60", "");
	char *exited = create(n2, "true",
	                      "\"health\":{\"test\":[\"CMD-SHELL\",\"true\"],"
	                      "\"start_period_ms\":60000}");
	char *slow = create(n3, "sleep 60",
	                    "\"health\":{\"test\":[\"CMD-SHELL\",\"exit 1\"],"
	                    "\"interval_ms\":200,\"start_period\":\"1m\"}");
	struct berth_err err;
	int64_t t0;

	(void)state;
	start(plain);
	start(exited);
	start(slow);
	assert_int_equal(wait_healthy(plain, 5000, NULL, &err), BERTH_EPRECOND);
	assert_non_null(strstr(err.msg, "no health check"));

	wait_exited(exited);
	assert_int_equal(wait_healthy(exited, 5000, NULL, &err),
	                 BERTH_EPRECOND);
	assert_non_null(strstr(err.msg, "not running"));

	/* Failures inside the start period keep it "starting". */
	t0 = ts_now_ms();
	assert_int_equal(wait_healthy(slow, 800, NULL, &err), BERTH_ETIMEDOUT);
	assert_true(err.retryable);
	assert_true(ts_now_ms() - t0 >= 700);
	assert_true(ts_now_ms() - t0 < 5000);

	assert_int_equal(wait_healthy("no-such-container-x", 1000, NULL, &err),
	                 BERTH_ENOTFOUND);
	assert_int_equal(wait_healthy("../etc", 1000, NULL, &err),
	                 BERTH_EINVAL);
	remove_container(plain);
	remove_container(exited);
	remove_container(slow);
	free(plain);
	free(exited);
	free(slow);
	free(n1);
	free(n2);
	free(n3);
}

/*
 * A runtime stops promptly while one of its health probes is under way:
 * the probe (a 20 s sleep) is abandoned, not waited for. On Podman the
 * runtime's health driver runs it (no systemd here); on Docker dockerd
 * does, and the stop has nothing to wait for either.
 */
static void test_runtime_stops_during_a_probe(void **state)
{
	char *name = unique_name("slowprobe");
	char *id = create(name, "sleep 60",
	                  "\"health\":{\"test\":[\"CMD-SHELL\",\"sleep 20\"],"
	                  "\"interval_ms\":200,\"timeout_ms\":25000}");
	const char *url = "inproc://berth-itest-options-2";
	struct berth_runtime_opts o = { 0 };
	struct berth_runtime *rt2 = NULL;
	struct berth_err err;
	char *dir = ts_tmpdir("options-runtime-2");
	int64_t t0;

	(void)state;
	start(id);
	o.data_dir = dir;
	o.url = url;
	o.workers = 2;
	o.engine.runtime = ts_engine_runtime();
	o.engine.socket_path = ts_docker_socket();
	assert_ok(berth_runtime_start(&rt2, &o, &err), &err);
	/* Its cache syncs, the probe is due at once (the container started
	 * more than an interval ago) and runs for 20 s. */
	usleep(2000 * 1000);
	t0 = ts_now_ms();
	berth_runtime_stop(rt2);
	if (ts_now_ms() - t0 >= 3000)
		fail_msg("the runtime took %lld ms to stop",
		         (long long)(ts_now_ms() - t0));
	ts_rmtree(dir);
	free(dir);
	remove_container(id);
	free(id);
	free(name);
}

/* --- limits and security ------------------------------------------------ */

static void test_limits_readonly_and_pids(void **state)
{
	char *name = unique_name("limits");
	char *id
	    = create(name,
	             "touch /rootfile 2>&1 || echo RO-REFUSED; "
	             "cat /sys/fs/cgroup/pids/pids.max; "
	             "for i in $(seq 50); do sleep 30 & done; echo ALL-FORKED",
	             "\"read_only_rootfs\":true,"
	             "\"resources\":{\"memory\":\"64m\",\"cpus\":0.5,\"pids_"
	             "limit\":20}");
	json_t *c, *host, *j, *res;
	char *logs;

	(void)state;
	c = engine_inspect(id, NULL);
	host = json_object_get(c, "HostConfig");
	assert_int_equal(json_integer_value(json_object_get(host, "Memory")),
	                 64LL << 20);
	assert_int_equal(json_integer_value(json_object_get(host, "NanoCpus")),
	                 500000000LL);
	assert_int_equal(json_integer_value(json_object_get(host, "PidsLimit")),
	                 20);
	assert_true(json_is_true(json_object_get(host, "ReadonlyRootfs")));
	/* Log rotation stays on every container (Podman's compatible
	 * API does not report the options it was given). */
	if (!ts_engine_is_podman())
		assert_string_equal(
		    ts_json_str(
		        json_object_get(json_object_get(host, "LogConfig"),
		                        "Config"),
		        "max-size"),
		    "10m");
	json_decref(c);

	j = detail(id);
	res = json_object_get(j, "resources");
	assert_int_equal(
	    json_integer_value(json_object_get(res, "memory_bytes")),
	    64LL << 20);
	assert_int_equal(json_integer_value(json_object_get(res, "nano_cpus")),
	                 500000000LL);
	assert_int_equal(json_integer_value(json_object_get(res, "pids_limit")),
	                 20);
	assert_true(json_is_true(json_object_get(j, "read_only_rootfs")));
	json_decref(j);

	start(id);
	wait_exited(id);
	logs = engine_logs(id);
	if (strstr(logs, "Read-only file system") == NULL
	    || strstr(logs, "RO-REFUSED") == NULL
	    || strstr(logs, "20\n") == NULL
	    || strstr(logs, "can't fork") == NULL
	    || strstr(logs, "ALL-FORKED") != NULL)
		fail_msg("unexpected output:\n%s", logs);
	j = detail(id);
	assert_false(json_is_true(json_object_get(j, "oom_killed")));
	json_decref(j);
	free(logs);
	remove_container(id);
	free(id);
	free(name);
}

static void test_default_pids_limit(void **state)
{
	char *name = unique_name("defaults");
	char *id = create(name, "true", "");
	json_t *c, *j;

	(void)state;
	c = engine_inspect(id, NULL);
	assert_int_equal(json_integer_value(json_object_get(
	                     json_object_get(c, "HostConfig"), "PidsLimit")),
	                 4096);
	json_decref(c);
	j = detail(id);
	assert_true(json_is_null(json_object_get(j, "health")));
	assert_string_equal(health_status(j), "");
	assert_true(json_is_true(json_object_get(j, "keep_alive")));
	json_decref(j);
	remove_container(id);
	free(id);
	free(name);
}

static void test_user_caps_no_new_privileges(void **state)
{
	char *name = unique_name("security");
	char *id = create(name,
	                  "id -u; id -g; grep -E 'CapEff|NoNewPrivs' "
	                  "/proc/self/status; chown 0 /proc/self/fd/0 "
	                  "2>/dev/null || echo CHOWN-REFUSED",
	                  "\"user\":\"1000:1000\",\"cap_drop\":[\"ALL\"],"
	                  "\"cap_add\":[\"NET_BIND_SERVICE\"],"
	                  "\"no_new_privileges\":true");
	json_t *c, *host, *j;
	char *logs;
	size_t i;
	json_t *v;
	bool nnp = false;

	(void)state;
	c = engine_inspect(id, NULL);
	host = json_object_get(c, "HostConfig");
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(c, "Config"), "User")),
	                    "1000:1000");
	/* Podman reports "ALL" as the capabilities it dropped and keeps
	 * no-new-privileges out of SecurityOpt: what the process gets is
	 * checked below, on both engines. */
	if (!ts_engine_is_podman()) {
		assert_string_equal(json_string_value(json_array_get(
		                        json_object_get(host, "CapDrop"), 0)),
		                    "ALL");
		assert_string_equal(json_string_value(json_array_get(
		                        json_object_get(host, "CapAdd"), 0)),
		                    "NET_BIND_SERVICE");
		json_array_foreach(json_object_get(host, "SecurityOpt"), i, v)
		{
			const char *o = json_string_value(v);

			if (o != NULL && strcmp(o, "no-new-privileges") == 0)
				nnp = true;
		}
		assert_true(nnp);
	}
	json_decref(c);

	j = detail(id);
	assert_string_equal(ts_json_str(j, "user"), "1000:1000");
	assert_true(json_array_size(json_object_get(j, "cap_drop")) > 0);
	if (!ts_engine_is_podman()) {
		assert_string_equal(json_string_value(json_array_get(
		                        json_object_get(j, "cap_drop"), 0)),
		                    "ALL");
		assert_true(
		    json_is_true(json_object_get(j, "no_new_privileges")));
	}
	json_decref(j);

	start(id);
	wait_exited(id);
	logs = engine_logs(id);
	/* Every capability but the added one is gone: Docker gives a
	 * non-root process none at all, Podman keeps the added
	 * NET_BIND_SERVICE (bit 10) as an ambient one. */
	if (strncmp(logs, "1000\n1000\n", 10) != 0
	    || (strstr(logs, "CapEff:\t0000000000000000") == NULL
	        && strstr(logs, "CapEff:\t0000000000000400") == NULL)
	    || strstr(logs, "NoNewPrivs:\t1") == NULL
	    || strstr(logs, "CHOWN-REFUSED") == NULL)
		fail_msg("unexpected output:\n%s", logs);
	free(logs);
	remove_container(id);
	free(id);
	free(name);
}

static void test_remove_on_exit(void **state)
{
	char *name = unique_name("autorm");
	char *id = create(name, "true", "\"keep_alive\":false");
	json_t *j, *c;
	long st = 0;
	int64_t end;

	(void)state;
	j = detail(id);
	assert_true(json_is_true(json_object_get(j, "remove_on_exit")));
	assert_true(json_is_false(json_object_get(j, "keep_alive")));
	json_decref(j);
	start(id);
	end = ts_now_ms() + 15000;
	for (int i = 0; i < 300 && ts_now_ms() < end; i++) {
		c = engine_inspect(id, &st);
		json_decref(c);
		if (st == 404)
			break;
		usleep(50 * 1000);
	}
	assert_int_equal(st, 404);
	free(id);
	free(name);
}

/* --- networks ------------------------------------------------------------ */

static char *network_create(const char *name)
{
	char *body = berth_asprintf(
	    "{\"Name\":\"%s\",\"Labels\":{\"berth-test\":\"%s\"}}", name,
	    ts_run_label());
	json_t *j = NULL;
	char *id;

	assert_int_equal(raw("POST", "/v1.41/networks/create", body, &j), 201);
	id = berth_strdup(json_string_value(json_object_get(j, "Id")));
	json_decref(j);
	free(body);
	return id;
}

static void network_remove(const char *id)
{
	char *path = berth_asprintf("/v1.41/networks/%s", id);

	raw("DELETE", path, NULL, NULL);
	free(path);
}

static void test_networks_at_create(void **state)
{
	char *na = berth_asprintf("it-opt-net-%s-a", uniq);
	char *nb = berth_asprintf("it-opt-net-%s-b", uniq);
	char *ida = network_create(na), *idb = network_create(nb);
	char *name = unique_name("nets");
	char *extra = berth_asprintf("\"networks\":[\"%s\",\"%s\"]", na, nb);
	char *id = create(name, "sleep 60", extra);
	json_t *c, *nets, *j, *list;
	char *bad_name = unique_name("badnet");
	char *bad_body, *lab = labels_json();
	long st;

	(void)state;
	c = engine_inspect(id, NULL);
	nets = json_object_get(json_object_get(c, "NetworkSettings"),
	                       "Networks");
	assert_non_null(json_object_get(nets, na));
	assert_non_null(json_object_get(nets, nb));
	assert_int_equal(json_object_size(nets), 2);
	/* Podman reports NetworkMode "bridge" for a user network. */
	if (!ts_engine_is_podman())
		assert_string_equal(
		    ts_json_str(json_object_get(c, "HostConfig"),
		                "NetworkMode"),
		    na);
	json_decref(c);
	j = detail(id);
	list = json_object_get(j, "networks");
	assert_int_equal(json_array_size(list), 2);
	json_decref(j);
	start(id);
	remove_container(id);

	/* A second network that does not exist (the engine itself would
	 * only fail at start): 404 naming it, and nothing is left. */
	bad_body = berth_asprintf(
	    "{\"image\":\"%s\",\"name\":\"%s\",\"command\":\"true\",%s,"
	    "\"networks\":[\"%s\",\"it-opt-missing-%s\"]}",
	    ts_test_image(), bad_name, lab, na, uniq);
	j = NULL;
	st = req("POST", "/api/v1/containers", bad_body, &j);
	assert_int_equal(st, 404);
	assert_non_null(strstr(json_string_value(json_object_get(
	                           json_object_get(j, "error"), "message")),
	                       "networks[1]"));
	json_decref(j);
	c = engine_inspect(bad_name, &st);
	json_decref(c);
	assert_int_equal(st, 404);

	network_remove(ida);
	network_remove(idb);
	free(bad_body);
	free(lab);
	free(bad_name);
	free(id);
	free(extra);
	free(name);
	free(ida);
	free(idb);
	free(na);
	free(nb);
}

/* --- idempotence and refusals ------------------------------------------- */

static void test_create_by_name_with_options_is_idempotent(void **state)
{
	char *name = unique_name("idem");
	const char *opts = "\"resources\":{\"pids_limit\":64},"
	                   "\"health\":{\"test\":[\"NONE\"]},"
	                   "\"cap_drop\":[\"NET_RAW\"],\"user\":\"1000\"";
	char *lab = labels_json();
	char *body = berth_asprintf(
	    "{\"image\":\"%s\",\"name\":\"%s\",\"command\":\"true\",%s,%s}",
	    ts_test_image(), name, lab, opts);
	char *other = berth_asprintf(
	    "{\"image\":\"%s\",\"name\":\"%s\",\"command\":\"true\",%s,"
	    "\"resources\":{\"pids_limit\":65}}",
	    ts_test_image(), name, lab);
	json_t *j1 = NULL, *j2 = NULL, *j3 = NULL;

	(void)state;
	assert_int_equal(req("POST", "/api/v1/containers", body, &j1), 201);
	assert_int_equal(req("POST", "/api/v1/containers", body, &j2), 200);
	assert_string_equal(ts_json_str(j1, "id"), ts_json_str(j2, "id"));
	assert_true(json_is_false(json_object_get(j2, "created")));
	assert_int_equal(req("POST", "/api/v1/containers", other, &j3), 409);
	remove_container(ts_json_str(j1, "id"));
	json_decref(j1);
	json_decref(j2);
	json_decref(j3);
	free(other);
	free(body);
	free(lab);
	free(name);
}

static void test_bad_values_are_400_and_make_nothing(void **state)
{
	static const struct {
		const char *extra, *field;
	} bad[] = {
		{ "\"health\":{\"test\":[\"SHELL\",\"x\"]}", "health.test[0]" },
		{ "\"health\":{\"interval\":\"0.5s\"}", "health.interval" },
		{ "\"health\":{\"timeout_ms\":90000000}", "health.timeout_ms" },
		{ "\"health\":{\"retries\":1000}", "health.retries" },
		{ "\"resources\":{\"memory\":\"1m\"}", "resources.memory" },
		{ "\"resources\":{\"pids_limit\":-1}", "resources.pids_limit" },
		{ "\"resources\":{\"cpus\":5000}", "resources.cpus" },
		{ "\"networks\":[\"host\"]", "networks[0]" },
		{ "\"networks\":[\"a;b\"]", "networks[0]" },
		{ "\"cap_drop\":[\"sys_admin\"]", "cap_drop[0]" },
		{ "\"cap_add\":[\"ALL\"]", "cap_add[0]" },
		{ "\"user\":\"root:x:y\"", "user" },
		{ "\"keep_alive\":false,\"restart_policy\":\"always\"",
		  "keep_alive" },
		{ "\"remove_on_exit\":true,\"restart_policy\":\"unless-"
		  "stopped\"",
		  "remove_on_exit" },
		{ "\"read_only_rootfs\":\"yes\"", "read_only_rootfs" },
		/* More CPUs than the host has: the engine's check. */
		{ "\"resources\":{\"cpus\":512}", "resources.nano_cpus" },
		/* Docker has no pods: the runtime refuses it. */
		{ "\"pod\":\"p1\"", "pods need the podman runtime" },
	};
	char *lab = labels_json();

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *name, *body;
		json_t *j = NULL;
		const char *msg;
		long st;

		/* Podman takes pods, and checks CPUs only at start. */
		if (ts_engine_is_podman()
		    && (strstr(bad[i].extra, "pod") != NULL
		        || strstr(bad[i].extra, "512") != NULL))
			continue;
		name = unique_name("bad");
		body = berth_asprintf(
		    "{\"image\":\"%s\",\"name\":\"%s\",\"command\":\"true\","
		    "%s,%s}",
		    ts_test_image(), name, lab, bad[i].extra);
		st = req("POST", "/api/v1/containers", body, &j);
		msg = json_string_value(
		    json_object_get(json_object_get(j, "error"), "message"));
		if (st != 400 || msg == NULL
		    || strstr(msg, bad[i].field) == NULL)
			fail_msg("%s: got %ld \"%s\", wanted 400 naming %s",
			         bad[i].extra, st, msg != NULL ? msg : "",
			         bad[i].field);
		json_decref(j);
		free(body);
		free(name);
	}
	/* None of them made a container. */
	assert_int_equal(count_labelled("berth-test-options", uniq), 0);
	free(lab);
}

/* --- the runtime checks on its own (the nng API is public too) -------- */

static void test_runtime_refuses_bad_options_over_nng(void **state)
{
	Berth__V1__ContainerSpec spec = BERTH__V1__CONTAINER_SPEC__INIT;
	Berth__V1__CreateContainerRequest in
	    = BERTH__V1__CREATE_CONTAINER_REQUEST__INIT;
	Berth__V1__HealthCheck hc = BERTH__V1__HEALTH_CHECK__INIT;
	Berth__V1__Resources res = BERTH__V1__RESOURCES__INIT;
	Berth__V1__RestartPolicy rp = BERTH__V1__RESTART_POLICY__INIT;
	Berth__V1__KeyValue kv = BERTH__V1__KEY_VALUE__INIT;
	Berth__V1__KeyValue *kvs[] = { &kv };
	char *bad_test[] = { "SHELL", "true" };
	char *cmd[] = { "true" };
	char *host_net[] = { "host" };
	char *twice[] = { "NET_RAW", "NET_RAW" };
	char *all[] = { "ALL" };
	struct berth_rpc_opts o = { 0 };
	struct berth_err err;
	ProtobufCMessage *rep = NULL;
	const char *field = NULL;

	(void)state;
	kv.key = "berth-test-options";
	kv.value = uniq;
	spec.image = (char *)ts_test_image();
	spec.command = cmd;
	spec.n_command = 1;
	spec.labels = kvs;
	spec.n_labels = 1;
	in.spec = &spec;
	o.timeout_ms = 10000;
	for (int i = 0; i < 10; i++) {
		/* One bad option at a time on a good spec. */
		spec.health = NULL;
		spec.resources = NULL;
		spec.restart_policy = NULL;
		spec.remove_on_exit = false;
		spec.n_networks = 0;
		spec.n_cap_add = 0;
		spec.n_cap_drop = 0;
		spec.user = (char *)"";
		spec.pod = (char *)"";
		res = (Berth__V1__Resources)BERTH__V1__RESOURCES__INIT;
		hc = (Berth__V1__HealthCheck)BERTH__V1__HEALTH_CHECK__INIT;
		switch (i) {
		case 0:
			hc.test = bad_test;
			hc.n_test = 2;
			spec.health = &hc;
			field = "health.test[0]";
			break;
		case 1:
			hc.interval_ms = -5;
			spec.health = &hc;
			field = "health.interval_ms";
			break;
		case 2:
			res.memory_bytes = 1 << 20;
			spec.resources = &res;
			field = "resources.memory_bytes";
			break;
		case 3:
			res.pids_limit = -1;
			spec.resources = &res;
			field = "resources.pids_limit";
			break;
		case 4:
			spec.networks = host_net;
			spec.n_networks = 1;
			field = "networks";
			break;
		case 5:
			spec.cap_add = all;
			spec.n_cap_add = 1;
			field = "cap_add";
			break;
		case 6:
			spec.cap_drop = twice;
			spec.n_cap_drop = 2;
			field = "cap_drop[1]";
			break;
		case 7:
			spec.user = (char *)"a:b:c";
			field = "user";
			break;
		case 8:
			rp.name = (char *)"always";
			spec.restart_policy = &rp;
			spec.remove_on_exit = true;
			field = "remove_on_exit";
			break;
		case 9:
			if (ts_engine_is_podman())
				continue;
			spec.pod = (char *)"p1";
			field = "pods need the podman runtime";
			break;
		}
		berth_err_clear(&err);
		assert_int_equal(
		    berth_rpc_call(cli, &berth__v1__runtime__descriptor,
		                   "CreateContainer", &in.base, &rep, &o, &err),
		    BERTH_EINVAL);
		if (strstr(err.msg, field) == NULL)
			fail_msg("case %d: \"%s\" does not name %s", i, err.msg,
			         field);
	}
	assert_int_equal(count_labelled("berth-test-options", uniq), 0);
}

/* --- the command line --------------------------------------------------- */

/*
 * Runs `berth ARGS...` against the test's berth; returns its exit status
 * and `*out` its stdout (caller frees).
 */
static int run_cli(const char *const *args, char **out)
{
	posix_spawn_file_actions_t fa;
	char *path = berth_asprintf("%s/options-cli.out", berth.data_dir);
	const char *argv[48];
	size_t n = 0;
	pid_t pid;
	int status, rv = -1;
	FILE *f;

	argv[n++] = getenv("BERTH_BIN");
	for (size_t i = 0; args[i] != NULL && n < 47; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	setenv("BERTH_URL", berth.base, 1);
	setenv("BERTH_TOKEN", berth.token, 1);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, path,
	                                 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null",
	                                 O_WRONLY, 0);
	if (posix_spawn(&pid, argv[0], &fa, NULL, (char **)argv, environ) == 0
	    && waitpid(pid, &status, 0) == pid && WIFEXITED(status))
		rv = WEXITSTATUS(status);
	posix_spawn_file_actions_destroy(&fa);
	*out = berth_calloc(1, 256);
	f = fopen(path, "re");
	if (f != NULL) {
		size_t k = fread(*out, 1, 255, f);

		(*out)[k] = '\0';
		fclose(f);
	}
	free(path);
	return rv;
}

static void test_cli_flags(void **state)
{
	char *name = unique_name("cli");
	char *lab1 = berth_asprintf("berth-test=%s", ts_run_label());
	char *lab2 = berth_asprintf("berth-test-options=%s", uniq);
	const char *args[] = { "create",
		               "--name",
		               name,
		               "-l",
		               lab1,
		               "-l",
		               lab2,
		               "--memory",
		               "32m",
		               "--cpus",
		               "0.25",
		               "--pids-limit",
		               "30",
		               "--read-only",
		               "--cap-drop",
		               "ALL",
		               "--no-new-privileges",
		               "-u",
		               "1000:1000",
		               "--health-cmd",
		               "true",
		               "--health-interval",
		               "2s",
		               "--health-retries",
		               "4",
		               ts_test_image(),
		               "true",
		               NULL };
	const char *bad[]
	    = { "create", "--pids-limit", "lots", ts_test_image(), NULL };
	char *out = NULL, *nl;
	json_t *c, *host, *hc;

	(void)state;
	assert_int_equal(run_cli(args, &out), 0);
	nl = strchr(out, '\n');
	if (nl != NULL)
		*nl = '\0';
	c = engine_inspect(out, NULL);
	host = json_object_get(c, "HostConfig");
	hc = json_object_get(json_object_get(c, "Config"), "Healthcheck");
	assert_int_equal(json_integer_value(json_object_get(host, "Memory")),
	                 32LL << 20);
	assert_int_equal(json_integer_value(json_object_get(host, "NanoCpus")),
	                 250000000LL);
	assert_int_equal(json_integer_value(json_object_get(host, "PidsLimit")),
	                 30);
	assert_true(json_is_true(json_object_get(host, "ReadonlyRootfs")));
	assert_int_equal(json_integer_value(json_object_get(hc, "Interval")),
	                 2000000000LL);
	assert_int_equal(json_integer_value(json_object_get(hc, "Retries")), 4);
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(c, "Config"), "User")),
	                    "1000:1000");
	json_decref(c);
	remove_container(out);
	free(out);
	out = NULL;
	/* Not a number: a usage error (2), nothing sent. */
	assert_int_equal(run_cli(bad, &out), 2);
	free(out);
	free(lab2);
	free(lab1);
	free(name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_values_are_400_and_make_nothing),
		cmocka_unit_test(test_runtime_refuses_bad_options_over_nng),
		cmocka_unit_test(test_health_starting_then_healthy),
		cmocka_unit_test(test_health_unhealthy),
		cmocka_unit_test(test_wait_healthy_refusals),
		cmocka_unit_test(test_runtime_stops_during_a_probe),
		cmocka_unit_test(test_limits_readonly_and_pids),
		cmocka_unit_test(test_default_pids_limit),
		cmocka_unit_test(test_user_caps_no_new_privileges),
		cmocka_unit_test(test_remove_on_exit),
		cmocka_unit_test(test_networks_at_create),
		cmocka_unit_test(
		    test_create_by_name_with_options_is_idempotent),
		cmocka_unit_test(test_cli_flags),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
