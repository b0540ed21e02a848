/*
 * clock.h: the clocks and the sleep every part of berth uses.
 *
 * Wall-clock time for what is stored or crosses processes (job
 * timestamps, RPC deadlines); monotonic time for local timeouts and
 * durations, which must not jump when the wall clock is set.
 */
#ifndef BERTH_LIB_CLOCK_H
#define BERTH_LIB_CLOCK_H

#include <stdint.h>

/* Wall clock in unix milliseconds. */
int64_t berth_clock_unix_ms(void);

/* Monotonic clock in milliseconds, from an arbitrary origin. */
int64_t berth_clock_mono_ms(void);

/* Sleeps `ms` milliseconds (0 or less returns at once). */
void berth_sleep_ms(int ms);

#endif
