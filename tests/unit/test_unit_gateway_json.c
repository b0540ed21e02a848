/*
 * test_unit_gateway_json.c: the gateway's strict JSON -> ContainerSpec
 * mapping (the seed body, ports, env, restart policy, command forms, and
 * every refusal naming its field) and the protobuf -> JSON field names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/support/testsupport.h"

#include "gateway/json_map.h"

#include <stdlib.h>
#include <string.h>

static Berth__V1__ContainerSpec *parse_ok(const char *text)
{
	Berth__V1__ContainerSpec *spec = NULL;
	struct berth_err err;

	assert_ok(gw_container_spec_from_text(&spec, text, strlen(text), &err),
	          &err);
	assert_non_null(spec);
	return spec;
}

/* Parsing fails with BERTH_EINVAL and a message containing `needle`. */
static void parse_fails(const char *text, const char *needle)
{
	Berth__V1__ContainerSpec *spec = NULL;
	struct berth_err err;
	int rv;

	berth_err_clear(&err);
	rv = gw_container_spec_from_text(&spec, text, strlen(text), &err);
	if (rv != BERTH_EINVAL || strstr(err.msg, needle) == NULL)
		fail_msg("body %s: got %s \"%s\", wanted INVALID_ARGUMENT "
		         "naming \"%s\"",
		         text, berth_code_name(rv), err.msg, needle);
	assert_null(spec);
}

static const char *kv_get(Berth__V1__KeyValue **kv, size_t n, const char *k)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(kv[i]->key, k) == 0)
			return kv[i]->value;
	return NULL;
}

static void test_seed_body(void **state)
{
	Berth__V1__ContainerSpec *s;

	(void)state;
	s = parse_ok("{\"image\": \"nginx:alpine\", \"name\": \"my-nginx\","
	             " \"ports\": {\"8080\": \"80\"},"
	             " \"environment\": {\"ENV\": \"production\"},"
	             " \"restart_policy\": \"unless-stopped\"}");
	assert_string_equal(s->image, "nginx:alpine");
	assert_string_equal(s->name, "my-nginx");
	assert_int_equal(s->n_ports, 1);
	assert_int_equal(s->ports[0]->host_port, 8080);
	assert_int_equal(s->ports[0]->container_port, 80);
	assert_string_equal(s->ports[0]->protocol, "tcp");
	assert_string_equal(s->ports[0]->host_ip, "");
	assert_int_equal(s->n_env, 1);
	assert_string_equal(kv_get(s->env, s->n_env, "ENV"), "production");
	assert_non_null(s->restart_policy);
	assert_string_equal(s->restart_policy->name, "unless-stopped");
	assert_int_equal(s->n_command, 0);
	assert_string_equal(s->command_line, "");
	gw_container_spec_free(s);
}

static void test_ports_ip_udp_and_restart_retries(void **state)
{
	Berth__V1__ContainerSpec *s;

	(void)state;
	s = parse_ok("{\"image\":\"busybox\",\"ports\":{\"127.0.0.1:5353\":"
	             "\"53/udp\",\"[::1]:9090\":\"90/tcp\"},"
	             "\"restart_policy\":\"on-failure:3\"}");
	assert_int_equal(s->n_ports, 2);
	for (size_t i = 0; i < s->n_ports; i++) {
		Berth__V1__PortBinding *p = s->ports[i];

		if (p->host_port == 5353) {
			assert_string_equal(p->host_ip, "127.0.0.1");
			assert_int_equal(p->container_port, 53);
			assert_string_equal(p->protocol, "udp");
		} else {
			assert_int_equal(p->host_port, 9090);
			assert_string_equal(p->host_ip, "::1");
			assert_int_equal(p->container_port, 90);
			assert_string_equal(p->protocol, "tcp");
		}
	}
	assert_string_equal(s->restart_policy->name, "on-failure");
	assert_int_equal(s->restart_policy->max_retries, 3);
	gw_container_spec_free(s);
}

