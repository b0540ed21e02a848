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

/*
 * As berth_tar_from_dir() and berth_tar_from_file(), with every entry
 * name put under `prefix` ("app/src" gives "app/src/a/b.txt"; NULL or ""
 * for none). The prefix is relative ("/" and "." components trimmed,
 * ".." refused with BERTH_EINVAL) and gets no entries of its own: an
 * engine extracting the tar into "/" creates the missing folders of the
 * prefix and leaves existing ones as they are (mode and owner kept).
 */
int berth_tar_from_dir_prefixed(int dirfd, const char *prefix,
                                const char *const *skip,
                                const struct berth_tar_limits *lim,
                                struct berth_buf *out,
                                struct berth_tar_stats *st,
                                struct berth_err *err);
int berth_tar_from_file_prefixed(int dirfd, const char *name,
                                 const char *prefix,
                                 const struct berth_tar_limits *lim,
                                 struct berth_buf *out,
                                 struct berth_tar_stats *st,
                                 struct berth_err *err);

/*
 * Stores the regular file open for reading at `fd` (borrowed; not
 * closed) as one entry `name` (no '/') under `prefix` (as above). For a
 * file already resolved by descriptor, e.g. the target of a symlink that
 * berth_safe_path_resolve() followed beneath a safe root.
 * Errors: BERTH_EINVAL when `fd` is not a regular file; as above.
 */
int berth_tar_from_fd_prefixed(int fd, const char *name, const char *prefix,
                               const struct berth_tar_limits *lim,
                               struct berth_buf *out,
                               struct berth_tar_stats *st,
                               struct berth_err *err);

/*
 * Checks a tar a client sent before it goes to an engine (PutArchive):
 * it must be a plain, uncompressed tar (ustar, pax or GNU) whose entries
 * are regular files, folders, symlinks or hard links; names relative,
 * without ".." components; hard-link targets likewise; no entry below a
 * symlink stored earlier in the same tar ("l" -> "/etc", then
 * "l/passwd"), so every entry lands under the target folder. Devices, fifos
 * and sockets are refused. `lim` caps entries (max_bytes and max_depth
 * are not used: the caller caps the size). Fills `*st` (bytes = len).
 * Errors: BERTH_EINVAL naming the entry and the rule; BERTH_ELIMIT.
 */
int berth_tar_check(const void *tar, size_t len,
                    const struct berth_tar_limits *lim,
                    struct berth_tar_stats *st, struct berth_err *err);

#endif
