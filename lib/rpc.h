/*
 * rpc.h: berth's RPC core, protobuf messages over nng REQ/REP.
 *
 * Every call travels as a berth.v1.Request envelope (rpc.proto) holding
 * the service's full name, the method name, a request id (idempotency
 * key), an absolute deadline, metadata and the packed input message. The
 * answer is a berth.v1.Reply: a gRPC status code, a message, a retryable
 * flag and the packed output message.
 *
 * Server side, dispatch goes through protoc-c's generated
 * ProtobufCServiceDescriptor: the server finds the method by name, unpacks
 * the input with the method's input descriptor and calls the service's
 * generated `invoke`. No method table is written by hand.
 *
 * A handler has the generated signature
 *     void prefix_method(Svc_Service *svc, const In *in,
 *                        Out_Closure closure, void *closure_data);
 * `closure_data` is the struct berth_rpc_call of this request. A handler
 * answers exactly once, before it returns:
 *     closure(&out, closure_data);               -- success
 *     berth_rpc_call_fail(call, code, ...); closure(NULL, closure_data);
 * Handlers run on the server's own worker threads and may block.
 *
 * Transports: inproc:// (all-in-one), ipc:// (the socket file is made
 * 0600 inside a 0700 directory), tcp://. Several instances of a service
 * scale behind one address in either direction: a client dials several
 * servers (nng spreads requests over its pipes), or a client listens and
 * several servers dial it (BERTH_RPC_DIAL).
 */
#ifndef BERTH_LIB_RPC_H
#define BERTH_LIB_RPC_H

#include "lib/error.h"

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest message any berth socket accepts (NNG_OPT_RECVMAXSZ). */
#define BERTH_RPC_MAX_MSG_DEFAULT (4u * 1024u * 1024u)

/* ---------------------------------------------------------------- server */

struct berth_rpc_server;
struct berth_rpc_call;

struct berth_rpc_server_opts {
	int workers;    /* concurrent handlers; 0 = 8 */
	size_t max_msg; /* 0 = BERTH_RPC_MAX_MSG_DEFAULT */
	bool dial;      /* dial `url` instead of listening on it */
};

/*
 * Creates a server for `url` (not yet serving). `opts` may be NULL.
 * Caller owns `*out`; free with berth_rpc_server_free().
 * Errors: BERTH_EINVAL (bad url), BERTH_EUNAVAIL (address in use).
 */
int berth_rpc_server_alloc(struct berth_rpc_server **out, const char *url,
                           const struct berth_rpc_server_opts *opts,
                           struct berth_err *err);

/*
 * Registers a service implementation (a generated `*_Service` struct made
 * with its INIT macro, passed as its `base`). Borrowed; must outlive the
 * server. Call before berth_rpc_server_start(). Several services may share
 * one server; they are told apart by descriptor->name.
 */
int berth_rpc_server_add_service(struct berth_rpc_server *srv,
                                 ProtobufCService *service,
                                 struct berth_err *err);

/* Binds (or dials) and starts the worker pool. */
int berth_rpc_server_start(struct berth_rpc_server *srv, struct berth_err *err);

/*
 * Stops accepting requests, waits for running handlers to answer, and
 * closes the socket. Idempotent.
 */
void berth_rpc_server_close(struct berth_rpc_server *srv);

/* Closes if needed and frees. Accepts NULL. */
void berth_rpc_server_free(struct berth_rpc_server *srv);

/* --- inside a handler; `call` is the handler's closure_data --- */

/* Request id (idempotency key) of this call; "" when none. Borrowed. */
const char *berth_rpc_call_request_id(const struct berth_rpc_call *call);

/* Metadata value for `key` ("caller", "trace_id", ...), or NULL. Borrowed. */
const char *berth_rpc_call_metadata(const struct berth_rpc_call *call,
                                    const char *key);

/* Absolute deadline in unix milliseconds, 0 when none. */
int64_t berth_rpc_call_deadline_ms(const struct berth_rpc_call *call);

/*
 * Records a failure for this call; the handler then calls
 * closure(NULL, closure_data). `code` is a negative berth_code.
 */
