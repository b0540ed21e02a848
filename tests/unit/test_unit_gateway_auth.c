/*
 * test_unit_gateway_auth.c: the gateway's bearer tokens on a real SQLite
 * file (first start, hash-only storage, checks, restart, refusal to
 * overwrite admin.token), then the real gateway over loopback with
 * libcurl against a runtime address where nothing listens.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/support/testsupport.h"

#include "gateway/auth.h"
#include "gateway/gateway.h"
#include "lib/alloc.h"
#include "lib/sha256.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Whole file into a new NUL-terminated buffer; NULL when missing. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rbe");
	char *data = NULL;
	size_t n = 0, cap = 0, r;

	if (f == NULL)
		return NULL;
	do {
		if (n + 4096 + 1 > cap) {
			cap = (cap + 4096) * 2;
			data = berth_realloc(data, cap);
		}
		r = fread(data + n, 1, 4096, f);
		n += r;
	} while (r > 0);
	fclose(f);
	data[n] = '\0';
	*len = n;
	return data;
}

static bool file_contains(const char *path, const char *needle)
{
	size_t len = 0;
	char *data = slurp(path, &len);
	bool found
	    = data != NULL && memmem(data, len, needle, strlen(needle)) != NULL;

	free(data);
	return found;
}

static char *read_token(const char *path)
{
	size_t len = 0;
	char *t = slurp(path, &len);

	assert_non_null(t);
	assert_true(len > 6 && t[len - 1] == '\n');
	t[len - 1] = '\0';
	return t;
}

static void expect_unauth(struct gw_auth *a, const char *header)
{
	char name[GW_AUTH_NAME_MAX];
	struct berth_err err;

	assert_int_equal(gw_auth_check(a, header, name, &err), BERTH_EUNAUTH);
	/* One message whatever was wrong. */
	assert_null(strstr(err.msg, "unknown"));
	assert_null(strstr(err.msg, "malformed"));
}

