/*
 * toml.h: a small strict reader for the TOML subset berth's config uses.
 *
 * Supported: comments, [table] and [a.b] headers, bare and quoted keys,
 * basic "strings" (with \" \\ \n \t \uXXXX escapes) and 'literal'
 * strings, decimal integers (with optional sign and _ separators),
 * true/false, and arrays of strings (may span lines, trailing comma
 * allowed). Anything else -- floats, dates, inline tables, arrays of
 * tables, duplicate keys, redefined tables -- is an error naming the
 * line and column, never silently skipped.
 *
 * No C TOML library is packaged in Debian 12, hence this reader.
 */
#ifndef BERTH_LIB_TOML_H
#define BERTH_LIB_TOML_H

#include "lib/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum berth_toml_type {
	BERTH_TOML_STRING,
	BERTH_TOML_INT,
	BERTH_TOML_BOOL,
	BERTH_TOML_STRING_ARRAY,
};

/* One key/value. `table` is "" for top-level keys, else "docker" or "a.b". */
struct berth_toml_entry {
	char *table;
	char *key;
	enum berth_toml_type type;
	char *str;   /* STRING */
	int64_t i;   /* INT */
	bool b;      /* BOOL */
	char **strs; /* STRING_ARRAY */
	size_t nstrs;
	int line; /* where the key was written, for messages */
};

struct berth_toml {
	struct berth_toml_entry *entries;
	size_t n;
};

/*
 * Parses `text` (`len` bytes; may contain no NUL). `name` (e.g. the file
 * path) prefixes error messages: "berth.toml:3:9: expected '='".
 * Caller owns `*out`; free with berth_toml_free().
 * Errors: BERTH_EINVAL with the position in err->msg.
 */
int berth_toml_parse(struct berth_toml **out, const char *text, size_t len,
                     const char *name, struct berth_err *err);

/* Accepts NULL. */
void berth_toml_free(struct berth_toml *doc);

/* The entry for `table`/`key`, or NULL. Borrowed from `doc`. */
const struct berth_toml_entry *berth_toml_get(const struct berth_toml *doc,
                                              const char *table,
                                              const char *key);

/*
 * Table headers, in the order they appear. Config loaders use them to
 * refuse an unknown [table] even when it holds no keys.
 */
struct berth_toml_table {
	char *name; /* "docker" or "a.b" */
	int line;   /* where the header was written */
};

/* How many [table] headers `doc` has. */
size_t berth_toml_table_count(const struct berth_toml *doc);

/* The i-th header (i < berth_toml_table_count()). Borrowed from `doc`. */
const struct berth_toml_table *berth_toml_table_at(const struct berth_toml *doc,
                                                   size_t i);

/* Largest input berth_toml_parse() accepts; more is BERTH_ELIMIT. */
#define BERTH_TOML_MAX_INPUT (1024 * 1024)

#endif
