/*
 * test_unit_health_driver.c: the health driver's schedule and mode
 * (services/runtime/health_driver.c): first probe an interval after the
 * container started (at once when that passed), the next an interval
 * after the previous ended, 30 s when none is given, one probe of a
 * container at a time, at most `max` handed out per take (most overdue
 * first), a restart starting over, a container gone forgotten (after
 * its probe under way), and when the runtime runs probes at all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "services/runtime/health_driver.h"
#include "tests/support/testsupport.h"

#include <stdio.h>
#include <string.h>

/* Unix ms of "2026-11-24T01:00:00Z", the tests' wall clock origin. */
#define T0_UNIX 1795482000000LL
/* An arbitrary monotonic origin. */
#define M0 5000000LL

static struct state_cache_health item(const char *id, const char *started,
                                      int64_t interval_ms)
{
	struct state_cache_health h;

	memset(&h, 0, sizeof(h));
	h.id = (char *)id;
	h.started_at = (char *)started;
	h.status = (char *)"starting";
	h.interval_ms = interval_ms;
	return h;
}

static size_t take(struct health_sched *s, int64_t now, size_t max,
                   char ids[][16])
{
	struct health_probe_job j[HEALTH_TICK_MAX];
	size_t n = health_sched_take(s, now, j, max);

	for (size_t i = 0; i < n; i++) {
		snprintf(ids[i], 16, "%s", j[i].id);
		health_probe_job_fini(&j[i]);
	}
	return n;
}

static void test_first_probe_an_interval_after_start(void **state)
{
	struct health_sched *s = health_sched_new();
	/* Started 300 ms before "now" (T0 + 1 s), interval 1 s. */
	struct state_cache_health v[]
	    = { item("a", "2026-11-24T01:00:00.700Z", 1000) };
	char ids[HEALTH_TICK_MAX][16];

	(void)state;
	health_sched_sync(s, v, 1, M0, T0_UNIX + 1000);
	assert_int_equal(health_sched_count(s), 1);
	assert_int_equal(health_sched_next_in(s, M0), 700);
	assert_int_equal(take(s, M0 + 699, 4, ids), 0);
	assert_int_equal(take(s, M0 + 700, 4, ids), 1);
	assert_string_equal(ids[0], "a");
	/* Busy: never twice at once, and not "due" for the sleep. */
	assert_int_equal(take(s, M0 + 5000, 4, ids), 0);
	assert_int_equal(health_sched_next_in(s, M0 + 5000), -1);
	/* The next one an interval after this one ended. */
	health_sched_done(s, "a", M0 + 1200);
	assert_int_equal(health_sched_next_in(s, M0 + 1200), 1000);
	assert_int_equal(take(s, M0 + 2199, 4, ids), 0);
	assert_int_equal(take(s, M0 + 2200, 4, ids), 1);
	health_sched_free(s);
}

static void test_defaults_and_long_running(void **state)
{
	struct health_sched *s = health_sched_new();
	/* Interval 0 = 30 s; one started an hour ago is due at once; an
	 * unknown start counts from now. */
	struct state_cache_health v[]
	    = { item("old", "2026-11-24T00:00:00Z", 0),
		item("new", "2026-11-24T01:00:00Z", 0),
		item("unk", "0001-01-01T00:00:00Z", 0) };
	struct health_probe_job j[4];
	size_t n;

	(void)state;
	health_sched_sync(s, v, 3, M0, T0_UNIX);
	n = health_sched_take(s, M0, j, 4);
	assert_int_equal(n, 1);
	assert_string_equal(j[0].id, "old");
	assert_int_equal(j[0].timeout_ms, HEALTH_DEFAULT_TIMEOUT_MS);
	assert_string_equal(j[0].status, "starting");
	health_probe_job_fini(&j[0]);
	assert_int_equal(health_sched_next_in(s, M0),
	                 HEALTH_DEFAULT_INTERVAL_MS);
	n = health_sched_take(s, M0 + HEALTH_DEFAULT_INTERVAL_MS, j, 4);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++)
		health_probe_job_fini(&j[i]);
	health_sched_free(s);
}

static void test_bounded_take_most_overdue_first(void **state)
{
	struct health_sched *s = health_sched_new();
	struct state_cache_health v[20];
	char names[20][16], ids[HEALTH_TICK_MAX][16];
	char started[20][48];

	(void)state;
	/* c0 started longest ago, so it is the most overdue. */
	for (int i = 0; i < 20; i++) {
		snprintf(names[i], sizeof(names[i]), "c%d", i);
		snprintf(started[i], sizeof(started[i]),
		         "2026-11-24T00:59:%02d.000Z", 30 + i);
		v[i] = item(names[i], started[i], 1000);
	}
	health_sched_sync(s, v, 20, M0, T0_UNIX);
	assert_int_equal(take(s, M0, 5, ids), 5);
	assert_string_equal(ids[0], "c0");
	assert_string_equal(ids[4], "c4");
	assert_int_equal(
	    take(s, M0, 100 > HEALTH_TICK_MAX ? HEALTH_TICK_MAX : 100, ids),
	    HEALTH_TICK_MAX > 15 ? 15 : HEALTH_TICK_MAX);
	assert_string_equal(ids[0], "c5");
	health_sched_free(s);
}

