/*
 * test_unit_config.c: the config loader on real files: defaults, seed
 * 001's block, the example deploy/berth.toml, every rejection with its
 * line, environment overrides and berth_config_set().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/support/testsupport.h"

#include "lib/alloc.h"
#include "lib/config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const env_vars[]
    = { "BERTH_DATA",          "BERTH_HTTP",        "BERTH_RUNTIME",
	"BERTH_DOCKER_SOCKET", "BERTH_RUNTIME_URL", "BERTH_SHELL" };

struct fixture {
	char *dir;
	char *path; /* dir/berth.toml */
};

static int setup(void **state)
{
	struct fixture *f = berth_calloc(1, sizeof(*f));

	for (size_t i = 0; i < sizeof(env_vars) / sizeof(env_vars[0]); i++)
		unsetenv(env_vars[i]);
	f->dir = ts_tmpdir("config");
	f->path = berth_asprintf("%s/berth.toml", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(env_vars) / sizeof(env_vars[0]); i++)
		unsetenv(env_vars[i]);
	ts_rmtree(f->dir);
	free(f->dir);
	free(f->path);
	free(f);
	return 0;
}

static void write_file(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static void write_text(const char *path, const char *text)
{
	write_file(path, text, strlen(text));
}

static void test_defaults(void **state)
{
	struct berth_config *cfg = NULL;
	struct berth_err err;

	(void)state;
	assert_ok(berth_config_load(&cfg, NULL, &err), &err);
	assert_string_equal(cfg->runtime, "docker");
	assert_string_equal(cfg->socket_path, "/var/run/docker.sock");
	assert_false(cfg->rootless);
	assert_string_equal(cfg->build_dir, "/tmp/berth/builds");
	assert_int_equal(cfg->nshell, 2);
	assert_string_equal(cfg->shell[0], "/bin/sh");
	assert_string_equal(cfg->shell[1], "-c");
	assert_null(cfg->shell[2]);
	assert_string_equal(cfg->http_listen, "127.0.0.1:8080");
	assert_int_equal(cfg->max_body_bytes, 1024 * 1024);
	assert_string_equal(cfg->data_dir, "./var");
	assert_int_equal(cfg->nruntime_urls, 1);
	assert_string_equal(cfg->runtime_urls[0], "inproc://berth/runtime");
	assert_null(cfg->runtime_urls[1]);
	berth_config_free(cfg);
	berth_config_free(NULL);
}

/* Seed 001's block, byte for byte, comments included. */
static void test_seed_001_block(void **state)
{
	struct fixture *f = *state;
	struct berth_config *cfg = NULL;
	struct berth_err err;

	write_text(f->path,
	           "[docker]\n"
	           "runtime = \"docker\"  # or \"podman\"\n"
	           "socket_path = \"/var/run/docker.sock\"  # or "
	           "\"/run/user/1000/podman/podman.sock\" for rootless\n"
	           "rootless = false\n"
	           "build_dir = \"/tmp/mikrocloud/builds\"\n");
	assert_ok(berth_config_load(&cfg, f->path, &err), &err);
	assert_string_equal(cfg->runtime, "docker");
	assert_string_equal(cfg->socket_path, "/var/run/docker.sock");
	assert_false(cfg->rootless);
	assert_string_equal(cfg->build_dir, "/tmp/mikrocloud/builds");
	/* What the block does not name keeps its default. */
	assert_string_equal(cfg->http_listen, "127.0.0.1:8080");
	berth_config_free(cfg);
}

static void test_full_file(void **state)
{
	struct fixture *f = *state;
	struct berth_config *cfg = NULL;
	struct berth_err err;

	write_text(f->path,
	           "# every key\n"
	           "[docker]\n"
	           "runtime = \"podman\"\n"
	           "socket_path = '/run/podman/podman.sock'\n"
	           "rootless = true\n"
	           "build_dir = \"/srv/builds\"\n"
	           "shell = [\"/bin/bash\", \"-lc\"]\n"
	           "[gateway]\n"
	           "listen = \"[::1]:9090\"\n"
	           "max_body_bytes = 2_097_152\n"
	           "[data]\n"
	           "dir = \"/var/lib/berth\"\n"
	           "[services]\n"
	           "runtime = [\"tcp://10.0.0.1:7000\", "
	           "\"ipc:///run/berth/runtime.sock\"]\n");
	assert_ok(berth_config_load(&cfg, f->path, &err), &err);
	assert_string_equal(cfg->runtime, "podman");
	assert_string_equal(cfg->socket_path, "/run/podman/podman.sock");
	assert_true(cfg->rootless);
	assert_string_equal(cfg->build_dir, "/srv/builds");
	assert_int_equal(cfg->nshell, 2);
	assert_string_equal(cfg->shell[0], "/bin/bash");
	assert_string_equal(cfg->http_listen, "[::1]:9090");
	assert_int_equal(cfg->max_body_bytes, 2097152);
	assert_string_equal(cfg->data_dir, "/var/lib/berth");
	assert_int_equal(cfg->nruntime_urls, 2);
	assert_string_equal(cfg->runtime_urls[1],
	                    "ipc:///run/berth/runtime.sock");
	assert_null(cfg->runtime_urls[2]);
	berth_config_free(cfg);
}

/* The block in config.h's comment, as written there. */
static void test_header_block(void **state)
{
	struct fixture *f = *state;
	struct berth_config *cfg = NULL;
	struct berth_err err;

	write_text(
	    f->path,
	    "[docker]\n"
	    "runtime = \"docker\"            # or \"podman\"\n"
	    "socket_path = \"/var/run/docker.sock\"\n"
	    "rootless = false\n"
	    "build_dir = \"/tmp/mikrocloud/builds\"\n"
	    "shell = [\"/bin/sh\", \"-c\"]     # for single-string "
	    "commands\n"
	    "\n"
	    "[gateway]\n"
	    "listen = \"127.0.0.1:8080\"\n"
	    "max_body_bytes = 1048576\n"
	    "\n"
	    "[data]\n"
	    "dir = \"./var\"                 # SQLite files, admin token\n"
	    "\n"
	    "[services]                    # nng addresses, one or more "
	    "each\n"
	    "runtime = [\"inproc://berth/runtime\"]\n");
	assert_ok(berth_config_load(&cfg, f->path, &err), &err);
	assert_string_equal(cfg->build_dir, "/tmp/mikrocloud/builds");
	assert_int_equal(cfg->max_body_bytes, 1048576);
	assert_string_equal(cfg->runtime_urls[0], "inproc://berth/runtime");
	berth_config_free(cfg);
}

/* The example shipped in deploy/ loads and matches the defaults. */
static void test_deploy_example(void **state)
{
	struct berth_config *cfg = NULL;
	struct berth_err err;
	const char *path = "deploy/berth.toml";

	(void)state;
	if (access(path, R_OK) != 0)
		path
		    = "../../../deploy/berth.toml"; /* run from build/x/tests */
	assert_ok(berth_config_load(&cfg, path, &err), &err);
	assert_string_equal(cfg->runtime, "docker");
	assert_string_equal(cfg->socket_path, "/var/run/docker.sock");
	assert_string_equal(cfg->build_dir, "/tmp/berth/builds");
	assert_int_equal(cfg->nshell, 2);
	assert_string_equal(cfg->http_listen, "127.0.0.1:8080");
	assert_int_equal(cfg->max_body_bytes, 1024 * 1024);
	assert_string_equal(cfg->data_dir, "./var");
	assert_int_equal(cfg->nruntime_urls, 1);
	berth_config_free(cfg);
}

struct bad_case {
	const char *text;
	const char *msg; /* expected after "<path>:" */
};

static const struct bad_case bad_cases[] = {
	{ "[docker]\nruntime = \"docker\"\nsocket_path = \"/x.sock\"\n"
	  "rootles = false\n",
	  "4: docker.rootles: unknown key (did you mean rootless?)" },
	{ "\n[dockr]\n", "2: [dockr]: unknown table (did you mean [docker]?)" },
	{ "[zzz]\n", "1: [zzz]: unknown table (known: docker" },
	{ "[docker.extra]\n", "1: [docker.extra]: unknown table" },
	{ "runtime = \"docker\"\n",
	  "1: runtime: unknown key (settings go "
	  "under [docker]" },
	{ "[docker]\nfoo = 1\n", "2: docker.foo: unknown key" },
	{ "[docker]\nrootless = \"false\"\n",
	  "2: docker.rootless: expected true or false, found a string" },
	{ "[docker]\nruntime = 1\n",
	  "2: docker.runtime: expected a string, found an integer" },
	{ "[docker]\nshell = \"/bin/sh -c\"\n",
	  "2: docker.shell: expected an array of strings, found a string" },
	{ "[gateway]\nmax_body_bytes = \"1M\"\n",
	  "2: gateway.max_body_bytes: expected an integer" },
	{ "[docker]\nruntime = \"containerd\"\n",
	  "2: docker.runtime: must be \"docker\" or \"podman\" (got "
	  "\"containerd\")" },
	{ "[docker]\nsocket_path = \"var/run/docker.sock\"\n",
	  "2: docker.socket_path: must be an absolute path" },
	{ "[docker]\nsocket_path = \"\"\n",
	  "2: docker.socket_path: must not be empty" },
	{ "[docker]\nshell = []\n", "2: docker.shell: needs at least one" },
	{ "[docker]\nshell = [\"\"]\n", "2: docker.shell: elements must not" },
	{ "[gateway]\nlisten = \"127.0.0.1\"\n",
	  "2: gateway.listen: must be host:port" },
	{ "[gateway]\nlisten = \"127.0.0.1:0\"\n",
	  "2: gateway.listen: port must be 1-65535" },
	{ "[gateway]\nlisten = \"127.0.0.1:65536\"\n",
	  "2: gateway.listen: port must be 1-65535" },
	{ "[gateway]\nlisten = \"::1:8080\"\n",
	  "2: gateway.listen: must be host:port" },
	{ "[gateway]\nlisten = \"[::g]:8080\"\n",
	  "2: gateway.listen: host is not a valid IPv6 address" },
	{ "[gateway]\nlisten = \":8080\"\n", "2: gateway.listen: host must" },
	{ "[gateway]\nmax_body_bytes = 1023\n",
	  "2: gateway.max_body_bytes: must be 1024 (1 KiB) to 67108864" },
	{ "[gateway]\nmax_body_bytes = 67108865\n",
	  "2: gateway.max_body_bytes: must be 1024" },
	{ "[gateway]\nmax_body_bytes = -1\n",
	  "2: gateway.max_body_bytes: must be 1024" },
	{ "[services]\nruntime = [\"http://x\"]\n",
	  "2: services.runtime: must be an nng address starting with "
	  "inproc://, ipc:// or tcp://" },
	{ "[services]\nruntime = [\"inproc://\"]\n",
	  "2: services.runtime: must be an nng address" },
	{ "[services]\nruntime = []\n",
	  "2: services.runtime: needs at least one element" },
	{ "[data]\ndir = \"a\\nb\"\n",
	  "2: data.dir: must not contain control" },
	/* Syntax errors carry the column too. */
	{ "[docker]\nrootless = no\n", "2:12: expected a value" },
	{ "[docker]\nrootless = false\nrootless = true\n",
	  "3:1: duplicate key 'docker.rootless'" },
	{ "[docker]\n[docker]\n", "2:1: table [docker] is already defined" },
	{ "[gateway]\nmax_body_bytes = 1.5\n", "2:18: floats are not" },
};

static void test_rejections_name_file_line_and_key(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct berth_config *cfg = NULL;
		struct berth_err err;
		char *want = berth_asprintf("%s:%s", f->path, bad_cases[i].msg);
		int rv;

		write_text(f->path, bad_cases[i].text);
		berth_err_clear(&err);
		rv = berth_config_load(&cfg, f->path, &err);
		if (rv != BERTH_EINVAL || strstr(err.msg, want) == NULL)
			fail_msg("case %zu: rv=%d msg=\"%s\", wanted \"%s\"", i,
			         rv, err.msg, want);
		assert_null(cfg);
		free(want);
	}
}

