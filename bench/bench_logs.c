/*
 * bench_logs.c: log follow latency, from a container's write to the
 * client. A container writes a line carrying the wall-clock time every
 * 50 ms; two followers read the same container at the same time: berth's
 * REST API (GET /api/v1/containers/{id}/logs?follow=1, berth serve
 * all-in-one) and the engine's own /containers/{id}/logs?follow=1. Each
 * line's latency is its arrival time minus the time written in it (same
 * host clock: containers share the host's kernel). Reports p50 and p99
 * of each; the difference is what berth's hop costs.
 *
 * The line's time is read inside the container with busybox `adjtimex`
 * (microseconds) just before the line is printed, so both followers
 * carry the same small bias (the time of one awk pipeline).
 */
#include "lib/alloc.h"
#include "lib/buf.h"
#include "tests/support/berthproc.h"
#include "tests/support/testsupport.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NLINES      200
#define WARMUP      5
#define MAX_SECONDS 40

/* The container: wait for the followers, then NLINES timestamped lines. */
#define SCRIPT                                                             \
	"sleep 2; i=0; while [ $i -lt 200 ]; do adjtimex | awk "           \
	"'/tv_sec/{s=$2}/tv_usec/{u=$2}END{printf \"T=%s%06d\\n\",s,u}'; " \
	"usleep 50000; i=$((i+1)); done"

struct follower {
	const char *what;
	char *url;
	const char *unix_socket; /* NULL = tcp */
	const char *token;
	char line[512];
	size_t len;
	char last[160]; /* the last line without a time: an error, say */
	double lat_ms[NLINES];
	int n, seen;
	long status;
};

static double wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* One complete line: find "T=<16 digits>" and record its latency. */
static void on_line(struct follower *f, const char *s, size_t len, double now)
{
	const char *p = memmem(s, len, "T=", 2);
	double t = 0;
	int digits = 0;

	if (p == NULL) {
		size_t n
		    = len < sizeof(f->last) - 1 ? len : sizeof(f->last) - 1;

		for (size_t i = 0; i < n; i++)
			f->last[i] = s[i] == '"' ? '\'' : s[i];
		f->last[n] = '\0';
		return;
	}
	for (p += 2; p < s + len && *p >= '0' && *p <= '9'; p++, digits++)
		t = t * 10 + (*p - '0');
	if (digits < 15)
		return;
	if (f->seen++ < WARMUP || f->n >= NLINES)
		return;
	f->lat_ms[f->n++] = (now - t) / 1e3;
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct follower *f = arg;
	double now = wall_us();
	size_t total = size * n;

	for (size_t i = 0; i < total; i++) {
		if (p[i] == '\n') {
			on_line(f, f->line, f->len, now);
			f->len = 0;
		} else if (f->len < sizeof(f->line)) {
			f->line[f->len++] = p[i];
		}
	}
	return total;
}

static void *follow(void *arg)
{
	struct follower *f = arg;
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char *auth = NULL;

	curl_easy_setopt(c, CURLOPT_URL, f->url);
	if (f->unix_socket != NULL)
		curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, f->unix_socket);
	if (f->token != NULL) {
		auth = berth_asprintf("Authorization: Bearer %s", f->token);
		h = curl_slist_append(h, auth);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)MAX_SECONDS * 1000);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &f->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	free(auth);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double pct(double *v, int n, double p)
{
	if (n == 0)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[(int)(p * (n - 1))];
}

static size_t on_sink(char *p, size_t size, size_t n, void *arg)
{
	return berth_buf_append(arg, p, size * n) == 0 ? size * n : 0;
}

static long engine(const char *method, const char *path, const char *body,
                   char *id, size_t idlen)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char *url = berth_asprintf("http://localhost/v1.41%s", path);
	struct berth_buf out;
	long st = -1;

	berth_buf_init(&out, 1 << 20);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, ts_docker_socket());
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
	if (body != NULL) {
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	}
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
	if (id != NULL && st == 201) {
		json_t *j = json_loads(out.data, 0, NULL);

		snprintf(id, idlen, "%s", ts_json_str(j, "Id"));
		json_decref(j);
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	berth_buf_fini(&out);
	free(url);
	return st;
}

static void report(struct follower *f)
{
	if (f->n == 0) {
		printf("bench=logs_follow path=%s error=\"no line arrived "
		       "(HTTP %ld) %s\" ok=0\n",
		       f->what, f->status, f->last);
		return;
	}
	printf("bench=logs_follow path=%s lines=%d p50_ms=%.2f p99_ms=%.2f "
	       "max_ms=%.2f\n",
	       f->what, f->n, pct(f->lat_ms, f->n, 0.50),
	       pct(f->lat_ms, f->n, 0.99), pct(f->lat_ms, f->n, 1.0));
}

int main(void)
{
	static struct follower fb = { .what = "rest" };
	static struct follower fe = { .what = "engine" };
	struct ts_berth b;
	pthread_t tb, te;
	char id[80] = "", *body, *path;
	json_t *spec;
	int rc = 1;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (ts_berth_start(&b, NULL, 0, NULL) != 0) {
		printf(
		    "bench=logs_follow error=\"berth did not start\" ok=0\n");
		return 1;
	}
	spec = json_pack("{s:s, s:[s,s,s], s:{s:s}}", "Image", ts_test_image(),
	                 "Cmd", "sh", "-c", SCRIPT, "Labels", "berth-test",
	                 ts_run_label());
	body = json_dumps(spec, JSON_COMPACT);
	json_decref(spec);
	if (engine("POST", "/containers/create", body, id, sizeof(id)) != 201) {
		printf("bench=logs_follow error=\"create failed\" ok=0\n");
		goto out;
	}
	path = berth_asprintf("/containers/%s/start", id);
	engine("POST", path, "", NULL, 0);
	free(path);

	fb.url = berth_asprintf("%s/api/v1/containers/%s/logs?follow=1"
	                        "&stdout=1&format=text",
	                        b.base, id);
	fb.token = b.token;
	fe.url = berth_asprintf("http://localhost/v1.41/containers/%s/logs"
	                        "?follow=1&stdout=1",
	                        id);
	fe.unix_socket = ts_docker_socket();
	pthread_create(&tb, NULL, follow, &fb);
	pthread_create(&te, NULL, follow, &fe);
	/* Both end when the container's command ends (or MAX_SECONDS). */
	pthread_join(tb, NULL);
	pthread_join(te, NULL);
	report(&fb);
	report(&fe);
	if (fb.n > 0 && fe.n > 0)
		printf("bench=logs_follow_overhead p50_ms=%.2f p99_ms=%.2f "
		       "target=none (reported)\n",
		       pct(fb.lat_ms, fb.n, 0.50) - pct(fe.lat_ms, fe.n, 0.50),
		       pct(fb.lat_ms, fb.n, 0.99) - pct(fe.lat_ms, fe.n, 0.99));
	rc = 0;
out:
	if (id[0] != '\0') {
		path = berth_asprintf("/containers/%s?force=1", id);
		engine("DELETE", path, NULL, NULL, 0);
		free(path);
	}
	free(body);
	free(fb.url);
	free(fe.url);
	ts_berth_stop(&b);
	curl_global_cleanup();
	return rc;
}
