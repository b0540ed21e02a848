/*
 * test_unit_safe_path.c: SafeLocalPaths resolution on a real tree in a
 * private temporary folder: whole-component roots (safe-x is not inside
 * safe), ".." escapes, symlinks that point out, in, or absolutely,
 * missing and malformed paths, request narrowing that cannot widen, and
 * a folder swapped for a symlink after resolution (the descriptor still
 * names the original: resolution is by descriptor, not by string).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/alloc.h"
#include "lib/safe_path.h"
#include "tests/support/testsupport.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *base;

static char *at(const char *rel)
{
	return berth_asprintf("%s/%s", base, rel);
}

static void mk_dir(const char *rel)
{
	char *p = at(rel);

	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
}

static void mk_file(const char *rel, const char *text)
{
	char *p = at(rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	free(p);
}

static void mk_link(const char *target, const char *rel)
{
	char *p = at(rel);

	assert_int_equal(symlink(target, p), 0);
	free(p);
}

static int setup(void **state)
{
	char *abs_in, *tmp;

	(void)state;
	tmp = ts_tmpdir("safepath");
	/* The roots are matched by whole components after realpath:
	 * work on the canonical spelling of the folder. */
	base = realpath(tmp, NULL);
	free(tmp);
	mk_dir("safe");
	mk_dir("safe/sub");
	mk_dir("safe/work");
	mk_dir("safe-x");
	mk_dir("outside");
	mk_file("safe/f.txt", "in safe");
	mk_file("safe/sub/g.txt", "in sub");
	mk_file("safe/work/w.txt", "original");
	mk_file("safe-x/h.txt", "sibling with a shared prefix");
	mk_file("outside/secret", "secret");
	mk_link("../outside", "safe/out");
	mk_link("sub", "safe/in");
	mk_link("sub/g.txt", "safe/glink");
	abs_in = at("safe/sub");
	mk_link(abs_in, "safe/abs");
	free(abs_in);
	mk_link("/etc", "safe/absout");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ts_rmtree(base);
	free(base);
	return 0;
}

/* Resolves base/rel against the roots base/<roots...>; returns the code. */
static int resolve(const char *rel, const char *const *roots, size_t nroots,
                   const char *const *narrow, size_t nnarrow,
                   struct berth_safe_target *t, struct berth_err *err)
{
	char *path = rel[0] == '/' ? berth_strdup(rel) : at(rel);
	char *r[8], *n[8];
	int rv;

	for (size_t i = 0; i < nroots; i++)
		r[i] = at(roots[i]);
	for (size_t i = 0; i < nnarrow; i++)
		n[i] = at(narrow[i]);
	rv = berth_safe_path_resolve(t, "local_path", path,
	                             (const char *const *)r, nroots,
	                             (const char *const *)n, nnarrow, err);
	for (size_t i = 0; i < nroots; i++)
		free(r[i]);
	for (size_t i = 0; i < nnarrow; i++)
		free(n[i]);
	free(path);
	return rv;
}

static const char *const safe_root[] = { "safe" };

static int code_of(const char *rel)
{
	struct berth_safe_target t = BERTH_SAFE_TARGET_INIT;
	struct berth_err err = { 0 };
	int rv = resolve(rel, safe_root, 1, NULL, 0, &t, &err);

	berth_safe_target_fini(&t);
	return rv;
}

