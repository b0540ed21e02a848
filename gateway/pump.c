/*
 * pump.c: streamed (chunked) HTTP responses fed from other threads
 * (pump.h).
 *
 * Why the connection may be resumed outside the pump's lock: while MHD
 * holds a connection suspended it cannot complete or free it, and only
 * the one party that flips `suspended` back to false (under the lock)
 * calls MHD_resume_connection(). Suspending happens inside MHD's content
 * reader callback, the one place MHD allows it besides the access
 * handler.
 */
#include "gateway/pump.h"

#include "lib/alloc.h"

#include <errno.h>
#include <microhttpd.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

/* Bytes MHD asks for at most per reader call. */
#define PUMP_BLOCK (32u * 1024u)

struct gw_pump {
	struct berth_gateway *gw;
	struct MHD_Connection *conn;
	pthread_mutex_t mu;
	int refs; /* under mu */
	int status;
	char *content_type;
	gw_pump_event_fn on_event;
	void *arg;

	/* Under mu. */
	char *buf;
	size_t len, cap;
	bool finished;     /* the producer will write no more */
	bool closed;       /* the client left, or the stream ended */
	bool detached;     /* the request is over: conn is gone */
	bool suspended;    /* the reader suspended conn */
	bool want_drained; /* a write was refused: say when there is room */
	bool told_closed;  /* GW_PUMP_CLOSED was delivered */

	struct gw_pump *prev, *next; /* gw->pumps, under gw->pumps_mu */
};

static void pump_free(struct gw_pump *p)
{
	struct berth_gateway *gw = p->gw;

	pthread_mutex_lock(&gw->pumps_mu);
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		gw->pumps = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	pthread_mutex_unlock(&gw->pumps_mu);
	pthread_mutex_destroy(&p->mu);
	free(p->buf);
	free(p->content_type);
	free(p);
}

void gw_pump_release(struct gw_pump *p)
{
	bool last;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	last = --p->refs == 0;
	pthread_mutex_unlock(&p->mu);
	if (last)
		pump_free(p);
}

/* Under p->mu: takes the resume duty when the reader is suspended. */
static bool take_resume(struct gw_pump *p)
{
	if (!p->suspended || p->detached)
		return false;
	p->suspended = false;
	return true;
}

/* Under p->mu: whether GW_PUMP_CLOSED is now due (delivered once). */
static bool take_closed(struct gw_pump *p)
{
	if (!p->closed || p->told_closed)
		return false;
	p->told_closed = true;
	return true;
}

static void notify(struct gw_pump *p, enum gw_pump_event ev)
{
	if (p->on_event != NULL)
		p->on_event(p->arg, ev);
}

/*
 * Whether the client hung up. MHD notices a closed connection only when
 * a send fails, and an idle stream sends nothing: so when there is
 * nothing to send (after a poke, say) the reader peeks at the socket.
 * A peek consumes nothing; EOF or an error means the client is gone.
 * Called on the MHD thread that owns the connection, so the socket is
 * the connection's own.
 */
static bool client_gone(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci
	    = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	char c;
	ssize_t n;

	if (ci == NULL)
		return false;
	n = recv(ci->connect_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == 0)
		return true;
	return n < 0 && errno != EAGAIN && errno != EWOULDBLOCK
	    && errno != EINTR;
}

static ssize_t reader(void *cls, uint64_t pos, char *out, size_t max)
{
	struct gw_pump *p = cls;
	bool drained = false, closed = false;
	ssize_t n;

	(void)pos;
	pthread_mutex_lock(&p->mu);
	if (p->closed && !p->finished) {
		closed = take_closed(p);
		n = MHD_CONTENT_READER_END_WITH_ERROR;
	} else if (p->len > 0) {
		size_t take = p->len < max ? p->len : max;

		memcpy(out, p->buf, take);
		memmove(p->buf, p->buf + take, p->len - take);
		p->len -= take;
		if (p->want_drained && p->len < GW_PUMP_MAX_BUFFERED / 2) {
			p->want_drained = false;
			drained = true;
		}
		n = (ssize_t)take;
	} else if (p->finished) {
		p->closed = true;
		closed = take_closed(p);
		n = MHD_CONTENT_READER_END_OF_STREAM;
	} else if (client_gone(p->conn)) {
		p->closed = true;
		closed = take_closed(p);
		n = MHD_CONTENT_READER_END_WITH_ERROR;
	} else {
		/* Nothing to send: park the connection until a write. */
		p->suspended = true;
		MHD_suspend_connection(p->conn);
		n = 0;
	}
	pthread_mutex_unlock(&p->mu);
	if (drained)
		notify(p, GW_PUMP_DRAINED);
	if (closed)
		notify(p, GW_PUMP_CLOSED);
	return n;
}

static void reader_free(void *cls)
{
	gw_pump_release(cls);
}

