/*
 * rmtree.h: removing a folder berth made, with everything in it.
 */
#ifndef BERTH_LIB_RMTREE_H
#define BERTH_LIB_RMTREE_H

/*
 * Removes `path` and all beneath it, depth first, never following a
 * symlink (the link itself is removed) and never crossing into another
 * mount. Only for folders berth made in places it owns (0700 parents):
 * nothing stops a writer of the tree racing the walk. Best effort: what
 * cannot be removed stays. Accepts NULL.
 */
void berth_rmtree(const char *path);

#endif
