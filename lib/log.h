/*
 * log.h: structured logging for berth's programs.
 *
 * One line per event, key=value pairs after a timestamp and level:
 *   ts=2026-11-23T20:00:00.123Z level=info event=listening url=...
 * Library code logs at debug only; the handler that turns an error into
 * a status logs it once, with the request id. Never log a credential.
 */
#ifndef BERTH_LIB_LOG_H
#define BERTH_LIB_LOG_H

enum berth_log_level {
	BERTH_LOG_DEBUG,
	BERTH_LOG_INFO,
	BERTH_LOG_WARN,
	BERTH_LOG_ERROR,
};

/* Lines below `level` are dropped. Default: BERTH_LOG_INFO, or debug
 * when the environment has BERTH_DEBUG=1. Thread-safe to call once at
 * start. */
void berth_log_set_level(enum berth_log_level level);

/*
 * Writes one line to stderr: the `event` name, then the printf-style
 * key=value text. Values with spaces should be quoted by the caller
 * with %s inside "..." . Thread-safe (one write(2) per line).
 */
void berth_log(enum berth_log_level level, const char *event, const char *fmt,
               ...) __attribute__((format(printf, 3, 4)));

#endif