static void test_command_string_vs_array(void **state)
{
	Berth__V1__ContainerSpec *s;

	(void)state;
	s = parse_ok("{\"image\":\"busybox\",\"command\":\"echo hi && sleep "
	             "1\"}");
	assert_string_equal(s->command_line, "echo hi && sleep 1");
	assert_int_equal(s->n_command, 0);
	gw_container_spec_free(s);

	s = parse_ok("{\"image\":\"busybox\",\"command\":[\"sleep\",\"5\"],"
	             "\"entrypoint\":[\"/bin/sh\",\"-c\"],"
	             "\"working_dir\":\"/srv\",\"labels\":{\"app\":\"web\"},"
	             "\"mounts\":[{\"source\":\"/tmp\",\"target\":\"/data\","
	             "\"read_only\":true},{\"source\":\"vol1\",\"target\":"
	             "\"/v\",\"type\":\"volume\"}]}");
	assert_string_equal(s->command_line, "");
	assert_int_equal(s->n_command, 2);
	assert_string_equal(s->command[0], "sleep");
	assert_string_equal(s->command[1], "5");
	assert_int_equal(s->n_entrypoint, 2);
	assert_string_equal(s->working_dir, "/srv");
	assert_string_equal(kv_get(s->labels, s->n_labels, "app"), "web");
	assert_int_equal(s->n_mounts, 2);
	assert_string_equal(s->mounts[0]->type, "bind");
	assert_true(s->mounts[0]->read_only);
	assert_string_equal(s->mounts[1]->type, "volume");
	assert_false(s->mounts[1]->read_only);
	gw_container_spec_free(s);
}

static void test_refusals_name_the_field(void **state)
{
	(void)state;
	parse_fails("{\"image\":\"busybox\",\"image\":\"nginx\"}", "image");
	parse_fails("{\"imagee\":\"busybox\"}", "unknown field \"imagee\"");
	parse_fails("{\"image\":\"busybox\",\"mounts\":[{\"source\":\"/a\","
	            "\"target\":\"/b\",\"mode\":\"ro\"}]}",
	            "mounts[0].mode");
	parse_fails("{\"image\":5}", "image: expected a string");
	parse_fails("{\"image\":\"busybox\",\"ports\":[8080]}", "ports");
	parse_fails("{\"image\":\"busybox\",\"name\":true}", "name");
	parse_fails("{\"image\":\"busybox\",\"command\":{\"a\":1}}", "command");
	parse_fails("{\"image\":\"busybox\",\"command\":[\"a\",2]}",
	            "command[1]");
	parse_fails("{\"image\":\"busybox\",\"environment\":[]}",
	            "environment");
	parse_fails("{\"image\":\"Not An Image!\"}", "image");
	parse_fails("{\"image\":\"busybox\",\"environment\":{\"1BAD\":\"x\"}}",
	            "environment");
	parse_fails("{\"image\":\"busybox\",\"labels\":{\"berth.owner\":"
	            "\"me\"}}",
	            "labels");
	parse_fails("{\"image\":\"busybox\",\"restart_policy\":\"sometimes\"}",
	            "restart_policy");
	parse_fails("{\"image\":\"busybox\",\"ports\":{\"x80\":\"80\"}}",
	            "ports");
	parse_fails("{\"image\":\"busybox\",\"ports\":{\"80\":\"99999\"}}",
	            "ports.80");
	parse_fails("{\"image\":\"busybox\",\"working_dir\":\"rel/dir\"}",
	            "working_dir");
	parse_fails("{\"image\":\"busybox\",\"mounts\":[{\"source\":\"/a\","
	            "\"target\":\"/x/../etc\"}]}",
	            "mounts[0].target");
	parse_fails("{\"name\":\"x\"}", "image: required");
	parse_fails("[1,2]", "expected a JSON object");
	parse_fails("{\"image\": ", "malformed JSON");
}

