/*
 * rpc_server.c: the server half of berth's RPC core (see rpc.h).
 *
 * One REP socket, served by a pool of worker threads. Each worker owns
 * an nng_ctx and an nng_aio and loops: receive a Request envelope, find
 * the service by its descriptor name and the method through the
 * generated descriptor, unpack the input, call the generated `invoke`,
 * send the Reply. Handlers may block: each holds only its own worker.
 *
 * Closing: idle workers are parked in a receive that close() cancels;
 * busy ones finish their handler, send the reply and then see the stop
 * flag. Only when every worker has been joined is the socket closed, so
 * a request being handled is still answered.
 */
#include "lib/clock.h"
#include "lib/rpc.h"

#include "lib/alloc.h"
#include "lib/rpc_envelope.h"

#include "berth/v1/rpc.pb-c.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_WORKERS 8
#define MAX_WORKERS     256
#define MAX_SERVICES    32
/* A reply the peer does not take within this long is dropped. */
#define SEND_TIMEOUT_MS 5000

enum worker_state {
	WORKER_IDLE, /* not in an nng operation */
	WORKER_RECV, /* parked in ctx_recv: close() may cancel it */
	WORKER_BUSY, /* handling a request or sending its reply */
};

struct worker {
	struct berth_rpc_server *srv;
	nng_ctx ctx;
	nng_aio *aio;
	pthread_t thread;
	bool ctx_open;
	bool running;
	enum worker_state state; /* under srv->mu */
};

struct berth_rpc_server {
	char *url;
	size_t max_msg;
	int nworkers;
	bool dial;
	nng_socket sock;
	bool sock_open;
	ProtobufCService *services[MAX_SERVICES];
	size_t nservices;
	struct worker *workers;
	pthread_mutex_t mu;
	bool started;  /* under mu */
	bool stopping; /* under mu */
	bool closed;   /* under mu */
};

/* One request being handled; the handler's closure_data. */
struct berth_rpc_call {
	struct berth_rpc_server *srv;
	struct worker *w; /* the worker handling it (its ctx and aio) */
	const Berth__V1__Request *req;
	bool answered;
	nng_msg *reply; /* packed Reply once answered; nng's once sent */
	bool sending;   /* the reply's send was started on w->aio */
	bool failed;
	int fail_code;
	bool fail_retryable;
	char fail_msg[BERTH_ERR_MSG_MAX];
};

int berth_rpc_server_alloc(struct berth_rpc_server **out, const char *url,
                           const struct berth_rpc_server_opts *opts,
                           struct berth_err *err)
{
	struct berth_rpc_server *srv = NULL;
	int rv;

	rv = rpc_url_check(url, err);
	if (rv != 0)
		return rv;
	srv = berth_calloc(1, sizeof(*srv));
	srv->url = berth_strdup(url);
	srv->max_msg = BERTH_RPC_MAX_MSG_DEFAULT;
	srv->nworkers = DEFAULT_WORKERS;
	pthread_mutex_init(&srv->mu, NULL);
	if (opts != NULL) {
		if (opts->max_msg > 0)
			srv->max_msg = opts->max_msg;
		if (opts->workers > 0)
			srv->nworkers = opts->workers < MAX_WORKERS
			    ? opts->workers
			    : MAX_WORKERS;
		srv->dial = opts->dial;
	}
	rv = nng_rep0_open(&srv->sock);
	if (rv != 0) {
		rv = berth_err_set(err, BERTH_EINTERNAL,
		                   "cannot open a REP socket: %s",
		                   nng_strerror(rv));
		goto out;
	}
	srv->sock_open = true;
	rv = nng_socket_set_size(srv->sock, NNG_OPT_RECVMAXSZ, srv->max_msg);
	if (rv != 0) {
		rv = berth_err_set(err, BERTH_EINTERNAL,
		                   "cannot set the message limit: %s",
		                   nng_strerror(rv));
		goto out;
	}
	*out = srv;
	srv = NULL;
out:
	berth_rpc_server_free(srv);
	return rv;
}

int berth_rpc_server_add_service(struct berth_rpc_server *srv,
                                 ProtobufCService *service,
                                 struct berth_err *err)
{
	int rv = 0;

