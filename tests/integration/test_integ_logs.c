/*
 * test_integ_logs.c: GET /api/v1/containers/{id}/logs end to end through
 * the real `berth serve` against the real engine: tail and since, stream
 * selection, a line longer than the engine's 16 KiB pieces, follow
 * latency, resuming with after_seq, bad input, and a client that hangs
 * up mid-follow leaving no descriptor or thread behind in the server.
 *
 * Containers are labelled berth-test=<run> (keys under "berth." are
 * reserved for berth itself) and removed at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/alloc.h"
#include "lib/buf.h"
#include "berth/v1/runtime.pb-c.h"
#include "lib/rpc.h"
#include "tests/support/berthproc.h"
#include "tests/support/http_stream.h"
#include "tests/support/testsupport.h"

#include <curl/curl.h>
#include <dirent.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct ts_berth berth;
static char *lines_id;  /* printed out1..out10 / err1..err10 and exited */
static char *ticker_id; /* prints tickN every second, for a minute */
static char *long_id;   /* printed one 300000-byte line and exited */
static char *bulk_id;   /* printed 16000 lines of ~1 KB and exited */
static char *silent_id; /* prints nothing, for two minutes */

static long req(const char *method, const char *path, const char *body,
                json_t **out)
{
	json_t *ignored = NULL;
	long st = ts_http(berth.base, method, path, body, berth.token, NULL,
	                  out != NULL ? out : &ignored);

	json_decref(ignored);
	return st;
}

/* Creates and starts a container running `command` (a shell line). */
static char *run_container(const char *what, const char *command)
{
	char *name = berth_asprintf("it-%s-%ld-logs-%s", ts_run_label(),
	                            (long)getpid(), what);
	json_t *body = json_object(), *labels = json_object(), *j = NULL;
	char *text, *path, *id;
	long st;

	json_object_set_new(body, "image", json_string(ts_test_image()));
	json_object_set_new(body, "name", json_string(name));
	json_object_set_new(body, "command", json_string(command));
	json_object_set_new(labels, "berth-test", json_string(ts_run_label()));
	json_object_set_new(body, "labels", labels);
	text = json_dumps(body, JSON_COMPACT);
	st = req("POST", "/api/v1/containers", text, &j);
	if (st != 201)
		fprintf(stderr, "create %s: %ld %s\n", what, st,
		        ts_error_code(j));
	assert_int_equal(st, 201);
	id = berth_strdup(ts_json_str(j, "id"));
	json_decref(j);
	path = berth_asprintf("/api/v1/containers/%s/start", id);
	assert_int_equal(req("POST", path, NULL, NULL), 204);
	free(path);
	free(text);
	json_decref(body);
	free(name);
	return id;
}

static void remove_container(const char *id)
{
	char *path;

	if (id == NULL)
		return;
	path = berth_asprintf("/api/v1/containers/%s?force=1", id);
	req("DELETE", path, NULL, NULL);
	free(path);
}

/* Waits (up to 20 s) until the container has run and stopped (berth's
 * view comes from its event-fed cache, which may still say "created"
 * for a container made behind its back). */
static void wait_exited(const char *id)
{
	char *path = berth_asprintf("/api/v1/containers/%s", id);
	bool done = false;

	for (int i = 0; i < 200 && !done; i++) {
		json_t *j = NULL;
		const char *st;

		assert_int_equal(req("GET", path, NULL, &j), 200);
		st = ts_json_str(j, "state");
		done = strcmp(st, "exited") == 0 || strcmp(st, "stopped") == 0
		    || strcmp(st, "dead") == 0;
		json_decref(j);
		if (!done)
			usleep(100 * 1000);
	}
	assert_true(done);
	free(path);
}

/* One request straight to the engine (for a container berth cannot make:
 * one with a TTY). Returns the status; the body is discarded. */
static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static size_t keep(char *p, size_t size, size_t n, void *arg)
{
	struct berth_buf *b = arg;

	(void)berth_buf_append(b, p, size * n);
	return size * n;
}

