/*
 * server.c: the gateway's HTTP side: the libmicrohttpd daemon, the life
 * of one request, and the bridge to asynchronous RPCs.
 *
 * A request goes: first call (remember it in *con_cls; answer later, or
 * keep-alive dies in MHD 0.9.75) -> upload calls (into a capped buffer)
 * -> final call (authenticate, route, validate, start the RPC, suspend)
 * -> the done callback on an nng thread stores the reply and resumes ->
 * the next call builds and queues the response. The request struct is
 * reference counted: MHD holds one reference until NOTIFY_COMPLETED and
 * an RPC under way holds another, so neither side frees it under the
 * other.
 */
#include "gateway/gateway.h"

#include "gateway/auth.h"
#include "gateway/events_sub.h"
#include "gateway/json_map.h"
#include "gateway/pump.h"
#include "gateway/request.h"
#include "gateway/respond.h"
#include "gateway/router.h"

#include "lib/alloc.h"
#include "lib/clock.h"
#include "lib/jobs.h"
#include "lib/log.h"
#include "lib/rpc.h"
#include "lib/validate.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MAX_BODY   (1024u * 1024u)
#define DEFAULT_TIMEOUT_MS 30000
/* With no runtime connected, wait this long for one before a 503. */
#define NO_PEER_WAIT_MS 3000
/* A chunked body may overrun the cap by this factor before the
 * connection is dropped instead of answered. */
#define DISCARD_FACTOR 4
#define STOP_WAIT_MS   10000
/* Largest RPC message either way; the runtime accepts as much. */
#define GW_RPC_MAX_MSG (80u * 1024u * 1024u)

/* ------------------------------------------------------------- requests */

static struct gw_req *req_new(struct berth_gateway *gw,
                              struct MHD_Connection *conn, const char *method,
                              const char *url)
{
	struct gw_req *rq = berth_calloc(1, sizeof(*rq));
	const struct gw_route *route;
	struct berth_err err;

	rq->gw = gw;
	rq->conn = conn;
	atomic_init(&rq->refs, 1);
	rq->state = GW_REQ_READING;
	rq->start_ms = berth_clock_mono_ms();
	rq->method = berth_strdup(method);
	rq->path = berth_strdup(url);
	route = gw_route_peek(method, url);
	rq->max_body = route != NULL && route->max_body > 0 ? route->max_body
	                                                    : gw->max_body;
	berth_buf_init(&rq->body, rq->max_body);
	pthread_mutex_init(&rq->mu, NULL);
	if (berth_uuid_v4(rq->request_id, &err) != 0)
		snprintf(rq->request_id, sizeof(rq->request_id), "gw-%lld",
		         (long long)rq->start_ms);
	return rq;
}

static void req_unref(struct gw_req *rq)
{
	if (rq == NULL || atomic_fetch_sub(&rq->refs, 1) != 1)
		return;
	free(rq->method);
	free(rq->path);
	berth_buf_fini(&rq->body);
	for (size_t i = 0; i < rq->nparams; i++)
		free(rq->params[i]);
	gw_container_spec_free(rq->spec);
	for (size_t i = 0; i < rq->nlabel_kvs; i++) {
		free(rq->label_kvs[i].key);
		free(rq->label_kvs[i].value);
	}
	free(rq->label_kvs);
	free(rq->label_ptrs);
	free(rq->scratch);
	if (rq->ext_free != NULL)
		rq->ext_free(rq->ext);
	gw_pump_release(rq->pump);
	if (rq->rpc_out != NULL)
		protobuf_c_message_free_unpacked(rq->rpc_out, NULL);
	gw_response_fini(rq);
	pthread_mutex_destroy(&rq->mu);
	free(rq);
}

const char *gw_req_query(struct gw_req *rq, const char *key)
{
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND,
	                                   key);
}

