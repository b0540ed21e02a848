/*
 * exec_run.h: the runtime's exec runner, shared by ExecCommand (output
 * collected into the reply) and ExecStream (output pushed into a runtime
 * stream).
 *
 * One exec is: checks (exec_run_check), the engine's exec create
 * (exec_run_create: a stopped container or a bad user fails here, before
 * any stream exists), then exec_run_start: the output demultiplexed with
 * a cap per stream, a timeout that really kills the process tree
 * (exec_kill.h) from a watchdog thread the moment it passes, and an
 * inspect for the exit code.
 *
 * Limits:
 *   max_output_bytes  per stream; 0 = 1 MiB; more than 16 MiB refused.
 *                     Output past the cap is read and dropped (the
 *                     process never blocks on a full pipe) and the
 *                     stream is marked truncated.
 *   timeout_ms        0 = none; at most 24 h. For ExecCommand the RPC's
 *                     deadline bounds the call: a timeout_ms that does
 *                     not fit before the deadline (less a margin of
 *                     EXEC_DEADLINE_MARGIN_MS for the kill and the
 *                     answer) is refused with INVALID_ARGUMENT, and with
 *                     timeout_ms 0 the deadline less the margin is the
 *                     timeout. ExecStream has no call deadline: its
 *                     timeout is timeout_ms, and a stream its reader
 *                     abandons kills the process too (nobody is left to
 *                     read what it writes).
 * A killed exec reports timed_out and exit code -1.
 *
 * Durable timeouts: a timeout the caller asked for (timeout_ms > 0, not
 * the one derived from the call's deadline) is recorded in the store
 * before the engine starts the exec (exec_deadlines.h), so a runtime
 * killed meanwhile still ends it after its restart.
 *
 * Output budget: collected output is charged to the runtime's budget
 * (runtime_out_budget_take) as it is buffered, and given back by
 * exec_result_fini(); a streamed exec is charged for what its stream
 * can hold at once (EXEC_STREAM_HOLD_MAX) at most. Output the budget
 * cannot take is cut as the cap cuts it (the stream is marked
 * truncated, and budget_cut says why); a streamed exec gets the marker
 * "[berth: stdout truncated after N bytes: the runtime's exec output
 * budget is used up]", while collected output keeps the command's
 * bytes only (its reply carries the flags; whoever shows it adds the
 * marker). The command still runs to its end.
 */
#ifndef BERTH_SERVICES_RUNTIME_EXEC_RUN_H
#define BERTH_SERVICES_RUNTIME_EXEC_RUN_H

#include "services/runtime/runtime_internal.h"

#include "lib/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EXEC_OUTPUT_DEFAULT     (1u << 20)
#define EXEC_OUTPUT_MAX         (16u << 20)
#define EXEC_TIMEOUT_MAX_MS     (24LL * 3600 * 1000)
#define EXEC_DEADLINE_MARGIN_MS 1000
/* The most a streamed exec's runtime stream holds at once: its buffer
 * (STREAM_BUF_MAX in streams.c), past which the producer blocks. */
#define EXEC_STREAM_HOLD_MAX (1u << 20)
/* Room for a marker line after collected output. */
#define EXEC_MARK_MAX 128

/* What exec_run_check() resolved. */
struct exec_limits {
	int64_t timeout_ms;    /* 0 = none */
	bool deadline_timeout; /* timeout_ms came from the call's deadline */
	size_t max_output;     /* per stream */
};

/*
 * Checks every field of `in` (id, argv, env keys, working_dir, user,
 * timeout_ms, max_output_bytes) and resolves the limits against the
 * call's absolute deadline `call_deadline_unix_ms` (0 = none).
 * Errors: BERTH_EINVAL naming the field; BERTH_ETIMEDOUT when the
 * deadline leaves no time at all.
 */
int exec_run_check(const Berth__V1__ExecRequest *in,
                   int64_t call_deadline_unix_ms, struct exec_limits *lim,
                   struct berth_err *err);

/*
 * Creates the exec instance in container in->id (checked first).
 * Caller owns `*exec_id`; free with free().
 * Errors: BERTH_ENOTFOUND (no such container), BERTH_EPRECOND (not
 * running), BERTH_EINVAL, BERTH_EUNAVAIL (engine).
 */
