/*
 * engine_http.h: a small libcurl helper for talking HTTP to a container
 * engine over its unix socket (or a tcp address).
 *
 * Each request uses its own curl easy handle, so one struct
 * berth_http_target may be shared by several threads at once. Replies
 * land in a capped struct berth_buf; streams (image pulls, later logs)
 * go chunk by chunk to a callback. Transport failures (socket missing,
 * connection refused, reset) become BERTH_EUNAVAIL, retryable, with a
 * message that names the socket or host but never a credential, a
 * request body or a header.
 */
#ifndef BERTH_LIB_ENGINE_HTTP_H
#define BERTH_LIB_ENGINE_HTTP_H

#include "lib/buf.h"
#include "lib/error.h"

#include <stddef.h>

/* Replies larger than this fail with BERTH_ELIMIT. */
#define BERTH_HTTP_REPLY_MAX (16u * 1024u * 1024u)

/* Error bodies of streams are kept up to this size. */
#define BERTH_HTTP_ERRBODY_MAX (64u * 1024u)

/*
 * Where to send requests. Either `socket_path` (a unix socket; the URL's
 * host is then a placeholder) or `base_url` ("http://host:port", no
 * trailing slash). `display` names the target in error messages and
 * must hold no credential. All strings are borrowed and must outlive
 * every request made with the target.
 */
struct berth_http_target {
	const char *socket_path;
	const char *base_url;
	const char *display;
	long timeout_ms; /* whole request; 0 = 60000 */
};

/*
 * One request. `path` starts with '/' and is already escaped (build it
 * with berth_http_escape()); `body` is sent with `content_type`
 * ("application/json" when NULL) and may be NULL for no body.
 */
struct berth_http_req {
	const char *method; /* "GET", "POST", "DELETE", ... */
	const char *path;
	const char *body;
	size_t body_len;
	const char *content_type;
	long timeout_ms; /* overrides the target's; 0 = target's */
	/* Extra "Name: value" header lines (e.g. X-Registry-Auth), or
	 * NULL. They may hold credentials: never put into a message. */
	const char *const *headers;
	size_t nheaders;
};

/*
 * Initialises curl's global state once per process. Thread-safe;
 * called by the functions below, exposed for programs that want to do
 * it early, before threads start.
 */
void berth_http_global_init(void);

/*
 * Percent-encodes `s` for use as one path segment or one query value:
 * every byte outside [A-Za-z0-9-._~] becomes %XX.
 * Caller owns the result; free with free().
 */
char *berth_http_escape(const char *s);

/*
 * Performs `req` against `t`. On success (any HTTP status, including
 * 4xx and 5xx) stores the status in `*status` and appends the reply
 * body to `reply` (which the caller initialised; its cap applies).
 * Errors: BERTH_EUNAVAIL (retryable: cannot connect, connection lost),
 * BERTH_ETIMEDOUT (retryable: no complete answer in time),
 * BERTH_ELIMIT (reply larger than the buffer's cap),
 * BERTH_EINTERNAL (curl itself failed).
 */
int berth_http_do(const struct berth_http_target *t,
                  const struct berth_http_req *req, long *status,
                  struct berth_buf *reply, struct berth_err *err);

/*
 * Called with each chunk of a 2xx streaming reply, in order. Chunks are
 * not aligned to lines. Return 0 to go on, or a negative berth code to
 * stop the transfer; berth_http_stream() then returns that code (the
 * callback should set `err`'s message itself if it wants one).
 */
typedef int (*berth_http_chunk_fn)(void *arg, const char *data, size_t len);

/*
 * Called about once a second for as long as a stream is under way, data
 * or not, with the `arg` of berth_http_stream(). Return 0 to go on, or a
 * negative berth code to stop the transfer as a chunk callback would.
 * It lets a caller abandon a stream whose engine has gone quiet without
 * waiting for the low-speed limit (minutes).
 */
typedef int (*berth_http_tick_fn)(void *arg);

/* Limits for a stream; zero fields take the defaults given. */
struct berth_http_stream_limits {
	long total_ms;           /* whole transfer; 0 = 30 min */
	long low_speed_bytes;    /* abort when slower than this ... */
	long low_speed_s;        /* ... for this long; 0 = 1 byte / 300 s */
	berth_http_tick_fn tick; /* NULL = none */
};

/*
 * Performs `req` and hands the reply body to `fn` as it arrives when
 * the status is 2xx. A non-2xx reply is not streamed: its body (up to
 * BERTH_HTTP_ERRBODY_MAX) goes to `errbody` instead, and the function
 * returns 0 with `*status` set, as berth_http_do() would.
 * Errors: as berth_http_do(), plus the callback's own code.
 */
int berth_http_stream(const struct berth_http_target *t,
                      const struct berth_http_req *req,
                      const struct berth_http_stream_limits *limits,
                      berth_http_chunk_fn fn, void *arg, long *status,
                      struct berth_buf *errbody, struct berth_err *err);

/*
 * Extracts the engine's error text from a reply body: the JSON
 * "message" member when there is one, else the body itself; cut to one
 * line of at most `max` - 1 bytes (control bytes become spaces) and
 * written into `out`. Empty bodies give "".
 */
void berth_http_engine_message(const char *body, size_t len, char *out,
                               size_t max);

#endif
