/*
 * events_ring.c: the bounded ring of recent SSE records and the
 * `<epoch>-<seq>` ids (events_ring.h).
 *
 * A circular array of `max_count` slots; each kept record is one
 * allocation holding its strings. `floor` is the sequence number from
 * which on the ring vouches for every record: it moves up to the seq of
 * each evicted record, so "after >= floor" means nothing the client
 * still needs was evicted.
 */
#include "gateway/events_ring.h"

#include "lib/alloc.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	struct gw_ev_rec rec;
	size_t cost; /* bytes charged against max_bytes */
	char *mem;   /* owns every string of rec */
};

struct gw_ev_ring {
	struct slot *slots; /* max_count of them */
	size_t max_count, max_bytes;
	size_t head;  /* index of the oldest held record */
	size_t count; /* records held */
	size_t bytes; /* sum of their cost */
	uint64_t floor;
	uint64_t newest;
};

struct gw_ev_ring *gw_ev_ring_alloc(size_t max_count, size_t max_bytes)
{
	struct gw_ev_ring *r = berth_calloc(1, sizeof(*r));

	assert(max_count > 0 && max_bytes > 0);
	r->slots = berth_calloc(max_count, sizeof(*r->slots));
	r->max_count = max_count;
	r->max_bytes = max_bytes;
	return r;
}

/* Drops the oldest record; the ring now vouches from its seq on. */
static void evict_oldest(struct gw_ev_ring *r)
{
	struct slot *s = &r->slots[r->head];

	r->floor = s->rec.seq;
	r->bytes -= s->cost;
	free(s->mem);
	memset(s, 0, sizeof(*s));
	r->head = (r->head + 1) % r->max_count;
	r->count--;
}

void gw_ev_ring_free(struct gw_ev_ring *r)
{
	if (r == NULL)
		return;
	while (r->count > 0)
		evict_oldest(r);
	free(r->slots);
	free(r);
}

/* Copies `s` (`n` bytes and a NUL) to *p and moves *p past it. */
static const char *put(char **p, const char *s, size_t n)
{
	char *at = *p;

	memcpy(at, s, n);
	at[n] = '\0';
	*p += n + 1;
	return at;
}

void gw_ev_ring_push(struct gw_ev_ring *r, uint64_t seq, const char *type,
                     const char *id, const char *name, const char *text,
                     size_t len)
{
	size_t tl = strlen(type), il = strlen(id);
	size_t nl = name != NULL ? strlen(name) : 0;
	size_t mem = tl + il + nl + len + 4;
	size_t cost = mem + sizeof(struct slot);
	struct slot *s;
	char *p;

	assert(seq > r->newest);
	r->newest = seq;
	if (cost > r->max_bytes) {
		/* Keeping it would evict everything anyway; without it the
		 * ring vouches from this record on. */
		while (r->count > 0)
			evict_oldest(r);
		r->floor = seq;
		return;
	}
	while (r->count > 0
	       && (r->count == r->max_count || r->bytes + cost > r->max_bytes))
		evict_oldest(r);
	s = &r->slots[(r->head + r->count) % r->max_count];
	s->mem = berth_malloc(mem);
	p = s->mem;
	s->rec.seq = seq;
	s->rec.type = put(&p, type, tl);
	s->rec.id = put(&p, id, il);
	s->rec.name = name != NULL ? put(&p, name, nl) : NULL;
	if (name == NULL)
		*p++ = '\0'; /* counted in mem: keeps the sum simple */
	s->rec.text = put(&p, text, len);
	s->rec.len = len;
	s->cost = cost;
	r->count++;
	r->bytes += cost;
}

uint64_t gw_ev_ring_newest(const struct gw_ev_ring *r)
{
	return r->newest;
}

uint64_t gw_ev_ring_oldest(const struct gw_ev_ring *r)
{
	return r->count > 0 ? r->slots[r->head].rec.seq : 0;
}

bool gw_ev_ring_covers(const struct gw_ev_ring *r, uint64_t after)
{
	return after >= r->floor && after <= r->newest;
}

int gw_ev_ring_each(const struct gw_ev_ring *r, uint64_t after,
                    int (*fn)(void *arg, const struct gw_ev_rec *rec),
                    void *arg)
{
	for (size_t i = 0; i < r->count; i++) {
		const struct slot *s = &r->slots[(r->head + i) % r->max_count];
		int rv;

		if (s->rec.seq <= after)
			continue;
		rv = fn(arg, &s->rec);
		if (rv != 0)
			return rv;
	}
	return 0;
}

void gw_ev_id_format(char out[GW_EV_ID_MAX], uint64_t epoch, uint64_t seq)
{
	snprintf(out, GW_EV_ID_MAX, "%016" PRIx64 "-%" PRIu64, epoch, seq);
}

int gw_ev_id_parse(uint64_t *epoch, uint64_t *seq, const char *s)
{
	uint64_t e = 0, q = 0;
	size_t i, n;

	for (i = 0; i < 16; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9')
			e = e << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			e = e << 4 | (uint64_t)(c - 'a' + 10);
		else
			return -1;
	}
	if (s[16] != '-')
		return -1;
	s += 17;
	n = strlen(s);
	if (n == 0 || n > 20 || (s[0] == '0' && n > 1))
		return -1;
	for (i = 0; i < n; i++) {
		uint64_t d;

		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (uint64_t)(s[i] - '0');
		if (q > (UINT64_MAX - d) / 10)
			return -1;
		q = q * 10 + d;
	}
	*epoch = e;
	*seq = q;
	return 0;
}
