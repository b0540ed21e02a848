/*
 * jobs.c: the durable jobs table of a service's store (see jobs.h).
 *
 * Every change that must not interleave with another process's runs in a
 * BEGIN IMMEDIATE transaction: the write lock is taken up front, so two
 * runtimes sharing a file can neither claim the same job nor create two
 * jobs for one idempotency key. Each function holds the store's mutex for
 * its whole statement sequence, since the connection is shared by the
 * service's threads.
 */
#include "lib/clock.h"
#include "lib/jobs.h"

#include "lib/alloc.h"
#include "lib/sha256.h"
#include "lib/validate.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * Version 1: the table every service shares. Text columns are NOT NULL
 * with '' for "none" so readers need no NULL checks; idem_key alone is
 * NULL when absent, because UNIQUE must let many keyless jobs coexist.
 * The (state, created_ms) index serves claim (oldest queued first) and
 * reconcile (all running) without scanning finished jobs.
 */
static const char jobs_v1[]
    = "CREATE TABLE jobs ("
      " id TEXT PRIMARY KEY NOT NULL,"
      " kind TEXT NOT NULL,"
      " state TEXT NOT NULL CHECK (state IN ('queued', 'running',"
      "   'succeeded', 'failed', 'cancelled')),"
      " progress INTEGER NOT NULL DEFAULT -1"
      "   CHECK (progress BETWEEN -1 AND 100),"
      " detail TEXT NOT NULL DEFAULT '',"
      " result TEXT NOT NULL DEFAULT '',"
      " error_code INTEGER NOT NULL DEFAULT 0,"
      " error TEXT NOT NULL DEFAULT '',"
      " owner TEXT NOT NULL DEFAULT '',"
      " idem_key TEXT UNIQUE,"
      " request_hash TEXT NOT NULL DEFAULT '',"
      " payload BLOB,"
      " lease_holder TEXT NOT NULL DEFAULT '',"
      " lease_expiry_ms INTEGER NOT NULL DEFAULT 0,"
      " attempts INTEGER NOT NULL DEFAULT 0,"
      " created_ms INTEGER NOT NULL,"
      " updated_ms INTEGER NOT NULL"
      ");"
      "CREATE INDEX jobs_state_created ON jobs (state, created_ms);";

const struct berth_migration berth_jobs_migrations[] = {
	{ .version = 1, .sql = jobs_v1 },
};
const size_t berth_jobs_migrations_count
    = sizeof(berth_jobs_migrations) / sizeof(berth_jobs_migrations[0]);

/* Longest lease a runner may ask for: keeps now + lease far from
 * overflow, and a lease that long would only hide a dead runner. */
#define MAX_LEASE_MS ((int64_t)7 * 24 * 3600 * 1000)

/* The columns every loader reads, in struct order. */
#define JOB_COLUMNS                                                      \
	"id, kind, state, progress, detail, result, error_code, error, " \
	"owner, idem_key, payload, lease_holder, lease_expiry_ms, "      \
	"created_ms, updated_ms, attempts"

const char *berth_job_state_name(enum berth_job_state state)
{
	switch (state) {
	case BERTH_JOB_QUEUED: return "queued";
	case BERTH_JOB_RUNNING: return "running";
	case BERTH_JOB_SUCCEEDED: return "succeeded";
	case BERTH_JOB_FAILED: return "failed";
	case BERTH_JOB_CANCELLED: return "cancelled";
	}
	return "unknown";
}

static int state_from_name(const char *name, enum berth_job_state *out)
{
	for (int s = BERTH_JOB_QUEUED; s <= BERTH_JOB_CANCELLED; s++) {
		if (strcmp(name, berth_job_state_name(s)) == 0) {
			*out = (enum berth_job_state)s;
			return 0;
		}
	}
	return BERTH_EDATALOSS;
}

void berth_job_free(struct berth_job *job)
{
	if (job == NULL)
		return;
	free(job->kind);
	free(job->detail);
	free(job->result);
	free(job->error);
	free(job->owner);
	free(job->idem_key);
	free(job->payload);
	free(job->lease_holder);
	free(job);
}

static char *col_str(sqlite3_stmt *stmt, int i)
{
	const unsigned char *t = sqlite3_column_text(stmt, i);

	return berth_strdup(t != NULL ? (const char *)t : "");
}

