/*
 * test_unit_mux.c: the parser of the engine's stdout/stderr framing
 * (lib/engine_mux.c): frames split at every byte boundary, interleaved
 * streams, empty frames, stdin echoed as stdout, a bad stream byte, raw
 * (TTY) mode and a callback that stops the parse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/buf.h"
#include "lib/engine_mux.h"
#include "lib/error.h"

#include <string.h>

/* What the callbacks saw: the bytes per stream, and the order of the
 * streams (one letter per change of stream: "oeo"). */
struct seen {
	struct berth_buf out[3];
	char order[64];
	size_t norder;
	int calls;
	int stop_after; /* > 0: answer 7 on that call */
};

static void seen_init(struct seen *s)
{
	memset(s, 0, sizeof(*s));
	berth_buf_init(&s->out[1], 1 << 20);
	berth_buf_init(&s->out[2], 1 << 20);
}

static void seen_fini(struct seen *s)
{
	berth_buf_fini(&s->out[1]);
	berth_buf_fini(&s->out[2]);
}

static int on_piece(void *arg, enum berth_output_stream st, const char *data,
                    size_t len)
{
	struct seen *s = arg;
	char c = st == BERTH_OUT_STDERR ? 'e' : 'o';

	s->calls++;
	if (s->stop_after > 0 && s->calls == s->stop_after)
		return 7;
	assert_true(st == BERTH_OUT_STDOUT || st == BERTH_OUT_STDERR);
	assert_int_equal(berth_buf_append(&s->out[st], data, len), 0);
	if (len > 0 && (s->norder == 0 || s->order[s->norder - 1] != c)
	    && s->norder + 1 < sizeof(s->order))
		s->order[s->norder++] = c;
	return 0;
}

/* Appends one frame to `b`. */
static void frame(struct berth_buf *b, unsigned char stream, const char *p,
                  size_t len)
{
	unsigned char h[8] = { stream,
		               0,
		               0,
		               0,
		               (unsigned char)(len >> 24),
		               (unsigned char)(len >> 16),
		               (unsigned char)(len >> 8),
		               (unsigned char)len };

	assert_int_equal(berth_buf_append(b, h, sizeof(h)), 0);
	if (len > 0)
		assert_int_equal(berth_buf_append(b, p, len), 0);
}

/* The sample: stdout, stderr, an empty frame, stdin (as stdout), stdout. */
static void sample(struct berth_buf *b)
{
	berth_buf_init(b, 4096);
	frame(b, 1, "out-1\n", 6);
	frame(b, 2, "err-1\n", 6);
	frame(b, 2, "", 0);
	frame(b, 0, "in", 2);
	frame(b, 1, "out-2\n", 6);
}

static void check_sample(const struct seen *s)
{
	assert_int_equal(s->out[1].len, 14);
	assert_memory_equal(s->out[1].data, "out-1\ninout-2\n", 14);
	assert_int_equal(s->out[2].len, 6);
	assert_memory_equal(s->out[2].data, "err-1\n", 6);
	assert_int_equal(s->norder, 3);
	assert_memory_equal(s->order, "oeo", 3);
}

static void test_whole(void **state)
{
	struct berth_buf b;
	struct berth_mux m;
	struct seen s;

	(void)state;
	sample(&b);
	seen_init(&s);
	berth_mux_init(&m, false);
	assert_int_equal(berth_mux_feed(&m, b.data, b.len, on_piece, &s), 0);
	assert_true(berth_mux_at_boundary(&m));
	check_sample(&s);
	seen_fini(&s);
	berth_buf_fini(&b);
}

/* Two chunks, split at every byte boundary. */
static void test_every_split(void **state)
{
	struct berth_buf b;

	(void)state;
	sample(&b);
	for (size_t cut = 0; cut <= b.len; cut++) {
		struct berth_mux m;
		struct seen s;

		seen_init(&s);
		berth_mux_init(&m, false);
		assert_int_equal(berth_mux_feed(&m, b.data, cut, on_piece, &s),
		                 0);
		assert_int_equal(
		    berth_mux_feed(&m, b.data + cut, b.len - cut, on_piece, &s),
		    0);
		assert_true(berth_mux_at_boundary(&m));
		check_sample(&s);
		seen_fini(&s);
	}
	berth_buf_fini(&b);
}

