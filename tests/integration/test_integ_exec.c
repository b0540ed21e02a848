/*
 * test_integ_exec.c: exec through the real `berth serve` all-in-one
 * against the real engine: POST /api/v1/containers/{id}/exec, JSON and
 * streamed (NDJSON) answers, the timeout that really kills the process
 * tree, output caps, binary output, and refusals.
 *
 * The containers are made straight on the engine with the label
 * berth.test=<run> and a name with the run in it; the teardown
 * force-removes them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/alloc.h"
#include "lib/buf.h"
#include "lib/engine.h"
#include "lib/rpc.h"
#include "tests/support/berthproc.h"
#include "tests/support/testsupport.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static struct ts_berth berth;
static struct berth_engine *engine;
static char *running_id; /* sleep 600, running */
static char *stopped_id; /* created, never started */

static long req(const char *method, const char *path, const char *body,
                json_t **out)
{
	return ts_http(berth.base, method, path, body, berth.token, NULL, out);
}

/* Creates (and with `start`, starts) a labelled test container straight
 * on the engine, before berth starts, so berth's state cache learns it
 * from its first full sync. */
static char *make_container(struct berth_engine *e, const char *what,
                            bool start)
{
	static char *cmd[] = { "sleep", "600" };
	Berth__V1__ContainerSpec spec = BERTH__V1__CONTAINER_SPEC__INIT;
	Berth__V1__KeyValue kv = BERTH__V1__KEY_VALUE__INIT;
	const Berth__V1__KeyValue *labels[] = { &kv };
	char *name = berth_asprintf("it-exec-%s-%ld-%s", ts_run_label(),
	                            (long)getpid(), what);
	struct berth_err err;
	char *id = NULL;

	berth_err_clear(&err);
	kv.key = "berth.test";
	kv.value = (char *)ts_run_label();
	spec.image = (char *)ts_test_image();
	spec.name = name;
	spec.command = cmd;
	spec.n_command = 2;
	if (berth_engine_container_create(e, &spec, labels, 1, &id, &err) != 0)
		fprintf(stderr, "create %s: %s\n", name, err.msg);
	else if (start && berth_engine_container_start(e, id, &err) != 0) {
		fprintf(stderr, "start %s: %s\n", name, err.msg);
		(void)berth_engine_container_remove(e, id, true, true, NULL);
		free(id);
		id = NULL;
	}
	free(name);
	return id;
}

static int setup(void **state)
{
	struct berth_engine_config cfg = { 0 };
	struct berth_err err;

	(void)state;
	cfg.runtime = ts_engine_runtime();
	cfg.socket_path = ts_docker_socket();
	if (berth_engine_open(&engine, &cfg, &err) != 0)
		return -1;
	running_id = make_container(engine, "run", true);
	stopped_id = make_container(engine, "stopped", false);
	if (running_id == NULL || stopped_id == NULL)
		return -1;
	return ts_berth_start(&berth, NULL, 0, NULL);
}

static int teardown(void **state)
{
	int rv;

	(void)state;
	rv = ts_berth_stop(&berth);
	if (running_id != NULL)
		(void)berth_engine_container_remove(engine, running_id, true,
		                                    true, NULL);
	if (stopped_id != NULL)
		(void)berth_engine_container_remove(engine, stopped_id, true,
		                                    true, NULL);
	free(running_id);
	free(stopped_id);
	berth_engine_free(engine);
	return rv;
}

/* POST .../exec with `body` on container `id`; the status. */
static long exec_on(const char *id, const char *body, json_t **out)
{
	char *path = berth_asprintf("/api/v1/containers/%s/exec", id);
	long st = req("POST", path, body, out);

	free(path);
	return st;
}

/* The processes of the running container, as `ps` prints them. */
static char *ps_text(void)
{
	json_t *j = NULL;
	char *text;

	assert_int_equal(exec_on(running_id, "{\"command\":[\"ps\"]}", &j),
	                 200);
	text = berth_strdup(ts_json_str(j, "stdout"));
	json_decref(j);
	assert_non_null(text);
	return text;
}