static long engine_call(const char *method, const char *path, const char *body,
                        struct berth_buf *reply)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char *url = berth_asprintf("http://engine/v1.41%s", path);
	long status = -1;

	assert_non_null(c);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, ts_docker_socket());
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 20000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION,
	                 reply != NULL ? keep : discard);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, reply);
	if (body != NULL) {
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	}
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	free(url);
	return status;
}

static int setup(void **state)
{
	(void)state;
	if (ts_berth_start(&berth, NULL, 0, NULL) != 0)
		return -1;
	lines_id = run_container(
	    "lines",
	    "i=1; while [ $i -le 10 ]; do echo out$i; echo err$i >&2; "
	    "i=$((i+1)); done");
	ticker_id = run_container(
	    "ticker",
	    "i=0; while [ $i -lt 60 ]; do sleep 1; echo tick$i; "
	    "i=$((i+1)); done");
	long_id = run_container(
	    "long",
	    "head -c 300000 /dev/zero | tr '\\000' a; echo; echo after");
	bulk_id = run_container(
	    "bulk",
	    "L=$(head -c 1000 /dev/zero | tr '\\000' x); i=0; "
	    "while [ $i -lt 16000 ]; do echo \"$i $L\"; i=$((i+1)); "
	    "done");
	silent_id = run_container("silent", "sleep 120");
	wait_exited(lines_id);
	wait_exited(long_id);
	wait_exited(bulk_id);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	remove_container(lines_id);
	remove_container(ticker_id);
	remove_container(long_id);
	remove_container(bulk_id);
	remove_container(silent_id);
	free(bulk_id);
	free(silent_id);
	free(lines_id);
	free(ticker_id);
	free(long_id);
	return ts_berth_stop(&berth);
}

/* All NDJSON objects of a non-follow read; the last one is the done
 * line. Caller owns the array. */
static json_t *read_all(const char *id, const char *query)
{
	char *path = berth_asprintf("/api/v1/containers/%s/logs?%s", id, query);
	struct ts_stream *s
	    = ts_stream_open(berth.base, "GET", path, NULL, berth.token, 10000);
	json_t *all = json_array(), *j;

	assert_non_null(s);
	assert_int_equal(ts_stream_status(s), 200);
	for (int i = 0; i < 10000 && (j = ts_stream_json(s, 10000)) != NULL;
	     i++)
		json_array_append_new(all, j);
	assert_true(ts_stream_complete(s));
	ts_stream_close(s);
	free(path);
	return all;
}

static const char *data_of(const json_t *all, size_t i)
{
	return ts_json_str(json_array_get(all, i), "data");
}

static bool is_done(const json_t *j)
{
	return json_is_true(json_object_get(j, "done"));
}

static uint64_t seq_of(const json_t *j)
{
	return (uint64_t)json_integer_value(json_object_get(j, "seq"));
}

/* RFC 3339 with nanoseconds to unix ns. */
static int64_t time_ns_of(const json_t *j)
{
	const char *t = ts_json_str(j, "time");
	struct tm tm;
	const char *rest;
	int64_t ns = 0, scale = 100000000;

	memset(&tm, 0, sizeof(tm));
	rest = strptime(t, "%Y-%m-%dT%H:%M:%S", &tm);
	assert_non_null(rest);
	if (*rest == '.')
		for (rest++; *rest >= '0' && *rest <= '9'; rest++) {
			ns += (*rest - '0') * scale;
			scale /= 10;
		}
	return (int64_t)timegm(&tm) * 1000000000LL + ns;
}

