/*
 * tar_build.c: plain tars of local trees for uploading into containers
 * (libarchive's writer into a capped berth_buf), and the check of tars
 * that clients send (libarchive's reader, tar formats only).
 *
 * The walk never goes by path string: each folder is listed from its own
 * descriptor and each entry opened with openat(O_NOFOLLOW) relative to
 * it, so a rename or symlink swap elsewhere cannot redirect it. Names are
 * sorted, owners zeroed, setuid/setgid dropped and times kept to whole
 * seconds: the same tree always gives the same bytes.
 */
#include "lib/tar_build.h"

#include "lib/alloc.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEF_MAX_BYTES   (512ull * 1024ull * 1024ull)
#define DEF_MAX_ENTRIES 200000u
#define DEF_MAX_DEPTH   64u
#define READ_CHUNK      (64u * 1024u)

struct tb {
	struct archive *a;
	struct berth_buf *out;
	size_t start_len;
	uint64_t max_bytes;
	uint32_t max_entries, max_depth;
	uint32_t entries;
	int rv; /* set by the write callback when it refuses */
	struct berth_err *err;
	char *prefix; /* "" or "a/b" */
};

static void limits_of(const struct berth_tar_limits *lim, uint64_t *bytes,
                      uint32_t *entries, uint32_t *depth)
{
	*bytes = lim != NULL && lim->max_bytes != 0 ? lim->max_bytes
	                                            : DEF_MAX_BYTES;
	*entries = lim != NULL && lim->max_entries != 0 ? lim->max_entries
	                                                : DEF_MAX_ENTRIES;
	*depth = lim != NULL && lim->max_depth != 0 ? lim->max_depth
	                                            : DEF_MAX_DEPTH;
}

/* libarchive's output: append to the buffer within both caps. */
static la_ssize_t tb_write(struct archive *a, void *arg, const void *p,
                           size_t n)
{
	struct tb *t = arg;

	(void)a;
	if ((uint64_t)(t->out->len - t->start_len) + n > t->max_bytes
	    || berth_buf_append(t->out, p, n) != 0) {
		t->rv = berth_err_set(
		    t->err, BERTH_ELIMIT,
		    "the tar would be larger than %llu "
		    "bytes",
		    (unsigned long long)(t->max_bytes < t->out->max
		                             ? t->max_bytes
		                             : t->out->max));
		archive_set_error(a, ENOSPC, "limit");
		return -1;
	}
	return (la_ssize_t)n;
}

/* The berth code for a libarchive failure. */
static int tb_fail(struct tb *t, const char *what)
{
	if (t->rv != 0)
		return t->rv;
	t->rv = berth_err_set(t->err, BERTH_EINTERNAL, "tar: %s: %s", what,
	                      archive_error_string(t->a) != NULL
	                          ? archive_error_string(t->a)
	                          : "libarchive failed");
	return t->rv;
}

/* Trims and checks a prefix; caller owns *out. */
static int norm_prefix(const char *prefix, char **out, struct berth_err *err)
{
	size_t len = prefix != NULL ? strlen(prefix) : 0;
	char *s = berth_malloc(len + 1);
	size_t o = 0;
	const char *p = prefix;

	while (p != NULL && *p != '\0') {
		const char *start;
		size_t l;

		while (*p == '/')
			p++;
		start = p;
		while (*p != '\0' && *p != '/')
			p++;
		l = (size_t)(p - start);
		if (l == 0 || (l == 1 && start[0] == '.'))
			continue;
		if (l == 2 && start[0] == '.' && start[1] == '.') {
			free(s);
			return berth_err_set(err, BERTH_EINVAL,
			                     "tar prefix must not hold \"..\"");
		}
		if (o > 0)
			s[o++] = '/';
		memcpy(s + o, start, l);
		o += l;
	}
	s[o] = '\0';
	*out = s;
	return 0;
}

static int tb_open(struct tb *t, const char *prefix,
                   const struct berth_tar_limits *lim, struct berth_buf *out,
                   struct berth_err *err)
{
	int rv;

