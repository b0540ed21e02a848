/*
 * streams.c: the runtime's open output streams (streams.h): a registry
 * of streams by UUID, each with a producer thread, a bounded frame
 * buffer and long-poll reads.
 *
 * Why one registry lock: every operation is short (queue append, id
 * lookup among at most RUNTIME_STREAMS_MAX), and one lock keeps the
 * lifecycle rules simple. Each stream has two condition variables:
 * `readable` (a frame arrived or the stream ended: wakes a waiting
 * ReadStream at once, so follow latency is not a polling interval) and
 * `writable` (the reader acknowledged frames or the stream was
 * cancelled: wakes a producer blocked on a full buffer).
 *
 * Frames stay buffered until a later read acknowledges them with its
 * after_seq, so a ReadStream resent after a lost reply gets the same
 * frames again.
 *
 * Lifecycle: a stream is "listed" (found by id) from open until its
 * done chunk is read, it is closed, or it sits unread for the idle
 * time. An unlisted stream is cancelled; once its producer has returned,
 * the reaper thread joins that thread and frees the stream. The reaper
 * also checks idle expiry every quarter idle time (at most every
 * second), so a forgotten stream is freed even if nobody calls again.
 */
#include "services/runtime/streams.h"

#include "lib/alloc.h"
#include "lib/clock.h"
#include "lib/jobs.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Data buffered per stream before the producer blocks. */
#define STREAM_BUF_MAX (1024u * 1024u)
/* Longest long poll. */
#define READ_WAIT_MAX_MS 1000
/* ReadStream max_bytes: default and ceiling (nng messages are 4 MiB). */
#define READ_BYTES_DEFAULT (256u * 1024u)
#define READ_BYTES_MAX     (1024u * 1024u)
/* A producer blocked on a full buffer looks again this often. */
#define PUSH_WAIT_MS 1000

struct frame {
	struct frame *next;
	uint64_t seq;
	enum berth_output_stream which;
	int64_t time_ns;
	size_t len;
	char data[]; /* len bytes */
};

/* How long a drained stream (its done chunk read) stays readable for a
 * resent read before the reaper frees it. */
#define DRAINED_KEEP_MS 5000

struct runtime_stream {
	struct runtime_streams *ss;
	struct runtime_stream *next; /* ss->all */
	char id[RUNTIME_STREAM_ID_LEN + 1];
	pthread_t thread;
	bool thread_started;
	runtime_stream_run_fn run;
	void *arg;
	void (*arg_free)(void *arg);

	/* Under ss->mu. */
	pthread_cond_t readable, writable;
	struct frame *head, *tail;
	size_t buffered; /* data bytes in the queue */
	uint64_t last_seq;
	bool listed;    /* found by id */
	bool cancelled; /* the producer should stop */
	bool finished;  /* the producer returned */
	bool drained;   /* its done chunk was read (kept for a resend) */
	int readers;    /* reads under way (a waiting read is not idle) */
	int64_t last_read_ms;
	int error_code;
	char error[BERTH_ERR_MSG_MAX];
	bool has_exit, timed_out;
	int exit_code;
};

struct runtime_streams {
	pthread_mutex_t mu;
	pthread_cond_t reap; /* wakes the reaper */
	pthread_t reaper;
	bool reaper_started;
	bool stopping;
	int idle_ms;
	struct runtime_stream *all; /* listed or not yet reaped */
	size_t count;
};

static void cond_init_mono(pthread_cond_t *c)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
}

/* Waits on `c` until the monotonic time `deadline_ms` at most. */
static void cond_wait_until(pthread_cond_t *c, pthread_mutex_t *mu,
                            int64_t deadline_ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(deadline_ms / 1000);
	ts.tv_nsec = (long)(deadline_ms % 1000) * 1000000L;
	(void)pthread_cond_timedwait(c, mu, &ts);
}

static void frames_free(struct frame *f)
{
	while (f != NULL) {
		struct frame *next = f->next;

		free(f);
		f = next;
	}
}

