/*
 * safe_mounts.c: bind mounts only from SafeLocalPaths. Every bind source
 * (type "bind" or empty) must resolve beneath one of the operator's
 * safe_local_paths through descriptors (lib/safe_path.h); volumes are
 * not host paths and are not checked. With no safe_local_paths
 * configured, binds are refused.
 *
 * Checked at create, before anything reaches the engine, and again
 * right before berth starts or restarts a container it created: the
 * engine takes the source as a path string and resolves it once more
 * when the container starts, so a folder swapped for a symlink between
 * create and start is caught then (PERMISSION_DENIED as at create; a
 * source gone since is FAILED_PRECONDITION: the container is there). What is left is the moment between
 * that check and the engine's mount, and restarts the engine makes on
 * its own (restart policies); the folders inside a safe root are the
 * operator's to protect.
 */
#include "services/runtime/runtime_internal.h"
#include "services/runtime/state_cache.h"

#include "lib/safe_path.h"

#include <stdio.h>
#include <string.h>

/* One bind source, named `field` in the error. */
static int check_source(struct berth_runtime *rt, const char *field,
                        const char *source, struct berth_err *err)
{
	struct berth_safe_target t = BERTH_SAFE_TARGET_INIT;
	int rv;

	rv = berth_safe_path_resolve(&t, field, source,
	                             (const char *const *)rt->safe_local_paths,
	                             rt->nsafe_local_paths, NULL, 0, err);
	berth_safe_target_fini(&t);
	return rv;
}

static bool is_bind(const Berth__V1__Mount *m)
{
	return m->type[0] == '\0' || strcmp(m->type, "bind") == 0;
}

int runtime_bind_mounts_check(struct berth_runtime *rt,
                              const Berth__V1__ContainerSpec *spec,
                              struct berth_err *err)
{
	for (size_t i = 0; spec != NULL && i < spec->n_mounts; i++) {
		char field[48];
		int rv;

		if (!is_bind(spec->mounts[i]))
			continue;
		snprintf(field, sizeof(field), "mounts[%zu].source", i);
		rv = check_source(rt, field, spec->mounts[i]->source, err);
		if (rv != 0)
			return rv;
	}
	return 0;
}

/* The check on one container's detail. */
static int recheck_detail(struct berth_runtime *rt,
                          const Berth__V1__ContainerDetail *d,
                          struct berth_err *err)
{
	if (!berth_summary_managed(d->summary))
		return 0;
	for (size_t i = 0; i < d->n_mounts; i++) {
		char field[64];
		int rv;

		if (!is_bind(d->mounts[i]))
			continue;
		snprintf(field, sizeof(field),
		         "the container's mounts[%zu].source", i);
		rv = check_source(rt, field, d->mounts[i]->source, err);
		/* The container exists: a source folder gone since create
		 * (or no longer usable) is the state refusing the start,
		 * not a missing container (NOT_FOUND would tell a client
		 * the container is gone). A source that leads out stays
		 * PERMISSION_DENIED, as at create. */
		if (rv == BERTH_ENOTFOUND || rv == BERTH_EINVAL) {
			if (err != NULL)
				err->code = BERTH_EPRECOND;
			rv = BERTH_EPRECOND;
		}
		if (rv != 0)
			return rv;
	}
	return 0;
}

int runtime_bind_mounts_recheck(struct berth_runtime *rt, const char *ref,
                                struct berth_err *err)
{
	Berth__V1__ContainerDetail *d = NULL;
	int rv = 0;

	/* The mount sources are fixed at create, so the cache's copy
	 * serves; it is the folders on disk that are checked again. */
	if (!state_cache_inspect(runtime_cache(rt), ref, &d))
		rv = berth_engine_container_inspect(rt->engine, ref, &d, err);
	if (rv != 0)
		return rv;
	rv = recheck_detail(rt, d, err);
	protobuf_c_message_free_unpacked(&d->base, NULL);
	return rv;
}
