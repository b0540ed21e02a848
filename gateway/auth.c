/*
 * auth.c: bearer tokens for the gateway: made from getrandom(), shown
 * once, stored only as SHA-256 hex in gateway.db, checked per request.
 */
#include "gateway/auth.h"

#include "lib/alloc.h"
#include "lib/sha256.h"
#include "lib/clock.h"
#include "lib/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TOKEN_PREFIX  "berth_"
#define TOKEN_BYTES   32
#define TOKEN_MAX_LEN 256 /* longer Authorization values are refused */
#define ADMIN_TOKEN   "admin.token"
#define UNAUTH_MESSAGE                                      \
	"a valid bearer token is required (Authorization: " \
	"Bearer <token>)"

struct gw_auth {
	struct berth_store *store;
	char *admin_path;
	/* The token lookup, prepared once (under the store's lock): every
	 * request runs it, and parsing it each time showed in profiles. */
	sqlite3_stmt *check_st;
};

static const struct berth_migration migrations[] = {
	{ 1,
	  "CREATE TABLE tokens ("
	  " id INTEGER PRIMARY KEY,"
	  " name TEXT NOT NULL UNIQUE,"
	  " hash TEXT NOT NULL UNIQUE,"
	  " created_ms INTEGER NOT NULL,"
	  " revoked INTEGER NOT NULL DEFAULT 0)" },
};

/* mkdir -p with mode 0700 for what it creates. */
static int make_dirs(const char *path, struct berth_err *err)
{
	char *p = berth_strdup(path);
	int rv = 0;

	for (char *s = p + 1;; s++) {
		bool end = *s == '\0';

		if (*s != '/' && !end)
			continue;
		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			rv = berth_err_set(err, BERTH_EINTERNAL,
			                   "cannot create %s: %s", p,
			                   strerror(errno));
			break;
		}
		if (end)
			break;
		*s = '/';
	}
	free(p);
	return rv;
}

/*
 * The data dir holds gateway.db and admin.token: anyone who can write
 * to it can swap the database (and with it every token) or plant a
 * file where admin.token will be read, so refuse a directory that a
 * group or other users may write to, as ssh's StrictModes does.
 */
