/*
 * engine_podman_events_file.c: follows Podman's event file with inotify
 * and its own offset, across Podman's rotations and truncations
 * (contract in engine_podman_events_file.h).
 *
 * Why the folder is watched and not the file: Podman's rotation renames
 * a new file over the old one, and a watch on the old inode would never
 * hear of the new one. A folder watch reports writes to the files in it
 * too, so one watch covers appends, replacement and creation.
 *
 * Why a replaced file is read from its start: Podman keeps the newer
 * half of the old file in the new one, then its rotation event, then
 * what came after. The old file is read to its end before the switch,
 * so everything up to the last line seen (or the new rotation event) is
 * known and skipped; what follows is new.
 */
#include "lib/engine_podman_events_file.h"

#include "lib/alloc.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/engine_podman_events_line.h"
#include "lib/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bytes read per read(2). */
#define READ_CHUNK (64u * 1024u)

struct podman_evfile {
	char *path;
	int fd; /* -1 while the file does not exist */
	dev_t dev;
	ino_t ino;
	off_t off;              /* bytes of the open file consumed */
	struct berth_buf carry; /* a partial line */
	bool skipping;          /* inside an over-long line (its start kept) */
	int64_t since_ns;       /* lines before this are not handed on */

	/* After a replacement or truncation: skipping what was seen. */
	bool resync;
	int64_t seen_ns;    /* newest Time seen */
	uint64_t last_hash; /* the last line seen, by hash and length */
	size_t last_len;

	int ino_fd; /* inotify, or -1 */
	char *chunk;
};

/* FNV-1a: enough to recognise the last line seen again. */
static uint64_t line_hash(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* One complete line: parse, skip what was seen, hand on the rest. */
static int on_line(struct podman_evfile *f, const char *l, size_t n,
                   podman_evfile_fn fn, void *arg)
{
	json_t *j = NULL;
	int64_t t = 0;
	uint64_t h;
	bool seen;
	int rv = 0;

	if (podman_event_line_parse(l, n, &j, &t) != 0) {
		if (n > 0)
			berth_log(BERTH_LOG_DEBUG,
			          "podman_event_line_unreadable", "len=%zu", n);
		return 0;
	}
	h = line_hash(l, n);
	seen = false;
	if (f->resync) {
		if (h == f->last_hash && n == f->last_len) {
			/* The last line handed on: what follows is new. */
			f->resync = false;
			seen = true;
		} else if (podman_event_is_rotation(j) && t > f->seen_ns) {
			/* This rotation's own event: the kept half ends. */
			f->resync = false;
			seen = true;
		} else if (t <= f->seen_ns) {
			seen = true;
		} else {
			f->resync = false;
		}
	}
	f->last_hash = h;
	f->last_len = n;
	if (t > f->seen_ns)
		f->seen_ns = t;
	if (!seen && t >= f->since_ns)
		rv = fn(arg, j, t);
	json_decref(j);
	return rv;
}

/*
 * A line longer than PODMAN_EVENT_LINE_MAX (a container with hundreds of
 * KiB of labels), of which f->carry holds the start. Podman writes
 * "Attributes" last, after ID, Name, Status, Time and Type: the event is
 * handed on without them (no labels) rather than dropped, which would
 * hide a change from the cache.
 */
static int on_long_line(struct podman_evfile *f, podman_evfile_fn fn, void *arg)
{
	static const char attrs[] = ",\"Attributes\":";
	const char *a = f->carry.data != NULL
	    ? memmem(f->carry.data, f->carry.len, attrs, sizeof(attrs) - 1)
	    : NULL;

	if (a == NULL) {
		berth_log(BERTH_LOG_DEBUG, "podman_event_line_skipped",
		          "reason=longer_than max=%u", PODMAN_EVENT_LINE_MAX);
		return 0;
	}
	f->carry.len = (size_t)(a - f->carry.data);
	(void)berth_buf_append(&f->carry, "}", 1); /* shorter than before */
	berth_log(BERTH_LOG_DEBUG, "podman_event_line_long",
	          "max=%u labels=dropped", PODMAN_EVENT_LINE_MAX);
	return on_line(f, f->carry.data, f->carry.len, fn, arg);
}

/* Splits `data` into lines, keeping a partial one in f->carry. */
static int feed(struct podman_evfile *f, const char *data, size_t len,
                podman_evfile_fn fn, void *arg)
{
	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t seg = nl != NULL ? (size_t)(nl - data) : len;
		size_t step = nl != NULL ? seg + 1 : seg;
		int rv = 0;

		if (!f->skipping
		    && berth_buf_append(&f->carry, data, seg) != 0) {
			/* Keep the line's start (as much as fits) for
			 * on_long_line(); the rest is passed over. */
			size_t room = f->carry.max - f->carry.len;

			(void)berth_buf_append(&f->carry, data,
			                       seg < room ? seg : room);
			f->skipping = true;
		}
		if (nl != NULL && f->skipping) {
			rv = on_long_line(f, fn, arg);
			f->skipping = false;
			berth_buf_reset(&f->carry);
		} else if (nl != NULL) {
			rv = on_line(f, f->carry.data, f->carry.len, fn, arg);
			berth_buf_reset(&f->carry);
		}
		data += step;
		len -= step;
		if (rv != 0)
			return rv;
	}
	return 0;
}

