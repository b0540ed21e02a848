/*
 * test_integ_code.c: code into containers end to end, through a real
 * `berth serve` (started with BERTH_SAFE_LOCAL_PATHS=<tmp>/safe) against
 * the real engine: InjectCode of a folder (file, subfolder, symlink) and
 * of one file, checked with the engine's own archive GET; paths outside
 * SafeLocalPaths (shared prefix, symlink pointing out) refused with 403
 * and nothing uploaded; PUT archive of a good tar, and of a tar with a
 * "../" entry (400, nothing written); wrong Content-Type (415); a 65 MiB
 * body (413); bind mounts at create checked (403, no container left),
 * and again at start and restart (a source swapped for a symlink: 403;
 * a source gone: 409, not 404);
 * and a berth without safe_local_paths refusing injection.
 *
 * Every container made here carries the label berth-test=<run> and is
 * force-removed at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/alloc.h"
#include "lib/buf.h"
#include "lib/engine_http.h"
#include "lib/rpc.h"
#include "berth/v1/runtime.pb-c.h"
#include "tests/support/berthproc.h"
#include "tests/support/testsupport.h"

#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The gateway's cap of an archive body (GW_ARCHIVE_MAX_BODY). */
#define GW_MAX_TEST_BODY (64u * 1024u * 1024u)

static struct ts_berth berth;
static char *base; /* private temporary folder */
static char *cid;  /* the running container */
static int name_seq;

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

/* One REST call; `out` may be NULL when the reply does not matter. */
static long req(const char *method, const char *path, const char *body,
                json_t **out)
{
	json_t *ignored = NULL;
	long st = ts_http(berth.base, method, path, body, berth.token, NULL,
	                  out != NULL ? out : &ignored);

	json_decref(ignored);
	return st;
}

static char *unique_name(const char *what)
{
	return berth_asprintf("it-code-%s-%ld-%d-%s", ts_run_label(),
	                      (long)getpid(), ++name_seq, what);
}

static void remove_container(const char *id)
{
	char *path = berth_asprintf("/api/v1/containers/%s?force=1", id);
	json_t *j = NULL;

	req("DELETE", path, NULL, &j);
	json_decref(j);
	free(path);
}

/* ------------------------------------------------- the engine, directly */

/* GET on the engine's socket; returns the status, body in `out`. */
static long engine_get(const char *path, struct berth_buf *out)
{
	struct berth_http_target t = { .socket_path = ts_docker_socket(),
		                       .display = "engine",
		                       .timeout_ms = 20000 };
	struct berth_http_req r = { .method = "GET", .path = path };
	struct berth_err err = { 0 };
	long status = 0;

	assert_ok(berth_http_do(&t, &r, &status, out, &err), &err);
	return status;
}

/* What the engine holds at `cpath` in the container (the first entry
 * of its archive GET), or status 404. */
struct found {
	long status;
	mode_t type;
	char data[128];
	char target[128];
};

/* Whether the last component of `path` ("a/b/" or "a/b") is `name`. */
static bool last_name_is(const char *path, const char *name)
{
	size_t pl = strlen(path), nl = strlen(name);

	if (pl > 0 && path[pl - 1] == '/')
		pl--;
	if (pl < nl || strncmp(path + pl - nl, name, nl) != 0)
		return false;
	return pl == nl || path[pl - nl - 1] == '/';
}

/*
 * The entry of the engine's archive GET of folder `dir` whose last name
 * is `name` (the archive holds the folder's own name first), or the
 * first entry when `name` is NULL. A symlink is looked up in its
 * folder's archive: Podman's archive GET follows a symlink named last.
 */
static struct found engine_stat_in(const char *dir, const char *name)
{
	struct found f = { 0 };
	struct berth_buf b;
	char *q = berth_http_escape(dir);
	char *path
	    = berth_asprintf("/v1.41/containers/%s/archive?path=%s", cid, q);