/*
 * A copy of `s` fit to store (jobs.h): at most `max` bytes, cut at a
 * character boundary with "..." after it; invalid UTF-8 as '?', control
 * characters (an engine's "\r" progress bars, escapes) as ' '. NULL stays
 * NULL. Caller owns the copy; free with free().
 */
static char *clean_text(const char *s, size_t max)
{
	size_t n, i = 0, o = 0, limit;
	char *c;

	if (s == NULL)
		return NULL;
	n = strlen(s);
	limit = n <= max ? n : max - 3;
	c = berth_malloc(limit + 4);
	while (i < n) {
		unsigned char b = (unsigned char)s[i];
		size_t k = berth_utf8_seq_len(s + i, n - i);

		if (o + (k == 0 ? 1 : k) > limit)
			break;
		if (k == 0) {
			c[o++] = '?';
			i++;
		} else if ((b < 0x20 && b != '\t') || b == 0x7f) {
			c[o++] = ' ';
			i++;
		} else {
			memcpy(c + o, s + i, k);
			o += k;
			i += k;
		}
	}
	if (i < n) {
		memcpy(c + o, "...", 3);
		o += 3;
	}
	c[o] = '\0';
	return c;
}

/* Builds a job from a row selected with JOB_COLUMNS. */
static int row_to_job(sqlite3_stmt *stmt, struct berth_job **out,
                      struct berth_err *err)
{
	struct berth_job *job;
	const unsigned char *id = sqlite3_column_text(stmt, 0);
	const unsigned char *state = sqlite3_column_text(stmt, 2);
	const void *blob;
	int blen;
	enum berth_job_state st;

	if (id == NULL || strlen((const char *)id) != BERTH_JOB_ID_LEN
	    || state == NULL || state_from_name((const char *)state, &st) != 0)
		return berth_err_set(err, BERTH_EDATALOSS,
		                     "jobs table holds a malformed row (id %s)",
		                     id != NULL ? (const char *)id : "NULL");
	job = berth_calloc(1, sizeof(*job));
	memcpy(job->id, id, BERTH_JOB_ID_LEN + 1);
	job->kind = col_str(stmt, 1);
	job->state = st;
	job->progress = sqlite3_column_int(stmt, 3);
	job->detail = col_str(stmt, 4);
	job->result = col_str(stmt, 5);
	job->error_code = sqlite3_column_int(stmt, 6);
	job->error = col_str(stmt, 7);
	job->owner = col_str(stmt, 8);
	job->idem_key = col_str(stmt, 9);
	/* The payload always gets a buffer with a NUL after it, so a text
	 * payload can be read as a string and an empty one is not NULL. */
	blob = sqlite3_column_blob(stmt, 10);
	blen = sqlite3_column_bytes(stmt, 10);
	job->payload_len = blen > 0 ? (size_t)blen : 0;
	job->payload = berth_malloc(job->payload_len + 1);
	if (job->payload_len > 0)
		memcpy(job->payload, blob, job->payload_len);
	((char *)job->payload)[job->payload_len] = '\0';
	job->lease_holder = col_str(stmt, 11);
	job->lease_expiry_ms = sqlite3_column_int64(stmt, 12);
	job->created_ms = sqlite3_column_int64(stmt, 13);
	job->updated_ms = sqlite3_column_int64(stmt, 14);
	job->attempts = sqlite3_column_int(stmt, 15);
	*out = job;
	return 0;
}

static int prepare(struct berth_store *st, sqlite3_stmt **stmt, const char *sql,
                   const char *what, struct berth_err *err)
{
	int rc = sqlite3_prepare_v2(berth_store_db(st), sql, -1, stmt, NULL);

	if (rc != SQLITE_OK)
		return berth_store_error(st, rc, what, err);
	return 0;
}

/* Loads the job with `id`. Caller holds the lock. */
static int load_job(struct berth_store *st, const char *id,
                    struct berth_job **out, struct berth_err *err)
{
	sqlite3_stmt *stmt = NULL;
	int rc;
	int rv;

