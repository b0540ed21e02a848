/*
 * respond.h: the gateway's JSON responses and errors.
 *
 * A handler decides the response by filling the request's status, body
 * and headers through these; the server turns them into an MHD response
 * when it is time to answer. Every error is
 *   {"error":{"code":"NOT_FOUND","message":"...","retryable":false}}
 * with the HTTP status from berth_code_http_status(); a 503 also carries
 * Retry-After: 1 and a 401 WWW-Authenticate: Bearer.
 */
#ifndef BERTH_GATEWAY_RESPOND_H
#define BERTH_GATEWAY_RESPOND_H

#include "gateway/request.h"

#include <jansson.h>
#include <microhttpd.h>

/* Answers `status` with `body` as JSON. Takes ownership of `body`. */
void gw_respond_json(struct gw_req *rq, int status, json_t *body);

/* Answers `status` with `text`, JSON already written. Takes ownership of
 * `text` (free()d with the response). */
void gw_respond_json_text(struct gw_req *rq, int status, char *text);

/* Answers `status` with no body (204). */
void gw_respond_empty(struct gw_req *rq, int status);

/* Answers the JSON error for `code` (a negative berth_code). */
void gw_respond_error(struct gw_req *rq, int code, bool retryable,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* An error whose HTTP status has no berth code (405, 413, 415):
 * `status` and the code name are given as they are. */
void gw_respond_error_http(struct gw_req *rq, int status, const char *code,
                           const char *msg);

/* As gw_respond_error() from an error struct. */
void gw_respond_err(struct gw_req *rq, const struct berth_err *err);

/* Adds a response header (copied). Headers past GW_MAX_HEADERS are
 * dropped; a repeated name replaces the earlier value. */
void gw_respond_header(struct gw_req *rq, const char *name, const char *value);

/*
 * The MHD response for what was decided, with Content-Type and
 * X-Request-Id set. Caller owns the result; free with
 * MHD_destroy_response() (after queueing it). NULL when MHD fails.
 */
struct MHD_Response *gw_response_build(struct gw_req *rq);

/* Frees what the response fields hold. */
void gw_response_fini(struct gw_req *rq);

#endif