	berth_buf_init(&b, 16u * 1024u * 1024u);
	f.status = engine_get(path, &b);
	if (f.status == 200) {
		struct archive *a = archive_read_new();
		struct archive_entry *e;

		archive_read_support_format_tar(a);
		assert_int_equal(archive_read_open_memory(a, b.data, b.len),
		                 ARCHIVE_OK);
		f.status = 404;
		for (int i = 0; i < 1000; i++) {
			if (archive_read_next_header(a, &e) != ARCHIVE_OK)
				break;
			if (name == NULL
			    || last_name_is(archive_entry_pathname(e), name)) {
				f.status = 200;
				break;
			}
		}
		if (f.status != 200) {
			archive_read_free(a);
			goto out;
		}
		f.type = archive_entry_filetype(e);
		if (archive_entry_symlink(e) != NULL)
			snprintf(f.target, sizeof(f.target), "%s",
			         archive_entry_symlink(e));
		if (f.type == AE_IFREG)
			assert_true(
			    archive_read_data(a, f.data, sizeof(f.data) - 1)
			    >= 0);
		archive_read_free(a);
	}
out:
	berth_buf_fini(&b);
	free(path);
	free(q);
	return f;
}

static struct found engine_stat(const char *cpath)
{
	return engine_stat_in(cpath, NULL);
}

static void assert_file(const char *cpath, const char *content)
{
	struct found f = engine_stat(cpath);

	if (f.status != 200)
		fail_msg("%s: engine archive GET answered %ld", cpath,
		         f.status);
	assert_int_equal(f.type, AE_IFREG);
	assert_string_equal(f.data, content);
}

static void assert_absent(const char *cpath)
{
	struct found f = engine_stat(cpath);

	if (f.status != 404)
		fail_msg("%s exists in the container (status %ld)", cpath,
		         f.status);
}

/* ------------------------------------------------------- raw uploads */

static size_t sink(char *p, size_t size, size_t n, void *arg)
{
	struct berth_buf *b = arg;

	(void)berth_buf_append(b, p, size * n);
	return size * n;
}

/* PUT `len` bytes to berth's archive route with `ctype`; returns the
 * status, the JSON reply in `*out` (may be NULL). */
static long put_archive(const char *cpath, const void *body, size_t len,
                        const char *ctype, json_t **out)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	struct berth_buf reply;
	char *q = berth_http_escape(cpath);
	char *url = berth_asprintf("%s/api/v1/containers/%s/archive?path=%s",
	                           berth.base, cid, q);
	char *auth = berth_asprintf("Authorization: Bearer %s", berth.token);
	char *ct = berth_asprintf("Content-Type: %s", ctype);
	long status = -1;

	berth_buf_init(&reply, 1024u * 1024u);
	h = curl_slist_append(h, auth);
	h = curl_slist_append(h, ct);
	/* A body over the cap waits for the answer (Expect: 100-continue,
	 * curl's default): the gateway refuses it before reading and
	 * closes, which would otherwise race curl's sending. */
	if (len <= GW_MAX_TEST_BODY)
		h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (out != NULL)
		*out = reply.len > 0
		    ? json_loadb(reply.data, reply.len, 0, NULL)
		    : NULL;
	berth_buf_fini(&reply);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	free(ct);
	free(auth);
	free(url);
	free(q);
	return status;
}

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

static void add(struct archive *a, const char *name, mode_t type,
                const char *data, const char *link)
{
	struct archive_entry *e = archive_entry_new();

	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
	if (data != NULL)
		archive_entry_set_size(e, (la_int64_t)strlen(data));
	if (link != NULL)
		archive_entry_set_symlink(e, link);
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	if (data != NULL)
		archive_write_data(a, data, strlen(data));
	archive_entry_free(e);
}

/* A tar of a few entries; `evil` adds "../escape.txt" after them. */
static struct mem make_tar(bool evil)
{
	struct archive *a = archive_write_new();
	struct mem m = { 0 };

