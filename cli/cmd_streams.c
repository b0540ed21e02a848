/*
 * cmd_streams.c: `berth exec | logs | wait | events`, the commands that
 * run something in a container or follow what it does, over the REST API.
 */
#include "cli/client.h"
#include "cli/commands.h"

#include "lib/alloc.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* An event stream silent this long has lost its gateway without being
 * closed (a host that died, a cut network): three of the gateway's 15 s
 * keepalives (GW_EVENTS_KEEPALIVE_S) missed. `berth events` resumes. */
#define EVENTS_IDLE_S 45

/* Exit status of `berth exec` when the command ran out of time, as
 * timeout(1) does. */
#define EXIT_TIMED_OUT 124

/* Decodes standard base64 into a new buffer; NULL when malformed. */
static unsigned char *base64_decode(const char *in, size_t *outlen)
{
	size_t n = strlen(in), o = 0;
	unsigned char *out = berth_malloc(n / 4 * 3 + 3);
	unsigned int acc = 0;
	int bits = 0;

	for (size_t i = 0; i < n; i++) {
		const char *alpha
		    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqr"
		      "stuvwxyz0123456789+/";
		const char *p;

		if (in[i] == '=')
			break;
		p = strchr(alpha, in[i]);
		if (p == NULL || in[i] == '\0') {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned int)(p - alpha);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	*outlen = o;
	return out;
}

/* Writes the reply member `name` (text) or `name`_base64 to `f`. */
static void write_output(FILE *f, const json_t *reply, const char *name)
{
	const json_t *text = json_object_get(reply, name);
	char key[32];

	if (json_is_string(text)) {
		fwrite(json_string_value(text), 1, json_string_length(text), f);
		return;
	}
	snprintf(key, sizeof(key), "%s_base64", name);
	text = json_object_get(reply, key);
	if (json_is_string(text)) {
		size_t n = 0;
		unsigned char *raw = base64_decode(json_string_value(text), &n);

		if (raw != NULL)
			fwrite(raw, 1, n, f);
		free(raw);
	}
}

static void exec_usage(FILE *f)
{
	fprintf(f,
	        "usage: berth exec [options] CONTAINER COMMAND [ARG...]\n"
	        "  -e, --env KEY=VALUE    environment (repeatable)\n"
	        "  -w, --workdir DIR      working directory\n"
	        "  -u, --user USER        user[:group]\n"
	        "  -t, --timeout MS       kill the command after MS "
	        "milliseconds\n"
	        "Exits with the command's exit status (124 when it timed "
	        "out).\n");
}

int cmd_exec(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "env", required_argument, NULL, 'e' },
		{ "workdir", required_argument, NULL, 'w' },
		{ "user", required_argument, NULL, 'u' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_client c;
	json_t *body = json_object(), *env = json_object(), *cmd = json_array();
	json_t *reply = NULL;
	char *path = NULL, *id = NULL;
	long status;
	int ch, first, rv = 2;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+e:w:u:t:h", opts, NULL)) != -1) {
		const char *eq;
		char *key;

		switch (ch) {
		case 'e':
			eq = strchr(optarg, '=');
			if (eq == NULL || eq == optarg) {
				fprintf(stderr,
				        "berth: --env: expected KEY=VALUE\n");
				goto out;
			}
			key = berth_strndup(optarg, (size_t)(eq - optarg));
			json_object_set_new(env, key, json_string(eq + 1));
			free(key);
			break;
		case 'w':
			json_object_set_new(body, "working_dir",
			                    json_string(optarg));
			break;
		case 'u':
			json_object_set_new(body, "user", json_string(optarg));
			break;
		case 't':
			json_object_set_new(
			    body, "timeout_ms",
			    json_integer(strtoll(optarg, NULL, 10)));
			break;
		case 'h':
			exec_usage(stdout);
			rv = 0;
			goto out;
		default: exec_usage(stderr); goto out;
		}
	}
	/* "berth exec ID -- CMD ...": the "--" only separates. */
	first = optind + 1;
	if (first < argc && strcmp(argv[first], "--") == 0)
		first++;
	if (optind >= argc || first >= argc) {
		exec_usage(stderr);
		goto out;
	}
	for (int i = first; i < argc; i++)
		json_array_append_new(cmd, json_string(argv[i]));
	json_object_set(body, "command", cmd);
	if (json_object_size(env) > 0)
		json_object_set(body, "env", env);
	if (cli_client_init(&c) != 0)
		goto out;
	id = cli_escape(argv[optind]);
	path = berth_asprintf("/api/v1/containers/%s/exec", id);
	status = cli_request(&c, "POST", path, body, &reply);
	cli_client_fini(&c);
	if (status != 200) {
		rv = cli_fail(status, reply);
		goto out;
	}
	write_output(stdout, reply, "stdout");
	write_output(stderr, reply, "stderr");
	fflush(stdout);
	if (json_is_true(json_object_get(reply, "timed_out"))) {
		fprintf(stderr,
		        "berth: the command timed out and was killed\n");
		rv = EXIT_TIMED_OUT;
	} else {
		rv = (int)json_integer_value(
		         json_object_get(reply, "exit_code"))
		    & 0xff;
	}
out:
	json_decref(reply);
	json_decref(body);
	json_decref(env);
	json_decref(cmd);
	free(path);
	free(id);
	return rv;
}

