/*
 * events_sub.c: the gateway's event subscription and its SSE fan-out
 * (events_sub.h).
 *
 * Locking: `ev->mu` guards the client list, every client's queue, the
 * sequence counter and the replay ring. A new client's replay is taken
 * from the ring and the client is listed for live records under one
 * hold of ev->mu, so nothing falls between the two or comes twice.
 * The receiver thread writes to pumps while holding it (a pump takes its
 * own lock inside, never calling back); the pump's callbacks run on MHD
 * threads without the pump lock and take `ev->mu`, so the order is
 * always ev->mu then pump lock.
 */
#include "gateway/events_sub.h"

#include "gateway/events_ring.h"
#include "gateway/json_map.h"
#include "gateway/pump.h"
#include "gateway/respond.h"

#include "lib/alloc.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/rpc_envelope.h"

#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* An Event is small; anything larger is not one of ours. */
#define SUB_RECV_MAX (1024u * 1024u)

struct sse_client {
	struct gw_events *ev;
	struct gw_pump *pump;
	char *type; /* NULL = all */
	char *id;   /* NULL = all */
	char *q;    /* records not yet accepted by the pump */
	size_t qlen, qcap;
	bool overflowed; /* final record queued; finish once sent */
	bool finished;
	int64_t last_ms; /* monotonic time of the last record */
	struct sse_client *next;
};

struct gw_events {
	nng_socket sock;
	bool open;
	pthread_t thread;
	bool started;
	atomic_bool stopping;
	pthread_mutex_t mu;
	struct sse_client *clients; /* under mu */
	uint64_t seq;               /* under mu */
	struct gw_ev_ring *ring;    /* under mu */
	uint64_t epoch;             /* set at start; read-only after */
};

static void client_free(struct sse_client *c)
{
	gw_pump_release(c->pump);
	free(c->type);
	free(c->id);
	free(c->q);
	free(c);
}

/* Under ev->mu: whether `c` is still listed (not freed). */
static bool client_listed(struct gw_events *ev, const struct sse_client *c)
{
	for (struct sse_client *x = ev->clients; x != NULL; x = x->next)
		if (x == c)
			return true;
	return false;
}

/* Under ev->mu: hands the queue to the pump, as much as it takes. */
static void client_flush(struct sse_client *c)
{
	if (c->finished)
		return;
	if (c->qlen > 0) {
		int rv = gw_pump_write(c->pump, c->q, c->qlen);

		if (rv == BERTH_ELIMIT)
			return; /* GW_PUMP_DRAINED calls again */
		c->qlen = 0;    /* written, or the client is gone */
		if (rv != 0)
			return;
	}
	if (c->overflowed) {
		gw_pump_finish(c->pump);
		c->finished = true;
	}
}

static void q_append(struct sse_client *c, const char *s, size_t len)
{
	if (c->qlen + len > c->qcap) {
		size_t cap = c->qcap > 0 ? c->qcap : 4096;

		while (cap < c->qlen + len)
			cap *= 2;
		c->q = berth_realloc(c->q, cap);
		c->qcap = cap;
	}
	memcpy(c->q + c->qlen, s, len);
	c->qlen += len;
}

/* Under ev->mu: queues one record, or cuts the client off. */
static void client_send(struct sse_client *c, const char *rec, size_t len)
{
	static const char overflow[]
	    = "event: overflow\ndata: {\"error\":\"this client did not "
	      "keep up and events were dropped; reconnect to go "
	      "on\"}\n\n";

	if (c->overflowed || c->finished)
		return;
	/* A record larger than the queue (a container with huge labels)
	 * still reaches a client that keeps up: it goes alone into an
	 * empty queue. Its size is bounded by what the feed receives. */
	if (c->qlen > 0 && c->qlen + len > GW_EVENTS_CLIENT_MAX) {
		c->overflowed = true;
		q_append(c, overflow, sizeof(overflow) - 1);
	} else {
		q_append(c, rec, len);
	}
	c->last_ms = berth_clock_mono_ms();
	client_flush(c);
}

