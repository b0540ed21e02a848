/*
 * exec_run.c: the exec runner (exec_run.h): create, start with capped
 * demultiplexed output, a watchdog that kills the process tree when the
 * timeout passes, and the inspect for the exit code.
 *
 * The timeout is kept by a thread of its own rather than by the
 * driver's tick (about once a second): a 500 ms timeout ends the
 * process at 500 ms. Killing the tree closes its output, so the engine
 * stream then ends by itself; should something outside the tree still
 * hold the output open, the tick abandons the stream shortly after.
 *
 * The watchdog dies with the runtime, so a timeout the caller asked for
 * is also a row in the store (exec_deadlines.h), written before the
 * engine starts the exec and deleted once the run is known to be over;
 * the reaper ends what a killed runtime left running, with the same
 * kill (exec_run_kill).
 */
#include "services/runtime/exec_run.h"

#include "services/runtime/exec_deadlines.h"
#include "services/runtime/exec_kill.h"
#include "services/runtime/state_cache.h" /* runtime_is_closing */

#include "lib/alloc.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/validate.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* After a kill, how long the output may stay open before it is
 * abandoned (a process outside the tree holding it). */
#define LINGER_AFTER_KILL_MS 500
/* How long a kill waits for an exec the engine has not started yet. */
#define START_WAIT_STEP_MS 20
#define START_WAIT_TRIES   1500

void exec_result_init(struct exec_result *res)
{
	memset(res, 0, sizeof(*res));
	res->exit_code = -1;
	/* A marker line may follow output cut short of the cap. */
	berth_buf_init(&res->out[BERTH_OUT_STDOUT],
	               EXEC_OUTPUT_MAX + EXEC_MARK_MAX);
	berth_buf_init(&res->out[BERTH_OUT_STDERR],
	               EXEC_OUTPUT_MAX + EXEC_MARK_MAX);
}

void exec_result_fini(struct exec_result *res)
{
	if (res == NULL)
		return;
	berth_buf_fini(&res->out[BERTH_OUT_STDOUT]);
	berth_buf_fini(&res->out[BERTH_OUT_STDERR]);
	if (res->budget != NULL)
		runtime_out_budget_give(res->budget, res->charged);
	res->charged = 0;
	if (res->row_exec_id != NULL) {
		struct berth_err derr;

		berth_err_clear(&derr);
		if (exec_deadline_remove(res->row_store, res->row_exec_id,
		                         &derr)
		    != 0)
			berth_log(BERTH_LOG_DEBUG, "exec_deadline_keep",
			          "exec=%.64s reason=\"%s\"", res->row_exec_id,
			          derr.msg);
		free(res->row_exec_id);
		res->row_exec_id = NULL;
	}
}

/* How many of `want` bytes of stream output the budget lets through. A
 * collected result is charged for every byte it buffers; a streamed one
 * only until it is charged what its stream can hold at once (what was
 * handed on earlier has been read or waits in that same space). */
static size_t budget_grant(struct exec_result *res, size_t want, bool streamed)
{
	size_t need = want, got;

	if (res->budget == NULL || want == 0)
		return want;
	if (streamed)
		need = res->charged >= EXEC_STREAM_HOLD_MAX
		    ? 0
		    : (want < EXEC_STREAM_HOLD_MAX - res->charged
		           ? want
		           : EXEC_STREAM_HOLD_MAX - res->charged);
	got = runtime_out_budget_take(res->budget, need);
	res->charged += got;
	if (got == need)
		return want;
	/* Short: keep what was granted (a stream hands on only what its
	 * charge covers) and cut there. */
	return got;
}

