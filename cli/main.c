/*
 * main.c: the `berth` command: dispatches to one subcommand per file.
 */
#include "cli/commands.h"

#include <nng/nng.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fputs("usage: berth <command> [options]\n"
	      "commands:\n"
	      "  serve     run berth (all-in-one by default; see berth serve "
	      "--help)\n",
	      f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "serve") == 0) {
		int rv = cmd_serve(argc - 1, argv + 1);

		/* Every socket is closed by now: release nng's own
		 * descriptors and threads so the process exits clean. */
		nng_fini();
		return rv;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0
	    || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "berth: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return 2;
}
