/*
 * handlers_clone.c: the runtime's CloneRepo. The repository is cloned
 * with libgit2 on the runtime's host (lib/git_clone.h: allowed schemes
 * only, per-request credentials, time and size limits, a private
 * temporary directory that is always removed), tarred without ".git"
 * and uploaded into the container, so the image needs no git.
 *
 * As InjectCode does, the tar is uploaded into "/" with every entry
 * named under target_dir and no entries for target_dir's own folders:
 * the engine creates the missing ones and leaves existing ones as they
 * are, so target_dir need not exist. Local clones (file://, paths) are
 * never allowed here: the runtime is reachable over nng by any client.
 */
#include "services/runtime/runtime_internal.h"
#include "services/runtime/scratch.h"

#include "lib/alloc.h"
#include "lib/buf.h"
#include "lib/git_clone.h"
#include "lib/tar_build.h"
#include "lib/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The biggest checkout CloneRepo takes: the tar is held in memory. */
#define CLONE_MAX_BYTES (1024ull * 1024ull * 1024ull)

static const char *str_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

static int check_request(const Berth__V1__CloneRepoRequest *in,
                         struct berth_err *err)
{
	int rv;

	rv = berth_validate_container_ref("id", in->id, err);
	if (rv == 0)
		rv = berth_git_url_check("repo_url", in->repo_url, false, err);
	if (rv == 0)
		rv = berth_validate_container_path("target_dir", in->target_dir,
		                                   err);
	if (rv == 0)
		rv = berth_git_ref_check(in->branch, in->commit, err);
	if (rv != 0)
		return rv;
	if (in->timeout_ms < 0 || in->timeout_ms > BERTH_GIT_MAX_TIMEOUT_MS)
		return berth_err_set(err, BERTH_EINVAL,
		                     "timeout_ms: 0 (300 s) to %d",
		                     BERTH_GIT_MAX_TIMEOUT_MS);
	if (in->max_bytes > CLONE_MAX_BYTES)
		return berth_err_set(err, BERTH_EINVAL,
		                     "max_bytes: at most %llu",
		                     (unsigned long long)CLONE_MAX_BYTES);
	return 0;
}

static int clone_repo(struct berth_runtime *rt,
                      const Berth__V1__CloneRepoRequest *in,
                      Berth__V1__CloneRepoReply *out, char **commit,
                      struct berth_err *err)
{
	static const char *const skip[] = { ".git", NULL };
	const struct berth_engine_ops *ops = berth_engine_ops(rt->engine);
	const Berth__V1__GitCredentials *c = in->credentials;
	struct berth_git_clone_cred cred = { 0 };
	struct berth_git_clone_opts o = { 0 };
	struct berth_git_checkout *co = NULL;
	Berth__V1__ContainerDetail *d = NULL;
	struct berth_tar_stats st = { 0 };
	struct berth_tar_limits lim = { 0 };
	struct berth_buf tar;
	int rv;

	berth_buf_init(&tar, 0);
	rv = check_request(in, err);
	if (rv != 0)
		goto out;
	if (ops->archive_put == NULL) {
		rv = berth_err_set(err, BERTH_EUNIMPL,
		                   "the %s engine driver cannot upload files",
		                   ops->name);
		goto out;
	}
	/* A missing container is found before any network work. */
	rv = berth_engine_container_inspect(rt->engine, in->id, &d, err);
	if (rv != 0)
		goto out;
	if (c != NULL) {
		cred.username = str_or_null(c->username);
		cred.password = str_or_null(c->password);
		cred.ssh_private_key = str_or_null(c->ssh_private_key);
		cred.ssh_passphrase = str_or_null(c->ssh_passphrase);
		cred.ssh_known_hosts = str_or_null(c->ssh_known_hosts);
	}
	o.url = in->repo_url;
	o.branch = str_or_null(in->branch);
	o.commit = str_or_null(in->commit);
	o.cred = &cred;
	o.timeout_ms = in->timeout_ms;
	o.max_bytes = in->max_bytes;
	o.allow_local = false;
	/* In the runtime's own scratch folder, so a checkout (and its key
	 * file) that a kill leaves behind is swept at the next start. */
	o.tmp_parent
	    = rt->scratch != NULL ? runtime_scratch_path(rt->scratch) : NULL;
	rv = berth_git_clone(&co, &o, err);
	if (rv == BERTH_EUNAUTH) {
		/* UNAUTHENTICATED (401) means the caller's berth token at
		 * the gateway: a git server that wants other credentials is
		 * a refusal of this request, PERMISSION_DENIED. */
		char msg[BERTH_ERR_MSG_MAX];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		rv = berth_err_set(err, BERTH_EPERM, "%s", msg);
	}
	if (rv != 0)
		goto out;

	/* The tar is the checkout plus one header (and padding) per entry. */
	lim.max_entries = BERTH_GIT_MAX_ENTRIES;
	lim.max_bytes = berth_git_checkout_bytes(co)
	    + (uint64_t)berth_git_checkout_entries(co) * 2048u + 1024u * 1024u;
	berth_buf_fini(&tar);
	berth_buf_init(&tar, (size_t)lim.max_bytes);
	rv = berth_tar_from_dir_prefixed(berth_git_checkout_dirfd(co),
	                                 in->target_dir, skip, &lim, &tar, &st,
	                                 err);
	if (rv != 0)
		goto out;
	if (st.entries > 0) {
		rv = ops->archive_put(rt->engine, in->id, "/", tar.data,
		                      tar.len, err);
		if (rv != 0)
			goto out;
	}
	*commit = berth_strdup(berth_git_checkout_commit(co));
	out->commit = *commit;
	out->bytes = st.bytes;
	out->entries = st.entries;
out:
	berth_buf_fini(&tar);
	berth_git_checkout_free(co);
	if (d != NULL)
		protobuf_c_message_free_unpacked(&d->base, NULL);
	return rv;
}

void rt_clone_repo(Berth__V1__Runtime_Service *svc,
                   const Berth__V1__CloneRepoRequest *in,
                   Berth__V1__CloneRepoReply_Closure done, void *call)
{
	Berth__V1__CloneRepoReply out = BERTH__V1__CLONE_REPO_REPLY__INIT;
	struct berth_err err = { 0 };
	struct berth_runtime *rt = runtime_of(svc);
	char *commit = NULL;
	int rv;

	rv = runtime_heavy_enter(rt, "CloneRepo", &err);
	if (rv == 0) {
		rv = clone_repo(rt, in, &out, &commit, &err);
		runtime_heavy_leave(rt);
	}
	if (rv != 0) {
		/* err.msg holds no credential: lib/git_clone scrubs it. */
		rt_fail(call, &err, "CloneRepo");
		done(NULL, call);
		return;
	}
	done(&out, call);
	free(commit);
}
