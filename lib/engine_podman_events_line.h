/*
 * engine_podman_events_line.h: one line of Podman's event file (its
 * "file" events_logger) turned into struct berth_engine_event, exactly
 * as the compatible /events stream would have been normalised by
 * engine_docker_events.c.
 *
 * A line is one JSON object, for example
 *   {"ContainerExitCode":137,"ID":"c2f6...","Image":"docker.io/x:latest",
 *    "Name":"web","Status":"died","Time":"2026-11-24T01:24:46.51Z",
 *    "Type":"container","Attributes":{"app":"web"}}
 * Podman omits ContainerExitCode when it is 0, and writes a container's
 * health as a top-level "health_status" member.
 */
#ifndef BERTH_LIB_ENGINE_PODMAN_EVENTS_LINE_H
#define BERTH_LIB_ENGINE_PODMAN_EVENTS_LINE_H

#include "lib/engine.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* Labels kept per event (as the compatible stream's driver keeps). */
#define PODMAN_EVENT_LABELS_MAX 256

/*
 * Room for one mapped event. After podman_event_map() `ev` is the
 * event; its strings point into this struct and into the JSON object it
 * was mapped from, so they are borrowed until either is reused or freed.
 * Large (about 16 KiB): allocate it, do not put it on a small stack.
 */
struct podman_event {
	struct berth_engine_event ev;
	char action[64];
	char health[32];
	Berth__V1__KeyValue kvs[PODMAN_EVENT_LABELS_MAX];
	const Berth__V1__KeyValue *kvp[PODMAN_EVENT_LABELS_MAX];
};

/*
 * Parses an RFC 3339 time as Podman writes it ("2026-11-24T01:24:48.05Z",
 * or with a "+01:00" offset; up to 9 fraction digits) into unix
 * nanoseconds. Returns 0, or BERTH_EINVAL (`*ns` untouched).
 */
int podman_event_time_parse(const char *s, int64_t *ns);

/*
 * Parses one line (without its newline; a trailing '\r' or spaces are
 * ignored) into its JSON object and its "Time".
 * Caller owns `*out`; free with json_decref(). Errors: BERTH_EINVAL (not
 * a JSON object, or no valid Time); out-params untouched then.
 */
int podman_event_line_parse(const char *line, size_t len, json_t **out,
                            int64_t *time_ns);

/* True when `j` is Podman's own "the event file was rotated" event
 * (Type "system", Status "log-rotation"). */
bool podman_event_is_rotation(const json_t *j);

/*
 * Maps a parsed line into `pe->ev` as the compatible stream gives it:
 * "remove" -> "destroy", "died" -> "die", "health_status" with the
 * state in ev.health_status, other statuses under their own names; the
 * exit code from ContainerExitCode (0 when absent); labels from
 * Attributes, without the keys the compatible stream uses for itself
 * (name, image, exitCode, ...). Returns true when `j` is a container
 * event with an ID and a Status, false (nothing to deliver) otherwise.
 */
bool podman_event_map(struct podman_event *pe, const json_t *j,
                      int64_t time_ns);

#endif
