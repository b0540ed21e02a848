/*
 * engine_docker.c: the Docker Engine API v1.41 driver (see engine.h).
 *
 * Every request goes to a versioned path (/v1.41/...) so a newer engine
 * keeps answering in the shape this file parses. The engine's JSON is
 * built here with jansson from the typed protobuf spec; nothing a tenant
 * sends is passed through as JSON. Error messages keep the engine's own
 * text, cut to one line, and never a request body or an env value.
 */
#include "lib/engine.h"

#include "lib/alloc.h"
#include "lib/buf.h"
#include "lib/engine_docker_internal.h"
#include "lib/engine_spec_check.h"
#include "lib/engine_http.h"
#include "lib/validate.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Protective defaults applied to every container berth creates. */
#define PIDS_LIMIT   4096
#define LOG_MAX_SIZE "10m"
#define LOG_MAX_FILE "3"

/* Pull streams: one progress line may not exceed this. */
#define PULL_LINE_MAX (1024u * 1024u)
#define PULL_LAYERS   256

/* --- protobuf helpers ------------------------------------------------ */

/* Sets a singular proto string field from JSON (leaves "" as default). */
static void set_str(char **field, const json_t *v)
{
	const char *s = json_string_value(v);

	if (s != NULL && s[0] != '\0')
		*field = berth_strdup(s);
}

/* A JSON array of strings as a proto repeated string (all malloc'd). */
static void set_strv(char ***field, size_t *n, const json_t *arr)
{
	size_t i, k = 0;
	json_t *v;

	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return;
	*field = berth_calloc(json_array_size(arr), sizeof(char *));
	json_array_foreach(arr, i, v)
	{
		const char *s = json_string_value(v);

		(*field)[k++] = berth_strdup(s != NULL ? s : "");
	}
	*n = k;
}

static Berth__V1__KeyValue *kv_new(const char *k, const char *v)
{
	Berth__V1__KeyValue *kv = berth_malloc(sizeof(*kv));

	berth__v1__key_value__init(kv);
	kv->key = berth_strdup(k);
	kv->value = berth_strdup(v != NULL ? v : "");
	return kv;
}

/* A JSON object of string values as proto KeyValues. */
static void set_labels(Berth__V1__KeyValue ***field, size_t *n,
                       const json_t *obj)
{
	const char *k;
	json_t *v;
	size_t i = 0;

	if (!json_is_object(obj) || json_object_size(obj) == 0)
		return;
	*field = berth_calloc(json_object_size(obj), sizeof(**field));
	json_object_foreach((json_t *)obj, k, v)
	{
		(*field)[i++] = kv_new(k, json_string_value(v));
	}
	*n = i;
}

static Berth__V1__PortBinding *port_new(const char *ip, uint32_t host_port,
                                        uint32_t container_port,
                                        const char *proto)
{
	Berth__V1__PortBinding *p = berth_malloc(sizeof(*p));

	berth__v1__port_binding__init(p);
	if (ip != NULL && ip[0] != '\0')
		p->host_ip = berth_strdup(ip);
	p->host_port = host_port;
	p->container_port = container_port;
	p->protocol
	    = berth_strdup(proto != NULL && proto[0] != '\0' ? proto : "tcp");
	return p;
}

static uint32_t parse_port(const char *s)
{
	char *end;
	unsigned long v;

	if (s == NULL || s[0] == '\0')
		return 0;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v > 65535)
		return 0;
	return (uint32_t)v;
}

/*
 * Ports from an inspect map {"80/tcp": [{"HostIp","HostPort"}] | null}.
 * A container port without host bindings appears once with host_port 0.
 */
static void set_ports_from_map(Berth__V1__ContainerSummary *s,
                               const json_t *map)
{
	const char *key;
	json_t *binds;
	size_t cap = 0;

	if (!json_is_object(map))
		return;
	json_object_foreach((json_t *)map, key, binds)
	{
		cap += json_is_array(binds) && json_array_size(binds) > 0
		    ? json_array_size(binds)
		    : 1;
	}
	if (cap == 0)
		return;
	s->ports = berth_calloc(cap, sizeof(*s->ports));
	json_object_foreach((json_t *)map, key, binds)
	{
		char portbuf[16];
		const char *slash = strchr(key, '/');
		size_t plen
		    = slash != NULL ? (size_t)(slash - key) : strlen(key);
		uint32_t cport;
		size_t i;
		json_t *b;

		if (plen >= sizeof(portbuf))
			plen = sizeof(portbuf) - 1;
		memcpy(portbuf, key, plen);
		portbuf[plen] = '\0';
		cport = parse_port(portbuf);
		if (!json_is_array(binds) || json_array_size(binds) == 0) {
			s->ports[s->n_ports++] = port_new(
			    NULL, 0, cport, slash != NULL ? slash + 1 : "tcp");
			continue;
		}
		json_array_foreach(binds, i, b)
		{
			s->ports[s->n_ports++] = port_new(
			    json_string_value(json_object_get(b, "HostIp")),
			    parse_port(json_string_value(
			        json_object_get(b, "HostPort"))),
			    cport, slash != NULL ? slash + 1 : "tcp");
		}
	}
}

/* RFC 3339 ("2026-11-23T20:42:37.03Z") to unix seconds; 0 if unparsable. */
static int64_t parse_time(const char *s)
{
	struct tm tm;
	const char *end;

	if (s == NULL)
		return 0;
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end == NULL || tm.tm_year < 70)
		return 0;
	return (int64_t)timegm(&tm);
}

/* "/name" -> "name" */
static const char *strip_slash(const char *name)
{
	if (name == NULL)
		return NULL;
	return name[0] == '/' ? name + 1 : name;
}

/* --- ping and info --------------------------------------------------- */

int docker_ping(struct berth_engine *e, struct berth_err *err)
{
	struct docker_reply r;
	int rv;

	docker_reply_init(&r);
	rv = docker_call(e, "GET", "/_ping", NULL, 0, &r, err);
	if (rv != 0)
		goto out;
	if (r.status != 200) {
		rv = berth_err_set_retryable(err, BERTH_EUNAVAIL,
		                             "engine ping answered %ld: %s",
		                             r.status, r.msg);
		goto out;
	}
out:
	docker_reply_fini(&r);
	return rv;
}

int docker_info(struct berth_engine *e, Berth__V1__RuntimeInfo **out,
                struct berth_err *err)
{
	struct docker_reply r;
	json_t *ver = NULL, *info = NULL, *v;
	Berth__V1__RuntimeInfo *ri = NULL;
	size_t i;
	int rv;

	docker_reply_init(&r);
	rv = docker_call(e, "GET", "/version", NULL, 0, &r, err);
	if (rv != 0)
		goto out;
	if (r.status != 200) {
		rv = docker_map_status(&r, BERTH_EPRECOND, "engine version",
		                       err);
		goto out;
	}
	rv = docker_parse_json(&r, &ver, "engine version", err);
	if (rv != 0)
		goto out;
	docker_reply_fini(&r);
	docker_reply_init(&r);
	rv = docker_call(e, "GET", "/info", NULL, 0, &r, err);
	if (rv != 0)
		goto out;
	if (r.status != 200) {
		rv = docker_map_status(&r, BERTH_EPRECOND, "engine info", err);
		goto out;
	}
	rv = docker_parse_json(&r, &info, "engine info", err);
	if (rv != 0)
		goto out;

