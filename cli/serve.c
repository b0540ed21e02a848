/*
 * serve.c: `berth serve`, the server roles.
 *
 *   berth serve                      all-in-one: every service and the
 *                                    gateway in one process over inproc://
 *   berth serve --role runtime --url ipc:///run/berth/runtime.sock
 *   berth serve --role gateway --runtime-url ipc:///run/berth/runtime.sock
 *
 * Events: all-in-one, the runtime publishes on inproc://berth/events
 * and the gateway subscribes there. Split roles name the address with
 * --events-url on both sides; with --runtime-listen the gateway listens
 * on it and each `--role runtime --dial` dials its publisher in, as for
 * the RPC address. Without --events-url split roles publish nothing.
 *
 * This file is the composition root: the only place that knows both the
 * gateway and the services. They never include each other; they meet
 * over nng through the proto contracts.
 */
#include "cli/commands.h"
#include "cli/engine_boot.h"

#include "gateway/gateway.h"
#include "lib/alloc.h"
#include "lib/config.h"
#include "lib/log.h"
#include "services/runtime/runtime.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fputs("usage: berth serve [options]\n"
	      "  --config FILE        TOML configuration (see "
	      "deploy/berth.toml)\n"
	      "  --role ROLE          all (default), gateway or runtime\n"
	      "  --data DIR           data directory (default ./var; "
	      "BERTH_DATA)\n"
	      "  --http ADDR          gateway address (default 127.0.0.1:8080; "
	      "BERTH_HTTP)\n"
	      "  --url URL            nng address the runtime serves (role "
	      "runtime)\n"
	      "  --dial               the runtime dials --url instead of "
	      "listening\n"
	      "  --runtime-listen     the gateway listens on --runtime-url; "
	      "runtimes --dial in\n"
	      "  --runtime-url URLS   runtime address(es) for the gateway, "
	      "comma-separated\n"
	      "  --events-url URLS    event address(es): the runtime's "
	      "publisher, the gateway's\n"
	      "                       subscription (comma-separated); "
	      "all-in-one: inproc\n"
	      "                       (BERTH_EVENTS_URL)\n"
	      "  --socket PATH        the engine's unix socket "
	      "(BERTH_DOCKER_SOCKET)\n"
	      "  --no-engine-start    never start dockerd, even as root\n",
	      f);
}

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

static int wait_for_signal(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (got_signal == 0)
		pause();
	return got_signal;
}

static int ensure_data_dir(const char *dir)
{
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "berth: cannot create %s: %s\n", dir,
		        strerror(errno));
		return -1;
	}
	return 0;
}

