/*
 * test_unit_events_ring.c: the gateway's SSE replay ring and event ids
 * (gateway/events_ring.h): bounds by count and by bytes, what the ring
 * vouches for after evictions and an oversized record, replay order
 * and early stop, and the strict id parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "gateway/events_ring.h"

#include "lib/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void push_n(struct gw_ev_ring *r, uint64_t from, uint64_t to)
{
	for (uint64_t s = from; s <= to; s++) {
		char text[64];

		snprintf(text, sizeof(text), "id: x-%llu\n\n",
		         (unsigned long long)s);
		gw_ev_ring_push(r, s, s % 2 ? "container" : "job", "abc",
		                s % 2 ? "web" : NULL, text, strlen(text));
	}
}

struct seen {
	uint64_t seqs[64];
	size_t n;
	size_t stop_at; /* stop after this many; 0 = never */
};

static int collect(void *arg, const struct gw_ev_rec *rec)
{
	struct seen *s = arg;
	char want[64];

	snprintf(want, sizeof(want), "id: x-%llu\n\n",
	         (unsigned long long)rec->seq);
	assert_string_equal(rec->text, want);
	assert_int_equal(rec->len, strlen(want));
	assert_string_equal(rec->id, "abc");
	if (rec->seq % 2) {
		assert_string_equal(rec->type, "container");
		assert_string_equal(rec->name, "web");
	} else {
		assert_string_equal(rec->type, "job");
		assert_null(rec->name);
	}
	if (s->n < 64)
		s->seqs[s->n++] = rec->seq;
	return s->stop_at != 0 && s->n == s->stop_at ? 7 : 0;
}

static void test_empty(void **state)
{
	struct gw_ev_ring *r = gw_ev_ring_alloc(4, 1 << 20);
	struct seen s = { .n = 0 };

	(void)state;
	assert_int_equal(gw_ev_ring_newest(r), 0);
	assert_int_equal(gw_ev_ring_oldest(r), 0);
	assert_true(gw_ev_ring_covers(r, 0));
	assert_false(gw_ev_ring_covers(r, 1));
	assert_int_equal(gw_ev_ring_each(r, 0, collect, &s), 0);
	assert_int_equal(s.n, 0);
	gw_ev_ring_free(r);
	gw_ev_ring_free(NULL);
}