	ri = berth_malloc(sizeof(*ri));
	berth__v1__runtime_info__init(ri);
	ri->runtime = berth_strdup(berth_engine_runtime(e));
	ri->socket_path = berth_strdup(berth_engine_socket_path(e));
	set_str(&ri->engine_version, json_object_get(ver, "Version"));
	set_str(&ri->api_version, json_object_get(ver, "ApiVersion"));
	set_str(&ri->os, json_object_get(ver, "Os"));
	set_str(&ri->arch, json_object_get(ver, "Arch"));
	ri->containers
	    = (int32_t)json_integer_value(json_object_get(info, "Containers"));
	ri->containers_running = (int32_t)json_integer_value(
	    json_object_get(info, "ContainersRunning"));
	ri->images
	    = (int32_t)json_integer_value(json_object_get(info, "Images"));
	json_array_foreach(json_object_get(info, "SecurityOptions"), i, v)
	{
		const char *opt = json_string_value(v);

		/* Entries look like "name=rootless" or "name=seccomp,...". */
		if (opt != NULL && strncmp(opt, "name=rootless", 13) == 0
		    && (opt[13] == '\0' || opt[13] == ','))
			ri->rootless = true;
	}
	*out = ri;
	ri = NULL;
out:
	if (ri != NULL)
		protobuf_c_message_free_unpacked(&ri->base, NULL);
	json_decref(info);
	json_decref(ver);
	docker_reply_fini(&r);
	return rv;
}

/* --- images ---------------------------------------------------------- */

/*
 * Splits an image reference into repository and tag-or-digest:
 * "reg:5000/a/b:1" -> "reg:5000/a/b", "1"; "a@sha256:..." -> "a",
 * "sha256:..." (digest wins over a tag); "a" -> "a", "latest".
 */
static void split_ref(const char *ref, char **repo, char **tag, bool *digest)
{
	const char *at = strchr(ref, '@');
	size_t rlen = at != NULL ? (size_t)(at - ref) : strlen(ref);
	const char *slash = NULL, *colon = NULL;

	for (size_t i = 0; i < rlen; i++) {
		if (ref[i] == '/')
			slash = ref + i;
		else if (ref[i] == ':')
			colon = ref + i;
	}
	/* A ':' before the last '/' belongs to the registry's port. */
	if (colon != NULL && slash != NULL && colon < slash)
		colon = NULL;
	*repo
	    = berth_strndup(ref, colon != NULL ? (size_t)(colon - ref) : rlen);
	if (at != NULL) {
		*tag = berth_strdup(at + 1);
		*digest = true;
	} else {
		*tag = berth_strdup(colon != NULL ? colon + 1 : "latest");
		*digest = false;
	}
}

/* Engine messages that mean "this image does not exist (for you)". */
static bool msg_means_not_found(const char *m)
{
	static const char *const marks[] = {
		"manifest unknown",   "not found",
		"pull access denied", "repository does not exist",
		"no such host",       "No such image",
	};

	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (strstr(m, marks[i]) != NULL)
			return true;
	return false;
}

/*
 * Go's resolver errors name the host's DNS server ("lookup reg.example
 * on 10.0.0.53:53: no such host"): internal detail that API clients have
 * no use for. Cuts the " on <server>" part out of `msg`, in place.
 */
static void scrub_resolver(char *msg)
{
	char *lookup = strstr(msg, "lookup ");
	char *on, *colon;

	if (lookup == NULL || (on = strstr(lookup, " on ")) == NULL)
		return;
	colon = strstr(on + 4, ": ");
	if (colon == NULL)
		return;
	memmove(on, colon, strlen(colon) + 1);
}

static int pull_failed(const char *ref, const char *engine_msg, bool transient,
                       struct berth_err *err)
{
	char msg[ENGINE_MSG_MAX];

	snprintf(msg, sizeof(msg), "%s", engine_msg);
	scrub_resolver(msg);
	if (msg_means_not_found(msg))
		return berth_err_set(err, BERTH_ENOTFOUND,
		                     "image %.64s not found: %s", ref, msg);
	if (transient)
		return berth_err_set_retryable(err, BERTH_EUNAVAIL,
		                               "pulling image %.64s failed: %s",
		                               ref, msg);
	return berth_err_set(err, BERTH_EINVAL,
	                     "pulling image %.64s failed: %s", ref, msg);
}

struct layer {
	char id[72];
	int64_t cur, total;
	bool done;
};

struct pull_state {
	const char *ref;
	berth_engine_progress_fn progress;
	void *arg;
	struct berth_buf line;
	struct layer layers[PULL_LAYERS];
	size_t nlayers;
	bool failed;
	bool cancelled;
	char last[ENGINE_MSG_MAX]; /* the latest status line */
	char errmsg[ENGINE_MSG_MAX];
	struct berth_err *err;
};

static struct layer *layer_get(struct pull_state *st, const char *id)
{
	for (size_t i = 0; i < st->nlayers; i++)
		if (strcmp(st->layers[i].id, id) == 0)
			return &st->layers[i];
	if (st->nlayers == PULL_LAYERS
	    || strlen(id) >= sizeof(st->layers[0].id))
		return NULL;
	st->layers[st->nlayers].cur = 0;
	st->layers[st->nlayers].total = 0;
	st->layers[st->nlayers].done = false;
	memcpy(st->layers[st->nlayers].id, id, strlen(id) + 1);
	return &st->layers[st->nlayers++];
}

/* Mean completion over known layers, 0..99; -1 while none is known. */
static int pull_percent(const struct pull_state *st)
{
	double sum = 0;

	if (st->nlayers == 0)
		return -1;
	for (size_t i = 0; i < st->nlayers; i++) {
		const struct layer *l = &st->layers[i];

		if (l->done)
			sum += 1.0;
		else if (l->total > 0 && l->cur > 0)
			sum += (double)(l->cur < l->total ? l->cur : l->total)
			    / (double)l->total;
	}
	sum = sum * 100.0 / (double)st->nlayers;
	return sum >= 99.0 ? 99 : (int)sum;
}

/* One JSON line of the pull stream. Returns 0 or a code that stops it. */
static int pull_line(void *arg, const char *text, size_t len)
{
	struct pull_state *st = arg;
	json_t *j, *e, *det;
	const char *status, *id;
	char line[ENGINE_MSG_MAX];
	int rv = 0;

	while (len > 0 && (text[len - 1] == '\r' || text[len - 1] == ' '))
		len--;
	if (len == 0)
		return 0;
	j = json_loadb(text, len, 0, NULL);
	if (j == NULL)
		return 0; /* not ours to judge; keep reading */
	e = json_object_get(j, "errorDetail");
	if (json_is_object(e))
		e = json_object_get(e, "message");
	if (!json_is_string(e))
		e = json_object_get(j, "error");
	if (json_is_string(e)) {
		berth_http_engine_message(json_string_value(e),
		                          json_string_length(e), st->errmsg,
		                          sizeof(st->errmsg));
		st->failed = true;
		rv = BERTH_EABORTED;
		goto out;
	}
	status = json_string_value(json_object_get(j, "status"));
	id = json_string_value(json_object_get(j, "id"));
	if (status == NULL)
		goto out;
	if (id != NULL && strcmp(id, "latest") != 0
	    && strncmp(status, "Pulling from", 12) != 0) {
		struct layer *l = layer_get(st, id);

		det = json_object_get(j, "progressDetail");
		if (l != NULL && strcmp(status, "Downloading") == 0) {
			l->cur = json_integer_value(
			    json_object_get(det, "current"));
			l->total
			    = json_integer_value(json_object_get(det, "total"));
		} else if (l != NULL
		           && (strcmp(status, "Download complete") == 0
		               || strcmp(status, "Pull complete") == 0
		               || strcmp(status, "Already exists") == 0
		               || strcmp(status, "Verifying Checksum") == 0)) {
			l->done = true;
		}
	}
	{
		char *s = id != NULL ? berth_asprintf("%s: %s", id, status)
		                     : berth_strdup(status);

		berth_http_engine_message(s, strlen(s), line, sizeof(line));
		free(s);
	}
	memcpy(st->last, line, sizeof(line));
	if (st->progress != NULL
	    && st->progress(st->arg, pull_percent(st), line) != 0) {
		st->cancelled = true;
		rv = BERTH_ECANCELLED;
	}
out:
	json_decref(j);
	return rv;
}

