/*
 * instance_demo.c: seed 000's example main() written in C against the
 * berth SDK (sdk/berth.h). It pulls an image (unless told to skip), starts
 * a container with a read-only bind mount of a local code folder, injects
 * the same folder by copy, runs a command, lets the container's own
 * command finish, waits for its exit code, then stops and removes it.
 * It prints each step and exits non-zero on any failure.
 *
 *   instance_demo [--skip-pull] [--keep-alive] [--label k=v]
 *                 URL IMAGE CODE_DIR [-- COMMAND ARGS...]
 *
 * URL is the runtime's nng address (ipc:///.../runtime.sock); CODE_DIR
 * must be inside the runtime's SafeLocalPaths. COMMAND defaults to
 * `ls -l /app`. See examples/README.md.
 */
#include "sdk/berth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The container's own command: it ends (exit 0) once the demo tells it
 * to by creating the marker file, or after 120 s at most. */
static const char *const main_cmd[] = {
	"sh",
	"-c",
	"i=0; while [ ! -e /tmp/berth-demo-done ] && [ $i -lt 1200 ]; do "
	"sleep 0.1; i=$((i+1)); done; exit 0",
};

static const char *const default_cmd[] = { "ls", "-l", "/app", NULL };
static const char *const done_cmd[] = { "touch", "/tmp/berth-demo-done", NULL };

static int usage(void)
{
	fprintf(stderr,
	        "usage: instance_demo [--skip-pull] [--keep-alive] "
	        "[--label k=v] URL IMAGE CODE_DIR [-- COMMAND ARGS...]\n");
	return 2;
}

static int fail(const char *what, const struct berth_err *err)
{
	fprintf(stderr, "instance_demo: %s failed: %s (%s)\n", what, err->msg,
	        berth_code_name(err->code));
	return 1;
}

int main(int argc, char **argv)
{
	struct berth_client *c = NULL;
	struct berth_instance *inst = NULL;
	struct berth_exec_result *res = NULL;
	struct berth_err err = { 0 };
	struct berth_options opts = { 0 };
	struct berth_mount mount = { 0 };
	struct berth_kv env[1] = { { "BERTH_DEMO", "1" } };
	struct berth_kv label = { 0 };
	const char *const *cmd = default_cmd;
	const char *url, *image, *code_dir;
	char *label_buf = NULL;
	char name[64];
	bool skip_pull = false, keep_alive = false;
	int i = 1, exit_code = -1, rc = 1, rv;

	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--skip-pull") == 0) {
			skip_pull = true;
		} else if (strcmp(argv[i], "--keep-alive") == 0) {
			keep_alive = true;
		} else if (strcmp(argv[i], "--label") == 0 && i + 1 < argc
		           && strchr(argv[i + 1], '=') != NULL) {
			free(label_buf);
			label_buf = strdup(argv[++i]);
			if (label_buf == NULL)
				return 1;
			*strchr(label_buf, '=') = '\0';
			label.key = label_buf;
			label.value = label_buf + strlen(label_buf) + 1;
		} else {
			free(label_buf);
			return usage();
		}
	}
	if (argc - i < 3) {
		free(label_buf);
		return usage();
	}
	url = argv[i];
	image = argv[i + 1];
	code_dir = argv[i + 2];
	i += 3;
	if (i < argc) {
		if (strcmp(argv[i], "--") != 0 || i + 1 >= argc) {
			free(label_buf);
			return usage();
		}
		cmd = (const char *const *)&argv[i + 1];
	}

	rv = berth_client_open(&c, url, &err);
	if (rv != 0) {
		rc = fail("connect", &err);
		goto out;
	}
	printf("connected to the runtime at %s\n", url);

	if (skip_pull) {
		printf("skipping the pull of %s (--skip-pull)\n", image);
	} else {
		printf("pulling %s ...\n", image);
		rv = berth_pull_image(c, image, &err);
		if (rv != 0) {
			rc = fail("pull", &err);
			goto out;
		}
		printf("pulled %s\n", image);
	}

	/* Seed 000's options: a mount, the working dir, a name, KeepAlive. */
	snprintf(name, sizeof(name), "instance-demo-%ld", (long)getpid());
	mount.source = code_dir;
	mount.target = "/mnt/src";
	mount.read_only = true;
	opts.mounts = &mount;
	opts.nmounts = 1;
	opts.environment = env;
	opts.nenvironment = 1;
	opts.working_dir = "/app";
	opts.name = name;
	opts.keep_alive = keep_alive;
	opts.command = main_cmd;
	opts.ncommand = sizeof(main_cmd) / sizeof(main_cmd[0]);
	if (label.key != NULL) {
		opts.labels = &label;
		opts.nlabels = 1;
	}
	rv = berth_start_container(c, image, &opts, &inst, &err);
	if (rv != 0) {
		rc = fail("start", &err);
		goto out;
	}
	printf("started container %s (name %s, keep_alive=%s)\n",
	       berth_instance_id(inst), berth_instance_options(inst)->name,
	       keep_alive ? "true" : "false");

	rv = berth_instance_inject_local_code(inst, code_dir, "/app", &err);
	if (rv != 0) {
		rc = fail("inject", &err);
		goto out;
	}
	printf("injected %s into /app\n", code_dir);

	printf("running:");
	for (size_t k = 0; cmd[k] != NULL; k++)
		printf(" %s", cmd[k]);
	printf("\n");
	rv = berth_instance_exec(inst, cmd, &res, &err);
	if (rv != 0) {
		rc = fail("exec", &err);
		goto out;
	}
	printf("command output:\n%s", res->stdout_data);
	if (res->stderr_len > 0)
		printf("command stderr:\n%s", res->stderr_data);
	printf("command exit code: %d\n", res->exit_code);
	if (res->exit_code != 0) {
		fprintf(stderr, "instance_demo: the command failed\n");
		goto out;
	}

	/* Tell the container's own command that the work is done. */
	berth_exec_result_free(res);
	res = NULL;
	rv = berth_instance_exec(inst, done_cmd, &res, &err);
	if (rv != 0) {
		rc = fail("exec", &err);
		goto out;
	}
	rv = berth_instance_wait_timeout(inst, 60000, &exit_code, &err);
	if (rv != 0) {
		rc = fail("wait", &err);
		goto out;
	}
	printf("container exit code: %d\n", exit_code);

	/* With keep_alive=false the runtime removes the container once its
	 * command ends: then there is nothing left to stop or remove. */
	rv = berth_stop_container(c, berth_instance_id(inst), &err);
	if (rv == BERTH_ENOTFOUND && !keep_alive) {
		printf("container already removed (keep_alive=false)\n");
	} else if (rv != 0) {
		rc = fail("stop", &err);
		goto out;
	} else {
		printf("stopped container\n");
		rv = berth_remove_container(c, berth_instance_id(inst), &err);
		if (rv == BERTH_ENOTFOUND && !keep_alive) {
			printf("container already removed "
			       "(keep_alive=false)\n");
		} else if (rv != 0) {
			rc = fail("remove", &err);
			goto out;
		} else {
			printf("removed container\n");
		}
	}
	rc = exit_code == 0 ? 0 : 1;
out:
	/* On a failure after the start, leave nothing behind. */
	if (rc != 0 && inst != NULL)
		berth_remove_container_force(c, berth_instance_id(inst), NULL);
	berth_exec_result_free(res);
	berth_instance_free(inst);
	berth_client_close(c);
	free(label_buf);
	return rc;
}
