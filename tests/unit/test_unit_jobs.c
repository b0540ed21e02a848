/*
 * test_unit_jobs.c: the durable jobs table on real SQLite files:
 * create/get, idempotency keys, claim order and lease takeover, holder
 * checks, finishing once, concurrent claimers, and reconcile after a
 * process was really killed mid-job.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/alloc.h"
#include "lib/jobs.h"
#include "lib/store.h"
#include "tests/support/testsupport.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct fixture {
	char *dir;
	char *path;
	struct berth_store *st;
};

static int setup(void **state)
{
	struct fixture *f = berth_calloc(1, sizeof(*f));
	struct berth_err err;

	f->dir = ts_tmpdir("jobs");
	f->path = berth_asprintf("%s/svc.db", f->dir);
	if (berth_store_open(&f->st, f->path, berth_jobs_migrations,
	                     berth_jobs_migrations_count, &err)
	    != 0) {
		print_error("open: %s\n", err.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	berth_store_close(f->st);
	ts_rmtree(f->dir);
	free(f->path);
	free(f->dir);
	free(f);
	return 0;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long count_rows(struct berth_store *st, const char *where)
{
	char *sql = berth_asprintf("SELECT count(*) FROM jobs WHERE %s", where);
	sqlite3_stmt *stmt = NULL;
	long long n;

	berth_store_lock(st);
	if (sqlite3_prepare_v2(berth_store_db(st), sql, -1, &stmt, NULL)
	        != SQLITE_OK
	    || sqlite3_step(stmt) != SQLITE_ROW)
		fail_msg("%s: %s", sql, sqlite3_errmsg(berth_store_db(st)));
	n = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	berth_store_unlock(st);
	free(sql);
	return n;
}

static struct berth_job *create(struct berth_store *st, const char *kind,
                                const char *key, const char *payload)
{
	struct berth_job *job = NULL;
	struct berth_err err;

	assert_ok(berth_jobs_create(st, &job, NULL, kind, "alice", key, payload,
	                            strlen(payload), &err),
	          &err);
	return job;
}

static void test_create_get_round_trip(void **state)
{
	struct fixture *f = *state;
	static const char payload[] = "img\0ref:latest"; /* a NUL inside */
	struct berth_job *job = NULL, *got = NULL;
	struct berth_err err;
	bool created = false;
	int64_t t0 = wall_ms();

	assert_ok(berth_jobs_create(f->st, &job, &created, "pull", "alice",
	                            NULL, payload, sizeof(payload) - 1, &err),
	          &err);
	assert_true(created);
	assert_int_equal(strlen(job->id), BERTH_JOB_ID_LEN);
	assert_int_equal(job->id[8], '-');
	assert_int_equal(job->id[14], '4'); /* UUID version 4 */
	assert_non_null(strchr("89ab", job->id[19]));
	assert_string_equal(job->kind, "pull");
	assert_int_equal(job->state, BERTH_JOB_QUEUED);
	assert_int_equal(job->progress, -1);
	assert_int_equal(job->attempts, 0);
	assert_true(job->created_ms >= t0 - 1000
	            && job->created_ms <= wall_ms() + 1000);

	assert_ok(berth_jobs_get(f->st, &got, job->id, &err), &err);
	assert_string_equal(got->id, job->id);
	assert_string_equal(got->owner, "alice");
	/* Empty strings, never NULL. */
	assert_string_equal(got->detail, "");
	assert_string_equal(got->result, "");
	assert_string_equal(got->error, "");
	assert_string_equal(got->idem_key, "");
	assert_string_equal(got->lease_holder, "");
	assert_int_equal(got->error_code, 0);
	assert_int_equal(got->payload_len, sizeof(payload) - 1);
	assert_memory_equal(got->payload, payload, sizeof(payload) - 1);
	assert_int_equal(got->created_ms, job->created_ms);
	assert_string_equal(berth_job_state_name(got->state), "queued");
	berth_job_free(got);
	got = NULL;

	/* An empty payload comes back as an empty buffer, not NULL. */
	berth_job_free(job);
	job = NULL;
	assert_ok(berth_jobs_create(f->st, &job, NULL, "other", NULL, NULL,
	                            NULL, 0, &err),
	          &err);
	assert_non_null(job->payload);
	assert_int_equal(job->payload_len, 0);
	assert_string_equal(job->owner, "");

	assert_int_equal(berth_jobs_get(f->st, &got, "no-such-job", &err),
	                 BERTH_ENOTFOUND);
	assert_null(got);
	assert_int_equal(
	    berth_jobs_create(f->st, &got, NULL, "", NULL, NULL, NULL, 0, &err),
	    BERTH_EINVAL);
	berth_job_free(job);
	berth_job_free(NULL);
}

