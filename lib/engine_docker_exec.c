/*
 * engine_docker_exec.c: the Docker driver's exec (also used by the
 * Podman driver): create an exec instance, start it with its output
 * demultiplexed to the caller, inspect it for the exit code and pid.
 *
 * Exec always runs without a TTY and without stdin, so the output is the
 * engine's 8-byte framing (engine_mux.h) and stdout and stderr stay
 * apart. The start request has no overall timeout: a command may run
 * (and stay silent) for as long as its caller allows, and the caller's
 * tick, about once a second, is the way to abandon it. Abandoning the
 * stream does not end the process: the engine API has no exec kill (the
 * runtime's exec runner kills it through /proc).
 */
#include "lib/engine_docker_internal.h"

#include "lib/alloc.h"
#include "lib/engine_http.h"
#include "lib/engine_mux.h"
#include "lib/validate.h"

#include <stdlib.h>
#include <string.h>

/* Argv words and env entries of one exec, and the bytes of each. */
#define EXEC_ARGV_MAX 4096
#define EXEC_WORD_MAX (128u * 1024u)
/* The start stream ends within this even if the caller never abandons it. */
#define EXEC_FOREVER_MS (10L * 365L * 24L * 3600L * 1000L)

/* Checks what the exec spec holds before it reaches the engine. */
static int check_spec(const struct berth_exec_spec *spec, struct berth_err *err)
{
	int rv;

	if (spec == NULL || spec->argc == 0 || spec->argv == NULL)
		return berth_err_set(err, BERTH_EINVAL,
		                     "command: at least one word (the program) "
		                     "is required");
	if (spec->argc > EXEC_ARGV_MAX || spec->nenv > EXEC_ARGV_MAX)
		return berth_err_set(err, BERTH_EINVAL,
		                     "command, env: at most %d entries each",
		                     EXEC_ARGV_MAX);
	if (spec->argv[0] == NULL || spec->argv[0][0] == '\0')
		return berth_err_set(
		    err, BERTH_EINVAL,
		    "command[0]: the program must not be empty");
	for (size_t i = 0; i < spec->argc; i++) {
		if (spec->argv[i] == NULL
		    || strlen(spec->argv[i]) > EXEC_WORD_MAX
		    || !berth_utf8_valid(spec->argv[i]))
			return berth_err_set(
			    err, BERTH_EINVAL,
			    "command[%zu]: expected UTF-8 text "
			    "of at most %u bytes",
			    i, EXEC_WORD_MAX);
	}
	for (size_t i = 0; i < spec->nenv; i++) {
		const char *kv = spec->env[i];
		const char *eq = kv != NULL ? strchr(kv, '=') : NULL;
		char *key;

		if (eq == NULL || strlen(kv) > EXEC_WORD_MAX
		    || !berth_utf8_valid(kv))
			/* Never echo the entry: its value may be a secret. */
			return berth_err_set(err, BERTH_EINVAL,
			                     "env[%zu]: expected KEY=value in "
			                     "UTF-8",
			                     i);
		key = berth_strndup(kv, (size_t)(eq - kv));
		rv = berth_validate_env_key("env", key, err);
		free(key);
		if (rv != 0)
			return rv;
	}
	if (spec->working_dir != NULL && spec->working_dir[0] != '\0') {
		rv = berth_validate_container_path("working_dir",
		                                   spec->working_dir, err);
		if (rv != 0)
			return rv;
	}
	if (spec->user != NULL && spec->user[0] != '\0') {
		rv = berth_validate_user("user", spec->user, err);
		if (rv != 0)
			return rv;
	}
	return 0;
}