static int64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void test_all_lines_in_order_with_done(void **state)
{
	json_t *all;
	size_t n;
	int out = 0, err = 0;

	(void)state;
	all = read_all(lines_id, "");
	n = json_array_size(all);
	assert_int_equal(n, 21);
	assert_true(is_done(json_array_get(all, n - 1)));
	for (size_t i = 0; i + 1 < n; i++) {
		const json_t *f = json_array_get(all, i);
		const char *s = ts_json_str(f, "stream");
		char want[16];

		if (i > 0)
			assert_true(seq_of(f)
			            > seq_of(json_array_get(all, i - 1)));
		assert_true(time_ns_of(f) > 0);
		if (strcmp(s, "stdout") == 0)
			snprintf(want, sizeof(want), "out%d\n", ++out);
		else
			snprintf(want, sizeof(want), "err%d\n", ++err);
		assert_string_equal(data_of(all, i), want);
	}
	assert_int_equal(out, 10);
	assert_int_equal(err, 10);
	assert_int_equal((uint64_t)json_integer_value(json_object_get(
	                     json_array_get(all, n - 1), "last_seq")),
	                 seq_of(json_array_get(all, n - 2)));
	json_decref(all);
}

static void test_tail_and_since(void **state)
{
	json_t *all, *tail, *since;
	char *q;
	const char *t;

	(void)state;
	/* The engine counts the tail over both streams, then selects:
	 * compare with the last 3 of everything. */
	all = read_all(lines_id, "");
	tail = read_all(lines_id, "tail=3");
	assert_int_equal(json_array_size(tail), 4);
	/* (seqs match only when the engine's times are all distinct:
	 * Podman's can repeat, and a repeat takes last + 1.) */
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(data_of(tail, i), data_of(all, 17 + i));
	json_decref(tail);
	json_decref(all);

	tail = read_all(lines_id, "tail=0");
	assert_int_equal(json_array_size(tail), 1); /* done only */
	json_decref(tail);

	/* since = the 5th stdout line's own time (the API keeps ms): every
	 * line at or after since_ms, and only those. */
	all = read_all(lines_id, "stdout=1");
	t = ts_json_str(json_array_get(all, 4), "time");
	for (int form = 0; form < 2; form++) {
		int64_t ns = time_ns_of(json_array_get(all, 4));
		int64_t since_ns = ns / 1000000 * 1000000;
		size_t want = 0, got;

		if (form == 0)
			q = berth_asprintf("stdout=1&since=%s", t);
		else
			q = berth_asprintf("stdout=1&since=%lld.%09lld",
			                   (long long)(ns / 1000000000LL),
			                   (long long)(ns % 1000000000LL));
		since = read_all(lines_id, q);
		for (size_t i = 0; i + 1 < json_array_size(all); i++)
			if (time_ns_of(json_array_get(all, i)) >= since_ns)
				want++;
		got = json_array_size(since) - 1;
		assert_true(want >= 6);
		assert_int_equal(got, want);
		for (size_t i = 0; i < got; i++)
			assert_true(time_ns_of(json_array_get(since, i))
			            >= since_ns);
		assert_string_equal(data_of(since, got - 1), "out10\n");
		json_decref(since);
		free(q);
	}
	json_decref(all);
}

static void test_stream_selection(void **state)
{
	json_t *out, *err;

	(void)state;
	out = read_all(lines_id, "stdout=1");
	err = read_all(lines_id, "stderr=true");
	assert_int_equal(json_array_size(out), 11);
	assert_int_equal(json_array_size(err), 11);
	for (size_t i = 0; i < 10; i++) {
		assert_string_equal(
		    ts_json_str(json_array_get(out, i), "stream"), "stdout");
		assert_string_equal(
		    ts_json_str(json_array_get(err, i), "stream"), "stderr");
	}
	json_decref(out);
	json_decref(err);
}