	archive_write_set_format_pax_restricted(a);
	archive_write_open2(a, &m, NULL, mem_write, NULL, NULL);
	add(a, "hello.txt", AE_IFREG, "hi from a tar\n", NULL);
	add(a, "d", AE_IFDIR, NULL, NULL);
	add(a, "d/e.txt", AE_IFREG, "nested\n", NULL);
	add(a, "l", AE_IFLNK, NULL, "hello.txt");
	if (evil)
		add(a, "../escape.txt", AE_IFREG, "escaped\n", NULL);
	archive_write_close(a);
	archive_write_free(a);
	return m;
}

/* --------------------------------------------------------------- setup */

static int setup(void **state)
{
	char *safe, *body, *path, *name;
	json_t *j = NULL;
	long st;

	(void)state;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	{
		char *tmp = ts_tmpdir("integcode");

		base = realpath(tmp, NULL);
		free(tmp);
	}
	mk_dir("safe");
	mk_dir("safe/src");
	mk_dir("safe/src/sub");
	mk_dir("safe-x");
	mk_dir("outside");
	mk_dir("safe/binds");
	mk_file("safe/src/a.txt", "hello\n");
	mk_file("safe/src/sub/b.txt", "deep\n");
	mk_link("a.txt", "safe/src/link");
	mk_file("safe/one.txt", "just one\n");
	mk_file("safe-x/x.txt", "sibling\n");
	mk_file("outside/secret", "secret\n");
	mk_link("../outside", "safe/out");

	safe = at("safe");
	setenv("BERTH_SAFE_LOCAL_PATHS", safe, 1);
	free(safe);
	if (ts_berth_start(&berth, NULL, 0, NULL) != 0)
		return -1;
	unsetenv("BERTH_SAFE_LOCAL_PATHS");

	name = unique_name("target");
	body = berth_asprintf("{\"image\":\"%s\",\"name\":\"%s\","
	                      "\"command\":[\"sleep\",\"300\"],"
	                      "\"labels\":{\"berth-test\":\"%s\"}}",
	                      ts_test_image(), name, ts_run_label());
	st = req("POST", "/api/v1/containers", body, &j);
	free(body);
	free(name);
	if (st != 201) {
		json_decref(j);
		return -1;
	}
	cid = berth_strdup(ts_json_str(j, "id"));
	json_decref(j);
	path = berth_asprintf("/api/v1/containers/%s/start", cid);
	st = req("POST", path, NULL, NULL);
	free(path);
	return st == 204 ? 0 : -1;
}

static int teardown(void **state)
{
	int rv;

	(void)state;
	if (cid != NULL)
		remove_container(cid);
	free(cid);
	rv = ts_berth_stop(&berth);
	ts_rmtree(base);
	free(base);
	curl_global_cleanup();
	return rv;
}

static long inject(const char *local_rel, const char *cpath,
                   const char *narrow_rel, json_t **out)
{
	char *local
	    = local_rel[0] == '/' ? berth_strdup(local_rel) : at(local_rel);
	char *narrow = narrow_rel != NULL ? at(narrow_rel) : NULL;
	char *body, *path = berth_asprintf("/api/v1/containers/%s/inject", cid);
	long st;

	if (narrow != NULL)
		body = berth_asprintf("{\"local_path\":\"%s\","
		                      "\"container_path\":\"%s\","
		                      "\"safe_local_paths\":[\"%s\"]}",
		                      local, cpath, narrow);
	else
		body = berth_asprintf("{\"local_path\":\"%s\","
		                      "\"container_path\":\"%s\"}",
		                      local, cpath);
	st = req("POST", path, body, out);
	free(body);
	free(path);
	free(narrow);
	free(local);
	return st;
}

/* ---------------------------------------------------------------- tests */

