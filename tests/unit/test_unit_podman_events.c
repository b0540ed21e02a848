/*
 * test_unit_podman_events.c: the parts of the Podman driver's file event
 * source that need no engine:
 *
 * - lines captured from Podman 4.3's event file on this machine map to
 *   the events the compatible stream gives for the same actions (names,
 *   exit codes, health, labels without the stream's own keys);
 * - Podman's RFC 3339 times, with and without offsets;
 * - the containers.conf scanner and the path's precedence (env, then
 *   /etc, then /usr/share, then the default);
 * - the file follower on a real temporary file: appends, partial lines,
 *   replay from a time, truncation in place, Podman's rotation (new file
 *   renamed over the old one), a file made after the follower started,
 *   an over-long line skipped, and an event over-long for its labels
 *   handed on without them;
 * - the file replaced by a symlink or a FIFO: not followed, no block;
 * - the events op stops promptly while the engine hangs on its info.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/alloc.h"
#include "lib/clock.h"
#include "lib/engine.h"
#include "lib/engine_podman_events_conf.h"
#include "lib/engine_podman_events_file.h"
#include "lib/engine_podman_events_line.h"
#include "tests/support/testsupport.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Captured from /run/libpod/events/events.log (Podman 4.3.1). */
static const char LINE_CREATE[]
    = "{\"ID\":\"c2f62560b3db98b8921cee302cff592496ee1bafe4702173bbea09489"
      "ac02258\",\"Image\":\"docker.io/berth-test/busybox:latest\",\"Name\":"
      "\"lucid_elgamal\",\"Status\":\"create\",\"Time\":\"2026-11-24T01:24:"
      "44.418438988Z\",\"Type\":\"container\",\"Attributes\":{\"berth.test\""
      ":\"pe-probe\",\"x\":\"y\"}}";
static const char LINE_DIED[]
    = "{\"ContainerExitCode\":137,\"ID\":\"c2f62560b3db98b8921cee302cff5924"
      "96ee1bafe4702173bbea09489ac02258\",\"Image\":\"docker.io/berth-test/"
      "busybox:latest\",\"Name\":\"lucid_elgamal\",\"Status\":\"died\",\"Ti"
      "me\":\"2026-11-24T01:24:46.513558024Z\",\"Type\":\"container\",\"Att"
      "ributes\":{\"berth.test\":\"pe-probe\",\"x\":\"y\"}}";
static const char LINE_DIED0[]
    = "{\"ID\":\"b03f2d9863e46806d92cb92bacef7640949e8c9c6cd15889221b91ed72"
      "ca1e3f\",\"Image\":\"docker.io/berth-test/busybox:latest\",\"Name\":"
      "\"instance-demo-31900\",\"Status\":\"died\",\"Time\":\"2026-11-24T01"
      ":20:32.789792417Z\",\"Type\":\"container\",\"Attributes\":{\"berth-t"
      "est\":\"run-13479-1795482872\",\"berth.managed\":\"true\"}}";
static const char LINE_REMOVE[]
    = "{\"ID\":\"c2f62560b3db98b8921cee302cff592496ee1bafe4702173bbea09489"
      "ac02258\",\"Image\":\"docker.io/berth-test/busybox:latest\",\"Name\":"
      "\"peprobe2\",\"Status\":\"remove\",\"Time\":\"2026-11-24T01:24:51.25"
      "2058806Z\",\"Type\":\"container\",\"Attributes\":{\"berth.test\":\"p"
      "e-probe\",\"x\":\"y\"}}";
static const char LINE_HEALTH[]
    = "{\"ID\":\"37e5c60229fd331b08cdd2b7a024b5947a313603f53da554c52aad635"
      "d6539d4\",\"Image\":\"docker.io/berth-test/busybox:latest\",\"Name\":"
      "\"ph-probe-t2\",\"Status\":\"health_status\",\"Time\":\"2026-11-24T0"
      "1:24:54.815302228Z\",\"Type\":\"container\",\"health_status\":\"unhe"
      "althy\",\"Attributes\":{\"berth.test\":\"podhealth-manual\"}}";
