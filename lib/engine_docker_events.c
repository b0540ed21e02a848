/*
 * engine_docker_events.c: the Docker driver's following the engine's
 * event stream (GET /events), normalised into struct berth_engine_event.
 *
 * The Podman driver uses this file too (its compatible API speaks the
 * same stream), so the known differences are folded here: Podman's
 * "remove" and "died" are Docker's "destroy" and "die"; Docker's
 * "health_status: healthy" becomes action "health_status" with
 * health_status "healthy" (Podman sends the state as an attribute).
 *
 * The stream has no overall timeout and no low-speed limit (an idle
 * engine sends nothing for hours): the caller's tick, about once a
 * second, is the only way out besides the engine going away.
 */
#include "lib/engine_docker_internal.h"
#include "lib/log.h"

#include "lib/alloc.h"
#include "lib/engine_http.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* One event line is a small JSON object unless the container carries
 * huge labels; a longer line is passed on without them (ev_oversized). */
#define EVENT_LINE_MAX (256u * 1024u)
/* What is kept of an over-long line: its start (type, action, id come
 * first) and its end (time, timeNano come last). */
#define EVENT_HEAD_MAX 4096
#define EVENT_TAIL_MAX 256
/* Labels kept per event. */
#define EVENT_LABELS_MAX 256
/* "No limit" for the stream: ten years. */
#define FOREVER_MS (10L * 365L * 24L * 3600L * 1000L)

struct ev_state {
	berth_engine_event_fn fn;
	berth_engine_tick_fn tick;
	void *arg;
	struct berth_buf line;
	struct berth_err *err;
	bool stopped;   /* fn or tick said stop */
	bool oversized; /* the line under way passed EVENT_LINE_MAX */
	char head[EVENT_HEAD_MAX];
	size_t head_len;
	char tail[EVENT_TAIL_MAX]; /* the last bytes, in order */
	size_t tail_len;
};

bool docker_event_meta_attr(const char *k)
{
	static const char *const meta[] = {
		"name",   "image",         "exitCode", "signal",
		"execID", "health_status", "podId",    "containerExitCode",
	};

	for (size_t i = 0; i < sizeof(meta) / sizeof(meta[0]); i++)
		if (strcmp(k, meta[i]) == 0)
			return true;
	return false;
}

/* Handles one complete JSON line; non-container events are skipped. */
static int ev_line(void *arg, const char *data, size_t len)
{
	struct ev_state *st = arg;
	Berth__V1__KeyValue kvs[EVENT_LABELS_MAX];
	const Berth__V1__KeyValue *kvp[EVENT_LABELS_MAX];
	struct berth_engine_event ev;
	char action[64];
	char health[32];
	json_t *j = NULL, *actor, *attrs, *v;
	const char *type, *act, *k, *s;
	size_t n = 0;
	int rv = 0;

	while (len > 0 && (data[len - 1] == '\r' || data[len - 1] == ' '))
		len--;
	if (len == 0)
		return 0;
	j = json_loadb(data, len, 0, NULL);
	if (!json_is_object(j))
		goto out; /* not ours to judge: skip what we cannot read */
	type = json_string_value(json_object_get(j, "Type"));
	act = json_string_value(json_object_get(j, "Action"));
	if (act == NULL)
		act = json_string_value(json_object_get(j, "status"));
	if (type == NULL || strcmp(type, "container") != 0 || act == NULL)
		goto out;
	actor = json_object_get(j, "Actor");
	attrs = json_object_get(actor, "Attributes");

	memset(&ev, 0, sizeof(ev));
	ev.type = "container";
	ev.id = json_string_value(json_object_get(actor, "ID"));
	if (ev.id == NULL)
		ev.id = json_string_value(json_object_get(j, "id"));
	if (ev.id == NULL)
		goto out;
	ev.name = json_string_value(json_object_get(attrs, "name"));
	v = json_object_get(j, "timeNano");
	if (json_is_integer(v))
		ev.time_ns = json_integer_value(v);
	else
		ev.time_ns = json_integer_value(json_object_get(j, "time"))
		    * 1000000000LL;

	health[0] = '\0';
	snprintf(action, sizeof(action), "%s", act);
	if (strncmp(act, "health_status", 13) == 0) {
		const char *h = act + 13;

		while (*h == ':' || *h == ' ')
			h++;
		/* Podman's compatible stream: a bare "health_status",
		 * the state in a top-level "HealthStatus" (4.3) or in
		 * the attributes. */
		if (*h == '\0')
			h = json_string_value(
			    json_object_get(j, "HealthStatus"));
		if (h == NULL || *h == '\0')
			h = json_string_value(
			    json_object_get(attrs, "health_status"));
		snprintf(health, sizeof(health), "%s", h != NULL ? h : "");
		snprintf(action, sizeof(action), "health_status");
		ev.health_status = health;
	} else if (strcmp(act, "remove") == 0) {
		snprintf(action, sizeof(action), "destroy");
	} else if (strcmp(act, "died") == 0) {
		snprintf(action, sizeof(action), "die");
	} else {
		/* "exec_start: sh -c ..." and the like: the verb only. */
		char *colon = strchr(action, ':');

		if (colon != NULL)
			*colon = '\0';
	}
	ev.action = action;
	s = json_string_value(json_object_get(attrs, "exitCode"));
	if (s == NULL)
		s = json_string_value(
		    json_object_get(attrs, "containerExitCode"));
	if (s != NULL)
		ev.exit_code = (int)strtol(s, NULL, 10);
	if (json_is_object(attrs)) {
		json_object_foreach(attrs, k, v)
		{
			if (n == EVENT_LABELS_MAX)
				break;
			if (docker_event_meta_attr(k) || !json_is_string(v))
				continue;
			berth__v1__key_value__init(&kvs[n]);
			kvs[n].key = (char *)k;
			kvs[n].value = (char *)json_string_value(v);
			kvp[n] = &kvs[n];
			n++;
		}
	}
	ev.labels = kvp;
	ev.nlabels = n;
	if (st->fn(st->arg, &ev) != 0) {
		st->stopped = true;
		rv = BERTH_ECANCELLED;
	}
out:
	json_decref(j);
	return rv;
}