static void stream_free(struct runtime_stream *s)
{
	if (s == NULL)
		return;
	frames_free(s->head);
	pthread_cond_destroy(&s->readable);
	pthread_cond_destroy(&s->writable);
	free(s);
}

/* Under ss->mu: the stream stops being found by id and its producer is
 * told to stop. */
static void unlist(struct runtime_stream *s)
{
	s->listed = false;
	s->cancelled = true;
	pthread_cond_broadcast(&s->writable);
	pthread_cond_broadcast(&s->readable);
	pthread_cond_signal(&s->ss->reap);
}

/* Under ss->mu: cancels streams nobody has read for the idle time. */
static void expire_idle(struct runtime_streams *ss)
{
	int64_t now = berth_clock_mono_ms();

	for (struct runtime_stream *s = ss->all; s != NULL; s = s->next) {
		int64_t keep = s->drained && DRAINED_KEEP_MS < ss->idle_ms
		    ? DRAINED_KEEP_MS
		    : ss->idle_ms;

		if (s->listed && s->readers == 0
		    && now - s->last_read_ms > keep)
			unlist(s);
	}
}

/* Under ss->mu: a listed stream by id, or NULL. */
static struct runtime_stream *find(struct runtime_streams *ss, const char *id)
{
	if (id == NULL)
		return NULL;
	for (struct runtime_stream *s = ss->all; s != NULL; s = s->next)
		if (s->listed && strcmp(s->id, id) == 0)
			return s;
	return NULL;
}

/* Under ss->mu: takes the streams that can be freed off the list. */
static struct runtime_stream *take_reapable(struct runtime_streams *ss)
{
	struct runtime_stream *dead = NULL, **pp = &ss->all;

	while (*pp != NULL) {
		struct runtime_stream *s = *pp;

		if (!s->listed && s->finished && s->readers == 0) {
			*pp = s->next;
			s->next = dead;
			dead = s;
			ss->count--;
		} else {
			pp = &s->next;
		}
	}
	return dead;
}

static void join_and_free(struct runtime_stream *dead)
{
	while (dead != NULL) {
		struct runtime_stream *next = dead->next;

		if (dead->thread_started)
			pthread_join(dead->thread, NULL);
		stream_free(dead);
		dead = next;
	}
}

static void *reaper_main(void *arg)
{
	struct runtime_streams *ss = arg;

	pthread_mutex_lock(&ss->mu);
	while (!ss->stopping) {
		struct runtime_stream *dead;
		int step;

		expire_idle(ss);
		dead = take_reapable(ss);
		if (dead != NULL) {
			pthread_mutex_unlock(&ss->mu);
			join_and_free(dead);
			pthread_mutex_lock(&ss->mu);
			continue;
		}
		step = ss->idle_ms / 4;
		if (step > 1000)
			step = 1000;
		if (step < 5)
			step = 5;
		cond_wait_until(&ss->reap, &ss->mu,
		                berth_clock_mono_ms() + step);
	}
	pthread_mutex_unlock(&ss->mu);
	return NULL;
}

struct runtime_streams *runtime_streams_new(void)
{
	struct runtime_streams *ss = berth_calloc(1, sizeof(*ss));

	pthread_mutex_init(&ss->mu, NULL);
	cond_init_mono(&ss->reap);
	ss->idle_ms = RUNTIME_STREAM_IDLE_MS;
	/* Without the reaper nothing would ever free a finished or
	 * forgotten stream: refuse to run without it. */
	ss->reaper_started
	    = pthread_create(&ss->reaper, NULL, reaper_main, ss) == 0;
	if (!ss->reaper_started) {
		runtime_streams_free(ss);
		return NULL;
	}
	return ss;
}

