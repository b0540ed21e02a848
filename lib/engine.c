/*
 * engine.c: opening an engine driver and dispatching through its ops
 * table (see engine.h). The drivers themselves live in engine_<name>.c.
 */
#include "lib/engine.h"

#include "lib/alloc.h"
#include "lib/engine_http.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_TIMEOUT_MS 60000

static const char *const default_shell[] = { "/bin/sh", "-c" };

struct berth_engine {
	const struct berth_engine_ops *ops;
	char *runtime;
	char *socket_path; /* NULL for tcp */
	char *base_url;    /* "http://host:port" for tcp, else NULL */
	char *display;     /* "unix:///path" or "tcp://host:port" */
	int timeout_ms;
	char **shell;
	size_t nshell;
	struct berth_http_target target;
};

/* Turns "tcp://[user@]host:port[/]" into "http://host:port" and a display
 * name without the user part, so no credential reaches a message. */
static int parse_tcp_url(const char *url, char **base, char **display,
                         struct berth_err *err)
{
	const char *hostport;
	const char *at;
	size_t n;

	if (strncmp(url, "tcp://", 6) == 0)
		hostport = url + 6;
	else if (strncmp(url, "http://", 7) == 0)
		hostport = url + 7;
	else
		return berth_err_set(err, BERTH_EINVAL,
		                     "engine url must start with tcp:// or "
		                     "http://");
	at = strchr(hostport, '@');
	if (at != NULL)
		return berth_err_set(err, BERTH_EINVAL,
		                     "engine url must not carry credentials");
	n = strcspn(hostport, "/?#");
	if (n == 0)
		return berth_err_set(err, BERTH_EINVAL,
		                     "engine url has no host");
	*base = berth_asprintf("http://%.*s", (int)n, hostport);
	*display = berth_asprintf("tcp://%.*s", (int)n, hostport);
	return 0;
}

int berth_engine_open(struct berth_engine **out,
                      const struct berth_engine_config *cfg,
                      struct berth_err *err)
{
	struct berth_engine *e = NULL;
	const struct berth_engine_ops *ops = NULL;
	const char *runtime = cfg->runtime != NULL ? cfg->runtime : "docker";
	int rv;

	if (strcmp(runtime, "docker") == 0) {
		ops = &berth_engine_docker_ops;
	} else if (strcmp(runtime, "podman") == 0) {
		ops = &berth_engine_podman_ops;
	} else {
		rv = berth_err_set(err, BERTH_EINVAL,
		                   "runtime: unknown engine runtime \"%.32s\" "
		                   "(supported: docker, podman)",
		                   runtime);
		goto out;
	}
	if ((cfg->socket_path == NULL || cfg->socket_path[0] == '\0')
	    && (cfg->url == NULL || cfg->url[0] == '\0')) {
		rv = berth_err_set(
		    err, BERTH_EINVAL,
		    "engine: neither socket_path nor url is set");
		goto out;
	}
	if (cfg->nshell > 0 && cfg->shell == NULL) {
		rv = berth_err_set(err, BERTH_EINVAL,
		                   "engine: nshell set without shell");
		goto out;
	}

	e = berth_calloc(1, sizeof(*e));
	e->ops = ops;
	e->runtime = berth_strdup(runtime);
	e->timeout_ms
	    = cfg->timeout_ms > 0 ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
	if (cfg->socket_path != NULL && cfg->socket_path[0] != '\0') {
		e->socket_path = berth_strdup(cfg->socket_path);
		e->display = berth_asprintf("unix://%s", cfg->socket_path);
	} else {
		rv = parse_tcp_url(cfg->url, &e->base_url, &e->display, err);
		if (rv != 0)
			goto out;
	}
	if (cfg->nshell > 0) {
		e->shell = berth_calloc(cfg->nshell, sizeof(*e->shell));
		e->nshell = cfg->nshell;
		for (size_t i = 0; i < cfg->nshell; i++)
			e->shell[i] = berth_strdup(
			    cfg->shell[i] != NULL ? cfg->shell[i] : "");
	}
	e->target.socket_path = e->socket_path;
	e->target.base_url = e->base_url;
	e->target.display = e->display;
	e->target.timeout_ms = e->timeout_ms;
	berth_http_global_init();

