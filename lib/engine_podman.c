/*
 * engine_podman.c: the Podman driver. Podman's Docker-compatible API
 * answers most calls, so this reuses the Docker driver's ops and
 * normalises where Podman differs:
 *  - errors: Podman answers many conflicts with HTTP 500 and says what
 *    happened in its "cause" (the tail of "message"); they are mapped
 *    back to the codes the Docker driver gives (name in use -> EEXISTS,
 *    state improper -> EPRECOND, ...);
 *  - image names come back fully qualified ("docker.io/...",
 *    "localhost/..."): list and inspect report them as Docker would;
 *  - pulls go through libpod (the compatible pull refuses plain HTTP to
 *    a loopback registry), and a missing tag is an error line in a 200;
 *  - pods exist only in libpod (/v4.0.0/libpod/pods/...), and a
 *    container joins one only through libpod's container create;
 *  - an archive upload to a missing folder succeeds on Podman (Docker:
 *    404), so the folder is checked first;
 *  - a running container's wait goes through libpod, which keeps the
 *    exit code of a container removed on exit;
 *  - every create, in a pod or not, passes one check first (all
 *    strings UTF-8, env keys), as the Docker driver's create does;
 *  - health probes run from systemd timers, so this driver has the
 *    health_probe op (libpod's healthcheck run) for the runtime's
 *    health driver to call where there is no systemd.
 * Event names and wait on a never-started container are normalised in
 * the shared Docker files (engine_docker_events.c, engine_docker_wait.c).
 */
#include "lib/engine_docker_internal.h"

#include "lib/alloc.h"
#include "lib/engine_http.h"
#include "lib/validate.h"
#include "lib/engine_podman_events.h"
#include "lib/engine_spec_check.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* libpod's API prefix: any /v<x>/libpod/ works; 4.0.0 is Podman 4's. */
#define LIBPOD "/v4.0.0/libpod"

/* berth's defaults on every container (as the Docker driver's). */
#define PODMAN_PIDS_LIMIT    4096
#define PODMAN_LOG_MAX_BYTES (10 * 1024 * 1024)

/* Docker's health check defaults (interval, timeout; retries), which
 * Podman's compatible API applies and libpod does not. */
#define HEALTH_DEFAULT_MS      30000
#define HEALTH_DEFAULT_RETRIES 3

/* A pull progress line longer than this is an error. */
#define PULL_LINE_MAX (64u * 1024u)

/* --- errors ---------------------------------------------------------- */

/*
 * Podman's "cause" strings (the end of its message) and the code the
 * Docker driver gives for the same situation. Messages are cut to one
 * short line, so a long one may have lost its cause: the marks that
 * appear early in Podman's messages are matched too.
 */
static const struct {
	const char *cause;
	int code;
} podman_causes[] = {
	{ "that name is already in use", BERTH_EEXISTS },
	{ "is already in use by", BERTH_EEXISTS },
	{ "pod already exists", BERTH_EEXISTS },
	{ "container state improper", BERTH_EPRECOND },
	{ "state improper", BERTH_EPRECOND },
	{ "pod has containers that are not ready", BERTH_EPRECOND },
	{ "is running or paused", BERTH_EPRECOND },
	{ "invalid argument", BERTH_EINVAL },
	{ "no such container", BERTH_ENOTFOUND },
	{ "does not exist in database", BERTH_ENOTFOUND },
	{ "no such pod", BERTH_ENOTFOUND },
	{ "image not known", BERTH_ENOTFOUND },
	{ "no such image", BERTH_ENOTFOUND },
};

/* The code for an engine message that names a known cause, or 0. */
static int cause_code(const char *msg)
{
	for (size_t i = 0; i < sizeof(podman_causes) / sizeof(podman_causes[0]);
	     i++)
		if (strstr(msg, podman_causes[i].cause) != NULL)
			return podman_causes[i].code;
	return 0;
}

/*
 * Remaps an error the Docker code mapped from Podman's HTTP 500 (or an
 * unexpected status) by the cause in its message. Other codes pass.
 */
static int remap(int rv, struct berth_err *local, struct berth_err *err)
{
	if (rv == BERTH_EINTERNAL || rv == BERTH_EUNKNOWN) {
		int code = cause_code(local->msg);

		if (code != 0) {
			rv = code;
			local->code = code;
			local->retryable = false;
		}
	}
	if (rv != 0 && err != NULL)
		*err = *local;
	return rv;
}

/* Maps a libpod reply that is not 2xx, by cause first, then status. */
static int map_libpod(const struct docker_reply *r, const char *what,
                      struct berth_err *err)
{
	int code = cause_code(r->msg);

	if (code != 0 && (r->status >= 500 || r->status == 409))
		return berth_err_set(err, code, "%s: %s", what, r->msg);
	return docker_map_status(r, BERTH_EPRECOND, what, err);
}

/* --- references ------------------------------------------------------ */

/*
 * The image reference as Docker reports it: Podman qualifies short
 * names ("docker.io/library/busybox", "localhost/x"). Borrowed from `s`.
 */
static const char *short_image(const char *s)
{
	static const char *const prefixes[] = {
		"docker.io/library/",
		"docker.io/",
		"localhost/",
	};

	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t n = strlen(prefixes[i]);

		if (strncmp(s, prefixes[i], n) == 0 && s[n] != '\0')
			return s + n;
	}
	return s;
}

/* Replaces a malloc'd image name in a message by its short form. */
static void shorten_field(char **field)
{
	const char *s;

	if (*field == NULL)
		return;
	s = short_image(*field);
	if (s != *field) {
		char *n = berth_strdup(s);

		free(*field);
		*field = n;
	}
}

/* --- wrapped Docker ops ---------------------------------------------- */

static int podman_container_start(struct berth_engine *e, const char *id,
                                  struct berth_err *err)
{
	struct berth_err l;

	berth_err_clear(&l);
	return remap(docker_container_start(e, id, &l), &l, err);
}

static int podman_container_stop(struct berth_engine *e, const char *id,
                                 int timeout_s, struct berth_err *err)
{
	struct berth_err l;

	berth_err_clear(&l);
	return remap(docker_container_stop(e, id, timeout_s, &l), &l, err);
}

static int podman_container_restart(struct berth_engine *e, const char *id,
                                    int timeout_s, struct berth_err *err)
{
	struct berth_err l;

	berth_err_clear(&l);
	return remap(docker_container_restart(e, id, timeout_s, &l), &l, err);
}

static int podman_container_remove(struct berth_engine *e, const char *id,
                                   bool force, bool volumes,
                                   struct berth_err *err)
{
	struct berth_err l;

	berth_err_clear(&l);
	return remap(docker_container_remove(e, id, force, volumes, &l), &l,
	             err);
}

static int podman_container_list(struct berth_engine *e,
                                 const Berth__V1__ListContainersRequest *filter,
                                 Berth__V1__ListContainersReply **out,
                                 struct berth_err *err)
{
	Berth__V1__ListContainersReply *rep = NULL;
	struct berth_err l;
	int rv;

	berth_err_clear(&l);
	rv = remap(docker_container_list(e, filter, &rep, &l), &l, err);
	if (rv != 0)
		return rv;
	for (size_t i = 0; i < rep->n_containers; i++)
		shorten_field(&rep->containers[i]->image);
	*out = rep;
	return 0;
}

static int podman_exec_create(struct berth_engine *e, const char *id,
                              const struct berth_exec_spec *spec,
                              char **exec_id, struct berth_err *err)
{
	struct berth_err l;

	berth_err_clear(&l);
	return remap(docker_exec_create(e, id, spec, exec_id, &l), &l, err);
}

