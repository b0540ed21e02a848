/*
 * json_map.c: strict JSON -> protobuf (container spec, pull) and
 * protobuf -> JSON (summaries, details, jobs, runtime info).
 *
 * Everything a user names is checked here, before any RPC: the services
 * check again, but a 400 that names the field is kinder than a 500 from
 * an engine. Strings in the specs made here are always heap copies (or
 * protobuf_c_empty_string), so gw_container_spec_free() can free them
 * without knowing where they came from.
 */
#include "gateway/json_map.h"

#include "gateway/json_writer.h"

#include "lib/alloc.h"
#include "lib/validate.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Caps on what one body may hold (each also bounded by the body cap). */
#define MAX_LIST      1024 /* argv words, env entries */
#define MAX_LABELS    256
#define MAX_MOUNTS    64
#define MAX_PORTS     256
#define MAX_VALUE     65536 /* one env value / argv word / command line */
#define MAX_LABEL_VAL 4096

/* ---------------------------------------------------------------- input */

/* A key fit for a message: printable ASCII only, at most 64 bytes. */
static void safe_key(char *dst, size_t n, const char *key)
{
	size_t j = 0;

	for (size_t i = 0; key[i] != '\0' && j + 1 < n && i < 64; i++) {
		unsigned char c = (unsigned char)key[i];

		dst[j++] = (c >= 0x20 && c < 0x7f && c != '"') ? (char)c : '?';
	}
	dst[j] = '\0';
}

int gw_json_parse_object(json_t **out, const char *text, size_t len,
                         struct berth_err *err)
{
	json_error_t jerr;
	json_t *root;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		if (json_error_code(&jerr) == json_error_duplicate_key) {
			/* jansson says: duplicate object key near '"name"' */
			char key[80] = "";
			const char *q = strstr(jerr.text, "near '");

			if (q != NULL) {
				char raw[80];
				size_t l;

				snprintf(raw, sizeof(raw), "%s", q + 6);
				l = strlen(raw);
				if (l > 0 && raw[l - 1] == '\'')
					raw[--l] = '\0';
				if (l >= 2 && raw[0] == '"'
				    && raw[l - 1] == '"') {
					raw[l - 1] = '\0';
					safe_key(key, sizeof(key), raw + 1);
				}
			}
			return berth_err_set(err, BERTH_EINVAL,
			                     "duplicate field \"%s\"", key);
		}
		/* Drop jansson's "near '...'": it may quote a secret. */
		char *near = strstr(jerr.text, " near ");

		if (near != NULL)
			*near = '\0';
		return berth_err_set(err, BERTH_EINVAL,
		                     "malformed JSON at line %d column %d: %s",
		                     jerr.line, jerr.column, jerr.text);
	}
	if (!json_is_object(root)) {
		json_decref(root);
		return berth_err_set(err, BERTH_EINVAL,
		                     "body: expected a JSON object");
	}
	*out = root;
	return 0;
}

/* Refuses keys of `obj` not in the NULL-ended `allowed`. */
static int check_keys(const json_t *obj, const char *const *allowed,
                      const char *prefix, struct berth_err *err)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v)
	{
		bool ok = false;

		for (size_t i = 0; allowed[i] != NULL && !ok; i++)
			ok = strcmp(key, allowed[i]) == 0;
		if (!ok) {
			char k[80];

			safe_key(k, sizeof(k), key);
			return berth_err_set(err, BERTH_EINVAL,
			                     "unknown field \"%s%s\"", prefix,
			                     k);
		}
	}
	return 0;
}

/* `*out` is the string at `key`, or NULL when absent or null. */
static int opt_string(const json_t *obj, const char *key, const char *field,
                      const char **out, struct berth_err *err)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return berth_err_set(err, BERTH_EINVAL, "%s: expected a string",
		                     field);
	*out = json_string_value(v);
	return 0;
}

/*
 * Reads the optional string member `key` of `obj`, checks it with
 * `check` (a lib/validate.h allow-list) and stores a copy in `*dst`.
 * `*dst` is left as it is when the member is absent or null; `required`
 * makes absence an error.
 */
static int checked_string(const json_t *obj, const char *key, bool required,
                          int (*check)(const char *, const char *,
                                       struct berth_err *),
                          char **dst, struct berth_err *err)
{
	const char *s;
	int rv = opt_string(obj, key, key, &s, err);

	if (rv != 0)
		return rv;
	if (s == NULL)
		return required
		    ? berth_err_set(err, BERTH_EINVAL, "%s: required", key)
		    : 0;
	rv = check(key, s, err);
	if (rv != 0)
		return rv;
	*dst = berth_strdup(s);
	return 0;
}

static void free_str(char *s)
{
	if (s != NULL && s != protobuf_c_empty_string)
		free(s);
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free_str(v[i]);
	free(v);
}

static void free_kvs(Berth__V1__KeyValue **kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free_str(kv[i]->key);
		free_str(kv[i]->value);
		free(kv[i]);
	}
	free(kv);
}

void gw_container_spec_free(Berth__V1__ContainerSpec *spec)
{
	if (spec == NULL)
		return;
	free_str(spec->image);
	free_str(spec->name);
	free_strv(spec->command, spec->n_command);
	free_str(spec->command_line);
	free_strv(spec->shell, spec->n_shell);
	free_strv(spec->entrypoint, spec->n_entrypoint);
	free_kvs(spec->env, spec->n_env);
	free_str(spec->working_dir);
	for (size_t i = 0; i < spec->n_mounts; i++) {
		free_str(spec->mounts[i]->source);
		free_str(spec->mounts[i]->target);
		free_str(spec->mounts[i]->type);
		free(spec->mounts[i]);
	}
	free(spec->mounts);
	for (size_t i = 0; i < spec->n_ports; i++) {
		free_str(spec->ports[i]->host_ip);
		free_str(spec->ports[i]->protocol);
		free(spec->ports[i]);
	}
	free(spec->ports);
	if (spec->restart_policy != NULL) {
		free_str(spec->restart_policy->name);
		free(spec->restart_policy);
	}
	free_kvs(spec->labels, spec->n_labels);
	if (spec->health != NULL) {
		free_strv(spec->health->test, spec->health->n_test);
		free(spec->health);
	}
	free(spec->resources);
	free_strv(spec->networks, spec->n_networks);
	free_strv(spec->cap_drop, spec->n_cap_drop);
	free_strv(spec->cap_add, spec->n_cap_add);
	free_str(spec->user);
	free_str(spec->pod);
	free(spec);
}

