/*
 * cmd_images.c: `berth pull` (queue a pull job and follow it to its end),
 * `berth job` (show one job) and `berth info` (the runtime's facts).
 */
#include "cli/client.h"
#include "cli/commands.h"

#include "lib/alloc.h"
#include "lib/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Jobs are polled this often, for at most this long. */
#define POLL_MS     300
#define PULL_WAIT_S (60 * 60)

static const char *str(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s != NULL ? s : "";
}

/* Prints a finished job's outcome; returns the exit status. */
static int job_outcome(const json_t *job)
{
	const json_t *e = json_object_get(job, "error");

	if (strcmp(str(job, "state"), "succeeded") == 0) {
		printf("%s\n", str(job, "result"));
		return 0;
	}
	fprintf(stderr, "berth: job %s %s: %s: %s\n", str(job, "id"),
	        str(job, "state"), str(e, "code"), str(e, "message"));
	return 1;
}

int cmd_pull(int argc, char **argv)
{
	struct cli_client c;
	json_t *body, *r = NULL;
	char *path = NULL, *last = NULL;
	time_t until = time(NULL) + PULL_WAIT_S;
	long st;
	int rv = 1;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: berth pull IMAGE\n");
		return 2;
	}
	if (cli_client_init(&c) != 0)
		return 2;
	body = json_pack("{s:s}", "image", argv[1]);
	st = cli_request(&c, "POST", "/api/v1/images/pull", body, &r);
	json_decref(body);
	if (st != 202) {
		rv = cli_fail(st, r);
		goto out;
	}
	path = berth_asprintf("/api/v1/jobs/%s", str(r, "id"));
	while (time(NULL) < until) {
		const char *state = str(r, "state");
		const char *detail = str(r, "detail");

		/* Progress goes to stderr, one line per change. */
		if (detail[0] != '\0'
		    && (last == NULL || strcmp(last, detail) != 0)) {
			long pct = (long)json_integer_value(
			    json_object_get(r, "progress"));

			if (pct >= 0)
				fprintf(stderr, "%3ld%% %s\n", pct, detail);
			else
				fprintf(stderr, "     %s\n", detail);
			free(last);
			last = berth_strdup(detail);
		}
		if (strcmp(state, "queued") != 0
		    && strcmp(state, "running") != 0) {
			rv = job_outcome(r);
			goto out;
		}
		berth_sleep_ms(POLL_MS);
		json_decref(r);
		st = cli_request(&c, "GET", path, NULL, &r);
		if (st != 200) {
			rv = cli_fail(st, r);
			goto out;
		}
	}
	fprintf(stderr,
	        "berth: gave up waiting; the job goes on: berth job %s\n",
	        str(r, "id"));
out:
	json_decref(r);
	free(last);
	free(path);
	cli_client_fini(&c);
	return rv;
}

/* GET a JSON document and print it indented. */
static int show(const char *path)
{
	struct cli_client c;
	json_t *r = NULL;
	long st;
	int rv = 0;

	if (cli_client_init(&c) != 0)
		return 2;
	st = cli_request(&c, "GET", path, NULL, &r);
	if (st == 200) {
		json_dumpf(r, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		rv = cli_fail(st, r);
	}
	json_decref(r);
	cli_client_fini(&c);
	return rv;
}

int cmd_job(int argc, char **argv)
{
	char *eid, *path;
	int rv;

	if (argc != 2) {
		fprintf(stderr, "usage: berth job ID\n");
		return 2;
	}
	eid = cli_escape(argv[1]);
	path = berth_asprintf("/api/v1/jobs/%s", eid);
	rv = show(path);
	free(path);
	free(eid);
	return rv;
}

int cmd_info(int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: berth info\n");
		return 2;
	}
	return show("/api/v1/runtime/info");
}