static int podman_exec_start(struct berth_engine *e, const char *exec_id,
                             berth_engine_output_fn out,
                             berth_engine_tick_fn tick, void *arg,
                             struct berth_err *err)
{
	struct berth_err l;

	berth_err_clear(&l);
	return remap(docker_exec_start(e, exec_id, out, tick, arg, &l), &l,
	             err);
}

static int podman_exec_inspect(struct berth_engine *e, const char *exec_id,
                               struct berth_exec_state *st,
                               struct berth_err *err)
{
	struct berth_err l;

	berth_err_clear(&l);
	return remap(docker_exec_inspect(e, exec_id, st, &l), &l, err);
}

static int podman_logs(struct berth_engine *e, const char *id,
                       const struct berth_logs_opts *opts,
                       berth_engine_output_fn out, berth_engine_tick_fn tick,
                       void *arg, struct berth_err *err)
{
	struct berth_err l;

	berth_err_clear(&l);
	return remap(docker_logs(e, id, opts, out, tick, arg, &l), &l, err);
}

/* The body of libpod's wait: the exit code, as text. */
struct pod_wait {
	berth_engine_tick_fn tick;
	void *arg;
	struct berth_buf body;
	bool stopped;
};

static int pod_wait_chunk(void *arg, const char *data, size_t len)
{
	struct pod_wait *st = arg;

	return berth_buf_append(&st->body, data, len) != 0 ? BERTH_ELIMIT : 0;
}

static int pod_wait_tick(void *arg)
{
	struct pod_wait *st = arg;

	if (st->tick == NULL || st->tick(st->arg) == 0)
		return 0;
	st->stopped = true;
	return BERTH_ECANCELLED;
}

/*
 * Waits for a running container to exit through libpod's wait, which
 * keeps the exit code of a container removed on exit (the compatible
 * wait answers 0 and "does not exist in database" for it).
 */
static int libpod_wait_exit(struct berth_engine *e, const char *id,
                            berth_engine_tick_fn tick, void *arg,
                            int *exit_code, struct berth_err *err)
{
	struct pod_wait st;
	struct berth_buf errbody;
	struct berth_http_req req = { 0 };
	struct berth_http_stream_limits limits = {
		.total_ms = 10L * 365L * 24L * 3600L * 1000L,
		.low_speed_bytes = 1,
		.low_speed_s = 10L * 365L * 24L * 3600L,
		.tick = pod_wait_tick,
	};
	char *eid = berth_http_escape(id);
	char *path = berth_asprintf(
	    LIBPOD "/containers/%s/wait?condition=exited", eid);
	char *end = NULL;
	long status = 0, code;
	int rv;

	memset(&st, 0, sizeof(st));
	st.tick = tick;
	st.arg = arg;
	berth_buf_init(&st.body, 4096);
	berth_buf_init(&errbody, BERTH_HTTP_ERRBODY_MAX);
	req.method = "POST";
	req.path = path;
	rv = berth_http_stream(berth_engine_http_target(e), &req, &limits,
	                       pod_wait_chunk, &st, &status, &errbody, err);
	if (st.stopped) {
		rv = berth_err_set(err, BERTH_ECANCELLED,
		                   "wait for container %.64s: abandoned", id);
		goto out;
	}
	if (rv == BERTH_ELIMIT) {
		rv = berth_err_set(err, BERTH_EINTERNAL,
		                   "wait for container %.64s: the engine's "
		                   "reply is too long",
		                   id);
		goto out;
	}
	if (rv != 0)
		goto out;
	if (status < 200 || status >= 300) {
		struct docker_reply r;

		docker_reply_of_stream(&r, status, &errbody);
		rv = status == 404 ? berth_err_set(
		         err, BERTH_ENOTFOUND, "container %.64s not found", id)
		                   : map_libpod(&r, "wait for container", err);
		docker_reply_fini(&r);
		goto out;
	}
	code = st.body.data != NULL ? strtol(st.body.data, &end, 10) : 0;
	if (st.body.data == NULL || end == st.body.data) {
		rv = berth_err_set_retryable(err, BERTH_EUNAVAIL,
		                             "wait for container %.64s: the "
		                             "engine ended the wait without an "
		                             "answer",
		                             id);
		goto out;
	}
	*exit_code = code == -1 ? 0 : (int)code;
out:
	berth_buf_fini(&st.body);
	berth_buf_fini(&errbody);
	free(path);
	free(eid);
	return rv;
}

static int podman_wait(struct berth_engine *e, const char *id,
                       const char *condition, berth_engine_tick_fn tick,
                       void *arg, int *exit_code, struct berth_err *err)
{
	struct berth_err l;
	Berth__V1__ContainerDetail *d = NULL;
	bool running = false;

	berth_err_clear(&l);
	/* A running container: its exit code from libpod's wait, which
	 * survives removal on exit (the compatible wait answers 0 and "does
	 * not exist in database" for such a container); for "removed" the
	 * removal is then awaited too. Anything else (never started,
	 * exited, next-exit) is the compatible wait's, normalised in
	 * engine_docker_wait.c. */
	if ((condition == NULL || condition[0] == '\0'
	     || strcmp(condition, "not-running") == 0
	     || strcmp(condition, "removed") == 0)
	    && docker_check_id(id, NULL) == 0
	    && docker_container_inspect(e, id, &d, &l) == 0) {
		bool removed
		    = condition != NULL && strcmp(condition, "removed") == 0;
		int code = 0, ignored = 0, rv;

		running = d->running;
		protobuf_c_message_free_unpacked(&d->base, NULL);
		if (running) {
			rv = libpod_wait_exit(e, id, tick, arg, &code, &l);
			if (rv == 0 && removed) {
				rv = docker_wait(e, id, "removed", tick, arg,
				                 &ignored, &l);
				if (rv == BERTH_ENOTFOUND
				    || (rv != 0
				        && cause_code(l.msg)
				            == BERTH_ENOTFOUND))
					rv = 0; /* gone already */
			}
			if (rv == 0)
				*exit_code = code;
			return remap(rv, &l, err);
		}
	}
	berth_err_clear(&l);
	return remap(docker_wait(e, id, condition, tick, arg, exit_code, &l),
	             &l, err);
}

/* --- libpod requests --------------------------------------------------- */

/*
 * One request below /v4.0.0/libpod (docker_call() is bound to /v1.41).
 * `path` is already escaped; the reply as docker_call() fills it.
 */
static int libpod_call(struct berth_engine *e, const char *method,
                       const char *path, const json_t *body,
                       struct docker_reply *r, struct berth_err *err)
{
	return docker_call_at(e, LIBPOD, method, path, body, 0, r, err);
}

/* A pod id or name: the container allow-list (hex ids, plain names). */
static int check_pod_ref(const char *field, const char *id,
                         struct berth_err *err)
{
	return berth_validate_container_ref(field, id, err);
}

/* RFC 3339 ("2026-11-23T22:51:04.99932878Z") to unix seconds; 0 when
 * it does not parse. Offsets other than Z are applied. */
static int64_t parse_rfc3339(const char *s)
{
	struct tm tm;
	const char *p;
	int64_t t;

	if (s == NULL)
		return 0;
	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (p == NULL)
		return 0;
	t = (int64_t)timegm(&tm);
	while (*p == '.' || (*p >= '0' && *p <= '9'))
		p++;
	if ((*p == '+' || *p == '-') && strlen(p) >= 6) {
		int h = (p[1] - '0') * 10 + (p[2] - '0');
		int m = (p[4] - '0') * 10 + (p[5] - '0');
		int64_t off = (int64_t)h * 3600 + (int64_t)m * 60;

		t = *p == '+' ? t - off : t + off;
	}
	return t;
}

