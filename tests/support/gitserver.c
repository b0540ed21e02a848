/*
 * gitserver.c: the git servers of the clone tests (see gitserver.h):
 * repositories made with the git CLI, `git daemon`, `git http-backend`
 * behind a small CGI runner on a thread, sshd with its own keys, and a
 * socket that listens and never answers. Children are started with
 * posix_spawn (no shell) and stopped by PID.
 */
#include "tests/support/gitserver.h"

#include "lib/alloc.h"
#include "lib/buf.h"
#include "tests/support/berthproc.h"
#include "tests/support/testsupport.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HTTP_MAX_HEAD (16 * 1024)
#define HTTP_MAX_BODY (16 * 1024 * 1024)
#define CGI_MAX_OUT   (64 * 1024 * 1024)

extern char **environ;

/* The environment of every git and server child: nothing of the
 * host's git configuration, a fixed identity. */
static char **child_env(const struct ts_gitfix *f, char **extra, size_t nextra)
{
	char **env = berth_calloc(12 + nextra, sizeof(char *));
	size_t n = 0;

	env[n++] = berth_asprintf("HOME=%s", f->root);
	env[n++] = berth_strdup("PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin");
	env[n++] = berth_strdup("GIT_CONFIG_NOSYSTEM=1");
	env[n++] = berth_strdup("GIT_AUTHOR_NAME=berth test");
	env[n++] = berth_strdup("GIT_AUTHOR_EMAIL=test@berth.invalid");
	env[n++] = berth_strdup("GIT_COMMITTER_NAME=berth test");
	env[n++] = berth_strdup("GIT_COMMITTER_EMAIL=test@berth.invalid");
	for (size_t i = 0; i < nextra; i++)
		env[n++] = extra[i];
	env[n] = NULL;
	return env;
}

