/*
 * test_unit_tar_build.c: tars of real trees read back with libarchive's
 * reader: names sorted and relative, contents intact, symlinks stored as
 * symlinks (never followed), setuid dropped, owners 0, equal trees give
 * equal bytes; fifos refused naming the path; entry, size and depth
 * limits; prefixes; and the check of client tars (absolute names, "..",
 * devices, hard links out, compressed or damaged archives).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/alloc.h"
#include "lib/tar_build.h"
#include "tests/support/testsupport.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUF_MAX (64u * 1024u * 1024u)

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

static void mk_file(const char *rel, const char *text, mode_t mode)
{
	char *p = at(rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	free(p);
}

static void mk_link(const char *target, const char *rel)
{
	char *p = at(rel);

	assert_int_equal(symlink(target, p), 0);
	free(p);
}

static int open_dir(const char *rel)
{
	char *p = at(rel);
	int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	free(p);
	assert_true(fd >= 0);
	return fd;
}

static int setup(void **state)
{
	(void)state;
	base = ts_tmpdir("tarbuild");
	mk_dir("t");
	mk_dir("t/sub");
	mk_dir("t/.git");
	mk_file("t/a.txt", "hello\n", 0644);
	mk_file("t/run.sh", "#!/bin/sh\n", 04755);
	mk_file("t/sub/b.txt", "deep\n", 0600);
	mk_file("t/.git/HEAD", "ref\n", 0644);
	mk_link("a.txt", "t/link");
	mk_link("/etc/passwd", "t/abslink");
	mk_link("../../outside", "t/sub/up");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ts_rmtree(base);
	free(base);
	return 0;
}

/* One entry read back. */
struct seen {
	char name[128];
	mode_t type;
	mode_t perm;
	char target[128];
	char data[64];
	int64_t uid;
};

/* Reads every entry of `tar` (at most `max`); returns the count. */
static size_t read_back(const void *tar, size_t len, struct seen *s, size_t max)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	size_t n = 0;

	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_memory(a, tar, len), ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		assert_true(n < max);
		memset(&s[n], 0, sizeof(s[n]));
		snprintf(s[n].name, sizeof(s[n].name), "%s",
		         archive_entry_pathname(e));
		s[n].type = archive_entry_filetype(e);
		s[n].perm = archive_entry_perm(e);
		s[n].uid = archive_entry_uid(e);
		if (archive_entry_symlink(e) != NULL)
			snprintf(s[n].target, sizeof(s[n].target), "%s",
			         archive_entry_symlink(e));
		if (s[n].type == AE_IFREG)
			assert_true(archive_read_data(a, s[n].data,
			                              sizeof(s[n].data) - 1)
			            >= 0);
		n++;
	}
	archive_read_free(a);
	return n;
}

/* The entry whose name is `name` (a folder may end in '/'). */
static const struct seen *find(const struct seen *s, size_t n, const char *name)
{
	size_t l = strlen(name);

	for (size_t i = 0; i < n; i++) {
		if (strcmp(s[i].name, name) == 0
		    || (strncmp(s[i].name, name, l) == 0
		        && strcmp(s[i].name + l, "/") == 0))
			return &s[i];
	}
	fail_msg("no entry %s in the tar", name);
	return NULL;
}

static void test_tree_read_back(void **state)
{
	struct berth_buf out;
	struct berth_err err = { 0 };
	struct berth_tar_stats st = { 0 };
	struct seen s[16];
	const struct seen *e;
	const char *const skip[] = { ".git", NULL };
	int fd = open_dir("t");
	size_t n;

	(void)state;
	berth_buf_init(&out, BUF_MAX);
	assert_ok(berth_tar_from_dir(fd, skip, NULL, &out, &st, &err), &err);
	assert_int_equal(st.bytes, out.len);
	n = read_back(out.data, out.len, s, 16);
	assert_int_equal(n, st.entries);
	/* a.txt abslink link run.sh sub sub/b.txt sub/up; no .git */
	assert_int_equal(n, 7);
	assert_string_equal(s[0].name, "a.txt");
	assert_string_equal(s[1].name, "abslink");
	assert_string_equal(s[2].name, "link");
	e = find(s, n, "a.txt");
	assert_int_equal(e->type, AE_IFREG);
	assert_string_equal(e->data, "hello\n");
	assert_int_equal(e->uid, 0);
	e = find(s, n, "link");
	assert_int_equal(e->type, AE_IFLNK);
	assert_string_equal(e->target, "a.txt");
	e = find(s, n, "abslink");
	assert_int_equal(e->type, AE_IFLNK);
	assert_string_equal(e->target, "/etc/passwd");
	e = find(s, n, "sub/up");
	assert_int_equal(e->type, AE_IFLNK);
	assert_string_equal(e->target, "../../outside");
	e = find(s, n, "sub");
	assert_int_equal(e->type, AE_IFDIR);
	e = find(s, n, "sub/b.txt");
	assert_string_equal(e->data, "deep\n");
	assert_int_equal(e->perm, 0600);
	/* setuid dropped, execute kept */
	e = find(s, n, "run.sh");
	assert_int_equal(e->perm, 0755);
	for (size_t i = 0; i < n; i++)
		assert_true(strncmp(s[i].name, ".git", 4) != 0);
	berth_buf_fini(&out);
	close(fd);
}