/* --- images: pull through libpod ---------------------------------------- */

/*
 * Whether the reference names a registry on loopback, which Docker
 * reaches over plain HTTP by default (127.0.0.0/8 is an insecure
 * registry there); Podman does so only when told tlsVerify=false.
 */
static bool loopback_registry(const char *ref)
{
	const char *slash = strchr(ref, '/');
	size_t n;

	if (slash == NULL)
		return false;
	n = (size_t)(slash - ref);
	if (n >= 9 && strncmp(ref, "localhost", 9) == 0
	    && (n == 9 || ref[9] == ':'))
		return true;
	if (n >= 5 && strncmp(ref, "[::1]", 5) == 0
	    && (n == 5 || ref[5] == ':'))
		return true;
	/* 127.x.y.z only as an address: "127.evil.example" is a name. */
	{
		char host[INET_ADDRSTRLEN];
		const char *colon = memchr(ref, ':', n);
		size_t hn = colon != NULL ? (size_t)(colon - ref) : n;
		struct in_addr a;

		if (hn == 0 || hn >= sizeof(host))
			return false;
		memcpy(host, ref, hn);
		host[hn] = '\0';
		return inet_pton(AF_INET, host, &a) == 1
		    && (ntohl(a.s_addr) >> 24) == 127;
	}
}

/* The reference with ":latest" added when it has no tag or digest.
 * Caller owns the result. */
static char *with_tag(const char *ref)
{
	const char *slash = strrchr(ref, '/');
	const char *last = slash != NULL ? slash + 1 : ref;

	if (strchr(ref, '@') != NULL || strchr(last, ':') != NULL)
		return berth_strdup(ref);
	return berth_asprintf("%s:latest", ref);
}

struct pod_pull {
	const char *ref;
	berth_engine_progress_fn progress;
	void *arg;
	struct berth_buf line;
	char last[ENGINE_MSG_MAX];
	char errmsg[ENGINE_MSG_MAX];
	char *id;
	bool failed;
	bool cancelled;
};

/* One line of libpod's pull stream: {"stream"}, {"error"} or
 * {"images","id"}. */
static int pull_line(void *arg, const char *text, size_t len)
{
	struct pod_pull *st = arg;
	json_t *j = json_loadb(text, len, 0, NULL);
	const char *s;
	int rv = 0;

	if (j == NULL)
		return 0; /* not JSON: ignore, as Docker's driver does */
	if ((s = json_string_value(json_object_get(j, "error"))) != NULL) {
		berth_http_engine_message(s, strlen(s), st->errmsg,
		                          sizeof(st->errmsg));
		st->failed = true;
	} else if ((s = json_string_value(json_object_get(j, "id"))) != NULL
	           && s[0] != '\0') {
		free(st->id);
		st->id = strncmp(s, "sha256:", 7) == 0
		    ? berth_strdup(s)
		    : berth_asprintf("sha256:%s", s);
	} else if ((s = json_string_value(json_object_get(j, "stream")))
	           != NULL) {
		berth_http_engine_message(s, strlen(s), st->last,
		                          sizeof(st->last));
		if (st->progress != NULL && st->progress(st->arg, -1, st->last))
			rv = BERTH_ECANCELLED;
	}
	if (rv != 0)
		st->cancelled = true;
	json_decref(j);
	return rv;
}

static int pull_chunk(void *arg, const char *data, size_t len)
{
	struct pod_pull *st = arg;

	return docker_split_lines(&st->line, data, len, pull_line, st);
}

static int pull_tick(void *arg)
{
	struct pod_pull *st = arg;

	if (st->progress == NULL
	    || st->progress(st->arg, -1,
	                    st->last[0] != '\0' ? st->last : "waiting")
	        == 0)
		return 0;
	st->cancelled = true;
	return BERTH_ECANCELLED;
}

/* Engine messages that mean "this image does not exist (for you)". */
static bool pull_not_found(const char *m)
{
	static const char *const marks[] = {
		"manifest unknown",   "not found",       "name unknown",
		"pull access denied", "does not exist",  "no such host",
		"unauthorized",       "image not known",
	};

	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (strstr(m, marks[i]) != NULL)
			return true;
	return false;
}

static int pull_failed(const char *ref, const char *msg, struct berth_err *err)
{
	if (pull_not_found(msg))
		return berth_err_set(err, BERTH_ENOTFOUND,
		                     "image %.64s not found: %s", ref, msg);
	return berth_err_set_retryable(
	    err, BERTH_EUNAVAIL, "pulling image %.64s failed: %s", ref, msg);
}

static int podman_image_pull(struct berth_engine *e, const char *ref,
                             berth_engine_progress_fn progress, void *arg,
                             char **image_id, struct berth_err *err)
{
	struct pod_pull st;
	struct berth_buf errbody;
	struct berth_http_req req = { 0 };
	struct berth_http_stream_limits limits = { .tick = pull_tick };
	char *full = NULL, *eref = NULL, *tagged = NULL;
	long status = 0;
	int rv;

	memset(&st, 0, sizeof(st));
	berth_buf_init(&st.line, PULL_LINE_MAX);
	berth_buf_init(&errbody, BERTH_HTTP_ERRBODY_MAX);
	rv = berth_validate_image_ref("image", ref, err);
	if (rv != 0)
		goto out;
	tagged = with_tag(ref);
	eref = berth_http_escape(tagged);
	full = berth_asprintf(LIBPOD "/images/pull?reference=%s%s", eref,
	                      loopback_registry(ref) ? "&tlsVerify=false" : "");
	st.ref = ref;
	st.progress = progress;
	st.arg = arg;
	req.method = "POST";
	req.path = full;
	rv = berth_http_stream(berth_engine_http_target(e), &req, &limits,
	                       pull_chunk, &st, &status, &errbody, err);
	if (rv == 0 && status >= 200 && status < 300 && st.line.len > 0)
		rv = pull_line(&st, st.line.data, st.line.len);
	if (st.cancelled) {
		rv = berth_err_set(err, BERTH_ECANCELLED,
		                   "pull of image %.64s cancelled", ref);
		goto out;
	}
	if (rv == BERTH_ELIMIT) {
		rv = berth_err_set(err, BERTH_ELIMIT,
		                   "pull progress line longer than %u bytes",
		                   PULL_LINE_MAX);
		goto out;
	}
	if (rv != 0)
		goto out;
	if (status < 200 || status >= 300) {
		char msg[ENGINE_MSG_MAX];

		berth_http_engine_message(errbody.data, errbody.len, msg,
		                          sizeof(msg));
		if (status == 400)
			rv = berth_err_set(err, BERTH_EINVAL,
			                   "pulling image %.64s failed: %s",
			                   ref, msg);
		else
			rv = pull_failed(ref, msg, err);
		goto out;
	}
	/* A missing tag is a 200 whose stream ends with an error line. */
	if (st.failed || st.id == NULL) {
		rv = pull_failed(ref,
		                 st.failed ? st.errmsg
		                           : "the engine reported no image id",
		                 err);
		goto out;
	}
	if (progress != NULL)
		(void)progress(arg, 100, "pulled");
	*image_id = st.id;
	st.id = NULL;
out:
	free(st.id);
	berth_buf_fini(&st.line);
	berth_buf_fini(&errbody);
	free(full);
	free(eref);
	free(tagged);
	return rv;
}