/* An array of strings (or, when `allow_string`, one string: `*line`). */
static int map_argv(const json_t *v, const char *field, char ***argv, size_t *n,
                    char **line, struct berth_err *err)
{
	size_t i, len;

	if (line != NULL && json_is_string(v)) {
		/* An empty line would silently mean "the image's command". */
		if (json_string_length(v) == 0)
			return berth_err_set(err, BERTH_EINVAL,
			                     "%s: empty (leave it out for the "
			                     "image's default)",
			                     field);
		if (json_string_length(v) > MAX_VALUE)
			return berth_err_set(err, BERTH_EINVAL,
			                     "%s: longer than %d bytes", field,
			                     MAX_VALUE);
		*line = berth_strdup(json_string_value(v));
		return 0;
	}
	if (!json_is_array(v))
		return berth_err_set(err, BERTH_EINVAL,
		                     line != NULL ? "%s: expected a string or "
		                                    "an array of strings"
		                                  : "%s: expected an array of "
		                                    "strings",
		                     field);
	len = json_array_size(v);
	if (len > MAX_LIST)
		return berth_err_set(err, BERTH_EINVAL,
		                     "%s: more than %d entries", field,
		                     MAX_LIST);
	for (i = 0; i < len; i++) {
		json_t *w = json_array_get(v, i);

		if (!json_is_string(w))
			return berth_err_set(err, BERTH_EINVAL,
			                     "%s[%zu]: expected a string",
			                     field, i);
		if (json_string_length(w) > MAX_VALUE)
			return berth_err_set(err, BERTH_EINVAL,
			                     "%s[%zu]: longer than %d bytes",
			                     field, i, MAX_VALUE);
	}
	*argv = len > 0 ? berth_calloc(len, sizeof(char *)) : NULL;
	for (i = 0; i < len; i++)
		(*argv)[i]
		    = berth_strdup(json_string_value(json_array_get(v, i)));
	*n = len;
	return 0;
}

/* `v` is an object of at most `max` members; `what` names the shape. */
static int check_object(const json_t *v, const char *field, const char *what,
                        size_t max, struct berth_err *err)
{
	if (!json_is_object(v))
		return berth_err_set(err, BERTH_EINVAL, "%s: expected %s",
		                     field, what);
	if (json_object_size(v) > max)
		return berth_err_set(err, BERTH_EINVAL,
		                     "%s: more than %zu entries", field, max);
	return 0;
}

/* Copies an object already checked to hold only strings. */
static Berth__V1__KeyValue **kvs_from_object(const json_t *v, size_t *n)
{
	Berth__V1__KeyValue **kvs
	    = berth_calloc(json_object_size(v) + 1, sizeof(void *));
	const char *key;
	json_t *val;

	*n = 0;
	json_object_foreach((json_t *)v, key, val)
	{
		Berth__V1__KeyValue *kv = berth_malloc(sizeof(*kv));

		berth__v1__key_value__init(kv);
		kv->key = berth_strdup(key);
		kv->value = berth_strdup(json_string_value(val));
		kvs[(*n)++] = kv;
	}
	return kvs;
}

static int map_env(Berth__V1__ContainerSpec *spec, const json_t *v,
                   struct berth_err *err)
{
	const char *key;
	json_t *val;
	int rv;

	rv = check_object(v, "environment", "an object of strings", MAX_LIST,
	                  err);
	if (rv != 0)
		return rv;
	json_object_foreach((json_t *)v, key, val)
	{
		rv = berth_validate_env_key("environment", key, err);
		if (rv != 0)
			return rv;
		/* Never echo the value: it may be a secret. */
		if (!json_is_string(val))
			return berth_err_set(
			    err, BERTH_EINVAL,
			    "environment.%s: expected a string", key);
		if (json_string_length(val) > MAX_VALUE)
			return berth_err_set(err, BERTH_EINVAL,
			                     "environment.%s: longer than %d "
			                     "bytes",
			                     key, MAX_VALUE);
	}
	spec->env = kvs_from_object(v, &spec->n_env);
	return 0;
}

static int map_labels(Berth__V1__ContainerSpec *spec, const json_t *v,
                      struct berth_err *err)
{
	char field[160]; /* "labels." and a key of at most 128 bytes */
	const char *key;
	json_t *val;
	int rv;

	rv = check_object(v, "labels", "an object of strings", MAX_LABELS, err);
	if (rv != 0)
		return rv;
	json_object_foreach((json_t *)v, key, val)
	{
		rv = berth_validate_label_key("labels", key, err);
		if (rv != 0)
			return rv;
		if (!json_is_string(val))
			return berth_err_set(err, BERTH_EINVAL,
			                     "labels.%s: expected a string",
			                     key);
		snprintf(field, sizeof(field), "labels.%s", key);
		rv = berth_validate_text(field, json_string_value(val),
		                         MAX_LABEL_VAL, err);
		if (rv != 0)
			return rv;
	}
	spec->labels = kvs_from_object(v, &spec->n_labels);
	return 0;
}

/* A port number of 1..5 digits in [min, 65535]; -1 when not one. */
static long parse_port(const char *s, size_t len, long min)
{
	long v = 0;

	if (len == 0 || len > 5)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return (v < min || v > 65535) ? -1 : v;
}

