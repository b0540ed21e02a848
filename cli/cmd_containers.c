/*
 * cmd_containers.c: `berth ps | create | run | start | stop | restart |
 * rm | inspect`, the container commands, over the REST API.
 */
#include "cli/client.h"
#include "cli/commands.h"

#include "lib/alloc.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Splits "K=V" into a JSON object member. Returns -1 (printed) without '='. */
static int put_pair(json_t *obj, const char *what, const char *kv)
{
	const char *eq = strchr(kv, '=');
	char *key;

	if (eq == NULL || eq == kv) {
		fprintf(stderr, "berth: %s: expected KEY=VALUE, got \"%s\"\n",
		        what, kv);
		return -1;
	}
	key = berth_strndup(kv, (size_t)(eq - kv));
	json_object_set_new(obj, key, json_string(eq + 1));
	free(key);
	return 0;
}

/* "HOST:CONTAINER" (or "IP:HOST:CONTAINER") as seed 001's ports map. */
static int put_port(json_t *ports, const char *spec)
{
	const char *colon = strrchr(spec, ':');
	char *host;

	if (colon == NULL || colon == spec || colon[1] == '\0') {
		fprintf(stderr,
		        "berth: --publish: expected HOST:CONTAINER[/udp], got "
		        "\"%s\"\n",
		        spec);
		return -1;
	}
	host = berth_strndup(spec, (size_t)(colon - spec));
	json_object_set_new(ports, host, json_string(colon + 1));
	free(host);
	return 0;
}

static void create_usage(FILE *f, const char *cmd)
{
	fprintf(f,
	        "usage: berth %s [options] IMAGE [COMMAND [ARG...]]\n"
	        "  --name NAME            container name\n"
	        "  -e, --env KEY=VALUE    environment (repeatable)\n"
	        "  -p, --publish H:C      host port H to container port C\n"
	        "  -l, --label KEY=VALUE  label (repeatable)\n"
	        "  -w, --workdir DIR      working directory\n"
	        "  --restart POLICY       no, always, unless-stopped, "
	        "on-failure[:N]\n"
	        "  -c, --shell-command S  run S under the configured shell\n"
	        "  -u, --user U[:G]       user (and group) to run as\n"
	        "  --memory SIZE          memory limit, e.g. 512m\n"
	        "  --cpus N               CPU limit, e.g. 1.5\n"
	        "  --pids-limit N         process limit (default 4096)\n"
	        "  --network NAME         attach to a network (repeatable)\n"
	        "  --read-only            read-only root filesystem\n"
	        "  --cap-drop CAP         drop a capability, or ALL "
	        "(repeatable)\n"
	        "  --cap-add CAP          add a capability (repeatable)\n"
	        "  --no-new-privileges    no privilege gain through setuid\n"
	        "  --rm                   remove the container when it ends\n"
	        "  --health-cmd S         health probe run under the shell\n"
	        "  --health-interval D    between probes, e.g. 30s\n"
	        "  --health-timeout D     per probe, e.g. 10s\n"
	        "  --health-retries N     failures before unhealthy\n"
	        "  --health-start-period D  failures not counted before D\n"
	        "  --no-healthcheck       disable the image's health check\n"
	        "  --pod NAME             join a pod (podman)\n",
	        cmd);
}

/* Long-only options of create/run. */
enum {
	OPT_MEMORY = 256,
	OPT_CPUS,
	OPT_PIDS,
	OPT_NETWORK,
	OPT_READ_ONLY,
	OPT_CAP_DROP,
	OPT_CAP_ADD,
	OPT_NNP,
	OPT_RM,
	OPT_HEALTH_CMD,
	OPT_HEALTH_INTERVAL,
	OPT_HEALTH_TIMEOUT,
	OPT_HEALTH_RETRIES,
	OPT_HEALTH_START,
	OPT_NO_HEALTH,
	OPT_POD,
};

/* The member `key` of `obj`, made an empty object/array when absent. */
static json_t *member(json_t *obj, const char *key, bool array)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL) {
		v = array ? json_array() : json_object();
		json_object_set_new(obj, key, v);
	}
	return v;
}

/* A whole decimal number for `what`; -1 (printed) when it is not one. */
static int parse_int(const char *what, const char *s, long long *out)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (s[0] == '\0' || *end != '\0') {
		fprintf(stderr, "berth: %s: expected a number, got \"%s\"\n",
		        what, s);
		return -1;
	}
	*out = v;
	return 0;
}

