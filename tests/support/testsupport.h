/*
 * testsupport.h: helpers shared by berth's test programs.
 *
 * Include after <stdarg.h> <stddef.h> <setjmp.h> <cmocka.h> (cmocka 1.1.5
 * needs them first). Integration tests read the engine the harness
 * prepared from the environment (tests/harness/engine-up exports it).
 */
#ifndef BERTH_TESTS_SUPPORT_H
#define BERTH_TESTS_SUPPORT_H

#include "lib/buf.h"
#include "lib/error.h"

#include <stdbool.h>
#include <stdint.h>

/* Asserts rv == 0 and otherwise fails printing the library's reason. */
#define assert_ok(rv, err)                                              \
	do {                                                            \
		int assert_ok_rv_ = (rv);                               \
		if (assert_ok_rv_ != 0)                                 \
			fail_msg("%s failed: %s (%s)", #rv, (err)->msg, \
			         berth_code_name(assert_ok_rv_));       \
	} while (0)

/* The Docker socket the harness started or found (BERTH_TEST_DOCKER_SOCKET,
 * default /var/run/docker.sock). Static string. */
const char *ts_docker_socket(void);

/* The engine the tests run against: "docker" (default) or "podman"
 * (BERTH_TEST_RUNTIME, exported by the harness; berth serve started by
 * a test inherits it as BERTH_RUNTIME). Static string. */
const char *ts_engine_runtime(void);

/* Whether the tests run against Podman. */
bool ts_engine_is_podman(void);

/*
 * One request straight to the engine under test (ts_docker_socket(),
 * API /v1.41), with a fresh curl handle as berth's driver makes them:
 * for benchmarks' baselines and tests that act behind berth's back.
 * `body` (JSON) may be NULL; the reply body replaces `out`'s contents.
 * Returns the HTTP status, or -1 when the engine could not be reached.
 */
long ts_engine_call(const char *method, const char *path, const char *body,
                    struct berth_buf *out);

/* The local test image the harness built (BERTH_TEST_IMAGE). Static. */
const char *ts_test_image(void);

/* A fresh private directory under $TMPDIR for this test. Caller owns the
 * string (free()); the directory is removed by ts_rmtree(). */
char *ts_tmpdir(const char *tag);

/* Removes a directory tree made by the test. Accepts NULL. */
void ts_rmtree(const char *path);

/* Milliseconds on a monotonic clock. */
int64_t ts_now_ms(void);

/* A label value unique to this test run (BERTH_TEST_RUN, set by the
 * harness), put on every engine object tests create. Static. */
const char *ts_run_label(void);

#endif