	if (service == NULL || service->descriptor == NULL
	    || service->invoke == NULL)
		return berth_err_set(err, BERTH_EINVAL,
		                     "service without descriptor or invoke");
	pthread_mutex_lock(&srv->mu);
	if (srv->started) {
		rv = berth_err_set(err, BERTH_EPRECOND,
		                   "add services before starting the server");
		goto out;
	}
	for (size_t i = 0; i < srv->nservices; i++) {
		if (strcmp(srv->services[i]->descriptor->name,
		           service->descriptor->name)
		    == 0) {
			rv = berth_err_set(err, BERTH_EEXISTS,
			                   "service %s is already registered",
			                   service->descriptor->name);
			goto out;
		}
	}
	if (srv->nservices == MAX_SERVICES) {
		rv = berth_err_set(err, BERTH_ELIMIT,
		                   "too many services on one server (max %d)",
		                   MAX_SERVICES);
		goto out;
	}
	srv->services[srv->nservices++] = service;
out:
	pthread_mutex_unlock(&srv->mu);
	return rv;
}

/* ------------------------------------------------------------ the call */

const char *berth_rpc_call_request_id(const struct berth_rpc_call *call)
{
	return call->req->request_id != NULL ? call->req->request_id : "";
}

const char *berth_rpc_call_metadata(const struct berth_rpc_call *call,
                                    const char *key)
{
	for (size_t i = 0; i < call->req->n_metadata; i++) {
		const Berth__V1__KeyValue *kv = call->req->metadata[i];

		if (kv->key != NULL && strcmp(kv->key, key) == 0)
			return kv->value;
	}
	return NULL;
}

int64_t berth_rpc_call_deadline_ms(const struct berth_rpc_call *call)
{
	return call->req->deadline_unix_ms;
}

static void call_vfail(struct berth_rpc_call *call, int code, bool retryable,
                       const char *fmt, va_list ap)
{
	call->failed = true;
	call->fail_code = code;
	call->fail_retryable = retryable;
	vsnprintf(call->fail_msg, sizeof(call->fail_msg), fmt, ap);
}

void berth_rpc_call_fail(struct berth_rpc_call *call, int code, bool retryable,
                         const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	call_vfail(call, code, retryable, fmt, ap);
	va_end(ap);
}

void berth_rpc_call_fail_err(struct berth_rpc_call *call,
                             const struct berth_err *err)
{
	int code = err != NULL ? err->code : BERTH_EINTERNAL;

	berth_rpc_call_fail(call, code, err != NULL && err->retryable, "%s",
	                    err != NULL && err->msg[0] != '\0'
	                        ? err->msg
	                        : berth_strerror(code));
}

/* Packs a Reply; a reply too large to pack becomes a small error one. */
static void call_reply(struct berth_rpc_call *call, int code, bool retryable,
                       const char *message, const ProtobufCMessage *out)
{
	Berth__V1__Reply rep = BERTH__V1__REPLY__INIT;
	uint8_t *payload = NULL;
	size_t n = 0;
	int rv;

	/* berth codes are gRPC codes negated; anything else is a bug. */
	if (code > 0 || code < BERTH_EUNAUTH)
		code = BERTH_EINTERNAL;
	if (out != NULL) {
		n = protobuf_c_message_get_packed_size(out);
		if (n > call->srv->max_msg) {
			call_reply(call, BERTH_ELIMIT, false,
			           "the reply is larger than the message limit",
			           NULL);
			return;
		}
		payload = berth_malloc(n > 0 ? n : 1);
		protobuf_c_message_pack(out, payload);
		rep.payload.data = payload;
		rep.payload.len = n;
	}
	rep.code = (Berth__V1__Code)(-code);
	rep.message = (char *)(message != NULL ? message : "");
	rep.retryable = retryable;
	rv = rpc_pack_msg(&call->reply, &rep.base, call->srv->max_msg + 1024,
	                  NULL);
	free(payload);
	if (rv != 0)
		call->reply = NULL;
	call->answered = true;
}

/*
 * Starts sending the packed reply without waiting for it: what the
 * handler does after answering (freeing, a store write) then runs while
 * the reply travels. The worker waits for the send before it receives
 * again (call_finish). Never blocks, so a handler may answer while it
 * holds a lock.
 */
static void call_send_start(struct berth_rpc_call *call)
{
	if (call->reply == NULL || call->sending)
		return;
	nng_aio_set_msg(call->w->aio, call->reply);
	nng_aio_set_timeout(call->w->aio, SEND_TIMEOUT_MS);
	nng_ctx_send(call->w->ctx, call->w->aio);
	call->sending = true;
}

/* After the handler: the reply is sent (or dropped) before the worker
 * takes the next request. */
static void call_finish(struct berth_rpc_call *call)
{
	call_send_start(call);
	if (!call->sending)
		return; /* cannot pack even an error: let it time out */
	nng_aio_wait(call->w->aio);
	if (nng_aio_result(call->w->aio) != 0)
		nng_msg_free(call->reply);
	call->reply = NULL;
}