/* A body with `n` entries made by `entry(i)` inside `open` ... `close`. */
static char *big_body(const char *open, const char *fmt, size_t n,
                      const char *close)
{
	size_t cap = strlen(open) + strlen(close) + n * 64 + 1, o = 0;
	char *b = malloc(cap);

	assert_non_null(b);
	o += (size_t)snprintf(b + o, cap - o, "%s", open);
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(b + o, cap - o, fmt, i == 0 ? "" : ",",
		                      i);
	snprintf(b + o, cap - o, "%s", close);
	return b;
}

static void test_ports_edge_cases(void **state)
{
	Berth__V1__ContainerSpec *s;

	(void)state;
	/* Host port 0 is "any free port"; sctp is a protocol Docker binds. */
	s = parse_ok("{\"image\":\"busybox\",\"ports\":{\"0\":\"80\","
	             "\"127.0.0.1:0\":\"81\",\"9132\":\"132/sctp\"}}");
	assert_int_equal(s->n_ports, 3);
	for (size_t i = 0; i < s->n_ports; i++)
		if (s->ports[i]->host_port == 9132)
			assert_string_equal(s->ports[i]->protocol, "sctp");
	gw_container_spec_free(s);
	/* One host port on two addresses, or for tcp and udp, is fine. */
	s = parse_ok("{\"image\":\"busybox\",\"ports\":{"
	             "\"127.0.0.1:8080\":\"80\",\"127.0.0.2:8080\":\"80\","
	             "\"8081\":\"80/udp\",\"0.0.0.0:8081\":\"81\"}}");
	assert_int_equal(s->n_ports, 4);
	gw_container_spec_free(s);

	parse_fails("{\"image\":\"busybox\",\"ports\":{\"65536\":\"80\"}}",
	            "ports: key \"65536\"");
	parse_fails("{\"image\":\"busybox\",\"ports\":{\"8080\":\"0\"}}",
	            "ports.8080");
	parse_fails("{\"image\":\"busybox\",\"ports\":{\"8080\":\"abc\"}}",
	            "ports.8080");
	parse_fails("{\"image\":\"busybox\",\"ports\":{\"8080\":\"80/"
	            "icmp\"}}",
	            "ports.8080");
	parse_fails("{\"image\":\"busybox\",\"ports\":{\"8080\":80}}",
	            "ports.8080");
	parse_fails("{\"image\":\"busybox\",\"ports\":{\"abc\":\"80\"}}",
	            "ports: key \"abc\"");
	parse_fails("{\"image\":\"busybox\",\"ports\":{\"\":\"80\"}}",
	            "ports: key");
	/* The same host port twice fails now, not at start. */
	parse_fails("{\"image\":\"busybox\",\"ports\":{\"8080\":\"80\","
	            "\"0.0.0.0:8080\":\"81\"}}",
	            "ports.0.0.0.0:8080: host port 8080/tcp");
	parse_fails("{\"image\":\"busybox\",\"ports\":{"
	            "\"127.0.0.1:8080\":\"80\",\"8080\":\"81/tcp\"}}",
	            "host port 8080/tcp");
}