/*
 * The container options (limits, networks, security, health) of one
 * command-line flag into the body. The gateway checks every value; this
 * only puts them in the shape of the REST body. Returns -1 (printed)
 * on a value that is not even a number.
 */
static int put_option(json_t *body, int opt, const char *arg)
{
	json_t *res, *health;
	long long n;
	double d;
	char *end;

	switch (opt) {
	case OPT_MEMORY:
		json_object_set_new(member(body, "resources", false), "memory",
		                    json_string(arg));
		return 0;
	case OPT_CPUS:
		d = strtod(arg, &end);
		if (arg[0] == '\0' || *end != '\0') {
			fprintf(stderr,
			        "berth: --cpus: expected a number, got "
			        "\"%s\"\n",
			        arg);
			return -1;
		}
		json_object_set_new(member(body, "resources", false), "cpus",
		                    json_real(d));
		return 0;
	case OPT_PIDS:
		if (parse_int("--pids-limit", arg, &n) != 0)
			return -1;
		res = member(body, "resources", false);
		json_object_set_new(res, "pids_limit", json_integer(n));
		return 0;
	case OPT_NETWORK:
		json_array_append_new(member(body, "networks", true),
		                      json_string(arg));
		return 0;
	case OPT_READ_ONLY:
		json_object_set_new(body, "read_only_rootfs", json_true());
		return 0;
	case OPT_CAP_DROP:
		json_array_append_new(member(body, "cap_drop", true),
		                      json_string(arg));
		return 0;
	case OPT_CAP_ADD:
		json_array_append_new(member(body, "cap_add", true),
		                      json_string(arg));
		return 0;
	case OPT_NNP:
		json_object_set_new(body, "no_new_privileges", json_true());
		return 0;
	case OPT_RM:
		json_object_set_new(body, "remove_on_exit", json_true());
		return 0;
	case OPT_POD:
		json_object_set_new(body, "pod", json_string(arg));
		return 0;
	default: break;
	}
	health = member(body, "health", false);
	switch (opt) {
	case OPT_HEALTH_CMD:
		json_object_set_new(health, "test",
		                    json_pack("[s,s]", "CMD-SHELL", arg));
		break;
	case OPT_NO_HEALTH:
		json_object_set_new(health, "test", json_pack("[s]", "NONE"));
		break;
	case OPT_HEALTH_INTERVAL:
		json_object_set_new(health, "interval", json_string(arg));
		break;
	case OPT_HEALTH_TIMEOUT:
		json_object_set_new(health, "timeout", json_string(arg));
		break;
	case OPT_HEALTH_START:
		json_object_set_new(health, "start_period", json_string(arg));
		break;
	case OPT_HEALTH_RETRIES:
		if (parse_int("--health-retries", arg, &n) != 0)
			return -1;
		json_object_set_new(health, "retries", json_integer(n));
		break;
	default: return -1;
	}
	return 0;
}

