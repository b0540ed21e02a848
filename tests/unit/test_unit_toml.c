/*
 * test_unit_toml.c: the strict TOML-subset reader: what it accepts, and
 * that every refused construct is named with its line and column.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/support/testsupport.h"

#include "lib/alloc.h"
#include "lib/toml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct berth_toml *parse_ok(const char *text)
{
	struct berth_toml *doc = NULL;
	struct berth_err err;

	berth_err_clear(&err);
	assert_ok(berth_toml_parse(&doc, text, strlen(text), "t", &err), &err);
	assert_non_null(doc);
	return doc;
}

static void test_accepts_the_subset(void **state)
{
	static const char text[]
	    = "\xEF\xBB\xBF# a comment, é\n"
	      "top = \"level\"\n"
	      "\n"
	      "[docker]   # trailing comment\n"
	      "runtime = \"docker\"  # or \"podman\"\n"
	      "rootless = false\n"
	      "on=true\n"
	      "\"quoted key\" = 'C:\\literal\\path'\n"
	      "esc = \"tab\\there \\\"q\\\" \\\\ \\u00e9 \\U0001F600\"\n"
	      "n = 1_000_000\n"
	      "neg = -42\n"
	      "pos = +7\n"
	      "zero = 0\n"
	      "max = 9223372036854775807\n"
	      "min = -9223372036854775808\n"
	      "shell = [\"/bin/sh\", \"-c\"]\n"
	      "empty = []\n"
	      "multi = [  # comment inside\n"
	      "  \"a\",\r\n"
	      "  'b',  # another\n"
	      "\n"
	      "]\n"
	      "[ a . \"b.c\" ]\n"
	      "k = \"v\"\n"
	      "[a]\n"
	      "k = 'w'";
	const struct berth_toml_entry *e;
	struct berth_toml *doc;

	(void)state;
	doc = parse_ok(text);
	e = berth_toml_get(doc, "", "top");
	assert_non_null(e);
	assert_string_equal(e->str, "level");
	assert_int_equal(e->line, 2);
	e = berth_toml_get(doc, "docker", "runtime");
	assert_int_equal(e->type, BERTH_TOML_STRING);
	assert_string_equal(e->str, "docker");
	assert_int_equal(e->line, 5);
	e = berth_toml_get(doc, "docker", "rootless");
	assert_int_equal(e->type, BERTH_TOML_BOOL);
	assert_false(e->b);
	assert_true(berth_toml_get(doc, "docker", "on")->b);
	assert_string_equal(berth_toml_get(doc, "docker", "quoted key")->str,
	                    "C:\\literal\\path");
	assert_string_equal(berth_toml_get(doc, "docker", "esc")->str,
	                    "tab\there \"q\" \\ \xC3\xA9 \xF0\x9F\x98\x80");
	assert_int_equal(berth_toml_get(doc, "docker", "n")->i, 1000000);
	assert_int_equal(berth_toml_get(doc, "docker", "neg")->i, -42);
	assert_int_equal(berth_toml_get(doc, "docker", "pos")->i, 7);
	assert_int_equal(berth_toml_get(doc, "docker", "zero")->i, 0);
	assert_true(berth_toml_get(doc, "docker", "max")->i == INT64_MAX);
	assert_true(berth_toml_get(doc, "docker", "min")->i == INT64_MIN);
	e = berth_toml_get(doc, "docker", "shell");
	assert_int_equal(e->type, BERTH_TOML_STRING_ARRAY);
	assert_int_equal(e->nstrs, 2);
	assert_string_equal(e->strs[0], "/bin/sh");
	assert_string_equal(e->strs[1], "-c");
	assert_null(e->strs[2]);
	e = berth_toml_get(doc, "docker", "empty");
	assert_int_equal(e->type, BERTH_TOML_STRING_ARRAY);
	assert_int_equal(e->nstrs, 0);
	e = berth_toml_get(doc, "docker", "multi");
	assert_int_equal(e->nstrs, 2);
	assert_string_equal(e->strs[1], "b");
	assert_int_equal(e->line, 18);
	assert_string_equal(berth_toml_get(doc, "a.b.c", "k")->str, "v");
	e = berth_toml_get(doc, "a", "k");
	assert_string_equal(e->str, "w");
	assert_int_equal(e->line, 26);
	assert_null(berth_toml_get(doc, "docker", "nope"));
	assert_null(berth_toml_get(doc, NULL, "runtime"));
	assert_int_equal(berth_toml_table_count(doc), 3);
	assert_string_equal(berth_toml_table_at(doc, 0)->name, "docker");
	assert_int_equal(berth_toml_table_at(doc, 0)->line, 4);
	assert_int_equal(berth_toml_table_at(doc, 2)->line, 25);
	assert_null(berth_toml_table_at(doc, 3));
	berth_toml_free(doc);

	doc = parse_ok("");
	assert_int_equal(doc->n, 0);
	berth_toml_free(doc);
	berth_toml_free(NULL);
}

struct bad_case {
	const char *text;
	const char *msg; /* expected substring, position included */
};

