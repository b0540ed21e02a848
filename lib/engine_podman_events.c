/*
 * engine_podman_events.c: the Podman driver's event source: Podman's
 * own event file when it can be followed, the compatible /events
 * stream otherwise (why and when: engine_podman_events.h).
 *
 * One loop: read what the file gained, tick the caller every 250 ms,
 * ping the engine every second, then sleep until inotify reports a
 * change or 250 ms pass (50 ms without inotify). GET /libpod/info runs
 * meanwhile on a thread of its own, joined before the op returns.
 */
#include "lib/engine_podman_events.h"

#include "lib/alloc.h"
#include "lib/clock.h"
#include "lib/engine_docker_internal.h"
#include "lib/engine_podman_events_conf.h"
#include "lib/engine_podman_events_file.h"
#include "lib/engine_podman_events_line.h"
#include "lib/log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define LIBPOD "/v4.0.0/libpod"

#define TICK_MS           250
#define PING_MS           1000
#define PING_TIMEOUT_MS   2000
#define INFO_TIMEOUT_MS   5000
#define WAIT_MS           250 /* with inotify: the fallback timer */
#define WAIT_NO_NOTIFY_MS 50

/* GET /libpod/info, run on its own thread. */
struct probe {
	struct berth_engine *e;
	bool env_path; /* the file was named outright: rootless or not */
	pthread_t thread;
	atomic_bool done;
	/* Set before `done`: */
	int rv;
	bool use_file;
	char logger[32];
	struct berth_err err;
};

static void *probe_main(void *arg)
{
	struct probe *p = arg;
	struct docker_reply r;
	json_t *j = NULL, *host;
	const char *logger;

	docker_reply_init(&r);
	p->rv = docker_call_at(p->e, LIBPOD, "GET", "/info", NULL,
	                       INFO_TIMEOUT_MS, &r, &p->err);
	if (p->rv == 0)
		p->rv = docker_parse_json(&r, &j, "Podman info", &p->err);
	if (p->rv == 0) {
		host = json_object_get(j, "host");
		logger
		    = json_string_value(json_object_get(host, "eventLogger"));
		snprintf(p->logger, sizeof(p->logger), "%s",
		         logger != NULL ? logger : "?");
		p->use_file = logger != NULL && strcmp(logger, "file") == 0;
		/* A rootless Podman keeps its file under its user's runtime
		 * folder, not where root's default points. */
		if (!p->env_path
		    && json_is_true(json_object_get(
		        json_object_get(host, "security"), "rootless"))) {
			p->use_file = false;
			snprintf(p->logger, sizeof(p->logger), "file-rootless");
		}
	}
	json_decref(j);
	docker_reply_fini(&r);
	atomic_store(&p->done, true);
	return NULL;
}

/* The engine answers its ping within PING_TIMEOUT_MS. */
static int ping(struct berth_engine *e, struct berth_err *err)
{
	struct docker_reply r;
	int rv;

	docker_reply_init(&r);
	rv = docker_call(e, "GET", "/_ping", NULL, PING_TIMEOUT_MS, &r, err);
	if (rv == 0 && r.status != 200)
		rv = berth_err_set_retryable(err, BERTH_EUNAVAIL,
		                             "engine ping answered %ld: %s",
		                             r.status, r.msg);
	docker_reply_fini(&r);
	return rv;
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
 * or the probe says the file is not Podman's log (*fallback). */
static int follow_file(struct berth_engine *e, struct podman_evfile *f,
                       const char *path, struct probe *pr,
                       berth_engine_tick_fn tick, struct follow *fl,
                       bool *fallback, struct berth_err *err)
{
	int64_t last_tick = berth_clock_mono_ms();
	int64_t last_ping = last_tick;
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
		if (!probed && atomic_load(&pr->done)) {
			probed = true;
			if (pr->rv != 0) {
				if (err != NULL)
					*err = pr->err;
				return pr->rv;
			}
			if (!pr->use_file) {
				*fallback = true;
				return 0;
			}
			berth_log(BERTH_LOG_DEBUG, "podman_events_source",
			          "source=file path=%s", path);
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
		if (now - last_ping >= PING_MS) {
			last_ping = now;
			rv = ping(e, err);
			if (rv != 0)
				return rv;
		}
		podman_evfile_wait(f, wait_ms);
	}
}

int podman_events(struct berth_engine *e, int64_t since_unix_ms,
                  berth_engine_event_fn fn, berth_engine_tick_fn tick,
                  void *arg, struct berth_err *err)
{
	struct podman_evfile *f = NULL;
	struct probe pr;
	struct follow fl;
	struct berth_err ferr;
	const char *source = NULL;
	char *path = NULL;
	bool fallback = false, started = false;
	/* The compatible stream, if it takes over, starts where the file
	 * did, so nothing between the two is lost. */
	int64_t from_ms
	    = since_unix_ms > 0 ? since_unix_ms : berth_clock_unix_ms();
	int rv;

	memset(&pr, 0, sizeof(pr));
	memset(&fl, 0, sizeof(fl));
	berth_err_clear(&ferr);
	if (berth_engine_socket_path(e) == NULL) {
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

	pr.e = e;
	pr.env_path = strcmp(source, "env") == 0;
	atomic_init(&pr.done, false);
	berth_err_clear(&pr.err);
	rv = pthread_create(&pr.thread, NULL, probe_main, &pr);
	if (rv != 0) {
		rv = berth_err_set(err, BERTH_EINTERNAL,
		                   "cannot start the Podman info probe: %s",
		                   strerror(rv));
		goto out;
	}
	started = true;
	fl.fn = fn;
	fl.arg = arg;
	fl.pe = berth_malloc(sizeof(*fl.pe));
	rv = follow_file(e, f, path, &pr, tick, &fl, &fallback, err);
	pthread_join(pr.thread, NULL);
	started = false;
	if (fallback) {
		berth_log(BERTH_LOG_DEBUG, "podman_events_source",
		          "source=stream reason=events_logger logger=%s",
		          pr.logger);
		podman_evfile_free(f);
		f = NULL;
		rv = docker_events(e, from_ms, fn, tick, arg, err);
	}
out:
	if (started)
		pthread_join(pr.thread, NULL);
	podman_evfile_free(f);
	free(fl.pe);
	free(path);
	return rv;
}
