/*
 * spec.c: checks and fingerprints of container specs in the runtime.
 *
 * The gateway validates REST input already; the runtime checks again
 * because programs reach it over nng directly, and it is the last stop
 * before the engine.
 */
#include "services/runtime/runtime_internal.h"

#include "lib/alloc.h"
#include "lib/validate.h"

#include <stdlib.h>
#include <string.h>

static int check_restart_policy(const Berth__V1__RestartPolicy *rp,
                                struct berth_err *err)
{
	static const char *const names[]
	    = { "", "no", "always", "unless-stopped", "on-failure" };

	if (rp == NULL)
		return 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(rp->name, names[i]) == 0) {
			if (rp->max_retries > 0
			    && strcmp(rp->name, "on-failure") != 0)
				return berth_err_set(
				    err, BERTH_EINVAL,
				    "restart_policy: max retries apply to "
				    "\"on-failure\" only");
			return 0;
		}
	}
	return berth_err_set(err, BERTH_EINVAL,
	                     "restart_policy: must be one of no, always, "
	                     "unless-stopped, on-failure");
}

static int check_mounts(const Berth__V1__ContainerSpec *spec,
                        struct berth_err *err)
{
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const Berth__V1__Mount *m = spec->mounts[i];
		int rv;

		rv = berth_validate_container_path("mounts.target", m->target,
		                                   err);
		if (rv != 0)
			return rv;
		if (strcmp(m->type, "volume") == 0) {
			rv = berth_validate_name("mounts.source", m->source,
			                         err);
		} else if (m->type[0] == '\0' || strcmp(m->type, "bind") == 0) {
			/* A host path: absolute, no "..", like a container
			 * path. Which host paths may be bound is the
			 * SafeLocalPaths work of the next issue. */
			rv = berth_validate_container_path("mounts.source",
			                                   m->source, err);
		} else {
			rv = berth_err_set(err, BERTH_EINVAL,
			                   "mounts.type: must be \"bind\" or "
			                   "\"volume\"");
		}
		if (rv != 0)
			return rv;
	}
	return 0;
}

static int check_ports(const Berth__V1__ContainerSpec *spec,
                       struct berth_err *err)
{
	for (size_t i = 0; i < spec->n_ports; i++) {
		const Berth__V1__PortBinding *p = spec->ports[i];

		if (p->container_port == 0 || p->container_port > 65535
		    || p->host_port > 65535)
			return berth_err_set(err, BERTH_EINVAL,
			                     "ports: port numbers must be "
			                     "1..65535");
		if (p->protocol[0] != '\0'
		    && berth_validate_port_protocol("ports", p->protocol, err)
		        != 0)
			return BERTH_EINVAL;
		if (berth_validate_text("ports.host_ip", p->host_ip, 64, err)
		    != 0)
			return BERTH_EINVAL;
	}
	return 0;
}

/* Caps on the lists of the container options. */
#define MAX_NETWORKS 16
#define MAX_CAPS     64

static int check_health(const Berth__V1__HealthCheck *h, struct berth_err *err)
{
	if (h == NULL)
		return 0;
	return berth_validate_health("health", (const char *const *)h->test,
	                             h->n_test, h->interval_ms, h->timeout_ms,
	                             h->retries, h->start_period_ms, err);
}

static int check_resources(const Berth__V1__Resources *r, struct berth_err *err)
{
	int rv;

	if (r == NULL)
		return 0;
	rv = berth_validate_memory_bytes("resources.memory_bytes",
	                                 r->memory_bytes, err);
	if (rv == 0)
		rv = berth_validate_nano_cpus("resources.nano_cpus",
		                              r->nano_cpus, err);
	if (rv == 0)
		rv = berth_validate_pids_limit("resources.pids_limit",
		                               r->pids_limit, err);
	return rv;
}

static int check_networks(const Berth__V1__ContainerSpec *spec,
                          struct berth_err *err)
{
	if (spec->n_networks > MAX_NETWORKS)
		return berth_err_set(err, BERTH_EINVAL,
		                     "networks: more than %d entries",
		                     MAX_NETWORKS);
	for (size_t i = 0; i < spec->n_networks; i++) {
		int rv = berth_validate_network_name("networks",
		                                     spec->networks[i], err);

		if (rv != 0)
			return rv;
		/* "none" has no interface to share: it cannot be combined. */
		if (strcmp(spec->networks[i], "none") == 0
		    && spec->n_networks > 1)
			return berth_err_set(err, BERTH_EINVAL,
			                     "networks: \"none\" cannot be "
			                     "combined with other networks");
		for (size_t j = 0; j < i; j++)
			if (strcmp(spec->networks[j], spec->networks[i]) == 0)
				return berth_err_set(
				    err, BERTH_EINVAL,
				    "networks[%zu]: \"%s\" is listed twice", i,
				    spec->networks[i]);
	}
	return 0;
}

