/*
 * exec_kill.c: kills an exec's process tree through /proc and pidfds
 * (exec_kill.h), since the engine API has no exec kill.
 *
 * Why stop first: a shell that is killed first leaves its children to
 * the container's init, and then nothing tells them from the container's
 * other processes. Stopped, the tree keeps its shape (a stopped process
 * cannot fork), so one more walk finds every child made meanwhile.
 */
#include "services/runtime/exec_kill.h"

#include "lib/alloc.h"
#include "lib/clock.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Walks of /proc after the last new process, before the tree is taken
 * as complete; and the most walks in all. */
#define QUIET_WALKS 2
#define MAX_WALKS   50

/* A member pinned without a pidfd (the kernel or valgrind lacks
 * pidfd_open): signalled by pid. The tree is stopped before it is
 * killed, so its pids cannot be reused in between. */
#define NO_PIDFD (-2)

struct member {
	int pid;
	int fd; /* pidfd, NO_PIDFD, or -1 for the EPERM listing */
};

struct tree {
	struct member *v;
	size_t n, cap;
};

/* A pidfd for `pid`, NO_PIDFD where pidfds do not exist and the
 * process does, or -1 (errno set). */
static int pidfd_open_(int pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (fd < 0 && errno == ENOSYS)
		return kill(pid, 0) == 0 || errno == EPERM ? NO_PIDFD : -1;
	return fd;
}

static int pidfd_signal(int pid, int fd, int sig)
{
	if (fd == NO_PIDFD)
		return kill(pid, sig);
	return (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
}

static void pidfd_close(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* Reads /proc/<pid>/<name> into buf (NUL-terminated); bytes or -1. */
static ssize_t read_proc(const char *proc, int pid, const char *name, char *buf,
                         size_t len)
{
	char path[128];
	ssize_t n, total = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%d/%s", proc, pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while ((size_t)total + 1 < len) {
		n = read(fd, buf + total, len - 1 - (size_t)total);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		total += n;
	}
	close(fd);
	buf[total] = '\0';
	return total;
}

/* Whether the process's cgroups name the container's full id. */
static bool in_container(const char *proc, int pid, const char *cid)
{
	char buf[8192];

	if (read_proc(proc, pid, "cgroup", buf, sizeof(buf)) <= 0)
		return false;
	return strstr(buf, cid) != NULL;
}

/* The parent pid from /proc/<pid>/stat; -1 when unreadable. The command
 * name may hold spaces and parentheses: the fields follow the last ')'. */
static int ppid_of(const char *proc, int pid)
{
	char buf[1024];
	const char *p;
	int ppid = -1;

	if (read_proc(proc, pid, "stat", buf, sizeof(buf)) <= 0)
		return -1;
	p = strrchr(buf, ')');
	if (p == NULL || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return -1;
	return ppid;
}

/* The innermost pid of NSpid in /proc/<pid>/status; 0 when unknown. */
static int nspid_of(const char *proc, int pid)
{
	char buf[4096];
	const char *line, *end, *last = NULL;

	if (read_proc(proc, pid, "status", buf, sizeof(buf)) <= 0)
		return 0;
	line = strstr(buf, "\nNSpid:");
	if (line == NULL)
		return 0;
	line += 7;
	end = strchr(line, '\n');
	if (end == NULL)
		end = line + strlen(line);
	for (const char *p = line; p < end; p++)
		if (isdigit((unsigned char)*p)
		    && (p == line || !isdigit((unsigned char)p[-1])))
			last = p;
	return last != NULL ? (int)strtol(last, NULL, 10) : 0;
}

static bool has(const struct tree *t, int pid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].pid == pid)
			return true;
	return false;
}

static void add(struct tree *t, int pid, int fd)
{
	if (t->n == t->cap) {
		t->cap = t->cap > 0 ? t->cap * 2 : 16;
		t->v = berth_realloc(t->v, t->cap * sizeof(*t->v));
	}
	t->v[t->n].pid = pid;
	t->v[t->n].fd = fd;
	t->n++;
}

static void tree_fini(struct tree *t)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].fd >= 0)
			close(t->v[i].fd);
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}

/*
 * One walk of /proc: every process whose parent is in the tree joins
 * it. With `stop`, each is opened as a pidfd, checked and stopped.
 * Returns how many joined.
 */
