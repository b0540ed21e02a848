/*
 * git_clone.h: clone a git repository with libgit2 into a private
 * temporary directory, under limits, for uploading into a container
 * (Runtime.CloneRepo) and, later, for the build workers.
 *
 * What this guards:
 *   - Schemes: https, http, ssh, git and scp-like "user@host:path" only.
 *     file://, local paths, ext:: and anything else are refused unless
 *     the operator sets allow_local (the runtime never does). A URL that
 *     carries userinfo with a password ("https://u:p@host") is refused:
 *     credentials travel in their own field.
 *   - Credentials are used only in libgit2's credential callback; they
 *     are never logged and never appear in an error message (libgit2's
 *     own error text is scrubbed of them and of URL userinfo).
 *   - Time: one deadline for the whole clone. libgit2 1.5 has no network
 *     timeouts, so this module registers its own plain socket stream
 *     (git_stream_register, GIT_STREAM_STANDARD) whose connect, read and
 *     write wait at most until the clone's deadline, and a watchdog
 *     thread shuts the clone's sockets down at the deadline (ssh reads
 *     the socket through libssh2, not through the stream). Streams made
 *     outside a clone of this module behave like libgit2's default one.
 *   - Size: fetched bytes and the checkout's bytes each at most
 *     max_bytes (the checkout is sized from the object headers before a
 *     file is written), and at most BERTH_GIT_MAX_ENTRIES files.
 *   - Files: everything goes into one mkdtemp directory (mode 0700)
 *     that berth_git_checkout_free() removes; on failure the function
 *     removes it before returning. The host's git configuration
 *     (system, global, XDG) is not read.
 *
 * Thread-safe: clones may run on several threads at once.
 */
#ifndef BERTH_LIB_GIT_CLONE_H
#define BERTH_LIB_GIT_CLONE_H

#include "lib/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BERTH_GIT_DEFAULT_TIMEOUT_MS 300000
#define BERTH_GIT_MAX_TIMEOUT_MS     3600000
#define BERTH_GIT_DEFAULT_MAX_BYTES  (512ull * 1024 * 1024)
#define BERTH_GIT_MAX_ENTRIES        200000u
#define BERTH_GIT_MAX_URL            2048
#define BERTH_GIT_MAX_SECRET         65536 /* any one credential field */

/* Per-request credentials. Every member may be NULL or "". Borrowed. */
struct berth_git_clone_cred {
	const char *username;        /* http(s) basic user, or the ssh user */
	const char *password;        /* http(s) password or token */
	const char *ssh_private_key; /* PEM / OpenSSH key text */
	const char *ssh_passphrase;
	const char *ssh_known_hosts; /* known_hosts lines; NULL = not checked */
};

struct berth_git_clone_opts {
	const char *url;    /* required */
	const char *branch; /* NULL or "" = the remote's default branch */
	const char *commit; /* NULL or "": the branch head; else 4-40 hex */
	const struct berth_git_clone_cred *cred; /* may be NULL */
	int timeout_ms;         /* 0 = BERTH_GIT_DEFAULT_TIMEOUT_MS */
	uint64_t max_bytes;     /* 0 = BERTH_GIT_DEFAULT_MAX_BYTES */
	const char *tmp_parent; /* NULL = $TMPDIR, else /tmp */
	bool allow_local;       /* operator setting: file:// and local paths */
};

/* A finished checkout in its private directory. */
struct berth_git_checkout;

/*
 * Checks a repository URL against the allowed schemes (see above).
 * Returns 0 or BERTH_EINVAL with a message naming `field`; the message
 * never echoes the URL's userinfo.
 */
int berth_git_url_check(const char *field, const char *url, bool allow_local,
                        struct berth_err *err);

/*
 * Checks a branch name (a valid refs/heads/ name not starting with '-')
 * and a commit id (4 to 40 hex digits); either may be NULL or "".
 * Returns 0 or BERTH_EINVAL naming "branch" or "commit".
 */
int berth_git_ref_check(const char *branch, const char *commit,
                        struct berth_err *err);

/*
 * Clones opts->url and checks out the branch or commit.
 * Caller owns `*out`; free with berth_git_checkout_free() (which removes
 * the directory). Errors:
 *   BERTH_EINVAL     bad URL, branch, commit or limits;
 *   BERTH_ENOTFOUND  branch or commit not in the repository, or the
 *                    server has no such repository;
 *   BERTH_EUNAUTH    the server wants credentials that were not given
 *                    or were refused;
 *   BERTH_EPERM      the ssh host key is not in ssh_known_hosts, or an
 *                    https certificate is invalid, or http 403;
 *   BERTH_ETIMEDOUT  past timeout_ms;
 *   BERTH_ELIMIT     past max_bytes or BERTH_GIT_MAX_ENTRIES;
 *   BERTH_EUNAVAIL   the server cannot be reached (retryable);
 *   BERTH_EINTERNAL  anything else (local I/O, libgit2).
 */
int berth_git_clone(struct berth_git_checkout **out,
                    const struct berth_git_clone_opts *opts,
                    struct berth_err *err);

/* The checked-out tree (the working directory, ".git" inside it).
 * Borrowed; valid until berth_git_checkout_free(). */
int berth_git_checkout_dirfd(const struct berth_git_checkout *co);
const char *berth_git_checkout_path(const struct berth_git_checkout *co);

/* The checked-out commit id, 40 hex digits. Borrowed, as above. */
const char *berth_git_checkout_commit(const struct berth_git_checkout *co);

/* Bytes of the checked-out files (blob sizes), and the number of
 * entries of the tree (files, folders, links; .git not counted). */
uint64_t berth_git_checkout_bytes(const struct berth_git_checkout *co);
uint32_t berth_git_checkout_entries(const struct berth_git_checkout *co);

/* The private directory that holds the checkout (its parent). Borrowed. */
const char *berth_git_checkout_tmpdir(const struct berth_git_checkout *co);

/* Removes the private directory and frees. Accepts NULL. */
void berth_git_checkout_free(struct berth_git_checkout *co);

/*
 * What this libgit2 build supports (from git_libgit2_features()), and
 * whether in-memory ssh keys work (otherwise the key is written to a
 * 0600 file inside the private directory for the clone's duration).
 */
void berth_git_features(bool *https, bool *ssh, bool *ssh_memory);

#endif
