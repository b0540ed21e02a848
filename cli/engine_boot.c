/*
 * engine_boot.c: starts a local dockerd for the all-in-one berth when no
 * engine answers (see engine_boot.h).
 */
#include "cli/engine_boot.h"

#include "lib/alloc.h"
#include "lib/clock.h"
#include "lib/engine.h"
#include "lib/log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int ping(const char *socket_path)
{
	struct berth_engine_config cfg = { .runtime = "docker",
		                           .socket_path = socket_path,
		                           .timeout_ms = 2000 };
	struct berth_engine *e = NULL;
	int rv;

	rv = berth_engine_open(&e, &cfg, NULL);
	if (rv == 0)
		rv = berth_engine_ping(e, NULL);
	berth_engine_free(e);
	return rv;
}

int engine_boot_ensure(struct engine_boot *boot, const char *socket_path,
                       const char *data_dir, bool may_start, int wait_ms,
                       struct berth_err *err)
{
	posix_spawn_file_actions_t fa;
	char *host = NULL, *pidfile = NULL;
	pid_t pid;
	int rv;

	boot->pid = 0;
	boot->log_path = NULL;
	if (ping(socket_path) == 0)
		return 0;
	if (!may_start)
		return berth_err_set_retryable(
		    err, BERTH_EUNAVAIL,
		    "no Docker engine answers at %s; start one (dockerd) or "
		    "run berth as root so it can start one",
		    socket_path);

	boot->log_path = berth_asprintf("%s/dockerd.log", data_dir);
	host = berth_asprintf("unix://%s", socket_path);
	pidfile = berth_asprintf("%s/dockerd.pid", data_dir);
	char *argv[]
	    = { "dockerd", "--host", host, "--pidfile", pidfile, NULL };

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
	                                 O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, boot->log_path,
	                                 O_WRONLY | O_CREAT | O_APPEND, 0600);
	posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
	rv = posix_spawnp(&pid, "dockerd", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	free(host);
	free(pidfile);
	if (rv != 0)
		return berth_err_set(err, BERTH_EUNAVAIL,
		                     "no Docker engine answers at %s and "
		                     "dockerd could not be started: %s "
		                     "(apt-get install docker.io)",
		                     socket_path, strerror(rv));
	boot->pid = pid;
	berth_log(BERTH_LOG_INFO, "engine_starting", "pid=%ld socket=%s log=%s",
	          (long)pid, socket_path, boot->log_path);
	for (int waited = 0; waited < wait_ms; waited += 200) {
		int status;

		if (waitpid(pid, &status, WNOHANG) == pid) {
			boot->pid = 0;
			return berth_err_set(
			    err, BERTH_EUNAVAIL,
			    "dockerd exited during start; see %s",
			    boot->log_path);
		}
		if (ping(socket_path) == 0)
			return 0;
		berth_sleep_ms(200);
	}
	return berth_err_set_retryable(err, BERTH_EUNAVAIL,
	                               "dockerd did not answer at %s within "
	                               "%d ms; see %s",
	                               socket_path, wait_ms, boot->log_path);
}

void engine_boot_fini(struct engine_boot *boot)
{
	if (boot->pid > 0) {
		int status;

		berth_log(BERTH_LOG_INFO, "engine_stopping", "pid=%ld",
		          (long)boot->pid);
		kill(boot->pid, SIGTERM);
		for (int i = 0; i < 150; i++) {
			if (waitpid(boot->pid, &status, WNOHANG) == boot->pid) {
				boot->pid = 0;
				break;
			}
			berth_sleep_ms(200);
		}
		if (boot->pid > 0) {
			/* 30 s of grace is enough: make sure it is reaped. */
			kill(boot->pid, SIGKILL);
			waitpid(boot->pid, &status, 0);
			boot->pid = 0;
		}
	}
	free(boot->log_path);
	boot->log_path = NULL;
}
