/*
 * git_clone.c: clone a repository with libgit2 into a private temporary
 * directory under a deadline and a size cap (see git_clone.h).
 *
 * The pieces, in order: the URL and ref checks; a plain socket stream
 * registered with libgit2 so that connect, read and write honour the
 * clone's deadline (libgit2 1.5 has no network timeouts of its own);
 * the callbacks (credentials, host key, progress); the clone itself,
 * then sizing the target tree and checking it out; error mapping with
 * the secrets scrubbed out of libgit2's text.
 */
#include "lib/git_clone.h"

#include "lib/alloc.h"
#include "lib/clock.h"
#include "lib/rmtree.h"

#include <git2.h>
#include <git2/sys/stream.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_CLONE_FDS 16

/* ------------------------------------------------------------ checks */

static bool url_char_ok(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '\\';
}

static bool host_ok(const char *h, size_t n)
{
	if (n == 0 || n > 253 || h[0] == '-')
		return false;
	if (h[0] == '[') /* an IPv6 literal */
		return n > 2 && h[n - 1] == ']';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)h[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		      || (c >= '0' && c <= '9') || c == '.' || c == '-'
		      || c == '_'))
			return false;
	}
	return true;
}

static bool user_ok(const char *u, size_t n)
{
	if (n == 0 || n > 64 || u[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)u[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		      || (c >= '0' && c <= '9') || c == '.' || c == '-'
		      || c == '_'))
			return false;
	}
	return true;
}

static bool has_prefix_ci(const char *s, const char *p)
{
	return strncasecmp(s, p, strlen(p)) == 0;
}

/* libgit2 is started once per process (git_init_once, below). */
static pthread_once_t git_once = PTHREAD_ONCE_INIT;
static int git_init_rv;
static void git_init_once(void);

/* Splits "[user@]host[:port]" of a scheme URL and checks the parts. */
static int check_authority(const char *field, const char *a, size_t n,
                           bool user_allowed, struct berth_err *err)
{
	const char *at = memchr(a, '@', n);
	const char *host = a, *colon;
	size_t hn = n;

	if (at != NULL) {
		size_t un = (size_t)(at - a);

		if (memchr(a, ':', un) != NULL || !user_allowed)
			return berth_err_set(
			    err, BERTH_EINVAL,
			    "%s: credentials in the URL are refused; give "
			    "them in the credentials field",
			    field);
		if (!user_ok(a, un))
			return berth_err_set(err, BERTH_EINVAL,
			                     "%s: bad user name in the URL",
			                     field);
		host = at + 1;
		hn = n - un - 1;
	}
	if (hn > 0 && host[0] == '[') {
		const char *rb = memchr(host, ']', hn);

		colon = rb != NULL && (size_t)(rb - host) + 1 < hn ? rb + 1
		                                                   : NULL;
		if (colon != NULL && *colon != ':')
			return berth_err_set(err, BERTH_EINVAL,
			                     "%s: bad host in the URL", field);
	} else {
		colon = memchr(host, ':', hn);
	}
	if (colon != NULL) {
		size_t pn = hn - (size_t)(colon - host) - 1;

		if (pn == 0 || pn > 5)
			return berth_err_set(err, BERTH_EINVAL,
			                     "%s: bad port in the URL", field);
		for (size_t i = 1; i <= pn; i++)
			if (colon[i] < '0' || colon[i] > '9')
				return berth_err_set(err, BERTH_EINVAL,
				                     "%s: bad port in the URL",
				                     field);
		hn = (size_t)(colon - host);
	}
	if (!host_ok(host, hn))
		return berth_err_set(err, BERTH_EINVAL,
		                     "%s: bad or missing host in the URL",
		                     field);
	return 0;
}

int berth_git_url_check(const char *field, const char *url, bool allow_local,
                        struct berth_err *err)
{
	static const struct {
		const char *prefix;
		bool user_allowed;
	} schemes[] = {
		{ "https://", false },
		{ "http://", false },
		{ "ssh://", true },
		{ "git://", false },
	};
	size_t len;

	if (url == NULL || url[0] == '\0')
		return berth_err_set(err, BERTH_EINVAL, "%s: required", field);
	len = strlen(url);
	if (len > BERTH_GIT_MAX_URL)
		return berth_err_set(err, BERTH_EINVAL,
		                     "%s: longer than %d bytes", field,
		                     BERTH_GIT_MAX_URL);
	for (size_t i = 0; i < len; i++)
		if (!url_char_ok((unsigned char)url[i]))
			return berth_err_set(
			    err, BERTH_EINVAL,
			    "%s: spaces, control bytes, backslashes and "
			    "non-ASCII are not allowed in a URL",
			    field);
	if (allow_local && (has_prefix_ci(url, "file://") || url[0] == '/'))
		return 0;
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		const char *p = schemes[i].prefix;

		if (!has_prefix_ci(url, p))
			continue;
		const char *a = url + strlen(p);
		size_t an = strcspn(a, "/?#");