static void test_file_errors(void **state)
{
	struct fixture *f = *state;
	struct berth_config *cfg = NULL;
	struct berth_err err;
	char *missing = berth_asprintf("%s/none.toml", f->dir);
	size_t big = 1024 * 1024 + 1;
	char *text;

	assert_int_equal(berth_config_load(&cfg, missing, &err),
	                 BERTH_ENOTFOUND);
	assert_non_null(strstr(err.msg, "none.toml"));
	assert_int_equal(berth_config_load(&cfg, f->dir, &err), BERTH_EINVAL);
	assert_non_null(strstr(err.msg, "not a regular file"));
	text = berth_malloc(big);
	memset(text, '\n', big);
	write_file(f->path, text, big);
	assert_int_equal(berth_config_load(&cfg, f->path, &err), BERTH_ELIMIT);
	assert_null(cfg);
	free(text);
	free(missing);
}

static void test_env_overrides_file(void **state)
{
	struct fixture *f = *state;
	struct berth_config *cfg = NULL;
	struct berth_err err;

	write_text(f->path,
	           "[docker]\n"
	           "runtime = \"docker\"\n"
	           "socket_path = \"/file.sock\"\n"
	           "[gateway]\n"
	           "listen = \"127.0.0.1:1111\"\n"
	           "[data]\n"
	           "dir = \"/file/data\"\n"
	           "[services]\n"
	           "runtime = [\"inproc://file\"]\n");
	setenv("BERTH_DATA", "/env/data", 1);
	setenv("BERTH_HTTP", "0.0.0.0:2222", 1);
	setenv("BERTH_RUNTIME", "podman", 1);
	setenv("BERTH_DOCKER_SOCKET", "/run/podman/podman.sock", 1);
	setenv("BERTH_RUNTIME_URL", "tcp://127.0.0.1:7001,ipc:///tmp/r.ipc", 1);
	setenv("BERTH_SHELL", "/bin/bash,-l,-c", 1);
	assert_ok(berth_config_load(&cfg, f->path, &err), &err);
	assert_int_equal(cfg->nshell, 3);
	assert_string_equal(cfg->shell[0], "/bin/bash");
	assert_string_equal(cfg->shell[2], "-c");
	assert_string_equal(cfg->data_dir, "/env/data");
	assert_string_equal(cfg->http_listen, "0.0.0.0:2222");
	assert_string_equal(cfg->runtime, "podman");
	assert_string_equal(cfg->socket_path, "/run/podman/podman.sock");
	assert_int_equal(cfg->nruntime_urls, 2);
	assert_string_equal(cfg->runtime_urls[0], "tcp://127.0.0.1:7001");
	assert_string_equal(cfg->runtime_urls[1], "ipc:///tmp/r.ipc");
	assert_null(cfg->runtime_urls[2]);
	berth_config_free(cfg);
	cfg = NULL;

	/* An empty variable counts as unset. */
	setenv("BERTH_HTTP", "", 1);
	assert_ok(berth_config_load(&cfg, f->path, &err), &err);
	assert_string_equal(cfg->http_listen, "127.0.0.1:1111");
	berth_config_free(cfg);
	cfg = NULL;

	/* A bad value from the environment names the variable. */
	setenv("BERTH_RUNTIME", "dockr", 1);
	assert_int_equal(berth_config_load(&cfg, f->path, &err), BERTH_EINVAL);
	assert_null(cfg);
	assert_string_equal(err.msg,
	                    "BERTH_RUNTIME: docker.runtime: must be \"docker\" "
	                    "or \"podman\" (got \"dockr\")");
	setenv("BERTH_RUNTIME", "docker", 1);
	setenv("BERTH_RUNTIME_URL", "inproc://a,,inproc://b", 1);
	assert_int_equal(berth_config_load(&cfg, f->path, &err), BERTH_EINVAL);
	assert_non_null(strstr(err.msg, "BERTH_RUNTIME_URL: services.runtime"));
}

