/*
 * events_sub.h: the gateway's subscription to the runtimes' event PUB
 * sockets, fanned out to Server-Sent Events clients (routes_events.c).
 *
 * One SUB socket receives every runtime's berth.v1.Event messages; one
 * thread turns each into an SSE record
 *   id: <epoch>-<seq>\nevent: container|job\ndata: {json}\n\n
 * (epoch: 16 hex digits drawn at random when this feed starts, so an id
 * from another gateway process is recognised as foreign; seq: the
 * feed's own counter, strictly increasing across runtimes), keeps it in
 * a bounded ring (events_ring.h) and queues it for every client whose
 * filter matches.
 *
 * A client that comes back with the last id it saw (Last-Event-ID) gets
 * the matching records it missed replayed from the ring, then the live
 * stream, with no gap and no duplicate. When the ring cannot vouch for
 * the gap (a foreign epoch, an id that fell out of the ring, or a replay
 * larger than the client's queue) the client gets one "event: reset"
 * record first instead, saying events may have been missed. Every
 * stream's opening comment (or, for a resumed one, a comment after its
 * replay) carries the newest id, so a client that saw no event yet, or
 * none its filter takes, still resumes from where it (re)connected.
 * Each client's queue is bounded (GW_EVENTS_CLIENT_MAX bytes beyond what
 * its pump holds; one record larger than that is taken only into an
 * empty queue): a client that cannot keep up gets a final "event:
 * overflow" record and its stream ends, so memory never grows without
 * bound.
 * Idle streams get a ": keepalive" comment every 15 s and are poked
 * every second, so a client that left is noticed (the pump looks at
 * its socket) and freed within about a second.
 */
#ifndef BERTH_GATEWAY_EVENTS_SUB_H
#define BERTH_GATEWAY_EVENTS_SUB_H

#include "gateway/gateway.h"
#include "gateway/request.h"
#include "lib/error.h"

struct gw_events;

/* Bytes queued per SSE client before it is cut off. */
#define GW_EVENTS_CLIENT_MAX (256u * 1024u)
/* Seconds between keepalive comments on an idle stream. */
#define GW_EVENTS_KEEPALIVE_S 15
/*
 * The replay ring's bounds. By count: at the rates seen here (a busy
 * host: tens of events a second, Docker's health probes included) 4096
 * records cover a minute or more, longer than EventSource's 3 s retry
 * plus a network blip. By bytes: a record is usually under 1 KiB, but
 * labels and job objects can make one much larger, so 4 MiB caps the
 * gateway's memory for this whatever the runtimes send.
 */
#define GW_EVENTS_RING_COUNT 4096u
#define GW_EVENTS_RING_BYTES (4u * 1024u * 1024u)

/*
 * Subscribes to the event sockets named in `opts` (dialling or
 * listening as the options say). A gateway without event addresses
 * gets a handle that never delivers. Caller owns `*out`; free with
 * gw_events_stop().
 * Errors: BERTH_EINVAL (bad address), BERTH_EUNAVAIL (address in use).
 */
int gw_events_start(struct gw_events **out,
                    const struct berth_gateway_opts *opts,
                    struct berth_err *err);

/* Stops receiving: no event reaches a client after this, and new SSE
 * clients are ended at once. Accepts NULL; idempotent. */
void gw_events_quiesce(struct gw_events *ev);

/* Quiesces, then frees the feed and what is left of its clients. Call
 * it after the HTTP daemon has stopped (a client's pump calls back into
 * the feed until its connection is over). Accepts NULL. */
void gw_events_stop(struct gw_events *ev);

/*
 * Makes `rq`'s response an SSE stream of the events that match `type`
 * ("container", "job" or NULL for both) and `id` (a container id, id
 * prefix or name, or a job id; NULL for all). `last_id` (NULL for none)
 * is the last id the client saw, already checked with gw_ev_id_parse():
 * the records after it are replayed first, or an "event: reset" record
 * is sent when they cannot all be. Strings are copied. Call from a
 * handler (an MHD thread); the response is decided when it returns.
 */
void gw_events_attach(struct gw_events *ev, struct gw_req *rq, const char *type,
                      const char *id, const char *last_id);

#endif
