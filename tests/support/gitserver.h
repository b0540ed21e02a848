/*
 * gitserver.h: git servers that clone tests start themselves, on
 * loopback, over repositories made with the `git` CLI in a private
 * temporary directory.
 *
 * The fixture holds two bare repositories:
 *   repo.git  branch main: README "main v1\n" (commit `first`), then
 *             README "main v2\n" (commit `main_head`); branch dev:
 *             README "dev\n" and dev.txt "only on dev\n" (`dev_head`).
 *   big.git   main: big.bin, BIG_BYTES of incompressible bytes.
 * and these servers, each started on demand and stopped by PID (or by
 * joining its thread) in ts_git_fixture_fini():
 *   git daemon       git://127.0.0.1:<daemon_port>/repo.git
 *   http-backend     http://127.0.0.1:<http_port>/open/repo.git and
 *                    /auth/repo.git (Basic auth, http_user/http_pass),
 *                    a CGI runner on a thread of the test process
 *   sshd             ssh://root@127.0.0.1:<ssh_port><root>/repo.git with
 *                    its own host key and one ECDSA key pair
 *   black hole       a listening socket that never accepts
 *   TLS              `openssl s_server -www` with a self-signed
 *                    certificate: https:// that no client trusts
 */
#ifndef BERTH_TESTS_GITSERVER_H
#define BERTH_TESTS_GITSERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>

#define TS_GIT_BIG_BYTES (3u * 1024u * 1024u)
#define TS_GIT_SSH_PP    "pp-Secret-51"

struct ts_gitfix {
	char *root; /* owned; the fixture's directory (removed at fini) */
	char first[41], main_head[41], dev_head[41];

	pid_t daemon_pid;
	int daemon_port;

	int http_fd; /* listening socket, -1 when not started */
	int http_port;
	pthread_t http_thread;
	atomic_bool http_stop;
	char http_user[32], http_pass[64];
	atomic_int http_requests; /* requests served */

	pid_t sshd_pid;
	int ssh_port;
	char *ssh_key;         /* owned; the client's private key text */
	char *ssh_key_pp;      /* owned; a second key, under TS_GIT_SSH_PP */
	char *ssh_known_hosts; /* owned; "[127.0.0.1]:port ecdsa-... ..." */
	char *ssh_log;         /* owned; sshd's log file */

	int hole_fd; /* listening, never accepted; -1 when not started */
	int hole_port;

	pid_t tls_pid;
	int tls_port;
};

/* Makes the fixture's directory and repositories. Returns 0 or -1
 * (with the reason printed). Call ts_git_fixture_fini() either way. */
int ts_git_fixture_init(struct ts_gitfix *f);

/* Starts one server; 0 once it answers, or -1 (reason printed). */
int ts_git_daemon_start(struct ts_gitfix *f);
int ts_git_http_start(struct ts_gitfix *f, const char *user, const char *pass);
int ts_git_sshd_start(struct ts_gitfix *f);
int ts_git_hole_start(struct ts_gitfix *f);
int ts_git_tls_start(struct ts_gitfix *f);

/* Stops every server started (by PID; the HTTP thread is joined),
 * removes the directory, frees. Accepts a zeroed or half-made fixture. */
void ts_git_fixture_fini(struct ts_gitfix *f);

/* Runs argv (no shell) with the fixture's git environment, optionally
 * in `cwd`; stdout goes to `out` (cap bytes, NUL-ended) when not NULL.
 * Returns the exit status, or -1. */
int ts_git_run(const struct ts_gitfix *f, const char *cwd,
               const char *const *argv, char *out, size_t cap);

/* Number of entries in `dir` (. and .. excluded), or -1. */
int ts_dir_count(const char *dir);

#endif
