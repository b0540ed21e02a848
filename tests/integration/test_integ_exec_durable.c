/*
 * test_integ_exec_durable.c: exec timeouts that outlive the runtime,
 * and the runtime-wide exec output budget, through REST with the
 * gateway and the runtime as separate processes over ipc://.
 *
 * - `sleep 600` with timeout_ms 2000, the runtime SIGKILLed 500 ms in:
 *   the process still runs while the runtime is down; the restarted
 *   runtime (same store) kills it at its deadline: the engine reports
 *   the exec not running, `ps` in the container no longer shows it, and
 *   its exec_deadlines row is gone;
 * - without a kill: the row exists while the exec runs and is deleted
 *   once it ends (normally, or killed by the watchdog); a JSON exec
 *   without timeout_ms has one too (the call's deadline is its
 *   timeout), a streamed one without timeout_ms none;
 * - a runtime started with the test-only BERTH_TEST_EXEC_OUTPUT_BUDGET
 *   (64 KiB) cuts a 200 KB output at the budget with its marker, the
 *   command still ends with its exit code, and the budget is given back
 *   (a second exec gets the same amount); streamed too.
 *
 * The store is read with the sqlite3 API, read-only. The container is
 * made through REST with the label berth-test=<run> and removed at the
 * end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/alloc.h"
#include "lib/buf.h"
#include "tests/support/berthproc.h"
#include "tests/support/testsupport.h"

#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *dir, *rt_data, *url, *db_path;
static struct ts_berth rt, gw;
static char *cid; /* the test container's full id */

/* 64 KiB: small enough that a few hundred KB of output meets it. */
#define TEST_BUDGET 65536

static long req(const char *method, const char *path, const char *body,
                json_t **out)
{
	return ts_http(gw.base, method, path, body, gw.token, NULL, out);
}

static int setup(void **state)
{
	const char *gw_args[]
	    = { "--role", "gateway", "--runtime-url", NULL, NULL };
	json_t *j = NULL;
	char *body, *path;
	long st;

	(void)state;
	dir = ts_tmpdir("execdur");
	rt_data = berth_asprintf("%s/runtime", dir);
	url = berth_asprintf("ipc://%s/runtime.sock", dir);
	db_path = berth_asprintf("%s/runtime.db", rt_data);
	gw_args[3] = url;
	if (ts_berth_start_runtime(&rt, rt_data, url) != 0
	    || ts_berth_start(&gw, NULL, 0, gw_args) != 0)
		return -1;
	body = berth_asprintf(
	    "{\"image\":\"%s\",\"name\":\"it-execdur-%s-%ld\","
	    "\"command\":[\"sleep\",\"3600\"],"
	    "\"labels\":{\"berth-test\":\"%s\"}}",
	    ts_test_image(), ts_run_label(), (long)getpid(), ts_run_label());
	st = req("POST", "/api/v1/containers", body, &j);
	free(body);
	if (st != 201) {
		fprintf(stderr, "create answered %ld\n", st);
		json_decref(j);
		return -1;
	}
	cid = berth_strdup(ts_json_str(j, "id"));
	json_decref(j);
	j = NULL;
	path = berth_asprintf("/api/v1/containers/%s/start", cid);
	st = req("POST", path, NULL, &j);
	free(path);
	json_decref(j);
	if (st < 200 || st >= 300) {
		fprintf(stderr, "start answered %ld\n", st);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	int rv = 0;

	(void)state;
	if (cid != NULL) {
		char *path = berth_asprintf("/containers/%s?force=1&v=1", cid);
		struct berth_buf out;

		berth_buf_init(&out, 1 << 20);
		(void)ts_engine_call("DELETE", path, NULL, &out);
		berth_buf_fini(&out);
		free(path);
	}
	if (ts_berth_stop(&gw) != 0)
		rv = -1;
	if (ts_berth_stop(&rt) != 0)
		rv = -1;
	ts_rmtree(dir);
	free(cid);
	free(db_path);
	free(url);
	free(rt_data);
	free(dir);
	return rv;
}

/* --- the store, read-only ------------------------------------------ */

/*
 * The exec id of the row of container `cid` (the newest), or NULL;
 * `*deadline` and `*created` (may be NULL) get its times.
 */
static char *row_of_container(int64_t *deadline, int64_t *created)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	char *id = NULL;

	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL)
	    != SQLITE_OK)
		goto out;
	sqlite3_busy_timeout(db, 2000);
	if (sqlite3_prepare_v2(db,
	                       "SELECT exec_id, deadline_unix_ms, created_ms "
	                       "FROM exec_deadlines WHERE container_id = ?1 "
	                       "ORDER BY created_ms DESC LIMIT 1",
	                       -1, &stmt, NULL)
	    != SQLITE_OK)
		goto out;
	sqlite3_bind_text(stmt, 1, cid, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		id = berth_strdup((const char *)sqlite3_column_text(stmt, 0));
		if (deadline != NULL)
			*deadline = sqlite3_column_int64(stmt, 1);
		if (created != NULL)
			*created = sqlite3_column_int64(stmt, 2);
	}
