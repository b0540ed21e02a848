/*
 * config.c: berth's configuration -- defaults, then the TOML file, then
 * the environment, then command-line flags (config.h).
 *
 * One table lists every setting with its TOML table, key and type; the
 * file loader, the environment and berth_config_set() all go through the
 * same check and apply steps, so a value refused in the file is refused
 * from a flag with the same words. Unknown names are errors, with a
 * did-you-mean when a known name is within two edits.
 */
#include "lib/config.h"

#include "lib/alloc.h"
#include "lib/toml.h"
#include "lib/validate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_BODY_MIN 1024
#define MAX_BODY_MAX (64 * 1024 * 1024)
#define SUN_PATH_MAX 107 /* sizeof(sockaddr_un.sun_path) - 1 */
#define NNG_ADDR_MAX 127 /* NNG_MAXADDRLEN - 1 */
#define LIST_MAX     16
#define DIR_PATH_MAX 4096
#define HOSTNAME_MAX 253

enum kind {
	K_STRING,
	K_BOOL,
	K_INT,
	K_LIST,
};

enum sid {
	S_RUNTIME,
	S_SOCKET_PATH,
	S_ROOTLESS,
	S_BUILD_DIR,
	S_SHELL,
	S_LISTEN,
	S_MAX_BODY,
	S_DATA_DIR,
	S_SVC_RUNTIME,
	S_SAFE_PATHS,
	S_HEALTH_DRIVER,
};

struct setting {
	const char *table;
	const char *key;
	const char *name; /* table.key, as berth_config_set() takes it */
	enum kind kind;
	enum sid id;
};

static const struct setting settings[] = {
	{ "docker", "runtime", "docker.runtime", K_STRING, S_RUNTIME },
	{ "docker", "socket_path", "docker.socket_path", K_STRING,
	  S_SOCKET_PATH },
	{ "docker", "rootless", "docker.rootless", K_BOOL, S_ROOTLESS },
	{ "docker", "build_dir", "docker.build_dir", K_STRING, S_BUILD_DIR },
	{ "docker", "shell", "docker.shell", K_LIST, S_SHELL },
	{ "gateway", "listen", "gateway.listen", K_STRING, S_LISTEN },
	{ "gateway", "max_body_bytes", "gateway.max_body_bytes", K_INT,
	  S_MAX_BODY },
	{ "data", "dir", "data.dir", K_STRING, S_DATA_DIR },
	{ "services", "runtime", "services.runtime", K_LIST, S_SVC_RUNTIME },
	{ "runtime", "safe_local_paths", "runtime.safe_local_paths", K_LIST,
	  S_SAFE_PATHS },
	{ "runtime", "health_driver", "runtime.health_driver", K_STRING,
	  S_HEALTH_DRIVER },
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

static const char *const tables[]
    = { "docker", "gateway", "data", "services", "runtime" };

#define NTABLES (sizeof(tables) / sizeof(tables[0]))

/* Environment variables, in the order they are applied. */
static const struct {
	const char *env;
	const char *name;
} env_overrides[] = {
	{ "BERTH_DATA", "data.dir" },
	{ "BERTH_HTTP", "gateway.listen" },
	{ "BERTH_RUNTIME", "docker.runtime" },
	{ "BERTH_DOCKER_SOCKET", "docker.socket_path" },
	{ "BERTH_RUNTIME_URL", "services.runtime" },
	{ "BERTH_SAFE_LOCAL_PATHS", "runtime.safe_local_paths" },
	{ "BERTH_HEALTH_DRIVER", "runtime.health_driver" },
	/* Seed 002's per-run override of the shell, comma-separated. */
	{ "BERTH_SHELL", "docker.shell" },
};

/* One value on its way into the config, whatever its source. */
struct value {
	const char *str;
	bool b;
	int64_t i;
	char *const *strs;
	size_t n;
};

static const char *kind_name(enum kind k)
{
	switch (k) {
	case K_STRING: return "a string";
	case K_BOOL: return "true or false";
	case K_INT: return "an integer";
	case K_LIST: return "an array of strings";
	}
	return "a value";
}

static const char *toml_type_name(enum berth_toml_type t)
{
	switch (t) {
	case BERTH_TOML_STRING: return "a string";
	case BERTH_TOML_INT: return "an integer";
	case BERTH_TOML_BOOL: return "a boolean";
	case BERTH_TOML_STRING_ARRAY: return "an array";
	}
	return "a value";
}

/* ---- did you mean ---- */

/* Levenshtein distance, or a large number for long strings. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[65];

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* The closest of `cands` within two edits of `s`, else one that `s`
 * begins, or NULL. */
static const char *closest(const char *s, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t bd = 3;

	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(s, cands[i]);

		if (d < bd) {
			bd = d;
			best = cands[i];
		}
	}
	/* "docker.socket" for "docker.socket_path": a cut-off name. */
	for (size_t i = 0; i < n && best == NULL && strlen(s) >= 3; i++) {
		if (strncmp(cands[i], s, strlen(s)) == 0)
			best = cands[i];
	}
	return best;
}

