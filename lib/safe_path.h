/*
 * safe_path.h: resolving a host path inside the operator's SafeLocalPaths
 * through file descriptors, never by string prefix.
 *
 * Each safe root is opened (O_PATH|O_DIRECTORY) and the rest of the path
 * is resolved from it with openat2(RESOLVE_BENEATH|RESOLVE_NO_MAGICLINKS)
 * by the kernel, so:
 *   - "/srv/safe-x" is not inside "/srv/safe" (roots are matched by whole
 *     path components, then the kernel walks from the root's descriptor);
 *   - ".." that leaves the root is refused;
 *   - a symlink inside a root is followed only while it stays beneath the
 *     root: a relative link to a sibling is fine, a link that points out
 *     is refused, and an absolute link is refused (RESOLVE_BENEATH does
 *     not reinterpret "/" as the root);
 *   - the caller then works from the returned descriptor, so a path
 *     component swapped for a symlink after resolution changes nothing.
 * The roots themselves are the operator's setting and are trusted: they
 * are opened normally (their own symlinks followed) and also matched by
 * their realpath() spelling.
 *
 * A request may narrow the roots with its own list: the path must then
 * resolve beneath one operator root AND beneath one request root, to the
 * same file (same device and inode). A request list can never widen.
 */
#ifndef BERTH_LIB_SAFE_PATH_H
#define BERTH_LIB_SAFE_PATH_H

#include "lib/error.h"

#include <stdbool.h>
#include <stddef.h>

/* Longest host path accepted (bytes, without the NUL). */
#define BERTH_SAFE_PATH_MAX 4096

/* Most roots accepted in one list (operator's or request's). */
#define BERTH_SAFE_ROOTS_MAX 64

/* What a resolved path is; the descriptors are owned by the struct. */
struct berth_safe_target {
	int fd;       /* O_PATH descriptor of the resolved file or folder */
	int dirfd;    /* O_PATH|O_DIRECTORY descriptor of its parent folder, or
	                 -1 when the path is a root itself */
	char *name;   /* the last component, as given (the entry name inside
	                 dirfd), or NULL when dirfd is -1 */
	bool is_dir;  /* fd is a folder */
	bool is_reg;  /* fd is a regular file */
	bool is_link; /* the last component itself is a symlink (fd is what
	                 it points to, beneath the root) */
};

/* Initialiser of a target that holds nothing. */
#define BERTH_SAFE_TARGET_INIT                      \
	{                                           \
		.fd = -1, .dirfd = -1, .name = NULL \
	}

/*
 * Resolves the absolute host path `path` beneath one of the operator's
 * `roots` (`nroots` strings; none = refused with a message naming the
 * runtime.safe_local_paths setting) and, when `nnarrow` > 0, beneath one
 * of the request's `narrow` roots as well. `field` names the input in
 * messages ("local_path", "mounts[0].source").
 * On success fills `*out` (untouched on failure; release with berth_safe_target_fini()).
 * Errors: BERTH_EINVAL (not absolute, too long, control bytes, a bad
 * narrow root), BERTH_EPERM (outside the roots, escapes through ".." or a
 * symlink, nothing configured), BERTH_ENOTFOUND (does not exist),
 * BERTH_EINTERNAL (other I/O errors).
 */
int berth_safe_path_resolve(struct berth_safe_target *out, const char *field,
                            const char *path, const char *const *roots,
                            size_t nroots, const char *const *narrow,
                            size_t nnarrow, struct berth_err *err);

/* Closes the descriptors and frees the name, leaving the target as
 * BERTH_SAFE_TARGET_INIT. Accepts NULL and an initialised, never filled
 * target. */
void berth_safe_target_fini(struct berth_safe_target *t);

/*
 * Checks a host path's shape only (absolute, at most BERTH_SAFE_PATH_MAX
 * bytes, no control bytes). Returns 0 or BERTH_EINVAL naming `field`.
 */
int berth_safe_path_check(const char *field, const char *path,
                          struct berth_err *err);

/*
 * For tests: resolve without openat2, as on kernels before 5.6 (and
 * under valgrind, which does not know the call), so both paths are
 * tested on one machine. Not thread-safe; call before resolving.
 */
void berth_safe_path_force_walk(bool on);

#endif