static const char LINE_EXEC_DIED[]
    = "{\"ContainerExitCode\":3,\"ID\":\"37e5c60229fd331b08cdd2b7a024b5947a"
      "313603f53da554c52aad635d6539d4\",\"Image\":\"docker.io/berth-test/bu"
      "sybox:latest\",\"Name\":\"ph-probe-t2\",\"Status\":\"exec_died\",\"T"
      "ime\":\"2026-11-24T01:24:54.386340909Z\",\"Type\":\"container\",\"At"
      "tributes\":{\"berth.test\":\"podhealth-manual\"}}";
static const char LINE_ROTATION[]
    = "{\"Name\":\"/run/libpod/events/events.log\",\"Status\":\"log-rotati"
      "on\",\"Time\":\"2026-11-24T01:10:36.196683743Z\",\"Type\":\"system\""
      ",\"Attributes\":null}";
static const char LINE_IMAGE[]
    = "{\"ID\":\"5c3a\",\"Name\":\"berth-test/busybox:latest\",\"Status\":"
      "\"pull\",\"Time\":\"2026-11-24T01:00:00Z\",\"Type\":\"image\",\"Attr"
      "ibutes\":null}";

/* The label `k` of an event, or NULL. */
static const char *label(const struct berth_engine_event *ev, const char *k)
{
	for (size_t i = 0; i < ev->nlabels; i++)
		if (strcmp(ev->labels[i]->key, k) == 0)
			return ev->labels[i]->value;
	return NULL;
}

static void test_map_captured_lines(void **state)
{
	json_t *j = NULL;
	int64_t t = 0;
	struct podman_event *pe = berth_malloc(sizeof(*pe));

	(void)state;
	/* create: name, time, labels. */
	assert_int_equal(
	    podman_event_line_parse(LINE_CREATE, strlen(LINE_CREATE), &j, &t),
	    0);
	assert_true(podman_event_map(pe, j, t));
	assert_string_equal(pe->ev.type, "container");
	assert_string_equal(pe->ev.action, "create");
	assert_string_equal(pe->ev.id,
	                    "c2f62560b3db98b8921cee302cff592496ee1b"
	                    "afe4702173bbea09489ac02258");
	assert_string_equal(pe->ev.name, "lucid_elgamal");
	assert_int_equal(pe->ev.time_ns, 1795483484418438988LL);
	assert_int_equal(pe->ev.exit_code, 0);
	assert_null(pe->ev.health_status);
	assert_int_equal(pe->ev.nlabels, 2);
	assert_string_equal(label(&pe->ev, "berth.test"), "pe-probe");
	assert_string_equal(label(&pe->ev, "x"), "y");
	json_decref(j);

	/* died -> die with the exit code; absent code is 0. */
	assert_int_equal(
	    podman_event_line_parse(LINE_DIED, strlen(LINE_DIED), &j, &t), 0);
	assert_true(podman_event_map(pe, j, t));
	assert_string_equal(pe->ev.action, "die");
	assert_int_equal(pe->ev.exit_code, 137);
	json_decref(j);
	assert_int_equal(
	    podman_event_line_parse(LINE_DIED0, strlen(LINE_DIED0), &j, &t), 0);
	assert_true(podman_event_map(pe, j, t));
	assert_string_equal(pe->ev.action, "die");
	assert_int_equal(pe->ev.exit_code, 0);
	assert_string_equal(label(&pe->ev, "berth.managed"), "true");
	json_decref(j);

	/* remove -> destroy, under the name it had then. */
	assert_int_equal(
	    podman_event_line_parse(LINE_REMOVE, strlen(LINE_REMOVE), &j, &t),
	    0);
	assert_true(podman_event_map(pe, j, t));
	assert_string_equal(pe->ev.action, "destroy");
	assert_string_equal(pe->ev.name, "peprobe2");
	json_decref(j);

	/* health_status with its state. */
	assert_int_equal(
	    podman_event_line_parse(LINE_HEALTH, strlen(LINE_HEALTH), &j, &t),
	    0);
	assert_true(podman_event_map(pe, j, t));
	assert_string_equal(pe->ev.action, "health_status");
	assert_string_equal(pe->ev.health_status, "unhealthy");
	assert_int_equal(pe->ev.nlabels, 1);
	json_decref(j);

	/* exec_died passes through with the exec's code (as the stream's
	 * containerExitCode gives it). */
	assert_int_equal(podman_event_line_parse(
	                     LINE_EXEC_DIED, strlen(LINE_EXEC_DIED), &j, &t),
	                 0);
	assert_true(podman_event_map(pe, j, t));
	assert_string_equal(pe->ev.action, "exec_died");
	assert_int_equal(pe->ev.exit_code, 3);
	json_decref(j);

	/* Not container events: nothing to deliver. */
	assert_int_equal(podman_event_line_parse(LINE_ROTATION,
	                                         strlen(LINE_ROTATION), &j, &t),
	                 0);
	assert_true(podman_event_is_rotation(j));
	assert_false(podman_event_map(pe, j, t));
	json_decref(j);
	assert_int_equal(
	    podman_event_line_parse(LINE_IMAGE, strlen(LINE_IMAGE), &j, &t), 0);
	assert_false(podman_event_is_rotation(j));
	assert_false(podman_event_map(pe, j, t));
	json_decref(j);
	free(pe);
}

