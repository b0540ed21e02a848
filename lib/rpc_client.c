/*
 * rpc_client.c: the client half of berth's RPC core (see rpc.h).
 *
 * One REQ socket per client, dialling (or listening on) every url; nng
 * spreads requests over the connected pipes. Each call has its own
 * nng_ctx and nng_aio, so calls run concurrently on one socket. The
 * deadline is both the aio timeout here and an absolute time in the
 * envelope, so a server that picks the request up too late skips it.
 *
 * A call walks: WAIT_PEER (only when nothing is connected; bounded by
 * PEER_WAIT_MS so a dead service fails fast) -> SEND -> RECV -> done.
 * Asynchronous calls move through the states in the aio callback; the
 * synchronous call drives the same steps on its own thread with
 * nng_aio_wait, which saves a thread hand-off per call.
 */
#include "lib/clock.h"
#include "lib/rpc.h"

#include "lib/alloc.h"
#include "lib/rpc_envelope.h"

#include "berth/v1/rpc.pb-c.h"

#include <errno.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_TIMEOUT_MS 30000
/* How long a call waits for a first server before failing fast. */
#define PEER_WAIT_MS 500
#define PEER_POLL_MS 5
/* Past the deadline, so a resend never fires while the call is live. */
#define RESEND_SLACK_MS 1000
#define URLS_TEXT_MAX   160
#define MAX_URLS        64

enum op_state {
	OP_WAIT_PEER,
	OP_SEND,
	OP_RECV,
};

struct rpc_op {
	struct berth_rpc_client *cli;
	const ProtobufCServiceDescriptor *svc;
	const ProtobufCMethodDescriptor *method;
	nng_ctx ctx;
	bool ctx_open;
	nng_aio *aio;
	nng_msg *req; /* packed Request until sent */
	enum op_state state;
	int timeout_ms;
	int64_t start_ms;       /* monotonic */
	berth_rpc_done_fn done; /* NULL for a synchronous call */
	void *arg;
	struct rpc_op *prev, *next; /* in cli->ops */
};

struct berth_rpc_client {
	nng_socket sock;
	bool sock_open;
	size_t max_msg;
	char urls_text[URLS_TEXT_MAX];
	atomic_int peers;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* peers changed, or an op ended */
	uint32_t *pipes;   /* ids of connected pipes, under mu */
	size_t npipes, apipes;
	struct rpc_op *ops; /* calls under way, under mu */
	int inflight;       /* under mu */
	bool closing;       /* under mu */
};

/* ------------------------------------------------------------- peers */

/* Pipe ids, not a bare counter: a pipe removed before its ADD_POST must
 * not drive the count below the truth. */
static void on_pipe(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct berth_rpc_client *cli = arg;
	uint32_t id = (uint32_t)nng_pipe_id(p);

	pthread_mutex_lock(&cli->mu);
	if (ev == NNG_PIPE_EV_ADD_POST) {
		if (cli->npipes == cli->apipes) {
			cli->apipes = cli->apipes ? cli->apipes * 2 : 8;
			cli->pipes = berth_realloc(
			    cli->pipes, cli->apipes * sizeof(*cli->pipes));
		}
		cli->pipes[cli->npipes++] = id;
	} else if (ev == NNG_PIPE_EV_REM_POST) {
		for (size_t i = 0; i < cli->npipes; i++) {
			if (cli->pipes[i] == id) {
				cli->pipes[i] = cli->pipes[--cli->npipes];
				break;
			}
		}
	}
	atomic_store(&cli->peers, (int)cli->npipes);
	pthread_cond_broadcast(&cli->cv);
	pthread_mutex_unlock(&cli->mu);
}

int berth_rpc_client_peers(const struct berth_rpc_client *cli)
{
	return atomic_load(&((struct berth_rpc_client *)cli)->peers);
}

/* ------------------------------------------------------------ lifecycle */