void runtime_streams_free(struct runtime_streams *ss)
{
	struct runtime_stream *all;

	if (ss == NULL)
		return;
	pthread_mutex_lock(&ss->mu);
	ss->stopping = true;
	for (struct runtime_stream *s = ss->all; s != NULL; s = s->next)
		unlist(s);
	pthread_cond_broadcast(&ss->reap);
	pthread_mutex_unlock(&ss->mu);
	if (ss->reaper_started)
		pthread_join(ss->reaper, NULL);
	/* Producers see the cancel at their next push or engine tick (about
	 * a second); joining them all is the clean end. */
	pthread_mutex_lock(&ss->mu);
	all = ss->all;
	ss->all = NULL;
	ss->count = 0;
	pthread_mutex_unlock(&ss->mu);
	join_and_free(all);
	pthread_cond_destroy(&ss->reap);
	pthread_mutex_destroy(&ss->mu);
	free(ss);
}

void runtime_streams_set_idle_ms(struct runtime_streams *ss, int idle_ms)
{
	pthread_mutex_lock(&ss->mu);
	ss->idle_ms = idle_ms < 10 ? 10 : idle_ms;
	pthread_cond_signal(&ss->reap);
	pthread_mutex_unlock(&ss->mu);
}

size_t runtime_streams_count(struct runtime_streams *ss)
{
	size_t n;

	pthread_mutex_lock(&ss->mu);
	n = ss->count;
	pthread_mutex_unlock(&ss->mu);
	return n;
}

static void *producer_main(void *arg)
{
	struct runtime_stream *s = arg;
	struct runtime_streams *ss = s->ss;
	struct berth_err err;
	int rv;

	berth_err_clear(&err);
	rv = s->run(s, s->arg, &err);
	if (s->arg_free != NULL)
		s->arg_free(s->arg);
	s->arg = NULL;
	pthread_mutex_lock(&ss->mu);
	s->finished = true;
	if (rv != 0) {
		s->error_code = rv;
		snprintf(s->error, sizeof(s->error), "%s",
		         err.msg[0] != '\0' ? err.msg : berth_strerror(rv));
	}
	pthread_cond_broadcast(&s->readable);
	if (!s->listed)
		pthread_cond_signal(&ss->reap);
	pthread_mutex_unlock(&ss->mu);
	return NULL;
}

int runtime_stream_open(struct runtime_streams *ss, runtime_stream_run_fn run,
                        void *arg, void (*arg_free)(void *arg),
                        char id[RUNTIME_STREAM_ID_LEN + 1],
                        struct berth_err *err)
{
	struct runtime_stream *s = NULL;
	char uuid[BERTH_JOB_ID_LEN + 1];
	int rv;

	rv = berth_uuid_v4(uuid, err);
	if (rv != 0)
		goto out;
	pthread_mutex_lock(&ss->mu);
	expire_idle(ss);
	if (ss->stopping) {
		pthread_mutex_unlock(&ss->mu);
		rv = berth_err_set_retryable(err, BERTH_EUNAVAIL,
		                             "the runtime is shutting down");
		goto out;
	}
	if (ss->count >= RUNTIME_STREAMS_MAX) {
		pthread_mutex_unlock(&ss->mu);
		rv = berth_err_set_retryable(
		    err, BERTH_ELIMIT,
		    "too many open streams (%d): close unused log or exec "
		    "streams, or wait for idle ones to expire",
		    RUNTIME_STREAMS_MAX);
		goto out;
	}
	s = berth_calloc(1, sizeof(*s));
	s->ss = ss;
	snprintf(s->id, sizeof(s->id), "%s", uuid);
	s->run = run;
	s->arg = arg;
	s->arg_free = arg_free;
	cond_init_mono(&s->readable);
	cond_init_mono(&s->writable);
	s->listed = true;
	s->last_read_ms = berth_clock_mono_ms();
	/* Listed before the thread runs: its first push finds the stream
	 * whole. */
	if (pthread_create(&s->thread, NULL, producer_main, s) != 0) {
		pthread_mutex_unlock(&ss->mu);
		stream_free(s);
		s = NULL;
		rv = berth_err_set_retryable(err, BERTH_EINTERNAL,
		                             "cannot start a stream thread");
		goto out;
	}
	s->thread_started = true;
	s->next = ss->all;
	ss->all = s;
	ss->count++;
	memcpy(id, s->id, sizeof(s->id));
	pthread_mutex_unlock(&ss->mu);
	return 0;
out:
	if (arg_free != NULL)
		arg_free(arg);
	return rv;
}

