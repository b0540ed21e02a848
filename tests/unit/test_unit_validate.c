/*
 * test_unit_validate.c: the allow-list validators, through tables of good
 * and bad inputs, and what their messages echo.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/support/testsupport.h"

#include "lib/validate.h"

#include <stdio.h>
#include <string.h>

typedef int (*validator)(const char *, const char *, struct berth_err *);

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char a256[257]; /* "a" * 256 */
static char a255[256]; /* "a" * 255 */
static char long_path[4098];

static void fill_long_inputs(void)
{
	memset(a256, 'a', 256);
	a256[256] = '\0';
	memset(a255, 'a', 255);
	a255[255] = '\0';
	memset(long_path, 'p', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0'; /* 4097 bytes */
}

static void expect_all(validator v, const char *const *good, size_t ngood,
                       const char *const *bad, size_t nbad, const char *what)
{
	struct berth_err err;

	for (size_t i = 0; i < ngood; i++) {
		berth_err_clear(&err);
		if (v("f", good[i], &err) != 0)
			fail_msg("%s: \"%s\" refused: %s", what, good[i],
			         err.msg);
	}
	for (size_t i = 0; i < nbad; i++) {
		berth_err_clear(&err);
		if (v("f", bad[i], &err) != BERTH_EINVAL)
			fail_msg("%s: bad #%zu \"%.80s\" accepted", what, i,
			         bad[i] != NULL ? bad[i] : "(null)");
		/* The message names the field. */
		if (strncmp(err.msg, "f: ", 3) != 0)
			fail_msg("%s: message \"%s\" lacks the field", what,
			         err.msg);
	}
}

#define EXPECT(v, good, bad)                                     \
	expect_all(v, good, sizeof(good) / sizeof(good[0]), bad, \
	           sizeof(bad) / sizeof(bad[0]), #v)

static void test_names(void **state)
{
	static const char *const good[]
	    = { "a", "web-1", "A.b_c-D", "0x", "x123456789" };
	const char *bad[]
	    = { "",         "-lead",   ".lead", "_lead", "has space",
		"slash/no", "nul\x01", "é",     a256,    NULL };

	(void)state;
	EXPECT(berth_validate_name, good, bad);
}

static void test_container_refs(void **state)
{
	static const char *const good[]
	    = { "abc123", HEX64, "a", "my_web.1", "0123Z" };
	static const char *const bad[]
	    = { "", HEX64 "0", "-x", ".x", "a b", "x/y" };

	(void)state;
	EXPECT(berth_validate_container_ref, good, bad);
}

static void test_job_ids(void **state)
{
	static const char *const good[] = {
		"123e4567-e89b-12d3-a456-426614174000",
		"00000000-0000-0000-0000-000000000000",
	};
	static const char *const bad[] = {
		"123E4567-E89B-12D3-A456-426614174000", /* uppercase */
		"123e4567e89b12d3a456426614174000",     /* no dashes */
		"123e4567-e89b-12d3-a456-4266141740000",
		"123e4567-e89b-12d3-a456-42661417400",
		"123e4567-e89b-12d3-a456_426614174000",
		"g23e4567-e89b-12d3-a456-426614174000",
		"",
	};

	(void)state;
	EXPECT(berth_validate_job_id, good, bad);
}

static void test_image_refs(void **state)
{
	const char *good[] = {
		"busybox",
		"busybox:latest",
		"berth-test/busybox:latest",
		"library/ubuntu:22.04",
		"localhost:5000/a/b:v1@sha256:" HEX64,
		"localhost/a",
		"registry.example.com/team/app",
		"Registry.Example.COM:443/team/app:Tag_1.0-rc",
		"127.0.0.1:5000/x",
		"[::1]:5000/x:y",
		"[fe80::1]/x",
		"a/b/c/d/e",
		"x/a.b_c__d---e/f",
		"app@sha256:" HEX64,
		"app:_tag",
		"localhost:5000",
		a255,
	};
	const char *bad[] = {
		"",
		"UPPER/case:tag",
		"Upper",
		a256,
		"-lead",
		"a..b",
		"a___b",
		"a_",
		"a-",
		"a//b",
		"/a",
		"a/",
		"a:",
		"a:-tag",
		"a:.tag",
		"a:t@g",
		"a@sha256:" HEX64 "0",
		"a@sha256:"
		"0123456789ABCDEF0123456789abcdef"
		"0123456789abcdef0123456789abcdef",
		"a@sha512:" HEX64,
		"a@",
		"-x.com/a",
		"a.b_c/x", /* the first part has a dot: a registry, and _ is not allowed there */
		"x-.com/a",
		"x.com:0/a",
		"x.com:65536/a",
		"x.com:port/a",
		"[::1/a",
		"[zz::1]:5000/a",
		"a b",
		"a\nb",
		"a:tag:more",
	};
	char ok_long[256], bad_long_tag[140];

	(void)state;
	EXPECT(berth_validate_image_ref, good, bad);
	/* A tag of 128 is fine, 129 is not. */
	memset(ok_long, 0, sizeof(ok_long));
	memcpy(ok_long, "app:", 4);
	memset(ok_long + 4, 't', 128);
	assert_int_equal(berth_validate_image_ref("f", ok_long, NULL), 0);
	memset(bad_long_tag, 0, sizeof(bad_long_tag));
	memcpy(bad_long_tag, "app:", 4);
	memset(bad_long_tag + 4, 't', 129);
	assert_int_equal(berth_validate_image_ref("f", bad_long_tag, NULL),
	                 BERTH_EINVAL);
}

static void test_env_label_path_request(void **state)
{
	static const char *const env_good[] = { "PATH", "_x", "a1_B2" };
	static const char *const env_bad[] = { "", "1A", "A-B", "A=B", "A B" };
	static const char *const lab_good[]
	    = { "app", "com.example/tier", "a-b_c.d", "9", "berthx", "berth" };
	static const char *const lab_bad[] = { "",      "berth.owner", "berth.",
		                               "Upper", "-x",          ".x",
		                               "a b",   "a=b" };
	static const char *const path_good[]
	    = { "/", "/srv/app", "/a/..b", "/a/b..", "/a/.hidden/x", "/a//b" };
	const char *path_bad[] = { "",    "srv",   "./x",   "/srv/../etc",
		                   "/..", "/a/..", "/../a", long_path };
	static const char *const req_good[] = { "r1", "abc-DEF_1.2:3" };
	static const char *const req_bad[] = { "", "a b", "a/b", "é" };

	(void)state;
	EXPECT(berth_validate_env_key, env_good, env_bad);
	EXPECT(berth_validate_label_key, lab_good, lab_bad);
	EXPECT(berth_validate_container_path, path_good, path_bad);
	EXPECT(berth_validate_request_id, req_good, req_bad);
}

static void test_text(void **state)
{
	struct berth_err err;

	(void)state;
	assert_ok(berth_validate_text("f", "héllo\tworld", 64, &err), &err);
	assert_ok(berth_validate_text("f", "", 0, &err), &err);
	assert_int_equal(berth_validate_text("f", "abc", 2, &err),
	                 BERTH_EINVAL);
	assert_string_equal(err.msg, "f: longer than 2 bytes");
	assert_int_equal(berth_validate_text("f", "a\nb", 64, &err),
	                 BERTH_EINVAL);
	assert_int_equal(berth_validate_text("f", "a\x7f", 64, &err),
	                 BERTH_EINVAL);
	assert_int_equal(berth_validate_text("f", "a\xc2\x85", 64, &err),
	                 BERTH_EINVAL); /* U+0085, a C1 control */
	assert_int_equal(berth_validate_text("f", "a\xff", 64, &err),
	                 BERTH_EINVAL);
	assert_int_equal(berth_validate_text("f", "a\xe2\x82", 64, &err),
	                 BERTH_EINVAL); /* cut sequence */
	assert_int_equal(berth_validate_text("f", NULL, 64, &err),
	                 BERTH_EINVAL);
}

static void test_messages(void **state)
{
	struct berth_err err;
	char evil[300];

	(void)state;
	assert_int_equal(berth_validate_name("name", "-x", &err), BERTH_EINVAL);
	assert_string_equal(err.msg,
	                    "name: must match "
	                    "[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127} "
	                    "(got \"-x\")");
	assert_int_equal(
	    berth_validate_label_key("labels", "berth.owner", &err),
	    BERTH_EINVAL);
	assert_non_null(strstr(err.msg, "reserved"));
	assert_int_equal(
	    berth_validate_image_ref("image", "UPPER/case:tag", &err),
	    BERTH_EINVAL);
	assert_non_null(strstr(err.msg,
	                       "image: repository path components "
	                       "must be lowercase"));
	assert_int_equal(berth_validate_job_id("job", NULL, &err),
	                 BERTH_EINVAL);
	assert_string_equal(err.msg, "job: required");

	/* Control bytes are replaced and the echo is cut at 64 bytes. */
	memset(evil, 'x', sizeof(evil) - 1);
	evil[sizeof(evil) - 1] = '\0';
	evil[0] = '\n';
	evil[1] = '\x1b';
	assert_int_equal(berth_validate_name("name", evil, &err), BERTH_EINVAL);
	assert_null(strchr(err.msg, '\n'));
	assert_null(strchr(err.msg, '\x1b'));
	assert_non_null(strstr(err.msg, "(got \"??xxx"));
	assert_non_null(strstr(err.msg, "x...\")"));
	assert_true(strlen(err.msg) < 150);
}

static void test_quote_and_utf8(void **state)
{
	char q[16];

	(void)state;
	berth_quote_for_msg(q, sizeof(q), "héllo\x01");
	assert_string_equal(q, "héllo?");
	berth_quote_for_msg(q, sizeof(q), NULL);
	assert_string_equal(q, "(null)");
	berth_quote_for_msg(q, sizeof(q), "0123456789abcdefghij");
	assert_string_equal(q, "0123456789ab...");
	/* A multi-byte character is not split when cut. */
	berth_quote_for_msg(q, 9, "abcdéé");
	assert_string_equal(q, "abcd...");
	assert_int_equal(berth_utf8_seq_len("\xF0\x9F\x98\x80", 4), 4);
	assert_int_equal(berth_utf8_seq_len("\xF0\x9F\x98", 3), 0);
	assert_int_equal(berth_utf8_seq_len("\xF4\x90\x80\x80", 4), 0);
	assert_int_equal(berth_utf8_seq_len("\xE0\x80\xAF", 3), 0);
	assert_int_equal(berth_utf8_seq_len("\x80", 1), 0);
}

static void test_port_protocol(void **state)
{
	struct berth_err err;

	(void)state;
	assert_int_equal(berth_validate_port_protocol("p", "tcp", &err), 0);
	assert_int_equal(berth_validate_port_protocol("p", "udp", &err), 0);
	assert_int_equal(berth_validate_port_protocol("p", "sctp", &err), 0);
	assert_int_equal(berth_validate_port_protocol("ports", "icmp", &err),
	                 BERTH_EINVAL);
	assert_non_null(strstr(err.msg, "ports"));
	assert_int_equal(berth_validate_port_protocol("p", "TCP", &err),
	                 BERTH_EINVAL);
	assert_int_equal(berth_validate_port_protocol("p", "", &err),
	                 BERTH_EINVAL);
}

static int cap_drop_v(const char *f, const char *s, struct berth_err *err)
{
	return berth_validate_capability(f, s, true, err);
}

static int cap_add_v(const char *f, const char *s, struct berth_err *err)
{
	return berth_validate_capability(f, s, false, err);
}

static void test_capabilities_users_networks(void **state)
{
	static const char *const drop_good[]
	    = { "ALL", "NET_RAW", "CAP_CHOWN", "SYS_ADMIN", "BPF" };
	const char *drop_bad[]
	    = { "",        "all",    "net_raw", "CAP_",          "NOPE",
		"CAP_ALL", " CHOWN", "CHOWN ",  "CAP_CAP_CHOWN", NULL };
	static const char *const add_good[]
	    = { "NET_BIND_SERVICE", "CAP_NET_ADMIN" };
	const char *add_bad[] = { "ALL", "chown", "", NULL };
	static const char *const user_good[] = { "1000",
		                                 "1000:1000",
		                                 "0",
		                                 "nobody",
		                                 "www-data:www-data",
		                                 "app:1000",
		                                 "2147483647",
		                                 "_x.y-z" };
	const char *user_bad[]
	    = { "",    ":",          "1000:",       ":1000", "a:b:c",
		"-x",  "2147483648", "99999999999", "a b",   "root\n",
		"u/x", a256,         NULL };
	static const char *const net_good[]
	    = { "bridge", "none", "backend", "my_net.1-2" };
	const char *net_bad[]
	    = { "host", "", "container:abc", "-x", "a/b", a256, NULL };

	(void)state;
	EXPECT(cap_drop_v, drop_good, drop_bad);
	EXPECT(cap_add_v, add_good, add_bad);
	EXPECT(berth_validate_user, user_good, user_bad);
	EXPECT(berth_validate_network_name, net_good, net_bad);
}

static void test_durations_and_sizes(void **state)
{
	static const struct {
		const char *s;
		int64_t ms;
	} dur[] = { { "30s", 30000 },  { "10s", 10000 },     { "500ms", 500 },
		    { "1m", 60000 },   { "1h30m", 5400000 }, { "0s", 0 },
		    { "1m30s", 90000 } };
	static const char *const dur_bad[]
	    = { "",     "30",  "s",   "1x",   "-1s",
		"1.5s", "1 s", "11d", "241h", "9999999999999s" };
	static const struct {
		const char *s;
		int64_t b;
	} sizes[] = { { "512m", 512LL << 20 }, { "1g", 1LL << 30 },
		      { "64MiB", 64LL << 20 }, { "1GB", 1LL << 30 },
		      { "100", 100 },          { "7b", 7 },
		      { "2k", 2048 },          { "1t", 1LL << 40 } };
	static const char *const size_bad[]
	    = { "", "m", "12q", "1.5g", "-1", "1mbb", "99999999999t", "1 m" };
	struct berth_err err;
	int64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(dur) / sizeof(dur[0]); i++) {
		v = -1;
		assert_ok(berth_parse_duration_ms("d", dur[i].s, &v, &err),
		          &err);
		assert_int_equal(v, dur[i].ms);
	}
	for (size_t i = 0; i < sizeof(dur_bad) / sizeof(dur_bad[0]); i++) {
		v = -7;
		if (berth_parse_duration_ms("d", dur_bad[i], &v, &err)
		    != BERTH_EINVAL)
			fail_msg("duration \"%s\" accepted", dur_bad[i]);
		assert_int_equal(v, -7); /* untouched on failure */
		assert_non_null(strstr(err.msg, "d: "));
	}
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		assert_ok(berth_parse_bytes("m", sizes[i].s, &v, &err), &err);
		assert_int_equal(v, sizes[i].b);
	}
	for (size_t i = 0; i < sizeof(size_bad) / sizeof(size_bad[0]); i++)
		if (berth_parse_bytes("m", size_bad[i], &v, &err)
		    != BERTH_EINVAL)
			fail_msg("size \"%s\" accepted", size_bad[i]);
}

