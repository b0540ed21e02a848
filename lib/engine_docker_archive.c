/*
 * engine_docker_archive.c: the Docker driver's uploading a tar into a container.
 * STUB until its owner lands it: answers BERTH_EUNIMPL.
 */
#include "lib/engine_docker_internal.h"

int docker_archive_put(struct berth_engine *e, const char *id, const char *path,
                       const void *tar, size_t len, struct berth_err *err)
{
	(void)e;
	(void)id;
	(void)path;
	(void)tar;
	(void)len;
	return berth_err_set(err, BERTH_EUNIMPL, "not implemented yet");
}
