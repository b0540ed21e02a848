/*
 * engine_docker_wait.c: the Docker driver's waiting for a container
 * (POST /containers/{id}/wait?condition=...).
 *
 * The engine answers the headers at once and the body
 * {"StatusCode":N,"Error":{"Message":...}} when the condition holds, so
 * the request is a stream with no overall timeout: the caller's tick
 * (about once a second) abandons it.
 *
 * Podman (which uses this file for its compatible API) answers -1 for
 * "not-running" on a container that was created and never started,
 * where Docker answers 0: a container that never ran has no exit code
 * of its own, and berth reports 0 for it on both engines, as the
 * engine's inspect does (State.ExitCode 0).
 */
#include "lib/engine_docker_internal.h"

#include "lib/alloc.h"
#include "lib/engine_http.h"

#include <stdlib.h>
#include <string.h>

/* The wait body is one small object. */
#define WAIT_BODY_MAX (64u * 1024u)
#define FOREVER_MS    (10L * 365L * 24L * 3600L * 1000L)

struct wait_state {
	berth_engine_tick_fn tick;
	void *arg;
	struct berth_buf body;
	bool stopped;
};

static int wait_chunk(void *arg, const char *data, size_t len)
{
	struct wait_state *st = arg;

	if (berth_buf_append(&st->body, data, len) != 0)
		return BERTH_ELIMIT;
	return 0;
}

static int wait_tick(void *arg)
{
	struct wait_state *st = arg;

	if (st->tick == NULL || st->tick(st->arg) == 0)
		return 0;
	st->stopped = true;
	return BERTH_ECANCELLED;
}

static bool condition_ok(const char *c)
{
	return strcmp(c, "not-running") == 0 || strcmp(c, "next-exit") == 0
	    || strcmp(c, "removed") == 0;
}

int docker_wait(struct berth_engine *e, const char *id, const char *condition,
                berth_engine_tick_fn tick, void *arg, int *exit_code,
                struct berth_err *err)
{
	struct wait_state st;
	struct berth_buf errbody;
	struct berth_http_req req = { 0 };
	struct berth_http_stream_limits limits = {
		.total_ms = FOREVER_MS,
		.low_speed_bytes = 1,
		.low_speed_s = FOREVER_MS / 1000,
		.tick = wait_tick,
	};
	char *eid = NULL, *path = NULL, *what = NULL;
	json_t *j = NULL;
	const char *emsg;
	long status = 0;
	int code;
	int rv;

	memset(&st, 0, sizeof(st));
	st.tick = tick;
	st.arg = arg;
	berth_buf_init(&st.body, WAIT_BODY_MAX);
	berth_buf_init(&errbody, BERTH_HTTP_ERRBODY_MAX);
	rv = docker_check_id(id, err);
	if (rv != 0)
		goto out;
	if (condition == NULL || condition[0] == '\0')
		condition = "not-running";
	if (!condition_ok(condition)) {
		rv = berth_err_set(err, BERTH_EINVAL,
		                   "condition: one of not-running, next-exit, "
		                   "removed");
		goto out;
	}
	eid = berth_http_escape(id);
	path = berth_asprintf(API "/containers/%s/wait?condition=%s", eid,
	                      condition);
	what = docker_what_container("wait for", id);
	req.method = "POST";
	req.path = path;
	rv = berth_http_stream(berth_engine_http_target(e), &req, &limits,
	                       wait_chunk, &st, &status, &errbody, err);
	if (st.stopped) {
		rv = berth_err_set(err, BERTH_ECANCELLED, "%s: abandoned",
		                   what);
		goto out;
	}
	if (rv == BERTH_ELIMIT) {
		rv = berth_err_set(err, BERTH_EINTERNAL,
		                   "%s: engine answer too large", what);
		goto out;
	}
	if (rv != 0)
		goto out;
	if (status < 200 || status >= 300) {
		struct docker_reply r;

		docker_reply_of_stream(&r, status, &errbody);
		rv = docker_map_status(&r, BERTH_EPRECOND, what, err);
		docker_reply_fini(&r);
		goto out;
	}
	j = json_loadb(st.body.data != NULL ? st.body.data : "", st.body.len, 0,
	               NULL);
	if (!json_is_object(j)
	    || !json_is_integer(json_object_get(j, "StatusCode"))) {
		/* The stream ended without an answer: the engine went away
		 * (it closes waits when it stops). */
		rv = berth_err_set_retryable(err, BERTH_EUNAVAIL,
		                             "%s: the engine ended the wait "
		                             "without an answer",
		                             what);
		goto out;
	}
	emsg = json_string_value(
	    json_object_get(json_object_get(j, "Error"), "Message"));
	if (emsg != NULL && emsg[0] != '\0') {
		char msg[ENGINE_MSG_MAX];

		berth_http_engine_message(emsg, strlen(emsg), msg, sizeof(msg));
		rv = berth_err_set(err, BERTH_EINTERNAL, "%s: %s", what, msg);
		goto out;
	}
	code = (int)json_integer_value(json_object_get(j, "StatusCode"));
	if (code == -1 && strcmp(berth_engine_runtime(e), "podman") == 0)
		code = 0; /* never ran: see the top of this file */
	*exit_code = code;
out:
	json_decref(j);
	berth_buf_fini(&errbody);
	berth_buf_fini(&st.body);
	free(what);
	free(path);
	free(eid);
	return rv;
}