static void test_inject_folder(void **state)
{
	json_t *j = NULL;
	struct found f;

	(void)state;
	assert_int_equal(inject("safe/src", "/opt/app/code", NULL, &j), 200);
	/* a.txt, link, sub, sub/b.txt */
	assert_int_equal(json_integer_value(json_object_get(j, "entries")), 4);
	assert_true(json_integer_value(json_object_get(j, "bytes")) >= 2048);
	json_decref(j);
	assert_file("/opt/app/code/a.txt", "hello\n");
	assert_file("/opt/app/code/sub/b.txt", "deep\n");
	f = engine_stat_in("/opt/app/code", "link");
	assert_int_equal(f.status, 200);
	assert_int_equal(f.type, AE_IFLNK);
	assert_string_equal(f.target, "a.txt");
	f = engine_stat("/opt/app/code/sub");
	assert_int_equal(f.type, AE_IFDIR);

	/* One file goes into the folder under its own name. */
	assert_int_equal(inject("safe/one.txt", "/opt/single", NULL, &j), 200);
	assert_int_equal(json_integer_value(json_object_get(j, "entries")), 1);
	json_decref(j);
	assert_file("/opt/single/one.txt", "just one\n");

	/* A local_path that is a symlink to a file inside: the file is
	 * stored under the link's name. */
	assert_int_equal(inject("safe/src/link", "/opt/vialink", NULL, &j),
	                 200);
	json_decref(j);
	assert_file("/opt/vialink/link", "hello\n");

	/* Narrowed to the same folder: still fine. */
	assert_int_equal(inject("safe/src/sub", "/opt/narrow", "safe/src", &j),
	                 200);
	json_decref(j);
	assert_file("/opt/narrow/b.txt", "deep\n");
}

static void test_inject_refused(void **state)
{
	json_t *j = NULL;

	(void)state;
	/* Shares the string prefix only. */
	assert_int_equal(inject("safe-x", "/opt/refused1", NULL, &j), 403);
	assert_string_equal(ts_error_code(j), "PERMISSION_DENIED");
	assert_non_null(
	    strstr(ts_json_str(json_object_get(j, "error"), "message"),
	           "safe_local_paths"));
	json_decref(j);
	assert_absent("/opt/refused1");
	/* Through a symlink inside that points out. */
	assert_int_equal(inject("safe/out", "/opt/refused2", NULL, &j), 403);
	json_decref(j);
	assert_int_equal(inject("safe/out/secret", "/opt/refused2", NULL, &j),
	                 403);
	json_decref(j);
	/* ".." out of the safe folder. */
	assert_int_equal(inject("safe/../outside", "/opt/refused2", NULL, &j),
	                 403);
	json_decref(j);
	assert_absent("/opt/refused2");
	/* The request cannot widen the operator's list. */
	assert_int_equal(inject("outside", "/opt/refused3", "outside", &j),
	                 403);
	json_decref(j);
	/* ... and narrows it. */
	assert_int_equal(
	    inject("safe/one.txt", "/opt/refused3", "safe/src", &j), 403);
	json_decref(j);
	assert_absent("/opt/refused3");
	/* Missing, relative, bad container path, unknown field. */
	assert_int_equal(inject("safe/nope", "/opt/refused4", NULL, &j), 404);
	json_decref(j);
	assert_int_equal(inject("/", "relative/path", NULL, &j), 400);
	json_decref(j);
	{
		char *path
		    = berth_asprintf("/api/v1/containers/%s/inject", cid);

		assert_int_equal(req("POST", path,
		                     "{\"local_path\":\"rel\","
		                     "\"container_path\":\"/x\"}",
		                     &j),
		                 400);
		assert_non_null(
		    strstr(ts_json_str(json_object_get(j, "error"), "message"),
		           "local_path"));
		json_decref(j);
		assert_int_equal(req("POST", path,
		                     "{\"local_path\":\"/x\","
		                     "\"container_path\":\"/x\",\"mode\":1}",
		                     &j),
		                 400);
		json_decref(j);
		free(path);
	}
	assert_absent("/opt/refused4");
}

