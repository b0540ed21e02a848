/*
 * handlers_exec.c: the runtime's exec: ExecCommand (unary: output
 * collected, capped, and answered with the exit code) and ExecStream
 * (the same exec with its output pushed into a runtime stream that the
 * caller reads with ReadStream). Both go through the exec runner
 * (exec_run.h), which keeps the timeout by killing the process tree.
 *
 * ExecStream creates the exec instance before it opens the stream, so a
 * missing container (NOT_FOUND) or a stopped one (FAILED_PRECONDITION)
 * is the RPC's answer, not an error inside a stream.
 */
#include "services/runtime/exec_run.h"

#include "lib/alloc.h"
#include "lib/validate.h"

#include <stdlib.h>
#include <string.h>

static int exec_command(struct berth_runtime *rt,
                        const Berth__V1__ExecRequest *in, int64_t deadline,
                        struct exec_result *res, struct berth_err *err)
{
	struct exec_limits lim;
	char *eid = NULL;
	int rv;

	rv = exec_run_check(in, deadline, &lim, err);
	if (rv != 0)
		goto out;
	rv = exec_run_create(rt, in, &eid, err);
	if (rv != 0)
		goto out;
	rv = exec_run_start(rt, in->id, eid, &lim, NULL, NULL, NULL, res, err);
out:
	free(eid);
	return rv;
}

void rt_exec_command(Berth__V1__Runtime_Service *svc,
                     const Berth__V1__ExecRequest *in,
                     Berth__V1__ExecReply_Closure done, void *call)
{
	Berth__V1__ExecReply out = BERTH__V1__EXEC_REPLY__INIT;
	struct exec_result res;
	struct berth_err err;

	berth_err_clear(&err);
	exec_result_init(&res);
	if (exec_command(runtime_of(svc), in, berth_rpc_call_deadline_ms(call),
	                 &res, &err)
	    != 0) {
		rt_fail(call, &err, "ExecCommand");
		done(NULL, call);
		goto out;
	}
	out.exit_code = res.exit_code;
	out.timed_out = res.timed_out;
	out.stdout.data = (uint8_t *)res.out[BERTH_OUT_STDOUT].data;
	out.stdout.len = res.out[BERTH_OUT_STDOUT].len;
	out.stderr.data = (uint8_t *)res.out[BERTH_OUT_STDERR].data;
	out.stderr.len = res.out[BERTH_OUT_STDERR].len;
	out.stdout_truncated = res.truncated[BERTH_OUT_STDOUT];
	out.stderr_truncated = res.truncated[BERTH_OUT_STDERR];
	out.stdout_budget_exhausted = res.budget_cut[BERTH_OUT_STDOUT];
	out.stderr_budget_exhausted = res.budget_cut[BERTH_OUT_STDERR];
	out.duration_ms = res.duration_ms;
	done(&out, call);
out:
	exec_result_fini(&res);
}

/* A streamed exec's producer state (the stream's arg). */
struct exec_job {
	struct berth_runtime *rt; /* borrowed; outlives its streams */
	char *id;
	char *exec_id;
	struct exec_limits lim;
	struct runtime_stream *s;
};

static void exec_job_free(void *arg)
{
	struct exec_job *j = arg;

	if (j == NULL)
		return;
	free(j->id);
	free(j->exec_id);
	free(j);
}

static int job_sink(void *arg, enum berth_output_stream s, const char *data,
                    size_t len)
{
	struct exec_job *j = arg;

	return runtime_stream_push(j->s, s, data, len, 0, 0) == 0 ? 0 : 1;
}

static bool job_gone(void *arg)
{
	struct exec_job *j = arg;

	return runtime_stream_cancelled(j->s);
}

static int job_run(struct runtime_stream *s, void *arg, struct berth_err *err)
{
	struct exec_job *j = arg;
	struct exec_result res;
	int rv;

	j->s = s;
	exec_result_init(&res);
	rv = exec_run_start(j->rt, j->id, j->exec_id, &j->lim, job_sink,
	                    job_gone, j, &res, err);
	if (rv == 0)
		runtime_stream_set_exit(s, res.exit_code, res.timed_out);
	else if (rv == BERTH_ECANCELLED && runtime_stream_cancelled(s))
		rv = 0; /* nobody is left to tell */
	exec_result_fini(&res);
	return rv;
}

static int exec_stream(struct berth_runtime *rt,
                       const Berth__V1__ExecRequest *in,
                       char id[RUNTIME_STREAM_ID_LEN + 1],
                       struct berth_err *err)
{
	struct exec_job *j = berth_calloc(1, sizeof(*j));
	int rv;

	/* No call deadline: the stream outlives this call. */
	rv = exec_run_check(in, 0, &j->lim, err);
	if (rv != 0)
		goto fail;
	rv = exec_run_create(rt, in, &j->exec_id, err);
	if (rv != 0)
		goto fail;
	j->rt = rt;
	j->id = berth_strdup(in->id);
	/* From here the stream owns j, also when opening fails. */
	return runtime_stream_open(rt->streams, job_run, j, exec_job_free, id,
	                           err);
fail:
	exec_job_free(j);
	return rv;
}

void rt_exec_stream(Berth__V1__Runtime_Service *svc,
                    const Berth__V1__ExecRequest *in,
                    Berth__V1__StreamRef_Closure done, void *call)
{
	Berth__V1__StreamRef out = BERTH__V1__STREAM_REF__INIT;
	char id[RUNTIME_STREAM_ID_LEN + 1];
	struct berth_err err;

	berth_err_clear(&err);
	if (exec_stream(runtime_of(svc), in, id, &err) != 0) {
		rt_fail(call, &err, "ExecStream");
		done(NULL, call);
		return;
	}
	out.id = id;
	done(&out, call);
}
