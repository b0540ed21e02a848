/*
 * config.h: berth's configuration: file, then environment, then flags.
 *
 * The file is TOML (see toml.h). Seed 001's block loads as written:
 *
 *   [docker]
 *   runtime = "docker"            # or "podman"
 *   socket_path = "/var/run/docker.sock"
 *   rootless = false
 *   build_dir = "/tmp/mikrocloud/builds"
 *   shell = ["/bin/sh", "-c"]     # for single-string commands
 *
 *   [gateway]
 *   listen = "127.0.0.1:8080"
 *   max_body_bytes = 1048576
 *
 *   [data]
 *   dir = "./var"                 # SQLite files, admin token
 *
 *   [services]                    # nng addresses, one or more each
 *   runtime = ["inproc://berth/runtime"]
 *
 * Unknown tables or keys and wrong types are errors naming the line:
 * a typo must not silently fall back to a default. Environment
 * variables override the file (BERTH_DATA, BERTH_HTTP, BERTH_RUNTIME,
 * BERTH_DOCKER_SOCKET, BERTH_RUNTIME_URL, BERTH_SHELL, BERTH_HEALTH_DRIVER -- lists are
 * comma-separated, e.g. BERTH_SHELL=/bin/bash,-l,-c); the CLI's flags override both
 * through berth_config_set().
 */
#ifndef BERTH_LIB_CONFIG_H
#define BERTH_LIB_CONFIG_H

#include "lib/error.h"

#include <stdbool.h>
#include <stddef.h>

struct berth_config {
	/* [docker] */
	char *runtime; /* "docker" | "podman" */
	char *socket_path;
	bool rootless;
	char *build_dir;
	char **shell; /* NULL-terminated */
	size_t nshell;
	/* [gateway] */
	char *http_listen; /* "127.0.0.1:8080" */
	size_t max_body_bytes;
	/* [data] */
	char *data_dir;
	/* [services] */
	char **runtime_urls; /* NULL-terminated */
	size_t nruntime_urls;
	/* [runtime] */
	/* Host folders code may be injected or bind-mounted from (seed
	 * 000's SafeLocalPaths); none = injection and binds are refused. */
	char **safe_local_paths; /* NULL-terminated, or NULL */
	size_t nsafe_local_paths;
	/* Who runs containers' health probes where the engine will not
	 * (Podman without systemd): "auto" (default: berth does, on
	 * Podman when /run/systemd/system is absent), "on" or "off".
	 * BERTH_HEALTH_DRIVER overrides it. */
	char *health_driver;
};

/*
 * Loads defaults, then `path` when non-NULL (a missing file given
 * explicitly is BERTH_ENOTFOUND), then the environment.
 * Caller owns `*out`; free with berth_config_free().
 * Errors: BERTH_EINVAL naming file, line and key.
 */
int berth_config_load(struct berth_config **out, const char *path,
                      struct berth_err *err);

/*
 * Overrides one setting by its dotted name ("docker.socket_path",
 * "gateway.listen", "data.dir", "services.runtime" -- comma-separated
 * for lists). Used for command-line flags.
 * Errors: BERTH_EINVAL for unknown names or bad values.
 */
int berth_config_set(struct berth_config *cfg, const char *name,
                     const char *value, struct berth_err *err);

/* Accepts NULL. */
void berth_config_free(struct berth_config *cfg);

#endif