		return check_authority(field, a, an, schemes[i].user_allowed,
		                       err);
	}
	if (strstr(url, "://") == NULL && strstr(url, "::") == NULL
	    && url[0] != '/' && url[0] != '.' && url[0] != '~') {
		/* scp-like [user@]host:path, as git understands it: a colon
		 * before any slash. */
		const char *colon = strchr(url, ':');
		const char *slash = strchr(url, '/');

		const char *at = strchr(url, '@');

		/* "user:pw@host:path": the first colon would be taken for
		 * the host's; a password never goes in the URL. */
		if (at != NULL && (slash == NULL || at < slash)) {
			const char *ucolon
			    = memchr(url, ':', (size_t)(at - url));

			if (ucolon != NULL)
				return berth_err_set(
				    err, BERTH_EINVAL,
				    "%s: secrets in the URL are refused; "
				    "give them in the credentials field",
				    field);
			colon = strchr(at, ':');
		}
		if (colon != NULL && (slash == NULL || colon < slash)
		    && colon[1] != '\0') {
			return check_authority(
			    field, url, (size_t)(colon - url), true, err);
		}
	}
	return berth_err_set(err, BERTH_EINVAL,
	                     "%s: only https://, http://, ssh://, git:// and "
	                     "user@host:path repositories can be cloned "
	                     "(local paths and file:// are refused)",
	                     field);
}

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
		      || (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

int berth_git_ref_check(const char *branch, const char *commit,
                        struct berth_err *err)
{
	/* libgit2 keeps its error state in thread-local storage that
	 * exists only after git_libgit2_init(): a first call before it
	 * could write into another library's slot. */
	pthread_once(&git_once, git_init_once);
	if (git_init_rv != 0)
		return berth_err_set(err, BERTH_EINTERNAL,
		                     "libgit2 could not start");
	if (branch != NULL && branch[0] != '\0') {
		char ref[300];
		int valid = 0;

		if (strlen(branch) > 255 || branch[0] == '-')
			return berth_err_set(err, BERTH_EINVAL,
			                     "branch: not a valid branch name");
		snprintf(ref, sizeof(ref), "refs/heads/%s", branch);
		if (git_reference_name_is_valid(&valid, ref) != 0 || !valid)
			return berth_err_set(err, BERTH_EINVAL,
			                     "branch: not a valid branch name");
	}
	if (commit != NULL && commit[0] != '\0') {
		size_t n = strlen(commit);

		if (n < 4 || n > GIT_OID_HEXSZ || !is_hex(commit, n))
			return berth_err_set(err, BERTH_EINVAL,
			                     "commit: expected 4 to 40 hex "
			                     "digits");
	}
	return 0;
}

/* --------------------------------------------------------- the clone */

struct clone_ctx {
	const struct berth_git_clone_opts *opts;
	const struct berth_git_clone_cred *cred; /* never NULL */
	int64_t deadline_ms;
	uint64_t max_bytes;
	const char *key_path; /* the ssh key file when not in memory */
	int ssh_port;         /* for known_hosts "[host]:port" */

	pthread_mutex_t mu; /* guards fds, done */
	pthread_cond_t cv;
	bool done;
	int fds[MAX_CLONE_FDS];
	size_t nfds;

	atomic_int abort_code; /* BERTH_ETIMEDOUT / BERTH_ELIMIT, or 0 */
	int auth_tries;
	bool auth_missing; /* asked for credentials we do not have */
	bool auth_refused; /* ours were refused */
	bool hostkey_refused;
	bool cert_refused;
};

/* The clone running on this thread, for the socket stream. */
static _Thread_local struct clone_ctx *cur_ctx;

static void ctx_abort(struct clone_ctx *ctx, int code)
{
	int zero = 0;

	atomic_compare_exchange_strong(&ctx->abort_code, &zero, code);
}

/* Milliseconds left before the deadline (0 when past it). */
static int ctx_left_ms(struct clone_ctx *ctx)
{
	int64_t left = ctx->deadline_ms - berth_clock_mono_ms();

	return left <= 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

/* Non-zero when the clone must stop now (sets abort_code on time). */
static int ctx_check(struct clone_ctx *ctx)
{
	if (atomic_load(&ctx->abort_code) == 0 && ctx_left_ms(ctx) == 0)
		ctx_abort(ctx, BERTH_ETIMEDOUT);
	return atomic_load(&ctx->abort_code);
}

/*
 * The socket stream. Its layout starts as libgit2 1.5's own
 * git_socket_stream (parent, host, port, s) because the ssh transport
 * reaches into it for the descriptor to hand to libssh2.
 */
struct deadline_stream {
	git_stream parent;
	char *host;
	char *port;
	int s;
	struct clone_ctx *ctx; /* NULL outside a clone of this module */
};

static void stream_track(struct deadline_stream *st, bool add)
{
	struct clone_ctx *ctx = st->ctx;

	if (ctx == NULL)
		return;
	pthread_mutex_lock(&ctx->mu);
	if (add) {
		if (ctx->nfds < MAX_CLONE_FDS)
			ctx->fds[ctx->nfds++] = st->s;
	} else {
		for (size_t i = 0; i < ctx->nfds; i++)
			if (ctx->fds[i] == st->s) {
				ctx->fds[i] = ctx->fds[--ctx->nfds];
				break;
			}
		close(st->s);
		st->s = -1;
	}
	pthread_mutex_unlock(&ctx->mu);
}

/* Waits for `events` on the stream's socket until the deadline. */
static int stream_wait(struct deadline_stream *st, short events)
{
	for (int i = 0; i < 1000000; i++) {
		struct pollfd p = { .fd = st->s, .events = events };
		int tmo = st->ctx != NULL ? ctx_left_ms(st->ctx) : -1;
		int n;

		if (st->ctx != NULL && ctx_check(st->ctx) != 0)
			break;
		/* Wake up now and then to see the watchdog's verdict. */
		if (tmo < 0 || tmo > 1000)
			tmo = st->ctx != NULL ? 1000 : -1;
		n = poll(&p, 1, tmo);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR) {
			git_error_set_str(GIT_ERROR_NET, "poll failed");
			return -1;
		}
	}
	git_error_set_str(GIT_ERROR_NET, "timed out");
	return -1;
}

static int stream_connect(git_stream *stream)
{
	struct deadline_stream *st = (struct deadline_stream *)stream;
	struct addrinfo hints
	    = { .ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC };
	struct addrinfo *res = NULL;
	int rv;

	rv = getaddrinfo(st->host, st->port, &hints, &res);
	if (rv != 0) {
		git_error_set(GIT_ERROR_NET, "cannot resolve host '%s': %s",
		              st->host, gai_strerror(rv));
		return -1;
	}
	rv = -1;
	for (struct addrinfo *ai = res; ai != NULL && rv != 0;
	     ai = ai->ai_next) {
		int fd = socket(ai->ai_family,
		                ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
		                ai->ai_protocol);
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		if (fd < 0)
			continue;
		st->s = fd;
		stream_track(st, true);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0
		    || (errno == EINPROGRESS && stream_wait(st, POLLOUT) == 0
		        && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl)
		            == 0
		        && soerr == 0)) {
			rv = 0;
			break;
		}
		if (st->ctx != NULL) {
			stream_track(st, false);
		} else {
			close(fd);
			st->s = -1;
		}
		if (st->ctx != NULL && ctx_check(st->ctx) != 0)
			break;
	}
	freeaddrinfo(res);
	if (rv != 0)
		git_error_set(GIT_ERROR_NET, "failed to connect to %s",
		              st->host);
	return rv;
}

