/*
 * streams.h: the runtime's open output streams (followed logs, streamed
 * exec), read by callers with ReadStream long-polls.
 *
 * A stream has one producer thread (started by runtime_stream_open with
 * the caller's run function) that pushes frames, and one reader that
 * long-polls through handlers_streams.c. Frames are kept in a bounded
 * buffer: when it is full the producer blocks in runtime_stream_push()
 * until the reader catches up, so a slow client slows the engine read
 * instead of growing memory. A stream nobody reads for
 * RUNTIME_STREAM_IDLE_MS, or that is closed, is cancelled: its
 * producer's next push (or runtime_stream_cancelled()) says so, and the
 * stream is freed once the producer returns.
 */
#ifndef BERTH_SERVICES_RUNTIME_STREAMS_H
#define BERTH_SERVICES_RUNTIME_STREAMS_H

#include "berth/v1/runtime.pb-c.h"
#include "lib/engine.h"
#include "lib/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RUNTIME_STREAM_IDLE_MS 30000
#define RUNTIME_STREAM_ID_LEN  36 /* a UUID */
#define RUNTIME_STREAMS_MAX    1024

struct runtime_streams;
struct runtime_stream;

/*
 * The producer: runs on the stream's own thread. Returns 0 when the
 * output ended, or a berth code with `err` set (recorded as the
 * stream's error_code / error).
 */
typedef int (*runtime_stream_run_fn)(struct runtime_stream *s, void *arg,
                                     struct berth_err *err);

/* Caller owns the result; free with runtime_streams_free(). NULL when
 * the reaper thread cannot start. */
struct runtime_streams *runtime_streams_new(void);

/* Cancels every stream and joins its producer. Accepts NULL. */
void runtime_streams_free(struct runtime_streams *ss);

/*
 * Opens a stream whose producer is run(s, arg, err) on a new thread.
 * `arg_free` (may be NULL) frees `arg` after the producer returns --
 * also when opening fails. The new id goes to `id`.
 * Errors: BERTH_ELIMIT (RUNTIME_STREAMS_MAX open), BERTH_EINTERNAL.
 */
int runtime_stream_open(struct runtime_streams *ss, runtime_stream_run_fn run,
                        void *arg, void (*arg_free)(void *arg),
                        char id[RUNTIME_STREAM_ID_LEN + 1],
                        struct berth_err *err);

/*
 * Producer side: appends one frame (data copied). `seq` 0 = the next
 * number after the last frame; otherwise it must be larger than the
 * last (logs derive it from the engine timestamp so a resumed read
 * finds its place). Blocks while the buffer is full.
 * Errors: BERTH_ECANCELLED (closed, idle too long, or shutting down).
 */
int runtime_stream_push(struct runtime_stream *s,
                        enum berth_output_stream which, const char *data,
                        size_t len, int64_t time_ns, uint64_t seq);

/* Producer side: the last seq pushed (0 = none). */
uint64_t runtime_stream_last_seq(const struct runtime_stream *s);

/* Producer side: whether the reader is gone; for engine tick callbacks. */
bool runtime_stream_cancelled(struct runtime_stream *s);

/* Producer side: an exec's end, reported with the final chunk. */
void runtime_stream_set_exit(struct runtime_stream *s, int exit_code,
                             bool timed_out);

/*
 * Reader side: frames with seq > after_seq, waiting up to max_wait_ms
 * (capped at 1000) when none is ready, at most max_bytes of data (at
 * least one frame). Fills `out` (its fields are malloc'd; the caller
 * frees them with protobuf_c_message_free_unpacked semantics -- use a
 * heap StreamChunk from berth_calloc). A stream whose chunk with done
 * was read is freed.
 * Errors: BERTH_ENOTFOUND (no such stream, or already finished).
 */
int runtime_stream_read(struct runtime_streams *ss, const char *id,
                        uint64_t after_seq, int max_wait_ms, size_t max_bytes,
                        Berth__V1__StreamChunk **out, struct berth_err *err);

/* Reader side: cancels and forgets a stream. Errors: BERTH_ENOTFOUND. */
int runtime_stream_close(struct runtime_streams *ss, const char *id,
                         struct berth_err *err);

/* --- appended: for tests and diagnostics ---------------------------- */

/*
 * Sets the idle time after which an unread stream is cancelled (default
 * RUNTIME_STREAM_IDLE_MS; values under 10 are taken as 10). Applies to
 * every stream of `ss` from its next check on.
 */
void runtime_streams_set_idle_ms(struct runtime_streams *ss, int idle_ms);

/*
 * Streams that still hold memory or a producer thread: open ones plus
 * cancelled ones whose producer has not returned yet.
 */
size_t runtime_streams_count(struct runtime_streams *ss);

#endif
