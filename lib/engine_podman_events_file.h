/*
 * engine_podman_events_file.h: follows Podman's event file as Podman
 * writes it: whole JSON lines appended (each by one write), the file
 * replaced when it outgrows events_logfile_max_size (Podman copies the
 * newer half into a new file, adds a "log-rotation" event and renames
 * it over the old one), or cut short by someone else.
 *
 * The follower is told of changes by inotify on the file's folder, with
 * a timer as the fallback (inotify can overflow, or be unavailable), and
 * reads with its own descriptor and offset: each complete line is parsed
 * and handed on once. A replaced or shortened file is read from its
 * start again, skipping what was already handed on: everything up to
 * the last line seen, or up to Podman's rotation event, or (when neither
 * is found) every line not newer than the newest seen. Lines longer
 * than PODMAN_EVENT_LINE_MAX are skipped (logged at debug).
 *
 * One follower is used by one thread.
 */
#ifndef BERTH_LIB_ENGINE_PODMAN_EVENTS_FILE_H
#define BERTH_LIB_ENGINE_PODMAN_EVENTS_FILE_H

#include "lib/error.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* Longest event line read; longer ones are skipped. */
#define PODMAN_EVENT_LINE_MAX (256u * 1024u)

struct podman_evfile;

/*
 * Called with each new line: its JSON object (borrowed for the call)
 * and its Time in unix ns. Every type of event comes here, Podman's
 * rotation event included. Return 0 to go on; a non-zero value stops
 * the read, which returns it (the line counts as handed on).
 */
typedef int (*podman_evfile_fn)(void *arg, const json_t *j, int64_t time_ns);

/*
 * Starts following `path`. With `since_unix_ms` > 0 the first read
 * hands on the lines already in the file whose Time is at or after it;
 * with 0 only lines written after this call. The file itself may not
 * exist yet when its folder does: it is picked up once Podman makes it.
 * Caller owns `*out`; free with podman_evfile_free().
 * Errors: BERTH_ENOTFOUND (no such folder), BERTH_EPERM (not readable),
 * BERTH_EINVAL (not a regular file; a symlink is never followed, nor a
 * FIFO waited on).
 */
int podman_evfile_open(struct podman_evfile **out, const char *path,
                       int64_t since_unix_ms, struct berth_err *err);

/* Closes the descriptors. Accepts NULL. */
void podman_evfile_free(struct podman_evfile *f);

/*
 * Hands every complete line written since the last read to `fn`, in
 * file order, following a replaced or shortened file as described
 * above. A partial last line waits for its end. Returns 0, `fn`'s
 * non-zero value, or BERTH_EUNAVAIL when the file cannot be read (or
 * was replaced by something that is not a regular file: a symlink, a
 * FIFO).
 */
int podman_evfile_read(struct podman_evfile *f, podman_evfile_fn fn, void *arg,
                       struct berth_err *err);

/*
 * Waits until the file's folder reports a change or `ms` pass,
 * whichever is first (without inotify: just `ms`). Returns true when a
 * change was reported.
 */
bool podman_evfile_wait(struct podman_evfile *f, int ms);

/* Whether changes are reported by inotify (else only the timer). */
bool podman_evfile_has_inotify(const struct podman_evfile *f);

#endif