static void test_deterministic(void **state)
{
	struct berth_buf a, b;
	struct berth_err err = { 0 };
	int fd = open_dir("t");

	(void)state;
	berth_buf_init(&a, BUF_MAX);
	berth_buf_init(&b, BUF_MAX);
	assert_ok(berth_tar_from_dir(fd, NULL, NULL, &a, NULL, &err), &err);
	assert_ok(berth_tar_from_dir(fd, NULL, NULL, &b, NULL, &err), &err);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	berth_buf_fini(&a);
	berth_buf_fini(&b);
	close(fd);
}

static void test_fifo_refused(void **state)
{
	struct berth_buf out;
	struct berth_err err = { 0 };
	char *p;
	int fd;

	(void)state;
	mk_dir("f");
	mk_dir("f/d");
	mk_file("f/ok.txt", "ok", 0644);
	p = at("f/d/pipe");
	assert_int_equal(mkfifo(p, 0600), 0);
	free(p);
	fd = open_dir("f");
	berth_buf_init(&out, BUF_MAX);
	assert_int_equal(berth_tar_from_dir(fd, NULL, NULL, &out, NULL, &err),
	                 BERTH_EINVAL);
	assert_non_null(strstr(err.msg, "d/pipe"));
	assert_non_null(strstr(err.msg, "fifo"));
	/* berth_tar_from_file refuses it too (and never blocks on it). */
	berth_buf_reset(&out);
	close(fd);
	fd = open_dir("f/d");
	assert_int_equal(
	    berth_tar_from_file(fd, "pipe", NULL, &out, NULL, &err),
	    BERTH_EINVAL);
	berth_buf_fini(&out);
	close(fd);
}

static void test_limits(void **state)
{
	struct berth_buf out;
	struct berth_err err = { 0 };
	struct berth_tar_limits few = { .max_entries = 3 };
	struct berth_tar_limits small = { .max_bytes = 2048 };
	struct berth_tar_limits shallow = { .max_depth = 2 };
	char big[8192];
	int fd;

	(void)state;
	fd = open_dir("t");
	berth_buf_init(&out, BUF_MAX);
	assert_int_equal(berth_tar_from_dir(fd, NULL, &few, &out, NULL, &err),
	                 BERTH_ELIMIT);
	assert_non_null(strstr(err.msg, "3"));
	berth_buf_reset(&out);
	close(fd);

	mk_dir("big");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	mk_file("big/large", big, 0644);
	fd = open_dir("big");
	assert_int_equal(berth_tar_from_dir(fd, NULL, &small, &out, NULL, &err),
	                 BERTH_ELIMIT);
	berth_buf_fini(&out);
	/* The buffer's own cap applies as well. */
	berth_buf_init(&out, 4096);
	assert_int_equal(berth_tar_from_dir(fd, NULL, NULL, &out, NULL, &err),
	                 BERTH_ELIMIT);
	berth_buf_fini(&out);
	close(fd);

	mk_dir("deep");
	mk_dir("deep/1");
	mk_dir("deep/1/2");
	mk_dir("deep/1/2/3");
	fd = open_dir("deep");
	berth_buf_init(&out, BUF_MAX);
	assert_int_equal(
	    berth_tar_from_dir(fd, NULL, &shallow, &out, NULL, &err),
	    BERTH_ELIMIT);
	assert_non_null(strstr(err.msg, "deeper"));
	berth_buf_fini(&out);
	close(fd);
}

