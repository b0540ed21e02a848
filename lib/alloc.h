/*
 * alloc.h: allocation wrappers that abort on out-of-memory.
 *
 * berth treats running out of memory as fatal: every size that input
 * controls is capped before it is allocated, so an allocation failure
 * means the host is in trouble, and limping on would only hide it.
 */
#ifndef BERTH_LIB_ALLOC_H
#define BERTH_LIB_ALLOC_H

#include <stdarg.h>
#include <stddef.h>

/* Caller owns the result; free with free(). Never returns NULL. */
void *berth_malloc(size_t n);
void *berth_calloc(size_t count, size_t size);
void *berth_realloc(void *p, size_t n);

/* Copy of `s`, or NULL when `s` is NULL. Caller owns the result. */
char *berth_strdup(const char *s);

/* Copy of the first `n` bytes of `s`, NUL-terminated. Caller owns it. */
char *berth_strndup(const char *s, size_t n);

/* printf into a new string. Caller owns the result; free with free(). */
char *berth_asprintf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
char *berth_vasprintf(const char *fmt, va_list ap);

#endif
