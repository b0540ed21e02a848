/*
 * events_sub.c: the gateway's event subscription (events_sub.h).
 * STUB until its owner lands it: delivers nothing.
 */
#include "gateway/events_sub.h"

#include "lib/alloc.h"

#include <stdlib.h>

struct gw_events {
	int unused;
};

int gw_events_start(struct gw_events **out,
                    const struct berth_gateway_opts *opts,
                    struct berth_err *err)
{
	(void)opts;
	(void)err;
	*out = berth_calloc(1, sizeof(struct gw_events));
	return 0;
}

void gw_events_stop(struct gw_events *ev)
{
	free(ev);
}
