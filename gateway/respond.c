/*
 * respond.c: turns a handler's decision (status, JSON body, headers) into
 * an MHD response, and every error into the one JSON error shape.
 */
#include "gateway/respond.h"

#include "gateway/pump.h"

#include "lib/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void set_body(struct gw_req *rq, int status, char *text)
{
	free(rq->resp_body);
	rq->resp_body = text;
	rq->status = status;
	rq->state = GW_REQ_RESPONDING;
}

void gw_respond_json(struct gw_req *rq, int status, json_t *body)
{
	char *text = NULL;

	if (body != NULL) {
		char *j = json_dumps(body, JSON_COMPACT);

		/* json_dumps uses jansson's allocator (malloc by default);
		 * copy so every body is freed the same way. */
		text = berth_strdup(j != NULL ? j : "{}");
		free(j);
		json_decref(body);
	}
	set_body(rq, status, text);
}

void gw_respond_json_text(struct gw_req *rq, int status, char *text)
{
	set_body(rq, status, text);
}

void gw_respond_empty(struct gw_req *rq, int status)
{
	set_body(rq, status, NULL);
}

static void respond_error_msg(struct gw_req *rq, int code, bool retryable,
                              const char *msg)
{
	json_t *e;
	int status;

	if (code >= 0)
		code = BERTH_EUNKNOWN;
	status = berth_code_http_status(code);
	e = json_pack("{s:{s:s,s:s,s:b}}", "error", "code",
	              berth_code_name(code), "message",
	              msg[0] != '\0' ? msg : berth_strerror(code), "retryable",
	              retryable);
	if (e == NULL) /* message not valid UTF-8: say less */
		e = json_pack("{s:{s:s,s:s,s:b}}", "error", "code",
		              berth_code_name(code), "message",
		              berth_strerror(code), "retryable", retryable);
	if (status == 503 || status == 429)
		gw_respond_header(rq, "Retry-After", "1");
	if (status == 401)
		gw_respond_header(rq, "WWW-Authenticate", "Bearer");
	gw_respond_json(rq, status, e);
}

void gw_respond_error_http(struct gw_req *rq, int status, const char *code,
                           const char *msg)
{
	gw_respond_json(rq, status,
	                json_pack("{s:{s:s,s:s,s:b}}", "error", "code", code,
	                          "message", msg, "retryable", 0));
}

void gw_respond_error(struct gw_req *rq, int code, bool retryable,
                      const char *fmt, ...)
{
	char msg[BERTH_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	respond_error_msg(rq, code, retryable, msg);
}

void gw_respond_err(struct gw_req *rq, const struct berth_err *err)
{
	respond_error_msg(rq, err->code, err->retryable, err->msg);
}

void gw_respond_header(struct gw_req *rq, const char *name, const char *value)
{
	for (size_t i = 0; i < rq->nheaders; i++) {
		if (strcasecmp(rq->headers[i].name, name) == 0) {
			free(rq->headers[i].value);
			rq->headers[i].value = berth_strdup(value);
			return;
		}
	}
	if (rq->nheaders == GW_MAX_HEADERS)
		return;
	rq->headers[rq->nheaders].name = berth_strdup(name);
	rq->headers[rq->nheaders].value = berth_strdup(value);
	rq->nheaders++;
}

struct MHD_Response *gw_response_build(struct gw_req *rq)
{
	struct MHD_Response *resp;
	const char *body = rq->resp_body != NULL ? rq->resp_body : "";

	if (rq->pump != NULL)
		resp = gw_pump_response(rq->pump);
	else
		resp = MHD_create_response_from_buffer(
		    strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return NULL;
	if (rq->resp_body != NULL && rq->pump == NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		                        "application/json");
	MHD_add_response_header(resp, "X-Request-Id", rq->request_id);
	for (size_t i = 0; i < rq->nheaders; i++)
		MHD_add_response_header(resp, rq->headers[i].name,
		                        rq->headers[i].value);
	return resp;
}

void gw_response_fini(struct gw_req *rq)
{
	free(rq->resp_body);
	rq->resp_body = NULL;
	for (size_t i = 0; i < rq->nheaders; i++) {
		free(rq->headers[i].name);
		free(rq->headers[i].value);
	}
	rq->nheaders = 0;
}
