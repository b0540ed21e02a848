/*
 * test_unit_sha256.c: SHA-256 against the FIPS 180-4 example vectors,
 * incremental hashing across block boundaries, and the constant-time
 * comparison.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/alloc.h"
#include "lib/sha256.h"

#include <stdlib.h>
#include <string.h>

static void test_fips_vectors(void **state)
{
	static const struct {
		const char *msg;
		const char *digest;
	} v[] = {
		{ "",
		  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852"
		  "b855" },
		{ "abc",
		  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f200"
		  "15ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db"
		  "06c1" },
		{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
		  "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afe"
		  "e9d1" },
	};
	char hex[BERTH_SHA256_HEX_LEN + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		berth_sha256_hex(v[i].msg, strlen(v[i].msg), hex);
		assert_string_equal(hex, v[i].digest);
	}
}

static void test_million_a(void **state)
{
	const size_t n = 1000000;
	char *a = berth_malloc(n);
	char hex[BERTH_SHA256_HEX_LEN + 1];
	struct berth_sha256 ctx;
	uint8_t d[BERTH_SHA256_LEN];

	(void)state;
	memset(a, 'a', n);
	berth_sha256_hex(a, n, hex);
	assert_string_equal(
	    hex,
	    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	/* The same message fed in odd-sized pieces. */
	berth_sha256_init(&ctx);
	for (size_t off = 0; off < n;) {
		size_t take = n - off < 997 ? n - off : 997;

		berth_sha256_update(&ctx, a + off, take);
		off += take;
	}
	berth_sha256_final(&ctx, d);
	berth_sha256_digest_hex(d, hex);
	assert_string_equal(
	    hex,
	    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(a);
}

/* Every split point of messages around one and two blocks, including
 * the lengths where the padding spills into an extra block (56..64). */
static void test_incremental_matches_one_shot(void **state)
{
	uint8_t msg[200];
	char one[BERTH_SHA256_HEX_LEN + 1];
	char inc[BERTH_SHA256_HEX_LEN + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 31 + 7);
	for (size_t len = 0; len <= sizeof(msg); len++) {
		berth_sha256_hex(msg, len, one);
		for (size_t cut = 0; cut <= len; cut++) {
			struct berth_sha256 ctx;
			uint8_t d[BERTH_SHA256_LEN];
			size_t mid = cut + (len - cut) / 2;

			berth_sha256_init(&ctx);
			berth_sha256_update(&ctx, msg, cut);
			berth_sha256_update(&ctx, msg + cut, mid - cut);
			berth_sha256_update(&ctx, msg + mid, len - mid);
			berth_sha256_final(&ctx, d);
			berth_sha256_digest_hex(d, inc);
			if (strcmp(one, inc) != 0)
				fail_msg("len %zu cut %zu: %s != %s", len, cut,
				         inc, one);
		}
	}
}

static void test_ct_equal(void **state)
{
	uint8_t a[32], b[32];

	(void)state;
	for (size_t i = 0; i < sizeof(a); i++)
		a[i] = b[i] = (uint8_t)i;
	assert_int_equal(berth_ct_equal(a, b, sizeof(a)), 1);
	assert_int_equal(berth_ct_equal(a, b, 0), 1);
	b[0] ^= 1;
	assert_int_equal(berth_ct_equal(a, b, sizeof(a)), 0);
	b[0] ^= 1;
	b[31] ^= 0x80;
	assert_int_equal(berth_ct_equal(a, b, sizeof(a)), 0);
	assert_int_equal(berth_ct_equal(a, b, 31), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fips_vectors),
		cmocka_unit_test(test_million_a),
		cmocka_unit_test(test_incremental_matches_one_shot),
		cmocka_unit_test(test_ct_equal),
	};

	return cmocka_run_group_tests_name("sha256", tests, NULL, NULL);
}