/*
 * Stream tick, about once a second: asks the caller again with the
 * latest status, so a pull whose engine went quiet can be abandoned.
 */
static int pull_tick(void *arg)
{
	struct pull_state *st = arg;

	if (st->progress == NULL
	    || st->progress(st->arg, pull_percent(st),
	                    st->last[0] != '\0' ? st->last : "waiting")
	        == 0)
		return 0;
	st->cancelled = true;
	return BERTH_ECANCELLED;
}

/* Stream callback: split into lines, handle each complete one. */
static int pull_chunk(void *arg, const char *data, size_t len)
{
	struct pull_state *st = arg;
	int rv = docker_split_lines(&st->line, data, len, pull_line, st);

	if (rv == BERTH_ELIMIT)
		return berth_err_set(st->err, BERTH_ELIMIT,
		                     "pull progress line longer than %u bytes",
		                     PULL_LINE_MAX);
	return rv;
}

static int image_inspect(struct berth_engine *e, const char *ref, json_t **out,
                         struct berth_err *err)
{
	char *esc = berth_http_escape(ref);
	char *path = berth_asprintf("/images/%s/json", esc);
	char *what = berth_asprintf("image %.64s", ref);
	struct docker_reply r;
	int rv;

	docker_reply_init(&r);
	rv = docker_call(e, "GET", path, NULL, 0, &r, err);
	if (rv != 0)
		goto out;
	if (r.status != 200) {
		rv = docker_map_status(&r, BERTH_EPRECOND, what, err);
		goto out;
	}
	rv = docker_parse_json(&r, out, what, err);
out:
	docker_reply_fini(&r);
	free(what);
	free(path);
	free(esc);
	return rv;
}

int docker_image_pull(struct berth_engine *e, const char *ref,
                      berth_engine_progress_fn progress, void *arg,
                      char **image_id, struct berth_err *err)
{
	char *repo = NULL, *tag = NULL, *erepo = NULL, *etag = NULL;
	char *path = NULL, *full = NULL;
	struct pull_state *st = NULL;
	struct berth_buf errbody;
	struct berth_http_req req = { 0 };
	struct berth_http_stream_limits limits = { .tick = pull_tick };
	json_t *img = NULL;
	const char *id;
	bool digest;
	long status = 0;
	int rv;

	berth_buf_init(&errbody, BERTH_HTTP_ERRBODY_MAX);
	if (ref == NULL || ref[0] == '\0' || strlen(ref) > 512) {
		rv = berth_err_set(err, BERTH_EINVAL,
		                   "image: a reference of 1..512 bytes is "
		                   "required");
		goto out;
	}
	split_ref(ref, &repo, &tag, &digest);
	erepo = berth_http_escape(repo);
	etag = berth_http_escape(tag);
	full = berth_asprintf(API "/images/create?fromImage=%s&tag=%s", erepo,
	                      etag);

	st = berth_calloc(1, sizeof(*st));
	st->ref = ref;
	st->progress = progress;
	st->arg = arg;
	st->err = err;
	berth_buf_init(&st->line, PULL_LINE_MAX);

	req.method = "POST";
	req.path = full;
	rv = berth_http_stream(berth_engine_http_target(e), &req, &limits,
	                       pull_chunk, st, &status, &errbody, err);
	if (rv == 0 && status >= 200 && status < 300 && st->line.len > 0)
		rv = pull_line(st, st->line.data, st->line.len);
	if (st->failed) {
		rv = pull_failed(ref, st->errmsg, true, err);
		goto out;
	}
	if (st->cancelled) {
		rv = berth_err_set(err, BERTH_ECANCELLED,
		                   "pull of image %.64s cancelled", ref);
		goto out;
	}
	if (rv != 0)
		goto out;
	if (status < 200 || status >= 300) {
		char msg[ENGINE_MSG_MAX];

		berth_http_engine_message(errbody.data, errbody.len, msg,
		                          sizeof(msg));
		if (status == 400)
			rv = pull_failed(ref, msg, false, err);
		else if (status == 401 || status == 403 || status == 404)
			rv = berth_err_set(err, BERTH_ENOTFOUND,
			                   "image %.64s not found: %s", ref,
			                   msg);
		else
			rv = pull_failed(ref, msg, true, err);
		goto out;
	}

	path = digest ? berth_asprintf("%s@%s", repo, tag)
	              : berth_asprintf("%s:%s", repo, tag);
	rv = image_inspect(e, path, &img, err);
	if (rv != 0)
		goto out;
	id = json_string_value(json_object_get(img, "Id"));
	if (id == NULL) {
		rv = berth_err_set(err, BERTH_EINTERNAL,
		                   "image %.64s: engine reported no id", ref);
		goto out;
	}
	if (progress != NULL)
		(void)progress(arg, 100, "pulled");
	*image_id = berth_strdup(id);
out:
	json_decref(img);
	if (st != NULL)
		berth_buf_fini(&st->line);
	free(st);
	berth_buf_fini(&errbody);
	free(full);
	free(path);
	free(etag);
	free(erepo);
	free(tag);
	free(repo);
	return rv;
}

int docker_image_exists(struct berth_engine *e, const char *ref, bool *exists,
                        struct berth_err *err)
{
	json_t *img = NULL;
	struct berth_err local;
	int rv;

	if (ref == NULL || ref[0] == '\0')
		return berth_err_set(err, BERTH_EINVAL,
		                     "image: a reference is required");
	berth_err_clear(&local);
	rv = image_inspect(e, ref, &img, &local);
	json_decref(img);
	if (rv == 0 || rv == BERTH_ENOTFOUND) {
		*exists = rv == 0;
		return 0;
	}
	if (err != NULL)
		*err = local;
	return rv;
}

/* --- containers: create ---------------------------------------------- */

static json_t *strv_json(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i] != NULL ? v[i] : ""));
	return a;
}

/* Adds the spec's ports to ExposedPorts and HostConfig.PortBindings. */
static int build_ports(const Berth__V1__ContainerSpec *spec, json_t *cfg,
                       json_t *host, struct berth_err *err)
{
	json_t *exposed, *bindings;

	if (spec->n_ports == 0)
		return 0;
	exposed = json_object();
	bindings = json_object();
	json_object_set_new(cfg, "ExposedPorts", exposed);
	json_object_set_new(host, "PortBindings", bindings);
	for (size_t i = 0; i < spec->n_ports; i++) {
		const Berth__V1__PortBinding *p = spec->ports[i];
		const char *proto
		    = p->protocol != NULL && p->protocol[0] != '\0'
		    ? p->protocol
		    : "tcp";
		char key[32], hp[16];
		json_t *list, *b;

		if (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0
		    && strcmp(proto, "sctp") != 0)
			return berth_err_set(
			    err, BERTH_EINVAL,
			    "ports[%zu].protocol: must be tcp, "
			    "udp or sctp",
			    i);
		if (p->container_port == 0 || p->container_port > 65535
		    || p->host_port > 65535)
			return berth_err_set(
			    err, BERTH_EINVAL,
			    "ports[%zu]: ports must be 1..65535", i);
		snprintf(key, sizeof(key), "%u/%s", p->container_port, proto);
		json_object_set_new(exposed, key, json_object());
		list = json_object_get(bindings, key);
		if (list == NULL) {
			list = json_array();
			json_object_set_new(bindings, key, list);
		}
		hp[0] = '\0';
		if (p->host_port != 0)
			snprintf(hp, sizeof(hp), "%u", p->host_port);
		b = json_object();
		json_object_set_new(
		    b, "HostIp",
		    json_string(p->host_ip != NULL ? p->host_ip : ""));
		json_object_set_new(b, "HostPort", json_string(hp));
		json_array_append_new(list, b);
	}
	return 0;
}

