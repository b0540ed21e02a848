/*
 * health_driver.c: the runtime runs containers' health probes where the
 * engine will not (Podman without systemd; health_driver.h says why and
 * on what schedule).
 *
 * Three parts: the mode decision, the schedule (a flat array of
 * containers with their next due time; a runtime holds hundreds, not
 * millions), and the threads: one scheduler that syncs the schedule
 * with the state cache every tick and queues what is due, and
 * HEALTH_WORKERS workers that run the probes. No lock is held across an
 * engine call or across a call into the cache.
 */
#include "services/runtime/health_driver.h"

#include "services/runtime/runtime_internal.h"

#include "lib/alloc.h"
#include "lib/clock.h"
#include "lib/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* --- mode ---------------------------------------------------------------- */

int health_driver_mode_parse(enum health_driver_mode *out, const char *s,
                             struct berth_err *err)
{
	if (s == NULL || s[0] == '\0' || strcmp(s, "auto") == 0)
		*out = HEALTH_DRIVER_AUTO;
	else if (strcmp(s, "on") == 0)
		*out = HEALTH_DRIVER_ON;
	else if (strcmp(s, "off") == 0)
		*out = HEALTH_DRIVER_OFF;
	else
		return berth_err_set(err, BERTH_EINVAL,
		                     "runtime.health_driver: must be \"auto\", "
		                     "\"on\" or \"off\"");
	return 0;
}

bool health_driver_wanted(enum health_driver_mode mode,
                          const struct berth_engine_ops *ops,
                          bool host_has_systemd)
{
	if (ops == NULL || ops->health_probe == NULL)
		return false;
	switch (mode) {
	case HEALTH_DRIVER_ON: return true;
	case HEALTH_DRIVER_OFF: return false;
	case HEALTH_DRIVER_AUTO: return !host_has_systemd;
	}
	return false;
}

/* systemd's own test for "booted with systemd" (sd_booted()). */
static bool host_has_systemd(void)
{
	struct stat st;

	return lstat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

/* --- schedule ------------------------------------------------------------ */

struct slot {
	char *id;
	char *started_at;
	char *status;
	int64_t interval_ms;
	int64_t timeout_ms;
	int64_t due_ms; /* monotonic */
	bool busy;      /* a probe is under way */
	bool seen;      /* in the latest sync */
};

struct health_sched {
	struct slot *v;
	size_t n, cap;
};

void health_probe_job_fini(struct health_probe_job *j)
{
	if (j == NULL)
		return;
	free(j->id);
	free(j->status);
	j->id = NULL;
	j->status = NULL;
}

struct health_sched *health_sched_new(void)
{
	return berth_calloc(1, sizeof(struct health_sched));
}

static void slot_fini(struct slot *sl)
{
	free(sl->id);
	free(sl->started_at);
	free(sl->status);
}

void health_sched_free(struct health_sched *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		slot_fini(&s->v[i]);
	free(s->v);
	free(s);
}

static int64_t or_default(int64_t v, int64_t def)
{
	return v > 0 ? v : def;
}

/*
 * RFC 3339 ("2026-11-24T01:24:47.673151412Z", or with an offset) to
 * unix ms; -1 when it does not parse or is Docker's zero time
 * ("0001-01-01T00:00:00Z": never started).
 */
static int64_t rfc3339_ms(const char *s)
{
	struct tm tm;
	const char *p;
	int64_t t, ms = 0, scale = 100;

	if (s == NULL || s[0] == '\0')
		return -1;
	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (p == NULL || tm.tm_year < 70)
		return -1;
	t = (int64_t)timegm(&tm) * 1000;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			ms += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if ((*p == '+' || *p == '-') && strlen(p) >= 6) {
		int64_t off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600000LL
		    + ((p[4] - '0') * 10 + (p[5] - '0')) * 60000LL;

		t = *p == '+' ? t - off : t + off;
	}
	return t + ms;
}

/* When a container that started at `started_at` is first due. */
static int64_t first_due(const char *started_at, int64_t interval,
                         int64_t now_mono, int64_t now_unix)
{
	int64_t started = rfc3339_ms(started_at), wait;

	if (started < 0)
		return now_mono + interval;
	wait = started + interval - now_unix;
	if (wait < 0)
		wait = 0;
	if (wait > interval) /* a clock step: never later than that */
		wait = interval;
	return now_mono + wait;
}

static struct slot *find_slot(struct health_sched *s, const char *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].id, id) == 0)
			return &s->v[i];
	return NULL;
}