static void env_free(char **env)
{
	for (size_t i = 0; env != NULL && env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

/* Spawns argv with stdin from `in_fd` (or /dev/null), stdout to
 * `out_fd` (or the log / inherited) and stderr to `log`. */
static pid_t spawn(const struct ts_gitfix *f, const char *const *argv,
                   char **extra, size_t nextra, int in_fd, int out_fd,
                   const char *log, const char *cwd)
{
	posix_spawn_file_actions_t fa;
	char **env = child_env(f, extra, nextra);
	pid_t pid = -1;
	int rv;

	posix_spawn_file_actions_init(&fa);
	if (in_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY,
		                                 0);
	if (out_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	else if (log != NULL)
		posix_spawn_file_actions_addopen(
		    &fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (log != NULL)
		posix_spawn_file_actions_addopen(
		    &fa, 2, log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (cwd != NULL)
		posix_spawn_file_actions_addchdir_np(&fa, cwd);
	rv = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, env);
	posix_spawn_file_actions_destroy(&fa);
	env_free(env);
	if (rv != 0) {
		fprintf(stderr, "gitserver: cannot run %s: %s\n", argv[0],
		        strerror(rv));
		return -1;
	}
	return pid;
}

static int wait_status(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int ts_git_run(const struct ts_gitfix *f, const char *cwd,
               const char *const *argv, char *out, size_t cap)
{
	int p[2] = { -1, -1 };
	size_t used = 0;
	pid_t pid;

	if (out != NULL && pipe2(p, O_CLOEXEC) != 0)
		return -1;
	pid = spawn(f, argv, NULL, 0, -1, p[1], NULL, cwd);
	if (p[1] >= 0)
		close(p[1]);
	if (pid < 0) {
		if (p[0] >= 0)
			close(p[0]);
		return -1;
	}
	if (out != NULL) {
		for (;;) {
			char tmp[4096];
			ssize_t n = read(p[0], tmp, sizeof(tmp));

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			for (ssize_t i = 0; i < n && used + 1 < cap; i++)
				out[used++] = tmp[i];
		}
		out[used] = '\0';
		close(p[0]);
	}
	return wait_status(pid);
}

static int write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t off = 0;

	if (fd < 0)
		return -1;
	while (off < len) {
		ssize_t n = write(fd, (const char *)data + off, len - off);

		if (n <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	return close(fd);
}

static char *read_file(const char *path)
{
	FILE *fp = fopen(path, "re");
	char *buf = berth_calloc(1, 65536);
	size_t n;

	if (fp == NULL) {
		free(buf);
		return NULL;
	}
	n = fread(buf, 1, 65535, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

/* git -C dir <args...>; returns the exit status. */
#define GIT(f, dir, ...)                                                       \
	ts_git_run(                                                            \
	    (f), (dir),                                                        \
	    (const char *const[]) { "/usr/bin/git", __VA_ARGS__, NULL }, NULL, \
	    0)

static int rev(struct ts_gitfix *f, const char *dir, char out[41])
{
	char buf[128];
	const char *const argv[]
	    = { "/usr/bin/git", "rev-parse", "HEAD", NULL };

	if (ts_git_run(f, dir, argv, buf, sizeof(buf)) != 0 || strlen(buf) < 40)
		return -1;
	memcpy(out, buf, 40);
	out[40] = '\0';
	return 0;
}

static int commit_file(struct ts_gitfix *f, const char *work, const char *name,
                       const char *text, const char *msg)
{
	char *path = berth_asprintf("%s/%s", work, name);
	int rv = write_file(path, text, strlen(text));

	free(path);
	if (rv == 0)
		rv = GIT(f, work, "add", "-A");
	if (rv == 0)
		rv = GIT(f, work, "commit", "-q", "-m", msg);
	return rv;
}

int ts_git_fixture_init(struct ts_gitfix *f)
{
	char *work = NULL, *bigwork = NULL, *path = NULL;
	unsigned char *big = NULL;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	int rv = -1;

	memset(f, 0, sizeof(*f));
	f->http_fd = -1;
	f->hole_fd = -1;
	f->root = ts_tmpdir("gitfix");
	work = berth_asprintf("%s/work", f->root);
	bigwork = berth_asprintf("%s/bigwork", f->root);

	if (GIT(f, NULL, "init", "-q", "-b", "main", work) != 0
	    || commit_file(f, work, "README", "main v1\n", "one") != 0
	    || rev(f, work, f->first) != 0
	    || commit_file(f, work, "README", "main v2\n", "two") != 0
	    || rev(f, work, f->main_head) != 0
	    || GIT(f, work, "checkout", "-q", "-b", "dev") != 0
	    || commit_file(f, work, "dev.txt", "only on dev\n", "dev") != 0
	    || commit_file(f, work, "README", "dev\n", "dev readme") != 0
	    || rev(f, work, f->dev_head) != 0
	    || GIT(f, work, "checkout", "-q", "main") != 0
	    || GIT(f, f->root, "clone", "-q", "--bare", work, "repo.git")
	        != 0) {
		fprintf(stderr, "gitserver: cannot make repo.git\n");
		goto out;
	}
	/* big.git: incompressible bytes, so the pack is as big as the file. */
	big = berth_malloc(TS_GIT_BIG_BYTES);
	for (size_t i = 0; i < TS_GIT_BIG_BYTES; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		big[i] = (unsigned char)(x >> 24);
	}
	path = berth_asprintf("%s/big.bin", bigwork);
	if (GIT(f, NULL, "init", "-q", "-b", "main", bigwork) != 0
	    || write_file(path, big, TS_GIT_BIG_BYTES) != 0
	    || GIT(f, bigwork, "add", "-A") != 0
	    || GIT(f, bigwork, "commit", "-q", "-m", "big") != 0
	    || GIT(f, f->root, "clone", "-q", "--bare", bigwork, "big.git")
	        != 0) {
		fprintf(stderr, "gitserver: cannot make big.git\n");
		goto out;
	}
	rv = 0;
out:
	free(big);
	free(path);
	free(work);
	free(bigwork);
	return rv;
}

/* Waits up to 10 s until 127.0.0.1:port accepts a connection while
 * `pid` (when > 0) is alive. */
static int wait_port(int port, pid_t pid)
{
	for (int i = 0; i < 200; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET,
			                  .sin_port = htons((uint16_t)port) };
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int ok;

		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		ok = fd >= 0
		    && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		if (fd >= 0)
			close(fd);
		if (ok)
			return 0;
		if (pid > 0 && waitpid(pid, NULL, WNOHANG) == pid)
			return -1;
		usleep(50 * 1000);
	}
	return -1;
}

int ts_git_daemon_start(struct ts_gitfix *f)
{
	char base[512], port[32];

	f->daemon_port = ts_free_port();
	snprintf(base, sizeof(base), "--base-path=%s", f->root);
	snprintf(port, sizeof(port), "--port=%d", f->daemon_port);
	const char *const argv[]
	    = { "/usr/bin/git", "daemon",       "--reuseaddr",
		base,           "--export-all", "--listen=127.0.0.1",
		port,           f->root,        NULL };
	char *log = berth_asprintf("%s/daemon.log", f->root);

	f->daemon_pid = spawn(f, argv, NULL, 0, -1, -1, log, NULL);
	free(log);
	if (f->daemon_pid <= 0
	    || wait_port(f->daemon_port, f->daemon_pid) != 0) {
		fprintf(stderr, "gitserver: git daemon did not start\n");
		f->daemon_pid = f->daemon_pid > 0 ? f->daemon_pid : 0;
		return -1;
	}
	return 0;
}

/* --------------------------------------------------- the HTTP server */

static void b64_encode(const unsigned char *in, size_t n, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                          "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? tab[v & 63] : '=';
	}
	out[o] = '\0';
}

static int send_all(int fd, const void *p, size_t n)
{
	size_t off = 0;

	while (off < n) {
		ssize_t w
		    = send(fd, (const char *)p + off, n - off, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	return 0;
}

static void http_simple(int fd, const char *status, const char *extra)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf),
	                 "HTTP/1.1 %s\r\n%sContent-Length: 0\r\n"
	                 "Connection: close\r\n\r\n",
	                 status, extra);

	send_all(fd, buf, (size_t)n);
}

/* A header's value in the raw head (case-insensitive name), copied. */
static int header(const char *head, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);
	const char *p = strstr(head, "\r\n");

	for (int guard = 0; p != NULL && guard < 200; guard++) {
		p += 2;
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			size_t l;

			while (*v == ' ')
				v++;
			l = strcspn(v, "\r\n");
			if (l >= cap)
				l = cap - 1;
			memcpy(out, v, l);
			out[l] = '\0';
			return 0;
		}
		p = strstr(p, "\r\n");
	}
	return -1;
}

/* Runs http-backend for one request and relays its answer. */
static void cgi(struct ts_gitfix *f, int fd, const char *method,
                const char *path_info, const char *query, const char *head,
                const char *body, size_t blen, bool authed)
{
	char ctype[256] = "", gproto[256] = "";
	char *extra[12];
	size_t nextra = 0;
	int in[2], out[2];
	struct berth_buf o;
	pid_t pid;

	header(head, "Content-Type", ctype, sizeof(ctype));
	header(head, "Git-Protocol", gproto, sizeof(gproto));
	extra[nextra++] = berth_asprintf("GIT_PROJECT_ROOT=%s", f->root);
	extra[nextra++] = berth_strdup("GIT_HTTP_EXPORT_ALL=1");
	extra[nextra++] = berth_asprintf("REQUEST_METHOD=%s", method);
	extra[nextra++] = berth_asprintf("PATH_INFO=%s", path_info);
	extra[nextra++] = berth_asprintf("QUERY_STRING=%s", query);
	extra[nextra++] = berth_asprintf("CONTENT_TYPE=%s", ctype);
	extra[nextra++] = berth_asprintf("CONTENT_LENGTH=%zu", blen);
	extra[nextra++] = berth_strdup("REMOTE_ADDR=127.0.0.1");
	extra[nextra++] = berth_strdup("GATEWAY_INTERFACE=CGI/1.1");
	if (authed)
		extra[nextra++]
		    = berth_asprintf("REMOTE_USER=%s", f->http_user);
	if (gproto[0] != '\0')
		extra[nextra++] = berth_asprintf("GIT_PROTOCOL=%s", gproto);

	if (pipe2(in, O_CLOEXEC) != 0) {
		for (size_t i = 0; i < nextra; i++)
			free(extra[i]);
		http_simple(fd, "500 Internal Server Error", "");
		return;
	}
	if (pipe2(out, O_CLOEXEC) != 0) {
		close(in[0]);
		close(in[1]);
		for (size_t i = 0; i < nextra; i++)
			free(extra[i]);
		http_simple(fd, "500 Internal Server Error", "");
		return;
	}
	const char *const argv[]
	    = { "/usr/lib/git-core/git-http-backend", NULL };
	char *log = berth_asprintf("%s/http.log", f->root);

	/* spawn() takes the extra strings. */
	pid = spawn(f, argv, extra, nextra, in[0], out[1], log, NULL);
	free(log);
	close(in[0]);
	close(out[1]);
	if (pid < 0) {
		close(in[1]);
		close(out[0]);
		http_simple(fd, "500 Internal Server Error", "");
		return;
	}
	/* Requests are small: the pipe takes the whole body. */
	for (size_t off = 0; off < blen;) {
		ssize_t w = write(in[1], body + off, blen - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(in[1]);
	berth_buf_init(&o, CGI_MAX_OUT);
	for (;;) {
		char tmp[65536];
		ssize_t n = read(out[0], tmp, sizeof(tmp));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || berth_buf_append(&o, tmp, (size_t)n) != 0)
			break;
	}
	close(out[0]);
	wait_status(pid);

	/* CGI head -> HTTP head. */
	char *sep = o.data != NULL ? strstr(o.data, "\r\n\r\n") : NULL;
	size_t seplen = 4;

	if (sep == NULL && o.data != NULL) {
		sep = strstr(o.data, "\n\n");
		seplen = 2;
	}
	if (sep == NULL) {
		berth_buf_fini(&o);
		http_simple(fd, "502 Bad Gateway", "");
		return;
	}
	*sep = '\0';
	char status[64] = "200 OK";
	struct berth_buf h;
	const char *line = o.data;

	berth_buf_init(&h, 65536);
	for (int guard = 0; *line != '\0' && guard < 100; guard++) {
		size_t l = strcspn(line, "\r\n");

		if (strncasecmp(line, "Status:", 7) == 0) {
			const char *v = line + 7;

			while (*v == ' ')
				v++;
			snprintf(status, sizeof(status), "%.*s",
			         (int)(l - (size_t)(v - line)), v);
		} else {
			berth_buf_append(&h, line, l);
			berth_buf_puts(&h, "\r\n");
		}
		line += l;
		while (*line == '\r' || *line == '\n')
			line++;
	}
	const char *payload = sep + seplen;
	size_t plen = o.len - (size_t)(payload - o.data);
	char *top = berth_asprintf("HTTP/1.1 %s\r\n%sContent-Length: %zu\r\n"
	                           "Connection: close\r\n\r\n",
	                           status, h.data != NULL ? h.data : "", plen);

	if (send_all(fd, top, strlen(top)) == 0)
		send_all(fd, payload, plen);
	free(top);
	berth_buf_fini(&h);
	berth_buf_fini(&o);
}

static void http_one(struct ts_gitfix *f, int fd)
{
	struct berth_buf in;
	char method[16], target[1024], *end = NULL;
	char clen[32] = "", auth[512] = "";
	size_t blen = 0;
	bool authed = false;

	berth_buf_init(&in, HTTP_MAX_HEAD + HTTP_MAX_BODY);
	for (int i = 0; i < 10000; i++) {
		char tmp[8192];
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (in.data != NULL
		    && (end = strstr(in.data, "\r\n\r\n")) != NULL)
			break;
		if (in.len > HTTP_MAX_HEAD || poll(&p, 1, 5000) <= 0)
			goto out;
		n = recv(fd, tmp, sizeof(tmp), 0);
		if (n <= 0 || berth_buf_append(&in, tmp, (size_t)n) != 0)
			goto out;
	}
	if (end == NULL)
		goto out;
	*end = '\0';
	size_t head_len = (size_t)(end - in.data) + 4;

	if (sscanf(in.data, "%15s %1023s", method, target) != 2)
		goto out;
	if (header(in.data, "Content-Length", clen, sizeof(clen)) == 0)
		blen = (size_t)strtoul(clen, NULL, 10);
	if (blen > HTTP_MAX_BODY) {
		http_simple(fd, "413 Payload Too Large", "");
		goto out;
	}
	for (int i = 0; i < 100000 && in.len < head_len + blen; i++) {
		char tmp[65536];
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 5000) <= 0)
			goto out;
		n = recv(fd, tmp, sizeof(tmp), 0);
		if (n <= 0 || berth_buf_append(&in, tmp, (size_t)n) != 0)
			goto out;
	}
	char *query = strchr(target, '?');

	if (query != NULL)
		*query++ = '\0';
	if (strncmp(target, "/auth/", 6) == 0) {
		char pair[128], want[200] = "Basic ";

		snprintf(pair, sizeof(pair), "%s:%s", f->http_user,
		         f->http_pass);
		b64_encode((const unsigned char *)pair, strlen(pair), want + 6);
		if (header(in.data, "Authorization", auth, sizeof(auth)) != 0
		    || strcmp(auth, want) != 0) {
			http_simple(
			    fd, "401 Unauthorized",
			    "WWW-Authenticate: Basic realm=\"berth\"\r\n");
			goto out;
		}
		authed = true;
	} else if (strncmp(target, "/open/", 6) != 0) {
		http_simple(fd, "404 Not Found", "");
		goto out;
	}
	cgi(f, fd, method, target + 5, query != NULL ? query : "", in.data,
	    in.data + head_len, blen, authed);
out:
	berth_buf_fini(&in);
}

static void *http_main(void *arg)
{
	struct ts_gitfix *f = arg;

	while (!atomic_load(&f->http_stop)) {
		struct pollfd p = { .fd = f->http_fd, .events = POLLIN };
		int c;

		if (poll(&p, 1, 100) <= 0)
			continue;
		c = accept4(f->http_fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		atomic_fetch_add(&f->http_requests, 1);
		http_one(f, c);
		close(c);
	}
	return NULL;
}

/* A socket listening on a free loopback port. */
static int listen_loopback(int *port, int backlog)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0
	    || listen(fd, backlog) != 0
	    || getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

int ts_git_http_start(struct ts_gitfix *f, const char *user, const char *pass)
{
	signal(SIGPIPE, SIG_IGN);
	snprintf(f->http_user, sizeof(f->http_user), "%s", user);
	snprintf(f->http_pass, sizeof(f->http_pass), "%s", pass);
	f->http_fd = listen_loopback(&f->http_port, 16);
	if (f->http_fd < 0)
		return -1;
	atomic_store(&f->http_stop, false);
	if (pthread_create(&f->http_thread, NULL, http_main, f) != 0) {
		close(f->http_fd);
		f->http_fd = -1;
		return -1;
	}
	return 0;
}

int ts_git_hole_start(struct ts_gitfix *f)
{
	f->hole_fd = listen_loopback(&f->hole_port, 8);
	return f->hole_fd >= 0 ? 0 : -1;
}

/* ------------------------------------------------------------- sshd */

int ts_git_sshd_start(struct ts_gitfix *f)
{
	char *dir = berth_asprintf("%s/ssh", f->root);
	char *key = berth_asprintf("%s/client", dir);
	char *keypp = berth_asprintf("%s/client_pp", dir);
	char *pubpp = NULL, *pubpptext = NULL;
	char *hostkey = berth_asprintf("%s/host", dir);
	char *pub = NULL, *hostpub = NULL, *cfg = NULL, *ak = NULL;
	char *pubtext = NULL, *hostpubtext = NULL, *cfgtext = NULL;
	char port[16];
	int rv = -1;

	mkdir(dir, 0700);
	/* sshd insists on its privilege separation directory. */
	mkdir("/run/sshd", 0755);
	const char *const kg1[] = { "/usr/bin/ssh-keygen",
		                    "-q",
		                    "-t",
		                    "ecdsa",
		                    "-b",
		                    "256",
		                    "-m",
		                    "PEM",
		                    "-N",
		                    "",
		                    "-f",
		                    key,
		                    NULL };
	const char *const kg2[] = { "/usr/bin/ssh-keygen",
		                    "-q",
		                    "-t",
		                    "ecdsa",
		                    "-b",
		                    "256",
		                    "-N",
		                    "",
		                    "-f",
		                    hostkey,
		                    NULL };
	const char *const kg3[] = { "/usr/bin/ssh-keygen",
		                    "-q",
		                    "-t",
		                    "ecdsa",
		                    "-b",
		                    "256",
		                    "-m",
		                    "PEM",
		                    "-N",
		                    TS_GIT_SSH_PP,
		                    "-f",
		                    keypp,
		                    NULL };
	if (ts_git_run(f, NULL, kg1, NULL, 0) != 0
	    || ts_git_run(f, NULL, kg2, NULL, 0) != 0
	    || ts_git_run(f, NULL, kg3, NULL, 0) != 0) {
		fprintf(stderr, "gitserver: ssh-keygen failed\n");
		goto out;
	}
	pub = berth_asprintf("%s.pub", key);
	hostpub = berth_asprintf("%s.pub", hostkey);
	pubtext = read_file(pub);
	hostpubtext = read_file(hostpub);
	f->ssh_key = read_file(key);
	f->ssh_key_pp = read_file(keypp);
	pubpp = berth_asprintf("%s.pub", keypp);
	pubpptext = read_file(pubpp);
	if (pubtext == NULL || hostpubtext == NULL || f->ssh_key == NULL
	    || f->ssh_key_pp == NULL || pubpptext == NULL)
		goto out;
	ak = berth_asprintf("%s/authorized_keys", dir);
	{
		char *both = berth_asprintf("%s%s", pubtext, pubpptext);

		rv = write_file(ak, both, strlen(both));
		free(both);
		if (rv != 0) {
			rv = -1;
			goto out;
		}
		rv = -1;
	}
	f->ssh_port = ts_free_port();
	/* known_hosts: "[127.0.0.1]:port <type> <key>" (comment dropped). */
	{
		char type[64], b64[1024];

		if (sscanf(hostpubtext, "%63s %1023s", type, b64) != 2)
			goto out;
		f->ssh_known_hosts = berth_asprintf("[127.0.0.1]:%d %s %s\n",
		                                    f->ssh_port, type, b64);
	}
	cfg = berth_asprintf("%s/sshd_config", dir);
	cfgtext = berth_asprintf(
	    "HostKey %s\nAuthorizedKeysFile %s\nPidFile none\n"
	    "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
	    "PubkeyAuthentication yes\nPermitRootLogin prohibit-password\n"
	    "StrictModes no\nUsePAM no\nAllowUsers root\n"
	    "LogLevel VERBOSE\n",
	    hostkey, ak);
	if (write_file(cfg, cfgtext, strlen(cfgtext)) != 0)
		goto out;
	f->ssh_log = berth_asprintf("%s/sshd.log", dir);
	snprintf(port, sizeof(port), "%d", f->ssh_port);
	const char *const argv[] = { "/usr/sbin/sshd",
		                     "-D",
		                     "-e",
		                     "-f",
		                     cfg,
		                     "-p",
		                     port,
		                     "-o",
		                     "ListenAddress=127.0.0.1",
		                     NULL };
	f->sshd_pid = spawn(f, argv, NULL, 0, -1, -1, f->ssh_log, NULL);
	if (f->sshd_pid <= 0 || wait_port(f->ssh_port, f->sshd_pid) != 0) {
		char *log = read_file(f->ssh_log);

		fprintf(stderr, "gitserver: sshd did not start: %s\n",
		        log != NULL ? log : "");
		free(log);
		if (f->sshd_pid < 0)
			f->sshd_pid = 0;
		goto out;
	}
	rv = 0;
out:
	free(dir);
	free(key);
	free(keypp);
	free(pubpp);
	free(pubpptext);
	free(hostkey);
	free(pub);
	free(hostpub);
	free(cfg);
	free(ak);
	free(pubtext);
	free(hostpubtext);
	free(cfgtext);
	return rv;
}

/* ------------------------------------------------------------- TLS */

int ts_git_tls_start(struct ts_gitfix *f)
{
	char *cert = berth_asprintf("%s/tls.crt", f->root);
	char *key = berth_asprintf("%s/tls.key", f->root);
	char *log = berth_asprintf("%s/tls.log", f->root);
	char accept[64];
	int rv = -1;

	const char *const req[] = { "/usr/bin/openssl",
		                    "req",
		                    "-x509",
		                    "-newkey",
		                    "ec",
		                    "-pkeyopt",
		                    "ec_paramgen_curve:prime256v1",
		                    "-nodes",
		                    "-days",
		                    "1",
		                    "-subj",
		                    "/CN=127.0.0.1",
		                    "-keyout",
		                    key,
		                    "-out",
		                    cert,
		                    NULL };
	if (ts_git_run(f, NULL, req, NULL, 0) != 0) {
		fprintf(stderr, "gitserver: openssl req failed\n");
		goto out;
	}
	f->tls_port = ts_free_port();
	snprintf(accept, sizeof(accept), "127.0.0.1:%d", f->tls_port);
	const char *const srv[] = { "/usr/bin/openssl",
		                    "s_server",
		                    "-quiet",
		                    "-www",
		                    "-accept",
		                    accept,
		                    "-cert",
		                    cert,
		                    "-key",
		                    key,
		                    NULL };
	f->tls_pid = spawn(f, srv, NULL, 0, -1, -1, log, NULL);
	if (f->tls_pid <= 0 || wait_port(f->tls_port, f->tls_pid) != 0) {
		fprintf(stderr, "gitserver: openssl s_server did not start\n");
		if (f->tls_pid < 0)
			f->tls_pid = 0;
		goto out;
	}
	rv = 0;
out:
	free(cert);
	free(key);
	free(log);
	return rv;
}

/* ------------------------------------------------------------- stop */

static void stop_pid(pid_t *pid)
{
	if (*pid <= 0)
		return;
	kill(*pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(*pid, NULL, WNOHANG) == *pid) {
			*pid = 0;
			return;
		}
		usleep(20 * 1000);
	}
	kill(*pid, SIGKILL);
	waitpid(*pid, NULL, 0);
	*pid = 0;
}

void ts_git_fixture_fini(struct ts_gitfix *f)
{
	if (f == NULL)
		return;
	stop_pid(&f->daemon_pid);
	stop_pid(&f->sshd_pid);
	stop_pid(&f->tls_pid);
	if (f->http_fd >= 0) {
		atomic_store(&f->http_stop, true);
		pthread_join(f->http_thread, NULL);
		close(f->http_fd);
		f->http_fd = -1;
	}
	if (f->hole_fd >= 0) {
		close(f->hole_fd);
		f->hole_fd = -1;
	}
	ts_rmtree(f->root);
	free(f->root);
	free(f->ssh_key);
	free(f->ssh_key_pp);
	free(f->ssh_known_hosts);
	free(f->ssh_log);
	f->root = NULL;
	f->ssh_key = f->ssh_key_pp = f->ssh_known_hosts = f->ssh_log = NULL;
}

int ts_dir_count(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}