static void urls_text(struct berth_rpc_client *cli, const char *const *urls,
                      size_t nurls)
{
	size_t off = 0;

	cli->urls_text[0] = '\0';
	for (size_t i = 0; i < nurls && off < sizeof(cli->urls_text); i++) {
		int n = snprintf(cli->urls_text + off,
		                 sizeof(cli->urls_text) - off, "%s%s",
		                 i > 0 ? ", " : "", urls[i]);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

static int client_bind(struct berth_rpc_client *cli, const char *url,
                       bool listen, struct berth_err *err)
{
	int rv;

	if (listen) {
		rv = rpc_url_prepare_listen(url, err);
		if (rv != 0)
			return rv;
		rv = nng_listen(cli->sock, url, NULL, 0);
		if (rv != 0)
			return berth_err_set(err, rpc_code_from_nng(rv),
			                     "cannot listen on %s: %s", url,
			                     nng_strerror(rv));
		return rpc_url_finish_listen(url, err);
	}
	nng_dialer d;

	rv = nng_dialer_create(&d, cli->sock, url);
	if (rv == 0) {
		nng_dialer_set_ms(d, NNG_OPT_RECONNMINT, 100);
		nng_dialer_set_ms(d, NNG_OPT_RECONNMAXT, 2000);
		rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK);
	}
	if (rv != 0)
		return berth_err_set(err, rpc_code_from_nng(rv),
		                     "cannot dial %s: %s", url,
		                     nng_strerror(rv));
	return 0;
}

int berth_rpc_client_alloc(struct berth_rpc_client **out,
                           const char *const *urls, size_t nurls,
                           const struct berth_rpc_client_opts *opts,
                           struct berth_err *err)
{
	struct berth_rpc_client *cli = NULL;
	bool listen = opts != NULL && opts->listen;
	int rv = 0;

	if (nurls == 0 || nurls > MAX_URLS)
		return berth_err_set(err, BERTH_EINVAL,
		                     "an rpc client needs 1 to %d urls",
		                     MAX_URLS);
	for (size_t i = 0; i < nurls; i++) {
		rv = rpc_url_check(urls[i], err);
		if (rv != 0)
			return rv;
	}
	cli = berth_calloc(1, sizeof(*cli));
	cli->max_msg = opts != NULL && opts->max_msg > 0
	    ? opts->max_msg
	    : BERTH_RPC_MAX_MSG_DEFAULT;
	pthread_mutex_init(&cli->mu, NULL);
	pthread_cond_init(&cli->cv, NULL);
	atomic_init(&cli->peers, 0);
	urls_text(cli, urls, nurls);
	rv = nng_req0_open(&cli->sock);
	if (rv != 0) {
		rv = berth_err_set(err, BERTH_EINTERNAL,
		                   "cannot open a REQ socket: %s",
		                   nng_strerror(rv));
		goto out;
	}
	cli->sock_open = true;
	rv = nng_socket_set_size(cli->sock, NNG_OPT_RECVMAXSZ, cli->max_msg);
	if (rv == 0)
		rv = nng_pipe_notify(cli->sock, NNG_PIPE_EV_ADD_POST, on_pipe,
		                     cli);
	if (rv == 0)
		rv = nng_pipe_notify(cli->sock, NNG_PIPE_EV_REM_POST, on_pipe,
		                     cli);
	if (rv != 0) {
		rv = berth_err_set(err, BERTH_EINTERNAL,
		                   "cannot set up the REQ socket: %s",
		                   nng_strerror(rv));
		goto out;
	}
	for (size_t i = 0; i < nurls; i++) {
		rv = client_bind(cli, urls[i], listen, err);
		if (rv != 0)
			goto out;
	}
	*out = cli;
	cli = NULL;
out:
	berth_rpc_client_free(cli);
	return rv;
}

void berth_rpc_client_free(struct berth_rpc_client *cli)
{
	if (cli == NULL)
		return;
	/*
	 * Every call ends before the socket closes: closing the socket
	 * first raced a call's own nng_ctx_close against the socket's
	 * teardown inside nng (seen as an nng panic on a destroyed mutex).
	 * So: refuse new calls, cancel the ones under way (each then fails
	 * with ECANCELLED, runs its callback and closes its context on a
	 * live socket), wait for the last, and only then close the socket.
	 */
	pthread_mutex_lock(&cli->mu);
	cli->closing = true;
	for (struct rpc_op *op = cli->ops; op != NULL; op = op->next)
		nng_aio_cancel(op->aio);
	pthread_cond_broadcast(&cli->cv);
	while (cli->inflight > 0)
		pthread_cond_wait(&cli->cv, &cli->mu);
	pthread_mutex_unlock(&cli->mu);
	if (cli->sock_open)
		nng_close(cli->sock);
	cli->sock_open = false;
	pthread_cond_destroy(&cli->cv);
	pthread_mutex_destroy(&cli->mu);
	free(cli->pipes);
	free(cli);
}

/* ---------------------------------------------------------------- calls */

static int op_remaining(const struct rpc_op *op)
{
	int64_t left = op->start_ms + op->timeout_ms - berth_clock_mono_ms();

	return left > 0 ? (int)left : 0;
}

static int fail_unavail(struct rpc_op *op, struct berth_err *err)
{
	return berth_err_set_retryable(err, BERTH_EUNAVAIL,
	                               "no %s server is reachable at %s",
	                               op->svc->name, op->cli->urls_text);
}

/* Turns an nng failure of a send or receive into the call's error. */
static int fail_nng(struct rpc_op *op, int nrv, struct berth_err *err)
{
	switch (nrv) {
	case NNG_ETIMEDOUT:
		if (berth_rpc_client_peers(op->cli) == 0)
			return fail_unavail(op, err);
		return berth_err_set(
		    err, BERTH_ETIMEDOUT, "%s.%s: no answer within %d ms",
		    op->svc->name, op->method->name, op->timeout_ms);
	case NNG_ECLOSED:
	case NNG_ECANCELED:
		return berth_err_set(err, BERTH_ECANCELLED,
		                     "%s.%s: the client was closed",
		                     op->svc->name, op->method->name);
	default:
		return berth_err_set_retryable(err, BERTH_EUNAVAIL, "%s.%s: %s",
		                               op->svc->name, op->method->name,
		                               nng_strerror(nrv));
	}
}

/* Unpacks a Reply into the output message or the server's error. */
static int op_reply(struct rpc_op *op, nng_msg *msg, ProtobufCMessage **output,
                    struct berth_err *err)
{
	Berth__V1__Reply *rep;
	ProtobufCMessage *o;
	int rv = 0;

	rep = berth__v1__reply__unpack(NULL, nng_msg_len(msg),
	                               nng_msg_body(msg));
	if (rep == NULL)
		return berth_err_set(err, BERTH_EINTERNAL,
		                     "%s.%s: malformed reply envelope",
		                     op->svc->name, op->method->name);
	if (rep->code != BERTH__V1__CODE__OK) {
		int code = -(int)rep->code;

		if (code < BERTH_EUNAUTH)
			code = BERTH_EUNKNOWN;
		berth_err_set(err, code, "%s",
		              rep->message != NULL && rep->message[0] != '\0'
		                  ? rep->message
		                  : berth_strerror(code));
		if (err != NULL)
			err->retryable = rep->retryable;
		rv = code;
		goto out;
	}
	o = protobuf_c_message_unpack(op->method->output, NULL,
	                              rep->payload.len, rep->payload.data);
	if (o == NULL) {
		rv = berth_err_set(
		    err, BERTH_EINTERNAL, "%s.%s: malformed %s in the reply",
		    op->svc->name, op->method->name, op->method->output->name);
		goto out;
	}
	*output = o;
out:
	berth__v1__reply__free_unpacked(rep, NULL);
	return rv;
}

/* Builds the op and its packed Request; no nng state yet. */
static int op_new(struct rpc_op **out, struct berth_rpc_client *cli,
                  const ProtobufCServiceDescriptor *svc, const char *method,
                  const ProtobufCMessage *input,
                  const struct berth_rpc_opts *opts, struct berth_err *err)
{
	Berth__V1__Request req = BERTH__V1__REQUEST__INIT;
	Berth__V1__KeyValue kv[2]
	    = { BERTH__V1__KEY_VALUE__INIT, BERTH__V1__KEY_VALUE__INIT };
	Berth__V1__KeyValue *kvp[2];
	const ProtobufCMethodDescriptor *m;
	struct rpc_op *op;
	uint8_t *payload = NULL;
	size_t n;
	int rv;

	m = protobuf_c_service_descriptor_get_method_by_name(svc, method);
	if (m == NULL)
		return berth_err_set(err, BERTH_EUNIMPL, "%s has no method %s",
		                     svc->name, method);
	if (input == NULL || input->descriptor != m->input)
		return berth_err_set(err, BERTH_EINVAL, "%s.%s takes a %s",
		                     svc->name, method, m->input->name);
	op = berth_calloc(1, sizeof(*op));
	op->cli = cli;
	op->svc = svc;
	op->method = m;
	op->timeout_ms = opts != NULL && opts->timeout_ms > 0
	    ? opts->timeout_ms
	    : DEFAULT_TIMEOUT_MS;
	op->start_ms = berth_clock_mono_ms();

	n = protobuf_c_message_get_packed_size(input);
	if (n > cli->max_msg) {
		rv = berth_err_set(err, BERTH_ELIMIT,
		                   "%s.%s: request of %zu bytes exceeds the "
		                   "limit of %zu bytes",
		                   svc->name, method, n, cli->max_msg);
		goto out;
	}
	payload = berth_malloc(n > 0 ? n : 1);
	protobuf_c_message_pack(input, payload);
	req.service = (char *)svc->name;
	req.method = (char *)m->name;
	if (opts != NULL && opts->request_id != NULL)
		req.request_id = (char *)opts->request_id;
	req.deadline_unix_ms = berth_clock_unix_ms() + op->timeout_ms;
	req.payload.data = payload;
	req.payload.len = n;
	if (opts != NULL && opts->caller != NULL) {
		kv[req.n_metadata].key = "caller";
		kv[req.n_metadata].value = (char *)opts->caller;
		kvp[req.n_metadata] = &kv[req.n_metadata];
		req.n_metadata++;
	}
	if (opts != NULL && opts->trace_id != NULL) {
		kv[req.n_metadata].key = "trace_id";
		kv[req.n_metadata].value = (char *)opts->trace_id;
		kvp[req.n_metadata] = &kv[req.n_metadata];
		req.n_metadata++;
	}
	req.metadata = kvp;
	/* The envelope adds a little: allow it beyond the payload cap. */
	rv = rpc_pack_msg(&op->req, &req.base, cli->max_msg + 4096, err);
out:
	free(payload);
	if (rv != 0) {
		free(op);
		return rv;
	}
	*out = op;
	return 0;
}

/* Opens the op's context; registers it as in flight. */
static int op_open(struct rpc_op *op, const struct berth_rpc_opts *opts,
                   void (*cb)(void *), struct berth_err *err)
{
	struct berth_rpc_client *cli = op->cli;
	bool idem
	    = opts != NULL && (opts->idempotent || opts->request_id != NULL);
	int rv;

	rv = nng_aio_alloc(&op->aio, cb, op);
	if (rv != 0)
		return berth_err_set(err, BERTH_EINTERNAL,
		                     "cannot allocate an aio: %s",
		                     nng_strerror(rv));
	pthread_mutex_lock(&cli->mu);
	if (cli->closing) {
		rv = berth_err_set(err, BERTH_ECANCELLED,
		                   "the rpc client is closing");
		goto out;
	}
	if (cli->inflight >= RPC_MAX_INFLIGHT) {
		rv = berth_err_set_retryable(
		    err, BERTH_ELIMIT,
		    "%s.%s: %d calls are already under "
		    "way; try again shortly",
		    op->svc->name, op->method->name, RPC_MAX_INFLIGHT);
		goto out;
	}
	rv = nng_ctx_open(&op->ctx, cli->sock);
	if (rv != 0) {
		rv = berth_err_set(err, BERTH_ECANCELLED,
		                   "cannot open a REQ context: %s",
		                   nng_strerror(rv));
		goto out;
	}
	op->ctx_open = true;
	/*
	 * Resending is safe only when the server can tell a repeat. Even
	 * then it is for a server that went away (nng resends at once when
	 * the pipe closes, if the resend time is finite), never for one
	 * that is busy: a timer shorter than the call ran a slow handler
	 * again every period, each copy holding a server worker. So the
	 * timer is set past the deadline; without it, a lost pipe fails the
	 * call (retryable) instead of sending it again.
	 */
	nng_ctx_set_ms(op->ctx, NNG_OPT_REQ_RESENDTIME,
	               idem ? op->timeout_ms + RESEND_SLACK_MS
	                    : NNG_DURATION_INFINITE);
	op->next = cli->ops;
	if (cli->ops != NULL)
		cli->ops->prev = op;
	cli->ops = op;
	cli->inflight++;
out:
	pthread_mutex_unlock(&cli->mu);
	if (rv != 0) {
		nng_aio_free(op->aio);
		op->aio = NULL;
	}
	return rv;
}

/* Unregisters the op; after this the client may be freed. */
static void op_close(struct rpc_op *op)
{
	struct berth_rpc_client *cli = op->cli;

	if (op->ctx_open)
		nng_ctx_close(op->ctx);
	if (op->req != NULL)
		nng_msg_free(op->req);
	pthread_mutex_lock(&cli->mu);
	if (op->prev != NULL)
		op->prev->next = op->next;
	else
		cli->ops = op->next;
	if (op->next != NULL)
		op->next->prev = op->prev;
	cli->inflight--;
	pthread_cond_broadcast(&cli->cv);
	pthread_mutex_unlock(&cli->mu);
}

static bool op_client_closing(struct rpc_op *op)
{
	bool closing;

	pthread_mutex_lock(&op->cli->mu);
	closing = op->cli->closing;
	pthread_mutex_unlock(&op->cli->mu);
	return closing;
}

/* Starts the send of the packed request with the time that is left. */
static void op_send(struct rpc_op *op)
{
	op->state = OP_SEND;
	nng_aio_set_msg(op->aio, op->req);
	op->req = NULL; /* the aio holds it; given back if the send fails */
	nng_aio_set_timeout(op->aio,
	                    op_remaining(op) > 0 ? op_remaining(op)
	                                         : NNG_DURATION_ZERO);
	nng_ctx_send(op->ctx, op->aio);
}

/* After a failed send the message is still ours. */
static void op_take_back(struct rpc_op *op)
{
	nng_msg *m = nng_aio_get_msg(op->aio);

	nng_aio_set_msg(op->aio, NULL);
	if (m != NULL)
		nng_msg_free(m);
}

/*
 * Advances an async op after its aio completed. Returns true when the
 * call is over, with rv/output/err set.
 */
static bool op_step(struct rpc_op *op, int *rv, ProtobufCMessage **output,
                    struct berth_err *err)
{
	int nrv = nng_aio_result(op->aio);
	nng_msg *msg;

	switch (op->state) {
	case OP_WAIT_PEER:
		if (nrv == 0 && op_client_closing(op))
			nrv = NNG_ECLOSED;
		if (nrv != 0) {
			*rv = fail_nng(op, nrv, err);
			return true;
		}
		if (berth_rpc_client_peers(op->cli) > 0) {
			op_send(op);
			return false;
		}
		if (berth_clock_mono_ms() - op->start_ms
		    >= (op->timeout_ms < PEER_WAIT_MS ? op->timeout_ms
		                                      : PEER_WAIT_MS)) {
			*rv = fail_unavail(op, err);
			return true;
		}
		nng_sleep_aio(PEER_POLL_MS, op->aio);
		return false;
	case OP_SEND:
		if (nrv != 0) {
			op_take_back(op);
			*rv = fail_nng(op, nrv, err);
			return true;
		}
		/* A close that swept the calls while this send completed
		 * must not find a fresh receive started after its sweep. */
		if (op_client_closing(op)) {
			*rv = fail_nng(op, NNG_ECLOSED, err);
			return true;
		}
		op->state = OP_RECV;
		nng_aio_set_timeout(op->aio,
		                    op_remaining(op) > 0 ? op_remaining(op)
		                                         : NNG_DURATION_ZERO);
		nng_ctx_recv(op->ctx, op->aio);
		return false;
	case OP_RECV:
		if (nrv != 0) {
			*rv = fail_nng(op, nrv, err);
			return true;
		}
		msg = nng_aio_get_msg(op->aio);
		nng_aio_set_msg(op->aio, NULL);
		*rv = op_reply(op, msg, output, err);
		nng_msg_free(msg);
		return true;
	}
	*rv = berth_err_set(err, BERTH_EINTERNAL, "bad call state");
	return true;
}

static void op_cb(void *arg)
{
	struct rpc_op *op = arg;
	ProtobufCMessage *output = NULL;
	struct berth_err err;
	int rv = 0;

	berth_err_clear(&err);
	if (!op_step(op, &rv, &output, &err))
		return;
	op->done(op->arg, rv, rv == 0 ? output : NULL, &err);
	op_close(op);
	/* This is the aio's own callback: it cannot free itself here. */
	nng_aio_reap(op->aio);
	free(op);
}

int berth_rpc_call_async(struct berth_rpc_client *cli,
                         const ProtobufCServiceDescriptor *svc,
                         const char *method, const ProtobufCMessage *input,
                         const struct berth_rpc_opts *opts,
                         berth_rpc_done_fn done, void *arg,
                         struct berth_err *err)
{
	struct rpc_op *op = NULL;
	int rv;

	rv = op_new(&op, cli, svc, method, input, opts, err);
	if (rv != 0)
		return rv;
	op->done = done;
	op->arg = arg;
	rv = op_open(op, opts, op_cb, err);
	if (rv != 0) {
		nng_msg_free(op->req);
		free(op);
		return rv;
	}
	/* Both paths complete through op_cb, never from here. The lock
	 * orders this start before a concurrent free's cancel sweep. */
	pthread_mutex_lock(&cli->mu);
	if (!cli->closing && berth_rpc_client_peers(cli) > 0) {
		op_send(op);
	} else {
		/* No peer yet, or closing: op_cb's wait-peer step decides. */
		op->state = OP_WAIT_PEER;
		nng_sleep_aio(cli->closing ? 0 : PEER_POLL_MS, op->aio);
	}
	pthread_mutex_unlock(&cli->mu);
	return 0;
}

/* Waits (sync calls only) for a first peer; false when none came. */
static bool wait_peer(struct rpc_op *op)
{
	struct berth_rpc_client *cli = op->cli;
	int limit
	    = op->timeout_ms < PEER_WAIT_MS ? op->timeout_ms : PEER_WAIT_MS;
	int64_t until = op->start_ms + limit;
	bool ok;

	pthread_mutex_lock(&cli->mu);
	while (cli->npipes == 0 && !cli->closing
	       && berth_clock_mono_ms() < until) {
		struct timespec ts;
		int64_t left = until - berth_clock_mono_ms();

		/* The condvar runs on CLOCK_REALTIME by default. */
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += left / 1000;
		ts.tv_nsec += (left % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&cli->cv, &cli->mu, &ts);
	}
	ok = cli->npipes > 0;
	pthread_mutex_unlock(&cli->mu);
	return ok;
}

int berth_rpc_call(struct berth_rpc_client *cli,
                   const ProtobufCServiceDescriptor *svc, const char *method,
                   const ProtobufCMessage *input, ProtobufCMessage **output,
                   const struct berth_rpc_opts *opts, struct berth_err *err)
{
	struct rpc_op *op = NULL;
	ProtobufCMessage *o = NULL;
	int rv;

	rv = op_new(&op, cli, svc, method, input, opts, err);
	if (rv != 0)
		return rv;
	rv = op_open(op, opts, NULL, err);
	if (rv != 0) {
		nng_msg_free(op->req);
		free(op);
		return rv;
	}
	if (berth_rpc_client_peers(cli) == 0 && !wait_peer(op)) {
		rv = op_client_closing(op) ? fail_nng(op, NNG_ECLOSED, err)
		                           : fail_unavail(op, err);
		goto out;
	}
	/* Under the lock, so a concurrent free's cancel sweep either sees
	 * this send or has already marked the client closing. */
	pthread_mutex_lock(&cli->mu);
	if (cli->closing) {
		pthread_mutex_unlock(&cli->mu);
		rv = fail_nng(op, NNG_ECLOSED, err);
		goto out;
	}
	op_send(op);
	pthread_mutex_unlock(&cli->mu);
	nng_aio_wait(op->aio);
	if (!op_step(op, &rv, &o, err)) {
		/* The send went through; op_step started the receive. */
		nng_aio_wait(op->aio);
		op_step(op, &rv, &o, err);
	}
out:
	op_close(op);
	nng_aio_free(op->aio);
	free(op);
	if (rv == 0)
		*output = o;
	return rv;
}
