/*
 * engine_docker_archive.c: the Docker driver's uploading a tar into a
 * container (PUT /containers/{id}/archive?path=<folder>), which the
 * engine extracts inside the container's root (its own symlinks resolve
 * within the container, never on the host).
 */
#include "lib/engine_docker_internal.h"

#include "lib/alloc.h"
#include "lib/engine_http.h"
#include "lib/validate.h"

#include <stdlib.h>
#include <string.h>

/* An upload may be large (up to the runtime's 80 MiB message): give it
 * more time than the engine's per-request default. */
#define ARCHIVE_TIMEOUT_MS (5L * 60L * 1000L)

int docker_archive_put(struct berth_engine *e, const char *id, const char *path,
                       const void *tar, size_t len, struct berth_err *err)
{
	struct docker_reply r;
	struct berth_http_req req = { 0 };
	char *qpath = NULL, *full = NULL, *what = NULL;
	long timeout = berth_engine_timeout_ms(e);
	int rv;

	docker_reply_init(&r);
	rv = docker_check_id(id, err);
	if (rv != 0)
		goto out;
	rv = berth_validate_container_path("path", path, err);
	if (rv != 0)
		goto out;
	if (tar == NULL || len == 0) {
		rv = berth_err_set(err, BERTH_EINVAL, "the tar is empty");
		goto out;
	}
	qpath = berth_http_escape(path);
	full = berth_asprintf(API "/containers/%s/archive?path=%s", id, qpath);
	req.method = "PUT";
	req.path = full;
	req.body = tar;
	req.body_len = len;
	req.content_type = "application/x-tar";
	req.timeout_ms
	    = timeout > ARCHIVE_TIMEOUT_MS ? timeout : ARCHIVE_TIMEOUT_MS;
	rv = berth_http_do(berth_engine_http_target(e), &req, &r.status,
	                   &r.body, err);
	if (rv != 0)
		goto out;
	if (r.status >= 200 && r.status < 300)
		goto out;
	berth_http_engine_message(r.body.data, r.body.len, r.msg,
	                          sizeof(r.msg));
	what = docker_what_container("upload into", id);
	if (r.status == 404)
		rv = berth_err_set(err, BERTH_ENOTFOUND,
		                   "%s: no such container, or %.100s does not "
		                   "exist in it (%s)",
		                   what, path, r.msg);
	else
		rv = docker_map_status(&r, BERTH_EPRECOND, what, err);
out:
	free(what);
	free(full);
	free(qpath);
	docker_reply_fini(&r);
	return rv;
}
