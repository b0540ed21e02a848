/*
 * engine_mux.h: the engine's multiplexed stdout/stderr framing.
 *
 * Without a TTY, Docker and Podman send exec output and logs as frames:
 * an 8-byte header (stream byte 1 = stdout, 2 = stderr, three zero
 * bytes, a big-endian 32-bit payload length) and the payload. The
 * parser below takes the bytes in whatever chunks curl hands over and
 * calls back with each payload piece; a frame split across chunks comes
 * out as several pieces of the same stream. With a TTY there is no
 * framing: everything is stdout (`raw`).
 */
#ifndef BERTH_LIB_ENGINE_MUX_H
#define BERTH_LIB_ENGINE_MUX_H

#include "lib/engine.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct berth_mux {
	bool raw;
	unsigned char hdr[8];
	size_t hdr_len; /* header bytes seen of the current frame */
	uint32_t left;  /* payload bytes still to come */
	enum berth_output_stream stream;
};

/* Return 0 to go on; non-zero stops the parse and is returned. */
typedef int (*berth_mux_fn)(void *arg, enum berth_output_stream s,
                            const char *data, size_t len);

void berth_mux_init(struct berth_mux *m, bool raw);

/*
 * Feeds `len` bytes. Returns 0, the callback's non-zero value, or
 * BERTH_EINVAL when a header names a stream other than 0, 1 or 2 (0,
 * stdin, is passed on as stdout: engines echo it so).
 */
int berth_mux_feed(struct berth_mux *m, const char *data, size_t len,
                   berth_mux_fn fn, void *arg);

/* Whether the input so far ended on a frame boundary. */
bool berth_mux_at_boundary(const struct berth_mux *m);

#endif
