/*
 * handlers_code.c: the runtime's code injection: InjectCode (a host
 * folder or file from inside SafeLocalPaths, tarred and uploaded) and
 * PutArchive (a client's tar, checked, then uploaded).
 *
 * InjectCode uploads into container_path; when the engine answers that
 * it does not exist, it uploads again into "/" with every entry named
 * under container_path and no entries for container_path's own folders:
 * the engine creates the ones that are missing (0755, root) and leaves
 * the existing ones as they are, so container_path need not exist and
 * an existing /usr or /tmp keeps its mode. (Uploading straight into
 * container_path first matters on a read-only root filesystem, where an
 * engine accepts uploads only into a writable volume.) The contents of a local folder go
 * into container_path ("docker cp dir/. c:path"); a local file goes into
 * container_path under its own name; a local_path that is itself a
 * symlink (resolving beneath the safe root) is followed: its folder's
 * contents, or its file under the link's name. Symlinks inside a folder
 * stay symlinks. Nothing is written on the host.
 */
#include "services/runtime/runtime_internal.h"

#include "lib/alloc.h"
#include "lib/buf.h"
#include "lib/safe_path.h"
#include "lib/tar_build.h"
#include "lib/validate.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The biggest tar InjectCode makes (it is held in memory). */
#define INJECT_MAX_BYTES   (256ull * 1024ull * 1024ull)
#define INJECT_MAX_ENTRIES 100000u

/* The runtime accepts PutArchive messages up to 80 MiB; the tar in it
 * is capped a little lower. */
#define ARCHIVE_MAX_BYTES (72u * 1024u * 1024u)

static int upload(struct berth_runtime *rt, const char *id, const char *path,
                  const void *tar, size_t len, struct berth_err *err)
{
	const struct berth_engine_ops *ops = berth_engine_ops(rt->engine);

	if (ops->archive_put == NULL)
		return berth_err_set(err, BERTH_EUNIMPL,
		                     "the %s engine driver cannot upload files",
		                     ops->name);
	return ops->archive_put(rt->engine, id, path, tar, len, err);
}

/* Builds the tar of the resolved target, entries under `prefix`. */
static int tar_target(const struct berth_safe_target *t, const char *prefix,
                      struct berth_buf *tar, struct berth_tar_stats *st,
                      struct berth_err *err)
{
	struct berth_tar_limits lim = { .max_bytes = INJECT_MAX_BYTES,
		                        .max_entries = INJECT_MAX_ENTRIES };
	int dfd, rv;

