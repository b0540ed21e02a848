/*
 * uuid.c: random (version 4) UUIDs for job ids, from getrandom(2).
 *
 * Job ids double as handles a client may hold for days, so they come
 * from the kernel's CSPRNG rather than rand(): unguessable and, for all
 * practical purposes, unique across processes and hosts.
 */
#include "lib/jobs.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

int berth_uuid_v4(char out[BERTH_JOB_ID_LEN + 1], struct berth_err *err)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t r[16];
	size_t got = 0;
	char text[BERTH_JOB_ID_LEN + 1];
	size_t o = 0;

	/* getrandom() returns at most 256 bytes per call without blocking
	 * once the pool is initialised; retry a few times on EINTR or a
	 * short read, never forever. */
	for (int tries = 0; got < sizeof(r) && tries < 8; tries++) {
		ssize_t n = getrandom(r + got, sizeof(r) - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return berth_err_set(err, BERTH_EINTERNAL,
			                     "getrandom failed: %s",
			                     strerror(errno));
		}
		got += (size_t)n;
	}
	if (got < sizeof(r))
		return berth_err_set(err, BERTH_EINTERNAL,
		                     "getrandom gave too few bytes");
	r[6] = (uint8_t)((r[6] & 0x0f) | 0x40); /* version 4 */
	r[8] = (uint8_t)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			text[o++] = '-';
		text[o++] = hex[r[i] >> 4];
		text[o++] = hex[r[i] & 0xf];
	}
	text[o] = '\0';
	memcpy(out, text, sizeof(text));
	return 0;
}