int cmd_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "role", required_argument, NULL, 'r' },
		{ "data", required_argument, NULL, 'd' },
		{ "http", required_argument, NULL, 'H' },
		{ "url", required_argument, NULL, 'u' },
		{ "dial", no_argument, NULL, 'D' },
		{ "runtime-url", required_argument, NULL, 'R' },
		{ "runtime-listen", no_argument, NULL, 'L' },
		{ "socket", required_argument, NULL, 's' },
		{ "events-url", required_argument, NULL, 'E' },
		{ "no-engine-start", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct berth_config *cfg = NULL;
	struct berth_runtime *rt = NULL;
	struct berth_gateway *gw = NULL;
	struct engine_boot boot = { 0, NULL };
	struct berth_err err;
	const char *config_path = NULL, *role = "all", *url = NULL;
	const char *events_arg = NULL;
	char *events_copy = NULL;
	char *events_list[16];
	size_t nevents = 0;
	bool dial = false, engine_start = true, runtime_listen = false;
	/* Flags that override configuration settings; the last one given
	 * wins, as for any flag. */
	struct {
		int opt;
		const char *name, *value;
	} sets[] = {
		{ 'd', "data.dir", NULL },
		{ 'H', "gateway.listen", NULL },
		{ 'R', "services.runtime", NULL },
		{ 's', "docker.socket_path", NULL },
	};
	size_t nsets = sizeof(sets) / sizeof(sets[0]);
	int opt, rv = 1;

	berth_err_clear(&err);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': config_path = optarg; break;
		case 'r': role = optarg; break;
		case 'u': url = optarg; break;
		case 'D': dial = true; break;
		case 'L': runtime_listen = true; break;
		case 'N': engine_start = false; break;
		case 'E': events_arg = optarg; break;
		case 'd':
		case 'H':
		case 'R':
		case 's':
			for (size_t i = 0; i < nsets; i++)
				if (sets[i].opt == opt)
					sets[i].value = optarg;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc
	    || (strcmp(role, "all") != 0 && strcmp(role, "gateway") != 0
	        && strcmp(role, "runtime") != 0)) {
		usage(stderr);
		return 2;
	}
	if (berth_config_load(&cfg, config_path, &err) != 0)
		goto out;
	for (size_t i = 0; i < nsets; i++) {
		if (sets[i].value != NULL
		    && berth_config_set(cfg, sets[i].name, sets[i].value, &err)
		        != 0)
			goto out;
	}
	bool want_runtime = strcmp(role, "gateway") != 0;
	bool want_gateway = strcmp(role, "runtime") != 0;
	const char *rt_url = url != NULL ? url : cfg->runtime_urls[0];

	/* inproc:// reaches only the same process: a role on its own needs
	 * an address another process can reach. */
	if (strcmp(role, "runtime") == 0
	    && strncmp(rt_url, "inproc://", 9) == 0) {
		berth_err_set(&err, BERTH_EINVAL,
		              "--role runtime needs --url ipc://PATH or "
		              "tcp://HOST:PORT (%s is reachable only inside "
		              "one process)",
		              rt_url);
		goto out;
	}
	if (strcmp(role, "gateway") == 0
	    && strncmp(cfg->runtime_urls[0], "inproc://", 9) == 0) {
		berth_err_set(
		    &err, BERTH_EINVAL,
		    "--role gateway needs --runtime-url ipc://PATH or "
		    "tcp://HOST:PORT of the runtime service");
		goto out;
	}
	if (events_arg == NULL)
		events_arg = getenv("BERTH_EVENTS_URL");
	if (events_arg != NULL && events_arg[0] != '\0') {
		char *t;

		events_copy = berth_strdup(events_arg);
		t = events_copy;
		while (t != NULL && *t != '\0') {
			char *comma = strchr(t, ',');

			if (comma != NULL)
				*comma = '\0';
			if (nevents
			    == sizeof(events_list) / sizeof(*events_list)) {
				berth_err_set(&err, BERTH_EINVAL,
				              "--events-url: at most 16 "
				              "addresses");
				goto out;
			}
			if (*t != '\0')
				events_list[nevents++] = t;
			t = comma != NULL ? comma + 1 : NULL;
		}
	} else if (strcmp(role, "all") == 0) {
		events_list[nevents++] = (char *)"inproc://berth/events";
	}
	if (strcmp(role, "runtime") == 0 && nevents > 1) {
		berth_err_set(&err, BERTH_EINVAL,
		              "--events-url: a runtime publishes on one "
		              "address");
		goto out;
	}
	/* Only a command line that makes sense gets to create anything. */
	if (ensure_data_dir(cfg->data_dir) != 0)
		goto out_quiet;

	if (want_runtime) {
		struct berth_runtime_opts ro;

		memset(&ro, 0, sizeof(ro));
		if (strcmp(cfg->runtime, "docker") == 0
		    && engine_boot_ensure(
		           &boot, cfg->socket_path, cfg->data_dir,
		           engine_start && geteuid() == 0, 30000, &err)
		        != 0) {
			/* Not fatal: the runtime answers UNAVAILABLE until
			 * an engine appears, and recovers by itself. */
			berth_log(BERTH_LOG_WARN, "engine_unavailable",
			          "msg=\"%s\"", err.msg);
			berth_err_clear(&err);
		}
		ro.data_dir = cfg->data_dir;
		ro.url = rt_url;
		ro.dial = dial;
		ro.engine.runtime = cfg->runtime;
		ro.engine.socket_path = cfg->socket_path;
		ro.engine.shell = (const char *const *)cfg->shell;
		ro.engine.nshell = cfg->nshell;
		ro.build_dir = cfg->build_dir;
		ro.rootless = cfg->rootless;
		ro.safe_local_paths
		    = (const char *const *)cfg->safe_local_paths;
		ro.nsafe_local_paths = cfg->nsafe_local_paths;
		ro.events_url = nevents > 0 ? events_list[0] : NULL;
		ro.events_dial = dial;
		ro.health_driver = cfg->health_driver;
		if (berth_runtime_start(&rt, &ro, &err) != 0)
			goto out;
		berth_log(BERTH_LOG_INFO, "runtime_serving", "url=%s engine=%s",
		          ro.url, cfg->socket_path);
	}
	if (want_gateway) {
		struct berth_gateway_opts go;

		memset(&go, 0, sizeof(go));
		go.listen = cfg->http_listen;
		go.data_dir = cfg->data_dir;
		go.max_body_bytes = cfg->max_body_bytes;
		go.runtime_urls = (const char *const *)cfg->runtime_urls;
		go.nruntime_urls = cfg->nruntime_urls;
		go.runtime_listen = runtime_listen;
		go.events_urls = (const char *const *)events_list;
		go.nevents_urls = nevents;
		go.events_listen = runtime_listen;
		if (berth_gateway_start(&gw, &go, &err) != 0)
			goto out;
		berth_log(BERTH_LOG_INFO, "gateway_serving",
		          "port=%d admin_token_file=%s", berth_gateway_port(gw),
		          berth_gateway_admin_token_path(gw));
		printf("berth is serving http://%s (port %d)\n"
		       "admin token: %s\n",
		       cfg->http_listen, berth_gateway_port(gw),
		       berth_gateway_admin_token_path(gw));
		fflush(stdout);
	}
	berth_log(BERTH_LOG_INFO, "stopping", "signal=%d", wait_for_signal());
	rv = 0;
	goto out_quiet;
out:
	fprintf(stderr, "berth: %s\n", err.msg);
out_quiet:
	berth_gateway_stop(gw);
	berth_runtime_stop(rt);
	engine_boot_fini(&boot);
	berth_config_free(cfg);
	free(events_copy);
	return rv;
}