static int build_mounts(const Berth__V1__ContainerSpec *spec, json_t *host,
                        struct berth_err *err)
{
	json_t *mounts;

	if (spec->n_mounts == 0)
		return 0;
	mounts = json_array();
	json_object_set_new(host, "Mounts", mounts);
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const Berth__V1__Mount *m = spec->mounts[i];
		const char *type
		    = m->type != NULL && m->type[0] != '\0' ? m->type : "bind";
		json_t *o;

		if (strcmp(type, "bind") != 0 && strcmp(type, "volume") != 0)
			return berth_err_set(
			    err, BERTH_EINVAL,
			    "mounts[%zu].type: must be bind or "
			    "volume",
			    i);
		if (m->target == NULL || m->target[0] != '/')
			return berth_err_set(err, BERTH_EINVAL,
			                     "mounts[%zu].target: must be an "
			                     "absolute path",
			                     i);
		o = json_object();
		json_object_set_new(o, "Type", json_string(type));
		json_object_set_new(
		    o, "Source",
		    json_string(m->source != NULL ? m->source : ""));
		json_object_set_new(o, "Target", json_string(m->target));
		json_object_set_new(o, "ReadOnly", json_boolean(m->read_only));
		json_array_append_new(mounts, o);
	}
	return 0;
}

/* Milliseconds to the engine's nanoseconds (bounds checked by callers;
 * saturates rather than overflows for a caller that did not). */
static json_int_t ms_to_ns(int64_t ms)
{
	if (ms > INT64_MAX / 1000000)
		return (json_int_t)INT64_MAX;
	return (json_int_t)(ms * 1000000);
}

/* Config.Healthcheck from seed 004's HealthCheck: only what was given,
 * so the image's own values stay for the rest. */
static void build_health(const Berth__V1__HealthCheck *h, json_t *cfg)
{
	json_t *o;

	if (h == NULL)
		return;
	o = json_object();
	if (h->n_test > 0)
		json_object_set_new(o, "Test", strv_json(h->test, h->n_test));
	if (h->interval_ms > 0)
		json_object_set_new(o, "Interval",
		                    json_integer(ms_to_ns(h->interval_ms)));
	if (h->timeout_ms > 0)
		json_object_set_new(o, "Timeout",
		                    json_integer(ms_to_ns(h->timeout_ms)));
	if (h->start_period_ms > 0)
		json_object_set_new(o, "StartPeriod",
		                    json_integer(ms_to_ns(h->start_period_ms)));
	if (h->retries > 0)
		json_object_set_new(o, "Retries", json_integer(h->retries));
	json_object_set_new(cfg, "Healthcheck", o);
}

/*
 * HostConfig limits. The pids limit is never unlimited: 0 means berth's
 * default, and a negative value (the engines' "unlimited") is refused.
 */
static int build_resources(const Berth__V1__Resources *r, json_t *host,
                           struct berth_err *err)
{
	int64_t pids = PIDS_LIMIT;

	if (r != NULL) {
		if (r->pids_limit < 0)
			return berth_err_set(
			    err, BERTH_EINVAL,
			    "resources.pids_limit: berth never "
			    "creates a container without a pids "
			    "limit");
		if (r->memory_bytes < 0 || r->nano_cpus < 0)
			return berth_err_set(err, BERTH_EINVAL,
			                     "resources: limits must not be "
			                     "negative");
		if (r->pids_limit > 0)
			pids = r->pids_limit;
		if (r->memory_bytes > 0)
			json_object_set_new(host, "Memory",
			                    json_integer(r->memory_bytes));
		if (r->nano_cpus > 0)
			json_object_set_new(host, "NanoCpus",
			                    json_integer(r->nano_cpus));
	}
	json_object_set_new(host, "PidsLimit", json_integer(pids));
	return 0;
}

/*
 * The first network at create (NetworkMode plus its endpoint); the rest
 * are connected by docker_container_create() once the container exists.
 */
static void build_networks(const Berth__V1__ContainerSpec *spec, json_t *cfg,
                           json_t *host)
{
	json_t *nc, *ep;

	if (spec->n_networks == 0)
		return;
	json_object_set_new(host, "NetworkMode",
	                    json_string(spec->networks[0]));
	nc = json_object();
	ep = json_object();
	json_object_set_new(ep, spec->networks[0], json_object());
	json_object_set_new(nc, "EndpointsConfig", ep);
	json_object_set_new(cfg, "NetworkingConfig", nc);
}

/* Security and lifetime options: user, read-only root, capabilities,
 * no-new-privileges, removal when the command ends. */
static void build_security(const Berth__V1__ContainerSpec *spec, json_t *cfg,
                           json_t *host)
{
	if (spec->user[0] != '\0')
		json_object_set_new(cfg, "User", json_string(spec->user));
	if (spec->read_only_rootfs)
		json_object_set_new(host, "ReadonlyRootfs", json_true());
	if (spec->n_cap_drop > 0)
		json_object_set_new(
		    host, "CapDrop",
		    strv_json(spec->cap_drop, spec->n_cap_drop));
	if (spec->n_cap_add > 0)
		json_object_set_new(host, "CapAdd",
		                    strv_json(spec->cap_add, spec->n_cap_add));
	if (spec->no_new_privileges) {
		json_t *so = json_array();

		json_array_append_new(so, json_string("no-new-privileges"));
		json_object_set_new(host, "SecurityOpt", so);
	}
	if (spec->remove_on_exit)
		json_object_set_new(host, "AutoRemove", json_true());
}

