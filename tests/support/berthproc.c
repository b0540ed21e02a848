/*
 * berthproc.c: runs the real `berth serve` for integration tests and
 * talks REST to it (see berthproc.h).
 */
#include "tests/support/berthproc.h"
#include "tests/support/testsupport.h"

#include "lib/alloc.h"
#include "lib/buf.h"
#include "lib/clock.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int ts_free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int port = -1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0
	    && getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static const char *berth_bin(void)
{
	const char *b = getenv("BERTH_BIN");

	return b != NULL ? b : "build/bin/berth";
}

void ts_berth_print_log(const struct ts_berth *b)
{
	char line[512];
	FILE *f = fopen(b->log_path, "re");

	if (f == NULL)
		return;
	fprintf(stderr, "---- %s ----\n", b->log_path);
	while (fgets(line, sizeof(line), f) != NULL)
		fputs(line, stderr);
	fclose(f);
}

static int spawn(struct ts_berth *b, const char *const *args)
{
	posix_spawn_file_actions_t fa;
	int rv;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
	                                 O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, b->log_path,
	                                 O_WRONLY | O_CREAT | O_APPEND, 0600);
	posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
	rv = posix_spawn(&b->pid, berth_bin(), &fa, NULL, (char **)args,
	                 environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rv != 0) {
		fprintf(stderr, "cannot start %s: %s\n", berth_bin(),
		        strerror(rv));
		b->pid = 0;
		return -1;
	}
	return 0;
}

static void init_dirs(struct ts_berth *b, const char *data_dir)
{
	if (data_dir != NULL) {
		b->data_dir = berth_strdup(data_dir);
		b->own_data = false;
		mkdir(data_dir, 0700);
	} else {
		b->data_dir = ts_tmpdir("data");
		b->own_data = true;
	}
	b->log_path
	    = berth_asprintf("%s/berth-%d.log", b->data_dir, ts_free_port());
}

static char *read_token(const char *dir)
{
	char *path = berth_asprintf("%s/admin.token", dir);
	char buf[256];
	FILE *f = fopen(path, "re");
	char *tok = NULL;

	free(path);
	if (f == NULL)
		return NULL;
	if (fgets(buf, sizeof(buf), f) != NULL) {
		buf[strcspn(buf, "\r\n")] = '\0';
		tok = berth_strdup(buf);
	}
	fclose(f);
	return tok;
}

int ts_berth_start(struct ts_berth *b, const char *data_dir, int port,
                   const char *const *extra)
{
	const char *args[32];
	char http[64];
	size_t n = 0;

	memset(b, 0, sizeof(*b));
	init_dirs(b, data_dir);
	b->port = port != 0 ? port : ts_free_port();
	snprintf(http, sizeof(http), "127.0.0.1:%d", b->port);
	snprintf(b->base, sizeof(b->base), "http://%s", http);
	args[n++] = berth_bin();
	args[n++] = "serve";
	args[n++] = "--data";
	args[n++] = b->data_dir;
	args[n++] = "--http";
	args[n++] = http;
	args[n++] = "--no-engine-start";
	args[n++] = "--socket";
	args[n++] = ts_docker_socket();
	for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 31; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	if (spawn(b, args) != 0)
		return -1;
	for (int i = 0; i < 150; i++) {
		json_t *j = NULL;
		long st
		    = ts_http(b->base, "GET", "/healthz", NULL, NULL, NULL, &j);

		json_decref(j);
		if (st == 200) {
			b->token = read_token(b->data_dir);
			if (b->token != NULL)
				return 0;
		}
		if (waitpid(b->pid, NULL, WNOHANG) == b->pid) {
			b->pid = 0;
			break;
		}
		berth_sleep_ms(100);
	}
	fprintf(stderr, "berth serve did not become healthy\n");
	ts_berth_print_log(b);
	return -1;
}

int ts_berth_start_runtime(struct ts_berth *b, const char *data_dir,
                           const char *url)
{
	return ts_berth_start_runtime_dial(b, data_dir, url, false);
}

