/*
 * bench_lifecycle.c: a container lifecycle (create + start + stop +
 * remove) through berth's REST API against the same four calls made
 * straight to the engine socket, in one run, interleaved so that engine
 * drift hits both alike. Also the idle RSS of the all-in-one process.
 * Target: berth / direct <= 1.05.
 */
#include "lib/alloc.h"
#include "lib/buf.h"
#include "tests/support/berthproc.h"
#include "tests/support/testsupport.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROUNDS      25
#define MAX_SECONDS 240

static int64_t direct_round(int i)
{
	struct berth_buf out;
	char *body
	    = berth_asprintf("{\"Image\":\"%s\",\"Cmd\":[\"sleep\",\"300\"],"
	                     "\"Labels\":{\"berth-test\":\"%s\"}}",
	                     ts_test_image(), ts_run_label());
	char *path = berth_asprintf("/containers/create?name=bench-d-%ld-%d",
	                            (long)getpid(), i);
	int64_t t0 = ts_now_ms();
	char id[80] = "";
	json_t *j;

	berth_buf_init(&out, 1 << 20);
	if (ts_engine_call("POST", path, body, &out) != 201)
		goto out;
	j = json_loads(out.data, 0, NULL);
	snprintf(id, sizeof(id), "%s", ts_json_str(j, "Id"));
	json_decref(j);
	free(path);
	path = berth_asprintf("/containers/%s/start", id);
	ts_engine_call("POST", path, NULL, &out);
	free(path);
	path = berth_asprintf("/containers/%s/stop?t=0", id);
	ts_engine_call("POST", path, NULL, &out);
	free(path);
	path = berth_asprintf("/containers/%s", id);
	ts_engine_call("DELETE", path, NULL, &out);
out:
	free(path);
	free(body);
	berth_buf_fini(&out);
	return ts_now_ms() - t0;
}

static int64_t berth_round(const struct ts_berth *b, int i)
{
	char *body = berth_asprintf(
	    "{\"image\":\"%s\",\"name\":\"bench-b-%ld-%d\","
	    "\"command\":[\"sleep\",\"300\"],"
	    "\"labels\":{\"berth-test\":\"%s\"}}",
	    ts_test_image(), (long)getpid(), i, ts_run_label());
	int64_t t0 = ts_now_ms();
	json_t *j = NULL;
	char id[80] = "";
	char *path = NULL;

	if (ts_http(b->base, "POST", "/api/v1/containers", body, b->token, NULL,
	            &j)
	    != 201)
		goto out;
	snprintf(id, sizeof(id), "%s", ts_json_str(j, "id"));
	json_decref(j);
	path = berth_asprintf("/api/v1/containers/%s/start", id);
	ts_http(b->base, "POST", path, NULL, b->token, NULL, &j);
	json_decref(j);
	free(path);
	path = berth_asprintf("/api/v1/containers/%s/stop?timeout=0", id);
	ts_http(b->base, "POST", path, NULL, b->token, NULL, &j);
	json_decref(j);
	free(path);
	path = berth_asprintf("/api/v1/containers/%s", id);
	ts_http(b->base, "DELETE", path, NULL, b->token, NULL, &j);
	j = NULL;
out:
	json_decref(j);
	free(path);
	free(body);
	return ts_now_ms() - t0;
}

static long rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	}
	fclose(f);
	return kib;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int main(void)
{
	struct ts_berth b;
	int64_t d[ROUNDS], r[ROUNDS], dsum = 0, rsum = 0;
	int64_t deadline;
	int n = 0;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (ts_berth_start(&b, NULL, 0, NULL) != 0)
		return 1;
	sleep(1);
	printf("bench=idle_rss process=berth-all-in-one rss_kib=%ld\n",
	       rss_kib(b.pid));
	/* One warm-up round of each. */
	direct_round(-1);
	berth_round(&b, -1);
	deadline = ts_now_ms() + MAX_SECONDS * 1000;
	for (n = 0; n < ROUNDS && ts_now_ms() < deadline; n++) {
		d[n] = direct_round(n);
		r[n] = berth_round(&b, n);
		dsum += d[n];
		rsum += r[n];
	}
	qsort(d, (size_t)n, sizeof(d[0]), cmp64);
	qsort(r, (size_t)n, sizeof(r[0]), cmp64);
	printf("bench=lifecycle rounds=%d berth_p50_ms=%lld direct_p50_ms=%lld "
	       "berth_mean_ms=%.1f direct_mean_ms=%.1f ratio_mean=%.3f "
	       "ratio_p50=%.3f target=1.05 ok=%d\n",
	       n, (long long)r[n / 2], (long long)d[n / 2], (double)rsum / n,
	       (double)dsum / n, (double)rsum / (double)dsum,
	       (double)r[n / 2] / (double)d[n / 2],
	       (double)rsum / (double)dsum <= 1.05);
	printf("bench=idle_rss_after process=berth-all-in-one rss_kib=%ld\n",
	       rss_kib(b.pid));
	ts_berth_stop(&b);
	curl_global_cleanup();
	return 0;
}