static void test_long_line_reassembled(void **state)
{
	json_t *all;
	size_t n, first, second;
	char *path, *text;
	size_t len = 0;
	struct ts_stream *s;

	(void)state;
	/* 300001 bytes: one 256 KiB piece and the rest, though the engine
	 * stored it in 16 KiB messages. */
	all = read_all(long_id, "");
	n = json_array_size(all);
	assert_int_equal(n, 4);
	first = strlen(data_of(all, 0));
	second = strlen(data_of(all, 1));
	assert_int_equal(first, 256 * 1024);
	assert_int_equal(first + second, 300001);
	assert_int_equal(data_of(all, 1)[second - 1], '\n');
	assert_null(strchr(data_of(all, 0), '\n'));
	assert_string_equal(data_of(all, 2), "after\n");
	assert_true(seq_of(json_array_get(all, 1))
	            > seq_of(json_array_get(all, 0)));
	json_decref(all);

	/* Text: the bytes as the container wrote them. */
	path
	    = berth_asprintf("/api/v1/containers/%s/logs?format=text", long_id);
	s = ts_stream_open(berth.base, "GET", path, NULL, berth.token, 10000);
	assert_non_null(s);
	assert_int_equal(ts_stream_status(s), 200);
	assert_non_null(
	    strstr(ts_stream_header(s, "Content-Type"), "text/plain"));
	text = ts_stream_rest(s, 10000, &len);
	assert_int_equal(len, 300001 + 6);
	assert_int_equal(strspn(text, "a"), 300000);
	assert_string_equal(text + 300000, "\nafter\n");
	free(text);
	ts_stream_close(s);
	free(path);
}

static void test_text_with_timestamps(void **state)
{
	char *path, *line;
	struct ts_stream *s;
	int n = 0;

	(void)state;
	path = berth_asprintf(
	    "/api/v1/containers/%s/logs?format=text&timestamps=1&stderr=1",
	    lines_id);
	s = ts_stream_open(berth.base, "GET", path, NULL, berth.token, 10000);
	assert_non_null(s);
	while ((line = ts_stream_line(s, 5000)) != NULL) {
		char want[16];
		const char *sp = strchr(line, ' ');

		n++;
		snprintf(want, sizeof(want), "err%d", n);
		assert_non_null(sp);
		assert_true(sp - line >= 20);
		assert_int_equal(line[10], 'T');
		assert_string_equal(sp + 1, want);
		free(line);
	}
	assert_int_equal(n, 10);
	ts_stream_close(s);
	free(path);
}

static void test_follow_latency(void **state)
{
	char *path;
	struct ts_stream *s;
	int64_t worst = 0;

	(void)state;
	path = berth_asprintf("/api/v1/containers/%s/logs?follow=1&tail=0",
	                      ticker_id);
	s = ts_stream_open(berth.base, "GET", path, NULL, berth.token, 10000);
	assert_non_null(s);
	assert_int_equal(ts_stream_status(s), 200);
	for (int i = 0; i < 3; i++) {
		json_t *j = ts_stream_json(s, 3000);
		int64_t lat;

		assert_non_null(j);
		assert_false(is_done(j));
		assert_non_null(strstr(ts_json_str(j, "data"), "tick"));
		/* From the engine's timestamp of the write to here. */
		lat = wall_ns() - time_ns_of(j);
		if (lat > worst)
			worst = lat;
		json_decref(j);
	}
	fprintf(stderr, "follow latency: worst %lld us\n",
	        (long long)(worst / 1000));
	/* Podman's log times here have whole-second resolution (and its
	 * follow watches the file), so against Podman this only bounds the
	 * total; Docker's nanosecond times measure berth's own delay. */
	assert_true(worst
	            < (ts_engine_is_podman() ? 1600LL : 300LL) * 1000000LL);
	ts_stream_close(s);
	free(path);
}

static void test_resume_after_seq(void **state)
{
	json_t *all, *rest;
	char *q;

	(void)state;
	all = read_all(lines_id, "");
	assert_int_equal(json_array_size(all), 21);
	/* Resume after the 8th frame: exactly frames 9..20, same seqs. */
	q = berth_asprintf("after_seq=%llu",
	                   (unsigned long long)seq_of(json_array_get(all, 7)));
	rest = read_all(lines_id, q);
	assert_int_equal(json_array_size(rest), 13);
	for (size_t i = 0; i < 12; i++) {
		assert_int_equal(seq_of(json_array_get(rest, i)),
		                 seq_of(json_array_get(all, i + 8)));
		assert_string_equal(data_of(rest, i), data_of(all, i + 8));
	}
	assert_true(is_done(json_array_get(rest, 12)));
	json_decref(rest);
	free(q);

	/* After the last frame: nothing but the end. */
	q = berth_asprintf("after_seq=%llu",
	                   (unsigned long long)seq_of(json_array_get(all, 19)));
	rest = read_all(lines_id, q);
	assert_int_equal(json_array_size(rest), 1);
	json_decref(rest);
	free(q);
	json_decref(all);
}

