/*
 * registry.c: a private docker-registry on loopback for integration tests,
 * and images put into it through the Engine API (see registry.h).
 */
#include "tests/support/registry.h"
#include "tests/support/berthproc.h"
#include "tests/support/testsupport.h"

#include "lib/alloc.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/engine_http.h"

#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define API "/v1.41"

/* base64("{}"): no credentials for a loopback registry. */
#define EMPTY_AUTH "X-Registry-Auth: e30="

/*
 * One Engine API request on ts_docker_socket(). Returns the HTTP status,
 * or -1 (reason printed) when the engine did not answer. `*reply`
 * (optional) gets the body as a string; caller owns it (free()).
 */
static long eng(const char *method, const char *path, const char *body,
                const char *hdr, long timeout_ms, char **reply)
{
	struct berth_http_target t = { 0 };
	struct berth_http_req req = { 0 };
	struct berth_buf b;
	struct berth_err err;
	long status = -1;

	t.socket_path = ts_docker_socket();
	t.display = "test engine";
	t.timeout_ms = timeout_ms;
	req.method = method;
	req.path = path;
	req.body = body;
	req.body_len = body != NULL ? strlen(body) : 0;
	req.headers = hdr != NULL ? &hdr : NULL;
	req.nheaders = hdr != NULL ? 1 : 0;
	berth_buf_init(&b, BERTH_HTTP_REPLY_MAX);
	if (berth_http_do(&t, &req, &status, &b, &err) != 0) {
		fprintf(stderr, "registry.c: %s %s: %s\n", method, path,
		        err.msg);
		status = -1;
	}
	if (reply != NULL)
		*reply = berth_buf_steal(&b, NULL);
	berth_buf_fini(&b);
	return status;
}

/* As eng(), printing the reply when the status is not `want`. */
static int eng_expect(const char *method, const char *path, const char *body,
                      const char *hdr, long timeout_ms, long want, char **reply)
{
	char *text = NULL;
	long st = eng(method, path, body, hdr, timeout_ms, &text);

	if (st != want) {
		fprintf(stderr, "registry.c: %s %s: status %ld, want %ld: %s\n",
		        method, path, st, want, text != NULL ? text : "");
		free(text);
		return -1;
	}
	if (reply != NULL)
		*reply = text;
	else
		free(text);
	return 0;
}

/* The string member `key` of a JSON reply, or NULL. Caller owns it. */
static char *json_member(const char *text, const char *key)
{
	json_t *j = text != NULL ? json_loads(text, 0, NULL) : NULL;
	const char *s = json_string_value(json_object_get(j, key));
	char *out = s != NULL ? berth_strdup(s) : NULL;

	json_decref(j);
	return out;
}

int ts_engine_image_id(const char *ref, char **id)
{
	char *esc = berth_http_escape(ref);
	char *path = berth_asprintf(API "/images/%s/json", esc);
	char *text = NULL;
	long st = eng("GET", path, NULL, NULL, 10000, &text);
	int rv = st == 200 ? 1 : st == 404 ? 0 : -1;

	if (rv == 1 && id != NULL) {
		*id = json_member(text, "Id");
		if (*id == NULL)
			rv = -1;
	}
	free(text);
	free(path);
	free(esc);
	return rv;
}

long ts_engine_image_remove(const char *ref, bool force)
{
	char *esc = berth_http_escape(ref);
	char *path
	    = berth_asprintf(API "/images/%s%s", esc, force ? "?force=1" : "");
	long st = eng("DELETE", path, NULL, NULL, 30000, NULL);

	free(path);
	free(esc);
	return st;
}

bool ts_registry_available(void)
{
	return access(TS_REGISTRY_BIN, X_OK) == 0;
}

void ts_registry_track(struct ts_registry *r, const char *ref)
{
	for (unsigned i = 0; i < r->nrefs; i++)
		if (strcmp(r->refs[i], ref) == 0)
			return;
	if (r->nrefs < TS_REGISTRY_MAXREFS)
		r->refs[r->nrefs++] = berth_strdup(ref);
	else
		fprintf(stderr, "registry.c: too many refs; %s left behind\n",
		        ref);
}

static void print_log(const struct ts_registry *r)
{
	char *path = berth_asprintf("%s/registry.log", r->dir);
	char line[512];
	FILE *f = fopen(path, "re");

	free(path);
	if (f == NULL)
		return;
	fprintf(stderr, "---- docker-registry log ----\n");
	while (fgets(line, sizeof(line), f) != NULL)
		fputs(line, stderr);
	fclose(f);
}

static int write_config(const struct ts_registry *r, const char *cfg)
{
	FILE *f = fopen(cfg, "we");

	if (f == NULL) {
		perror(cfg);
		return -1;
	}
	fprintf(f,
	        "version: 0.1\n"
	        "log:\n  level: warn\n"
	        "storage:\n  filesystem:\n    rootdirectory: %s/data\n"
	        "  delete:\n    enabled: true\n"
	        "http:\n  addr: %s\n",
	        r->dir, r->host);
	return fclose(f) == 0 ? 0 : -1;
}