static void replace(char **field, const char *v)
{
	char *c = berth_strdup(v != NULL ? v : "");

	free(*field);
	*field = c;
}

void health_sched_sync(struct health_sched *s,
                       const struct state_cache_health *v, size_t n,
                       int64_t now_mono_ms, int64_t now_unix_ms)
{
	size_t k = 0;

	for (size_t i = 0; i < s->n; i++)
		s->v[i].seen = false;
	for (size_t i = 0; i < n; i++) {
		struct slot *sl = find_slot(s, v[i].id);
		int64_t interval
		    = or_default(v[i].interval_ms, HEALTH_DEFAULT_INTERVAL_MS);

		if (sl == NULL) {
			if (s->n >= HEALTH_CONTAINERS_MAX)
				continue;
			if (s->n == s->cap) {
				s->cap = s->cap == 0 ? 16 : s->cap * 2;
				s->v = berth_realloc(s->v,
				                     s->cap * sizeof(*s->v));
			}
			sl = &s->v[s->n++];
			memset(sl, 0, sizeof(*sl));
			sl->id = berth_strdup(v[i].id);
			sl->started_at = berth_strdup(v[i].started_at);
			sl->due_ms = first_due(v[i].started_at, interval,
			                       now_mono_ms, now_unix_ms);
		} else if (strcmp(sl->started_at,
		                  v[i].started_at != NULL ? v[i].started_at
		                                          : "")
		           != 0) {
			/* Restarted: its schedule starts over. */
			replace(&sl->started_at, v[i].started_at);
			sl->due_ms = first_due(v[i].started_at, interval,
			                       now_mono_ms, now_unix_ms);
		} else if (interval < sl->interval_ms
		           && sl->due_ms > now_mono_ms + interval) {
			sl->due_ms = now_mono_ms + interval;
		}
		replace(&sl->status, v[i].status);
		sl->interval_ms = interval;
		sl->timeout_ms
		    = or_default(v[i].timeout_ms, HEALTH_DEFAULT_TIMEOUT_MS);
		sl->seen = true;
	}
	/* Forget what is gone, unless its probe is still under way
	 * (health_sched_done() finds it then). */
	for (size_t i = 0; i < s->n; i++) {
		if (!s->v[i].seen && !s->v[i].busy) {
			slot_fini(&s->v[i]);
			continue;
		}
		s->v[k++] = s->v[i];
	}
	s->n = k;
}

size_t health_sched_take(struct health_sched *s, int64_t now_mono_ms,
                         struct health_probe_job *out, size_t max)
{
	size_t k = 0;

	/* Selection of the most overdue, `max` times: `max` is small. */
	while (k < max) {
		struct slot *best = NULL;

		for (size_t i = 0; i < s->n; i++) {
			struct slot *sl = &s->v[i];

			if (sl->busy || !sl->seen || sl->due_ms > now_mono_ms)
				continue;
			if (best == NULL || sl->due_ms < best->due_ms)
				best = sl;
		}
		if (best == NULL)
			break;
		best->busy = true;
		out[k].id = berth_strdup(best->id);
		out[k].status = berth_strdup(best->status);
		out[k].timeout_ms = best->timeout_ms;
		k++;
	}
	return k;
}