static json_t *strv(const char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

int docker_exec_create(struct berth_engine *e, const char *id,
                       const struct berth_exec_spec *spec, char **exec_id,
                       struct berth_err *err)
{
	struct docker_reply r;
	json_t *body = NULL, *j = NULL;
	char *esc = NULL, *path = NULL;
	const char *eid;
	int rv;

	docker_reply_init(&r);
	rv = docker_check_id(id, err);
	if (rv != 0)
		goto out;
	rv = check_spec(spec, err);
	if (rv != 0)
		goto out;
	body = json_pack("{s:b,s:b,s:b,s:b,s:o}", "AttachStdin", 0,
	                 "AttachStdout", 1, "AttachStderr", 1, "Tty", 0, "Cmd",
	                 strv(spec->argv, spec->argc));
	if (spec->nenv > 0)
		json_object_set_new(body, "Env", strv(spec->env, spec->nenv));
	if (spec->working_dir != NULL && spec->working_dir[0] != '\0')
		json_object_set_new(body, "WorkingDir",
		                    json_string(spec->working_dir));
	if (spec->user != NULL && spec->user[0] != '\0')
		json_object_set_new(body, "User", json_string(spec->user));
	esc = berth_http_escape(id);
	path = berth_asprintf("/containers/%s/exec", esc);
	rv = docker_call(e, "POST", path, body, 0, &r, err);
	if (rv != 0)
		goto out;
	if (r.status == 404) {
		rv = berth_err_set(err, BERTH_ENOTFOUND,
		                   "no such container %.64s", id);
		goto out;
	}
	/* Podman answers 500 "container state improper" where Docker says
	 * 409. */
	if (r.status == 409
	    || (r.status == 500 && strstr(r.msg, "state improper") != NULL)) {
		if (strstr(r.msg, "paused") != NULL)
			rv = berth_err_set(err, BERTH_EPRECOND,
			                   "container %.64s is paused; unpause "
			                   "it first",
			                   id);
		else
			rv = berth_err_set(err, BERTH_EPRECOND,
			                   "container %.64s is not running; "
			                   "start it first",
			                   id);
		goto out;
	}
	if (r.status < 200 || r.status >= 300) {
		char *what = docker_what_container("exec in", id);

		rv = docker_map_status(&r, BERTH_EPRECOND, what, err);
		free(what);
		goto out;
	}
	rv = docker_parse_json(&r, &j, "exec create", err);
	if (rv != 0)
		goto out;
	eid = json_string_value(json_object_get(j, "Id"));
	if (eid == NULL
	    || berth_validate_container_ref("exec id", eid, NULL) != 0) {
		rv = berth_err_set(
		    err, BERTH_EINTERNAL,
		    "exec create: the engine sent no usable exec "
		    "id");
		goto out;
	}
	*exec_id = berth_strdup(eid);
out:
	json_decref(j);
	json_decref(body);
	docker_reply_fini(&r);
	free(path);
	free(esc);
	return rv;
}

struct start_state {
	struct berth_mux mux;
	berth_engine_output_fn out;
	berth_engine_tick_fn tick;
	void *arg;
	bool stopped; /* out or tick said stop */
};

static int on_mux(void *arg, enum berth_output_stream s, const char *data,
                  size_t len)
{
	struct start_state *st = arg;

	if (len == 0)
		return 0;
	if (st->out(st->arg, s, data, len, 0) != 0) {
		st->stopped = true;
		return BERTH_ECANCELLED;
	}
	return 0;
}

static int on_chunk(void *arg, const char *data, size_t len)
{
	struct start_state *st = arg;
	int rv = berth_mux_feed(&st->mux, data, len, on_mux, st);

	if (rv > 0)
		rv = BERTH_ECANCELLED;
	return rv;
}

static int on_tick(void *arg)
{
	struct start_state *st = arg;

	if (st->tick == NULL || st->tick(st->arg) == 0)
		return 0;
	st->stopped = true;
	return BERTH_ECANCELLED;
}

/* An exec id as engines make them: hex, checked so it cannot turn into
 * another API path. */
static int check_exec_id(const char *exec_id, struct berth_err *err)
{
	if (exec_id == NULL || exec_id[0] == '\0' || strlen(exec_id) > 64
	    || strspn(exec_id, "0123456789abcdef") != strlen(exec_id))
		return berth_err_set(err, BERTH_EINVAL,
		                     "exec id: expected 1 to 64 lowercase hex "
		                     "digits");
	return 0;
}

int docker_exec_start(struct berth_engine *e, const char *exec_id,
                      berth_engine_output_fn out, berth_engine_tick_fn tick,
                      void *arg, struct berth_err *err)
{
	static const char body[] = "{\"Detach\":false,\"Tty\":false}";
	struct start_state st;
	struct berth_buf errbody;
	struct berth_http_req req = { 0 };
	struct berth_http_stream_limits limits = { 0 };
	char *path = NULL;
	long status = 0;
	int rv;

	memset(&st, 0, sizeof(st));
	berth_buf_init(&errbody, BERTH_HTTP_ERRBODY_MAX);
	rv = check_exec_id(exec_id, err);
	if (rv != 0)
		goto out;
	berth_mux_init(&st.mux, false);
	st.out = out;
	st.tick = tick;
	st.arg = arg;
	path = berth_asprintf(API "/exec/%s/start", exec_id);
	req.method = "POST";
	req.path = path;
	req.body = body;
	req.body_len = sizeof(body) - 1;
	/* A silent command is not a stalled engine: only the tick ends it. */
	limits.total_ms = EXEC_FOREVER_MS;
	limits.low_speed_bytes = 1;
	limits.low_speed_s = EXEC_FOREVER_MS / 1000;
	limits.tick = on_tick;
	rv = berth_http_stream(berth_engine_http_target(e), &req, &limits,
	                       on_chunk, &st, &status, &errbody, err);
	if (st.stopped) {
		rv = berth_err_set(err, BERTH_ECANCELLED,
		                   "exec output stopped by the caller");
		goto out;
	}
	if (rv == BERTH_EINVAL) {
		rv = berth_err_set(err, BERTH_EINTERNAL,
		                   "exec start: the engine sent a malformed "
		                   "output frame");
		goto out;
	}
	if (rv != 0)
		goto out;
	if (status < 200 || status >= 300) {
		struct docker_reply r;

		docker_reply_of_stream(&r, status, &errbody);
		if (status == 404)
			rv = berth_err_set(
			    err, BERTH_ENOTFOUND,
			    "no such exec instance %.64s (or its "
			    "container is gone)",
			    exec_id);
		else
			rv = docker_map_status(&r, BERTH_EPRECOND, "exec start",
			                       err);
		docker_reply_fini(&r);
	}
out:
	berth_buf_fini(&errbody);
	free(path);
	return rv;
}

int docker_exec_inspect(struct berth_engine *e, const char *exec_id,
                        struct berth_exec_state *st, struct berth_err *err)
{
	struct docker_reply r;
	json_t *j = NULL, *code, *pid;
	char *path = NULL;
	int rv;

	docker_reply_init(&r);
	rv = check_exec_id(exec_id, err);
	if (rv != 0)
		goto out;
	path = berth_asprintf("/exec/%s/json", exec_id);
	rv = docker_call(e, "GET", path, NULL, 0, &r, err);
	if (rv != 0)
		goto out;
	if (r.status == 404) {
		rv = berth_err_set(err, BERTH_ENOTFOUND,
		                   "no such exec instance %.64s", exec_id);
		goto out;
	}
	if (r.status < 200 || r.status >= 300) {
		rv = docker_map_status(&r, BERTH_EPRECOND, "exec inspect", err);
		goto out;
	}
	rv = docker_parse_json(&r, &j, "exec inspect", err);
	if (rv != 0)
		goto out;
	code = json_object_get(j, "ExitCode");
	pid = json_object_get(j, "Pid");
	st->running = json_is_true(json_object_get(j, "Running"));
	st->exit_code
	    = json_is_integer(code) ? (int)json_integer_value(code) : -1;
	st->pid = json_is_integer(pid) ? (int)json_integer_value(pid) : 0;
out:
	json_decref(j);
	docker_reply_fini(&r);
	free(path);
	return rv;
}
