/*
 * safe_path.c: resolving a host path beneath the operator's (and the
 * request's) SafeLocalPaths with openat2(RESOLVE_BENEATH) from opened
 * roots. The string work here only splits the path into components to
 * find which root it names and what is left to resolve; deciding whether
 * the rest stays inside is the kernel's job, on descriptors.
 */
#include "lib/safe_path.h"

#include "lib/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* A path split into components ("." and empty ones dropped). */
struct comps {
	char *buf; /* owned copy of the path, NULs between components */
	char **v;  /* owned array; the strings point into buf */
	size_t n;
};

static void comps_fini(struct comps *c)
{
	free(c->buf);
	free(c->v);
	c->buf = NULL;
	c->v = NULL;
	c->n = 0;
}

static void comps_split(struct comps *c, const char *path)
{
	size_t len = strlen(path);
	char *p;

	c->buf = berth_strdup(path);
	c->v = berth_calloc(len / 2 + 2, sizeof(char *));
	c->n = 0;
	p = c->buf;
	while (*p != '\0') {
		char *start;

		while (*p == '/')
			*p++ = '\0';
		if (*p == '\0')
			break;
		start = p;
		while (*p != '\0' && *p != '/')
			p++;
		if (*p == '/')
			*p++ = '\0';
		if (strcmp(start, ".") != 0)
			c->v[c->n++] = start;
	}
}

/* Components [from, to) of `c` joined with '/', or "." when empty. */
static char *comps_join(const struct comps *c, size_t from, size_t to)
{
	size_t len = 2;
	char *s, *p;

	for (size_t i = from; i < to; i++)
		len += strlen(c->v[i]) + 1;
	s = berth_malloc(len);
	p = s;
	for (size_t i = from; i < to; i++) {
		size_t l = strlen(c->v[i]);

		if (i > from)
			*p++ = '/';
		memcpy(p, c->v[i], l);
		p += l;
	}
	if (p == s)
		*p++ = '.';
	*p = '\0';
	return s;
}

/*
 * Number of components of `root` when they are the first components of
 * `path` (whole components: "safe-x" never matches "safe"), else 0. A
 * ".." inside the matched part never matches.
 */
static size_t root_match(const struct comps *root, const struct comps *path)
{
	if (root->n > path->n)
		return 0;
	for (size_t i = 0; i < root->n; i++) {
		if (strcmp(path->v[i], "..") == 0
		    || strcmp(root->v[i], path->v[i]) != 0)
			return 0;
	}
	return root->n == 0 ? SIZE_MAX : root->n; /* "/" itself: all */
}

int berth_safe_path_check(const char *field, const char *path,
                          struct berth_err *err)
{
	size_t len;

	if (path == NULL || path[0] == '\0')
		return berth_err_set(err, BERTH_EINVAL, "%s is required",
		                     field);
	len = strnlen(path, BERTH_SAFE_PATH_MAX + 1);
	if (len > BERTH_SAFE_PATH_MAX)
		return berth_err_set(err, BERTH_EINVAL,
		                     "%s is longer than %d bytes", field,
		                     BERTH_SAFE_PATH_MAX);
	if (path[0] != '/')
		return berth_err_set(err, BERTH_EINVAL,
		                     "%s must be an absolute host path", field);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)path[i];

		if (ch < 0x20 || ch == 0x7f)
			return berth_err_set(err, BERTH_EINVAL,
			                     "%s holds a control character",
			                     field);
	}
	return 0;
}

/* Symlinks followed in one resolution at most, as the kernel's limit. */
#define WALK_MAX_LINKS 40
#define WALK_MAX_DEPTH 256

static void close_stack(int *stack, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close(stack[i]);
}