/* One "[ip:]hostport": "port[/proto]" pair. */
static int map_port(Berth__V1__PortBinding *pb, const char *key,
                    const json_t *val, struct berth_err *err)
{
	char k[80], ip[64] = "";
	const char *port = key, *s, *slash;
	unsigned char addr[16];
	long hp, cp;

	safe_key(k, sizeof(k), key);
	if (key[0] == '[') {
		const char *close = strchr(key, ']');

		if (close == NULL || close[1] != ':'
		    || (size_t)(close - key - 1) >= sizeof(ip))
			goto bad_key;
		memcpy(ip, key + 1, (size_t)(close - key - 1));
		ip[close - key - 1] = '\0';
		if (inet_pton(AF_INET6, ip, addr) != 1)
			goto bad_key;
		port = close + 2;
	} else if ((s = strrchr(key, ':')) != NULL) {
		if ((size_t)(s - key) >= sizeof(ip))
			goto bad_key;
		memcpy(ip, key, (size_t)(s - key));
		ip[s - key] = '\0';
		if (inet_pton(AF_INET, ip, addr) != 1)
			goto bad_key;
		port = s + 1;
	}
	hp = parse_port(port, strlen(port), 0);
	if (hp < 0)
		goto bad_key;
	if (!json_is_string(val))
		return berth_err_set(err, BERTH_EINVAL,
		                     "ports.%s: expected a string like \"80\", "
		                     "\"80/udp\" or \"80/sctp\"",
		                     k);
	s = json_string_value(val);
	slash = strchr(s, '/');
	cp = parse_port(s, slash != NULL ? (size_t)(slash - s) : strlen(s), 1);
	if (cp < 0
	    || (slash != NULL
	        && berth_validate_port_protocol("ports", slash + 1, NULL) != 0))
		return berth_err_set(err, BERTH_EINVAL,
		                     "ports.%s: expected a container port "
		                     "1..65535 with an optional /tcp, /udp or "
		                     "/sctp",
		                     k);
	pb->host_ip = berth_strdup(ip);
	pb->host_port = (uint32_t)hp;
	pb->container_port = (uint32_t)cp;
	pb->protocol = berth_strdup(slash != NULL ? slash + 1 : "tcp");
	return 0;
bad_key:
	return berth_err_set(err, BERTH_EINVAL,
	                     "ports: key \"%s\" must be a host port 0..65535, "
	                     "optionally after an IP address and ':'",
	                     k);
}

/* An address that binds every interface (the empty one is Docker's
 * default: every IPv4 and IPv6 address). */
static bool any_addr(const char *ip)
{
	return ip[0] == '\0' || strcmp(ip, "0.0.0.0") == 0
	    || strcmp(ip, "::") == 0;
}

/*
 * Whether `pb` asks for a host port an earlier binding already holds:
 * the engine would only fail at start ("port is already allocated"),
 * after the container exists. Host port 0 (any free port) never clashes.
 */
static bool port_taken(Berth__V1__PortBinding *const *ports, size_t n,
                       const Berth__V1__PortBinding *pb)
{
	for (size_t i = 0; i < n && pb->host_port != 0; i++) {
		const Berth__V1__PortBinding *o = ports[i];

		if (o->host_port == pb->host_port
		    && strcmp(o->protocol, pb->protocol) == 0
		    && (strcmp(o->host_ip, pb->host_ip) == 0
		        || any_addr(o->host_ip) || any_addr(pb->host_ip)))
			return true;
	}
	return false;
}

static int map_ports(Berth__V1__ContainerSpec *spec, const json_t *v,
                     struct berth_err *err)
{
	const char *key;
	json_t *val;
	int rv;

	rv = check_object(v, "ports", "an object like {\"8080\": \"80\"}",
	                  MAX_PORTS, err);
	if (rv != 0)
		return rv;
	spec->ports = berth_calloc(json_object_size(v) + 1, sizeof(void *));
	json_object_foreach((json_t *)v, key, val)
	{
		Berth__V1__PortBinding *pb = berth_malloc(sizeof(*pb));

		berth__v1__port_binding__init(pb);
		spec->ports[spec->n_ports++] = pb;
		rv = map_port(pb, key, val, err);
		if (rv != 0)
			return rv;
		if (port_taken(spec->ports, spec->n_ports - 1, pb)) {
			char k[80];

			safe_key(k, sizeof(k), key);
			return berth_err_set(err, BERTH_EINVAL,
			                     "ports.%s: host port %u/%s is "
			                     "already bound by another entry",
			                     k, pb->host_port, pb->protocol);
		}
	}
	return 0;
}

static int map_restart(Berth__V1__ContainerSpec *spec, const json_t *v,
                       struct berth_err *err)
{
	static const char *const names[]
	    = { "no", "always", "unless-stopped", "on-failure", NULL };
	const char *s;
	long retries = 0;
	char name[16];

	if (!json_is_string(v))
		return berth_err_set(err, BERTH_EINVAL,
		                     "restart_policy: expected a string");
	s = json_string_value(v);
	snprintf(name, sizeof(name), "%s", s);
	if (strncmp(s, "on-failure:", 11) == 0) {
		const char *d = s + 11;

		retries = parse_port(d, strlen(d), 0); /* 0..65535 */
		if (retries < 0)
			goto bad;
		snprintf(name, sizeof(name), "on-failure");
	} else {
		bool ok = false;

		for (size_t i = 0; names[i] != NULL && !ok; i++)
			ok = strcmp(s, names[i]) == 0;
		if (!ok)
			goto bad;
	}
	spec->restart_policy = berth_malloc(sizeof(*spec->restart_policy));
	berth__v1__restart_policy__init(spec->restart_policy);
	spec->restart_policy->name = berth_strdup(name);
	spec->restart_policy->max_retries = (uint32_t)retries;
	return 0;
bad:
	return berth_err_set(err, BERTH_EINVAL,
	                     "restart_policy: expected \"no\", \"always\", "
	                     "\"unless-stopped\", \"on-failure\" or "
	                     "\"on-failure:N\"");
}