const char *gw_req_header(struct gw_req *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

struct query_check {
	const char *const *allowed;
	char bad[80];
};

static enum MHD_Result query_key_cb(void *cls, enum MHD_ValueKind kind,
                                    const char *key, const char *value)
{
	struct query_check *qc = cls;

	(void)kind;
	(void)value;
	for (size_t i = 0; qc->allowed[i] != NULL; i++)
		if (strcmp(key, qc->allowed[i]) == 0)
			return MHD_YES;
	/* Printable ASCII only: the key goes into a message. */
	size_t j = 0;
	for (size_t i = 0; key[i] != '\0' && j + 1 < sizeof(qc->bad) && i < 64;
	     i++) {
		unsigned char c = (unsigned char)key[i];

		qc->bad[j++]
		    = (c > 0x20 && c < 0x7f && c != '"') ? (char)c : '?';
	}
	qc->bad[j] = '\0';
	return MHD_NO;
}

int gw_req_query_only(struct gw_req *rq, const char *const *allowed)
{
	struct query_check qc = { .allowed = allowed, .bad = "" };
	int n;

	n = MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND,
	                              query_key_cb, &qc);
	(void)n;
	if (qc.bad[0] == '\0')
		return 0;
	gw_respond_error(rq, BERTH_EINVAL, false,
	                 "unknown query parameter \"%s\"", qc.bad);
	return BERTH_EINVAL;
}

/* At most this many ?label=k=v filters on a list. */
#define MAX_LABEL_FILTERS 32

struct label_collect {
	struct gw_req *rq;
	int rv;
	struct berth_err err;
};

static enum MHD_Result label_cb(void *cls, enum MHD_ValueKind kind,
                                const char *key, const char *value)
{
	struct label_collect *lc = cls;
	struct gw_req *rq = lc->rq;
	const char *eq;
	char *k;

	(void)kind;
	if (strcmp(key, "label") != 0)
		return MHD_YES;
	if (rq->nlabel_kvs == MAX_LABEL_FILTERS) {
		lc->rv = berth_err_set(&lc->err, BERTH_EINVAL,
		                       "label: at most %d filters",
		                       MAX_LABEL_FILTERS);
		return MHD_NO;
	}
	if (value == NULL || (eq = strchr(value, '=')) == NULL) {
		lc->rv = berth_err_set(&lc->err, BERTH_EINVAL,
		                       "label: expected key=value");
		return MHD_NO;
	}
	k = berth_strndup(value, (size_t)(eq - value));
	/* Filtering by berth's own labels (berth.owner, ...) is fine:
	 * only setting them is reserved. */
	lc->rv = berth_validate_label_key(
	    "label", strncmp(k, "berth.", 6) == 0 ? k + 6 : k, &lc->err);
	if (lc->rv == 0)
		lc->rv = berth_validate_text("label", eq + 1, 4096, &lc->err);
	if (lc->rv != 0) {
		free(k);
		return MHD_NO;
	}
	Berth__V1__KeyValue *kv = &rq->label_kvs[rq->nlabel_kvs];

	berth__v1__key_value__init(kv);
	kv->key = k;
	kv->value = berth_strdup(eq + 1);
	rq->label_ptrs[rq->nlabel_kvs] = kv;
	rq->nlabel_kvs++;
	return MHD_YES;
}

int gw_req_label_filters(struct gw_req *rq)
{
	struct label_collect lc = { .rq = rq, .rv = 0 };

	rq->label_kvs = berth_calloc(MAX_LABEL_FILTERS, sizeof(*rq->label_kvs));
	rq->label_ptrs = berth_calloc(MAX_LABEL_FILTERS, sizeof(void *));
	MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, label_cb,
	                          &lc);
	if (lc.rv != 0) {
		gw_respond_err(rq, &lc.err);
		return lc.rv;
	}
	return 0;
}

/* ------------------------------------------------------------------ RPC */