/* Builds the body of POST /containers/create from the typed spec. */
static int build_create(struct berth_engine *e,
                        const Berth__V1__ContainerSpec *spec,
                        const Berth__V1__KeyValue *const *labels,
                        size_t nlabels, json_t **out, struct berth_err *err)
{
	json_t *cfg = json_object();
	json_t *host = json_object();
	json_t *lab = json_object();
	json_t *logc, *logo;
	bool has_line
	    = spec->command_line != NULL && spec->command_line[0] != '\0';
	int rv;

	rv = berth_engine_check_create(spec, labels, nlabels, err);
	if (rv != 0)
		goto out;
	json_object_set_new(cfg, "Image", json_string(spec->image));
	if (has_line && spec->n_command > 0) {
		rv = berth_err_set(err, BERTH_EINVAL,
		                   "command and command_line are exclusive");
		goto out;
	}
	if (has_line) {
		/* seed 002: the spec's shell, else the engine's, else sh -c */
		json_t *cmd;

		if (spec->n_shell > 0) {
			cmd = strv_json(spec->shell, spec->n_shell);
		} else {
			size_t n;
			const char *const *sh = berth_engine_shell(e, &n);

			cmd = strv_json((char *const *)sh, n);
		}
		json_array_append_new(cmd, json_string(spec->command_line));
		json_object_set_new(cfg, "Cmd", cmd);
	} else if (spec->n_command > 0) {
		json_object_set_new(cfg, "Cmd",
		                    strv_json(spec->command, spec->n_command));
	}
	if (spec->n_entrypoint > 0)
		json_object_set_new(
		    cfg, "Entrypoint",
		    strv_json(spec->entrypoint, spec->n_entrypoint));
	if (spec->n_env > 0) {
		json_t *env = json_array();

		json_object_set_new(cfg, "Env", env);
		for (size_t i = 0; i < spec->n_env; i++) {
			const Berth__V1__KeyValue *kv = spec->env[i];
			char *s;

			if (kv->key == NULL || kv->key[0] == '\0'
			    || strchr(kv->key, '=') != NULL) {
				rv = berth_err_set(
				    err, BERTH_EINVAL,
				    "env[%zu].key: must be non-empty "
				    "without '='",
				    i);
				goto out;
			}
			s = berth_asprintf("%s=%s", kv->key,
			                   kv->value != NULL ? kv->value : "");
			json_array_append_new(env, json_string(s));
			free(s);
		}
	}
	if (spec->working_dir != NULL && spec->working_dir[0] != '\0')
		json_object_set_new(cfg, "WorkingDir",
		                    json_string(spec->working_dir));
	for (size_t i = 0; i < spec->n_labels; i++)
		json_object_set_new(lab, spec->labels[i]->key,
		                    json_string(spec->labels[i]->value));
	/* berth's own labels come last so a spec cannot override them. */
	for (size_t i = 0; i < nlabels; i++)
		json_object_set_new(lab, labels[i]->key,
		                    json_string(labels[i]->value));
	json_object_set(cfg, "Labels", lab);

	rv = build_ports(spec, cfg, host, err);
	if (rv != 0)
		goto out;
	rv = build_mounts(spec, host, err);
	if (rv != 0)
		goto out;
	if (spec->restart_policy != NULL && spec->restart_policy->name != NULL
	    && spec->restart_policy->name[0] != '\0') {
		json_t *rp = json_object();

		json_object_set_new(rp, "Name",
		                    json_string(spec->restart_policy->name));
		json_object_set_new(
		    rp, "MaximumRetryCount",
		    json_integer(spec->restart_policy->max_retries));
		json_object_set_new(host, "RestartPolicy", rp);
	}
	if (spec->pod[0] != '\0'
	    && strcmp(berth_engine_ops(e)->name, "docker") == 0) {
		rv = berth_err_set(err, BERTH_EINVAL,
		                   "pod: pods need the podman runtime; this "
		                   "runtime drives docker");
		goto out;
	}
	rv = build_resources(spec->resources, host, err);
	if (rv != 0)
		goto out;
	build_health(spec->health, cfg);
	build_networks(spec, cfg, host);
	build_security(spec, cfg, host);
	logc = json_object();
	logo = json_object();
	json_object_set_new(logo, "max-size", json_string(LOG_MAX_SIZE));
	json_object_set_new(logo, "max-file", json_string(LOG_MAX_FILE));
	json_object_set_new(logc, "Type", json_string("json-file"));
	json_object_set_new(logc, "Config", logo);
	json_object_set_new(host, "LogConfig", logc);
	json_object_set(cfg, "HostConfig", host);

	*out = cfg;
	cfg = NULL;
	rv = 0;
out:
	json_decref(lab);
	json_decref(host);
	json_decref(cfg);
	return rv;
}

/* POST /networks/<net>/connect for container `id`. */
static int network_connect(struct berth_engine *e, const char *net,
                           const char *id, struct berth_err *err)
{
	char *enet = NULL, *path = NULL, *what = NULL;
	json_t *body = json_object();
	struct docker_reply r;
	int rv;

	docker_reply_init(&r);
	rv = berth_validate_network_name("networks", net, err);
	if (rv != 0)
		goto out;
	enet = berth_http_escape(net);
	path = berth_asprintf("/networks/%s/connect", enet);
	json_object_set_new(body, "Container", json_string(id));
	rv = docker_call(e, "POST", path, body, 0, &r, err);
	if (rv != 0)
		goto out;
	if (r.status == 200 || r.status == 204)
		goto out;
	what = berth_asprintf("connect to network %.128s", net);
	rv = docker_map_status(&r, BERTH_EPRECOND, what, err);
out:
	free(what);
	free(path);
	free(enet);
	json_decref(body);
	docker_reply_fini(&r);
	return rv;
}

/*
 * The engine takes a network that does not exist at create and at
 * connect (it fails only at start), so each one is looked up first.
 */
static int networks_exist(struct berth_engine *e,
                          const Berth__V1__ContainerSpec *spec,
                          struct berth_err *err)
{
	int rv = 0;

	for (size_t i = 0; i < spec->n_networks && rv == 0; i++) {
		char *enet = NULL, *path = NULL;
		struct docker_reply r;

		docker_reply_init(&r);
		rv = berth_validate_network_name("networks", spec->networks[i],
		                                 err);
		if (rv == 0) {
			enet = berth_http_escape(spec->networks[i]);
			path = berth_asprintf("/networks/%s", enet);
			rv = docker_call(e, "GET", path, NULL, 0, &r, err);
		}
		if (rv == 0 && r.status == 404)
			rv = berth_err_set(err, BERTH_ENOTFOUND,
			                   "networks[%zu]: network %.128s not "
			                   "found; create it first",
			                   i, spec->networks[i]);
		else if (rv == 0 && r.status != 200)
			rv = docker_map_status(&r, BERTH_EPRECOND,
			                       "inspect network", err);
		free(path);
		free(enet);
		docker_reply_fini(&r);
	}
	return rv;
}

/*
 * Connects the container to networks[1..] (the first was given at
 * create). On failure the container is removed: a create either makes
 * the whole container or nothing.
 */
static int connect_rest(struct berth_engine *e,
                        const Berth__V1__ContainerSpec *spec, const char *id,
                        struct berth_err *err)
{
	for (size_t i = 1; i < spec->n_networks; i++) {
		int rv = network_connect(e, spec->networks[i], id, err);

		if (rv != 0) {
			struct berth_err ignored;

			berth_err_clear(&ignored);
			(void)docker_container_remove(e, id, true, true,
			                              &ignored);
			return rv;
		}
	}
	return 0;
}

