/*
 * test_unit_streams.c: the runtime's output streams
 * (services/runtime/streams.c) with real producer threads: long polls
 * that wake at once on a push, resent reads, back-pressure, the end of a
 * stream with its error, close, idle expiry with nobody calling, and
 * shutdown with producers still running.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "services/runtime/streams.h"
#include "tests/support/testsupport.h"

#include "lib/clock.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* What a test's producer does, and what it saw. */
struct prod {
	int mode;
	int count;    /* frames to push */
	int delay_ms; /* before the first push */
	size_t size;  /* bytes per frame */
	int ret;      /* what the run function returns */
	atomic_int pushed;
	atomic_bool exited;
	atomic_bool saw_cancel;
};

enum { PUSH_N, PUSH_UNTIL_CANCEL, WAIT_CANCEL, PUSH_THEN_WAIT };

static int run(struct runtime_stream *s, void *arg, struct berth_err *err)
{
	struct prod *p = arg;
	char *buf = calloc(1, p->size > 0 ? p->size : 1);
	int rv = 0;

	memset(buf, 'x', p->size);
	if (p->delay_ms > 0)
		berth_sleep_ms(p->delay_ms);
	switch (p->mode) {
	case PUSH_N:
		for (int i = 0; i < p->count && rv == 0; i++) {
			rv = runtime_stream_push(s, BERTH_OUT_STDOUT, buf,
			                         p->size, 0, 0);
			if (rv == 0)
				atomic_fetch_add(&p->pushed, 1);
		}
		break;
	case PUSH_UNTIL_CANCEL:
		for (int i = 0; i < 100000; i++) {
			rv = runtime_stream_push(s, BERTH_OUT_STDERR, buf,
			                         p->size, 0, 0);
			if (rv != 0)
				break;
			atomic_fetch_add(&p->pushed, 1);
		}
		break;
	case PUSH_THEN_WAIT:
		rv = runtime_stream_push(s, BERTH_OUT_STDOUT, buf, p->size, 0,
		                         0);
		if (rv == 0)
			atomic_fetch_add(&p->pushed, 1);
		/* fall through */
	case WAIT_CANCEL:
		for (int i = 0; i < 1000 && !runtime_stream_cancelled(s); i++)
			berth_sleep_ms(10);
		break;
	}
	if (rv == BERTH_ECANCELLED || runtime_stream_cancelled(s))
		atomic_store(&p->saw_cancel, true);
	free(buf);
	atomic_store(&p->exited, true);
	if (p->ret != 0)
		return berth_err_set(err, p->ret,
		                     "the producer failed on purpose");
	return 0;
}

static void chunk_free(Berth__V1__StreamChunk *c)
{
	if (c != NULL)
		protobuf_c_message_free_unpacked(&c->base, NULL);
}

/* Waits until `cond` holds, up to `ms`. */
#define WAIT_FOR(cond, ms)                                           \
	do {                                                         \
		int64_t wait_end_ = berth_clock_mono_ms() + (ms);    \
		while (!(cond) && berth_clock_mono_ms() < wait_end_) \
			berth_sleep_ms(5);                           \
	} while (0)