int exec_result_take(struct exec_result *res, size_t cap,
                     enum berth_output_stream s, const char *data, size_t len,
                     exec_sink_fn sink, void *arg)
{
	size_t room, take;

	if (s != BERTH_OUT_STDOUT && s != BERTH_OUT_STDERR)
		s = BERTH_OUT_STDOUT;
	/* Once cut, a stream stays cut: no output after a gap. */
	room
	    = !res->truncated[s] && res->seen[s] < cap ? cap - res->seen[s] : 0;
	take = len < room ? len : room;
	res->seen[s] += len;
	if (take > 0) {
		size_t got = budget_grant(res, take, sink != NULL);

		if (got < take) {
			res->budget_cut[s] = true;
			take = got;
		}
	}
	if (take > 0) {
		if (sink != NULL) {
			if (sink(arg, s, data, take) != 0)
				return 1;
		} else {
			(void)berth_buf_append(&res->out[s], data, take);
		}
		res->kept[s] += take;
	}
	if (take < len && !res->truncated[s]) {
		const char *name = s == BERTH_OUT_STDERR ? "stderr" : "stdout";
		char mark[EXEC_MARK_MAX];
		int n;

		res->truncated[s] = true;
		if (res->budget_cut[s])
			n = snprintf(mark, sizeof(mark),
			             "\n[berth: %s truncated after %zu bytes: "
			             "the runtime's exec output budget is used "
			             "up]\n",
			             name, res->kept[s]);
		else
			n = snprintf(mark, sizeof(mark),
			             "\n[berth: %s truncated after %zu "
			             "bytes]\n",
			             name, cap);
		/* Collected output keeps the command's bytes only: its
		 * reply says it was cut, and why, in flags, and whoever
		 * shows it adds the marker. */
		if (sink != NULL && sink(arg, s, mark, (size_t)n) != 0)
			return 1;
	}
	return 0;
}

int exec_run_check(const Berth__V1__ExecRequest *in,
                   int64_t call_deadline_unix_ms, struct exec_limits *lim,
                   struct berth_err *err)
{
	struct exec_limits l = { 0 };
	int rv;

	rv = berth_validate_container_ref("id", in->id, err);
	if (rv != 0)
		return rv;
	if (in->n_command == 0)
		return berth_err_set(err, BERTH_EINVAL,
		                     "command: at least one word (the program) "
		                     "is required");
	for (size_t i = 0; i < in->n_env; i++) {
		rv = berth_validate_env_key("env", in->env[i]->key, err);
		if (rv != 0)
			return rv;
	}
	if (in->timeout_ms < 0 || in->timeout_ms > EXEC_TIMEOUT_MAX_MS)
		return berth_err_set(err, BERTH_EINVAL,
		                     "timeout_ms: 0 (none) to %lld",
		                     (long long)EXEC_TIMEOUT_MAX_MS);
	if (in->max_output_bytes > EXEC_OUTPUT_MAX)
		return berth_err_set(err, BERTH_EINVAL,
		                     "max_output_bytes: at most %u (16 MiB) "
		                     "per stream",
		                     EXEC_OUTPUT_MAX);
	l.max_output = in->max_output_bytes > 0 ? (size_t)in->max_output_bytes
	                                        : EXEC_OUTPUT_DEFAULT;
	l.timeout_ms = in->timeout_ms;
	if (call_deadline_unix_ms > 0) {
		int64_t left = call_deadline_unix_ms - berth_clock_unix_ms()
		    - EXEC_DEADLINE_MARGIN_MS;

		if (left <= 0)
			return berth_err_set(
			    err, BERTH_ETIMEDOUT,
			    "the call's deadline leaves no time "
			    "to run the command");
		if (l.timeout_ms > left)
			return berth_err_set(
			    err, BERTH_EINVAL,
			    "timeout_ms: %lld does not fit in the "
			    "call's deadline (%lld ms left less "
			    "%d ms to answer); lower it or give "
			    "the call more time",
			    (long long)l.timeout_ms,
			    (long long)left + EXEC_DEADLINE_MARGIN_MS,
			    EXEC_DEADLINE_MARGIN_MS);
		if (l.timeout_ms == 0) {
			l.timeout_ms = left;
			l.deadline_timeout = true;
		}
	}
	*lim = l;
	return 0;
}

int exec_run_create(struct berth_runtime *rt, const Berth__V1__ExecRequest *in,
                    char **exec_id, struct berth_err *err)
{
	struct berth_exec_spec spec = { 0 };
	char **env = NULL;
	int rv;

	rv = berth_validate_container_ref("id", in->id, err);
	if (rv != 0)
		return rv;
	env = berth_calloc(in->n_env + 1, sizeof(char *));
	for (size_t i = 0; i < in->n_env; i++)
		env[i] = berth_asprintf("%s=%s", in->env[i]->key,
		                        in->env[i]->value);
	spec.argv = (const char *const *)in->command;
	spec.argc = in->n_command;
	spec.env = (const char *const *)env;
	spec.nenv = in->n_env;
	spec.working_dir = in->working_dir;
	spec.user = in->user;
	rv = berth_engine_ops(rt->engine)
	         ->exec_create(rt->engine, in->id, &spec, exec_id, err);
	for (size_t i = 0; i < in->n_env; i++)
		free(env[i]);
	free(env);
	return rv;
}

