/*
 * exec_deadlines.h: exec timeouts that outlive the runtime process.
 *
 * The watchdog thread of exec_run.c ends an exec whose timeout passes,
 * but it dies with the runtime: a runtime killed while `sleep 600` runs
 * with timeout_ms 2000 would leave that process running for ever. So an
 * exec with a timeout the caller asked for is first recorded in the
 * runtime's store (table exec_deadlines), committed before the engine
 * starts it, and the row is deleted once the run is known to have ended
 * (normally, or killed by the watchdog).
 *
 * The reaper (a thread per runtime, started after the engine and the
 * store are open, a first pass at once and then about once a second)
 * reads the rows whose deadline has passed:
 *   - the engine no longer knows the exec or its container (404), or
 *     reports it not running: the row is deleted;
 *   - it still runs: its process tree is killed with the watchdog's own
 *     kill (exec_run_kill(): /proc walk, cgroup check against the row's
 *     container id, pidfds), then the row is deleted.
 * Rows still within their deadline wait for it. A row whose holder (the
 * runtime that started the exec, "runtime@<host>/<pid>") is still alive
 * is left to that runtime's watchdog for EXEC_DEADLINE_LIVE_GRACE_MS
 * past its deadline, so a live caller gets its timed_out answer rather
 * than an exit code from a kill behind its back.
 *
 * Several runtimes may share one store: each step is one statement
 * (atomic by itself), killing a tree that is already dead is harmless,
 * and deleting a row twice deletes nothing the second time.
 */
#ifndef BERTH_SERVICES_RUNTIME_EXEC_DEADLINES_H
#define BERTH_SERVICES_RUNTIME_EXEC_DEADLINES_H

#include "services/runtime/runtime_internal.h"

#include "lib/error.h"
#include "lib/store.h"

#include <stdbool.h>
#include <stdint.h>

/* The runtime store's migration that creates the table: it comes right
 * after the shared jobs table's (version 1). */
#define EXEC_DEADLINES_MIGRATION_VERSION 2
extern const char exec_deadlines_schema[];

/* How long past its deadline a row of a live runtime is left to that
 * runtime's watchdog (whose kill may wait up to 30 s for the engine to
 * report the pid, then 10 s for an in-container kill). */
#define EXEC_DEADLINE_LIVE_GRACE_MS 60000

/* Failed kills of one row before it is given up (one try a pass). */
#define EXEC_DEADLINE_MAX_ATTEMPTS 60

/* Rows handled in one pass at most; the rest wait for the next. */
#define EXEC_DEADLINE_PASS_MAX 64

/*
 * Records that exec `exec_id` of container `container_id` (the full id)
 * must be ended by `deadline_unix_ms`, started by `holder`. Committed
 * (durable) when it returns 0. Recording the same exec again replaces
 * its row.
 * Errors: BERTH_EUNAVAIL (store busy; retryable), BERTH_EINTERNAL.
 */
int exec_deadline_add(struct berth_store *st, const char *exec_id,
                      const char *container_id, int64_t deadline_unix_ms,
                      const char *holder, struct berth_err *err);

/* Deletes the row of `exec_id`; no row is not an error. */
int exec_deadline_remove(struct berth_store *st, const char *exec_id,
                         struct berth_err *err);

/* What one reaper pass did. */
struct exec_reap_stats {
	int killed;  /* still running past the deadline: killed */
	int cleared; /* ended, or unknown to the engine: row deleted */
	int waiting; /* held by a live runtime within its grace */
	int failed;  /* the kill failed; tried again next pass */
};

/*
 * One pass over the rows whose deadline has passed (at most
 * EXEC_DEADLINE_PASS_MAX). `*stats` (may be NULL) is filled. Returns 0,
 * or the store's error when the rows could not be read.
 */
int exec_deadlines_reap(struct berth_runtime *rt, struct exec_reap_stats *stats,
                        struct berth_err *err);

struct exec_reaper;

/*
 * Starts the reaper thread of `rt` (its store and engine must be open
 * and outlive it). Caller owns `*out`; free with exec_reaper_stop().
 * Errors: BERTH_EINTERNAL (no thread).
 */
int exec_reaper_start(struct exec_reaper **out, struct berth_runtime *rt,
                      struct berth_err *err);

/* Wakes the reaper, waits for its pass to end and frees it. Accepts
 * NULL. */
void exec_reaper_stop(struct exec_reaper *r);

#endif
