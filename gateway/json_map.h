/*
 * json_map.h: strict JSON -> protobuf and protobuf -> JSON for the
 * gateway's resources.
 *
 * Input is strict: one JSON object, no duplicate keys, no unknown keys,
 * every field of the expected type, every id/name/image/key/path checked
 * against the allow-lists of lib/validate.h. Each failure is BERTH_EINVAL
 * with a message naming the field ("unknown field \"imagee\"",
 * "ports: expected an object"). Messages never echo an environment value.
 *
 * The container body (POST /api/v1/containers):
 *   image (string, required), name, ports {"[ip:]hostport":"port[/proto]"},
 *   environment {k:v}, restart_policy "no"|"always"|"unless-stopped"|
 *   "on-failure"|"on-failure:N", command (string: run under the shell;
 *   array: argv), entrypoint [..], working_dir, labels {k:v},
 *   mounts [{source,target,read_only,type}],
 *   health {test [..], interval_ms|interval ("30s"), timeout_ms|timeout,
 *   retries, start_period_ms|start_period} (seed 004; test[0] is CMD,
 *   CMD-SHELL or NONE), resources {memory_bytes|memory ("512m" or bytes),
 *   nano_cpus|cpus (1.5), pids_limit (0 = berth's 4096; never unlimited)},
 *   networks [..] (the first at create, the rest connected before the
 *   create answers), read_only_rootfs, cap_drop [..] ("ALL" or names),
 *   cap_add [..], no_new_privileges, user ("uid[:gid]" or a name),
 *   keep_alive (seed 000; false = remove_on_exit true) and/or
 *   remove_on_exit (refused with a restart policy other than "no"),
 *   pod (Podman only; the runtime refuses it on Docker).
 */
#ifndef BERTH_GATEWAY_JSON_MAP_H
#define BERTH_GATEWAY_JSON_MAP_H

#include "lib/buf.h"
#include "lib/error.h"

#include "berth/v1/runtime.pb-c.h"

#include <jansson.h>
#include <stddef.h>

/*
 * Parses `len` bytes of `text` as one JSON object (duplicate keys
 * refused). Caller owns `*out`; free with json_decref().
 */
int gw_json_parse_object(json_t **out, const char *text, size_t len,
                         struct berth_err *err);

/*
 * Maps a container body to a ContainerSpec. `obj` is borrowed.
 * Caller owns `*out`; free with gw_container_spec_free().
 */
int gw_json_to_container_spec(Berth__V1__ContainerSpec **out, const json_t *obj,
                              struct berth_err *err);

/* gw_json_parse_object() then gw_json_to_container_spec(). */
int gw_container_spec_from_text(Berth__V1__ContainerSpec **out,
                                const char *text, size_t len,
                                struct berth_err *err);

/* Frees a spec made by this module. Accepts NULL. */
void gw_container_spec_free(Berth__V1__ContainerSpec *spec);

/*
 * Maps the pull body {"image": "..."} to the image reference.
 * Caller owns `*image`; free with free().
 */
int gw_json_to_pull_image(char **image, const json_t *obj,
                          struct berth_err *err);

/*
 * The list reply {"containers":[summary...]} written into `out` (the
 * reply the gateway sends most and largest, so it skips jansson).
 * BERTH_ELIMIT when `out`'s cap was reached. The message is borrowed.
 */
int gw_json_container_list(struct berth_buf *out,
                           const Berth__V1__ListContainersReply *r);

/*
 * Output mappings. Each returns a new JSON object (caller owns it;
 * free with json_decref()); the message is borrowed.
 *   summary: id name image state status created labels{} ports[]
 *            (the list's entries, and the start of a detail)
 *   detail:  the summary's fields plus image_id running exit_code
 *            started_at finished_at restart_count command entrypoint
 *            working_dir mounts restart_policy env_keys, and the
 *            options: health_status health_failing_streak
 *            health_last_output health{test interval_ms timeout_ms
 *            retries start_period_ms}|null resources{memory_bytes
 *            nano_cpus pids_limit} oom_killed pod networks
 *            read_only_rootfs user remove_on_exit keep_alive cap_drop
 *            cap_add no_new_privileges
 *   job:     id kind state progress detail result error{code,message}|null
 *            created_at updated_at (RFC 3339, UTC, milliseconds)
 *   info:    runtime socket_path rootless build_dir engine_version
 *            api_version os arch containers containers_running images
 */
json_t *gw_json_container_detail(const Berth__V1__ContainerDetail *d);
json_t *gw_json_job(const Berth__V1__Job *j);
json_t *gw_json_runtime_info(const Berth__V1__RuntimeInfo *info);

#endif
