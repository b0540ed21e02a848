/*
 * engine_docker_logs.c: the Docker driver's container logs
 * (GET /containers/{id}/logs), also used by the Podman driver.
 *
 * Logs are always asked for with timestamps=1, so every message starts
 * with its RFC 3339 time and a space (Docker: nine fraction digits;
 * Podman: trailing zeros trimmed, or no fraction at all). The time is
 * parsed and stripped here; the caller gets whole lines with their time.
 *
 * Without a TTY the body is the 8-byte framing (engine_mux.h) and each
 * frame is one log message: a line, or a piece of a long line (engines
 * split lines at 16 KiB into "partial" messages, each with its own
 * timestamp). Pieces are reassembled per stream into lines of at most
 * LOG_LINE_MAX bytes; a longer line is delivered in pieces of that size.
 * With a TTY there is no framing: the time is expected after each
 * newline (so a partial message's timestamp cannot be told from data in
 * that mode and stays in the line).
 *
 * With follow the stream has no overall timeout: the caller's tick,
 * about once a second, is the way to abandon it. Podman sends no headers
 * until the first line; the tick runs meanwhile too, so no first-byte
 * timeout is needed.
 */
#include "lib/engine_docker_internal.h"

#include "lib/alloc.h"
#include "lib/engine_http.h"
#include "lib/engine_mux.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One delivered line at most; longer lines come in pieces. */
#define LOG_LINE_MAX (256u * 1024u)
/* "2026-11-23T20:00:00.123456789+01:00" and some slack. */
#define TS_MAX 48
/* Non-follow reads end within this; follow is bounded by the tick. */
#define LOGS_TOTAL_MS (30L * 60L * 1000L)
#define FOREVER_MS    (10L * 365L * 24L * 3600L * 1000L)

/* Per-stream reassembly state (index 1 = stdout, 2 = stderr). */
struct line_state {
	struct berth_buf line;
	int64_t line_time; /* time of the line's first piece */
	int64_t msg_time;  /* time of the current message */
	bool expect_ts;    /* the next bytes are a timestamp */
	char ts[TS_MAX];
	size_t ts_len;
};

struct logs_state {
	struct berth_mux mux;
	bool raw;
	struct line_state ls[3];
	berth_engine_output_fn out;
	berth_engine_tick_fn tick;
	void *arg;
	bool stopped; /* out or tick said stop */
};

/* Parses 2 decimal digits at `s`; -1 when they are not digits. */
static int dig2(const char *s)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return -1;
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's
 * days_from_civil; no timegm() and no time zone involved). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

/*
 * Parses RFC 3339 ("2026-11-23T20:00:00Z", with an optional fraction of
 * any length and a "Z" or "+hh:mm" offset) of exactly `len` bytes into
 * unix nanoseconds. Returns 0 or BERTH_EINVAL.
 */
static int parse_rfc3339(const char *s, size_t len, int64_t *out)
{
	int y1, y2, mo, d, h, mi, se, oh = 0, om = 0, sign = 0;
	int64_t frac = 0, scale = 100000000, days, t;
	size_t i = 19;

	if (len < 20 || s[4] != '-' || s[7] != '-'
	    || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
		return BERTH_EINVAL;
	y1 = dig2(s);
	y2 = dig2(s + 2);
	mo = dig2(s + 5);
	d = dig2(s + 8);
	h = dig2(s + 11);
	mi = dig2(s + 14);
	se = dig2(s + 17);
	if (y1 < 0 || y2 < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0
	    || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60)
		return BERTH_EINVAL;
	if (s[i] == '.') {
		i++;
		if (i >= len || s[i] < '0' || s[i] > '9')
			return BERTH_EINVAL;
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
			frac += (s[i] - '0') * scale;
			scale /= 10;
		}
	}
	if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i + 6 == len && (s[i] == '+' || s[i] == '-')
	           && s[i + 3] == ':') {
		sign = s[i] == '+' ? 1 : -1;
		oh = dig2(s + i + 1);
		om = dig2(s + i + 4);
		if (oh < 0 || oh > 23 || om < 0 || om > 59)
			return BERTH_EINVAL;
		i += 6;
	} else {
		return BERTH_EINVAL;
	}
	if (i != len)
		return BERTH_EINVAL;
	days = days_from_civil(y1 * 100 + y2, mo, d);
	t = days * 86400 + h * 3600 + mi * 60 + se;
	t -= (int64_t)sign * (oh * 3600 + om * 60);
	*out = t * 1000000000LL + frac;
	return 0;
}

