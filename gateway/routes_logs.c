/*
 * routes_logs.c: GET /api/v1/containers/{id}/logs, a container's log as
 * one chunked response (see the route table in router.c).
 *
 * Query: follow, since, until (unix seconds, with a fraction or not, or
 * RFC 3339), tail ("all" or a number of lines; 0 = none), timestamps,
 * stdout, stderr (both absent = both), after_seq (resume after the last
 * seq received) and format (ndjson, the default, or text). Unknown keys
 * are 400. The stream is opened on the runtime first (OpenLogs), so a
 * missing container is a plain 404 before any chunk is sent; the
 * response is then relayed by gateway/stream_relay.c.
 */
#include "gateway/respond.h"
#include "gateway/router.h"
#include "gateway/stream_relay.h"

#include "lib/alloc.h"
#include "lib/validate.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Largest tail accepted (the proto field is int32). */
#define TAIL_MAX 100000000L
/* Times are accepted up to year 9999 (unix seconds). */
#define TIME_MAX_S 253402300799LL

/* What the finish callback needs besides the RPC's answer. */
struct logs_ext {
	struct gw_relay_opts relay;
};

static int two(const char *s)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return -1;
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* RFC 3339 ("2026-11-23T20:00:00Z", fraction and "+hh:mm" optional
 * parts) to unix ms. Returns 0 or -1. */
static int parse_rfc3339_ms(const char *s, int64_t *ms)
{
	size_t len = strlen(s), i = 19;
	int y1, y2, mo, d, h, mi, se, oh = 0, om = 0, sign = 0;
	int64_t frac = 0, scale = 100, t;

	if (len < 20 || s[4] != '-' || s[7] != '-'
	    || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
		return -1;
	y1 = two(s);
	y2 = two(s + 2);
	mo = two(s + 5);
	d = two(s + 8);
	h = two(s + 11);
	mi = two(s + 14);
	se = two(s + 17);
	if (y1 < 0 || y2 < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0
	    || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60)
		return -1;
	if (s[i] == '.') {
		if (s[++i] < '0' || s[i] > '9')
			return -1;
		for (; s[i] >= '0' && s[i] <= '9'; i++) {
			frac += (s[i] - '0') * scale;
			scale /= 10;
		}
	}
	if (s[i] == 'Z' || s[i] == 'z') {
		i++;
	} else if ((s[i] == '+' || s[i] == '-') && len == i + 6
	           && s[i + 3] == ':') {
		sign = s[i] == '+' ? 1 : -1;
		oh = two(s + i + 1);
		om = two(s + i + 4);
		if (oh < 0 || oh > 23 || om < 0 || om > 59)
			return -1;
		i += 6;
	}
	if (i != len)
		return -1;
	t = days_from_civil(y1 * 100 + y2, mo, d) * 86400 + h * 3600 + mi * 60
	    + se - (int64_t)sign * (oh * 3600 + om * 60);
	if (t < 0)
		return -1;
	*ms = t * 1000 + frac;
	return 0;
}

/* Unix seconds ("1700000000" or "1700000000.25") to ms. */
static int parse_unix_ms(const char *s, int64_t *ms)
{
	int64_t secs = 0, frac = 0, scale = 100;
	size_t i = 0;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		secs = secs * 10 + (s[i] - '0');
		if (secs > TIME_MAX_S)
			return -1;
	}
	if (s[i] == '.') {
		if (s[++i] < '0' || s[i] > '9')
			return -1;
		for (; s[i] >= '0' && s[i] <= '9'; i++) {
			frac += (s[i] - '0') * scale;
			scale /= 10;
		}
	}
	if (s[i] != '\0')
		return -1;
	*ms = secs * 1000 + frac;
	return 0;
}

/* A time query value; absent leaves *ms at 0. Responds 400 on error. */
static int query_time(struct gw_req *rq, const char *key, int64_t *ms)
{
	const char *v = gw_req_query(rq, key);

	*ms = 0;
	if (v == NULL)
		return 0;
	if (parse_unix_ms(v, ms) == 0 || parse_rfc3339_ms(v, ms) == 0)
		return 0;
	gw_respond_error(rq, BERTH_EINVAL, false,
	                 "%s: expected unix seconds (e.g. 1700000000.5) or "
	                 "RFC 3339 (e.g. 2026-11-23T20:00:00Z)",
	                 key);
	return BERTH_EINVAL;
}

