/*
 * berth.h: berth's C SDK, seed 000's Container / Instance interface in C.
 *
 * A program talks protobuf over nng straight to a berth runtime service
 * (proto/berth/v1/runtime.proto), without the REST gateway:
 *
 *     struct berth_client *c;     -- seed 000's Container
 *     struct berth_instance *i;   -- seed 000's Instance
 *
 *     berth_client_open(&c, "ipc:///run/berth/runtime.sock", &err);
 *     berth_pull_image(c, "alpine:3", &err);
 *     berth_start_container(c, "alpine:3", &opts, &i, &err);
 *     berth_instance_exec(i, argv, &res, &err);
 *     berth_instance_wait(i, &exit_code, &err);
 *     berth_stop_container(c, berth_instance_id(i), &err);
 *     berth_remove_container(c, berth_instance_id(i), &err);
 *     berth_instance_free(i);
 *     berth_client_close(c);
 *
 * Errors: every fallible function returns 0 or a negative code from
 * enum berth_code (lib/error.h: gRPC's codes negated), and fills the
 * caller's struct berth_err (which may be NULL) with the code, the
 * service's one-line message and its retryable flag. Codes a caller can
 * expect: BERTH_EINVAL (bad argument, checked here or by the service),
 * BERTH_ENOTFOUND (no such container or image), BERTH_EPRECOND (wrong
 * state, e.g. exec in a stopped container), BERTH_EPERM (a path outside
 * SafeLocalPaths), BERTH_EUNAVAIL (no runtime answers; retryable),
 * BERTH_ETIMEDOUT (a deadline passed), BERTH_EUNIMPL (the runtime does
 * not offer the operation).
 *
 * Out-parameters are assigned only on success.
 *
 * Threads: a client may be used from several threads at once (each call
 * has its own nng context); an instance is immutable after it is made
 * and may be shared the same way. Free an instance, and close a client,
 * only when no call on it is under way.
 *
 * The SDK is a library: it never prints, exits or logs.
 */
#ifndef BERTH_SDK_BERTH_H
#define BERTH_SDK_BERTH_H

#include "lib/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A connection to one runtime service (seed 000's Container). */
struct berth_client;

/* A container started through the SDK (seed 000's Instance). */
struct berth_instance;

/* A key/value pair (environment variable, label). Strings borrowed. */
struct berth_kv {
	const char *key;
	const char *value;
};

/* A bind mount of a host folder (on the runtime's host). */
struct berth_mount {
	const char *source; /* host path, inside SafeLocalPaths */
	const char *target; /* absolute path in the container */
	bool read_only;
};

/*
 * How to start a container: seed 000's Options, plus the command to run
 * and labels. Every pointer is borrowed by berth_start_container(),
 * which keeps its own copy. A zeroed struct is valid: the image's own
 * command, no mounts, no environment, removed when its command ends.
 */
struct berth_options {
	const struct berth_mount *mounts;
	size_t nmounts;
	const struct berth_kv *environment; /* values are never logged */
	size_t nenvironment;
	const char *working_dir; /* NULL = the image's */
	/* Narrows the operator's SafeLocalPaths for this container's code
	 * injection and mounts (never widens it: the runtime checks its own
	 * list too). NULL/0 = the operator's list as it is. */
	const char *const *safe_local_paths;
	size_t nsafe_local_paths;
	const char *name; /* NULL = the engine picks one */
	/* false (seed 000's default): the container is stopped and removed
	 * by the runtime once its command ends. */
	bool keep_alive;
	const char *const *command; /* argv, run as given; NULL = the image's */
	size_t ncommand;
	const struct berth_kv *labels; /* berth.* keys are reserved */
	size_t nlabels;
};

/* ------------------------------------------------------------ client */

/*
 * Connects to the runtime at `url` ("ipc:///path", "tcp://host:port",
 * "inproc://name" inside one process). The connection is made in the
 * background and remade when the runtime restarts, so this succeeds
 * even before the runtime is up; the first call then waits briefly for
 * it and fails BERTH_EUNAVAIL when none answers.
 * Caller owns `*out`; free with berth_client_close().
 * Errors: BERTH_EINVAL (bad url).
 */
int berth_client_open(struct berth_client **out, const char *url,
                      struct berth_err *err);

/*
 * Closes the connection and frees the client; calls under way on other
 * threads end with BERTH_ECANCELLED. Instances made with the client must
 * not be used afterwards (free them; they stay valid to free). Accepts
 * NULL.
 */
void berth_client_close(struct berth_client *c);