/* Forgets the open file's position: the next one is read from 0. */
static void reset_position(struct podman_evfile *f)
{
	f->off = 0;
	f->skipping = false;
	berth_buf_reset(&f->carry);
}

static void close_file(struct podman_evfile *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	reset_position(f);
}

/* Opens the file at f->path; 0, BERTH_ENOTFOUND or another code. */
static int open_file(struct podman_evfile *f, struct berth_err *err)
{
	struct stat st;
	/* O_NOFOLLOW: a symlink put in the file's place is never read
	 * through; O_NONBLOCK: a FIFO put there never holds the open. */
	int fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);

	if (fd < 0) {
		if (errno == ENOENT)
			return BERTH_ENOTFOUND;
		if (errno == ELOOP)
			return berth_err_set(err, BERTH_EINVAL,
			                     "Podman's event file %s is a "
			                     "symlink, which is not followed",
			                     f->path);
		return berth_err_set(
		    err, errno == EACCES ? BERTH_EPERM : BERTH_EUNAVAIL,
		    "cannot open Podman's event file %s: %s", f->path,
		    strerror(errno));
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return berth_err_set(err, BERTH_EINVAL,
		                     "Podman's event file %s is not a regular "
		                     "file",
		                     f->path);
	}
	close_file(f);
	f->fd = fd;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	return 0;
}

/*
 * Positions a file opened "from now" after its last complete line, so
 * an event being written right now is not cut in half, and remembers
 * that line as the last one seen, so a rotation that comes before any
 * new line is not read as new. Without a readable last line, every
 * line stamped before now counts as seen.
 */
static void seek_end(struct podman_evfile *f, off_t size)
{
	off_t start = size > (off_t)READ_CHUNK ? size - (off_t)READ_CHUNK : 0;
	ssize_t n = size > 0
	    ? pread(f->fd, f->chunk, (size_t)(size - start), start)
	    : 0;
	char *end, *begin;
	json_t *j = NULL;
	int64_t t;

	f->off = size;
	f->seen_ns = berth_clock_unix_ms() * 1000000LL;
	if (n <= 0)
		return;
	end = memrchr(f->chunk, '\n', (size_t)n);
	if (end == NULL)
		return;
	f->off = start + (end - f->chunk) + 1;
	begin = memrchr(f->chunk, '\n', (size_t)(end - f->chunk));
	begin = begin != NULL ? begin + 1 : f->chunk;
	if (begin == f->chunk && start > 0)
		return; /* its start is further back: not worth reading */
	if (podman_event_line_parse(begin, (size_t)(end - begin), &j, &t) != 0)
		return;
	json_decref(j);
	f->last_hash = line_hash(begin, (size_t)(end - begin));
	f->last_len = (size_t)(end - begin);
	f->seen_ns = t;
}

int podman_evfile_open(struct podman_evfile **out, const char *path,
                       int64_t since_unix_ms, struct berth_err *err)
{
	struct podman_evfile *f = berth_calloc(1, sizeof(*f));
	const char *slash = strrchr(path, '/');
	char *dir = NULL;
	struct stat st;
	int rv;

	f->path = berth_strdup(path);
	f->fd = -1;
	f->ino_fd = -1;
	berth_buf_init(&f->carry, PODMAN_EVENT_LINE_MAX);
	f->chunk = berth_malloc(READ_CHUNK);
	if (slash == NULL || slash == path)
		dir = berth_strdup(slash == NULL ? "." : "/");
	else
		dir = berth_strndup(path, (size_t)(slash - path));
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		rv = berth_err_set(err, BERTH_ENOTFOUND,
		                   "no folder for Podman's event file %s",
		                   path);
		goto out;
	}
	rv = open_file(f, err);
	if (rv == BERTH_ENOTFOUND) {
		/* Not made yet: every line it will hold is new. */
		f->since_ns = since_unix_ms * 1000000LL;
		rv = 0;
	} else if (rv != 0) {
		goto out;
	} else if (since_unix_ms > 0) {
		f->since_ns = since_unix_ms * 1000000LL;
	} else {
		struct stat fst;

		if (fstat(f->fd, &fst) == 0)
			seek_end(f, fst.st_size);
	}
	f->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (f->ino_fd >= 0
	    && inotify_add_watch(f->ino_fd, dir,
	                         IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_DELETE
	                             | IN_CLOSE_WRITE | IN_ATTRIB)
	        < 0) {
		close(f->ino_fd);
		f->ino_fd = -1;
	}
	if (f->ino_fd < 0)
		berth_log(BERTH_LOG_DEBUG, "podman_events_no_inotify",
		          "errno=%d", errno);
