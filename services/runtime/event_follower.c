/*
 * event_follower.c: keeps the runtime's state cache in sync with the
 * engine (state_cache.h): one thread that resyncs by list-and-inspect,
 * then follows the engine's event stream, applying what each event says
 * at once, queueing its container for an inspect by a second thread
 * (the refresher: repeats collapse, so a burst of events for one
 * container costs one inspect), and publishing the event for the
 * gateway's SSE clients.
 *
 * The stream is followed from a second before the resync's list began,
 * so nothing that happened between the list and the stream is missed
 * (an event seen twice only refreshes an entry twice). When the stream
 * breaks (engine restart) the cache is marked out of sync at once, so
 * readers go to the engine until the next resync has finished.
 */
#include "services/runtime/events_pub.h"
#include "services/runtime/runtime_internal.h"
#include "services/runtime/state_cache.h"

#include "lib/alloc.h"
#include "lib/clock.h"
#include "lib/log.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000
/* Distinct containers waiting for an inspect; past this, resync. */
#define REFRESH_QUEUE_MAX 65536
/* Events replayed from before a resync's list began. */
#define OVERLAP_MS 1000

struct event_follower {
	struct berth_runtime *rt;
	struct state_cache *cache;
	struct events_pub *pub;
	/* Events before this (unix ns) were replayed for the cache's sake
	 * and were published already: not published again. */
	int64_t publish_from_ns;
	/* The newest event seen (unix ns; follower thread only): a new
	 * stream starts from it, so events while the stream was down are
	 * replayed, applied and published, not lost. */
	int64_t last_event_ns;
	pthread_t thread;
	bool started;
	atomic_bool stopping;

	/* Containers to inspect, without repeats (the refresher's). */
	pthread_t refresher;
	bool refresher_started;
	pthread_mutex_t qmu;
	pthread_cond_t qcond;
	char **q;
	size_t nq, capq;
	bool qstop;
};

void runtime_cache_refresh(struct berth_runtime *rt, const char *id)
{
	struct state_cache *c = runtime_cache(rt);
	Berth__V1__ContainerDetail *d = NULL;
	struct berth_err err;
	uint64_t ticket;
	int rv;

	if (c == NULL || id == NULL || id[0] == '\0')
		return;
	berth_err_clear(&err);
	ticket = state_cache_ticket(c);
	rv = berth_engine_container_inspect(rt->engine, id, &d, &err);
	if (rv == 0)
		state_cache_put(c, ticket, d);
	else if (rv == BERTH_ENOTFOUND && strlen(id) == 64)
		state_cache_drop(c, ticket, id);
}

/* Under f->qmu: queues `id` for inspection unless it already is. */
static bool queue_push(struct event_follower *f, const char *id)
{
	for (size_t i = 0; i < f->nq; i++)
		if (strcmp(f->q[i], id) == 0)
			return true;
	if (f->nq == REFRESH_QUEUE_MAX)
		return false;
	if (f->nq == f->capq) {
		f->capq = f->capq * 2 + 64;
		f->q = berth_realloc(f->q, f->capq * sizeof(*f->q));
	}
	f->q[f->nq++] = berth_strdup(id);
	pthread_cond_signal(&f->qcond);
	return true;
}

static int on_event(void *arg, const struct berth_engine_event *ev)
{
	struct event_follower *f = arg;
	uint64_t ticket;
	bool queued = true;

	if (atomic_load(&f->stopping))
		return 1;
	ticket = state_cache_ticket(f->cache);
	/* What the event says is applied at once; the rest of the detail
	 * follows from an inspect on the refresher thread, so a slow
	 * engine answer never holds up the stream. */
	if (strcmp(ev->action, "destroy") == 0) {
		state_cache_drop(f->cache, ticket, ev->id);
	} else if (state_cache_patch(f->cache, ticket, ev)) {
		pthread_mutex_lock(&f->qmu);
		queued = queue_push(f, ev->id);
		pthread_mutex_unlock(&f->qmu);
	}
	if (strcmp(ev->action, "die") == 0)
		state_cache_note_exit(f->cache, ev->id, ev->name, ev->exit_code,
		                      false);
	if (ev->time_ns >= f->publish_from_ns)
		events_pub_container(f->pub, ev);
	if (ev->time_ns > f->last_event_ns)
		f->last_event_ns = ev->time_ns;
	if (!queued) {
		/* More distinct containers changing than we can inspect:
		 * resync from a fresh list instead. */
		berth_log(BERTH_LOG_INFO, "cache_queue_full", "max=%d",
		          REFRESH_QUEUE_MAX);
		return 1;
	}
	return 0;
}