int runtime_stream_push(struct runtime_stream *s,
                        enum berth_output_stream which, const char *data,
                        size_t len, int64_t time_ns, uint64_t seq)
{
	struct runtime_streams *ss = s->ss;
	struct frame *f;

	pthread_mutex_lock(&ss->mu);
	/* Room for the frame, or an empty buffer (one frame may be larger
	 * than the cap; producers cap their own pieces). */
	while (!s->cancelled && s->buffered > 0
	       && s->buffered + len > STREAM_BUF_MAX)
		cond_wait_until(&s->writable, &ss->mu,
		                berth_clock_mono_ms() + PUSH_WAIT_MS);
	if (s->cancelled) {
		pthread_mutex_unlock(&ss->mu);
		return BERTH_ECANCELLED;
	}
	if (seq == 0)
		seq = s->last_seq + 1;
	if (seq <= s->last_seq) {
		pthread_mutex_unlock(&ss->mu);
		return BERTH_EINVAL; /* a producer bug: seq must grow */
	}
	f = berth_malloc(sizeof(*f) + len);
	f->next = NULL;
	f->seq = seq;
	f->which = which;
	f->time_ns = time_ns;
	f->len = len;
	if (len > 0)
		memcpy(f->data, data, len);
	if (s->tail != NULL)
		s->tail->next = f;
	else
		s->head = f;
	s->tail = f;
	s->buffered += len;
	s->last_seq = seq;
	pthread_cond_broadcast(&s->readable);
	pthread_mutex_unlock(&ss->mu);
	return 0;
}

uint64_t runtime_stream_last_seq(const struct runtime_stream *s)
{
	uint64_t seq;

	pthread_mutex_lock(&s->ss->mu);
	seq = s->last_seq;
	pthread_mutex_unlock(&s->ss->mu);
	return seq;
}

bool runtime_stream_cancelled(struct runtime_stream *s)
{
	bool c;

	pthread_mutex_lock(&s->ss->mu);
	c = s->cancelled;
	pthread_mutex_unlock(&s->ss->mu);
	return c;
}

void runtime_stream_set_exit(struct runtime_stream *s, int exit_code,
                             bool timed_out)
{
	pthread_mutex_lock(&s->ss->mu);
	s->has_exit = true;
	s->exit_code = exit_code;
	s->timed_out = timed_out;
	pthread_mutex_unlock(&s->ss->mu);
}

/* Under ss->mu: drops frames the reader has acknowledged. */
static void ack(struct runtime_stream *s, uint64_t after_seq)
{
	bool freed = false;

	while (s->head != NULL && s->head->seq <= after_seq) {
		struct frame *f = s->head;

		s->head = f->next;
		if (s->head == NULL)
			s->tail = NULL;
		s->buffered -= f->len;
		free(f);
		freed = true;
	}
	if (freed)
		pthread_cond_broadcast(&s->writable);
}

static const char *stream_name(enum berth_output_stream w)
{
	return w == BERTH_OUT_STDERR ? "stderr" : "stdout";
}

/* Under ss->mu: the chunk of frames after `after_seq`, up to max_bytes
 * (at least one frame), and whether it ends the stream. */