static int map_mount(Berth__V1__Mount *m, const json_t *v, size_t i,
                     struct berth_err *err)
{
	static const char *const keys[]
	    = { "source", "target", "read_only", "type", NULL };
	char prefix[32], field[48];
	const char *source, *target, *type;
	json_t *ro;
	int rv;

	snprintf(prefix, sizeof(prefix), "mounts[%zu].", i);
	if (!json_is_object(v))
		return berth_err_set(err, BERTH_EINVAL,
		                     "mounts[%zu]: expected an object", i);
	rv = check_keys(v, keys, prefix, err);
	if (rv != 0)
		return rv;
	snprintf(field, sizeof(field), "%stype", prefix);
	rv = opt_string(v, "type", field, &type, err);
	if (rv != 0)
		return rv;
	if (type == NULL)
		type = "bind";
	if (strcmp(type, "bind") != 0 && strcmp(type, "volume") != 0)
		return berth_err_set(err, BERTH_EINVAL,
		                     "%s: expected \"bind\" or \"volume\"",
		                     field);
	snprintf(field, sizeof(field), "%ssource", prefix);
	rv = opt_string(v, "source", field, &source, err);
	if (rv != 0)
		return rv;
	if (source == NULL)
		return berth_err_set(err, BERTH_EINVAL, "%s: required", field);
	/* A bind source is a host path, held to the same rules as a path
	 * in a container; a volume source is a name. */
	rv = strcmp(type, "bind") == 0
	    ? berth_validate_container_path(field, source, err)
	    : berth_validate_name(field, source, err);
	if (rv != 0)
		return rv;
	snprintf(field, sizeof(field), "%starget", prefix);
	rv = opt_string(v, "target", field, &target, err);
	if (rv != 0)
		return rv;
	if (target == NULL)
		return berth_err_set(err, BERTH_EINVAL, "%s: required", field);
	rv = berth_validate_container_path(field, target, err);
	if (rv != 0)
		return rv;
	ro = json_object_get(v, "read_only");
	if (ro != NULL && !json_is_null(ro) && !json_is_boolean(ro))
		return berth_err_set(err, BERTH_EINVAL,
		                     "%sread_only: expected true or false",
		                     prefix);
	m->source = berth_strdup(source);
	m->target = berth_strdup(target);
	m->type = berth_strdup(type);
	m->read_only = ro != NULL && json_is_true(ro);
	return 0;
}

static int map_mounts(Berth__V1__ContainerSpec *spec, const json_t *v,
                      struct berth_err *err)
{
	size_t n;
	int rv;

	if (!json_is_array(v))
		return berth_err_set(err, BERTH_EINVAL,
		                     "mounts: expected an array of objects");
	n = json_array_size(v);
	if (n > MAX_MOUNTS)
		return berth_err_set(err, BERTH_EINVAL,
		                     "mounts: more than %d entries",
		                     MAX_MOUNTS);
	spec->mounts = berth_calloc(n + 1, sizeof(void *));
	for (size_t i = 0; i < n; i++) {
		Berth__V1__Mount *m = berth_malloc(sizeof(*m));

		berth__v1__mount__init(m);
		spec->mounts[spec->n_mounts++] = m;
		rv = map_mount(m, json_array_get(v, i), i, err);
		if (rv != 0)
			return rv;
		/* The engine refuses a second mount on one target only
		 * at create, with its own words. */
		for (size_t j = 0; j < i; j++)
			if (strcmp(spec->mounts[j]->target, m->target) == 0)
				return berth_err_set(
				    err, BERTH_EINVAL,
				    "mounts[%zu].target: mounts[%zu] "
				    "already mounts that path",
				    i, j);
	}
	return 0;
}

/* ------------------------------------------------- container options */

#define MAX_NETWORKS 16
#define MAX_CAPS     64

/* An optional integer member in [min, max]; `*out` untouched if absent. */
static int opt_int(const json_t *obj, const char *key, const char *prefix,
                   int64_t min, int64_t max, int64_t *out,
                   struct berth_err *err)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return berth_err_set(err, BERTH_EINVAL,
		                     "%s%s: expected an integer", prefix, key);
	if (json_integer_value(v) < min || json_integer_value(v) > max)
		return berth_err_set(
		    err, BERTH_EINVAL, "%s%s: must be between %lld and %lld",
		    prefix, key, (long long)min, (long long)max);
	*out = (int64_t)json_integer_value(v);
	return 0;
}

/*
 * A duration given either as milliseconds (`ms_key`: an integer) or as
 * seed 004's string (`str_key`: "30s"); both at once is refused.
 */
static int opt_duration(const json_t *obj, const char *ms_key,
                        const char *str_key, int64_t *out,
                        struct berth_err *err)
{
	json_t *v = json_object_get(obj, str_key);
	char field[48];
	int rv;

	if (json_object_get(obj, ms_key) != NULL && v != NULL)
		return berth_err_set(err, BERTH_EINVAL,
		                     "health.%s: give either %s or %s, not "
		                     "both",
		                     str_key, ms_key, str_key);
	rv = opt_int(obj, ms_key, "health.", 0, BERTH_HEALTH_MAX_MS, out, err);
	if (rv != 0 || v == NULL || json_is_null(v))
		return rv;
	snprintf(field, sizeof(field), "health.%s", str_key);
	if (!json_is_string(v))
		return berth_err_set(err, BERTH_EINVAL,
		                     "%s: expected a duration string like "
		                     "\"30s\"",
		                     field);
	return berth_parse_duration_ms(field, json_string_value(v), out, err);
}

static int map_health(Berth__V1__ContainerSpec *spec, const json_t *v,
                      struct berth_err *err)
{
	static const char *const keys[]
	    = { "test",     "interval_ms", "timeout_ms",      "retries",
		"interval", "timeout",     "start_period_ms", "start_period",
		NULL };
	Berth__V1__HealthCheck *h;
	json_t *test;
	int64_t retries = 0;
	int rv;