/*
 * The deadline of each short call (create, start, inspect, ...), in
 * milliseconds; 0 restores the default (60 s). Calls that wait (pull,
 * exec, wait, clone) take their own timeouts. Not thread-safe against
 * calls under way: set it right after berth_client_open().
 */
void berth_client_set_timeout_ms(struct berth_client *c, int timeout_ms);

/* ------------------------------------------------------------ images */

/*
 * Pulls `image` (":latest" is added when it has no tag or digest): starts
 * the runtime's pull job and follows it until it succeeds or fails, at
 * most 10 minutes.
 * Errors: the job's error code and message (BERTH_ENOTFOUND for an image
 * the registry does not have, BERTH_EUNAVAIL when the registry cannot be
 * reached), BERTH_ETIMEDOUT when the job outlives the deadline (it keeps
 * running in the runtime).
 */
int berth_pull_image(struct berth_client *c, const char *image,
                     struct berth_err *err);

/* As berth_pull_image(), waiting at most `timeout_ms` (> 0). */
int berth_pull_image_timeout(struct berth_client *c, const char *image,
                             int timeout_ms, struct berth_err *err);

/* -------------------------------------------------------- containers */

/*
 * Creates a container of `image` as `opts` says (NULL = defaults) and
 * starts it. The create carries a fresh request id, so a create resent
 * after a lost reply makes one container. When the start fails, the
 * container this call created is removed again: nothing is left
 * half-made.
 * Caller owns `*out`; free with berth_instance_free() (which does not
 * touch the container). `*out` borrows `c`: close the client after it.
 * Errors: BERTH_EINVAL (a field, named in the message), BERTH_ENOTFOUND
 * (the image is not on the engine: pull it first), BERTH_EPERM (a mount
 * outside SafeLocalPaths), BERTH_EEXISTS (the name is taken by another
 * configuration).
 */
int berth_start_container(struct berth_client *c, const char *image,
                          const struct berth_options *opts,
                          struct berth_instance **out, struct berth_err *err);

/*
 * Stops the container `id` (id, id prefix or name), giving its process
 * the engine's default grace period (10 s on Docker) before it is
 * killed. Stopping a stopped container succeeds.
 * Errors: BERTH_ENOTFOUND.
 */
int berth_stop_container(struct berth_client *c, const char *id,
                         struct berth_err *err);

/* As berth_stop_container() with a grace period of `timeout_s` seconds
 * (0 = kill at once, -1 = the engine's default). */
int berth_stop_container_timeout(struct berth_client *c, const char *id,
                                 int timeout_s, struct berth_err *err);

/*
 * Removes the stopped container `id` and its anonymous volumes.
 * Errors: BERTH_ENOTFOUND, BERTH_EPRECOND (it is running: stop it first,
 * or use berth_remove_container_force()).
 */
int berth_remove_container(struct berth_client *c, const char *id,
                           struct berth_err *err);

/* As berth_remove_container(), killing the container first if it runs. */
int berth_remove_container_force(struct berth_client *c, const char *id,
                                 struct berth_err *err);

/* ---------------------------------------------------------- instance */

/* The container's full id. Borrowed; valid until berth_instance_free(). */
const char *berth_instance_id(const struct berth_instance *inst);

/*
 * The options the container was started with (the instance's own copy;
 * fields that were NULL stay NULL). Borrowed; valid until
 * berth_instance_free().
 */
const struct berth_options *
berth_instance_options(const struct berth_instance *inst);

/* Frees the handle; the container itself is left as it is. Accepts
 * NULL. */
void berth_instance_free(struct berth_instance *inst);

/* The outcome of a command run in a container. */
struct berth_exec_result {
	int exit_code;     /* -1 when killed for the timeout */
	char *stdout_data; /* NUL-terminated (the output may hold NULs too) */
	size_t stdout_len; /* bytes before the terminating NUL */
	char *stderr_data;
	size_t stderr_len;
	bool timed_out;        /* the timeout passed; the process was killed */
	bool stdout_truncated; /* output past max_output_bytes was dropped */
	bool stderr_truncated;
	/* The cut was the runtime's shared output budget running out, not
	 * max_output_bytes: the whole output may come on a later try. */
	bool output_budget_exhausted;
	int64_t duration_ms;
};

/* Frees a result and its buffers. Accepts NULL. */
void berth_exec_result_free(struct berth_exec_result *res);

/* Per-command options of berth_instance_exec_ex(). Zeroed = defaults.
 * Strings borrowed for the call. */
struct berth_exec_opts {
	const struct berth_kv *env; /* added to the container's */
	size_t nenv;
	const char *working_dir;   /* NULL = the container's */
	const char *user;          /* NULL = the container's */
	int64_t timeout_ms;        /* 0 = none (the call waits up to 10 min) */
	uint64_t max_output_bytes; /* per stream; 0 = 1 MiB, at most 16 MiB */
};

