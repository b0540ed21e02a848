/*
 * tar_build.h: a plain, uncompressed tar of a local file tree, built
 * with libarchive, for uploading into a container (InjectCode, and the
 * checkout of CloneRepo).
 *
 * The tree is walked through file descriptors from an already opened
 * directory (openat with O_NOFOLLOW, never by path string), so nothing
 * outside it can be reached by a symlink or a rename race. Symlinks are
 * stored as symlinks and never followed; regular files and directories
 * are stored with their mode bits (setuid/setgid dropped); devices,
 * fifos and sockets are refused. Owners are stored as 0:0.
 */
#ifndef BERTH_LIB_TAR_BUILD_H
#define BERTH_LIB_TAR_BUILD_H

#include "lib/buf.h"
#include "lib/error.h"

#include <stddef.h>
#include <stdint.h>

struct berth_tar_limits {
	uint64_t max_bytes;   /* tar size; 0 = 512 MiB */
	uint32_t max_entries; /* 0 = 200000 */
	uint32_t max_depth;   /* 0 = 64 */
};

struct berth_tar_stats {
	uint64_t bytes;   /* size of the tar */
	uint32_t entries; /* files, folders and links stored */
};

/*
 * Appends to `out` a tar of everything under the directory `dirfd`
 * (borrowed; not closed), entry names relative to it ("a/b.txt"), and
 * skipping the top-level names in the NULL-terminated `skip` (may be
 * NULL; e.g. {".git", NULL}). `out`'s cap also applies.
 * Errors: BERTH_EINVAL naming the relative path of a device, fifo or
 * socket; BERTH_ELIMIT past a limit; BERTH_EINTERNAL for I/O errors.
 * On error `out` holds a partial tar the caller must discard.
 */
int berth_tar_from_dir(int dirfd, const char *const *skip,
                       const struct berth_tar_limits *lim,
                       struct berth_buf *out, struct berth_tar_stats *st,
                       struct berth_err *err);

/*
 * As berth_tar_from_dir() for one regular file or symlink `name` inside
 * the directory `dirfd`, stored under `name`.
 */
int berth_tar_from_file(int dirfd, const char *name,
                        const struct berth_tar_limits *lim,
                        struct berth_buf *out, struct berth_tar_stats *st,
                        struct berth_err *err);

#endif
