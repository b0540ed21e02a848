/*
 * state_cache.h: the runtime's in-memory copy of the engine's
 * containers (summary + detail of each), fed by the engine's event
 * stream (event_follower.c) and by the runtime's own changes, so that
 * ListContainers and InspectContainer do not call the engine.
 *
 * The cache is "in sync" only while the event stream is followed and
 * the last list-and-diff resync has completed; readers ask the engine
 * otherwise. Every function is thread-safe; none calls the engine, so
 * no lock is ever held across an engine call.
 *
 * Puts are ordered by a ticket taken (state_cache_ticket()) before the
 * engine was asked: an answer that started earlier than the one already
 * stored (or than the removal of the container) is ignored, so a slow
 * inspect cannot bring back an old state.
 *
 * The cache also remembers, for a while, the exit of containers that
 * died (and whether they are gone): a wait that arrives after a
 * remove_on_exit container was removed still learns its exit code.
 */
#ifndef BERTH_SERVICES_RUNTIME_STATE_CACHE_H
#define BERTH_SERVICES_RUNTIME_STATE_CACHE_H

#include "berth/v1/runtime.pb-c.h"
#include "lib/engine.h"
#include "lib/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct state_cache;
struct berth_runtime;

/* How long the exit of a container is remembered. */
#define STATE_CACHE_EXIT_TTL_MS (10 * 60 * 1000)
/* Exits remembered at most (oldest forgotten first). */
#define STATE_CACHE_EXITS_MAX 4096

/* A new, empty, out-of-sync cache. Caller owns the result; free with
 * state_cache_free(). */
struct state_cache *state_cache_new(void);

/* Accepts NULL. */
void state_cache_free(struct state_cache *c);

/* A ticket to take just before asking the engine about a container. */
uint64_t state_cache_ticket(struct state_cache *c);

/* Whether reads may be served from memory. */
bool state_cache_in_sync(struct state_cache *c);

/* Marks the cache out of sync (event stream lost). */
void state_cache_lost(struct state_cache *c);

/*
 * Stores `d` (its summary's id is the key), replacing an older entry.
 * Takes ownership of `d` (freed at once when the ticket is stale).
 */
void state_cache_put(struct state_cache *c, uint64_t ticket,
                     Berth__V1__ContainerDetail *d);

/*
 * Applies what an engine event says by itself (state, exit code, health,
 * and a minimal entry for a create) at once, before the container is
 * inspected: readers see the change without waiting for that round
 * trip. Returns true when the container should be inspected for the
 * rest (always, except for events that change nothing).
 */
bool state_cache_patch(struct state_cache *c, uint64_t ticket,
                       const struct berth_engine_event *ev);

/* Forgets container `id` (full id): it was removed. */
void state_cache_drop(struct state_cache *c, uint64_t ticket, const char *id);

/*
 * Resync: the engine's complete set of containers, listed (or
 * inspected) after `ticket` was taken. Entries not in `ds` are dropped,
 * the others replaced; the cache is in sync afterwards. With `partial`
 * the messages hold only their summary (from a list): inspect then
 * asks the engine for those until each is stored in full. Takes
 * ownership of the `n` messages and of the array.
 */
void state_cache_replace_all(struct state_cache *c, uint64_t ticket,
                             Berth__V1__ContainerDetail **ds, size_t n,
                             bool partial);

/*
 * The containers matching `f` (all, labels, name, state, berth_only,
 * with the engine's semantics), newest first.
 * Caller owns `*out`; free with protobuf_c_message_free_unpacked().
 * Returns false (and leaves `*out`) when the cache is out of sync.
 */
bool state_cache_list(struct state_cache *c,
                      const Berth__V1__ListContainersRequest *f,
                      Berth__V1__ListContainersReply **out);

/* Receives a borrowed list reply; it must pack or copy what it needs
 * before it returns (an RPC closure does). */
typedef void (*state_cache_reply_fn)(void *arg,
                                     const Berth__V1__ListContainersReply *r);

/*
 * As state_cache_list(), without copying: the reply handed to `fn`
 * borrows the cached summaries and is valid only during the call, made
 * under the cache's lock (so `fn` must not call into the cache). This
 * is the list RPC's path: 200 containers cost one pack, not 200 deep
 * copies. Returns false (`fn` not called) when out of sync.
 */
