/*
 * test_unit_budget.c: the runtime's limit on memory-heavy calls
 * (services/runtime/budget.c): RUNTIME_HEAVY_MAX at once, the next one
 * refused as retryable RESOURCE_EXHAUSTED, a slot reusable once left.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "services/runtime/runtime_internal.h"
#include "tests/support/testsupport.h"

#include <string.h>

static void test_slots(void **state)
{
	struct berth_runtime rt;
	struct berth_err err;

	(void)state;
	memset(&rt, 0, sizeof(rt));
	pthread_mutex_init(&rt.mu, NULL);
	for (int i = 0; i < RUNTIME_HEAVY_MAX; i++)
		assert_ok(runtime_heavy_enter(&rt, "CloneRepo", &err), &err);
	berth_err_clear(&err);
	assert_int_equal(runtime_heavy_enter(&rt, "CloneRepo", &err),
	                 BERTH_ELIMIT);
	assert_true(err.retryable);
	assert_non_null(strstr(err.msg, "CloneRepo"));
	runtime_heavy_leave(&rt);
	assert_ok(runtime_heavy_enter(&rt, "InjectCode", &err), &err);
	for (int i = 0; i < RUNTIME_HEAVY_MAX; i++)
		runtime_heavy_leave(&rt);
	assert_int_equal(rt.heavy, 0);
	pthread_mutex_destroy(&rt.mu);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