static void test_stdout_stderr_and_exit_code(void **state)
{
	json_t *j = NULL;

	(void)state;
	assert_int_equal(
	    exec_on(running_id,
	            "{\"command\":[\"sh\",\"-c\",\"echo out; echo err >&2; "
	            "exit 3\"]}",
	            &j),
	    200);
	assert_int_equal(json_integer_value(json_object_get(j, "exit_code")),
	                 3);
	assert_string_equal(ts_json_str(j, "stdout"), "out\n");
	assert_string_equal(ts_json_str(j, "stderr"), "err\n");
	assert_true(json_is_false(json_object_get(j, "timed_out")));
	assert_true(json_is_false(json_object_get(j, "stdout_truncated")));
	assert_true(json_is_integer(json_object_get(j, "duration_ms")));
	json_decref(j);
}

static void test_env_working_dir_user(void **state)
{
	json_t *j = NULL;

	(void)state;
	assert_int_equal(
	    exec_on(running_id,
	            "{\"command\":[\"sh\",\"-c\",\"echo $FOO; pwd; id -u\"],"
	            "\"env\":{\"FOO\":\"bar baz\"},\"working_dir\":\"/tmp\","
	            "\"user\":\"65534\"}",
	            &j),
	    200);
	assert_int_equal(json_integer_value(json_object_get(j, "exit_code")),
	                 0);
	assert_string_equal(ts_json_str(j, "stdout"), "bar baz\n/tmp\n65534\n");
	json_decref(j);
}

/* Wall time of one exec of `true`, to allow for a loaded engine. */
static int64_t true_ms(void)
{
	json_t *j = NULL;
	int64_t t0 = ts_now_ms();

	assert_int_equal(exec_on(running_id, "{\"command\":[\"true\"]}", &j),
	                 200);
	json_decref(j);
	return ts_now_ms() - t0;
}

static void test_timeout_kills_process(void **state)
{
	json_t *j = NULL;
	int64_t base = true_ms(), t0 = ts_now_ms(), took;
	char *ps;

	(void)state;
	assert_int_equal(exec_on(running_id,
	                         "{\"command\":[\"sleep\",\"300\"],"
	                         "\"timeout_ms\":500}",
	                         &j),
	                 200);
	took = ts_now_ms() - t0;
	assert_true(json_is_true(json_object_get(j, "timed_out")));
	assert_int_equal(json_integer_value(json_object_get(j, "exit_code")),
	                 -1);
	/* The process ran about 500 ms, not 300 s. */
	assert_true(json_integer_value(json_object_get(j, "duration_ms"))
	            < 3000);
	assert_true(took < 3000 + base);
	json_decref(j);
	ps = ps_text();
	assert_null(strstr(ps, "sleep 300"));
	free(ps);
}

static void test_timeout_kills_child_tree(void **state)
{
	json_t *j = NULL;
	char *ps;

	(void)state;
	assert_int_equal(
	    exec_on(running_id,
	            "{\"command\":[\"sh\",\"-c\",\"sleep 301 & sleep 302\"],"
	            "\"timeout_ms\":500}",
	            &j),
	    200);
	assert_true(json_is_true(json_object_get(j, "timed_out")));
	json_decref(j);
	ps = ps_text();
	/* Killed children may linger as zombies ("[sleep]") under a
	 * container init that does not reap; none may still run. */
	assert_null(strstr(ps, "sleep 301"));
	assert_null(strstr(ps, "sleep 302"));
	free(ps);
}

static void test_output_cap_marker(void **state)
{
	json_t *j = NULL;
	const char *out;

	(void)state;
	assert_int_equal(
	    exec_on(running_id,
	            "{\"command\":[\"sh\",\"-c\",\"yes hello | head -c 5000; "
	            "echo e >&2\"],\"max_output_bytes\":100}",
	            &j),
	    200);
	assert_true(json_is_true(json_object_get(j, "stdout_truncated")));
	assert_true(json_is_false(json_object_get(j, "stderr_truncated")));
	assert_string_equal(ts_json_str(j, "stderr"), "e\n");
	out = ts_json_str(j, "stdout");
	assert_non_null(out);
	assert_int_equal(strncmp(out, "hello\nhello\n", 12), 0);
	assert_non_null(
	    strstr(out, "hell\n[berth: stdout truncated after 100 bytes]\n"));
	json_decref(j);
}

