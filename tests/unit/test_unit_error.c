/*
 * test_unit_error.c: the error codes, their names and HTTP statuses, and
 * the capped buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/buf.h"
#include "lib/error.h"

#include <stdlib.h>
#include <string.h>

static void test_codes_round_trip_names(void **state)
{
	(void)state;
	for (int c = BERTH_OK; c >= BERTH_EUNAUTH; c--)
		assert_int_equal(berth_code_from_name(berth_code_name(c)), c);
	assert_int_equal(berth_code_from_name("NO_SUCH"), BERTH_EUNKNOWN);
	assert_int_equal(berth_code_from_name(NULL), BERTH_EUNKNOWN);
}

static void test_http_status(void **state)
{
	(void)state;
	assert_int_equal(berth_code_http_status(BERTH_ENOTFOUND), 404);
	assert_int_equal(berth_code_http_status(BERTH_EINVAL), 400);
	assert_int_equal(berth_code_http_status(BERTH_EUNAUTH), 401);
	assert_int_equal(berth_code_http_status(BERTH_EEXISTS), 409);
	assert_int_equal(berth_code_http_status(BERTH_EUNAVAIL), 503);
	assert_int_equal(berth_code_http_status(BERTH_ELIMIT), 429);
}

static void test_err_set_truncates_and_returns_code(void **state)
{
	struct berth_err err;
	char big[600];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(berth_err_set(&err, BERTH_EINVAL, "%s", big),
	                 BERTH_EINVAL);
	assert_int_equal(strlen(err.msg), BERTH_ERR_MSG_MAX - 1);
	assert_false(err.retryable);
	assert_int_equal(berth_err_set_retryable(&err, BERTH_EUNAVAIL, "down"),
	                 BERTH_EUNAVAIL);
	assert_true(err.retryable);
	assert_string_equal(err.msg, "down");
	assert_int_equal(berth_err_set(NULL, BERTH_EPERM, "x"), BERTH_EPERM);
}

static void test_buf_cap(void **state)
{
	struct berth_buf b;
	size_t len;
	char *s;

	(void)state;
	berth_buf_init(&b, 10);
	assert_int_equal(berth_buf_puts(&b, "hello"), 0);
	assert_int_equal(berth_buf_puts(&b, "world"), 0);
	assert_int_equal(berth_buf_puts(&b, "!"), BERTH_ELIMIT);
	assert_string_equal(b.data, "helloworld");
	s = berth_buf_steal(&b, &len);
	assert_int_equal(len, 10);
	assert_string_equal(s, "helloworld");
	assert_null(b.data);
	free(s);
	berth_buf_fini(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codes_round_trip_names),
		cmocka_unit_test(test_http_status),
		cmocka_unit_test(test_err_set_truncates_and_returns_code),
		cmocka_unit_test(test_buf_cap),
	};

	return cmocka_run_group_tests_name("error", tests, NULL, NULL);
}
