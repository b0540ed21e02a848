/*
 * test_unit_store.c: the per-service SQLite store on real files: file
 * mode and WAL, migrations applied once, newer schemas refused, a broken
 * migration rolled back, and a clear error for a missing folder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/alloc.h"
#include "lib/store.h"
#include "tests/support/testsupport.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct berth_migration two_steps[] = {
	{ 1, "CREATE TABLE t (x INTEGER NOT NULL);" },
	{ 2, "INSERT INTO t (x) VALUES (42);" },
};

/* One integer from a query, or fail the test. */
static long long query_int(struct berth_store *st, const char *sql)
{
	sqlite3_stmt *stmt = NULL;
	long long v;

	berth_store_lock(st);
	if (sqlite3_prepare_v2(berth_store_db(st), sql, -1, &stmt, NULL)
	        != SQLITE_OK
	    || sqlite3_step(stmt) != SQLITE_ROW)
		fail_msg("%s: %s", sql, sqlite3_errmsg(berth_store_db(st)));
	v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	berth_store_unlock(st);
	return v;
}

static void test_creates_private_wal_file(void **state)
{
	char *dir = ts_tmpdir("store");
	char *path = berth_asprintf("%s/svc.db", dir);
	struct berth_store *st = NULL;
	struct berth_err err;
	sqlite3_stmt *stmt = NULL;
	struct stat sb;

	(void)state;
	berth_err_clear(&err);
	/* A permissive umask must not widen the file. */
	mode_t old = umask(0);
	assert_ok(berth_store_open(&st, path, two_steps, 2, &err), &err);
	umask(old);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	assert_int_equal(sqlite3_prepare_v2(berth_store_db(st),
	                                    "PRAGMA journal_mode", -1, &stmt,
	                                    NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "wal");
	sqlite3_finalize(stmt);
	assert_int_equal(query_int(st, "PRAGMA synchronous"), 2); /* FULL */
	assert_int_equal(query_int(st, "PRAGMA foreign_keys"), 1);
	assert_int_equal(berth_store_version(st), 2);

	/* The WAL file sqlite made beside it takes the same mode. */
	{
		char *wal = berth_asprintf("%s-wal", path);

		assert_int_equal(stat(wal, &sb), 0);
		assert_int_equal(sb.st_mode & 0777, 0600);
		free(wal);
	}
	berth_store_close(st);
	berth_store_close(NULL);
	ts_rmtree(dir);
	free(path);
	free(dir);
}

static void test_migrations_apply_once(void **state)
{
	char *dir = ts_tmpdir("store");
	char *path = berth_asprintf("%s/svc.db", dir);
	struct berth_store *st = NULL;
	struct berth_err err;

	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_ok(berth_store_open(&st, path, two_steps, 2, &err),
		          &err);
		assert_int_equal(berth_store_version(st), 2);
		assert_int_equal(query_int(st, "SELECT count(*) FROM t"), 1);
		berth_store_close(st);
		st = NULL;
	}

	/* Growing the list later applies only the new step. */
	{
		const struct berth_migration three[] = {
			two_steps[0],
			two_steps[1],
			{ 3, "INSERT INTO t (x) SELECT x + 1 FROM t;" },
		};

		assert_ok(berth_store_open(&st, path, three, 3, &err), &err);
		assert_int_equal(berth_store_version(st), 3);
		assert_int_equal(query_int(st, "SELECT count(*) FROM t"), 2);
		assert_int_equal(query_int(st, "SELECT sum(x) FROM t"), 85);
		berth_store_close(st);
	}
	ts_rmtree(dir);
	free(path);
	free(dir);
}

static void test_newer_schema_refused(void **state)
{
	char *dir = ts_tmpdir("store");
	char *path = berth_asprintf("%s/svc.db", dir);
	struct berth_store *st = NULL;
	struct berth_err err;
	int rv;

	(void)state;
	assert_ok(berth_store_open(&st, path, two_steps, 2, &err), &err);
	berth_store_close(st);
	st = NULL;

	berth_err_clear(&err);
	rv = berth_store_open(&st, path, two_steps, 1, &err);
	assert_int_equal(rv, BERTH_EPRECOND);
	assert_null(st);
	assert_non_null(strstr(err.msg, "schema version 2"));
	assert_non_null(strstr(err.msg, "only up to 1"));
	assert_non_null(strstr(err.msg, path));

	/* The file was not touched: the full list still opens it. */
	assert_ok(berth_store_open(&st, path, two_steps, 2, &err), &err);
	assert_int_equal(query_int(st, "SELECT count(*) FROM t"), 1);
	berth_store_close(st);
	ts_rmtree(dir);
	free(path);
	free(dir);
}

static void test_broken_migration_rolls_back(void **state)
{
	static const struct berth_migration broken[] = {
		{ 1, "CREATE TABLE t (x INTEGER NOT NULL);" },
		/* The first statement works, the second fails: neither may
		 * remain. */
		{ 2,
		  "CREATE TABLE half (y INTEGER);"
		  "INSERT INTO t (x) VALUES (1);"
		  "INSERT INTO no_such_table VALUES (1);" },
	};
	char *dir = ts_tmpdir("store");
	char *path = berth_asprintf("%s/svc.db", dir);
	struct berth_store *st = NULL;
	struct berth_err err;
	int rv;

	(void)state;
	berth_err_clear(&err);
	rv = berth_store_open(&st, path, broken, 2, &err);
	assert_int_equal(rv, BERTH_EINTERNAL);
	assert_null(st);
	assert_non_null(strstr(err.msg, "migration 2"));
	assert_non_null(strstr(err.msg, "no_such_table"));

	/* Version 1 was committed on its own; version 2 left nothing. */
	assert_ok(berth_store_open(&st, path, broken, 1, &err), &err);
	assert_int_equal(berth_store_version(st), 1);
	assert_int_equal(query_int(st, "SELECT count(*) FROM t"), 0);
	assert_int_equal(query_int(st,
	                           "SELECT count(*) FROM sqlite_master "
	                           "WHERE name = 'half'"),
	                 0);
	berth_store_close(st);
	ts_rmtree(dir);
	free(path);
	free(dir);
}