static void on_rpc_done(void *arg, int rv, ProtobufCMessage *output,
                        const struct berth_err *err)
{
	struct gw_req *rq = arg;
	struct berth_gateway *gw = rq->gw;

	pthread_mutex_lock(&rq->mu);
	rq->rpc_rv = rv;
	rq->rpc_out = rv == 0 ? output : NULL;
	if (rv != 0) {
		if (err != NULL)
			rq->rpc_err = *err;
		if (rq->rpc_err.code == 0)
			berth_err_set(&rq->rpc_err, rv, "%s",
			              berth_strerror(rv));
		/* Nobody to talk to is "unavailable", not "slow". */
		if (rv == BERTH_ETIMEDOUT && rq->rpc_no_peers)
			berth_err_set_retryable(&rq->rpc_err, BERTH_EUNAVAIL,
			                        "the runtime service is not "
			                        "reachable; try again shortly");
	}
	rq->rpc_done = true;
	pthread_mutex_unlock(&rq->mu);
	pthread_mutex_lock(&gw->mu);
	if (rv == BERTH_ECANCELLED && gw->stopping)
		berth_err_set_retryable(&rq->rpc_err, BERTH_EUNAVAIL,
		                        "the gateway is shutting down");
	pthread_mutex_unlock(&gw->mu);
	if (rv != 0 && output != NULL)
		protobuf_c_message_free_unpacked(output, NULL);
	MHD_resume_connection(rq->conn);
	atomic_fetch_sub(&gw->inflight, 1);
	req_unref(rq);
}

void gw_rpc_start(struct gw_req *rq, const char *method,
                  const ProtobufCMessage *input, bool mutating, int timeout_ms,
                  gw_finish_fn finish)
{
	struct berth_gateway *gw = rq->gw;
	struct berth_rpc_opts o = { 0 };
	struct berth_err err;
	int rv;

	berth_err_clear(&err);
	o.timeout_ms = timeout_ms > 0 ? timeout_ms : DEFAULT_TIMEOUT_MS;
	o.request_id = mutating ? rq->request_id : NULL;
	/* Reads, and writes carrying a request id, may be resent. */
	o.idempotent = !rq->no_resend;
	o.caller = rq->caller;
	o.trace_id = rq->request_id;
	rq->finish = finish;
	rq->state = GW_REQ_WAITING;
	/* Suspend first: the done callback may run on an nng thread as
	 * soon as the call is started, and its resume must come after. */
	MHD_suspend_connection(rq->conn);
	atomic_fetch_add(&rq->refs, 1);

	pthread_mutex_lock(&gw->mu);
	if (gw->stopping) {
		rv = berth_err_set_retryable(&err, BERTH_EUNAVAIL,
		                             "the gateway is shutting down");
	} else {
		rq->rpc_no_peers = berth_rpc_client_peers(gw->rpc) == 0;
		if (rq->rpc_no_peers && o.timeout_ms > NO_PEER_WAIT_MS)
			o.timeout_ms = NO_PEER_WAIT_MS;
		atomic_fetch_add(&gw->inflight, 1);
		rv = berth_rpc_call_async(
		    gw->rpc, &berth__v1__runtime__descriptor, method, input, &o,
		    on_rpc_done, rq, &err);
		if (rv != 0)
			atomic_fetch_sub(&gw->inflight, 1);
	}
	pthread_mutex_unlock(&gw->mu);
	if (rv != 0) {
		/* `done` will not run: answer now. MHD still holds its
		 * reference, so this one is never the last. */
		atomic_fetch_sub(&rq->refs, 1);
		if (err.code == 0)
			berth_err_set(&err, rv, "%s", berth_strerror(rv));
		gw_respond_err(rq, &err);
		MHD_resume_connection(rq->conn);
	}
}

/* On an MHD thread, after the resume: the reply becomes the response. */
static void rpc_complete(struct gw_req *rq)
{
	pthread_mutex_lock(&rq->mu);
	if (rq->rpc_rv != 0 && !rq->finish_errors) {
		gw_respond_err(rq, &rq->rpc_err);
	} else {
		rq->finish(rq, rq->rpc_out);
	}
	if (rq->rpc_out != NULL) {
		protobuf_c_message_free_unpacked(rq->rpc_out, NULL);
		rq->rpc_out = NULL;
	}
	pthread_mutex_unlock(&rq->mu);
}

/* ------------------------------------------------------------- dispatch */