/* The row is on disk once create returns: a second, independent
 * connection to the file sees it. */
static void test_create_is_durable(void **state)
{
	struct fixture *f = *state;
	struct berth_store *other = NULL;
	struct berth_job *job, *seen = NULL;
	struct berth_err err;

	job = create(f->st, "pull", "req-1", "busybox");
	assert_ok(berth_store_open(&other, f->path, berth_jobs_migrations,
	                           berth_jobs_migrations_count, &err),
	          &err);
	assert_ok(berth_jobs_get(other, &seen, job->id, &err), &err);
	assert_string_equal(seen->kind, "pull");
	assert_string_equal(seen->idem_key, "req-1");
	assert_int_equal(seen->state, BERTH_JOB_QUEUED);
	berth_job_free(seen);
	berth_store_close(other);
	berth_job_free(job);
}

static void test_idempotency(void **state)
{
	struct fixture *f = *state;
	struct berth_job *first, *again = NULL, *bad = NULL;
	struct berth_err err;
	bool created = true;

	first = create(f->st, "pull", "req-7", "busybox:1");
	assert_ok(berth_jobs_create(f->st, &again, &created, "pull", "alice",
	                            "req-7", "busybox:1", 9, &err),
	          &err);
	assert_false(created);
	assert_string_equal(again->id, first->id);
	assert_int_equal(count_rows(f->st, "1"), 1);

	/* Same key, another payload / kind / caller: refused, nothing new. */
	berth_err_clear(&err);
	assert_int_equal(berth_jobs_create(f->st, &bad, &created, "pull",
	                                   "alice", "req-7", "busybox:2", 9,
	                                   &err),
	                 BERTH_EPRECOND);
	assert_non_null(strstr(err.msg, "req-7"));
	assert_non_null(strstr(err.msg, "different request"));
	assert_int_equal(berth_jobs_create(f->st, &bad, NULL, "push", "alice",
	                                   "req-7", "busybox:1", 9, &err),
	                 BERTH_EPRECOND);
	assert_int_equal(berth_jobs_create(f->st, &bad, NULL, "pull", "mallory",
	                                   "req-7", "busybox:1", 9, &err),
	                 BERTH_EPRECOND);
	assert_null(bad);
	assert_int_equal(count_rows(f->st, "1"), 1);

	/* Without a key every create is a new job. */
	berth_job_free(again);
	again = create(f->st, "pull", NULL, "busybox:1");
	berth_job_free(again);
	again = create(f->st, "pull", "", "busybox:1");
	assert_int_equal(count_rows(f->st, "1"), 3);
	assert_int_equal(count_rows(f->st, "idem_key IS NULL"), 2);
	berth_job_free(again);
	berth_job_free(first);
}

static void test_claim_order_and_kind(void **state)
{
	struct fixture *f = *state;
	struct berth_job *a, *b, *c, *got = NULL;
	struct berth_err err;
	int64_t t0 = wall_ms();

	a = create(f->st, "pull", NULL, "a");
	b = create(f->st, "other", NULL, "b");
	c = create(f->st, "pull", NULL, "c");

	assert_ok(berth_jobs_claim(f->st, &got, NULL, "w1", 60000, &err), &err);
	assert_string_equal(got->id, a->id);
	assert_int_equal(got->state, BERTH_JOB_RUNNING);
	assert_string_equal(got->lease_holder, "w1");
	assert_int_equal(got->attempts, 1);
	assert_true(got->lease_expiry_ms >= t0 + 60000);
	berth_job_free(got);

	assert_ok(berth_jobs_claim(f->st, &got, "pull", "w1", 60000, &err),
	          &err);
	assert_string_equal(got->id, c->id);
	berth_job_free(got);
	got = NULL;
	assert_int_equal(
	    berth_jobs_claim(f->st, &got, "pull", "w1", 60000, &err),
	    BERTH_ENOTFOUND);
	assert_null(got);

	assert_ok(berth_jobs_claim(f->st, &got, NULL, "w2", 60000, &err), &err);
	assert_string_equal(got->id, b->id);
	berth_job_free(got);
	got = NULL;
	assert_int_equal(berth_jobs_claim(f->st, &got, NULL, "w2", 60000, &err),
	                 BERTH_ENOTFOUND);
	assert_int_equal(berth_jobs_claim(f->st, &got, NULL, "", 60000, &err),
	                 BERTH_EINVAL);
	assert_int_equal(berth_jobs_claim(f->st, &got, NULL, "w", 0, &err),
	                 BERTH_EINVAL);
	berth_job_free(a);
	berth_job_free(b);
	berth_job_free(c);
}