/* Keeps the start and the end of an over-long line. */
static void oversized_add(struct ev_state *st, const char *p, size_t n)
{
	size_t h = sizeof(st->head) - st->head_len;

	if (h > n)
		h = n;
	memcpy(st->head + st->head_len, p, h);
	st->head_len += h;
	if (n >= sizeof(st->tail)) {
		memcpy(st->tail, p + n - sizeof(st->tail), sizeof(st->tail));
		st->tail_len = sizeof(st->tail);
	} else {
		size_t keep = sizeof(st->tail) - n;

		if (keep > st->tail_len)
			keep = st->tail_len;
		memmove(st->tail, st->tail + st->tail_len - keep, keep);
		memcpy(st->tail + keep, p, n);
		st->tail_len = keep + n;
	}
}

/* The string after `"key":"` in `s` (n bytes), copied into `out`; ""
 * when absent or cut. */
static void member_str(const char *s, size_t n, const char *key, char *out,
                       size_t cap)
{
	char pat[32];
	const char *p, *q;

	out[0] = '\0';
	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	p = memmem(s, n, pat, strlen(pat));
	if (p == NULL)
		return;
	p += strlen(pat);
	q = memchr(p, '"', (size_t)(s + n - p));
	if (q == NULL || (size_t)(q - p) >= cap)
		return;
	memcpy(out, p, (size_t)(q - p));
	out[q - p] = '\0';
}

/* The digits after `"key":` in `s` (n bytes, not NUL-terminated),
 * copied into `out`; "" when absent, cut or too long. */
static void member_num(const char *s, size_t n, const char *key, char *out,
                       size_t cap)
{
	char pat[32];
	const char *p;
	size_t plen, len = 0;

	out[0] = '\0';
	plen = (size_t)snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = memmem(s, n, pat, plen);
	if (p == NULL)
		return;
	p += plen;
	while (p + len < s + n && p[len] >= '0' && p[len] <= '9')
		len++;
	if (len == 0 || len >= cap || p + len == s + n)
		return; /* no number, or one the tail's end may have cut */
	memcpy(out, p, len);
	out[len] = '\0';
}

/*
 * An event line longer than EVENT_LINE_MAX (a container with hundreds of
 * KiB of labels). Failing the stream would only replay the same line on
 * reconnect, for ever; dropping it would hide a change. So it is passed
 * on as the same event without its attributes (no labels, no name):
 * type, action and id from the line's start, the time from its end.
 */