static void test_missing_directory(void **state)
{
	char *dir = ts_tmpdir("store");
	char *missing = berth_asprintf("%s/not/there", dir);
	char *path = berth_asprintf("%s/svc.db", missing);
	struct berth_store *st = NULL;
	struct berth_err err;
	int rv;

	(void)state;
	berth_err_clear(&err);
	rv = berth_store_open(&st, path, two_steps, 2, &err);
	assert_int_equal(rv, BERTH_ENOTFOUND);
	assert_int_equal(err.code, BERTH_ENOTFOUND);
	assert_null(st);
	assert_non_null(strstr(err.msg, missing));
	assert_int_equal(access(path, F_OK), -1);
	ts_rmtree(dir);
	free(path);
	free(missing);
	free(dir);
}

static void test_symlink_refused(void **state)
{
	char *dir = ts_tmpdir("store");
	char *target = berth_asprintf("%s/target.db", dir);
	char *link = berth_asprintf("%s/link.db", dir);
	struct berth_store *st = NULL;
	struct berth_err err;

	(void)state;
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(berth_store_open(&st, link, two_steps, 2, &err),
	                 BERTH_EINVAL);
	assert_null(st);
	assert_int_equal(access(target, F_OK), -1);
	ts_rmtree(dir);
	free(link);
	free(target);
	free(dir);
}

static void test_migration_gap_refused(void **state)
{
	static const struct berth_migration gap[] = {
		{ 1, "CREATE TABLE t (x);" },
		{ 3, "CREATE TABLE u (x);" },
	};
	char *dir = ts_tmpdir("store");
	char *path = berth_asprintf("%s/svc.db", dir);
	struct berth_store *st = NULL;
	struct berth_err err;

	(void)state;
	assert_int_equal(berth_store_open(&st, path, gap, 2, &err),
	                 BERTH_EINVAL);
	assert_null(st);
	assert_non_null(strstr(err.msg, "version 3"));
	assert_int_equal(access(path, F_OK), -1);
	ts_rmtree(dir);
	free(path);
	free(dir);
}

static void test_error_mapping(void **state)
{
	struct berth_err err;

	(void)state;
	assert_int_equal(berth_store_error(NULL, SQLITE_CONSTRAINT, "x", &err),
	                 BERTH_EEXISTS);
	assert_false(err.retryable);
	assert_int_equal(berth_store_error(NULL, SQLITE_BUSY, "x", &err),
	                 BERTH_EUNAVAIL);
	assert_true(err.retryable);
	assert_int_equal(berth_store_error(NULL, SQLITE_LOCKED, "x", &err),
	                 BERTH_EUNAVAIL);
	assert_int_equal(berth_store_error(NULL, SQLITE_FULL, "x", &err),
	                 BERTH_ELIMIT);
	assert_int_equal(
	    berth_store_error(NULL, SQLITE_IOERR_FSYNC, "saving", &err),
	    BERTH_EINTERNAL);
	assert_non_null(strstr(err.msg, "saving"));
}

/* A second connection's write lock makes BEGIN IMMEDIATE wait out the
 * busy timeout and then fail retryable, not hang or corrupt. */
static void test_busy_is_retryable(void **state)
{
	static const struct berth_migration one[] = {
		{ 1, "CREATE TABLE t (x INTEGER);" },
	};
	char *dir = ts_tmpdir("store");
	char *path = berth_asprintf("%s/svc.db", dir);
	struct berth_store *a = NULL, *b = NULL;
	struct berth_err err;
	int64_t t0;
	int rc;

	(void)state;
	assert_ok(berth_store_open(&a, path, one, 1, &err), &err);
	assert_ok(berth_store_open(&b, path, one, 1, &err), &err);
	assert_int_equal(sqlite3_exec(berth_store_db(a), "BEGIN IMMEDIATE",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_busy_timeout(berth_store_db(b), 200);
	t0 = ts_now_ms();
	rc = sqlite3_exec(berth_store_db(b), "BEGIN IMMEDIATE", NULL, NULL,
	                  NULL);
	assert_true(ts_now_ms() - t0 >= 150);
	assert_int_equal(rc & 0xff, SQLITE_BUSY);
	assert_int_equal(berth_store_error(b, rc, "writing", &err),
	                 BERTH_EUNAVAIL);
	assert_true(err.retryable);
	assert_int_equal(
	    sqlite3_exec(berth_store_db(a), "COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	berth_store_close(b);
	berth_store_close(a);
	ts_rmtree(dir);
	free(path);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_creates_private_wal_file),
		cmocka_unit_test(test_migrations_apply_once),
		cmocka_unit_test(test_newer_schema_refused),
		cmocka_unit_test(test_broken_migration_rolls_back),
		cmocka_unit_test(test_missing_directory),
		cmocka_unit_test(test_symlink_refused),
		cmocka_unit_test(test_migration_gap_refused),
		cmocka_unit_test(test_error_mapping),
		cmocka_unit_test(test_busy_is_retryable),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