static void test_lease_takeover_and_holders(void **state)
{
	struct fixture *f = *state;
	struct berth_job *job, *got = NULL;
	struct berth_err err;
	int64_t deadline;
	int rv;

	job = create(f->st, "pull", NULL, "x");
	assert_ok(berth_jobs_claim(f->st, &got, NULL, "w1", 100, &err), &err);
	berth_job_free(got);
	got = NULL;
	/* Still leased: nobody else gets it. */
	assert_int_equal(berth_jobs_claim(f->st, &got, NULL, "w2", 100, &err),
	                 BERTH_ENOTFOUND);
	/* Once the lease ran out, w2 takes it over (bounded wait). */
	deadline = ts_now_ms() + 5000;
	do {
		usleep(20000);
		rv = berth_jobs_claim(f->st, &got, NULL, "w2", 60000, &err);
	} while (rv == BERTH_ENOTFOUND && ts_now_ms() < deadline);
	assert_ok(rv, &err);
	assert_string_equal(got->id, job->id);
	assert_string_equal(got->lease_holder, "w2");
	assert_int_equal(got->attempts, 2);
	berth_job_free(got);
	got = NULL;

	/* The old holder is fenced off. */
	berth_err_clear(&err);
	assert_int_equal(
	    berth_jobs_progress(f->st, job->id, "w1", 50, "late", 0, &err),
	    BERTH_EPRECOND);
	assert_non_null(strstr(err.msg, "w2"));
	assert_int_equal(berth_jobs_finish(f->st, job->id, "w1",
	                                   BERTH_JOB_SUCCEEDED, "r", 0, NULL,
	                                   &err),
	                 BERTH_EPRECOND);

	/* The holder reports progress and extends its lease. */
	assert_ok(berth_jobs_progress(f->st, job->id, "w2", 40, "layer 2/5",
	                              120000, &err),
	          &err);
	assert_ok(berth_jobs_get(f->st, &got, job->id, &err), &err);
	assert_int_equal(got->progress, 40);
	assert_string_equal(got->detail, "layer 2/5");
	assert_true(got->lease_expiry_ms >= wall_ms() + 100000);
	berth_job_free(got);
	got = NULL;
	/* A NULL detail keeps the line. */
	assert_ok(berth_jobs_progress(f->st, job->id, "w2", 60, NULL, 0, &err),
	          &err);
	assert_ok(berth_jobs_get(f->st, &got, job->id, &err), &err);
	assert_int_equal(got->progress, 60);
	assert_string_equal(got->detail, "layer 2/5");
	berth_job_free(got);
	got = NULL;
	assert_int_equal(
	    berth_jobs_progress(f->st, job->id, "w2", 101, "", 0, &err),
	    BERTH_EINVAL);
	assert_int_equal(
	    berth_jobs_progress(f->st, "nope", "w2", 1, "", 0, &err),
	    BERTH_ENOTFOUND);

	assert_ok(berth_jobs_finish(f->st, job->id, "w2", BERTH_JOB_SUCCEEDED,
	                            "sha256:abc", 0, NULL, &err),
	          &err);
	assert_ok(berth_jobs_get(f->st, &got, job->id, &err), &err);
	assert_int_equal(got->state, BERTH_JOB_SUCCEEDED);
	assert_int_equal(got->progress, 100);
	assert_string_equal(got->result, "sha256:abc");
	assert_string_equal(got->error, "");
	berth_job_free(got);
	got = NULL;

	/* Ended is final: no second finish, no progress, no claim. */
	berth_err_clear(&err);
	assert_int_equal(berth_jobs_finish(f->st, job->id, NULL,
	                                   BERTH_JOB_FAILED, NULL,
	                                   BERTH_EINTERNAL, "x", &err),
	                 BERTH_EPRECOND);
	assert_non_null(strstr(err.msg, "already succeeded"));
	assert_int_equal(
	    berth_jobs_progress(f->st, job->id, "w2", 1, "", 0, &err),
	    BERTH_EPRECOND);
	assert_int_equal(berth_jobs_claim(f->st, &got, NULL, "w3", 1000, &err),
	                 BERTH_ENOTFOUND);
	assert_int_equal(berth_jobs_finish(f->st, "nope", NULL,
	                                   BERTH_JOB_CANCELLED, NULL, 0, NULL,
	                                   &err),
	                 BERTH_ENOTFOUND);
	berth_job_free(job);
}

