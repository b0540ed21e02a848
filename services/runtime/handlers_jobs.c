/*
 * handlers_jobs.c: the runtime's job RPCs: PullImage queues a durable
 * pull job and answers at once with it; GetJob reads one back.
 */
#include "services/runtime/runtime_internal.h"

#include "services/runtime/events_pub.h"

#include "lib/alloc.h"
#include "lib/validate.h"

#include <stdlib.h>
#include <string.h>

void runtime_job_to_proto(const struct berth_job *job, Berth__V1__Job *out)
{
	out->id = (char *)job->id;
	out->kind = job->kind;
	out->state = (char *)berth_job_state_name(job->state);
	out->progress = job->progress;
	out->detail = job->detail;
	out->result = job->result;
	out->error_code = (Berth__V1__Code)(-job->error_code);
	out->error = job->error;
	out->owner = job->owner;
	out->created_at_ms = job->created_ms;
	out->updated_at_ms = job->updated_ms;
}

void rt_pull_image(Berth__V1__Runtime_Service *svc,
                   const Berth__V1__PullImageRequest *in,
                   Berth__V1__Job_Closure done, void *call)
{
	struct berth_runtime *rt = runtime_of(svc);
	Berth__V1__PullImageRequest norm = BERTH__V1__PULL_IMAGE_REQUEST__INIT;
	Berth__V1__Job out = BERTH__V1__JOB__INIT;
	const char *request_id = berth_rpc_call_request_id(call);
	struct berth_job *job = NULL;
	struct berth_err err;
	uint8_t *payload = NULL;
	size_t len;
	bool created = false;
	int rv;

	berth_err_clear(&err);
	rv = berth_validate_image_ref("image", in->image, &err);
	if (rv != 0)
		goto out;
	/* The job stores the normalised request, so "busybox" and
	 * "busybox:latest" under one request id count as the same. */
	norm.image = runtime_image_normalise(in->image);
	len = berth__v1__pull_image_request__get_packed_size(&norm);
	payload = berth_malloc(len);
	berth__v1__pull_image_request__pack(&norm, payload);
	rv = berth_jobs_create(rt->store, &job, &created, RUNTIME_JOB_PULL,
	                       berth_rpc_call_metadata(call, "caller"),
	                       request_id[0] != '\0' ? request_id : NULL,
	                       payload, len, &err);
	if (rv != 0)
		goto out;
	if (created) {
		events_pub_job(runtime_pub(rt), "queued", job);
		runtime_runner_wake(rt);
	}
out:
	if (rv != 0) {
		rt_fail(call, &err, "PullImage");
		done(NULL, call);
	} else {
		runtime_job_to_proto(job, &out);
		done(&out, call);
	}
	berth_job_free(job);
	free(payload);
	free(norm.image);
}

void rt_get_job(Berth__V1__Runtime_Service *svc, const Berth__V1__JobRef *in,
                Berth__V1__Job_Closure done, void *call)
{
	struct berth_runtime *rt = runtime_of(svc);
	Berth__V1__Job out = BERTH__V1__JOB__INIT;
	struct berth_job *job = NULL;
	struct berth_err err;
	int rv;

	berth_err_clear(&err);
	rv = berth_validate_job_id("id", in->id, &err);
	if (rv == 0)
		rv = berth_jobs_get(rt->store, &job, in->id, &err);
	if (rv != 0) {
		rt_fail(call, &err, "GetJob");
		done(NULL, call);
		return;
	}
	runtime_job_to_proto(job, &out);
	done(&out, call);
	berth_job_free(job);
}