	if (t->is_dir) {
		/* Listing needs a readable descriptor of the same folder. */
		dfd = openat(t->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			return berth_err_set(err, BERTH_EPERM,
			                     "local_path: cannot open the "
			                     "folder");
		rv = berth_tar_from_dir_prefixed(dfd, prefix, NULL, &lim, tar,
		                                 st, err);
		close(dfd);
		return rv;
	}
	if (t->dirfd < 0 || t->name == NULL || !t->is_reg)
		return berth_err_set(err, BERTH_EINVAL,
		                     "local_path must be a folder or a regular "
		                     "file");
	if (t->is_link) {
		/* local_path names a symlink that resolved to a file beneath
		 * the safe root: store that file under the link's name. The
		 * O_PATH descriptor is reopened for reading through /proc,
		 * which reopens that very file, not a path. */
		char proc[64];
		int fd;

		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", t->fd);
		fd = open(proc, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (fd < 0)
			return berth_err_set(
			    err, BERTH_EPERM,
			    "local_path: cannot open the file");
		rv = berth_tar_from_fd_prefixed(fd, t->name, prefix, &lim, tar,
		                                st, err);
		close(fd);
		return rv;
	}
	return berth_tar_from_file_prefixed(t->dirfd, t->name, prefix, &lim,
	                                    tar, st, err);
}

static int inject(struct berth_runtime *rt,
                  const Berth__V1__InjectCodeRequest *in,
                  Berth__V1__InjectCodeReply *out, struct berth_err *err)
{
	struct berth_safe_target t = BERTH_SAFE_TARGET_INIT;
	struct berth_tar_stats st = { 0 };
	struct berth_buf tar;
	int rv;

	berth_buf_init(&tar, INJECT_MAX_BYTES);
	rv = berth_validate_container_ref("id", in->id, err);
	if (rv != 0)
		goto out;
	rv = berth_safe_path_check("local_path", in->local_path, err);
	if (rv != 0)
		goto out;
	rv = berth_validate_container_path("container_path", in->container_path,
	                                   err);
	if (rv != 0)
		goto out;
	rv = berth_safe_path_resolve(&t, "local_path", in->local_path,
	                             (const char *const *)rt->safe_local_paths,
	                             rt->nsafe_local_paths,
	                             (const char *const *)in->safe_local_paths,
	                             in->n_safe_local_paths, err);
	if (rv != 0)
		goto out;
	/* Into container_path itself first: that is what an engine allows
	 * on a read-only root with a writable volume there. */
	rv = tar_target(&t, NULL, &tar, &st, err);
	if (rv != 0)
		goto out;
	if (st.entries == 0) {
		rv = berth_err_set(err, BERTH_EINVAL,
		                   "local_path %.200s is an empty folder: "
		                   "nothing to inject",
		                   in->local_path);
		goto out;
	}
	rv = upload(rt, in->id, in->container_path, tar.data, tar.len, err);
	if (rv == BERTH_ENOTFOUND) {
		/* container_path is missing (or the container is): again
		 * into "/" with the names under container_path, so the
		 * engine makes the missing folders. */
		struct berth_err first = { 0 };

		if (err != NULL)
			first = *err;
		berth_buf_reset(&tar);
		rv = tar_target(&t, in->container_path, &tar, &st, err);
		if (rv == 0)
			rv = upload(rt, in->id, "/", tar.data, tar.len, err);
		if (rv == BERTH_ENOTFOUND && err != NULL)
			*err = first; /* no container: say it about the path */
	}
	if (rv != 0)
		goto out;
	out->bytes = st.bytes;
	out->entries = st.entries;
out:
	berth_safe_target_fini(&t);
	berth_buf_fini(&tar);
	return rv;
}

void rt_inject_code(Berth__V1__Runtime_Service *svc,
                    const Berth__V1__InjectCodeRequest *in,
                    Berth__V1__InjectCodeReply_Closure done, void *call)
{
	Berth__V1__InjectCodeReply out = BERTH__V1__INJECT_CODE_REPLY__INIT;
	struct berth_runtime *rt = runtime_of(svc);
	struct berth_err err = { 0 };
	int rv;

	rv = runtime_heavy_enter(rt, "InjectCode", &err);
	if (rv == 0) {
		rv = inject(rt, in, &out, &err);
		runtime_heavy_leave(rt);
	}
	if (rv != 0) {
		rt_fail(call, &err, "InjectCode");
		done(NULL, call);
		return;
	}
	done(&out, call);
}

static int put_archive(struct berth_runtime *rt,
                       const Berth__V1__PutArchiveRequest *in,
                       Berth__V1__InjectCodeReply *out, struct berth_err *err)
{
	struct berth_tar_stats st = { 0 };
	int rv;

	rv = berth_validate_container_ref("id", in->id, err);
	if (rv != 0)
		return rv;
	rv = berth_validate_container_path("path", in->path, err);
	if (rv != 0)
		return rv;
	if (in->tar.len == 0)
		return berth_err_set(err, BERTH_EINVAL,
		                     "tar: the body is empty");
	if (in->tar.len > ARCHIVE_MAX_BYTES)
		return berth_err_set(err, BERTH_ELIMIT,
		                     "tar: larger than %u bytes",
		                     ARCHIVE_MAX_BYTES);
	/* Every entry is checked before anything reaches the engine. */
	rv = berth_tar_check(in->tar.data, in->tar.len, NULL, &st, err);
	if (rv != 0)
		return rv;
	rv = upload(rt, in->id, in->path, in->tar.data, in->tar.len, err);
	if (rv != 0)
		return rv;
	out->bytes = st.bytes;
	out->entries = st.entries;
	return 0;
}

void rt_put_archive(Berth__V1__Runtime_Service *svc,
                    const Berth__V1__PutArchiveRequest *in,
                    Berth__V1__InjectCodeReply_Closure done, void *call)
{
	Berth__V1__InjectCodeReply out = BERTH__V1__INJECT_CODE_REPLY__INIT;
	struct berth_err err = { 0 };

	if (put_archive(runtime_of(svc), in, &out, &err) != 0) {
		rt_fail(call, &err, "PutArchive");
		done(NULL, call);
		return;
	}
	done(&out, call);
}
