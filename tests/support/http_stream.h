/*
 * http_stream.h: a small libcurl client for tests that read a streamed
 * (chunked) HTTP response bit by bit: followed logs, streamed exec,
 * Server-Sent Events.
 *
 * Unlike ts_http() (berthproc.h), which waits for the whole body, a
 * ts_stream hands out the body as it arrives, line by line or all at
 * once, with a timeout on every wait, and can hang up in the middle
 * (ts_stream_close() closes the socket at once), which is how a test
 * plays a client that goes away.
 *
 * Single-threaded: the transfer only moves while the test is inside one
 * of the calls below (curl's multi interface, driven from here), so a
 * test that stops calling stops reading, and the server sees a slow
 * client. Every wait is bounded by its timeout.
 *
 *   struct ts_stream *s = ts_stream_open(b.base, "GET",
 *       "/api/v1/containers/x/logs?follow=1", NULL, b.token, 5000);
 *   assert_int_equal(ts_stream_status(s), 200);
 *   char *line = ts_stream_line(s, 2000);   // one NDJSON object
 *   ...
 *   ts_stream_close(s);
 */
#ifndef BERTH_TESTS_HTTP_STREAM_H
#define BERTH_TESTS_HTTP_STREAM_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct ts_stream;

/*
 * Starts `method` `base` + `path` with the bearer `token` (may be NULL)
 * and `body` as application/json (may be NULL), and waits up to
 * `timeout_ms` for the response's status and headers. Returns NULL when
 * the request could not be made or no status came in time.
 * Caller owns the result; free with ts_stream_close().
 */
struct ts_stream *ts_stream_open(const char *base, const char *method,
                                 const char *path, const char *body,
                                 const char *token, int timeout_ms);

/* The HTTP status of the response (e.g. 200, 404). */
long ts_stream_status(const struct ts_stream *s);

/*
 * A response header's value (case-insensitive name), or NULL.
 * Borrowed; valid until ts_stream_close().
 */
const char *ts_stream_header(const struct ts_stream *s, const char *name);

/*
 * Waits up to `timeout_ms` for the next whole line of the body and
 * returns it without its "\n". At the end of the body a last unfinished
 * line is returned as it is. Returns NULL on timeout or when the body
 * has ended and all of it was taken.
 * Caller owns the result; free with free().
 */
char *ts_stream_line(struct ts_stream *s, int timeout_ms);

/*
 * As ts_stream_line(), parsed as one JSON value (NDJSON). Returns NULL
 * on timeout, at the end, or when the line is not JSON (then the line
 * is printed to stderr for the test's log).
 * Caller owns the result; free with json_decref().
 */
json_t *ts_stream_json(struct ts_stream *s, int timeout_ms);

/*
 * Waits up to `timeout_ms` for the body to end and returns what was not
 * taken yet (NUL-terminated; `*len` gets its length when `len` is not
 * NULL). Never NULL. Caller owns the result; free with free().
 */
char *ts_stream_rest(struct ts_stream *s, int timeout_ms, size_t *len);

/* Whether the body has ended (the transfer finished or failed). */
bool ts_stream_ended(const struct ts_stream *s);

/* Whether the transfer ended cleanly (the last chunk came). */
bool ts_stream_complete(const struct ts_stream *s);

/* Hangs up (the socket is closed at once) and frees. Accepts NULL. */
void ts_stream_close(struct ts_stream *s);

#endif