static void test_health_and_limits(void **state)
{
	const char *cmd[] = { "CMD", "curl", "-f", "http://localhost/" };
	const char *shell[] = { "CMD-SHELL", "test -f /tmp/ok" };
	const char *none[] = { "NONE" };
	const char *none_extra[] = { "NONE", "x" };
	const char *bare_cmd[] = { "CMD" };
	const char *two_lines[] = { "CMD-SHELL", "a", "b" };
	const char *bad_kind[] = { "SHELL", "x" };
	const char *empty_word[] = { "CMD", "" };
	const char *ctl[] = { "CMD", "a\nb" };
	struct berth_err err;

	(void)state;
	assert_ok(
	    berth_validate_health("health", cmd, 4, 30000, 10000, 3, 0, &err),
	    &err);
	assert_ok(
	    berth_validate_health("health", shell, 2, 200, 1000, 1, 0, &err),
	    &err);
	assert_ok(berth_validate_health("health", none, 1, 0, 0, 0, 0, &err),
	          &err);
	/* No test: the image's probe with these durations. */
	assert_ok(berth_validate_health("health", NULL, 0, 1000, 0, 0, 0, &err),
	          &err);
	assert_int_equal(
	    berth_validate_health("health", none_extra, 2, 0, 0, 0, 0, &err),
	    BERTH_EINVAL);
	assert_int_equal(
	    berth_validate_health("health", bare_cmd, 1, 0, 0, 0, 0, &err),
	    BERTH_EINVAL);
	assert_int_equal(
	    berth_validate_health("health", two_lines, 3, 0, 0, 0, 0, &err),
	    BERTH_EINVAL);
	assert_int_equal(
	    berth_validate_health("health", bad_kind, 2, 0, 0, 0, 0, &err),
	    BERTH_EINVAL);
	assert_non_null(strstr(err.msg, "health.test[0]"));
	assert_int_equal(
	    berth_validate_health("health", empty_word, 2, 0, 0, 0, 0, &err),
	    BERTH_EINVAL);
	assert_int_equal(
	    berth_validate_health("health", ctl, 2, 0, 0, 0, 0, &err),
	    BERTH_EINVAL);
	assert_int_equal(
	    berth_validate_health("health", shell, 2, -1, 0, 0, 0, &err),
	    BERTH_EINVAL);
	assert_non_null(strstr(err.msg, "health.interval_ms"));
	assert_int_equal(berth_validate_health("health", shell, 2, 0,
	                                       BERTH_HEALTH_MAX_MS + 1, 0, 0,
	                                       &err),
	                 BERTH_EINVAL);
	assert_non_null(strstr(err.msg, "health.timeout_ms"));
	assert_int_equal(
	    berth_validate_health("health", shell, 2, 0, 0, 101, 0, &err),
	    BERTH_EINVAL);
	assert_non_null(strstr(err.msg, "health.retries"));

	assert_ok(berth_validate_memory_bytes("m", 0, &err), &err);
	assert_ok(berth_validate_memory_bytes("m", 6LL << 20, &err), &err);
	assert_int_equal(
	    berth_validate_memory_bytes("m", (6LL << 20) - 1, &err),
	    BERTH_EINVAL);
	assert_non_null(strstr(err.msg, "6 MiB"));
	assert_int_equal(berth_validate_memory_bytes("m", -1, &err),
	                 BERTH_EINVAL);
	assert_ok(berth_validate_nano_cpus("c", 1500000000, &err), &err);
	assert_int_equal(berth_validate_nano_cpus("c", 1, &err), BERTH_EINVAL);
	assert_int_equal(
	    berth_validate_nano_cpus("c", 2000LL * 1000000000, &err),
	    BERTH_EINVAL);
	assert_ok(berth_validate_pids_limit("p", 0, &err), &err);
	assert_ok(berth_validate_pids_limit("p", 20, &err), &err);
	assert_int_equal(berth_validate_pids_limit("p", -1, &err),
	                 BERTH_EINVAL);
	assert_non_null(strstr(err.msg, "never"));
	assert_int_equal(
	    berth_validate_pids_limit("p", BERTH_PIDS_MAX + 1, &err),
	    BERTH_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_container_refs),
		cmocka_unit_test(test_job_ids),
		cmocka_unit_test(test_image_refs),
		cmocka_unit_test(test_env_label_path_request),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_quote_and_utf8),
		cmocka_unit_test(test_port_protocol),
		cmocka_unit_test(test_capabilities_users_networks),
		cmocka_unit_test(test_durations_and_sizes),
		cmocka_unit_test(test_health_and_limits),
	};

	fill_long_inputs();
	return cmocka_run_group_tests_name("validate", tests, NULL, NULL);
}
