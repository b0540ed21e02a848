/*
 * commands.h: the `berth` subcommands. `serve` runs berth; the others
 * are clients of its REST API (cli/client.h says where they find it).
 * Each returns the process exit status: 0 done, 1 berth said no, 2 usage.
 */
#ifndef BERTH_CLI_COMMANDS_H
#define BERTH_CLI_COMMANDS_H

/* `berth serve`: run the all-in-one or one role until SIGINT/SIGTERM. */
int cmd_serve(int argc, char **argv);

/* cmd_containers.c */
int cmd_ps(int argc, char **argv);
int cmd_create(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_container_action(int argc, char **argv); /* start stop restart rm */
int cmd_inspect(int argc, char **argv);

/* cmd_streams.c */
int cmd_exec(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_wait(int argc, char **argv);
int cmd_events(int argc, char **argv);

/* cmd_images.c */
int cmd_pull(int argc, char **argv);
int cmd_job(int argc, char **argv);
int cmd_info(int argc, char **argv);

#endif