static void test_frames_then_done(void **state)
{
	struct runtime_streams *ss = runtime_streams_new();
	struct prod p = { .mode = PUSH_N, .count = 3, .size = 4 };
	char id[RUNTIME_STREAM_ID_LEN + 1];
	Berth__V1__StreamChunk *c = NULL, *again = NULL;
	struct berth_err err;

	(void)state;
	assert_ok(runtime_stream_open(ss, run, &p, NULL, id, &err), &err);
	assert_int_equal(strlen(id), RUNTIME_STREAM_ID_LEN);
	WAIT_FOR(atomic_load(&p.exited), 2000);
	assert_ok(runtime_stream_read(ss, id, 0, 500, 0, &c, &err), &err);
	assert_int_equal(c->n_frames, 3);
	assert_int_equal(c->frames[0]->seq, 1);
	assert_int_equal(c->frames[2]->seq, 3);
	assert_string_equal(c->frames[0]->stream, "stdout");
	assert_int_equal(c->frames[0]->data.len, 4);
	assert_true(c->done);
	assert_int_equal(c->error_code, 0);
	/* The done chunk was read: a resent read (its reply lost) gets
	 * the same end again, not NOT_FOUND... */
	assert_ok(runtime_stream_read(ss, id, 0, 0, 0, &again, &err), &err);
	assert_int_equal(again->n_frames, 3);
	assert_true(again->done);
	chunk_free(again);
	again = NULL;
	assert_ok(runtime_stream_read(ss, id, 3, 0, 0, &again, &err), &err);
	assert_int_equal(again->n_frames, 0);
	assert_true(again->done);
	chunk_free(again);
	/* ... and a closed one is gone at once. */
	assert_ok(runtime_stream_close(ss, id, &err), &err);
	assert_int_equal(runtime_stream_read(ss, id, 3, 0, 0, &again, &err),
	                 BERTH_ENOTFOUND);
	chunk_free(c);
	WAIT_FOR(runtime_streams_count(ss) == 0, 3000);
	assert_int_equal(runtime_streams_count(ss), 0);
	runtime_streams_free(ss);
}

static void test_resent_read_gets_same_frames(void **state)
{
	struct runtime_streams *ss = runtime_streams_new();
	struct prod p = { .mode = WAIT_CANCEL };
	char id[RUNTIME_STREAM_ID_LEN + 1];
	Berth__V1__StreamChunk *a = NULL, *b = NULL, *c = NULL;
	struct berth_err err;

	(void)state;
	p.mode = PUSH_N;
	p.count = 2;
	p.size = 3;
	assert_ok(runtime_stream_open(ss, run, &p, NULL, id, &err), &err);
	WAIT_FOR(atomic_load(&p.pushed) == 2, 2000);
	/* max_bytes 1: one frame a chunk. */
	assert_ok(runtime_stream_read(ss, id, 0, 100, 1, &a, &err), &err);
	assert_ok(runtime_stream_read(ss, id, 0, 100, 1, &b, &err), &err);
	assert_int_equal(a->n_frames, 1);
	assert_int_equal(b->n_frames, 1);
	assert_int_equal(a->frames[0]->seq, b->frames[0]->seq);
	assert_ok(
	    runtime_stream_read(ss, id, a->frames[0]->seq, 100, 1, &c, &err),
	    &err);
	assert_int_equal(c->n_frames, 1);
	assert_int_equal(c->frames[0]->seq, 2);
	chunk_free(a);
	chunk_free(b);
	chunk_free(c);
	runtime_streams_free(ss);
}

static void test_long_poll_wakes_at_once(void **state)
{
	struct runtime_streams *ss = runtime_streams_new();
	struct prod p = { .mode = PUSH_THEN_WAIT, .size = 5, .delay_ms = 300 };
	char id[RUNTIME_STREAM_ID_LEN + 1];
	Berth__V1__StreamChunk *c = NULL, *empty = NULL;
	struct berth_err err;
	int64_t t0, took;

	(void)state;
	assert_ok(runtime_stream_open(ss, run, &p, NULL, id, &err), &err);
	t0 = berth_clock_mono_ms();
	assert_ok(runtime_stream_read(ss, id, 0, 1000, 0, &c, &err), &err);
	took = berth_clock_mono_ms() - t0;
	assert_int_equal(c->n_frames, 1);
	assert_false(c->done);
	/* Woken by the push at ~300 ms, not at the 1000 ms poll end
	 * (slack for a loaded machine). */
	assert_true(took >= 250);
	assert_true(took < 900);

	/* Nothing new: a poll returns empty after its wait. */
	t0 = berth_clock_mono_ms();
	assert_ok(runtime_stream_read(ss, id, c->frames[0]->seq, 200, 0, &empty,
	                              &err),
	          &err);
	took = berth_clock_mono_ms() - t0;
	assert_int_equal(empty->n_frames, 0);
	assert_false(empty->done);
	assert_true(took >= 180 && took < 900);
	chunk_free(c);
	chunk_free(empty);
	runtime_streams_free(ss);
	assert_true(atomic_load(&p.saw_cancel));
}

