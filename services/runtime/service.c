/*
 * service.c: starts and stops the runtime service: its store, its engine
 * driver, its event publisher, its pull runner, the state cache's
 * follower, the health driver (probes the engine will not run) and its
 * RPC server, in that order, and takes them down in reverse.
 */
#include "services/runtime/events_pub.h"
#include "services/runtime/exec_deadlines.h"
#include "services/runtime/health_driver.h"
#include "services/runtime/runtime.h"
#include "services/runtime/runtime_internal.h"
#include "services/runtime/scratch.h"
#include "services/runtime/state_cache.h"

#include "lib/alloc.h"
#include "lib/clock.h"
#include "lib/log.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* RPC workers: long polls hold one each while they wait. */
#define RUNTIME_WORKERS 64
/* Largest request: a PutArchive tar (64 MiB) plus its envelope. */
#define RUNTIME_MAX_MSG (80u * 1024u * 1024u)

/*
 * The runtime with the parts this file adds to the shared struct: the
 * shared one comes first, so a handler's `rt` is also this.
 */
struct runtime_full {
	struct berth_runtime rt;
	struct state_cache *cache;
	struct events_pub *pub;
	struct event_follower *follower;
	struct health_driver *health; /* NULL: the engine runs its probes */
	atomic_bool closing;          /* set before the RPC server stops */
};

bool runtime_is_closing(struct berth_runtime *rt)
{
	return atomic_load(&((struct runtime_full *)rt)->closing);
}

struct state_cache *runtime_cache(struct berth_runtime *rt)
{
	return ((struct runtime_full *)rt)->cache;
}

struct events_pub *runtime_pub(struct berth_runtime *rt)
{
	return ((struct runtime_full *)rt)->pub;
}

/* The runtime store's schema: the shared jobs table's steps, then the
 * runtime's own, numbered after them. */
#define RUNTIME_MIGRATIONS_MAX 8
static size_t runtime_migrations(struct berth_migration *out)
{
	size_t n = 0;

	for (size_t i = 0;
	     i < berth_jobs_migrations_count && n < RUNTIME_MIGRATIONS_MAX - 1;
	     i++)
		out[n++] = berth_jobs_migrations[i];
	out[n].version = EXEC_DEADLINES_MIGRATION_VERSION;
	out[n++].sql = exec_deadlines_schema;
	return n;
}

static bool pull_is_resumable(const char *kind)
{
	/* Pulling an image again is harmless: the engine skips layers it
	 * already has. */
	return strcmp(kind, RUNTIME_JOB_PULL) == 0;
}

/*
 * Lease holders are "runtime@<host>/<pid>". A holder on this host whose
 * process is gone left its jobs behind; a live one (another runtime
 * sharing this store) keeps them. Holders on other hosts are left to
 * their lease: claim takes a job over once its lease expires.
 */
static bool holder_gone(const char *holder, void *arg)
{
	const char *host = arg;
	size_t hlen = strlen(host);
	const char *at = strchr(holder, '@');
	char *end = NULL;
	long pid;

	if (at == NULL || strncmp(at + 1, host, hlen) != 0
	    || at[1 + hlen] != '/')
		return at == NULL; /* not ours to judge, unless malformed */
	pid = strtol(at + 2 + hlen, &end, 10);
	if (pid <= 0 || *end != '\0')
		return true;
	return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

static int ensure_dir(const char *path, struct berth_err *err)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return 0;
	return berth_err_set(err, BERTH_EPRECOND,
	                     "cannot create data directory %s: %s", path,
	                     strerror(errno));
}

int berth_runtime_start(struct berth_runtime **out,
                        const struct berth_runtime_opts *opts,
                        struct berth_err *err)
{
	static const Berth__V1__Runtime_Service svc_init
	    = BERTH__V1__RUNTIME__INIT(rt_);
	struct berth_rpc_server_opts sopts = { 0 };
	struct berth_runtime *rt;
	struct runtime_full *full;
	struct berth_migration migs[RUNTIME_MIGRATIONS_MAX];
	size_t nmigs;
	char *db_path = NULL;
	int requeued = 0, failed = 0;
	char host[64];
	enum health_driver_mode health_mode;
	int rv;

	rv = health_driver_mode_parse(&health_mode, opts->health_driver, err);
	if (rv != 0)
		return rv;
	full = berth_calloc(1, sizeof(*full));
	rt = &full->rt;
	full->cache = state_cache_new();
	atomic_init(&full->closing, false);
	rt->svc = svc_init;
	pthread_mutex_init(&rt->mu, NULL);
	pthread_cond_init(&rt->wake, NULL);
	pthread_cond_init(&rt->create_done, NULL);
	rt->build_dir
	    = berth_strdup(opts->build_dir != NULL ? opts->build_dir : "");
	rt->rootless = opts->rootless;
	rt->safe_local_paths
	    = berth_calloc(opts->nsafe_local_paths + 1, sizeof(char *));
	for (size_t i = 0; i < opts->nsafe_local_paths; i++)
		rt->safe_local_paths[i]
		    = berth_strdup(opts->safe_local_paths[i]);
	rt->nsafe_local_paths = opts->nsafe_local_paths;
	rt->streams = runtime_streams_new();
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(rt->holder, sizeof(rt->holder), "runtime@%s/%ld", host,
	         (long)getpid());