static void test_prefix_and_file(void **state)
{
	struct berth_buf out;
	struct berth_err err = { 0 };
	struct berth_tar_stats st = { 0 };
	struct seen s[16];
	int fd = open_dir("t");
	size_t n;

	(void)state;
	berth_buf_init(&out, BUF_MAX);
	assert_ok(berth_tar_from_dir_prefixed(fd, "/opt//app/./x/", NULL, NULL,
	                                      &out, &st, &err),
	          &err);
	n = read_back(out.data, out.len, s, 16);
	assert_string_equal(find(s, n, "opt/app/x/a.txt")->data, "hello\n");
	for (size_t i = 0; i < n; i++)
		assert_true(strncmp(s[i].name, "opt/app/x/", 10) == 0);
	berth_buf_reset(&out);
	assert_int_equal(berth_tar_from_dir_prefixed(fd, "/opt/../etc", NULL,
	                                             NULL, &out, &st, &err),
	                 BERTH_EINVAL);
	berth_buf_reset(&out);

	assert_ok(berth_tar_from_file_prefixed(fd, "link", "/app", NULL, &out,
	                                       &st, &err),
	          &err);
	assert_int_equal(st.entries, 1);
	n = read_back(out.data, out.len, s, 16);
	assert_int_equal(n, 1);
	assert_string_equal(s[0].name, "app/link");
	assert_int_equal(s[0].type, AE_IFLNK);
	assert_string_equal(s[0].target, "a.txt");
	berth_buf_reset(&out);
	assert_ok(berth_tar_from_file(fd, "a.txt", NULL, &out, &st, &err),
	          &err);
	n = read_back(out.data, out.len, s, 16);
	assert_int_equal(n, 1);
	assert_string_equal(s[0].data, "hello\n");
	berth_buf_reset(&out);
	{
		int ffd = openat(fd, "a.txt", O_RDONLY | O_CLOEXEC);
		int dfd = openat(fd, "sub", O_RDONLY | O_CLOEXEC);

		assert_ok(berth_tar_from_fd_prefixed(ffd, "renamed", "in", NULL,
		                                     &out, &st, &err),
		          &err);
		n = read_back(out.data, out.len, s, 16);
		assert_int_equal(n, 1);
		assert_string_equal(s[0].name, "in/renamed");
		assert_string_equal(s[0].data, "hello\n");
		berth_buf_reset(&out);
		assert_int_equal(berth_tar_from_fd_prefixed(
		                     dfd, "d", NULL, NULL, &out, &st, &err),
		                 BERTH_EINVAL);
		assert_int_equal(berth_tar_from_fd_prefixed(
		                     ffd, "a/b", NULL, NULL, &out, &st, &err),
		                 BERTH_EINVAL);
		close(ffd);
		close(dfd);
		berth_buf_reset(&out);
	}
	assert_int_equal(berth_tar_from_file(fd, "sub", NULL, &out, &st, &err),
	                 BERTH_EINVAL);
	assert_int_equal(berth_tar_from_file(fd, "../x", NULL, &out, &st, &err),
	                 BERTH_EINVAL);
	assert_int_equal(
	    berth_tar_from_file(fd, "missing", NULL, &out, &st, &err),
	    BERTH_ENOTFOUND);
	berth_buf_fini(&out);
	close(fd);
}

/* ------------------------------------------------------- client tars */

struct mem {
	char *p;
	size_t len;
};

static la_ssize_t mem_write(struct archive *a, void *arg, const void *p,
                            size_t n)
{
	struct mem *m = arg;

	(void)a;
	m->p = berth_realloc(m->p, m->len + n);
	memcpy(m->p + m->len, p, n);
	m->len += n;
	return (la_ssize_t)n;
}

/* A tar with one entry of `type` named `name` (and hard-link target). */
static struct mem one_entry(const char *name, mode_t type, const char *hl)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	struct mem m = { 0 };

	archive_write_set_format_pax_restricted(a);
	archive_write_open2(a, &m, NULL, mem_write, NULL, NULL);
	archive_entry_set_pathname(e, "ok.txt");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, 2);
	archive_write_header(a, e);
	archive_write_data(a, "ok", 2);
	archive_entry_clear(e);
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, 0644);
	if (hl != NULL)
		archive_entry_set_hardlink(e, hl);
	if (type == AE_IFCHR)
		archive_entry_set_rdev(e, 0x0103);
	archive_write_header(a, e);
	archive_entry_free(e);
	archive_write_close(a);
	archive_write_free(a);
	return m;
}

/* A tar with symlink `link` -> `target`, then file `name` (a hard link
 * to `hl` when not NULL). */