out:
	free(dir);
	if (rv != 0) {
		podman_evfile_free(f);
		return rv;
	}
	*out = f;
	return 0;
}

void podman_evfile_free(struct podman_evfile *f)
{
	if (f == NULL)
		return;
	if (f->fd >= 0)
		close(f->fd);
	if (f->ino_fd >= 0)
		close(f->ino_fd);
	berth_buf_fini(&f->carry);
	free(f->chunk);
	free(f->path);
	free(f);
}

/* Reads the open file from f->off to its current end. */
static int drain(struct podman_evfile *f, podman_evfile_fn fn, void *arg,
                 struct berth_err *err)
{
	struct stat st;

	if (fstat(f->fd, &st) != 0)
		return berth_err_set_retryable(err, BERTH_EUNAVAIL,
		                               "cannot stat Podman's event "
		                               "file: %s",
		                               strerror(errno));
	if (st.st_size < f->off) {
		/* Cut short in place: read it again from the start. */
		berth_log(BERTH_LOG_DEBUG, "podman_events_file_truncated",
		          "size=%lld offset=%lld", (long long)st.st_size,
		          (long long)f->off);
		reset_position(f);
		f->resync = true;
	}
	while (f->off < st.st_size) {
		ssize_t n = pread(f->fd, f->chunk, READ_CHUNK, f->off);
		int rv;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return berth_err_set_retryable(
			    err, BERTH_EUNAVAIL,
			    "cannot read Podman's event file: %s",
			    strerror(errno));
		if (n == 0)
			break; /* shortened meanwhile: seen next time */
		f->off += n;
		rv = feed(f, f->chunk, (size_t)n, fn, arg);
		if (rv != 0)
			return rv;
	}
	return 0;
}

int podman_evfile_read(struct podman_evfile *f, podman_evfile_fn fn, void *arg,
                       struct berth_err *err)
{
	/* A replacement is followed at most a few times per read, so a
	 * file replaced over and over cannot hold the caller here. */
	for (int round = 0; round < 4; round++) {
		struct berth_err l;
		struct stat st;
		int rv;

		berth_err_clear(&l);
		if (f->fd >= 0) {
			rv = drain(f, fn, arg, err);
			if (rv != 0)
				return rv;
		}
		/* lstat: a symlink in the file's place is a replacement
		 * (refused by open_file), not the file it points at. */
		if (lstat(f->path, &st) != 0) {
			if (errno == ENOENT)
				return 0; /* removed: wait for a new one */
			return berth_err_set_retryable(
			    err, BERTH_EUNAVAIL,
			    "cannot stat Podman's event file %s: %s", f->path,
			    strerror(errno));
		}
		if (f->fd >= 0 && st.st_dev == f->dev && st.st_ino == f->ino)
			return 0;
		/* Replaced (or made): the old one was read to its end. */
		berth_log(BERTH_LOG_DEBUG, "podman_events_file_replaced",
		          "path=%s", f->path);
		rv = open_file(f, &l);
		if (rv == BERTH_ENOTFOUND)
			return 0;
		if (rv != 0)
			return berth_err_set_retryable(err, BERTH_EUNAVAIL,
			                               "%s", l.msg);
		f->resync = true;
	}
	return 0;
}

bool podman_evfile_wait(struct podman_evfile *f, int ms)
{
	struct pollfd p = { .fd = f->ino_fd, .events = POLLIN };
	_Alignas(struct inotify_event) char buf[4096];
	bool changed = false;

	if (f->ino_fd < 0) {
		berth_sleep_ms(ms);
		return false;
	}
	if (poll(&p, 1, ms) > 0 && (p.revents & POLLIN) != 0)
		changed = true;
	/* Drain: what changed is read from the file, not from here. */
	while (changed && read(f->ino_fd, buf, sizeof(buf)) > 0)
		;
	return changed;
}

bool podman_evfile_has_inotify(const struct podman_evfile *f)
{
	return f->ino_fd >= 0;
}
