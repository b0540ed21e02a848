/*
 * exec_kill.h: ends an exec's process tree for real.
 *
 * The engine API has no exec kill. When berth's runtime runs on the
 * engine host (it talks to a unix socket there) the exec's pid, as exec
 * inspect reports it, is a pid of the runtime's own pid namespace, and
 * the runtime signals the process itself: the root and every descendant
 * found through /proc are first stopped (SIGSTOP, so none can fork
 * behind the walk), the walk is repeated until it finds nothing new, and
 * then each is sent SIGKILL. Every process is opened as a pidfd before it
 * is checked, and it is signalled only when its /proc/<pid>/cgroup names
 * the container's full id: a pid the kernel reused for another process is
 * never signalled.
 *
 * When the runtime may see the process but not signal it (EPERM: a
 * runtime without the privilege over the engine's processes), the caller
 * is told the pids inside the container (the last NSpid of each) so it
 * can run `kill -KILL <pids>` as a second exec in the container. When
 * the process is not visible at all (the runtime in another pid
 * namespace, or the engine on another host) there is nothing real to
 * do from here: BERTH_EUNAVAIL with a message that says so.
 */
#ifndef BERTH_SERVICES_RUNTIME_EXEC_KILL_H
#define BERTH_SERVICES_RUNTIME_EXEC_KILL_H

#include "lib/error.h"

#include <stddef.h>

/* At most this many processes of one tree are handled. */
#define EXEC_KILL_MAX_PIDS 4096

/*
 * The pids, in the container's pid namespace, of the tree that could not
 * be signalled from here. Caller owns `pids`; free with free().
 */
struct exec_kill_ns_pids {
	int *pids;
	size_t n;
};

/*
 * Kills `pid` (engine host's pid namespace) and all its descendants,
 * each checked to belong to container `container_id` (its full id).
 * `proc` is the procfs mount ("/proc"; tests may point elsewhere).
 * Returns 0 when the tree was killed (or was already gone), or:
 *   BERTH_EUNAVAIL  the pid is not visible here, or it is another
 *                   process than the container's (other pid namespace);
 *   BERTH_EPERM     visible but not signalable: `*ns` (when not NULL)
 *                   receives the in-container pids (caller owns them;
 *                   free ns->pids with free()); assigned only then.
 */
int exec_kill_tree(const char *proc, int pid, const char *container_id,
                   struct exec_kill_ns_pids *ns, struct berth_err *err);

#endif