static void test_first_start_and_checks(void **state)
{
	char *dir = ts_tmpdir("gwauth");
	char *data = berth_asprintf("%s/data", dir);
	char *db = berth_asprintf("%s/gateway.db", data);
	char *wal = berth_asprintf("%s/gateway.db-wal", data);
	char hash[BERTH_SHA256_HEX_LEN + 1];
	char name[GW_AUTH_NAME_MAX];
	struct gw_auth *a = NULL;
	struct berth_err err;
	struct stat sb;
	char *tok, *hdr;

	(void)state;
	assert_ok(gw_auth_open(&a, data, &err), &err);
	assert_int_equal(stat(data, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	assert_int_equal(stat(gw_auth_admin_token_path(a), &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	tok = read_token(gw_auth_admin_token_path(a));
	assert_int_equal(strncmp(tok, "berth_", 6), 0);
	assert_int_equal(strlen(tok), 6 + 43);

	hdr = berth_asprintf("Bearer %s", tok);
	assert_ok(gw_auth_check(a, hdr, name, &err), &err);
	assert_string_equal(name, "admin");
	expect_unauth(a, NULL);
	expect_unauth(a, "");
	expect_unauth(a, "Bearer ");
	expect_unauth(a, "Basic YWRtaW46eA==");
	expect_unauth(a, tok); /* no scheme */
	hdr[strlen(hdr) - 1] = hdr[strlen(hdr) - 1] == 'A' ? 'B' : 'A';
	expect_unauth(a, hdr);
	expect_unauth(
	    a, "Bearer berth_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	free(hdr);
	gw_auth_close(a);
	a = NULL;

	/* The database holds the hash, never the token. */
	berth_sha256_hex(tok, strlen(tok), hash);
	assert_false(file_contains(db, tok));
	assert_false(file_contains(wal, tok));
	assert_true(file_contains(db, hash) || file_contains(wal, hash));

	/* Restart: same token still valid, file untouched. */
	assert_ok(gw_auth_open(&a, data, &err), &err);
	hdr = berth_asprintf("Bearer %s", tok);
	assert_ok(gw_auth_check(a, hdr, name, &err), &err);
	free(hdr);
	{
		char *again = read_token(gw_auth_admin_token_path(a));

		assert_string_equal(again, tok);
		free(again);
	}
	/* A second token works beside the first. */
	{
		char *t2 = NULL;

		assert_ok(gw_auth_create_token(a, &t2, "ci", &err), &err);
		hdr = berth_asprintf("Bearer %s", t2);
		assert_ok(gw_auth_check(a, hdr, name, &err), &err);
		assert_string_equal(name, "ci");
		free(hdr);
		free(t2);
		assert_int_equal(gw_auth_create_token(a, &t2, "bad name", &err),
		                 BERTH_EINVAL);
	}
	gw_auth_close(a);

	free(tok);
	free(db);
	free(wal);
	free(data);
	ts_rmtree(dir);
	free(dir);
}

static void test_refuses_to_overwrite_admin_token(void **state)
{
	char *dir = ts_tmpdir("gwauth2");
	char *path = berth_asprintf("%s/admin.token", dir);
	struct gw_auth *a = NULL;
	struct berth_err err;
	int fd;

	(void)state;
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "keepme\n", 7), 7);
	close(fd);
	assert_int_equal(gw_auth_open(&a, dir, &err), BERTH_EPRECOND);
	assert_null(a);
	assert_non_null(strstr(err.msg, "admin.token"));
	assert_true(file_contains(path, "keepme"));
	free(path);
	ts_rmtree(dir);
	free(dir);
}

/* A data dir others may write to, or one that cannot be made, is refused
 * before any token exists; nothing is left behind. */
static void test_unsafe_or_unusable_data_dir(void **state)
{
	char *dir = ts_tmpdir("gwauth3");
	char *file = berth_asprintf("%s/plain", dir);
	char *sub = berth_asprintf("%s/plain/data", dir);
	char *path = berth_asprintf("%s/admin.token", dir);
	struct gw_auth *a = NULL;
	struct berth_err err;
	struct stat sb;
	int fd;

	(void)state;
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(gw_auth_open(&a, dir, &err), BERTH_EPRECOND);
	assert_null(a);
	assert_non_null(strstr(err.msg, "writable by group or others"));
	assert_int_not_equal(lstat(path, &sb), 0);

	assert_int_equal(chmod(dir, 0700), 0);
	fd = open(file, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(gw_auth_open(&a, file, &err), BERTH_EPRECOND);
	assert_non_null(strstr(err.msg, "not a directory"));
	assert_int_equal(gw_auth_open(&a, sub, &err), BERTH_EINTERNAL);
	assert_non_null(strstr(err.msg, "cannot create"));
	assert_null(a);
	assert_int_not_equal(lstat(path, &sb), 0);

	/* A fresh dir is still accepted, and admin.token is 0600. */
	assert_ok(gw_auth_open(&a, dir, &err), &err);
	assert_int_equal(lstat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	gw_auth_close(a);
	free(path);
	free(sub);
	free(file);
	ts_rmtree(dir);
	free(dir);
}

/* ------------------------------------------------------- over loopback */

struct reply {
	long status;
	char body[4096];
	size_t len;
	char headers[4096];
	size_t hlen;
	double seconds;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;
	size_t len = size * n, room = sizeof(r->body) - 1 - r->len;

	memcpy(r->body + r->len, p, len < room ? len : room);
	r->len += len < room ? len : room;
	r->body[r->len] = '\0';
	return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;
	size_t len = size * n, room = sizeof(r->headers) - 1 - r->hlen;

	memcpy(r->headers + r->hlen, p, len < room ? len : room);
	r->hlen += len < room ? len : room;
	r->headers[r->hlen] = '\0';
	return len;
}

static void http(CURL *c, struct reply *r, int port, const char *method,
                 const char *path, const char *token, const char *ctype,
                 const char *body, size_t body_len)
{
	struct curl_slist *h = NULL;
	char url[256], line[256];
	CURLcode rc;

	memset(r, 0, sizeof(*r));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 15000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (token != NULL) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
		h = curl_slist_append(h, line);
	}
	if (ctype != NULL) {
		snprintf(line, sizeof(line), "Content-Type: %s", ctype);
		h = curl_slist_append(h, line);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body_len);
	} else {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	}
	rc = curl_easy_perform(c);
	curl_slist_free_all(h);
	if (rc != CURLE_OK)
		fail_msg("%s %s: %s", method, path, curl_easy_strerror(rc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &r->seconds);
}

/* A client that gives up while its RPC is under way: the gateway must
 * free the request only once the RPC is done too (ASan checks this). */
static void http_abandon(int port, const char *token)
{
	struct curl_slist *h = NULL;
	char url[128], line[160];
	CURL *c = curl_easy_init();

	assert_non_null(c);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/v1/runtime/info",
	         port);
	snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
	h = curl_slist_append(h, line);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 20L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	assert_int_equal(curl_easy_perform(c), CURLE_OPERATION_TIMEDOUT);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
}

/* The JSON error's code, checked for shape. */
static void expect_error(const struct reply *r, long status, const char *code,
                         bool retryable)
{
	json_error_t jerr;
	json_t *o = json_loads(r->body, 0, &jerr), *e;

	if (r->status != status)
		fail_msg("status %ld, wanted %ld: %s", r->status, status,
		         r->body);
	assert_non_null(o);
	e = json_object_get(o, "error");
	assert_non_null(e);
	assert_string_equal(json_string_value(json_object_get(e, "code")),
	                    code);
	assert_true(json_is_string(json_object_get(e, "message")));
	assert_int_equal(json_is_true(json_object_get(e, "retryable")),
	                 retryable);
	json_decref(o);
}

static void test_gateway_over_loopback(void **state)
{
	char *dir = ts_tmpdir("gwhttp");
	char *url = berth_asprintf("ipc://%s/nobody.sock", dir);
	const char *urls[] = { url };
	struct berth_gateway_opts o = { 0 };
	struct berth_gateway *gw = NULL;
	struct berth_err err;
	struct reply r;
	char big[8192], *tok;
	long connects = -1;
	int port;
	CURL *c;

	(void)state;
	o.listen = "127.0.0.1:0";
	o.data_dir = dir;
	o.max_body_bytes = 4096;
	o.runtime_urls = urls;
	o.nruntime_urls = 1;
	assert_ok(berth_gateway_start(&gw, &o, &err), &err);
	port = berth_gateway_port(gw);
	assert_true(port > 0);
	tok = read_token(berth_gateway_admin_token_path(gw));
	c = curl_easy_init();
	assert_non_null(c);

	http(c, &r, port, "GET", "/healthz", NULL, NULL, NULL, 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"status\":\"ok\""));
	/* Keep-alive survives (MHD 0.9.75's first-call trap). */
	http(c, &r, port, "GET", "/healthz", NULL, NULL, NULL, 0);
	curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects);
	assert_int_equal(connects, 0);

	http(c, &r, port, "GET", "/api/v1/containers", NULL, NULL, NULL, 0);
	expect_error(&r, 401, "UNAUTHENTICATED", false);
	assert_non_null(strcasestr(r.headers, "WWW-Authenticate: Bearer"));
	http(c, &r, port, "GET", "/api/v1/containers", "berth_wrong", NULL,
	     NULL, 0);
	expect_error(&r, 401, "UNAUTHENTICATED", false);
	assert_null(strstr(r.body, "berth_wrong"));

	/* Nothing listens at the runtime url: 503, retryable, soon. */
	http(c, &r, port, "GET", "/api/v1/containers", tok, NULL, NULL, 0);
	expect_error(&r, 503, "UNAVAILABLE", true);
	assert_non_null(strcasestr(r.headers, "Retry-After: 1"));
	assert_true(r.seconds < 8.0);
	http(c, &r, port, "GET", "/readyz", tok, NULL, NULL, 0);
	assert_int_equal(r.status, 503);
	assert_non_null(strstr(r.body, "\"runtime\""));

	memset(big, 'x', sizeof(big));
	http(c, &r, port, "POST", "/api/v1/containers", tok, "application/json",
	     big, sizeof(big));
	expect_error(&r, 413, "RESOURCE_EXHAUSTED", false);

	http(c, &r, port, "POST", "/api/v1/containers", tok, "application/json",
	     "{\"image\": ", 10);
	expect_error(&r, 400, "INVALID_ARGUMENT", false);
	http(c, &r, port, "POST", "/api/v1/containers", tok, "application/json",
	     "{\"imagee\":\"busybox\"}", 20);
	expect_error(&r, 400, "INVALID_ARGUMENT", false);
	assert_non_null(strstr(r.body, "imagee"));
	http(c, &r, port, "POST", "/api/v1/containers", tok, "text/plain", "{}",
	     2);
	assert_int_equal(r.status, 415);
	http(c, &r, port, "POST", "/api/v1/containers/bad%20id/start", tok,
	     NULL, NULL, 0);
	expect_error(&r, 400, "INVALID_ARGUMENT", false);
	http(c, &r, port, "GET", "/api/v1/jobs/not-a-uuid", tok, NULL, NULL, 0);
	expect_error(&r, 400, "INVALID_ARGUMENT", false);
	http(c, &r, port, "PUT", "/api/v1/containers", tok, NULL, NULL, 0);
	assert_int_equal(r.status, 405);
	assert_non_null(strcasestr(r.headers, "Allow: GET, POST"));
	http(c, &r, port, "GET", "/api/v1/nothing", tok, NULL, NULL, 0);
	expect_error(&r, 404, "NOT_FOUND", false);
	http(c, &r, port, "GET", "/api/v1/containers?bogus=1", tok, NULL, NULL,
	     0);
	expect_error(&r, 400, "INVALID_ARGUMENT", false);
	assert_non_null(strstr(r.body, "bogus"));

	/* Clients that go away mid-call, then one that stays. */
	for (int i = 0; i < 3; i++)
		http_abandon(port, tok);
	http(c, &r, port, "GET", "/api/v1/runtime/info", tok, NULL, NULL, 0);
	expect_error(&r, 503, "UNAVAILABLE", true);
	/* And one still waiting when the gateway stops. */
	http_abandon(port, tok);

	curl_easy_cleanup(c);
	berth_gateway_stop(gw);
	free(tok);
	free(url);
	ts_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_start_and_checks),
		cmocka_unit_test(test_refuses_to_overwrite_admin_token),
		cmocka_unit_test(test_unsafe_or_unusable_data_dir),
		cmocka_unit_test(test_gateway_over_loopback),
	};
	int rv;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rv = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rv;
}