bool state_cache_list_borrowed(struct state_cache *c,
                               const Berth__V1__ListContainersRequest *f,
                               state_cache_reply_fn fn, void *arg);

/*
 * The detail of `ref` (full id, name, or unique id prefix).
 * Caller owns `*out`; free with protobuf_c_message_free_unpacked().
 * Returns false when out of sync, not cached, or known only by its
 * summary so far (ask the engine then).
 */
bool state_cache_inspect(struct state_cache *c, const char *ref,
                         Berth__V1__ContainerDetail **out);

/* Records the exit of container `id` (`name` may be NULL). */
void state_cache_note_exit(struct state_cache *c, const char *id,
                           const char *name, int exit_code, bool oom_killed);

/*
 * The remembered exit of `ref` (id, id prefix or name): returns true
 * with `*exit_code` and `*oom_killed` set when its exit code was seen.
 * `*removed` is set whenever `ref` is remembered at all, so a caller
 * can tell "removed, code unknown" (false, removed) from "not known".
 */
bool state_cache_last_exit(struct state_cache *c, const char *ref,
                           int *exit_code, bool *oom_killed, bool *removed);

/*
 * Docker's human status text for a detail ("Up 3 seconds", "Exited (0)
 * 2 minutes ago", "Created") at unix time `now_ms`, written to `out`.
 */
void state_cache_status_text(const Berth__V1__ContainerDetail *d,
                             int64_t now_ms, char *out, size_t len);

/* A running container with a health check: what the health driver
 * (health_driver.c) needs to schedule its probes. */
struct state_cache_health {
	char *id;            /* full id */
	char *started_at;    /* RFC 3339 as the engine reports it; "" unknown */
	char *status;        /* health_status: "starting", "healthy", ... */
	int64_t interval_ms; /* 0 = the engine's default (30 s) */
	int64_t timeout_ms;  /* 0 = the engine's default (30 s) */
	int64_t start_period_ms;
};

/*
 * The cached containers that berth made (label berth.managed=true),
 * are running and have a health check (a test other than ["NONE"]),
 * at most `max` of them. Containers made behind berth's back are left
 * to their owner. Answers from
 * what is cached even while out of sync: a stale entry costs one probe
 * the engine refuses. `*n` receives the count.
 * Caller owns `*out`; free with state_cache_health_free().
 */
void state_cache_health_checked(struct state_cache *c, size_t max,
                                struct state_cache_health **out, size_t *n);

/* Frees what state_cache_health_checked() gave. Accepts NULL. */
void state_cache_health_free(struct state_cache_health *v, size_t n);

/* The runtime's cache (service.c). Borrowed; valid until the runtime
 * stops. */
struct state_cache *runtime_cache(struct berth_runtime *rt);

/*
 * Inspects `id` at the engine and stores the answer (or drops the entry
 * when the engine no longer knows it). For the runtime's own changes
 * (create, start, stop, remove) so that a read right after sees them.
 * Errors are not reported: the event stream corrects the cache.
 */
void runtime_cache_refresh(struct berth_runtime *rt, const char *id);

/* Whether the runtime is shutting down (service.c): long waits give up. */
bool runtime_is_closing(struct berth_runtime *rt);

/* --- the follower (event_follower.c) ------------------------------- */

struct event_follower;
struct events_pub;

/*
 * Starts the thread that keeps `c` in sync with the runtime's engine:
 * resync by list-and-inspect, then follow the event stream, refreshing
 * one entry per event and publishing each event on `pub`; when the
 * stream breaks, the cache is out of sync until the next resync, which
 * is retried with backoff (100 ms doubling to 2 s). `rt`, `c` and `pub`
 * are borrowed and must outlive the follower.
 * Caller owns `*out`; stop and free with event_follower_stop().
 */
int event_follower_start(struct event_follower **out, struct berth_runtime *rt,
                         struct state_cache *c, struct events_pub *pub,
                         struct berth_err *err);

/* Stops (within about a second) and joins the thread. Accepts NULL. */
void event_follower_stop(struct event_follower *f);

#endif