void berth_rpc_call_fail(struct berth_rpc_call *call, int code, bool retryable,
                         const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* As berth_rpc_call_fail(), from an error struct. */
void berth_rpc_call_fail_err(struct berth_rpc_call *call,
                             const struct berth_err *err);

/* ---------------------------------------------------------------- client */

struct berth_rpc_client;

struct berth_rpc_client_opts {
	size_t max_msg; /* 0 = BERTH_RPC_MAX_MSG_DEFAULT */
	bool listen;    /* listen on the urls; servers dial in */
};

/*
 * Creates a client of the servers at `urls[0..nurls)` (dialled in the
 * background, redialled when they go away). `opts` may be NULL.
 * Caller owns `*out`; free with berth_rpc_client_free().
 */
int berth_rpc_client_alloc(struct berth_rpc_client **out,
                           const char *const *urls, size_t nurls,
                           const struct berth_rpc_client_opts *opts,
                           struct berth_err *err);

/*
 * Closes the socket; calls under way finish with BERTH_ECANCELLED.
 * Returns only after every pending `done` callback has returned, so
 * their `arg`s may be freed afterwards. Never call it from inside a
 * `done` callback (it would wait for itself). Accepts NULL.
 */
void berth_rpc_client_free(struct berth_rpc_client *cli);

/* Number of servers currently connected. */
int berth_rpc_client_peers(const struct berth_rpc_client *cli);

/* Per-call options. Zeroed = defaults. */
struct berth_rpc_opts {
	int timeout_ms;         /* 0 = 30000 */
	const char *request_id; /* idempotency key; NULL = none */
	bool idempotent;        /* safe to resend when a server goes away */
	const char *caller;     /* metadata "caller" (authenticated identity) */
	const char *trace_id;   /* metadata "trace_id" */
};

/*
 * Calls `method` (its name in the .proto, e.g. "CreateContainer") of
 * `svc` with `input`, blocking until the reply or the deadline.
 * With no server connected, a call waits at most 500 ms (or its
 * timeout, if shorter) for a first one, then fails BERTH_EUNAVAIL.
 * Idempotent calls (opts->idempotent or a request id) are sent again
 * at once when the server they went to goes away; never because a
 * server is slow. Others then fail BERTH_EUNAVAIL (retryable).
 * At most 1024 calls (RPC_MAX_INFLIGHT) are under way per client;
 * past that a call fails at once with BERTH_ELIMIT, retryable.
 * On success `*output` is the unpacked reply message: caller owns it;
 * free with protobuf_c_message_free_unpacked(*output, NULL).
 * Errors: the server's status as a negative code with its message and
 * retryable flag in `err`; BERTH_EUNAVAIL (retryable) when no server is
 * connected or the server went away; BERTH_ETIMEDOUT at the deadline;
 * BERTH_ENOTFOUND... never for transport: only from the server.
 */
int berth_rpc_call(struct berth_rpc_client *cli,
                   const ProtobufCServiceDescriptor *svc, const char *method,
                   const ProtobufCMessage *input, ProtobufCMessage **output,
                   const struct berth_rpc_opts *opts, struct berth_err *err);

/*
 * Completion of an asynchronous call. `rv` is 0 or a negative code;
 * `output` (NULL on failure) is owned by the callee: free with
 * protobuf_c_message_free_unpacked(output, NULL). `err` is borrowed for
 * the duration of the callback. Runs on an nng thread: do not block.
 */
typedef void (*berth_rpc_done_fn)(void *arg, int rv, ProtobufCMessage *output,
                                  const struct berth_err *err);

/*
 * Starts a call and returns at once; `done` runs exactly once, later,
 * on success or failure (never from inside this function). `input` is
 * packed before this returns: the caller may free it at once. `opts`
 * is read only during the call to this function. Returns non-zero only
 * when the call could not be started (bad method name, input too
 * large, too many calls under way, the client closing): then `done`
 * is not called.
 */
int berth_rpc_call_async(struct berth_rpc_client *cli,
                         const ProtobufCServiceDescriptor *svc,
                         const char *method, const ProtobufCMessage *input,
                         const struct berth_rpc_opts *opts,
                         berth_rpc_done_fn done, void *arg,
                         struct berth_err *err);

#endif
