/*
 * routes_exec.c: POST /api/v1/containers/{id}/exec (see the route table
 * in router.c).
 *
 * Body (strict; unknown fields are refused by name):
 *   command           [argv...], required, run as given (no shell)
 *   env               {"KEY":"value"}, as container create's environment
 *   working_dir       absolute path in the container
 *   user              "uid[:gid]" or a name the image knows
 *   timeout_ms        0 (none) .. 86400000; the process tree is killed
 *                     when it passes and the answer says timed_out
 *   max_output_bytes  per stream; 0 = 1 MiB
 *
 * JSON answer (Runtime.ExecCommand): 200 {"exit_code","stdout","stderr",
 * "timed_out","stdout_truncated","stderr_truncated",
 * "output_budget_exhausted","duration_ms"}.
 * Output that is not valid UTF-8 (or holds a NUL byte) comes as
 * "stdout_base64" / "stderr_base64" instead; a truncated text ends with
 * the line "[berth: stdout truncated after N bytes]" (with the reason
 * when the runtime's output budget, not the cap, cut it). The whole
 * answer is one RPC message and one JSON document held in memory, so max_output_bytes is
 * at most GW_EXEC_JSON_OUTPUT_MAX here; and a command without timeout_ms
 * is killed (timed_out) when the RPC's GW_EXEC_DEFAULT_RPC_MS run out.
 *
 * Streamed answer (?stream=1, or Accept: application/x-ndjson):
 * Runtime.ExecStream, then chunked NDJSON through the stream relay
 * (stream_relay.h): one frame a line, then {"done":true,"exit_code",
 * "timed_out",...}. max_output_bytes up to 16 MiB; no timeout unless
 * timeout_ms is given; a client that leaves ends the command.
 *
 * Exec is not idempotent: the RPC is never resent.
 */
#include "gateway/json_map.h"
#include "gateway/respond.h"
#include "gateway/router.h"
#include "gateway/stream_relay.h"

#include "lib/alloc.h"
#include "lib/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GW_EXEC_ARGV_MAX        4096
#define GW_EXEC_TIMEOUT_MAX_MS  86400000LL
#define GW_EXEC_OUTPUT_MAX      (16u << 20)
#define GW_EXEC_JSON_OUTPUT_MAX (8u << 20)
/* The RPC outlives the exec's own timeout by this much, so the
 * runtime's answer (timed_out), not the gateway's deadline, decides. */
#define GW_EXEC_SLACK_MS 5000
/* A JSON exec without timeout_ms: the RPC's whole time. */
#define GW_EXEC_DEFAULT_RPC_MS 60000

/* What the exec request owns until it is freed (rq->ext). */
struct exec_in {
	char **argv;
	size_t argc;
	Berth__V1__KeyValue *kvs;
	Berth__V1__KeyValue **kvp;
	size_t nenv;
	char *working_dir;
	char *user;
};

static void exec_in_free(void *p)
{
	struct exec_in *x = p;

	if (x == NULL)
		return;
	for (size_t i = 0; i < x->argc; i++)
		free(x->argv[i]);
	free(x->argv);
	for (size_t i = 0; i < x->nenv; i++) {
		free(x->kvs[i].key);
		free(x->kvs[i].value);
	}
	free(x->kvs);
	free(x->kvp);
	free(x->working_dir);
	free(x->user);
	free(x);
}

/* Length of the longest prefix of p[0..len) that is valid UTF-8 without
 * NUL bytes (many JSON decoders refuse "\u0000": such output goes as
 * base64). */
static size_t utf8_prefix(const char *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t k
		    = p[i] != '\0' ? berth_utf8_seq_len(p + i, len - i) : 0;

		if (k == 0)
			break;
		i += k;
	}
	return i;
}