static int ev_oversized(struct ev_state *st)
{
	char type[32], action[64], id[80], nano[32], secs[32];
	json_t *j;
	char *text;
	int rv;

	member_str(st->head, st->head_len, "Type", type, sizeof(type));
	member_str(st->head, st->head_len, "Action", action, sizeof(action));
	if (action[0] == '\0')
		member_str(st->head, st->head_len, "status", action,
		           sizeof(action));
	member_str(st->head, st->head_len, "id", id, sizeof(id));
	member_num(st->tail, st->tail_len, "timeNano", nano, sizeof(nano));
	member_num(st->tail, st->tail_len, "time", secs, sizeof(secs));
	berth_log(BERTH_LOG_DEBUG, "engine_event_oversized",
	          "type=%s action=%s id=%.64s", type, action, id);
	if (type[0] == '\0' || action[0] == '\0' || id[0] == '\0')
		return 0; /* not even that could be read: skip it */
	j = json_pack("{s:s,s:s,s:s,s:I}", "Type", type, "Action", action, "id",
	              id, "time", (json_int_t)strtoll(secs, NULL, 10));
	if (j == NULL)
		return 0; /* not UTF-8: not an event we could use */
	/* Only a timeNano that was read: ev_line() prefers it to "time". */
	if (nano[0] != '\0')
		json_object_set_new(
		    j, "timeNano",
		    json_integer((json_int_t)strtoll(nano, NULL, 10)));
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	rv = text != NULL ? ev_line(st, text, strlen(text)) : 0;
	free(text);
	return rv;
}

/* Splits the stream into lines; a line past EVENT_LINE_MAX is kept only
 * in part and handed to ev_oversized() when it ends. */
static int ev_chunk(void *arg, const char *data, size_t len)
{
	struct ev_state *st = arg;
	size_t start = 0;

	while (start < len) {
		const char *nl = memchr(data + start, '\n', len - start);
		size_t n
		    = nl != NULL ? (size_t)(nl - (data + start)) : len - start;
		int rv = 0;

		if (!st->oversized
		    && berth_buf_append(&st->line, data + start, n) != 0) {
			st->oversized = true;
			st->head_len = st->tail_len = 0;
			if (st->line.len > 0)
				oversized_add(st, st->line.data, st->line.len);
			berth_buf_reset(&st->line);
		}
		if (st->oversized)
			oversized_add(st, data + start, n);
		if (nl == NULL)
			break;
		if (st->oversized) {
			rv = ev_oversized(st);
			st->oversized = false;
		} else {
			rv = ev_line(st,
			             st->line.data != NULL ? st->line.data : "",
			             st->line.len);
		}
		berth_buf_reset(&st->line);
		if (rv != 0)
			return rv;
		start += n + 1;
	}
	return 0;
}

static int ev_tick(void *arg)
{
	struct ev_state *st = arg;

	if (st->tick == NULL || st->tick(st->arg) == 0)
		return 0;
	st->stopped = true;
	return BERTH_ECANCELLED;
}

int docker_events(struct berth_engine *e, int64_t since_unix_ms,
                  berth_engine_event_fn fn, berth_engine_tick_fn tick,
                  void *arg, struct berth_err *err)
{
	struct ev_state st;
	struct berth_buf errbody;
	struct berth_http_req req = { 0 };
	struct berth_http_stream_limits limits = {
		.total_ms = FOREVER_MS,
		.low_speed_bytes = 1,
		.low_speed_s = FOREVER_MS / 1000,
		.tick = ev_tick,
	};
	char *filters = berth_http_escape("{\"type\":[\"container\"]}");
	char *path = NULL;
	long status = 0;
	int rv;

	memset(&st, 0, sizeof(st));
	st.fn = fn;
	st.tick = tick;
	st.arg = arg;
	st.err = err;
	berth_buf_init(&st.line, EVENT_LINE_MAX);
	berth_buf_init(&errbody, BERTH_HTTP_ERRBODY_MAX);
	if (since_unix_ms > 0)
		path = berth_asprintf(
		    API "/events?since=%" PRId64 ".%09" PRId64 "&filters=%s",
		    since_unix_ms / 1000, (since_unix_ms % 1000) * 1000000,
		    filters);
	else
		path = berth_asprintf(API "/events?filters=%s", filters);
	req.method = "GET";
	req.path = path;
	rv = berth_http_stream(berth_engine_http_target(e), &req, &limits,
	                       ev_chunk, &st, &status, &errbody, err);
	if (st.stopped) {
		rv = berth_err_set(err, BERTH_ECANCELLED,
		                   "event stream stopped by the caller");
		goto out;
	}
	if (rv != 0)
		goto out;
	if (status < 200 || status >= 300) {
		struct docker_reply r;

		docker_reply_of_stream(&r, status, &errbody);
		rv = docker_map_status(&r, BERTH_EPRECOND, "engine events",
		                       err);
		docker_reply_fini(&r);
		goto out;
	}
	/* A 2xx stream that ends: the engine closed it (stopping). */
	rv = berth_err_set_retryable(err, BERTH_EUNAVAIL,
	                             "the engine closed its event stream");
out:
	berth_buf_fini(&errbody);
	berth_buf_fini(&st.line);
	free(path);
	free(filters);
	return rv;
}