/*
 * What openat2(RESOLVE_BENEATH) does, one component at a time, for
 * kernels (and valgrind) without openat2: every component is opened
 * with O_NOFOLLOW from its opened parent; ".." pops berth's own stack
 * of opened folders instead of asking the kernel, so a folder moved
 * away meanwhile cannot lead out; a relative symlink is expanded in
 * place, an absolute one or one that climbs above `dirfd` is EXDEV.
 * Returns an O_PATH descriptor or -1 with errno set.
 */
static int walk_beneath(int dirfd, const char *rel, unsigned long flags)
{
	int stack[WALK_MAX_DEPTH];
	size_t depth = 0;
	int links = 0, fd = -1, saved = 0;
	char *pending = berth_strdup(rel);
	size_t pos = 0;

	for (;;) {
		char *name, *slash, target[PATH_MAX];
		int cur = depth > 0 ? stack[depth - 1] : dirfd;
		bool last;
		struct stat st;
		ssize_t n;

		while (pending[pos] == '/')
			pos++;
		if (pending[pos] == '\0') {
			fd = openat(cur, ".", (int)flags | O_PATH | O_CLOEXEC);
			saved = errno;
			break;
		}
		name = pending + pos;
		slash = strchr(name, '/');
		last = slash == NULL;
		if (!last)
			*slash = '\0';
		pos = last ? strlen(pending) : (size_t)(slash - pending) + 1;
		if (strcmp(name, ".") == 0)
			continue;
		if (strcmp(name, "..") == 0) {
			if (depth == 0) {
				saved = EXDEV;
				break;
			}
			close(stack[--depth]);
			continue;
		}
		if (fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			saved = errno;
			break;
		}
		if (S_ISLNK(st.st_mode)) {
			char *next;

			n = readlinkat(cur, name, target, sizeof(target) - 1);
			if (n < 0) {
				saved = errno;
				break;
			}
			target[n] = '\0';
			if (target[0] == '/') {
				saved = EXDEV;
				break;
			}
			if (++links > WALK_MAX_LINKS) {
				saved = ELOOP;
				break;
			}
			next = pending[pos] != '\0'
			    ? berth_asprintf("%s/%s", target, pending + pos)
			    : berth_strdup(target);
			free(pending);
			pending = next;
			pos = 0;
			continue;
		}
		if (last) {
			fd = openat(cur, name,
			            (int)flags | O_PATH | O_NOFOLLOW
			                | O_CLOEXEC);
			saved = errno;
			break;
		}
		if (depth == WALK_MAX_DEPTH) {
			saved = ENAMETOOLONG;
			break;
		}
		/* A folder swapped for a link since the fstatat fails here. */
		stack[depth] = openat(
		    cur, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (stack[depth] < 0) {
			saved = errno;
			break;
		}
		depth++;
	}
	close_stack(stack, depth);
	free(pending);
	if (fd < 0)
		errno = saved;
	return fd;
}

static bool force_walk;

void berth_safe_path_force_walk(bool on)
{
	force_walk = on;
}

static int openat2_beneath(int dirfd, const char *rel, unsigned long flags)
{
	struct open_how how;
	int fd;

	if (force_walk)
		return walk_beneath(dirfd, rel, flags);
	memset(&how, 0, sizeof(how));
	how.flags = flags | O_PATH | O_CLOEXEC;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	fd = (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS)
		return walk_beneath(dirfd, rel, flags);
	return fd;
}

/* errno of a resolution -> berth code and message. */
static int resolve_errno(int e, const char *field, const char *path,
                         const char *root, struct berth_err *err)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		return berth_err_set(err, BERTH_ENOTFOUND,
		                     "%s %.200s does not exist", field, path);
	case EXDEV:
	case ELOOP:
		return berth_err_set(err, BERTH_EPERM,
		                     "%s %.150s leaves the safe path %.80s "
		                     "(through \"..\" or a symlink that points "
		                     "out or is absolute)",
		                     field, path, root);
	case EACCES:
	case EPERM:
		return berth_err_set(err, BERTH_EPERM,
		                     "%s %.200s: permission denied", field,
		                     path);
	case ENOSYS:
		return berth_err_set(err, BERTH_EINTERNAL,
		                     "the kernel lacks openat2 (Linux 5.6 or "
		                     "later is needed for %s)",
		                     field);
	case ENAMETOOLONG:
		return berth_err_set(err, BERTH_EINVAL, "%s is too long",
		                     field);
	default:
		return berth_err_set(err, BERTH_EINTERNAL, "%s %.200s: %s",
		                     field, path, strerror(e));
	}
}