static void test_big_output_drains(void **state)
{
	json_t *j = NULL;

	(void)state;
	/* 50 MB through a 10-byte cap: the process must still finish. */
	assert_int_equal(
	    exec_on(running_id,
	            "{\"command\":[\"sh\",\"-c\",\"head -c 50000000 "
	            "/dev/zero; echo done >&2\"],\"max_output_bytes\":10,"
	            "\"timeout_ms\":40000}",
	            &j),
	    200);
	if (!json_is_false(json_object_get(j, "timed_out"))) {
		char *dump = json_dumps(j, 0);

		fail_msg("50 MB exec did not finish: %s", dump);
	}
	assert_int_equal(json_integer_value(json_object_get(j, "exit_code")),
	                 0);
	assert_true(json_is_true(json_object_get(j, "stdout_truncated")));
	/* Ten NUL bytes: not text, so base64. */
	assert_string_equal(ts_json_str(j, "stdout_base64"),
	                    "AAAAAAAAAAAAAA==");
	assert_string_equal(ts_json_str(j, "stderr"), "done\n");
	json_decref(j);
}

static void test_binary_output_base64(void **state)
{
	json_t *j = NULL;

	(void)state;
	assert_int_equal(exec_on(running_id,
	                         "{\"command\":[\"printf\",\"\\\\377\\\\376"
	                         "\\\\001\"]}",
	                         &j),
	                 200);
	assert_null(json_object_get(j, "stdout"));
	assert_string_equal(ts_json_str(j, "stdout_base64"), "//4B");
	assert_string_equal(ts_json_str(j, "stderr"), "");
	json_decref(j);
}

static void test_stopped_and_unknown_container(void **state)
{
	json_t *j = NULL;
	char *ghost = berth_asprintf("it-exec-ghost-%s", ts_run_label());

	(void)state;
	assert_int_equal(exec_on(stopped_id, "{\"command\":[\"true\"]}", &j),
	                 409);
	assert_string_equal(ts_error_code(j), "FAILED_PRECONDITION");
	json_decref(j);
	assert_int_equal(exec_on(ghost, "{\"command\":[\"true\"]}", &j), 404);
	assert_string_equal(ts_error_code(j), "NOT_FOUND");
	json_decref(j);
	free(ghost);
}

static void test_bad_bodies(void **state)
{
	static const char *const bad[][2] = {
		{ "{\"command\":[\"true\"],\"bogus\":1}", "bogus" },
		{ "{}", "command" },
		{ "{\"command\":[]}", "command" },
		{ "{\"command\":\"true\"}", "command" },
		{ "{\"command\":[\"true\",3]}", "command[1]" },
		{ "{\"command\":[\"\"]}", "command[0]" },
		{ "{\"command\":[\"true\"],\"env\":{\"1BAD\":\"x\"}}", "env" },
		{ "{\"command\":[\"true\"],\"env\":[\"A=b\"]}", "env" },
		{ "{\"command\":[\"true\"],\"working_dir\":\"rel\"}",
		  "working_dir" },
		{ "{\"command\":[\"true\"],\"user\":\"a b\"}", "user" },
		{ "{\"command\":[\"true\"],\"timeout_ms\":-1}", "timeout_ms" },
		{ "{\"command\":[\"true\"],\"max_output_bytes\":99999999}",
		  "max_output_bytes" },
		/* A JSON answer travels in one message: more only streamed. */
		{ "{\"command\":[\"true\"],\"max_output_bytes\":9000000}",
		  "stream=1" },
		{ "[1]", "object" },
		{ "{\"command\":[\"true\"]", "JSON" },
	};
	json_t *j = NULL;
	char *path;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		long st = exec_on(running_id, bad[i][0], &j);
		const char *msg = json_string_value(
		    json_object_get(json_object_get(j, "error"), "message"));

		if (st != 400 || msg == NULL || strstr(msg, bad[i][1]) == NULL)
			fail_msg("body %s: status %ld, message %s", bad[i][0],
			         st, msg != NULL ? msg : "(none)");
		json_decref(j);
		j = NULL;
	}
	path = berth_asprintf("/api/v1/containers/%s/exec?stream=maybe",
	                      running_id);
	assert_int_equal(req("POST", path, "{\"command\":[\"true\"]}", &j),
	                 400);
	json_decref(j);
	free(path);
	path = berth_asprintf("/api/v1/containers/%s/exec?color=1", running_id);
	assert_int_equal(req("POST", path, "{\"command\":[\"true\"]}", &j),
	                 400);
	json_decref(j);
	free(path);
}

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
	return berth_buf_append(arg, p, size * n) == 0 ? size * n : 0;
}

