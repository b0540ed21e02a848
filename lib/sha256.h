/*
 * sha256.h: SHA-256 (FIPS 180-4), for request fingerprints, configuration
 * hashes and stored token hashes. Small enough to own rather than pull in
 * a crypto library for one function.
 */
#ifndef BERTH_LIB_SHA256_H
#define BERTH_LIB_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define BERTH_SHA256_LEN     32
#define BERTH_SHA256_HEX_LEN 64

struct berth_sha256 {
	uint32_t h[8];
	uint64_t total;
	uint8_t block[64];
	size_t used;
};

void berth_sha256_init(struct berth_sha256 *ctx);
void berth_sha256_update(struct berth_sha256 *ctx, const void *data,
                         size_t len);
void berth_sha256_final(struct berth_sha256 *ctx,
                        uint8_t out[BERTH_SHA256_LEN]);

/* One-shot digest of `data` as 64 lowercase hex digits plus NUL. */
void berth_sha256_hex(const void *data, size_t len,
                      char out[BERTH_SHA256_HEX_LEN + 1]);

/* A digest as 64 lowercase hex digits plus NUL (for a streamed digest
 * made with init/update/final). */
void berth_sha256_digest_hex(const uint8_t d[BERTH_SHA256_LEN],
                             char out[BERTH_SHA256_HEX_LEN + 1]);

/*
 * Compares `n` bytes in time that does not depend on where they differ.
 * Returns 1 when equal, 0 otherwise.
 */
int berth_ct_equal(const void *a, const void *b, size_t n);

#endif