/* Builds the create body from the command line; NULL on a usage error. */
static json_t *create_body(int argc, char **argv, const char *cmd)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "env", required_argument, NULL, 'e' },
		{ "publish", required_argument, NULL, 'p' },
		{ "label", required_argument, NULL, 'l' },
		{ "workdir", required_argument, NULL, 'w' },
		{ "restart", required_argument, NULL, 'r' },
		{ "shell-command", required_argument, NULL, 'c' },
		{ "user", required_argument, NULL, 'u' },
		{ "memory", required_argument, NULL, OPT_MEMORY },
		{ "cpus", required_argument, NULL, OPT_CPUS },
		{ "pids-limit", required_argument, NULL, OPT_PIDS },
		{ "network", required_argument, NULL, OPT_NETWORK },
		{ "read-only", no_argument, NULL, OPT_READ_ONLY },
		{ "cap-drop", required_argument, NULL, OPT_CAP_DROP },
		{ "cap-add", required_argument, NULL, OPT_CAP_ADD },
		{ "no-new-privileges", no_argument, NULL, OPT_NNP },
		{ "rm", no_argument, NULL, OPT_RM },
		{ "health-cmd", required_argument, NULL, OPT_HEALTH_CMD },
		{ "health-interval", required_argument, NULL,
		  OPT_HEALTH_INTERVAL },
		{ "health-timeout", required_argument, NULL,
		  OPT_HEALTH_TIMEOUT },
		{ "health-retries", required_argument, NULL,
		  OPT_HEALTH_RETRIES },
		{ "health-start-period", required_argument, NULL,
		  OPT_HEALTH_START },
		{ "no-healthcheck", no_argument, NULL, OPT_NO_HEALTH },
		{ "pod", required_argument, NULL, OPT_POD },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *body = json_object(), *env = json_object(),
	       *ports = json_object(), *labels = json_object();
	int opt, bad = 0;

	optind = 1;
	/* '+': options end at the image; the rest is the command. */
	while ((opt = getopt_long(argc, argv, "+e:p:l:w:c:u:h", opts, NULL))
	       != -1) {
		switch (opt) {
		case 'n':
			json_object_set_new(body, "name", json_string(optarg));
			break;
		case 'e': bad |= put_pair(env, "--env", optarg); break;
		case 'p': bad |= put_port(ports, optarg); break;
		case 'l': bad |= put_pair(labels, "--label", optarg); break;
		case 'w':
			json_object_set_new(body, "working_dir",
			                    json_string(optarg));
			break;
		case 'r':
			json_object_set_new(body, "restart_policy",
			                    json_string(optarg));
			break;
		case 'c':
			json_object_set_new(body, "command",
			                    json_string(optarg));
			break;
		case 'u':
			json_object_set_new(body, "user", json_string(optarg));
			break;
		case 'h': create_usage(stdout, cmd); exit(0);
		default:
			if (opt >= OPT_MEMORY)
				bad |= put_option(body, opt, optarg);
			else
				bad = -1;
		}
	}
	if (bad != 0 || optind >= argc) {
		create_usage(stderr, cmd);
		json_decref(body);
		json_decref(env);
		json_decref(ports);
		json_decref(labels);
		return NULL;
	}
	json_object_set_new(body, "image", json_string(argv[optind++]));
	if (optind < argc) {
		json_t *argv_json = json_array();

		for (int i = optind; i < argc; i++)
			json_array_append_new(argv_json, json_string(argv[i]));
		json_object_set_new(body, "command", argv_json);
	}
	json_object_set_new(body, "environment", env);
	json_object_set_new(body, "ports", ports);
	json_object_set_new(body, "labels", labels);
	return body;
}

/* POST /containers; prints the id. Returns the exit status; `id_out`
 * (may be NULL) gets the id on success. */
static int do_create(const struct cli_client *c, json_t *body, char **id_out)
{
	json_t *r = NULL;
	long st = cli_request(c, "POST", "/api/v1/containers", body, &r);
	int rv = 0;

	if (st == 200 || st == 201) {
		const char *id = json_string_value(json_object_get(r, "id"));

		printf("%s\n", id != NULL ? id : "");
		if (id_out != NULL)
			*id_out = berth_strdup(id);
	} else {
		rv = cli_fail(st, r);
	}
	json_decref(r);
	return rv;
}

/* Appends "key=value" to a query string held in `q` (`size` bytes). */
static void add_query(char *q, size_t size, const char *kv)
{
	size_t n = strlen(q);

	snprintf(q + n, size - n, "%c%s", strchr(q, '?') != NULL ? '&' : '?',
	         kv);
}

/* POST/DELETE on one container; silent on success. */
static int act(const struct cli_client *c, const char *method, const char *id,
               const char *suffix, const char *query)
{
	char *eid = cli_escape(id);
	char *path
	    = berth_asprintf("/api/v1/containers/%s%s%s", eid, suffix, query);
	json_t *r = NULL;
	long st = cli_request(c, method, path, NULL, &r);
	int rv = (st >= 200 && st < 300) ? 0 : cli_fail(st, r);

	json_decref(r);
	free(path);
	free(eid);
	return rv;
}

int cmd_create(int argc, char **argv)
{
	struct cli_client c;
	json_t *body = create_body(argc, argv, "create");
	int rv;

	if (body == NULL)
		return 2;
	rv = cli_client_init(&c);
	if (rv == 0)
		rv = do_create(&c, body, NULL);
	json_decref(body);
	cli_client_fini(&c);
	return rv;
}

int cmd_run(int argc, char **argv)
{
	struct cli_client c;
	json_t *body = create_body(argc, argv, "run");
	char *id = NULL;
	int rv;

	if (body == NULL)
		return 2;
	rv = cli_client_init(&c);
	if (rv == 0)
		rv = do_create(&c, body, &id);
	if (rv == 0)
		rv = act(&c, "POST", id, "/start", "");
	free(id);
	json_decref(body);
	cli_client_fini(&c);
	return rv;
}