/* --- containers: create in a pod (libpod's SpecGenerator) ---------------- */

/* A string member; invalid UTF-8 is refused (jansson gives NULL). */
static int set_str(json_t *o, const char *key, const char *v, const char *field,
                   struct berth_err *err)
{
	json_t *s = json_string(v != NULL ? v : "");

	if (s == NULL)
		return berth_err_set(err, BERTH_EINVAL,
		                     "%s: must be valid UTF-8", field);
	json_object_set_new(o, key, s);
	return 0;
}

static int strv(json_t *o, const char *key, const char *const *v, size_t n,
                const char *field, struct berth_err *err)
{
	json_t *a = json_array();

	json_object_set_new(o, key, a);
	for (size_t i = 0; i < n; i++) {
		json_t *s = json_string(v[i] != NULL ? v[i] : "");

		if (s == NULL)
			return berth_err_set(err, BERTH_EINVAL,
			                     "%s[%zu]: must be valid UTF-8",
			                     field, i);
		json_array_append_new(a, s);
	}
	return 0;
}

static int kv_object(json_t *o, const Berth__V1__KeyValue *const *kv, size_t n,
                     const char *field, struct berth_err *err)
{
	for (size_t i = 0; i < n; i++) {
		json_t *v
		    = json_string(kv[i]->value != NULL ? kv[i]->value : "");

		/* set_new checks the key and always takes the value. */
		if (v == NULL || kv[i]->key == NULL
		    || json_object_set_new(o, kv[i]->key, v) != 0) {
			if (v != NULL && kv[i]->key == NULL)
				json_decref(v);
			return berth_err_set(err, BERTH_EINVAL,
			                     "%s[%zu]: must be valid UTF-8",
			                     field, i);
		}
	}
	return 0;
}

/* The command: argv as given, or command_line under the shell. */
static int pod_command(struct berth_engine *e,
                       const Berth__V1__ContainerSpec *spec, json_t *g,
                       struct berth_err *err)
{
	bool has_line
	    = spec->command_line != NULL && spec->command_line[0] != '\0';
	const char *const *sh;
	size_t nsh;
	json_t *a;
	int rv;

	if (has_line && spec->n_command > 0)
		return berth_err_set(err, BERTH_EINVAL,
		                     "command and command_line are exclusive");
	if (!has_line)
		return spec->n_command == 0
		    ? 0
		    : strv(g, "command", (const char *const *)spec->command,
		           spec->n_command, "command", err);
	if (spec->n_shell > 0) {
		sh = (const char *const *)spec->shell;
		nsh = spec->n_shell;
	} else {
		sh = berth_engine_shell(e, &nsh);
	}
	rv = strv(g, "command", sh, nsh, "shell", err);
	if (rv != 0)
		return rv;
	a = json_object_get(g, "command");
	return json_array_append_new(a, json_string(spec->command_line)) == 0
	    ? 0
	    : berth_err_set(err, BERTH_EINVAL,
	                    "command_line: must be valid UTF-8");
}

static int pod_mounts(const Berth__V1__ContainerSpec *spec, json_t *g,
                      struct berth_err *err)
{
	json_t *mounts = json_array(), *vols = json_array();

	json_object_set_new(g, "mounts", mounts);
	json_object_set_new(g, "volumes", vols);
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const Berth__V1__Mount *m = spec->mounts[i];
		const char *type
		    = m->type != NULL && m->type[0] != '\0' ? m->type : "bind";
		json_t *o = json_object(), *opts = json_array();

		if (m->target == NULL || m->target[0] != '/'
		    || (strcmp(type, "bind") != 0
		        && strcmp(type, "volume") != 0)) {
			json_decref(o);
			json_decref(opts);
			return berth_err_set(err, BERTH_EINVAL,
			                     "mounts[%zu]: type bind or volume "
			                     "and an absolute target are "
			                     "required",
			                     i);
		}
		json_array_append_new(opts,
		                      json_string(m->read_only ? "ro" : "rw"));
		if (strcmp(type, "bind") == 0) {
			json_array_append_new(opts, json_string("rbind"));
			json_object_set_new(o, "type", json_string("bind"));
			json_object_set_new(
			    o, "source",
			    json_string(m->source != NULL ? m->source : ""));
			json_object_set_new(o, "destination",
			                    json_string(m->target));
			json_object_set_new(o, "options", opts);
			json_array_append_new(mounts, o);
		} else {
			json_object_set_new(
			    o, "Name",
			    json_string(m->source != NULL ? m->source : ""));
			json_object_set_new(o, "Dest", json_string(m->target));
			json_object_set_new(o, "Options", opts);
			json_array_append_new(vols, o);
		}
	}
	return 0;
}

/* Limits, health check, security and lifetime options. */
static int pod_options(const Berth__V1__ContainerSpec *spec, json_t *g,
                       struct berth_err *err)
{
	const Berth__V1__Resources *r = spec->resources;
	const Berth__V1__HealthCheck *h = spec->health;
	json_t *res = json_object(), *pids = json_object(), *logc;
	int64_t plimit = PODMAN_PIDS_LIMIT;

	json_object_set_new(g, "resource_limits", res);
	if (r != NULL) {
		if (r->pids_limit < 0 || r->memory_bytes < 0
		    || r->nano_cpus < 0) {
			json_decref(pids);
			return berth_err_set(err, BERTH_EINVAL,
			                     "resources: limits must not be "
			                     "negative (berth never creates a "
			                     "container without a pids limit)");
		}
		if (r->pids_limit > 0)
			plimit = r->pids_limit;
		if (r->memory_bytes > 0) {
			json_t *mem = json_object();

			json_object_set_new(mem, "limit",
			                    json_integer(r->memory_bytes));
			json_object_set_new(res, "memory", mem);
		}
		if (r->nano_cpus > 0) {
			json_t *cpu = json_object();

			json_object_set_new(cpu, "period",
			                    json_integer(100000));
			json_object_set_new(
			    cpu, "quota",
			    json_integer(r->nano_cpus
			                 / 10000)); /* per 100 ms */
			json_object_set_new(res, "cpu", cpu);
		}
	}
	json_object_set_new(pids, "limit", json_integer(plimit));
	json_object_set_new(res, "pids", pids);
	if (h != NULL) {
		json_t *hc = json_object();

		json_object_set_new(g, "healthconfig", hc);
		if (h->n_test > 0
		    && strv(hc, "Test", (const char *const *)h->test, h->n_test,
		            "health.test", err)
		        != 0)
			return BERTH_EINVAL;
		/* libpod takes zeros as given (a 0 s timeout fails every
		 * probe: "exceeded timeout of 0s"); the compatible API fills
		 * in Docker's defaults, and so does this. */
		json_object_set_new(
		    hc, "Interval",
		    json_integer((h->interval_ms > 0 ? h->interval_ms
		                                     : HEALTH_DEFAULT_MS)
		                 * 1000000));
		json_object_set_new(
		    hc, "Timeout",
		    json_integer(
		        (h->timeout_ms > 0 ? h->timeout_ms : HEALTH_DEFAULT_MS)
		        * 1000000));
		if (h->start_period_ms > 0)
			json_object_set_new(
			    hc, "StartPeriod",
			    json_integer(h->start_period_ms * 1000000));
		json_object_set_new(hc, "Retries",
		                    json_integer(h->retries > 0
		                                     ? h->retries
		                                     : HEALTH_DEFAULT_RETRIES));
	}
	if (spec->restart_policy != NULL && spec->restart_policy->name != NULL
	    && spec->restart_policy->name[0] != '\0') {
		json_object_set_new(g, "restart_policy",
		                    json_string(spec->restart_policy->name));
		if (spec->restart_policy->max_retries > 0)
			json_object_set_new(
			    g, "restart_tries",
			    json_integer(spec->restart_policy->max_retries));
	}
	if (spec->user[0] != '\0')
		json_object_set_new(g, "user", json_string(spec->user));
	if (spec->read_only_rootfs)
		json_object_set_new(g, "read_only_filesystem", json_true());
	if (spec->n_cap_drop > 0
	    && strv(g, "cap_drop", (const char *const *)spec->cap_drop,
	            spec->n_cap_drop, "cap_drop", err)
	        != 0)
		return BERTH_EINVAL;
	if (spec->n_cap_add > 0
	    && strv(g, "cap_add", (const char *const *)spec->cap_add,
	            spec->n_cap_add, "cap_add", err)
	        != 0)
		return BERTH_EINVAL;
	if (spec->no_new_privileges)
		json_object_set_new(g, "no_new_privileges", json_true());
	if (spec->remove_on_exit)
		json_object_set_new(g, "remove", json_true());
	/* Log rotation: Podman keeps a size and no file count. */
	logc = json_object();
	json_object_set_new(logc, "size", json_integer(PODMAN_LOG_MAX_BYTES));
	json_object_set_new(g, "log_configuration", logc);
	return 0;
}