static void test_put_archive(void **state)
{
	struct mem good = make_tar(false), evil = make_tar(true);
	json_t *j = NULL;
	struct found f;

	(void)state;
	/* Docker needs the folder to exist; Podman creates it. */
	if (!ts_engine_is_podman()) {
		assert_int_equal(put_archive("/srv", good.p, good.len,
		                             "application/x-tar", &j),
		                 404);
		json_decref(j);
	}
	assert_int_equal(
	    put_archive("/tmp", good.p, good.len, "application/x-tar", &j),
	    200);
	assert_int_equal(json_integer_value(json_object_get(j, "entries")), 4);
	assert_int_equal(json_integer_value(json_object_get(j, "bytes")),
	                 (json_int_t)good.len);
	json_decref(j);
	assert_file("/tmp/hello.txt", "hi from a tar\n");
	assert_file("/tmp/d/e.txt", "nested\n");
	f = engine_stat_in("/tmp", "l");
	assert_int_equal(f.type, AE_IFLNK);
	assert_string_equal(f.target, "hello.txt");

	/* A "../" entry: 400 and nothing written, not even the good ones
	 * before it. */
	assert_int_equal(
	    put_archive("/opt", evil.p, evil.len, "application/x-tar", &j),
	    400);
	assert_non_null(
	    strstr(ts_json_str(json_object_get(j, "error"), "message"),
	           "../escape.txt"));
	json_decref(j);
	assert_absent("/opt/hello.txt");
	assert_absent("/escape.txt");

	/* Wrong type: 415; no path: 400. */
	assert_int_equal(
	    put_archive("/opt", good.p, good.len, "application/json", &j), 415);
	json_decref(j);
	assert_int_equal(
	    put_archive("relative", good.p, good.len, "application/x-tar", &j),
	    400);
	json_decref(j);
	assert_absent("/opt/hello.txt");
	free(good.p);
	free(evil.p);
}

/*
 * A tar of tens of MiB crosses the gateway, nng and the engine: past
 * nng's default message cap (4 MiB), which the gateway and the runtime
 * both raise to carry a GW_ARCHIVE_MAX_BODY upload.
 */
#define BIG_TAR_BYTES (12u * 1024u * 1024u + 12345u)

static void test_put_archive_big(void **state)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	size_t size = BIG_TAR_BYTES;
	char *data = berth_malloc(size);
	struct mem m = { 0 };
	json_t *j = NULL;

	(void)state;
	for (size_t i = 0; i < size; i++)
		data[i] = (char)('a' + i % 26);
	archive_write_set_format_pax_restricted(a);
	archive_write_open2(a, &m, NULL, mem_write, NULL, NULL);
	archive_entry_set_pathname(e, "big.bin");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)size);
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, data, size), (la_ssize_t)size);
	archive_entry_free(e);
	archive_write_close(a);
	archive_write_free(a);
	free(data);
	assert_true(m.len > size && m.len < GW_MAX_TEST_BODY);
	if (put_archive("/opt", m.p, m.len, "application/x-tar", &j) != 200)
		fail_msg("big upload refused: %s",
		         ts_json_str(json_object_get(j, "error"), "message"));
	assert_int_equal(json_integer_value(json_object_get(j, "bytes")),
	                 (json_int_t)m.len);
	json_decref(j);
	free(m.p);
	/* The file is there: its folder lists it (the engine's GET of the
	 * file itself would be larger than the reply cap). */
	{
		struct found f = engine_stat_in("/opt", "big.bin");

		assert_int_equal(f.status, 200);
		assert_int_equal(f.type, AE_IFREG);
	}
}

static void test_put_archive_too_large(void **state)
{
	size_t len = 65u * 1024u * 1024u;
	char *big = berth_calloc(1, len);
	json_t *j = NULL;

	(void)state;
	assert_int_equal(put_archive("/opt", big, len, "application/x-tar", &j),
	                 413);
	json_decref(j);
	free(big);
	assert_absent("/opt/hello.txt");
}

/* Creates a container with one bind mount; returns the status. */
static long create_with_bind(const char *source, json_t **out, char **name)
{
	char *body;
	long st;

	*name = unique_name("bind");
	body = berth_asprintf("{\"image\":\"%s\",\"name\":\"%s\","
	                      "\"command\":[\"true\"],"
	                      "\"mounts\":[{\"source\":\"%s\","
	                      "\"target\":\"/data\",\"type\":\"bind\"}],"
	                      "\"labels\":{\"berth-test\":\"%s\"}}",
	                      ts_test_image(), *name, source, ts_run_label());
	st = req("POST", "/api/v1/containers", body, out);
	free(body);
	return st;
}