static ssize_t stream_read(git_stream *stream, void *data, size_t len)
{
	struct deadline_stream *st = (struct deadline_stream *)stream;

	for (int i = 0; i < 1000000; i++) {
		ssize_t n = recv(st->s, data, len, 0);

		if (n >= 0)
			return n;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			break;
		if (stream_wait(st, POLLIN) != 0)
			return -1;
	}
	git_error_set_str(GIT_ERROR_NET, "error receiving data");
	return -1;
}

static ssize_t stream_write(git_stream *stream, const char *data, size_t len,
                            int flags)
{
	struct deadline_stream *st = (struct deadline_stream *)stream;

	for (int i = 0; i < 1000000; i++) {
		ssize_t n = send(st->s, data, len, flags | MSG_NOSIGNAL);

		if (n >= 0)
			return n;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			break;
		if (stream_wait(st, POLLOUT) != 0)
			return -1;
	}
	git_error_set_str(GIT_ERROR_NET, "error sending data");
	return -1;
}

static int stream_close(git_stream *stream)
{
	struct deadline_stream *st = (struct deadline_stream *)stream;

	if (st->s < 0)
		return 0;
	if (st->ctx != NULL) {
		stream_track(st, false);
	} else {
		close(st->s);
		st->s = -1;
	}
	return 0;
}

static void stream_free(git_stream *stream)
{
	struct deadline_stream *st = (struct deadline_stream *)stream;

	if (st == NULL)
		return;
	stream_close(stream);
	free(st->host);
	free(st->port);
	free(st);
}

static int stream_new(git_stream **out, const char *host, const char *port)
{
	struct deadline_stream *st = berth_calloc(1, sizeof(*st));

	st->parent.version = GIT_STREAM_VERSION;
	st->parent.connect = stream_connect;
	st->parent.read = stream_read;
	st->parent.write = stream_write;
	st->parent.close = stream_close;
	st->parent.free = stream_free;
	st->host = berth_strdup(host);
	st->port = berth_strdup(port != NULL ? port : "80");
	st->s = -1;
	st->ctx = cur_ctx;
	*out = &st->parent;
	return 0;
}

/* ------------------------------------------------------ process setup */

static bool have_ssh_memory;

static void git_init_once(void)
{
	static git_stream_registration reg = {
		.version = GIT_STREAM_VERSION,
		.init = stream_new,
	};
	git_credential *c = NULL;

	if (git_libgit2_init() < 0) {
		git_init_rv = -1;
		return;
	}
	/* The host's git configuration (url.insteadOf, credential helpers,
	 * proxies) is the host user's, not the caller's: read none. */
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_SYSTEM, "");
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_GLOBAL, "");
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_XDG, "");
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_PROGRAMDATA,
	                 "");
	if (git_stream_register(GIT_STREAM_STANDARD, &reg) < 0)
		git_init_rv = -1;
	/* Without libssh2's frommemory, libgit2 refuses to make one. */
	if (git_credential_ssh_key_memory_new(&c, "git", NULL, "-", NULL)
	    == 0) {
		have_ssh_memory = true;
		git_credential_free(c);
	}
}

void berth_git_features(bool *https, bool *ssh, bool *ssh_memory)
{
	int f;

	pthread_once(&git_once, git_init_once);
	f = git_libgit2_features();
	*https = (f & GIT_FEATURE_HTTPS) != 0;
	*ssh = (f & GIT_FEATURE_SSH) != 0;
	*ssh_memory = have_ssh_memory;
}

/* ---------------------------------------------------------- callbacks */

static bool nonempty(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static int cb_credentials(git_credential **out, const char *url,
                          const char *username_from_url, unsigned int allowed,
                          void *payload)
{
	struct clone_ctx *ctx = payload;
	const struct berth_git_clone_cred *c = ctx->cred;
	const char *user = nonempty(c->username) ? c->username
	    : nonempty(username_from_url)        ? username_from_url
	                                         : "git";

	(void)url;
	if (ctx_check(ctx) != 0)
		return GIT_EUSER;
	if ((allowed & GIT_CREDENTIAL_USERNAME) != 0
	    && (allowed & GIT_CREDENTIAL_SSH_KEY) == 0)
		return git_credential_username_new(out, user);
	/* One try: libgit2 asks again after a refusal, forever. */
	if (ctx->auth_tries++ > 0) {
		ctx->auth_refused = true;
		git_error_set_str(GIT_ERROR_NET,
		                  "the server refused the credentials");
		return GIT_EAUTH;
	}
	if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) != 0
	    && nonempty(c->password))
		return git_credential_userpass_plaintext_new(
		    out, nonempty(c->username) ? c->username : "x-access-token",
		    c->password);
	if ((allowed & GIT_CREDENTIAL_SSH_KEY) != 0
	    && nonempty(c->ssh_private_key)) {
		if (ctx->key_path != NULL)
			return git_credential_ssh_key_new(
			    out, user, NULL, ctx->key_path, c->ssh_passphrase);
		return git_credential_ssh_key_memory_new(
		    out, user, NULL, c->ssh_private_key, c->ssh_passphrase);
	}
	ctx->auth_missing = true;
	git_error_set_str(GIT_ERROR_NET, "the server asks for credentials");
	return GIT_EAUTH;
}

