/*
 * json_writer.h: JSON written straight into a buffer, for the replies
 * the gateway sends most and largest (the container list). Building a
 * jansson tree for 200 containers and dumping it costs a malloc per
 * value and most of the request's CPU; this writes each value once.
 *
 * Strings follow the rules of the jansson-built replies: NULL is "",
 * text that is not valid UTF-8 (berth_utf8_valid(), jansson's rules) is
 * written as "" (a value) or left out with its value (an object key
 * given by gw_jw_key_text()).
 *
 * A writer that ran into its buffer's cap remembers it; check
 * gw_jw_failed() once at the end rather than after every call.
 */
#ifndef BERTH_GATEWAY_JSON_WRITER_H
#define BERTH_GATEWAY_JSON_WRITER_H

#include "lib/buf.h"

#include <stdbool.h>
#include <stdint.h>

#define GW_JW_MAX_DEPTH 16

struct gw_jw {
	struct berth_buf *out; /* borrowed */
	int depth;
	bool need_comma[GW_JW_MAX_DEPTH]; /* per level: not its first item */
	bool is_object[GW_JW_MAX_DEPTH];  /* per level: values follow keys */
	bool skip_value; /* the key was left out: so is its value */
	int skip_depth;  /* > 0: inside a left-out object or array */
	bool failed;
};

/* Starts writing at the end of `out` (borrowed for the writer's life). */
void gw_jw_init(struct gw_jw *w, struct berth_buf *out);

void gw_jw_object_open(struct gw_jw *w);
void gw_jw_object_close(struct gw_jw *w);
void gw_jw_array_open(struct gw_jw *w);
void gw_jw_array_close(struct gw_jw *w);

/* An object key that is a literal of the program: written as given. */
void gw_jw_key(struct gw_jw *w, const char *literal);

/* An object key from data (a label's key): escaped; when it is not valid
 * UTF-8 (or NULL) the key and the value written next are both left out,
 * as jansson leaves them out: a scalar, or a whole object or array with
 * everything written into it up to its close. */
void gw_jw_key_text(struct gw_jw *w, const char *key);

void gw_jw_string(struct gw_jw *w, const char *s);
void gw_jw_int(struct gw_jw *w, int64_t v);
void gw_jw_bool(struct gw_jw *w, bool v);
void gw_jw_null(struct gw_jw *w);

/* True when an append failed (the buffer's cap) or the nesting went past
 * GW_JW_MAX_DEPTH: the output is then incomplete. */
bool gw_jw_failed(const struct gw_jw *w);

#endif
