/*
 * validate.h: allow-list checks for everything a user names.
 *
 * Every id, name, image reference, label, env key and path that comes in
 * over REST or RPC passes one of these before it is used. Each returns
 * 0 or BERTH_EINVAL with a message naming `field` and saying what is
 * allowed, e.g. "name: must match [a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}".
 */
#ifndef BERTH_LIB_VALIDATE_H
#define BERTH_LIB_VALIDATE_H

#include "lib/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Container/volume/network name: [a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}. */
int berth_validate_name(const char *field, const char *s,
                        struct berth_err *err);

/*
 * A reference to a container: a full or short hex id (1..64 of
 * [0-9a-f]) or a name as berth_validate_name().
 */
int berth_validate_container_ref(const char *field, const char *s,
                                 struct berth_err *err);

/* A job id: a lowercase UUID. */
int berth_validate_job_id(const char *field, const char *s,
                          struct berth_err *err);

/*
 * An image reference as the OCI distribution spec and Docker accept it:
 * [registry[:port]/]path[:tag][@sha256:<64 hex>], lowercase path
 * components, tag [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}, at most 255 bytes.
 */
int berth_validate_image_ref(const char *field, const char *s,
                             struct berth_err *err);

/* Environment key: [A-Za-z_][A-Za-z0-9_]* (at most 256 bytes). */
int berth_validate_env_key(const char *field, const char *s,
                           struct berth_err *err);

/*
 * Label key: [a-z0-9][a-z0-9._/-]* up to 128 bytes; keys under "berth."
 * are reserved for berth and refused here.
 */
int berth_validate_label_key(const char *field, const char *s,
                             struct berth_err *err);

/*
 * Absolute path inside a container: starts with '/', no NUL, no ".."
 * component, at most 4096 bytes.
 */
int berth_validate_container_path(const char *field, const char *s,
                                  struct berth_err *err);

/*
 * Request id (idempotency key): [A-Za-z0-9_.:-]{1,128}.
 */
int berth_validate_request_id(const char *field, const char *s,
                              struct berth_err *err);

/* A printable UTF-8 string of at most `max` bytes with no control bytes
 * other than tab (for values: env values allow any, see docs). */
int berth_validate_text(const char *field, const char *s, size_t max,
                        struct berth_err *err);

/*
 * Length of the valid UTF-8 sequence at `s` (1..4), reading at most `n`
 * bytes, or 0 when it is not valid UTF-8 (overlong forms, surrogates and
 * code points past U+10FFFF are invalid).
 */
size_t berth_utf8_seq_len(const char *s, size_t n);

/* Whether `s` is valid UTF-8 throughout (as berth_utf8_seq_len judges
 * it). NULL counts as the empty string: valid. */
bool berth_utf8_valid(const char *s);

/* How much of a bad value berth_quote_for_msg() echoes. */
#define BERTH_QUOTE_MAX 64

/*
 * Writes `s` into `dst` (`n` bytes, NUL-terminated) for an error message:
 * at most BERTH_QUOTE_MAX bytes of it, control bytes and invalid UTF-8
 * replaced by '?', and "..." appended when it was cut. NULL gives "(null)".
 */
void berth_quote_for_msg(char *dst, size_t n, const char *s);

/*
 * A port protocol berth and its engines handle: "tcp", "udp" or "sctp".
 * The gateway and the runtime both check ports; this is their one rule.
 */
int berth_validate_port_protocol(const char *field, const char *proto,
                                 struct berth_err *err);

/* --- container options (issue 3) ------------------------------------ */

/*
 * A Linux capability name as the engines take it: upper case, with or
 * without the "CAP_" prefix ("NET_ADMIN", "CAP_CHOWN"), from the kernel's
 * list. "ALL" is accepted only when `allow_all` (cap_drop: drop every
 * capability; cap_add ALL would be a privileged container).
 */
int berth_validate_capability(const char *field, const char *s, bool allow_all,
                              struct berth_err *err);

/*
 * The user a container runs as: "uid[:gid]" (decimal, < 2^31) or a name
 * the image knows ("nobody", "www-data:www-data"): each part
 * [A-Za-z0-9_][A-Za-z0-9_.-]{0,31}.
 */
int berth_validate_user(const char *field, const char *s,
                        struct berth_err *err);

/*
 * A network to attach a container to: a name as berth_validate_name().
 * "host" (the host's own network namespace: the container would reach
 * every loopback service of the host) is refused, and so is the
 * "container:<id>" form.
 */
int berth_validate_network_name(const char *field, const char *s,
                                struct berth_err *err);

/*
 * Parses a duration like seed 004's "30s": one or more <digits><unit>
 * with unit ms, s, m or h ("1m30s", "500ms"); at most 10 days.
 * `*ms` is assigned only on success.
 */
int berth_parse_duration_ms(const char *field, const char *s, int64_t *ms,
                            struct berth_err *err);

/*
 * Parses a size like "512m": digits, then an optional unit b, k, m, g
 * or t (powers of 1024, either case, optionally followed by "b" or
 * "ib": "512MiB", "1gb"). `*bytes` is assigned only on success.
 */
int berth_parse_bytes(const char *field, const char *s, int64_t *bytes,
                      struct berth_err *err);

/* Bounds of a health check (durations in milliseconds). */
#define BERTH_HEALTH_MIN_MS      1
#define BERTH_HEALTH_MAX_MS      (24LL * 3600 * 1000)
#define BERTH_HEALTH_MAX_RETRIES 100
#define BERTH_HEALTH_TEST_MAX    4096 /* bytes per test word */

/*
 * A health check (seed 004): `test` empty (keep the image's probe, with
 * the durations given here) or test[0] one of "CMD" (at least one argv
 * word after it), "CMD-SHELL" (exactly one command line after it) or
 * "NONE" (alone: no probe). Durations are 0 (the engine's default) or
 * within BERTH_HEALTH_MIN_MS..BERTH_HEALTH_MAX_MS (start period: 0..max);
 * retries at most BERTH_HEALTH_MAX_RETRIES. `field` prefixes the member
 * names in messages ("health.interval_ms: ...").
 */
int berth_validate_health(const char *field, const char *const *test,
                          size_t ntest, int64_t interval_ms, int64_t timeout_ms,
                          uint32_t retries, int64_t start_period_ms,
                          struct berth_err *err);

/* Memory limits: the engine's minimum, and a cap on absurd values. */
#define BERTH_MEMORY_MIN (6LL * 1024 * 1024)
#define BERTH_MEMORY_MAX (1LL << 44) /* 16 TiB */

/* 0 (no limit) or BERTH_MEMORY_MIN..BERTH_MEMORY_MAX bytes. */
int berth_validate_memory_bytes(const char *field, int64_t v,
                                struct berth_err *err);

/* 0 (no limit) or 0.01..1024 CPUs, in units of 1e-9 CPU. Whether the
 * host has that many CPUs is the engine's check (it answers 400). */
int berth_validate_nano_cpus(const char *field, int64_t v,
                             struct berth_err *err);

/* The largest pids limit berth sets (the kernel's pid_max ceiling). */
#define BERTH_PIDS_MAX (1LL << 22)

/* 0 (berth's default) or 1..BERTH_PIDS_MAX. Negative values (the
 * engines' "unlimited") are refused: berth never creates a container
 * without a pids limit. */
int berth_validate_pids_limit(const char *field, int64_t v,
                              struct berth_err *err);

#endif
