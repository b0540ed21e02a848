/*
 * stream_relay.c: a runtime output stream relayed into a chunked HTTP
 * response (stream_relay.h).
 *
 * The relay is a small state machine driven from two sides: ReadStream
 * completions on nng threads and pump events on MHD threads, both under
 * the relay's own lock. At most one ReadStream is under way at a time;
 * the next starts when the previous chunk is in the pump, or when the
 * pump drained after refusing it (back-pressure). The relay is freed
 * when the pump has said GW_PUMP_CLOSED (delivered exactly once, always
 * last) and no call is under way: one reference for each.
 */
#include "gateway/stream_relay.h"

#include "gateway/pump.h"

#include "lib/alloc.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/validate.h"

#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* The long poll per ReadStream, and the RPC deadline around it. */
#define RELAY_POLL_MS    1000
#define RELAY_TIMEOUT_MS 15000
/* Data asked for per ReadStream (the runtime's default). */
#define RELAY_MAX_BYTES (256u * 1024u)
/* Transient failures (runtime restarting) retried in a row. */
#define RELAY_RETRIES 3
/* A formatted chunk: base64 and JSON escapes may grow data ~6x. */
#define RELAY_OUT_MAX (8u * 1024u * 1024u)

struct relay {
	struct berth_gateway *gw; /* borrowed; outlives its pumps */
	struct gw_pump *pump;     /* our reference */
	char id[64];
	char caller[64];
	enum gw_relay_format format;
	bool timestamps;

	pthread_mutex_t mu; /* guards everything below */
	int refs;
	uint64_t after_seq;
	int failures;       /* transient ReadStream failures in a row */
	bool in_flight;     /* a ReadStream is under way */
	bool closed;        /* GW_PUMP_CLOSED came */
	bool ended;         /* the stream ended (done or error) */
	bool finished;      /* gw_pump_finish() was called */
	bool waiting_drain; /* `pending` waits for GW_PUMP_DRAINED */
	char *pending;
	size_t pending_len;
	bool at_bol[3]; /* text: next byte of stdout/stderr starts a line */
};

static void relay_free(struct relay *r)
{
	gw_pump_release(r->pump);
	free(r->pending);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

/* Drops one reference; called with r->mu held, which it releases. */
static void unlock_unref(struct relay *r)
{
	bool last = --r->refs == 0;

	pthread_mutex_unlock(&r->mu);
	if (last)
		relay_free(r);
}

int gw_relay_parse_format(const char *s, enum gw_relay_format *out)
{
	if (s == NULL || strcmp(s, "ndjson") == 0) {
		*out = GW_RELAY_NDJSON;
		return 0;
	}
	if (strcmp(s, "text") == 0) {
		*out = GW_RELAY_TEXT;
		return 0;
	}
	return BERTH_EINVAL;
}

/* ------------------------------------------------------------ formats */

/* RFC 3339 UTC with nanoseconds: "2026-11-23T20:00:00.123456789Z". */
static void format_time(char *dst, size_t n, int64_t time_ns)
{
	time_t secs = (time_t)(time_ns / 1000000000LL);
	long frac = (long)(time_ns % 1000000000LL);
	struct tm tm;
	char base[32];

	if (gmtime_r(&secs, &tm) == NULL
	    || strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		snprintf(dst, n, "1970-01-01T00:00:00Z");
		return;
	}
	snprintf(dst, n, "%s.%09ldZ", base, frac);
}

static bool is_utf8(const unsigned char *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t k = berth_utf8_seq_len((const char *)p + i, len - i);

		if (k == 0)
			return false;
		i += k;
	}
	return true;
}

