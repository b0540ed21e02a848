/*
 * handlers_health.c: the runtime's WaitHealthy.
 *
 * Polls the engine's inspect about every 200 ms until the container's
 * health check says "healthy" (the answer is its detail), "unhealthy"
 * (FAILED_PRECONDITION with the last probe's output, cut short), or the
 * deadline passes (DEADLINE_EXCEEDED, retryable: the container may yet
 * become healthy). A container that is not running, or has no health
 * check, can never become healthy: FAILED_PRECONDITION at once.
 * timeout_ms 0 means 60 s; longer than 300 s is cut to 300 s, and the
 * wait also ends a little before the call's own deadline. It asks the
 * engine, not the state cache: the cache follows events and may lag
 * the probe that just passed.
 */
#include "services/runtime/runtime_internal.h"

#include "lib/clock.h"
#include "lib/validate.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#define POLL_MS            200
#define DEFAULT_TIMEOUT_MS 60000
#define MAX_TIMEOUT_MS     300000
/* Answer this long before the caller's own deadline, so the reply (not
 * the caller's timer) says what happened. */
#define DEADLINE_MARGIN_MS 250
/* How much probe output goes into an error message (err->msg is 256). */
#define OUTPUT_IN_MSG 120

/*
 * Copies at most `max` bytes of probe output into `dst` (`n` bytes) for
 * a one-line message: control bytes and newlines become spaces, and a
 * cut never splits a UTF-8 sequence.
 */
static void output_for_msg(char *dst, size_t n, const char *s, size_t max)
{
	size_t len = s != NULL ? strlen(s) : 0, j = 0;

	if (len > max)
		len = max;
	for (size_t i = 0; i < len && j + 1 < n;) {
		size_t k = berth_utf8_seq_len(s + i, len - i);

		if (k == 0) {
			i++; /* invalid, or a sequence the cut split */
			dst[j++] = '?';
			continue;
		}
		if (k == 1) {
			unsigned char c = (unsigned char)s[i];

			dst[j++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
		} else {
			if (j + k + 1 > n)
				break;
			memcpy(dst + j, s + i, k);
			j += k;
		}
		i += k;
	}
	/* Trailing spaces (the probe's last newline) say nothing. */
	while (j > 0 && dst[j - 1] == ' ')
		j--;
	dst[j] = '\0';
}

static bool runtime_stopping(struct berth_runtime *rt)
{
	bool stopping;

	pthread_mutex_lock(&rt->mu);
	stopping = rt->stopping;
	pthread_mutex_unlock(&rt->mu);
	return stopping;
}

/* The wait's end on the monotonic clock, from the request's timeout and
 * the call's own deadline. */
static int64_t wait_end_ms(const Berth__V1__WaitHealthyRequest *in, void *call)
{
	int64_t timeout = in->timeout_ms == 0 ? DEFAULT_TIMEOUT_MS
	                                      : (int64_t)in->timeout_ms;
	int64_t call_end = berth_rpc_call_deadline_ms(call);
	int64_t now = berth_clock_mono_ms();

	if (timeout > MAX_TIMEOUT_MS)
		timeout = MAX_TIMEOUT_MS;
	if (call_end > 0) {
		int64_t left
		    = call_end - berth_clock_unix_ms() - DEADLINE_MARGIN_MS;

		if (left < timeout)
			timeout = left > 0 ? left : 0;
	}
	return now + timeout;
}

/*
 * One look at the container: 0 with `*out` when healthy; 1 when the
 * check is still starting; else the error to answer.
 */
static int look(struct berth_runtime *rt, const char *id,
                Berth__V1__ContainerDetail **out, struct berth_err *err)
{
	Berth__V1__ContainerDetail *d = NULL;
	const char *status;
	char output[OUTPUT_IN_MSG * 2];
	int rv;

	rv = berth_engine_container_inspect(rt->engine, id, &d, err);
	if (rv != 0)
		return rv;
	status = d->health_status != NULL ? d->health_status : "";
	if (strcmp(status, "healthy") == 0) {
		*out = d;
		return 0;
	}
	if (status[0] == '\0') {
		rv = berth_err_set(err, BERTH_EPRECOND,
		                   "container %.64s has no health check; give "
		                   "one at create (health.test)",
		                   id);
	} else if (!d->running) {
		rv = berth_err_set(
		    err, BERTH_EPRECOND,
		    "container %.64s is not running (state %.32s, "
		    "exit code %d): it cannot become healthy",
		    id,
		    d->summary != NULL && d->summary->state != NULL
		        ? d->summary->state
		        : "unknown",
		    (int)d->exit_code);
	} else if (strcmp(status, "unhealthy") == 0) {
		output_for_msg(output, sizeof(output), d->health_last_output,
		               OUTPUT_IN_MSG);
		rv = berth_err_set(
		    err, BERTH_EPRECOND,
		    "container %.64s is unhealthy after %u failed "
		    "probes; last output: %s",
		    id, d->health_failing_streak,
		    output[0] != '\0' ? output : "(none)");
	} else {
		rv = 1; /* "starting" */
	}
	protobuf_c_message_free_unpacked(&d->base, NULL);
	return rv;
}

void rt_wait_healthy(Berth__V1__Runtime_Service *svc,
                     const Berth__V1__WaitHealthyRequest *in,
                     Berth__V1__ContainerDetail_Closure done, void *call)
{
	struct berth_runtime *rt = runtime_of(svc);
	Berth__V1__ContainerDetail *out = NULL;
	struct berth_err err;
	int64_t end;
	int rv;

	berth_err_clear(&err);
	rv = berth_validate_container_ref("id", in->id, &err);
	if (rv == 0 && in->timeout_ms < 0)
		rv = berth_err_set(&err, BERTH_EINVAL,
		                   "timeout_ms: must be 0 (60 s) or positive");
	if (rv != 0)
		goto out;
	end = wait_end_ms(in, call);
	/* Bounded by the deadline: one look at least, then every POLL_MS. */
	for (;;) {
		int64_t left;

		rv = look(rt, in->id, &out, &err);
		if (rv <= 0)
			break;
		left = end - berth_clock_mono_ms();
		if (left <= 0) {
			rv = berth_err_set_retryable(
			    &err, BERTH_ETIMEDOUT,
			    "container %.64s was not healthy before the "
			    "deadline; its health check is still starting",
			    in->id);
			break;
		}
		if (runtime_stopping(rt)) {
			rv = berth_err_set_retryable(&err, BERTH_EUNAVAIL,
			                             "the runtime is stopping");
			break;
		}
		berth_sleep_ms(left < POLL_MS ? (int)left : POLL_MS);
	}
out:
	if (rv != 0) {
		rt_fail(call, &err, "WaitHealthy");
		done(NULL, call);
		return;
	}
	done(out, call);
	protobuf_c_message_free_unpacked(&out->base, NULL);
}