static void test_cancel_queued(void **state)
{
	struct fixture *f = *state;
	struct berth_job *job, *got = NULL;
	struct berth_err err;

	job = create(f->st, "pull", NULL, "x");
	/* A named holder cannot end a job it never claimed. */
	assert_int_equal(berth_jobs_finish(f->st, job->id, "w1",
	                                   BERTH_JOB_CANCELLED, NULL, 0, NULL,
	                                   &err),
	                 BERTH_EPRECOND);
	assert_int_equal(berth_jobs_finish(f->st, job->id, NULL,
	                                   BERTH_JOB_RUNNING, NULL, 0, NULL,
	                                   &err),
	                 BERTH_EINVAL);
	assert_ok(berth_jobs_finish(f->st, job->id, NULL, BERTH_JOB_CANCELLED,
	                            NULL, BERTH_ECANCELLED,
	                            "cancelled by alice", &err),
	          &err);
	assert_ok(berth_jobs_get(f->st, &got, job->id, &err), &err);
	assert_int_equal(got->state, BERTH_JOB_CANCELLED);
	assert_int_equal(got->error_code, BERTH_ECANCELLED);
	assert_string_equal(got->error, "cancelled by alice");
	assert_int_equal(got->progress, -1);
	berth_job_free(got);
	got = NULL;
	assert_int_equal(berth_jobs_claim(f->st, &got, NULL, "w1", 1000, &err),
	                 BERTH_ENOTFOUND);
	berth_job_free(job);
}

/* Several threads on two connections (as two processes would) claim
 * the same queue: every job is claimed exactly once. */
#define RACE_JOBS    40
#define RACE_THREADS 4

struct racer {
	struct berth_store *st;
	char holder[16];
	int claimed;
	int failed;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	struct berth_err err;

	for (int i = 0; i < RACE_JOBS * 2; i++) {
		struct berth_job *job = NULL;
		int rv = berth_jobs_claim(r->st, &job, NULL, r->holder, 60000,
		                          &err);

		if (rv == BERTH_ENOTFOUND)
			break;
		if (rv != 0) {
			r->failed++;
			continue;
		}
		r->claimed++;
		berth_job_free(job);
	}
	return NULL;
}

static void test_concurrent_claims(void **state)
{
	struct fixture *f = *state;
	struct berth_store *other = NULL;
	struct racer r[RACE_THREADS];
	pthread_t th[RACE_THREADS];
	struct berth_err err;
	int total = 0;

	for (int i = 0; i < RACE_JOBS; i++)
		berth_job_free(create(f->st, "pull", NULL, "x"));
	assert_ok(berth_store_open(&other, f->path, berth_jobs_migrations,
	                           berth_jobs_migrations_count, &err),
	          &err);
	for (int i = 0; i < RACE_THREADS; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].st = i % 2 == 0 ? f->st : other;
		snprintf(r[i].holder, sizeof(r[i].holder), "w%d", i);
		assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < RACE_THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(r[i].failed, 0);
		total += r[i].claimed;
	}
	assert_int_equal(total, RACE_JOBS);
	assert_int_equal(
	    count_rows(f->st, "state = 'running' AND attempts = 1"), RACE_JOBS);
	berth_store_close(other);
}