struct gw_pump *gw_pump_start(struct gw_req *rq, int status,
                              const char *content_type,
                              gw_pump_event_fn on_event, void *arg)
{
	struct berth_gateway *gw = rq->gw;
	struct gw_pump *p = berth_calloc(1, sizeof(*p));

	p->gw = gw;
	p->conn = rq->conn;
	pthread_mutex_init(&p->mu, NULL);
	p->refs = 2; /* the request's and the caller's */
	p->status = status;
	p->content_type = berth_strdup(content_type);
	p->on_event = on_event;
	p->arg = arg;
	pthread_mutex_lock(&gw->pumps_mu);
	p->next = gw->pumps;
	if (gw->pumps != NULL)
		gw->pumps->prev = p;
	gw->pumps = p;
	pthread_mutex_unlock(&gw->pumps_mu);

	gw_pump_release(rq->pump);
	rq->pump = p;
	rq->status = status;
	free(rq->resp_body);
	rq->resp_body = NULL;
	rq->state = GW_REQ_RESPONDING;
	return p;
}

struct MHD_Response *gw_pump_response(struct gw_pump *p)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, PUMP_BLOCK,
	                                         reader, p, reader_free);
	if (resp == NULL)
		return NULL;
	pthread_mutex_lock(&p->mu);
	p->refs++; /* the response's, dropped by reader_free */
	pthread_mutex_unlock(&p->mu);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        p->content_type);
	/* Proxies must pass each chunk on as it comes. */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	                        "no-cache");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	return resp;
}

int gw_pump_write(struct gw_pump *p, const void *data, size_t len)
{
	bool resume;

	pthread_mutex_lock(&p->mu);
	if (p->closed || p->finished) {
		pthread_mutex_unlock(&p->mu);
		return BERTH_ECANCELLED;
	}
	if (p->len + len > GW_PUMP_MAX_BUFFERED && p->len > 0) {
		p->want_drained = true;
		pthread_mutex_unlock(&p->mu);
		return BERTH_ELIMIT;
	}
	if (p->len + len > p->cap) {
		size_t cap = p->cap > 0 ? p->cap : 4096;

		while (cap < p->len + len)
			cap *= 2;
		p->buf = berth_realloc(p->buf, cap);
		p->cap = cap;
	}
	memcpy(p->buf + p->len, data, len);
	p->len += len;
	resume = take_resume(p);
	pthread_mutex_unlock(&p->mu);
	if (resume)
		MHD_resume_connection(p->conn);
	return 0;
}

void gw_pump_finish(struct gw_pump *p)
{
	bool resume;

	pthread_mutex_lock(&p->mu);
	p->finished = true;
	resume = take_resume(p);
	pthread_mutex_unlock(&p->mu);
	if (resume)
		MHD_resume_connection(p->conn);
}

void gw_pump_poke(struct gw_pump *p)
{
	bool resume;

	pthread_mutex_lock(&p->mu);
	resume = !p->closed && take_resume(p);
	pthread_mutex_unlock(&p->mu);
	if (resume)
		MHD_resume_connection(p->conn);
}

bool gw_pump_closed(struct gw_pump *p)
{
	bool closed;

	pthread_mutex_lock(&p->mu);
	closed = p->closed || p->finished;
	pthread_mutex_unlock(&p->mu);
	return closed;
}

void gw_pump_detach(struct gw_pump *p)
{
	bool closed;

	pthread_mutex_lock(&p->mu);
	p->detached = true;
	p->suspended = false;
	p->closed = true;
	closed = take_closed(p);
	pthread_mutex_unlock(&p->mu);
	if (closed)
		notify(p, GW_PUMP_CLOSED);
}

void gw_pumps_end_all(struct berth_gateway *gw)
{
	struct gw_pump **all = NULL;
	size_t n = 0, cap = 0;

	/* Hold a reference to each, then act outside gw->pumps_mu: the
	 * event callbacks may release pumps, which takes that lock. */
	pthread_mutex_lock(&gw->pumps_mu);
	for (struct gw_pump *p = gw->pumps; p != NULL; p = p->next) {
		if (n == cap) {
			cap = cap > 0 ? cap * 2 : 16;
			all = berth_realloc(all, cap * sizeof(*all));
		}
		pthread_mutex_lock(&p->mu);
		p->refs++;
		pthread_mutex_unlock(&p->mu);
		all[n++] = p;
	}
	pthread_mutex_unlock(&gw->pumps_mu);
	for (size_t i = 0; i < n; i++) {
		struct gw_pump *p = all[i];
		bool resume, closed;

		pthread_mutex_lock(&p->mu);
		p->closed = true;
		resume = take_resume(p);
		closed = take_closed(p);
		pthread_mutex_unlock(&p->mu);
		if (resume)
			MHD_resume_connection(p->conn);
		if (closed)
			notify(p, GW_PUMP_CLOSED);
		gw_pump_release(p);
	}
	free(all);
}