static void test_resume_follow(void **state)
{
	char *path;
	struct ts_stream *s;
	json_t *j;
	uint64_t last;
	char *first_data;

	(void)state;
	path = berth_asprintf("/api/v1/containers/%s/logs?follow=1&tail=1",
	                      ticker_id);
	s = ts_stream_open(berth.base, "GET", path, NULL, berth.token, 10000);
	assert_non_null(s);
	j = ts_stream_json(s, 3000);
	assert_non_null(j);
	last = seq_of(j);
	first_data = berth_strdup(ts_json_str(j, "data"));
	json_decref(j);
	ts_stream_close(s);
	free(path);

	/* Reconnect after a gap: the next tick comes, not the one we had. */
	usleep(1500 * 1000);
	path = berth_asprintf(
	    "/api/v1/containers/%s/logs?follow=1&after_seq=%llu", ticker_id,
	    (unsigned long long)last);
	s = ts_stream_open(berth.base, "GET", path, NULL, berth.token, 10000);
	assert_non_null(s);
	j = ts_stream_json(s, 3000);
	assert_non_null(j);
	assert_true(seq_of(j) > last);
	assert_string_not_equal(ts_json_str(j, "data"), first_data);
	{
		int a = -1, b = -1;

		sscanf(first_data, "tick%d", &a);
		sscanf(ts_json_str(j, "data"), "tick%d", &b);
		assert_int_equal(b, a + 1); /* no gap */
	}
	json_decref(j);
	ts_stream_close(s);
	free(path);
	free(first_data);
}

static void test_bad_input_and_missing_container(void **state)
{
	static const char *const bad[] = {
		"tail=-1",      "tail=x",     "since=yesterday",
		"until=1.x",    "format=xml", "follow=2",
		"after_seq=-3", "nope=1",     "since=20&until=10",
	};
	json_t *j = NULL;
	char *path;
	struct ts_stream *s;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		path = berth_asprintf("/api/v1/containers/%s/logs?%s", lines_id,
		                      bad[i]);
		assert_int_equal(req("GET", path, NULL, &j), 400);
		assert_string_equal(ts_error_code(j), "INVALID_ARGUMENT");
		json_decref(j);
		j = NULL;
		free(path);
	}
	/* A missing container: a plain 404 with a JSON error, no chunks. */
	s = ts_stream_open(
	    berth.base, "GET",
	    "/api/v1/containers/it-no-such-container/logs?follow=1", NULL,
	    berth.token, 10000);
	assert_non_null(s);
	assert_int_equal(ts_stream_status(s), 404);
	{
		char *body = ts_stream_rest(s, 5000, NULL);

		assert_non_null(strstr(body, "NOT_FOUND"));
		free(body);
	}
	ts_stream_close(s);
	assert_int_equal(
	    req("GET", "/api/v1/containers/bad%20id/logs", NULL, &j), 400);
	json_decref(j);
}