static Berth__V1__StreamChunk *build_chunk(struct runtime_stream *s,
                                           uint64_t after_seq, size_t max_bytes,
                                           bool *done)
{
	Berth__V1__StreamChunk *c = berth_calloc(1, sizeof(*c));
	struct frame *f, *first;
	size_t n = 0, bytes = 0;

	berth__v1__stream_chunk__init(c);
	first = s->head;
	while (first != NULL && first->seq <= after_seq)
		first = first->next;
	for (f = first; f != NULL; f = f->next) {
		if (n > 0 && bytes + f->len > max_bytes)
			break;
		bytes += f->len;
		n++;
	}
	c->frames = n > 0 ? berth_calloc(n, sizeof(*c->frames)) : NULL;
	f = first;
	for (size_t i = 0; i < n; i++, f = f->next) {
		Berth__V1__OutputFrame *o = berth_calloc(1, sizeof(*o));

		berth__v1__output_frame__init(o);
		o->seq = f->seq;
		o->stream = berth_strdup(stream_name(f->which));
		o->time_ns = f->time_ns;
		o->data.len = f->len;
		o->data.data = berth_malloc(f->len > 0 ? f->len : 1);
		if (f->len > 0)
			memcpy(o->data.data, f->data, f->len);
		c->frames[i] = o;
	}
	c->n_frames = n;
	/* Done once the producer returned and this chunk holds the rest. */
	*done = s->finished && f == NULL;
	if (*done) {
		c->done = true;
		c->has_exit = s->has_exit;
		c->exit_code = s->exit_code;
		c->timed_out = s->timed_out;
		if (s->error_code != 0) {
			c->error_code = (Berth__V1__Code)(-s->error_code);
			c->error = berth_strdup(s->error);
		}
	}
	return c;
}

int runtime_stream_read(struct runtime_streams *ss, const char *id,
                        uint64_t after_seq, int max_wait_ms, size_t max_bytes,
                        Berth__V1__StreamChunk **out, struct berth_err *err)
{
	struct runtime_stream *s;
	Berth__V1__StreamChunk *c;
	int64_t deadline;
	bool done = false;

	if (max_wait_ms < 0)
		max_wait_ms = 0;
	if (max_wait_ms > READ_WAIT_MAX_MS)
		max_wait_ms = READ_WAIT_MAX_MS;
	if (max_bytes == 0)
		max_bytes = READ_BYTES_DEFAULT;
	if (max_bytes > READ_BYTES_MAX)
		max_bytes = READ_BYTES_MAX;
	deadline = berth_clock_mono_ms() + max_wait_ms;

	pthread_mutex_lock(&ss->mu);
	expire_idle(ss);
	s = find(ss, id);
	if (s == NULL) {
		pthread_mutex_unlock(&ss->mu);
		return berth_err_set(err, BERTH_ENOTFOUND,
		                     "no open stream with this id: it ended, "
		                     "was closed, or was not read for %d s",
		                     ss->idle_ms / 1000);
	}
	s->readers++;
	s->last_read_ms = berth_clock_mono_ms();
	ack(s, after_seq);
	for (;;) {
		bool ready = s->finished || !s->listed;

		for (struct frame *f = s->head; !ready && f != NULL;
		     f = f->next)
			ready = f->seq > after_seq;
		if (ready || berth_clock_mono_ms() >= deadline)
			break;
		cond_wait_until(&s->readable, &ss->mu, deadline);
	}
	if (!s->listed) {
		/* Closed or shut down while this read waited. */
		s->readers--;
		pthread_cond_signal(&ss->reap);
		pthread_mutex_unlock(&ss->mu);
		return berth_err_set(err, BERTH_ENOTFOUND,
		                     "the stream was closed");
	}
	c = build_chunk(s, after_seq, max_bytes, &done);
	s->readers--;
	s->last_read_ms = berth_clock_mono_ms();
	/* Its producer returned. Kept a little while, not unlisted at
	 * once: if this reply is lost, the resent read gets the same done
	 * chunk (exit code, error) instead of NOT_FOUND. */
	if (done)
		s->drained = true;
	pthread_mutex_unlock(&ss->mu);
	*out = c;
	return 0;
}

int runtime_stream_close(struct runtime_streams *ss, const char *id,
                         struct berth_err *err)
{
	struct runtime_stream *s;

	pthread_mutex_lock(&ss->mu);
	expire_idle(ss);
	s = find(ss, id);
	if (s != NULL)
		unlist(s);
	pthread_mutex_unlock(&ss->mu);
	if (s == NULL)
		return berth_err_set(err, BERTH_ENOTFOUND,
		                     "no open stream with this id");
	return 0;
}
