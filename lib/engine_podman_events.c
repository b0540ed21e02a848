/*
 * engine_podman_events.c: the Podman driver's event source: Podman's
 * own event file when it can be followed, the compatible /events
 * stream otherwise (why and when: engine_podman_events.h).
 *
 * One loop reads what the file gained, ticks the caller every 250 ms,
 * then sleeps until inotify reports a change or 250 ms pass (50 ms
 * without inotify). A watcher thread asks GET /libpod/info once, then
 * pings the engine every second; it is joined before the op returns,
 * within about a second of the stop (its engine calls tick).
 */
#include "lib/engine_podman_events.h"

#include "lib/alloc.h"
#include "lib/clock.h"
#include "lib/engine_docker_internal.h"
#include "lib/engine_http.h"
#include "lib/engine_podman_events_conf.h"
#include "lib/engine_podman_events_file.h"
#include "lib/engine_podman_events_line.h"
#include "lib/log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LIBPOD "/v4.0.0/libpod"

#define TICK_MS           250
#define PING_MS           1000
#define PING_TIMEOUT_MS   5000
#define INFO_TIMEOUT_MS   5000
#define WAIT_MS           250 /* with inotify: the fallback timer */
#define WAIT_NO_NOTIFY_MS 50

/*
 * The watcher thread: asks GET /libpod/info once, then pings the engine
 * every second until told to stop. Engine calls are kept off the loop
 * that reads the file, so a slow answer from a busy engine never delays
 * an event.
 */
struct watcher {
	struct berth_engine *e;
	bool env_path; /* the file was named outright: rootless or not */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond; /* on CLOCK_MONOTONIC */
	atomic_bool stop;    /* set under mu (for cond); read anywhere */
	atomic_bool probed;  /* the fields below `probed` are set */
	atomic_bool gone;    /* a ping failed: `gone_err` is set */
	int rv;
	bool use_file;
	char logger[32];
	struct berth_err err;
	struct berth_err gone_err;
};

/* One engine call of the watcher (the chunk and tick share one arg). */
struct watch_call {
	struct watcher *w;
	struct berth_buf *body;
};

/* Ends the watcher's engine call under way (at its next tick, about a
 * second) once the watcher is told to stop. */
static int watch_tick(void *arg)
{
	struct watch_call *c = arg;

	return atomic_load(&c->w->stop) ? BERTH_ECANCELLED : 0;
}

static int watch_chunk(void *arg, const char *data, size_t len)
{
	struct watch_call *c = arg;

	return berth_buf_append(c->body, data, len) != 0 ? BERTH_ELIMIT : 0;
}

/*
 * GET `prefix``path` within `timeout_ms` into `r`, as docker_call_at()
 * would, but abandoned when the watcher is told to stop: a hung engine
 * must not hold podman_events() for a whole timeout after its caller
 * said stop.
 */
static int watch_get(struct watcher *w, const char *prefix, const char *path,
                     long timeout_ms, struct docker_reply *r,
                     struct berth_err *err)
{
	struct berth_http_req req = { 0 };
	struct berth_http_stream_limits limits
	    = { .total_ms = timeout_ms, .tick = watch_tick };
	struct watch_call c = { .w = w, .body = &r->body };
	struct berth_buf errbody;
	char *full = berth_asprintf("%s%s", prefix, path);
	int rv;

	berth_buf_init(&errbody, BERTH_HTTP_ERRBODY_MAX);
	req.method = "GET";
	req.path = full;
	rv = berth_http_stream(berth_engine_http_target(w->e), &req, &limits,
	                       watch_chunk, &c, &r->status, &errbody, err);
	if (rv == BERTH_ELIMIT)
		rv = berth_err_set(err, BERTH_EINTERNAL,
		                   "engine reply to GET %s is too long", path);
	else if (rv == BERTH_ECANCELLED)
		rv = berth_err_set(err, BERTH_ECANCELLED,
		                   "engine call abandoned: the event stream "
		                   "stopped");
	if (rv == 0 && (r->status < 200 || r->status >= 300))
		berth_http_engine_message(errbody.data, errbody.len, r->msg,
		                          sizeof(r->msg));
	berth_buf_fini(&errbody);
	free(full);
	return rv;
}