/*
 * Resolves the components of `pc` after the first `skip` beneath the
 * opened root `rootfd`, filling `t`.
 */
static int resolve_from(int rootfd, const struct comps *pc, size_t skip,
                        const char *field, const char *path, const char *root,
                        struct berth_safe_target *t, struct berth_err *err)
{
	struct berth_safe_target r = BERTH_SAFE_TARGET_INIT;
	char *rest = NULL, *parent = NULL;
	struct stat st;
	int rv = 0;

	rest = comps_join(pc, skip, pc->n);
	r.fd = openat2_beneath(rootfd, rest, 0);
	if (r.fd < 0) {
		rv = resolve_errno(errno, field, path, root, err);
		goto out;
	}
	if (fstat(r.fd, &st) != 0) {
		rv = resolve_errno(errno, field, path, root, err);
		goto out;
	}
	r.is_dir = S_ISDIR(st.st_mode);
	r.is_reg = S_ISREG(st.st_mode);
	/* The parent and the last name, unless the path is the root
	 * itself or ends in "..". */
	if (pc->n > skip && strcmp(pc->v[pc->n - 1], "..") != 0) {
		struct stat lst;

		parent = comps_join(pc, skip, pc->n - 1);
		r.dirfd = openat2_beneath(rootfd, parent, O_DIRECTORY);
		if (r.dirfd < 0) {
			rv = resolve_errno(errno, field, path, root, err);
			goto out;
		}
		r.name = berth_strdup(pc->v[pc->n - 1]);
		if (fstatat(r.dirfd, r.name, &lst, AT_SYMLINK_NOFOLLOW) != 0) {
			rv = resolve_errno(errno, field, path, root, err);
			goto out;
		}
		r.is_link = S_ISLNK(lst.st_mode);
	}
	*t = r;
	r.fd = -1;
	r.dirfd = -1;
	r.name = NULL;
out:
	berth_safe_target_fini(&r);
	free(parent);
	free(rest);
	return rv;
}

/* "a, b, c" of a list, for messages (cut by the caller's %.Ns). */
static char *list_text(const char *const *v, size_t n)
{
	size_t len = 1;
	char *s, *p;

	for (size_t i = 0; i < n; i++)
		len += strlen(v[i]) + 2;
	s = berth_malloc(len);
	p = s;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(v[i]);

		if (i > 0) {
			memcpy(p, ", ", 2);
			p += 2;
		}
		memcpy(p, v[i], l);
		p += l;
	}
	*p = '\0';
	return s;
}

/*
 * Tries each root in turn (by the spelling given, then by its realpath):
 * the first that names a prefix of the path and resolves wins. The
 * first error of a matching root is kept; no matching root is EPERM.
 */
static int resolve_in(const struct comps *pc, const char *field,
                      const char *path, const char *const *roots, size_t nroots,
                      const char *whose, struct berth_safe_target *t,
                      struct berth_err *err)
{
	int first_rv = 0;
	struct berth_err first_err = { 0 };

