/*
 * events_pub.h: the runtime's event publisher: berth.v1.Event messages
 * (packed protobuf, one per nng message) on an nng PUB socket, for the
 * gateway's SUB side (gateway/events_sub.c) to fan out as Server-Sent
 * Events.
 *
 * All-in-one, the PUB socket listens on inproc://berth/events and the
 * gateway dials it; scaled out, the gateway listens and each runtime
 * dials its PUB to it. PUB/SUB drops messages for a subscriber that
 * cannot keep up: publishing never blocks the runtime.
 */
#ifndef BERTH_SERVICES_RUNTIME_EVENTS_PUB_H
#define BERTH_SERVICES_RUNTIME_EVENTS_PUB_H

#include "berth/v1/runtime.pb-c.h"
#include "lib/engine.h"
#include "lib/error.h"
#include "lib/jobs.h"

#include <stdbool.h>

struct events_pub;
struct berth_runtime;

/* The all-in-one address of the runtime's event PUB socket. */
#define RUNTIME_EVENTS_INPROC "inproc://berth/events"

/*
 * Opens a PUB socket that listens on `url` (or dials it when `dial`),
 * stamping every event with `source` (copied). A NULL or empty `url`
 * gives a publisher that drops everything.
 * Caller owns `*out`; free with events_pub_free().
 * Errors: BERTH_EINVAL (bad address), BERTH_EUNAVAIL (address in use).
 */
int events_pub_open(struct events_pub **out, const char *url, bool dial,
                    const char *source, struct berth_err *err);

/* Closes the socket. Accepts NULL. */
void events_pub_free(struct events_pub *p);

/*
 * Publishes `ev` after setting its seq (strictly increasing per
 * publisher), source and, when 0, time. `ev` is borrowed; its seq,
 * source and time_ms fields are overwritten. Thread-safe.
 */
void events_pub_send(struct events_pub *p, Berth__V1__Event *ev);

/* Publishes an engine container event. */
void events_pub_container(struct events_pub *p,
                          const struct berth_engine_event *ev);

/* Publishes a job event ("queued", "running", "progress", "succeeded",
 * "failed", "cancelled") with the job as stored. */
void events_pub_job(struct events_pub *p, const char *action,
                    const struct berth_job *job);

/* The runtime's publisher (service.c). Borrowed; valid until the
 * runtime stops; may be a publisher that drops everything. */
struct events_pub *runtime_pub(struct berth_runtime *rt);

#endif
