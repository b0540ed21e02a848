/*
 * exec_deadlines.c: the store table of exec deadlines and the reaper
 * that ends what a killed runtime left running (exec_deadlines.h).
 *
 * Why rows are read first and handled after: the store's connection is
 * shared by the RPC workers, and a kill may take seconds (an engine
 * call, a /proc walk, at worst an in-container `kill`), so the lock is
 * held for the SELECT alone and each row is handled without it.
 */
#include "services/runtime/exec_deadlines.h"

#include "services/runtime/exec_run.h"
#include "services/runtime/state_cache.h" /* runtime_is_closing */

#include "lib/alloc.h"
#include "lib/clock.h"
#include "lib/log.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Between passes. */
#define REAP_EVERY_MS 1000

/*
 * Version 2 of the runtime store. holder is the runtime that started
 * the exec ("runtime@<host>/<pid>"), so that a live one is left to its
 * own watchdog; attempts counts failed kills. The deadline index serves
 * the reaper's "passed" scan without reading rows that still wait.
 */
const char exec_deadlines_schema[] = "CREATE TABLE exec_deadlines ("
                                     " exec_id TEXT PRIMARY KEY NOT NULL,"
                                     " container_id TEXT NOT NULL,"
                                     " deadline_unix_ms INTEGER NOT NULL,"
                                     " created_ms INTEGER NOT NULL,"
                                     " holder TEXT NOT NULL DEFAULT '',"
                                     " attempts INTEGER NOT NULL DEFAULT 0"
                                     ");"
                                     "CREATE INDEX exec_deadlines_deadline"
                                     " ON exec_deadlines (deadline_unix_ms);";

/*
 * Runs one prepared write with the store locked; `bind` fills it.
 *
 * Committed with synchronous=NORMAL, not the store's FULL: in WAL mode
 * that survives the runtime being killed (the case these rows are for)
 * and skips the fsync, which cost an exec 1-4 ms on a busy host. What
 * only a power loss could undo does not matter here: a power loss ends
 * the exec's process too.
 */
static int write_row(struct berth_store *st, const char *sql, const char *what,
                     const char *exec_id, const char *container_id,
                     int64_t deadline_unix_ms, const char *holder,
                     struct berth_err *err)
{
	sqlite3_stmt *stmt = NULL;
	sqlite3 *db = berth_store_db(st);
	int rc, rv = 0;

	berth_store_lock(st);
	sqlite3_exec(db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
	rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
	if (rc != SQLITE_OK) {
		rv = berth_store_error(st, rc, what, err);
		goto out;
	}
	sqlite3_bind_text(stmt, 1, exec_id, -1, SQLITE_STATIC);
	if (container_id != NULL) {
		sqlite3_bind_text(stmt, 2, container_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 3, deadline_unix_ms);
		sqlite3_bind_int64(stmt, 4, berth_clock_unix_ms());
		sqlite3_bind_text(stmt, 5, holder, -1, SQLITE_STATIC);
	}
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_DONE)
		rv = berth_store_error(st, rc, what, err);
out:
	sqlite3_finalize(stmt);
	sqlite3_exec(db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
	berth_store_unlock(st);
	return rv;
}

int exec_deadline_add(struct berth_store *st, const char *exec_id,
                      const char *container_id, int64_t deadline_unix_ms,
                      const char *holder, struct berth_err *err)
{
	return write_row(st,
	                 "INSERT OR REPLACE INTO exec_deadlines (exec_id, "
	                 "container_id, deadline_unix_ms, created_ms, holder)"
	                 " VALUES (?1, ?2, ?3, ?4, ?5)",
	                 "recording an exec's deadline", exec_id, container_id,
	                 deadline_unix_ms, holder != NULL ? holder : "", err);
}

int exec_deadline_remove(struct berth_store *st, const char *exec_id,
                         struct berth_err *err)
{
	return write_row(st, "DELETE FROM exec_deadlines WHERE exec_id = ?1",
	                 "deleting an exec's deadline", exec_id, NULL, 0, NULL,
	                 err);
}

/* Counts one more failed kill. */
static int count_attempt(struct berth_store *st, const char *exec_id,
                         struct berth_err *err)
{
	return write_row(st,
	                 "UPDATE exec_deadlines SET attempts = attempts + 1 "
	                 "WHERE exec_id = ?1",
	                 "counting a failed exec kill", exec_id, NULL, 0, NULL,
	                 err);
}

/* One row, copied out of the statement. */
struct row {
	char *exec_id;
	char *container_id;
	char *holder;
	int64_t deadline;
	int attempts;
};

static char *col_str(sqlite3_stmt *stmt, int i)
{
	const unsigned char *t = sqlite3_column_text(stmt, i);

	return berth_strdup(t != NULL ? (const char *)t : "");
}

static void rows_free(struct row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rows[i].exec_id);
		free(rows[i].container_id);
		free(rows[i].holder);
	}
	free(rows);
}