out:
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return id;
}

/* Rows in the table: with `exec_id`, or all when NULL; -1 on error. */
static int rows(const char *exec_id)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	int n = -1;

	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL)
	    != SQLITE_OK)
		goto out;
	sqlite3_busy_timeout(db, 2000);
	if (sqlite3_prepare_v2(db,
	                       exec_id != NULL
	                           ? "SELECT count(*) FROM exec_deadlines "
	                             "WHERE exec_id = ?1"
	                           : "SELECT count(*) FROM exec_deadlines",
	                       -1, &stmt, NULL)
	    != SQLITE_OK)
		goto out;
	if (exec_id != NULL)
		sqlite3_bind_text(stmt, 1, exec_id, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		n = sqlite3_column_int(stmt, 0);
out:
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return n;
}

/* The rows of `exec_id` once its exec has answered: the runtime deletes
 * the row just after its reply, so give it a moment (at most 2 s). */
static int rows_after_reply(const char *exec_id)
{
	int n = rows(exec_id);

	for (int i = 0; i < 40 && n != 0; i++) {
		usleep(50 * 1000);
		n = rows(exec_id);
	}
	return n;
}

/* Waits up to 5 s for the container's row to appear; its exec id. */
static char *wait_row(int64_t *deadline, int64_t *created)
{
	int64_t t0 = ts_now_ms();
	char *id = NULL;

	for (int i = 0; i < 500 && id == NULL; i++) {
		id = row_of_container(deadline, created);
		if (id == NULL) {
			if (ts_now_ms() - t0 > 5000)
				break;
			usleep(10 * 1000);
		}
	}
	return id;
}

/* --- the engine, directly ------------------------------------------ */

/* 1 running, 0 not running or unknown to the engine, -1 error. */
static int engine_exec_running(const char *exec_id)
{
	char *path = berth_asprintf("/exec/%s/json", exec_id);
	struct berth_buf out;
	json_t *j;
	long st;
	int rv = -1;

	berth_buf_init(&out, 1 << 20);
	st = ts_engine_call("GET", path, NULL, &out);
	if (st == 404) {
		rv = 0;
	} else if (st == 200 && out.data != NULL) {
		j = json_loads(out.data, 0, NULL);
		rv = json_is_true(json_object_get(j, "Running")) ? 1 : 0;
		json_decref(j);
	}
	berth_buf_fini(&out);
	free(path);
	return rv;
}

/* Whether `ps` in the container (a direct engine exec, behind berth's
 * back) shows `what`; -1 when it could not be run. */
static int ps_shows(const char *what)
{
	char *path = berth_asprintf("/containers/%s/exec", cid), *p2 = NULL;
	struct berth_buf out;
	json_t *j = NULL;
	int rv = -1;

	berth_buf_init(&out, 1 << 20);
	if (ts_engine_call("POST", path,
	                   "{\"AttachStdout\":true,\"AttachStderr\":true,"
	                   "\"Cmd\":[\"ps\"]}",
	                   &out)
	        != 201
	    || out.data == NULL)
		goto out;
	j = json_loads(out.data, 0, NULL);
	p2 = berth_asprintf("/exec/%s/start", ts_json_str(j, "Id"));
	berth_buf_reset(&out);
	if (ts_engine_call("POST", p2, "{\"Detach\":false,\"Tty\":false}", &out)
	    != 200)
		goto out;
	/* The framed stream's headers do not matter for a search. */
	rv = out.data != NULL && memmem(out.data, out.len, what, strlen(what))
	    ? 1
	    : 0;
out:
	json_decref(j);
	berth_buf_fini(&out);
	free(p2);
	free(path);
	return rv;
}

/* --- an exec on another thread --------------------------------------- */

struct bg_exec {
	pthread_t th;
	const char *body;
	long status;
	json_t *reply;
};

static void *bg_main(void *arg)
{
	struct bg_exec *b = arg;
	char *path = berth_asprintf("/api/v1/containers/%s/exec", cid);

	b->status = req("POST", path, b->body, &b->reply);
	free(path);
	return NULL;
}

static void bg_start(struct bg_exec *b, const char *body)
{
	memset(b, 0, sizeof(*b));
	b->body = body;
	assert_int_equal(pthread_create(&b->th, NULL, bg_main, b), 0);
}

static void bg_join(struct bg_exec *b)
{
	pthread_join(b->th, NULL);
}