static const char *closest_key(const char *table, const char *key)
{
	const char *keys[NSETTINGS];
	size_t n = 0;

	for (size_t i = 0; i < NSETTINGS; i++) {
		if (strcmp(settings[i].table, table) == 0)
			keys[n++] = settings[i].key;
	}
	return closest(key, keys, n);
}

static const char *closest_name(const char *name)
{
	const char *names[NSETTINGS];

	for (size_t i = 0; i < NSETTINGS; i++)
		names[i] = settings[i].name;
	return closest(name, names, NSETTINGS);
}

/* ---- checks ---- */

static int bad(struct berth_err *err, const char *name, const char *s,
               const char *what)
{
	char q[BERTH_QUOTE_MAX * 2];

	berth_quote_for_msg(q, sizeof(q), s);
	return berth_err_set(err, BERTH_EINVAL, "%s: %s (got \"%s\")", name,
	                     what, q);
}

static bool port_ok(const char *s)
{
	unsigned long v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

static bool hostname_ok(const char *s, size_t n)
{
	if (n == 0 || n > HOSTNAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		      || (c >= '0' && c <= '9') || c == '-' || c == '.'))
			return false;
	}
	return s[0] != '-' && s[0] != '.';
}

/* host:port, host a name, IPv4 address or [IPv6] address. */
static int check_listen(const char *name, const char *s, struct berth_err *err)
{
	static const char *what = "must be host:port with port 1-65535 "
	                          "(IPv6 as [::1]:8080)";
	const char *colon;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		char v6[INET6_ADDRSTRLEN + 1];
		struct in6_addr a;
		size_t an;

		if (close == NULL || close[1] != ':')
			return bad(err, name, s, what);
		an = (size_t)(close - s) - 1;
		if (an == 0 || an >= sizeof(v6))
			return bad(err, name, s, what);
		memcpy(v6, s + 1, an);
		v6[an] = '\0';
		if (inet_pton(AF_INET6, v6, &a) != 1)
			return bad(err, name, s,
			           "host is not a valid IPv6 address");
		colon = close + 1;
	} else {
		colon = strchr(s, ':');
		if (colon == NULL || strchr(colon + 1, ':') != NULL)
			return bad(err, name, s, what);
		if (!hostname_ok(s, (size_t)(colon - s)))
			return bad(err, name, s,
			           "host must be a name or address of letters, "
			           "digits, '-' and '.'");
	}
	if (!port_ok(colon + 1))
		return bad(err, name, s, "port must be 1-65535");
	return 0;
}

static int check_url(const char *name, const char *s, struct berth_err *err)
{
	static const char *const schemes[]
	    = { "inproc://", "ipc://", "tcp://" };
	int rv;

	rv = berth_validate_text(name, s, NNG_ADDR_MAX, err);
	if (rv != 0)
		return rv;
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t n = strlen(schemes[i]);

		if (strncmp(s, schemes[i], n) == 0 && s[n] != '\0')
			return 0;
	}
	return bad(err, name, s,
	           "must be an nng address starting with inproc://, ipc:// "
	           "or tcp://");
}