static struct mem link_then(const char *link, const char *target,
                            const char *name, const char *hl)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	struct mem m = { 0 };

	archive_write_set_format_pax_restricted(a);
	archive_write_open2(a, &m, NULL, mem_write, NULL, NULL);
	archive_entry_set_pathname(e, link);
	archive_entry_set_filetype(e, AE_IFLNK);
	archive_entry_set_perm(e, 0777);
	archive_entry_set_symlink(e, target);
	archive_write_header(a, e);
	archive_entry_clear(e);
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	if (hl != NULL)
		archive_entry_set_hardlink(e, hl);
	archive_write_header(a, e);
	archive_entry_free(e);
	archive_write_close(a);
	archive_write_free(a);
	return m;
}

static int check(struct mem m, struct berth_err *err)
{
	struct berth_tar_stats st = { 0 };
	int rv = berth_tar_check(m.p, m.len, NULL, &st, err);

	free(m.p);
	return rv;
}

static void test_check(void **state)
{
	struct berth_err err = { 0 };
	struct berth_buf out;
	struct berth_tar_stats st = { 0 };
	struct berth_tar_limits one = { .max_entries = 1 };
	int fd = open_dir("t");
	static const char gz[] = "\x1f\x8b\x08\x00\x00\x00\x00\x00";
	char junk[1024];

	(void)state;
	/* What berth builds passes. */
	berth_buf_init(&out, BUF_MAX);
	assert_ok(berth_tar_from_dir(fd, NULL, NULL, &out, NULL, &err), &err);
	assert_ok(berth_tar_check(out.data, out.len, NULL, &st, &err), &err);
	assert_int_equal(st.entries, 9);
	assert_int_equal(st.bytes, out.len);
	assert_int_equal(berth_tar_check(out.data, out.len, &one, &st, &err),
	                 BERTH_ELIMIT);
	berth_buf_fini(&out);
	close(fd);

	assert_ok(check(one_entry("dir/x", AE_IFREG, NULL), &err), &err);
	assert_ok(check(one_entry("./x", AE_IFREG, NULL), &err), &err);
	assert_ok(check(one_entry("y", AE_IFREG, "ok.txt"), &err), &err);
	assert_int_equal(check(one_entry("../x", AE_IFREG, NULL), &err),
	                 BERTH_EINVAL);
	assert_non_null(strstr(err.msg, "../x"));
	assert_int_equal(check(one_entry("a/../../x", AE_IFREG, NULL), &err),
	                 BERTH_EINVAL);
	assert_int_equal(check(one_entry("/etc/passwd", AE_IFREG, NULL), &err),
	                 BERTH_EINVAL);
	assert_int_equal(check(one_entry("dev", AE_IFCHR, NULL), &err),
	                 BERTH_EINVAL);
	assert_non_null(strstr(err.msg, "device"));
	assert_int_equal(check(one_entry("p", AE_IFIFO, NULL), &err),
	                 BERTH_EINVAL);
	assert_int_equal(
	    check(one_entry("h", AE_IFREG, "../../etc/shadow"), &err),
	    BERTH_EINVAL);
	assert_non_null(strstr(err.msg, "hard link"));
	assert_int_equal(check(one_entry("h", AE_IFREG, "/etc/shadow"), &err),
	                 BERTH_EINVAL);

	/* An entry through a symlink stored before it. */
	assert_int_equal(check(one_entry("ok.txt/x", AE_IFREG, NULL), &err), 0);
	assert_int_equal(
	    check(link_then("l", "/etc", "./l/passwd", NULL), &err),
	    BERTH_EINVAL);
	assert_non_null(strstr(err.msg, "symlink"));
	assert_int_equal(check(link_then("d/l", "..", "d/l/x", NULL), &err),
	                 BERTH_EINVAL);
	assert_int_equal(check(link_then("l", "/etc", "h", "l/shadow"), &err),
	                 BERTH_EINVAL);
	assert_ok(check(link_then("l", "/etc", "lx/y", NULL), &err), &err);

	assert_int_equal(berth_tar_check(gz, sizeof(gz), NULL, &st, &err),
	                 BERTH_EINVAL);
	assert_non_null(strstr(err.msg, "gzip"));
	memset(junk, 'j', sizeof(junk));
	assert_int_equal(berth_tar_check(junk, sizeof(junk), NULL, &st, &err),
	                 BERTH_EINVAL);
	assert_int_equal(berth_tar_check(junk, 0, NULL, &st, &err),
	                 BERTH_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tree_read_back),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_fifo_refused),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_prefix_and_file),
		cmocka_unit_test(test_check),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