static bool pull_resumes(const char *kind)
{
	return strcmp(kind, "pull") == 0;
}

/* The child: two jobs claimed, then SIGKILL with both mid-way. Reports
 * the ids on the pipe; exits non-zero (not killed) on any failure. */
static void crash_child(const char *path, int wfd)
{
	struct berth_store *st = NULL;
	struct berth_job *pull = NULL, *other = NULL, *got = NULL;
	struct berth_err err;
	char ids[2 * BERTH_JOB_ID_LEN];

	if (berth_store_open(&st, path, berth_jobs_migrations,
	                     berth_jobs_migrations_count, &err)
	        != 0
	    || berth_jobs_create(st, &pull, NULL, "pull", "alice", "req-pull",
	                         "busybox", 7, &err)
	        != 0
	    || berth_jobs_create(st, &other, NULL, "other", "alice", NULL, "x",
	                         1, &err)
	        != 0)
		_exit(10);
	for (int i = 0; i < 2; i++) {
		if (berth_jobs_claim(st, &got, NULL, "crasher", 3600000, &err)
		    != 0)
			_exit(11);
		berth_job_free(got);
	}
	if (berth_jobs_progress(st, pull->id, "crasher", 30, "halfway", 0, &err)
	    != 0)
		_exit(12);
	memcpy(ids, pull->id, BERTH_JOB_ID_LEN);
	memcpy(ids + BERTH_JOB_ID_LEN, other->id, BERTH_JOB_ID_LEN);
	if (write(wfd, ids, sizeof(ids)) != (ssize_t)sizeof(ids))
		_exit(13);
	kill(getpid(), SIGKILL);
	_exit(14);
}

static void test_reconcile_after_kill(void **state)
{
	char *dir = ts_tmpdir("jobs-kill");
	char *path = berth_asprintf("%s/svc.db", dir);
	struct berth_store *st = NULL;
	struct berth_job *pull = NULL, *other = NULL, *again = NULL;
	struct berth_err err;
	char ids[2 * BERTH_JOB_ID_LEN + 2];
	char pull_id[BERTH_JOB_ID_LEN + 1], other_id[BERTH_JOB_ID_LEN + 1];
	const char *reason = "runtime restarted while the job was running";
	int requeued = -1, failed = -1;
	int pfd[2];
	int wstatus = 0;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(pfd[0]);
		crash_child(path, pfd[1]);
	}
	close(pfd[1]);
	memset(ids, 0, sizeof(ids));
	assert_int_equal(read(pfd[0], ids, 2 * BERTH_JOB_ID_LEN),
	                 2 * BERTH_JOB_ID_LEN);
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &wstatus, 0), pid);
	assert_true(WIFSIGNALED(wstatus));
	assert_int_equal(WTERMSIG(wstatus), SIGKILL);
	memcpy(pull_id, ids, BERTH_JOB_ID_LEN);
	pull_id[BERTH_JOB_ID_LEN] = '\0';
	memcpy(other_id, ids + BERTH_JOB_ID_LEN, BERTH_JOB_ID_LEN);
	other_id[BERTH_JOB_ID_LEN] = '\0';

	/* The restarted service: both jobs survived, still "running". */
	assert_ok(berth_store_open(&st, path, berth_jobs_migrations,
	                           berth_jobs_migrations_count, &err),
	          &err);
	assert_int_equal(count_rows(st, "1"), 2);
	assert_int_equal(count_rows(st, "state = 'running'"), 2);

	assert_ok(berth_jobs_reconcile(st, pull_resumes, reason, &requeued,
	                               &failed, &err),
	          &err);
	assert_int_equal(requeued, 1);
	assert_int_equal(failed, 1);
	assert_int_equal(count_rows(st, "1"), 2);

	assert_ok(berth_jobs_get(st, &pull, pull_id, &err), &err);
	assert_int_equal(pull->state, BERTH_JOB_QUEUED);
	assert_string_equal(pull->lease_holder, "");
	assert_int_equal(pull->attempts, 1);
	assert_string_equal(pull->detail, "halfway");
	assert_ok(berth_jobs_get(st, &other, other_id, &err), &err);
	assert_int_equal(other->state, BERTH_JOB_FAILED);
	assert_int_equal(other->error_code, BERTH_EABORTED);
	assert_string_equal(other->error, reason);

	/* A second reconcile finds nothing; the pull runs again, and its
	 * request id still maps to it. */
	assert_ok(berth_jobs_reconcile(st, pull_resumes, reason, &requeued,
	                               &failed, &err),
	          &err);
	assert_int_equal(requeued + failed, 0);
	assert_ok(berth_jobs_claim(st, &again, NULL, "fresh", 60000, &err),
	          &err);
	assert_string_equal(again->id, pull_id);
	assert_int_equal(again->attempts, 2);
	berth_job_free(again);
	again = NULL;
	assert_ok(berth_jobs_create(st, &again, NULL, "pull", "alice",
	                            "req-pull", "busybox", 7, &err),
	          &err);
	assert_string_equal(again->id, pull_id);

	berth_job_free(again);
	berth_job_free(pull);
	berth_job_free(other);
	berth_store_close(st);
	ts_rmtree(dir);
	free(path);
	free(dir);
}

