/*
 * engine_podman_events_conf.h: where Podman writes its event file.
 *
 * In this order: the environment variable BERTH_PODMAN_EVENTS_FILE;
 * the `events_logfile_path` key of the [engine] table in
 * /etc/containers/containers.conf, then in
 * /usr/share/containers/containers.conf (Podman's own precedence for
 * those two files); else root Podman's default,
 * /run/libpod/events/events.log. Only that one key is read, by a line
 * scanner, not a TOML parser: drop-in folders (containers.conf.d) and
 * the CONTAINERS_CONF variable of the Podman process are not seen.
 */
#ifndef BERTH_LIB_ENGINE_PODMAN_EVENTS_CONF_H
#define BERTH_LIB_ENGINE_PODMAN_EVENTS_CONF_H

#include "lib/error.h"

#include <stddef.h>

/* The environment variable that names the event file outright. */
#define PODMAN_EVENTS_FILE_ENV "BERTH_PODMAN_EVENTS_FILE"

/* Root Podman's event file when nothing else says. */
#define PODMAN_EVENTS_FILE_DEFAULT "/run/libpod/events/events.log"

/* containers.conf files are read up to this size. */
#define PODMAN_CONF_MAX (1024u * 1024u)

/*
 * Scans containers.conf text (`len` bytes, need not be NUL-terminated)
 * for `events_logfile_path` in the [engine] table: a basic ("...") or
 * literal ('...') string, with an optional # comment after it.
 * Caller owns `*out`; free with free().
 * Errors: BERTH_ENOTFOUND (no such key, or it is empty or not an
 * absolute path), BERTH_EINVAL (the value is not a one-line string).
 * `*out` is untouched on error.
 */
int podman_conf_events_path(const char *text, size_t len, char **out);

/*
 * Resolves the event file's path as described above, reading the
 * containers.conf files in `confs` (in order of precedence; missing or
 * unreadable files are skipped). `*source` names where the path came
 * from ("env", one of `confs`, or "default"): borrowed, valid while
 * `confs` is. Caller owns `*out`; free with free(). Never fails.
 */
void podman_events_file_locate_in(const char *const *confs, size_t nconfs,
                                  char **out, const char **source);

/* As podman_events_file_locate_in() with Podman's two files. */
void podman_events_file_locate(char **out, const char **source);

#endif