static void test_restart_and_removal(void **state)
{
	struct health_sched *s = health_sched_new();
	struct state_cache_health v[]
	    = { item("a", "2026-11-24T00:00:00Z", 2000),
		item("b", "2026-11-24T00:00:00Z", 2000) };
	struct state_cache_health restarted[]
	    = { item("a", "2026-11-24T01:00:05Z", 2000) };
	char ids[HEALTH_TICK_MAX][16];

	(void)state;
	health_sched_sync(s, v, 2, M0, T0_UNIX + 5000);
	assert_int_equal(take(s, M0, 1, ids), 1); /* one of them, busy */
	/* "a" restarted now, and whichever was not taken is gone. */
	health_sched_sync(s, restarted, 1, M0 + 10, T0_UNIX + 5010);
	if (strcmp(ids[0], "a") == 0) {
		/* "b" idle and gone: forgotten at once. */
		assert_int_equal(health_sched_count(s), 1);
		health_sched_done(s, "a", M0 + 20);
	} else {
		/* "b" busy and gone: kept until its probe ends. */
		assert_int_equal(health_sched_count(s), 2);
		health_sched_done(s, "b", M0 + 20);
		assert_int_equal(health_sched_count(s), 1);
		/* "a" starts over: due 2 s after its restart. */
		assert_int_equal(health_sched_next_in(s, M0 + 10), 1990);
	}
	assert_int_equal(health_sched_count(s), 1);
	health_sched_sync(s, NULL, 0, M0 + 30, T0_UNIX + 5030);
	assert_int_equal(health_sched_count(s), 0);
	health_sched_done(s, "nobody", M0 + 40); /* ignored */
	health_sched_free(s);
	health_sched_free(NULL);
}

static void test_interval_shortened(void **state)
{
	struct health_sched *s = health_sched_new();
	struct state_cache_health v[]
	    = { item("a", "2026-11-24T01:00:00Z", 0) };

	(void)state;
	health_sched_sync(s, v, 1, M0, T0_UNIX);
	assert_int_equal(health_sched_next_in(s, M0), 30000);
	/* The cache first knew no interval, then the real one. */
	v[0].interval_ms = 500;
	health_sched_sync(s, v, 1, M0 + 100, T0_UNIX + 100);
	assert_int_equal(health_sched_next_in(s, M0 + 100), 500);
	health_sched_free(s);
}

static int probe_stub(struct berth_engine *e, const char *id, int timeout_ms,
                      berth_engine_tick_fn tick, void *arg, char **status,
                      struct berth_err *err)
{
	(void)e;
	(void)id;
	(void)timeout_ms;
	(void)tick;
	(void)arg;
	(void)status;
	(void)err;
	return 0;
}

static void test_mode(void **state)
{
	struct berth_engine_ops with
	    = { .name = "podman", .health_probe = probe_stub };
	struct berth_engine_ops without = { .name = "docker" };
	enum health_driver_mode m = HEALTH_DRIVER_OFF;
	struct berth_err err;

	(void)state;
	assert_ok(health_driver_mode_parse(&m, NULL, &err), &err);
	assert_int_equal(m, HEALTH_DRIVER_AUTO);
	assert_ok(health_driver_mode_parse(&m, "on", &err), &err);
	assert_int_equal(m, HEALTH_DRIVER_ON);
	assert_ok(health_driver_mode_parse(&m, "off", &err), &err);
	assert_int_equal(m, HEALTH_DRIVER_OFF);
	assert_int_equal(health_driver_mode_parse(&m, "yes", &err),
	                 BERTH_EINVAL);
	assert_non_null(strstr(err.msg, "runtime.health_driver"));

	assert_true(health_driver_wanted(HEALTH_DRIVER_AUTO, &with, false));
	assert_false(health_driver_wanted(HEALTH_DRIVER_AUTO, &with, true));
	assert_true(health_driver_wanted(HEALTH_DRIVER_ON, &with, true));
	assert_false(health_driver_wanted(HEALTH_DRIVER_OFF, &with, false));
	/* Docker runs its own: never, whatever the setting. */
	assert_false(health_driver_wanted(HEALTH_DRIVER_ON, &without, false));
	assert_false(health_driver_wanted(HEALTH_DRIVER_AUTO, &without, false));
	assert_false(health_driver_wanted(HEALTH_DRIVER_ON, NULL, false));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_probe_an_interval_after_start),
		cmocka_unit_test(test_defaults_and_long_running),
		cmocka_unit_test(test_bounded_take_most_overdue_first),
		cmocka_unit_test(test_restart_and_removal),
		cmocka_unit_test(test_interval_shortened),
		cmocka_unit_test(test_mode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