/* The rows whose deadline is at or before `now`, oldest first. */
static int rows_due(struct berth_store *st, int64_t now, struct row **out,
                    size_t *nout, struct berth_err *err)
{
	sqlite3_stmt *stmt = NULL;
	struct row *rows = NULL;
	size_t n = 0;
	int rc, rv = 0;

	berth_store_lock(st);
	rc = sqlite3_prepare_v2(
	    berth_store_db(st),
	    "SELECT exec_id, container_id, holder, deadline_unix_ms, attempts"
	    " FROM exec_deadlines WHERE deadline_unix_ms <= ?1"
	    " ORDER BY deadline_unix_ms LIMIT ?2",
	    -1, &stmt, NULL);
	if (rc != SQLITE_OK) {
		rv = berth_store_error(st, rc, "reading exec deadlines", err);
		goto out;
	}
	sqlite3_bind_int64(stmt, 1, now);
	sqlite3_bind_int(stmt, 2, EXEC_DEADLINE_PASS_MAX);
	rows = berth_calloc(EXEC_DEADLINE_PASS_MAX, sizeof(*rows));
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW
	       && n < EXEC_DEADLINE_PASS_MAX) {
		rows[n].exec_id = col_str(stmt, 0);
		rows[n].container_id = col_str(stmt, 1);
		rows[n].holder = col_str(stmt, 2);
		rows[n].deadline = sqlite3_column_int64(stmt, 3);
		rows[n].attempts = sqlite3_column_int(stmt, 4);
		n++;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		rv = berth_store_error(st, rc, "reading exec deadlines", err);
out:
	sqlite3_finalize(stmt);
	berth_store_unlock(st);
	if (rv != 0) {
		rows_free(rows, n);
		return rv;
	}
	*out = rows;
	*nout = n;
	return 0;
}

/*
 * Whether the runtime that recorded the row may still be running its
 * watchdog: a holder "runtime@<host>/<pid>" on this host whose process
 * exists (this very runtime included). Holders on other hosts count as
 * alive: only their lapse of grace lets this runtime act for them.
 */
