/*
 * pump.h: streamed (chunked) HTTP responses, fed from other threads.
 *
 * Logs that follow, streamed exec output and Server-Sent Events are
 * answered as one long chunked response. The handler (or its RPC
 * finish callback) turns the request's response into a pump; producers
 * on nng threads write into it; libmicrohttpd drains it on its own
 * threads. When nothing is buffered the connection is suspended, so an
 * idle stream costs no CPU; a write resumes it.
 *
 * Memory is bounded: past GW_PUMP_MAX_BUFFERED bytes a write is
 * refused with BERTH_ELIMIT and the producer waits for
 * GW_PUMP_DRAINED before it writes again (it stops reading from the
 * runtime meanwhile, so back-pressure reaches the engine).
 *
 * A client that goes away is noticed within about a second (the
 * producer calls gw_pump_poke() when it has nothing to send; the pump
 * then peeks at the idle socket), and the producer hears
 * GW_PUMP_CLOSED once: it then stops, closes what it opened and
 * releases its reference.
 */
#ifndef BERTH_GATEWAY_PUMP_H
#define BERTH_GATEWAY_PUMP_H

#include "gateway/request.h"

#include <stdbool.h>
#include <stddef.h>

#define GW_PUMP_MAX_BUFFERED (1024u * 1024u)

struct gw_pump;

enum gw_pump_event {
	GW_PUMP_DRAINED, /* buffered bytes fell under half the cap */
	GW_PUMP_CLOSED,  /* the client left or the response ended */
};

/* Runs on an MHD thread with no pump lock held; it may call
 * gw_pump_write() and gw_pump_release(). */
typedef void (*gw_pump_event_fn)(void *arg, enum gw_pump_event ev);

/*
 * Makes `rq`'s response a chunked stream of `content_type` with HTTP
 * `status` (plus any headers already added with gw_respond_header()).
 * Call it from a handler or an RPC finish callback (an MHD thread); the
 * server queues the response when that returns. `on_event` may be
 * NULL. The request keeps one reference; the caller gets another and
 * must drop it with gw_pump_release() when it stops producing.
 */
struct gw_pump *gw_pump_start(struct gw_req *rq, int status,
                              const char *content_type,
                              gw_pump_event_fn on_event, void *arg);

/*
 * Appends `len` bytes (copied). Thread-safe.
 * Errors: BERTH_ECANCELLED (the client is gone or the stream was
 * finished), BERTH_ELIMIT (too much is buffered: wait for
 * GW_PUMP_DRAINED; nothing was appended).
 */
int gw_pump_write(struct gw_pump *p, const void *data, size_t len);

/* No more data: the response ends once what is buffered is sent. */
void gw_pump_finish(struct gw_pump *p);

/* Lets MHD look at an idle connection, so a client that left is
 * noticed. Cheap; call it about once a second while idle. */
void gw_pump_poke(struct gw_pump *p);

/* Whether the client is gone or the stream finished. */
bool gw_pump_closed(struct gw_pump *p);

/* Drops the caller's reference. Accepts NULL. */
void gw_pump_release(struct gw_pump *p);

/* --- for server.c and respond.c ------------------------------------ */

/* The MHD response for a pump; NULL when MHD fails. */
struct MHD_Response *gw_pump_response(struct gw_pump *p);

/* The request is over (MHD's completed callback): no more resumes. */
void gw_pump_detach(struct gw_pump *p);

/* Ends every stream of `gw` (gateway stop), resuming the suspended ones
 * so MHD can close them. */
void gw_pumps_end_all(struct berth_gateway *gw);

#endif