static void probe(struct watcher *w)
{
	struct docker_reply r;
	json_t *j = NULL, *host;
	const char *logger;

	docker_reply_init(&r);
	w->rv = watch_get(w, LIBPOD, "/info", INFO_TIMEOUT_MS, &r, &w->err);
	if (w->rv == 0)
		w->rv = docker_parse_json(&r, &j, "Podman info", &w->err);
	if (w->rv == 0) {
		host = json_object_get(j, "host");
		logger
		    = json_string_value(json_object_get(host, "eventLogger"));
		snprintf(w->logger, sizeof(w->logger), "%s",
		         logger != NULL ? logger : "?");
		w->use_file = logger != NULL && strcmp(logger, "file") == 0;
		/* A rootless Podman keeps its file under its user's runtime
		 * folder, not where root's default points. */
		if (!w->env_path
		    && json_is_true(json_object_get(
		        json_object_get(host, "security"), "rootless"))) {
			w->use_file = false;
			snprintf(w->logger, sizeof(w->logger), "file-rootless");
		}
	}
	json_decref(j);
	docker_reply_fini(&r);
	atomic_store(&w->probed, true);
}

/* The engine answers its ping within PING_TIMEOUT_MS. */
static int ping(struct watcher *w, struct berth_err *err)
{
	struct docker_reply r;
	int rv;

	docker_reply_init(&r);
	rv = watch_get(w, API, "/_ping", PING_TIMEOUT_MS, &r, err);
	if (rv == 0 && r.status != 200)
		rv = berth_err_set_retryable(err, BERTH_EUNAVAIL,
		                             "engine ping answered %ld: %s",
		                             r.status, r.msg);
	docker_reply_fini(&r);
	return rv;
}

static void *watch_main(void *arg)
{
	struct watcher *w = arg;

	probe(w);
	for (;;) {
		struct timespec ts;
		bool stop;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += PING_MS / 1000;
		pthread_mutex_lock(&w->mu);
		while (!atomic_load(&w->stop)
		       && pthread_cond_timedwait(&w->cond, &w->mu, &ts) == 0)
			;
		stop = atomic_load(&w->stop);
		pthread_mutex_unlock(&w->mu);
		if (stop)
			break;
		if (ping(w, &w->gone_err) != 0) {
			atomic_store(&w->gone, true);
			break;
		}
	}
	return NULL;
}

static int watcher_start(struct watcher *w, struct berth_engine *e,
                         bool env_path, struct berth_err *err)
{
	pthread_condattr_t ca;
	int rv;

	memset(w, 0, sizeof(*w));
	w->e = e;
	w->env_path = env_path;
	atomic_init(&w->stop, false);
	atomic_init(&w->probed, false);
	atomic_init(&w->gone, false);
	berth_err_clear(&w->err);
	berth_err_clear(&w->gone_err);
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &ca);
	pthread_condattr_destroy(&ca);
	rv = pthread_create(&w->thread, NULL, watch_main, w);
	if (rv != 0) {
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->mu);
		return berth_err_set(
		    err, BERTH_EINTERNAL,
		    "cannot start the Podman event watcher: %s", strerror(rv));
	}
	return 0;
}

/* Stops and joins the thread: an engine call under way is abandoned at
 * its next tick (about a second). */
static void watcher_stop(struct watcher *w)
{
	pthread_mutex_lock(&w->mu);
	atomic_store(&w->stop, true);
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->mu);
}

struct follow {
	berth_engine_event_fn fn;
	void *arg;
	struct podman_event *pe;
	bool stopped; /* fn said stop */
};

static int on_line(void *arg, const json_t *j, int64_t time_ns)
{
	struct follow *fl = arg;

	if (!podman_event_map(fl->pe, j, time_ns))
		return 0;
	if (fl->fn(fl->arg, &fl->pe->ev) != 0) {
		fl->stopped = true;
		return BERTH_ECANCELLED;
	}
	return 0;
}

