/*
 * handlers_wait.c: the runtime's WaitContainer.
 *
 * The wait itself is the engine's (POST /containers/{id}/wait), bounded
 * by the request's timeout (0 = 30 s, at most 300 s) through the
 * driver's tick: when it passes the answer is DEADLINE_EXCEEDED,
 * retryable, and the caller simply waits again.
 *
 * KeepAlive=false (spec.remove_on_exit, the engine's AutoRemove): such a
 * container is gone once its command ends. A "not-running" wait on a
 * running one waits for "removed" instead (the engine reports the exit
 * code either way) and answers removed=true; a wait that arrives after
 * the removal is answered from the exit the state cache remembered from
 * the die event.
 */
#include "services/runtime/runtime_internal.h"
#include "services/runtime/state_cache.h"

#include "lib/alloc.h"
#include "lib/clock.h"
#include "lib/validate.h"

#include <stdlib.h>
#include <string.h>

#define WAIT_DEFAULT_MS 30000
#define WAIT_MAX_MS     300000
/* How long a wait for a container the engine no longer knows looks for
 * its remembered exit (the die event may still be on its way). */
#define MEMORY_WAIT_MS 1000
#define MEMORY_STEP_MS 20

struct wait_tick {
	struct berth_runtime *rt;
	int64_t deadline_ms; /* monotonic */
	bool expired;
};

static int on_tick(void *arg)
{
	struct wait_tick *wt = arg;

	if (runtime_is_closing(wt->rt))
		return 1;
	if (berth_clock_mono_ms() >= wt->deadline_ms) {
		wt->expired = true;
		return 1;
	}
	return 0;
}

static int check_request(const Berth__V1__WaitRequest *in, const char **cond,
                         int *timeout_ms, struct berth_err *err)
{
	int rv = berth_validate_container_ref("id", in->id, err);

	if (rv != 0)
		return rv;
	*cond = in->condition[0] != '\0' ? in->condition : "not-running";
	if (strcmp(*cond, "not-running") != 0 && strcmp(*cond, "next-exit") != 0
	    && strcmp(*cond, "removed") != 0)
		return berth_err_set(err, BERTH_EINVAL,
		                     "condition: one of not-running, next-exit "
		                     "or removed");
	if (in->timeout_ms < 0 || in->timeout_ms > WAIT_MAX_MS)
		return berth_err_set(err, BERTH_EINVAL,
		                     "timeout_ms: 0 (30 s) to %d", WAIT_MAX_MS);
	*timeout_ms = in->timeout_ms > 0 ? in->timeout_ms : WAIT_DEFAULT_MS;
	return 0;
}

/* The detail of `ref`, from memory when the cache has it. */
static int inspect(struct berth_runtime *rt, const char *ref,
                   Berth__V1__ContainerDetail **d, struct berth_err *err)
{
	if (state_cache_inspect(runtime_cache(rt), ref, d))
		return 0;
	return berth_engine_container_inspect(rt->engine, ref, d, err);
}

/* A container that is gone: its remembered exit, or NOT_FOUND. */
static int from_memory(struct berth_runtime *rt, const char *ref,
                       Berth__V1__WaitReply *out, struct berth_err *err)
{
	int code = 0;
	bool oom = false, removed = false;
	bool known = false;

	/* The engine may have removed it a moment before the follower
	 * handled its die event: give the follower a short while. */
	for (int i = 0; i * MEMORY_STEP_MS < MEMORY_WAIT_MS; i++) {
		known = state_cache_last_exit(runtime_cache(rt), ref, &code,
		                              &oom, &removed);
		if (known || runtime_is_closing(rt))
			break;
		berth_sleep_ms(MEMORY_STEP_MS);
	}
	if (!known && removed)
		return berth_err_set(err, BERTH_ENOTFOUND,
		                     "container %.64s was removed before its "
		                     "exit code was seen",
		                     ref);
	if (!known)
		return berth_err_set(err, BERTH_ENOTFOUND, "no container %.64s",
		                     ref);
	out->exit_code = code;
	out->oom_killed = oom;
	out->removed = true;
	return 0;
}

static int wait_run(struct berth_runtime *rt, const Berth__V1__WaitRequest *in,
                    int64_t call_deadline_ms, Berth__V1__WaitReply *out,
                    struct berth_err *err)
{
	Berth__V1__ContainerDetail *d = NULL;
	struct wait_tick wt = { rt, 0, false };
	const char *cond = NULL;
	char *id = NULL;
	int timeout_ms = 0, code = 0;
	bool removed_wait;
	int rv;

	rv = check_request(in, &cond, &timeout_ms, err);
	if (rv != 0)
		goto out;
	wt.deadline_ms = berth_clock_mono_ms() + timeout_ms;
	/* The caller's own deadline, when nearer, ends the wait too. */
	if (call_deadline_ms > 0) {
		int64_t left = call_deadline_ms - berth_clock_unix_ms();

		if (left < timeout_ms)
			wt.deadline_ms = berth_clock_mono_ms() + left;
	}
	rv = inspect(rt, in->id, &d, err);
	if (rv == BERTH_ENOTFOUND) {
		rv = from_memory(rt, in->id, out, err);
		goto out;
	}
	if (rv != 0)
		goto out;
	id = berth_strdup(d->summary->id);
	if (strcmp(cond, "not-running") == 0 && d->remove_on_exit && d->running)
		cond = "removed";
	removed_wait = strcmp(cond, "removed") == 0;
	protobuf_c_message_free_unpacked(&d->base, NULL);
	d = NULL;

	rv = berth_engine_ops(rt->engine)
	         ->wait(rt->engine, id, cond, on_tick, &wt, &code, err);
	if (rv == BERTH_ECANCELLED && wt.expired) {
		rv = berth_err_set_retryable(
		    err, BERTH_ETIMEDOUT,
		    "container %.64s %s after %d ms; wait again", in->id,
		    strcmp(cond, "removed") == 0         ? "was not removed"
		        : strcmp(cond, "next-exit") == 0 ? "did not exit"
		                                         : "was still running",
		    timeout_ms);
		goto out;
	}
	if (rv == BERTH_ECANCELLED) {
		rv = berth_err_set_retryable(err, BERTH_EUNAVAIL,
		                             "the runtime is stopping");
		goto out;
	}
	if (rv == BERTH_ENOTFOUND) {
		/* Removed between the inspect and the wait. */
		rv = from_memory(rt, id, out, err);
		goto out;
	}
	if (rv != 0)
		goto out;
	out->exit_code = code;
	out->removed = removed_wait;
	if (!removed_wait && inspect(rt, id, &d, NULL) == 0) {
		out->oom_killed = d->oom_killed;
	} else {
		int c2 = 0;
		bool oom = false, gone = false;

		if (state_cache_last_exit(runtime_cache(rt), id, &c2, &oom,
		                          &gone))
			out->oom_killed = oom;
	}
out:
	if (d != NULL)
		protobuf_c_message_free_unpacked(&d->base, NULL);
	free(id);
	return rv;
}

void rt_wait_container(Berth__V1__Runtime_Service *svc,
                       const Berth__V1__WaitRequest *in,
                       Berth__V1__WaitReply_Closure done, void *call)
{
	Berth__V1__WaitReply out = BERTH__V1__WAIT_REPLY__INIT;
	struct berth_err err;

	berth_err_clear(&err);
	if (wait_run(runtime_of(svc), in, berth_rpc_call_deadline_ms(call),
	             &out, &err)
	    != 0) {
		rt_fail(call, &err, "WaitContainer");
		done(NULL, call);
		return;
	}
	done(&out, call);
}
