/*
 * engine_docker_internal.h: what the Docker driver's files share, and
 * what the Podman driver reuses (its compatible API is Docker's). Not
 * for use above lib/: everything else goes through engine.h.
 *
 * The driver is split by job: engine_docker_call.c (requests and error
 * mapping), engine_docker.c (images, container lifecycle, the ops
 * table), engine_docker_exec.c, engine_docker_logs.c (logs and the
 * 8-byte stream framing), engine_docker_wait.c, engine_docker_archive.c
 * and engine_docker_events.c.
 */
#ifndef BERTH_LIB_ENGINE_DOCKER_INTERNAL_H
#define BERTH_LIB_ENGINE_DOCKER_INTERNAL_H

#include "lib/buf.h"
#include "lib/engine.h"

#include <jansson.h>

/* Every request goes to this versioned prefix. */
#define API "/v1.41"

/* Engine messages kept in errors are cut to this (err->msg is 256). */
#define ENGINE_MSG_MAX 200

struct docker_reply {
	long status;
	struct berth_buf body;
	char msg[ENGINE_MSG_MAX]; /* engine message, one line */
};

void docker_reply_init(struct docker_reply *r);
void docker_reply_fini(struct docker_reply *r);

/* Initialises `r` as the answer of a streamed call that ended with HTTP
 * `status`: its engine message from the error body the stream kept.
 * Free with docker_reply_fini(). */
void docker_reply_of_stream(struct docker_reply *r, long status,
                            const struct berth_buf *errbody);

/*
 * One request to the engine. `path` is below /v1.41 and already
 * escaped; `body` (may be NULL) is serialised here. On return 0 the
 * status, body and (for non-2xx) the one-line message are in `r`.
 */
int docker_call(struct berth_engine *e, const char *method, const char *path,
                const json_t *body, long timeout_ms, struct docker_reply *r,
                struct berth_err *err);

/* As docker_call() below another API prefix (Podman's "/v4.0.0/libpod"). */
int docker_call_at(struct berth_engine *e, const char *prefix,
                   const char *method, const char *path, const json_t *body,
                   long timeout_ms, struct docker_reply *r,
                   struct berth_err *err);

/*
 * Maps a non-2xx status to a berth code with "<what>: <engine message>".
 * `conflict` is the code for 409 (EEXISTS or EPRECOND).
 */
int docker_map_status(const struct docker_reply *r, int conflict,
                      const char *what, struct berth_err *err);

/*
 * Splits a streamed reply into lines: each complete line (without its
 * newline) goes to `line`, a partial one waits in `carry` for the next
 * chunk. Returns 0, `line`'s non-zero value, or BERTH_ELIMIT when a line
 * outgrows `carry`'s cap (the caller words that message).
 */
int docker_split_lines(struct berth_buf *carry, const char *data, size_t len,
                       int (*line)(void *arg, const char *l, size_t n),
                       void *arg);

/* Parses a 2xx JSON body. Caller owns *out (json_decref). */
int docker_parse_json(const struct docker_reply *r, json_t **out,
                      const char *what, struct berth_err *err);

/* "<verb> container <id>" with the id cut short enough for a message.
 * Caller owns the result; free with free(). */
char *docker_what_container(const char *verb, const char *id);

/* A container id or name, checked with the library's allow-list so no
 * id can turn into another API path. */
int docker_check_id(const char *id, struct berth_err *err);

/* The ops of engine_docker.c (contracts in engine.h). */
int docker_ping(struct berth_engine *e, struct berth_err *err);
int docker_info(struct berth_engine *e, Berth__V1__RuntimeInfo **out,
                struct berth_err *err);
int docker_image_pull(struct berth_engine *e, const char *ref,
                      berth_engine_progress_fn progress, void *arg,
                      char **image_id, struct berth_err *err);
int docker_image_exists(struct berth_engine *e, const char *ref, bool *exists,
                        struct berth_err *err);
int docker_container_create(struct berth_engine *e,
                            const Berth__V1__ContainerSpec *spec,
                            const Berth__V1__KeyValue *const *labels,
                            size_t nlabels, char **id, struct berth_err *err);
int docker_container_start(struct berth_engine *e, const char *id,
                           struct berth_err *err);
int docker_container_stop(struct berth_engine *e, const char *id, int timeout_s,
                          struct berth_err *err);
int docker_container_restart(struct berth_engine *e, const char *id,
                             int timeout_s, struct berth_err *err);
int docker_container_remove(struct berth_engine *e, const char *id, bool force,
                            bool volumes, struct berth_err *err);
int docker_container_list(struct berth_engine *e,
                          const Berth__V1__ListContainersRequest *filter,
                          Berth__V1__ListContainersReply **out,
                          struct berth_err *err);
int docker_container_inspect(struct berth_engine *e, const char *id,
                             Berth__V1__ContainerDetail **out,
                             struct berth_err *err);

/* engine_docker_exec.c */
int docker_exec_create(struct berth_engine *e, const char *id,
                       const struct berth_exec_spec *spec, char **exec_id,
                       struct berth_err *err);
int docker_exec_start(struct berth_engine *e, const char *exec_id,
                      berth_engine_output_fn out, berth_engine_tick_fn tick,
                      void *arg, struct berth_err *err);
int docker_exec_inspect(struct berth_engine *e, const char *exec_id,
                        struct berth_exec_state *st, struct berth_err *err);

/* engine_docker_logs.c */
int docker_logs(struct berth_engine *e, const char *id,
                const struct berth_logs_opts *opts, berth_engine_output_fn out,
                berth_engine_tick_fn tick, void *arg, struct berth_err *err);

/* engine_docker_wait.c */
int docker_wait(struct berth_engine *e, const char *id, const char *condition,
                berth_engine_tick_fn tick, void *arg, int *exit_code,
                struct berth_err *err);

/* engine_docker_archive.c */
int docker_archive_put(struct berth_engine *e, const char *id, const char *path,
                       const void *tar, size_t len, struct berth_err *err);

/* engine_docker_events.c */
/* Whether an event attribute key describes the event ("name", "image",
 * "exitCode", "health_status", ...) rather than being a label of the
 * container. Shared by every source of engine events, so they agree. */
bool docker_event_meta_attr(const char *k);
int docker_events(struct berth_engine *e, int64_t since_unix_ms,
                  berth_engine_event_fn fn, berth_engine_tick_fn tick,
                  void *arg, struct berth_err *err);

#endif
