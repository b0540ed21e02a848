/*
 * scratch.h: the runtime's private scratch folder on disk, for what a
 * call must write down for a while (a CloneRepo checkout and its ssh
 * key).
 *
 * Each runtime process gets <data_dir>/scratch/rt-XXXXXX (0700) and
 * holds an exclusive flock on its .lock file for as long as it runs.
 * Opening the scratch area sweeps away every rt-* folder whose lock is
 * free: what a killed runtime left behind (checkouts, key files) is
 * removed when a runtime starts again, while the folders of runtimes
 * still running beside it on the same data folder stay. A lock file is
 * only ever in place already locked; a folder without one is swept
 * only once it is a minute old (its maker died before locking), and
 * anything under rt-* that is not a real folder (a symlink) is left
 * alone and never followed.
 */
#ifndef BERTH_SERVICES_RUNTIME_SCRATCH_H
#define BERTH_SERVICES_RUNTIME_SCRATCH_H

#include "lib/error.h"

struct runtime_scratch;

/*
 * Sweeps <data_dir>/scratch, then makes and locks this process's
 * folder. Caller owns `*out`; free with runtime_scratch_close().
 * Errors: BERTH_EINTERNAL naming the folder that could not be made.
 */
int runtime_scratch_open(struct runtime_scratch **out, const char *data_dir,
                         struct berth_err *err);

/* This process's folder. Borrowed; valid until runtime_scratch_close(). */
const char *runtime_scratch_path(const struct runtime_scratch *s);

/* Removes this process's folder and frees `s`. Accepts NULL. */
void runtime_scratch_close(struct runtime_scratch *s);

#endif
