/*
 * buf.c: capped growable byte buffer (see buf.h).
 */
#include "lib/buf.h"

#include "lib/alloc.h"
#include "lib/error.h"

#include <stdlib.h>
#include <stdint.h>
#include <string.h>

void berth_buf_init(struct berth_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->max = max;
}

void berth_buf_fini(struct berth_buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
}

void berth_buf_reset(struct berth_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

int berth_buf_append(struct berth_buf *b, const void *p, size_t n)
{
	size_t need;

	if (n > b->max || b->len > b->max - n)
		return BERTH_ELIMIT;
	need = b->len + n + 1;
	if (need > b->alloc) {
		size_t grow = b->alloc < 256 ? 256 : b->alloc;

		while (grow < need)
			grow *= 2;
		/* Never past the cap (+1 for the NUL); a cap of SIZE_MAX
		 * has no +1 to give. */
		if (b->max < SIZE_MAX && grow > b->max + 1)
			grow = b->max + 1;
		b->data = berth_realloc(b->data, grow);
		b->alloc = grow;
	}
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int berth_buf_puts(struct berth_buf *b, const char *s)
{
	return berth_buf_append(b, s, strlen(s));
}

char *berth_buf_steal(struct berth_buf *b, size_t *len_out)
{
	char *p = b->data;

	if (len_out != NULL)
		*len_out = b->len;
	if (p == NULL)
		p = berth_strdup("");
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	return p;
}