static int check_path(const char *name, const char *s, size_t max,
                      bool absolute, struct berth_err *err)
{
	int rv;

	rv = berth_validate_text(name, s, max, err);
	if (rv != 0)
		return rv;
	if (s[0] == '\0')
		return berth_err_set(err, BERTH_EINVAL, "%s: must not be empty",
		                     name);
	if (absolute && s[0] != '/')
		return bad(err, name, s, "must be an absolute path");
	return 0;
}

static int check_list(const struct setting *st, const struct value *v,
                      struct berth_err *err)
{
	int rv;

	if (v->n == 0)
		return berth_err_set(err, BERTH_EINVAL,
		                     "%s: needs at least one element",
		                     st->name);
	if (v->n > LIST_MAX)
		return berth_err_set(err, BERTH_EINVAL,
		                     "%s: at most %d elements", st->name,
		                     LIST_MAX);
	for (size_t i = 0; i < v->n; i++) {
		if (st->id == S_SVC_RUNTIME) {
			rv = check_url(st->name, v->strs[i], err);
		} else if (st->id == S_SAFE_PATHS) {
			rv = check_path(st->name, v->strs[i], DIR_PATH_MAX,
			                true, err);
		} else {
			rv = berth_validate_text(st->name, v->strs[i],
			                         DIR_PATH_MAX, err);
			if (rv == 0 && v->strs[i][0] == '\0')
				rv = berth_err_set(err, BERTH_EINVAL,
				                   "%s: elements must not be "
				                   "empty",
				                   st->name);
		}
		if (rv != 0)
			return rv;
	}
	return 0;
}

/* Whether `v` is acceptable for `st`; message names the setting. */
static int check(const struct setting *st, const struct value *v,
                 struct berth_err *err)
{
	switch (st->id) {
	case S_RUNTIME:
		if (strcmp(v->str, "docker") == 0
		    || strcmp(v->str, "podman") == 0)
			return 0;
		return bad(err, st->name, v->str,
		           "must be \"docker\" or \"podman\"");
	case S_SOCKET_PATH:
		return check_path(st->name, v->str, SUN_PATH_MAX, true, err);
	case S_ROOTLESS: return 0;
	case S_BUILD_DIR:
	case S_DATA_DIR:
		return check_path(st->name, v->str, DIR_PATH_MAX, false, err);
	case S_LISTEN: return check_listen(st->name, v->str, err);
	case S_MAX_BODY:
		if (v->i >= MAX_BODY_MIN && v->i <= MAX_BODY_MAX)
			return 0;
		return berth_err_set(err, BERTH_EINVAL,
		                     "%s: must be %d (1 KiB) to %d (64 MiB), "
		                     "got %" PRId64,
		                     st->name, MAX_BODY_MIN, MAX_BODY_MAX,
		                     v->i);
	case S_SHELL:
	case S_SAFE_PATHS:
	case S_SVC_RUNTIME: return check_list(st, v, err);
	case S_HEALTH_DRIVER:
		if (strcmp(v->str, "auto") == 0 || strcmp(v->str, "on") == 0
		    || strcmp(v->str, "off") == 0)
			return 0;
		return bad(err, st->name, v->str,
		           "must be \"auto\", \"on\" or \"off\"");
	}
	return berth_err_set(err, BERTH_EINTERNAL, "%s: no check", st->name);
}

/* ---- apply ---- */

static char **dup_list(char *const *strs, size_t n)
{
	char **out = berth_calloc(n + 1, sizeof(char *));

	for (size_t i = 0; i < n; i++)
		out[i] = berth_strdup(strs[i]);
	return out;
}

static void free_list(char **l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; l[i] != NULL; i++)
		free(l[i]);
	free(l);
}

static void replace_str(char **dst, const char *s)
{
	char *copy = berth_strdup(s);

	free(*dst);
	*dst = copy;
}

static void replace_list(char ***dst, size_t *ndst, char *const *strs, size_t n)
{
	char **copy = dup_list(strs, n);

	free_list(*dst);
	*dst = copy;
	*ndst = n;
}

