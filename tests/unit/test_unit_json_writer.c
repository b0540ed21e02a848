/*
 * test_unit_json_writer.c: the gateway's direct JSON writer gives the
 * same bytes as jansson's compact dump of the same values (escapes,
 * UTF-8 rules, nesting), leaves out label keys that are not UTF-8, and
 * reports a buffer that hit its cap.
 */
#include "gateway/json_writer.h"
#include "lib/validate.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Strings with every escape class, multi-byte text and bad UTF-8. */
static const char *const samples[] = {
	"",
	"plain",
	"quote \" backslash \\ slash /",
	"\b\f\n\r\t and \x01\x1f\x7f",
	"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3",
	"bad \xc3",          /* cut sequence */
	"overlong \xc0\xaf", /* overlong '/' */
	"surrogate \xed\xa0\x80",
	"too big \xf4\x90\x80\x80",
};

/* What jansson makes of one string value (invalid UTF-8 -> ""). */
static char *jansson_string(const char *s)
{
	json_t *v = json_string(s);
	char *out;

	if (v == NULL)
		v = json_string("");
	out = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(v);
	return out;
}

static void test_strings_match_jansson(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		struct berth_buf b;
		struct gw_jw w;
		char *want = jansson_string(samples[i]);

		berth_buf_init(&b, 1 << 16);
		gw_jw_init(&w, &b);
		gw_jw_string(&w, samples[i]);
		assert_false(gw_jw_failed(&w));
		assert_string_equal(b.data, want);
		{
			json_t *j = json_string(samples[i]);

			assert_int_equal(berth_utf8_valid(samples[i]),
			                 j != NULL);
			json_decref(j);
		}
		free(want);
		berth_buf_fini(&b);
	}
}

static void test_document_matches_jansson(void **state)
{
	struct berth_buf b;
	struct gw_jw w;
	json_t *doc, *labels;
	char *want;

	(void)state;
	labels = json_object();
	json_object_set_new(labels, "app", json_string("web"));
	json_object_set_new(labels, "k\"q", json_string("v\n"));
	doc = json_pack("{s:[{s:s,s:I,s:o,s:[]},{s:b,s:n}],s:i}", "items", "id",
	                "a1", "created", (json_int_t)-1700000000123LL, "labels",
	                labels, "ports", "ok", 1, "none", "n", 2);
	want = json_dumps(doc, JSON_COMPACT);

	berth_buf_init(&b, 1 << 16);
	gw_jw_init(&w, &b);
	gw_jw_object_open(&w);
	gw_jw_key(&w, "items");
	gw_jw_array_open(&w);
	gw_jw_object_open(&w);
	gw_jw_key(&w, "id");
	gw_jw_string(&w, "a1");
	gw_jw_key(&w, "created");
	gw_jw_int(&w, -1700000000123LL);
	gw_jw_key(&w, "labels");
	gw_jw_object_open(&w);
	gw_jw_key_text(&w, "app");
	gw_jw_string(&w, "web");
	gw_jw_key_text(&w, "bad\xff");
	gw_jw_string(&w, "left out with its key");
	gw_jw_key_text(&w, "k\"q");
	gw_jw_string(&w, "v\n");
	gw_jw_object_close(&w);
	gw_jw_key(&w, "ports");
	gw_jw_array_open(&w);
	gw_jw_array_close(&w);
	gw_jw_object_close(&w);
	gw_jw_object_open(&w);
	gw_jw_key(&w, "ok");
	gw_jw_bool(&w, true);
	gw_jw_key(&w, "none");
	gw_jw_null(&w);
	gw_jw_object_close(&w);
	gw_jw_array_close(&w);
	gw_jw_key(&w, "n");
	gw_jw_int(&w, 2);
	gw_jw_object_close(&w);

	assert_false(gw_jw_failed(&w));
	assert_string_equal(b.data, want);
	free(want);
	json_decref(doc);
	berth_buf_fini(&b);
}

static void test_cap_and_unclosed_are_failures(void **state)
{
	struct berth_buf b;
	struct gw_jw w;

	(void)state;
	berth_buf_init(&b, 8);
	gw_jw_init(&w, &b);
	gw_jw_array_open(&w);
	gw_jw_string(&w, "longer than eight bytes");
	gw_jw_array_close(&w);
	assert_true(gw_jw_failed(&w));
	berth_buf_fini(&b);

	berth_buf_init(&b, 1 << 10);
	gw_jw_init(&w, &b);
	gw_jw_object_open(&w);
	assert_true(gw_jw_failed(&w)); /* still open */
	gw_jw_object_close(&w);
	assert_false(gw_jw_failed(&w));
	gw_jw_object_close(&w); /* one too many */
	assert_true(gw_jw_failed(&w));
	berth_buf_fini(&b);

	berth_buf_init(&b, 1 << 10);
	gw_jw_init(&w, &b);
	for (int i = 0; i < GW_JW_MAX_DEPTH + 2; i++)
		gw_jw_array_open(&w);
	assert_true(gw_jw_failed(&w));
	berth_buf_fini(&b);
}

/* A key left out with a non-scalar value: the whole object or array goes
 * with it (nested ones too), and what follows is written as jansson
 * writes it. Before, the writer opened nothing but closed the outer
 * object at the skipped value's close. */