static size_t walk(const char *proc, struct tree *t, const char *cid, bool stop)
{
	DIR *d = opendir(proc);
	struct dirent *de;
	size_t added = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && t->n < EXEC_KILL_MAX_PIDS) {
		char *end = NULL;
		long v = strtol(de->d_name, &end, 10);
		int pid, ppid, fd = -1;

		if (!isdigit((unsigned char)de->d_name[0]) || *end != '\0'
		    || v <= 0 || v > 1 << 22)
			continue;
		pid = (int)v;
		if (has(t, pid))
			continue;
		ppid = ppid_of(proc, pid);
		if (ppid <= 0 || !has(t, ppid))
			continue;
		if (stop) {
			fd = pidfd_open_(pid);
			if (fd == -1)
				continue; /* gone meanwhile */
			/* Checked after the pidfd pins the process: the
			 * number now names what fd names, or fd is dead. */
			if (ppid_of(proc, pid) != ppid
			    || !in_container(proc, pid, cid)) {
				pidfd_close(fd);
				continue;
			}
			(void)pidfd_signal(pid, fd, SIGSTOP);
		} else if (!in_container(proc, pid, cid)) {
			continue;
		}
		add(t, pid, fd);
		added++;
	}
	closedir(d);
	return added;
}

/* The in-container pids of the tree under `root`, for the EPERM path. */
static void list_ns_pids(const char *proc, int root, const char *cid,
                         struct exec_kill_ns_pids *ns)
{
	struct tree t = { 0 };
	size_t quiet = 0;

	add(&t, root, -1);
	for (int i = 0; i < MAX_WALKS && quiet < QUIET_WALKS; i++)
		quiet = walk(proc, &t, cid, false) == 0 ? quiet + 1 : 0;
	ns->pids = berth_calloc(t.n, sizeof(int));
	ns->n = 0;
	for (size_t i = 0; i < t.n; i++) {
		int p = nspid_of(proc, t.v[i].pid);

		if (p > 0)
			ns->pids[ns->n++] = p;
	}
	tree_fini(&t);
}

int exec_kill_tree(const char *proc, int pid, const char *container_id,
                   struct exec_kill_ns_pids *ns, struct berth_err *err)
{
	struct tree t = { 0 };
	size_t quiet = 0;
	int fd = -1, rv = 0;

	if (pid <= 0 || container_id == NULL || strlen(container_id) < 12)
		return berth_err_set(err, BERTH_EINVAL,
		                     "exec kill: no process or container id");
	fd = pidfd_open_(pid);
	if (fd == -1 || !in_container(proc, pid, container_id)) {
		rv = berth_err_set(err, BERTH_EUNAVAIL,
		                   "the exec's process (pid %d on the engine "
		                   "host) is not visible to this runtime: it "
		                   "does not run in the engine host's pid "
		                   "namespace",
		                   pid);
		goto out;
	}
	if (pidfd_signal(pid, fd, SIGSTOP) != 0) {
		if (errno == ESRCH)
			goto out; /* ended by itself */
		if (errno == EPERM && ns != NULL) {
			list_ns_pids(proc, pid, container_id, ns);
			rv = berth_err_set(
			    err, BERTH_EPERM,
			    "the runtime may not signal the exec's "
			    "process (pid %d)",
			    pid);
			goto out;
		}
		rv = berth_err_set(err, BERTH_EPERM,
		                   "cannot signal the exec's process (pid %d): "
		                   "%s",
		                   pid, strerror(errno));
		goto out;
	}
	add(&t, pid, fd);
	fd = -1;
	for (int i = 0; i < MAX_WALKS && quiet < QUIET_WALKS; i++) {
		if (walk(proc, &t, container_id, true) == 0) {
			quiet++;
			/* A stop just sent may land after a fork returns:
			 * give it a moment before the next look. */
			berth_sleep_ms(2);
		} else {
			quiet = 0;
		}
	}
	for (size_t i = 0; i < t.n; i++)
		(void)pidfd_signal(t.v[i].pid, t.v[i].fd, SIGKILL);
out:
	pidfd_close(fd);
	tree_fini(&t);
	return rv;
}
