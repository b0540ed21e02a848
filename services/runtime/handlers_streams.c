/*
 * handlers_streams.c: the runtime's logs and output streams: OpenLogs,
 * ReadStream, CloseStream.
 *
 * OpenLogs checks its input and that the container exists (so a missing
 * one is NOT_FOUND before any stream exists), then opens a stream whose
 * producer runs the engine's logs op. Each line's seq derives from the
 * engine's timestamp, max(last + 1, time_ns), so it is strictly
 * increasing and the same line gets the same seq when read again: a
 * client resuming with after_seq = N re-reads from the second of N and
 * skips what it had.
 */
#include "services/runtime/runtime_internal.h"

#include "lib/alloc.h"
#include "lib/validate.h"

#include <stdlib.h>
#include <string.h>

#define NS_PER_S 1000000000ULL

struct logs_job {
	struct berth_engine *engine; /* borrowed; outlives the streams */
	char *id;
	struct berth_logs_opts opts;
	uint64_t after_seq;
	uint64_t last_seq; /* of the last line seen, pushed or skipped */
	struct runtime_stream *s;
};

static void logs_job_free(void *arg)
{
	struct logs_job *j = arg;

	if (j == NULL)
		return;
	free(j->id);
	free(j);
}

static int logs_out(void *arg, enum berth_output_stream which, const char *data,
                    size_t len, int64_t time_ns)
{
	struct logs_job *j = arg;
	uint64_t seq = j->last_seq + 1;

	if (time_ns > 0 && (uint64_t)time_ns > seq)
		seq = (uint64_t)time_ns;
	j->last_seq = seq;
	if (seq <= j->after_seq)
		return 0; /* the client had it */
	return runtime_stream_push(j->s, which, data, len, time_ns, seq) == 0
	    ? 0
	    : 1;
}

static int logs_tick(void *arg)
{
	struct logs_job *j = arg;

	return runtime_stream_cancelled(j->s) ? 1 : 0;
}

static int logs_run(struct runtime_stream *s, void *arg, struct berth_err *err)
{
	struct logs_job *j = arg;
	int rv;

	j->s = s;
	rv = berth_engine_ops(j->engine)->logs(j->engine, j->id, &j->opts,
	                                       logs_out, logs_tick, j, err);
	if (rv == BERTH_ECANCELLED && runtime_stream_cancelled(s))
		return 0; /* nobody is left to tell */
	return rv;
}

static int logs_check(const Berth__V1__LogsRequest *in, struct berth_err *err)
{
	int rv;

	rv = berth_validate_container_ref("id", in->id, err);
	if (rv != 0)
		return rv;
	if (in->tail < -1)
		return berth_err_set(err, BERTH_EINVAL,
		                     "tail: must be -1 (none), 0 (all) or a "
		                     "number of lines");
	if (in->since_unix_ms < 0)
		return berth_err_set(err, BERTH_EINVAL,
		                     "since: must be unix time in ms, >= 0");
	if (in->until_unix_ms < 0)
		return berth_err_set(err, BERTH_EINVAL,
		                     "until: must be unix time in ms, >= 0");
	if (in->until_unix_ms > 0 && in->until_unix_ms < in->since_unix_ms)
		return berth_err_set(err, BERTH_EINVAL,
		                     "until: must not be before since");
	return 0;
}

void rt_open_logs(Berth__V1__Runtime_Service *svc,
                  const Berth__V1__LogsRequest *in,
                  Berth__V1__StreamRef_Closure done, void *call)
{
	struct berth_runtime *rt = runtime_of(svc);
	Berth__V1__StreamRef out = BERTH__V1__STREAM_REF__INIT;
	Berth__V1__ContainerDetail *detail = NULL;
	struct logs_job *j = NULL;
	char id[RUNTIME_STREAM_ID_LEN + 1];
	struct berth_err err;
	int rv;

	berth_err_clear(&err);
	rv = logs_check(in, &err);
	if (rv != 0)
		goto out;
	/* A missing container is NOT_FOUND now, not an ended stream. */
	rv = berth_engine_container_inspect(rt->engine, in->id, &detail, &err);
	if (rv != 0)
		goto out;
	j = berth_calloc(1, sizeof(*j));
	j->engine = rt->engine;
	j->id = berth_strdup(in->id);
	j->opts.follow = in->follow;
	j->opts.since_unix_ms = in->since_unix_ms;
	j->opts.until_unix_ms = in->until_unix_ms;
	j->opts.tail = in->tail;
	j->opts.stdout_ = in->stdout;
	j->opts.stderr_ = in->stderr;
	j->after_seq = in->after_seq;
	if (in->after_seq > 0) {
		/* Resume: from the second of the last line the client had,
		 * every line after it (tail counted from the first read). */
		int64_t from_ms
		    = (int64_t)(in->after_seq / NS_PER_S) * (int64_t)1000;

		if (from_ms > j->opts.since_unix_ms)
			j->opts.since_unix_ms = from_ms;
		j->opts.tail = 0;
	}
	rv = runtime_stream_open(rt->streams, logs_run, j, logs_job_free, id,
	                         &err);
	j = NULL; /* the stream's now, also on failure */
out:
	if (detail != NULL)
		protobuf_c_message_free_unpacked(&detail->base, NULL);
	if (rv != 0) {
		rt_fail(call, &err, "OpenLogs");
		done(NULL, call);
		return;
	}
	out.id = id;
	done(&out, call);
}

void rt_read_stream(Berth__V1__Runtime_Service *svc,
                    const Berth__V1__ReadStreamRequest *in,
                    Berth__V1__StreamChunk_Closure done, void *call)
{
	struct berth_runtime *rt = runtime_of(svc);
	Berth__V1__StreamChunk *out = NULL;
	struct berth_err err;
	int rv;

	berth_err_clear(&err);
	rv = berth_validate_job_id("id", in->id, &err);
	if (rv == 0 && in->max_wait_ms < 0)
		rv = berth_err_set(&err, BERTH_EINVAL,
		                   "max_wait_ms: must be 0..1000");
	if (rv == 0)
		rv = runtime_stream_read(rt->streams, in->id, in->after_seq,
		                         in->max_wait_ms, in->max_bytes, &out,
		                         &err);
	if (rv != 0) {
		rt_fail(call, &err, "ReadStream");
		done(NULL, call);
		return;
	}
	done(out, call);
	protobuf_c_message_free_unpacked(&out->base, NULL);
}

void rt_close_stream(Berth__V1__Runtime_Service *svc,
                     const Berth__V1__StreamRef *in,
                     Berth__V1__Empty_Closure done, void *call)
{
	struct berth_runtime *rt = runtime_of(svc);
	Berth__V1__Empty out = BERTH__V1__EMPTY__INIT;
	struct berth_err err;
	int rv;

	berth_err_clear(&err);
	rv = berth_validate_job_id("id", in->id, &err);
	if (rv == 0)
		rv = runtime_stream_close(rt->streams, in->id, &err);
	if (rv != 0) {
		rt_fail(call, &err, "CloseStream");
		done(NULL, call);
		return;
	}
	done(&out, call);
}
