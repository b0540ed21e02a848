/*
 * rmtree.c: removing a folder berth made (rmtree.h).
 */
#include "lib/rmtree.h"

#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>

/* How many descriptors the walk may hold open. */
#define WALK_FDS 32

static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void berth_rmtree(const char *path)
{
	if (path != NULL)
		nftw(path, rm_entry, WALK_FDS,
		     FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}
