/*
 * scratch.c: the runtime's private scratch folder (scratch.h).
 */
#include "services/runtime/scratch.h"

#include "lib/alloc.h"
#include "lib/rmtree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define PREFIX "rt-"

struct runtime_scratch {
	char *path;  /* <data_dir>/scratch/rt-XXXXXX */
	int lock_fd; /* flock held while the process lives */
};

/* Whether the runtime that made `dir` is gone: nobody holds its lock.
 * A folder without a lock file is one whose maker died before taking
 * it (or is being made this instant: its mkdtemp and the lock are
 * microseconds apart, and such a folder holds nothing yet). */
static bool owner_gone(const char *dir)
{
	char *lock = berth_asprintf("%s/.lock", dir);
	int fd = open(lock, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	bool gone;

	free(lock);
	if (fd < 0)
		return errno == ENOENT;
	gone = flock(fd, LOCK_EX | LOCK_NB) == 0;
	close(fd); /* also drops the lock we may have taken */
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

		if (strncmp(e->d_name, PREFIX, strlen(PREFIX)) != 0)
			continue;
		dir = berth_asprintf("%s/%s", root, e->d_name);
		if (owner_gone(dir))
			berth_rmtree(dir);
		free(dir);
	}
	closedir(d);
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
	char *tmpl = NULL, *lock = NULL;
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
	lock = berth_asprintf("%s/.lock", tmpl);
	fd = open(lock, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	          0600);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
		rv = berth_err_set(err, BERTH_EINTERNAL,
		                   "cannot lock scratch folder %s: %s", tmpl,
		                   strerror(errno));
		if (fd >= 0)
			close(fd);
		berth_rmtree(tmpl);
		goto out;
	}
	s = berth_calloc(1, sizeof(*s));
	s->path = tmpl;
	s->lock_fd = fd;
	tmpl = NULL;
	*out = s;
out:
	free(lock);
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