static void test_empty_and_duplicate_values(void **state)
{
	(void)state;
	parse_fails("{\"image\":\"busybox\",\"command\":\"\"}",
	            "command: empty");
	parse_fails("{\"image\":\"\"}", "image: required");
	parse_fails("{\"image\":\"busybox\",\"name\":\"\"}", "name");
	parse_fails("{\"image\":\"busybox\",\"working_dir\":\"\"}",
	            "working_dir");
	parse_fails("{\"image\":\"busybox\",\"restart_policy\":\"\"}",
	            "restart_policy");
	parse_fails("{\"image\":\"busybox\",\"restart_policy\":"
	            "\"on-failure:\"}",
	            "restart_policy");
	parse_fails("{\"image\":\"busybox\",\"restart_policy\":"
	            "\"always:3\"}",
	            "restart_policy");
	parse_fails("{\"image\":\"busybox\",\"restart_policy\":"
	            "{\"name\":\"always\"}}",
	            "restart_policy: expected a string");
	parse_fails("{\"image\":\"busybox\",\"mounts\":[{\"source\":\"\","
	            "\"target\":\"/b\"}]}",
	            "mounts[0].source");
	parse_fails("{\"image\":\"busybox\",\"mounts\":[{\"source\":\"/a\","
	            "\"target\":\"/b\",\"read_only\":\"yes\"}]}",
	            "mounts[0].read_only");
	parse_fails("{\"image\":\"busybox\",\"mounts\":[{\"source\":\"/a\","
	            "\"target\":\"/b\"},{\"source\":\"vol1\",\"type\":"
	            "\"volume\",\"target\":\"/b\"}]}",
	            "mounts[1].target");
	parse_fails("{\"image\":\"busybox\",\"labels\":{\"app\":\"a\\u0001"
	            "b\"}}",
	            "labels.app");
	parse_fails("{\"image\":\"busybox\",\"environment\":{\"A\":null}}",
	            "environment.A");
}

static void test_count_caps(void **state)
{
	static const struct {
		const char *open, *fmt, *needle;
		size_t n;
	} t[] = {
		{ "{\"image\":\"busybox\",\"environment\":{",
		  "%s\"K%zu\":\"v\"", "environment: more than", 1025 },
		{ "{\"image\":\"busybox\",\"labels\":{", "%s\"k%zu\":\"v\"",
		  "labels: more than", 257 },
		{ "{\"image\":\"busybox\",\"ports\":{", "%s\"%zu\":\"80\"",
		  "ports: more than", 257 },
		{ "{\"image\":\"busybox\",\"mounts\":[",
		  "%s{\"source\":\"/s\",\"target\":\"/t%zu\"}",
		  "mounts: more than", 65 },
		{ "{\"image\":\"busybox\",\"command\":[", "%s\"a%zu\"",
		  "command: more than", 1025 },
		{ "{\"image\":\"busybox\",\"entrypoint\":[", "%s\"a%zu\"",
		  "entrypoint: more than", 1025 },
	};
	Berth__V1__ContainerSpec *s;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *close
		    = t[i].open[strlen(t[i].open) - 1] == '{' ? "}}" : "]}";
		char *b = big_body(t[i].open, t[i].fmt, t[i].n, close);

		parse_fails(b, t[i].needle);
		free(b);
		/* One fewer is within the cap. */
		b = big_body(t[i].open, t[i].fmt, t[i].n - 1, close);
		s = parse_ok(b);
		gw_container_spec_free(s);
		free(b);
	}
}

static void test_errors_never_echo_env_values(void **state)
{
	Berth__V1__ContainerSpec *spec = NULL;
	struct berth_err err;
	const char *bodies[] = {
		"{\"image\":\"busybox\",\"environment\":{\"K\":\"s3cretval\" "
		"\"L\":1}}",
		"{\"image\":\"busybox\",\"environment\":{\"K\":s3cretval}}",
		"{\"image\":\"busybox\",\"environment\":{\"K\":[\"s3cretval\"]}"
		"}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		assert_int_equal(gw_container_spec_from_text(
		                     &spec, bodies[i], strlen(bodies[i]), &err),
		                 BERTH_EINVAL);
		if (strstr(err.msg, "s3cret") != NULL)
			fail_msg("message echoes the value: %s", err.msg);
	}
}

static void test_pull_body(void **state)
{
	struct berth_err err;
	json_t *obj = NULL;
	char *image = NULL;

	(void)state;
	assert_ok(gw_json_parse_object(&obj, "{\"image\":\"busybox:1.36\"}", 24,
	                               &err),
	          &err);
	assert_ok(gw_json_to_pull_image(&image, obj, &err), &err);
	assert_string_equal(image, "busybox:1.36");
	free(image);
	json_decref(obj);
	assert_ok(gw_json_parse_object(&obj, "{\"img\":\"busybox\"}", 17, &err),
	          &err);
	assert_int_equal(gw_json_to_pull_image(&image, obj, &err),
	                 BERTH_EINVAL);
	assert_non_null(strstr(err.msg, "img"));
	json_decref(obj);
}