/* The closure every generated handler receives. */
static void call_closure(const ProtobufCMessage *msg, void *closure_data)
{
	struct berth_rpc_call *call = closure_data;

	if (call->answered)
		return; /* a second answer is a handler bug; the first wins */
	if (msg != NULL) {
		call_reply(call, BERTH_OK, false, NULL, msg);
	} else if (call->failed && call->fail_code != BERTH_OK) {
		call_reply(call, call->fail_code, call->fail_retryable,
		           call->fail_msg, NULL);
	} else {
		call_reply(call, BERTH_EINTERNAL, false,
		           "the handler failed without a reason", NULL);
	}
	call_send_start(call);
}

static ProtobufCService *find_service(struct berth_rpc_server *srv,
                                      const char *name)
{
	/* services[] is fixed once the workers run: no lock needed. */
	for (size_t i = 0; i < srv->nservices; i++)
		if (strcmp(srv->services[i]->descriptor->name, name) == 0)
			return srv->services[i];
	return NULL;
}

/* Handles one received request; leaves the reply in call->reply. */
static void handle(struct berth_rpc_call *call, nng_msg *in)
{
	struct berth_rpc_server *srv = call->srv;
	Berth__V1__Request *req;
	ProtobufCService *svc;
	const ProtobufCMethodDescriptor *m;
	ProtobufCMessage *input;
	int64_t deadline;

	req = berth__v1__request__unpack(NULL, nng_msg_len(in),
	                                 nng_msg_body(in));
	if (req == NULL) {
		call_reply(call, BERTH_EINVAL, false,
		           "malformed request envelope", NULL);
		return;
	}
	call->req = req;
	deadline = req->deadline_unix_ms;
	if (deadline > 0 && berth_clock_unix_ms() >= deadline) {
		call_reply(call, BERTH_ETIMEDOUT, true,
		           "the deadline passed before the request was handled",
		           NULL);
		goto out;
	}
	svc = find_service(srv, req->service);
	if (svc == NULL) {
		char msg[BERTH_ERR_MSG_MAX];

		snprintf(msg, sizeof(msg), "no service %s here", req->service);
		call_reply(call, BERTH_EUNIMPL, false, msg, NULL);
		goto out;
	}
	m = protobuf_c_service_descriptor_get_method_by_name(svc->descriptor,
	                                                     req->method);
	if (m == NULL) {
		char msg[BERTH_ERR_MSG_MAX];

		snprintf(msg, sizeof(msg), "%s has no method %s", req->service,
		         req->method);
		call_reply(call, BERTH_EUNIMPL, false, msg, NULL);
		goto out;
	}
	input = protobuf_c_message_unpack(m->input, NULL, req->payload.len,
	                                  req->payload.data);
	if (input == NULL) {
		char msg[BERTH_ERR_MSG_MAX];

		snprintf(msg, sizeof(msg), "malformed %s for %s.%s",
		         m->input->name, req->service, req->method);
		call_reply(call, BERTH_EINVAL, false, msg, NULL);
		goto out;
	}
	svc->invoke(svc, (unsigned)(m - svc->descriptor->methods), input,
	            call_closure, call);
	protobuf_c_message_free_unpacked(input, NULL);
	if (!call->answered) {
		char msg[BERTH_ERR_MSG_MAX];

		snprintf(msg, sizeof(msg), "%s.%s returned without answering",
		         req->service, req->method);
		call_reply(call, BERTH_EINTERNAL, false, msg, NULL);
	}
out:
	call->req = NULL;
	berth__v1__request__free_unpacked(req, NULL);
}

/* Moves to `next` unless the server is stopping; false = exit. */
static bool worker_enter(struct worker *w, enum worker_state next)
{
	struct berth_rpc_server *srv = w->srv;
	bool go;

	pthread_mutex_lock(&srv->mu);
	go = !srv->stopping;
	w->state = go ? next : WORKER_IDLE;
	if (go && next == WORKER_RECV) {
		/* Started under the lock so close() sees it to cancel. */
		nng_aio_set_timeout(w->aio, NNG_DURATION_INFINITE);
		nng_ctx_recv(w->ctx, w->aio);
	}
	pthread_mutex_unlock(&srv->mu);
	return go;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	while (worker_enter(w, WORKER_RECV)) {
		struct berth_rpc_call call;
		nng_msg *in;
		int rv;

		nng_aio_wait(w->aio);
		rv = nng_aio_result(w->aio);
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
			break;
		if (rv != 0)
			continue; /* a transient receive error */
		pthread_mutex_lock(&w->srv->mu);
		w->state = WORKER_BUSY;
		pthread_mutex_unlock(&w->srv->mu);
		in = nng_aio_get_msg(w->aio);
		memset(&call, 0, sizeof(call));
		call.srv = w->srv;
		call.w = w;
		handle(&call, in);
		nng_msg_free(in);
		call_finish(&call);
	}
	return NULL;
}

