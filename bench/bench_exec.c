/*
 * bench_exec.c: the round trip of exec `true` in a running container,
 * through berth's REST API (berth serve all-in-one) and through the C SDK
 * (a runtime over ipc://), each against the direct engine calls (exec
 * create + start + inspect on the engine socket with libcurl) made in
 * the same run, interleaved so that engine drift hits all three alike.
 * Target: berth / direct <= 1.05 for each path.
 */
#include "lib/alloc.h"
#include "lib/buf.h"
#include "sdk/berth.h"
#include "tests/support/berthproc.h"
#include "tests/support/testsupport.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS      60
#define WARMUP      3
#define MAX_SECONDS 40
#define TARGET      1.05

/* The runtime's duration_ms of the last successful berth exec. */
static double last_run_ms;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* exec create + start + inspect, straight on the engine. Returns the
 * elapsed ms, or -1 on failure. */
static double direct_once(const char *id)
{
	struct berth_buf out;
	char *path = berth_asprintf("/containers/%s/exec", id);
	double t0 = now_ms(), r = -1;
	char eid[80] = "";
	json_t *j;

	berth_buf_init(&out, 1 << 20);
	if (ts_engine_call("POST", path,
	                   "{\"AttachStdout\":true,\"AttachStderr\":true,"
	                   "\"Tty\":false,\"Cmd\":[\"true\"]}",
	                   &out)
	    != 201)
		goto out;
	j = json_loads(out.data, 0, NULL);
	snprintf(eid, sizeof(eid), "%s", ts_json_str(j, "Id"));
	json_decref(j);
	free(path);
	path = berth_asprintf("/exec/%s/start", eid);
	if (ts_engine_call("POST", path, "{\"Detach\":false,\"Tty\":false}",
	                   &out)
	    != 200)
		goto out;
	free(path);
	path = berth_asprintf("/exec/%s/json", eid);
	if (ts_engine_call("GET", path, NULL, &out) != 200)
		goto out;
	j = json_loads(out.data, 0, NULL);
	if (json_integer_value(json_object_get(j, "ExitCode")) == 0
	    && !json_is_true(json_object_get(j, "Running")))
		r = now_ms() - t0;
	json_decref(j);
out:
	free(path);
	berth_buf_fini(&out);
	return r;
}

static double rest_once(const struct ts_berth *b, const char *id, char *errbuf,
                        size_t errlen)
{
	char *path = berth_asprintf("/api/v1/containers/%s/exec", id);
	double t0 = now_ms(), r = -1;
	json_t *j = NULL;
	long st;

	st = ts_http(b->base, "POST", path, "{\"command\":[\"true\"]}",
	             b->token, NULL, &j);
	if (st == 200
	    && json_integer_value(json_object_get(j, "exit_code")) == 0) {
		r = now_ms() - t0;
		last_run_ms = (double)json_integer_value(
		    json_object_get(j, "duration_ms"));
	} else
		snprintf(errbuf, errlen, "REST exec answered %ld %s", st,
		         ts_error_code(j));
	json_decref(j);
	free(path);
	return r;
}