/* Delivers the line being assembled (if any) and empties it. */
static int emit(struct logs_state *st, enum berth_output_stream which)
{
	struct line_state *ls = &st->ls[which];
	int rv;

	if (ls->line.len == 0)
		return 0;
	rv = st->out(st->arg, which, ls->line.data, ls->line.len,
	             ls->line_time);
	berth_buf_reset(&ls->line);
	if (rv != 0) {
		st->stopped = true;
		return BERTH_ECANCELLED;
	}
	return 0;
}

/* Appends data bytes (no timestamp in them) to the stream's line,
 * delivering each line or LOG_LINE_MAX piece as it completes. */
static int add_data(struct logs_state *st, enum berth_output_stream which,
                    const char *p, size_t n)
{
	struct line_state *ls = &st->ls[which];
	int rv;

	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t seg = nl != NULL ? (size_t)(nl - p) + 1 : n;
		size_t room = LOG_LINE_MAX - ls->line.len;
		bool full = false;

		if (seg > room) {
			seg = room;
			full = true;
		}
		if (ls->line.len == 0)
			ls->line_time = ls->msg_time;
		rv = berth_buf_append(&ls->line, p, seg);
		if (rv != 0)
			return rv; /* cannot happen: room was checked */
		p += seg;
		n -= seg;
		if (full || ls->line.data[ls->line.len - 1] == '\n') {
			bool was_line = !full;

			rv = emit(st, which);
			if (rv != 0)
				return rv;
			/* Without framing the next message starts after a
			 * newline, with its timestamp. */
			if (st->raw && was_line)
				ls->expect_ts = true;
		}
	}
	return 0;
}

/* Ends the timestamp prefix in ls->ts: parsed, or kept as data. */
static int end_ts(struct logs_state *st, enum berth_output_stream which,
                  bool parsed_ok, int64_t t)
{
	struct line_state *ls = &st->ls[which];
	size_t n = ls->ts_len;

	ls->expect_ts = false;
	ls->ts_len = 0;
	if (parsed_ok) {
		ls->msg_time = t;
		return 0;
	}
	ls->msg_time = 0;
	return add_data(st, which, ls->ts, n);
}

/* Bytes of one message (or a piece of it) for one stream. */
static int feed_stream(struct logs_state *st, enum berth_output_stream which,
                       const char *p, size_t n)
{
	struct line_state *ls = &st->ls[which];
	int rv;

	while (n > 0 && ls->expect_ts) {
		if (*p == ' ') {
			int64_t t = 0;
			bool ok = parse_rfc3339(ls->ts, ls->ts_len, &t) == 0;

			p++;
			n--;
			if (!ok) {
				/* Not a time: the space was data too. */
				rv = end_ts(st, which, false, 0);
				if (rv == 0)
					rv = add_data(st, which, " ", 1);
				if (rv != 0)
					return rv;
				continue;
			}
			rv = end_ts(st, which, true, t);
			if (rv != 0)
				return rv;
			continue;
		}
		if (ls->ts_len == sizeof(ls->ts) || *p == '\n') {
			rv = end_ts(st, which, false, 0);
			if (rv != 0)
				return rv;
			continue;
		}
		ls->ts[ls->ts_len++] = *p++;
		n--;
	}
	return n > 0 ? add_data(st, which, p, n) : 0;
}

static int on_mux(void *arg, enum berth_output_stream which, const char *data,
                  size_t len)
{
	struct logs_state *st = arg;

	if (!st->raw) {
		const unsigned char *h = st->mux.hdr;
		uint32_t frame_len = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16
		    | (uint32_t)h[6] << 8 | (uint32_t)h[7];

		/* A frame's first piece: a new message, time first. */
		if (st->mux.left == frame_len)
			st->ls[which].expect_ts = true;
	}
	return feed_stream(st, which, data, len);
}

static int on_chunk(void *arg, const char *data, size_t len)
{
	struct logs_state *st = arg;
	int rv = berth_mux_feed(&st->mux, data, len, on_mux, st);

	if (rv > 0)
		rv = BERTH_ECANCELLED;
	return rv;
}

static int on_tick(void *arg)
{
	struct logs_state *st = arg;

	if (st->tick == NULL || st->tick(st->arg) == 0)
		return 0;
	st->stopped = true;
	return BERTH_ECANCELLED;
}

/* Whether the container was created with a TTY (its logs are raw). */
static int container_tty(struct berth_engine *e, const char *id, bool *tty,
                         struct berth_err *err)
{
	struct docker_reply r;
	json_t *j = NULL;
	char *esc = berth_http_escape(id);
	char *path = berth_asprintf("/containers/%s/json", esc);
	char *what = docker_what_container("read logs of", id);
	int rv;