/* One byte at a time; the boundary is reported exactly between frames. */
static void test_byte_by_byte(void **state)
{
	struct berth_buf b;
	struct berth_mux m;
	struct seen s;

	(void)state;
	sample(&b);
	seen_init(&s);
	berth_mux_init(&m, false);
	for (size_t i = 0; i < b.len; i++) {
		assert_int_equal(
		    berth_mux_feed(&m, b.data + i, 1, on_piece, &s), 0);
		/* Frame ends: after 14, 28, 36 (empty), 46 and 60 bytes. */
		bool end = i + 1 == 14 || i + 1 == 28 || i + 1 == 36
		    || i + 1 == 46 || i + 1 == 60;

		assert_int_equal(berth_mux_at_boundary(&m), end);
	}
	check_sample(&s);
	seen_fini(&s);
	berth_buf_fini(&b);
}

static void test_bad_stream_byte(void **state)
{
	struct berth_buf b;
	struct berth_mux m;
	struct seen s;

	(void)state;
	berth_buf_init(&b, 256);
	frame(&b, 1, "ok", 2);
	frame(&b, 3, "bad", 3);
	seen_init(&s);
	berth_mux_init(&m, false);
	assert_int_equal(berth_mux_feed(&m, b.data, b.len, on_piece, &s),
	                 BERTH_EINVAL);
	/* What came before the bad header was delivered. */
	assert_int_equal(s.out[1].len, 2);
	seen_fini(&s);
	berth_buf_fini(&b);

	/* Plain text where a header should be ('H' = 72). */
	seen_init(&s);
	berth_mux_init(&m, false);
	assert_int_equal(
	    berth_mux_feed(&m, "HTTP/1.1 200 OK\r\n", 17, on_piece, &s),
	    BERTH_EINVAL);
	assert_int_equal(s.calls, 0);
	seen_fini(&s);
}

static void test_large_frame_in_pieces(void **state)
{
	enum { N = 300000 };
	static char big[N];
	struct berth_buf b;
	struct berth_mux m;
	struct seen s;
	size_t step = 4093;

	(void)state;
	memset(big, 'x', sizeof(big));
	berth_buf_init(&b, N + 64);
	frame(&b, 2, big, N);
	seen_init(&s);
	berth_mux_init(&m, false);
	for (size_t i = 0; i < b.len; i += step) {
		size_t n = b.len - i < step ? b.len - i : step;

		assert_int_equal(
		    berth_mux_feed(&m, b.data + i, n, on_piece, &s), 0);
	}
	assert_true(berth_mux_at_boundary(&m));
	assert_int_equal(s.out[2].len, N);
	assert_int_equal(s.out[1].len, 0);
	seen_fini(&s);
	berth_buf_fini(&b);
}

static void test_raw_mode(void **state)
{
	struct berth_mux m;
	struct seen s;

	(void)state;
	seen_init(&s);
	berth_mux_init(&m, true);
	/* Bytes that would be a bad header are plain stdout in raw mode. */
	assert_int_equal(berth_mux_feed(&m, "\x03\0\0\0abc", 7, on_piece, &s),
	                 0);
	assert_int_equal(berth_mux_feed(&m, "", 0, on_piece, &s), 0);
	assert_int_equal(s.out[1].len, 7);
	assert_int_equal(s.calls, 1);
	assert_true(berth_mux_at_boundary(&m));
	seen_fini(&s);
}

static void test_callback_stops(void **state)
{
	struct berth_buf b;
	struct berth_mux m;
	struct seen s;

	(void)state;
	sample(&b);
	seen_init(&s);
	s.stop_after = 2;
	berth_mux_init(&m, false);
	assert_int_equal(berth_mux_feed(&m, b.data, b.len, on_piece, &s), 7);
	assert_int_equal(s.calls, 2);
	assert_int_equal(s.out[2].len, 0);
	seen_fini(&s);
	berth_buf_fini(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole),
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_byte_by_byte),
		cmocka_unit_test(test_bad_stream_byte),
		cmocka_unit_test(test_large_frame_in_pieces),
		cmocka_unit_test(test_raw_mode),
		cmocka_unit_test(test_callback_stops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