	if (!json_is_object(v))
		return berth_err_set(err, BERTH_EINVAL,
		                     "health: expected an object like "
		                     "{\"test\": [\"CMD-SHELL\", \"...\"], "
		                     "\"interval\": \"30s\"}");
	rv = check_keys(v, keys, "health.", err);
	if (rv != 0)
		return rv;
	h = berth_malloc(sizeof(*h));
	berth__v1__health_check__init(h);
	spec->health = h;
	test = json_object_get(v, "test");
	if (test != NULL && !json_is_null(test)) {
		rv = map_argv(test, "health.test", &h->test, &h->n_test, NULL,
		              err);
		if (rv != 0)
			return rv;
	}
	rv = opt_duration(v, "interval_ms", "interval", &h->interval_ms, err);
	if (rv == 0)
		rv = opt_duration(v, "timeout_ms", "timeout", &h->timeout_ms,
		                  err);
	if (rv == 0)
		rv = opt_duration(v, "start_period_ms", "start_period",
		                  &h->start_period_ms, err);
	if (rv == 0)
		rv = opt_int(v, "retries", "health.", 0,
		             BERTH_HEALTH_MAX_RETRIES, &retries, err);
	if (rv != 0)
		return rv;
	h->retries = (uint32_t)retries;
	return berth_validate_health("health", (const char *const *)h->test,
	                             h->n_test, h->interval_ms, h->timeout_ms,
	                             h->retries, h->start_period_ms, err);
}

static int map_resources(Berth__V1__ContainerSpec *spec, const json_t *v,
                         struct berth_err *err)
{
	static const char *const keys[]
	    = { "memory_bytes", "memory",     "nano_cpus",
		"cpus",         "pids_limit", NULL };
	Berth__V1__Resources *r;
	json_t *mem = json_object_get(v, "memory");
	json_t *cpus = json_object_get(v, "cpus");
	int rv;

	if (!json_is_object(v))
		return berth_err_set(err, BERTH_EINVAL,
		                     "resources: expected an object like "
		                     "{\"memory\": \"512m\", \"cpus\": 1.5, "
		                     "\"pids_limit\": 256}");
	rv = check_keys(v, keys, "resources.", err);
	if (rv != 0)
		return rv;
	r = berth_malloc(sizeof(*r));
	berth__v1__resources__init(r);
	spec->resources = r;
	if (mem != NULL && json_object_get(v, "memory_bytes") != NULL)
		return berth_err_set(err, BERTH_EINVAL,
		                     "resources.memory: give either memory or "
		                     "memory_bytes, not both");
	if (cpus != NULL && json_object_get(v, "nano_cpus") != NULL)
		return berth_err_set(err, BERTH_EINVAL,
		                     "resources.cpus: give either cpus or "
		                     "nano_cpus, not both");
	rv = opt_int(v, "memory_bytes", "resources.", 0, INT64_MAX,
	             &r->memory_bytes, err);
	if (rv == 0 && mem != NULL && !json_is_null(mem)) {
		if (json_is_string(mem))
			rv = berth_parse_bytes("resources.memory",
			                       json_string_value(mem),
			                       &r->memory_bytes, err);
		else
			rv = opt_int(v, "memory", "resources.", 0, INT64_MAX,
			             &r->memory_bytes, err);
	}
	if (rv == 0)
		rv = opt_int(v, "nano_cpus", "resources.", 0, INT64_MAX,
		             &r->nano_cpus, err);
	if (rv == 0 && cpus != NULL && !json_is_null(cpus)) {
		double c = json_number_value(cpus);

		if (!json_is_number(cpus) || !(c >= 0.0 && c <= 1024.0))
			return berth_err_set(
			    err, BERTH_EINVAL,
			    "resources.cpus: expected a number "
			    "of CPUs between 0.01 and 1024, "
			    "e.g. 1.5");
		r->nano_cpus = (int64_t)(c * 1e9 + 0.5);
	}
	if (rv == 0)
		rv = opt_int(v, "pids_limit", "resources.", INT64_MIN,
		             INT64_MAX, &r->pids_limit, err);
	if (rv == 0)
		rv = berth_validate_memory_bytes(
		    mem != NULL ? "resources.memory" : "resources.memory_bytes",
		    r->memory_bytes, err);
	if (rv == 0)
		rv = berth_validate_nano_cpus(
		    cpus != NULL ? "resources.cpus" : "resources.nano_cpus",
		    r->nano_cpus, err);
	if (rv == 0)
		rv = berth_validate_pids_limit("resources.pids_limit",
		                               r->pids_limit, err);
	return rv;
}

/* An array of at most `max` strings, each checked by `check`. */
static int map_checked_list(const json_t *v, const char *field, size_t max,
                            int (*check)(const char *, const char *, bool,
                                         struct berth_err *),
                            bool allow_all, char ***out, size_t *n,
                            struct berth_err *err)
{
	char f[48];
	size_t len;
	int rv;

	if (!json_is_array(v))
		return berth_err_set(err, BERTH_EINVAL,
		                     "%s: expected an array of strings", field);
	len = json_array_size(v);
	if (len > max)
		return berth_err_set(err, BERTH_EINVAL,
		                     "%s: more than %zu entries", field, max);
	for (size_t i = 0; i < len; i++) {
		json_t *w = json_array_get(v, i);

		snprintf(f, sizeof(f), "%s[%zu]", field, i);
		if (!json_is_string(w))
			return berth_err_set(err, BERTH_EINVAL,
			                     "%s: expected a string", f);
		rv = check(f, json_string_value(w), allow_all, err);
		if (rv != 0)
			return rv;
		for (size_t j = 0; j < i; j++)
			if (strcmp(json_string_value(json_array_get(v, j)),
			           json_string_value(w))
			    == 0)
				return berth_err_set(err, BERTH_EINVAL,
				                     "%s: listed twice", f);
	}
	return map_argv(v, field, out, n, NULL, err);
}