int ts_berth_start_runtime_dial(struct ts_berth *b, const char *data_dir,
                                const char *url, bool dial)
{
	const char *args[] = { berth_bin(),
		               "serve",
		               "--role",
		               "runtime",
		               "--data",
		               NULL,
		               "--url",
		               url,
		               "--no-engine-start",
		               "--socket",
		               ts_docker_socket(),
		               dial ? "--dial" : NULL,
		               NULL };
	/* A listening runtime on ipc:// is up once its socket file exists;
	 * a dialling one is up at once (nng connects in the background). */
	const char *path
	    = !dial && strncmp(url, "ipc://", 6) == 0 ? url + 6 : NULL;

	memset(b, 0, sizeof(*b));
	init_dirs(b, data_dir);
	args[5] = b->data_dir;
	if (path != NULL)
		unlink(path);
	if (spawn(b, args) != 0)
		return -1;
	for (int i = 0; i < 100; i++) {
		struct stat st;

		if (path == NULL || stat(path, &st) == 0)
			return 0;
		if (waitpid(b->pid, NULL, WNOHANG) == b->pid) {
			b->pid = 0;
			break;
		}
		berth_sleep_ms(100);
	}
	fprintf(stderr, "runtime did not start serving %s\n", url);
	ts_berth_print_log(b);
	return -1;
}

int ts_berth_kill(struct ts_berth *b, int sig)
{
	int status = 0;

	if (b->pid <= 0)
		return -1;
	kill(b->pid, sig);
	for (int i = 0; i < 300; i++) {
		if (waitpid(b->pid, &status, WNOHANG) == b->pid) {
			b->pid = 0;
			return status;
		}
		berth_sleep_ms(100);
	}
	kill(b->pid, SIGKILL);
	waitpid(b->pid, &status, 0);
	b->pid = 0;
	return status;
}

int ts_berth_stop(struct ts_berth *b)
{
	int rv = 0;

	if (b->pid > 0) {
		int status = ts_berth_kill(b, SIGTERM);

		/* A clean stop exits 0; a sanitizer report or a crash does
		 * not, and the log says why. */
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr,
			        "berth did not stop cleanly (status %d)\n",
			        status);
			ts_berth_print_log(b);
			rv = -1;
		}
	}
	if (b->own_data)
		ts_rmtree(b->data_dir);
	free(b->data_dir);
	free(b->log_path);
	free(b->token);
	memset(b, 0, sizeof(*b));
	return rv;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	if (berth_buf_append(arg, p, size * n) != 0)
		return 0;
	return size * n;
}

long ts_http_raw(const char *base, const char *method, const char *path,
                 const char *body, const char *token,
                 const char *const *headers, struct berth_buf *out)
{
	struct curl_slist *hl = NULL;
	char *url = berth_asprintf("%s%s", base, path);
	char *auth = NULL;
	long status = -1;
	CURL *c = curl_easy_init();

	berth_buf_reset(out);
	if (token != NULL) {
		auth = berth_asprintf("Authorization: Bearer %s", token);
		hl = curl_slist_append(hl, auth);
	}
	if (body != NULL)
		hl = curl_slist_append(hl, "Content-Type: application/json");
	for (size_t i = 0; headers != NULL && headers[i] != NULL; i++)
		hl = curl_slist_append(hl, headers[i]);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 120000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	curl_slist_free_all(hl);
	free(url);
	free(auth);
	return status;
}

long ts_http(const char *base, const char *method, const char *path,
             const char *body, const char *token, const char *const *headers,
             json_t **json)
{
	struct berth_buf buf;
	long status;

	berth_buf_init(&buf, 64u << 20);
	*json = NULL;
	status = ts_http_raw(base, method, path, body, token, headers, &buf);
	if (status > 0 && buf.len > 0)
		*json = json_loadb(buf.data, buf.len, 0, NULL);
	berth_buf_fini(&buf);
	return status;
}

const char *ts_json_str(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s != NULL ? s : "";
}

const char *ts_error_code(const json_t *reply)
{
	return ts_json_str(json_object_get(reply, "error"), "code");
}