#define BB "{\"image\":\"busybox\","

static void test_options_body(void **state)
{
	Berth__V1__ContainerSpec *s;

	(void)state;
	/* seed 004's health check with its duration strings */
	s = parse_ok(BB "\"health\":{\"test\":[\"CMD\",\"curl\",\"-f\","
	                "\"http://localhost/\"],\"interval\":\"30s\","
	                "\"timeout\":\"10s\",\"retries\":3,"
	                "\"start_period\":\"500ms\"},"
	                "\"resources\":{\"memory\":\"512m\",\"cpus\":1.5,"
	                "\"pids_limit\":20},"
	                "\"networks\":[\"front\",\"back\"],"
	                "\"read_only_rootfs\":true,\"cap_drop\":[\"ALL\"],"
	                "\"cap_add\":[\"NET_BIND_SERVICE\"],"
	                "\"no_new_privileges\":true,\"user\":\"1000:1000\","
	                "\"keep_alive\":false}");
	assert_non_null(s->health);
	assert_int_equal(s->health->n_test, 4);
	assert_string_equal(s->health->test[0], "CMD");
	assert_int_equal(s->health->interval_ms, 30000);
	assert_int_equal(s->health->timeout_ms, 10000);
	assert_int_equal(s->health->start_period_ms, 500);
	assert_int_equal(s->health->retries, 3);
	assert_non_null(s->resources);
	assert_int_equal(s->resources->memory_bytes, 512LL << 20);
	assert_int_equal(s->resources->nano_cpus, 1500000000LL);
	assert_int_equal(s->resources->pids_limit, 20);
	assert_int_equal(s->n_networks, 2);
	assert_string_equal(s->networks[1], "back");
	assert_true(s->read_only_rootfs);
	assert_int_equal(s->n_cap_drop, 1);
	assert_string_equal(s->cap_drop[0], "ALL");
	assert_string_equal(s->cap_add[0], "NET_BIND_SERVICE");
	assert_true(s->no_new_privileges);
	assert_string_equal(s->user, "1000:1000");
	assert_true(s->remove_on_exit);
	gw_container_spec_free(s);

	/* The proto names too; keep_alive defaults to true. */
	s = parse_ok(BB "\"health\":{\"test\":[\"CMD-SHELL\",\"true\"],"
	                "\"interval_ms\":200,\"timeout_ms\":1000},"
	                "\"resources\":{\"memory_bytes\":6291456,"
	                "\"nano_cpus\":500000000},\"pod\":\"p1\"}");
	assert_int_equal(s->health->interval_ms, 200);
	assert_int_equal(s->resources->memory_bytes, 6291456);
	assert_int_equal(s->resources->nano_cpus, 500000000);
	assert_string_equal(s->pod, "p1");
	assert_false(s->remove_on_exit);
	gw_container_spec_free(s);

	s = parse_ok(BB "\"remove_on_exit\":true,\"keep_alive\":false,"
	                "\"restart_policy\":\"no\"}");
	assert_true(s->remove_on_exit);
	gw_container_spec_free(s);
}

