/*
 * engine.h: the container engine driver interface.
 *
 * A driver speaks one engine's HTTP API over its unix socket (or tcp)
 * through libcurl: Docker's Engine API v1.41 now, Podman's next. Drivers
 * are ops tables (struct berth_engine_ops); berth_engine_open() picks one
 * by name. No docker CLI and no shell anywhere: the driver builds the
 * engine's JSON itself from the typed spec, so tenant JSON never reaches
 * the engine.
 *
 * Results use the generated protobuf types of runtime.proto. A message
 * returned through an out-parameter is built with malloc'd fields only,
 * so the caller frees it with protobuf_c_message_free_unpacked(msg, NULL).
 *
 * Error mapping at this boundary: engine 404 -> BERTH_ENOTFOUND,
 * 409 -> BERTH_EEXISTS (name in use) or BERTH_EPRECOND (wrong state),
 * 400 -> BERTH_EINVAL, socket missing / refused / engine 5xx while
 * starting -> BERTH_EUNAVAIL (retryable), other 5xx -> BERTH_EINTERNAL.
 * The engine's own message is kept (cut to one line) in err->msg.
 *
 * An engine handle is safe to use from several threads at once: each
 * call uses its own curl easy handle.
 */
#ifndef BERTH_LIB_ENGINE_H
#define BERTH_LIB_ENGINE_H

#include "berth/v1/runtime.pb-c.h"
#include "lib/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct berth_engine;

/* Label keys berth puts on every engine object it creates. */
#define BERTH_LABEL_MANAGED    "berth.managed" /* "true" */
#define BERTH_LABEL_OWNER      "berth.owner"
#define BERTH_LABEL_REQUEST_ID "berth.request_id"
#define BERTH_LABEL_SPEC_HASH  "berth.spec_hash"

/* Whether berth created the container: BERTH_LABEL_MANAGED is "true".
 * Accepts NULL (false). */
bool berth_summary_managed(const Berth__V1__ContainerSummary *s);

/*
 * Progress of an image pull: `percent` 0..100 or -1 when unknown, and
 * the engine's latest status line. Return non-zero to abandon the pull.
 * Called for each status line and also about once a second while the
 * engine says nothing, so a caller can always abandon a stalled pull.
 */
typedef int (*berth_engine_progress_fn)(void *arg, int percent,
                                        const char *status);

/* Which output stream a piece of container output came from. */
enum berth_output_stream {
	BERTH_OUT_STDOUT = 1,
	BERTH_OUT_STDERR = 2,
};

/*
 * One demultiplexed piece of a container's output, in order. For logs
 * each call is one whole line (with its newline, when it had one) and
 * `time_ns` is the engine's timestamp (unix ns; 0 when unknown). For
 * exec it is whatever the engine sent, `time_ns` 0. `data` is borrowed
 * for the call. Return 0 to go on, non-zero to stop the stream (the op
 * then returns BERTH_ECANCELLED).
 */
typedef int (*berth_engine_output_fn)(void *arg, enum berth_output_stream s,
                                      const char *data, size_t len,
                                      int64_t time_ns);

/*
 * Called about once a second while a stream or a blocking wait is under
 * way, data or not. Return 0 to go on, non-zero to abandon (the op then
 * returns BERTH_ECANCELLED).
 */
typedef int (*berth_engine_tick_fn)(void *arg);

/* A command to run in a running container. Strings borrowed. */
struct berth_exec_spec {
	const char *const *argv; /* argc >= 1; run as given, no shell */
	size_t argc;
	const char *const *env; /* "KEY=value" */
	size_t nenv;
	const char *working_dir; /* NULL = the container's */
	const char *user;        /* NULL = the container's */
};

/* The state of an exec instance. */
struct berth_exec_state {
	bool running;
	int exit_code; /* valid when !running */
	int pid; /* the process in the engine host's pid namespace; 0 = gone */
};

/* What to read from a container's log. */
struct berth_logs_opts {
	bool follow;
	int64_t since_unix_ms; /* 0 = from the start */
	int64_t until_unix_ms; /* 0 = no end */
	int tail;              /* 0 = all, N > 0 = last N, -1 = none */
	bool stdout_;          /* both false = both */
	bool stderr_;
};

/*
 * One engine event, normalised across engines: Docker's "destroy" and
 * Podman's "remove" are both "destroy"; "exec_*", "init", "cleanup" and
 * the like are passed through under their own names. Strings borrowed
 * for the call.
 */
struct berth_engine_event {
	const char *type; /* "container", "image", ... */
	const char
	    *action; /* create, start, die, stop, destroy, health_status, ... */
	const char *id;
	const char *name; /* may be NULL */
	int64_t time_ns;
	int exit_code; /* die: the exit code; else 0 */
	const char
	    *health_status; /* health_status: healthy / unhealthy / starting */
	const Berth__V1__KeyValue *const *labels; /* the container's labels */
	size_t nlabels;
};