static void test_config_set(void **state)
{
	struct berth_config *cfg = NULL;
	struct berth_err err;

	(void)state;
	assert_ok(berth_config_load(&cfg, NULL, &err), &err);
	assert_ok(berth_config_set(cfg, "docker.socket_path", "/a.sock", &err),
	          &err);
	assert_string_equal(cfg->socket_path, "/a.sock");
	assert_ok(berth_config_set(cfg, "gateway.listen", "localhost:80", &err),
	          &err);
	assert_string_equal(cfg->http_listen, "localhost:80");
	assert_ok(berth_config_set(cfg, "data.dir", "/d", &err), &err);
	assert_string_equal(cfg->data_dir, "/d");
	assert_ok(berth_config_set(cfg, "services.runtime",
	                           "inproc://x,tcp://h:1", &err),
	          &err);
	assert_int_equal(cfg->nruntime_urls, 2);
	assert_string_equal(cfg->runtime_urls[1], "tcp://h:1");
	assert_ok(berth_config_set(cfg, "docker.rootless", "true", &err), &err);
	assert_true(cfg->rootless);
	assert_ok(berth_config_set(cfg, "gateway.max_body_bytes", "4096", &err),
	          &err);
	assert_int_equal(cfg->max_body_bytes, 4096);
	assert_ok(berth_config_set(cfg, "docker.shell", "/bin/ash,-c", &err),
	          &err);
	assert_int_equal(cfg->nshell, 2);
	assert_string_equal(cfg->shell[0], "/bin/ash");

	/* Refusals leave the config as it was. */
	assert_int_equal(berth_config_set(cfg, "docker.runtime", "lxc", &err),
	                 BERTH_EINVAL);
	assert_string_equal(cfg->runtime, "docker");
	assert_int_equal(
	    berth_config_set(cfg, "gateway.listen", "x:99999", &err),
	    BERTH_EINVAL);
	assert_string_equal(cfg->http_listen, "localhost:80");
	assert_int_equal(
	    berth_config_set(cfg, "gateway.max_body_bytes", "1k", &err),
	    BERTH_EINVAL);
	assert_int_equal(berth_config_set(cfg, "gateway.max_body_bytes",
	                                  "999999999999999999999", &err),
	                 BERTH_EINVAL);
	assert_int_equal(cfg->max_body_bytes, 4096);
	assert_int_equal(berth_config_set(cfg, "docker.rootless", "yes", &err),
	                 BERTH_EINVAL);
	assert_true(cfg->rootless);
	assert_int_equal(berth_config_set(cfg, "services.runtime",
	                                  "inproc://x,udp://y", &err),
	                 BERTH_EINVAL);
	assert_int_equal(cfg->nruntime_urls, 2);
	assert_int_equal(berth_config_set(cfg, "docker.socket", "/s", &err),
	                 BERTH_EINVAL);
	assert_string_equal(err.msg,
	                    "docker.socket: unknown setting (did you "
	                    "mean docker.socket_path?)");
	assert_int_equal(
	    berth_config_set(cfg, "docker.sockett_path", "/s", &err),
	    BERTH_EINVAL);
	assert_string_equal(err.msg,
	                    "docker.sockett_path: unknown setting "
	                    "(did you mean docker.socket_path?)");
	assert_int_equal(berth_config_set(cfg, "nonsense", "/s", &err),
	                 BERTH_EINVAL);
	assert_string_equal(err.msg, "nonsense: unknown setting");
	assert_int_equal(berth_config_set(cfg, "data.dir", NULL, &err),
	                 BERTH_EINVAL);
	berth_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seed_001_block, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_full_file, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_header_block, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_deploy_example, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(
		    test_rejections_name_file_line_and_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_errors, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_env_overrides_file, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_config_set, setup,
		                                teardown),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