	*out = e;
	e = NULL;
	rv = 0;
out:
	berth_engine_free(e);
	return rv;
}

void berth_engine_free(struct berth_engine *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < e->nshell; i++)
		free(e->shell[i]);
	free(e->shell);
	free(e->display);
	free(e->base_url);
	free(e->socket_path);
	free(e->runtime);
	free(e);
}

const struct berth_engine_ops *berth_engine_ops(const struct berth_engine *e)
{
	return e->ops;
}

const char *berth_engine_runtime(const struct berth_engine *e)
{
	return e->runtime;
}

const char *berth_engine_socket_path(const struct berth_engine *e)
{
	return e->socket_path != NULL ? e->socket_path : e->display;
}

const struct berth_http_target *
berth_engine_http_target(const struct berth_engine *e)
{
	return &e->target;
}

const char *const *berth_engine_shell(const struct berth_engine *e, size_t *n)
{
	if (e->nshell == 0) {
		*n = sizeof(default_shell) / sizeof(default_shell[0]);
		return default_shell;
	}
	*n = e->nshell;
	return (const char *const *)e->shell;
}

int berth_engine_timeout_ms(const struct berth_engine *e)
{
	return e->timeout_ms;
}

int berth_engine_ping(struct berth_engine *e, struct berth_err *err)
{
	return e->ops->ping(e, err);
}

int berth_engine_info(struct berth_engine *e, Berth__V1__RuntimeInfo **out,
                      struct berth_err *err)
{
	return e->ops->info(e, out, err);
}

int berth_engine_image_pull(struct berth_engine *e, const char *ref,
                            berth_engine_progress_fn progress, void *arg,
                            char **image_id, struct berth_err *err)
{
	return e->ops->image_pull(e, ref, progress, arg, image_id, err);
}

int berth_engine_image_exists(struct berth_engine *e, const char *ref,
                              bool *exists, struct berth_err *err)
{
	return e->ops->image_exists(e, ref, exists, err);
}

int berth_engine_container_create(struct berth_engine *e,
                                  const Berth__V1__ContainerSpec *spec,
                                  const Berth__V1__KeyValue *const *labels,
                                  size_t nlabels, char **id,
                                  struct berth_err *err)
{
	return e->ops->container_create(e, spec, labels, nlabels, id, err);
}

int berth_engine_container_start(struct berth_engine *e, const char *id,
                                 struct berth_err *err)
{
	return e->ops->container_start(e, id, err);
}

int berth_engine_container_stop(struct berth_engine *e, const char *id,
                                int timeout_s, struct berth_err *err)
{
	return e->ops->container_stop(e, id, timeout_s, err);
}

int berth_engine_container_restart(struct berth_engine *e, const char *id,
                                   int timeout_s, struct berth_err *err)
{
	return e->ops->container_restart(e, id, timeout_s, err);
}

int berth_engine_container_remove(struct berth_engine *e, const char *id,
                                  bool force, bool volumes,
                                  struct berth_err *err)
{
	return e->ops->container_remove(e, id, force, volumes, err);
}

int berth_engine_container_list(struct berth_engine *e,
                                const Berth__V1__ListContainersRequest *filter,
                                Berth__V1__ListContainersReply **out,
                                struct berth_err *err)
{
	return e->ops->container_list(e, filter, out, err);
}

int berth_engine_container_inspect(struct berth_engine *e, const char *id,
                                   Berth__V1__ContainerDetail **out,
                                   struct berth_err *err)
{
	return e->ops->container_inspect(e, id, out, err);
}

bool berth_summary_managed(const Berth__V1__ContainerSummary *s)
{
	for (size_t i = 0; s != NULL && i < s->n_labels; i++)
		if (strcmp(s->labels[i]->key, BERTH_LABEL_MANAGED) == 0)
			return s->labels[i]->value != NULL
			    && strcmp(s->labels[i]->value, "true") == 0;
	return false;
}
