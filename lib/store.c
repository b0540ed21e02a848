/*
 * store.c: a service's SQLite file: open, pragmas, numbered migrations,
 * and the mutex that serialises the one connection (see store.h).
 *
 * The pragmas are the durability contract of the jobs table: WAL so that
 * readers do not block the writer, synchronous=FULL so that a committed
 * transaction survives a power cut, busy_timeout so that two processes
 * sharing a file wait for each other instead of failing at once.
 */
#include "lib/store.h"

#include "lib/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define BUSY_TIMEOUT_MS 5000

struct berth_store {
	sqlite3 *db;
	char *path;
	pthread_mutex_t mu;
};

int berth_store_error(struct berth_store *st, int sqlite_rc, const char *what,
                      struct berth_err *err)
{
	const char *detail = sqlite3_errstr(sqlite_rc);

	/* The connection's message is more specific ("UNIQUE constraint
	 * failed: jobs.idem_key") when it belongs to this result. */
	if (st != NULL && st->db != NULL
	    && (sqlite3_errcode(st->db) & 0xff) == (sqlite_rc & 0xff))
		detail = sqlite3_errmsg(st->db);
	switch (sqlite_rc & 0xff) {
	case SQLITE_CONSTRAINT:
		return berth_err_set(err, BERTH_EEXISTS, "%s: %s", what,
		                     detail);
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return berth_err_set_retryable(
		    err, BERTH_EUNAVAIL, "%s: database busy: %s", what, detail);
	case SQLITE_FULL:
		return berth_err_set(err, BERTH_ELIMIT, "%s: %s", what, detail);
	default:
		return berth_err_set(err, BERTH_EINTERNAL, "%s: %s", what,
		                     detail);
	}
}

/* Runs SQL without results; the error names `what`. */
static int exec_sql(struct berth_store *st, const char *sql, const char *what,
                    struct berth_err *err)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return berth_store_error(st, rc, what, err);
	return 0;
}

/* Reads a single-integer pragma such as user_version. */
static int pragma_int(struct berth_store *st, const char *sql, int *out,
                      struct berth_err *err)
{
	sqlite3_stmt *stmt = NULL;
	int rc;
	int rv = 0;

	rc = sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW) {
		rv = berth_store_error(st, rc, sql, err);
		goto out;
	}
	*out = sqlite3_column_int(stmt, 0);
out:
	sqlite3_finalize(stmt);
	return rv;
}

/* Makes the file ourselves so it is 0600 from its first moment: SQLite
 * would create it 0644 minus the umask, and the -wal and -shm files take
 * the database's mode. Also gives a clear message for a missing folder. */
static int create_file(const char *path, struct berth_err *err)
{
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	int e = errno;
	char *copy;
	int rv;

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	copy = berth_strdup(path);
	switch (e) {
	case ENOENT:
		rv = berth_err_set(err, BERTH_ENOTFOUND,
		                   "cannot create database %s: directory %s "
		                   "does not exist",
		                   path, dirname(copy));
		break;
	case ELOOP:
		rv = berth_err_set(
		    err, BERTH_EINVAL,
		    "database %s is a symbolic link; refusing it", path);
		break;
	case EACCES:
	case EPERM:
	case EROFS:
		rv = berth_err_set(err, BERTH_EPERM,
		                   "cannot open database %s: %s", path,
		                   strerror(e));
		break;
	default:
		rv = berth_err_set(err, BERTH_EINTERNAL,
		                   "cannot open database %s: %s", path,
		                   strerror(e));
		break;
	}
	free(copy);
	return rv;
}

static int set_pragmas(struct berth_store *st, struct berth_err *err)
{
	sqlite3_stmt *stmt = NULL;
	const char *mode;
	int rc;
	int rv;

	rc = sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
	if (rc != SQLITE_OK)
		return berth_store_error(st, rc, "setting busy_timeout", err);

	/* journal_mode answers with the mode it ended in: a file system
	 * without shared memory leaves it at "delete", which we refuse
	 * rather than silently lose the WAL guarantees. */
	rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, &stmt,
	                        NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW) {
		rv = berth_store_error(st, rc, "setting journal_mode=WAL", err);
		goto out;
	}
	mode = (const char *)sqlite3_column_text(stmt, 0);
	if (mode == NULL || strcasecmp(mode, "wal") != 0) {
		rv = berth_err_set(err, BERTH_EPRECOND,
		                   "database %s could not be put in WAL mode "
		                   "(it is in %s mode)",
		                   st->path,
		                   mode != NULL ? mode : "an unknown");
		goto out;
	}
	rv = exec_sql(st, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
	              "setting pragmas", err);
out:
	sqlite3_finalize(stmt);
	return rv;
}