static void test_map_edges(void **state)
{
	static const char meta[]
	    = "{\"ID\":\"abc\",\"Name\":\"n\",\"Status\":\"attach: x\",\"Time\""
	      ":\"2026-01-01T00:00:00Z\",\"Type\":\"container\",\"Attributes\":"
	      "{\"name\":\"spoof\",\"image\":\"i\",\"podId\":\"p\",\"app\":\"we"
	      "b\",\"num\":5}}";
	static const char crlf[] = "{\"Time\":\"2026-01-01T00:00:00Z\"} \r";
	static const char noid[]
	    = "{\"Type\":\"container\",\"Status\":\"start\",\"Time\":"
	      "\"2026-01-01T00:00:00Z\"}";
	struct podman_event *pe;
	json_t *j = NULL;
	int64_t t = 0;

	(void)state;
	assert_int_equal(podman_event_line_parse(meta, strlen(meta), &j, &t),
	                 0);
	pe = berth_malloc(sizeof(*pe));
	assert_true(podman_event_map(pe, j, t));
	/* The stream's own keys and non-strings are not labels. */
	assert_int_equal(pe->ev.nlabels, 1);
	assert_string_equal(label(&pe->ev, "app"), "web");
	assert_string_equal(pe->ev.name, "n");
	assert_string_equal(pe->ev.action, "attach");
	json_decref(j);
	free(pe);

	/* Unreadable lines are refused, out-params untouched. */
	j = NULL;
	t = 42;
	assert_int_equal(podman_event_line_parse("{nope", 5, &j, &t),
	                 BERTH_EINVAL);
	assert_int_equal(podman_event_line_parse("[1]", 3, &j, &t),
	                 BERTH_EINVAL);
	assert_int_equal(
	    podman_event_line_parse("{\"Time\":\"x\"}", 12, &j, &t),
	    BERTH_EINVAL);
	assert_int_equal(podman_event_line_parse("", 0, &j, &t), BERTH_EINVAL);
	assert_null(j);
	assert_int_equal(t, 42);
	/* Trailing CR and spaces are fine. */
	assert_int_equal(podman_event_line_parse(crlf, strlen(crlf), &j, &t),
	                 0);
	json_decref(j);
	/* No ID: not deliverable. */
	assert_int_equal(podman_event_line_parse(noid, strlen(noid), &j, &t),
	                 0);
	pe = berth_malloc(sizeof(*pe));
	assert_false(podman_event_map(pe, j, t));
	json_decref(j);
	free(pe);
}