/* Return 0 to go on, non-zero to stop following events. */
typedef int (*berth_engine_event_fn)(void *arg,
                                     const struct berth_engine_event *ev);

struct berth_engine_ops {
	const char *name; /* "docker", "podman" */
	int (*ping)(struct berth_engine *e, struct berth_err *err);
	int (*info)(struct berth_engine *e, Berth__V1__RuntimeInfo **out,
	            struct berth_err *err);
	int (*image_pull)(struct berth_engine *e, const char *ref,
	                  berth_engine_progress_fn progress, void *arg,
	                  char **image_id, struct berth_err *err);
	int (*image_exists)(struct berth_engine *e, const char *ref,
	                    bool *exists, struct berth_err *err);
	int (*container_create)(struct berth_engine *e,
	                        const Berth__V1__ContainerSpec *spec,
	                        const Berth__V1__KeyValue *const *labels,
	                        size_t nlabels, char **id,
	                        struct berth_err *err);
	int (*container_start)(struct berth_engine *e, const char *id,
	                       struct berth_err *err);
	int (*container_stop)(struct berth_engine *e, const char *id,
	                      int timeout_s, struct berth_err *err);
	int (*container_restart)(struct berth_engine *e, const char *id,
	                         int timeout_s, struct berth_err *err);
	int (*container_remove)(struct berth_engine *e, const char *id,
	                        bool force, bool volumes,
	                        struct berth_err *err);
	int (*container_list)(struct berth_engine *e,
	                      const Berth__V1__ListContainersRequest *filter,
	                      Berth__V1__ListContainersReply **out,
	                      struct berth_err *err);
	int (*container_inspect)(struct berth_engine *e, const char *id,
	                         Berth__V1__ContainerDetail **out,
	                         struct berth_err *err);

	/* Exec: create an instance, run it with its output streamed to
	 * `out` until the process closes its output, then inspect it for
	 * the exit code. exec_start returns once the output ends or `tick`
	 * abandons it (the process itself is not killed by that). */
	int (*exec_create)(struct berth_engine *e, const char *id,
	                   const struct berth_exec_spec *spec, char **exec_id,
	                   struct berth_err *err);
	int (*exec_start)(struct berth_engine *e, const char *exec_id,
	                  berth_engine_output_fn out, berth_engine_tick_fn tick,
	                  void *arg, struct berth_err *err);
	int (*exec_inspect)(struct berth_engine *e, const char *exec_id,
	                    struct berth_exec_state *st, struct berth_err *err);

	/* A container's log, line by line, to `out`; with opts->follow it
	 * returns when the container stops, or `tick` abandons it. */
	int (*logs)(struct berth_engine *e, const char *id,
	            const struct berth_logs_opts *opts,
	            berth_engine_output_fn out, berth_engine_tick_fn tick,
	            void *arg, struct berth_err *err);

	/* Blocks until `condition` ("not-running", "next-exit", "removed")
	 * holds; `*exit_code` is the container's. */
	int (*wait)(struct berth_engine *e, const char *id,
	            const char *condition, berth_engine_tick_fn tick, void *arg,
	            int *exit_code, struct berth_err *err);

	/* Extracts the tar in `tar` into folder `path` of the container. */
	int (*archive_put)(struct berth_engine *e, const char *id,
	                   const char *path, const void *tar, size_t len,
	                   struct berth_err *err);

	/* Follows the engine's event stream from `since_unix_ms` (0 = now)
	 * until `tick` or `fn` says stop, or the engine goes away
	 * (BERTH_EUNAVAIL). Only container events are delivered. */
	int (*events)(struct berth_engine *e, int64_t since_unix_ms,
	              berth_engine_event_fn fn, berth_engine_tick_fn tick,
	              void *arg, struct berth_err *err);

	/* Pods: Podman only; the Docker driver answers BERTH_EUNIMPL. */
	int (*pod_create)(struct berth_engine *e,
	                  const Berth__V1__PodSpec *spec,
	                  const Berth__V1__KeyValue *const *labels,
	                  size_t nlabels, char **id, struct berth_err *err);
	int (*pod_start)(struct berth_engine *e, const char *id,
	                 struct berth_err *err);
	int (*pod_stop)(struct berth_engine *e, const char *id,
	                struct berth_err *err);
	int (*pod_remove)(struct berth_engine *e, const char *id, bool force,
	                  struct berth_err *err);
	int (*pod_list)(struct berth_engine *e,
	                const Berth__V1__ListPodsRequest *filter,
	                Berth__V1__ListPodsReply **out, struct berth_err *err);
	int (*pod_inspect)(struct berth_engine *e, const char *id,
	                   Berth__V1__PodSummary **out, struct berth_err *err);