int exec_run_create(struct berth_runtime *rt, const Berth__V1__ExecRequest *in,
                    char **exec_id, struct berth_err *err);

/*
 * Receives each piece of output within the cap, in order, and then one
 * marker piece "[berth: stdout truncated after N bytes]\n" (or the
 * budget's marker) when the cap or the budget cuts the stream. Return 0 to go on, non-zero when the reader is gone (the
 * process is then killed).
 */
typedef int (*exec_sink_fn)(void *arg, enum berth_output_stream s,
                            const char *data, size_t len);

/* Called about once a second; non-zero = abandon (kill the process). */
typedef bool (*exec_gone_fn)(void *arg);

/* The outcome of one exec. */
struct exec_result {
	int exit_code; /* -1 when killed for the timeout */
	bool timed_out;
	bool truncated[3];       /* [BERTH_OUT_STDOUT], [BERTH_OUT_STDERR] */
	bool budget_cut[3];      /* cut by the runtime's budget, not the cap */
	struct berth_buf out[3]; /* collected output (no sink) */
	int64_t duration_ms;
	size_t seen[3]; /* bytes the command wrote, per stream */
	size_t kept[3]; /* bytes kept (collected or handed on) */
	/* Charged for `charged` bytes (exec_run_start sets it to the
	 * runtime's budget when NULL; NULL = no budget). Borrowed; must
	 * outlive the result. */
	struct runtime_out_budget *budget;
	size_t charged;
	/* The exec's deadline row, to be deleted by exec_result_fini()
	 * (set by exec_run_start once the run is over). */
	struct berth_store *row_store; /* borrowed */
	char *row_exec_id;             /* owned */
};

/* Initialises an empty result. */
void exec_result_init(struct exec_result *res);

/* Frees the collected output, gives its charge back to the budget and
 * deletes the exec's deadline row (call it after replying: the write
 * is off the caller's path). Accepts NULL. */
void exec_result_fini(struct exec_result *res);

/*
 * Takes one piece of stream `s`'s output within the cap `cap` (per
 * stream) and res->budget: what fits is appended to res->out[s] (with
 * `sink` NULL; charged until exec_result_fini) or handed to `sink`
 * (charged up to EXEC_STREAM_HOLD_MAX in all); the first cut marks
 * res->truncated[s] (and res->budget_cut[s] when the budget cut it)
 * and hands the marker to `sink`; collected output gets no marker. Returns 0, or non-zero when
 * `sink` refused (the reader is gone).
 */
int exec_result_take(struct exec_result *res, size_t cap,
                     enum berth_output_stream s, const char *data, size_t len,
                     exec_sink_fn sink, void *arg);

/*
 * Runs exec `exec_id` (made in container `container_ref`) to its end.
 * With `sink` NULL the output is collected in res->out, else handed to
 * `sink`; `gone` (may be NULL) is polled while it runs. `res` must be
 * initialised; it is filled on success.
 * Errors: BERTH_EUNAVAIL / BERTH_EPERM when the timeout passed and the
 * process could not be killed from this runtime (the message says why),
 * BERTH_ECANCELLED when `sink` or `gone` ended it, engine errors.
 */
int exec_run_start(struct berth_runtime *rt, const char *container_ref,
                   const char *exec_id, const struct exec_limits *lim,
                   exec_sink_fn sink, exec_gone_fn gone, void *arg,
                   struct exec_result *res, struct berth_err *err);

/*
 * Kills exec `exec_id`'s process tree with the watchdog's kill
 * (exec_kill.h) if the engine reports it running, for the deadline
 * reaper. `container_id` is the full id the exec was recorded with:
 * nothing is killed unless the engine's container of that id has that
 * very id and the exec's process runs in its cgroup. `*killed` says
 * whether a tree was killed (false: it had ended already).
 * Errors: BERTH_ENOTFOUND (the exec or the container is gone),
 * BERTH_EUNAVAIL (running, but not started far enough to have a pid
 * yet, or its process is not visible here), BERTH_EPERM, engine errors.
 */
int exec_run_kill(struct berth_runtime *rt, const char *container_id,
                  const char *exec_id, bool *killed, struct berth_err *err);

#endif
