/*
 * pull_runner.c: the runtime's job runner: claims queued pull jobs from
 * the store, runs them against the engine, records progress and the
 * outcome.
 *
 * One thread: pulls are I/O bound on the engine, which parallelises
 * layers itself. The lease is renewed as progress arrives, so another
 * runtime sharing the store (or this one after a restart) takes over a
 * job only when its holder is really gone.
 *
 * Each step is published as a job event (running, progress at most
 * twice a second, succeeded, failed) for the gateway's SSE clients.
 */
#include "services/runtime/events_pub.h"
#include "services/runtime/runtime_internal.h"

#include "lib/alloc.h"
#include "lib/clock.h"
#include "lib/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LEASE_MS          60000
#define PROGRESS_EVERY_MS 500

struct pull_ctx {
	struct berth_runtime *rt;
	const struct berth_job *job;
	const char *job_id;
	int64_t last_ms;
};

/* Publishes the stored job's current form under `action`. */
static void publish_stored(struct berth_runtime *rt, const char *action,
                           const char *job_id)
{
	struct berth_job *job = NULL;

	if (berth_jobs_get(rt->store, &job, job_id, NULL) != 0)
		return;
	events_pub_job(runtime_pub(rt), action, job);
	berth_job_free(job);
}

static int on_progress(void *arg, int percent, const char *status)
{
	struct pull_ctx *pc = arg;
	int64_t now = berth_clock_mono_ms();
	bool stopping;

	pthread_mutex_lock(&pc->rt->mu);
	stopping = pc->rt->stopping;
	pthread_mutex_unlock(&pc->rt->mu);
	if (stopping)
		return 1; /* abandon; the job is requeued on the next start */
	if (now - pc->last_ms < PROGRESS_EVERY_MS)
		return 0;
	pc->last_ms = now;
	/* A failed progress write is not worth failing the pull over. */
	berth_jobs_progress(pc->rt->store, pc->job_id, pc->rt->holder, percent,
	                    status, LEASE_MS, NULL);
	{
		/* The claimed job with this step's progress: no read back. */
		struct berth_job now_job = *pc->job;

		now_job.state = BERTH_JOB_RUNNING;
		now_job.progress = percent;
		now_job.detail = (char *)status;
		events_pub_job(runtime_pub(pc->rt), "progress", &now_job);
	}
	return 0;
}

static void run_pull(struct berth_runtime *rt, struct berth_job *job)
{
	Berth__V1__PullImageRequest *req;
	struct pull_ctx pc = { rt, job, job->id, 0 };
	struct berth_err err;
	char *image_id = NULL;
	int rv;

	berth_err_clear(&err);
	req = berth__v1__pull_image_request__unpack(NULL, job->payload_len,
	                                            job->payload);
	if (req == NULL) {
		berth_jobs_finish(rt->store, job->id, rt->holder,
		                  BERTH_JOB_FAILED, NULL, BERTH_EDATALOSS,
		                  "the stored pull request is unreadable",
		                  NULL);
		return;
	}
	berth_log(BERTH_LOG_INFO, "pull_started", "job=%s image=%s attempt=%d",
	          job->id, req->image, job->attempts);
	events_pub_job(runtime_pub(rt), "running", job);
	rv = berth_engine_image_pull(rt->engine, req->image, on_progress, &pc,
	                             &image_id, &err);
	pthread_mutex_lock(&rt->mu);
	bool stopping = rt->stopping;
	pthread_mutex_unlock(&rt->mu);
	if (rv != 0 && stopping) {
		/* Shutting down mid-pull: leave it running; reconcile at the
		 * next start requeues it. */
		berth_log(BERTH_LOG_INFO, "pull_interrupted", "job=%s",
		          job->id);
	} else if (rv != 0) {
		berth_log(BERTH_LOG_INFO, "pull_failed",
		          "job=%s code=%s msg=\"%s\"", job->id,
		          berth_code_name(rv), err.msg);
		berth_jobs_finish(rt->store, job->id, rt->holder,
		                  BERTH_JOB_FAILED, NULL, rv, err.msg, NULL);
		publish_stored(rt, "failed", job->id);
	} else {
		berth_log(BERTH_LOG_INFO, "pull_succeeded", "job=%s image=%s",
		          job->id, image_id);
		berth_jobs_finish(rt->store, job->id, rt->holder,
		                  BERTH_JOB_SUCCEEDED, image_id, 0, NULL, NULL);
		publish_stored(rt, "succeeded", job->id);
	}
	free(image_id);
	berth__v1__pull_image_request__free_unpacked(req, NULL);
}

static void *runner_main(void *arg)
{
	struct berth_runtime *rt = arg;

	for (;;) {
		struct berth_job *job = NULL;
		int rv;

		pthread_mutex_lock(&rt->mu);
		bool stopping = rt->stopping;
		pthread_mutex_unlock(&rt->mu);
		if (stopping)
			break;
		rv = berth_jobs_claim(rt->store, &job, RUNTIME_JOB_PULL,
		                      rt->holder, LEASE_MS, NULL);
		if (rv == 0) {
			run_pull(rt, job);
			berth_job_free(job);
			continue;
		}
		/* Nothing to do (or the store is busy): sleep until woken,
		 * and look again every second for expired leases. */
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_mutex_lock(&rt->mu);
		if (!rt->stopping)
			pthread_cond_timedwait(&rt->wake, &rt->mu, &until);
		pthread_mutex_unlock(&rt->mu);
	}
	return NULL;
}

void runtime_runner_wake(struct berth_runtime *rt)
{
	pthread_mutex_lock(&rt->mu);
	pthread_cond_signal(&rt->wake);
	pthread_mutex_unlock(&rt->mu);
}

int runtime_runner_start(struct berth_runtime *rt, struct berth_err *err)
{
	int rv = pthread_create(&rt->runner, NULL, runner_main, rt);

	if (rv != 0)
		return berth_err_set(err, BERTH_EINTERNAL,
		                     "cannot start the pull runner: %s",
		                     strerror(rv));
	rt->runner_started = true;
	return 0;
}

void runtime_runner_stop(struct berth_runtime *rt)
{
	if (!rt->runner_started)
		return;
	pthread_mutex_lock(&rt->mu);
	rt->stopping = true;
	pthread_cond_broadcast(&rt->wake);
	pthread_mutex_unlock(&rt->mu);
	pthread_join(rt->runner, NULL);
	rt->runner_started = false;
}
