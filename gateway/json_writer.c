/*
 * json_writer.c: JSON written straight into a buffer (see json_writer.h).
 * The output is byte for byte what jansson's JSON_COMPACT dump gives for
 * the same values, so a reply does not change with how it was built.
 */
#include "gateway/json_writer.h"

#include "lib/validate.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void gw_jw_init(struct gw_jw *w, struct berth_buf *out)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
}

bool gw_jw_failed(const struct gw_jw *w)
{
	return w->failed || w->depth != 0 || w->skip_depth != 0;
}

static void put(struct gw_jw *w, const char *p, size_t n)
{
	if (!w->failed && berth_buf_append(w->out, p, n) != 0)
		w->failed = true;
}

/* The comma before an item that is not the first of its level. */
static void separate(struct gw_jw *w)
{
	if (w->need_comma[w->depth])
		put(w, ",", 1);
	w->need_comma[w->depth] = true;
}

/* Before a value. Inside an object its key already wrote the comma.
 * False when the value goes with a key that was left out, or sits
 * inside an object or array that was. */
static bool value_begins(struct gw_jw *w)
{
	if (w->skip_depth > 0)
		return false;
	if (w->skip_value) {
		w->skip_value = false;
		return false;
	}
	if (!w->is_object[w->depth])
		separate(w);
	return true;
}

static void open_level(struct gw_jw *w, char c, bool object)
{
	/* A left-out container: count its nesting, so that its own close
	 * (not the first inner one) ends the skip and writes nothing. */
	if (w->skip_depth > 0 || w->skip_value) {
		w->skip_value = false;
		w->skip_depth++;
		return;
	}
	if (!value_begins(w))
		return;
	if (w->depth >= GW_JW_MAX_DEPTH - 1) {
		w->failed = true;
		return;
	}
	put(w, &c, 1);
	w->depth++;
	w->need_comma[w->depth] = false;
	w->is_object[w->depth] = object;
}

static void close_level(struct gw_jw *w, char c)
{
	if (w->skip_depth > 0) {
		w->skip_depth--;
		return;
	}
	if (w->depth <= 0) {
		w->failed = true;
		return;
	}
	w->depth--;
	put(w, &c, 1);
}

void gw_jw_object_open(struct gw_jw *w)
{
	open_level(w, '{', true);
}

void gw_jw_object_close(struct gw_jw *w)
{
	close_level(w, '}');
}

void gw_jw_array_open(struct gw_jw *w)
{
	open_level(w, '[', false);
}

void gw_jw_array_close(struct gw_jw *w)
{
	close_level(w, ']');
}

/* Writes `s` quoted, escaping as jansson does: the two-character forms
 * for \b \f \n \r \t, \u00XX for other control bytes, nothing else. */
static void quoted(struct gw_jw *w, const char *s)
{
	const char *run = s, *p = s;

	put(w, "\"", 1);
	for (; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		char esc[8];
		size_t n = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(w, run, (size_t)(p - run));
		run = p + 1;
		esc[0] = '\\';
		switch (c) {
		case '"':
		case '\\': esc[1] = (char)c; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04X", c);
			n = 6;
			break;
		}
		put(w, esc, n);
	}
	put(w, run, (size_t)(p - run));
	put(w, "\"", 1);
}

void gw_jw_key(struct gw_jw *w, const char *literal)
{
	if (w->skip_depth > 0)
		return;
	separate(w);
	put(w, "\"", 1);
	put(w, literal, strlen(literal));
	put(w, "\":", 2);
}

void gw_jw_key_text(struct gw_jw *w, const char *key)
{
	if (w->skip_depth > 0)
		return;
	if (key == NULL || !berth_utf8_valid(key)) {
		w->skip_value = true;
		return;
	}
	separate(w);
	quoted(w, key);
	put(w, ":", 1);
}

void gw_jw_string(struct gw_jw *w, const char *s)
{
	if (!value_begins(w))
		return;
	quoted(w, s != NULL && berth_utf8_valid(s) ? s : "");
}

void gw_jw_int(struct gw_jw *w, int64_t v)
{
	char num[24];
	int n;

	if (!value_begins(w))
		return;
	n = snprintf(num, sizeof(num), "%" PRId64, v);
	put(w, num, (size_t)n);
}

void gw_jw_bool(struct gw_jw *w, bool v)
{
	if (!value_begins(w))
		return;
	if (v)
		put(w, "true", 4);
	else
		put(w, "false", 5);
}

void gw_jw_null(struct gw_jw *w)
{
	if (!value_begins(w))
		return;
	put(w, "null", 4);
}
