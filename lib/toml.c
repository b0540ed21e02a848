/*
 * toml.c: a strict reader for the TOML subset berth's config uses (toml.h).
 *
 * A hand-written line scanner: each line is blank, a [table] header or a
 * `key = value` pair. Values are strings, decimal integers, booleans and
 * arrays of strings; every other TOML construct is recognised well
 * enough to be refused by name ("floats are not supported") rather than
 * reported as a confusing syntax error. Nothing recurses, so no input
 * can exhaust the stack; the input itself is capped at
 * BERTH_TOML_MAX_INPUT.
 *
 * Duplicate keys and redefined tables are found through a hash set of
 * every path defined so far (tables explicit or implied, and values),
 * so a large file costs linear time, not quadratic.
 */
#include "lib/toml.h"

#include "lib/alloc.h"
#include "lib/buf.h"
#include "lib/validate.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The allocated document: the public part first, so the two convert. */
struct doc {
	struct berth_toml pub;
	size_t entries_cap;
	struct berth_toml_table *tables;
	size_t ntables;
	size_t tables_cap;
};

enum path_kind {
	PATH_TABLE_IMPLICIT, /* a prefix of a header: [a] for [a.b] */
	PATH_TABLE,          /* written as a header */
	PATH_VALUE,          /* a key with a value */
};

struct path_slot {
	char *key; /* encoded path (see path_join); NULL when empty */
	enum path_kind kind;
	int line;
};

struct path_set {
	struct path_slot *slots;
	size_t cap; /* a power of two */
	size_t n;
};

struct parser {
	const char *s;
	size_t len;
	size_t pos;
	int line;
	const char *name;
	struct berth_err *err;
	struct doc *doc;
	struct path_set paths;
	char *table;      /* current table, dotted, for entries */
	char *table_path; /* current table, encoded, for the path set */
};

/* ---- errors ---- */

/* Line and column (in characters, 1-based) of byte offset `at`. */
static void position(const struct parser *p, size_t at, int *line, int *col)
{
	int l = 1, c = 1;

	if (at > p->len)
		at = p->len;
	for (size_t i = 0; i < at; i++) {
		unsigned char ch = (unsigned char)p->s[i];

		if (ch == '\n') {
			l++;
			c = 1;
		} else if ((ch & 0xC0) != 0x80) {
			c++;
		}
	}
	*line = l;
	*col = c;
}

