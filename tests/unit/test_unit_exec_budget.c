/*
 * test_unit_exec_budget.c: the runtime-wide exec output budget
 * (budget.c) and how exec output is charged to it (exec_result_take in
 * exec_run.c): charged as it is buffered, given back when the result is
 * freed, cut with the budget's own marker when it is used up, a
 * streamed exec charged no more than its stream holds at once, and no
 * overdraw under concurrent takers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "services/runtime/exec_run.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static void test_take_and_give(void **state)
{
	struct runtime_out_budget b = { .limit = 1000 };

	(void)state;
	assert_int_equal(runtime_out_budget_limit(&b), 1000);
	assert_int_equal(runtime_out_budget_take(&b, 600), 600);
	/* Short grants, down to nothing. */
	assert_int_equal(runtime_out_budget_take(&b, 600), 400);
	assert_int_equal(runtime_out_budget_take(&b, 1), 0);
	assert_int_equal(runtime_out_budget_used(&b), 1000);
	runtime_out_budget_give(&b, 400);
	assert_int_equal(runtime_out_budget_take(&b, 0), 0);
	assert_int_equal(runtime_out_budget_take(&b, 500), 400);
	runtime_out_budget_give(&b, 1000);
	assert_int_equal(runtime_out_budget_used(&b), 0);
}

static void test_default_limit(void **state)
{
	struct runtime_out_budget b = { .limit = 0 };

	(void)state;
	/* 256 MiB unless the test-only variable says otherwise. */
	if (getenv("BERTH_TEST_EXEC_OUTPUT_BUDGET") == NULL)
		assert_int_equal(runtime_out_budget_limit(&b),
		                 (size_t)256 << 20);
}

static void fill(char *p, size_t n, char c)
{
	memset(p, c, n);
}

static void test_collected_output_is_charged_and_cut(void **state)
{
	struct runtime_out_budget b = { .limit = 100 };
	struct exec_result r1, r2;
	char data[64];
	const char *out;

	(void)state;
	fill(data, sizeof(data), 'x');
	exec_result_init(&r1);
	exec_result_init(&r2);
	r1.budget = &b;
	r2.budget = &b;

	/* Charged byte for byte as it is buffered. */
	assert_int_equal(
	    exec_result_take(&r1, 1000, BERTH_OUT_STDOUT, data, 60, NULL, NULL),
	    0);
	assert_int_equal(r1.charged, 60);
	assert_int_equal(runtime_out_budget_used(&b), 60);
	assert_false(r1.truncated[BERTH_OUT_STDOUT]);

	/* The second exec gets the 40 left, then its output is cut. */
	assert_int_equal(
	    exec_result_take(&r2, 1000, BERTH_OUT_STDERR, data, 60, NULL, NULL),
	    0);
	assert_int_equal(r2.kept[BERTH_OUT_STDERR], 40);
	assert_true(r2.truncated[BERTH_OUT_STDERR]);
	assert_true(r2.budget_cut[BERTH_OUT_STDERR]);
	assert_int_equal(runtime_out_budget_used(&b), 100);
	out = r2.out[BERTH_OUT_STDERR].data;
	/* The command's bytes only: the reply's flags say why it was
	 * cut, and whoever shows it adds the marker. */
	assert_int_equal(strspn(out, "x"), 40);
	assert_int_equal(r2.out[BERTH_OUT_STDERR].len, 40);

	/* Once cut, it stays cut, even when the budget frees up: no gap. */
	exec_result_fini(&r1);
	assert_int_equal(runtime_out_budget_used(&b), 40);
	assert_int_equal(
	    exec_result_take(&r2, 1000, BERTH_OUT_STDERR, data, 10, NULL, NULL),
	    0);
	assert_int_equal(r2.kept[BERTH_OUT_STDERR], 40);
	assert_int_equal(r2.seen[BERTH_OUT_STDERR], 70);

	/* Its other stream still draws on the budget. */
	assert_int_equal(
	    exec_result_take(&r2, 1000, BERTH_OUT_STDOUT, data, 10, NULL, NULL),
	    0);
	assert_int_equal(r2.kept[BERTH_OUT_STDOUT], 10);
	assert_int_equal(runtime_out_budget_used(&b), 50);

	exec_result_fini(&r2);
	assert_int_equal(runtime_out_budget_used(&b), 0);
	/* fini twice gives nothing back twice. */
	exec_result_fini(&r2);
	assert_int_equal(runtime_out_budget_used(&b), 0);
}

