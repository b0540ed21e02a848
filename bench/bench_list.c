/*
 * bench_list.c: listing containers with 200 of them on the engine:
 * berth's REST list (GET /api/v1/containers?all=1, berth serve
 * all-in-one) against the engine's own GET /containers/json?all=1 in the
 * same run, interleaved. berth serves the list from its state cache fed
 * by the engine's events, so it should be far cheaper than asking the
 * engine. Target: berth / engine <= 0.20.
 *
 * The 200 containers are created (not started) straight on the engine,
 * labelled berth-test=<run>, and removed at the end.
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

#define NCONTAINERS 200
#define NTHREADS    4
#define ROUNDS      40
#define MAX_SECONDS 20
#define TARGET      0.20

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static char ids[NCONTAINERS][72];

struct worker {
	int first, count;
	int made;
	bool remove;
};

/* Creates (or removes) containers [first, first + count). */
static void *work(void *arg)
{
	struct worker *w = arg;
	struct berth_buf out;
	char *body = berth_asprintf(
	    "{\"Image\":\"%s\",\"Cmd\":[\"true\"],"
	    "\"Labels\":{\"berth-test\":\"%s\",\"berth-bench\":\"list\"}}",
	    ts_test_image(), ts_run_label());

	berth_buf_init(&out, 1 << 20);
	for (int i = w->first; i < w->first + w->count; i++) {
		if (w->remove) {
			char *p;

			if (ids[i][0] == '\0')
				continue;
			p = berth_asprintf("/containers/%s?force=1", ids[i]);
			if (ts_engine_call("DELETE", p, NULL, &out) == 204)
				w->made++;
			free(p);
		} else if (ts_engine_call("POST", "/containers/create", body,
		                          &out)
		           == 201) {
			json_t *j = json_loads(out.data, 0, NULL);

			snprintf(ids[i], sizeof(ids[i]), "%s",
			         ts_json_str(j, "Id"));
			json_decref(j);
			w->made++;
		}
	}
	berth_buf_fini(&out);
	free(body);
	return NULL;
}

/* Runs `work` over all containers on NTHREADS threads; how many went
 * well. */
static int all_containers(bool remove)
{
	pthread_t th[NTHREADS];
	struct worker w[NTHREADS];
	int per = NCONTAINERS / NTHREADS, made = 0;

	for (int t = 0; t < NTHREADS; t++) {
		w[t] = (struct worker) { .first = t * per,
			                 .count = t == NTHREADS - 1
			                     ? NCONTAINERS - t * per
			                     : per,
			                 .remove = remove };
		pthread_create(&th[t], NULL, work, &w[t]);
	}
	for (int t = 0; t < NTHREADS; t++) {
		pthread_join(th[t], NULL);
		made += w[t].made;
	}
	return made;
}

/* Entries in a JSON array carrying berth-test=<run> in `labels_key`. */
static int count_ours(const json_t *arr, const char *labels_key)
{
	size_t i;
	json_t *e;
	int n = 0;

	json_array_foreach(arr, i, e)
	{
		const json_t *l = json_object_get(e, labels_key);
		const char *v
		    = json_string_value(json_object_get(l, "berth-test"));
		const char *b
		    = json_string_value(json_object_get(l, "berth-bench"));

		if (v != NULL && b != NULL && strcmp(v, ts_run_label()) == 0
		    && strcmp(b, "list") == 0)
			n++;
	}
	return n;
}

static double engine_once(int *seen)
{
	struct berth_buf out;
	double t0 = now_ms(), r = -1;

	berth_buf_init(&out, 64 << 20);
	if (ts_engine_call("GET", "/containers/json?all=1", NULL, &out)
	    == 200) {
		r = now_ms() - t0;
		if (seen != NULL) {
			json_t *j = json_loads(out.data, 0, NULL);

			*seen = count_ours(j, "Labels");
			json_decref(j);
		}
	}
	berth_buf_fini(&out);
	return r;
}

/* Times the request alone, as engine_once does; the reply is parsed
 * afterwards, and only when `seen` asks for it. */
static double berth_once(const struct ts_berth *b, int *seen)
{
	struct berth_buf out;
	double t0 = now_ms(), r = -1;

	berth_buf_init(&out, 64 << 20);
	if (ts_http_raw(b->base, "GET", "/api/v1/containers?all=1", NULL,
	                b->token, NULL, &out)
	    == 200) {
		r = now_ms() - t0;
		if (seen != NULL) {
			json_t *j = json_loadb(out.data, out.len, 0, NULL);

			*seen = count_ours(json_object_get(j, "containers"),
			                   "labels");
			json_decref(j);
		}
	}
	berth_buf_fini(&out);
	return r;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(void)
{
	static double bv[ROUNDS], ev[ROUNDS];
	struct ts_berth b;
	double bsum = 0, esum = 0, deadline, t;
	int made, n = 0, fails = 0, seen_b = -1, seen_e = -1, removed;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (ts_berth_start(&b, NULL, 0, NULL) != 0) {
		printf("bench=list error=\"berth did not start\" ok=0\n");
		return 1;
	}
	t = now_ms();
	made = all_containers(false);
	printf("# created %d containers in %.1f s\n", made,
	       (now_ms() - t) / 1e3);
	/* Let an event-fed cache catch up (it should need far less). */
	sleep(1);
	engine_once(&seen_e);
	berth_once(&b, &seen_b);
	deadline = now_ms() + MAX_SECONDS * 1e3;
	for (n = 0; n < ROUNDS && now_ms() < deadline;) {
		double e = engine_once(NULL), r = berth_once(&b, NULL);

		if (e < 0 || r < 0) {
			if (++fails > 5)
				break;
			continue;
		}
		ev[n] = e;
		bv[n] = r;
		esum += e;
		bsum += r;
		n++;
	}
	if (n == 0) {
		printf("bench=list containers=%d error=\"no successful round\" "
		       "target=%.2f ok=0\n",
		       made, TARGET);
	} else {
		qsort(ev, (size_t)n, sizeof(double), cmp_double);
		qsort(bv, (size_t)n, sizeof(double), cmp_double);
		printf("bench=list containers=%d berth_saw=%d engine_saw=%d "
		       "rounds=%d berth_p50_ms=%.2f engine_p50_ms=%.2f "
		       "berth_mean_ms=%.2f engine_mean_ms=%.2f "
		       "ratio_mean=%.3f ratio_p50=%.3f target=%.2f ok=%d\n",
		       made, seen_b, seen_e, n, bv[n / 2], ev[n / 2], bsum / n,
		       esum / n, bsum / esum, bv[n / 2] / ev[n / 2], TARGET,
		       seen_b == made && bsum / esum <= TARGET);
	}
	t = now_ms();
	removed = all_containers(true);
	printf("# removed %d containers in %.1f s\n", removed,
	       (now_ms() - t) / 1e3);
	ts_berth_stop(&b);
	curl_global_cleanup();
	return 0;
}
