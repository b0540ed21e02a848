/*
 * commands.h: the `berth` subcommands, one file each.
 */
#ifndef BERTH_CLI_COMMANDS_H
#define BERTH_CLI_COMMANDS_H

/* `berth serve`: run the all-in-one or one role until SIGINT/SIGTERM. */
int cmd_serve(int argc, char **argv);

#endif