static void test_bind_mounts(void **state)
{
	char *outside = at("outside"), *sibling = at("safe-x");
	char *inside = at("safe/binds"), *name = NULL, *path;
	json_t *j = NULL;

	(void)state;
	assert_int_equal(create_with_bind(outside, &j, &name), 403);
	assert_non_null(
	    strstr(ts_json_str(json_object_get(j, "error"), "message"),
	           "mounts[0].source"));
	json_decref(j);
	/* No container was left behind under that name. */
	path = berth_asprintf("/api/v1/containers/%s", name);
	assert_int_equal(req("GET", path, NULL, &j), 404);
	json_decref(j);
	free(path);
	free(name);

	assert_int_equal(create_with_bind(sibling, &j, &name), 403);
	json_decref(j);
	free(name);

	assert_int_equal(create_with_bind(inside, &j, &name), 201);
	remove_container(ts_json_str(j, "id"));
	json_decref(j);
	free(name);
	free(outside);
	free(sibling);
	free(inside);
}

/*
 * A bind source swapped for a symlink that leads out after create: berth
 * checks again before it starts the container, refuses (403) and leaves
 * it created, not running; with the folder back, the start goes ahead.
 */
static void test_bind_swapped_before_start(void **state)
{
	char *swap = at("safe/swap"), *aside = at("safe/swap-aside");
	char *name = NULL, *path, *id;
	json_t *j = NULL;

	(void)state;
	mk_dir("safe/swap");
	assert_int_equal(create_with_bind(swap, &j, &name), 201);
	id = berth_strdup(ts_json_str(j, "id"));
	json_decref(j);

	assert_int_equal(rename(swap, aside), 0);
	mk_link("../outside", "safe/swap");
	path = berth_asprintf("/api/v1/containers/%s/start", id);
	assert_int_equal(req("POST", path, NULL, &j), 403);
	assert_non_null(
	    strstr(ts_json_str(json_object_get(j, "error"), "message"),
	           "mounts[0].source"));
	json_decref(j);
	free(path);
	path = berth_asprintf("/api/v1/containers/%s", id);
	assert_int_equal(req("GET", path, NULL, &j), 200);
	assert_string_equal(ts_json_str(j, "state"), "created");
	json_decref(j);
	free(path);

	assert_int_equal(unlink(swap), 0);
	assert_int_equal(rename(aside, swap), 0);
	path = berth_asprintf("/api/v1/containers/%s/start", id);
	assert_int_equal(req("POST", path, NULL, &j), 204);
	json_decref(j);
	free(path);

	/* A restart is checked too. */
	assert_int_equal(rename(swap, aside), 0);
	mk_link("../outside", "safe/swap");
	path = berth_asprintf("/api/v1/containers/%s/restart", id);
	assert_int_equal(req("POST", path, NULL, &j), 403);
	json_decref(j);
	/* The source gone altogether: the container is there, its state
	 * refuses the start (409 naming the source), never a 404 that
	 * would say the container is gone. */
	assert_int_equal(unlink(swap), 0);
	assert_int_equal(req("POST", path, NULL, &j), 409);
	assert_non_null(
	    strstr(ts_json_str(json_object_get(j, "error"), "message"),
	           "mounts[0].source"));
	json_decref(j);
	free(path);
	path = berth_asprintf("/api/v1/containers/%s/start", id);
	assert_int_equal(req("POST", path, NULL, &j), 409);
	json_decref(j);
	free(path);
	assert_int_equal(rename(aside, swap), 0);

	remove_container(id);
	free(id);
	free(name);
	free(swap);
	free(aside);
}

/*
 * A read-only root with a bind mount from inside the safe folder: the
 * upload goes straight into the mounted folder (an engine refuses
 * uploads into a read-only root), so the files appear on the host.
 */