/* Stores an already checked value. */
static void apply(struct berth_config *cfg, const struct setting *st,
                  const struct value *v)
{
	switch (st->id) {
	case S_RUNTIME: replace_str(&cfg->runtime, v->str); break;
	case S_SOCKET_PATH: replace_str(&cfg->socket_path, v->str); break;
	case S_ROOTLESS: cfg->rootless = v->b; break;
	case S_BUILD_DIR: replace_str(&cfg->build_dir, v->str); break;
	case S_SHELL:
		replace_list(&cfg->shell, &cfg->nshell, v->strs, v->n);
		break;
	case S_LISTEN: replace_str(&cfg->http_listen, v->str); break;
	case S_MAX_BODY: cfg->max_body_bytes = (size_t)v->i; break;
	case S_DATA_DIR: replace_str(&cfg->data_dir, v->str); break;
	case S_SVC_RUNTIME:
		replace_list(&cfg->runtime_urls, &cfg->nruntime_urls, v->strs,
		             v->n);
		break;
	case S_SAFE_PATHS:
		replace_list(&cfg->safe_local_paths, &cfg->nsafe_local_paths,
		             v->strs, v->n);
		break;
	case S_HEALTH_DRIVER: replace_str(&cfg->health_driver, v->str); break;
	}
}

static const struct setting *find_setting(const char *table, const char *key)
{
	for (size_t i = 0; i < NSETTINGS; i++) {
		if (strcmp(settings[i].table, table) == 0
		    && strcmp(settings[i].key, key) == 0)
			return &settings[i];
	}
	return NULL;
}

static const struct setting *find_by_name(const char *name)
{
	for (size_t i = 0; i < NSETTINGS; i++) {
		if (strcmp(settings[i].name, name) == 0)
			return &settings[i];
	}
	return NULL;
}