/* A streamed exec through libcurl; the NDJSON text. The client gives
 * up after `give_up_ms` (0 = 30 s). */
static long stream_exec_for(const char *body, struct berth_buf *out,
                            long give_up_ms)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char *url = berth_asprintf("%s/api/v1/containers/%s/exec?stream=1",
	                           berth.base, running_id);
	char *auth = berth_asprintf("Authorization: Bearer %s", berth.token);
	long st = -1;

	h = curl_slist_append(h, auth);
	h = curl_slist_append(h, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
	                 give_up_ms > 0 ? give_up_ms : 30000L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	free(auth);
	free(url);
	return st;
}

static long stream_exec(const char *body, struct berth_buf *out)
{
	return stream_exec_for(body, out, 0);
}

/* The last NDJSON line of `text`, parsed. */
static json_t *last_line(const char *text)
{
	const char *end = text + strlen(text), *p;

	while (end > text && end[-1] == '\n')
		end--;
	p = end;
	while (p > text && p[-1] != '\n')
		p--;
	return json_loadb(p, (size_t)(end - p), 0, NULL);
}

static void test_stream_ndjson(void **state)
{
	struct berth_buf out;
	json_t *last;

	(void)state;
	berth_buf_init(&out, 1 << 20);
	assert_int_equal(
	    stream_exec("{\"command\":[\"sh\",\"-c\",\"echo a; sleep 0.2; "
	                "echo b >&2; exit 4\"]}",
	                &out),
	    200);
	assert_non_null(out.data);
	assert_non_null(
	    strstr(out.data, "\"stream\":\"stdout\",\"data\":\"a\\n\""));
	assert_non_null(
	    strstr(out.data, "\"stream\":\"stderr\",\"data\":\"b\\n\""));
	last = last_line(out.data);
	assert_non_null(last);
	assert_true(json_is_true(json_object_get(last, "done")));
	assert_int_equal(json_integer_value(json_object_get(last, "exit_code")),
	                 4);
	assert_true(json_is_false(json_object_get(last, "timed_out")));
	json_decref(last);
	berth_buf_fini(&out);
}

static void test_stream_timeout(void **state)
{
	struct berth_buf out;
	json_t *last;
	char *ps;

	(void)state;
	berth_buf_init(&out, 1 << 20);
	assert_int_equal(stream_exec("{\"command\":[\"sleep\",\"303\"],"
	                             "\"timeout_ms\":500}",
	                             &out),
	                 200);
	last = last_line(out.data != NULL ? out.data : "");
	assert_non_null(last);
	assert_true(json_is_true(json_object_get(last, "timed_out")));
	assert_int_equal(json_integer_value(json_object_get(last, "exit_code")),
	                 -1);
	json_decref(last);
	berth_buf_fini(&out);
	ps = ps_text();
	assert_null(strstr(ps, "sleep 303"));
	free(ps);
}

/* A streamed exec whose client goes away: nobody can read the command's
 * output any more, so the runtime ends it. */
static void test_stream_client_leaves(void **state)
{
	struct berth_buf out;
	bool gone = false;

	(void)state;
	berth_buf_init(&out, 1 << 20);
	assert_int_equal(
	    stream_exec_for("{\"command\":[\"sleep\",\"305\"]}", &out, 1500),
	    -1);
	berth_buf_fini(&out);
	for (int i = 0; i < 40 && !gone; i++) {
		char *ps = ps_text();

		gone = strstr(ps, "sleep 305") == NULL;
		free(ps);
		if (!gone)
			usleep(250 * 1000);
	}
	assert_true(gone);
}

/* --- over nng, straight to a runtime: its API is public too --------- */

struct rt_fx {
	struct ts_berth rt;
	struct berth_rpc_client *cli;
	char *dir;
	char *url;
};