/* The refresher thread: inspects queued containers one by one. */
static void *refresh_main(void *arg)
{
	struct event_follower *f = arg;

	for (;;) {
		Berth__V1__ContainerDetail *d = NULL;
		struct berth_err err;
		uint64_t ticket;
		char *id;
		int rv;

		pthread_mutex_lock(&f->qmu);
		while (f->nq == 0 && !f->qstop)
			pthread_cond_wait(&f->qcond, &f->qmu);
		if (f->qstop) {
			pthread_mutex_unlock(&f->qmu);
			break;
		}
		id = f->q[0];
		memmove(f->q, f->q + 1, (f->nq - 1) * sizeof(*f->q));
		f->nq--;
		pthread_mutex_unlock(&f->qmu);

		berth_err_clear(&err);
		ticket = state_cache_ticket(f->cache);
		rv = berth_engine_container_inspect(f->rt->engine, id, &d,
		                                    &err);
		if (rv == 0) {
			const Berth__V1__ContainerSummary *s = d->summary;

			if (s->state != NULL && strcmp(s->state, "exited") == 0)
				state_cache_note_exit(f->cache, id, s->name,
				                      d->exit_code,
				                      d->oom_killed);
			state_cache_put(f->cache, ticket, d);
		} else if (rv == BERTH_ENOTFOUND) {
			state_cache_drop(f->cache, ticket, id);
		}
		free(id);
	}
	return NULL;
}

static int on_tick(void *arg)
{
	struct event_follower *f = arg;

	return atomic_load(&f->stopping) ? 1 : 0;
}

/*
 * List everything and replace the cache's contents with the summaries
 * (one engine call, so the cache is in sync at once), then queue every
 * container for the refresher to inspect in the background.
 */
static int resync(struct event_follower *f, struct berth_err *err)
{
	Berth__V1__ListContainersRequest all
	    = BERTH__V1__LIST_CONTAINERS_REQUEST__INIT;
	Berth__V1__ListContainersReply *list = NULL;
	Berth__V1__ContainerDetail **ds = NULL;
	size_t n;
	uint64_t ticket = state_cache_ticket(f->cache);
	int rv;

	all.all = true;
	rv = berth_engine_container_list(f->rt->engine, &all, &list, err);
	if (rv != 0)
		return rv;
	n = list->n_containers;
	if (n > 0)
		ds = berth_calloc(n, sizeof(*ds));
	for (size_t i = 0; i < n; i++) {
		ds[i] = berth_malloc(sizeof(*ds[i]));
		berth__v1__container_detail__init(ds[i]);
		/* The summary moves from the list into the detail. */
		ds[i]->summary = list->containers[i];
		list->containers[i] = NULL;
		ds[i]->running = ds[i]->summary->state != NULL
		    && strcmp(ds[i]->summary->state, "running") == 0;
	}
	list->n_containers = 0;
	protobuf_c_message_free_unpacked(&list->base, NULL);
	pthread_mutex_lock(&f->qmu);
	for (size_t i = 0; i < n; i++)
		(void)queue_push(f, ds[i]->summary->id);
	pthread_mutex_unlock(&f->qmu);
	state_cache_replace_all(f->cache, ticket, ds, n, true);
	return 0;
}