/* Applies one migration in its own write transaction, together with its
 * user_version, so a crash leaves the file at N-1 or N, never between.
 * The version is read again inside the transaction: another process
 * opening the same file may have applied the step meanwhile. */
static int apply_migration(struct berth_store *st,
                           const struct berth_migration *m,
                           struct berth_err *err)
{
	char *bump = NULL;
	char *what = NULL;
	int cur = 0;
	int rv;

	rv = exec_sql(st, "BEGIN IMMEDIATE", "starting a migration", err);
	if (rv != 0)
		return rv;
	rv = pragma_int(st, "PRAGMA user_version", &cur, err);
	if (rv != 0 || cur >= m->version)
		goto out;
	what = berth_asprintf("migration %d of %s", m->version, st->path);
	rv = exec_sql(st, m->sql, what, err);
	if (rv != 0)
		goto out;
	bump = berth_asprintf("PRAGMA user_version = %d", m->version);
	rv = exec_sql(st, bump, what, err);
	if (rv != 0)
		goto out;
	rv = exec_sql(st, "COMMIT", what, err);
out:
	if (rv != 0 && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	else if (rv == 0 && !sqlite3_get_autocommit(st->db))
		rv = exec_sql(st, "COMMIT", "ending a migration", err);
	free(bump);
	free(what);
	return rv;
}

static int migrate(struct berth_store *st, const struct berth_migration *migs,
                   size_t nmigs, struct berth_err *err)
{
	int cur = 0;
	int rv;

	rv = pragma_int(st, "PRAGMA user_version", &cur, err);
	if (rv != 0)
		return rv;
	if (cur < 0 || (size_t)cur > nmigs)
		return berth_err_set(err, BERTH_EPRECOND,
		                     "database %s is at schema version %d but "
		                     "this berth knows only up to %zu",
		                     st->path, cur, nmigs);
	for (size_t i = (size_t)cur; i < nmigs; i++) {
		rv = apply_migration(st, &migs[i], err);
		if (rv != 0)
			return rv;
	}
	return 0;
}

int berth_store_open(struct berth_store **out, const char *path,
                     const struct berth_migration *migs, size_t nmigs,
                     struct berth_err *err)
{
	struct berth_store *st = NULL;
	int rc;
	int rv;

	if (path == NULL || path[0] == '\0' || (migs == NULL && nmigs > 0))
		return berth_err_set(err, BERTH_EINVAL,
		                     "berth_store_open: no database path");
	/* A gap or a reordering is a programmer error, caught before the
	 * file is touched. */
	for (size_t i = 0; i < nmigs; i++)
		if (migs[i].version != (int)i + 1 || migs[i].sql == NULL)
			return berth_err_set(
			    err, BERTH_EINVAL,
			    "migration at index %zu has version "
			    "%d, expected %zu (versions count 1, "
			    "2, 3 ... without gaps)",
			    i, migs[i].version, i + 1);
	rv = create_file(path, err);
	if (rv != 0)
		return rv;
	st = berth_calloc(1, sizeof(*st));
	st->path = berth_strdup(path);
	pthread_mutex_init(&st->mu, NULL);
	rc = sqlite3_open_v2(path, &st->db,
	                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
	                         | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_NOFOLLOW,
	                     NULL);
	if (rc != SQLITE_OK) {
		rv = berth_err_set(err, BERTH_EINTERNAL,
		                   "cannot open database %s: %s", path,
		                   st->db != NULL ? sqlite3_errmsg(st->db)
		                                  : sqlite3_errstr(rc));
		goto out;
	}
	sqlite3_extended_result_codes(st->db, 1);
	rv = set_pragmas(st, err);
	if (rv != 0)
		goto out;
	rv = migrate(st, migs, nmigs, err);
	if (rv != 0)
		goto out;
	*out = st;
	st = NULL;
out:
	berth_store_close(st);
	return rv;
}

void berth_store_close(struct berth_store *st)
{
	if (st == NULL)
		return;
	/* close_v2 defers the close should a statement still be open (a bug
	 * elsewhere) instead of leaking the connection. */
	sqlite3_close_v2(st->db);
	pthread_mutex_destroy(&st->mu);
	free(st->path);
	free(st);
}

sqlite3 *berth_store_db(struct berth_store *st)
{
	return st->db;
}

void berth_store_lock(struct berth_store *st)
{
	pthread_mutex_lock(&st->mu);
}

void berth_store_unlock(struct berth_store *st)
{
	pthread_mutex_unlock(&st->mu);
}

int berth_store_version(struct berth_store *st)
{
	int v = -1;

	berth_store_lock(st);
	if (pragma_int(st, "PRAGMA user_version", &v, NULL) != 0)
		v = -1;
	berth_store_unlock(st);
	return v;
}