static void test_options_refusals(void **state)
{
	(void)state;
	parse_fails(BB "\"health\":{\"test\":[\"SHELL\",\"x\"]}}",
	            "health.test[0]");
	parse_fails(BB "\"health\":{\"test\":[\"CMD\"]}}", "health.test");
	parse_fails(BB "\"health\":{\"interval\":\"soon\"}}",
	            "health.interval");
	parse_fails(BB "\"health\":{\"interval\":\"25h\"}}",
	            "health.interval_ms");
	parse_fails(BB "\"health\":{\"interval\":\"1s\","
	               "\"interval_ms\":5}}",
	            "health.interval");
	parse_fails(BB "\"health\":{\"retries\":101}}", "health.retries");
	parse_fails(BB "\"health\":{\"every\":1}}",
	            "unknown field \"health.every\"");
	parse_fails(BB "\"health\":[]}", "health");
	parse_fails(BB "\"resources\":{\"memory\":\"1m\"}}",
	            "resources.memory");
	parse_fails(BB "\"resources\":{\"memory_bytes\":1024}}",
	            "resources.memory_bytes");
	parse_fails(BB "\"resources\":{\"memory\":\"lots\"}}",
	            "resources.memory");
	parse_fails(BB "\"resources\":{\"cpus\":-1}}", "resources.cpus");
	parse_fails(BB "\"resources\":{\"cpus\":\"2\"}}", "resources.cpus");
	parse_fails(BB "\"resources\":{\"pids_limit\":-1}}",
	            "resources.pids_limit");
	parse_fails(BB "\"resources\":{\"pids_limit\":99999999}}",
	            "resources.pids_limit");
	parse_fails(BB "\"resources\":{\"swap\":1}}",
	            "unknown field \"resources.swap\"");
	parse_fails(BB "\"networks\":\"front\"}", "networks");
	parse_fails(BB "\"networks\":[\"host\"]}", "networks[0]");
	parse_fails(BB "\"networks\":[\"a\",\"a\"]}", "networks[1]");
	parse_fails(BB "\"networks\":[\"none\",\"a\"]}", "networks");
	parse_fails(BB "\"networks\":[\"a/b\"]}", "networks[0]");
	parse_fails(BB "\"cap_drop\":[\"chown\"]}", "cap_drop[0]");
	parse_fails(BB "\"cap_add\":[\"ALL\"]}", "cap_add[0]");
	parse_fails(BB "\"cap_add\":[\"NET_RAW\",7]}", "cap_add[1]");
	parse_fails(BB "\"user\":\"root;rm\"}", "user");
	parse_fails(BB "\"user\":1000}", "user");
	parse_fails(BB "\"read_only_rootfs\":\"yes\"}", "read_only_rootfs");
	parse_fails(BB "\"no_new_privileges\":1}", "no_new_privileges");
	parse_fails(BB "\"keep_alive\":false,\"remove_on_exit\":false}",
	            "keep_alive");
	parse_fails(BB "\"keep_alive\":false,"
	               "\"restart_policy\":\"always\"}",
	            "keep_alive");
	parse_fails(BB "\"remove_on_exit\":true,"
	               "\"restart_policy\":\"on-failure:3\"}",
	            "remove_on_exit");
	parse_fails(BB "\"pod\":\"../x\"}", "pod");
}

static void assert_keys(json_t *o, const char *const *keys)
{
	for (size_t i = 0; keys[i] != NULL; i++)
		if (json_object_get(o, keys[i]) == NULL)
			fail_msg("JSON lacks \"%s\"", keys[i]);
}

