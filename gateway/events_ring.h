/*
 * events_ring.h: the gateway's memory of its most recent SSE records, so
 * a client that reconnects with Last-Event-ID gets what it missed
 * (events_sub.c), and the `<epoch>-<seq>` ids that make that possible.
 *
 * The ring keeps the newest records, each with what the SSE filters look
 * at (type, container or job id, container name) and its whole SSE text,
 * bounded both by count and by bytes: the oldest record goes first when
 * either bound would be passed. Records are pushed with strictly
 * increasing sequence numbers. The ring knows from which sequence number
 * on it can vouch for every record: a client whose last seen sequence
 * number is at or past that point (and not past the newest) can be
 * replayed without a gap; any other must be told it missed events.
 *
 * Not thread-safe: the caller locks (events_sub.c holds ev->mu).
 */
#ifndef BERTH_GATEWAY_EVENTS_RING_H
#define BERTH_GATEWAY_EVENTS_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw_ev_ring;

/* One record as the ring holds it. Borrowed; valid until the next
 * gw_ev_ring_push() or gw_ev_ring_free(). */
struct gw_ev_rec {
	uint64_t seq;
	const char *type; /* "container" or "job" */
	const char *id;   /* container or job id */
	const char *name; /* container name, or NULL */
	const char *text; /* the SSE record, "id: ...\n...\n\n" */
	size_t len;       /* strlen(text) */
};

/*
 * A ring that holds at most `max_count` records and `max_bytes` bytes
 * (each record's text, strings and bookkeeping counted). Both must be
 * > 0. Caller owns the result; free with gw_ev_ring_free().
 */
struct gw_ev_ring *gw_ev_ring_alloc(size_t max_count, size_t max_bytes);

/* Frees the ring and its records. Accepts NULL. */
void gw_ev_ring_free(struct gw_ev_ring *r);

/*
 * Appends a record (every string copied; `name` may be NULL), evicting
 * the oldest ones as the bounds require. `seq` must be greater than
 * every sequence number pushed before (asserted). A record that alone
 * is larger than the byte bound empties the ring and is not kept: the
 * ring then vouches only for what comes after it.
 */
void gw_ev_ring_push(struct gw_ev_ring *r, uint64_t seq, const char *type,
                     const char *id, const char *name, const char *text,
                     size_t len);

/* The newest sequence number pushed (kept or not), or 0 before any. */
uint64_t gw_ev_ring_newest(const struct gw_ev_ring *r);

/* The oldest sequence number still held, or 0 when the ring is empty. */
uint64_t gw_ev_ring_oldest(const struct gw_ev_ring *r);

/*
 * Whether every record after `after` (a last seen sequence number) up
 * to the newest is still held, so replaying them leaves no gap. True
 * for `after` == the newest (nothing missed); false for an `after` from
 * the future (never issued) or one whose successors were evicted.
 */
bool gw_ev_ring_covers(const struct gw_ev_ring *r, uint64_t after);

/*
 * Calls `fn` on every held record with seq > `after`, oldest first,
 * until it returns non-zero (then returns that value). Returns 0 when
 * all were visited. `fn` must not push.
 */
int gw_ev_ring_each(const struct gw_ev_ring *r, uint64_t after,
                    int (*fn)(void *arg, const struct gw_ev_rec *rec),
                    void *arg);

/* --- ids ------------------------------------------------------------ */

/* Characters of an id "<16 hex>-<seq>", with its NUL. */
#define GW_EV_ID_MAX (16 + 1 + 20 + 1)

/* Writes the id of (`epoch`, `seq`) into `out` (GW_EV_ID_MAX bytes):
 * the epoch as 16 lowercase hex digits, a '-', the seq in decimal. */
void gw_ev_id_format(char out[GW_EV_ID_MAX], uint64_t epoch, uint64_t seq);

/*
 * Parses an id written by gw_ev_id_format(), strictly: exactly 16
 * lowercase hex digits, '-', 1 to 20 decimal digits without a leading
 * zero (but "0") that fit in 64 bits, nothing else. Sets *epoch and *seq
 * on success only. Returns 0, or -1 when `s` is not such an id.
 */
int gw_ev_id_parse(uint64_t *epoch, uint64_t *seq, const char *s);

#endif