static void on_pump_event(void *arg, enum gw_pump_event what)
{
	struct sse_client *c = arg;
	struct gw_events *ev = c->ev;
	bool free_it = false;

	pthread_mutex_lock(&ev->mu);
	if (!client_listed(ev, c)) {
		pthread_mutex_unlock(&ev->mu);
		return;
	}
	if (what == GW_PUMP_DRAINED) {
		client_flush(c);
	} else {
		for (struct sse_client **pp = &ev->clients; *pp != NULL;
		     pp = &(*pp)->next) {
			if (*pp == c) {
				*pp = c->next;
				break;
			}
		}
		free_it = true;
	}
	pthread_mutex_unlock(&ev->mu);
	if (free_it)
		client_free(c);
}

/* Whether `c`'s filter takes an event of `type` about `id` (`name`: a
 * container's name, or NULL). The ring keeps these three for replay. */
static bool client_wants(const struct sse_client *c, const char *type,
                         const char *id, const char *name)
{
	if (c->type != NULL && strcmp(c->type, type) != 0)
		return false;
	if (c->id == NULL)
		return true;
	if (strcmp(c->id, id) == 0
	    || (name != NULL && strcmp(c->id, name) == 0))
		return true;
	/* An id prefix, as the engine accepts one. */
	return strcmp(type, "container") == 0
	    && strncmp(id, c->id, strlen(c->id)) == 0;
}

/* The JSON of one event. Caller owns the result (json_decref). */
static json_t *event_json(const Berth__V1__Event *e)
{
	json_t *o = json_object();

	json_object_set_new(o, "type", json_string(e->type));
	json_object_set_new(o, "action", json_string(e->action));
	json_object_set_new(o, "id", json_string(e->id));
	if (e->name != NULL && e->name[0] != '\0')
		json_object_set_new(o, "name", json_string(e->name));
	json_object_set_new(o, "time_ms", json_integer(e->time_ms));
	if (strcmp(e->action, "die") == 0)
		json_object_set_new(o, "exit_code", json_integer(e->exit_code));
	if (e->health_status != NULL && e->health_status[0] != '\0')
		json_object_set_new(o, "health_status",
		                    json_string(e->health_status));
	if (e->n_labels > 0) {
		json_t *l = json_object();

		for (size_t i = 0; i < e->n_labels; i++)
			json_object_set_new(l, e->labels[i]->key,
			                    json_string(e->labels[i]->value));
		json_object_set_new(o, "labels", l);
	}
	if (e->job != NULL)
		json_object_set_new(o, "job", gw_json_job(e->job));
	json_object_set_new(o, "source", json_string(e->source));
	json_object_set_new(o, "source_seq", json_integer((json_int_t)e->seq));
	return o;
}

/* Checks what a runtime sent before it reaches JSON: UTF-8 and a type. */
static bool event_ok(const Berth__V1__Event *e)
{
	if (e->type == NULL || e->action == NULL || e->id == NULL)
		return false;
	return strcmp(e->type, "container") == 0 || strcmp(e->type, "job") == 0;
}

static void deliver(struct gw_events *ev, const Berth__V1__Event *e)
{
	json_t *o = event_json(e);
	char *data = json_dumps(o, JSON_COMPACT);
	const char *name
	    = e->name != NULL && e->name[0] != '\0' ? e->name : NULL;
	char id[GW_EV_ID_MAX];
	char *rec;
	size_t len;

	json_decref(o);
	if (data == NULL)
		return; /* not valid UTF-8: jansson refuses it */
	pthread_mutex_lock(&ev->mu);
	ev->seq++;
	gw_ev_id_format(id, ev->epoch, ev->seq);
	rec = berth_asprintf("id: %s\nevent: %s\ndata: %s\n\n", id, e->type,
	                     data);
	len = strlen(rec);
	gw_ev_ring_push(ev->ring, ev->seq, e->type, e->id, name, rec, len);
	for (struct sse_client *c = ev->clients; c != NULL; c = c->next)
		if (client_wants(c, e->type, e->id, name))
			client_send(c, rec, len);
	pthread_mutex_unlock(&ev->mu);
	free(rec);
	free(data);
}