/* libpod's SpecGenerator for a container in pod spec->pod. */
static int pod_spec(struct berth_engine *e,
                    const Berth__V1__ContainerSpec *spec,
                    const Berth__V1__KeyValue *const *labels, size_t nlabels,
                    json_t **out, struct berth_err *err)
{
	json_t *g = json_object(), *lab = json_object(), *env = json_object();
	int rv;

	json_object_set_new(g, "labels", lab);
	json_object_set_new(g, "env", env);
	if (spec->n_ports > 0 || spec->n_networks > 0) {
		rv = berth_err_set(err, BERTH_EINVAL,
		                   "%s: a container in a pod uses the pod's "
		                   "network and ports; give them to the pod",
		                   spec->n_ports > 0 ? "ports" : "networks");
		goto out;
	}
	rv = set_str(g, "image", spec->image, "image", err);
	if (rv == 0)
		rv = set_str(g, "pod", spec->pod, "pod", err);
	if (rv == 0 && spec->name != NULL && spec->name[0] != '\0')
		rv = set_str(g, "name", spec->name, "name", err);
	if (rv == 0)
		rv = pod_command(e, spec, g, err);
	if (rv == 0 && spec->n_entrypoint > 0)
		rv = strv(g, "entrypoint",
		          (const char *const *)spec->entrypoint,
		          spec->n_entrypoint, "entrypoint", err);
	if (rv == 0)
		rv = kv_object(env,
		               (const Berth__V1__KeyValue *const *)spec->env,
		               spec->n_env, "env", err);
	if (rv == 0 && spec->working_dir != NULL
	    && spec->working_dir[0] != '\0')
		rv = set_str(g, "work_dir", spec->working_dir, "working_dir",
		             err);
	if (rv == 0)
		rv = kv_object(lab,
		               (const Berth__V1__KeyValue *const *)spec->labels,
		               spec->n_labels, "labels", err);
	/* berth's own labels last, so a spec cannot override them. */
	if (rv == 0)
		rv = kv_object(lab, labels, nlabels, "labels", err);
	if (rv == 0)
		rv = pod_mounts(spec, g, err);
	if (rv == 0)
		rv = pod_options(spec, g, err);
	if (rv != 0)
		goto out;
	*out = g;
	g = NULL;
out:
	json_decref(g);
	return rv;
}

static int podman_create_in_pod(struct berth_engine *e,
                                const Berth__V1__ContainerSpec *spec,
                                const Berth__V1__KeyValue *const *labels,
                                size_t nlabels, char **id,
                                struct berth_err *err)
{
	json_t *body = NULL, *rep = NULL;
	struct docker_reply r;
	const char *cid;
	int rv;

	docker_reply_init(&r);
	rv = check_pod_ref("pod", spec->pod, err);
	if (rv != 0)
		goto out;
	if (spec->image == NULL || spec->image[0] == '\0') {
		rv = berth_err_set(err, BERTH_EINVAL, "image: required");
		goto out;
	}
	rv = pod_spec(e, spec, labels, nlabels, &body, err);
	if (rv != 0)
		goto out;
	rv = libpod_call(e, "POST", "/containers/create", body, &r, err);
	if (rv != 0)
		goto out;
	if (r.status != 201 && r.status != 200) {
		int code = cause_code(r.msg);

		if (strstr(r.msg, "no such pod") != NULL)
			rv = berth_err_set(err, BERTH_ENOTFOUND,
			                   "pod %.64s not found", spec->pod);
		else if (strstr(r.msg, "image not known") != NULL
		         || r.status == 404)
			rv = berth_err_set(err, BERTH_ENOTFOUND,
			                   "image %.64s is not present on the "
			                   "engine; pull it first (POST "
			                   "/api/v1/images/pull)",
			                   spec->image);
		else if (code == BERTH_EEXISTS)
			rv = berth_err_set(
			    err, BERTH_EEXISTS,
			    "container name %.128s is already in "
			    "use",
			    spec->name);
		else
			rv = map_libpod(&r, "create container", err);
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
	*id = berth_strdup(cid);
out:
	json_decref(rep);
	json_decref(body);
	docker_reply_fini(&r);
	return rv;
}

static int podman_container_create(struct berth_engine *e,
                                   const Berth__V1__ContainerSpec *spec,
                                   const Berth__V1__KeyValue *const *labels,
                                   size_t nlabels, char **id,
                                   struct berth_err *err)
{
	struct berth_err l;
	int rv;

	rv = berth_engine_check_create(spec, labels, nlabels, err);
	if (rv != 0)
		return rv;
	if (spec->pod != NULL && spec->pod[0] != '\0')
		return podman_create_in_pod(e, spec, labels, nlabels, id, err);
	berth_err_clear(&l);
	rv = docker_container_create(e, spec, labels, nlabels, id, &l);
	if (rv != 0 && strstr(l.msg, "SCTP is not allowed") != NULL)
		return berth_err_set(
		    err, BERTH_EUNIMPL,
		    "ports: this runtime drives Podman, which "
		    "cannot publish sctp ports; use tcp or udp");
	return remap(rv, &l, err);
}

/* --- containers: inspect (with the pod) ----------------------------------- */

/* The name of the pod container `id` is in, or NULL when none. */
static int container_pod(struct berth_engine *e, const char *id, char **out,
                         struct berth_err *err)
{
	struct docker_reply r;
	json_t *c = NULL, *p = NULL;
	char *path = NULL, *eid = berth_http_escape(id);
	const char *pod, *name;
	int rv;