/* Whether Content-Type `ct` names `type` (parameters allowed). */
static bool is_media_type(const char *ct, const char *type)
{
	size_t n = strlen(type);

	return ct != NULL && strncasecmp(ct, type, n) == 0
	    && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static bool is_json_type(const char *ct)
{
	return is_media_type(ct, "application/json");
}

/* The path, made safe for one log line or message. */
static void safe_path(char *dst, size_t n, const char *path)
{
	size_t j = 0;

	for (size_t i = 0; path[i] != '\0' && j + 1 < n; i++) {
		unsigned char c = (unsigned char)path[i];

		dst[j++] = (c > 0x20 && c < 0x7f && c != '"') ? (char)c : '?';
	}
	dst[j] = '\0';
}

static void dispatch(struct gw_req *rq)
{
	const struct gw_route *route = NULL;
	struct berth_err err;
	char allow[64], path[160];
	const char *idem;
	enum gw_match m;
	int rv;

	berth_err_clear(&err);
	m = gw_route_find(rq, &route, allow, sizeof(allow));
	if (m != GW_MATCH_OK || !route->public_route) {
		/* Unknown paths too: nothing is revealed before auth. */
		rv = gw_auth_check(
		    rq->gw->auth,
		    gw_req_header(rq, MHD_HTTP_HEADER_AUTHORIZATION),
		    rq->caller, &err);
		if (rv != 0) {
			gw_respond_err(rq, &err);
			return;
		}
	}
	safe_path(path, sizeof(path), rq->path);
	if (m == GW_MATCH_NOT_FOUND) {
		gw_respond_error(rq, BERTH_ENOTFOUND, false,
		                 "no such endpoint: %s %s", rq->method, path);
		return;
	}
	if (m == GW_MATCH_BAD_METHOD) {
		char msg[BERTH_ERR_MSG_MAX];

		snprintf(msg, sizeof(msg), "%s does not take %s; allowed: %s",
		         path, rq->method, allow);
		gw_respond_header(rq, "Allow", allow);
		gw_respond_error_http(rq, 405, "METHOD_NOT_ALLOWED", msg);
		return;
	}
	if (rq->too_large) {
		char msg[BERTH_ERR_MSG_MAX];

		snprintf(msg, sizeof(msg),
		         "request body is larger than %zu bytes", rq->max_body);
		gw_respond_error_http(rq, 413, "RESOURCE_EXHAUSTED", msg);
		return;
	}
	if (rq->body.len > 0 && route->body_type == NULL
	    && !is_json_type(gw_req_header(rq, MHD_HTTP_HEADER_CONTENT_TYPE))) {
		gw_respond_error_http(
		    rq, 415, "INVALID_ARGUMENT",
		    "the body must be JSON: send Content-Type: "
		    "application/json");
		return;
	}
	if (rq->body.len > 0 && route->body_type != NULL
	    && !is_media_type(gw_req_header(rq, MHD_HTTP_HEADER_CONTENT_TYPE),
	                      route->body_type)) {
		char msg[BERTH_ERR_MSG_MAX];

		snprintf(msg, sizeof(msg),
		         "the body must be %s: send Content-Type: %s",
		         route->body_type, route->body_type);
		gw_respond_error_http(rq, 415, "INVALID_ARGUMENT", msg);
		return;
	}
	idem = gw_req_header(rq, "Idempotency-Key");
	if (idem != NULL) {
		rv = berth_validate_request_id("Idempotency-Key", idem, &err);
		if (rv != 0) {
			gw_respond_err(rq, &err);
			return;
		}
		snprintf(rq->request_id, sizeof(rq->request_id), "%s", idem);
		rq->has_idem_key = true;
	}
	route->handler(rq);
}

/* ------------------------------------------------------------------ MHD */

static enum MHD_Result queue(struct gw_req *rq)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = gw_response_build(rq);
	if (resp == NULL)
		return MHD_NO;
	ret = MHD_queue_response(rq->conn, (unsigned int)rq->status, resp);
	MHD_destroy_response(resp);
	rq->state = GW_REQ_SENT;
	return ret;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn,
                                 const char *url, const char *method,
                                 const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
	struct berth_gateway *gw = cls;
	struct gw_req *rq = *con_cls;
	bool done;

	(void)version;
	if (rq == NULL) {
		const char *cl;

		rq = req_new(gw, conn, method, url);
		*con_cls = rq;
		/* A declared body over the cap is refused before it is
		 * read: MHD then closes instead of reading it. */
		cl = MHD_lookup_connection_value(
		    conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && strtoull(cl, NULL, 10) > rq->max_body) {
			char msg[BERTH_ERR_MSG_MAX];

			snprintf(msg, sizeof(msg),
			         "request body is larger than %zu bytes",
			         rq->max_body);
			gw_respond_error_http(rq, 413, "RESOURCE_EXHAUSTED",
			                      msg);
			return queue(rq);
		}
		return MHD_YES;
	}
	switch (rq->state) {
	case GW_REQ_READING:
		if (*upload_data_size > 0) {
			if (!rq->too_large
			    && berth_buf_append(&rq->body, upload_data,
			                        *upload_data_size)
			        != 0) {
				rq->too_large = true;
				berth_buf_fini(&rq->body);
				berth_buf_init(&rq->body, rq->max_body);
			}
			if (rq->too_large) {
				/* Stop buffering; drop a body that will not
				 * end. */
				rq->discarded += *upload_data_size;
				if (rq->discarded
				    > DISCARD_FACTOR * rq->max_body)
					return MHD_NO;
			}
			*upload_data_size = 0;
			return MHD_YES;
		}
		dispatch(rq);
		if (rq->state == GW_REQ_WAITING)
			return MHD_YES;
		return queue(rq);
	case GW_REQ_WAITING:
		pthread_mutex_lock(&rq->mu);
		done = rq->rpc_done;
		pthread_mutex_unlock(&rq->mu);
		if (!done)
			return MHD_YES;
		rpc_complete(rq);
		return queue(rq);
	case GW_REQ_RESPONDING: return queue(rq);
	case GW_REQ_SENT: break;
	}
	return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct gw_req *rq = *con_cls;
	char path[160];

	(void)cls;
	(void)conn;
	if (rq == NULL)
		return;
	*con_cls = NULL;
	if (rq->pump != NULL)
		gw_pump_detach(rq->pump);
	safe_path(path, sizeof(path), rq->path);
	berth_log(BERTH_LOG_INFO, "http_request",
	          "method=%s path=%s status=%d duration_ms=%lld "
	          "request_id=%s caller=%s completed=%s",
	          rq->method, path, rq->status,
	          (long long)(berth_clock_mono_ms() - rq->start_ms),
	          rq->request_id, rq->caller[0] != '\0' ? rq->caller : "-",
	          toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "ok"
	                                                     : "aborted");
	req_unref(rq);
}