static const struct bad_case bad_cases[] = {
	{ "a = 1\na = 2\n",
	  "t:2:1: duplicate key 'a' (first defined on line 1)" },
	{ "[x]\nk = 1\n[x]\n",
	  "t:3:1: table [x] is already defined on line 1" },
	{ "[x]\nk = 1\n[x.k]\n", "t:3:1: table [x.k] conflicts" },
	{ "[a.b]\n[a]\nb = 1\n", "t:3:1: key 'a.b' conflicts with the table" },
	{ "[x]\nk = 1\nk = 2\n", "t:3:1: duplicate key 'x.k'" },
	{ "a = 1.5\n", "t:1:5: floats are not supported" },
	{ "a = 1e3\n", "t:1:5: floats are not supported" },
	{ "a = -inf\n", "t:1:5: floats are not supported" },
	{ "a = nan\n", "t:1:5: floats are not supported" },
	{ "\n\nd = 1979-05-27\n", "t:3:5: dates and times are not supported" },
	{ "d = 1979-05-27T07:32:00Z\n", "t:1:5: dates and times" },
	{ "d = 07:32:00\n", "t:1:5: dates and times" },
	{ "a = { b = 1 }\n", "t:1:5: inline tables are not supported" },
	{ "[[x]]\n", "t:1:1: arrays of tables ([[...]]) are not supported" },
	{ "a = [\"x\", 1]\n", "t:1:11: mixed-type array" },
	{ "a = [1, 2]\n", "t:1:6: arrays may hold only strings" },
	{ "a = [\"x\", [\"y\"]]\n", "t:1:11: nested arrays" },
	{ "a = [\"x\"\n", "t:1:5: unterminated array" },
	{ "a = [\"x\" \"y\"]\n", "t:1:10: expected ',' or ']' in array" },
	{ "a = \"abc\n", "t:1:5: unterminated string" },
	{ "a = 'abc", "t:1:5: unterminated string" },
	{ "a = \"a\x01"
	  "b\"\n",
	  "t:1:7: control character 0x01 in string" },
	{ "a = 'a\x7f'\n", "t:1:7: control character 0x7F" },
	{ "a = \"\xff\"\n", "t:1:6: invalid UTF-8 in string" },
	{ "a = \"\xc0\xaf\"\n", "t:1:6: invalid UTF-8" },     /* overlong */
	{ "a = \"\xed\xa0\x80\"\n", "t:1:6: invalid UTF-8" }, /* surrogate */
	{ "a = \"\\q\"\n", "t:1:6: invalid escape" },
	{ "a = \"\\u12\"\n", "t:1:6: expected 4 hex digits" },
	{ "a = \"\\ud800\"\n", "t:1:6: escape is not a Unicode scalar" },
	{ "a = \"\\u0000\"\n", "t:1:6: \\u0000 is not allowed" },
	{ "a = \"\"\"x\"\"\"\n", "t:1:5: multi-line strings" },
	{ "a = 9223372036854775808\n",
	  "t:1:5: integer does not fit in 64 bits" },
	{ "a = -9223372036854775809\n", "t:1:5: integer does not fit" },
	{ "a = 99999999999999999999999\n", "t:1:5: integer does not fit" },
	{ "a = 0x10\n", "t:1:5: only decimal integers" },
	{ "a = 012\n", "t:1:5: leading zeros" },
	{ "a = 1__2\n", "t:1:6: '_' in an integer" },
	{ "a = 1_\n", "t:1:6: '_' in an integer" },
	{ "a = +\n", "t:1:5: expected a value" },
	{ "a = docker\n",
	  "t:1:5: expected a value (\"string\", integer, "
	  "true/false or [array of strings]); strings must be "
	  "quoted" },
	{ "a =\n", "t:1:4: expected a value" },
	{ "a.b = 1\n", "t:1:2: dotted keys are not supported" },
	{ "a 1\n", "t:1:3: expected '=' after key, found '1'" },
	{ "= 1\n", "t:1:1: expected a key" },
	{ "a = 1 b\n", "t:1:7: expected end of line after value, found 'b'" },
	{ "a = 'é' b\n", "t:1:9: expected end of line" }, /* columns count
	                                                     characters */
	{ "a = 1\r", "t:1:6: carriage return not followed by a newline" },
	{ "[x\n", "t:1:3: expected '.' or ']' in table header" },
	{ "[x] y\n", "t:1:5: expected end of line after table header" },
	{ "[]\n", "t:1:2: expected a key" },
	{ "# ok\n# bad \x02\n", "t:2:7: control character 0x02 in comment" },
	{ "# bad \xfe\n", "t:1:7: invalid UTF-8 in comment" },
	{ "a = truex\n", "t:1:5: expected a value" },
};

