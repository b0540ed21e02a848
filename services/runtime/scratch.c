/*
 * scratch.c: the runtime's private scratch folder (scratch.h).
 *
 * Why the lock file arrives locked: a runtime sweeping while another
 * one is being made must never see the newcomer's folder as abandoned.
 * The folder appears (mkdtemp) before its lock can exist, so a folder
 * without a lock is left alone while it is young, and the lock file is
 * locked under another name before it is renamed to .lock.
 */
#include "services/runtime/scratch.h"

#include "lib/alloc.h"
#include "lib/rmtree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h> /* renameat */
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PREFIX "rt-"

struct runtime_scratch {
	char *path;  /* <data_dir>/scratch/rt-XXXXXX */
	int lock_fd; /* flock held while the process lives */
};

/*
 * A folder without a lock file is young while its maker may still be
 * between mkdtemp and putting its (already locked) lock file in place:
 * microseconds in practice. Only older ones are taken as what a maker
 * killed in between left behind.
 */
#define NOLOCK_YOUNG_S 60

/* Whether the runtime that made folder `name` of `rootfd` is gone:
 * nobody holds its lock. A lock file is put in place only once it is
 * locked (runtime_scratch_open), so a lock that can be taken is never
 * a live runtime's. Anything but a real folder (a symlink above all) is
 * not a runtime's: it is left alone and never followed. */
static bool owner_gone(int rootfd, const char *name)
{
	struct stat st;
	int dfd, fd;
	bool gone;

	if (fstatat(rootfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0
	    || !S_ISDIR(st.st_mode))
		return false;
	dfd = openat(rootfd, name,
	             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return false;
	fd = openat(dfd, ".lock", O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		/* mtime: mkdtemp sets it, each entry made inside moves it. */
		gone = errno == ENOENT
		    && time(NULL) - st.st_mtime > NOLOCK_YOUNG_S;
		close(dfd);
		return gone;
	}
	gone = flock(fd, LOCK_EX | LOCK_NB) == 0;
	close(fd); /* also drops the lock we may have taken */
	close(dfd);
	return gone;
}

/* Removes what runtimes that are no longer running left in `root`. */
static void sweep(const char *root)
{
	DIR *d = opendir(root);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char *dir;

		if (strncmp(e->d_name, PREFIX, strlen(PREFIX)) != 0
		    || !owner_gone(dirfd(d), e->d_name))
			continue;
		dir = berth_asprintf("%s/%s", root, e->d_name);
		berth_rmtree(dir);
		free(dir);
	}
	closedir(d);
}

/*
 * Puts a locked lock file into folder `dir`: made and locked under a
 * name the sweep does not look at, then renamed to .lock, so that no
 * sweeper can ever find .lock unlocked while its runtime lives.
 * Returns the locked descriptor, or -1 (errno set).
 */
static int lock_folder(const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int fd = -1, saved;

	if (dfd < 0)
		return -1;
	fd = openat(dfd, ".lock.new",
	            O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0
	    || renameat(dfd, ".lock.new", dfd, ".lock") != 0) {
		saved = errno;
		if (fd >= 0)
			close(fd);
		close(dfd);
		errno = saved;
		return -1;
	}
	close(dfd);
	return fd;
}

static int make_dir(const char *path, struct berth_err *err)
{
	struct stat st;

	if (mkdir(path, 0700) == 0)
		return 0;
	if (errno == EEXIST && lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	return berth_err_set(err, BERTH_EINTERNAL, "cannot make folder %s: %s",
	                     path, strerror(errno));
}

int runtime_scratch_open(struct runtime_scratch **out, const char *data_dir,
                         struct berth_err *err)
{
	char *root = berth_asprintf("%s/scratch", data_dir);
	char *tmpl = NULL;
	struct runtime_scratch *s;
	int rv, fd = -1;

	rv = make_dir(root, err);
	if (rv != 0)
		goto out;
	sweep(root);
	tmpl = berth_asprintf("%s/" PREFIX "XXXXXX", root);
	if (mkdtemp(tmpl) == NULL) {
		rv = berth_err_set(err, BERTH_EINTERNAL,
		                   "cannot make a scratch folder under %s: %s",
		                   root, strerror(errno));
		goto out;
	}
	fd = lock_folder(tmpl);
	if (fd < 0) {
		rv = berth_err_set(err, BERTH_EINTERNAL,
		                   "cannot lock scratch folder %s: %s", tmpl,
		                   strerror(errno));
		berth_rmtree(tmpl);
		goto out;
	}
	s = berth_calloc(1, sizeof(*s));
	s->path = tmpl;
	s->lock_fd = fd;
	tmpl = NULL;
	*out = s;
out:
	free(tmpl);
	free(root);
	return rv;
}

const char *runtime_scratch_path(const struct runtime_scratch *s)
{
	return s->path;
}

void runtime_scratch_close(struct runtime_scratch *s)
{
	if (s == NULL)
		return;
	berth_rmtree(s->path);
	close(s->lock_fd);
	free(s->path);
	free(s);
}