	memset(t, 0, sizeof(*t));
	t->out = out;
	t->start_len = out->len;
	t->err = err;
	limits_of(lim, &t->max_bytes, &t->max_entries, &t->max_depth);
	rv = norm_prefix(prefix, &t->prefix, err);
	if (rv != 0)
		return rv;
	t->a = archive_write_new();
	if (t->a == NULL)
		return berth_err_set(err, BERTH_EINTERNAL,
		                     "tar: cannot make a libarchive writer");
	if (archive_write_set_format_pax_restricted(t->a) != ARCHIVE_OK
	    || archive_write_add_filter_none(t->a) != ARCHIVE_OK
	    || archive_write_set_bytes_per_block(t->a, 10240) != ARCHIVE_OK
	    || archive_write_set_bytes_in_last_block(t->a, 1) != ARCHIVE_OK)
		return tb_fail(t, "set-up");
	if (archive_write_open2(t->a, t, NULL, tb_write, NULL, NULL)
	    != ARCHIVE_OK)
		return tb_fail(t, "open");
	return 0;
}

/* Finishes the archive (the two zero blocks) unless `rv` failed. */
static int tb_close(struct tb *t, int rv)
{
	if (t->a != NULL) {
		if (rv == 0 && archive_write_close(t->a) != ARCHIVE_OK)
			rv = tb_fail(t, "close");
		archive_write_free(t->a);
		t->a = NULL;
	}
	free(t->prefix);
	t->prefix = NULL;
	return rv;
}

/* The stored name of relative path `rel`. Caller owns it. */
static char *entry_name(const struct tb *t, const char *rel)
{
	if (t->prefix[0] == '\0')
		return berth_strdup(rel);
	return berth_asprintf("%s/%s", t->prefix, rel);
}

static struct archive_entry *entry_new(const char *name, const struct stat *st,
                                       mode_t type)
{
	struct archive_entry *e = archive_entry_new();

	if (e == NULL)
		abort(); /* libarchive out of memory: as berth_malloc */
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, st->st_mode & 01777);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_mtime(e, st->st_mtim.tv_sec, 0);
	return e;
}

static int count_entry(struct tb *t)
{
	if (t->entries >= t->max_entries)
		return t->rv = berth_err_set(t->err, BERTH_ELIMIT,
		                             "the tree has more than %u "
		                             "entries",
		                             t->max_entries);
	t->entries++;
	return 0;
}

/* Stores the regular file open at `fd` (borrowed) as `rel`. */
static int add_file_fd(struct tb *t, int fd, const char *rel)
{
	struct archive_entry *e = NULL;
	char *stored = NULL, *chunk = NULL;
	struct stat st;
	off_t left;
	int rv;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		/* Replaced by something else since it was listed. */
		rv = berth_err_set(
		    t->err, BERTH_EINVAL,
		    "tar: %.200s changed while the tar was being "
		    "made",
		    rel);
		goto out;
	}
	rv = count_entry(t);
	if (rv != 0)
		goto out;
	stored = entry_name(t, rel);
	e = entry_new(stored, &st, AE_IFREG);
	archive_entry_set_size(e, st.st_size);
	if (archive_write_header(t->a, e) != ARCHIVE_OK) {
		rv = tb_fail(t, rel);
		goto out;
	}
	chunk = berth_malloc(READ_CHUNK);
	left = st.st_size;
	while (left > 0) {
		size_t want
		    = left < (off_t)READ_CHUNK ? (size_t)left : READ_CHUNK;
		ssize_t n = read(fd, chunk, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rv = berth_err_set(t->err, BERTH_EINTERNAL,
			                   "tar: cannot read %.200s: %s", rel,
			                   strerror(errno));
			goto out;
		}
		if (n == 0)
			break; /* shrank: libarchive pads with zeros */
		if (archive_write_data(t->a, chunk, (size_t)n) != n) {
			rv = tb_fail(t, rel);
			goto out;
		}
		left -= n;
	}
	if (archive_write_finish_entry(t->a) != ARCHIVE_OK)
		rv = tb_fail(t, rel);