/* Open descriptors of the server process. */
static int count_fds(pid_t pid)
{
	char dir[64];
	DIR *d;
	struct dirent *e;
	int n = 0;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Threads of the server process (each stream has a producer thread). */
static int count_threads(pid_t pid)
{
	char path[64], line[256];
	FILE *f;
	int n = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

/* Opens `n` followers, reads a line on each, and hangs up. */
static void follow_and_hang_up(int n)
{
	char *path = berth_asprintf(
	    "/api/v1/containers/%s/logs?follow=1&tail=1", ticker_id);
	struct ts_stream *s[8];

	for (int i = 0; i < n; i++) {
		s[i] = ts_stream_open(berth.base, "GET", path, NULL,
		                      berth.token, 10000);
		assert_non_null(s[i]);
		assert_int_equal(ts_stream_status(s[i]), 200);
	}
	for (int i = 0; i < n; i++) {
		json_t *j = ts_stream_json(s[i], 3000);

		assert_non_null(j);
		json_decref(j);
	}
	for (int i = 0; i < n; i++)
		ts_stream_close(s[i]);
	free(path);
}

/* Descriptors the runtime may hold for its own engine calls at any
 * moment (see test_hang_up_frees_everything). */
#define FD_SLACK 2

static void test_hang_up_frees_everything(void **state)
{
	int fds0, thr0, fds = 0, thr = 0, peak_fds, peak_thr;
	int64_t t0;

	(void)state;
	/* Warm up (first-use threads and connections), then settle. */
	follow_and_hang_up(1);
	usleep(3500 * 1000);
	fds0 = count_fds(berth.pid);
	thr0 = count_threads(berth.pid);

	{
		char *path = berth_asprintf(
		    "/api/v1/containers/%s/logs?follow=1&tail=1", ticker_id);
		char *quiet = berth_asprintf(
		    "/api/v1/containers/%s/logs?follow=1&tail=0", silent_id);
		struct ts_stream *s[6];

		/* Four that get lines, two that never get a byte (an idle
		 * response sends nothing, so the server must look). */
		for (int i = 0; i < 6; i++) {
			s[i] = ts_stream_open(berth.base, "GET",
			                      i < 4 ? path : quiet, NULL,
			                      berth.token, 10000);
			assert_non_null(s[i]);
			assert_int_equal(ts_stream_status(s[i]), 200);
			if (i < 4)
				json_decref(ts_stream_json(s[i], 3000));
		}
		usleep(300 * 1000);
		peak_fds = count_fds(berth.pid);
		peak_thr = count_threads(berth.pid);
		/* Each follower holds a client socket, an engine connection
		 * and a producer thread while it lives. */
		assert_true(peak_fds >= fds0 + 6);
		assert_true(peak_thr >= thr0 + 6);
		for (int i = 0; i < 6; i++)
			ts_stream_close(s[i]);
		free(path);
		free(quiet);
	}
	/* Slack of FD_SLACK descriptors: the runtime's own engine calls
	 * (the cache refresher's inspects after this test's container
	 * events) open and close connections at any moment, measured at
	 * 21-23 around a baseline of 22. Six followers that leaked would
	 * keep at least six client sockets and six engine connections. */
	t0 = ts_now_ms();
	while (ts_now_ms() - t0 < 8000) {
		fds = count_fds(berth.pid);
		thr = count_threads(berth.pid);
		if (fds <= fds0 && thr <= thr0)
			break;
		usleep(100 * 1000);
	}
	fprintf(stderr,
	        "hang-up: fds %d -> %d -> %d, threads %d -> %d -> %d in %lld "
	        "ms\n",
	        fds0, peak_fds, fds, thr0, peak_thr, thr,
	        (long long)(ts_now_ms() - t0));
	assert_true(fds <= fds0 + FD_SLACK);
	assert_true(thr <= thr0);
}

static void test_slow_client_gets_everything(void **state)
{
	char *path, *text, *p;
	struct ts_stream *s;
	size_t len = 0;
	long first;
	int n = 0;

	(void)state;
	/* 16 MB: more than the pump, the runtime buffer and the sockets
	 * hold, so the relay must wait for the client to drain. */
	path
	    = berth_asprintf("/api/v1/containers/%s/logs?format=text", bulk_id);
	s = ts_stream_open(berth.base, "GET", path, NULL, berth.token, 10000);
	assert_non_null(s);
	assert_int_equal(ts_stream_status(s), 200);
	usleep(2000 * 1000); /* not reading */
	text = ts_stream_rest(s, 30000, &len);
	assert_true(ts_stream_complete(s));
	/* Every line, in order, to the last. (Podman keeps only the last
	 * 10 MiB that berth's log rotation allows: its first line is later.) */
	first = strtol(text, NULL, 10);
	if (!ts_engine_is_podman())
		assert_int_equal(first, 0);
	for (p = text; *p != '\0' && n < 20000; n++) {
		char *nl = strchr(p, '\n');

		assert_non_null(nl);
		assert_int_equal(strtol(p, NULL, 10), first + n);
		assert_int_equal(strspn(strchr(p, ' ') + 1, "x"), 1000);
		p = nl + 1;
	}
	assert_int_equal(first + n, 16000);
	free(text);
	ts_stream_close(s);
	free(path);
}

static void test_tty_container_raw_logs(void **state)
{
	struct berth_buf reply;
	json_t *body = json_object(), *labels = json_object(), *cmd, *j;
	char *text, *path, *id, *name;
	const char *lines[] = { "one\r\n", "two\r\n" };
	json_t *all;

	(void)state;
	/* A TTY container made behind berth's back: raw, unframed logs. */
	name = berth_asprintf("it-%s-%ld-logs-tty", ts_run_label(),
	                      (long)getpid());
	cmd = json_pack("[sss]", "sh", "-c", "echo one; echo two");
	json_object_set_new(body, "Image", json_string(ts_test_image()));
	json_object_set_new(body, "Cmd", cmd);
	json_object_set_new(body, "Tty", json_true());
	json_object_set_new(labels, "berth.test", json_string(ts_run_label()));
	json_object_set_new(body, "Labels", labels);
	text = json_dumps(body, JSON_COMPACT);
	path = berth_asprintf("/containers/create?name=%s", name);
	berth_buf_init(&reply, 65536);
	assert_int_equal(engine_call("POST", path, text, &reply), 201);
	j = json_loads(reply.data, 0, NULL);
	id = berth_strdup(ts_json_str(j, "Id"));
	json_decref(j);
	free(path);
	path = berth_asprintf("/containers/%s/start", id);
	assert_int_equal(engine_call("POST", path, NULL, NULL) / 100, 2);
	free(path);
	wait_exited(id);

	all = read_all(id, "");
	assert_int_equal(json_array_size(all), 3);
	for (size_t i = 0; i < 2; i++) {
		assert_string_equal(data_of(all, i), lines[i]);
		assert_string_equal(
		    ts_json_str(json_array_get(all, i), "stream"), "stdout");
		assert_true(time_ns_of(json_array_get(all, i)) > 0);
	}
	json_decref(all);

	path = berth_asprintf("/containers/%s?force=1", id);
	assert_int_equal(engine_call("DELETE", path, NULL, NULL), 204);
	free(path);
	berth_buf_fini(&reply);
	json_decref(body);
	free(text);
	free(id);
	free(name);
}

/* One call to the runtime over nng. */
static int rpc(struct berth_rpc_client *cli, const char *method,
               const ProtobufCMessage *in, ProtobufCMessage **out,
               struct berth_err *err)
{
	struct berth_rpc_opts o = { .timeout_ms = 10000 };

	*out = NULL;
	return berth_rpc_call(cli, &berth__v1__runtime__descriptor, method, in,
	                      out, &o, err);
}

/* The nng API is public: the runtime checks what the gateway checks, and
 * its streams work without the gateway. */
static void test_runtime_over_nng(void **state)
{
	struct ts_berth rt = { 0 };
	struct berth_rpc_client *cli = NULL;
	struct berth_err err;
	char *dir = ts_tmpdir("logs-rpc");
	char *url = berth_asprintf("ipc://%s/runtime.sock", dir);
	const char *u = url;
	Berth__V1__LogsRequest lr = BERTH__V1__LOGS_REQUEST__INIT;
	Berth__V1__ReadStreamRequest rr = BERTH__V1__READ_STREAM_REQUEST__INIT;
	Berth__V1__StreamRef ref = BERTH__V1__STREAM_REF__INIT;
	Berth__V1__StreamRef *opened = NULL;
	Berth__V1__StreamChunk *c = NULL;
	ProtobufCMessage *out = NULL;
	char id[64];
	int64_t t0;

	(void)state;
	assert_int_equal(ts_berth_start_runtime(&rt, NULL, url), 0);
	assert_ok(berth_rpc_client_alloc(&cli, &u, 1, NULL, &err), &err);

	/* Refused, as over REST. */
	lr.id = "bad id";
	assert_int_equal(rpc(cli, "OpenLogs", &lr.base, &out, &err),
	                 BERTH_EINVAL);
	lr.id = lines_id;
	lr.tail = -2;
	assert_int_equal(rpc(cli, "OpenLogs", &lr.base, &out, &err),
	                 BERTH_EINVAL);
	assert_non_null(strstr(err.msg, "tail"));
	lr.tail = 0;
	lr.since_unix_ms = 2000;
	lr.until_unix_ms = 1000;
	assert_int_equal(rpc(cli, "OpenLogs", &lr.base, &out, &err),
	                 BERTH_EINVAL);
	lr.since_unix_ms = lr.until_unix_ms = 0;
	lr.id = "it-no-such-container";
	assert_int_equal(rpc(cli, "OpenLogs", &lr.base, &out, &err),
	                 BERTH_ENOTFOUND);
	rr.id = "not-a-uuid";
	assert_int_equal(rpc(cli, "ReadStream", &rr.base, &out, &err),
	                 BERTH_EINVAL);
	rr.id = "00000000-0000-4000-8000-000000000000";
	assert_int_equal(rpc(cli, "ReadStream", &rr.base, &out, &err),
	                 BERTH_ENOTFOUND);

	/* A followed stream: a long poll returns with the next tick. */
	lr.id = ticker_id;
	lr.follow = true;
	lr.tail = -1;
	assert_ok(rpc(cli, "OpenLogs", &lr.base, &out, &err), &err);
	opened = (Berth__V1__StreamRef *)out;
	snprintf(id, sizeof(id), "%s", opened->id);
	protobuf_c_message_free_unpacked(out, NULL);
	rr.id = id;
	rr.max_wait_ms = 1000;
	t0 = ts_now_ms();
	for (int i = 0; i < 4 && (c == NULL || c->n_frames == 0); i++) {
		if (c != NULL)
			protobuf_c_message_free_unpacked(&c->base, NULL);
		assert_ok(rpc(cli, "ReadStream", &rr.base, &out, &err), &err);
		c = (Berth__V1__StreamChunk *)out;
	}
	assert_true(c->n_frames >= 1);
	assert_false(c->done);
	assert_true(ts_now_ms() - t0 < 2500);
	assert_non_null(strstr((const char *)c->frames[0]->data.data, "tick"));
	protobuf_c_message_free_unpacked(&c->base, NULL);

	/* Closed: gone for readers. */
	ref.id = id;
	assert_ok(rpc(cli, "CloseStream", &ref.base, &out, &err), &err);
	protobuf_c_message_free_unpacked(out, NULL);
	assert_int_equal(rpc(cli, "ReadStream", &rr.base, &out, &err),
	                 BERTH_ENOTFOUND);
	assert_int_equal(rpc(cli, "CloseStream", &ref.base, &out, &err),
	                 BERTH_ENOTFOUND);

	berth_rpc_client_free(cli);
	assert_int_equal(ts_berth_stop(&rt), 0);
	ts_rmtree(dir);
	free(url);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_lines_in_order_with_done),
		cmocka_unit_test(test_tail_and_since),
		cmocka_unit_test(test_stream_selection),
		cmocka_unit_test(test_long_line_reassembled),
		cmocka_unit_test(test_text_with_timestamps),
		cmocka_unit_test(test_follow_latency),
		cmocka_unit_test(test_resume_after_seq),
		cmocka_unit_test(test_resume_follow),
		cmocka_unit_test(test_bad_input_and_missing_container),
		cmocka_unit_test(test_slow_client_gets_everything),
		cmocka_unit_test(test_tty_container_raw_logs),
		cmocka_unit_test(test_hang_up_frees_everything),
		cmocka_unit_test(test_runtime_over_nng),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