int docker_container_create(struct berth_engine *e,
                            const Berth__V1__ContainerSpec *spec,
                            const Berth__V1__KeyValue *const *labels,
                            size_t nlabels, char **id, struct berth_err *err)
{
	json_t *body = NULL, *rep = NULL;
	char *path = NULL, *ename = NULL;
	const char *cid;
	struct docker_reply r;
	bool named = spec->name != NULL && spec->name[0] != '\0';
	int rv;

	docker_reply_init(&r);
	if (spec->image == NULL || spec->image[0] == '\0') {
		rv = berth_err_set(err, BERTH_EINVAL, "image: required");
		goto out;
	}
	rv = build_create(e, spec, labels, nlabels, &body, err);
	if (rv == 0)
		rv = networks_exist(e, spec, err);
	if (rv != 0)
		goto out;
	if (named) {
		ename = berth_http_escape(spec->name);
		path = berth_asprintf("/containers/create?name=%s", ename);
	} else {
		path = berth_strdup("/containers/create");
	}
	rv = docker_call(e, "POST", path, body, 0, &r, err);
	if (rv != 0)
		goto out;
	if (r.status == 404 && strstr(r.msg, "network") != NULL) {
		rv = berth_err_set(err, BERTH_ENOTFOUND, "networks: %.128s",
		                   r.msg);
		goto out;
	}
	if (r.status == 404) {
		rv = berth_err_set(err, BERTH_ENOTFOUND,
		                   "image %.64s is not present on the engine; "
		                   "pull it first (POST /api/v1/images/pull)",
		                   spec->image);
		goto out;
	}
	/* Podman's compatible API answers a taken name with 500. */
	if (r.status == 409
	    || (r.status == 500 && strstr(r.msg, "already in use") != NULL)) {
		rv = berth_err_set(err, BERTH_EEXISTS,
		                   "container name %.128s is already in use",
		                   named ? spec->name : "");
		goto out;
	}
	/* Only the engine knows how many CPUs its host has. */
	if (r.status == 400 && strstr(r.msg, "CPUs") != NULL) {
		rv = berth_err_set(err, BERTH_EINVAL, "resources.nano_cpus: %s",
		                   r.msg);
		goto out;
	}
	if (r.status != 201 && r.status != 200) {
		rv = docker_map_status(&r, BERTH_EEXISTS, "create container",
		                       err);
		goto out;
	}
	rv = docker_parse_json(&r, &rep, "create container", err);
	if (rv != 0)
		goto out;
	cid = json_string_value(json_object_get(rep, "Id"));
	if (cid == NULL || cid[0] == '\0') {
		rv = berth_err_set(err, BERTH_EINTERNAL,
		                   "create container: engine reported no id");
		goto out;
	}
	rv = connect_rest(e, spec, cid, err);
	if (rv != 0)
		goto out;
	*id = berth_strdup(cid);
out:
	json_decref(rep);
	json_decref(body);
	free(path);
	free(ename);
	docker_reply_fini(&r);
	return rv;
}

/* --- containers: lifecycle ------------------------------------------- */

/*
 * POST /containers/<id>/<verb>[?t=N]. 204 and (where `ok304`) 304 are
 * success; 404 is ENOTFOUND; 409 EPRECOND.
 */
static int lifecycle(struct berth_engine *e, const char *id, const char *verb,
                     int timeout_s, bool ok304, struct berth_err *err)
{
	char *eid = NULL, *path = NULL, *what = NULL;
	long tmo = 0;
	struct docker_reply r;
	int rv;

	docker_reply_init(&r);
	rv = docker_check_id(id, err);
	if (rv != 0)
		goto out;
	eid = berth_http_escape(id);
	if (timeout_s >= 0 && strcmp(verb, "start") != 0) {
		path = berth_asprintf("/containers/%s/%s?t=%d", eid, verb,
		                      timeout_s);
		/* The engine waits up to t seconds before it answers. */
		tmo = ((long)timeout_s + 30) * 1000;
		if (tmo < berth_engine_timeout_ms(e))
			tmo = 0;
	} else {
		path = berth_asprintf("/containers/%s/%s", eid, verb);
	}
	rv = docker_call(e, "POST", path, NULL, tmo, &r, err);
	if (rv != 0)
		goto out;
	if (r.status == 204 || r.status == 200 || (ok304 && r.status == 304))
		goto out;
	what = docker_what_container(verb, id);
	rv = docker_map_status(&r, BERTH_EPRECOND, what, err);
out:
	free(what);
	free(path);
	free(eid);
	docker_reply_fini(&r);
	return rv;
}

int docker_container_start(struct berth_engine *e, const char *id,
                           struct berth_err *err)
{
	return lifecycle(e, id, "start", -1, true, err);
}

int docker_container_stop(struct berth_engine *e, const char *id, int timeout_s,
                          struct berth_err *err)
{
	return lifecycle(e, id, "stop", timeout_s, true, err);
}

int docker_container_restart(struct berth_engine *e, const char *id,
                             int timeout_s, struct berth_err *err)
{
	return lifecycle(e, id, "restart", timeout_s, false, err);
}

int docker_container_remove(struct berth_engine *e, const char *id, bool force,
                            bool volumes, struct berth_err *err)
{
	char *eid = NULL, *path = NULL, *what = NULL;
	struct docker_reply r;
	int rv;

	docker_reply_init(&r);
	rv = docker_check_id(id, err);
	if (rv != 0)
		goto out;
	eid = berth_http_escape(id);
	path = berth_asprintf("/containers/%s?force=%d&v=%d", eid,
	                      force ? 1 : 0, volumes ? 1 : 0);
	rv = docker_call(e, "DELETE", path, NULL, 0, &r, err);
	if (rv != 0)
		goto out;
	if (r.status == 204 || r.status == 200)
		goto out;
	what = docker_what_container("remove", id);
	rv = docker_map_status(&r, BERTH_EPRECOND, what, err);
out:
	free(what);
	free(path);
	free(eid);
	docker_reply_fini(&r);
	return rv;
}

/* --- containers: list and inspect ------------------------------------ */

static Berth__V1__ContainerSummary *summary_from_list(const json_t *c)
{
	Berth__V1__ContainerSummary *s = berth_malloc(sizeof(*s));
	json_t *ports = json_object_get(c, "Ports");
	json_t *names = json_object_get(c, "Names");
	json_t *p;
	size_t i;

	berth__v1__container_summary__init(s);
	set_str(&s->id, json_object_get(c, "Id"));
	if (json_is_array(names) && json_array_size(names) > 0) {
		const char *n
		    = strip_slash(json_string_value(json_array_get(names, 0)));

		if (n != NULL && n[0] != '\0')
			s->name = berth_strdup(n);
	}
	set_str(&s->image, json_object_get(c, "Image"));
	set_str(&s->state, json_object_get(c, "State"));
	set_str(&s->status, json_object_get(c, "Status"));
	s->created = json_integer_value(json_object_get(c, "Created"));
	set_labels(&s->labels, &s->n_labels, json_object_get(c, "Labels"));
	if (json_is_array(ports) && json_array_size(ports) > 0) {
		s->ports
		    = berth_calloc(json_array_size(ports), sizeof(*s->ports));
		json_array_foreach(ports, i, p)
		{
			s->ports[s->n_ports++] = port_new(
			    json_string_value(json_object_get(p, "IP")),
			    (uint32_t)json_integer_value(
			        json_object_get(p, "PublicPort")),
			    (uint32_t)json_integer_value(
			        json_object_get(p, "PrivatePort")),
			    json_string_value(json_object_get(p, "Type")));
		}
	}
	return s;
}

/*
 * The filters query for a list request, as escaped JSON; `*out` is NULL
 * when there is no filter. Caller owns `*out`; free with free().
 */
static int list_filters(char **out, const Berth__V1__ListContainersRequest *f,
                        struct berth_err *err)
{
	json_t *filters = json_object();
	json_t *label = json_array();
	char *text, *esc = NULL;
	int rv = 0;