static bool answers(const struct ts_registry *r)
{
	char *base = berth_asprintf("http://%s", r->host);
	struct berth_http_target t = { 0 };
	struct berth_http_req req = { 0 };
	struct berth_buf b;
	struct berth_err err;
	long status = 0;
	bool up;

	t.base_url = base;
	t.display = "registry";
	t.timeout_ms = 2000;
	req.method = "GET";
	req.path = "/v2/";
	berth_buf_init(&b, 65536);
	up = berth_http_do(&t, &req, &status, &b, &err) == 0 && status == 200;
	berth_buf_fini(&b);
	free(base);
	return up;
}

int ts_registry_start(struct ts_registry *r)
{
	char *argv[] = { "docker-registry", "serve", NULL, NULL };
	posix_spawn_file_actions_t fa;
	char *cfg = NULL, *log = NULL;
	int rv = -1, port;

	memset(r, 0, sizeof(*r));
	if (!ts_registry_available()) {
		fprintf(stderr, "%s is not installed (make deps)\n",
		        TS_REGISTRY_BIN);
		return -1;
	}
	port = ts_free_port();
	if (port <= 0)
		return -1;
	r->port = port;
	snprintf(r->host, sizeof(r->host), "127.0.0.1:%d", port);
	r->dir = ts_tmpdir("registry");
	cfg = berth_asprintf("%s/config.yml", r->dir);
	log = berth_asprintf("%s/registry.log", r->dir);
	if (write_config(r, cfg) != 0)
		goto out;
	argv[2] = cfg;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
	                                 O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log,
	                                 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
	rv = posix_spawn(&r->pid, TS_REGISTRY_BIN, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rv != 0) {
		fprintf(stderr, "cannot start %s: %s\n", TS_REGISTRY_BIN,
		        strerror(rv));
		r->pid = 0;
		rv = -1;
		goto out;
	}
	rv = -1;
	for (int i = 0; i < 100; i++) {
		if (answers(r)) {
			rv = 0;
			goto out;
		}
		if (waitpid(r->pid, NULL, WNOHANG) == r->pid) {
			r->pid = 0;
			break;
		}
		berth_sleep_ms(100);
	}
	fprintf(stderr, "docker-registry did not answer on %s\n", r->host);
	print_log(r);
out:
	free(log);
	free(cfg);
	return rv;
}

void ts_registry_stop(struct ts_registry *r)
{
	while (r->nrefs > 0) {
		char *ref = r->refs[--r->nrefs];

		/* No force: a shared image keeps its own tags. */
		(void)ts_engine_image_remove(ref, false);
		free(ref);
	}
	if (r->pid > 0) {
		int status;

		kill(r->pid, SIGTERM);
		for (int i = 0; i < 100 && r->pid > 0; i++) {
			if (waitpid(r->pid, &status, WNOHANG) == r->pid)
				r->pid = 0;
			else
				berth_sleep_ms(50);
		}
		if (r->pid > 0) {
			kill(r->pid, SIGKILL);
			waitpid(r->pid, &status, 0);
			r->pid = 0;
		}
	}
	ts_rmtree(r->dir);
	free(r->dir);
	r->dir = NULL;
}

/* POST /images/<repo>/push?tag=<tag>; the stream must carry no error.
 * Podman's compatible push insists on TLS even to a loopback registry:
 * there it is libpod's push with tlsVerify=false. */
static int push(const char *repo, const char *tag)
{
	char *erepo = berth_http_escape(repo);
	char *etag = berth_http_escape(tag);
	char *path = ts_engine_is_podman()
	    ? berth_asprintf("/v4.0.0/libpod/images/%s%%3A%s/push"
	                     "?tlsVerify=false",
	                     erepo, etag)
	    : berth_asprintf(API "/images/%s/push?tag=%s", erepo, etag);
	char *text = NULL;
	int rv;

	rv = eng_expect("POST", path, NULL, EMPTY_AUTH, 300000, 200, &text);
	if (rv == 0 && strstr(text, "\"error\"") != NULL) {
		fprintf(stderr, "registry.c: push of %s:%s failed: %s\n", repo,
		        tag, text);
		rv = -1;
	}
	free(text);
	free(path);
	free(etag);
	free(erepo);
	return rv;
}