static long exec_json(const char *body, json_t **out)
{
	char *path = berth_asprintf("/api/v1/containers/%s/exec", cid);
	long st = req("POST", path, body, out);

	free(path);
	return st;
}

/* Waits up to 10 s for the gateway to reach a (re)started runtime. */
static void wait_runtime_up(void)
{
	int64_t t0 = ts_now_ms();
	long st = -1;

	for (int i = 0; i < 200; i++) {
		json_t *j = NULL;

		st = req("GET", "/api/v1/runtime/info", NULL, &j);
		json_decref(j);
		if (st == 200 || ts_now_ms() - t0 > 10000)
			break;
		usleep(50 * 1000);
	}
	assert_int_equal(st, 200);
}

/* --- the tests -------------------------------------------------------- */

static void test_deadline_outlives_killed_runtime(void **state)
{
	struct bg_exec b;
	int64_t t0, deadline = 0, created = 0, t_restart, t_gone = -1;
	char *eid;
	int running = -1, n = -1;

	(void)state;
	t0 = ts_now_ms();
	bg_start(&b, "{\"command\":[\"sleep\",\"600\"],\"timeout_ms\":2000}");
	eid = wait_row(&deadline, &created);
	if (eid == NULL) {
		bg_join(&b);
		json_decref(b.reply);
		fail_msg("no exec_deadlines row for the exec within 5 s "
		         "(answer %ld)",
		         b.status);
	}
	/* Recorded with the caller's timeout. */
	assert_true(deadline - created >= 1900 && deadline - created <= 2100);
	/* Killed 500 ms in: the watchdog dies with it. */
	if (ts_now_ms() - t0 < 500)
		usleep((useconds_t)(500 - (ts_now_ms() - t0)) * 1000);
	ts_berth_kill(&rt, SIGKILL);
	print_message("execdur: runtime killed %lld ms after the POST\n",
	              (long long)(ts_now_ms() - t0));
	/* Nothing of berth is left to end it: it still runs. */
	assert_int_equal(engine_exec_running(eid), 1);
	assert_int_equal(ps_shows("sleep 600"), 1);
	assert_int_equal(rows(eid), 1);

	ts_berth_stop(&rt);
	t_restart = ts_now_ms();
	assert_int_equal(ts_berth_start_runtime(&rt, rt_data, url), 0);
	/* At most 10 s for the restarted runtime to end it. */
	for (int i = 0; i < 200; i++) {
		running = engine_exec_running(eid);
		n = rows(eid);
		if (running == 0 && n == 0) {
			t_gone = ts_now_ms();
			break;
		}
		if (ts_now_ms() - t_restart > 10000)
			break;
		usleep(50 * 1000);
	}
	if (t_gone < 0) {
		ts_berth_print_log(&rt);
		fail_msg("10 s after the restart: exec %s running=%d, rows=%d",
		         eid, running, n);
	}
	print_message("execdur: restarted at %+lld ms from the deadline, "
	              "exec gone at %+lld ms\n",
	              (long long)(t_restart - t0 - 2000),
	              (long long)(t_gone - t0 - 2000));
	/* Not before its deadline. */
	assert_true(t_gone - t0 >= 1900);
	assert_int_equal(ps_shows("sleep 600"), 0);
	bg_join(&b);
	print_message("execdur: the interrupted POST answered %ld\n", b.status);
	assert_true(b.status >= 500 || b.status == -1);
	json_decref(b.reply);
	free(eid);
}

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
	return berth_buf_append(arg, p, size * n) == 0 ? size * n : 0;
}

/* A streamed exec; the NDJSON text in `out`. */
static long stream_exec(const char *body, struct berth_buf *out)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char *u = berth_asprintf("%s/api/v1/containers/%s/exec?stream=1",
	                         gw.base, cid);
	char *auth = berth_asprintf("Authorization: Bearer %s", gw.token);
	long st = -1;

	h = curl_slist_append(h, auth);
	h = curl_slist_append(h, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, u);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	free(auth);
	free(u);
	return st;
}

/* A streamed exec run on a thread of its own. */
struct stream_bg {
	pthread_t th;
	const char *body;
	long status;
	struct berth_buf out;
};

static void *stream_main(void *arg)
{
	struct stream_bg *s = arg;

	s->status = stream_exec(s->body, &s->out);
	return NULL;
}