/* The state of one run, shared with its watchdog thread. */
struct run {
	struct berth_runtime *rt;
	const char *cref;
	const char *exec_id;
	const struct exec_limits *lim;
	exec_sink_fn sink;
	exec_gone_fn gone;
	void *arg;
	struct exec_result *res;
	bool reader_gone; /* sink or gone said stop */

	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;         /* the run no longer needs the watchdog */
	bool output_ended; /* exec start returned */
	int64_t killed_at; /* monotonic ms of the kill */
	bool killed;       /* the timeout passed and the tree was killed */
	bool abandon;      /* stop reading: kill failed, or output lingers */
	int kill_rv;       /* why the kill failed */
	struct berth_err kill_err;
	int64_t deadline; /* monotonic ms */
};

static int on_out(void *arg, enum berth_output_stream s, const char *data,
                  size_t len, int64_t time_ns)
{
	struct run *r = arg;

	(void)time_ns;
	if (exec_result_take(r->res, r->lim->max_output, s, data, len, r->sink,
	                     r->arg)
	    != 0) {
		r->reader_gone = true;
		return 1;
	}
	return 0;
}

static int on_tick(void *arg)
{
	struct run *r = arg;
	bool abandon;

	pthread_mutex_lock(&r->mu);
	abandon = r->abandon;
	pthread_mutex_unlock(&r->mu);
	if (abandon)
		return 1;
	if (runtime_is_closing(r->rt) || (r->gone != NULL && r->gone(r->arg))) {
		r->reader_gone = true;
		return 1;
	}
	return 0;
}

/* Whether the exec's output has ended (or the run is over). */
static bool output_ended(struct run *r)
{
	bool ended;

	pthread_mutex_lock(&r->mu);
	ended = r->done || r->output_ended;
	pthread_mutex_unlock(&r->mu);
	return ended;
}

/* The container's full id (the kill checks cgroups against it). */
static char *container_full_id(struct berth_runtime *rt, const char *ref,
                               struct berth_err *err)
{
	Berth__V1__ContainerDetail *d = NULL;
	char *id = NULL;

	/* From the engine, not the state cache: a kill is rare, and it may
	 * run while the runtime is stopping. */
	if (berth_engine_container_inspect(rt->engine, ref, &d, err) != 0)
		return NULL;
	if (d->summary != NULL && d->summary->id != NULL)
		id = berth_strdup(d->summary->id);
	protobuf_c_message_free_unpacked(&d->base, NULL);
	if (id == NULL)
		berth_err_set(err, BERTH_EINTERNAL,
		              "the engine gave no id for container %.64s", ref);
	return id;
}

static int discard(void *arg, enum berth_output_stream s, const char *data,
                   size_t len, int64_t time_ns)
{
	(void)arg;
	(void)s;
	(void)data;
	(void)len;
	(void)time_ns;
	return 0;
}

/* How long the in-container kill may take before it counts as failed:
 * a stalled engine must not hold the watchdog (and its RPC) forever. */
#define KILL_EXEC_MS 10000

static int kill_exec_tick(void *arg)
{
	const int64_t *deadline = arg;

	return berth_clock_mono_ms() >= *deadline;
}

/* The EPERM fallback: `kill -KILL <pids>` as root inside the container,
 * with the pids of the container's own namespace. */
static int kill_by_exec(struct berth_runtime *rt, const char *cref,
                        const struct exec_kill_ns_pids *ns,
                        struct berth_err *err)
{
	const struct berth_engine_ops *ops = berth_engine_ops(rt->engine);
	struct berth_exec_spec spec = { 0 };
	struct berth_exec_state st = { 0 };
	char **argv = berth_calloc(ns->n + 2, sizeof(char *));
	int64_t deadline = berth_clock_mono_ms() + KILL_EXEC_MS;
	char *eid = NULL;
	int rv;