int ts_registry_push(struct ts_registry *r, const char *local, const char *name,
                     const char *tag, char **ref)
{
	char *repo = berth_asprintf("%s/%s", r->host, name);
	char *full = berth_asprintf("%s:%s", repo, tag);
	char *elocal = berth_http_escape(local);
	char *erepo = berth_http_escape(repo);
	char *etag = berth_http_escape(tag);
	char *path = berth_asprintf(API "/images/%s/tag?repo=%s&tag=%s", elocal,
	                            erepo, etag);
	int rv;

	rv = eng_expect("POST", path, NULL, NULL, 30000, 201, NULL);
	if (rv != 0)
		goto out;
	ts_registry_track(r, full);
	rv = push(repo, tag);
	if (rv != 0)
		goto out;
	*ref = full;
	full = NULL;
out:
	free(path);
	free(etag);
	free(erepo);
	free(elocal);
	free(full);
	free(repo);
	return rv;
}

/* Creates and runs a labelled helper container that writes `mib` MiB of
 * random data to /berth-blob; `*id` gets its id even when it failed. */
static int run_blob_writer(unsigned mib, char **id)
{
	json_t *spec = json_pack("{s:s, s:[s,s,s], s:{s:s}}", "Image",
	                         ts_test_image(), "Cmd", "/bin/sh", "-c",
	                         "head -c \"$0\" /dev/urandom > /berth-blob",
	                         "Labels", "berth.test", ts_run_label());
	char *size = berth_asprintf("%llu", (unsigned long long)mib << 20);
	char *body, *text = NULL, *path = NULL;
	int rv;

	/* The size goes in as $0: the command line is never re-parsed. */
	json_array_append_new(json_object_get(spec, "Cmd"), json_string(size));
	body = json_dumps(spec, JSON_COMPACT);
	rv = eng_expect("POST", API "/containers/create", body, NULL, 30000,
	                201, &text);
	if (rv != 0)
		goto out;
	*id = json_member(text, "Id");
	if (*id == NULL) {
		rv = -1;
		goto out;
	}
	path = berth_asprintf(API "/containers/%s/start", *id);
	rv = eng_expect("POST", path, NULL, NULL, 30000, 204, NULL);
	if (rv != 0)
		goto out;
	free(path);
	free(text);
	text = NULL;
	path = berth_asprintf(API "/containers/%s/wait", *id);
	rv = eng_expect("POST", path, NULL, NULL, 120000, 200, &text);
	if (rv != 0)
		goto out;
	{
		json_t *w = json_loads(text, 0, NULL);
		json_int_t code
		    = json_integer_value(json_object_get(w, "StatusCode"));

		json_decref(w);
		if (code != 0) {
			fprintf(stderr,
			        "registry.c: blob writer exited %lld: %s\n",
			        (long long)code, text);
			rv = -1;
		}
	}
out:
	free(path);
	free(text);
	free(body);
	free(size);
	json_decref(spec);
	return rv;
}

int ts_registry_put_random_image(struct ts_registry *r, const char *name,
                                 const char *tag, unsigned mib, char **ref,
                                 char **image_id)
{
	char *repo = berth_asprintf("%s/%s", r->host, name);
	char *full = berth_asprintf("%s:%s", repo, tag);
	char *erepo = berth_http_escape(repo);
	char *etag = berth_http_escape(tag);
	char *cid = NULL, *path = NULL, *text = NULL, *id = NULL, *body;
	json_t *conf;
	int rv;

	conf = json_pack("{s:[s], s:{s:s}}", "Cmd", "/bin/sh", "Labels",
	                 "berth.test", ts_run_label());
	body = json_dumps(conf, JSON_COMPACT);
	rv = run_blob_writer(mib, &cid);
	if (rv != 0)
		goto out;
	path = berth_asprintf(API "/commit?container=%s&repo=%s&tag=%s", cid,
	                      erepo, etag);
	ts_registry_track(r, full);
	rv = eng_expect("POST", path, body, NULL, 120000, 201, &text);
	if (rv != 0)
		goto out;
	id = json_member(text, "Id");
	if (id == NULL) {
		rv = -1;
		goto out;
	}
	if (strncmp(id, "sha256:", 7) != 0) {
		/* Podman's commit answers the bare hex; its inspect and
		 * Docker's commit say "sha256:<hex>". */
		char *full_id = berth_asprintf("sha256:%s", id);

		free(id);
		id = full_id;
	}
	rv = push(repo, tag);
	if (rv != 0)
		goto out;
	/* Only this tag names the committed image: untagging removes it
	 * and its layer, so a pull has to fetch them from the registry. */
	if (ts_engine_image_remove(full, false) != 200
	    || ts_engine_image_id(full, NULL) != 0) {
		fprintf(stderr, "registry.c: cannot remove %s after push\n",
		        full);
		rv = -1;
		goto out;
	}
	*ref = full;
	full = NULL;
	*image_id = id;
	id = NULL;
out:
	if (cid != NULL) {
		free(path);
		path = berth_asprintf(API "/containers/%s?force=1&v=1", cid);
		(void)eng("DELETE", path, NULL, NULL, 30000, NULL);
	}
	free(id);
	free(text);
	free(path);
	free(cid);
	free(body);
	json_decref(conf);
	free(etag);
	free(erepo);
	free(full);
	free(repo);
	return rv;
}