static void test_skipped_key_takes_a_nested_value(void **state)
{
	struct berth_buf b;
	struct gw_jw w;
	json_t *doc;
	char *want;

	(void)state;
	doc = json_pack("{s:{s:s,s:[i,{s:s}]},s:i}", "labels", "a", "1", "c", 2,
	                "d", "e", "n", 3);
	want = json_dumps(doc, JSON_COMPACT);

	berth_buf_init(&b, 1 << 16);
	gw_jw_init(&w, &b);
	gw_jw_object_open(&w);
	gw_jw_key(&w, "labels");
	gw_jw_object_open(&w);
	gw_jw_key_text(&w, "a");
	gw_jw_string(&w, "1");
	gw_jw_key_text(&w, "bad\xfe");
	gw_jw_object_open(&w); /* left out, with all it holds */
	gw_jw_key(&w, "x");
	gw_jw_array_open(&w);
	gw_jw_int(&w, 1);
	gw_jw_object_open(&w);
	gw_jw_key_text(&w, "y");
	gw_jw_null(&w);
	gw_jw_object_close(&w);
	gw_jw_array_close(&w);
	gw_jw_key_text(&w, "z");
	gw_jw_bool(&w, true);
	gw_jw_object_close(&w);
	gw_jw_key_text(&w, NULL);
	gw_jw_array_open(&w); /* left out too */
	gw_jw_string(&w, "gone");
	gw_jw_array_close(&w);
	gw_jw_key_text(&w, "c");
	gw_jw_array_open(&w);
	gw_jw_int(&w, 2);
	gw_jw_object_open(&w);
	gw_jw_key_text(&w, "d");
	gw_jw_string(&w, "e");
	gw_jw_object_close(&w);
	gw_jw_array_close(&w);
	gw_jw_object_close(&w);
	gw_jw_key(&w, "n");
	gw_jw_int(&w, 3);
	gw_jw_object_close(&w);

	assert_false(gw_jw_failed(&w));
	assert_string_equal(b.data, want);
	free(want);
	json_decref(doc);
	berth_buf_fini(&b);

	/* A skipped container left open is an unfinished document. */
	berth_buf_init(&b, 1 << 10);
	gw_jw_init(&w, &b);
	gw_jw_object_open(&w);
	gw_jw_key_text(&w, "\xff");
	gw_jw_array_open(&w);
	gw_jw_object_close(&w);
	assert_true(gw_jw_failed(&w));
	berth_buf_fini(&b);
}

/* A byte the generator picks: mostly text, some controls, some pieces of
 * (valid or broken) multi-byte sequences. */
static char fuzz_byte(unsigned *seed)
{
	static const unsigned char pool[]
	    = { 0x01, 0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x1b, 0x1f, '"',
		'\\', '/',  0x7f, 0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3,
		0xdf, 0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff,
		0x82, 0x9f, 0xa0, 0xa9, 0xac, 0x90, 0x8f };
	unsigned r = (unsigned)rand_r(seed);

	if (r % 3 != 0)
		return (char)(' ' + r / 3 % 95);
	return (char)pool[r / 3 % sizeof(pool)];
}

/* Random strings as label keys and values and random integers: the
 * writer's document is jansson's, byte for byte, every time. */
static void test_random_documents_match_jansson(void **state)
{
	unsigned seed = 20261124;

	(void)state;
	for (int round = 0; round < 400; round++) {
		json_t *doc = json_object(), *labels = json_object();
		struct berth_buf b;
		struct gw_jw w;
		char *want;
		int64_t num = (int64_t)(((uint64_t)rand_r(&seed) << 33)
		                        ^ (uint64_t)rand_r(&seed));

		if (round == 1)
			num = INT64_MIN;
		else if (round == 2)
			num = INT64_MAX;
		berth_buf_init(&b, 1 << 20);
		gw_jw_init(&w, &b);
		gw_jw_object_open(&w);
		gw_jw_key(&w, "labels");
		gw_jw_object_open(&w);
		for (int i = 0; i < 12; i++) {
			char key[40], val[40];
			int kl = rand_r(&seed) % 12, vl = rand_r(&seed) % 24;
			json_t *v;

			/* Keys unique by their first bytes, as jansson
			 * keeps one of each. */
			key[0] = (char)('A' + i);
			for (int k = 1; k <= kl; k++)
				key[k] = fuzz_byte(&seed);
			key[kl + 1] = '\0';
			for (int k = 0; k < vl; k++)
				val[k] = fuzz_byte(&seed);
			val[vl] = '\0';
			v = json_string(val);
			json_object_set_new(labels, key,
			                    v != NULL ? v : json_string(""));
			gw_jw_key_text(&w, key);
			gw_jw_string(&w, val);
		}
		gw_jw_object_close(&w);
		gw_jw_key(&w, "n");
		gw_jw_int(&w, num);
		gw_jw_object_close(&w);
		json_object_set_new(doc, "labels", labels);
		json_object_set_new(doc, "n", json_integer(num));
		want = json_dumps(doc, JSON_COMPACT);

		assert_false(gw_jw_failed(&w));
		assert_string_equal(b.data, want);
		free(want);
		json_decref(doc);
		berth_buf_fini(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings_match_jansson),
		cmocka_unit_test(test_document_matches_jansson),
		cmocka_unit_test(test_cap_and_unclosed_are_failures),
		cmocka_unit_test(test_skipped_key_takes_a_nested_value),
		cmocka_unit_test(test_random_documents_match_jansson),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