static void test_reconcile_without_predicate(void **state)
{
	struct fixture *f = *state;
	struct berth_job *job, *got = NULL;
	struct berth_err err;
	int requeued = -1, failed = -1;

	job = create(f->st, "pull", NULL, "x");
	assert_ok(berth_jobs_claim(f->st, &got, NULL, "w", 60000, &err), &err);
	berth_job_free(got);
	got = NULL;
	assert_ok(
	    berth_jobs_reconcile(f->st, NULL, NULL, &requeued, &failed, &err),
	    &err);
	assert_int_equal(requeued, 0);
	assert_int_equal(failed, 1);
	assert_ok(berth_jobs_get(f->st, &got, job->id, &err), &err);
	assert_int_equal(got->state, BERTH_JOB_FAILED);
	assert_int_equal(got->error_code, BERTH_EABORTED);
	assert_true(strlen(got->error) > 0);
	berth_job_free(got);
	berth_job_free(job);
}

static bool only_dead_holder(const char *holder, void *arg)
{
	return strcmp(holder, (const char *)arg) == 0;
}

static void test_reconcile_leaves_live_holders_alone(void **state)
{
	struct fixture *f = *state;
	struct berth_job *dead, *live, *got = NULL;
	struct berth_err err;
	int requeued = -1, failed = -1;

	dead = create(f->st, "pull", NULL, "dead");
	live = create(f->st, "pull", NULL, "live");
	assert_ok(berth_jobs_claim(f->st, &got, NULL, "gone", 60000, &err),
	          &err);
	assert_string_equal(got->id, dead->id);
	berth_job_free(got);
	assert_ok(berth_jobs_claim(f->st, &got, NULL, "alive", 60000, &err),
	          &err);
	assert_string_equal(got->id, live->id);
	berth_job_free(got);
	got = NULL;

	assert_ok(berth_jobs_reconcile_orphans(f->st, only_dead_holder,
	                                       (void *)"gone", pull_resumes,
	                                       "r", &requeued, &failed, &err),
	          &err);
	assert_int_equal(requeued, 1);
	assert_int_equal(failed, 0);
	assert_ok(berth_jobs_get(f->st, &got, dead->id, &err), &err);
	assert_int_equal(got->state, BERTH_JOB_QUEUED);
	berth_job_free(got);
	assert_ok(berth_jobs_get(f->st, &got, live->id, &err), &err);
	assert_int_equal(got->state, BERTH_JOB_RUNNING);
	assert_string_equal(got->lease_holder, "alive");
	berth_job_free(got);
	berth_job_free(dead);
	berth_job_free(live);
}

/* Whether `s` is valid UTF-8 with no control byte but tab. */
static bool clean_utf8(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; u[i] != '\0';) {
		size_t k = u[i] < 0x80      ? 1
		    : (u[i] & 0xE0) == 0xC0 ? 2
		    : (u[i] & 0xF0) == 0xE0 ? 3
		    : (u[i] & 0xF8) == 0xF0 ? 4
		                            : 0;

		if (k == 0 || (u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7f)
			return false;
		for (size_t j = 1; j < k; j++)
			if ((u[i + j] & 0xC0) != 0x80)
				return false;
		i += k;
	}
	return true;
}