static bool holder_alive(const char *holder)
{
	char host[64];
	const char *at = strchr(holder, '@'), *slash;
	size_t hlen;
	char *end = NULL;
	long pid;

	if (at == NULL)
		return false;
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	hlen = strlen(host);
	slash = strrchr(at, '/');
	if (slash == NULL)
		return false;
	if ((size_t)(slash - at - 1) != hlen
	    || strncmp(at + 1, host, hlen) != 0)
		return true;
	pid = strtol(slash + 1, &end, 10);
	if (pid <= 0 || *end != '\0')
		return false;
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* Handles one due row; counts what happened in `stats`. */
static void reap_row(struct berth_runtime *rt, const struct row *w, int64_t now,
                     struct exec_reap_stats *stats)
{
	struct berth_err err;
	bool killed = false;
	int rv;

	berth_err_clear(&err);
	if (now < w->deadline + EXEC_DEADLINE_LIVE_GRACE_MS
	    && holder_alive(w->holder)) {
		stats->waiting++;
		return;
	}
	rv = exec_run_kill(rt, w->container_id, w->exec_id, &killed, &err);
	if (rv == 0 || rv == BERTH_ENOTFOUND) {
		if (killed) {
			stats->killed++;
			berth_log(BERTH_LOG_INFO, "exec_deadline_killed",
			          "exec=%.64s container=%.12s late_ms=%lld",
			          w->exec_id, w->container_id,
			          (long long)(now - w->deadline));
		} else {
			stats->cleared++;
		}
		(void)exec_deadline_remove(rt->store, w->exec_id, NULL);
		return;
	}
	stats->failed++;
	if (w->attempts + 1 >= EXEC_DEADLINE_MAX_ATTEMPTS) {
		/* A process this runtime can never reach (another pid
		 * namespace, another host's engine): say so once, stop. */
		berth_log(BERTH_LOG_WARN, "exec_deadline_abandoned",
		          "exec=%.64s container=%.12s attempts=%d "
		          "reason=\"%s\"",
		          w->exec_id, w->container_id, w->attempts + 1,
		          err.msg);
		(void)exec_deadline_remove(rt->store, w->exec_id, NULL);
		return;
	}
	berth_log(BERTH_LOG_DEBUG, "exec_deadline_kill_failed",
	          "exec=%.64s container=%.12s reason=\"%s\"", w->exec_id,
	          w->container_id, err.msg);
	(void)count_attempt(rt->store, w->exec_id, NULL);
}

/* The reaper, when one runs: its stop flag ends a pass early. */
struct exec_reaper {
	struct berth_runtime *rt;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
};

static bool reaper_stopping(struct exec_reaper *r)
{
	bool stop;

	if (r == NULL)
		return false;
	pthread_mutex_lock(&r->mu);
	stop = r->stop;
	pthread_mutex_unlock(&r->mu);
	return stop;
}

static int reap_pass(struct berth_runtime *rt, struct exec_reaper *r,
                     struct exec_reap_stats *stats, struct berth_err *err)
{
	struct exec_reap_stats s = { 0 };
	struct row *rows = NULL;
	size_t n = 0;
	int64_t now = berth_clock_unix_ms();
	int rv;

	rv = rows_due(rt->store, now, &rows, &n, err);
	if (rv != 0)
		return rv;
	for (size_t i = 0; i < n; i++) {
		if (reaper_stopping(r) || runtime_is_closing(rt))
			break;
		reap_row(rt, &rows[i], now, &s);
	}
	rows_free(rows, n);
	if (stats != NULL)
		*stats = s;
	return 0;
}

int exec_deadlines_reap(struct berth_runtime *rt, struct exec_reap_stats *stats,
                        struct berth_err *err)
{
	return reap_pass(rt, NULL, stats, err);
}

static void *reaper_main(void *arg)
{
	struct exec_reaper *r = arg;
	struct timespec ts;
	bool first = true;

	for (;;) {
		struct exec_reap_stats s = { 0 };
		struct berth_err err;
		int64_t next;

		berth_err_clear(&err);
		if (reap_pass(r->rt, r, &s, &err) != 0)
			berth_log(BERTH_LOG_DEBUG, "exec_deadlines_unread",
			          "reason=\"%s\"", err.msg);
		else if (first && (s.killed > 0 || s.cleared > 0))
			/* The reconcile at start: what a stopped runtime
			 * left behind. */
			berth_log(BERTH_LOG_INFO, "exec_deadlines_reconciled",
			          "killed=%d cleared=%d failed=%d", s.killed,
			          s.cleared, s.failed);
		first = false;
		next = berth_clock_mono_ms() + REAP_EVERY_MS;
		ts.tv_sec = (time_t)(next / 1000);
		ts.tv_nsec = (long)(next % 1000) * 1000000L;
		pthread_mutex_lock(&r->mu);
		while (!r->stop && berth_clock_mono_ms() < next)
			pthread_cond_timedwait(&r->cv, &r->mu, &ts);
		if (r->stop) {
			pthread_mutex_unlock(&r->mu);
			return NULL;
		}
		pthread_mutex_unlock(&r->mu);
	}
}

int exec_reaper_start(struct exec_reaper **out, struct berth_runtime *rt,
                      struct berth_err *err)
{
	struct exec_reaper *r = berth_calloc(1, sizeof(*r));
	pthread_condattr_t ca;

	r->rt = rt;
	pthread_mutex_init(&r->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&r->th, NULL, reaper_main, r) != 0) {
		pthread_cond_destroy(&r->cv);
		pthread_mutex_destroy(&r->mu);
		free(r);
		return berth_err_set(err, BERTH_EINTERNAL,
		                     "cannot start the exec deadline reaper "
		                     "thread");
	}
	*out = r;
	return 0;
}

void exec_reaper_stop(struct exec_reaper *r)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->th, NULL);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
}