static void test_count_bound_and_replay(void **state)
{
	struct gw_ev_ring *r = gw_ev_ring_alloc(4, 1 << 20);
	struct seen s = { .n = 0 };

	(void)state;
	push_n(r, 1, 3);
	assert_true(gw_ev_ring_covers(r, 0));
	assert_int_equal(gw_ev_ring_each(r, 1, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.seqs[0], 2);
	assert_int_equal(s.seqs[1], 3);

	push_n(r, 4, 10); /* holds 7..10 */
	assert_int_equal(gw_ev_ring_oldest(r), 7);
	assert_int_equal(gw_ev_ring_newest(r), 10);
	assert_false(gw_ev_ring_covers(r, 0));
	assert_false(gw_ev_ring_covers(r, 5));  /* 6 is gone */
	assert_true(gw_ev_ring_covers(r, 6));   /* 7.. all held */
	assert_true(gw_ev_ring_covers(r, 10));  /* nothing missed */
	assert_false(gw_ev_ring_covers(r, 11)); /* never issued */
	s.n = 0;
	assert_int_equal(gw_ev_ring_each(r, 6, collect, &s), 0);
	assert_int_equal(s.n, 4);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(s.seqs[i], 7 + i);
	s.n = 0;
	assert_int_equal(gw_ev_ring_each(r, 10, collect, &s), 0);
	assert_int_equal(s.n, 0);
	/* The callback stops the walk. */
	s.n = 0;
	s.stop_at = 2;
	assert_int_equal(gw_ev_ring_each(r, 0, collect, &s), 7);
	assert_int_equal(s.n, 2);
	gw_ev_ring_free(r);
}

static void test_byte_bound(void **state)
{
	/* Room for about three small records: the byte bound evicts
	 * before the count bound (1000) would. */
	struct gw_ev_ring *r = gw_ev_ring_alloc(1000, 3 * 160);
	struct seen s = { .n = 0 };
	uint64_t oldest;

	(void)state;
	push_n(r, 1, 50);
	oldest = gw_ev_ring_oldest(r);
	assert_true(oldest > 40 && oldest <= 50);
	assert_true(gw_ev_ring_covers(r, oldest - 1));
	assert_false(gw_ev_ring_covers(r, oldest - 2));
	assert_int_equal(gw_ev_ring_each(r, 0, collect, &s), 0);
	assert_int_equal(s.n, 50 - oldest + 1);
	assert_int_equal(s.seqs[s.n - 1], 50);
	gw_ev_ring_free(r);
}

static void test_oversized_record(void **state)
{
	struct gw_ev_ring *r = gw_ev_ring_alloc(16, 4096);
	char *big = berth_malloc(8192);
	struct seen s = { .n = 0 };

	(void)state;
	memset(big, 'x', 8191);
	big[8191] = '\0';
	push_n(r, 1, 3);
	gw_ev_ring_push(r, 4, "container", "abc", NULL, big, 8191);
	/* Not kept, and nothing before it can be vouched for. */
	assert_int_equal(gw_ev_ring_oldest(r), 0);
	assert_int_equal(gw_ev_ring_newest(r), 4);
	assert_false(gw_ev_ring_covers(r, 3));
	assert_true(gw_ev_ring_covers(r, 4));
	push_n(r, 5, 6);
	assert_true(gw_ev_ring_covers(r, 4));
	assert_int_equal(gw_ev_ring_each(r, 4, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.seqs[0], 5);
	free(big);
	gw_ev_ring_free(r);
}

static void test_ids(void **state)
{
	char id[GW_EV_ID_MAX];
	uint64_t e = 1, q = 1;
	static const char *const bad[] = {
		"",
		"1",
		"496",
		"0123456789abcdef",
		"0123456789abcdef-",
		"0123456789ABCDEF-1",
		"0123456789abcde-1",
		"0123456789abcdef0-1",
		"0123456789abcdef-01",
		"0123456789abcdef-1x",
		"0123456789abcdef-+1",
		"0123456789abcdef- 1",
		"0123456789abcdef-18446744073709551616",
		"0123456789abcdef-123456789012345678901",
		"g123456789abcdef-1",
		"0123456789abcdef_1",
	};

	(void)state;
	gw_ev_id_format(id, 0xfeedfacecafebeefull, 42);
	assert_string_equal(id, "feedfacecafebeef-42");
	assert_int_equal(gw_ev_id_parse(&e, &q, id), 0);
	assert_true(e == 0xfeedfacecafebeefull);
	assert_int_equal(q, 42);
	gw_ev_id_format(id, 1, UINT64_MAX);
	assert_string_equal(id, "0000000000000001-18446744073709551615");
	assert_int_equal(gw_ev_id_parse(&e, &q, id), 0);
	assert_true(q == UINT64_MAX);
	assert_int_equal(gw_ev_id_parse(&e, &q, "0000000000000000-0"), 0);
	assert_int_equal(e, 0);
	assert_int_equal(q, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e = 9;
		q = 9;
		if (gw_ev_id_parse(&e, &q, bad[i]) == 0)
			fail_msg("accepted %s", bad[i]);
		/* Out-params untouched on failure. */
		assert_int_equal(e, 9);
		assert_int_equal(q, 9);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_count_bound_and_replay),
		cmocka_unit_test(test_byte_bound),
		cmocka_unit_test(test_oversized_record),
		cmocka_unit_test(test_ids),
	};

	return cmocka_run_group_tests_name("events_ring", tests, NULL, NULL);
}