/* An engine progress line is capped at a character boundary, and bytes
 * that JSON could not carry are replaced; results and errors likewise. */
static void test_text_caps_and_utf8(void **state)
{
	struct fixture *f = *state;
	struct berth_job *job, *got = NULL;
	struct berth_err err;
	size_t big = BERTH_JOB_RESULT_MAX * 2;
	char *line = malloc(big + 1);

	assert_non_null(line);
	/* "é" (2 bytes) repeated from an odd offset: a byte cut at the cap
	 * would split one. */
	line[0] = 'x';
	for (size_t i = 1; i + 1 < big; i += 2)
		memcpy(line + i, "\xc3\xa9", 2);
	line[big - 1] = 'y';
	line[big] = '\0';
	job = create(f->st, "pull", NULL, "p");
	assert_ok(berth_jobs_claim(f->st, &got, NULL, "w", 60000, &err), &err);
	berth_job_free(got);
	assert_ok(berth_jobs_progress(f->st, job->id, "w", 10, line, 0, &err),
	          &err);
	assert_ok(berth_jobs_get(f->st, &got, job->id, &err), &err);
	assert_true(strlen(got->detail) <= BERTH_JOB_DETAIL_MAX);
	assert_true(strlen(got->detail) > BERTH_JOB_DETAIL_MAX - 8);
	assert_true(clean_utf8(got->detail));
	assert_string_equal(got->detail + strlen(got->detail) - 3, "...");
	berth_job_free(got);

	/* Bad UTF-8 and a terminal's "\r" and escape are made printable. */
	assert_ok(berth_jobs_progress(f->st, job->id, "w", 20,
	                              "a\xff\xc3 x\r\x1b[2Kb\tc", 0, &err),
	          &err);
	assert_ok(berth_jobs_get(f->st, &got, job->id, &err), &err);
	assert_string_equal(got->detail, "a?? x  [2Kb\tc");
	berth_job_free(got);

	assert_ok(berth_jobs_finish(f->st, job->id, "w", BERTH_JOB_FAILED, line,
	                            BERTH_EINTERNAL, line + 1, &err),
	          &err);
	assert_ok(berth_jobs_get(f->st, &got, job->id, &err), &err);
	assert_true(strlen(got->result) <= BERTH_JOB_RESULT_MAX);
	assert_true(strlen(got->error) <= BERTH_JOB_ERROR_MAX);
	assert_true(clean_utf8(got->result));
	assert_true(clean_utf8(got->error));
	/* Short texts are kept exactly. */
	berth_job_free(got);
	berth_job_free(job);
	job = create(f->st, "pull", NULL, "q");
	assert_ok(berth_jobs_finish(f->st, job->id, NULL, BERTH_JOB_SUCCEEDED,
	                            "sha256:abc \xc3\xa9", 0, NULL, &err),
	          &err);
	assert_ok(berth_jobs_get(f->st, &got, job->id, &err), &err);
	assert_string_equal(got->result, "sha256:abc \xc3\xa9");
	assert_string_equal(got->error, "");
	berth_job_free(got);
	berth_job_free(job);
	free(line);
}

static void test_uuid_unique(void **state)
{
	char a[BERTH_JOB_ID_LEN + 1], b[BERTH_JOB_ID_LEN + 1];
	struct berth_err err;

	(void)state;
	assert_ok(berth_uuid_v4(a, &err), &err);
	assert_ok(berth_uuid_v4(b, &err), &err);
	assert_int_equal(strlen(a), BERTH_JOB_ID_LEN);
	assert_string_not_equal(a, b);
	assert_int_equal(strspn(a, "0123456789abcdef-"), BERTH_JOB_ID_LEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_get_round_trip,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_is_durable, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_idempotency, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_claim_order_and_kind,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease_takeover_and_holders,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_queued, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_claims, setup,
		                                teardown),
		cmocka_unit_test(test_reconcile_after_kill),
		cmocka_unit_test_setup_teardown(
		    test_reconcile_without_predicate, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_reconcile_leaves_live_holders_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_caps_and_utf8, setup,
		                                teardown),
		cmocka_unit_test(test_uuid_unique),
	};

	return cmocka_run_group_tests_name("jobs", tests, NULL, NULL);
}