static void test_cap_cut_is_not_the_budget(void **state)
{
	struct runtime_out_budget b = { .limit = 1 << 20 };
	struct exec_result r;
	char data[64];

	(void)state;
	fill(data, sizeof(data), 'y');
	exec_result_init(&r);
	r.budget = &b;
	assert_int_equal(
	    exec_result_take(&r, 10, BERTH_OUT_STDOUT, data, 64, NULL, NULL),
	    0);
	assert_true(r.truncated[BERTH_OUT_STDOUT]);
	assert_false(r.budget_cut[BERTH_OUT_STDOUT]);
	/* Only what is kept is charged; the cap's marker is the
	 * gateway's to add. */
	assert_int_equal(r.charged, 10);
	assert_int_equal(r.out[BERTH_OUT_STDOUT].len, 10);
	exec_result_fini(&r);
	assert_int_equal(runtime_out_budget_used(&b), 0);
}

/* A sink that counts what it is handed and keeps the last piece. */
struct sink_state {
	size_t bytes;
	size_t pieces;
	char last[256];
};

static int count_sink(void *arg, enum berth_output_stream s, const char *data,
                      size_t len)
{
	struct sink_state *st = arg;
	size_t n = len < sizeof(st->last) - 1 ? len : sizeof(st->last) - 1;

	(void)s;
	st->bytes += len;
	st->pieces++;
	memcpy(st->last, data, n);
	st->last[n] = '\0';
	return 0;
}

static void test_streamed_output_charged_for_what_it_holds(void **state)
{
	struct runtime_out_budget b = { .limit = 4u << 20 };
	struct sink_state ss = { 0 };
	struct exec_result r;
	static char data[64 * 1024];

	(void)state;
	fill(data, sizeof(data), 'z');
	exec_result_init(&r);
	r.budget = &b;
	/* 5 MiB through a stream: all handed on, never more than the
	 * stream's hold charged. */
	for (int i = 0; i < 80; i++) {
		assert_int_equal(
		    exec_result_take(&r, EXEC_OUTPUT_MAX, BERTH_OUT_STDOUT,
		                     data, sizeof(data), count_sink, &ss),
		    0);
		assert_true(runtime_out_budget_used(&b)
		            <= EXEC_STREAM_HOLD_MAX);
	}
	assert_int_equal(ss.bytes, 80 * sizeof(data));
	assert_false(r.truncated[BERTH_OUT_STDOUT]);
	assert_int_equal(r.charged, EXEC_STREAM_HOLD_MAX);
	exec_result_fini(&r);
	assert_int_equal(runtime_out_budget_used(&b), 0);
}

static void test_streamed_output_cut_by_budget(void **state)
{
	struct runtime_out_budget b = { .limit = 1000 };
	struct sink_state ss = { 0 };
	struct exec_result r;
	char data[600];

	(void)state;
	fill(data, sizeof(data), 'w');
	exec_result_init(&r);
	r.budget = &b;
	assert_int_equal(exec_result_take(&r, 1 << 20, BERTH_OUT_STDOUT, data,
	                                  600, count_sink, &ss),
	                 0);
	assert_int_equal(exec_result_take(&r, 1 << 20, BERTH_OUT_STDOUT, data,
	                                  600, count_sink, &ss),
	                 0);
	assert_true(r.budget_cut[BERTH_OUT_STDOUT]);
	assert_int_equal(r.kept[BERTH_OUT_STDOUT], 1000);
	/* The reader is told why, in the stream. */
	assert_string_equal(ss.last,
	                    "\n[berth: stdout truncated after 1000 bytes: the "
	                    "runtime's exec output budget is used up]\n");
	exec_result_fini(&r);
	assert_int_equal(runtime_out_budget_used(&b), 0);
}

#define THREADS 4
#define ROUNDS  20000

struct racer {
	struct runtime_out_budget *b;
	unsigned seed;
	int over; /* times `used` was seen above the limit */
};

static void *race(void *arg)
{
	struct racer *rc = arg;

	for (int i = 0; i < ROUNDS; i++) {
		size_t want = (size_t)(rand_r(&rc->seed) % 400) + 1;
		size_t got = runtime_out_budget_take(rc->b, want);

		if (runtime_out_budget_used(rc->b) > rc->b->limit)
			rc->over++;
		runtime_out_budget_give(rc->b, got);
	}
	return NULL;
}

static void test_concurrent_takers_never_overdraw(void **state)
{
	struct runtime_out_budget b = { .limit = 1000 };
	struct racer rc[THREADS];
	pthread_t th[THREADS];

	(void)state;
	for (int i = 0; i < THREADS; i++) {
		rc[i].b = &b;
		rc[i].seed = (unsigned)i + 1;
		rc[i].over = 0;
		assert_int_equal(pthread_create(&th[i], NULL, race, &rc[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(rc[i].over, 0);
	}
	assert_int_equal(runtime_out_budget_used(&b), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_take_and_give),
		cmocka_unit_test(test_default_limit),
		cmocka_unit_test(test_collected_output_is_charged_and_cut),
		cmocka_unit_test(test_cap_cut_is_not_the_budget),
		cmocka_unit_test(
		    test_streamed_output_charged_for_what_it_holds),
		cmocka_unit_test(test_streamed_output_cut_by_budget),
		cmocka_unit_test(test_concurrent_takers_never_overdraw),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