	if (rt->streams == NULL) {
		rv = berth_err_set(err, BERTH_EINTERNAL,
		                   "cannot start the stream reaper thread");
		goto fail;
	}
	rv = ensure_dir(opts->data_dir, err);
	if (rv != 0)
		goto fail;
	/* Before anything can clone: also sweeps what a killed runtime
	 * left on disk (checkouts, ssh key files). */
	rv = runtime_scratch_open(&rt->scratch, opts->data_dir, err);
	if (rv != 0)
		goto fail;
	db_path = berth_asprintf("%s/runtime.db", opts->data_dir);
	nmigs = runtime_migrations(migs);
	rv = berth_store_open(&rt->store, db_path, migs, nmigs, err);
	if (rv != 0)
		goto fail;
	rv = berth_jobs_reconcile_orphans(
	    rt->store, holder_gone, host, pull_is_resumable,
	    "the runtime service stopped while this job "
	    "was running; start it again",
	    &requeued, &failed, err);
	if (rv != 0)
		goto fail;
	if (requeued > 0 || failed > 0)
		berth_log(BERTH_LOG_INFO, "jobs_reconciled",
		          "service=runtime requeued=%d failed=%d", requeued,
		          failed);
	rv = berth_engine_open(&rt->engine, &opts->engine, err);
	if (rv != 0)
		goto fail;
	rv = events_pub_open(&full->pub, opts->events_url, opts->events_dial,
	                     rt->holder, err);
	if (rv != 0)
		goto fail;
	rv = runtime_runner_start(rt, err);
	if (rv != 0)
		goto fail;
	/* Its first pass is the reconcile of exec deadlines. */
	rv = exec_reaper_start(&rt->exec_reaper, rt, err);
	if (rv != 0)
		goto fail;
	rv = event_follower_start(&full->follower, rt, full->cache, full->pub,
	                          err);
	if (rv != 0)
		goto fail;
	/* Probes the engine will not run (Podman without systemd). */
	rv = health_driver_start(&full->health, rt, full->cache, health_mode,
	                         err);
	if (rv != 0)
		goto fail;
	/* Long polls (ReadStream, WaitContainer) hold a worker while they
	 * wait, so the runtime runs more workers than a CPU-bound service
	 * would; an uploaded tar travels in one message. */
	sopts.workers = opts->workers > 0 ? opts->workers : RUNTIME_WORKERS;
	sopts.max_msg = RUNTIME_MAX_MSG;
	sopts.dial = opts->dial;
	rv = berth_rpc_server_alloc(&rt->server, opts->url, &sopts, err);
	if (rv != 0)
		goto fail;
	rv = berth_rpc_server_add_service(rt->server, &rt->svc.base, err);
	if (rv != 0)
		goto fail;
	rv = berth_rpc_server_start(rt->server, err);
	if (rv != 0)
		goto fail;
	free(db_path);
	*out = rt;
	return 0;
fail:
	free(db_path);
	berth_runtime_stop(rt);
	return rv;
}

/* A stop step that took more than a second is logged: a stop should
 * take well under that, and a slow one must say where it waited. Returns
 * the time now, for the next step. */
static int64_t stop_step_done(const char *step, int64_t started_ms)
{
	int64_t now = berth_clock_mono_ms();

	if (now - started_ms > 1000)
		berth_log(BERTH_LOG_WARN, "runtime_stop_slow",
		          "step=%s ms=%lld", step,
		          (long long)(now - started_ms));
	return now;
}

void berth_runtime_stop(struct berth_runtime *rt)
{
	struct runtime_full *full = (struct runtime_full *)rt;
	int64_t t;

	if (rt == NULL)
		return;
	/* Stop taking requests first, then the runner, the exec deadline
	 * reaper, the streams' producers, the health driver and the
	 * follower, then what they use. Long waits in handlers give up
	 * first. */
	atomic_store(&full->closing, true);
	t = berth_clock_mono_ms();
	berth_rpc_server_free(rt->server);
	t = stop_step_done("rpc_server", t);
	runtime_runner_stop(rt);
	t = stop_step_done("runner", t);
	exec_reaper_stop(rt->exec_reaper);
	t = stop_step_done("exec_reaper", t);
	runtime_streams_free(rt->streams);
	t = stop_step_done("streams", t);
	health_driver_stop(full->health);
	t = stop_step_done("health_driver", t);
	event_follower_stop(full->follower);
	stop_step_done("event_follower", t);
	events_pub_free(full->pub);
	state_cache_free(full->cache);
	berth_engine_free(rt->engine);
	berth_store_close(rt->store);
	runtime_scratch_close(rt->scratch);
	pthread_cond_destroy(&rt->create_done);
	pthread_cond_destroy(&rt->wake);
	pthread_mutex_destroy(&rt->mu);
	free(rt->creating);
	free(rt->build_dir);
	for (size_t i = 0; i < rt->nsafe_local_paths; i++)
		free(rt->safe_local_paths[i]);
	free(rt->safe_local_paths);
	free(full);
}
