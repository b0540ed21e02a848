/*
 * runtime_internal.h: the runtime service's state, shared by its files
 * (service.c wires it up, handlers_*.c answer RPCs, pull_runner.c works
 * the job queue, spec.c checks container specs). Not for outside use.
 */
#ifndef BERTH_SERVICES_RUNTIME_INTERNAL_H
#define BERTH_SERVICES_RUNTIME_INTERNAL_H

#include "berth/v1/runtime.pb-c.h"
#include "lib/engine.h"
#include "lib/jobs.h"
#include "lib/rpc.h"
#include "lib/sha256.h"
#include "lib/store.h"
#include "services/runtime/streams.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * The runtime-wide budget of exec output held in memory (budget.c):
 * `used` bytes charged now, at most `limit` (0 = the default,
 * runtime_out_budget_limit()). Zero-initialised is ready to use.
 */
struct runtime_out_budget {
	atomic_size_t used;
	size_t limit;
};

struct exec_reaper;

struct berth_runtime {
	/* First member: the generated service struct, so a handler's
	 * `service` pointer is also the runtime's. */
	Berth__V1__Runtime_Service svc;
	struct berth_store *store;
	struct runtime_scratch *scratch; /* CloneRepo's folders (scratch.h) */
	struct berth_engine *engine;
	struct berth_rpc_server *server;
	char *build_dir;
	bool rootless;
	char holder[96]; /* "runtime@<host>/<pid>": who holds our leases */
	struct runtime_streams *streams; /* followed logs, streamed exec */
	/* Host folders InjectCode and bind mounts may use (resolved, in
	 * order; none = both refused). NULL-terminated. */
	char **safe_local_paths;
	size_t nsafe_local_paths;

	pthread_t runner;
	bool runner_started;
	pthread_mutex_t mu;
	pthread_cond_t wake;
	bool stopping;

	/* Keys ("name:<n>", "req:<id>") of creates under way, under `mu`:
	 * two identical creates in this process run one after the other,
	 * so the second finds what the first made. At most one per RPC
	 * worker. */
	/* Memory-heavy calls under way (budget.c), under `mu`. */
	int heavy;
	pthread_cond_t create_done;
	char **creating;
	size_t ncreating, creating_cap;
	/* Exec output buffered now, against the runtime's budget. */
	struct runtime_out_budget exec_out;
	/* Ends execs whose recorded deadline passed (exec_deadlines.h). */
	struct exec_reaper *exec_reaper;
};

/* The job kind of image pulls. */
#define RUNTIME_JOB_PULL "pull"

/* The runtime that owns this generated service struct. */
static inline struct berth_runtime *runtime_of(Berth__V1__Runtime_Service *svc)
{
	return (struct berth_runtime *)svc;
}

/*
 * Checks every field of a container spec against berth's allow-lists.
 * Returns 0 or BERTH_EINVAL naming the field.
 */
int runtime_spec_check(const Berth__V1__ContainerSpec *spec,
                       struct berth_err *err);

/*
 * Checks that every bind mount's source resolves inside the runtime's
 * SafeLocalPaths (safe_mounts.c). Returns 0 or BERTH_EINVAL /
 * BERTH_EPERM naming the mount.
 */
int runtime_bind_mounts_check(struct berth_runtime *rt,
                              const Berth__V1__ContainerSpec *spec,
                              struct berth_err *err);

/*
 * The same check on container `ref` when berth created it, right before
 * berth starts it (alone, or with its pod): a bind source that no longer
 * resolves inside SafeLocalPaths (a folder swapped for a symlink since
 * create) refuses the start with PERMISSION_DENIED, one gone with
 * FAILED_PRECONDITION. Containers berth did not create are left to
 * their owner. Returns 0, the refusal, or the inspect's error.
 */
int runtime_bind_mounts_recheck(struct berth_runtime *rt, const char *ref,
                                struct berth_err *err);

/* SHA-256 (hex) of the spec's canonical packed form: two creates with the
 * same configuration have the same hash. */