/* The text of a file read through the target's descriptor. */
static void assert_content(const struct berth_safe_target *t, const char *want)
{
	char buf[64] = { 0 };
	char proc[64];
	int fd;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", t->fd);
	fd = open(proc, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_true(read(fd, buf, sizeof(buf) - 1) >= 0);
	close(fd);
	assert_string_equal(buf, want);
}

static void test_inside_and_prefix_sibling(void **state)
{
	struct berth_safe_target t = BERTH_SAFE_TARGET_INIT;
	struct berth_err err = { 0 };

	(void)state;
	assert_ok(resolve("safe/f.txt", safe_root, 1, NULL, 0, &t, &err), &err);
	assert_true(t.is_reg);
	assert_false(t.is_dir);
	assert_false(t.is_link);
	assert_string_equal(t.name, "f.txt");
	assert_true(t.dirfd >= 0);
	assert_content(&t, "in safe");
	berth_safe_target_fini(&t);
	assert_int_equal(t.fd, -1);

	/* The root itself is fine and has no parent name. */
	assert_ok(resolve("safe", safe_root, 1, NULL, 0, &t, &err), &err);
	assert_true(t.is_dir);
	assert_int_equal(t.dirfd, -1);
	assert_null(t.name);
	berth_safe_target_fini(&t);

	/* "/x/safe-x" shares the string prefix "/x/safe" only. */
	assert_int_equal(
	    resolve("safe-x/h.txt", safe_root, 1, NULL, 0, &t, &err),
	    BERTH_EPERM);
	assert_non_null(strstr(err.msg, "outside the runtime's"));
	assert_non_null(strstr(err.msg, "safe_local_paths"));
	assert_int_equal(code_of("safe-x"), BERTH_EPERM);
	assert_int_equal(t.fd, -1); /* untouched on failure */
}

static void test_dotdot(void **state)
{
	(void)state;
	assert_int_equal(code_of("safe/../safe-x/h.txt"), BERTH_EPERM);
	assert_int_equal(code_of("safe/../outside/secret"), BERTH_EPERM);
	assert_int_equal(code_of("safe/sub/../../outside/secret"), BERTH_EPERM);
	/* ".." that stays beneath the root is the kernel's to allow. */
	assert_int_equal(code_of("safe/sub/../f.txt"), 0);
	assert_int_equal(code_of("safe/./sub//g.txt"), 0);
}

static void test_symlinks(void **state)
{
	struct berth_safe_target t = BERTH_SAFE_TARGET_INIT;
	struct berth_err err = { 0 };

	(void)state;
	/* Inside, pointing out: refused, whether walked through or named. */
	assert_int_equal(
	    resolve("safe/out/secret", safe_root, 1, NULL, 0, &t, &err),
	    BERTH_EPERM);
	assert_non_null(strstr(err.msg, "symlink"));
	assert_int_equal(code_of("safe/out"), BERTH_EPERM);
	/* Absolute symlinks are refused even when they point inside. */
	assert_int_equal(code_of("safe/abs/g.txt"), BERTH_EPERM);
	assert_int_equal(code_of("safe/absout/passwd"), BERTH_EPERM);
	/* Inside, pointing inside: followed. */
	assert_ok(resolve("safe/in/g.txt", safe_root, 1, NULL, 0, &t, &err),
	          &err);
	assert_content(&t, "in sub");
	berth_safe_target_fini(&t);
	assert_ok(resolve("safe/glink", safe_root, 1, NULL, 0, &t, &err), &err);
	assert_true(t.is_link);
	assert_true(t.is_reg);
	assert_string_equal(t.name, "glink");
	berth_safe_target_fini(&t);
}

static void test_missing_and_malformed(void **state)
{
	struct berth_safe_target t = BERTH_SAFE_TARGET_INIT;
	struct berth_err err = { 0 };
	const char *roots[] = { "/nonexistent-root-for-test" };
	char *longp;

	(void)state;
	assert_int_equal(code_of("safe/nope"), BERTH_ENOTFOUND);
	assert_int_equal(code_of("safe/f.txt/below"), BERTH_ENOTFOUND);
	assert_int_equal(berth_safe_path_resolve(&t, "local_path", "rel/path",
	                                         roots, 1, NULL, 0, &err),
	                 BERTH_EINVAL);
	assert_non_null(strstr(err.msg, "absolute"));
	assert_int_equal(berth_safe_path_resolve(&t, "local_path", "/a\nb",
	                                         roots, 1, NULL, 0, &err),
	                 BERTH_EINVAL);
	longp = berth_malloc(BERTH_SAFE_PATH_MAX + 2);
	memset(longp, 'a', BERTH_SAFE_PATH_MAX + 1);
	longp[0] = '/';
	longp[BERTH_SAFE_PATH_MAX + 1] = '\0';
	assert_int_equal(berth_safe_path_resolve(&t, "local_path", longp, roots,
	                                         1, NULL, 0, &err),
	                 BERTH_EINVAL);
	free(longp);
	/* No roots configured: refused, naming the setting. */
	assert_int_equal(berth_safe_path_resolve(&t, "local_path", "/etc", NULL,
	                                         0, NULL, 0, &err),
	                 BERTH_EPERM);
	assert_non_null(strstr(err.msg, "BERTH_SAFE_LOCAL_PATHS"));
	/* A root that does not exist holds nothing. */
	assert_int_equal(berth_safe_path_resolve(&t, "local_path",
	                                         "/nonexistent-root-for-test/x",
	                                         roots, 1, NULL, 0, &err),
	                 BERTH_EPERM);
	/* A malformed narrowing root is bad input. */
	assert_int_equal(berth_safe_path_resolve(
	                     &t, "local_path", "/etc", roots, 1,
	                     (const char *const[]) { "relative" }, 1, &err),
	                 BERTH_EINVAL);
}

static void test_narrowing(void **state)
{
	struct berth_safe_target t = BERTH_SAFE_TARGET_INIT;
	struct berth_err err = { 0 };
	const char *narrow_sub[] = { "safe/sub" };
	const char *narrow_out[] = { "outside" };
	const char *narrow_wide[] = { "." };
	const char *two_roots[] = { "safe", "outside" };

	(void)state;
	/* Narrowed to safe/sub: f.txt in safe is no longer allowed. */
	assert_int_equal(
	    resolve("safe/f.txt", safe_root, 1, narrow_sub, 1, &t, &err),
	    BERTH_EPERM);
	assert_non_null(strstr(err.msg, "request's"));
	assert_ok(
	    resolve("safe/sub/g.txt", safe_root, 1, narrow_sub, 1, &t, &err),
	    &err);
	berth_safe_target_fini(&t);
	/* ".." out of the narrowed root is refused even though it stays
	 * inside the operator's root. */
	assert_int_equal(
	    resolve("safe/sub/../f.txt", safe_root, 1, narrow_sub, 1, &t, &err),
	    BERTH_EPERM);
	/* A request cannot widen: outside stays outside. */
	assert_int_equal(
	    resolve("outside/secret", safe_root, 1, narrow_out, 1, &t, &err),
	    BERTH_EPERM);
	assert_non_null(strstr(err.msg, "runtime's"));
	assert_int_equal(
	    resolve("outside/secret", safe_root, 1, narrow_wide, 1, &t, &err),
	    BERTH_EPERM);
	/* A wider request list leaves the operator's in force. */
	assert_ok(resolve("safe/f.txt", safe_root, 1, narrow_wide, 1, &t, &err),
	          &err);
	berth_safe_target_fini(&t);
	/* With two operator roots, narrowing to one refuses the other. */
	assert_ok(resolve("outside/secret", two_roots, 2, NULL, 0, &t, &err),
	          &err);
	berth_safe_target_fini(&t);
	assert_int_equal(
	    resolve("outside/secret", two_roots, 2, narrow_sub, 1, &t, &err),
	    BERTH_EPERM);
}

static void test_root_spellings(void **state)
{
	struct berth_safe_target t = BERTH_SAFE_TARGET_INIT;
	struct berth_err err = { 0 };
	const char *dotted[] = { "./safe/" };
	char *linkroot = at("rootlink");
	const char *lr[] = { linkroot };
	char *path;

	(void)state;
	assert_ok(resolve("safe/f.txt", dotted, 1, NULL, 0, &t, &err), &err);
	berth_safe_target_fini(&t);
	/* An operator root that is itself a symlink (trusted): paths under
	 * either spelling resolve. */
	assert_int_equal(symlink("safe", linkroot), 0);
	path = at("rootlink/sub/g.txt");
	assert_ok(berth_safe_path_resolve(&t, "local_path", path, lr, 1, NULL,
	                                  0, &err),
	          &err);
	berth_safe_target_fini(&t);
	free(path);
	path = at("safe/sub/g.txt");
	assert_ok(berth_safe_path_resolve(&t, "local_path", path, lr, 1, NULL,
	                                  0, &err),
	          &err);
	berth_safe_target_fini(&t);
	free(path);
	unlink(linkroot);
	free(linkroot);
}

/*
 * Resolve safe/work, then swap it for a symlink to ../outside: the
 * descriptor still names the original folder, so what is read through
 * it is the original content, never the secret; a new resolution of
 * the same string is refused.
 */
static void test_swapped_for_symlink(void **state)
{
	struct berth_safe_target t = BERTH_SAFE_TARGET_INIT;
	struct berth_err err = { 0 };
	char *work = at("safe/work"), *moved = at("safe/work.moved");
	char buf[64] = { 0 };
	int fd;

	(void)state;
	assert_ok(resolve("safe/work", safe_root, 1, NULL, 0, &t, &err), &err);
	assert_true(t.is_dir);
	assert_int_equal(rename(work, moved), 0);
	assert_int_equal(symlink("../outside", work), 0);

	fd = openat(t.fd, "w.txt", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_true(read(fd, buf, sizeof(buf) - 1) > 0);
	close(fd);
	assert_string_equal(buf, "original");
	assert_true(openat(t.fd, "secret", O_RDONLY | O_CLOEXEC) < 0);
	berth_safe_target_fini(&t);

	assert_int_equal(code_of("safe/work/secret"), BERTH_EPERM);
	assert_int_equal(code_of("safe/work"), BERTH_EPERM);
	unlink(work);
	assert_int_equal(rename(moved, work), 0);
	free(work);
	free(moved);
}

static void test_fini_accepts_null(void **state)
{
	struct berth_safe_target t = BERTH_SAFE_TARGET_INIT;

	(void)state;
	berth_safe_target_fini(NULL);
	berth_safe_target_fini(&t);
	berth_safe_target_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inside_and_prefix_sibling),
		cmocka_unit_test(test_dotdot),
		cmocka_unit_test(test_symlinks),
		cmocka_unit_test(test_missing_and_malformed),
		cmocka_unit_test(test_narrowing),
		cmocka_unit_test(test_root_spellings),
		cmocka_unit_test(test_swapped_for_symlink),
		cmocka_unit_test(test_fini_accepts_null),
	};
	int failed;

	failed = cmocka_run_group_tests_name("openat2", tests, setup, teardown);
	/* The same cases through the walk used where openat2 is missing. */
	berth_safe_path_force_walk(true);
	failed += cmocka_run_group_tests_name("walk", tests, setup, teardown);
	return failed;
}