out:
	free(chunk);
	archive_entry_free(e);
	free(stored);
	return rv;
}

/* Stores the regular file `name` of `dirfd` (relative path `rel`). */
static int add_file(struct tb *t, int dirfd, const char *name, const char *rel)
{
	int fd, rv;

	fd = openat(dirfd, name,
	            O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return berth_err_set(t->err, BERTH_EINTERNAL,
		                     "tar: cannot open %.200s: %s", rel,
		                     strerror(errno));
	rv = add_file_fd(t, fd, rel);
	close(fd);
	return rv;
}

static int add_symlink(struct tb *t, int dirfd, const char *name,
                       const char *rel, const struct stat *st)
{
	char target[PATH_MAX + 1];
	struct archive_entry *e;
	char *stored;
	ssize_t n;
	int rv;

	n = readlinkat(dirfd, name, target, sizeof(target));
	if (n < 0 || (size_t)n >= sizeof(target))
		return berth_err_set(t->err, BERTH_EINTERNAL,
		                     "tar: cannot read the symlink %.200s",
		                     rel);
	target[n] = '\0';
	rv = count_entry(t);
	if (rv != 0)
		return rv;
	stored = entry_name(t, rel);
	e = entry_new(stored, st, AE_IFLNK);
	archive_entry_set_perm(e, 0777);
	archive_entry_set_symlink(e, target);
	if (archive_write_header(t->a, e) != ARCHIVE_OK)
		rv = tb_fail(t, rel);
	archive_entry_free(e);
	free(stored);
	return rv;
}

static int add_dir_entry(struct tb *t, const char *rel, const struct stat *st)
{
	struct archive_entry *e;
	char *stored;
	int rv;

	rv = count_entry(t);
	if (rv != 0)
		return rv;
	stored = entry_name(t, rel);
	e = entry_new(stored, st, AE_IFDIR);
	if (archive_write_header(t->a, e) != ARCHIVE_OK)
		rv = tb_fail(t, rel);
	archive_entry_free(e);
	free(stored);
	return rv;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool skipped(const char *const *skip, const char *name)
{
	for (size_t i = 0; skip != NULL && skip[i] != NULL; i++) {
		if (strcmp(skip[i], name) == 0)
			return true;
	}
	return false;
}

static int walk(struct tb *t, int dirfd, const char *rel, uint32_t depth,
                const char *const *skip);

/* Stores one listed name of `dirfd`, by its type. */
static int add_one(struct tb *t, int dirfd, const char *name, const char *rel,
                   uint32_t depth)
{
	struct stat st;
	int rv = 0, sub;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return berth_err_set(t->err, BERTH_EINTERNAL,
		                     "tar: cannot stat %.200s: %s", rel,
		                     strerror(errno));
	if (S_ISREG(st.st_mode))
		return add_file(t, dirfd, name, rel);
	if (S_ISLNK(st.st_mode))
		return add_symlink(t, dirfd, name, rel, &st);
	if (!S_ISDIR(st.st_mode))
		return t->rv = berth_err_set(
		           t->err, BERTH_EINVAL,
		           "%.200s is a %s: only files, folders and symlinks "
		           "can be uploaded",
		           rel,
		           S_ISFIFO(st.st_mode)       ? "fifo"
		               : S_ISSOCK(st.st_mode) ? "socket"
		                                      : "device");
	if (depth + 1 > t->max_depth)
		return t->rv = berth_err_set(t->err, BERTH_ELIMIT,
		                             "%.200s is nested deeper than %u "
		                             "folders",
		                             rel, t->max_depth);
	sub = openat(dirfd, name,
	             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sub < 0)
		return berth_err_set(t->err, BERTH_EINTERNAL,
		                     "tar: cannot open the folder %.200s: %s",
		                     rel, strerror(errno));
	rv = add_dir_entry(t, rel, &st);
	if (rv == 0)
		rv = walk(t, sub, rel, depth + 1, NULL);
	close(sub);
	return rv;
}

/* Stores everything under `dirfd` (borrowed), names under `rel`. */
static int walk(struct tb *t, int dirfd, const char *rel, uint32_t depth,
                const char *const *skip)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	DIR *d = NULL;
	struct dirent *de;
	int lfd, rv = 0;

	/* fdopendir takes its descriptor: list from a fresh one. */
	lfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lfd < 0 || (d = fdopendir(lfd)) == NULL) {
		rv = berth_err_set(t->err, BERTH_EINTERNAL,
		                   "tar: cannot list %.200s: %s",
		                   rel[0] != '\0' ? rel : ".", strerror(errno));
		if (lfd >= 0)
			close(lfd);
		goto out;
	}
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0
		    || strcmp(de->d_name, "..") == 0
		    || skipped(skip, de->d_name))
			continue;
		if (n >= (size_t)(t->max_entries - t->entries)) {
			rv = t->rv = berth_err_set(t->err, BERTH_ELIMIT,
			                           "the tree has more than %u "
			                           "entries",
			                           t->max_entries);
			goto out;
		}
		if (n == cap) {
			cap = cap != 0 ? cap * 2 : 16;
			names = berth_realloc(names, cap * sizeof(char *));
		}
		names[n++] = berth_strdup(de->d_name);
	}
	qsort(names, n, sizeof(char *), cmp_names);
	for (size_t i = 0; i < n && rv == 0; i++) {
		char *child = rel[0] != '\0'
		    ? berth_asprintf("%s/%s", rel, names[i])
		    : berth_strdup(names[i]);

		rv = add_one(t, dirfd, names[i], child, depth);
		free(child);
	}
