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

#include <stddef.h>

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

#endif