/* "1"/"true"/"" -> true, "0"/"false" -> false; absent -> false. */
static int query_bool(struct gw_req *rq, const char *key,
                      protobuf_c_boolean *out)
{
	const char *v = gw_req_query(rq, key);

	*out = false;
	if (v == NULL || strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
		return 0;
	if (v[0] == '\0' || strcmp(v, "1") == 0 || strcmp(v, "true") == 0) {
		*out = true;
		return 0;
	}
	gw_respond_error(rq, BERTH_EINVAL, false,
	                 "%s: expected 1, true, 0 or false", key);
	return BERTH_EINVAL;
}

static int query_tail(struct gw_req *rq, int32_t *tail)
{
	const char *v = gw_req_query(rq, "tail");
	char *end = NULL;
	long n;

	*tail = 0; /* all */
	if (v == NULL || strcmp(v, "all") == 0)
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0 || n < 0
	    || n > TAIL_MAX) {
		gw_respond_error(rq, BERTH_EINVAL, false,
		                 "tail: expected \"all\" or a number of lines "
		                 "0..%ld",
		                 TAIL_MAX);
		return BERTH_EINVAL;
	}
	*tail = n == 0 ? -1 : (int32_t)n; /* the proto's -1 is "none" */
	return 0;
}

static int query_after_seq(struct gw_req *rq, uint64_t *seq)
{
	const char *v = gw_req_query(rq, "after_seq");
	char *end = NULL;
	unsigned long long n;

	*seq = 0;
	if (v == NULL)
		return 0;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0
	    || strlen(v) > 20) {
		gw_respond_error(rq, BERTH_EINVAL, false,
		                 "after_seq: expected the seq of the last "
		                 "frame received (a whole number)");
		return BERTH_EINVAL;
	}
	*seq = (uint64_t)n;
	return 0;
}

static void logs_ext_free(void *p)
{
	free(p);
}

static void finish_logs(struct gw_req *rq, const ProtobufCMessage *out)
{
	const Berth__V1__StreamRef *ref = (const Berth__V1__StreamRef *)out;
	struct logs_ext *x = rq->ext;

	gw_relay_start(rq, ref->id, &x->relay);
}

void gw_h_container_logs(struct gw_req *rq)
{
	static const char *const keys[] = {
		"follow", "since",  "until",     "tail",   "timestamps",
		"stdout", "stderr", "after_seq", "format", NULL,
	};
	Berth__V1__LogsRequest *in = &rq->in.logs;
	struct logs_ext *x;
	protobuf_c_boolean stamps = false;
	enum gw_relay_format format;
	struct berth_err err;

	if (rq->body.len > 0) {
		gw_respond_error(rq, BERTH_EINVAL, false,
		                 "GET .../logs takes no request body");
		return;
	}
	if (gw_req_query_only(rq, keys) != 0)
		return;
	if (berth_validate_container_ref("id", rq->params[0], &err) != 0) {
		gw_respond_err(rq, &err);
		return;
	}
	berth__v1__logs_request__init(in);
	in->id = rq->params[0];
	if (query_bool(rq, "follow", &in->follow) != 0
	    || query_bool(rq, "stdout", &in->stdout) != 0
	    || query_bool(rq, "stderr", &in->stderr) != 0
	    || query_bool(rq, "timestamps", &stamps) != 0
	    || query_time(rq, "since", &in->since_unix_ms) != 0
	    || query_time(rq, "until", &in->until_unix_ms) != 0
	    || query_tail(rq, &in->tail) != 0
	    || query_after_seq(rq, &in->after_seq) != 0)
		return;
	if (in->until_unix_ms > 0 && in->until_unix_ms < in->since_unix_ms) {
		gw_respond_error(rq, BERTH_EINVAL, false,
		                 "until: must not be before since");
		return;
	}
	if (gw_relay_parse_format(gw_req_query(rq, "format"), &format) != 0) {
		gw_respond_error(rq, BERTH_EINVAL, false,
		                 "format: expected ndjson or text");
		return;
	}
	x = berth_calloc(1, sizeof(*x));
	x->relay.format = format;
	x->relay.timestamps = stamps;
	x->relay.after_seq = in->after_seq;
	rq->ext = x;
	rq->ext_free = logs_ext_free;
	gw_rpc_start(rq, "OpenLogs", &in->base, false, 0, finish_logs);
}