static int check_network(const char *field, const char *s, bool unused,
                         struct berth_err *err)
{
	(void)unused;
	return berth_validate_network_name(field, s, err);
}

static int map_networks(Berth__V1__ContainerSpec *spec, const json_t *v,
                        struct berth_err *err)
{
	int rv
	    = map_checked_list(v, "networks", MAX_NETWORKS, check_network,
	                       false, &spec->networks, &spec->n_networks, err);

	if (rv == 0 && spec->n_networks > 1)
		for (size_t i = 0; i < spec->n_networks; i++)
			if (strcmp(spec->networks[i], "none") == 0)
				return berth_err_set(
				    err, BERTH_EINVAL,
				    "networks: \"none\" cannot be combined "
				    "with other networks");
	return rv;
}

static int map_cap_drop(Berth__V1__ContainerSpec *spec, const json_t *v,
                        struct berth_err *err)
{
	return map_checked_list(v, "cap_drop", MAX_CAPS,
	                        berth_validate_capability, true,
	                        &spec->cap_drop, &spec->n_cap_drop, err);
}

static int map_cap_add(Berth__V1__ContainerSpec *spec, const json_t *v,
                       struct berth_err *err)
{
	return map_checked_list(v, "cap_add", MAX_CAPS,
	                        berth_validate_capability, false,
	                        &spec->cap_add, &spec->n_cap_add, err);
}

/* `*out` is the boolean at `key` when present and not null. */
static int opt_bool(const json_t *obj, const char *key, bool *present,
                    bool *out, struct berth_err *err)
{
	json_t *v = json_object_get(obj, key);

	*present = false;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return berth_err_set(err, BERTH_EINVAL,
		                     "%s: expected true or false", key);
	*present = true;
	*out = json_is_true(v);
	return 0;
}

/*
 * The booleans, and seed 000's KeepAlive: "keep_alive": false is
 * "remove_on_exit": true. Both may be given only when they agree. A
 * container removed at exit cannot have a restart policy.
 */
static int map_flags(Berth__V1__ContainerSpec *spec, const json_t *obj,
                     struct berth_err *err)
{
	bool has_keep, keep = true, has_rm, rm = false, has, b;
	int rv;

	rv = opt_bool(obj, "read_only_rootfs", &has, &b, err);
	if (rv != 0)
		return rv;
	spec->read_only_rootfs = has && b;
	rv = opt_bool(obj, "no_new_privileges", &has, &b, err);
	if (rv != 0)
		return rv;
	spec->no_new_privileges = has && b;
	rv = opt_bool(obj, "keep_alive", &has_keep, &keep, err);
	if (rv == 0)
		rv = opt_bool(obj, "remove_on_exit", &has_rm, &rm, err);
	if (rv != 0)
		return rv;
	if (has_keep && has_rm && keep == rm)
		return berth_err_set(err, BERTH_EINVAL,
		                     "keep_alive: contradicts remove_on_exit "
		                     "(keep_alive false means remove_on_exit "
		                     "true)");
	spec->remove_on_exit = (has_rm && rm) || (has_keep && !keep);
	if (spec->remove_on_exit && spec->restart_policy != NULL
	    && strcmp(spec->restart_policy->name, "no") != 0)
		return berth_err_set(err, BERTH_EINVAL,
		                     "%s: a container removed when its command "
		                     "ends cannot have restart policy \"%s\"",
		                     has_rm ? "remove_on_exit" : "keep_alive",
		                     spec->restart_policy->name);
	return 0;
}

int gw_json_to_container_spec(Berth__V1__ContainerSpec **out, const json_t *obj,
                              struct berth_err *err)
{
	static const char *const keys[] = { "image",
		                            "name",
		                            "ports",
		                            "environment",
		                            "restart_policy",
		                            "command",
		                            "entrypoint",
		                            "working_dir",
		                            "mounts",
		                            "labels",
		                            "health",
		                            "resources",
		                            "networks",
		                            "read_only_rootfs",
		                            "cap_drop",
		                            "cap_add",
		                            "no_new_privileges",
		                            "user",
		                            "keep_alive",
		                            "remove_on_exit",
		                            "pod",
		                            NULL };
	/* The members that map to a part of the spec; null means absent. */
	static const struct {
		const char *key;
		int (*map)(Berth__V1__ContainerSpec *, const json_t *,
		           struct berth_err *);
	} members[] = {
		{ "environment", map_env },
		{ "labels", map_labels },
		{ "ports", map_ports },
		{ "restart_policy", map_restart },
		{ "mounts", map_mounts },
		{ "health", map_health },
		{ "resources", map_resources },
		{ "networks", map_networks },
		{ "cap_drop", map_cap_drop },
		{ "cap_add", map_cap_add },
	};
	Berth__V1__ContainerSpec *spec = NULL;
	json_t *v;
	int rv;

	rv = check_keys(obj, keys, "", err);
	if (rv != 0)
		goto out;
	spec = berth_malloc(sizeof(*spec));
	berth__v1__container_spec__init(spec);

	rv = checked_string(obj, "image", true, berth_validate_image_ref,
	                    &spec->image, err);
	if (rv == 0)
		rv = checked_string(obj, "name", false, berth_validate_name,
		                    &spec->name, err);
	if (rv == 0)
		rv = checked_string(obj, "working_dir", false,
		                    berth_validate_container_path,
		                    &spec->working_dir, err);
	if (rv == 0)
		rv = checked_string(obj, "user", false, berth_validate_user,
		                    &spec->user, err);
	if (rv == 0)
		rv = checked_string(obj, "pod", false, berth_validate_name,
		                    &spec->pod, err);
	if (rv != 0)
		goto out;