/* Puts `prefix: ` in front of the message already in `err`. */
static int prefix_err(struct berth_err *err, int rv, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int prefix_err(struct berth_err *err, int rv, const char *fmt, ...)
{
	char prefix[BERTH_ERR_MSG_MAX], msg[BERTH_ERR_MSG_MAX];
	va_list ap;

	if (err == NULL)
		return rv;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(msg, err->msg, sizeof(msg));
	return berth_err_set(err, rv, "%s: %s", prefix, msg);
}

/* ---- from strings (flags and environment) ---- */

static int parse_size(const char *s, int64_t *out)
{
	int64_t v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 18)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Splits "a,b,c"; empty elements are kept (and refused by the check).
 * Caller owns *out; free with free_list(). */
static char **split_commas(const char *s, size_t *n_out)
{
	size_t n = 1, i = 0;
	char **out;
	const char *p = s;

	for (const char *c = s; *c != '\0'; c++)
		n += *c == ',';
	out = berth_calloc(n + 1, sizeof(char *));
	for (;;) {
		const char *comma = strchr(p, ',');

		if (comma == NULL) {
			out[i++] = berth_strdup(p);
			break;
		}
		out[i++] = berth_strndup(p, (size_t)(comma - p));
		p = comma + 1;
	}
	*n_out = i;
	return out;
}

int berth_config_set(struct berth_config *cfg, const char *name,
                     const char *value, struct berth_err *err)
{
	const struct setting *st;
	struct value v;
	char **list = NULL;
	const char *hint;
	int rv = 0;

	if (cfg == NULL || name == NULL || value == NULL)
		return berth_err_set(err, BERTH_EINVAL,
		                     "config: setting name and value required");
	st = find_by_name(name);
	if (st == NULL) {
		char q[BERTH_QUOTE_MAX * 2];

		berth_quote_for_msg(q, sizeof(q), name);
		hint = closest_name(name);
		if (hint != NULL)
			return berth_err_set(
			    err, BERTH_EINVAL,
			    "%s: unknown setting (did you mean "
			    "%s?)",
			    q, hint);
		return berth_err_set(err, BERTH_EINVAL, "%s: unknown setting",
		                     q);
	}
	memset(&v, 0, sizeof(v));
	switch (st->kind) {
	case K_STRING: v.str = value; break;
	case K_BOOL:
		if (strcmp(value, "true") == 0) {
			v.b = true;
		} else if (strcmp(value, "false") != 0) {
			rv = bad(err, st->name, value, "must be true or false");
			goto out;
		}
		break;
	case K_INT:
		if (parse_size(value, &v.i) != 0) {
			rv = bad(err, st->name, value,
			         "must be a decimal number of bytes");
			goto out;
		}
		break;
	case K_LIST:
		list = split_commas(value, &v.n);
		v.strs = list;
		break;
	}
	rv = check(st, &v, err);
	if (rv != 0)
		goto out;
	apply(cfg, st, &v);
out:
	free_list(list);
	return rv;
}

/* ---- from the file ---- */

static int read_file(char **out, size_t *len_out, const char *path,
                     struct berth_err *err)
{
	struct stat sb;
	char *text = NULL;
	size_t len = 0;
	int fd, rv = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		return berth_err_set(err,
		                     e == ENOENT       ? BERTH_ENOTFOUND
		                         : e == EACCES ? BERTH_EPERM
		                                       : BERTH_EUNAVAIL,
		                     "%s: cannot open: %s", path, strerror(e));
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		rv = berth_err_set(err, BERTH_EINVAL, "%s: not a regular file",
		                   path);
		goto out;
	}
	if (sb.st_size > BERTH_TOML_MAX_INPUT) {
		rv = berth_err_set(err, BERTH_ELIMIT,
		                   "%s: larger than %d bytes", path,
		                   BERTH_TOML_MAX_INPUT);
		goto out;
	}
	/* One byte more than the cap, to notice a file that grew. */
	text = berth_malloc(BERTH_TOML_MAX_INPUT + 2);
	while (len <= BERTH_TOML_MAX_INPUT) {
		ssize_t n
		    = read(fd, text + len, BERTH_TOML_MAX_INPUT + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rv = berth_err_set(err, BERTH_EUNAVAIL, "%s: read: %s",
			                   path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > BERTH_TOML_MAX_INPUT) {
		rv = berth_err_set(err, BERTH_ELIMIT,
		                   "%s: larger than %d bytes", path,
		                   BERTH_TOML_MAX_INPUT);
		goto out;
	}
	text[len] = '\0';
	*out = text;
	*len_out = len;
	text = NULL;
out:
	free(text);
	close(fd);
	return rv;
}

static int check_tables(const struct berth_toml *doc, const char *path,
                        struct berth_err *err)
{
	for (size_t i = 0; i < berth_toml_table_count(doc); i++) {
		const struct berth_toml_table *t = berth_toml_table_at(doc, i);
		const char *hint;
		char q[BERTH_QUOTE_MAX * 2];
		bool known = false;

		for (size_t j = 0; j < NTABLES && !known; j++)
			known = strcmp(t->name, tables[j]) == 0;
		if (known)
			continue;
		berth_quote_for_msg(q, sizeof(q), t->name);
		hint = closest(t->name, tables, NTABLES);
		if (hint != NULL)
			return berth_err_set(err, BERTH_EINVAL,
			                     "%s:%d: [%s]: unknown table (did "
			                     "you mean [%s]?)",
			                     path, t->line, q, hint);
		return berth_err_set(err, BERTH_EINVAL,
		                     "%s:%d: [%s]: unknown table (known: "
		                     "docker, gateway, data, services)",
		                     path, t->line, q);
	}
	return 0;
}

static int apply_entry(struct berth_config *cfg,
                       const struct berth_toml_entry *e, const char *path,
                       struct berth_err *err)
{
	const struct setting *st = find_setting(e->table, e->key);
	struct value v;
	char q[BERTH_QUOTE_MAX * 2];
	const char *hint;
	bool type_ok = false;
	int rv;

	if (st == NULL) {
		berth_quote_for_msg(q, sizeof(q), e->key);
		if (e->table[0] == '\0')
			return berth_err_set(err, BERTH_EINVAL,
			                     "%s:%d: %s: unknown key (settings "
			                     "go under [docker], [gateway], "
			                     "[data] or [services])",
			                     path, e->line, q);
		hint = closest_key(e->table, e->key);
		if (hint != NULL)
			return berth_err_set(
			    err, BERTH_EINVAL,
			    "%s:%d: %s.%s: unknown key (did you "
			    "mean %s?)",
			    path, e->line, e->table, q, hint);
		return berth_err_set(err, BERTH_EINVAL,
		                     "%s:%d: %s.%s: unknown key", path, e->line,
		                     e->table, q);
	}
	switch (st->kind) {
	case K_STRING: type_ok = e->type == BERTH_TOML_STRING; break;
	case K_BOOL: type_ok = e->type == BERTH_TOML_BOOL; break;
	case K_INT: type_ok = e->type == BERTH_TOML_INT; break;
	case K_LIST: type_ok = e->type == BERTH_TOML_STRING_ARRAY; break;
	}
	if (!type_ok)
		return berth_err_set(err, BERTH_EINVAL,
		                     "%s:%d: %s: expected %s, found %s", path,
		                     e->line, st->name, kind_name(st->kind),
		                     toml_type_name(e->type));
	memset(&v, 0, sizeof(v));
	v.str = e->str;
	v.b = e->b;
	v.i = e->i;
	v.strs = e->strs;
	v.n = e->nstrs;
	rv = check(st, &v, err);
	if (rv != 0)
		return prefix_err(err, rv, "%s:%d", path, e->line);
	apply(cfg, st, &v);
	return 0;
}

static int load_file(struct berth_config *cfg, const char *path,
                     struct berth_err *err)
{
	struct berth_toml *doc = NULL;
	char *text = NULL;
	size_t len = 0;
	int rv;

	rv = read_file(&text, &len, path, err);
	if (rv != 0)
		goto out;
	rv = berth_toml_parse(&doc, text, len, path, err);
	if (rv != 0)
		goto out;
	rv = check_tables(doc, path, err);
	if (rv != 0)
		goto out;
	for (size_t i = 0; i < doc->n; i++) {
		rv = apply_entry(cfg, &doc->entries[i], path, err);
		if (rv != 0)
			goto out;
	}
out:
	berth_toml_free(doc);
	free(text);
	return rv;
}

static void set_defaults(struct berth_config *cfg)
{
	static char *const shell[] = { "/bin/sh", "-c" };
	static char *const urls[] = { "inproc://berth/runtime" };

	cfg->runtime = berth_strdup("docker");
	cfg->socket_path = berth_strdup("/var/run/docker.sock");
	cfg->rootless = false;
	cfg->build_dir = berth_strdup("/tmp/berth/builds");
	cfg->shell = dup_list(shell, 2);
	cfg->nshell = 2;
	cfg->http_listen = berth_strdup("127.0.0.1:8080");
	cfg->max_body_bytes = 1024 * 1024;
	cfg->data_dir = berth_strdup("./var");
	cfg->runtime_urls = dup_list(urls, 1);
	cfg->nruntime_urls = 1;
	cfg->health_driver = berth_strdup("auto");
}

int berth_config_load(struct berth_config **out, const char *path,
                      struct berth_err *err)
{
	struct berth_config *cfg = berth_calloc(1, sizeof(*cfg));
	int rv = 0;

	set_defaults(cfg);
	if (path != NULL) {
		rv = load_file(cfg, path, err);
		if (rv != 0)
			goto out;
	}
	/* Empty variables count as unset, as a shell's VAR= often means. */
	for (size_t i = 0; i < sizeof(env_overrides) / sizeof(env_overrides[0]);
	     i++) {
		const char *v = getenv(env_overrides[i].env);

		if (v == NULL || v[0] == '\0')
			continue;
		rv = berth_config_set(cfg, env_overrides[i].name, v, err);
		if (rv != 0) {
			rv = prefix_err(err, rv, "%s", env_overrides[i].env);
			goto out;
		}
	}
	*out = cfg;
	cfg = NULL;
out:
	berth_config_free(cfg);
	return rv;
}

void berth_config_free(struct berth_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->runtime);
	free(cfg->health_driver);
	free(cfg->socket_path);
	free(cfg->build_dir);
	free_list(cfg->shell);
	free_list(cfg->safe_local_paths);
	free(cfg->http_listen);
	free(cfg->data_dir);
	free_list(cfg->runtime_urls);
	free(cfg);
}