static void rt_up(struct rt_fx *f)
{
	struct berth_rpc_client_opts co = { .max_msg = 64u << 20 };
	struct berth_err err;
	const char *u;

	memset(f, 0, sizeof(*f));
	f->dir = ts_tmpdir("exec-rpc");
	f->url = berth_asprintf("ipc://%s/runtime.sock", f->dir);
	u = f->url;
	assert_int_equal(ts_berth_start_runtime(&f->rt, NULL, f->url), 0);
	assert_ok(berth_rpc_client_alloc(&f->cli, &u, 1, &co, &err), &err);
}

static void rt_down(struct rt_fx *f)
{
	berth_rpc_client_free(f->cli);
	assert_int_equal(ts_berth_stop(&f->rt), 0);
	ts_rmtree(f->dir);
	free(f->dir);
	free(f->url);
}

static int rpc_exec(struct rt_fx *f, Berth__V1__ExecRequest *in, int timeout_ms,
                    Berth__V1__ExecReply **out, struct berth_err *err)
{
	struct berth_rpc_opts o = { .timeout_ms = timeout_ms };
	ProtobufCMessage *m = NULL;
	int rv;

	in->id = running_id;
	rv = berth_rpc_call(f->cli, &berth__v1__runtime__descriptor,
	                    "ExecCommand", &in->base, &m, &o, err);
	*out = (Berth__V1__ExecReply *)m;
	return rv;
}

static void test_rpc_refusals(void **state)
{
	static char *sh[] = { "sh", "-c", "exit 0" };
	Berth__V1__KeyValue kv = BERTH__V1__KEY_VALUE__INIT;
	Berth__V1__KeyValue *env[] = { &kv };
	struct rt_fx f;
	struct berth_err err;
	Berth__V1__ExecReply *out = NULL;

	(void)state;
	rt_up(&f);
	{
		/* No command. */
		Berth__V1__ExecRequest in = BERTH__V1__EXEC_REQUEST__INIT;

		assert_int_equal(rpc_exec(&f, &in, 5000, &out, &err),
		                 BERTH_EINVAL);
		assert_non_null(strstr(err.msg, "command"));
	}
	{
		/* A timeout that does not fit in the call's deadline. */
		Berth__V1__ExecRequest in = BERTH__V1__EXEC_REQUEST__INIT;

		in.command = sh;
		in.n_command = 3;
		in.timeout_ms = 60000;
		assert_int_equal(rpc_exec(&f, &in, 5000, &out, &err),
		                 BERTH_EINVAL);
		assert_non_null(strstr(err.msg, "timeout_ms"));
	}
	{
		Berth__V1__ExecRequest in = BERTH__V1__EXEC_REQUEST__INIT;

		in.command = sh;
		in.n_command = 3;
		in.max_output_bytes = (16u << 20) + 1;
		assert_int_equal(rpc_exec(&f, &in, 5000, &out, &err),
		                 BERTH_EINVAL);
		assert_non_null(strstr(err.msg, "max_output_bytes"));
	}
	{
		Berth__V1__ExecRequest in = BERTH__V1__EXEC_REQUEST__INIT;

		kv.key = "BAD-KEY";
		kv.value = "secret-value-77";
		in.command = sh;
		in.n_command = 3;
		in.env = env;
		in.n_env = 1;
		assert_int_equal(rpc_exec(&f, &in, 5000, &out, &err),
		                 BERTH_EINVAL);
		assert_non_null(strstr(err.msg, "env"));
		assert_null(strstr(err.msg, "secret-value-77"));
	}
	{
		Berth__V1__ExecRequest in = BERTH__V1__EXEC_REQUEST__INIT;

		in.command = sh;
		in.n_command = 3;
		in.working_dir = "relative/dir";
		assert_int_equal(rpc_exec(&f, &in, 5000, &out, &err),
		                 BERTH_EINVAL);
		assert_non_null(strstr(err.msg, "working_dir"));
	}
	{
		Berth__V1__ExecRequest in = BERTH__V1__EXEC_REQUEST__INIT;

		in.command = sh;
		in.n_command = 3;
		in.id = "../containers/x";
		assert_int_equal(
		    berth_rpc_call(f.cli, &berth__v1__runtime__descriptor,
		                   "ExecCommand", &in.base,
		                   (ProtobufCMessage **)&out, NULL, &err),
		    BERTH_EINVAL);
	}
	assert_null(out);
	rt_down(&f);
}