	if ((v = json_object_get(obj, "command")) != NULL && !json_is_null(v)) {
		char *line = NULL;

		rv = map_argv(v, "command", &spec->command, &spec->n_command,
		              &line, err);
		if (rv != 0)
			goto out;
		if (line != NULL)
			spec->command_line = line;
	}
	if ((v = json_object_get(obj, "entrypoint")) != NULL
	    && !json_is_null(v)) {
		rv = map_argv(v, "entrypoint", &spec->entrypoint,
		              &spec->n_entrypoint, NULL, err);
		if (rv != 0)
			goto out;
	}
	for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
		v = json_object_get(obj, members[i].key);
		if (v == NULL || json_is_null(v))
			continue;
		rv = members[i].map(spec, v, err);
		if (rv != 0)
			goto out;
	}
	rv = map_flags(spec, obj, err);
	if (rv != 0)
		goto out;
	*out = spec;
	spec = NULL;
out:
	gw_container_spec_free(spec);
	return rv;
}

int gw_container_spec_from_text(Berth__V1__ContainerSpec **out,
                                const char *text, size_t len,
                                struct berth_err *err)
{
	json_t *obj = NULL;
	int rv;

	rv = gw_json_parse_object(&obj, text, len, err);
	if (rv != 0)
		goto out;
	rv = gw_json_to_container_spec(out, obj, err);
out:
	json_decref(obj);
	return rv;
}

int gw_json_to_pull_image(char **image, const json_t *obj,
                          struct berth_err *err)
{
	static const char *const keys[] = { "image", NULL };
	int rv;

	rv = check_keys(obj, keys, "", err);
	if (rv != 0)
		return rv;
	return checked_string(obj, "image", true, berth_validate_image_ref,
	                      image, err);
}

/* --------------------------------------------------------------- output */

/* A string fit for jansson (which refuses invalid UTF-8). */
static json_t *jstr(const char *s)
{
	json_t *v;

	if (s == NULL)
		s = "";
	v = json_string(s);
	return v != NULL ? v : json_string("");
}

static json_t *jstrv(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, jstr(v[i]));
	return a;
}

/* Unix milliseconds as RFC 3339 UTC with milliseconds; null for 0. */
static json_t *jtime_ms(int64_t ms)
{
	char buf[40], date[32];
	struct tm tm;
	time_t t;

	if (ms <= 0)
		return json_null();
	t = (time_t)(ms / 1000);
	if (gmtime_r(&t, &tm) == NULL)
		return json_null();
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, sizeof(buf), "%s.%03dZ", date, (int)(ms % 1000));
	return json_string(buf);
}

static json_t *jrestart(const Berth__V1__RestartPolicy *rp)
{
	char buf[48];

	if (rp == NULL || rp->name == NULL || rp->name[0] == '\0')
		return json_string("no");
	if (strcmp(rp->name, "on-failure") == 0 && rp->max_retries > 0) {
		snprintf(buf, sizeof(buf), "on-failure:%u", rp->max_retries);
		return json_string(buf);
	}
	return jstr(rp->name);
}

/* The summary's members, into an object the caller opened. The one
 * place the summary's shape is written: the list writes it straight
 * out, a detail starts from it (see summary_object). */
static void summary_members(struct gw_jw *w,
                            const Berth__V1__ContainerSummary *s)
{
	gw_jw_key(w, "id");
	gw_jw_string(w, s->id);
	gw_jw_key(w, "name");
	gw_jw_string(w, s->name);
	gw_jw_key(w, "image");
	gw_jw_string(w, s->image);
	gw_jw_key(w, "state");
	gw_jw_string(w, s->state);
	gw_jw_key(w, "status");
	gw_jw_string(w, s->status);
	gw_jw_key(w, "created");
	gw_jw_int(w, s->created);
	gw_jw_key(w, "labels");
	gw_jw_object_open(w);
	for (size_t i = 0; i < s->n_labels; i++) {
		gw_jw_key_text(w, s->labels[i]->key);
		gw_jw_string(w, s->labels[i]->value);
	}
	gw_jw_object_close(w);
	gw_jw_key(w, "ports");
	gw_jw_array_open(w);
	for (size_t i = 0; i < s->n_ports; i++) {
		const Berth__V1__PortBinding *p = s->ports[i];

		gw_jw_object_open(w);
		gw_jw_key(w, "host_ip");
		gw_jw_string(w, p->host_ip);
		gw_jw_key(w, "host_port");
		gw_jw_int(w, p->host_port);
		gw_jw_key(w, "container_port");
		gw_jw_int(w, p->container_port);
		gw_jw_key(w, "protocol");
		gw_jw_string(w, p->protocol);
		gw_jw_object_close(w);
	}
	gw_jw_array_close(w);
}

int gw_json_container_list(struct berth_buf *out,
                           const Berth__V1__ListContainersReply *r)
{
	struct gw_jw w;

	gw_jw_init(&w, out);
	gw_jw_object_open(&w);
	gw_jw_key(&w, "containers");
	gw_jw_array_open(&w);
	for (size_t i = 0; i < r->n_containers; i++) {
		gw_jw_object_open(&w);
		summary_members(&w, r->containers[i]);
		gw_jw_object_close(&w);
	}
	gw_jw_array_close(&w);
	gw_jw_object_close(&w);
	return gw_jw_failed(&w) ? BERTH_ELIMIT : 0;
}

/* A summary is its labels and ports: far below this. */
#define SUMMARY_JSON_MAX (16u << 20)

/* The summary as a JSON object, for a detail to add its fields to. */
static json_t *summary_object(const Berth__V1__ContainerSummary *s)
{
	struct berth_buf b;
	struct gw_jw w;
	json_t *o = NULL;

	berth_buf_init(&b, SUMMARY_JSON_MAX);
	gw_jw_init(&w, &b);
	gw_jw_object_open(&w);
	summary_members(&w, s);
	gw_jw_object_close(&w);
	if (!gw_jw_failed(&w))
		o = json_loadb(b.data, b.len, 0, NULL);
	berth_buf_fini(&b);
	return o != NULL ? o : json_object();
}

/* The container options of a detail: health, limits, networks,
 * security, removal. */