/* Sleeps `ms`, waking early when stopping. */
static void nap(struct event_follower *f, int ms)
{
	for (int left = ms; left > 0 && !atomic_load(&f->stopping); left -= 50)
		berth_sleep_ms(left < 50 ? left : 50);
}

static void *follow_main(void *arg)
{
	struct event_follower *f = arg;
	int backoff = BACKOFF_MIN_MS;
	bool logged_down = false;

	while (!atomic_load(&f->stopping)) {
		struct berth_err err;
		int64_t now_ms = berth_clock_unix_ms();
		int64_t since = now_ms - OVERLAP_MS;
		int rv;

		/* Published at most once: what came up to the last event
		 * seen went out on the previous stream; what happened
		 * while it was down is replayed from there. At the first
		 * start, only what happens from now on is published. */
		if (f->last_event_ns > 0) {
			int64_t last_ms = f->last_event_ns / 1000000LL;

			if (last_ms < since)
				since = last_ms;
			f->publish_from_ns = f->last_event_ns + 1;
		} else {
			f->publish_from_ns = now_ms * 1000000LL;
		}
		berth_err_clear(&err);
		rv = resync(f, &err);
		if (rv != 0) {
			if (!logged_down && rv != BERTH_ECANCELLED)
				berth_log(BERTH_LOG_INFO, "cache_resync_failed",
				          "code=%s msg=\"%s\"",
				          berth_code_name(rv), err.msg);
			logged_down = true;
			nap(f, backoff);
			backoff = backoff * 2 < BACKOFF_MAX_MS ? backoff * 2
			                                       : BACKOFF_MAX_MS;
			continue;
		}
		berth_log(BERTH_LOG_DEBUG, "cache_in_sync", "since_ms=%lld",
		          (long long)since);
		logged_down = false;
		backoff = BACKOFF_MIN_MS;
		berth_err_clear(&err);
		rv = berth_engine_ops(f->rt->engine)
		         ->events(f->rt->engine, since, on_event, on_tick, f,
		                  &err);
		state_cache_lost(f->cache);
		if (atomic_load(&f->stopping))
			break;
		berth_log(BERTH_LOG_INFO, "cache_stream_lost",
		          "code=%s msg=\"%s\"", berth_code_name(rv), err.msg);
		nap(f, backoff);
	}
	return NULL;
}

int event_follower_start(struct event_follower **out, struct berth_runtime *rt,
                         struct state_cache *c, struct events_pub *pub,
                         struct berth_err *err)
{
	struct event_follower *f = berth_calloc(1, sizeof(*f));
	int rv;

	f->rt = rt;
	f->cache = c;
	f->pub = pub;
	atomic_init(&f->stopping, false);
	pthread_mutex_init(&f->qmu, NULL);
	pthread_cond_init(&f->qcond, NULL);
	rv = pthread_create(&f->refresher, NULL, refresh_main, f);
	if (rv == 0) {
		f->refresher_started = true;
		rv = pthread_create(&f->thread, NULL, follow_main, f);
	}
	if (rv != 0) {
		event_follower_stop(f);
		return berth_err_set(err, BERTH_EINTERNAL,
		                     "cannot start the event follower: %s",
		                     strerror(rv));
	}
	f->started = true;
	*out = f;
	return 0;
}

void event_follower_stop(struct event_follower *f)
{
	if (f == NULL)
		return;
	atomic_store(&f->stopping, true);
	if (f->started)
		pthread_join(f->thread, NULL);
	pthread_mutex_lock(&f->qmu);
	f->qstop = true;
	pthread_cond_broadcast(&f->qcond);
	pthread_mutex_unlock(&f->qmu);
	if (f->refresher_started)
		pthread_join(f->refresher, NULL);
	for (size_t i = 0; i < f->nq; i++)
		free(f->q[i]);
	free(f->q);
	pthread_cond_destroy(&f->qcond);
	pthread_mutex_destroy(&f->qmu);
	free(f);
}