void runtime_spec_hash(const Berth__V1__ContainerSpec *spec,
                       char out[BERTH_SHA256_HEX_LEN + 1]);

/*
 * Normalises an image reference: appends ":latest" when it carries
 * neither tag nor digest. Caller owns the result; free with free().
 */
char *runtime_image_normalise(const char *ref);

/* Fills a Job message from a stored job. The message borrows the job's
 * strings: free the job after the message is packed. */
void runtime_job_to_proto(const struct berth_job *job, Berth__V1__Job *out);

/* Wakes the pull runner (a job was queued). */
void runtime_runner_wake(struct berth_runtime *rt);

/*
 * RPC handlers, one per method of service Runtime; service.c binds them
 * with the generated BERTH__V1__RUNTIME__INIT(rt_) macro.
 */
void rt_ping(Berth__V1__Runtime_Service *svc, const Berth__V1__Empty *in,
             Berth__V1__PingReply_Closure done, void *call);
void rt_info(Berth__V1__Runtime_Service *svc, const Berth__V1__Empty *in,
             Berth__V1__RuntimeInfo_Closure done, void *call);
void rt_pull_image(Berth__V1__Runtime_Service *svc,
                   const Berth__V1__PullImageRequest *in,
                   Berth__V1__Job_Closure done, void *call);
void rt_get_job(Berth__V1__Runtime_Service *svc, const Berth__V1__JobRef *in,
                Berth__V1__Job_Closure done, void *call);
void rt_create_container(Berth__V1__Runtime_Service *svc,
                         const Berth__V1__CreateContainerRequest *in,
                         Berth__V1__CreateContainerReply_Closure done,
                         void *call);
void rt_start_container(Berth__V1__Runtime_Service *svc,
                        const Berth__V1__ContainerRef *in,
                        Berth__V1__Empty_Closure done, void *call);
void rt_stop_container(Berth__V1__Runtime_Service *svc,
                       const Berth__V1__StopContainerRequest *in,
                       Berth__V1__Empty_Closure done, void *call);
void rt_restart_container(Berth__V1__Runtime_Service *svc,
                          const Berth__V1__StopContainerRequest *in,
                          Berth__V1__Empty_Closure done, void *call);
void rt_remove_container(Berth__V1__Runtime_Service *svc,
                         const Berth__V1__RemoveContainerRequest *in,
                         Berth__V1__Empty_Closure done, void *call);
void rt_list_containers(Berth__V1__Runtime_Service *svc,
                        const Berth__V1__ListContainersRequest *in,
                        Berth__V1__ListContainersReply_Closure done,
                        void *call);
void rt_inspect_container(Berth__V1__Runtime_Service *svc,
                          const Berth__V1__ContainerRef *in,
                          Berth__V1__ContainerDetail_Closure done, void *call);

/* Handlers added with issue 3, one file each (named below). */
/* handlers_exec.c */
void rt_exec_command(Berth__V1__Runtime_Service *svc,
                     const Berth__V1__ExecRequest *in,
                     Berth__V1__ExecReply_Closure done, void *call);
void rt_exec_stream(Berth__V1__Runtime_Service *svc,
                    const Berth__V1__ExecRequest *in,
                    Berth__V1__StreamRef_Closure done, void *call);

/* handlers_streams.c */
void rt_open_logs(Berth__V1__Runtime_Service *svc,
                  const Berth__V1__LogsRequest *in,
                  Berth__V1__StreamRef_Closure done, void *call);
void rt_read_stream(Berth__V1__Runtime_Service *svc,
                    const Berth__V1__ReadStreamRequest *in,
                    Berth__V1__StreamChunk_Closure done, void *call);
void rt_close_stream(Berth__V1__Runtime_Service *svc,
                     const Berth__V1__StreamRef *in,
                     Berth__V1__Empty_Closure done, void *call);

/* handlers_wait.c */
void rt_wait_container(Berth__V1__Runtime_Service *svc,
                       const Berth__V1__WaitRequest *in,
                       Berth__V1__WaitReply_Closure done, void *call);

