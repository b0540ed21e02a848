/*
 * budget.c: how many memory-heavy calls run at once. InjectCode and
 * CloneRepo build a tar of the whole tree in memory (hundreds of MiB
 * at most each); with 64 RPC workers, unbounded, a burst could ask for
 * tens of GiB. Past the limit a call is refused at once, retryable,
 * rather than queued behind a worker.
 */
#include "services/runtime/runtime_internal.h"

int runtime_heavy_enter(struct berth_runtime *rt, const char *what,
                        struct berth_err *err)
{
	bool full;

	pthread_mutex_lock(&rt->mu);
	full = rt->heavy >= RUNTIME_HEAVY_MAX;
	if (!full)
		rt->heavy++;
	pthread_mutex_unlock(&rt->mu);
	if (full)
		return berth_err_set_retryable(
		    err, BERTH_ELIMIT,
		    "%s: %d code uploads and clones are already under way on "
		    "this runtime; try again shortly",
		    what, RUNTIME_HEAVY_MAX);
	return 0;
}

void runtime_heavy_leave(struct berth_runtime *rt)
{
	pthread_mutex_lock(&rt->mu);
	rt->heavy--;
	pthread_mutex_unlock(&rt->mu);
}
