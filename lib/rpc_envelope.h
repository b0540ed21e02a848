/*
 * rpc_envelope.h: internal helpers shared by the RPC server and client
 * (rpc_server.c, rpc_client.c): packing protobuf messages into nng
 * messages, the wall clock for deadlines, and checking and preparing
 * the urls both sides bind or dial. Not part of the public API.
 */
#ifndef BERTH_LIB_RPC_ENVELOPE_H
#define BERTH_LIB_RPC_ENVELOPE_H

#include "lib/error.h"

#include <nng/nng.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Most calls one client keeps under way at once (each holds an nng
 * context and aio); past it berth_rpc_call(_async) fails at once with
 * BERTH_ELIMIT, retryable. The gateway's connection limit stays below.
 */
#define RPC_MAX_INFLIGHT 1024

/*
 * Packs `m` into a new nng message. Fails with BERTH_ELIMIT (nothing
 * allocated) when the packed size exceeds `max`. Caller owns `*out`;
 * free with nng_msg_free() (or hand it to a send that takes it).
 */
int rpc_pack_msg(nng_msg **out, const ProtobufCMessage *m, size_t max,
                 struct berth_err *err);

/*
 * Checks that `url` uses a transport berth speaks (inproc, ipc, tcp).
 * Errors: BERTH_EINVAL with the url in the message.
 */
int rpc_url_check(const char *url, struct berth_err *err);

/*
 * Before listening on an ipc:// url: creates the socket's parent
 * directory 0700 when it is missing. No-op for other schemes.
 */
int rpc_url_prepare_listen(const char *url, struct berth_err *err);

/* After listening on an ipc:// url: makes the socket file 0600. */
int rpc_url_finish_listen(const char *url, struct berth_err *err);

/* Translates an nng error into a berth code (for listen/dial/open). */
int rpc_code_from_nng(int nng_rv);

#endif