static void test_inject_read_only_root(void **state)
{
	char *binds = at("safe/rw"), *name = unique_name("ro"), *body, *path;
	char *host_file = at("safe/rw/a.txt");
	json_t *j = NULL;
	char *id;
	long st;
	struct stat sb;

	(void)state;
	mk_dir("safe/rw");
	body = berth_asprintf("{\"image\":\"%s\",\"name\":\"%s\","
	                      "\"command\":[\"sleep\",\"300\"],"
	                      "\"read_only_rootfs\":true,"
	                      "\"mounts\":[{\"source\":\"%s\","
	                      "\"target\":\"/data\",\"type\":\"bind\"}],"
	                      "\"labels\":{\"berth-test\":\"%s\"}}",
	                      ts_test_image(), name, binds, ts_run_label());
	st = req("POST", "/api/v1/containers", body, &j);
	free(body);
	free(name);
	assert_int_equal(st, 201);
	id = berth_strdup(ts_json_str(j, "id"));
	json_decref(j);
	path = berth_asprintf("/api/v1/containers/%s/start", id);
	assert_int_equal(req("POST", path, NULL, NULL), 204);
	free(path);

	path = berth_asprintf("/api/v1/containers/%s/inject", id);
	body = berth_asprintf("{\"local_path\":\"%s/safe/src\","
	                      "\"container_path\":\"/data\"}",
	                      base);
	st = req("POST", path, body, &j);
	free(body);
	if (st != 200)
		fail_msg("inject into a read-only root's volume: %ld %s", st,
		         ts_json_str(json_object_get(j, "error"), "message"));
	json_decref(j);
	/* Not into the read-only root itself. */
	body = berth_asprintf("{\"local_path\":\"%s/safe/src\","
	                      "\"container_path\":\"/opt/ro\"}",
	                      base);
	st = req("POST", path, body, &j);
	free(body);
	free(path);
	json_decref(j);
	remove_container(id);
	free(id);
	assert_int_equal(stat(host_file, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_true(st == 403 || st == 400 || st == 500);
	free(host_file);
	free(binds);
}

/* A berth with no safe_local_paths refuses injection and binds. */
static void test_no_safe_paths(void **state)
{
	struct ts_berth other;
	char *path, *body, *src = at("safe/src");
	json_t *j = NULL;
	long st;

	(void)state;
	unsetenv("BERTH_SAFE_LOCAL_PATHS");
	assert_int_equal(ts_berth_start(&other, NULL, 0, NULL), 0);
	path = berth_asprintf("/api/v1/containers/%s/inject", cid);
	body = berth_asprintf("{\"local_path\":\"%s\","
	                      "\"container_path\":\"/opt/none\"}",
	                      src);
	st = ts_http(other.base, "POST", path, body, other.token, NULL, &j);
	assert_int_equal(st, 403);
	assert_non_null(
	    strstr(ts_json_str(json_object_get(j, "error"), "message"),
	           "BERTH_SAFE_LOCAL_PATHS"));
	json_decref(j);
	free(body);
	free(path);
	free(src);
	assert_int_equal(ts_berth_stop(&other), 0);
	assert_absent("/opt/none");
}

/*
 * The nng API is public too: the runtime repeats every check. A
 * runtime-only berth on an ipc:// address, called directly.
 */
static void test_runtime_checks_over_nng(void **state)
{
	struct ts_berth rt;
	struct berth_rpc_client *cli = NULL;
	struct berth_err err = { 0 };
	struct berth_rpc_opts o = { .timeout_ms = 20000 };
	struct mem evil = make_tar(true), good = make_tar(false);
	Berth__V1__PutArchiveRequest pa = BERTH__V1__PUT_ARCHIVE_REQUEST__INIT;
	Berth__V1__InjectCodeRequest ic = BERTH__V1__INJECT_CODE_REQUEST__INIT;
	ProtobufCMessage *out = NULL;
	char *safe = at("safe"), *outside = at("outside"),
	     *src = at("safe/src");
	char *url = berth_asprintf("ipc://%s/rt.sock", base);
	const char *urls[1] = { url };
	char *narrow[1] = { outside };
	static const char gz[] = "\x1f\x8b\x08\x00\x00\x00\x00\x00";

	(void)state;
	setenv("BERTH_SAFE_LOCAL_PATHS", safe, 1);
	assert_int_equal(ts_berth_start_runtime(&rt, NULL, url), 0);
	unsetenv("BERTH_SAFE_LOCAL_PATHS");
	assert_ok(berth_rpc_client_alloc(&cli, urls, 1, NULL, &err), &err);

	pa.id = cid;
	pa.path = "/opt";
	pa.tar.data = (uint8_t *)evil.p;
	pa.tar.len = evil.len;
	assert_int_equal(berth_rpc_call(cli, &berth__v1__runtime__descriptor,
	                                "PutArchive", &pa.base, &out, &o, &err),
	                 BERTH_EINVAL);
	assert_non_null(strstr(err.msg, "../escape.txt"));
	pa.tar.data = (uint8_t *)gz;
	pa.tar.len = sizeof(gz);
	assert_int_equal(berth_rpc_call(cli, &berth__v1__runtime__descriptor,
	                                "PutArchive", &pa.base, &out, &o, &err),
	                 BERTH_EINVAL);
	assert_non_null(strstr(err.msg, "compressed"));
	pa.tar.data = (uint8_t *)good.p;
	pa.tar.len = good.len;
	pa.path = "/opt/../etc";
	assert_int_equal(berth_rpc_call(cli, &berth__v1__runtime__descriptor,
	                                "PutArchive", &pa.base, &out, &o, &err),
	                 BERTH_EINVAL);
	pa.path = "/opt";
	pa.id = "bad/id";
	assert_int_equal(berth_rpc_call(cli, &berth__v1__runtime__descriptor,
	                                "PutArchive", &pa.base, &out, &o, &err),
	                 BERTH_EINVAL);
	assert_absent("/opt/hello.txt");

	ic.id = cid;
	ic.local_path = outside;
	ic.container_path = "/opt/nng";
	assert_int_equal(berth_rpc_call(cli, &berth__v1__runtime__descriptor,
	                                "InjectCode", &ic.base, &out, &o, &err),
	                 BERTH_EPERM);
	/* A request list naming outside does not widen. */
	ic.n_safe_local_paths = 1;
	ic.safe_local_paths = narrow;
	assert_int_equal(berth_rpc_call(cli, &berth__v1__runtime__descriptor,
	                                "InjectCode", &ic.base, &out, &o, &err),
	                 BERTH_EPERM);
	ic.n_safe_local_paths = 0;
	ic.local_path = "relative";
	assert_int_equal(berth_rpc_call(cli, &berth__v1__runtime__descriptor,
	                                "InjectCode", &ic.base, &out, &o, &err),
	                 BERTH_EINVAL);
	ic.local_path = src;
	ic.container_path = "opt/relative";
	assert_int_equal(berth_rpc_call(cli, &berth__v1__runtime__descriptor,
	                                "InjectCode", &ic.base, &out, &o, &err),
	                 BERTH_EINVAL);
	assert_absent("/opt/nng");
	/* And the good path works over nng as well. */
	ic.container_path = "/opt/nng";
	assert_ok(berth_rpc_call(cli, &berth__v1__runtime__descriptor,
	                         "InjectCode", &ic.base, &out, &o, &err),
	          &err);
	assert_int_equal(((Berth__V1__InjectCodeReply *)out)->entries, 4);
	protobuf_c_message_free_unpacked(out, NULL);
	assert_file("/opt/nng/sub/b.txt", "deep\n");

	berth_rpc_client_free(cli);
	assert_int_equal(ts_berth_stop(&rt), 0);
	free(evil.p);
	free(good.p);
	free(url);
	free(src);
	free(outside);
	free(safe);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inject_folder),
		cmocka_unit_test(test_inject_refused),
		cmocka_unit_test(test_put_archive),
		cmocka_unit_test(test_put_archive_big),
		cmocka_unit_test(test_put_archive_too_large),
		cmocka_unit_test(test_bind_mounts),
		cmocka_unit_test(test_bind_swapped_before_start),
		cmocka_unit_test(test_inject_read_only_root),
		cmocka_unit_test(test_no_safe_paths),
		cmocka_unit_test(test_runtime_checks_over_nng),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