	rv = prepare(st, &stmt,
	             "SELECT " JOB_COLUMNS " FROM jobs WHERE id = ?1",
	             "reading a job", err);
	if (rv != 0)
		goto out;
	sqlite3_bind_text(stmt, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		rv = row_to_job(stmt, out, err);
	else if (rc == SQLITE_DONE)
		rv = berth_err_set(err, BERTH_ENOTFOUND, "job %s not found",
		                   id);
	else
		rv = berth_store_error(st, rc, "reading a job", err);
out:
	sqlite3_finalize(stmt);
	return rv;
}

static int tx_begin(struct berth_store *st, struct berth_err *err)
{
	int rc = sqlite3_exec(berth_store_db(st), "BEGIN IMMEDIATE", NULL, NULL,
	                      NULL);

	if (rc != SQLITE_OK)
		return berth_store_error(st, rc, "starting a transaction", err);
	return 0;
}

/* Commits when rv is 0, else rolls back; returns the outcome. */
static int tx_end(struct berth_store *st, int rv, struct berth_err *err)
{
	sqlite3 *db = berth_store_db(st);
	int rc;

	if (rv == 0) {
		rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		if (rc != SQLITE_OK)
			rv = berth_store_error(st, rc, "committing", err);
	}
	/* SQLite rolls back by itself after some errors; only roll back a
	 * transaction that is still open. */
	if (rv != 0 && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rv;
}

/* Runs a prepared write to completion and finalizes it. */
static int step_done(struct berth_store *st, sqlite3_stmt *stmt,
                     const char *what, struct berth_err *err)
{
	int rc = sqlite3_step(stmt);
	int rv = 0;

	if (rc != SQLITE_DONE)
		rv = berth_store_error(st, rc, what, err);
	sqlite3_finalize(stmt);
	return rv;
}

/* Explains why a guarded UPDATE changed no row. Caller holds the lock. */
static int why_unchanged(struct berth_store *st, const char *id,
                         const char *holder, struct berth_err *err)
{
	struct berth_job *job = NULL;
	int rv;

	rv = load_job(st, id, &job, err);
	if (rv != 0)
		return rv;
	if (job->state != BERTH_JOB_QUEUED && job->state != BERTH_JOB_RUNNING)
		rv = berth_err_set(err, BERTH_EPRECOND, "job %s already %s", id,
		                   berth_job_state_name(job->state));
	else if (holder != NULL && job->state == BERTH_JOB_QUEUED)
		rv = berth_err_set(err, BERTH_EPRECOND,
		                   "job %s is queued, not held by %s", id,
		                   holder);
	else if (holder != NULL)
		rv = berth_err_set(err, BERTH_EPRECOND,
		                   "job %s is held by %s, not by %s", id,
		                   job->lease_holder, holder);
	else
		rv = berth_err_set(err, BERTH_EPRECOND,
		                   "job %s changed meanwhile (%s)", id,
		                   berth_job_state_name(job->state));
	berth_job_free(job);
	return rv;
}

/* Hex SHA-256 of (kind, NUL, payload): the request's fingerprint. */
static void request_hash(const char *kind, const void *payload,
                         size_t payload_len, char out[BERTH_SHA256_HEX_LEN + 1])
{
	struct berth_sha256 ctx;
	uint8_t d[BERTH_SHA256_LEN];

	berth_sha256_init(&ctx);
	berth_sha256_update(&ctx, kind, strlen(kind) + 1);
	if (payload_len > 0)
		berth_sha256_update(&ctx, payload, payload_len);
	berth_sha256_final(&ctx, d);
	berth_sha256_digest_hex(d, out);
}

/*
 * Looks up the job created for `key`. 0 with *id filled: same request;
 * BERTH_ENOTFOUND: the key is new. A request from another owner counts as
 * another request, so one caller cannot read another's job by guessing
 * its request id. Caller holds the lock, inside the transaction.
 */
static int find_by_key(struct berth_store *st, const char *key,
                       const char *hash, const char *owner,
                       char id[BERTH_JOB_ID_LEN + 1], struct berth_err *err)
{
	sqlite3_stmt *stmt = NULL;
	const char *row_id, *row_hash, *row_owner;
	int rc;
	int rv;

	rv = prepare(st, &stmt,
	             "SELECT id, request_hash, owner FROM jobs "
	             "WHERE idem_key = ?1",
	             "looking up a request id", err);
	if (rv != 0)
		goto out;
	sqlite3_bind_text(stmt, 1, key, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		rv = BERTH_ENOTFOUND;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		rv = berth_store_error(st, rc, "looking up a request id", err);
		goto out;
	}
	row_id = (const char *)sqlite3_column_text(stmt, 0);
	row_hash = (const char *)sqlite3_column_text(stmt, 1);
	row_owner = (const char *)sqlite3_column_text(stmt, 2);
	if (row_id == NULL || strlen(row_id) != BERTH_JOB_ID_LEN
	    || row_hash == NULL || row_owner == NULL) {
		rv = berth_err_set(err, BERTH_EDATALOSS,
		                   "jobs table holds a malformed row for "
		                   "request id %s",
		                   key);
		goto out;
	}
	if (strcmp(row_hash, hash) != 0 || strcmp(row_owner, owner) != 0) {
		rv = berth_err_set(err, BERTH_EPRECOND,
		                   "request id %s was already used for a "
		                   "different request",
		                   key);
		goto out;
	}
	memcpy(id, row_id, BERTH_JOB_ID_LEN + 1);
out:
	sqlite3_finalize(stmt);
	return rv;
}

static int insert_job(struct berth_store *st, const char *id, const char *kind,
                      const char *owner, const char *key, const char *hash,
                      const void *payload, size_t payload_len,
                      struct berth_err *err)
{
	sqlite3_stmt *stmt = NULL;
	int64_t now = berth_clock_unix_ms();
	int rv;

	rv = prepare(st, &stmt,
	             "INSERT INTO jobs (id, kind, state, owner, idem_key, "
	             "request_hash, payload, created_ms, updated_ms) "
	             "VALUES (?1, ?2, 'queued', ?3, ?4, ?5, ?6, ?7, ?7)",
	             "creating a job", err);
	if (rv != 0)
		return rv;
	sqlite3_bind_text(stmt, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 2, kind, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 3, owner, -1, SQLITE_TRANSIENT);
	if (key != NULL)
		sqlite3_bind_text(stmt, 4, key, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(stmt, 4);
	sqlite3_bind_text(stmt, 5, hash, -1, SQLITE_TRANSIENT);
	/* A zero-length blob rather than NULL: "" is a valid payload. */
	sqlite3_bind_blob64(stmt, 6, payload_len > 0 ? payload : "",
	                    payload_len, SQLITE_TRANSIENT);
	sqlite3_bind_int64(stmt, 7, now);
	return step_done(st, stmt, "creating a job", err);
}

int berth_jobs_create(struct berth_store *st, struct berth_job **out,
                      bool *created, const char *kind, const char *owner,
                      const char *idem_key, const void *payload,
                      size_t payload_len, struct berth_err *err)
{
	char hash[BERTH_SHA256_HEX_LEN + 1];
	char id[BERTH_JOB_ID_LEN + 1];
	struct berth_job *job = NULL;
	bool is_new = false;
	int rv;

	if (kind == NULL || kind[0] == '\0')
		return berth_err_set(err, BERTH_EINVAL, "a job needs a kind");
	if (payload == NULL && payload_len > 0)
		return berth_err_set(err, BERTH_EINVAL,
		                     "job payload is NULL but %zu bytes long",
		                     payload_len);
	if (owner == NULL)
		owner = "";
	if (idem_key != NULL && idem_key[0] == '\0')
		idem_key = NULL;
	request_hash(kind, payload, payload_len, hash);

	berth_store_lock(st);
	rv = tx_begin(st, err);
	if (rv != 0)
		goto out;
	if (idem_key != NULL) {
		rv = find_by_key(st, idem_key, hash, owner, id, err);
		if (rv != 0 && rv != BERTH_ENOTFOUND)
			goto end;
	}
	if (idem_key == NULL || rv == BERTH_ENOTFOUND) {
		rv = berth_uuid_v4(id, err);
		if (rv != 0)
			goto end;
		rv = insert_job(st, id, kind, owner, idem_key, hash, payload,
		                payload_len, err);
		if (rv != 0)
			goto end;
		is_new = true;
	}
	rv = load_job(st, id, &job, err);
end:
	/* The commit is the durability point (synchronous=FULL). */
	rv = tx_end(st, rv, err);
out:
	berth_store_unlock(st);
	if (rv != 0) {
		berth_job_free(job);
		return rv;
	}
	if (created != NULL)
		*created = is_new;
	*out = job;
	return 0;
}

int berth_jobs_get(struct berth_store *st, struct berth_job **out,
                   const char *id, struct berth_err *err)
{
	int rv;

	if (id == NULL)
		return berth_err_set(err, BERTH_EINVAL, "no job id");
	berth_store_lock(st);
	rv = load_job(st, id, out, err);
	berth_store_unlock(st);
	return rv;
}

int berth_jobs_claim(struct berth_store *st, struct berth_job **out,
                     const char *kind, const char *holder, int64_t lease_ms,
                     struct berth_err *err)
{
	sqlite3_stmt *stmt = NULL;
	struct berth_job *job = NULL;
	char id[BERTH_JOB_ID_LEN + 1];
	const unsigned char *row_id;
	int64_t now = berth_clock_unix_ms();
	int rc;
	int rv;

	if (holder == NULL || holder[0] == '\0' || lease_ms <= 0
	    || lease_ms > MAX_LEASE_MS)
		return berth_err_set(
		    err, BERTH_EINVAL,
		    "claiming a job needs a holder and a lease "
		    "of 1 ms to 7 days");
	berth_store_lock(st);
	rv = tx_begin(st, err);
	if (rv != 0)
		goto out;
	/* state IN (...) lets SQLite walk the (state, created_ms) index for
	 * live jobs only; finished ones, the bulk of the table, are skipped.
	 * rowid breaks ties between jobs created in the same millisecond. */
	rv = prepare(st, &stmt,
	             "SELECT id FROM jobs "
	             "WHERE state IN ('queued', 'running') "
	             "AND (state = 'queued' OR lease_expiry_ms < ?1) "
	             "AND (?2 IS NULL OR kind = ?2) "
	             "ORDER BY created_ms, rowid LIMIT 1",
	             "claiming a job", err);
	if (rv != 0)
		goto end;
	sqlite3_bind_int64(stmt, 1, now);
	if (kind != NULL)
		sqlite3_bind_text(stmt, 2, kind, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(stmt, 2);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		rv = berth_err_set(err, BERTH_ENOTFOUND, "no %s job to claim",
		                   kind != NULL ? kind : "queued");
		goto end;
	}
	if (rc != SQLITE_ROW) {
		rv = berth_store_error(st, rc, "claiming a job", err);
		goto end;
	}
	row_id = sqlite3_column_text(stmt, 0);
	if (row_id == NULL
	    || strlen((const char *)row_id) != BERTH_JOB_ID_LEN) {
		rv = berth_err_set(err, BERTH_EDATALOSS,
		                   "jobs table holds a malformed id");
		goto end;
	}
	memcpy(id, row_id, sizeof(id));
	sqlite3_finalize(stmt);
	stmt = NULL;

	rv = prepare(st, &stmt,
	             "UPDATE jobs SET state = 'running', lease_holder = ?1, "
	             "lease_expiry_ms = ?2, attempts = attempts + 1, "
	             "updated_ms = ?3 WHERE id = ?4",
	             "claiming a job", err);
	if (rv != 0)
		goto end;
	sqlite3_bind_text(stmt, 1, holder, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(stmt, 2, now + lease_ms);
	sqlite3_bind_int64(stmt, 3, now);
	sqlite3_bind_text(stmt, 4, id, -1, SQLITE_TRANSIENT);
	rv = step_done(st, stmt, "claiming a job", err);
	stmt = NULL;
	if (rv != 0)
		goto end;
	rv = load_job(st, id, &job, err);
end:
	sqlite3_finalize(stmt);
	rv = tx_end(st, rv, err);
out:
	berth_store_unlock(st);
	if (rv != 0) {
		berth_job_free(job);
		return rv;
	}
	*out = job;
	return 0;
}

int berth_jobs_progress(struct berth_store *st, const char *id,
                        const char *holder, int progress, const char *detail,
                        int64_t lease_ms, struct berth_err *err)
{
	sqlite3_stmt *stmt = NULL;
	int64_t now = berth_clock_unix_ms();
	char *line = NULL;
	int rv;

	if (id == NULL || holder == NULL || holder[0] == '\0')
		return berth_err_set(
		    err, BERTH_EINVAL,
		    "job progress needs a job id and a holder");
	if (progress < -1 || progress > 100 || lease_ms < 0
	    || lease_ms > MAX_LEASE_MS)
		return berth_err_set(
		    err, BERTH_EINVAL,
		    "job progress %d is outside -1..100 or the "
		    "lease outside 0 ms to 7 days",
		    progress);
	berth_store_lock(st);
	/* One guarded UPDATE: the holder check and the write are atomic, so
	 * a runner whose lease was taken over cannot write over the new
	 * holder's progress. A NULL detail keeps the previous line. */
	rv = prepare(st, &stmt,
	             "UPDATE jobs SET progress = ?1, "
	             "detail = COALESCE(?2, detail), "
	             "lease_expiry_ms = CASE WHEN ?3 > 0 THEN ?4 + ?3 "
	             "ELSE lease_expiry_ms END, updated_ms = ?4 "
	             "WHERE id = ?5 AND state = 'running' "
	             "AND lease_holder = ?6",
	             "recording job progress", err);
	if (rv != 0)
		goto out;
	sqlite3_bind_int(stmt, 1, progress);
	line = clean_text(detail, BERTH_JOB_DETAIL_MAX);
	if (line != NULL)
		sqlite3_bind_text(stmt, 2, line, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(stmt, 2);
	sqlite3_bind_int64(stmt, 3, lease_ms);
	sqlite3_bind_int64(stmt, 4, now);
	sqlite3_bind_text(stmt, 5, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 6, holder, -1, SQLITE_TRANSIENT);
	rv = step_done(st, stmt, "recording job progress", err);
	if (rv == 0 && sqlite3_changes(berth_store_db(st)) == 0)
		rv = why_unchanged(st, id, holder, err);
out:
	berth_store_unlock(st);
	free(line);
	return rv;
}

int berth_jobs_finish(struct berth_store *st, const char *id,
                      const char *holder, enum berth_job_state state,
                      const char *result, int error_code, const char *error,
                      struct berth_err *err)
{
	sqlite3_stmt *stmt = NULL;
	int64_t now = berth_clock_unix_ms();
	char *res = NULL, *msg = NULL;
	int rv;

	if (id == NULL)
		return berth_err_set(err, BERTH_EINVAL, "no job id");
	if (state != BERTH_JOB_SUCCEEDED && state != BERTH_JOB_FAILED
	    && state != BERTH_JOB_CANCELLED)
		return berth_err_set(err, BERTH_EINVAL,
		                     "a job cannot end in state %s",
		                     berth_job_state_name(state));
	if (error_code > 0 || error_code < BERTH_EUNAUTH)
		return berth_err_set(err, BERTH_EINVAL,
		                     "job error code %d is not a berth code",
		                     error_code);
	res = clean_text(result, BERTH_JOB_RESULT_MAX);
	msg = clean_text(error, BERTH_JOB_ERROR_MAX);
	berth_store_lock(st);
	/* A success reports 100 %; the lease is dropped so that nothing
	 * mistakes an ended job for a live one. */
	rv = prepare(st, &stmt,
	             "UPDATE jobs SET state = ?1, result = COALESCE(?2, ''), "
	             "error_code = ?3, error = COALESCE(?4, ''), "
	             "progress = CASE WHEN ?1 = 'succeeded' THEN 100 "
	             "ELSE progress END, "
	             "lease_expiry_ms = 0, updated_ms = ?5 "
	             "WHERE id = ?6 AND state IN ('queued', 'running') "
	             "AND (?7 IS NULL OR lease_holder = ?7)",
	             "ending a job", err);
	if (rv != 0)
		goto out;
	sqlite3_bind_text(stmt, 1, berth_job_state_name(state), -1,
	                  SQLITE_STATIC);
	if (res != NULL)
		sqlite3_bind_text(stmt, 2, res, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(stmt, 2);
	sqlite3_bind_int(stmt, 3, error_code);
	if (msg != NULL)
		sqlite3_bind_text(stmt, 4, msg, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(stmt, 4);
	sqlite3_bind_int64(stmt, 5, now);
	sqlite3_bind_text(stmt, 6, id, -1, SQLITE_TRANSIENT);
	if (holder != NULL)
		sqlite3_bind_text(stmt, 7, holder, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(stmt, 7);
	rv = step_done(st, stmt, "ending a job", err);
	if (rv == 0 && sqlite3_changes(berth_store_db(st)) == 0)
		rv = why_unchanged(st, id, holder, err);
out:
	berth_store_unlock(st);
	free(res);
	free(msg);
	return rv;
}

struct running_job {
	char id[BERTH_JOB_ID_LEN + 1];
	char *kind;
	char *holder;
};

/* The jobs left running, read completely before any is changed (an
 * UPDATE while the SELECT is still stepping may revisit rows). Caller
 * holds the lock, inside the transaction. */
static int list_running(struct berth_store *st, struct running_job **out,
                        size_t *count, struct berth_err *err)
{
	sqlite3_stmt *stmt = NULL;
	struct running_job *v = NULL;
	size_t n = 0, cap = 0;
	int rc;
	int rv;

	rv = prepare(st, &stmt,
	             "SELECT id, kind, lease_holder FROM jobs "
	             "WHERE state = 'running' "
	             "ORDER BY created_ms, rowid",
	             "listing running jobs", err);
	if (rv != 0)
		return rv;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(stmt, 0);

		if (id == NULL || strlen(id) != BERTH_JOB_ID_LEN) {
			rv = berth_err_set(err, BERTH_EDATALOSS,
			                   "jobs table holds a malformed id");
			break;
		}
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			v = berth_realloc(v, cap * sizeof(*v));
		}
		memcpy(v[n].id, id, BERTH_JOB_ID_LEN + 1);
		v[n].kind = col_str(stmt, 1);
		v[n].holder = col_str(stmt, 2);
		n++;
	}
	if (rv == 0 && rc != SQLITE_DONE)
		rv = berth_store_error(st, rc, "listing running jobs", err);
	sqlite3_finalize(stmt);
	if (rv != 0) {
		for (size_t i = 0; i < n; i++) {
			free(v[i].kind);
			free(v[i].holder);
		}
		free(v);
		return rv;
	}
	*out = v;
	*count = n;
	return 0;
}

int berth_jobs_reconcile(struct berth_store *st,
                         bool (*resumable)(const char *kind),
                         const char *reason, int *requeued, int *failed,
                         struct berth_err *err)
{
	return berth_jobs_reconcile_orphans(st, NULL, NULL, resumable, reason,
	                                    requeued, failed, err);
}

int berth_jobs_reconcile_orphans(
    struct berth_store *st, bool (*holder_gone)(const char *holder, void *arg),
    void *arg, bool (*resumable)(const char *kind), const char *reason,
    int *requeued, int *failed, struct berth_err *err)
{
	struct running_job *jobs = NULL;
	size_t n = 0;
	int nreq = 0, nfail = 0;
	int64_t now = berth_clock_unix_ms();
	int rv;

	if (reason == NULL || reason[0] == '\0')
		reason = "the service stopped while the job was running";
	berth_store_lock(st);
	rv = tx_begin(st, err);
	if (rv != 0)
		goto out;
	rv = list_running(st, &jobs, &n, err);
	for (size_t i = 0; rv == 0 && i < n; i++) {
		bool again = resumable != NULL && resumable(jobs[i].kind);
		sqlite3_stmt *stmt = NULL;

		/* A live holder keeps its job; its lease guards it. */
		if (holder_gone != NULL && !holder_gone(jobs[i].holder, arg))
			continue;
		/* A requeued job loses its lease so the next claim takes it
		 * at once; a failed one keeps the holder for the record. */
		rv = prepare(st, &stmt,
		             again ? "UPDATE jobs SET state = 'queued', "
		                     "lease_holder = '', lease_expiry_ms = 0, "
		                     "updated_ms = ?1 WHERE id = ?2"
		                   : "UPDATE jobs SET state = 'failed', "
		                     "error_code = ?3, error = ?4, "
		                     "lease_expiry_ms = 0, updated_ms = ?1 "
		                     "WHERE id = ?2",
		             "reconciling jobs", err);
		if (rv != 0)
			break;
		sqlite3_bind_int64(stmt, 1, now);
		sqlite3_bind_text(stmt, 2, jobs[i].id, -1, SQLITE_TRANSIENT);
		if (!again) {
			sqlite3_bind_int(stmt, 3, BERTH_EABORTED);
			sqlite3_bind_text(stmt, 4, reason, -1,
			                  SQLITE_TRANSIENT);
		}
		rv = step_done(st, stmt, "reconciling jobs", err);
		if (rv == 0 && again)
			nreq++;
		else if (rv == 0)
			nfail++;
	}
	rv = tx_end(st, rv, err);
out:
	berth_store_unlock(st);
	for (size_t i = 0; i < n; i++) {
		free(jobs[i].kind);
		free(jobs[i].holder);
	}
	free(jobs);
	if (rv != 0)
		return rv;
	if (requeued != NULL)
		*requeued = nreq;
	if (failed != NULL)
		*failed = nfail;
	return 0;
}
