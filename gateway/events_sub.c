/*
 * events_sub.c: the gateway's event subscription and its SSE fan-out
 * (events_sub.h).
 *
 * Locking: `ev->mu` guards the client list and every client's queue.
 * The receiver thread writes to pumps while holding it (a pump takes its
 * own lock inside, never calling back); the pump's callbacks run on MHD
 * threads without the pump lock and take `ev->mu`, so the order is
 * always ev->mu then pump lock.
 */
#include "gateway/events_sub.h"

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
#include <stdlib.h>
#include <string.h>

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
	if (c->qlen + len > GW_EVENTS_CLIENT_MAX) {
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

static bool client_wants(const struct sse_client *c, const Berth__V1__Event *e)
{
	if (c->type != NULL && strcmp(c->type, e->type) != 0)
		return false;
	if (c->id == NULL)
		return true;
	if (strcmp(c->id, e->id) == 0
	    || (e->name != NULL && strcmp(c->id, e->name) == 0))
		return true;
	/* An id prefix, as the engine accepts one. */
	return strcmp(e->type, "container") == 0
	    && strncmp(e->id, c->id, strlen(c->id)) == 0;
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
	char *rec;

	json_decref(o);
	if (data == NULL)
		return; /* not valid UTF-8: jansson refuses it */
	pthread_mutex_lock(&ev->mu);
	ev->seq++;
	rec = berth_asprintf("id: %llu\nevent: %s\ndata: %s\n\n",
	                     (unsigned long long)ev->seq, e->type, data);
	for (struct sse_client *c = ev->clients; c != NULL; c = c->next)
		if (client_wants(c, e))
			client_send(c, rec, strlen(rec));
	pthread_mutex_unlock(&ev->mu);
	free(rec);
	free(data);
}

/* About once a second: keepalives, and pokes so a gone client is
 * noticed. */
static void tick(struct gw_events *ev)
{
	static const char keepalive[] = ": keepalive\n\n";
	int64_t now = berth_clock_mono_ms();

	pthread_mutex_lock(&ev->mu);
	for (struct sse_client *c = ev->clients; c != NULL; c = c->next) {
		if (now - c->last_ms >= GW_EVENTS_KEEPALIVE_S * 1000)
			client_send(c, keepalive, sizeof(keepalive) - 1);
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

int gw_events_start(struct gw_events **out,
                    const struct berth_gateway_opts *opts,
                    struct berth_err *err)
{
	struct gw_events *ev = berth_calloc(1, sizeof(*ev));
	int rv = 0;

	pthread_mutex_init(&ev->mu, NULL);
	atomic_init(&ev->stopping, false);
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
	pthread_mutex_destroy(&ev->mu);
	free(ev);
}

void gw_events_attach(struct gw_events *ev, struct gw_req *rq, const char *type,
                      const char *id)
{
	static const char hello[] = ": berth events\n\n";
	struct sse_client *c = berth_calloc(1, sizeof(*c));

	c->ev = ev;
	c->type = type != NULL ? berth_strdup(type) : NULL;
	c->id = id != NULL ? berth_strdup(id) : NULL;
	c->last_ms = berth_clock_mono_ms();
	/* Listed under the lock the pump's CLOSED takes, so a stop that
	 * ends the pump at once still finds (and frees) the client. */
	pthread_mutex_lock(&ev->mu);
	c->pump = gw_pump_start(rq, 200, "text/event-stream", on_pump_event, c);
	if (atomic_load(&ev->stopping))
		gw_pump_finish(c->pump); /* the feed is ending: so is this */
	c->next = ev->clients;
	ev->clients = c;
	/* A first comment, so the client sees the stream is open. */
	client_send(c, hello, sizeof(hello) - 1);
	pthread_mutex_unlock(&ev->mu);
}