static int check_caps(const char *field, char *const *caps, size_t n,
                      bool allow_all, struct berth_err *err)
{
	if (n > MAX_CAPS)
		return berth_err_set(err, BERTH_EINVAL,
		                     "%s: more than %d entries", field,
		                     MAX_CAPS);
	for (size_t i = 0; i < n; i++) {
		int rv
		    = berth_validate_capability(field, caps[i], allow_all, err);

		if (rv != 0)
			return rv;
		for (size_t j = 0; j < i; j++)
			if (strcmp(caps[j], caps[i]) == 0)
				return berth_err_set(err, BERTH_EINVAL,
				                     "%s[%zu]: listed twice",
				                     field, i);
	}
	return 0;
}

/* The options of issue 3: health, limits, networks, security, removal. */
static int check_options(const Berth__V1__ContainerSpec *spec,
                         struct berth_err *err)
{
	const Berth__V1__RestartPolicy *rp = spec->restart_policy;
	int rv;

	rv = check_health(spec->health, err);
	if (rv == 0)
		rv = check_resources(spec->resources, err);
	if (rv == 0)
		rv = check_networks(spec, err);
	if (rv == 0)
		rv = check_caps("cap_drop", spec->cap_drop, spec->n_cap_drop,
		                true, err);
	if (rv == 0)
		rv = check_caps("cap_add", spec->cap_add, spec->n_cap_add,
		                false, err);
	if (rv == 0 && spec->user[0] != '\0')
		rv = berth_validate_user("user", spec->user, err);
	if (rv == 0 && spec->pod[0] != '\0')
		rv = berth_validate_name("pod", spec->pod, err);
	if (rv != 0)
		return rv;
	/* The engine removes an auto-removed container when it stops: a
	 * restart policy would have nothing left to restart. */
	if (spec->remove_on_exit && rp != NULL && rp->name[0] != '\0'
	    && strcmp(rp->name, "no") != 0)
		return berth_err_set(err, BERTH_EINVAL,
		                     "remove_on_exit: a container removed when "
		                     "its command ends cannot have restart "
		                     "policy \"%s\"; use \"no\" or keep it",
		                     rp->name);
	return 0;
}

int runtime_spec_check(const Berth__V1__ContainerSpec *spec,
                       struct berth_err *err)
{
	int rv;

	if (spec == NULL)
		return berth_err_set(err, BERTH_EINVAL, "spec: required");
	if (spec->image[0] == '\0')
		return berth_err_set(err, BERTH_EINVAL, "image: required");
	rv = berth_validate_image_ref("image", spec->image, err);
	if (rv != 0)
		return rv;
	if (spec->name[0] != '\0') {
		rv = berth_validate_name("name", spec->name, err);
		if (rv != 0)
			return rv;
	}
	if (spec->n_command > 0 && spec->command_line[0] != '\0')
		return berth_err_set(err, BERTH_EINVAL,
		                     "command: give either an argv array or "
		                     "a single command line, not both");
	for (size_t i = 0; i < spec->n_env; i++) {
		rv = berth_validate_env_key("environment", spec->env[i]->key,
		                            err);
		if (rv != 0)
			return rv;
	}
	for (size_t i = 0; i < spec->n_labels; i++) {
		rv = berth_validate_label_key("labels", spec->labels[i]->key,
		                              err);
		if (rv != 0)
			return rv;
	}
	if (spec->working_dir[0] != '\0') {
		rv = berth_validate_container_path("working_dir",
		                                   spec->working_dir, err);
		if (rv != 0)
			return rv;
	}
	rv = check_mounts(spec, err);
	if (rv != 0)
		return rv;
	rv = check_ports(spec, err);
	if (rv != 0)
		return rv;
	rv = check_restart_policy(spec->restart_policy, err);
	if (rv != 0)
		return rv;
	return check_options(spec, err);
}

void runtime_spec_hash(const Berth__V1__ContainerSpec *spec,
                       char out[BERTH_SHA256_HEX_LEN + 1])
{
	/* protobuf-c packs fields in field-number order, so equal specs
	 * give equal bytes. */
	size_t len = berth__v1__container_spec__get_packed_size(spec);
	uint8_t *buf = berth_malloc(len);

	berth__v1__container_spec__pack(spec, buf);
	berth_sha256_hex(buf, len, out);
	free(buf);
}

char *runtime_image_normalise(const char *ref)
{
	const char *slash = strrchr(ref, '/');
	const char *last = slash != NULL ? slash + 1 : ref;

	/* A tag is a ':' after the last '/'; a ':' before it is a port. */
	if (strchr(ref, '@') != NULL || strchr(last, ':') != NULL)
		return berth_strdup(ref);
	return berth_asprintf("%s:latest", ref);
}