static void test_empty_poll_waits_its_time(void **state)
{
	struct runtime_streams *ss = runtime_streams_new();
	struct prod p = { .mode = WAIT_CANCEL };
	char id[RUNTIME_STREAM_ID_LEN + 1];
	Berth__V1__StreamChunk *c = NULL;
	struct berth_err err;
	int64_t t0, took;

	(void)state;
	assert_ok(runtime_stream_open(ss, run, &p, NULL, id, &err), &err);
	t0 = berth_clock_mono_ms();
	/* Asked for 5 s: capped at 1 s. */
	assert_ok(runtime_stream_read(ss, id, 0, 5000, 0, &c, &err), &err);
	took = berth_clock_mono_ms() - t0;
	assert_int_equal(c->n_frames, 0);
	assert_false(c->done);
	assert_true(took >= 900 && took < 2000);
	chunk_free(c);
	assert_ok(runtime_stream_close(ss, id, &err), &err);
	WAIT_FOR(atomic_load(&p.exited), 3000);
	assert_true(atomic_load(&p.saw_cancel));
	runtime_streams_free(ss);
}

static void test_back_pressure(void **state)
{
	struct runtime_streams *ss = runtime_streams_new();
	struct prod p = { .mode = PUSH_UNTIL_CANCEL, .size = 64 * 1024 };
	char id[RUNTIME_STREAM_ID_LEN + 1];
	Berth__V1__StreamChunk *c = NULL;
	struct berth_err err;
	int before;

	(void)state;
	assert_ok(runtime_stream_open(ss, run, &p, NULL, id, &err), &err);
	berth_sleep_ms(200);
	before = atomic_load(&p.pushed);
	/* 1 MiB buffered at most: 16 frames of 64 KiB. */
	assert_true(before >= 1 && before <= 16);
	berth_sleep_ms(100);
	assert_int_equal(atomic_load(&p.pushed), before);
	/* Reading and acknowledging makes room. */
	assert_ok(runtime_stream_read(ss, id, 0, 100, 0, &c, &err), &err);
	assert_true(c->n_frames >= 1);
	{
		uint64_t last = c->frames[c->n_frames - 1]->seq;
		Berth__V1__StreamChunk *d = NULL;

		chunk_free(c);
		assert_ok(runtime_stream_read(ss, id, last, 100, 0, &d, &err),
		          &err);
		chunk_free(d);
	}
	WAIT_FOR(atomic_load(&p.pushed) > before, 2000);
	assert_true(atomic_load(&p.pushed) > before);
	assert_ok(runtime_stream_close(ss, id, &err), &err);
	WAIT_FOR(atomic_load(&p.exited), 3000);
	assert_true(atomic_load(&p.saw_cancel));
	WAIT_FOR(runtime_streams_count(ss) == 0, 3000);
	assert_int_equal(runtime_streams_count(ss), 0);
	runtime_streams_free(ss);
}

static void test_error_reported_with_done(void **state)
{
	struct runtime_streams *ss = runtime_streams_new();
	struct prod p
	    = { .mode = PUSH_N, .count = 1, .size = 2, .ret = BERTH_ENOTFOUND };
	char id[RUNTIME_STREAM_ID_LEN + 1];
	Berth__V1__StreamChunk *c = NULL;
	struct berth_err err;

	(void)state;
	assert_ok(runtime_stream_open(ss, run, &p, NULL, id, &err), &err);
	WAIT_FOR(atomic_load(&p.exited), 2000);
	assert_ok(runtime_stream_read(ss, id, 0, 500, 0, &c, &err), &err);
	assert_int_equal(c->n_frames, 1);
	assert_true(c->done);
	assert_int_equal(c->error_code, BERTH__V1__CODE__NOT_FOUND);
	assert_non_null(strstr(c->error, "on purpose"));
	chunk_free(c);
	runtime_streams_free(ss);
}

