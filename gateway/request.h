/*
 * request.h: the gateway's per-request state, shared by the server, the
 * router and the route handlers (internal to gateway/).
 *
 * One struct gw_req per HTTP request, made on libmicrohttpd's first
 * call and freed when both MHD (request completed) and the RPC (done
 * callback) have let go of it: it is reference counted, because a client
 * may go away while its RPC is still under way on an nng thread.
 */
#ifndef BERTH_GATEWAY_REQUEST_H
#define BERTH_GATEWAY_REQUEST_H

#include "lib/buf.h"
#include "lib/error.h"
#include "lib/jobs.h"
#include "lib/rpc.h"

#include "berth/v1/runtime.pb-c.h"

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct gw_auth;
struct gw_req;

/* Where a request is in its life. */
enum gw_req_state {
	GW_REQ_READING,    /* headers seen; body being read */
	GW_REQ_WAITING,    /* RPC under way; connection suspended */
	GW_REQ_RESPONDING, /* response decided; to be queued */
	GW_REQ_SENT,       /* response queued with MHD */
};

/* Builds the response from an RPC's output after the connection is
 * resumed (on an MHD thread). `out` is borrowed: the server frees it.
 * Called on success only, unless rq->finish_errors (then `out` is NULL
 * on failure and rq->rpc_err says why). */
typedef void (*gw_finish_fn)(struct gw_req *rq, const ProtobufCMessage *out);

#define GW_MAX_PARAMS  2
#define GW_MAX_HEADERS 6

struct gw_header {
	char *name;
	char *value;
};

struct gw_req {
	struct berth_gateway *gw; /* borrowed */
	struct MHD_Connection *conn;
	atomic_int refs;
	enum gw_req_state state;
	int64_t start_ms;

	char *method;                /* "GET" ... */
	char *path;                  /* without the query string */
	char request_id[129];        /* Idempotency-Key, or a new UUID */
	bool has_idem_key;           /* request_id came from the client */
	char caller[64];             /* authenticated token name */
	struct berth_buf body;       /* capped at max_body */
	size_t max_body;             /* the route's cap, or the gateway's */
	bool too_large;              /* the body went past the cap */
	size_t discarded;            /* bytes dropped after too_large */
	char *params[GW_MAX_PARAMS]; /* {id} path segments, in order */
	size_t nparams;

	/* RPC: inputs live here so they outlive the asynchronous call. */
	union {
		Berth__V1__Empty empty;
		Berth__V1__ContainerRef ref;
		Berth__V1__StopContainerRequest stop;
		Berth__V1__RemoveContainerRequest remove;
		Berth__V1__ListContainersRequest list;
		Berth__V1__CreateContainerRequest create;
		Berth__V1__PullImageRequest pull;
		Berth__V1__JobRef job;
		Berth__V1__ExecRequest exec;
		Berth__V1__LogsRequest logs;
		Berth__V1__WaitRequest wait;
		Berth__V1__WaitHealthyRequest wait_healthy;
		Berth__V1__InjectCodeRequest inject;
		Berth__V1__PutArchiveRequest archive;
		Berth__V1__CloneRepoRequest clone;
		Berth__V1__CreatePodRequest pod_create;
		Berth__V1__PodRef pod;
		Berth__V1__RemovePodRequest pod_remove;
		Berth__V1__ListPodsRequest pod_list;
	} in;
	/* A handler's own state, freed with the request by ext_free
	 * (when set). For inputs that own more than the fields above. */
	void *ext;
	void (*ext_free)(void *ext);
	/* A streamed response (gateway/pump.h), or NULL. */
	struct gw_pump *pump;
	Berth__V1__ContainerSpec *spec; /* owned; create only */
	Berth__V1__KeyValue *label_kvs; /* owned, with their strings */
	size_t nlabel_kvs;
	Berth__V1__KeyValue **label_ptrs; /* owned; list filters */
	char *scratch;                    /* owned; any one string */
	gw_finish_fn finish;
	bool finish_errors; /* finish also on failure, with out NULL */
	/* The call must never be resent (exec: a resend after a lost
	 * connection would run the command twice). */
	bool no_resend;

	pthread_mutex_t mu; /* guards the rpc_* fields */
	bool rpc_done;
	bool rpc_no_peers; /* no runtime was connected when it started */
	int rpc_rv;
	ProtobufCMessage *rpc_out;
	struct berth_err rpc_err;

	/* The response. */
	int status;
	char *resp_body; /* JSON text, or NULL for no body */
	struct gw_header headers[GW_MAX_HEADERS];
	size_t nheaders;
};

/* The gateway handle behind the public API (gateway.h). */
struct berth_gateway {
	struct MHD_Daemon *mhd;
	struct gw_auth *auth;
	struct berth_rpc_client *rpc;
	size_t max_body;
	int port;
	pthread_mutex_t mu; /* guards stopping + starting calls */
	bool stopping;
	atomic_int inflight;      /* RPCs started and not yet done */
	struct gw_events *events; /* the runtimes' event feed */
	/* Streamed responses under way (pump.c), ended at stop: MHD must
	 * not hold a suspended connection when it stops. */
	pthread_mutex_t pumps_mu;
	struct gw_pump *pumps;
};

/*
 * Starts `method` of the runtime service with `input` (which must live in
 * `rq`), suspends the connection, and arranges for `finish` to build the
 * response once the reply is in. On any failure the response is an error
 * already. `mutating` sends rq->request_id as the idempotency key.
 * nng resends the call if the runtime's connection drops, unless
 * rq->no_resend is set.
 * `timeout_ms` 0 = 30 s.
 */
void gw_rpc_start(struct gw_req *rq, const char *method,
                  const ProtobufCMessage *input, bool mutating, int timeout_ms,
                  gw_finish_fn finish);

/* A query argument's value, or NULL. Borrowed; valid during the request. */
const char *gw_req_query(struct gw_req *rq, const char *key);

/* A request header's value, or NULL. Borrowed; valid during the request. */
const char *gw_req_header(struct gw_req *rq, const char *name);

/*
 * Collects the ?label=k=v filters (repeatable; berth.* keys allowed,
 * since they select rather than set) into rq->label_kvs / label_ptrs /
 * nlabel_kvs. Returns 0, or responds 400 naming the problem.
 */
int gw_req_label_filters(struct gw_req *rq);

/*
 * Checks that the query string holds only the keys in the NULL-ended
 * `allowed`. Returns 0, or responds 400 naming the first other key and
 * returns BERTH_EINVAL.
 */
int gw_req_query_only(struct gw_req *rq, const char *const *allowed);

#endif