/* start | stop | restart | rm over each id; like docker, tries every id
 * and fails when any failed. */
int cmd_container_action(int argc, char **argv)
{
	const char *cmd = argv[0];
	bool is_rm = strcmp(cmd, "rm") == 0;
	bool timed = strcmp(cmd, "stop") == 0 || strcmp(cmd, "restart") == 0;
	char query[64] = "";
	struct cli_client c;
	int opt, rv = 0;

	optind = 1;
	while ((opt = getopt(argc, argv, is_rm ? "fv" : "t:")) != -1) {
		if (is_rm && opt == 'f') {
			add_query(query, sizeof(query), "force=1");
		} else if (is_rm && opt == 'v') {
			add_query(query, sizeof(query), "volumes=1");
		} else if (timed && opt == 't') {
			char *t = cli_escape(optarg);
			char *kv = berth_asprintf("timeout=%.10s", t);

			add_query(query, sizeof(query), kv);
			free(kv);
			free(t);
		} else {
			fprintf(stderr, "usage: berth %s %sID...\n", cmd,
			        is_rm       ? "[-f] [-v] "
			            : timed ? "[-t SECONDS] "
			                    : "");
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: berth %s ID...\n", cmd);
		return 2;
	}
	if (cli_client_init(&c) != 0)
		return 2;
	for (int i = optind; i < argc; i++) {
		int r = is_rm ? act(&c, "DELETE", argv[i], "", query)
		              : act(&c, "POST", argv[i],
		                    strcmp(cmd, "start") == 0      ? "/start"
		                        : strcmp(cmd, "stop") == 0 ? "/stop"
		                                                   : "/restart",
		                    query);

		if (r == 0)
			printf("%s\n", argv[i]);
		else
			rv = r;
	}
	cli_client_fini(&c);
	return rv;
}

int cmd_ps(int argc, char **argv)
{
	struct cli_client c;
	json_t *r = NULL, *list, *it;
	char path[512] = "/api/v1/containers";
	bool all = false;
	size_t i;
	long st;
	int opt, rv = 0;

	optind = 1;
	while ((opt = getopt(argc, argv, "al:")) != -1) {
		if (opt == 'a') {
			all = true;
		} else if (opt == 'l') {
			char *e = cli_escape(optarg);
			char *kv = berth_asprintf("label=%s", e);

			add_query(path, sizeof(path), kv);
			free(kv);
			free(e);
		} else {
			fprintf(stderr,
			        "usage: berth ps [-a] [-l KEY=VALUE]\n");
			return 2;
		}
	}
	if (all)
		add_query(path, sizeof(path), "all=1");
	if (cli_client_init(&c) != 0)
		return 2;
	st = cli_request(&c, "GET", path, NULL, &r);
	if (st != 200) {
		rv = cli_fail(st, r);
		goto out;
	}
	printf("%-12s  %-24s  %-28s  %-10s  %s\n", "CONTAINER ID", "NAME",
	       "IMAGE", "STATE", "STATUS");
	list = json_object_get(r, "containers");
	json_array_foreach(list, i, it)
	{
		const char *id = json_string_value(json_object_get(it, "id"));

		printf("%-12.12s  %-24s  %-28s  %-10s  %s\n",
		       id != NULL ? id : "",
		       json_string_value(json_object_get(it, "name")),
		       json_string_value(json_object_get(it, "image")),
		       json_string_value(json_object_get(it, "state")),
		       json_string_value(json_object_get(it, "status")));
	}
out:
	json_decref(r);
	cli_client_fini(&c);
	return rv;
}

int cmd_inspect(int argc, char **argv)
{
	struct cli_client c;
	int rv = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: berth inspect ID...\n");
		return 2;
	}
	if (cli_client_init(&c) != 0)
		return 2;
	for (int i = 1; i < argc; i++) {
		char *eid = cli_escape(argv[i]);
		char *path = berth_asprintf("/api/v1/containers/%s", eid);
		json_t *r = NULL;
		long st = cli_request(&c, "GET", path, NULL, &r);

		if (st == 200) {
			json_dumpf(r, stdout, JSON_INDENT(2));
			putchar('\n');
		} else {
			rv = cli_fail(st, r);
		}
		json_decref(r);
		free(path);
		free(eid);
	}
	cli_client_fini(&c);
	return rv;
}