	for (size_t i = 0; i < nroots; i++) {
		char *real = realpath(roots[i], NULL);
		const char *spell[2] = { roots[i], real };
		int rootfd = -1;

		for (size_t k = 0; k < 2; k++) {
			struct comps rc = { 0 };
			struct berth_err e1 = { 0 };
			size_t skip;
			int rv;

			if (spell[k] == NULL
			    || (k == 1 && strcmp(spell[1], spell[0]) == 0))
				continue;
			comps_split(&rc, spell[k]);
			skip = root_match(&rc, pc);
			comps_fini(&rc);
			if (skip == 0)
				continue;
			if (skip == SIZE_MAX)
				skip = 0;
			if (rootfd < 0)
				rootfd = open(roots[i],
				              O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (rootfd < 0)
				break; /* a missing root holds nothing */
			rv = resolve_from(rootfd, pc, skip, field, path,
			                  roots[i], t, &e1);
			if (rv == 0) {
				close(rootfd);
				free(real);
				return 0;
			}
			if (first_rv == 0) {
				first_rv = rv;
				first_err = e1;
			}
		}
		if (rootfd >= 0)
			close(rootfd);
		free(real);
	}
	if (first_rv != 0) {
		if (err != NULL)
			*err = first_err;
		return first_rv;
	}
	{
		char *list = list_text(roots, nroots);
		int rv = berth_err_set(err, BERTH_EPERM,
		                       "%s %.120s is outside the %s "
		                       "safe_local_paths (%.100s)",
		                       field, path, whose, list);

		free(list);
		return rv;
	}
}

int berth_safe_path_resolve(struct berth_safe_target *out, const char *field,
                            const char *path, const char *const *roots,
                            size_t nroots, const char *const *narrow,
                            size_t nnarrow, struct berth_err *err)
{
	struct berth_safe_target t = BERTH_SAFE_TARGET_INIT;
	struct berth_safe_target n = BERTH_SAFE_TARGET_INIT;
	struct comps pc = { 0 };
	int rv;

	rv = berth_safe_path_check(field, path, err);
	if (rv != 0)
		return rv;
	if (nroots == 0)
		return berth_err_set(err, BERTH_EPERM,
		                     "%s refused: the runtime has no "
		                     "safe_local_paths (set runtime.safe_local_"
		                     "paths in the config or "
		                     "BERTH_SAFE_LOCAL_PATHS)",
		                     field);
	if (nroots > BERTH_SAFE_ROOTS_MAX || nnarrow > BERTH_SAFE_ROOTS_MAX)
		return berth_err_set(err, BERTH_EINVAL,
		                     "safe_local_paths: at most %d entries",
		                     BERTH_SAFE_ROOTS_MAX);
	for (size_t i = 0; i < nnarrow; i++) {
		rv = berth_safe_path_check("safe_local_paths", narrow[i], err);
		if (rv != 0)
			return rv;
	}
	comps_split(&pc, path);
	rv = resolve_in(&pc, field, path, roots, nroots, "runtime's", &t, err);
	if (rv != 0)
		goto out;
	if (nnarrow > 0) {
		struct stat a, b;

		rv = resolve_in(&pc, field, path, narrow, nnarrow, "request's",
		                &n, err);
		if (rv != 0)
			goto out;
		if (fstat(t.fd, &a) != 0 || fstat(n.fd, &b) != 0
		    || a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
			rv = berth_err_set(
			    err, BERTH_EPERM,
			    "%s %.150s does not resolve to the "
			    "same file under the request's and the "
			    "runtime's safe_local_paths",
			    field, path);
			goto out;
		}
	}
	*out = t;
	t.fd = -1;
	t.dirfd = -1;
	t.name = NULL;
out:
	berth_safe_target_fini(&n);
	berth_safe_target_fini(&t);
	comps_fini(&pc);
	return rv;
}

void berth_safe_target_fini(struct berth_safe_target *t)
{
	if (t == NULL)
		return;
	if (t->fd >= 0)
		close(t->fd);
	if (t->dirfd >= 0)
		close(t->dirfd);
	free(t->name);
	t->fd = -1;
	t->dirfd = -1;
	t->name = NULL;
	t->is_dir = t->is_reg = t->is_link = false;
}
