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
 *   mounts [{source,target,read_only,type}].
 */
#ifndef BERTH_GATEWAY_JSON_MAP_H
#define BERTH_GATEWAY_JSON_MAP_H

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
 * Output mappings. Each returns a new JSON object (caller owns it;
 * free with json_decref()); the message is borrowed.
 *   summary: id name image state status created labels{} ports[]
 *   detail:  the summary's fields plus image_id running exit_code
 *            started_at finished_at restart_count command entrypoint
 *            working_dir mounts restart_policy env_keys
 *   job:     id kind state progress detail result error{code,message}|null
 *            created_at updated_at (RFC 3339, UTC, milliseconds)
 *   info:    runtime socket_path rootless build_dir engine_version
 *            api_version os arch containers containers_running images
 */
json_t *gw_json_container_summary(const Berth__V1__ContainerSummary *s);
json_t *gw_json_container_detail(const Berth__V1__ContainerDetail *d);
json_t *gw_json_job(const Berth__V1__Job *j);
json_t *gw_json_runtime_info(const Berth__V1__RuntimeInfo *info);

#endif