/* Streams raw bytes to stdout as they come. */
static int to_stdout(void *arg, const char *data, size_t len)
{
	(void)arg;
	if (fwrite(data, 1, len, stdout) != len)
		return -1; /* stdout closed (e.g. `| head`): stop */
	fflush(stdout);
	return 0;
}

static void logs_usage(FILE *f)
{
	fprintf(f,
	        "usage: berth logs [options] CONTAINER\n"
	        "  -f, --follow           keep printing new lines\n"
	        "  -n, --tail N           only the last N lines\n"
	        "  --since T              from T (unix seconds or RFC "
	        "3339)\n"
	        "  -t, --timestamps       prefix each line with its time\n");
}

int cmd_logs(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "tail", required_argument, NULL, 'n' },
		{ "since", required_argument, NULL, 's' },
		{ "timestamps", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_client c;
	json_t *reply = NULL;
	char *tail = NULL, *since = NULL, *id = NULL, *path = NULL;
	bool follow = false, stamps = false;
	long status;
	int ch, rv = 2;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+fn:tsh", opts, NULL)) != -1) {
		switch (ch) {
		case 'f': follow = true; break;
		case 'n':
			free(tail);
			tail = cli_escape(optarg);
			break;
		case 's':
			free(since);
			since = cli_escape(optarg);
			break;
		case 't': stamps = true; break;
		case 'h':
			logs_usage(stdout);
			rv = 0;
			goto out;
		default: logs_usage(stderr); goto out;
		}
	}
	if (argc - optind != 1) {
		logs_usage(stderr);
		goto out;
	}
	if (cli_client_init(&c) != 0)
		goto out;
	id = cli_escape(argv[optind]);
	path = berth_asprintf(
	    "/api/v1/containers/%s/logs?format=text%s%s%s%s%s%s", id,
	    follow ? "&follow=1" : "", stamps ? "&timestamps=1" : "",
	    tail != NULL ? "&tail=" : "", tail != NULL ? tail : "",
	    since != NULL ? "&since=" : "", since != NULL ? since : "");
	status = cli_stream(&c, "GET", path, NULL, 0, to_stdout, NULL, &reply);
	cli_client_fini(&c);
	rv = status == 200 ? 0 : cli_fail(status, reply);
out:
	json_decref(reply);
	free(tail);
	free(since);
	free(id);
	free(path);
	return rv;
}

int cmd_wait(int argc, char **argv)
{
	struct cli_client c;
	json_t *reply = NULL;
	char *id, *path;
	long status;
	int rv;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr,
		        "usage: berth wait CONTAINER\n"
		        "Prints the container's exit code once it "
		        "stops.\n");
		return 2;
	}
	if (cli_client_init(&c) != 0)
		return 2;
	id = cli_escape(argv[1]);
	path = berth_asprintf("/api/v1/containers/%s/wait?timeout_ms=300000",
	                      id);
	/* A wait answers at the latest at its timeout: ask again until the
	 * container stops. */
	for (;;) {
		status = cli_request(&c, "POST", path, NULL, &reply);
		if (status != 504)
			break;
		json_decref(reply);
		reply = NULL;
	}
	if (status == 200) {
		printf("%lld\n",
		       (long long)json_integer_value(
		           json_object_get(reply, "exit_code")));
		rv = 0;
	} else {
		rv = cli_fail(status, reply);
	}
	cli_client_fini(&c);
	json_decref(reply);
	free(path);
	free(id);
	return rv;
}

/*
 * Server-Sent Events: prints each event's data, one JSON per line, and
 * keeps the id of the last whole record, so that a broken stream is
 * resumed after it (?last_event_id=): the gateway replays what was
 * missed, or sends a reset record (printed like the others) saying
 * events may have been missed.
 */
struct sse_state {
	char line[65536];
	size_t len;
	bool overlong;      /* the current line did not fit: skip it */
	char pending[64];   /* the id of the record being read */
	char last_id[64];   /* the id of the last whole record */
	unsigned long recs; /* whole records seen (comments included) */
	bool out_failed;    /* stdout is gone: stop, do not resume */
};

/* Resume attempts in a row that get no stream, 1 s apart. */
#define EVENTS_RESUME_TRIES 10

