/*
 * rpc_envelope.c: helpers the RPC server and client share: protobuf into
 * nng messages, clocks, and the url checks and ipc:// permissions (the
 * socket file 0600 inside a 0700 directory) applied on both sides.
 */
#include "lib/rpc_envelope.h"

#include "lib/alloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int rpc_pack_msg(nng_msg **out, const ProtobufCMessage *m, size_t max,
                 struct berth_err *err)
{
	nng_msg *msg = NULL;
	size_t n = protobuf_c_message_get_packed_size(m);
	int rv;

	if (n > max)
		return berth_err_set(
		    err, BERTH_ELIMIT,
		    "message of %zu bytes exceeds the limit of "
		    "%zu bytes",
		    n, max);
	rv = nng_msg_alloc(&msg, n);
	if (rv != 0)
		return berth_err_set(err, BERTH_EINTERNAL,
		                     "cannot allocate a message: %s",
		                     nng_strerror(rv));
	if (n > 0)
		protobuf_c_message_pack(m, nng_msg_body(msg));
	*out = msg;
	return 0;
}

static bool has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

int rpc_url_check(const char *url, struct berth_err *err)
{
	if (url == NULL || url[0] == '\0')
		return berth_err_set(err, BERTH_EINVAL, "empty rpc url");
	if (strlen(url) > 1024)
		return berth_err_set(err, BERTH_EINVAL, "rpc url too long");
	if ((has_prefix(url, "inproc://") && url[9] != '\0')
	    || (has_prefix(url, "ipc://") && url[6] != '\0')
	    || (has_prefix(url, "tcp://") && url[6] != '\0'))
		return 0;
	return berth_err_set(err, BERTH_EINVAL,
	                     "rpc url \"%s\": use inproc://, ipc:// or tcp://",
	                     url);
}

/* The socket path of an ipc:// url, or NULL for other schemes. */
static const char *ipc_path(const char *url)
{
	return has_prefix(url, "ipc://") ? url + 6 : NULL;
}

int rpc_url_prepare_listen(const char *url, struct berth_err *err)
{
	const char *path = ipc_path(url);
	char *dir;
	char *slash;
	int rv = 0;

	if (path == NULL)
		return 0;
	dir = berth_strdup(path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		goto out; /* relative name in the cwd, or a file in "/" */
	*slash = '\0';
	/* Make every missing level 0700: nothing of ours is left wider. */
	for (char *p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			rv = berth_err_set(err, BERTH_EINVAL,
			                   "cannot create %s: %s", dir,
			                   strerror(errno));
			goto out;
		}
		*p = '/';
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		rv = berth_err_set(err, BERTH_EINVAL, "cannot create %s: %s",
		                   dir, strerror(errno));
out:
	free(dir);
	return rv;
}

int rpc_url_finish_listen(const char *url, struct berth_err *err)
{
	const char *path = ipc_path(url);

	if (path == NULL)
		return 0;
	if (chmod(path, 0600) != 0)
		return berth_err_set(err, BERTH_EINTERNAL,
		                     "cannot chmod %s: %s", path,
		                     strerror(errno));
	return 0;
}

int rpc_code_from_nng(int nng_rv)
{
	switch (nng_rv) {
	case 0: return BERTH_OK;
	case NNG_EADDRINUSE: return BERTH_EUNAVAIL;
	case NNG_EADDRINVAL:
	case NNG_EINVAL:
	case NNG_ENOTSUP: return BERTH_EINVAL;
	case NNG_ETIMEDOUT: return BERTH_ETIMEDOUT;
	case NNG_ECANCELED:
	case NNG_ECLOSED: return BERTH_ECANCELLED;
	case NNG_EPERM: return BERTH_EPERM;
	case NNG_EMSGSIZE: return BERTH_ELIMIT;
	case NNG_ECONNREFUSED:
	case NNG_ECONNRESET:
	case NNG_ECONNSHUT:
	case NNG_EUNREACHABLE: return BERTH_EUNAVAIL;
	default: return BERTH_EINTERNAL;
	}
}
