/*
 * budget.c: how many memory-heavy calls run at once. InjectCode and
 * CloneRepo build a tar of the whole tree in memory (hundreds of MiB
 * at most each); with 64 RPC workers, unbounded, a burst could ask for
 * tens of GiB. Past the limit a call is refused at once, retryable,
 * rather than queued behind a worker.
 *
 * Exec output: each exec may buffer up to 2 x 16 MiB, and 64 workers
 * may run execs at once, so nothing bounded the total. Exec output is
 * charged against one runtime-wide byte budget as it is buffered (not
 * reserved up front: a thousand small execs still run side by side)
 * and given back when the reply is freed. A charge that does not fit is
 * cut, and the exec's output with it, as its own cap would cut it.
 */
#include "services/runtime/runtime_internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/*
 * 256 MiB: eight execs at their largest (2 x 16 MiB) or 128 at the
 * default cap (2 x 1 MiB), all at their full output at once, while 64
 * workers at the largest (2 GiB) no longer fit: a burst of big outputs
 * costs the host a known amount, of the order of a few PutArchive
 * requests (80 MiB each), and typical output (a few KiB) never meets it.
 */
#define RUNTIME_EXEC_OUTPUT_BUDGET ((size_t)256 << 20)

static pthread_once_t budget_once = PTHREAD_ONCE_INIT;
static size_t budget_default;

/*
 * TEST ONLY: BERTH_TEST_EXEC_OUTPUT_BUDGET (bytes, > 0) replaces the
 * default so an integration test can reach the budget with a few KiB
 * instead of 256 MiB. Read once per process, at the first exec.
 */
static void budget_read_env(void)
{
	const char *v = getenv("BERTH_TEST_EXEC_OUTPUT_BUDGET");
	char *end = NULL;
	unsigned long long n;

	budget_default = RUNTIME_EXEC_OUTPUT_BUDGET;
	if (v == NULL || *v == '\0')
		return;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno == 0 && *end == '\0' && n > 0 && n <= SIZE_MAX)
		budget_default = (size_t)n;
}

size_t runtime_out_budget_limit(const struct runtime_out_budget *b)
{
	if (b->limit > 0)
		return b->limit;
	pthread_once(&budget_once, budget_read_env);
	return budget_default;
}

size_t runtime_out_budget_take(struct runtime_out_budget *b, size_t want)
{
	size_t limit = runtime_out_budget_limit(b);
	size_t cur = atomic_load(&b->used), got;

	if (want == 0)
		return 0;
	/* Compare-and-swap: concurrent takers never pass the limit
	 * together, and none waits for a lock on the output path. */
	do {
		got = cur < limit ? limit - cur : 0;
		if (got > want)
			got = want;
		if (got == 0)
			return 0;
	} while (!atomic_compare_exchange_weak(&b->used, &cur, cur + got));
	return got;
}

void runtime_out_budget_give(struct runtime_out_budget *b, size_t n)
{
	if (n > 0)
		atomic_fetch_sub(&b->used, n);
}

size_t runtime_out_budget_used(struct runtime_out_budget *b)
{
	return atomic_load(&b->used);
}

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