	docker_reply_init(&r);
	*out = NULL;
	path = berth_asprintf("/containers/%s/json", eid);
	rv = libpod_call(e, "GET", path, NULL, &r, err);
	if (rv != 0)
		goto out;
	if (r.status != 200) {
		rv = map_libpod(&r, "inspect container", err);
		goto out;
	}
	rv = docker_parse_json(&r, &c, "inspect container", err);
	if (rv != 0)
		goto out;
	pod = json_string_value(json_object_get(c, "Pod"));
	if (pod == NULL || pod[0] == '\0')
		goto out;
	/* The pod's name, as a spec gives it. */
	free(path);
	path = berth_asprintf("/pods/%.64s/json", pod);
	docker_reply_fini(&r);
	docker_reply_init(&r);
	rv = libpod_call(e, "GET", path, NULL, &r, err);
	if (rv == 0 && r.status == 200
	    && docker_parse_json(&r, &p, "inspect pod", err) == 0
	    && (name = json_string_value(json_object_get(p, "Name"))) != NULL)
		*out = berth_strdup(name);
	else
		*out = berth_strdup(pod);
	rv = 0;
out:
	json_decref(p);
	json_decref(c);
	free(path);
	free(eid);
	docker_reply_fini(&r);
	return rv;
}

static int podman_container_inspect(struct berth_engine *e, const char *id,
                                    Berth__V1__ContainerDetail **out,
                                    struct berth_err *err)
{
	Berth__V1__ContainerDetail *d = NULL;
	struct berth_err l;
	char *pod = NULL;
	int rv;

	berth_err_clear(&l);
	rv = remap(docker_container_inspect(e, id, &d, &l), &l, err);
	if (rv != 0)
		return rv;
	if (d->summary != NULL)
		shorten_field(&d->summary->image);
	/* Compatible inspect does not say which pod; libpod's does. */
	if (d->summary != NULL && d->summary->id != NULL
	    && container_pod(e, d->summary->id, &pod, &l) == 0 && pod != NULL) {
		if (d->pod != protobuf_c_empty_string)
			free(d->pod);
		d->pod = pod;
	}
	*out = d;
	return 0;
}

/* --- health: one probe run through libpod ---------------------------------- */

/* The reply of a probe run: {"Status","FailingStreak","Log"} (Log null). */
#define PROBE_REPLY_MAX (64u * 1024u)
/* The engine's own overhead on top of the probe's timeout. */
#define PROBE_MARGIN_MS 10000

struct probe_run {
	berth_engine_tick_fn tick;
	void *arg;
	struct berth_buf body;
	bool stopped;
};

static int probe_run_chunk(void *arg, const char *data, size_t len)
{
	struct probe_run *st = arg;

	return berth_buf_append(&st->body, data, len) != 0 ? BERTH_ELIMIT : 0;
}

static int probe_run_tick(void *arg)
{
	struct probe_run *st = arg;

	if (st->tick == NULL || st->tick(st->arg) == 0)
		return 0;
	st->stopped = true;
	return BERTH_ECANCELLED;
}

/*
 * GET /libpod/containers/{id}/healthcheck runs the configured probe
 * once and records the result as a systemd timer's run would (status,
 * failing streak, start period, log). A stream with a tick, not a plain
 * call, so a stopping runtime can abandon a slow probe within a second.
 */
static int podman_health_probe(struct berth_engine *e, const char *id,
                               int timeout_ms, berth_engine_tick_fn tick,
                               void *arg, char **status, struct berth_err *err)
{
	struct probe_run st;
	struct berth_buf errbody;
	struct berth_http_req req = { 0 };
	struct berth_http_stream_limits limits = { .tick = probe_run_tick };
	char *eid = NULL, *path = NULL;
	json_t *j = NULL;
	const char *s;
	long code = 0;
	int rv;

	memset(&st, 0, sizeof(st));
	st.tick = tick;
	st.arg = arg;
	berth_buf_init(&st.body, PROBE_REPLY_MAX);
	berth_buf_init(&errbody, BERTH_HTTP_ERRBODY_MAX);
	rv = docker_check_id(id, err);
	if (rv != 0)
		goto out;
	eid = berth_http_escape(id);
	path = berth_asprintf(LIBPOD "/containers/%s/healthcheck", eid);
	req.method = "GET";
	req.path = path;
	limits.total_ms
	    = (timeout_ms > 0 ? timeout_ms : berth_engine_timeout_ms(e))
	    + PROBE_MARGIN_MS;
	rv = berth_http_stream(berth_engine_http_target(e), &req, &limits,
	                       probe_run_chunk, &st, &code, &errbody, err);
	if (st.stopped) {
		rv = berth_err_set(err, BERTH_ECANCELLED,
		                   "health probe of container %.64s: abandoned",
		                   id);
		goto out;
	}
	if (rv == BERTH_ELIMIT) {
		rv = berth_err_set(err, BERTH_EINTERNAL,
		                   "health probe of container %.64s: the "
		                   "engine's reply is too long",
		                   id);
		goto out;
	}
	if (rv != 0)
		goto out;
	if (code < 200 || code >= 300) {
		struct docker_reply r;

		docker_reply_of_stream(&r, code, &errbody);
		if (code == 404)
			rv = berth_err_set(err, BERTH_ENOTFOUND,
			                   "container %.64s not found", id);
		else if (code == 409)
			rv = berth_err_set(
			    err, BERTH_EPRECOND,
			    "health probe of container %.64s: %s", id,
			    strstr(r.msg, "healthcheck") != NULL
			        ? "it has no health check"
			        : "it is not running");
		else
			rv = map_libpod(&r, "health probe", err);
		docker_reply_fini(&r);
		goto out;
	}
	j = json_loadb(st.body.data != NULL ? st.body.data : "", st.body.len, 0,
	               NULL);
	s = json_string_value(json_object_get(j, "Status"));
	if (s == NULL || s[0] == '\0') {
		rv = berth_err_set(
		    err, BERTH_EINTERNAL,
		    "health probe of container %.64s: the engine "
		    "reported no status",
		    id);
		goto out;
	}
	*status = berth_strdup(s);
out:
	json_decref(j);
	berth_buf_fini(&st.body);
	berth_buf_fini(&errbody);
	free(path);
	free(eid);
	return rv;
}

/* --- archive ---------------------------------------------------------- */

/* Stream callback of the folder check: any byte means the folder is
 * there; stop at once rather than download it. */
static int probe_chunk(void *arg, const char *data, size_t len)
{
	(void)data;
	(void)len;
	*(bool *)arg = true;
	return BERTH_ECANCELLED;
}

/*
 * Whether folder `path` exists in container `id`: GET .../archive,
 * abandoned at its first byte (the HTTP helper makes no HEAD request).
 * `*exists` is set on return 0.
 */
static int folder_exists(struct berth_engine *e, const char *id,
                         const char *path, bool *exists, struct berth_err *err)
{
	struct berth_buf errbody;
	struct berth_http_req req = { 0 };
	struct berth_http_stream_limits limits = { .total_ms = 30000 };
	char *eid = berth_http_escape(id), *epath = berth_http_escape(path);
	char *full
	    = berth_asprintf(API "/containers/%s/archive?path=%s", eid, epath);
	bool got = false;
	long status = 0;
	int rv;

	berth_buf_init(&errbody, BERTH_HTTP_ERRBODY_MAX);
	req.method = "GET";
	req.path = full;
	rv = berth_http_stream(berth_engine_http_target(e), &req, &limits,
	                       probe_chunk, &got, &status, &errbody, err);
	if (got) {
		*exists = true;
		rv = 0;
	} else if (rv == 0 && status >= 200 && status < 300) {
		*exists = true;
	} else if (rv == 0 && status == 404) {
		char msg[ENGINE_MSG_MAX];

		/* 404 for a missing container too: say which. */
		berth_http_engine_message(errbody.data, errbody.len, msg,
		                          sizeof(msg));
		if (cause_code(msg) == BERTH_ENOTFOUND
		    && strstr(msg, "container") != NULL)
			rv = berth_err_set(err, BERTH_ENOTFOUND,
			                   "container %.64s not found", id);
		else
			*exists = false;
	} else if (rv == 0) {
		*exists = true; /* let the upload itself report */
	}
	berth_buf_fini(&errbody);
	free(full);
	free(epath);
	free(eid);
	return rv;
}

/*
 * Podman extracts into a folder that does not exist (creating it);
 * Docker answers 404. The folder is checked first, so both engines
 * refuse the same uploads.
 */
static int podman_archive_put(struct berth_engine *e, const char *id,
                              const char *path, const void *tar, size_t len,
                              struct berth_err *err)
{
	struct berth_err l;
	bool exists = true;
	int rv;