	argv[0] = berth_strdup("kill");
	argv[1] = berth_strdup("-KILL");
	for (size_t i = 0; i < ns->n; i++)
		argv[i + 2] = berth_asprintf("%d", ns->pids[i]);
	spec.argv = (const char *const *)argv;
	spec.argc = ns->n + 2;
	spec.user = "0";
	rv = ops->exec_create(rt->engine, cref, &spec, &eid, err);
	if (rv == 0)
		rv = ops->exec_start(rt->engine, eid, discard, kill_exec_tick,
		                     &deadline, err);
	if (rv == 0)
		rv = ops->exec_inspect(rt->engine, eid, &st, err);
	if (rv == 0 && st.exit_code != 0)
		rv = berth_err_set(err, BERTH_EPERM,
		                   "`kill` inside the container failed (exit "
		                   "%d): the image may have no kill",
		                   st.exit_code);
	for (size_t i = 0; i < ns->n + 2; i++)
		free(argv[i]);
	free(argv);
	free(eid);
	return rv;
}

/*
 * The kill shared by the watchdog and the deadline reaper: kills the
 * tree of exec `exec_id` (in container `cref`), which the engine
 * reported as `st`, if it runs. With `expect_cid` the container must
 * have exactly that full id. Sets *killed when a tree was killed.
 */
static int kill_running(struct berth_runtime *rt, const char *cref,
                        const char *expect_cid, const char *exec_id,
                        const struct berth_exec_state *st, bool *killed,
                        struct berth_err *err)
{
	struct exec_kill_ns_pids ns = { 0 };
	char *cid = NULL;
	int rv = 0;

	*killed = false;
	if (!st->running || st->pid <= 0)
		goto out;
	cid = container_full_id(rt, cref, err);
	if (cid == NULL) {
		rv = err != NULL ? err->code : BERTH_EINTERNAL;
		goto out;
	}
	if (expect_cid != NULL && strcmp(cid, expect_cid) != 0) {
		rv = berth_err_set(err, BERTH_EPRECOND,
		                   "container %.64s is not the exec's "
		                   "recorded container",
		                   cref);
		goto out;
	}
	rv = exec_kill_tree("/proc", st->pid, cid, &ns, err);
	if (rv == BERTH_EPERM && ns.n > 0)
		rv = kill_by_exec(rt, cref, &ns, err);
	if (rv != 0) {
		struct berth_exec_state again = { 0 };

		/* Ended by itself meanwhile (or killed by another runtime
		 * reaping the same deadline): nothing is left to kill. */
		if (berth_engine_ops(rt->engine)
		            ->exec_inspect(rt->engine, exec_id, &again, NULL)
		        == 0
		    && !again.running)
			rv = 0;
		goto out;
	}
	*killed = true;
out:
	free(ns.pids);
	free(cid);
	return rv;
}

/*
 * Kills the exec's tree if it still runs. Sets *killed when it did.
 * Returns 0, or why it could not.
 */
static int kill_now(struct run *r, bool *killed, struct berth_err *err)
{
	struct berth_exec_state st = { 0 };
	int rv;

	*killed = false;
	/* On a busy engine the exec may not have started yet when the
	 * timeout passes: "not running" (Docker: without an exit code;
	 * Podman: with exit code 0), or "running" before the engine knows
	 * its pid. While its output has not ended, wait for the pid rather
	 * than leave the process running. */
	for (int i = 0; i < START_WAIT_TRIES; i++) {
		rv = berth_engine_ops(r->rt->engine)
		         ->exec_inspect(r->rt->engine, r->exec_id, &st, err);
		if (rv != 0 || (st.running && st.pid > 0) || output_ended(r))
			break;
		berth_sleep_ms(START_WAIT_STEP_MS);
	}
	if (rv != 0)
		return rv;
	return kill_running(r->rt, r->cref, NULL, r->exec_id, &st, killed, err);
}