static void test_row_deleted_when_exec_ends(void **state)
{
	struct bg_exec b;
	char *eid;

	(void)state;
	/* Ends by itself: the row exists while it runs, not after. */
	bg_start(&b, "{\"command\":[\"sleep\",\"1\"],\"timeout_ms\":8000}");
	eid = wait_row(NULL, NULL);
	assert_non_null(eid);
	bg_join(&b);
	assert_int_equal(b.status, 200);
	assert_int_equal(
	    json_integer_value(json_object_get(b.reply, "exit_code")), 0);
	assert_int_equal(rows_after_reply(eid), 0);
	json_decref(b.reply);
	free(eid);

	/* Killed by the watchdog: timed_out, and the row is gone. */
	bg_start(&b, "{\"command\":[\"sleep\",\"301\"],\"timeout_ms\":800}");
	eid = wait_row(NULL, NULL);
	assert_non_null(eid);
	bg_join(&b);
	assert_int_equal(b.status, 200);
	assert_true(json_is_true(json_object_get(b.reply, "timed_out")));
	assert_int_equal(rows_after_reply(eid), 0);
	assert_int_equal(engine_exec_running(eid), 0);
	json_decref(b.reply);
	free(eid);

	/* No timeout_ms: the call's deadline stands in for one (the exec
	 * is killed when the call runs out), so it has a row too. */
	bg_start(&b, "{\"command\":[\"sleep\",\"1\"]}");
	eid = wait_row(NULL, NULL);
	assert_non_null(eid);
	bg_join(&b);
	assert_int_equal(b.status, 200);
	assert_int_equal(rows_after_reply(eid), 0);
	json_decref(b.reply);
	free(eid);

	/* Streamed without timeout_ms: no deadline, nothing written while
	 * it runs (looked at during a streamed `sleep 1`). */
	assert_int_equal(rows_after_reply(NULL), 0);
	{
		struct stream_bg s
		    = { .body = "{\"command\":[\"sleep\",\"1\"]}" };
		int seen = 0;

		berth_buf_init(&s.out, 1 << 20);
		assert_int_equal(pthread_create(&s.th, NULL, stream_main, &s),
		                 0);
		for (int i = 0; i < 16; i++) {
			usleep(50 * 1000);
			seen += rows(NULL);
		}
		pthread_join(s.th, NULL);
		assert_int_equal(s.status, 200);
		assert_non_null(strstr(s.out.data, "\"exit_code\":0"));
		assert_int_equal(seen, 0);
		berth_buf_fini(&s.out);
	}
}

static void test_output_budget(void **state)
{
	static const char body[]
	    = "{\"command\":[\"sh\",\"-c\",\"head -c 200000 /dev/zero | "
	      "tr '\\\\0' a; exit 7\"],\"max_output_bytes\":1048576}";
	char *budget = berth_asprintf("%d", TEST_BUDGET);
	struct berth_buf out;
	json_t *j = NULL;
	const char *text;

	(void)state;
	/* A runtime with the test-only small budget. */
	assert_int_equal(ts_berth_stop(&rt), 0);
	setenv("BERTH_TEST_EXEC_OUTPUT_BUDGET", budget, 1);
	assert_int_equal(ts_berth_start_runtime(&rt, rt_data, url), 0);
	unsetenv("BERTH_TEST_EXEC_OUTPUT_BUDGET");
	free(budget);
	wait_runtime_up();

	/* Twice: the first exec's charge is given back with its reply. */
	for (int round = 0; round < 2; round++) {
		assert_int_equal(exec_json(body, &j), 200);
		assert_int_equal(
		    json_integer_value(json_object_get(j, "exit_code")), 7);
		assert_true(
		    json_is_true(json_object_get(j, "stdout_truncated")));
		assert_true(json_is_false(json_object_get(j, "timed_out")));
		text = ts_json_str(j, "stdout");
		/* The output up to the cut, then the marker. */
		assert_int_equal(strspn(text, "a"), TEST_BUDGET);
		if (strstr(text,
		           "[berth: stdout truncated after 65536 bytes: "
		           "the runtime's exec output budget is used up; "
		           "try again later]")
		    == NULL)
			fail_msg("round %d: no budget marker in the output's "
			         "tail: %s",
			         round, text + strlen(text) - 160);
		/* One marker line, not the cap's and the budget's both. */
		assert_ptr_equal(strstr(text, "[berth:"),
		                 strrchr(text, '[') != NULL ? strrchr(text, '[')
		                                            : NULL);
		assert_true(json_is_true(
		    json_object_get(j, "output_budget_exhausted")));
		json_decref(j);
		j = NULL;
	}

	/* Streamed: cut the same way, marker in the stream, exit code. */
	berth_buf_init(&out, 4 << 20);
	assert_int_equal(stream_exec(body, &out), 200);
	assert_non_null(out.data);
	assert_non_null(strstr(out.data, "exec output budget is used up"));
	assert_non_null(strstr(out.data, "\"exit_code\":7"));
	berth_buf_fini(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_row_deleted_when_exec_ends),
		cmocka_unit_test(test_deadline_outlives_killed_runtime),
		cmocka_unit_test(test_output_budget),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