	if (f != NULL) {
		rv = berth_check_utf8_message(&f->base, err);
		if (rv != 0)
			goto out;
	}
	for (size_t i = 0; f != NULL && i < f->n_labels; i++) {
		const Berth__V1__KeyValue *kv = f->labels[i];
		char *s = kv->value != NULL && kv->value[0] != '\0'
		    ? berth_asprintf("%s=%s", kv->key, kv->value)
		    : berth_strdup(kv->key);

		json_array_append_new(label, json_string(s));
		free(s);
	}
	if (f != NULL && f->berth_only)
		json_array_append_new(label,
		                      json_string(BERTH_LABEL_MANAGED "=true"));
	if (json_array_size(label) > 0)
		json_object_set(filters, "label", label);
	if (f != NULL && f->name != NULL && f->name[0] != '\0') {
		json_t *a = json_array();

		json_array_append_new(a, json_string(f->name));
		json_object_set_new(filters, "name", a);
	}
	if (f != NULL && f->state != NULL && f->state[0] != '\0') {
		json_t *a = json_array();

		json_array_append_new(a, json_string(f->state));
		json_object_set_new(filters, "status", a);
	}
	if (json_object_size(filters) > 0) {
		text = json_dumps(filters, JSON_COMPACT);
		if (text == NULL) {
			rv = berth_err_set(err, BERTH_EINTERNAL,
			                   "cannot serialise list filters");
			goto out;
		}
		esc = berth_http_escape(text);
		free(text);
	}
	*out = esc;
out:
	json_decref(label);
	json_decref(filters);
	return rv;
}

int docker_container_list(struct berth_engine *e,
                          const Berth__V1__ListContainersRequest *filter,
                          Berth__V1__ListContainersReply **out,
                          struct berth_err *err)
{
	char *filters = NULL;
	char *path = NULL;
	json_t *arr = NULL, *c;
	Berth__V1__ListContainersReply *rep = NULL;
	struct docker_reply r;
	size_t i;
	int all = filter != NULL && filter->all ? 1 : 0;
	int rv;

	docker_reply_init(&r);
	rv = list_filters(&filters, filter, err);
	if (rv != 0)
		goto out;
	path = filters != NULL
	    ? berth_asprintf("/containers/json?all=%d&filters=%s", all, filters)
	    : berth_asprintf("/containers/json?all=%d", all);
	rv = docker_call(e, "GET", path, NULL, 0, &r, err);
	if (rv != 0)
		goto out;
	if (r.status != 200) {
		rv = docker_map_status(&r, BERTH_EPRECOND, "list containers",
		                       err);
		goto out;
	}
	rv = docker_parse_json(&r, &arr, "list containers", err);
	if (rv != 0)
		goto out;
	if (!json_is_array(arr)) {
		rv = berth_err_set(err, BERTH_EINTERNAL,
		                   "list containers: engine sent no array");
		goto out;
	}
	rep = berth_malloc(sizeof(*rep));
	berth__v1__list_containers_reply__init(rep);
	if (json_array_size(arr) > 0)
		rep->containers = berth_calloc(json_array_size(arr),
		                               sizeof(*rep->containers));
	json_array_foreach(arr, i, c)
	{
		if (json_is_object(c))
			rep->containers[rep->n_containers++]
			    = summary_from_list(c);
	}
	*out = rep;
out:
	json_decref(arr);
	free(path);
	free(filters);
	docker_reply_fini(&r);
	return rv;
}

static Berth__V1__Mount *mount_from_inspect(const json_t *m)
{
	Berth__V1__Mount *pm = berth_malloc(sizeof(*pm));
	const char *type = json_string_value(json_object_get(m, "Type"));
	bool volume = type != NULL && strcmp(type, "volume") == 0;

	berth__v1__mount__init(pm);
	/* A volume is named by its name, not its path under /var/lib. */
	set_str(&pm->source, json_object_get(m, volume ? "Name" : "Source"));
	set_str(&pm->target, json_object_get(m, "Destination"));
	pm->read_only = !json_is_true(json_object_get(m, "RW"));
	set_str(&pm->type, json_object_get(m, "Type"));
	return pm;
}

/* The last health probe's output is kept to this many bytes. */
#define HEALTH_OUTPUT_MAX 1024

/*
 * A copy of `s` cut to at most `max` bytes at a character boundary
 * (engine JSON strings are UTF-8, so backing off continuation bytes is
 * enough). Caller owns the result; free with free().
 */
static char *utf8_cut(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return berth_strdup(s);
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return berth_strndup(s, n);
}

/* The engine's nanoseconds as milliseconds. */
static int64_t ns_to_ms(const json_t *v)
{
	return (int64_t)json_integer_value(v) / 1000000;
}

/* State.Health and Config.Healthcheck into the detail. */
static void health_from_inspect(Berth__V1__ContainerDetail *d,
                                const json_t *state, const json_t *cfg)
{
	json_t *h = json_object_get(state, "Health");
	json_t *hc = json_object_get(cfg, "Healthcheck");
	json_t *log;

	if (json_is_object(h)) {
		set_str(&d->health_status, json_object_get(h, "Status"));
		d->health_failing_streak = (uint32_t)json_integer_value(
		    json_object_get(h, "FailingStreak"));
		log = json_object_get(h, "Log");
		if (json_is_array(log) && json_array_size(log) > 0) {
			const char *o = json_string_value(json_object_get(
			    json_array_get(log, json_array_size(log) - 1),
			    "Output"));

			if (o != NULL && o[0] != '\0')
				d->health_last_output
				    = utf8_cut(o, HEALTH_OUTPUT_MAX);
		}
	}
	if (json_is_object(hc)) {
		Berth__V1__HealthCheck *pc = berth_malloc(sizeof(*pc));

		berth__v1__health_check__init(pc);
		set_strv(&pc->test, &pc->n_test, json_object_get(hc, "Test"));
		pc->interval_ms = ns_to_ms(json_object_get(hc, "Interval"));
		pc->timeout_ms = ns_to_ms(json_object_get(hc, "Timeout"));
		pc->start_period_ms
		    = ns_to_ms(json_object_get(hc, "StartPeriod"));
		pc->retries = (uint32_t)json_integer_value(
		    json_object_get(hc, "Retries"));
		d->health = pc;
	}
}

/* Limits, networks and security options into the detail. */
static void options_from_inspect(Berth__V1__ContainerDetail *d, const json_t *c,
                                 const json_t *cfg, const json_t *host)
{
	json_t *nets = json_object_get(json_object_get(c, "NetworkSettings"),
	                               "Networks");
	json_t *v;
	const char *key;
	size_t i;

	d->resources = berth_malloc(sizeof(*d->resources));
	berth__v1__resources__init(d->resources);
	d->resources->memory_bytes
	    = (int64_t)json_integer_value(json_object_get(host, "Memory"));
	d->resources->nano_cpus
	    = (int64_t)json_integer_value(json_object_get(host, "NanoCpus"));
	d->resources->pids_limit
	    = (int64_t)json_integer_value(json_object_get(host, "PidsLimit"));
	if (json_is_object(nets) && json_object_size(nets) > 0) {
		d->networks
		    = berth_calloc(json_object_size(nets), sizeof(char *));
		json_object_foreach(nets, key, v)
		{
			d->networks[d->n_networks++] = berth_strdup(key);
		}
	}
	d->read_only_rootfs
	    = json_is_true(json_object_get(host, "ReadonlyRootfs"));
	set_str(&d->user, json_object_get(cfg, "User"));
	d->remove_on_exit = json_is_true(json_object_get(host, "AutoRemove"));
	set_strv(&d->cap_drop, &d->n_cap_drop,
	         json_object_get(host, "CapDrop"));
	set_strv(&d->cap_add, &d->n_cap_add, json_object_get(host, "CapAdd"));
	json_array_foreach(json_object_get(host, "SecurityOpt"), i, v)
	{
		const char *o = json_string_value(v);

		/* "no-new-privileges", or with ":true" / "=true". */
		if (o != NULL && strncmp(o, "no-new-privileges", 17) == 0
		    && (o[17] == '\0'
		        || ((o[17] == ':' || o[17] == '=')
		            && strcmp(o + 18, "true") == 0)))
			d->no_new_privileges = true;
	}
	/* Podman names the pod a container belongs to; Docker has none. */
	set_str(&d->pod, json_object_get(c, "Pod"));
}