	berth_err_clear(&l);
	rv = docker_check_id(id, err);
	if (rv == 0)
		rv = berth_validate_container_path("path", path, err);
	if (rv != 0)
		return rv;
	rv = folder_exists(e, id, path, &exists, &l);
	if (rv == 0 && !exists)
		return berth_err_set(
		    err, BERTH_ENOTFOUND,
		    "folder %.128s does not exist in container "
		    "%.64s",
		    path, id);
	if (rv != 0)
		return remap(rv, &l, err);
	return remap(docker_archive_put(e, id, path, tar, len, &l), &l, err);
}

/* --- pods ------------------------------------------------------------- */

static json_t *pod_ports(const Berth__V1__PodSpec *spec, struct berth_err *err,
                         int *rv)
{
	json_t *a = json_array();

	*rv = 0;
	for (size_t i = 0; i < spec->n_ports; i++) {
		const Berth__V1__PortBinding *p = spec->ports[i];
		const char *proto
		    = p->protocol != NULL && p->protocol[0] != '\0'
		    ? p->protocol
		    : "tcp";
		json_t *o;

		*rv = berth_validate_port_protocol("ports.protocol", proto,
		                                   err);
		if (*rv != 0)
			break;
		if (p->container_port == 0 || p->container_port > 65535
		    || p->host_port > 65535) {
			*rv = berth_err_set(
			    err, BERTH_EINVAL,
			    "ports[%zu]: ports must be 1..65535", i);
			break;
		}
		o = json_object();
		json_object_set_new(o, "container_port",
		                    json_integer(p->container_port));
		if (p->host_port != 0)
			json_object_set_new(o, "host_port",
			                    json_integer(p->host_port));
		if (p->host_ip != NULL && p->host_ip[0] != '\0')
			json_object_set_new(o, "host_ip",
			                    json_string(p->host_ip));
		json_object_set_new(o, "protocol", json_string(proto));
		json_array_append_new(a, o);
	}
	return a;
}

static int pod_create_once(struct berth_engine *e, const json_t *body,
                           const char *name, char **id, struct docker_reply *r,
                           struct berth_err *err)
{
	json_t *rep = NULL;
	const char *pid;
	int rv;

	rv = libpod_call(e, "POST", "/pods/create", body, r, err);
	if (rv != 0)
		return rv;
	if (r->status == 409)
		return berth_err_set(err, BERTH_EEXISTS,
		                     "pod name %.128s is already in use", name);
	if (r->status != 201 && r->status != 200)
		return map_libpod(r, "create pod", err);
	rv = docker_parse_json(r, &rep, "create pod", err);
	if (rv != 0)
		return rv;
	pid = json_string_value(json_object_get(rep, "Id"));
	if (pid == NULL || pid[0] == '\0')
		rv = berth_err_set(err, BERTH_EINTERNAL,
		                   "create pod: engine reported no id");
	else
		*id = berth_strdup(pid);
	json_decref(rep);
	return rv;
}

static int podman_pod_create(struct berth_engine *e,
                             const Berth__V1__PodSpec *spec,
                             const Berth__V1__KeyValue *const *labels,
                             size_t nlabels, char **id, struct berth_err *err)
{
	json_t *body = json_object(), *lab = json_object();
	struct docker_reply r;
	struct berth_err l;
	int rv;

	docker_reply_init(&r);
	berth_err_clear(&l);
	json_object_set_new(body, "labels", lab);
	rv = berth_validate_name("name", spec->name, err);
	if (rv != 0)
		goto out;
	json_object_set_new(body, "name", json_string(spec->name));
	rv = kv_object(lab, (const Berth__V1__KeyValue *const *)spec->labels,
	               spec->n_labels, "labels", err);
	if (rv == 0)
		rv = kv_object(lab, labels, nlabels, "labels", err);
	if (rv != 0)
		goto out;
	if (spec->n_ports > 0) {
		json_t *ports = pod_ports(spec, err, &rv);

		json_object_set_new(body, "portmappings", ports);
		if (rv != 0)
			goto out;
	}
	rv = pod_create_once(e, body, spec->name, id, &r, &l);
	/* Without catatonit Podman cannot make the infra container: a pod
	 * without published ports does without one. */
	if (rv != 0 && rv != BERTH_EEXISTS && spec->n_ports == 0
	    && (strstr(l.msg, "catatonit") != NULL
	        || strstr(l.msg, "pause") != NULL)) {
		json_object_set_new(body, "no_infra", json_true());
		docker_reply_fini(&r);
		docker_reply_init(&r);
		berth_err_clear(&l);
		rv = pod_create_once(e, body, spec->name, id, &r, &l);
	}
	if (rv != 0 && err != NULL)
		*err = l;
out:
	json_decref(body);
	docker_reply_fini(&r);
	return rv;
}

/* POST /pods/{id}/{verb}: 200, and 304 when already so. */
static int pod_action(struct berth_engine *e, const char *id, const char *verb,
                      struct berth_err *err)
{
	struct docker_reply r;
	char *eid = NULL, *path = NULL, *what = NULL;
	int rv;

	docker_reply_init(&r);
	rv = check_pod_ref("id", id, err);
	if (rv != 0)
		goto out;
	eid = berth_http_escape(id);
	path = berth_asprintf("/pods/%s/%s", eid, verb);
	what = berth_asprintf("%s pod %.64s", verb, id);
	rv = libpod_call(e, "POST", path, NULL, &r, err);
	if (rv != 0)
		goto out;
	if (r.status == 200 || r.status == 204 || r.status == 304)
		goto out;
	if (r.status == 404)
		rv = berth_err_set(err, BERTH_ENOTFOUND, "pod %.64s not found",
		                   id);
	else
		rv = map_libpod(&r, what, err);
out:
	free(what);
	free(path);
	free(eid);
	docker_reply_fini(&r);
	return rv;
}

static int podman_pod_start(struct berth_engine *e, const char *id,
                            struct berth_err *err)
{
	return pod_action(e, id, "start", err);
}

static int podman_pod_stop(struct berth_engine *e, const char *id,
                           struct berth_err *err)
{
	return pod_action(e, id, "stop", err);
}

static int podman_pod_remove(struct berth_engine *e, const char *id, bool force,
                             struct berth_err *err)
{
	struct docker_reply r;
	char *eid = NULL, *path = NULL;
	int rv;