/* About once a second: keepalives, and pokes so a gone client is
 * noticed. A keepalive carries the newest id: every record up to it was
 * queued for this client or did not match its filter, so a filtered
 * client that reconnects later is not sent back past records it never
 * wanted (which may have left the ring by then). */
static void tick(struct gw_events *ev)
{
	int64_t now = berth_clock_mono_ms();
	char keepalive[32 + GW_EV_ID_MAX];
	char id[GW_EV_ID_MAX];

	pthread_mutex_lock(&ev->mu);
	gw_ev_id_format(id, ev->epoch, ev->seq);
	snprintf(keepalive, sizeof(keepalive), ": keepalive\nid: %s\n\n", id);
	for (struct sse_client *c = ev->clients; c != NULL; c = c->next) {
		if (now - c->last_ms >= GW_EVENTS_KEEPALIVE_S * 1000)
			client_send(c, keepalive, strlen(keepalive));
		else if (c->qlen == 0)
			gw_pump_poke(c->pump);
	}
	pthread_mutex_unlock(&ev->mu);
}

static void *sub_main(void *arg)
{
	struct gw_events *ev = arg;
	int64_t last_tick = berth_clock_mono_ms();

	while (!atomic_load(&ev->stopping)) {
		nng_msg *msg = NULL;
		int rv
		    = ev->open ? nng_recvmsg(ev->sock, &msg, 0) : NNG_ETIMEDOUT;

		if (!ev->open)
			berth_sleep_ms(200);
		if (rv == 0) {
			Berth__V1__Event *e = berth__v1__event__unpack(
			    NULL, nng_msg_len(msg), nng_msg_body(msg));

			if (e != NULL && event_ok(e))
				deliver(ev, e);
			if (e != NULL)
				berth__v1__event__free_unpacked(e, NULL);
			nng_msg_free(msg);
		} else if (rv == NNG_ECLOSED) {
			break;
		}
		if (berth_clock_mono_ms() - last_tick >= 1000) {
			last_tick = berth_clock_mono_ms();
			tick(ev);
		}
	}
	return NULL;
}

static int sub_connect(struct gw_events *ev, const struct berth_gateway_opts *o,
                       struct berth_err *err)
{
	int rv;

	rv = nng_sub0_open(&ev->sock);
	if (rv != 0)
		return berth_err_set(err, BERTH_EINTERNAL,
		                     "cannot open the event socket: %s",
		                     nng_strerror(rv));
	ev->open = true;
	nng_socket_set_size(ev->sock, NNG_OPT_RECVMAXSZ, SUB_RECV_MAX);
	nng_socket_set_ms(ev->sock, NNG_OPT_RECVTIMEO, 250);
	nng_socket_set(ev->sock, NNG_OPT_SUB_SUBSCRIBE, "", 0);
	for (size_t i = 0; i < o->nevents_urls; i++) {
		const char *url = o->events_urls[i];

		rv = rpc_url_check(url, err);
		if (rv != 0)
			return rv;
		if (o->events_listen) {
			rv = rpc_url_prepare_listen(url, err);
			if (rv != 0)
				return rv;
			rv = nng_listen(ev->sock, url, NULL, 0);
			if (rv == 0)
				rv = rpc_url_finish_listen(url, err);
			else
				rv = berth_err_set(err, rpc_code_from_nng(rv),
				                   "cannot listen on events "
				                   "address %s: %s",
				                   url, nng_strerror(rv));
		} else {
			nng_dialer d;

			/* The runtime may come up later: dial in the
			 * background and keep retrying. */
			rv = nng_dialer_create(&d, ev->sock, url);
			if (rv == 0) {
				nng_dialer_set_ms(d, NNG_OPT_RECONNMINT, 100);
				nng_dialer_set_ms(d, NNG_OPT_RECONNMAXT, 2000);
				rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK);
			}
			if (rv != 0)
				rv = berth_err_set(err, rpc_code_from_nng(rv),
				                   "cannot dial events address "
				                   "%s: %s",
				                   url, nng_strerror(rv));
		}
		if (rv != 0)
			return rv;
	}
	return 0;
}