struct seq_result {
	int explicit_rv, smaller_rv, equal_rv, next_rv;
	uint64_t last;
	atomic_bool exited;
};

/* Pushes with explicit seqs and reports an exit, as streamed exec does. */
static int seq_run(struct runtime_stream *s, void *arg, struct berth_err *err)
{
	struct seq_result *r = arg;

	(void)err;
	r->explicit_rv
	    = runtime_stream_push(s, BERTH_OUT_STDOUT, "a\n", 2, 1000, 1000);
	r->smaller_rv
	    = runtime_stream_push(s, BERTH_OUT_STDOUT, "b\n", 2, 999, 999);
	r->equal_rv
	    = runtime_stream_push(s, BERTH_OUT_STDOUT, "c\n", 2, 1000, 1000);
	r->next_rv = runtime_stream_push(s, BERTH_OUT_STDERR, "d\n", 2, 0, 0);
	r->last = runtime_stream_last_seq(s);
	runtime_stream_set_exit(s, 7, true);
	atomic_store(&r->exited, true);
	return 0;
}

static void test_exit_and_seq_rules(void **state)
{
	struct runtime_streams *ss = runtime_streams_new();
	struct seq_result r = { 0 };
	char id[RUNTIME_STREAM_ID_LEN + 1];
	Berth__V1__StreamChunk *c = NULL;
	struct berth_err err;

	(void)state;
	assert_ok(runtime_stream_open(ss, seq_run, &r, NULL, id, &err), &err);
	WAIT_FOR(atomic_load(&r.exited), 2000);
	assert_int_equal(r.explicit_rv, 0);
	assert_int_equal(r.smaller_rv, BERTH_EINVAL);
	assert_int_equal(r.equal_rv, BERTH_EINVAL);
	assert_int_equal(r.next_rv, 0);
	assert_int_equal(r.last, 1001);
	assert_ok(runtime_stream_read(ss, id, 0, 500, 0, &c, &err), &err);
	assert_int_equal(c->n_frames, 2);
	assert_int_equal(c->frames[0]->seq, 1000);
	assert_int_equal(c->frames[0]->time_ns, 1000);
	assert_int_equal(c->frames[1]->seq, 1001);
	assert_string_equal(c->frames[1]->stream, "stderr");
	assert_true(c->done);
	assert_true(c->has_exit);
	assert_int_equal(c->exit_code, 7);
	assert_true(c->timed_out);
	chunk_free(c);
	runtime_streams_free(ss);
}

/* arg_free runs after the producer, and also when opening fails. */
static atomic_int freed;

static void count_free(void *arg)
{
	(void)arg;
	atomic_fetch_add(&freed, 1);
}

static void test_arg_free_always_runs(void **state)
{
	struct runtime_streams *ss = runtime_streams_new();
	struct prod p = { .mode = PUSH_N, .count = 0 };
	char id[RUNTIME_STREAM_ID_LEN + 1];
	struct berth_err err;

	(void)state;
	atomic_store(&freed, 0);
	assert_ok(runtime_stream_open(ss, run, &p, count_free, id, &err), &err);
	WAIT_FOR(atomic_load(&freed) == 1, 2000);
	assert_int_equal(atomic_load(&freed), 1);
	runtime_streams_free(ss);
}