static void test_time_parse(void **state)
{
	int64_t ns = 7;

	(void)state;
	assert_int_equal(podman_event_time_parse("1970-01-01T00:00:00Z", &ns),
	                 0);
	assert_int_equal(ns, 0);
	assert_int_equal(
	    podman_event_time_parse("2026-11-24T01:24:48.0587942Z", &ns), 0);
	assert_int_equal(ns, 1795483488058794200LL);
	assert_int_equal(
	    podman_event_time_parse("2026-11-24T02:24:48.0587942+01:00", &ns),
	    0);
	assert_int_equal(ns, 1795483488058794200LL);
	assert_int_equal(
	    podman_event_time_parse("2026-11-23T20:54:48.5-04:30", &ns), 0);
	assert_int_equal(ns, 1795483488500000000LL);
	/* More than 9 digits: cut to ns. */
	assert_int_equal(
	    podman_event_time_parse("1970-01-01T00:00:01.1234567891Z", &ns), 0);
	assert_int_equal(ns, 1123456789LL);
	ns = 7;
	assert_int_equal(podman_event_time_parse("2026-11-24 01:24:48Z", &ns),
	                 BERTH_EINVAL);
	assert_int_equal(podman_event_time_parse("2026-11-24T01:24:48", &ns),
	                 BERTH_EINVAL);
	assert_int_equal(podman_event_time_parse("2026-13-24T01:24:48Z", &ns),
	                 BERTH_EINVAL);
	assert_int_equal(podman_event_time_parse("2026-11-24T01:24:48.Z", &ns),
	                 BERTH_EINVAL);
	assert_int_equal(podman_event_time_parse("2026-11-24T01:24:48Zx", &ns),
	                 BERTH_EINVAL);
	assert_int_equal(podman_event_time_parse(NULL, &ns), BERTH_EINVAL);
	assert_int_equal(ns, 7);
}

static int conf(const char *text, char **out)
{
	return podman_conf_events_path(text, strlen(text), out);
}