void health_sched_done(struct health_sched *s, const char *id,
                       int64_t now_mono_ms)
{
	struct slot *sl = find_slot(s, id);

	if (sl == NULL)
		return;
	sl->busy = false;
	sl->due_ms = now_mono_ms + sl->interval_ms;
	if (!sl->seen) { /* gone while it was probed */
		slot_fini(sl);
		*sl = s->v[--s->n];
	}
}

int64_t health_sched_next_in(const struct health_sched *s, int64_t now_mono_ms)
{
	int64_t best = -1;

	for (size_t i = 0; i < s->n; i++) {
		const struct slot *sl = &s->v[i];
		int64_t in;

		if (sl->busy || !sl->seen)
			continue;
		in = sl->due_ms > now_mono_ms ? sl->due_ms - now_mono_ms : 0;
		if (best < 0 || in < best)
			best = in;
	}
	return best;
}

size_t health_sched_count(const struct health_sched *s)
{
	return s->n;
}

/* --- threads ------------------------------------------------------------- */

struct health_driver {
	struct berth_runtime *rt;
	struct state_cache *cache;
	pthread_mutex_t mu;
	pthread_cond_t wake; /* the scheduler: stop */
	pthread_cond_t work; /* the workers: a job, or stop */
	atomic_bool stopping;
	struct health_sched *sched;                      /* under mu */
	struct health_probe_job queue[HEALTH_QUEUE_MAX]; /* under mu */
	size_t qhead, qlen;
	pthread_t scheduler;
	bool scheduler_started;
	pthread_t workers[HEALTH_WORKERS];
	size_t nworkers;
};

/* A probe under way gives up when the runtime stops. */
static int probe_tick(void *arg)
{
	struct health_driver *d = arg;

	return atomic_load(&d->stopping) ? 1 : 0;
}

/* Waits on `cv` for at most `ms` (cv uses the monotonic clock). */
static void timed_wait(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	(void)pthread_cond_timedwait(cv, mu, &ts);
}