static void test_rejections_name_line_and_column(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct berth_toml *doc = NULL;
		struct berth_err err;
		int rv;

		berth_err_clear(&err);
		rv = berth_toml_parse(&doc, c->text, strlen(c->text), "t",
		                      &err);
		if (rv != BERTH_EINVAL || strstr(err.msg, c->msg) == NULL)
			fail_msg("case %zu: rv=%d msg=\"%s\", wanted \"%s\"", i,
			         rv, err.msg, c->msg);
		assert_null(doc);
	}
}

static void test_nul_byte_and_size_cap(void **state)
{
	struct berth_toml *doc = NULL;
	struct berth_err err;
	size_t big = BERTH_TOML_MAX_INPUT + 1;
	char *text;

	(void)state;
	assert_int_equal(
	    berth_toml_parse(&doc, "a = 1\nb\0 = 2", 13, "t", &err),
	    BERTH_EINVAL);
	assert_non_null(strstr(err.msg, "t:2:2: NUL byte"));

	/* Exactly the cap is accepted (all comment), one byte more is not. */
	text = berth_malloc(big);
	memset(text, ' ', big);
	text[0] = '#';
	assert_ok(berth_toml_parse(&doc, text, big - 1, "t", &err), &err);
	berth_toml_free(doc);
	doc = NULL;
	assert_int_equal(berth_toml_parse(&doc, text, big, "t", &err),
	                 BERTH_ELIMIT);
	assert_null(doc);
	free(text);
}

/* Many keys near the cap parse in linear time: the duplicate check is
 * a hash set, not a scan. */
static void test_many_keys_fast(void **state)
{
	struct berth_toml *doc = NULL;
	struct berth_err err;
	size_t cap = BERTH_TOML_MAX_INPUT, len = 0, n = 0;
	char *text = berth_malloc(cap + 1);
	int64_t t0;

	(void)state;
	while (len + 32 < cap) {
		int w = snprintf(text + len, cap - len, "k%zu = %zu\n", n, n);

		len += (size_t)w;
		n++;
	}
	t0 = ts_now_ms();
	assert_ok(berth_toml_parse(&doc, text, len, "t", &err), &err);
	assert_int_equal(doc->n, n);
	assert_true(n > 50000);
	assert_true(ts_now_ms() - t0 < 5000);
	assert_int_equal(berth_toml_get(doc, "", "k12345")->i, 12345);
	berth_toml_free(doc);
	/* The same text plus one duplicate at the end. */
	len += (size_t)snprintf(text + len, cap + 1 - len, "k7 = 1\n");
	doc = NULL;
	assert_int_equal(berth_toml_parse(&doc, text, len, "t", &err),
	                 BERTH_EINVAL);
	assert_non_null(strstr(err.msg, "duplicate key 'k7'"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts_the_subset),
		cmocka_unit_test(test_rejections_name_line_and_column),
		cmocka_unit_test(test_nul_byte_and_size_cap),
		cmocka_unit_test(test_many_keys_fast),
	};

	return cmocka_run_group_tests_name("toml", tests, NULL, NULL);
}