	/*
	 * Health: runs container `id`'s configured health check once and
	 * has the engine record the result exactly as its own schedule
	 * would (status, failing streak, start period, log). For engines
	 * whose schedule may not run: Podman's comes from systemd timers.
	 * NULL when the engine always runs the probes itself (Docker).
	 * The call gives up after `timeout_ms` (0 = the engine's request
	 * timeout) or when `tick` (called about once a second; may be
	 * NULL) returns non-zero (BERTH_ECANCELLED). On 0, `*status` is
	 * the probe's verdict ("healthy", "unhealthy", "starting");
	 * caller owns `*status`; free with free().
	 * Errors: BERTH_ENOTFOUND (no such container), BERTH_EPRECOND
	 * (not running, or no health check), BERTH_EUNAVAIL.
	 */
	int (*health_probe)(struct berth_engine *e, const char *id,
	                    int timeout_ms, berth_engine_tick_fn tick,
	                    void *arg, char **status, struct berth_err *err);
};

struct berth_engine_config {
	const char *runtime;     /* "docker" (default) or "podman" */
	const char *socket_path; /* unix socket; or NULL with `url` */
	const char *url;         /* "tcp://host:port" or NULL */
	int timeout_ms;          /* per request, streams excepted; 0 = 60000 */
	/* Single-string commands (spec->command_line) run as
	 * shell + [command_line]; NULL = {"/bin/sh", "-c"}. */
	const char *const *shell;
	size_t nshell;
};

/*
 * Opens a driver for `cfg` (copied). Does not contact the engine.
 * Caller owns `*out`; free with berth_engine_free().
 * Errors: BERTH_EINVAL (unknown runtime, no socket).
 */
int berth_engine_open(struct berth_engine **out,
                      const struct berth_engine_config *cfg,
                      struct berth_err *err);

/* Accepts NULL. */
void berth_engine_free(struct berth_engine *e);

/* The driver's ops table. Borrowed; static. */
const struct berth_engine_ops *berth_engine_ops(const struct berth_engine *e);

/* The configured runtime name and socket path. Borrowed. */
const char *berth_engine_runtime(const struct berth_engine *e);
const char *berth_engine_socket_path(const struct berth_engine *e);

/* Convenience wrappers: e->ops->op(e, ...). Same contracts as the ops. */
int berth_engine_ping(struct berth_engine *e, struct berth_err *err);
int berth_engine_info(struct berth_engine *e, Berth__V1__RuntimeInfo **out,
                      struct berth_err *err);
int berth_engine_image_pull(struct berth_engine *e, const char *ref,
                            berth_engine_progress_fn progress, void *arg,
                            char **image_id, struct berth_err *err);
int berth_engine_image_exists(struct berth_engine *e, const char *ref,
                              bool *exists, struct berth_err *err);
int berth_engine_container_create(struct berth_engine *e,
                                  const Berth__V1__ContainerSpec *spec,
                                  const Berth__V1__KeyValue *const *labels,
                                  size_t nlabels, char **id,
                                  struct berth_err *err);
int berth_engine_container_start(struct berth_engine *e, const char *id,
                                 struct berth_err *err);
int berth_engine_container_stop(struct berth_engine *e, const char *id,
                                int timeout_s, struct berth_err *err);
int berth_engine_container_restart(struct berth_engine *e, const char *id,
                                   int timeout_s, struct berth_err *err);
int berth_engine_container_remove(struct berth_engine *e, const char *id,
                                  bool force, bool volumes,
                                  struct berth_err *err);
int berth_engine_container_list(struct berth_engine *e,
                                const Berth__V1__ListContainersRequest *filter,
                                Berth__V1__ListContainersReply **out,
                                struct berth_err *err);
int berth_engine_container_inspect(struct berth_engine *e, const char *id,
                                   Berth__V1__ContainerDetail **out,
                                   struct berth_err *err);

/* The ops added with exec, logs, wait, archive, events and pods are
 * called through berth_engine_ops(e)->op(e, ...): same contracts as
 * documented in struct berth_engine_ops. */

/* --- For drivers and tests (appended) ------------------------------- */

struct berth_http_target; /* lib/engine_http.h */

/* The Docker Engine API v1.41 driver. Static. */
extern const struct berth_engine_ops berth_engine_docker_ops;

/* The Podman driver (its Docker-compatible API plus libpod for pulls and
 * pods). Static. */
extern const struct berth_engine_ops berth_engine_podman_ops;

/*
 * Where the engine's HTTP API is, for drivers and for tests that need a
 * raw request. Borrowed; valid until berth_engine_free().
 */
const struct berth_http_target *
berth_engine_http_target(const struct berth_engine *e);

/*
 * The configured shell for single-string commands ({"/bin/sh", "-c"}
 * when none was configured); `*n` receives its length. Borrowed; valid
 * until berth_engine_free().
 */
const char *const *berth_engine_shell(const struct berth_engine *e, size_t *n);

/* The per-request timeout in milliseconds (never 0). */
int berth_engine_timeout_ms(const struct berth_engine *e);

#endif