static void test_output_field_names(void **state)
{
	static const char *const summary_keys[]
	    = { "id",      "name",   "image", "state", "status",
		"created", "labels", "ports", NULL };
	static const char *const detail_keys[] = { "id",
		                                   "image_id",
		                                   "running",
		                                   "exit_code",
		                                   "started_at",
		                                   "finished_at",
		                                   "restart_count",
		                                   "command",
		                                   "entrypoint",
		                                   "working_dir",
		                                   "mounts",
		                                   "restart_policy",
		                                   "env_keys",
		                                   "health_status",
		                                   "health_failing_streak",
		                                   "health_last_output",
		                                   "health",
		                                   "resources",
		                                   "oom_killed",
		                                   "pod",
		                                   "networks",
		                                   "read_only_rootfs",
		                                   "user",
		                                   "remove_on_exit",
		                                   "keep_alive",
		                                   "cap_drop",
		                                   "cap_add",
		                                   "no_new_privileges",
		                                   NULL };
	static const char *const job_keys[]
	    = { "id",     "kind",  "state",      "progress",   "detail",
		"result", "error", "created_at", "updated_at", NULL };
	static const char *const info_keys[]
	    = { "runtime",        "socket_path", "rootless", "build_dir",
		"engine_version", "api_version", NULL };
	Berth__V1__ContainerSummary sum = BERTH__V1__CONTAINER_SUMMARY__INIT;
	Berth__V1__ContainerDetail det = BERTH__V1__CONTAINER_DETAIL__INIT;
	Berth__V1__Job job = BERTH__V1__JOB__INIT;
	Berth__V1__RuntimeInfo info = BERTH__V1__RUNTIME_INFO__INIT;
	Berth__V1__KeyValue kv = BERTH__V1__KEY_VALUE__INIT;
	Berth__V1__KeyValue *kvs[] = { &kv };
	Berth__V1__PortBinding pb = BERTH__V1__PORT_BINDING__INIT;
	Berth__V1__PortBinding *pbs[] = { &pb };
	Berth__V1__RestartPolicy rp = BERTH__V1__RESTART_POLICY__INIT;
	json_t *o, *e;

	(void)state;
	sum.id = "abc123";
	sum.name = "web";
	sum.state = "running";
	sum.created = 1700000000;
	kv.key = "app";
	kv.value = "web";
	sum.labels = kvs;
	sum.n_labels = 1;
	pb.host_port = 8080;
	pb.container_port = 80;
	pb.protocol = "tcp";
	sum.ports = pbs;
	sum.n_ports = 1;
	{
		Berth__V1__ListContainersReply list
		    = BERTH__V1__LIST_CONTAINERS_REPLY__INIT;
		Berth__V1__ContainerSummary *sums[] = { &sum };
		struct berth_buf b;
		json_t *whole;

		list.containers = sums;
		list.n_containers = 1;
		berth_buf_init(&b, 1 << 20);
		assert_int_equal(gw_json_container_list(&b, &list), 0);
		whole = json_loadb(b.data, b.len, 0, NULL);
		assert_non_null(whole);
		assert_int_equal(json_object_size(whole), 1);
		o = json_incref(
		    json_array_get(json_object_get(whole, "containers"), 0));
		assert_int_equal(
		    json_array_size(json_object_get(whole, "containers")), 1);
		json_decref(whole);
		berth_buf_fini(&b);
	}
	assert_keys(o, summary_keys);
	assert_string_equal(json_string_value(json_object_get(o, "id")),
	                    "abc123");
	assert_int_equal(json_integer_value(json_object_get(o, "created")),
	                 1700000000);
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(o, "labels"), "app")),
	                    "web");
	e = json_array_get(json_object_get(o, "ports"), 0);
	assert_int_equal(json_integer_value(json_object_get(e, "host_port")),
	                 8080);
	assert_int_equal(
	    json_integer_value(json_object_get(e, "container_port")), 80);
	json_decref(o);

	det.summary = &sum;
	det.running = 1;
	rp.name = "on-failure";
	rp.max_retries = 2;
	det.restart_policy = &rp;
	o = gw_json_container_detail(&det);
	assert_keys(o, detail_keys);
	assert_true(json_is_true(json_object_get(o, "running")));
	assert_string_equal(
	    json_string_value(json_object_get(o, "restart_policy")),
	    "on-failure:2");
	assert_true(json_is_null(json_object_get(o, "health")));
	assert_true(json_is_true(json_object_get(o, "keep_alive")));
	json_decref(o);

	{
		char *test[] = { "CMD-SHELL", "test -f /tmp/ok" };
		char *nets[] = { "front" };
		char *drop[] = { "ALL" };
		Berth__V1__HealthCheck hc = BERTH__V1__HEALTH_CHECK__INIT;
		Berth__V1__Resources res = BERTH__V1__RESOURCES__INIT;
		json_t *h;

		hc.test = test;
		hc.n_test = 2;
		hc.interval_ms = 200;
		hc.retries = 2;
		res.memory_bytes = 64LL << 20;
		res.pids_limit = 20;
		det.health = &hc;
		det.resources = &res;
		det.health_status = "unhealthy";
		det.health_failing_streak = 3;
		det.health_last_output = "no /tmp/ok";
		det.networks = nets;
		det.n_networks = 1;
		det.cap_drop = drop;
		det.n_cap_drop = 1;
		det.user = "1000:1000";
		det.remove_on_exit = 1;
		det.no_new_privileges = 1;
		det.read_only_rootfs = 1;
		det.oom_killed = 1;
		o = gw_json_container_detail(&det);
		h = json_object_get(o, "health");
		assert_string_equal(json_string_value(json_array_get(
		                        json_object_get(h, "test"), 1)),
		                    "test -f /tmp/ok");
		assert_int_equal(
		    json_integer_value(json_object_get(h, "interval_ms")), 200);
		assert_int_equal(
		    json_integer_value(json_object_get(
		        json_object_get(o, "resources"), "memory_bytes")),
		    64LL << 20);
		assert_string_equal(
		    json_string_value(json_object_get(o, "health_status")),
		    "unhealthy");
		assert_int_equal(json_integer_value(json_object_get(
		                     o, "health_failing_streak")),
		                 3);
		assert_string_equal(json_string_value(json_array_get(
		                        json_object_get(o, "networks"), 0)),
		                    "front");
		assert_string_equal(
		    json_string_value(json_object_get(o, "user")), "1000:1000");
		assert_true(json_is_false(json_object_get(o, "keep_alive")));
		assert_true(json_is_true(json_object_get(o, "remove_on_exit")));
		assert_true(
		    json_is_true(json_object_get(o, "no_new_privileges")));
		assert_true(json_is_true(json_object_get(o, "oom_killed")));
		json_decref(o);
	}

	job.id = "0b6c1e0e-8a59-4e4b-9a5e-0a2a3c1f8d10";
	job.kind = "pull";
	job.state = "succeeded";
	job.progress = 100;
	job.created_at_ms = 1700000000123;
	o = gw_json_job(&job);
	assert_keys(o, job_keys);
	assert_true(json_is_null(json_object_get(o, "error")));
	assert_string_equal(json_string_value(json_object_get(o, "created_at")),
	                    "2023-11-14T22:13:20.123Z");
	json_decref(o);
	job.state = "failed";
	job.error_code = BERTH__V1__CODE__NOT_FOUND;
	job.error = "image not found";
	o = gw_json_job(&job);
	e = json_object_get(o, "error");
	assert_string_equal(json_string_value(json_object_get(e, "code")),
	                    "NOT_FOUND");
	assert_string_equal(json_string_value(json_object_get(e, "message")),
	                    "image not found");
	json_decref(o);

	info.runtime = "docker";
	info.socket_path = "/var/run/docker.sock";
	info.api_version = "1.41";
	o = gw_json_runtime_info(&info);
	assert_keys(o, info_keys);
	assert_true(json_is_false(json_object_get(o, "rootless")));
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_body),
		cmocka_unit_test(test_ports_ip_udp_and_restart_retries),
		cmocka_unit_test(test_command_string_vs_array),
		cmocka_unit_test(test_refusals_name_the_field),
		cmocka_unit_test(test_ports_edge_cases),
		cmocka_unit_test(test_empty_and_duplicate_values),
		cmocka_unit_test(test_count_caps),
		cmocka_unit_test(test_errors_never_echo_env_values),
		cmocka_unit_test(test_pull_body),
		cmocka_unit_test(test_output_field_names),
		cmocka_unit_test(test_options_body),
		cmocka_unit_test(test_options_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