/* ---------------------------------------------------------- public API */

static int parse_listen(struct sockaddr_storage *ss, socklen_t *sslen,
                        const char *listen, struct berth_err *err)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	char host[256];
	const char *port, *colon;
	int rc;

	if (listen == NULL || listen[0] == '\0')
		return berth_err_set(err, BERTH_EINVAL,
		                     "listen: required, e.g. 127.0.0.1:8080");
	if (listen[0] == '[') {
		const char *close = strchr(listen, ']');

		if (close == NULL || close[1] != ':')
			goto bad;
		snprintf(host, sizeof(host), "%.*s", (int)(close - listen - 1),
		         listen + 1);
		port = close + 2;
	} else {
		colon = strrchr(listen, ':');
		if (colon == NULL)
			goto bad;
		snprintf(host, sizeof(host), "%.*s", (int)(colon - listen),
		         listen);
		port = colon + 1;
	}
	if (port[0] == '\0' || strspn(port, "0123456789") != strlen(port)
	    || strlen(port) > 5 || strtol(port, NULL, 10) > 65535)
		goto bad;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host[0] != '\0' ? host : NULL, port, &hints, &res);
	if (rc != 0 || res == NULL || res->ai_addrlen > sizeof(*ss)) {
		if (res != NULL)
			freeaddrinfo(res);
		return berth_err_set(err, BERTH_EINVAL,
		                     "listen: cannot resolve \"%s\": %s", host,
		                     gai_strerror(rc));
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
bad:
	return berth_err_set(err, BERTH_EINVAL,
	                     "listen: expected host:port, e.g. 127.0.0.1:8080 "
	                     "or [::1]:8080");
}

int berth_gateway_start(struct berth_gateway **out,
                        const struct berth_gateway_opts *opts,
                        struct berth_err *err)
{
	struct berth_gateway *gw = berth_calloc(1, sizeof(*gw));
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	const union MHD_DaemonInfo *info;
	struct berth_rpc_client_opts copts = { 0 };
	unsigned int flags;
	int rv;