/* Follows the open file `f` until told to stop, the engine goes away,
 * or the watcher says the file is not Podman's log (*fallback). */
static int follow_file(struct podman_evfile *f, const char *path,
                       struct watcher *w, berth_engine_tick_fn tick,
                       struct follow *fl, bool *fallback, struct berth_err *err)
{
	int64_t last_tick = berth_clock_mono_ms();
	int wait_ms
	    = podman_evfile_has_inotify(f) ? WAIT_MS : WAIT_NO_NOTIFY_MS;
	bool probed = false;
	int rv;

	for (;;) {
		int64_t now;

		rv = podman_evfile_read(f, on_line, fl, err);
		if (fl->stopped)
			return berth_err_set(
			    err, BERTH_ECANCELLED,
			    "event stream stopped by the caller");
		if (rv != 0)
			return rv;
		if (!probed && atomic_load(&w->probed)) {
			probed = true;
			if (w->rv != 0) {
				if (err != NULL)
					*err = w->err;
				return w->rv;
			}
			if (!w->use_file) {
				*fallback = true;
				return 0;
			}
			berth_log(BERTH_LOG_DEBUG, "podman_events_source",
			          "source=file path=%s", path);
		}
		if (atomic_load(&w->gone)) {
			if (err != NULL)
				*err = w->gone_err;
			return w->gone_err.code != 0 ? w->gone_err.code
			                             : BERTH_EUNAVAIL;
		}
		now = berth_clock_mono_ms();
		if (now - last_tick >= TICK_MS) {
			last_tick = now;
			if (tick != NULL && tick(fl->arg) != 0)
				return berth_err_set(
				    err, BERTH_ECANCELLED,
				    "event stream stopped by the "
				    "caller");
		}
		podman_evfile_wait(f, wait_ms);
	}
}

int podman_events(struct berth_engine *e, int64_t since_unix_ms,
                  berth_engine_event_fn fn, berth_engine_tick_fn tick,
                  void *arg, struct berth_err *err)
{
	struct podman_evfile *f = NULL;
	struct watcher w;
	struct follow fl;
	struct berth_err ferr;
	const char *source = NULL;
	char *path = NULL;
	bool fallback = false;
	/* The compatible stream, if it takes over, starts where the file
	 * did, so nothing between the two is lost. */
	int64_t from_ms
	    = since_unix_ms > 0 ? since_unix_ms : berth_clock_unix_ms();
	int rv;

	memset(&fl, 0, sizeof(fl));
	berth_err_clear(&ferr);
	/* A tcp engine's file is on another host. */
	if (berth_engine_http_target(e)->socket_path == NULL) {
		berth_log(BERTH_LOG_DEBUG, "podman_events_source",
		          "source=stream reason=remote_engine");
		return docker_events(e, since_unix_ms, fn, tick, arg, err);
	}
	podman_events_file_locate(&path, &source);
	rv = podman_evfile_open(&f, path, since_unix_ms, &ferr);
	if (rv != 0) {
		berth_log(BERTH_LOG_DEBUG, "podman_events_source",
		          "source=stream reason=file_unusable path=%s "
		          "msg=\"%s\"",
		          path, ferr.msg);
		free(path);
		return docker_events(e, since_unix_ms, fn, tick, arg, err);
	}
	rv = watcher_start(&w, e, strcmp(source, "env") == 0, err);
	if (rv != 0)
		goto out;
	fl.fn = fn;
	fl.arg = arg;
	fl.pe = berth_malloc(sizeof(*fl.pe));
	rv = follow_file(f, path, &w, tick, &fl, &fallback, err);
	watcher_stop(&w);
	if (fallback) {
		berth_log(BERTH_LOG_DEBUG, "podman_events_source",
		          "source=stream reason=events_logger logger=%s",
		          w.logger);
		podman_evfile_free(f);
		f = NULL;
		rv = docker_events(e, from_ms, fn, tick, arg, err);
	}
out:
	podman_evfile_free(f);
	free(fl.pe);
	free(path);
	return rv;
}