/*
 * This feed's epoch: random, so two gateways behind one load balancer,
 * or one gateway before and after a restart, never share one. Should
 * the kernel give no randomness, the clock and pid still tell processes
 * apart.
 */
static uint64_t new_epoch(void)
{
	uint64_t e = 0;
	struct timespec ts;

	if (getrandom(&e, sizeof(e), GRND_NONBLOCK) == (ssize_t)sizeof(e))
		return e;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec)
	    ^ ((uint64_t)getpid() << 40);
}

int gw_events_start(struct gw_events **out,
                    const struct berth_gateway_opts *opts,
                    struct berth_err *err)
{
	struct gw_events *ev = berth_calloc(1, sizeof(*ev));
	int rv = 0;

	pthread_mutex_init(&ev->mu, NULL);
	atomic_init(&ev->stopping, false);
	ev->epoch = new_epoch();
	ev->ring = gw_ev_ring_alloc(GW_EVENTS_RING_COUNT, GW_EVENTS_RING_BYTES);
	if (opts != NULL && opts->nevents_urls > 0) {
		rv = sub_connect(ev, opts, err);
		if (rv != 0)
			goto fail;
	}
	rv = pthread_create(&ev->thread, NULL, sub_main, ev);
	if (rv != 0) {
		rv = berth_err_set(err, BERTH_EINTERNAL,
		                   "cannot start the event thread: %s",
		                   strerror(rv));
		goto fail;
	}
	ev->started = true;
	*out = ev;
	return 0;
fail:
	gw_events_stop(ev);
	return rv;
}

void gw_events_quiesce(struct gw_events *ev)
{
	if (ev == NULL || atomic_exchange(&ev->stopping, true))
		return;
	/* A handler that saw the gateway still running may have attached
	 * its client after gw_pumps_end_all() went by: end every listed
	 * stream here, so none is left suspended when MHD stops. One that
	 * attaches from now on sees `stopping` (both under ev->mu). */
	pthread_mutex_lock(&ev->mu);
	for (struct sse_client *c = ev->clients; c != NULL; c = c->next)
		gw_pump_finish(c->pump);
	pthread_mutex_unlock(&ev->mu);
	if (ev->started)
		pthread_join(ev->thread, NULL);
	ev->started = false;
	if (ev->open)
		nng_close(ev->sock);
	ev->open = false;
}

void gw_events_stop(struct gw_events *ev)
{
	struct sse_client *c;

	if (ev == NULL)
		return;
	gw_events_quiesce(ev);
	/* Called after the HTTP daemon stopped: every pump was detached
	 * and its CLOSED freed its client, so no callback can come now;
	 * whatever is left is freed here. */
	pthread_mutex_lock(&ev->mu);
	c = ev->clients;
	ev->clients = NULL;
	pthread_mutex_unlock(&ev->mu);
	while (c != NULL) {
		struct sse_client *next = c->next;

		gw_pump_finish(c->pump);
		client_free(c);
		c = next;
	}
	gw_ev_ring_free(ev->ring);
	pthread_mutex_destroy(&ev->mu);
	free(ev);
}

/* What a new client's replay adds up to (under ev->mu). */
struct replay_sum {
	const struct sse_client *c;
	size_t bytes;
	size_t limit;
};

static int sum_rec(void *arg, const struct gw_ev_rec *rec)
{
	struct replay_sum *rs = arg;

	if (!client_wants(rs->c, rec->type, rec->id, rec->name))
		return 0;
	rs->bytes += rec->len;
	return rs->bytes > rs->limit ? 1 : 0;
}

static int queue_rec(void *arg, const struct gw_ev_rec *rec)
{
	struct sse_client *c = arg;

	if (client_wants(c, rec->type, rec->id, rec->name))
		q_append(c, rec->text, rec->len);
	return 0;
}

/* Under ev->mu: queues the "event: reset" record, whose id is the
 * newest, so the client resumes from here next time. */
