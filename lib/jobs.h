/*
 * jobs.h: durable jobs in a service's store.
 *
 * Anything that can outlive one request (an image pull, later builds, VM
 * boots, backups) is a row in the `jobs` table. The RPC answers with the
 * job id as soon as the row is committed; a runner thread claims the job
 * (queued -> running, with a lease), reports progress, and finishes it
 * (succeeded | failed | cancelled).
 *
 * Idempotency: a job created with an idempotency key (the RPC request id)
 * stores a hash of (kind, payload). Creating again with the same key and
 * the same request returns the first job; with the same key and another
 * request it fails with BERTH_EPRECOND.
 *
 * On start a service calls berth_jobs_reconcile(): jobs left `running` by
 * a killed process are requeued when their kind can safely run again, and
 * failed with a reason otherwise. None is silently lost.
 */
#ifndef BERTH_LIB_JOBS_H
#define BERTH_LIB_JOBS_H

#include "lib/error.h"
#include "lib/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum berth_job_state {
	BERTH_JOB_QUEUED,
	BERTH_JOB_RUNNING,
	BERTH_JOB_SUCCEEDED,
	BERTH_JOB_FAILED,
	BERTH_JOB_CANCELLED,
};

#define BERTH_JOB_ID_LEN 36 /* UUID text form */

/*
 * Longest texts a job keeps, in bytes. Longer ones are cut at a UTF-8
 * boundary and end in "..."; invalid UTF-8 becomes '?' and control
 * characters but tab become ' ', so a row is always fit for JSON.
 */
#define BERTH_JOB_DETAIL_MAX 1024  /* a progress line (engine output) */
#define BERTH_JOB_ERROR_MAX  4096  /* an error message */
#define BERTH_JOB_RESULT_MAX 65536 /* a kind-specific result */

struct berth_job {
	char id[BERTH_JOB_ID_LEN + 1];
	char *kind;
	enum berth_job_state state;
	int progress;   /* 0..100, -1 unknown */
	char *detail;   /* latest progress line, "" when none */
	char *result;   /* kind-specific text, "" when none */
	int error_code; /* 0 or a negative berth_code */
	char *error;    /* "" when none */
	char *owner;    /* caller identity, "" when none */
	char *idem_key; /* "" when none */
	void *payload;  /* the request, packed; what a runner needs */
	size_t payload_len;
	char *lease_holder; /* "" when unclaimed */
	int64_t lease_expiry_ms;
	int64_t created_ms;
	int64_t updated_ms;
	int attempts; /* times the job was claimed */
};

/* The state's name: "queued", "running", ... Static string. */
const char *berth_job_state_name(enum berth_job_state state);

/* Frees a job and its strings. Accepts NULL. */
void berth_job_free(struct berth_job *job);

/*
 * Creates a queued job, durable before this returns. `idem_key` and
 * `owner` may be NULL. `*created` (may be NULL) tells whether a new row
 * was written (false: the first job for this key came back).
 * Caller owns `*out`; free with berth_job_free().
 * Errors: BERTH_EPRECOND (key reused for another request), BERTH_EINVAL.
 */
int berth_jobs_create(struct berth_store *st, struct berth_job **out,
                      bool *created, const char *kind, const char *owner,
                      const char *idem_key, const void *payload,
                      size_t payload_len, struct berth_err *err);

/* Caller owns `*out`. Errors: BERTH_ENOTFOUND. */
int berth_jobs_get(struct berth_store *st, struct berth_job **out,
                   const char *id, struct berth_err *err);

/*
 * Claims the oldest queued job (of `kind`, or any when NULL) for
 * `holder` for `lease_ms`: queued -> running, attempts + 1. Also takes
 * over running jobs whose lease expired. Caller owns `*out`.
 * Errors: BERTH_ENOTFOUND when there is nothing to claim.
 */
int berth_jobs_claim(struct berth_store *st, struct berth_job **out,
                     const char *kind, const char *holder, int64_t lease_ms,
                     struct berth_err *err);

/*
 * Records progress (0..100 or -1) and a detail line for a running job
 * held by `holder`, and extends its lease by `lease_ms` (0 = keep).
 * Errors: BERTH_ENOTFOUND, BERTH_EPRECOND (not running, or another
 * holder has it).
 */
int berth_jobs_progress(struct berth_store *st, const char *id,
                        const char *holder, int progress, const char *detail,
                        int64_t lease_ms, struct berth_err *err);

/*
 * Ends a job: `state` is SUCCEEDED, FAILED or CANCELLED; `result` and
 * `error` may be NULL; `error_code` is 0 or a negative berth_code.
 * `holder` NULL ends it whoever holds it (cancel, reconcile).
 * Errors: BERTH_ENOTFOUND, BERTH_EPRECOND (already ended).
 */
int berth_jobs_finish(struct berth_store *st, const char *id,
                      const char *holder, enum berth_job_state state,
                      const char *result, int error_code, const char *error,
                      struct berth_err *err);

/*
 * Run once at service start, before any runner: every `running` job is
 * put back to `queued` when `resumable(kind)` says so, else failed with
 * BERTH_EABORTED and the message `reason`. `resumable` may be NULL (none
 * resume). Counts go to `*requeued` and `*failed` (either may be NULL).
 */
int berth_jobs_reconcile(struct berth_store *st,
                         bool (*resumable)(const char *kind),
                         const char *reason, int *requeued, int *failed,
                         struct berth_err *err);

/*
 * As berth_jobs_reconcile(), for a store that several live processes may
 * share: only running jobs for which `holder_gone(lease_holder, arg)`
 * returns true are requeued or failed; the others belong to a live
 * process (their lease protects them, and claim takes them over if it
 * expires). `holder_gone` NULL treats every holder as gone. Both
 * callbacks run under the store lock and must not use the store.
 */
int berth_jobs_reconcile_orphans(
    struct berth_store *st, bool (*holder_gone)(const char *holder, void *arg),
    void *arg, bool (*resumable)(const char *kind), const char *reason,
    int *requeued, int *failed, struct berth_err *err);

/*
 * Fills `out` (BERTH_JOB_ID_LEN + 1 bytes) with a new random UUID v4.
 * Errors: BERTH_EINTERNAL when the kernel gives no randomness.
 */
int berth_uuid_v4(char out[BERTH_JOB_ID_LEN + 1], struct berth_err *err);

#endif
