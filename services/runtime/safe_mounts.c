/*
 * safe_mounts.c: bind mounts only from SafeLocalPaths. Called at create,
 * before anything reaches the engine: every bind source (type "bind" or
 * empty) must resolve beneath one of the operator's safe_local_paths
 * through descriptors (lib/safe_path.h); volumes are not host paths and
 * are not checked. With no safe_local_paths configured, binds are
 * refused.
 *
 * The engine takes the bind source as a path string and resolves it
 * again when the container starts: a source swapped for a symlink in
 * between is not caught here. The check still stops every path that is
 * outside at the time of the request, which is what a caller controls;
 * the folders inside a safe root are the operator's to protect.
 */
#include "services/runtime/runtime_internal.h"

#include "lib/safe_path.h"

#include <stdio.h>
#include <string.h>

int runtime_bind_mounts_check(struct berth_runtime *rt,
                              const Berth__V1__ContainerSpec *spec,
                              struct berth_err *err)
{
	for (size_t i = 0; spec != NULL && i < spec->n_mounts; i++) {
		const Berth__V1__Mount *m = spec->mounts[i];
		struct berth_safe_target t = BERTH_SAFE_TARGET_INIT;
		char field[48];
		int rv;

		if (m->type[0] != '\0' && strcmp(m->type, "bind") != 0)
			continue;
		snprintf(field, sizeof(field), "mounts[%zu].source", i);
		rv = berth_safe_path_resolve(
		    &t, field, m->source,
		    (const char *const *)rt->safe_local_paths,
		    rt->nsafe_local_paths, NULL, 0, err);
		berth_safe_target_fini(&t);
		if (rv != 0)
			return rv;
	}
	return 0;
}