static void *scheduler_main(void *arg)
{
	struct health_driver *d = arg;

	pthread_mutex_lock(&d->mu);
	while (!atomic_load(&d->stopping)) {
		struct state_cache_health *v = NULL;
		struct health_probe_job jobs[HEALTH_TICK_MAX];
		size_t n = 0, k, room;
		int64_t next, now;

		/* The cache has its own lock: not taken under ours. */
		pthread_mutex_unlock(&d->mu);
		state_cache_health_checked(d->cache, HEALTH_CONTAINERS_MAX, &v,
		                           &n);
		pthread_mutex_lock(&d->mu);
		now = berth_clock_mono_ms();
		health_sched_sync(d->sched, v, n, now, berth_clock_unix_ms());
		state_cache_health_free(v, n);
		room = HEALTH_QUEUE_MAX - d->qlen;
		k = health_sched_take(d->sched, now, jobs,
		                      room < HEALTH_TICK_MAX ? room
		                                             : HEALTH_TICK_MAX);
		for (size_t i = 0; i < k; i++) {
			d->queue[(d->qhead + d->qlen) % HEALTH_QUEUE_MAX]
			    = jobs[i];
			d->qlen++;
		}
		if (k > 0)
			pthread_cond_broadcast(&d->work);
		next = health_sched_next_in(d->sched, now);
		if (next < 0 || next > HEALTH_TICK_MS)
			next = HEALTH_TICK_MS;
		if (next < 10)
			next = 10; /* due now but the queue is full */
		if (!atomic_load(&d->stopping))
			timed_wait(&d->wake, &d->mu, next);
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

/* Runs one probe; the cache learns a changed status at once (the
 * engine's event for it may come late or, on Podman, not at all). */
static void run_probe(struct health_driver *d, const struct health_probe_job *j)
{
	const struct berth_engine_ops *ops = berth_engine_ops(d->rt->engine);
	struct berth_err err;
	char *status = NULL;
	int rv;

	berth_err_clear(&err);
	rv = ops->health_probe(d->rt->engine, j->id, (int)j->timeout_ms,
	                       probe_tick, d, &status, &err);
	if (rv == 0) {
		if (strcmp(status, j->status) != 0)
			runtime_cache_refresh(d->rt, j->id);
		free(status);
		return;
	}
	/* Stopped or removed since the cache said so: the event stream
	 * corrects the cache; nothing for a person to act on. */
	berth_log(BERTH_LOG_DEBUG, "health_probe_failed",
	          "container=%.64s code=%d msg=\"%s\"", j->id, rv, err.msg);
	if (rv == BERTH_EPRECOND || rv == BERTH_ENOTFOUND)
		runtime_cache_refresh(d->rt, j->id);
}

static void *worker_main(void *arg)
{
	struct health_driver *d = arg;

	pthread_mutex_lock(&d->mu);
	for (;;) {
		struct health_probe_job j;

		while (!atomic_load(&d->stopping) && d->qlen == 0)
			pthread_cond_wait(&d->work, &d->mu);
		if (atomic_load(&d->stopping))
			break;
		j = d->queue[d->qhead];
		d->qhead = (d->qhead + 1) % HEALTH_QUEUE_MAX;
		d->qlen--;
		pthread_mutex_unlock(&d->mu);
		run_probe(d, &j);
		pthread_mutex_lock(&d->mu);
		health_sched_done(d->sched, j.id, berth_clock_mono_ms());
		health_probe_job_fini(&j);
		pthread_cond_signal(&d->wake); /* a place in the queue */
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

int health_driver_start(struct health_driver **out, struct berth_runtime *rt,
                        struct state_cache *c, enum health_driver_mode mode,
                        struct berth_err *err)
{
	struct health_driver *d;
	pthread_condattr_t ca;
	const struct berth_engine_ops *ops = berth_engine_ops(rt->engine);

	if (!health_driver_wanted(
	        mode, ops, mode == HEALTH_DRIVER_AUTO && host_has_systemd())) {
		*out = NULL;
		return 0;
	}
	d = berth_calloc(1, sizeof(*d));
	d->rt = rt;
	d->cache = c;
	d->sched = health_sched_new();
	atomic_init(&d->stopping, false);
	pthread_mutex_init(&d->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->wake, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&d->work, NULL);
	for (size_t i = 0; i < HEALTH_WORKERS; i++) {
		if (pthread_create(&d->workers[i], NULL, worker_main, d) != 0)
			goto fail;
		d->nworkers++;
	}
	if (pthread_create(&d->scheduler, NULL, scheduler_main, d) != 0)
		goto fail;
	d->scheduler_started = true;
	berth_log(BERTH_LOG_INFO, "health_driver_started",
	          "engine=%s reason=\"the engine runs no probes here\"",
	          ops->name);
	*out = d;
	return 0;
fail:
	health_driver_stop(d);
	return berth_err_set(err, BERTH_EINTERNAL,
	                     "cannot start the health probe threads");
}

void health_driver_stop(struct health_driver *d)
{
	if (d == NULL)
		return;
	pthread_mutex_lock(&d->mu);
	atomic_store(&d->stopping, true);
	pthread_cond_broadcast(&d->wake);
	pthread_cond_broadcast(&d->work);
	pthread_mutex_unlock(&d->mu);
	if (d->scheduler_started)
		pthread_join(d->scheduler, NULL);
	for (size_t i = 0; i < d->nworkers; i++)
		pthread_join(d->workers[i], NULL);
	for (size_t i = 0; i < d->qlen; i++)
		health_probe_job_fini(
		    &d->queue[(d->qhead + i) % HEALTH_QUEUE_MAX]);
	health_sched_free(d->sched);
	pthread_cond_destroy(&d->work);
	pthread_cond_destroy(&d->wake);
	pthread_mutex_destroy(&d->mu);
	free(d);
}