/* Decodes standard base64 into `out` (at most `cap` bytes). */
static ssize_t b64_decode(const char *s, size_t n, unsigned char *out,
                          size_t cap)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		int v;

		if (ch >= 'A' && ch <= 'Z')
			v = ch - 'A';
		else if (ch >= 'a' && ch <= 'z')
			v = ch - 'a' + 26;
		else if (ch >= '0' && ch <= '9')
			v = ch - '0' + 52;
		else if (ch == '+')
			v = 62;
		else if (ch == '/')
			v = 63;
		else if (ch == '=')
			break;
		else
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	return (ssize_t)o;
}

/* Whether the comma-separated host list `pats` names `name`. */
static bool hosts_match(const char *pats, size_t n, const char *name)
{
	size_t nl = strlen(name);

	while (n > 0) {
		const char *comma = memchr(pats, ',', n);
		size_t l = comma != NULL ? (size_t)(comma - pats) : n;

		if (l == nl && strncasecmp(pats, name, l) == 0)
			return true;
		if (comma == NULL)
			break;
		pats += l + 1;
		n -= l + 1;
	}
	return false;
}

/*
 * Looks the presented host key up in known_hosts text: 1 = listed for
 * this host, 0 = not listed, -1 = listed as @revoked. Hashed host names
 * (|1|...) and wildcards are not understood and never match.
 */
static int known_hosts_lookup(const char *text, const char *host, int port,
                              const unsigned char *key, size_t keylen)
{
	char name[300];
	const char *line = text;
	int found = 0;

	if (port == 22)
		snprintf(name, sizeof(name), "%s", host);
	else
		snprintf(name, sizeof(name), "[%s]:%d", host, port);
	for (int guard = 0; *line != '\0' && guard < 100000; guard++) {
		const char *eol = strchr(line, '\n');
		size_t len = eol != NULL ? (size_t)(eol - line) : strlen(line);
		const char *f[4] = { NULL, NULL, NULL, NULL };
		size_t fl[4] = { 0, 0, 0, 0 }, nf = 0, p = 0;
		bool revoked = false;

		while (nf < 4 && p < len) {
			while (p < len && (line[p] == ' ' || line[p] == '\t'))
				p++;
			if (p == len)
				break;
			f[nf] = line + p;
			while (p < len && line[p] != ' ' && line[p] != '\t'
			       && line[p] != '\r')
				p++;
			fl[nf] = (size_t)(line + p - f[nf]);
			nf++;
		}
		if (nf > 0 && f[0][0] == '@') {
			revoked
			    = fl[0] == 8 && memcmp(f[0], "@revoked", 8) == 0;
			for (size_t i = 1; i < nf; i++) {
				f[i - 1] = f[i];
				fl[i - 1] = fl[i];
			}
			nf--;
			if (!revoked)
				nf = 0; /* @cert-authority: not supported */
		}
		if (nf >= 3 && f[0][0] != '#'
		    && hosts_match(f[0], fl[0], name)) {
			unsigned char *buf = berth_malloc(fl[2]);
			ssize_t bl = b64_decode(f[2], fl[2], buf, fl[2]);

			if (bl == (ssize_t)keylen && bl > 0
			    && memcmp(buf, key, keylen) == 0) {
				if (revoked) {
					free(buf);
					return -1;
				}
				found = 1;
			}
			free(buf);
		}
		if (eol == NULL)
			break;
		line = eol + 1;
	}
	return found;
}

static int cb_certificate(git_cert *cert, int valid, const char *host,
                          void *payload)
{
	struct clone_ctx *ctx = payload;

	if (ctx_check(ctx) != 0)
		return GIT_EUSER;
	if (cert->cert_type == GIT_CERT_HOSTKEY_LIBSSH2) {
		const git_cert_hostkey *hk = (const git_cert_hostkey *)cert;

		if (!nonempty(ctx->cred->ssh_known_hosts))
			return 0;
		if ((hk->type & GIT_CERT_SSH_RAW) != 0 && hk->hostkey != NULL
		    && known_hosts_lookup(
		           ctx->cred->ssh_known_hosts, host, ctx->ssh_port,
		           (const unsigned char *)hk->hostkey, hk->hostkey_len)
		        == 1)
			return 0;
		ctx->hostkey_refused = true;
		git_error_set_str(GIT_ERROR_SSH,
		                  "host key not in ssh_known_hosts");
		return GIT_ECERTIFICATE;
	}
	if (valid)
		return 0;
	ctx->cert_refused = true;
	git_error_set_str(GIT_ERROR_NET, "invalid server certificate");
	return GIT_ECERTIFICATE;
}

static int cb_transfer(const git_indexer_progress *stats, void *payload)
{
	struct clone_ctx *ctx = payload;

	if (stats->received_bytes > ctx->max_bytes)
		ctx_abort(ctx, BERTH_ELIMIT);
	return ctx_check(ctx) != 0 ? GIT_EUSER : 0;
}

static int cb_sideband(const char *str, int len, void *payload)
{
	(void)str;
	(void)len;
	return ctx_check(payload) != 0 ? GIT_EUSER : 0;
}