/* handlers_health.c */
void rt_wait_healthy(Berth__V1__Runtime_Service *svc,
                     const Berth__V1__WaitHealthyRequest *in,
                     Berth__V1__ContainerDetail_Closure done, void *call);

/* handlers_code.c */
void rt_inject_code(Berth__V1__Runtime_Service *svc,
                    const Berth__V1__InjectCodeRequest *in,
                    Berth__V1__InjectCodeReply_Closure done, void *call);
void rt_put_archive(Berth__V1__Runtime_Service *svc,
                    const Berth__V1__PutArchiveRequest *in,
                    Berth__V1__InjectCodeReply_Closure done, void *call);

/* handlers_clone.c */
void rt_clone_repo(Berth__V1__Runtime_Service *svc,
                   const Berth__V1__CloneRepoRequest *in,
                   Berth__V1__CloneRepoReply_Closure done, void *call);

/* handlers_pods.c */
void rt_create_pod(Berth__V1__Runtime_Service *svc,
                   const Berth__V1__CreatePodRequest *in,
                   Berth__V1__PodSummary_Closure done, void *call);
void rt_start_pod(Berth__V1__Runtime_Service *svc, const Berth__V1__PodRef *in,
                  Berth__V1__Empty_Closure done, void *call);
void rt_stop_pod(Berth__V1__Runtime_Service *svc, const Berth__V1__PodRef *in,
                 Berth__V1__Empty_Closure done, void *call);
void rt_remove_pod(Berth__V1__Runtime_Service *svc,
                   const Berth__V1__RemovePodRequest *in,
                   Berth__V1__Empty_Closure done, void *call);
void rt_list_pods(Berth__V1__Runtime_Service *svc,
                  const Berth__V1__ListPodsRequest *in,
                  Berth__V1__ListPodsReply_Closure done, void *call);
void rt_inspect_pod(Berth__V1__Runtime_Service *svc,
                    const Berth__V1__PodRef *in,
                    Berth__V1__PodSummary_Closure done, void *call);

/* At most this many InjectCode / CloneRepo calls at once: each holds a
 * tar of up to hundreds of MiB in memory. */
#define RUNTIME_HEAVY_MAX 4

/*
 * Takes one of the RUNTIME_HEAVY_MAX slots for a memory-heavy call
 * (`what` names it in the message). Returns 0, or BERTH_ELIMIT
 * (retryable) when all are taken. Pair with runtime_heavy_leave().
 */
int runtime_heavy_enter(struct berth_runtime *rt, const char *what,
                        struct berth_err *err);
void runtime_heavy_leave(struct berth_runtime *rt);

/*
 * The exec output budget (budget.c): its limit (b->limit, or the
 * default RUNTIME_EXEC_OUTPUT_BUDGET, or the test-only override
 * BERTH_TEST_EXEC_OUTPUT_BUDGET read once per process).
 */
size_t runtime_out_budget_limit(const struct runtime_out_budget *b);

/*
 * Charges up to `want` bytes to the budget; returns how many were
 * granted (less than `want`, down to 0, when it is used up). Give them
 * back with runtime_out_budget_give(). Lock-free; any thread.
 */
size_t runtime_out_budget_take(struct runtime_out_budget *b, size_t want);

/* Gives back `n` bytes taken earlier. */
void runtime_out_budget_give(struct runtime_out_budget *b, size_t n);

/* Bytes charged now. */
size_t runtime_out_budget_used(struct runtime_out_budget *b);

/* Records the failure in `err` as `call`'s answer and logs it once, with
 * the request id. The handler then calls its closure with NULL. */
void rt_fail(void *call, const struct berth_err *err, const char *method);

/* Starts / stops (and joins) the pull runner thread. */
int runtime_runner_start(struct berth_runtime *rt, struct berth_err *err);
void runtime_runner_stop(struct berth_runtime *rt);

#endif