static void test_idle_stream_is_freed_without_calls(void **state)
{
	struct runtime_streams *ss = runtime_streams_new();
	struct prod p = { .mode = PUSH_UNTIL_CANCEL, .size = 128 * 1024 };
	struct prod q = { .mode = WAIT_CANCEL };
	struct prod r = { .mode = PUSH_N, .count = 2, .size = 8 };
	char id[RUNTIME_STREAM_ID_LEN + 1], id2[RUNTIME_STREAM_ID_LEN + 1],
	    id3[RUNTIME_STREAM_ID_LEN + 1];
	Berth__V1__StreamChunk *c = NULL;
	struct berth_err err;

	(void)state;
	runtime_streams_set_idle_ms(ss, 150);
	/* One blocked on a full buffer, one waiting in its engine call,
	 * one finished whose end nobody read. */
	assert_ok(runtime_stream_open(ss, run, &p, NULL, id, &err), &err);
	assert_ok(runtime_stream_open(ss, run, &q, NULL, id2, &err), &err);
	assert_ok(runtime_stream_open(ss, run, &r, NULL, id3, &err), &err);
	assert_int_equal(runtime_streams_count(ss), 3);
	/* Nobody calls: the reaper cancels and frees both. */
	WAIT_FOR(runtime_streams_count(ss) == 0, 3000);
	assert_int_equal(runtime_streams_count(ss), 0);
	assert_true(atomic_load(&p.exited));
	assert_true(atomic_load(&q.exited));
	assert_true(atomic_load(&r.exited));
	assert_true(atomic_load(&p.saw_cancel));
	assert_int_equal(runtime_stream_read(ss, id, 0, 0, 0, &c, &err),
	                 BERTH_ENOTFOUND);
	assert_null(c);
	runtime_streams_free(ss);
}

static void test_free_joins_running_producers(void **state)
{
	struct runtime_streams *ss = runtime_streams_new();
	struct prod p[4];
	char id[RUNTIME_STREAM_ID_LEN + 1];
	struct berth_err err;

	(void)state;
	for (int i = 0; i < 4; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		p[i].mode = i % 2 == 0 ? WAIT_CANCEL : PUSH_UNTIL_CANCEL;
		p[i].size = 512 * 1024;
		assert_ok(runtime_stream_open(ss, run, &p[i], NULL, id, &err),
		          &err);
	}
	berth_sleep_ms(50);
	runtime_streams_free(ss);
	for (int i = 0; i < 4; i++)
		assert_true(atomic_load(&p[i].exited));
}

static void test_unknown_and_closed_ids(void **state)
{
	struct runtime_streams *ss = runtime_streams_new();
	struct prod p = { .mode = WAIT_CANCEL };
	char id[RUNTIME_STREAM_ID_LEN + 1];
	Berth__V1__StreamChunk *c = NULL;
	struct berth_err err;

	(void)state;
	assert_int_equal(
	    runtime_stream_read(ss, "00000000-0000-4000-8000-000000000000", 0,
	                        0, 0, &c, &err),
	    BERTH_ENOTFOUND);
	assert_int_equal(runtime_stream_close(
	                     ss, "00000000-0000-4000-8000-000000000000", &err),
	                 BERTH_ENOTFOUND);
	assert_ok(runtime_stream_open(ss, run, &p, NULL, id, &err), &err);
	assert_ok(runtime_stream_close(ss, id, &err), &err);
	assert_int_equal(runtime_stream_close(ss, id, &err), BERTH_ENOTFOUND);
	assert_int_equal(runtime_stream_read(ss, id, 0, 0, 0, &c, &err),
	                 BERTH_ENOTFOUND);
	runtime_streams_free(ss);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frames_then_done),
		cmocka_unit_test(test_resent_read_gets_same_frames),
		cmocka_unit_test(test_long_poll_wakes_at_once),
		cmocka_unit_test(test_empty_poll_waits_its_time),
		cmocka_unit_test(test_back_pressure),
		cmocka_unit_test(test_error_reported_with_done),
		cmocka_unit_test(test_exit_and_seq_rules),
		cmocka_unit_test(test_arg_free_always_runs),
		cmocka_unit_test(test_idle_stream_is_freed_without_calls),
		cmocka_unit_test(test_free_joins_running_producers),
		cmocka_unit_test(test_unknown_and_closed_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
