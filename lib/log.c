/*
 * log.c: one structured line per event on stderr (see log.h).
 */
#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int min_level = -1;

void berth_log_set_level(enum berth_log_level level)
{
	min_level = (int)level;
}

static const char *level_name(enum berth_log_level level)
{
	switch (level) {
	case BERTH_LOG_DEBUG: return "debug";
	case BERTH_LOG_INFO: return "info";
	case BERTH_LOG_WARN: return "warn";
	case BERTH_LOG_ERROR: return "error";
	}
	return "info";
}

void berth_log(enum berth_log_level level, const char *event, const char *fmt,
               ...)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	size_t n;
	int w;
	va_list ap;

	if (min_level < 0) {
		const char *d = getenv("BERTH_DEBUG");

		min_level = (d != NULL && strcmp(d, "1") == 0) ? BERTH_LOG_DEBUG
		                                               : BERTH_LOG_INFO;
	}
	if ((int)level < min_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "ts=%Y-%m-%dT%H:%M:%S", &tm);
	w = snprintf(line + n, sizeof(line) - n, ".%03ldZ level=%s event=%s ",
	             ts.tv_nsec / 1000000L, level_name(level), event);
	if (w > 0)
		n += (size_t)w;
	va_start(ap, fmt);
	w = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (w > 0)
		n += (size_t)w;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/* One write keeps lines from different threads whole. */
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}
