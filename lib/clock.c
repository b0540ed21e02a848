/*
 * clock.c: wall-clock and monotonic milliseconds, and sleep (clock.h).
 */
#include "lib/clock.h"

#include <errno.h>
#include <time.h>

static int64_t ms_of(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t berth_clock_unix_ms(void)
{
	return ms_of(CLOCK_REALTIME);
}

int64_t berth_clock_mono_ms(void)
{
	return ms_of(CLOCK_MONOTONIC);
}

void berth_sleep_ms(int ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	/* A signal handler may wake us early: sleep the rest. */
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}
