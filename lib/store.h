/*
 * store.h: a service's own SQLite file.
 *
 * Each service keeps its state in one SQLite database opened in WAL mode
 * with a busy timeout and synchronous=FULL, so a commit that created a
 * job is on disk before any reply carries the job's id. The schema is
 * brought up to date by numbered migrations recorded in
 * PRAGMA user_version: migration N runs once, in its own transaction,
 * when user_version < N.
 *
 * One connection per store, guarded by a mutex: callers that run several
 * statements that must not interleave take berth_store_lock().
 */
#ifndef BERTH_LIB_STORE_H
#define BERTH_LIB_STORE_H

#include "lib/error.h"

#include <sqlite3.h>
#include <stddef.h>

struct berth_store;

/* One schema step. `version` counts 1, 2, 3 ... without gaps. */
struct berth_migration {
	int version;
	const char *sql; /* one or more statements */
};

/*
 * The jobs table's migrations (see jobs.h). A service lists these first
 * in its own migration array, then its own steps numbered after them.
 */
extern const struct berth_migration berth_jobs_migrations[];
extern const size_t berth_jobs_migrations_count;

/*
 * Opens (creating when missing, mode 0600) the database at `path` and
 * applies `migs[0..nmigs)` in order. Refuses a database whose
 * user_version is newer than the last migration (BERTH_EPRECOND: a newer
 * berth wrote it). Caller owns `*out`; free with berth_store_close().
 */
int berth_store_open(struct berth_store **out, const char *path,
                     const struct berth_migration *migs, size_t nmigs,
                     struct berth_err *err);

/* Closes the database. Accepts NULL. */
void berth_store_close(struct berth_store *st);

/* The connection. Borrowed; valid until berth_store_close(). */
sqlite3 *berth_store_db(struct berth_store *st);

/* Serialises use of the connection between threads. Not recursive. */
void berth_store_lock(struct berth_store *st);
void berth_store_unlock(struct berth_store *st);

/*
 * Translates a SQLite result code into a berth code with a message naming
 * `what`: SQLITE_CONSTRAINT -> BERTH_EEXISTS, SQLITE_BUSY/LOCKED ->
 * BERTH_EUNAVAIL (retryable), SQLITE_FULL -> BERTH_ELIMIT, others ->
 * BERTH_EINTERNAL.
 */
int berth_store_error(struct berth_store *st, int sqlite_rc, const char *what,
                      struct berth_err *err);

/* The schema version the file is at. */
int berth_store_version(struct berth_store *st);

#endif