out:
	if (d != NULL)
		closedir(d);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rv;
}

int berth_tar_from_dir_prefixed(int dirfd, const char *prefix,
                                const char *const *skip,
                                const struct berth_tar_limits *lim,
                                struct berth_buf *out,
                                struct berth_tar_stats *st,
                                struct berth_err *err)
{
	struct tb t;
	int rv;

	rv = tb_open(&t, prefix, lim, out, err);
	if (rv == 0)
		rv = walk(&t, dirfd, "", 0, skip);
	rv = tb_close(&t, rv);
	if (rv == 0 && st != NULL) {
		st->bytes = (uint64_t)(out->len - t.start_len);
		st->entries = t.entries;
	}
	return rv;
}

int berth_tar_from_dir(int dirfd, const char *const *skip,
                       const struct berth_tar_limits *lim,
                       struct berth_buf *out, struct berth_tar_stats *st,
                       struct berth_err *err)
{
	return berth_tar_from_dir_prefixed(dirfd, NULL, skip, lim, out, st,
	                                   err);
}

int berth_tar_from_file_prefixed(int dirfd, const char *name,
                                 const char *prefix,
                                 const struct berth_tar_limits *lim,
                                 struct berth_buf *out,
                                 struct berth_tar_stats *st,
                                 struct berth_err *err)
{
	struct stat s;
	struct tb t;
	int rv;

	if (name == NULL || name[0] == '\0' || strchr(name, '/') != NULL
	    || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return berth_err_set(err, BERTH_EINVAL,
		                     "tar: a file name without '/' is needed");
	rv = tb_open(&t, prefix, lim, out, err);
	if (rv != 0)
		goto out;
	if (fstatat(dirfd, name, &s, AT_SYMLINK_NOFOLLOW) != 0) {
		rv = berth_err_set(err, BERTH_ENOTFOUND, "tar: %.200s: %s",
		                   name, strerror(errno));
		goto out;
	}
	if (S_ISREG(s.st_mode))
		rv = add_file(&t, dirfd, name, name);
	else if (S_ISLNK(s.st_mode))
		rv = add_symlink(&t, dirfd, name, name, &s);
	else
		rv = berth_err_set(err, BERTH_EINVAL,
		                   "%.200s is not a regular file or a symlink",
		                   name);
out:
	rv = tb_close(&t, rv);
	if (rv == 0 && st != NULL) {
		st->bytes = (uint64_t)(out->len - t.start_len);
		st->entries = t.entries;
	}
	return rv;
}

int berth_tar_from_fd_prefixed(int fd, const char *name, const char *prefix,
                               const struct berth_tar_limits *lim,
                               struct berth_buf *out,
                               struct berth_tar_stats *st,
                               struct berth_err *err)
{
	struct tb t;
	int rv;

