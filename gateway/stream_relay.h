/*
 * stream_relay.h: relays one runtime output stream (followed logs,
 * streamed exec) into a chunked HTTP response.
 *
 * The runtime answers OpenLogs / ExecStream with a stream id; the relay
 * then long-polls ReadStream (asynchronously, on nng threads) and writes
 * each chunk's frames into a pump (gateway/pump.h) in one of two
 * formats:
 *
 *   GW_RELAY_NDJSON  ("application/x-ndjson") one JSON object a line:
 *       {"seq":N,"stream":"stdout","time":"2026-11-23T20:00:00.123456789Z",
 *        "data":"text"}
 *     "data" is the frame's bytes as text when they are valid UTF-8,
 *     else "data_base64" (standard base64) replaces it; "time" is left
 *     out when the engine gave none. The last line is
 *       {"done":true,"last_seq":N}
 *     plus "exit_code" and "timed_out" when the stream reported an exit
 *     (streamed exec), and "error":{"code":"NOT_FOUND","message":"..."}
 *     when the stream ended early. A client that lost its connection
 *     asks again with the last seq it printed (logs: ?after_seq=N).
 *     seq can exceed 2^53 (logs derive it from nanosecond timestamps):
 *     parse it as a 64-bit integer.
 *
 *   GW_RELAY_TEXT    ("text/plain; charset=utf-8") the raw bytes of every
 *     frame, stdout and stderr interleaved as they came, like
 *     `docker logs`. With `timestamps` each line starts with its RFC 3339
 *     time and a space. An error or exit status is not visible in this
 *     format: the response simply ends.
 *
 * Back-pressure: when the pump is full the relay stops reading from the
 * runtime until the client drains it (GW_PUMP_DRAINED), so a slow client
 * slows the engine read. A client that leaves is noticed within about a
 * second (the relay pokes the pump after every empty long poll); the
 * relay then sends CloseStream and frees everything it holds. At gateway
 * stop the relay stops at its next step and makes no new calls.
 */
#ifndef BERTH_GATEWAY_STREAM_RELAY_H
#define BERTH_GATEWAY_STREAM_RELAY_H

#include "gateway/request.h"

#include <stdbool.h>
#include <stdint.h>

enum gw_relay_format {
	GW_RELAY_NDJSON,
	GW_RELAY_TEXT,
};

/* How to relay. Zeroed = NDJSON, status 200, from the start. */
struct gw_relay_opts {
	enum gw_relay_format format;
	bool timestamps;    /* text only: prefix lines with their time */
	uint64_t after_seq; /* first ReadStream asks for seq > after_seq */
	int status;         /* HTTP status of the response; 0 = 200 */
};

/*
 * Makes `rq`'s response a chunked stream fed from the runtime stream
 * `stream_id` (copied), with the headers already added through
 * gw_respond_header(). Call it where gw_pump_start() may be called: from
 * a handler or an RPC finish callback, on an MHD thread, typically the
 * finish callback of OpenLogs / ExecStream. `opts` is read during the
 * call only; NULL = defaults.
 *
 * It never fails once called: the relay owns the stream from then on
 * and closes it on the runtime when the client leaves early. If the
 * first ReadStream cannot even be started (gateway stopping), the
 * response ends at once (NDJSON: with a done line carrying the error).
 */
void gw_relay_start(struct gw_req *rq, const char *stream_id,
                    const struct gw_relay_opts *opts);

/*
 * Parses the REST `format` query value: NULL or "ndjson" -> NDJSON,
 * "text" -> TEXT. Returns 0, or BERTH_EINVAL (nothing responded; the
 * caller answers 400 naming the field).
 */
int gw_relay_parse_format(const char *s, enum gw_relay_format *out);

#endif
