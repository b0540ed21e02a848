/*
 * events_sub.h: the gateway's subscription to the runtimes' event PUB
 * sockets, fanned out to Server-Sent Events clients (routes_events.c).
 */
#ifndef BERTH_GATEWAY_EVENTS_SUB_H
#define BERTH_GATEWAY_EVENTS_SUB_H

#include "gateway/gateway.h"
#include "lib/error.h"

struct gw_events;

/*
 * Subscribes to the event sockets named in `opts` (dialling or
 * listening as the options say). A gateway without event addresses
 * gets a handle that never delivers. Caller owns `*out`; free with
 * gw_events_stop().
 */
int gw_events_start(struct gw_events **out,
                    const struct berth_gateway_opts *opts,
                    struct berth_err *err);

/* Stops the subscription and ends every SSE stream. Accepts NULL. */
void gw_events_stop(struct gw_events *ev);

#endif