static void test_rpc_deadline_and_big_output(void **state)
{
	static char *sleeper[] = { "sleep", "304" };
	static char *big[] = { "sh", "-c", "head -c 5000000 /dev/zero" };
	struct rt_fx f;
	struct berth_err err;
	Berth__V1__ExecReply *out = NULL;
	int64_t t0;
	char *ps;

	(void)state;
	rt_up(&f);
	{
		/* No timeout_ms: the call's own deadline bounds the command,
		 * and the answer still comes before it. */
		Berth__V1__ExecRequest in = BERTH__V1__EXEC_REQUEST__INIT;

		in.command = sleeper;
		in.n_command = 2;
		t0 = ts_now_ms();
		assert_ok(rpc_exec(&f, &in, 3000, &out, &err), &err);
		assert_true(ts_now_ms() - t0 < 3000);
		assert_true(out->timed_out);
		assert_int_equal(out->exit_code, -1);
		protobuf_c_message_free_unpacked(&out->base, NULL);
		out = NULL;
		ps = ps_text();
		assert_null(strstr(ps, "sleep 304"));
		free(ps);
	}
	{
		/* 5 MB of output in one reply, within a 16 MiB cap. */
		Berth__V1__ExecRequest in = BERTH__V1__EXEC_REQUEST__INIT;

		in.command = big;
		in.n_command = 3;
		in.max_output_bytes = 16u << 20;
		assert_ok(rpc_exec(&f, &in, 30000, &out, &err), &err);
		assert_int_equal(out->exit_code, 0);
		assert_int_equal(out->stdout.len, 5000000);
		assert_false(out->stdout_truncated);
		protobuf_c_message_free_unpacked(&out->base, NULL);
	}
	rt_down(&f);
}

static void test_rpc_exec_stream(void **state)
{
	static char *cmd[] = { "sh", "-c", "echo one; echo two >&2; exit 5" };
	Berth__V1__ExecRequest in = BERTH__V1__EXEC_REQUEST__INIT;
	struct berth_rpc_opts o = { .timeout_ms = 10000 };
	struct rt_fx f;
	struct berth_err err;
	ProtobufCMessage *m = NULL;
	char id[64];
	uint64_t after = 0;
	bool done = false, has_exit = false;
	int exit_code = 0;
	char seen[64] = "";

	(void)state;
	rt_up(&f);
	in.id = running_id;
	in.command = cmd;
	in.n_command = 3;
	assert_ok(berth_rpc_call(f.cli, &berth__v1__runtime__descriptor,
	                         "ExecStream", &in.base, &m, &o, &err),
	          &err);
	snprintf(id, sizeof(id), "%s", ((Berth__V1__StreamRef *)m)->id);
	protobuf_c_message_free_unpacked(m, NULL);
	for (int i = 0; i < 60 && !done; i++) {
		Berth__V1__ReadStreamRequest rd
		    = BERTH__V1__READ_STREAM_REQUEST__INIT;
		Berth__V1__StreamChunk *c;

		rd.id = id;
		rd.after_seq = after;
		rd.max_wait_ms = 1000;
		assert_ok(berth_rpc_call(f.cli, &berth__v1__runtime__descriptor,
		                         "ReadStream", &rd.base, &m, &o, &err),
		          &err);
		c = (Berth__V1__StreamChunk *)m;
		for (size_t k = 0; k < c->n_frames; k++) {
			size_t l = strlen(seen);

			snprintf(seen + l, sizeof(seen) - l, "%s:%.*s",
			         c->frames[k]->stream,
			         (int)c->frames[k]->data.len,
			         (const char *)c->frames[k]->data.data);
			after = c->frames[k]->seq;
		}
		done = c->done;
		has_exit = c->has_exit;
		exit_code = c->exit_code;
		protobuf_c_message_free_unpacked(m, NULL);
	}
	assert_true(done);
	assert_true(has_exit);
	assert_int_equal(exit_code, 5);
	assert_non_null(strstr(seen, "stdout:one\n"));
	assert_non_null(strstr(seen, "stderr:two\n"));
	rt_down(&f);
}