	if (name == NULL || name[0] == '\0' || strchr(name, '/') != NULL
	    || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return berth_err_set(err, BERTH_EINVAL,
		                     "tar: a file name without '/' is needed");
	rv = tb_open(&t, prefix, lim, out, err);
	if (rv == 0)
		rv = add_file_fd(&t, fd, name);
	rv = tb_close(&t, rv);
	if (rv == 0 && st != NULL) {
		st->bytes = (uint64_t)(out->len - t.start_len);
		st->entries = t.entries;
	}
	return rv;
}

int berth_tar_from_file(int dirfd, const char *name,
                        const struct berth_tar_limits *lim,
                        struct berth_buf *out, struct berth_tar_stats *st,
                        struct berth_err *err)
{
	return berth_tar_from_file_prefixed(dirfd, name, NULL, lim, out, st,
	                                    err);
}

/* ------------------------------------------------------------ checking */

/* A relative name with no ".." component (and no NUL: C strings). */
static bool name_ok(const char *s)
{
	const char *p = s;

	if (s == NULL || s[0] == '\0' || s[0] == '/')
		return false;
	while (*p != '\0') {
		const char *start = p;

		while (*p != '\0' && *p != '/')
			p++;
		if (p - start == 2 && start[0] == '.' && start[1] == '.')
			return false;
		while (*p == '/')
			p++;
	}
	return true;
}

/* "./a//b/" -> "a/b". Caller owns the result. */
static char *norm_name(const char *s)
{
	char *out = NULL;

	(void)norm_prefix(s, &out, NULL); /* ".." was refused before */
	return out;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

/*
 * The first proper prefix of the normalised `name` that is a symlink
 * stored earlier (in the tree `links`), or NULL: an entry below it would
 * be written wherever that symlink points.
 */
static const char *through_link(void *const *links, char *name)
{
	for (char *p = strchr(name, '/'); p != NULL; p = strchr(p + 1, '/')) {
		void *hit;

		*p = '\0';
		hit = tfind(name, links, cmp_str);
		*p = '/';
		if (hit != NULL)
			return *(const char **)hit;
	}
	return NULL;
}

/* The compression a tar's first bytes give away, or NULL. */
static const char *compressed(const unsigned char *p, size_t len)
{
	if (len >= 2 && p[0] == 0x1f && (p[1] == 0x8b || p[1] == 0x9d))
		return "gzip";
	if (len >= 3 && memcmp(p, "BZh", 3) == 0)
		return "bzip2";
	if (len >= 6
	    && memcmp(p,
	              "\xfd"
	              "7zXZ\0",
	              6)
	        == 0)
		return "xz";
	if (len >= 4 && memcmp(p, "\x28\xb5\x2f\xfd", 4) == 0)
		return "zstd";
	if (len >= 4 && memcmp(p, "\x04\x22\x4d\x18", 4) == 0)
		return "lz4";
	return NULL;
}

/*
 * Refuses an entry (or its hard-link target) that goes through a symlink
 * stored earlier in the archive, and remembers the entry when it is a
 * symlink itself.
 */
static int check_links(void **links, const char *name, const char *hl,
                       mode_t type, struct berth_err *err)
{
	char *n = name_ok(name) ? norm_name(name) : NULL;
	char *h = hl != NULL && name_ok(hl) ? norm_name(hl) : NULL;
	const char *via = NULL;
	int rv = 0;

	if (n != NULL)
		via = through_link(links, n);
	if (via == NULL && h != NULL)
		via = through_link(links, h);
	if (via != NULL) {
		rv = berth_err_set(err, BERTH_EINVAL,
		                   "tar: entry \"%.100s\" goes through the "
		                   "symlink \"%.80s\" stored before it",
		                   name, via);
	} else if (n != NULL && type == AE_IFLNK && hl == NULL) {
		void *slot = tsearch(n, links, cmp_str);

		if (slot == NULL)
			abort(); /* out of memory: as berth_malloc */
		if (*(char **)slot == n)
			n = NULL; /* kept in the tree */
	}
	free(h);
	free(n);
	return rv;
}

int berth_tar_check(const void *tar, size_t len,
                    const struct berth_tar_limits *lim,
                    struct berth_tar_stats *st, struct berth_err *err)
{
	struct archive *a = NULL;
	struct archive_entry *e;
	void *links = NULL; /* symlink names seen, for through_link() */
	uint64_t max_bytes;
	uint32_t max_entries, max_depth, n = 0;
	const char *comp;
	int rv = 0, r;

	limits_of(lim, &max_bytes, &max_entries, &max_depth);
	if (len == 0)
		return berth_err_set(err, BERTH_EINVAL,
		                     "tar: the body is empty");
	comp = compressed(tar, len);
	if (comp != NULL)
		return berth_err_set(err, BERTH_EINVAL,
		                     "tar: %s-compressed archives are refused; "
		                     "send a plain uncompressed tar",
		                     comp);
	a = archive_read_new();
	if (a == NULL)
		return berth_err_set(err, BERTH_EINTERNAL,
		                     "tar: cannot make a libarchive reader");
	/* Tar formats only and no filters: anything else fails to open. */
	if (archive_read_support_format_tar(a) != ARCHIVE_OK
	    || archive_read_support_filter_none(a) != ARCHIVE_OK
	    || archive_read_open_memory(a, tar, len) != ARCHIVE_OK) {
		rv = berth_err_set(
		    err, BERTH_EINVAL, "tar: not a plain tar archive (%.120s)",
		    archive_error_string(a) != NULL ? archive_error_string(a)
		                                    : "unrecognised");
		goto out;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK
	       || r == ARCHIVE_WARN) {
		const char *name = archive_entry_pathname(e);
		const char *hl = archive_entry_hardlink(e);
		mode_t type = archive_entry_filetype(e);

		if (++n > max_entries) {
			rv = berth_err_set(err, BERTH_ELIMIT,
			                   "tar: more than %u entries",
			                   max_entries);
			goto out;
		}
		if (!name_ok(name)) {
			rv = berth_err_set(err, BERTH_EINVAL,
			                   "tar: entry %u \"%.120s\" must be a "
			                   "relative name without \"..\"",
			                   n, name != NULL ? name : "");
			goto out;
		}
		rv = check_links(&links, name, hl, type, err);
		if (rv != 0)
			goto out;
		if (hl != NULL) {
			if (!name_ok(hl)) {
				rv = berth_err_set(err, BERTH_EINVAL,
				                   "tar: hard link \"%.100s\" "
				                   "points outside the archive "
				                   "(\"%.60s\")",
				                   name, hl);
				goto out;
			}
		} else if (type != AE_IFREG && type != AE_IFDIR
		           && type != AE_IFLNK) {
			rv = berth_err_set(
			    err, BERTH_EINVAL,
			    "tar: entry \"%.120s\" is a device, "
			    "fifo or socket; only files, folders "
			    "and links are accepted",
			    name);
			goto out;
		}
		if (archive_read_data_skip(a) != ARCHIVE_OK) {
			rv = berth_err_set(err, BERTH_EINVAL,
			                   "tar: entry \"%.120s\" is cut short",
			                   name);
			goto out;
		}
	}
	if (r != ARCHIVE_EOF) {
		rv = berth_err_set(err, BERTH_EINVAL,
		                   "tar: damaged after entry %u (%.120s)", n,
		                   archive_error_string(a) != NULL
		                       ? archive_error_string(a)
		                       : "unreadable header");
		goto out;
	}
	if (st != NULL) {
		st->bytes = len;
		st->entries = n;
	}
out:
	tdestroy(links, free);
	archive_read_free(a);
	return rv;
}
