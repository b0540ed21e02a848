/*
 * gateway.h: the REST gateway (libmicrohttpd + jansson) in front of
 * berth's services: JSON over HTTP in, protobuf over nng out.
 *
 * The gateway authenticates every request but /healthz with a bearer
 * token (hashes kept in <data_dir>/gateway.db), routes it, validates the
 * input against berth's allow-lists, calls the runtime service
 * asynchronously (the HTTP connection is suspended meanwhile) and turns
 * the reply or the error into JSON. The `berth` CLI starts it.
 */
#ifndef BERTH_GATEWAY_GATEWAY_H
#define BERTH_GATEWAY_GATEWAY_H

#include "lib/error.h"

#include <stdbool.h>
#include <stddef.h>

struct berth_gateway;

struct berth_gateway_opts {
	/* "127.0.0.1:8080", "[::1]:8080" or "localhost:8080"; port 0 picks
	 * a free one (read it back with berth_gateway_port()). */
	const char *listen;
	/* gateway.db and admin.token live here; created 0700 if missing. */
	const char *data_dir;
	/* Largest request body accepted; 0 = 1 MiB. Larger gets 413. */
	size_t max_body_bytes;
	/* nng addresses of the runtime service. Borrowed for the call. */
	const char *const *runtime_urls;
	size_t nruntime_urls;
	/* Listen on runtime_urls instead of dialling them: runtime
	 * instances then dial in (`berth serve --role runtime --dial`) and
	 * nng spreads calls over them, so they scale behind one address. */
	bool runtime_listen;
	/* nng addresses of the runtimes' event PUB sockets, served as
	 * GET /api/v1/events (Server-Sent Events). Dialled, or listened on
	 * with events_listen (the runtimes then dial in, as for
	 * runtime_listen). None = the endpoint streams nothing but
	 * keepalives. Borrowed for the call. */
	const char *const *events_urls;
	size_t nevents_urls;
	bool events_listen;
};

/*
 * Opens the token store (creating the admin token on first start and
 * writing it once to <data_dir>/admin.token, mode 0600), connects to the
 * runtime service in the background and starts serving HTTP.
 * Caller owns `*out`; free with berth_gateway_stop().
 * Errors: BERTH_EINVAL (bad listen address or options), BERTH_EUNAVAIL
 * (address in use), BERTH_EPRECOND (admin.token exists but the database
 * holds no token: refused rather than overwritten), store errors.
 */
int berth_gateway_start(struct berth_gateway **out,
                        const struct berth_gateway_opts *opts,
                        struct berth_err *err);

/* The TCP port the gateway is bound to. */
int berth_gateway_port(const struct berth_gateway *gw);

/* Path of the admin token file (it may have been removed since).
 * Borrowed; valid until berth_gateway_stop(). */
const char *berth_gateway_admin_token_path(const struct berth_gateway *gw);

/*
 * Stops taking requests, cancels RPCs under way (their requests get a
 * 503), stops the HTTP daemon and frees everything. Accepts NULL.
 */
void berth_gateway_stop(struct berth_gateway *gw);

#endif