/* The only child of `pid`, from /proc (unshare's child), or 0. */
static pid_t only_child(pid_t pid)
{
	char path[96], buf[64] = "";
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid,
	         (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return (pid_t)strtol(buf, NULL, 10);
}

/*
 * A runtime in a pid namespace of its own cannot see the exec's process:
 * the timeout then answers UNAVAILABLE saying so, rather than pretend,
 * and never signals whatever process has that number in its namespace.
 */
static void test_rpc_other_pid_namespace(void **state)
{
	static char *sleeper[] = { "sleep", "306" };
	extern char **environ;
	const char *bin = getenv("BERTH_BIN");
	char *dir = ts_tmpdir("exec-pidns");
	char *url = berth_asprintf("ipc://%s/runtime.sock", dir);
	char *log = berth_asprintf("%s/berth.log", dir);
	char *data = berth_asprintf("%s/data", dir);
	const char *argv[] = { "unshare",
		               "--pid",
		               "--fork",
		               "--mount-proc",
		               "--kill-child",
		               bin != NULL ? bin : "berth",
		               "serve",
		               "--role",
		               "runtime",
		               "--data",
		               data,
		               "--url",
		               url,
		               "--no-engine-start",
		               "--socket",
		               ts_docker_socket(),
		               NULL };
	Berth__V1__ExecRequest in = BERTH__V1__EXEC_REQUEST__INIT;
	struct berth_rpc_opts o = { .timeout_ms = 15000 };
	struct berth_rpc_client *cli = NULL;
	posix_spawn_file_actions_t fa;
	ProtobufCMessage *m = NULL;
	struct berth_err err;
	struct stat st;
	pid_t pid = 0, child;
	const char *u = url;
	bool up = false;
	int rv, status;
	char *ps;

	(void)state;
	mkdir(data, 0700);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
	                                 O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log,
	                                 O_WRONLY | O_CREAT | O_APPEND, 0600);
	posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
	rv = posix_spawnp(&pid, "unshare", &fa, NULL, (char **)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(rv, 0);
	for (int i = 0; i < 100 && !up; i++) {
		up = stat(url + 6, &st) == 0;
		if (!up)
			usleep(100 * 1000);
	}
	assert_true(up);
	assert_ok(berth_rpc_client_alloc(&cli, &u, 1, NULL, &err), &err);
	in.id = running_id;
	in.command = sleeper;
	in.n_command = 2;
	in.timeout_ms = 500;
	rv = berth_rpc_call(cli, &berth__v1__runtime__descriptor, "ExecCommand",
	                    &in.base, &m, &o, &err);
	if (rv != BERTH_EUNAVAIL)
		fail_msg("expected UNAVAILABLE, got %s: %s",
		         berth_code_name(rv), err.msg);
	assert_non_null(strstr(err.msg, "not visible"));
	assert_null(m);
	berth_rpc_client_free(cli);
	/* berth is pid 1 of its namespace: stop it by its outer pid. */
	child = only_child(pid);
	assert_true(child > 0);
	kill(child, SIGTERM);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	/* Berth said it could not: the command is still there; end it. */
	ps = ps_text();
	assert_non_null(strstr(ps, "sleep 306"));
	free(ps);
	{
		json_t *j = NULL;

		exec_on(running_id,
		        "{\"command\":[\"pkill\",\"-KILL\",\"-f\","
		        "\"sleep 306\"]}",
		        &j);
		json_decref(j);
	}
	ts_rmtree(dir);
	free(dir);
	free(url);
	free(log);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stdout_stderr_and_exit_code),
		cmocka_unit_test(test_env_working_dir_user),
		cmocka_unit_test(test_timeout_kills_process),
		cmocka_unit_test(test_timeout_kills_child_tree),
		cmocka_unit_test(test_output_cap_marker),
		cmocka_unit_test(test_big_output_drains),
		cmocka_unit_test(test_binary_output_base64),
		cmocka_unit_test(test_stopped_and_unknown_container),
		cmocka_unit_test(test_bad_bodies),
		cmocka_unit_test(test_stream_ndjson),
		cmocka_unit_test(test_stream_timeout),
		cmocka_unit_test(test_stream_client_leaves),
		cmocka_unit_test(test_rpc_refusals),
		cmocka_unit_test(test_rpc_deadline_and_big_output),
		cmocka_unit_test(test_rpc_exec_stream),
		cmocka_unit_test(test_rpc_other_pid_namespace),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
