/*
 * buf.h: a growable byte buffer with a hard size cap (curl's dynbuf idea).
 *
 * Every buffer that input fills (HTTP bodies, engine replies, log lines)
 * is one of these, so no peer can make berth allocate without bound.
 */
#ifndef BERTH_LIB_BUF_H
#define BERTH_LIB_BUF_H

#include <stddef.h>

struct berth_buf {
	char *data; /* always NUL-terminated when non-NULL */
	size_t len;
	size_t alloc;
	size_t max; /* appends past this fail with BERTH_ELIMIT */
};

/* Initialises an empty buffer that may grow to `max` bytes. */
void berth_buf_init(struct berth_buf *b, size_t max);

/* Releases the memory. Accepts NULL and an initialised empty buffer. */
void berth_buf_fini(struct berth_buf *b);

/* Empties the buffer, keeping its memory. */
void berth_buf_reset(struct berth_buf *b);

/*
 * Appends `n` bytes. Returns 0, or BERTH_ELIMIT (buffer unchanged) when
 * the result would exceed the cap.
 */
int berth_buf_append(struct berth_buf *b, const void *p, size_t n);

/* Appends a NUL-terminated string; as berth_buf_append(). */
int berth_buf_puts(struct berth_buf *b, const char *s);

/*
 * Hands the contents to the caller and leaves `b` empty. Caller owns the
 * result; free with free(). Never NULL (an empty buffer gives "").
 */
char *berth_buf_steal(struct berth_buf *b, size_t *len_out);

#endif
