/*
 * engine_mux.c: the parser of the engine's stdout/stderr framing
 * (engine_mux.h).
 */
#include "lib/engine_mux.h"

#include "lib/error.h"

#include <string.h>

void berth_mux_init(struct berth_mux *m, bool raw)
{
	memset(m, 0, sizeof(*m));
	m->raw = raw;
}

int berth_mux_feed(struct berth_mux *m, const char *data, size_t len,
                   berth_mux_fn fn, void *arg)
{
	size_t i = 0;
	int rv;

	if (m->raw)
		return len > 0 ? fn(arg, BERTH_OUT_STDOUT, data, len) : 0;
	while (i < len) {
		if (m->left == 0) {
			size_t take = sizeof(m->hdr) - m->hdr_len;

			if (take > len - i)
				take = len - i;
			memcpy(m->hdr + m->hdr_len, data + i, take);
			m->hdr_len += take;
			i += take;
			if (m->hdr_len < sizeof(m->hdr))
				break;
			m->hdr_len = 0;
			if (m->hdr[0] > 2)
				return BERTH_EINVAL;
			m->stream = m->hdr[0] == 2 ? BERTH_OUT_STDERR
			                           : BERTH_OUT_STDOUT;
			m->left = (uint32_t)m->hdr[4] << 24
			    | (uint32_t)m->hdr[5] << 16
			    | (uint32_t)m->hdr[6] << 8 | (uint32_t)m->hdr[7];
			continue;
		}
		size_t take = m->left;

		if (take > len - i)
			take = len - i;
		rv = fn(arg, m->stream, data + i, take);
		if (rv != 0)
			return rv;
		m->left -= (uint32_t)take;
		i += take;
	}
	return 0;
}

bool berth_mux_at_boundary(const struct berth_mux *m)
{
	return m->raw || (m->left == 0 && m->hdr_len == 0);
}