static void options_into(json_t *o, const Berth__V1__ContainerDetail *d)
{
	const Berth__V1__HealthCheck *h = d->health;
	const Berth__V1__Resources *r = d->resources;

	json_object_set_new(o, "health_status", jstr(d->health_status));
	json_object_set_new(o, "health_failing_streak",
	                    json_integer(d->health_failing_streak));
	json_object_set_new(o, "health_last_output",
	                    jstr(d->health_last_output));
	json_object_set_new(
	    o, "health",
	    h == NULL ? json_null()
	              : json_pack("{s:o,s:I,s:I,s:i,s:I}", "test",
	                          jstrv(h->test, h->n_test), "interval_ms",
	                          (json_int_t)h->interval_ms, "timeout_ms",
	                          (json_int_t)h->timeout_ms, "retries",
	                          (int)h->retries, "start_period_ms",
	                          (json_int_t)h->start_period_ms));
	json_object_set_new(
	    o, "resources",
	    json_pack("{s:I,s:I,s:I}", "memory_bytes",
	              (json_int_t)(r != NULL ? r->memory_bytes : 0),
	              "nano_cpus", (json_int_t)(r != NULL ? r->nano_cpus : 0),
	              "pids_limit",
	              (json_int_t)(r != NULL ? r->pids_limit : 0)));
	json_object_set_new(o, "oom_killed", json_boolean(d->oom_killed));
	json_object_set_new(o, "pod", jstr(d->pod));
	json_object_set_new(o, "networks", jstrv(d->networks, d->n_networks));
	json_object_set_new(o, "read_only_rootfs",
	                    json_boolean(d->read_only_rootfs));
	json_object_set_new(o, "user", jstr(d->user));
	json_object_set_new(o, "remove_on_exit",
	                    json_boolean(d->remove_on_exit));
	json_object_set_new(o, "keep_alive", json_boolean(!d->remove_on_exit));
	json_object_set_new(o, "cap_drop", jstrv(d->cap_drop, d->n_cap_drop));
	json_object_set_new(o, "cap_add", jstrv(d->cap_add, d->n_cap_add));
	json_object_set_new(o, "no_new_privileges",
	                    json_boolean(d->no_new_privileges));
}

json_t *gw_json_container_detail(const Berth__V1__ContainerDetail *d)
{
	Berth__V1__ContainerSummary empty = BERTH__V1__CONTAINER_SUMMARY__INIT;
	json_t *o = summary_object(d->summary != NULL ? d->summary : &empty);
	json_t *mounts = json_array();

	json_object_set_new(o, "image_id", jstr(d->image_id));
	json_object_set_new(o, "running", json_boolean(d->running));
	json_object_set_new(o, "exit_code", json_integer(d->exit_code));
	json_object_set_new(o, "started_at", jstr(d->started_at));
	json_object_set_new(o, "finished_at", jstr(d->finished_at));
	json_object_set_new(o, "restart_count", json_integer(d->restart_count));
	json_object_set_new(o, "command", jstrv(d->command, d->n_command));
	json_object_set_new(o, "entrypoint",
	                    jstrv(d->entrypoint, d->n_entrypoint));
	json_object_set_new(o, "working_dir", jstr(d->working_dir));
	for (size_t i = 0; i < d->n_mounts; i++) {
		const Berth__V1__Mount *m = d->mounts[i];

		json_array_append_new(
		    mounts,
		    json_pack("{s:o,s:o,s:b,s:o}", "source", jstr(m->source),
		              "target", jstr(m->target), "read_only",
		              (int)m->read_only, "type",
		              jstr(m->type[0] != '\0' ? m->type : "bind")));
	}
	json_object_set_new(o, "mounts", mounts);
	json_object_set_new(o, "restart_policy", jrestart(d->restart_policy));
	json_object_set_new(o, "env_keys", jstrv(d->env_keys, d->n_env_keys));
	options_into(o, d);
	return o;
}

json_t *gw_json_job(const Berth__V1__Job *j)
{
	json_t *o = json_object(), *e;

	json_object_set_new(o, "id", jstr(j->id));
	json_object_set_new(o, "kind", jstr(j->kind));
	json_object_set_new(o, "state", jstr(j->state));
	json_object_set_new(o, "progress", json_integer(j->progress));
	json_object_set_new(o, "detail", jstr(j->detail));
	json_object_set_new(o, "result", jstr(j->result));
	if (j->error_code != BERTH__V1__CODE__OK
	    || (j->error != NULL && j->error[0] != '\0')) {
		int code = j->error_code != BERTH__V1__CODE__OK
		    ? -(int)j->error_code
		    : BERTH_EUNKNOWN;

		e = json_pack("{s:s,s:o}", "code", berth_code_name(code),
		              "message", jstr(j->error));
	} else {
		e = json_null();
	}
	json_object_set_new(o, "error", e);
	json_object_set_new(o, "created_at", jtime_ms(j->created_at_ms));
	json_object_set_new(o, "updated_at", jtime_ms(j->updated_at_ms));
	return o;
}

json_t *gw_json_runtime_info(const Berth__V1__RuntimeInfo *info)
{
	json_t *o = json_object();

	json_object_set_new(o, "runtime", jstr(info->runtime));
	json_object_set_new(o, "socket_path", jstr(info->socket_path));
	json_object_set_new(o, "rootless", json_boolean(info->rootless));
	json_object_set_new(o, "build_dir", jstr(info->build_dir));
	json_object_set_new(o, "engine_version", jstr(info->engine_version));
	json_object_set_new(o, "api_version", jstr(info->api_version));
	json_object_set_new(o, "os", jstr(info->os));
	json_object_set_new(o, "arch", jstr(info->arch));
	json_object_set_new(o, "containers", json_integer(info->containers));
	json_object_set_new(o, "containers_running",
	                    json_integer(info->containers_running));
	json_object_set_new(o, "images", json_integer(info->images));
	return o;
}