	pthread_mutex_init(&gw->mu, NULL);
	pthread_mutex_init(&gw->pumps_mu, NULL);
	atomic_init(&gw->inflight, 0);
	if (opts == NULL || opts->nruntime_urls == 0
	    || opts->runtime_urls == NULL) {
		rv = berth_err_set(err, BERTH_EINVAL,
		                   "runtime_urls: at least one is required");
		goto out;
	}
	gw->max_body = opts->max_body_bytes > 0 ? opts->max_body_bytes
	                                        : DEFAULT_MAX_BODY;
	rv = parse_listen(&ss, &sslen, opts->listen, err);
	if (rv != 0)
		goto out;
	rv = gw_auth_open(&gw->auth, opts->data_dir, err);
	if (rv != 0)
		goto out;
	copts.listen = opts->runtime_listen;
	/* An uploaded tar goes out in one message and two capped exec
	 * outputs come back in one: allow the runtime's own limit. */
	copts.max_msg = GW_RPC_MAX_MSG;
	rv = berth_rpc_client_alloc(&gw->rpc, opts->runtime_urls,
	                            opts->nruntime_urls, &copts, err);
	if (rv != 0)
		goto out;
	rv = gw_events_start(&gw->events, opts, err);
	if (rv != 0)
		goto out;
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO
	    | MHD_ALLOW_SUSPEND_RESUME;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* MHD's default address reuse (SO_REUSEADDR): a restart binds at
	 * once past TIME_WAIT, while a second gateway on a port in use
	 * fails. Reuse "1" would be SO_REUSEPORT, and the kernel would
	 * split connections between both. */
	gw->mhd = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_access, gw, MHD_OPTION_SOCK_ADDR,
	    (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE,
	    (unsigned int)2, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)512,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, gw, MHD_OPTION_END);
	if (gw->mhd == NULL) {
		rv = berth_err_set(err, BERTH_EUNAVAIL,
		                   "cannot listen on %s: address in use or not "
		                   "local",
		                   opts->listen);
		goto out;
	}
	info = MHD_get_daemon_info(gw->mhd, MHD_DAEMON_INFO_BIND_PORT);
	gw->port = info != NULL ? info->port : 0;
	berth_log(BERTH_LOG_INFO, "gateway_listening", "listen=%s port=%d",
	          opts->listen, gw->port);
	*out = gw;
	gw = NULL;
out:
	berth_gateway_stop(gw);
	return rv;
}

int berth_gateway_port(const struct berth_gateway *gw)
{
	return gw->port;
}

const char *berth_gateway_admin_token_path(const struct berth_gateway *gw)
{
	return gw_auth_admin_token_path(gw->auth);
}

void berth_gateway_stop(struct berth_gateway *gw)
{
	int64_t deadline;

	if (gw == NULL)
		return;
	pthread_mutex_lock(&gw->mu);
	gw->stopping = true;
	pthread_mutex_unlock(&gw->mu);
	/* Ends the streams (their producers stop at their next write)
	 * and the event feed, then cancels calls under way: their done
	 * callbacks resume the suspended connections, which MHD must not
	 * hold at stop. */
	gw_pumps_end_all(gw);
	gw_events_quiesce(gw->events);
	berth_rpc_client_free(gw->rpc);
	deadline = berth_clock_mono_ms() + STOP_WAIT_MS;
	while (atomic_load(&gw->inflight) > 0
	       && berth_clock_mono_ms() < deadline)
		usleep(10 * 1000);
	if (gw->mhd != NULL)
		MHD_stop_daemon(gw->mhd);
	/* After the daemon: SSE clients' pumps call back into the feed
	 * until their connections are over. */
	gw_events_stop(gw->events);
	gw->events = NULL;
	/* Requests still being answered read no rpc after this point:
	 * gw->stopping makes gw_rpc_start refuse. */
	gw->rpc = NULL;
	gw_auth_close(gw->auth);
	pthread_mutex_destroy(&gw->pumps_mu);
	pthread_mutex_destroy(&gw->mu);
	free(gw);
}
