/*
 * main.c: the `berth` command: dispatches to one subcommand per file.
 */
#include "cli/commands.h"

#include <curl/curl.h>
#include <nng/nng.h>
#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "serve", cmd_serve,
	  "run berth (all-in-one; see berth serve --help)" },
	{ "ps", cmd_ps, "list containers (-a: also stopped)" },
	{ "create", cmd_create, "create a container" },
	{ "run", cmd_run, "create and start a container" },
	{ "start", cmd_container_action, "start containers" },
	{ "stop", cmd_container_action, "stop containers (-t SECONDS)" },
	{ "restart", cmd_container_action, "restart containers" },
	{ "rm", cmd_container_action, "remove containers (-f: running too)" },
	{ "inspect", cmd_inspect, "show a container as JSON" },
	{ "exec", cmd_exec, "run a command in a running container" },
	{ "logs", cmd_logs, "print a container's log (-f: follow)" },
	{ "wait", cmd_wait,
	  "wait for a container to stop; print its exit code" },
	{ "events", cmd_events, "follow container and job events" },
	{ "pull", cmd_pull, "pull an image and wait for the job" },
	{ "job", cmd_job, "show a job" },
	{ "info", cmd_info, "show the runtime and its engine" },
};

static void usage(FILE *f)
{
	fputs("usage: berth <command> [options]\n\ncommands:\n", f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
	fputs("\nclient commands reach berth at BERTH_URL (default "
	      "http://127.0.0.1:8080)\nwith the token in BERTH_TOKEN, "
	      "BERTH_TOKEN_FILE or $BERTH_DATA/admin.token.\n",
	      f);
}

int main(int argc, char **argv)
{
	int rv = 2;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0
	    || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		curl_global_init(CURL_GLOBAL_DEFAULT);
		rv = commands[i].run(argc - 1, argv + 1);
		curl_global_cleanup();
		/* Every socket is closed by now: release nng's own
		 * descriptors and threads so the process exits clean. */
		nng_fini();
		return rv;
	}
	fprintf(stderr, "berth: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return 2;
}