static int fail_at(struct parser *p, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_at(struct parser *p, size_t at, const char *fmt, ...)
{
	char what[BERTH_ERR_MSG_MAX];
	va_list ap;
	int line, col;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	position(p, at, &line, &col);
	return berth_err_set(p->err, BERTH_EINVAL, "%s:%d:%d: %s", p->name,
	                     line, col, what);
}

/* Names the byte at `at` for "unexpected ..." messages. */
static void describe_char(const struct parser *p, size_t at, char *dst,
                          size_t n)
{
	unsigned char c;

	if (at >= p->len) {
		snprintf(dst, n, "end of input");
		return;
	}
	c = (unsigned char)p->s[at];
	if (c == '\n' || c == '\r')
		snprintf(dst, n, "end of line");
	else if (c > 0x20 && c < 0x7F)
		snprintf(dst, n, "'%c'", c);
	else
		snprintf(dst, n, "byte 0x%02X", c);
}

/* ---- the path set ---- */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static struct path_slot *path_find(struct path_set *ps, const char *key)
{
	size_t mask = ps->cap - 1;
	size_t i = (size_t)hash_str(key) & mask;

	/* The table is never full (grown at half load): the loop ends. */
	while (ps->slots[i].key != NULL) {
		if (strcmp(ps->slots[i].key, key) == 0)
			return &ps->slots[i];
		i = (i + 1) & mask;
	}
	return &ps->slots[i];
}

static void path_grow(struct path_set *ps)
{
	struct path_set bigger;

	bigger.cap = ps->cap == 0 ? 64 : ps->cap * 2;
	bigger.n = 0;
	bigger.slots = berth_calloc(bigger.cap, sizeof(*bigger.slots));
	for (size_t i = 0; i < ps->cap; i++) {
		if (ps->slots[i].key != NULL) {
			*path_find(&bigger, ps->slots[i].key) = ps->slots[i];
			bigger.n++;
		}
	}
	free(ps->slots);
	*ps = bigger;
}

/* The slot for `key`: an existing one, or an empty one to fill. */
static struct path_slot *path_lookup(struct path_set *ps, const char *key)
{
	if ((ps->n + 1) * 2 > ps->cap)
		path_grow(ps);
	return path_find(ps, key);
}

/* Fills the empty slot `slot`; takes ownership of `key`. */
static void path_insert(struct path_set *ps, struct path_slot *slot, char *key,
                        enum path_kind kind, int line)
{
	slot->key = key;
	slot->kind = kind;
	slot->line = line;
	ps->n++;
}

static void path_set_fini(struct path_set *ps)
{
	for (size_t i = 0; i < ps->cap; i++)
		free(ps->slots[i].key);
	free(ps->slots);
	ps->slots = NULL;
	ps->cap = ps->n = 0;
}

/*
 * Appends one component to an encoded path. Components are stored as
 * "<length>:<bytes>" so that a quoted key holding a '.' cannot collide
 * with a dotted table name. Caller owns the result.
 */
static char *path_join(const char *base, const char *comp)
{
	return berth_asprintf("%s%zu:%s", base, strlen(comp), comp);
}

/* ---- scanning helpers ---- */

static bool at_end(const struct parser *p)
{
	return p->pos >= p->len;
}

static char peek(const struct parser *p)
{
	return at_end(p) ? '\0' : p->s[p->pos];
}

static bool is_control(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7F;
}

static bool is_bare_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
	    || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static void skip_ws(struct parser *p)
{
	while (!at_end(p) && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t'))
		p->pos++;
}

/* Skips a '#' comment up to (not including) the end of the line. */
static int skip_comment(struct parser *p)
{
	if (peek(p) != '#')
		return 0;
	p->pos++;
	while (!at_end(p)) {
		unsigned char c = (unsigned char)p->s[p->pos];
		size_t n;

		if (c == '\n' || c == '\r')
			return 0;
		if (is_control(c))
			return fail_at(p, p->pos,
			               "control character 0x%02X in comment",
			               c);
		n = berth_utf8_seq_len(p->s + p->pos, p->len - p->pos);
		if (n == 0)
			return fail_at(p, p->pos, "invalid UTF-8 in comment");
		p->pos += n;
	}
	return 0;
}

/* Consumes a newline ("\n" or "\r\n") if one is next; true if it did. */
static bool eat_newline(struct parser *p, int *rv)
{
	*rv = 0;
	if (peek(p) == '\n') {
		p->pos++;
		p->line++;
		return true;
	}
	if (peek(p) == '\r') {
		if (p->pos + 1 < p->len && p->s[p->pos + 1] == '\n') {
			p->pos += 2;
			p->line++;
			return true;
		}
		*rv = fail_at(p, p->pos,
		              "carriage return not followed by "
		              "a newline");
	}
	return false;
}

/* Whitespace, then an optional comment, then the end of the line. */
static int end_of_line(struct parser *p, const char *after)
{
	char what[32];
	int rv;

	skip_ws(p);
	rv = skip_comment(p);
	if (rv != 0)
		return rv;
	if (at_end(p))
		return 0;
	if (eat_newline(p, &rv) || rv != 0)
		return rv;
	describe_char(p, p->pos, what, sizeof(what));
	return fail_at(p, p->pos, "expected end of line after %s, found %s",
	               after, what);
}

/* Whitespace, comments and newlines (inside arrays). */
static int skip_blank(struct parser *p)
{
	int rv;

	for (;;) {
		skip_ws(p);
		rv = skip_comment(p);
		if (rv != 0)
			return rv;
		if (!eat_newline(p, &rv))
			return rv;
	}
}

/* ---- strings ---- */

static void put_utf8(struct berth_buf *b, uint32_t cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	/* Cannot fail: the buffer's cap is the input cap and escapes only
	 * shrink the text. */
	(void)berth_buf_append(b, u, n);
}

static int hex_escape(struct parser *p, size_t ndigits, struct berth_buf *b)
{
	size_t at = p->pos - 2; /* the backslash */
	uint32_t cp = 0;

	for (size_t i = 0; i < ndigits; i++) {
		char c = peek(p);
		uint32_t d;

		if (c >= '0' && c <= '9')
			d = (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (uint32_t)(c - 'A' + 10);
		else
			return fail_at(p, at,
			               "expected %zu hex digits after \\%c",
			               ndigits, ndigits == 4 ? 'u' : 'U');
		cp = cp * 16 + d;
		p->pos++;
	}
	if (cp == 0)
		return fail_at(p, at, "\\u0000 is not allowed in strings");
	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return fail_at(p, at, "escape is not a Unicode scalar value");
	put_utf8(b, cp);
	return 0;
}

static int string_escape(struct parser *p, struct berth_buf *b)
{
	size_t at = p->pos;
	char c, out;

	p->pos++; /* the backslash */
	c = peek(p);
	p->pos++;
	switch (c) {
	case 'b': out = '\b'; break;
	case 't': out = '\t'; break;
	case 'n': out = '\n'; break;
	case 'f': out = '\f'; break;
	case 'r': out = '\r'; break;
	case '"': out = '"'; break;
	case '\\': out = '\\'; break;
	case 'u': return hex_escape(p, 4, b);
	case 'U': return hex_escape(p, 8, b);
	default:
		return fail_at(p, at,
		               "invalid escape; expected \\b \\t \\n \\f \\r "
		               "\\\" \\\\ \\uXXXX or \\UXXXXXXXX");
	}
	(void)berth_buf_append(b, &out, 1);
	return 0;
}

/*
 * Reads a "basic" or 'literal' single-line string starting at the quote.
 * Caller owns *out; free with free().
 */
static int parse_string(struct parser *p, char **out)
{
	char quote = peek(p);
	size_t start = p->pos;
	struct berth_buf b;
	int rv = 0;

	berth_buf_init(&b, BERTH_TOML_MAX_INPUT);
	if (p->pos + 2 < p->len && p->s[p->pos + 1] == quote
	    && p->s[p->pos + 2] == quote) {
		rv = fail_at(p, start, "multi-line strings are not supported");
		goto out;
	}
	p->pos++;
	for (;;) {
		unsigned char c;
		size_t n;

		if (at_end(p) || p->s[p->pos] == '\n' || p->s[p->pos] == '\r') {
			rv = fail_at(
			    p, start,
			    "unterminated string: expected a closing %c "
			    "on the same line",
			    quote);
			goto out;
		}
		c = (unsigned char)p->s[p->pos];
		if (c == (unsigned char)quote) {
			p->pos++;
			break;
		}
		if (c == '\\' && quote == '"') {
			rv = string_escape(p, &b);
			if (rv != 0)
				goto out;
			continue;
		}
		if (is_control(c)) {
			rv = fail_at(p, p->pos,
			             "control character 0x%02X in string "
			             "(use an escape)",
			             c);
			goto out;
		}
		n = berth_utf8_seq_len(p->s + p->pos, p->len - p->pos);
		if (n == 0) {
			rv = fail_at(p, p->pos, "invalid UTF-8 in string");
			goto out;
		}
		(void)berth_buf_append(&b, p->s + p->pos, n);
		p->pos += n;
	}
	*out = berth_buf_steal(&b, NULL);
out:
	berth_buf_fini(&b);
	return rv;
}

/* A bare or quoted key. Caller owns *out. */
static int parse_key(struct parser *p, char **out)
{
	size_t start = p->pos;
	char what[32];

	if (peek(p) == '"' || peek(p) == '\'')
		return parse_string(p, out);
	while (!at_end(p) && is_bare_key_char(p->s[p->pos]))
		p->pos++;
	if (p->pos == start) {
		describe_char(p, start, what, sizeof(what));
		return fail_at(p, start,
		               "expected a key (letters, digits, _ and -, or "
		               "quoted), found %s",
		               what);
	}
	*out = berth_strndup(p->s + start, p->pos - start);
	return 0;
}

/* ---- values ---- */

static bool is_token_char(char c)
{
	return is_bare_key_char(c) || c == '+' || c == '.' || c == ':';
}

/* Parses a decimal integer token [start, end) as TOML allows it. */
static int parse_int(struct parser *p, size_t start, size_t end, int64_t *out)
{
	const char *t = p->s + start;
	size_t n = end - start, i = 0;
	bool neg = false, prev_digit = false;
	uint64_t v = 0, limit;
	size_t digits = 0;

	if (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-';
		i = 1;
	}
	if (i < n && t[i] == '0' && i + 1 < n)
		return fail_at(p, start,
		               "leading zeros are not allowed in "
		               "integers");
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < n; i++) {
		if (t[i] == '_') {
			if (!prev_digit || i + 1 >= n || t[i + 1] < '0'
			    || t[i + 1] > '9')
				return fail_at(p, start + i,
				               "'_' in an integer must stand "
				               "between digits");
			prev_digit = false;
			continue;
		}
		if (t[i] < '0' || t[i] > '9')
			return fail_at(
			    p, start,
			    "invalid integer: expected decimal digits");
		if (v > (limit - (uint64_t)(t[i] - '0')) / 10)
			return fail_at(p, start,
			               "integer does not fit in 64 bits");
		v = v * 10 + (uint64_t)(t[i] - '0');
		prev_digit = true;
		digits++;
	}
	if (digits == 0)
		return fail_at(p, start,
		               "invalid integer: expected decimal digits");
	if (neg)
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	return 0;
}

/*
 * A value that is neither a string nor an array: integer or boolean, or
 * a construct berth refuses by name.
 */
static int parse_scalar(struct parser *p, struct berth_toml_entry *e)
{
	size_t start = p->pos, end, n;
	const char *t, *u;
	char what[32];

	while (!at_end(p) && is_token_char(p->s[p->pos]))
		p->pos++;
	end = p->pos;
	n = end - start;
	t = p->s + start;
	if (n == 0) {
		describe_char(p, start, what, sizeof(what));
		if (peek(p) == '{')
			return fail_at(p, start,
			               "inline tables are not supported; use a "
			               "[table] header");
		return fail_at(p, start,
		               "expected a value (\"string\", integer, "
		               "true/false or [array of strings]), found %s",
		               what);
	}
	if (n == 4 && memcmp(t, "true", 4) == 0) {
		e->type = BERTH_TOML_BOOL;
		e->b = true;
		return 0;
	}
	if (n == 5 && memcmp(t, "false", 5) == 0) {
		e->type = BERTH_TOML_BOOL;
		e->b = false;
		return 0;
	}
	u = (t[0] == '+' || t[0] == '-') ? t + 1 : t;
	if ((size_t)(t + n - u) == 3
	    && (memcmp(u, "inf", 3) == 0 || memcmp(u, "nan", 3) == 0))
		return fail_at(p, start, "floats are not supported");
	if (u >= t + n || !(u[0] >= '0' && u[0] <= '9'))
		return fail_at(p, start,
		               "expected a value (\"string\", integer, "
		               "true/false or [array of strings]); strings "
		               "must be quoted");
	/* 1979-05-27, 07:32:00, 1979-05-27T07:32:00Z */
	if (memchr(t, ':', n) != NULL || (u == t && n >= 5 && t[4] == '-'))
		return fail_at(p, start, "dates and times are not supported");
	if (n >= 2 && u[0] == '0'
	    && (u[1] == 'x' || u[1] == 'o' || u[1] == 'b'))
		return fail_at(p, start, "only decimal integers are supported");
	for (size_t i = 0; i < n; i++) {
		if (t[i] == '.' || t[i] == 'e' || t[i] == 'E')
			return fail_at(p, start, "floats are not supported");
	}
	e->type = BERTH_TOML_INT;
	return parse_int(p, start, end, &e->i);
}

static int parse_array(struct parser *p, struct berth_toml_entry *e)
{
	size_t start = p->pos, cap = 0;
	char what[32];
	int rv;

	e->type = BERTH_TOML_STRING_ARRAY;
	e->strs = NULL;
	e->nstrs = 0;
	p->pos++; /* '[' */
	/* Every pass consumes input or returns: bounded by the input size. */
	for (;;) {
		char c, *s = NULL;

		rv = skip_blank(p);
		if (rv != 0)
			return rv;
		if (at_end(p))
			return fail_at(p, start,
			               "unterminated array: expected "
			               "']'");
		c = peek(p);
		if (c == ']') {
			p->pos++;
			return 0;
		}
		if (c == '[')
			return fail_at(p, p->pos,
			               "nested arrays are not supported");
		if (c != '"' && c != '\'') {
			if (e->nstrs > 0)
				return fail_at(
				    p, p->pos,
				    "mixed-type array: expected a "
				    "string like the elements before "
				    "it");
			return fail_at(p, p->pos,
			               "arrays may hold only strings");
		}
		rv = parse_string(p, &s);
		if (rv != 0)
			return rv;
		if (e->nstrs + 1 >= cap) {
			cap = cap == 0 ? 4 : cap * 2;
			e->strs = berth_realloc(e->strs, cap * sizeof(char *));
		}
		e->strs[e->nstrs++] = s;
		e->strs[e->nstrs] = NULL;
		rv = skip_blank(p);
		if (rv != 0)
			return rv;
		if (peek(p) == ',') {
			p->pos++;
			continue;
		}
		if (peek(p) == ']') {
			p->pos++;
			return 0;
		}
		if (at_end(p))
			return fail_at(p, start,
			               "unterminated array: expected "
			               "']'");
		describe_char(p, p->pos, what, sizeof(what));
		return fail_at(p, p->pos,
		               "expected ',' or ']' in array, found %s", what);
	}
}

static int parse_value(struct parser *p, struct berth_toml_entry *e)
{
	char c = peek(p);

	if (c == '"' || c == '\'') {
		e->type = BERTH_TOML_STRING;
		return parse_string(p, &e->str);
	}
	if (c == '[')
		return parse_array(p, e);
	if (c == '{')
		return fail_at(p, p->pos,
		               "inline tables are not supported; "
		               "use a [table] header");
	return parse_scalar(p, e);
}

static void entry_fini(struct berth_toml_entry *e)
{
	free(e->table);
	free(e->key);
	free(e->str);
	for (size_t i = 0; i < e->nstrs; i++)
		free(e->strs[i]);
	free(e->strs);
}

/* ---- lines ---- */

static int parse_header(struct parser *p)
{
	size_t start = p->pos;
	int line = p->line;
	char *name = berth_strdup(""), *path = berth_strdup("");
	char *key = NULL, what[32];
	struct path_slot *slot;
	int rv = 0;

	p->pos++; /* '[' */
	if (peek(p) == '[') {
		rv = fail_at(p, start,
		             "arrays of tables ([[...]]) are not supported");
		goto out;
	}
	for (;;) {
		char *next;

		skip_ws(p);
		rv = parse_key(p, &key);
		if (rv != 0)
			goto out;
		/* The prefix so far is an implied table, unless a value. */
		if (path[0] != '\0') {
			slot = path_lookup(&p->paths, path);
			if (slot->key == NULL) {
				path_insert(&p->paths, slot, path,
				            PATH_TABLE_IMPLICIT, line);
				path = berth_strdup(slot->key);
			} else if (slot->kind == PATH_VALUE) {
				rv = fail_at(
				    p, start,
				    "table [%s] conflicts with the key "
				    "%s defined on line %d",
				    name, name, slot->line);
				goto out;
			}
		}
		next = berth_asprintf("%s%s%s", name, name[0] ? "." : "", key);
		free(name);
		name = next;
		next = path_join(path, key);
		free(path);
		path = next;
		free(key);
		key = NULL;
		skip_ws(p);
		if (peek(p) == '.') {
			p->pos++;
			continue;
		}
		if (peek(p) == ']') {
			p->pos++;
			break;
		}
		describe_char(p, p->pos, what, sizeof(what));
		rv = fail_at(p, p->pos,
		             "expected '.' or ']' in table header, found %s",
		             what);
		goto out;
	}
	slot = path_lookup(&p->paths, path);
	if (slot->key != NULL && slot->kind == PATH_TABLE) {
		rv = fail_at(p, start,
		             "table [%s] is already defined on line %d", name,
		             slot->line);
		goto out;
	}
	if (slot->key != NULL && slot->kind == PATH_VALUE) {
		rv = fail_at(p, start,
		             "table [%s] conflicts with the key defined on "
		             "line %d",
		             name, slot->line);
		goto out;
	}
	if (slot->key == NULL) {
		path_insert(&p->paths, slot, berth_strdup(path), PATH_TABLE,
		            line);
	} else {
		slot->kind = PATH_TABLE;
		slot->line = line;
	}
	rv = end_of_line(p, "table header");
	if (rv != 0)
		goto out;
	if (p->doc->ntables == p->doc->tables_cap) {
		p->doc->tables_cap
		    = p->doc->tables_cap ? p->doc->tables_cap * 2 : 8;
		p->doc->tables = berth_realloc(p->doc->tables,
		                               p->doc->tables_cap
		                                   * sizeof(*p->doc->tables));
	}
	p->doc->tables[p->doc->ntables].name = berth_strdup(name);
	p->doc->tables[p->doc->ntables].line = line;
	p->doc->ntables++;
	free(p->table);
	free(p->table_path);
	p->table = name;
	p->table_path = path;
	name = path = NULL;
out:
	free(key);
	free(name);
	free(path);
	return rv;
}

static int parse_keyval(struct parser *p)
{
	struct berth_toml_entry e;
	struct path_slot *slot;
	size_t start = p->pos;
	char *path = NULL, what[32];
	int rv;

	memset(&e, 0, sizeof(e));
	e.line = p->line;
	rv = parse_key(p, &e.key);
	if (rv != 0)
		goto out;
	skip_ws(p);
	if (peek(p) == '.') {
		rv = fail_at(p, p->pos,
		             "dotted keys are not supported; put the key under "
		             "a [table] header");
		goto out;
	}
	if (peek(p) != '=') {
		describe_char(p, p->pos, what, sizeof(what));
		rv = fail_at(p, p->pos, "expected '=' after key, found %s",
		             what);
		goto out;
	}
	p->pos++;
	skip_ws(p);
	rv = parse_value(p, &e);
	if (rv != 0)
		goto out;
	rv = end_of_line(p, "value");
	if (rv != 0)
		goto out;
	path = path_join(p->table_path, e.key);
	slot = path_lookup(&p->paths, path);
	if (slot->key != NULL && slot->kind == PATH_VALUE) {
		rv = fail_at(
		    p, start,
		    "duplicate key '%s%s%s' (first defined on line %d)",
		    p->table, p->table[0] ? "." : "", e.key, slot->line);
		goto out;
	}
	if (slot->key != NULL) {
		rv = fail_at(p, start,
		             "key '%s%s%s' conflicts with the table defined on "
		             "line %d",
		             p->table, p->table[0] ? "." : "", e.key,
		             slot->line);
		goto out;
	}
	path_insert(&p->paths, slot, path, PATH_VALUE, e.line);
	path = NULL;
	e.table = berth_strdup(p->table);
	if (p->doc->pub.n == p->doc->entries_cap) {
		p->doc->entries_cap
		    = p->doc->entries_cap ? p->doc->entries_cap * 2 : 16;
		p->doc->pub.entries = berth_realloc(
		    p->doc->pub.entries,
		    p->doc->entries_cap * sizeof(*p->doc->pub.entries));
	}
	p->doc->pub.entries[p->doc->pub.n++] = e;
	memset(&e, 0, sizeof(e));
out:
	free(path);
	entry_fini(&e);
	return rv;
}

int berth_toml_parse(struct berth_toml **out, const char *text, size_t len,
                     const char *name, struct berth_err *err)
{
	struct parser p;
	const char *nul;
	int rv = 0;

	memset(&p, 0, sizeof(p));
	p.s = text;
	p.len = len;
	p.line = 1;
	p.name = name != NULL ? name : "<input>";
	p.err = err;
	p.table = berth_strdup("");
	p.table_path = berth_strdup("");
	p.doc = berth_calloc(1, sizeof(*p.doc));
	if (len > BERTH_TOML_MAX_INPUT) {
		rv = berth_err_set(err, BERTH_ELIMIT,
		                   "%s: larger than %d bytes", p.name,
		                   BERTH_TOML_MAX_INPUT);
		goto out;
	}
	if (text == NULL && len > 0) {
		rv = berth_err_set(err, BERTH_EINVAL, "%s: no text", p.name);
		goto out;
	}
	nul = len > 0 ? memchr(text, '\0', len) : NULL;
	if (nul != NULL) {
		rv = fail_at(&p, (size_t)(nul - text), "NUL byte in input");
		goto out;
	}
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		p.pos = 3; /* a UTF-8 byte order mark */
	/* Every line consumes input or fails: bounded by the input size. */
	while (!at_end(&p)) {
		skip_ws(&p);
		if (peek(&p) == '[')
			rv = parse_header(&p);
		else if (at_end(&p) || peek(&p) == '#' || peek(&p) == '\n'
		         || peek(&p) == '\r')
			rv = end_of_line(&p, "whitespace");
		else
			rv = parse_keyval(&p);
		if (rv != 0)
			goto out;
	}
	*out = &p.doc->pub;
	p.doc = NULL;
out:
	berth_toml_free(p.doc != NULL ? &p.doc->pub : NULL);
	path_set_fini(&p.paths);
	free(p.table);
	free(p.table_path);
	return rv;
}

void berth_toml_free(struct berth_toml *doc)
{
	struct doc *d = (struct doc *)doc;

	if (d == NULL)
		return;
	for (size_t i = 0; i < d->pub.n; i++)
		entry_fini(&d->pub.entries[i]);
	free(d->pub.entries);
	for (size_t i = 0; i < d->ntables; i++)
		free(d->tables[i].name);
	free(d->tables);
	free(d);
}

const struct berth_toml_entry *
berth_toml_get(const struct berth_toml *doc, const char *table, const char *key)
{
	if (doc == NULL || key == NULL)
		return NULL;
	if (table == NULL)
		table = "";
	for (size_t i = 0; i < doc->n; i++) {
		if (strcmp(doc->entries[i].table, table) == 0
		    && strcmp(doc->entries[i].key, key) == 0)
			return &doc->entries[i];
	}
	return NULL;
}

size_t berth_toml_table_count(const struct berth_toml *doc)
{
	const struct doc *d = (const struct doc *)doc;

	return d == NULL ? 0 : d->ntables;
}

const struct berth_toml_table *berth_toml_table_at(const struct berth_toml *doc,
                                                   size_t i)
{
	const struct doc *d = (const struct doc *)doc;

	if (d == NULL || i >= d->ntables)
		return NULL;
	return &d->tables[i];
}