/*
 * Runs `argv` (NULL-terminated, argv[0] non-NULL; run as given, no
 * shell) in the running container and waits for it to end. A command
 * that exits non-zero is a success of this call: look at
 * (*out)->exit_code.
 * Caller owns `*out`; free with berth_exec_result_free().
 * Errors: BERTH_EINVAL (empty argv), BERTH_ENOTFOUND, BERTH_EPRECOND (the
 * container is not running).
 */
int berth_instance_exec(const struct berth_instance *inst,
                        const char *const *argv, struct berth_exec_result **out,
                        struct berth_err *err);

/* As berth_instance_exec(); the process is killed after `timeout_ms`
 * (> 0) and (*out)->timed_out says so. */
int berth_instance_exec_timeout(const struct berth_instance *inst,
                                const char *const *argv, int64_t timeout_ms,
                                struct berth_exec_result **out,
                                struct berth_err *err);

/* As berth_instance_exec(), with per-command options (`opts` may be
 * NULL). */
int berth_instance_exec_ex(const struct berth_instance *inst,
                           const char *const *argv,
                           const struct berth_exec_opts *opts,
                           struct berth_exec_result **out,
                           struct berth_err *err);

/*
 * Copies the file or folder `local_path` (on the runtime's host, inside
 * SafeLocalPaths as narrowed by the instance's options) into folder
 * `container_path` of the container (made when missing). A folder's
 * contents land in container_path (`docker cp dir/. c:path`:
 * dir/a.txt becomes container_path/a.txt); a file lands under its own
 * name. Symlinks are copied as symlinks, never followed.
 * Errors: BERTH_EPERM (outside SafeLocalPaths, or none configured),
 * BERTH_ENOTFOUND (no such local path or container), BERTH_EINVAL
 * (container_path not absolute, a device or fifo in the tree).
 */
int berth_instance_inject_local_code(const struct berth_instance *inst,
                                     const char *local_path,
                                     const char *container_path,
                                     struct berth_err *err);

/* Credentials for a clone; strings borrowed for the call. Never logged
 * and never echoed in an error message. */
struct berth_git_credentials {
	const char *username;        /* https basic, or the ssh user */
	const char *password;        /* https password or token */
	const char *ssh_private_key; /* PEM / OpenSSH text */
	const char *ssh_passphrase;
	const char *ssh_known_hosts; /* known_hosts lines; NULL = not checked */
};

/* What to clone; strings borrowed for the call. */
struct berth_clone_opts {
	const char *branch; /* NULL = the remote's default */
	const char *commit; /* checked out after the clone when set */
	const struct berth_git_credentials *credentials; /* NULL = none */
	int timeout_ms;                                  /* 0 = 300 s */
	uint64_t max_bytes; /* 0 = 512 MiB of checkout */
};

/*
 * Clones `repo_url` (https://, http://, ssh://, git://) on the runtime's
 * host and uploads the checkout into folder `target_dir` of the
 * container: the image needs no git.
 * Errors: BERTH_EINVAL (a scheme that is not allowed, a relative
 * target_dir), BERTH_ENOTFOUND (no such repository or branch),
 * BERTH_EPERM (the git server refused the credentials or the access),
 * BERTH_ETIMEDOUT, BERTH_ELIMIT (checkout too large).
 */
int berth_instance_clone_repo(const struct berth_instance *inst,
                              const char *repo_url, const char *target_dir,
                              struct berth_err *err);

/*
 * As berth_instance_clone_repo() with a branch, commit, credentials and
 * limits (`opts` may be NULL). When `commit_out` is not NULL it receives
 * the checked-out commit id: caller owns `*commit_out`; free with
 * free().
 */
int berth_instance_clone_repo_ex(const struct berth_instance *inst,
                                 const char *repo_url, const char *target_dir,
                                 const struct berth_clone_opts *opts,
                                 char **commit_out, struct berth_err *err);

/*
 * Blocks until the container's command ends and gives its exit code.
 * A container that has already stopped answers at once.
 * Errors: BERTH_ENOTFOUND (no such container, e.g. removed by a
 * keep_alive=false start before the wait began).
 */
int berth_instance_wait(const struct berth_instance *inst, int *exit_code,
                        struct berth_err *err);

/* As berth_instance_wait(), giving up with BERTH_ETIMEDOUT after
 * `timeout_ms` (> 0). */
int berth_instance_wait_timeout(const struct berth_instance *inst,
                                int timeout_ms, int *exit_code,
                                struct berth_err *err);

#endif