static void test_conf_scanner(void **state)
{
	char *p = NULL;

	(void)state;
	assert_int_equal(
	    conf("[engine]\nevents_logfile_path = \"/a/b.log\"\n", &p), 0);
	assert_string_equal(p, "/a/b.log");
	free(p);
	/* Spaces, a comment, a literal string, CRLF, other keys around. */
	assert_int_equal(
	    conf("# x\n[containers]\nevents_logfile_path=\"/no\"\n"
	         "  [ engine ]  \r\nevents_logger = \"file\"\r\n"
	         "\tevents_logfile_path\t=\t'/c/d e.log' # here\r\n",
	         &p),
	    0);
	assert_string_equal(p, "/c/d e.log");
	free(p);
	assert_int_equal(
	    conf("[engine]\nevents_logfile_path=\"/x\\\\y\\\"z\"", &p), 0);
	assert_string_equal(p, "/x\\y\"z");
	free(p);
	p = NULL;
	/* Podman's shipped file: commented out. */
	assert_int_equal(conf("[engine]\n#events_logfile_path=\"\"\n", &p),
	                 BERTH_ENOTFOUND);
	/* Another table, or a sub-table of engine. */
	assert_int_equal(conf("[containers]\nevents_logfile_path=\"/x\"\n", &p),
	                 BERTH_ENOTFOUND);
	assert_int_equal(conf("[engine]\n[engine.service_destinations]\n"
	                      "events_logfile_path=\"/x\"\n",
	                      &p),
	                 BERTH_ENOTFOUND);
	/* Empty or relative: Podman's default then. */
	assert_int_equal(conf("[engine]\nevents_logfile_path=\"\"\n", &p),
	                 BERTH_ENOTFOUND);
	assert_int_equal(
	    conf("[engine]\nevents_logfile_path=\"rel.log\"\n", &p),
	    BERTH_ENOTFOUND);
	/* A longer key is another key. */
	assert_int_equal(conf("[engine]\nevents_logfile_path_x=\"/x\"\n", &p),
	                 BERTH_ENOTFOUND);
	/* Not a one-line string. */
	assert_int_equal(conf("[engine]\nevents_logfile_path=\"/x\n", &p),
	                 BERTH_EINVAL);
	assert_int_equal(conf("[engine]\nevents_logfile_path=/x\n", &p),
	                 BERTH_EINVAL);
	assert_int_equal(
	    conf("[engine]\nevents_logfile_path=\"\"\"/x\"\"\"\n", &p),
	    BERTH_EINVAL);
	assert_int_equal(
	    conf("[engine]\nevents_logfile_path=\"/x\" junk\n", &p),
	    BERTH_EINVAL);
	assert_null(p);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_conf_locate(void **state)
{
	char *dir = ts_tmpdir("podev-conf");
	char *etc = berth_asprintf("%s/etc.conf", dir);
	char *usr = berth_asprintf("%s/usr.conf", dir);
	char *missing = berth_asprintf("%s/none.conf", dir);
	const char *confs[] = { missing, etc, usr };
	const char *src = NULL;
	char *p = NULL;

	(void)state;
	unsetenv(PODMAN_EVENTS_FILE_ENV);
	podman_events_file_locate_in(confs, 3, &p, &src);
	assert_string_equal(p, PODMAN_EVENTS_FILE_DEFAULT);
	assert_string_equal(src, "default");
	free(p);

	write_file(usr, "[engine]\nevents_logfile_path=\"/usr.log\"\n");
	podman_events_file_locate_in(confs, 3, &p, &src);
	assert_string_equal(p, "/usr.log");
	assert_string_equal(src, usr);
	free(p);

	/* /etc without the key leaves /usr/share's; with it, it wins. */
	write_file(etc, "[containers]\ndefault_ulimits = []\n");
	podman_events_file_locate_in(confs, 3, &p, &src);
	assert_string_equal(p, "/usr.log");
	free(p);
	write_file(etc, "[engine]\nevents_logfile_path=\"/etc.log\"\n");
	podman_events_file_locate_in(confs, 3, &p, &src);
	assert_string_equal(p, "/etc.log");
	assert_string_equal(src, etc);
	free(p);

	setenv(PODMAN_EVENTS_FILE_ENV, "/env.log", 1);
	podman_events_file_locate_in(confs, 3, &p, &src);
	assert_string_equal(p, "/env.log");
	assert_string_equal(src, "env");
	free(p);
	unsetenv(PODMAN_EVENTS_FILE_ENV);

	ts_rmtree(dir);
	free(dir);
	free(etc);
	free(usr);
	free(missing);
}

/* --- the file follower ------------------------------------------------ */

/* What a read handed on: "action@seconds" per container event. */
struct seen {
	char got[4096];
	int n;
};

static int collect(void *arg, const json_t *j, int64_t time_ns)
{
	struct seen *s = arg;
	struct podman_event *pe = berth_malloc(sizeof(*pe));
	size_t len = strlen(s->got);

	if (podman_event_map(pe, j, time_ns)) {
		snprintf(s->got + len, sizeof(s->got) - len, "%s%s@%lld",
		         len > 0 ? " " : "", pe->ev.action,
		         (long long)(time_ns / 1000000000LL));
		s->n++;
	}
	free(pe);
	return 0;
}

/* A container event line at unix second `sec`, with a newline. */
static char *ev_line(const char *status, int sec)
{
	return berth_asprintf(
	    "{\"ID\":\"aaaa\",\"Name\":\"t\",\"Status\":\"%s\",\"Time\":"
	    "\"1970-01-01T00:00:%02d.5Z\",\"Type\":\"container\","
	    "\"Attributes\":{\"berth.test\":\"u\"}}\n",
	    status, sec);
}

static void append(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void append_ev(const char *path, const char *status, int sec)
{
	char *l = ev_line(status, sec);

	append(path, l);
	free(l);
}

static const char *read_all(struct podman_evfile *f, struct seen *s)
{
	struct berth_err err;

	memset(s, 0, sizeof(*s));
	berth_err_clear(&err);
	assert_int_equal(podman_evfile_read(f, collect, s, &err), 0);
	return s->got;
}

static void test_file_follow(void **state)
{
	char *dir = ts_tmpdir("podev-file");
	char *path = berth_asprintf("%s/events.log", dir);
	struct podman_evfile *f = NULL;
	struct berth_err err;
	struct seen s;
	char *half;
	size_t hl;

	(void)state;
	berth_err_clear(&err);
	append_ev(path, "create", 1);
	append_ev(path, "start", 2);

	/* From now: what is there is not handed on. */
	assert_int_equal(podman_evfile_open(&f, path, 0, &err), 0);
	assert_true(podman_evfile_has_inotify(f));
	assert_string_equal(read_all(f, &s), "");
	assert_false(podman_evfile_wait(f, 10));
	append_ev(path, "died", 3);
	assert_true(podman_evfile_wait(f, 1000));
	assert_string_equal(read_all(f, &s), "die@3");

	/* A partial line waits for its end. */
	half = ev_line("remove", 4);
	hl = strlen(half);
	{
		char *first = berth_strndup(half, hl / 2);

		append(path, first);
		free(first);
	}
	assert_string_equal(read_all(f, &s), "");
	append(path, half + hl / 2);
	assert_string_equal(read_all(f, &s), "destroy@4");
	free(half);

	/* Truncated in place, then written again: only the new lines. */
	assert_int_equal(truncate(path, 0), 0);
	append_ev(path, "create", 5);
	assert_string_equal(read_all(f, &s), "create@5");

	/* Podman's rotation: the newer half, its rotation event, then new
	 * lines, renamed over the old file. */
	append_ev(path, "start", 6);
	append_ev(path, "died", 7);
	assert_string_equal(read_all(f, &s), "start@6 die@7");
	{
		char *tmp = berth_asprintf("%s/rot.tmp", dir);
		char *a = ev_line("start", 6), *b = ev_line("died", 7);
		char *text = berth_asprintf(
		    "%s%s{\"Name\":\"%s\",\"Status\":\"log-rotation\",\"Time\":"
		    "\"1970-01-01T00:00:08Z\",\"Type\":\"system\","
		    "\"Attributes\""
		    ":null}\n",
		    a, b, path);

		write_file(tmp, text);
		append_ev(tmp, "remove", 9);
		assert_int_equal(rename(tmp, path), 0);
		assert_true(podman_evfile_wait(f, 1000));
		assert_string_equal(read_all(f, &s), "destroy@9");
		free(tmp);
		free(a);
		free(b);
		free(text);
	}
	/* Lines appended to the new file are read from there. */
	append_ev(path, "create", 10);
	assert_string_equal(read_all(f, &s), "create@10");

	/* Replaced by a file without the old lines nor a rotation event:
	 * newer lines only. */
	{
		char *tmp = berth_asprintf("%s/other.tmp", dir);
		char *a = ev_line("start", 3), *b = ev_line("start", 11);
		char *text = berth_asprintf("%s%s", a, b);

		write_file(tmp, text);
		assert_int_equal(rename(tmp, path), 0);
		assert_string_equal(read_all(f, &s), "start@11");
		free(tmp);
		free(a);
		free(b);
		free(text);
	}

	/* An over-long line that is not an event is skipped, the next one
	 * read. */
	{
		size_t n = PODMAN_EVENT_LINE_MAX + 100;
		char *big = berth_malloc(n + 2);

		memset(big, 'x', n);
		big[n] = '\n';
		big[n + 1] = '\0';
		append(path, big);
		free(big);
		append_ev(path, "stop", 12);
		assert_string_equal(read_all(f, &s), "stop@12");
	}
	/* An event over-long for its labels is handed on without them
	 * (Attributes come last), not dropped; the next one is read. */
	{
		size_t n = PODMAN_EVENT_LINE_MAX + 100;
		struct berth_buf big;

		berth_buf_init(&big, 2 * n);
		berth_buf_puts(&big,
		               "{\"ID\":\"aaaa\",\"Name\":\"t\",\"Status\":"
		               "\"start\",\"Time\":\"1970-01-01T00:00:12.7Z\","
		               "\"Type\":\"container\",\"Attributes\":{\"big\":"
		               "\"");
		for (size_t i = 0; i < n; i++)
			berth_buf_append(&big, "y", 1);
		berth_buf_puts(&big, "\"}}\n");
		append(path, big.data);
		berth_buf_fini(&big);
		append_ev(path, "died", 13);
		assert_string_equal(read_all(f, &s), "start@12 die@13");
	}
	podman_evfile_free(f);
	f = NULL;

	/* Replay from a time: lines at or after it, then new ones. */
	assert_int_equal(podman_evfile_open(&f, path, 11000, &err), 0);
	assert_string_equal(read_all(f, &s),
	                    "start@11 stop@12 start@12 die@13");
	append_ev(path, "remove", 13);
	assert_string_equal(read_all(f, &s), "destroy@13");
	podman_evfile_free(f);
	f = NULL;

	/* A file made after the follower started is read whole. */
	unlink(path);
	assert_int_equal(podman_evfile_open(&f, path, 0, &err), 0);
	assert_string_equal(read_all(f, &s), "");
	append_ev(path, "create", 14);
	append_ev(path, "start", 15);
	assert_true(podman_evfile_wait(f, 1000));
	assert_string_equal(read_all(f, &s), "create@14 start@15");
	podman_evfile_free(f);
	podman_evfile_free(NULL);

	/* No folder: refused, so the driver can use the stream. */
	{
		char *nodir = berth_asprintf("%s/none/events.log", dir);

		f = NULL;
		assert_int_equal(podman_evfile_open(&f, nodir, 0, &err),
		                 BERTH_ENOTFOUND);
		assert_null(f);
		free(nodir);
	}
	/* A folder in the file's place: not a regular file. */
	{
		char *sub = berth_asprintf("%s/sub", dir);
		char *subf = berth_asprintf("%s/sub/x", dir);

		assert_int_equal(mkdir(sub, 0700), 0);
		assert_int_equal(mkdir(subf, 0700), 0);
		assert_int_equal(podman_evfile_open(&f, subf, 0, &err),
		                 BERTH_EINVAL);
		free(sub);
		free(subf);
	}
	ts_rmtree(dir);
	free(dir);
	free(path);
}

/*
 * The event file replaced by a symlink (to a file full of events) or by
 * a FIFO: the follower never reads through the link nor blocks on the
 * FIFO; the read fails (the driver then falls back to the stream), and
 * so does a fresh open.
 */
static void test_file_not_followed(void **state)
{
	char *dir = ts_tmpdir("podev-link");
	char *path = berth_asprintf("%s/events.log", dir);
	char *other = berth_asprintf("%s/elsewhere.log", dir);
	char *tmp = berth_asprintf("%s/link.tmp", dir);
	struct podman_evfile *f = NULL;
	struct berth_err err;
	struct seen s;
	int64_t t0;

	(void)state;
	berth_err_clear(&err);
	append_ev(path, "create", 1);
	assert_int_equal(podman_evfile_open(&f, path, 0, &err), 0);
	append_ev(path, "start", 2);
	assert_string_equal(read_all(f, &s), "start@2");

	/* A symlink renamed over the file, to a file with newer events. */
	append_ev(other, "died", 3);
	append_ev(other, "remove", 4);
	assert_int_equal(symlink(other, tmp), 0);
	assert_int_equal(rename(tmp, path), 0);
	memset(&s, 0, sizeof(s));
	berth_err_clear(&err);
	assert_int_equal(podman_evfile_read(f, collect, &s, &err),
	                 BERTH_EUNAVAIL);
	assert_string_equal(s.got, "");
	podman_evfile_free(f);
	f = NULL;
	assert_int_equal(podman_evfile_open(&f, path, 1, &err), BERTH_EINVAL);
	assert_null(f);

	/* A FIFO in its place: refused at once, never waited on. */
	assert_int_equal(unlink(path), 0);
	append_ev(path, "create", 5);
	assert_int_equal(podman_evfile_open(&f, path, 0, &err), 0);
	assert_int_equal(mkfifo(tmp, 0600), 0);
	assert_int_equal(rename(tmp, path), 0);
	t0 = berth_clock_mono_ms();
	memset(&s, 0, sizeof(s));
	assert_int_equal(podman_evfile_read(f, collect, &s, &err),
	                 BERTH_EUNAVAIL);
	assert_true(berth_clock_mono_ms() - t0 < 1000);
	podman_evfile_free(f);
	f = NULL;
	t0 = berth_clock_mono_ms();
	assert_int_equal(podman_evfile_open(&f, path, 0, &err), BERTH_EINVAL);
	assert_true(berth_clock_mono_ms() - t0 < 1000);
	assert_null(f);

	ts_rmtree(dir);
	free(tmp);
	free(other);
	free(path);
	free(dir);
}

struct stop_after {
	int64_t stop_at; /* monotonic ms */
	int ticks;
};

static int no_event(void *arg, const struct berth_engine_event *ev)
{
	(void)arg;
	(void)ev;
	return 0;
}

static int stop_tick(void *arg)
{
	struct stop_after *sa = arg;

	sa->ticks++;
	return berth_clock_mono_ms() >= sa->stop_at ? 1 : 0;
}

/*
 * The events op returns promptly when its caller says stop, even while
 * the engine sits on the watcher's GET /libpod/info: here a real unix
 * socket that is listened on but never answered (a hung engine), so the
 * info call would only end at its own 5 s timeout.
 */
static void test_events_stop_prompt(void **state)
{
	char *dir = ts_tmpdir("podev-stop");
	char *path = berth_asprintf("%s/events.log", dir);
	char *sock = berth_asprintf("%s/engine.sock", dir);
	struct berth_engine_config cfg = { .runtime = "podman" };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct berth_engine *e = NULL;
	struct stop_after st;
	struct berth_err err;
	int64_t t0, took;
	int lfd, rv;

	(void)state;
	berth_err_clear(&err);
	append_ev(path, "create", 1);
	assert_true(strlen(sock) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 16), 0);
	cfg.socket_path = sock;
	assert_ok(berth_engine_open(&e, &cfg, &err), &err);
	assert_int_equal(setenv(PODMAN_EVENTS_FILE_ENV, path, 1), 0);

	t0 = berth_clock_mono_ms();
	st.stop_at = t0 + 300;
	st.ticks = 0;
	rv = berth_engine_ops(e)->events(e, 0, no_event, stop_tick, &st, &err);
	took = berth_clock_mono_ms() - t0;
	assert_int_equal(rv, BERTH_ECANCELLED);
	assert_true(st.ticks >= 1);
	if (took >= 2000)
		fail_msg("the events op took %lld ms to stop", (long long)took);

	unsetenv(PODMAN_EVENTS_FILE_ENV);
	berth_engine_free(e);
	close(lfd);
	ts_rmtree(dir);
	free(sock);
	free(path);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_captured_lines),
		cmocka_unit_test(test_map_edges),
		cmocka_unit_test(test_time_parse),
		cmocka_unit_test(test_conf_scanner),
		cmocka_unit_test(test_conf_locate),
		cmocka_unit_test(test_file_follow),
		cmocka_unit_test(test_file_not_followed),
		cmocka_unit_test(test_events_stop_prompt),
	};

	return cmocka_run_group_tests_name("podman_events", tests, NULL, NULL);
}