/*
 * Makes the clone's "origin" without url.insteadOf rewriting: a fresh
 * repository has no such configuration (the host's is not read), and
 * libgit2 1.5's insteadOf lookup leaks pcre2 match data on every config
 * entry that does not match.
 */
static int cb_remote(git_remote **out, git_repository *repo, const char *name,
                     const char *url, void *payload)
{
	git_remote_create_options ro;

	(void)payload;
	git_remote_create_options_init(&ro, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	ro.repository = repo;
	ro.name = name;
	ro.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF;
	return git_remote_create_with_opts(out, url, &ro);
}

/* The watchdog: at the deadline, shut the clone's sockets down, so a
 * read that libssh2 makes directly on the descriptor ends too. */
static void *watchdog_main(void *arg)
{
	struct clone_ctx *ctx = arg;

	pthread_mutex_lock(&ctx->mu);
	while (!ctx->done) {
		int left = ctx_left_ms(ctx);
		struct timespec ts;

		if (left == 0) {
			ctx_abort(ctx, BERTH_ETIMEDOUT);
			for (size_t i = 0; i < ctx->nfds; i++)
				shutdown(ctx->fds[i], SHUT_RDWR);
			/* Keep shutting down sockets made after this. */
			left = 200;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += left / 1000;
		ts.tv_nsec += (long)(left % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&ctx->cv, &ctx->mu, &ts);
	}
	pthread_mutex_unlock(&ctx->mu);
	return NULL;
}

/* --------------------------------------------------------- the result */

struct berth_git_checkout {
	char *tmpdir;  /* the private mkdtemp directory */
	char *workdir; /* tmpdir + "/src" */
	int dirfd;
	char commit[GIT_OID_HEXSZ + 1];
	uint64_t bytes;
	uint32_t files;
};

void berth_git_checkout_free(struct berth_git_checkout *co)
{
	if (co == NULL)
		return;
	if (co->dirfd >= 0)
		close(co->dirfd);
	berth_rmtree(co->tmpdir);
	free(co->tmpdir);
	free(co->workdir);
	free(co);
}

int berth_git_checkout_dirfd(const struct berth_git_checkout *co)
{
	return co->dirfd;
}

const char *berth_git_checkout_path(const struct berth_git_checkout *co)
{
	return co->workdir;
}

const char *berth_git_checkout_tmpdir(const struct berth_git_checkout *co)
{
	return co->tmpdir;
}

const char *berth_git_checkout_commit(const struct berth_git_checkout *co)
{
	return co->commit;
}

uint64_t berth_git_checkout_bytes(const struct berth_git_checkout *co)
{
	return co->bytes;
}

uint32_t berth_git_checkout_entries(const struct berth_git_checkout *co)
{
	return co->files;
}

/* ------------------------------------------------------ error mapping */

/* Replaces every `secret` in `s` (a buffer of `cap` bytes) with "***". */
static void scrub_secret(char *s, size_t cap, const char *secret)
{
	char *tmp;
	size_t sl, o = 0;

	if (!nonempty(secret) || strstr(s, secret) == NULL)
		return;
	sl = strlen(secret);
	tmp = berth_malloc(cap);
	for (const char *p = s; *p != '\0' && o + 4 < cap;) {
		if (strncmp(p, secret, sl) == 0) {
			memcpy(tmp + o, "***", 3);
			o += 3;
			p += sl;
		} else {
			tmp[o++] = *p++;
		}
	}
	tmp[o] = '\0';
	memcpy(s, tmp, o + 1);
	free(tmp);
}

/* Drops "user:pass@" from every "scheme://user:pass@host" in `s`. */
static void scrub_userinfo(char *s)
{
	char *p = s;

	for (int guard = 0; guard < 64 && (p = strstr(p, "://")) != NULL;
	     guard++) {
		char *a = p + 3;
		size_t an = strcspn(a, "/?# '\"");
		char *at = memchr(a, '@', an);

		if (at != NULL)
			memmove(a, at + 1, strlen(at + 1) + 1);
		p = a;
	}
}

/*
 * libgit2's last error text, made safe to show: no credentials, no URL
 * userinfo, no query strings, printable ASCII only, one line.
 */
static void git_msg(char *out, size_t cap, const struct clone_ctx *ctx)
{
	const git_error *ge = git_error_last();
	const char *msg = ge != NULL && ge->message != NULL
	    ? ge->message
	    : "unknown libgit2 error";
	/* Scrubbed whole, then cut: a secret past the cut would otherwise
	 * be cut in half and missed. */
	size_t bcap = strlen(msg) + 8;
	char *buf = berth_malloc(bcap);
	const char *q;

	snprintf(buf, bcap, "%s", msg);
	/* Secrets: replaced where they appear verbatim. */
	if (ctx != NULL) {
		scrub_secret(buf, bcap, ctx->cred->password);
		scrub_secret(buf, bcap, ctx->cred->ssh_passphrase);
		scrub_userinfo(buf);
		/* A query string may carry a token: cut it. */
		q = strchr(ctx->opts->url, '?');
		if (q != NULL)
			scrub_secret(buf, bcap, q);
	}
	for (char *p = buf; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = ' ';
	snprintf(out, cap < 200 ? cap : 200, "%s", buf);
	free(buf);
}

static int map_clone_error(int gerr, struct clone_ctx *ctx,
                           struct berth_err *err)
{
	int abort_code = atomic_load(&ctx->abort_code);
	char m[200];

	if (abort_code == BERTH_ETIMEDOUT)
		return berth_err_set(err, BERTH_ETIMEDOUT,
		                     "clone did not finish within timeout_ms "
		                     "(%d ms)",
		                     ctx->opts->timeout_ms > 0
		                         ? ctx->opts->timeout_ms
		                         : BERTH_GIT_DEFAULT_TIMEOUT_MS);
	if (abort_code == BERTH_ELIMIT)
		return berth_err_set(err, BERTH_ELIMIT,
		                     "the repository is larger than max_bytes "
		                     "(%llu bytes fetched at most)",
		                     (unsigned long long)ctx->max_bytes);
	if (ctx->hostkey_refused)
		return berth_err_set(err, BERTH_EPERM,
		                     "the ssh server's host key is not in "
		                     "credentials.ssh_known_hosts");
	if (ctx->cert_refused)
		return berth_err_set(err, BERTH_EPERM,
		                     "the server's TLS certificate is not "
		                     "valid for its host");
	if (ctx->auth_refused)
		return berth_err_set(err, BERTH_EUNAUTH,
		                     "the git server refused the credentials");
	git_msg(m, sizeof(m), ctx);
	if (ctx->auth_missing || gerr == GIT_EAUTH || strstr(m, " 401") != NULL)
		return berth_err_set(
		    err, BERTH_EUNAUTH,
		    "the git server asks for credentials: give "
		    "credentials.username and .password "
		    "(http) or .ssh_private_key (ssh)");
	/* libssh2 refusing our key (unreadable, wrong passphrase) ends the
	 * clone without asking the callback again. */
	if (ctx->auth_tries > 0 && git_error_last() != NULL
	    && git_error_last()->klass == GIT_ERROR_SSH
	    && strstr(m, "authenticate") != NULL)
		return berth_err_set(err, BERTH_EUNAUTH,
		                     "the ssh key was refused, or it or its "
		                     "passphrase is wrong: %s",
		                     m);
	if (gerr == GIT_ECERTIFICATE)
		return berth_err_set(err, BERTH_EPERM,
		                     "server certificate refused: %s", m);
	if (strstr(m, " 403") != NULL)
		return berth_err_set(err, BERTH_EPERM,
		                     "the git server denies access: %s", m);
	if (gerr == GIT_ENOTFOUND && nonempty(ctx->opts->branch))
		return berth_err_set(
		    err, BERTH_ENOTFOUND,
		    "branch \"%s\" not found in the repository",
		    ctx->opts->branch);
	if (gerr == GIT_ENOTFOUND || strstr(m, " 404") != NULL
	    || strstr(m, "not found") != NULL
	    || strstr(m, "not exported") != NULL
	    || strstr(m, "does not appear to be a git repository") != NULL)
		return berth_err_set(err, BERTH_ENOTFOUND,
		                     "no such repository on the server: %s", m);
	const git_error *ge = git_error_last();
	int klass = ge != NULL ? ge->klass : GIT_ERROR_NONE;

	if (klass == GIT_ERROR_NET || klass == GIT_ERROR_SSH
	    || klass == GIT_ERROR_HTTP || klass == GIT_ERROR_SSL
	    || klass == GIT_ERROR_OS)
		return berth_err_set_retryable(
		    err, BERTH_EUNAVAIL, "cannot clone from the server: %s", m);
	return berth_err_set(err, BERTH_EINTERNAL, "clone failed: %s", m);
}

/* ------------------------------------------------ sizing the checkout */

struct size_walk {
	git_odb *odb;
	struct clone_ctx *ctx;
	uint64_t bytes;
	uint32_t files;
	int rv; /* BERTH_ELIMIT / BERTH_EINTERNAL / BERTH_ETIMEDOUT */
};

static int size_cb(const char *root, const git_tree_entry *entry, void *payload)
{
	struct size_walk *w = payload;
	git_object_t type = git_tree_entry_type(entry);
	size_t len = 0;
	git_object_t otype;

	(void)root;
	if (++w->files > BERTH_GIT_MAX_ENTRIES) {
		w->rv = BERTH_ELIMIT;
		return -1;
	}
	if (type != GIT_OBJECT_BLOB)
		return 0; /* trees; commits (submodules) are not fetched */
	if (git_odb_read_header(&len, &otype, w->odb, git_tree_entry_id(entry))
	    != 0) {
		w->rv = BERTH_EINTERNAL;
		return -1;
	}
	w->bytes += len;
	if (w->bytes > w->ctx->max_bytes) {
		w->rv = BERTH_ELIMIT;
		return -1;
	}
	if ((w->files & 1023) == 0 && ctx_check(w->ctx) != 0) {
		w->rv = BERTH_ETIMEDOUT;
		return -1;
	}
	return 0;
}

/* Resolves the commit to check out: opts->commit, or HEAD. */
static int resolve_commit(git_commit **out, git_repository *repo,
                          struct clone_ctx *ctx, struct berth_err *err)
{
	const char *want = ctx->opts->commit;
	git_object *obj = NULL;
	git_reference *head = NULL;
	int rv;

	if (nonempty(want)) {
		git_oid oid;
		size_t n = strlen(want);

		if (git_oid_fromstrn(&oid, want, n) != 0)
			return berth_err_set(err, BERTH_EINVAL,
			                     "commit: expected hex digits");
		rv = git_object_lookup_prefix(&obj, repo, &oid, n,
		                              GIT_OBJECT_COMMIT);
		if (rv == GIT_EAMBIGUOUS)
			return berth_err_set(err, BERTH_EINVAL,
			                     "commit \"%s\" is ambiguous: give "
			                     "more digits",
			                     want);
		if (rv != 0)
			return berth_err_set(err, BERTH_ENOTFOUND,
			                     "commit \"%s\" not found in the "
			                     "repository%s%s",
			                     want,
			                     nonempty(ctx->opts->branch)
			                         ? " after fetching branch "
			                         : "",
			                     nonempty(ctx->opts->branch)
			                         ? ctx->opts->branch
			                         : "");
		*out = (git_commit *)obj;
		return 0;
	}
	rv = git_repository_head(&head, repo);
	if (rv == GIT_EUNBORNBRANCH || rv == GIT_ENOTFOUND)
		return berth_err_set(err, BERTH_ENOTFOUND,
		                     "the repository has no commits");
	if (rv == 0)
		rv = git_reference_peel(&obj, head, GIT_OBJECT_COMMIT);
	git_reference_free(head);
	if (rv != 0) {
		char m[200];

		git_msg(m, sizeof(m), ctx);
		return berth_err_set(err, BERTH_EINTERNAL,
		                     "cannot resolve HEAD: %s", m);
	}
	*out = (git_commit *)obj;
	return 0;
}

/* Sizes the commit's tree, checks it out and fills `co`. */
static int checkout(struct berth_git_checkout *co, git_repository *repo,
                    struct clone_ctx *ctx, struct berth_err *err)
{
	git_checkout_options copts;
	struct size_walk w = { .ctx = ctx };
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	char m[200];
	int rv;

	git_checkout_options_init(&copts, GIT_CHECKOUT_OPTIONS_VERSION);
	rv = resolve_commit(&commit, repo, ctx, err);
	if (rv != 0)
		goto out;
	rv = git_commit_tree(&tree, commit);
	if (rv == 0)
		rv = git_repository_odb(&w.odb, repo);
	if (rv != 0) {
		git_msg(m, sizeof(m), ctx);
		rv = berth_err_set(err, BERTH_EINTERNAL,
		                   "cannot read the commit's tree: %s", m);
		goto out;
	}
	if (git_tree_walk(tree, GIT_TREEWALK_PRE, size_cb, &w) != 0) {
		if (w.rv == BERTH_ELIMIT)
			rv = berth_err_set(err, BERTH_ELIMIT,
			                   "the checkout is larger than "
			                   "max_bytes (%llu) or has more than "
			                   "%u entries",
			                   (unsigned long long)ctx->max_bytes,
			                   BERTH_GIT_MAX_ENTRIES);
		else if (w.rv == BERTH_ETIMEDOUT)
			rv = map_clone_error(GIT_EUSER, ctx, err);
		else
			rv = berth_err_set(err, BERTH_EINTERNAL,
			                   "cannot read the commit's tree");
		goto out;
	}
	if (ctx_check(ctx) != 0) {
		rv = map_clone_error(GIT_EUSER, ctx, err);
		goto out;
	}
	copts.checkout_strategy = GIT_CHECKOUT_FORCE;
	/* The blobs as stored, sized above: filters (eol, ident) could
	 * write more than max_bytes allowed. */
	copts.disable_filters = 1;
	rv = git_checkout_tree(repo, (const git_object *)commit, &copts);
	if (rv == 0 && nonempty(ctx->opts->commit))
		rv = git_repository_set_head_detached(repo,
		                                      git_commit_id(commit));
	if (rv != 0) {
		git_msg(m, sizeof(m), ctx);
		rv = berth_err_set(err, BERTH_EINTERNAL, "checkout failed: %s",
		                   m);
		goto out;
	}
	git_oid_tostr(co->commit, sizeof(co->commit), git_commit_id(commit));
	co->bytes = w.bytes;
	co->files = w.files;
	rv = 0;
out:
	git_odb_free(w.odb);
	git_tree_free(tree);
	git_commit_free(commit);
	return rv;
}

/* ------------------------------------------------------------- clone */

static int ssh_port_of(const char *url)
{
	if (has_prefix_ci(url, "ssh://")) {
		const char *a = url + 6;
		size_t an = strcspn(a, "/?#");
		const char *at = memchr(a, '@', an);
		const char *h = at != NULL ? at + 1 : a;
		const char *end = a + an;
		const char *rb = (h < end && *h == '[')
		    ? memchr(h, ']', (size_t)(end - h))
		    : NULL;
		const char *c = memchr(rb != NULL ? rb : h, ':',
		                       (size_t)(end - (rb != NULL ? rb : h)));

		if (c != NULL) {
			int port = 0;

			for (const char *p = c + 1; p < end && port < 100000;
			     p++)
				port = port * 10 + (*p - '0');
			return port;
		}
	}
	return 22;
}

/* Writes the ssh key to a 0600 file in the private directory. */
static int write_key(char **path_out, const char *tmpdir, const char *key,
                     struct berth_err *err)
{
	char *path = berth_asprintf("%s/id", tmpdir);
	size_t len = strlen(key), off = 0;
	int fd, rv = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	          0600);
	if (fd < 0) {
		free(path);
		return berth_err_set(err, BERTH_EINTERNAL,
		                     "cannot write the ssh key file: %s",
		                     strerror(errno));
	}
	while (off < len && rv == 0) {
		ssize_t n = write(fd, key + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			rv = berth_err_set(err, BERTH_EINTERNAL,
			                   "cannot write the ssh key file");
		else
			off += (size_t)n;
	}
	close(fd);
	if (rv != 0) {
		free(path);
		return rv;
	}
	*path_out = path;
	return 0;
}

static int check_opts(const struct berth_git_clone_opts *o,
                      struct berth_err *err)
{
	const struct berth_git_clone_cred *c = o->cred;
	int rv;

	rv = berth_git_url_check("repo_url", o->url, o->allow_local, err);
	if (rv == 0)
		rv = berth_git_ref_check(o->branch, o->commit, err);
	if (rv != 0)
		return rv;
	if (o->timeout_ms < 0 || o->timeout_ms > BERTH_GIT_MAX_TIMEOUT_MS)
		return berth_err_set(err, BERTH_EINVAL,
		                     "timeout_ms: 0 (default) to %d",
		                     BERTH_GIT_MAX_TIMEOUT_MS);
	if (c != NULL) {
		const char *const f[]
		    = { c->username, c->password, c->ssh_private_key,
			c->ssh_passphrase, c->ssh_known_hosts };
		const char *const names[]
		    = { "username", "password", "ssh_private_key",
			"ssh_passphrase", "ssh_known_hosts" };

		for (size_t i = 0; i < 5; i++)
			if (f[i] != NULL && strlen(f[i]) > BERTH_GIT_MAX_SECRET)
				return berth_err_set(
				    err, BERTH_EINVAL,
				    "credentials.%s: longer than %d bytes",
				    names[i], BERTH_GIT_MAX_SECRET);
		if (nonempty(c->username)
		    && !user_ok(c->username, strlen(c->username)))
			return berth_err_set(
			    err, BERTH_EINVAL,
			    "credentials.username: letters, digits, '.', '-' "
			    "and '_' only");
	}
	return 0;
}

int berth_git_clone(struct berth_git_checkout **out,
                    const struct berth_git_clone_opts *opts,
                    struct berth_err *err)
{
	static const struct berth_git_clone_cred no_cred = { 0 };
	git_clone_options copts;
	struct berth_git_checkout *co = NULL;
	struct clone_ctx ctx = { 0 };
	git_repository *repo = NULL;
	char *key_path = NULL, *tmpl = NULL;
	const char *parent;
	pthread_t wd;
	bool wd_started = false;
	int rv, gerr;

	rv = check_opts(opts, err);
	if (rv != 0)
		return rv;
	git_clone_options_init(&copts, GIT_CLONE_OPTIONS_VERSION);
	pthread_once(&git_once, git_init_once);
	if (git_init_rv != 0)
		return berth_err_set(err, BERTH_EINTERNAL,
		                     "libgit2 failed to initialise");

	parent = opts->tmp_parent;
	if (!nonempty(parent))
		parent = getenv("TMPDIR");
	if (!nonempty(parent))
		parent = "/tmp";
	co = berth_calloc(1, sizeof(*co));
	co->dirfd = -1;
	tmpl = berth_asprintf("%s/berth-clone-XXXXXX", parent);
	if (mkdtemp(tmpl) == NULL) {
		rv = berth_err_set(
		    err, BERTH_EINTERNAL,
		    "cannot make a private directory under %s: %s", parent,
		    strerror(errno));
		free(tmpl);
		free(co);
		return rv;
	}
	co->tmpdir = tmpl;
	co->workdir = berth_asprintf("%s/src", tmpl);

	ctx.opts = opts;
	ctx.cred = opts->cred != NULL ? opts->cred : &no_cred;
	ctx.deadline_ms = berth_clock_mono_ms()
	    + (opts->timeout_ms > 0 ? opts->timeout_ms
	                            : BERTH_GIT_DEFAULT_TIMEOUT_MS);
	ctx.max_bytes = opts->max_bytes > 0 ? opts->max_bytes
	                                    : BERTH_GIT_DEFAULT_MAX_BYTES;
	ctx.ssh_port = ssh_port_of(opts->url);
	pthread_mutex_init(&ctx.mu, NULL);
	{
		/* The watchdog's deadline is on the monotonic clock. */
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&ctx.cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	if (nonempty(ctx.cred->ssh_private_key) && !have_ssh_memory) {
		rv = write_key(&key_path, tmpl, ctx.cred->ssh_private_key, err);
		if (rv != 0)
			goto out;
		ctx.key_path = key_path;
	}
	if (pthread_create(&wd, NULL, watchdog_main, &ctx) != 0) {
		rv = berth_err_set(err, BERTH_EINTERNAL,
		                   "cannot start the clone's watchdog");
		goto out;
	}
	wd_started = true;

	copts.checkout_opts.checkout_strategy = GIT_CHECKOUT_NONE;
	copts.checkout_branch = nonempty(opts->branch) ? opts->branch : NULL;
	copts.fetch_opts.callbacks.credentials = cb_credentials;
	copts.fetch_opts.callbacks.certificate_check = cb_certificate;
	copts.fetch_opts.callbacks.transfer_progress = cb_transfer;
	copts.fetch_opts.callbacks.sideband_progress = cb_sideband;
	copts.fetch_opts.callbacks.payload = &ctx;
	copts.fetch_opts.proxy_opts.type = GIT_PROXY_NONE;
	/* A redirect would hand the caller's credentials to another
	 * host: not followed. */
	copts.fetch_opts.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
	copts.remote_cb = cb_remote;

	cur_ctx = &ctx;
	gerr = git_clone(&repo, opts->url, co->workdir, &copts);
	cur_ctx = NULL;
	if (gerr != 0) {
		rv = map_clone_error(gerr, &ctx, err);
		goto out;
	}
	rv = checkout(co, repo, &ctx, err);
	if (rv != 0)
		goto out;
	co->dirfd = open(co->workdir,
	                 O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (co->dirfd < 0) {
		rv = berth_err_set(err, BERTH_EINTERNAL,
		                   "cannot open the checkout: %s",
		                   strerror(errno));
		goto out;
	}
out:
	git_repository_free(repo);
	if (wd_started) {
		pthread_mutex_lock(&ctx.mu);
		ctx.done = true;
		pthread_cond_signal(&ctx.cv);
		pthread_mutex_unlock(&ctx.mu);
		pthread_join(wd, NULL);
	}
	pthread_cond_destroy(&ctx.cv);
	pthread_mutex_destroy(&ctx.mu);
	/* The key file goes now, whatever happened. */
	if (key_path != NULL) {
		unlink(key_path);
		free(key_path);
	}
	if (rv != 0) {
		berth_git_checkout_free(co);
		return rv;
	}
	*out = co;
	return 0;
}