static char *base64(const unsigned char *p, size_t len)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                            "abcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = berth_malloc((len + 2) / 3 * 4 + 1);
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;

		if (i + 1 < len)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < len)
			v |= (unsigned)p[i + 2];
		out[o++] = alpha[(v >> 18) & 63];
		out[o++] = alpha[(v >> 12) & 63];
		out[o++] = i + 1 < len ? alpha[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? alpha[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

/*
 * Puts one stream's output into the answer: as text when it is UTF-8
 * (a truncated stream may end inside a character: that tail is cut),
 * with the marker line when truncated; else as base64.
 */
static void put_output(json_t *o, const char *name,
                       const ProtobufCBinaryData *b, bool truncated,
                       bool budget)
{
	const char *p = (const char *)b->data;
	size_t len = b->len, ok = p != NULL ? utf8_prefix(p, len) : 0;
	char key[32];

	if (ok == len
	    || (truncated && len - ok < 4
	        && berth_utf8_seq_len(p + ok, len - ok) == 0
	        && utf8_prefix(p, ok) == ok)) {
		struct berth_buf t;
		char mark[160];

		/* The buffer never exceeds the reply it came from. */
		berth_buf_init(&t, len + sizeof(mark) + 2);
		if (ok > 0)
			(void)berth_buf_append(&t, p, ok);
		if (truncated) {
			snprintf(mark, sizeof(mark),
			         "%s[berth: %s truncated after %zu bytes%s]\n",
			         ok > 0 && p[ok - 1] != '\n' ? "\n" : "", name,
			         len,
			         budget ? ": the runtime's exec output budget "
			                  "is used up; try again later"
			                : "");
			(void)berth_buf_puts(&t, mark);
		}
		json_object_set_new(
		    o, name, json_stringn(t.data != NULL ? t.data : "", t.len));
		berth_buf_fini(&t);
		return;
	}
	snprintf(key, sizeof(key), "%s_base64", name);
	{
		char *b64 = base64(b->data, len);

		json_object_set_new(o, key, json_string(b64));
		free(b64);
	}
}

static void finish_json(struct gw_req *rq, const ProtobufCMessage *out)
{
	const Berth__V1__ExecReply *r = (const Berth__V1__ExecReply *)out;
	json_t *o = json_pack(
	    "{s:i,s:b,s:b,s:b,s:b,s:I}", "exit_code", r->exit_code, "timed_out",
	    r->timed_out, "stdout_truncated", r->stdout_truncated,
	    "stderr_truncated", r->stderr_truncated, "output_budget_exhausted",
	    r->stdout_budget_exhausted || r->stderr_budget_exhausted,
	    "duration_ms", (json_int_t)r->duration_ms);

	put_output(o, "stdout", &r->stdout, r->stdout_truncated,
	           r->stdout_budget_exhausted);
	put_output(o, "stderr", &r->stderr, r->stderr_truncated,
	           r->stderr_budget_exhausted);
	gw_respond_json(rq, 200, o);
}

static void finish_stream(struct gw_req *rq, const ProtobufCMessage *out)
{
	const Berth__V1__StreamRef *ref = (const Berth__V1__StreamRef *)out;

	gw_relay_start(rq, ref->id, NULL);
}

/* An optional integer member within [0, max]; `*out` untouched when
 * absent. */
static int opt_uint(const json_t *obj, const char *key, long long max,
                    long long *out, struct berth_err *err)
{
	const json_t *v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0
	    || json_integer_value(v) > max)
		return berth_err_set(err, BERTH_EINVAL,
		                     "%s: expected an integer from 0 to %lld",
		                     key, max);
	*out = json_integer_value(v);
	return 0;
}

/* An optional string member, checked by `check`. */
static int opt_str(const json_t *obj, const char *key,
                   int (*check)(const char *, const char *, struct berth_err *),
                   char **out, struct berth_err *err)
{
	const json_t *v = json_object_get(obj, key);
	int rv;

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return berth_err_set(err, BERTH_EINVAL, "%s: expected a string",
		                     key);
	if (json_string_value(v)[0] == '\0')
		return 0;
	rv = check(key, json_string_value(v), err);
	if (rv != 0)
		return rv;
	*out = berth_strdup(json_string_value(v));
	return 0;
}

static int parse_command(const json_t *obj, struct exec_in *x,
                         struct berth_err *err)
{
	const json_t *cmd = json_object_get(obj, "command");
	size_t n;

	if (cmd == NULL)
		return berth_err_set(err, BERTH_EINVAL,
		                     "command is required: an array of strings "
		                     "(argv, run without a shell)");
	if (!json_is_array(cmd) || json_array_size(cmd) == 0)
		return berth_err_set(err, BERTH_EINVAL,
		                     "command: expected a non-empty array of "
		                     "strings (argv)");
	n = json_array_size(cmd);
	if (n > GW_EXEC_ARGV_MAX)
		return berth_err_set(err, BERTH_EINVAL,
		                     "command: more than %d words",
		                     GW_EXEC_ARGV_MAX);
	for (size_t i = 0; i < n; i++) {
		const json_t *w = json_array_get(cmd, i);

		if (!json_is_string(w))
			return berth_err_set(err, BERTH_EINVAL,
			                     "command[%zu]: expected a string",
			                     i);
		if (strlen(json_string_value(w)) != json_string_length(w))
			return berth_err_set(
			    err, BERTH_EINVAL,
			    "command[%zu]: must not hold a NUL "
			    "byte",
			    i);
	}
	if (json_string_length(json_array_get(cmd, 0)) == 0)
		return berth_err_set(
		    err, BERTH_EINVAL,
		    "command[0]: the program must not be empty");
	x->argv = berth_calloc(n, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		x->argv[i]
		    = berth_strdup(json_string_value(json_array_get(cmd, i)));
	x->argc = n;
	return 0;
}

static int parse_env(const json_t *obj, struct exec_in *x,
                     struct berth_err *err)
{
	const json_t *env = json_object_get(obj, "env"), *v;
	const char *key;
	size_t i = 0;
	int rv;

	if (env == NULL || json_is_null(env))
		return 0;
	if (!json_is_object(env))
		return berth_err_set(err, BERTH_EINVAL,
		                     "env: expected an object of strings");
	if (json_object_size(env) > GW_EXEC_ARGV_MAX)
		return berth_err_set(err, BERTH_EINVAL,
		                     "env: more than %d entries",
		                     GW_EXEC_ARGV_MAX);
	json_object_foreach((json_t *)env, key, v)
	{
		rv = berth_validate_env_key("env", key, err);
		if (rv != 0)
			return rv;
		/* Never echo the value: it may be a secret. */
		if (!json_is_string(v)
		    || strlen(json_string_value(v)) != json_string_length(v))
			return berth_err_set(
			    err, BERTH_EINVAL,
			    "env.%s: expected a string without "
			    "NUL bytes",
			    key);
	}
	x->nenv = json_object_size(env);
	x->kvs = berth_calloc(x->nenv + 1, sizeof(*x->kvs));
	x->kvp = berth_calloc(x->nenv + 1, sizeof(*x->kvp));
	json_object_foreach((json_t *)env, key, v)
	{
		berth__v1__key_value__init(&x->kvs[i]);
		x->kvs[i].key = berth_strdup(key);
		x->kvs[i].value = berth_strdup(json_string_value(v));
		x->kvp[i] = &x->kvs[i];
		i++;
	}
	return 0;
}

static int parse_body(const json_t *obj, bool stream, struct exec_in *x,
                      long long *timeout_ms, long long *max_out,
                      struct berth_err *err)
{
	static const char *const keys[]
	    = { "command",          "env", "working_dir", "user", "timeout_ms",
		"max_output_bytes", NULL };
	const char *key;
	const json_t *v;
	int rv;

	json_object_foreach((json_t *)obj, key, v)
	{
		bool ok = false;

		for (size_t i = 0; keys[i] != NULL && !ok; i++)
			ok = strcmp(key, keys[i]) == 0;
		if (!ok) {
			char q[BERTH_QUOTE_MAX + 8];

			berth_quote_for_msg(q, sizeof(q), key);
			return berth_err_set(err, BERTH_EINVAL,
			                     "unknown field \"%s\" (known: "
			                     "command, env, working_dir, user, "
			                     "timeout_ms, max_output_bytes)",
			                     q);
		}
	}
	rv = parse_command(obj, x, err);
	if (rv == 0)
		rv = parse_env(obj, x, err);
	if (rv == 0)
		rv = opt_str(obj, "working_dir", berth_validate_container_path,
		             &x->working_dir, err);
	if (rv == 0)
		rv = opt_str(obj, "user", berth_validate_user, &x->user, err);
	if (rv == 0)
		rv = opt_uint(obj, "timeout_ms", GW_EXEC_TIMEOUT_MAX_MS,
		              timeout_ms, err);
	if (rv == 0)
		rv = opt_uint(obj, "max_output_bytes", GW_EXEC_OUTPUT_MAX,
		              max_out, err);
	if (rv != 0)
		return rv;
	if (!stream && *max_out > (long long)GW_EXEC_JSON_OUTPUT_MAX)
		return berth_err_set(err, BERTH_EINVAL,
		                     "max_output_bytes: at most %u for a JSON "
		                     "answer (it travels in one message); ask "
		                     "with ?stream=1 for up to %u",
		                     GW_EXEC_JSON_OUTPUT_MAX,
		                     GW_EXEC_OUTPUT_MAX);
	return 0;
}

/* ?stream=1|true|0|false, or Accept: application/x-ndjson. */
static int want_stream(struct gw_req *rq, bool *stream)
{
	const char *q = gw_req_query(rq, "stream");
	const char *accept = gw_req_header(rq, "Accept");

	*stream = accept != NULL && strstr(accept, "application/x-ndjson");
	if (q == NULL)
		return 0;
	if (strcmp(q, "1") == 0 || strcmp(q, "true") == 0) {
		*stream = true;
		return 0;
	}
	if (strcmp(q, "0") == 0 || strcmp(q, "false") == 0) {
		*stream = false;
		return 0;
	}
	gw_respond_error(rq, BERTH_EINVAL, false,
	                 "stream: expected 1, true, 0 or false");
	return BERTH_EINVAL;
}

void gw_h_container_exec(struct gw_req *rq)
{
	static const char *const qkeys[] = { "stream", NULL };
	struct berth_err err;
	struct exec_in *x = NULL;
	long long timeout_ms = 0, max_out = 0, rpc_ms;
	json_t *obj = NULL;
	bool stream = false;
	int rv;

	berth_err_clear(&err);
	if (gw_req_query_only(rq, qkeys) != 0 || want_stream(rq, &stream) != 0)
		return;
	if (berth_validate_container_ref("id", rq->params[0], &err) != 0) {
		gw_respond_err(rq, &err);
		return;
	}
	if (rq->body.len == 0) {
		gw_respond_error(rq, BERTH_EINVAL, false,
		                 "a JSON body is required: {\"command\": "
		                 "[\"program\", \"arg\", ...]}");
		return;
	}
	rv = gw_json_parse_object(&obj, rq->body.data, rq->body.len, &err);
	if (rv != 0) {
		gw_respond_err(rq, &err);
		return;
	}
	x = berth_calloc(1, sizeof(*x));
	rv = parse_body(obj, stream, x, &timeout_ms, &max_out, &err);
	json_decref(obj);
	if (rv != 0) {
		exec_in_free(x);
		gw_respond_err(rq, &err);
		return;
	}
	rq->ext = x;
	rq->ext_free = exec_in_free;
	berth__v1__exec_request__init(&rq->in.exec);
	rq->in.exec.id = rq->params[0];
	rq->in.exec.command = x->argv;
	rq->in.exec.n_command = x->argc;
	rq->in.exec.env = x->kvp;
	rq->in.exec.n_env = x->nenv;
	rq->in.exec.working_dir
	    = x->working_dir != NULL ? x->working_dir : (char *)"";
	rq->in.exec.user = x->user != NULL ? x->user : (char *)"";
	rq->in.exec.timeout_ms = timeout_ms;
	rq->in.exec.max_output_bytes = (uint64_t)max_out;
	/* Exec is not idempotent: never resent, even if the runtime's
	 * connection drops under the call. */
	rq->no_resend = true;
	if (stream) {
		gw_rpc_start(rq, "ExecStream", &rq->in.exec.base, false, 0,
		             finish_stream);
		return;
	}
	rpc_ms = timeout_ms > 0 ? timeout_ms + GW_EXEC_SLACK_MS
	                        : GW_EXEC_DEFAULT_RPC_MS;
	gw_rpc_start(rq, "ExecCommand", &rq->in.exec.base, false, (int)rpc_ms,
	             finish_json);
}
