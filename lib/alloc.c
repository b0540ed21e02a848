/*
 * alloc.c: allocation wrappers that abort on out-of-memory (see alloc.h).
 */
#include "lib/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t n)
{
	fprintf(stderr, "berth: out of memory allocating %zu bytes\n", n);
	abort();
}

void *berth_malloc(size_t n)
{
	void *p = malloc(n == 0 ? 1 : n);

	if (p == NULL)
		out_of_memory(n);
	return p;
}

void *berth_calloc(size_t count, size_t size)
{
	void *p = calloc(count == 0 ? 1 : count, size == 0 ? 1 : size);

	if (p == NULL)
		out_of_memory(count * size);
	return p;
}

void *berth_realloc(void *p, size_t n)
{
	void *q = realloc(p, n == 0 ? 1 : n);

	if (q == NULL)
		out_of_memory(n);
	return q;
}

char *berth_strdup(const char *s)
{
	if (s == NULL)
		return NULL;
	return berth_strndup(s, strlen(s));
}

char *berth_strndup(const char *s, size_t n)
{
	char *p = berth_malloc(n + 1);

	if (n > 0) /* s may be NULL when n is 0 (empty protobuf bytes) */
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *berth_vasprintf(const char *fmt, va_list ap)
{
	va_list ap2;
	int n;
	char *p;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		n = 0;
	p = berth_malloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *berth_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = berth_vasprintf(fmt, ap);
	va_end(ap);
	return p;
}