	docker_reply_init(&r);
	rv = check_pod_ref("id", id, err);
	if (rv != 0)
		goto out;
	eid = berth_http_escape(id);
	path = berth_asprintf("/pods/%s?force=%s", eid,
	                      force ? "true" : "false");
	rv = libpod_call(e, "DELETE", path, NULL, &r, err);
	if (rv != 0)
		goto out;
	if (r.status == 200 || r.status == 204)
		goto out;
	if (r.status == 404)
		rv = berth_err_set(err, BERTH_ENOTFOUND, "pod %.64s not found",
		                   id);
	else if (!force
	         && (r.status == 409 || cause_code(r.msg) == BERTH_EPRECOND))
		rv = berth_err_set(err, BERTH_EPRECOND,
		                   "remove pod %.64s: it has running "
		                   "containers; stop it or remove with force: "
		                   "%s",
		                   id, r.msg);
	else
		rv = map_libpod(&r, "remove pod", err);
out:
	free(path);
	free(eid);
	docker_reply_fini(&r);
	return rv;
}

/* A malloc'd KeyValue list from a JSON object of strings. */
static void labels_from(const json_t *o, Berth__V1__KeyValue ***out, size_t *n)
{
	const char *k;
	json_t *v;
	size_t i = 0;

	*n = 0;
	*out = NULL;
	if (!json_is_object(o) || json_object_size(o) == 0)
		return;
	*out = berth_calloc(json_object_size(o), sizeof(**out));
	json_object_foreach((json_t *)o, k, v)
	{
		Berth__V1__KeyValue *kv = berth_malloc(sizeof(*kv));

		berth__v1__key_value__init(kv);
		kv->key = berth_strdup(k);
		kv->value = berth_strdup(
		    json_is_string(v) ? json_string_value(v) : "");
		(*out)[i++] = kv;
	}
	*n = i;
}

/*
 * A PodSummary from libpod's list entry or inspect: the same facts
 * under different keys ("Status"/"State", "InfraId"/"InfraContainerID",
 * container "Names"/"Name"). The infra container is left out: berth's
 * user did not make it.
 */
static Berth__V1__PodSummary *pod_summary(const json_t *p)
{
	Berth__V1__PodSummary *s = berth_malloc(sizeof(*s));
	const json_t *cs = json_object_get(p, "Containers");
	const char *infra, *status;
	size_t i;
	json_t *c;

	berth__v1__pod_summary__init(s);
	s->id = berth_strdup(json_string_value(json_object_get(p, "Id")));
	s->name = berth_strdup(json_string_value(json_object_get(p, "Name")));
	status = json_string_value(json_object_get(p, "Status"));
	if (status == NULL)
		status = json_string_value(json_object_get(p, "State"));
	s->status = berth_strdup(status != NULL ? status : "");
	if (s->id == NULL)
		s->id = berth_strdup("");
	if (s->name == NULL)
		s->name = berth_strdup("");
	s->created
	    = parse_rfc3339(json_string_value(json_object_get(p, "Created")));
	labels_from(json_object_get(p, "Labels"), &s->labels, &s->n_labels);
	infra = json_string_value(json_object_get(p, "InfraId"));
	if (infra == NULL)
		infra
		    = json_string_value(json_object_get(p, "InfraContainerID"));
	if (json_is_array(cs) && json_array_size(cs) > 0) {
		s->container_ids
		    = berth_calloc(json_array_size(cs), sizeof(char *));
		json_array_foreach(cs, i, c)
		{
			const char *cid
			    = json_string_value(json_object_get(c, "Id"));

			if (cid == NULL
			    || (infra != NULL && strcmp(cid, infra) == 0))
				continue;
			s->container_ids[s->n_container_ids++]
			    = berth_strdup(cid);
		}
	}
	return s;
}

static int podman_pod_list(struct berth_engine *e,
                           const Berth__V1__ListPodsRequest *filter,
                           Berth__V1__ListPodsReply **out,
                           struct berth_err *err)
{
	json_t *f = json_object(), *lab = json_array(), *arr = NULL, *p;
	Berth__V1__ListPodsReply *rep = NULL;
	struct docker_reply r;
	char *text = NULL, *etext = NULL, *path = NULL;
	size_t i;
	int rv = 0;

	docker_reply_init(&r);
	json_object_set_new(f, "label", lab);
	for (i = 0; filter != NULL && i < filter->n_labels; i++) {
		const Berth__V1__KeyValue *kv = filter->labels[i];
		char *s = berth_asprintf("%s=%s", kv->key,
		                         kv->value != NULL ? kv->value : "");
		json_t *js = json_string(s);

		free(s);
		if (js == NULL) {
			rv = berth_err_set(err, BERTH_EINVAL,
			                   "labels[%zu]: must be valid UTF-8",
			                   i);
			goto out;
		}
		json_array_append_new(lab, js);
	}
	if (json_array_size(lab) > 0) {
		text = json_dumps(f, JSON_COMPACT);
		etext = berth_http_escape(text != NULL ? text : "{}");
		path = berth_asprintf("/pods/json?filters=%s", etext);
	} else {
		path = berth_strdup("/pods/json");
	}
	rv = libpod_call(e, "GET", path, NULL, &r, err);
	if (rv != 0)
		goto out;
	if (r.status != 200) {
		rv = map_libpod(&r, "list pods", err);
		goto out;
	}
	rv = docker_parse_json(&r, &arr, "list pods", err);
	if (rv != 0)
		goto out;
	if (!json_is_array(arr)) {
		rv = berth_err_set(err, BERTH_EINTERNAL,
		                   "list pods: engine sent no list");
		goto out;
	}
	rep = berth_malloc(sizeof(*rep));
	berth__v1__list_pods_reply__init(rep);
	if (json_array_size(arr) > 0)
		rep->pods
		    = berth_calloc(json_array_size(arr), sizeof(*rep->pods));
	json_array_foreach(arr, i, p)
	{
		if (json_is_object(p))
			rep->pods[rep->n_pods++] = pod_summary(p);
	}
	*out = rep;
out:
	json_decref(arr);
	json_decref(f);
	free(text);
	free(etext);
	free(path);
	docker_reply_fini(&r);
	return rv;
}

static int podman_pod_inspect(struct berth_engine *e, const char *id,
                              Berth__V1__PodSummary **out,
                              struct berth_err *err)
{
	struct docker_reply r;
	json_t *p = NULL;
	char *eid = NULL, *path = NULL;
	int rv;

	docker_reply_init(&r);
	rv = check_pod_ref("id", id, err);
	if (rv != 0)
		goto out;
	eid = berth_http_escape(id);
	path = berth_asprintf("/pods/%s/json", eid);
	rv = libpod_call(e, "GET", path, NULL, &r, err);
	if (rv != 0)
		goto out;
	if (r.status == 404) {
		rv = berth_err_set(err, BERTH_ENOTFOUND, "pod %.64s not found",
		                   id);
		goto out;
	}
	if (r.status != 200) {
		rv = map_libpod(&r, "inspect pod", err);
		goto out;
	}
	rv = docker_parse_json(&r, &p, "inspect pod", err);
	if (rv != 0)
		goto out;
	*out = pod_summary(p);
out:
	json_decref(p);
	free(path);
	free(eid);
	docker_reply_fini(&r);
	return rv;
}

const struct berth_engine_ops berth_engine_podman_ops = {
	.name = "podman",
	.ping = docker_ping,
	.info = docker_info,
	.image_pull = podman_image_pull,
	.image_exists = docker_image_exists,
	.container_create = podman_container_create,
	.container_start = podman_container_start,
	.container_stop = podman_container_stop,
	.container_restart = podman_container_restart,
	.container_remove = podman_container_remove,
	.container_list = podman_container_list,
	.container_inspect = podman_container_inspect,
	.exec_create = podman_exec_create,
	.exec_start = podman_exec_start,
	.exec_inspect = podman_exec_inspect,
	.logs = podman_logs,
	.wait = podman_wait,
	.archive_put = podman_archive_put,
	.events = podman_events,
	.pod_create = podman_pod_create,
	.pod_start = podman_pod_start,
	.pod_stop = podman_pod_stop,
	.pod_remove = podman_pod_remove,
	.pod_list = podman_pod_list,
	.pod_inspect = podman_pod_inspect,
	.health_probe = podman_health_probe,
};