static int check_data_dir(const char *path, struct berth_err *err)
{
	struct stat sb;

	if (stat(path, &sb) != 0)
		return berth_err_set(err, BERTH_EINTERNAL, "cannot stat %s: %s",
		                     path, strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return berth_err_set(err, BERTH_EPRECOND,
		                     "data_dir %s is not a directory", path);
	if ((sb.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return berth_err_set(err, BERTH_EPRECOND,
		                     "data_dir %s is writable by group or "
		                     "others (mode %03o); chmod 700 it",
		                     path, (unsigned)(sb.st_mode & 0777));
	if (access(path, W_OK | X_OK) != 0)
		return berth_err_set(err, BERTH_EPRECOND,
		                     "data_dir %s is not writable: %s", path,
		                     strerror(errno));
	return 0;
}

/* Base64url without padding of `n` bytes into `out` (4n/3 + 2 bytes). */
static void base64url(char *out, const uint8_t *in, size_t n)
{
	static const char tab[]
	    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrst"
	      "uvwxyz0123456789-_";
	size_t i, j = 0;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8
		    | in[i + 2];

		out[j++] = tab[(v >> 18) & 63];
		out[j++] = tab[(v >> 12) & 63];
		out[j++] = tab[(v >> 6) & 63];
		out[j++] = tab[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		out[j++] = tab[(v >> 18) & 63];
		out[j++] = tab[(v >> 12) & 63];
		if (i + 1 < n)
			out[j++] = tab[(v >> 6) & 63];
	}
	out[j] = '\0';
}

/* A new secret "berth_<43 base64url chars>". Caller owns it. */
static int new_token(char **out, struct berth_err *err)
{
	uint8_t raw[TOKEN_BYTES];
	char enc[TOKEN_BYTES * 4 / 3 + 4];
	size_t got = 0;

	for (int tries = 0; got < sizeof(raw) && tries < 16; tries++) {
		ssize_t r = getrandom(raw + got, sizeof(raw) - got, 0);

		if (r > 0)
			got += (size_t)r;
		else if (r < 0 && errno != EINTR)
			break;
	}
	if (got < sizeof(raw))
		return berth_err_set(err, BERTH_EINTERNAL,
		                     "the kernel gave no randomness for a "
		                     "token");
	base64url(enc, raw, sizeof(raw));
	explicit_bzero(raw, sizeof(raw));
	*out = berth_asprintf(TOKEN_PREFIX "%s", enc);
	explicit_bzero(enc, sizeof(enc));
	return 0;
}

static int exec_sql(struct gw_auth *a, const char *sql, struct berth_err *err)
{
	int rc = sqlite3_exec(berth_store_db(a->store), sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return berth_store_error(a->store, rc, sql, err);
	return 0;
}

/* Inserts a token row. Call with the store locked. */
static int insert_token(struct gw_auth *a, const char *name, const char *token,
                        struct berth_err *err)
{
	char hash[BERTH_SHA256_HEX_LEN + 1];
	sqlite3_stmt *st = NULL;
	int rc, rv = 0;

	berth_sha256_hex(token, strlen(token), hash);
	rc = sqlite3_prepare_v2(berth_store_db(a->store),
	                        "INSERT INTO tokens(name, hash, created_ms) "
	                        "VALUES (?1, ?2, ?3)",
	                        -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, berth_clock_unix_ms());
		rc = sqlite3_step(st);
	}
	if (rc != SQLITE_DONE && rc != SQLITE_OK)
		rv = berth_store_error(a->store, rc, "tokens", err);
	sqlite3_finalize(st);
	return rv;
}

static int count_tokens(struct gw_auth *a, int64_t *n, struct berth_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc, rv = 0;

	rc = sqlite3_prepare_v2(berth_store_db(a->store),
	                        "SELECT count(*) FROM tokens", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	else
		rv = berth_store_error(a->store, rc, "tokens", err);
	sqlite3_finalize(st);
	return rv;
}

/* Writes the secret once; never replaces an existing file. */
static int write_admin_file(const char *path, const char *token,
                            struct berth_err *err)
{
	char *line = berth_asprintf("%s\n", token);
	size_t len = strlen(line), off = 0;
	int fd, rv = 0;

	fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW,
	          0600);
	if (fd < 0) {
		rv = berth_err_set(err, BERTH_EINTERNAL, "cannot create %s: %s",
		                   path, strerror(errno));
		goto out;
	}
	while (off < len) {
		ssize_t w = write(fd, line + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rv = berth_err_set(err, BERTH_EINTERNAL,
			                   "cannot write %s: %s", path,
			                   strerror(errno));
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0)
		rv = berth_err_set(err, BERTH_EINTERNAL, "cannot sync %s: %s",
		                   path, strerror(errno));
out:
	if (fd >= 0 && close(fd) != 0 && rv == 0)
		rv = berth_err_set(err, BERTH_EINTERNAL, "cannot close %s",
		                   path);
	if (fd >= 0 && rv != 0)
		unlink(path);
	explicit_bzero(line, len);
	free(line);
	return rv;
}

/*
 * First start: the row and the file are made together. The row is
 * inserted in a transaction that commits only once the file is on
 * disk; a failed commit removes the file again.
 */
static int bootstrap_admin(struct gw_auth *a, struct berth_err *err)
{
	struct stat sb;
	char *token = NULL;
	int64_t n = 0;
	bool in_tx = false, file = false;
	int rv;

	berth_store_lock(a->store);
	rv = exec_sql(a, "BEGIN IMMEDIATE", err);
	if (rv != 0)
		goto out;
	in_tx = true;
	rv = count_tokens(a, &n, err);
	if (rv != 0 || n > 0)
		goto out;
	if (lstat(a->admin_path, &sb) == 0) {
		rv = berth_err_set(err, BERTH_EPRECOND,
		                   "%s exists but the gateway database holds "
		                   "no token; move the file away (and the "
		                   "token in it is no longer valid) to make "
		                   "a new admin token",
		                   a->admin_path);
		goto out;
	}
	rv = new_token(&token, err);
	if (rv != 0)
		goto out;
	rv = insert_token(a, "admin", token, err);
	if (rv != 0)
		goto out;
	rv = write_admin_file(a->admin_path, token, err);
	if (rv != 0)
		goto out;
	file = true;
	rv = exec_sql(a, "COMMIT", err);
	if (rv != 0)
		goto out;
	in_tx = false;
out:
	if (in_tx)
		sqlite3_exec(berth_store_db(a->store), "ROLLBACK", NULL, NULL,
		             NULL);
	if (rv != 0 && file)
		unlink(a->admin_path);
	berth_store_unlock(a->store);
	if (token != NULL) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
	return rv;
}

int gw_auth_open(struct gw_auth **out, const char *data_dir,
                 struct berth_err *err)
{
	struct gw_auth *a = berth_calloc(1, sizeof(*a));
	char *db_path = NULL;
	int rv;

	if (data_dir == NULL || data_dir[0] == '\0') {
		rv = berth_err_set(err, BERTH_EINVAL, "data_dir: required");
		goto out;
	}
	rv = make_dirs(data_dir, err);
	if (rv != 0)
		goto out;
	rv = check_data_dir(data_dir, err);
	if (rv != 0)
		goto out;
	db_path = berth_asprintf("%s/gateway.db", data_dir);
	a->admin_path = berth_asprintf("%s/" ADMIN_TOKEN, data_dir);
	rv = berth_store_open(&a->store, db_path, migrations,
	                      sizeof(migrations) / sizeof(migrations[0]), err);
	if (rv != 0)
		goto out;
	rv = bootstrap_admin(a, err);
	if (rv != 0)
		goto out;
	*out = a;
	a = NULL;
out:
	free(db_path);
	gw_auth_close(a);
	return rv;
}

void gw_auth_close(struct gw_auth *auth)
{
	if (auth == NULL)
		return;
	sqlite3_finalize(auth->check_st);
	berth_store_close(auth->store);
	free(auth->admin_path);
	free(auth);
}

const char *gw_auth_admin_token_path(const struct gw_auth *auth)
{
	return auth->admin_path;
}

int gw_auth_check(struct gw_auth *auth, const char *authorization,
                  char name[GW_AUTH_NAME_MAX], struct berth_err *err)
{
	char hash[BERTH_SHA256_HEX_LEN + 1];
	const char *tok;
	sqlite3_stmt *st = NULL;
	bool ok = false;
	int rc, rv = 0;

	if (authorization == NULL
	    || strncasecmp(authorization, "Bearer ", 7) != 0)
		return berth_err_set(err, BERTH_EUNAUTH, UNAUTH_MESSAGE);
	tok = authorization + 7;
	while (*tok == ' ')
		tok++;
	if (tok[0] == '\0' || strlen(tok) > TOKEN_MAX_LEN)
		return berth_err_set(err, BERTH_EUNAUTH, UNAUTH_MESSAGE);
	berth_sha256_hex(tok, strlen(tok), hash);

	berth_store_lock(auth->store);
	rc = SQLITE_OK;
	if (auth->check_st == NULL)
		rc = sqlite3_prepare_v2(berth_store_db(auth->store),
		                        "SELECT name, hash FROM tokens "
		                        "WHERE hash = ?1 AND revoked = 0",
		                        -1, &auth->check_st, NULL);
	st = auth->check_st;
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
	}
	if (rc == SQLITE_ROW) {
		const char *n = (const char *)sqlite3_column_text(st, 0);
		const char *h = (const char *)sqlite3_column_text(st, 1);

		/* The index found it; compare again without a timing
		 * signal in case of a collation or index surprise. */
		if (n != NULL && h != NULL && strlen(h) == BERTH_SHA256_HEX_LEN
		    && berth_ct_equal(h, hash, BERTH_SHA256_HEX_LEN)) {
			snprintf(name, GW_AUTH_NAME_MAX, "%s", n);
			ok = true;
		}
	} else if (rc != SQLITE_DONE) {
		rv = berth_store_error(auth->store, rc, "tokens", err);
	}
	if (st != NULL) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st); /* the hash is on our stack */
	}
	berth_store_unlock(auth->store);
	explicit_bzero(hash, sizeof(hash));
	if (rv != 0)
		return rv;
	if (!ok)
		return berth_err_set(err, BERTH_EUNAUTH, UNAUTH_MESSAGE);
	return 0;
}

int gw_auth_create_token(struct gw_auth *auth, char **token, const char *name,
                         struct berth_err *err)
{
	char *t = NULL;
	size_t len = name != NULL ? strlen(name) : 0;
	int rv;

	if (len == 0 || len >= GW_AUTH_NAME_MAX
	    || strspn(name,
	              "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	              "0123456789_.-")
	        != len)
		return berth_err_set(err, BERTH_EINVAL,
		                     "name: must match [a-zA-Z0-9_.-]{1,63}");
	rv = new_token(&t, err);
	if (rv != 0)
		return rv;
	berth_store_lock(auth->store);
	rv = insert_token(auth, name, t, err);
	berth_store_unlock(auth->store);
	if (rv != 0) {
		explicit_bzero(t, strlen(t));
		free(t);
		return rv;
	}
	*token = t;
	return 0;
}
