/*
 * engine_podman_events_conf.c: finds Podman's event file: the
 * BERTH_PODMAN_EVENTS_FILE override, the one containers.conf key that
 * moves it, or the default (contract in engine_podman_events_conf.h).
 *
 * containers.conf is TOML, but one string key in one table is all that
 * is needed, so a line scanner suffices: table headers switch the
 * current table, `key = "value"` lines are matched only inside
 * [engine]. Multi-line strings and inline tables never hold this key.
 */
#include "lib/engine_podman_events_conf.h"

#include "lib/alloc.h"
#include "lib/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KEY "events_logfile_path"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* `[ name ]` header on [p, end): true, with the name in [*n, *n + *nl). */
static bool table_header(const char *p, const char *end, const char **n,
                         size_t *nl)
{
	const char *close;

	if (p == end || *p != '[')
		return false;
	p++;
	if (p < end && *p == '[') /* [[array]]: a table all the same */
		p++;
	while (p < end && is_blank(*p))
		p++;
	close = memchr(p, ']', (size_t)(end - p));
	if (close == NULL)
		return false;
	while (close > p && is_blank(close[-1]))
		close--;
	*n = p;
	*nl = (size_t)(close - p);
	return true;
}

/*
 * The string value at [p, end) (after "key ="): a basic string with
 * \" \\ \t escapes, or a literal string. 0 with the value in `b`, or
 * BERTH_EINVAL.
 */
static int string_value(const char *p, const char *end, struct berth_buf *b)
{
	char q;

	if (p == end || (*p != '"' && *p != '\''))
		return BERTH_EINVAL;
	q = *p++;
	if (q == '"' && end - p >= 2 && p[0] == '"' && p[1] == '"')
		return BERTH_EINVAL; /* """multi-line""": not for a path */
	while (p < end && *p != q) {
		char c = *p++;

		if (q == '"' && c == '\\') {
			if (p == end)
				return BERTH_EINVAL;
			c = *p++;
			if (c == 't')
				c = '\t';
			else if (c != '"' && c != '\\')
				return BERTH_EINVAL;
		}
		if (berth_buf_append(b, &c, 1) != 0)
			return BERTH_EINVAL;
	}
	if (p == end)
		return BERTH_EINVAL; /* unterminated */
	p++;
	while (p < end && is_blank(*p))
		p++;
	if (p < end && *p != '#')
		return BERTH_EINVAL;
	return 0;
}

int podman_conf_events_path(const char *text, size_t len, char **out)
{
	const char *p = text, *end = text + len;
	bool in_engine = false;
	int rv = BERTH_ENOTFOUND;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol != NULL ? eol : end;
		const char *name;
		size_t nl;

		while (p < le && is_blank(*p))
			p++;
		while (le > p && (le[-1] == '\r' || is_blank(le[-1])))
			le--;
		if (table_header(p, le, &name, &nl)) {
			in_engine = nl == 6 && memcmp(name, "engine", 6) == 0;
		} else if (in_engine && (size_t)(le - p) > strlen(KEY)
		           && memcmp(p, KEY, strlen(KEY)) == 0) {
			const char *v = p + strlen(KEY);
			struct berth_buf b;

			while (v < le && is_blank(*v))
				v++;
			if (v < le && *v == '=') {
				v++;
				while (v < le && is_blank(*v))
					v++;
				berth_buf_init(&b, 4096);
				rv = string_value(v, le, &b);
				if (rv == 0 && (b.len == 0 || b.data[0] != '/'))
					rv = BERTH_ENOTFOUND;
				if (rv == 0
				    && memchr(b.data, '\0', b.len) != NULL)
					rv = BERTH_EINVAL;
				if (rv == 0)
					*out = berth_buf_steal(&b, NULL);
				berth_buf_fini(&b);
				/* TOML forbids a key twice in one table: the
				 * first one decides. */
				return rv;
			}
		}
		p = eol != NULL ? eol + 1 : end;
	}
	return rv;
}

/* Reads a whole small file; NULL when missing, unreadable or too big. */
static char *slurp(const char *path, size_t *len)
{
	struct berth_buf b;
	char chunk[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return NULL;
	berth_buf_init(&b, PODMAN_CONF_MAX);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || berth_buf_append(&b, chunk, (size_t)n) != 0)
			break;
	}
	close(fd);
	if (n != 0) {
		berth_buf_fini(&b);
		return NULL;
	}
	return berth_buf_steal(&b, len);
}

void podman_events_file_locate_in(const char *const *confs, size_t nconfs,
                                  char **out, const char **source)
{
	const char *env = getenv(PODMAN_EVENTS_FILE_ENV);

	if (env != NULL && env[0] != '\0') {
		*out = berth_strdup(env);
		*source = "env";
		return;
	}
	for (size_t i = 0; i < nconfs; i++) {
		size_t len = 0;
		char *text = slurp(confs[i], &len);
		char *path = NULL;
		int rv;

		if (text == NULL)
			continue;
		rv = podman_conf_events_path(text, len, &path);
		free(text);
		if (rv == 0) {
			*out = path;
			*source = confs[i];
			return;
		}
	}
	*out = berth_strdup(PODMAN_EVENTS_FILE_DEFAULT);
	*source = "default";
}

void podman_events_file_locate(char **out, const char **source)
{
	static const char *const confs[] = {
		"/etc/containers/containers.conf",
		"/usr/share/containers/containers.conf",
	};

	podman_events_file_locate_in(confs, 2, out, source);
}
