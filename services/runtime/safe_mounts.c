/*
 * safe_mounts.c: bind mounts only from SafeLocalPaths.
 * STUB until its owner lands it: accepts every bind.
 */
#include "services/runtime/runtime_internal.h"

int runtime_bind_mounts_check(struct berth_runtime *rt,
                              const Berth__V1__ContainerSpec *spec,
                              struct berth_err *err)
{
	(void)rt;
	(void)spec;
	(void)err;
	return 0;
}
