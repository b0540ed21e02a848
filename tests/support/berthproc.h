/*
 * berthproc.h: runs the real `berth serve` binary for integration tests
 * and talks REST to it.
 *
 * The binary comes from $BERTH_BIN (tests/run sets it to the build's).
 * Each instance gets a private data directory and a free loopback port;
 * it is stopped by its PID, never by name.
 */
#ifndef BERTH_TESTS_BERTHPROC_H
#define BERTH_TESTS_BERTHPROC_H

#include "lib/buf.h"

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

struct ts_berth {
	pid_t pid;
	int port;
	char *data_dir; /* owned; removed by ts_berth_stop() */
	char *log_path; /* owned */
	char *token;    /* owned; the admin token once started */
	char base[96];  /* "http://127.0.0.1:PORT" */
	bool own_data;  /* data_dir made (and removed) by this helper */
};

/*
 * Starts `berth serve` with --data (a new temporary directory when
 * `data_dir` is NULL), --http 127.0.0.1:<free port> (or `port` when
 * non-zero), --no-engine-start, --socket <ts_docker_socket()>, then
 * `extra` arguments (NULL-terminated; may be NULL). Waits up to 15 s for
 * /healthz (gateway roles) and reads the admin token. Returns 0 or -1
 * (with the log printed).
 */
int ts_berth_start(struct ts_berth *b, const char *data_dir, int port,
                   const char *const *extra);

/* Starts a runtime-only process serving `url`. Waits for the socket file
 * when `url` is ipc://. */
int ts_berth_start_runtime(struct ts_berth *b, const char *data_dir,
                           const char *url);

/* As ts_berth_start_runtime(); with `dial` the runtime dials `url` (a
 * gateway started with --runtime-listen) instead of listening on it. */
int ts_berth_start_runtime_dial(struct ts_berth *b, const char *data_dir,
                                const char *url, bool dial);

/* Sends `sig` to the process and reaps it; returns the wait status
 * (-1 when it was not running). */
int ts_berth_kill(struct ts_berth *b, int sig);

/* SIGTERM, reap, remove its data directory when the helper made it,
 * free strings. Returns 0 when the process exited with status 0 (or was
 * not running), else -1 after printing its log: a leak or crash report
 * from a sanitizer build fails the test. Accepts a never-started struct. */
int ts_berth_stop(struct ts_berth *b);

/* Copies the process's log to stderr: for a test about to fail. */
void ts_berth_print_log(const struct ts_berth *b);

/* A free TCP port on 127.0.0.1. */
int ts_free_port(void);

/*
 * One HTTP request to `base` + `path` with `body` (may be NULL) as
 * application/json, and the bearer `token` (may be NULL). Returns the
 * status (or -1 on transport failure); `*json` gets the parsed reply
 * (NULL when empty or not JSON; caller owns: json_decref()).
 * `headers` (may be NULL) are extra "Name: value" lines, NULL-terminated.
 */
long ts_http(const char *base, const char *method, const char *path,
             const char *body, const char *token, const char *const *headers,
             json_t **json);

/*
 * ts_http without the parse: `*out` (reset first) gets the reply body as
 * sent. For benchmarks, which time the request alone, as they time the
 * engine's.
 */
long ts_http_raw(const char *base, const char *method, const char *path,
                 const char *body, const char *token,
                 const char *const *headers, struct berth_buf *out);

/* The string at `key` of a JSON object, or "" (borrowed). */
const char *ts_json_str(const json_t *obj, const char *key);

/* error.code of a berth JSON error reply, or "". Borrowed. */
const char *ts_error_code(const json_t *reply);

#endif
