/*
 * engine_docker_call.c: one request to a Docker-compatible engine and
 * the mapping of its answer to berth's error codes (the Docker driver
 * and the Podman driver's compatible half share it).
 */
#include "lib/engine_docker_internal.h"

#include "lib/alloc.h"
#include "lib/engine_http.h"
#include "lib/validate.h"

#include <stdlib.h>
#include <string.h>

void docker_reply_init(struct docker_reply *r)
{
	r->status = 0;
	berth_buf_init(&r->body, BERTH_HTTP_REPLY_MAX);
	r->msg[0] = '\0';
}

void docker_reply_fini(struct docker_reply *r)
{
	berth_buf_fini(&r->body);
}

void docker_reply_of_stream(struct docker_reply *r, long status,
                            const struct berth_buf *errbody)
{
	docker_reply_init(r);
	r->status = status;
	berth_http_engine_message(errbody->data, errbody->len, r->msg,
	                          sizeof(r->msg));
}

int docker_call(struct berth_engine *e, const char *method, const char *path,
                const json_t *body, long timeout_ms, struct docker_reply *r,
                struct berth_err *err)
{
	return docker_call_at(e, API, method, path, body, timeout_ms, r, err);
}

int docker_call_at(struct berth_engine *e, const char *prefix,
                   const char *method, const char *path, const json_t *body,
                   long timeout_ms, struct docker_reply *r,
                   struct berth_err *err)
{
	char *full = berth_asprintf("%s%s", prefix, path);
	char *text = NULL;
	struct berth_http_req req = { 0 };
	int rv;

	if (body != NULL) {
		text = json_dumps(body, JSON_COMPACT);
		if (text == NULL) {
			rv = berth_err_set(err, BERTH_EINTERNAL,
			                   "cannot serialise engine request");
			goto out;
		}
	}
	req.method = method;
	req.path = full;
	req.body = text;
	req.body_len = text != NULL ? strlen(text) : 0;
	req.timeout_ms = timeout_ms;
	rv = berth_http_do(berth_engine_http_target(e), &req, &r->status,
	                   &r->body, err);
	if (rv != 0)
		goto out;
	if (r->status < 200 || r->status >= 300)
		berth_http_engine_message(r->body.data, r->body.len, r->msg,
		                          sizeof(r->msg));
out:
	free(text);
	free(full);
	return rv;
}

/*
 * Maps a non-2xx status to a berth code with "<what>: <engine message>".
 * `conflict` is the code for 409 (EEXISTS or EPRECOND).
 */
int docker_map_status(const struct docker_reply *r, int conflict,
                      const char *what, struct berth_err *err)
{
	switch (r->status) {
	case 400:
		return berth_err_set(err, BERTH_EINVAL, "%s: %s", what, r->msg);
	case 401:
	case 403:
		return berth_err_set(err, BERTH_EPERM, "%s: %s", what, r->msg);
	case 404:
		return berth_err_set(err, BERTH_ENOTFOUND, "%s: %s", what,
		                     r->msg);
	case 409: return berth_err_set(err, conflict, "%s: %s", what, r->msg);
	case 502:
	case 503:
	case 504:
		return berth_err_set_retryable(err, BERTH_EUNAVAIL,
		                               "%s: engine unavailable: %s",
		                               what, r->msg);
	default: break;
	}
	if (r->status >= 500)
		return berth_err_set(err, BERTH_EINTERNAL,
		                     "%s: engine error: %s", what, r->msg);
	return berth_err_set(err, BERTH_EUNKNOWN,
	                     "%s: unexpected engine status %ld: %s", what,
	                     r->status, r->msg);
}

/* Parses a 2xx JSON body. */
int docker_parse_json(const struct docker_reply *r, json_t **out,
                      const char *what, struct berth_err *err)
{
	json_error_t jerr;
	json_t *j = json_loadb(r->body.data != NULL ? r->body.data : "",
	                       r->body.len, 0, &jerr);

	if (j == NULL)
		return berth_err_set(err, BERTH_EINTERNAL,
		                     "%s: engine sent invalid JSON: %s", what,
		                     jerr.text);
	*out = j;
	return 0;
}

/* "container <id>" with the id cut short enough for a message. */
char *docker_what_container(const char *verb, const char *id)
{
	return berth_asprintf("%s container %.64s", verb, id);
}

/*
 * A container id or name, checked here as well as at the service edge
 * (the same allow-list) so no id can turn into another API path.
 */
int docker_check_id(const char *id, struct berth_err *err)
{
	return berth_validate_container_ref("id", id, err);
}

int docker_split_lines(struct berth_buf *carry, const char *data, size_t len,
                       int (*line)(void *arg, const char *l, size_t n),
                       void *arg)
{
	size_t start = 0;
	int rv;

	for (size_t i = 0; i < len; i++) {
		if (data[i] != '\n')
			continue;
		if (carry->len > 0) {
			/* The line began in an earlier chunk. */
			if (berth_buf_append(carry, data + start, i - start)
			    != 0)
				return BERTH_ELIMIT;
			rv = line(arg, carry->data, carry->len);
			berth_buf_reset(carry);
		} else {
			rv = line(arg, data + start, i - start);
		}
		if (rv != 0)
			return rv;
		start = i + 1;
	}
	if (start < len
	    && berth_buf_append(carry, data + start, len - start) != 0)
		return BERTH_ELIMIT;
	return 0;
}