static void queue_reset(struct gw_events *ev, struct sse_client *c,
                        const char *why)
{
	char newest[GW_EV_ID_MAX], oldest[GW_EV_ID_MAX];
	uint64_t old = gw_ev_ring_oldest(ev->ring);
	json_t *o;
	char *data, *rec;

	gw_ev_id_format(newest, ev->epoch, ev->seq);
	gw_ev_id_format(oldest, ev->epoch, old);
	o = json_pack("{s:s, s:s, s:s, s:s}", "reason", why, "message",
	              "events may have been missed since the last id you "
	              "saw; list containers and jobs again to catch up, "
	              "then follow this stream",
	              "oldest_id", oldest, "last_id", newest);
	if (old == 0)
		json_object_set_new(o, "oldest_id", json_null());
	data = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	rec = berth_asprintf("id: %s\nevent: reset\ndata: %s\n\n", newest,
	                     data);
	q_append(c, rec, strlen(rec));
	free(rec);
	free(data);
}

/*
 * Under ev->mu: what a client that saw `last_id` (NULL: a new client)
 * gets before the live records: nothing, the records it missed, or a
 * reset. The opening comment of a new client carries the newest id.
 */
static void queue_start(struct gw_events *ev, struct sse_client *c,
                        const char *last_id)
{
	static const char hello[] = ": berth events\n";
	struct replay_sum rs = { c, sizeof(hello), GW_EVENTS_CLIENT_MAX };
	uint64_t epoch = 0, seq = 0;
	char id[GW_EV_ID_MAX];
	char *rec;

	if (last_id == NULL) {
		/* An id on the opening record, so a client that sees no
		 * event before its connection breaks still resumes from
		 * here (EventSource takes an id from a record with no
		 * data and fires no event for it). */
		gw_ev_id_format(id, ev->epoch, ev->seq);
		rec = berth_asprintf("%sid: %s\n\n", hello, id);
		q_append(c, rec, strlen(rec));
		free(rec);
		return;
	}
	/* No id here: were the connection to break before the replay
	 * arrives, the client must come back with the id it had. */
	q_append(c, hello, sizeof(hello) - 1);
	q_append(c, "\n", 1);
	if (gw_ev_id_parse(&epoch, &seq, last_id) != 0 || epoch != ev->epoch)
		queue_reset(ev, c, "foreign_id");
	else if (!gw_ev_ring_covers(ev->ring, seq))
		queue_reset(ev, c, "expired_id");
	else if (gw_ev_ring_each(ev->ring, seq, sum_rec, &rs) != 0)
		queue_reset(ev, c, "replay_too_large");
	else {
		gw_ev_ring_each(ev->ring, seq, queue_rec, c);
		/* Then the newest id, after the replay (as a keepalive
		 * carries it): a filtered client whose filter matched
		 * nothing since moves on too, instead of coming back
		 * later with an id that has left the ring meanwhile. */
		gw_ev_id_format(id, ev->epoch, ev->seq);
		rec = berth_asprintf(": replayed\nid: %s\n\n", id);
		q_append(c, rec, strlen(rec));
		free(rec);
	}
}

void gw_events_attach(struct gw_events *ev, struct gw_req *rq, const char *type,
                      const char *id, const char *last_id)
{
	struct sse_client *c = berth_calloc(1, sizeof(*c));

	c->ev = ev;
	c->type = type != NULL ? berth_strdup(type) : NULL;
	c->id = id != NULL ? berth_strdup(id) : NULL;
	c->last_ms = berth_clock_mono_ms();
	/* Listed under the lock the pump's CLOSED takes, so a stop that
	 * ends the pump at once still finds (and frees) the client; the
	 * replay is taken under the same hold, so the live records that
	 * follow start right after it. */
	pthread_mutex_lock(&ev->mu);
	c->pump = gw_pump_start(rq, 200, "text/event-stream", on_pump_event, c);
	if (atomic_load(&ev->stopping))
		gw_pump_finish(c->pump); /* the feed is ending: so is this */
	c->next = ev->clients;
	ev->clients = c;
	queue_start(ev, c, last_id);
	client_flush(c);
	pthread_mutex_unlock(&ev->mu);
}