static int server_bind(struct berth_rpc_server *srv, struct berth_err *err)
{
	int rv;

	if (srv->dial) {
		nng_dialer d;

		rv = nng_dialer_create(&d, srv->sock, srv->url);
		if (rv == 0) {
			nng_dialer_set_ms(d, NNG_OPT_RECONNMINT, 100);
			nng_dialer_set_ms(d, NNG_OPT_RECONNMAXT, 2000);
			rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK);
		}
		if (rv != 0)
			return berth_err_set(err, rpc_code_from_nng(rv),
			                     "cannot dial %s: %s", srv->url,
			                     nng_strerror(rv));
		return 0;
	}
	rv = rpc_url_prepare_listen(srv->url, err);
	if (rv != 0)
		return rv;
	rv = nng_listen(srv->sock, srv->url, NULL, 0);
	if (rv != 0)
		return berth_err_set(err, rpc_code_from_nng(rv),
		                     "cannot listen on %s: %s", srv->url,
		                     nng_strerror(rv));
	return rpc_url_finish_listen(srv->url, err);
}

int berth_rpc_server_start(struct berth_rpc_server *srv, struct berth_err *err)
{
	int rv;

	pthread_mutex_lock(&srv->mu);
	if (srv->started || srv->closed) {
		pthread_mutex_unlock(&srv->mu);
		return berth_err_set(err, BERTH_EPRECOND,
		                     "the server was already started");
	}
	srv->started = true;
	pthread_mutex_unlock(&srv->mu);

	srv->workers
	    = berth_calloc((size_t)srv->nworkers, sizeof(*srv->workers));
	for (int i = 0; i < srv->nworkers; i++) {
		struct worker *w = &srv->workers[i];

		w->srv = srv;
		rv = nng_ctx_open(&w->ctx, srv->sock);
		if (rv == 0) {
			w->ctx_open = true;
			rv = nng_aio_alloc(&w->aio, NULL, NULL);
		}
		if (rv != 0) {
			rv = berth_err_set(err, BERTH_EINTERNAL,
			                   "cannot make a worker context: %s",
			                   nng_strerror(rv));
			goto out;
		}
	}
	/* Workers first: a request that arrives at once finds a receiver. */
	for (int i = 0; i < srv->nworkers; i++) {
		struct worker *w = &srv->workers[i];

		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			rv = berth_err_set(err, BERTH_EINTERNAL,
			                   "cannot start a worker thread");
			goto out;
		}
		w->running = true;
	}
	rv = server_bind(srv, err);
out:
	if (rv != 0)
		berth_rpc_server_close(srv);
	return rv;
}

void berth_rpc_server_close(struct berth_rpc_server *srv)
{
	if (srv == NULL)
		return;
	pthread_mutex_lock(&srv->mu);
	if (srv->closed) {
		pthread_mutex_unlock(&srv->mu);
		return;
	}
	srv->closed = true;
	srv->stopping = true;
	/* Idle workers leave now; busy ones after sending their reply. */
	for (int i = 0; srv->workers != NULL && i < srv->nworkers; i++)
		if (srv->workers[i].state == WORKER_RECV)
			nng_aio_cancel(srv->workers[i].aio);
	pthread_mutex_unlock(&srv->mu);

	for (int i = 0; srv->workers != NULL && i < srv->nworkers; i++) {
		struct worker *w = &srv->workers[i];

		if (w->running)
			pthread_join(w->thread, NULL);
		w->running = false;
		if (w->ctx_open)
			nng_ctx_close(w->ctx);
		w->ctx_open = false;
		nng_aio_free(w->aio);
		w->aio = NULL;
	}
	if (srv->sock_open)
		nng_close(srv->sock);
	srv->sock_open = false;
}

void berth_rpc_server_free(struct berth_rpc_server *srv)
{
	if (srv == NULL)
		return;
	berth_rpc_server_close(srv);
	free(srv->workers);
	pthread_mutex_destroy(&srv->mu);
	free(srv->url);
	free(srv);
}