static Berth__V1__ContainerDetail *detail_from_inspect(const json_t *c)
{
	Berth__V1__ContainerDetail *d = berth_malloc(sizeof(*d));
	Berth__V1__ContainerSummary *s = berth_malloc(sizeof(*s));
	json_t *cfg = json_object_get(c, "Config");
	json_t *state = json_object_get(c, "State");
	json_t *host = json_object_get(c, "HostConfig");
	json_t *ports
	    = json_object_get(json_object_get(c, "NetworkSettings"), "Ports");
	json_t *mounts = json_object_get(c, "Mounts");
	json_t *env = json_object_get(cfg, "Env");
	json_t *rp = json_object_get(host, "RestartPolicy");
	json_t *v;
	const char *name;
	size_t i;

	berth__v1__container_detail__init(d);
	berth__v1__container_summary__init(s);
	d->summary = s;
	set_str(&s->id, json_object_get(c, "Id"));
	name = strip_slash(json_string_value(json_object_get(c, "Name")));
	if (name != NULL && name[0] != '\0')
		s->name = berth_strdup(name);
	set_str(&s->image, json_object_get(cfg, "Image"));
	set_str(&s->state, json_object_get(state, "Status"));
	set_str(&s->status, json_object_get(state, "Status"));
	s->created
	    = parse_time(json_string_value(json_object_get(c, "Created")));
	set_labels(&s->labels, &s->n_labels, json_object_get(cfg, "Labels"));
	/* Live bindings while running; the configured ones otherwise. */
	if (json_is_object(ports) && json_object_size(ports) > 0)
		set_ports_from_map(s, ports);
	else
		set_ports_from_map(s, json_object_get(host, "PortBindings"));

	set_str(&d->image_id, json_object_get(c, "Image"));
	d->running = json_is_true(json_object_get(state, "Running"));
	d->exit_code
	    = (int32_t)json_integer_value(json_object_get(state, "ExitCode"));
	set_str(&d->started_at, json_object_get(state, "StartedAt"));
	set_str(&d->finished_at, json_object_get(state, "FinishedAt"));
	d->restart_count
	    = (uint32_t)json_integer_value(json_object_get(c, "RestartCount"));
	set_strv(&d->command, &d->n_command, json_object_get(cfg, "Cmd"));
	set_strv(&d->entrypoint, &d->n_entrypoint,
	         json_object_get(cfg, "Entrypoint"));
	set_str(&d->working_dir, json_object_get(cfg, "WorkingDir"));
	if (json_is_array(mounts) && json_array_size(mounts) > 0) {
		d->mounts
		    = berth_calloc(json_array_size(mounts), sizeof(*d->mounts));
		json_array_foreach(mounts, i, v)
		{
			d->mounts[d->n_mounts++] = mount_from_inspect(v);
		}
	}
	if (json_is_object(rp)) {
		d->restart_policy = berth_malloc(sizeof(*d->restart_policy));
		berth__v1__restart_policy__init(d->restart_policy);
		set_str(&d->restart_policy->name, json_object_get(rp, "Name"));
		d->restart_policy->max_retries = (uint32_t)json_integer_value(
		    json_object_get(rp, "MaximumRetryCount"));
	}
	d->oom_killed = json_is_true(json_object_get(state, "OOMKilled"));
	health_from_inspect(d, state, cfg);
	options_from_inspect(d, c, cfg, host);
	/* Keys only: env values may hold secrets. */
	if (json_is_array(env) && json_array_size(env) > 0) {
		d->env_keys
		    = berth_calloc(json_array_size(env), sizeof(*d->env_keys));
		json_array_foreach(env, i, v)
		{
			const char *kv = json_string_value(v);

			if (kv == NULL)
				continue;
			d->env_keys[d->n_env_keys++]
			    = berth_strndup(kv, strcspn(kv, "="));
		}
	}
	return d;
}

int docker_container_inspect(struct berth_engine *e, const char *id,
                             Berth__V1__ContainerDetail **out,
                             struct berth_err *err)
{
	char *eid = NULL, *path = NULL, *what = NULL;
	json_t *c = NULL;
	struct docker_reply r;
	int rv;

	docker_reply_init(&r);
	rv = docker_check_id(id, err);
	if (rv != 0)
		goto out;
	eid = berth_http_escape(id);
	path = berth_asprintf("/containers/%s/json", eid);
	what = docker_what_container("inspect", id);
	rv = docker_call(e, "GET", path, NULL, 0, &r, err);
	if (rv != 0)
		goto out;
	if (r.status != 200) {
		rv = docker_map_status(&r, BERTH_EPRECOND, what, err);
		goto out;
	}
	rv = docker_parse_json(&r, &c, what, err);
	if (rv != 0)
		goto out;
	if (!json_is_object(c)) {
		rv = berth_err_set(err, BERTH_EINTERNAL,
		                   "%s: engine sent no object", what);
		goto out;
	}
	*out = detail_from_inspect(c);
out:
	json_decref(c);
	free(what);
	free(path);
	free(eid);
	docker_reply_fini(&r);
	return rv;
}

/* Pods are Podman's: Docker has none. */
static int no_pods(struct berth_err *err)
{
	return berth_err_set(err, BERTH_EUNIMPL,
	                     "pods need the podman runtime; this runtime "
	                     "drives docker");
}

static int docker_pod_create(struct berth_engine *e,
                             const Berth__V1__PodSpec *spec,
                             const Berth__V1__KeyValue *const *labels,
                             size_t nlabels, char **id, struct berth_err *err)
{
	(void)e;
	(void)spec;
	(void)labels;
	(void)nlabels;
	(void)id;
	return no_pods(err);
}

static int docker_pod_ref(struct berth_engine *e, const char *id,
                          struct berth_err *err)
{
	(void)e;
	(void)id;
	return no_pods(err);
}

static int docker_pod_remove(struct berth_engine *e, const char *id, bool force,
                             struct berth_err *err)
{
	(void)force;
	return docker_pod_ref(e, id, err);
}

static int docker_pod_list(struct berth_engine *e,
                           const Berth__V1__ListPodsRequest *filter,
                           Berth__V1__ListPodsReply **out,
                           struct berth_err *err)
{
	(void)e;
	(void)filter;
	(void)out;
	return no_pods(err);
}

static int docker_pod_inspect(struct berth_engine *e, const char *id,
                              Berth__V1__PodSummary **out,
                              struct berth_err *err)
{
	(void)out;
	return docker_pod_ref(e, id, err);
}

const struct berth_engine_ops berth_engine_docker_ops = {
	.name = "docker",
	.ping = docker_ping,
	.info = docker_info,
	.image_pull = docker_image_pull,
	.image_exists = docker_image_exists,
	.container_create = docker_container_create,
	.container_start = docker_container_start,
	.container_stop = docker_container_stop,
	.container_restart = docker_container_restart,
	.container_remove = docker_container_remove,
	.container_list = docker_container_list,
	.container_inspect = docker_container_inspect,
	.exec_create = docker_exec_create,
	.exec_start = docker_exec_start,
	.exec_inspect = docker_exec_inspect,
	.logs = docker_logs,
	.wait = docker_wait,
	.archive_put = docker_archive_put,
	.events = docker_events,
	.pod_create = docker_pod_create,
	.pod_start = docker_pod_ref,
	.pod_stop = docker_pod_ref,
	.pod_remove = docker_pod_remove,
	.pod_list = docker_pod_list,
	.pod_inspect = docker_pod_inspect,
};