static double sdk_once(const struct berth_instance *inst, char *errbuf,
                       size_t errlen)
{
	static const char *const argv[] = { "true", NULL };
	struct berth_exec_result *res = NULL;
	struct berth_err err = { 0 };
	double t0 = now_ms(), r = -1;

	if (berth_instance_exec(inst, argv, &res, &err) == 0
	    && res->exit_code == 0) {
		r = now_ms() - t0;
		last_run_ms = (double)res->duration_ms;
	} else if (res == NULL)
		snprintf(errbuf, errlen, "SDK exec: %.200s (%s)", err.msg,
		         berth_code_name(err.code));
	berth_exec_result_free(res);
	return r;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct series {
	double v[ROUNDS];
	int n, fails;
	double sum;
	double run_sum; /* the runtime's own duration_ms of each exec */
};

static void add(struct series *s, double ms)
{
	if (ms < 0) {
		s->fails++;
		return;
	}
	s->v[s->n++] = ms;
	s->sum += ms;
	s->run_sum += last_run_ms;
}

static double p50(struct series *s)
{
	qsort(s->v, (size_t)s->n, sizeof(double), cmp_double);
	return s->n > 0 ? s->v[s->n / 2] : 0;
}

static void report(const char *path, struct series *b, struct series *d,
                   const char *err)
{
	double bm, dm, b50, d50;

	if (b->n == 0 || d->n == 0) {
		printf("bench=exec_true path=%s error=\"%s\" direct_rounds=%d "
		       "target=%.2f ok=0\n",
		       path, err[0] != '\0' ? err : "no successful round", d->n,
		       TARGET);
		return;
	}
	bm = b->sum / b->n;
	dm = d->sum / d->n;
	b50 = p50(b);
	d50 = p50(d);
	printf("bench=exec_true path=%s rounds=%d berth_p50_ms=%.2f "
	       "direct_p50_ms=%.2f berth_mean_ms=%.2f direct_mean_ms=%.2f "
	       "ratio_mean=%.3f ratio_p50=%.3f failures=%d target=%.2f "
	       "ok=%d\n",
	       path, b->n, b50, d50, bm, dm, bm / dm, b50 / d50, b->fails,
	       TARGET, b->fails == 0 && bm / dm <= TARGET);
	/* What berth adds around the exec (HTTP, JSON, nng) apart from the
	 * runtime's own engine calls: total minus the reply's duration_ms. */
	printf("# path=%s runtime_exec_mean_ms=%.2f hop_mean_ms=%.2f\n", path,
	       b->run_sum / b->n, (b->sum - b->run_sum) / b->n);
}

int main(void)
{
	static const char *const sleeper[] = { "sleep", "600" };
	static struct series direct, rest, sdk;
	struct ts_berth all, rt;
	struct berth_client *c = NULL;
	struct berth_instance *inst = NULL;
	struct berth_options o = { 0 };
	struct berth_kv label = { "berth-test", NULL };
	struct berth_err err = { 0 };
	char *dir = ts_tmpdir("bench-exec");
	char *sock_dir = berth_asprintf("%s/rpc", dir);
	char *url = berth_asprintf("ipc://%s/runtime.sock", sock_dir);
	char *name = berth_asprintf("bench-exec-%s-%ld", ts_run_label(),
	                            (long)getpid());
	char rest_err[400] = "", sdk_err[400] = "";
	double deadline;
	int rc = 1;

	memset(&all, 0, sizeof(all));
	memset(&rt, 0, sizeof(rt));
	curl_global_init(CURL_GLOBAL_DEFAULT);
	mkdir(sock_dir, 0700);
	if (ts_berth_start(&all, NULL, 0, NULL) != 0
	    || ts_berth_start_runtime(&rt, NULL, url) != 0) {
		printf("bench=exec_true error=\"berth did not start\" ok=0\n");
		goto out;
	}
	if (berth_client_open(&c, url, &err) != 0)
		goto fail;
	label.value = ts_run_label();
	o.labels = &label;
	o.nlabels = 1;
	o.name = name;
	o.command = sleeper;
	o.ncommand = 2;
	o.keep_alive = true;
	if (berth_start_container(c, ts_test_image(), &o, &inst, &err) != 0)
		goto fail;

	for (int i = 0; i < WARMUP; i++) {
		direct_once(berth_instance_id(inst));
		rest_once(&all, berth_instance_id(inst), rest_err,
		          sizeof(rest_err));
		sdk_once(inst, sdk_err, sizeof(sdk_err));
	}
	deadline = now_ms() + MAX_SECONDS * 1e3;
	for (int i = 0; i < ROUNDS && now_ms() < deadline; i++) {
		/* Rotate the order so that no path always runs first. */
		for (int k = 0; k < 3; k++) {
			switch ((i + k) % 3) {
			case 0:
				add(&direct,
				    direct_once(berth_instance_id(inst)));
				break;
			case 1:
				add(&rest,
				    rest_once(&all, berth_instance_id(inst),
				              rest_err, sizeof(rest_err)));
				break;
			default:
				add(&sdk,
				    sdk_once(inst, sdk_err, sizeof(sdk_err)));
				break;
			}
		}
		/* A path that does not work yet is not measured again. */
		if (rest.n == 0 && rest.fails >= 3 && sdk.n == 0
		    && sdk.fails >= 3)
			break;
	}
	report("rest", &rest, &direct, rest_err);
	report("sdk", &sdk, &direct, sdk_err);
	rc = 0;
	goto out;
fail:
	printf("bench=exec_true error=\"%s\" ok=0\n", err.msg);
out:
	if (inst != NULL)
		berth_remove_container_force(c, berth_instance_id(inst), NULL);
	berth_instance_free(inst);
	berth_client_close(c);
	ts_berth_stop(&rt);
	ts_berth_stop(&all);
	ts_rmtree(dir);
	free(dir);
	free(sock_dir);
	free(url);
	free(name);
	curl_global_cleanup();
	return rc;
}