int exec_run_kill(struct berth_runtime *rt, const char *container_id,
                  const char *exec_id, bool *killed, struct berth_err *err)
{
	struct berth_exec_state st = { 0 };
	bool k = false;
	int rv;

	rv = berth_engine_ops(rt->engine)
	         ->exec_inspect(rt->engine, exec_id, &st, err);
	if (rv != 0)
		return rv;
	if (st.running && st.pid <= 0)
		return berth_err_set_retryable(
		    err, BERTH_EUNAVAIL,
		    "exec %.64s runs but the engine gives no pid for it yet",
		    exec_id);
	rv = kill_running(rt, container_id, container_id, exec_id, &st, &k,
	                  err);
	if (rv != 0)
		return rv;
	*killed = k;
	return 0;
}

static void abs_mono(struct timespec *ts, int64_t ms)
{
	ts->tv_sec = (time_t)(ms / 1000);
	ts->tv_nsec = (long)(ms % 1000) * 1000000L;
}

static void *watchdog(void *arg)
{
	struct run *r = arg;
	struct timespec ts;
	struct berth_err kerr;
	bool killed = false;
	int rv;

	berth_err_clear(&kerr);
	pthread_mutex_lock(&r->mu);
	while (!r->done && berth_clock_mono_ms() < r->deadline) {
		abs_mono(&ts, r->deadline);
		pthread_cond_timedwait(&r->cv, &r->mu, &ts);
	}
	if (r->done) {
		pthread_mutex_unlock(&r->mu);
		return NULL;
	}
	pthread_mutex_unlock(&r->mu);

	rv = kill_now(r, &killed, &kerr);

	pthread_mutex_lock(&r->mu);
	r->killed = killed;
	r->killed_at = berth_clock_mono_ms();
	if (rv != 0) {
		r->kill_rv = rv;
		r->kill_err = kerr;
		r->abandon = true;
	} else if (killed) {
		int64_t linger = berth_clock_mono_ms() + LINGER_AFTER_KILL_MS;

		while (!r->done && berth_clock_mono_ms() < linger) {
			abs_mono(&ts, linger);
			pthread_cond_timedwait(&r->cv, &r->mu, &ts);
		}
		if (!r->done)
			r->abandon = true;
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* Waits for the engine to report the exec ended; its exit code. */
static int wait_exit(struct run *r, int *code, struct berth_err *err)
{
	struct berth_exec_state st = { 0 };
	int delay = 2;
	int rv;

	for (;;) {
		bool stop;

		rv = berth_engine_ops(r->rt->engine)
		         ->exec_inspect(r->rt->engine, r->exec_id, &st, err);
		if (rv != 0)
			return rv;
		if (!st.running && st.exit_code >= 0) {
			*code = st.exit_code;
			return 0;
		}
		pthread_mutex_lock(&r->mu);
		stop = r->killed || r->abandon;
		pthread_mutex_unlock(&r->mu);
		if (stop)
			return 0;
		if (on_tick(r) != 0)
			return BERTH_ECANCELLED;
		/* A process may close its output and go on running: wait
		 * for it (the watchdog still keeps the timeout). */
		berth_sleep_ms(delay);
		if (delay < 200)
			delay *= 2;
	}
}

/* The container's full id for the deadline row: from the state cache
 * when it knows the container, else from the engine. */
static char *row_container_id(struct berth_runtime *rt, const char *ref,
                              struct berth_err *err)
{
	Berth__V1__ContainerDetail *d = NULL;
	char *id = NULL;

	if (state_cache_inspect(runtime_cache(rt), ref, &d)) {
		if (d->summary != NULL && d->summary->id != NULL
		    && strlen(d->summary->id) == 64)
			id = berth_strdup(d->summary->id);
		protobuf_c_message_free_unpacked(&d->base, NULL);
	}
	return id != NULL ? id : container_full_id(rt, ref, err);
}

/*
 * Records the exec's deadline in the store before the engine starts it:
 * the caller's own timeout, or the call's deadline standing in for one
 * (a JSON exec without timeout_ms is killed when its call runs out, and
 * that must hold when the runtime does not live to see it). A streamed
 * exec without a timeout has no deadline and no row. Sets *recorded.
 */
static int record_deadline(struct berth_runtime *rt, const char *cref,
                           const char *exec_id, const struct exec_limits *lim,
                           bool *recorded, struct berth_err *err)
{
	char *cid = NULL;
	int rv = 0;

	*recorded = false;
	if (lim->timeout_ms <= 0)
		return 0;
	cid = row_container_id(rt, cref, err);
	if (cid == NULL)
		return err != NULL && err->code != 0 ? err->code
		                                     : BERTH_EINTERNAL;
	rv = exec_deadline_add(rt->store, exec_id, cid,
	                       berth_clock_unix_ms() + lim->timeout_ms,
	                       rt->holder, err);
	if (rv == 0)
		*recorded = true;
	free(cid);
	return rv;
}

int exec_run_start(struct berth_runtime *rt, const char *container_ref,
                   const char *exec_id, const struct exec_limits *lim,
                   exec_sink_fn sink, exec_gone_fn gone, void *arg,
                   struct exec_result *res, struct berth_err *err)
{
	struct run r;
	pthread_condattr_t ca;
	pthread_t th;
	bool have_th = false, killed = false, recorded = false, ended = false;
	int64_t t0;
	int code = -1, rv;

	memset(&r, 0, sizeof(r));
	r.rt = rt;
	r.cref = container_ref;
	r.exec_id = exec_id;
	r.lim = lim;
	r.sink = sink;
	r.gone = gone;
	r.arg = arg;
	r.res = res;
	pthread_mutex_init(&r.mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r.cv, &ca);
	pthread_condattr_destroy(&ca);
	if (res->budget == NULL)
		res->budget = &rt->exec_out;
	rv = record_deadline(rt, container_ref, exec_id, lim, &recorded, err);
	if (rv != 0)
		goto out;
	t0 = berth_clock_mono_ms();
	if (lim->timeout_ms > 0) {
		r.deadline = t0 + lim->timeout_ms;
		if (pthread_create(&th, NULL, watchdog, &r) != 0) {
			rv = berth_err_set(err, BERTH_EINTERNAL,
			                   "cannot start the exec's timeout "
			                   "watchdog");
			goto out;
		}
		have_th = true;
	}
	rv = berth_engine_ops(rt->engine)
	         ->exec_start(rt->engine, exec_id, on_out, on_tick, &r, err);
	pthread_mutex_lock(&r.mu);
	r.output_ended = true;
	pthread_mutex_unlock(&r.mu);
	if (rv == 0 || (rv == BERTH_ECANCELLED && !r.reader_gone))
		rv = wait_exit(&r, &code, err);

	pthread_mutex_lock(&r.mu);
	r.done = true;
	pthread_cond_broadcast(&r.cv);
	pthread_mutex_unlock(&r.mu);
	if (have_th) {
		pthread_join(th, NULL);
		have_th = false;
	}
	if (r.kill_rv != 0) {
		rv = berth_err_set(err, r.kill_rv,
		                   "the command ran past its %lld ms and "
		                   "berth could not end it: %s",
		                   (long long)lim->timeout_ms, r.kill_err.msg);
		goto out;
	}
	if (r.reader_gone || rv == BERTH_ECANCELLED) {
		struct berth_err kerr;

		/* Nobody reads its output any more: end it, best effort. */
		berth_err_clear(&kerr);
		ended = kill_now(&r, &killed, &kerr) == 0;
		rv = berth_err_set(err, BERTH_ECANCELLED,
		                   "the exec's reader went away; the command "
		                   "was ended");
		goto out;
	}
	if (rv != 0 && !r.killed)
		goto out;
	/* A killed command ran until the kill, not until its output (which
	 * some engines hold open a while longer) was given up. */
	res->duration_ms
	    = (r.killed ? r.killed_at : berth_clock_mono_ms()) - t0;
	res->timed_out = r.killed;
	res->exit_code = r.killed ? -1 : code;
	ended = true;
	rv = 0;
out:
	if (have_th)
		pthread_join(th, NULL);
	/* A run that may have left the process running (the engine's
	 * stream broke, or a kill failed) keeps its row: the reaper asks
	 * the engine at the deadline. */
	if (recorded && ended) {
		/* Deleted by exec_result_fini(), after the reply went out:
		 * the caller need not wait for the write. A row left by a
		 * kill in between is one the reaper clears at its deadline
		 * (the engine says the exec ended). */
		res->row_store = rt->store;
		res->row_exec_id = berth_strdup(exec_id);
	}
	pthread_cond_destroy(&r.cv);
	pthread_mutex_destroy(&r.mu);
	return rv;
}
