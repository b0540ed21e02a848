/*
 * test_unit_scratch.c: the runtime's scratch folders. A runtime's folder
 * is private (0700) and removed when it closes; opening sweeps the
 * folders of runtimes that are gone (no lock holder: what a killed
 * runtime left) but keeps those of runtimes still running beside it,
 * a folder too young to have its lock yet, symlinks (never followed)
 * and anything not named rt-*.
 */
#include "services/runtime/scratch.h"

#include "lib/alloc.h"
#include "tests/support/testsupport.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static void put_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* Makes `path` look made (and last changed) ten minutes ago. */
static void backdate(const char *path)
{
	struct timespec ts[2];

	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= 600;
	ts[1] = ts[0];
	assert_int_equal(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

static void test_private_and_removed_on_close(void **state)
{
	char *data = ts_tmpdir("scratch");
	struct runtime_scratch *s = NULL;
	struct berth_err err = { 0 };
	struct stat st;
	char *path, *file;

	(void)state;
	assert_int_equal(runtime_scratch_open(&s, data, &err), 0);
	path = berth_strdup(runtime_scratch_path(s));
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	file = berth_asprintf("%s/id", path);
	put_file(file, "key material");
	runtime_scratch_close(s);
	assert_false(exists(file));
	assert_false(exists(path));
	free(file);
	free(path);
	ts_rmtree(data);
	free(data);
}

static void test_sweeps_only_the_dead(void **state)
{
	char *data = ts_tmpdir("scratch");
	struct runtime_scratch *live = NULL, *next = NULL;
	struct berth_err err = { 0 };
	char *live_file, *stale, *stale_key, *nolock, *other, *root;
	char *young, *outside, *outside_file, *link;

	(void)state;
	assert_int_equal(runtime_scratch_open(&live, data, &err), 0);
	live_file = berth_asprintf("%s/id", runtime_scratch_path(live));
	put_file(live_file, "in use");

	/* What a killed runtime leaves: a folder whose lock nobody holds,
	 * and one that never got its lock file (old by now). */
	root = berth_asprintf("%s/scratch", data);
	stale = berth_asprintf("%s/rt-stale1", root);
	assert_int_equal(mkdir(stale, 0700), 0);
	stale_key = berth_asprintf("%s/.lock", stale);
	put_file(stale_key, "");
	free(stale_key);
	stale_key = berth_asprintf("%s/clone-x", stale);
	assert_int_equal(mkdir(stale_key, 0700), 0);
	free(stale_key);
	stale_key = berth_asprintf("%s/clone-x/id", stale);
	put_file(stale_key, "private key");
	nolock = berth_asprintf("%s/rt-stale2", root);
	assert_int_equal(mkdir(nolock, 0700), 0);
	backdate(nolock);
	/* A runtime being made this instant: its folder exists, its lock
	 * file not yet. A sweep must leave it. */
	young = berth_asprintf("%s/rt-young1", root);
	assert_int_equal(mkdir(young, 0700), 0);
	/* A symlink named like a runtime's folder, leading out: neither
	 * followed nor what it points at touched. */
	outside = berth_asprintf("%s/outside", data);
	assert_int_equal(mkdir(outside, 0700), 0);
	outside_file = berth_asprintf("%s/.lock", outside);
	put_file(outside_file, "");
	link = berth_asprintf("%s/rt-link1", root);
	assert_int_equal(symlink(outside, link), 0);
	other = berth_asprintf("%s/keep-me", root);
	put_file(other, "not ours to sweep");

	assert_int_equal(runtime_scratch_open(&next, data, &err), 0);
	assert_false(exists(stale_key));
	assert_false(exists(stale));
	assert_false(exists(nolock));
	assert_true(exists(young));
	assert_true(exists(outside_file));
	assert_true(exists(live_file)); /* its runtime still runs */
	assert_true(exists(other));
	assert_string_not_equal(runtime_scratch_path(next),
	                        runtime_scratch_path(live));

	runtime_scratch_close(next);
	runtime_scratch_close(live);
	assert_false(exists(live_file));
	free(live_file);
	free(stale);
	free(stale_key);
	free(nolock);
	free(young);
	free(outside);
	free(outside_file);
	free(link);
	free(other);
	free(root);
	ts_rmtree(data);
	free(data);
}

static void test_unusable_data_dir(void **state)
{
	struct runtime_scratch *s = NULL;
	struct berth_err err = { 0 };

	(void)state;
	assert_int_equal(
	    runtime_scratch_open(&s, "/proc/self/no-such-place", &err),
	    BERTH_EINTERNAL);
	assert_null(s);
	assert_non_null(strstr(err.msg, "scratch"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_private_and_removed_on_close),
		cmocka_unit_test(test_sweeps_only_the_dead),
		cmocka_unit_test(test_unusable_data_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