	docker_reply_init(&r);
	rv = docker_call(e, "GET", path, NULL, 0, &r, err);
	if (rv != 0)
		goto out;
	if (r.status < 200 || r.status >= 300) {
		rv = docker_map_status(&r, BERTH_EPRECOND, what, err);
		goto out;
	}
	rv = docker_parse_json(&r, &j, what, err);
	if (rv != 0)
		goto out;
	*tty = json_is_true(
	    json_object_get(json_object_get(j, "Config"), "Tty"));
out:
	json_decref(j);
	docker_reply_fini(&r);
	free(what);
	free(path);
	free(esc);
	return rv;
}

/* Appends "&key=S.NNNNNNNNN" for a unix ms time. */
static void put_time_arg(struct berth_buf *q, const char *key, int64_t ms)
{
	char tmp[80];

	snprintf(tmp, sizeof(tmp), "&%s=%" PRId64 ".%09" PRId64, key, ms / 1000,
	         (ms % 1000) * 1000000);
	(void)berth_buf_puts(q, tmp);
}

int docker_logs(struct berth_engine *e, const char *id,
                const struct berth_logs_opts *opts, berth_engine_output_fn out,
                berth_engine_tick_fn tick, void *arg, struct berth_err *err)
{
	struct logs_state st;
	struct berth_buf errbody, q;
	struct berth_http_req req = { 0 };
	struct berth_http_stream_limits limits = { 0 };
	bool both = !opts->stdout_ && !opts->stderr_, tty = false;
	char *esc = NULL, *path = NULL, tmp[64];
	long status = 0;
	int rv;

	memset(&st, 0, sizeof(st));
	berth_buf_init(&errbody, BERTH_HTTP_ERRBODY_MAX);
	berth_buf_init(&q, 4096);
	for (int i = 1; i <= 2; i++)
		berth_buf_init(&st.ls[i].line, LOG_LINE_MAX);
	rv = docker_check_id(id, err);
	if (rv != 0)
		goto out;
	rv = container_tty(e, id, &tty, err);
	if (rv != 0)
		goto out;
	st.raw = tty;
	berth_mux_init(&st.mux, tty);
	st.ls[1].expect_ts = st.ls[2].expect_ts = true;
	st.out = out;
	st.tick = tick;
	st.arg = arg;

	(void)berth_buf_puts(&q, "?timestamps=1");
	(void)berth_buf_puts(&q, opts->follow ? "&follow=1" : "&follow=0");
	(void)berth_buf_puts(&q,
	                     both || opts->stdout_ ? "&stdout=1" : "&stdout=0");
	(void)berth_buf_puts(&q,
	                     both || opts->stderr_ ? "&stderr=1" : "&stderr=0");
	if (opts->since_unix_ms > 0)
		put_time_arg(&q, "since", opts->since_unix_ms);
	if (opts->until_unix_ms > 0)
		put_time_arg(&q, "until", opts->until_unix_ms);
	if (opts->tail > 0)
		snprintf(tmp, sizeof(tmp), "&tail=%d", opts->tail);
	else
		snprintf(tmp, sizeof(tmp), "&tail=%s",
		         opts->tail < 0 ? "0" : "all");
	(void)berth_buf_puts(&q, tmp);
	esc = berth_http_escape(id);
	path = berth_asprintf(API "/containers/%s/logs%s", esc, q.data);
	req.method = "GET";
	req.path = path;
	limits.total_ms = opts->follow ? FOREVER_MS : LOGS_TOTAL_MS;
	limits.low_speed_bytes = 1;
	limits.low_speed_s = opts->follow ? FOREVER_MS / 1000 : 300;
	limits.tick = on_tick;
	rv = berth_http_stream(berth_engine_http_target(e), &req, &limits,
	                       on_chunk, &st, &status, &errbody, err);
	if (st.stopped) {
		rv = berth_err_set(err, BERTH_ECANCELLED,
		                   "log stream stopped by the caller");
		goto out;
	}
	if (rv != 0)
		goto out;
	if (status < 200 || status >= 300) {
		struct docker_reply r;
		char *what = docker_what_container("read logs of", id);

		docker_reply_of_stream(&r, status, &errbody);
		rv = docker_map_status(&r, BERTH_EPRECOND, what, err);
		docker_reply_fini(&r);
		free(what);
		goto out;
	}
	/* The end: what is left of unfinished lines goes out as is. */
	for (int i = 1; i <= 2 && rv == 0; i++) {
		struct line_state *ls = &st.ls[i];

		if (ls->ts_len > 0)
			rv = end_ts(&st, (enum berth_output_stream)i, false, 0);
		if (rv == 0)
			rv = emit(&st, (enum berth_output_stream)i);
	}
	if (rv != 0)
		rv = berth_err_set(err, BERTH_ECANCELLED,
		                   "log stream stopped by the caller");
out:
	for (int i = 1; i <= 2; i++)
		berth_buf_fini(&st.ls[i].line);
	berth_buf_fini(&q);
	berth_buf_fini(&errbody);
	free(path);
	free(esc);
	return rv;
}