static char *base64(const unsigned char *p, size_t len)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                            "abcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = berth_malloc((len + 2) / 3 * 4 + 1);
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;

		if (i + 1 < len)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		out[o++] = alpha[(v >> 18) & 63];
		out[o++] = alpha[(v >> 12) & 63];
		out[o++] = i + 1 < len ? alpha[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? alpha[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

/* Appends `j` as one compact line; takes ownership of `j`. */
static int put_json_line(struct berth_buf *b, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	int rv;

	json_decref(j);
	if (s == NULL)
		return BERTH_EINTERNAL;
	rv = berth_buf_puts(b, s);
	if (rv == 0)
		rv = berth_buf_append(b, "\n", 1);
	free(s);
	return rv;
}

static int put_frame(struct relay *r, struct berth_buf *b,
                     const Berth__V1__OutputFrame *f)
{
	bool err_stream = strcmp(f->stream, "stderr") == 0;
	char when[48];
	int rv = 0;

	if (f->time_ns > 0)
		format_time(when, sizeof(when), f->time_ns);
	if (r->format == GW_RELAY_TEXT) {
		bool *bol = &r->at_bol[err_stream ? 2 : 1];

		if (r->timestamps && *bol && f->time_ns > 0) {
			rv = berth_buf_puts(b, when);
			if (rv == 0)
				rv = berth_buf_append(b, " ", 1);
		}
		if (rv == 0 && f->data.len > 0)
			rv = berth_buf_append(b, f->data.data, f->data.len);
		if (f->data.len > 0)
			*bol = f->data.data[f->data.len - 1] == '\n';
		return rv;
	}

	json_t *j = json_object();

	json_object_set_new(j, "seq", json_integer((json_int_t)f->seq));
	json_object_set_new(j, "stream",
	                    json_string(err_stream ? "stderr" : "stdout"));
	if (f->time_ns > 0)
		json_object_set_new(j, "time", json_string(when));
	if (is_utf8(f->data.data, f->data.len)) {
		json_object_set_new(
		    j, "data",
		    json_stringn((const char *)f->data.data, f->data.len));
	} else {
		char *b64 = base64(f->data.data, f->data.len);

		json_object_set_new(j, "data_base64", json_string(b64));
		free(b64);
	}
	return put_json_line(b, j);
}

/* The NDJSON end line. `code` / `msg`: why the stream ended early. */
static int put_done(struct relay *r, struct berth_buf *b,
                    const Berth__V1__StreamChunk *c, int code, const char *msg)
{
	json_t *j;

	if (r->format != GW_RELAY_NDJSON)
		return 0;
	j = json_object();
	json_object_set_new(j, "done", json_true());
	json_object_set_new(j, "last_seq",
	                    json_integer((json_int_t)r->after_seq));
	if (c != NULL && c->has_exit) {
		json_object_set_new(j, "exit_code", json_integer(c->exit_code));
		json_object_set_new(j, "timed_out", json_boolean(c->timed_out));
	}
	if (code != 0) {
		json_t *e = json_object();

		json_object_set_new(e, "code",
		                    json_string(berth_code_name(code)));
		json_object_set_new(
		    e, "message",
		    json_string(msg != NULL
		                        && is_utf8((const unsigned char *)msg,
		                                   strlen(msg))
		                    ? msg
		                    : berth_strerror(code)));
		json_object_set_new(j, "error", e);
	}
	return put_json_line(b, j);
}

/* ---------------------------------------------------------------- RPCs */

static void on_read_done(void *arg, int rv, ProtobufCMessage *output,
                         const struct berth_err *err);

static void on_close_done(void *arg, int rv, ProtobufCMessage *output,
                          const struct berth_err *err)
{
	(void)arg;
	(void)rv;
	(void)err;
	if (output != NULL)
		protobuf_c_message_free_unpacked(output, NULL);
}

/* Under r->mu: tells the runtime we stopped reading (best effort; the
 * runtime's idle expiry is the backstop). */
static void send_close(struct relay *r)
{
	Berth__V1__StreamRef ref = BERTH__V1__STREAM_REF__INIT;
	struct berth_rpc_opts o = { 0 };
	struct berth_err err;

	berth_err_clear(&err);
	ref.id = r->id;
	o.timeout_ms = 5000;
	o.idempotent = true;
	o.caller = r->caller;
	pthread_mutex_lock(&r->gw->mu);
	if (!r->gw->stopping)
		(void)berth_rpc_call_async(
		    r->gw->rpc, &berth__v1__runtime__descriptor, "CloseStream",
		    &ref.base, &o, on_close_done, NULL, &err);
	pthread_mutex_unlock(&r->gw->mu);
}

/* Under r->mu: starts the next ReadStream. Returns 0 or why not. */
static int start_read(struct relay *r, struct berth_err *err)
{
	Berth__V1__ReadStreamRequest req = BERTH__V1__READ_STREAM_REQUEST__INIT;
	struct berth_rpc_opts o = { 0 };
	int rv;

	req.id = r->id;
	req.after_seq = r->after_seq;
	req.max_wait_ms = RELAY_POLL_MS;
	req.max_bytes = RELAY_MAX_BYTES;
	o.timeout_ms = RELAY_TIMEOUT_MS;
	o.idempotent = true; /* after_seq makes a resent read safe */
	o.caller = r->caller;
	r->refs++;
	r->in_flight = true;
	pthread_mutex_lock(&r->gw->mu);
	if (r->gw->stopping)
		rv = berth_err_set_retryable(err, BERTH_EUNAVAIL,
		                             "the gateway is shutting down");
	else
		rv = berth_rpc_call_async(
		    r->gw->rpc, &berth__v1__runtime__descriptor, "ReadStream",
		    &req.base, &o, on_read_done, r, err);
	pthread_mutex_unlock(&r->gw->mu);
	if (rv != 0) {
		r->refs--;
		r->in_flight = false;
	}
	return rv;
}

/* Under r->mu: the stream ended; finish the response once all is in. */
static void finish_if_ready(struct relay *r)
{
	if (r->ended && !r->waiting_drain && !r->finished) {
		r->finished = true;
		gw_pump_finish(r->pump);
	}
}

/* Under r->mu: writes `b` to the pump, or keeps it for GW_PUMP_DRAINED.
 * Then goes on: finishes, or reads the next chunk. */
static void deliver(struct relay *r, struct berth_buf *b)
{
	struct berth_err err;
	int rv = 0;

	berth_err_clear(&err);
	if (b->len > 0) {
		rv = gw_pump_write(r->pump, b->data, b->len);
		if (rv == BERTH_ELIMIT) {
			size_t n = 0;

			r->pending = berth_buf_steal(b, &n);
			r->pending_len = n;
			r->waiting_drain = true;
			berth_log(BERTH_LOG_DEBUG, "relay_backpressure",
			          "stream=%s pending=%zu", r->id, n);
			return;
		}
		if (rv != 0)
			return; /* the client left: GW_PUMP_CLOSED is due */
	} else if (!r->ended) {
		/* Nothing came: let the pump look at the idle client; one
		 * that left brings GW_PUMP_CLOSED. */
		gw_pump_poke(r->pump);
	}
	if (r->ended) {
		finish_if_ready(r);
		return;
	}
	rv = start_read(r, &err);
	if (rv != 0) {
		struct berth_buf end;

		berth_buf_init(&end, RELAY_OUT_MAX);
		r->ended = true;
		if (put_done(r, &end, NULL, rv, err.msg) == 0 && end.len > 0)
			(void)gw_pump_write(r->pump, end.data, end.len);
		berth_buf_fini(&end);
		finish_if_ready(r);
	}
}

static void on_read_done(void *arg, int rv, ProtobufCMessage *output,
                         const struct berth_err *err)
{
	struct relay *r = arg;
	const Berth__V1__StreamChunk *c
	    = rv == 0 ? (const Berth__V1__StreamChunk *)output : NULL;
	struct berth_buf b;
	int frv = 0;

	berth_buf_init(&b, RELAY_OUT_MAX);
	pthread_mutex_lock(&r->mu);
	r->in_flight = false;
	if (r->closed) {
		/* The client left while we waited: free the runtime side. */
		if (c == NULL || !c->done)
			send_close(r);
		goto out;
	}
	if (rv != 0) {
		bool transient = rv == BERTH_ETIMEDOUT
		    || (rv == BERTH_EUNAVAIL && err != NULL && err->retryable);

		if (transient && ++r->failures < RELAY_RETRIES) {
			deliver(r, &b); /* empty: pokes, then reads again */
			goto out;
		}
		r->ended = true;
		frv = put_done(r, &b, NULL, rv, err != NULL ? err->msg : NULL);
		if (frv == 0)
			deliver(r, &b);
		else
			finish_if_ready(r);
		goto out;
	}
	r->failures = 0;
	for (size_t i = 0; frv == 0 && i < c->n_frames; i++) {
		frv = put_frame(r, &b, c->frames[i]);
		if (c->frames[i]->seq > r->after_seq)
			r->after_seq = c->frames[i]->seq;
	}
	if (frv == 0 && c->done) {
		r->ended = true;
		frv = put_done(r, &b, c, -(int)c->error_code, c->error);
	}
	if (frv != 0) {
		/* Cannot happen with sane caps; end rather than loop. */
		berth_log(BERTH_LOG_DEBUG, "relay_format_failed", "stream=%s",
		          r->id);
		if (!c->done)
			send_close(r);
		r->ended = true;
		berth_buf_reset(&b);
	}
	deliver(r, &b);
out:
	unlock_unref(r);
	berth_buf_fini(&b);
	if (output != NULL)
		protobuf_c_message_free_unpacked(output, NULL);
}

/* ------------------------------------------------------- pump events */

static void on_pump_event(void *arg, enum gw_pump_event ev)
{
	struct relay *r = arg;

	pthread_mutex_lock(&r->mu);
	if (ev == GW_PUMP_DRAINED) {
		if (r->waiting_drain && !r->closed) {
			int rv = gw_pump_write(r->pump, r->pending,
			                       r->pending_len);

			if (rv != BERTH_ELIMIT) {
				struct berth_buf empty;

				free(r->pending);
				r->pending = NULL;
				r->pending_len = 0;
				r->waiting_drain = false;
				if (rv == 0) {
					/* Goes on; nothing new to write. */
					berth_buf_init(&empty, 1);
					if (r->ended)
						finish_if_ready(r);
					else
						deliver(r, &empty);
					berth_buf_fini(&empty);
				}
			}
		}
		pthread_mutex_unlock(&r->mu);
		return;
	}
	/* GW_PUMP_CLOSED: delivered once, and last. */
	r->closed = true;
	if (!r->in_flight && !r->ended)
		send_close(r);
	unlock_unref(r);
}

void gw_relay_start(struct gw_req *rq, const char *stream_id,
                    const struct gw_relay_opts *opts)
{
	struct gw_relay_opts def = { 0 };
	struct relay *r = berth_calloc(1, sizeof(*r));
	struct berth_buf empty;

	if (opts == NULL)
		opts = &def;
	r->gw = rq->gw;
	snprintf(r->id, sizeof(r->id), "%s", stream_id);
	snprintf(r->caller, sizeof(r->caller), "%s", rq->caller);
	r->format = opts->format;
	r->timestamps = opts->timestamps;
	r->after_seq = opts->after_seq;
	r->at_bol[1] = r->at_bol[2] = true;
	pthread_mutex_init(&r->mu, NULL);
	r->refs = 1; /* GW_PUMP_CLOSED's */
	berth_buf_init(&empty, RELAY_OUT_MAX);
	/* Locked before the pump exists: a gateway stop may end the pump
	 * (GW_PUMP_CLOSED, which takes r->mu) the moment it is listed, and
	 * must find r->pump set and this start finished. */
	pthread_mutex_lock(&r->mu);
	r->pump = gw_pump_start(rq, opts->status > 0 ? opts->status : 200,
	                        r->format == GW_RELAY_TEXT
	                            ? "text/plain; charset=utf-8"
	                            : "application/x-ndjson",
	                        on_pump_event, r);
	/* The first read. */
	r->ended = false;
	deliver(r, &empty);
	pthread_mutex_unlock(&r->mu);
	berth_buf_fini(&empty);
}
