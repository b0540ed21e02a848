/*
 * health_driver.h: runs containers' health probes where the engine
 * will not run them itself.
 *
 * Docker runs each container's probes inside dockerd. Podman 4 runs
 * them from systemd transient timers, so on a host without systemd (a
 * container host without it, Podman inside a container) a container's
 * health stays "starting" forever and nothing waiting for "healthy"
 * ever ends. There the runtime runs them: a scheduler thread reads the
 * running containers with a health check from the state cache and
 * hands each probe, when it is due, to a small pool of workers that
 * call the engine's health_probe op (engine.h); the engine records the
 * result exactly as its own timer would, start period included.
 *
 * The schedule is the engines' own: the first probe `interval` after
 * the container started, each next one `interval` after the previous
 * ended (Docker and systemd's OnUnitInactiveSec both count from the
 * end); interval and timeout 0 mean 30 s. One probe of a container at
 * a time, at most HEALTH_TICK_MAX handed out per tick and
 * HEALTH_QUEUE_MAX waiting, so a burst of due containers spreads over
 * ticks instead of piling up.
 *
 * The schedule itself (struct health_sched) has no threads, clocks or
 * engine of its own, so it is tested on its own
 * (tests/unit/test_unit_health_driver.c).
 */
#ifndef BERTH_SERVICES_RUNTIME_HEALTH_DRIVER_H
#define BERTH_SERVICES_RUNTIME_HEALTH_DRIVER_H

#include "lib/engine.h"
#include "lib/error.h"
#include "services/runtime/state_cache.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Engine defaults for a health check's zero interval and timeout. */
#define HEALTH_DEFAULT_INTERVAL_MS 30000
#define HEALTH_DEFAULT_TIMEOUT_MS  30000
/* Probes handed to the workers per tick, and waiting for one, at most. */
#define HEALTH_TICK_MAX  16
#define HEALTH_QUEUE_MAX 32
/* Probe workers: probes of different containers run side by side. */
#define HEALTH_WORKERS 4
/* The scheduler looks at the cache at least this often. */
#define HEALTH_TICK_MS 100
/* Containers scheduled at most (the rest wait for a free place). */
#define HEALTH_CONTAINERS_MAX 4096

/* runtime.health_driver (lib/config.h). */
enum health_driver_mode {
	HEALTH_DRIVER_AUTO = 0, /* on for engines whose probes need systemd,
	                           when the host has none */
	HEALTH_DRIVER_ON,       /* whenever the engine has the op */
	HEALTH_DRIVER_OFF,
};

/*
 * Parses "auto", "on" or "off" (NULL or "" = auto) into `*out`.
 * Errors: BERTH_EINVAL naming runtime.health_driver.
 */
int health_driver_mode_parse(enum health_driver_mode *out, const char *s,
                             struct berth_err *err);

/*
 * Whether the runtime should run probes itself: never without the
 * engine's health_probe op (Docker); with it, always for "on", never
 * for "off", and for "auto" when the host has no systemd
 * (`host_has_systemd`: /run/systemd/system exists; Podman's socket is
 * local, so this host's systemd is Podman's).
 */
bool health_driver_wanted(enum health_driver_mode mode,
                          const struct berth_engine_ops *ops,
                          bool host_has_systemd);

/* --- the schedule ------------------------------------------------------ */

struct health_sched;

/* One probe handed out by health_sched_take(). */
struct health_probe_job {
	char *id;           /* full container id */
	char *status;       /* the health status the cache held */
	int64_t timeout_ms; /* the probe's own timeout (never 0) */
};

/* Frees the job's strings. Accepts NULL. */
void health_probe_job_fini(struct health_probe_job *j);

/* An empty schedule. Caller owns the result; free with
 * health_sched_free(). */
struct health_sched *health_sched_new(void);

/* Accepts NULL. */
void health_sched_free(struct health_sched *s);

/*
 * Brings the schedule in line with `v` (`n` running containers with a
 * health check, as the cache has them now). A new container is due
 * `interval` after it started (at once when that has passed; from now
 * when its start time is unknown); one whose start time changed was
 * restarted and starts over; one not in `v` is forgotten (once the
 * probe under way, if any, has ended). Clocks: monotonic and unix ms.
 * `v` is borrowed.
 */
void health_sched_sync(struct health_sched *s,
                       const struct state_cache_health *v, size_t n,
                       int64_t now_mono_ms, int64_t now_unix_ms);

/*
 * Up to `max` containers due at `now_mono_ms` and not being probed,
 * most overdue first, written to `out` and marked busy until
 * health_sched_done(). Returns how many. Caller owns each `out[i]`;
 * free with health_probe_job_fini().
 */
size_t health_sched_take(struct health_sched *s, int64_t now_mono_ms,
                         struct health_probe_job *out, size_t max);

/* The probe of `id` ended at `now_mono_ms`: the next is due an interval
 * later. Unknown ids are ignored. */
void health_sched_done(struct health_sched *s, const char *id,
                       int64_t now_mono_ms);

/* Milliseconds until the earliest container that is due and idle
 * (0 = now), or -1 when there is none. */
int64_t health_sched_next_in(const struct health_sched *s, int64_t now_mono_ms);

/* Containers scheduled (busy ones included). */
size_t health_sched_count(const struct health_sched *s);

/* --- the driver -------------------------------------------------------- */

struct health_driver;
struct berth_runtime;

/*
 * Starts the scheduler and its workers for `rt`'s engine when
 * health_driver_wanted() says so (looking at /run/systemd/system for
 * "auto"); otherwise `*out` is NULL and nothing runs. `rt` and `c` are
 * borrowed and must outlive the driver.
 * Caller owns `*out`; stop and free with health_driver_stop().
 * Errors: BERTH_EINTERNAL (a thread could not start).
 */
int health_driver_start(struct health_driver **out, struct berth_runtime *rt,
                        struct state_cache *c, enum health_driver_mode mode,
                        struct berth_err *err);

/* Stops within about a second (a probe under way is abandoned) and
 * joins every thread. Accepts NULL. */
void health_driver_stop(struct health_driver *d);

#endif