static int on_sse(void *arg, const char *data, size_t len)
{
	struct sse_state *st = arg;

	for (size_t i = 0; i < len; i++) {
		if (data[i] != '\n') {
			if (st->len + 1 < sizeof(st->line))
				st->line[st->len++] = data[i];
			else
				st->overlong = true;
			continue;
		}
		st->line[st->len] = '\0';
		if (st->len == 0) {
			/* A record ends: its id (if any) is now the last. */
			if (st->pending[0] != '\0')
				memcpy(st->last_id, st->pending,
				       sizeof(st->last_id));
			st->pending[0] = '\0';
			st->recs++;
		} else if (!st->overlong && strncmp(st->line, "id: ", 4) == 0
		           && st->len - 4 < sizeof(st->pending)) {
			memcpy(st->pending, st->line + 4, st->len - 4 + 1);
		} else if (!st->overlong
		           && strncmp(st->line, "data: ", 6) == 0) {
			if (printf("%s\n", st->line + 6) < 0
			    || fflush(stdout) != 0) {
				st->out_failed = true;
				return -1;
			}
		}
		st->len = 0;
		st->overlong = false;
	}
	return 0;
}

/* The events path, resuming after `last_id` when it is not empty.
 * `type` and `id` are escaped already. Caller frees. */
static char *events_path(const char *type, const char *id, const char *last_id)
{
	const char *key[3] = { "type", "id", "last_event_id" };
	char *val[3] = { NULL, NULL, NULL };
	char *path = berth_strdup("/api/v1/events");

	val[0] = type != NULL ? berth_strdup(type) : NULL;
	val[1] = id != NULL ? berth_strdup(id) : NULL;
	val[2] = last_id[0] != '\0' ? cli_escape(last_id) : NULL;
	for (int i = 0, n = 0; i < 3; i++) {
		char *next;

		if (val[i] == NULL)
			continue;
		next = berth_asprintf("%s%c%s=%s", path, n++ == 0 ? '?' : '&',
		                      key[i], val[i]);
		free(path);
		free(val[i]);
		path = next;
	}
	return path;
}

/*
 * Follows the stream; when it breaks or ends after it was open, comes
 * back with the last id, up to EVENTS_RESUME_TRIES failed attempts in a
 * row. Returns the exit status.
 */
static int follow_events(const struct cli_client *c, const char *type,
                         const char *id, struct sse_state *st)
{
	int fails = 0;

	for (;;) {
		char *path = events_path(type, id, st->last_id);
		unsigned long before = st->recs;
		json_t *reply = NULL;
		long status;

		status = cli_stream(c, "GET", path, NULL, EVENTS_IDLE_S, on_sse,
		                    st, &reply);
		free(path);
		if (st->out_failed) {
			json_decref(reply);
			return 0;
		}
		if (st->last_id[0] == '\0'
		    || (status != -1 && status != 200 && status != 503)) {
			/* Never opened, or refused: as without resuming. */
			int rv = status == 200 ? 0 : cli_fail(status, reply);

			json_decref(reply);
			return rv;
		}
		json_decref(reply);
		fails = st->recs > before ? 0 : fails + 1;
		st->len = 0; /* a record cut short is dropped */
		st->overlong = false;
		st->pending[0] = '\0';
		if (fails >= EVENTS_RESUME_TRIES) {
			fprintf(stderr,
			        "berth: the event stream is gone; gave up "
			        "after %d attempts to resume it\n",
			        EVENTS_RESUME_TRIES);
			return 1;
		}
		fprintf(stderr, "berth: resuming the event stream after %s\n",
		        st->last_id);
		sleep(1);
	}
}

int cmd_events(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "type", required_argument, NULL, 'T' },
		{ "id", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sse_state *st = NULL;
	struct cli_client c;
	char *type = NULL, *id = NULL;
	int ch, rv = 2;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (ch) {
		case 'T':
			free(type);
			type = cli_escape(optarg);
			break;
		case 'i':
			free(id);
			id = cli_escape(optarg);
			break;
		case 'h':
			printf("usage: berth events [--type container|job] "
			       "[--id CONTAINER]\n");
			rv = 0;
			goto out;
		default:
			fprintf(stderr,
			        "usage: berth events [--type "
			        "container|job] [--id CONTAINER]\n");
			goto out;
		}
	}
	if (optind != argc) {
		fprintf(stderr,
		        "usage: berth events [--type container|job] "
		        "[--id CONTAINER]\n");
		goto out;
	}
	if (cli_client_init(&c) != 0)
		goto out;
	st = berth_calloc(1, sizeof(*st));
	rv = follow_events(&c, type, id, st);
	cli_client_fini(&c);
out:
	free(st);
	free(type);
	free(id);
	return rv;
}
