/*
 * engine_podman_events_line.c: one line of Podman's event file to one
 * struct berth_engine_event (contract in engine_podman_events_line.h).
 *
 * The mapping mirrors what engine_docker_events.c makes of the same
 * event from Podman's compatible /events stream, checked side by side on
 * Podman 4.3 (create, init, start, pause, unpause, kill, died, stop,
 * cleanup, rename, remove, exec, exec_died, health_status): the stream
 * adds "name", "image", "containerExitCode", "podId" (and "exitCode" on
 * died) to the attributes, which that driver then drops from the
 * labels, so here the labels are the file's Attributes minus the same
 * keys (docker_event_meta_attr). The health state is in the file's
 * "health_status" attribute; the stream has it in "HealthStatus".
 */
#include "lib/engine_podman_events_line.h"

#include "lib/engine_docker_internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Reads exactly `n` digits at *p into *v; advances *p. */
static bool digits(const char **p, int n, int *v)
{
	int x = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return false;
		x = x * 10 + (c - '0');
	}
	*p += n;
	*v = x;
	return true;
}

int podman_event_time_parse(const char *s, int64_t *ns)
{
	struct tm tm;
	const char *p = s;
	int y, mo, d, h, mi, sec, oh, om;
	int64_t frac = 0, secs;
	int nd = 0;
	time_t t;

	if (s == NULL)
		return BERTH_EINVAL;
	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo)
	    || *p++ != '-' || !digits(&p, 2, &d) || (*p != 'T' && *p != 't'))
		return BERTH_EINVAL;
	p++;
	if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi)
	    || *p++ != ':' || !digits(&p, 2, &sec))
		return BERTH_EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59
	    || sec > 60)
		return BERTH_EINVAL;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			if (nd < 9) {
				frac = frac * 10 + (*p - '0');
				nd++;
			}
			p++;
		}
		if (nd == 0)
			return BERTH_EINVAL;
		for (int i = nd; i < 9; i++)
			frac *= 10;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return BERTH_EINVAL;
	secs = (int64_t)t;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;

		p++;
		if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om)
		    || oh > 23 || om > 59)
			return BERTH_EINVAL;
		/* Local time = UTC + offset. */
		secs -= sign * (int64_t)(oh * 3600 + om * 60);
	} else {
		return BERTH_EINVAL;
	}
	if (*p != '\0')
		return BERTH_EINVAL;
	*ns = secs * 1000000000LL + frac;
	return 0;
}

int podman_event_line_parse(const char *line, size_t len, json_t **out,
                            int64_t *time_ns)
{
	json_t *j;
	int64_t t;

	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (len == 0)
		return BERTH_EINVAL;
	j = json_loadb(line, len, 0, NULL);
	if (!json_is_object(j)
	    || podman_event_time_parse(
	           json_string_value(json_object_get(j, "Time")), &t)
	        != 0) {
		json_decref(j);
		return BERTH_EINVAL;
	}
	*out = j;
	*time_ns = t;
	return 0;
}

static const char *str_member(const json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

bool podman_event_is_rotation(const json_t *j)
{
	const char *type = str_member(j, "Type");
	const char *status = str_member(j, "Status");

	return type != NULL && status != NULL && strcmp(type, "system") == 0
	    && strcmp(status, "log-rotation") == 0;
}

bool podman_event_map(struct podman_event *pe, const json_t *j, int64_t time_ns)
{
	const char *type = str_member(j, "Type");
	const char *status = str_member(j, "Status");
	const char *id = str_member(j, "ID");
	json_t *attrs, *v, *code;
	const char *k;
	size_t n = 0;

	if (type == NULL || strcmp(type, "container") != 0 || status == NULL
	    || id == NULL || id[0] == '\0')
		return false;
	memset(&pe->ev, 0, sizeof(pe->ev));
	pe->ev.type = "container";
	pe->ev.id = id;
	pe->ev.name = str_member(j, "Name");
	pe->ev.time_ns = time_ns;

	pe->health[0] = '\0';
	if (strcmp(status, "health_status") == 0) {
		const char *h = str_member(j, "health_status");

		snprintf(pe->action, sizeof(pe->action), "health_status");
		snprintf(pe->health, sizeof(pe->health), "%s",
		         h != NULL ? h : "");
		pe->ev.health_status = pe->health;
	} else if (strcmp(status, "remove") == 0) {
		snprintf(pe->action, sizeof(pe->action), "destroy");
	} else if (strcmp(status, "died") == 0) {
		snprintf(pe->action, sizeof(pe->action), "die");
	} else {
		/* As the stream's driver does: the verb before any ':'. */
		char *colon;

		snprintf(pe->action, sizeof(pe->action), "%s", status);
		colon = strchr(pe->action, ':');
		if (colon != NULL)
			*colon = '\0';
	}
	pe->ev.action = pe->action;

	/* Podman leaves ContainerExitCode out when it is 0; the stream then
	 * says "0". It is set on died and on exec_died. */
	code = json_object_get(j, "ContainerExitCode");
	if (json_is_integer(code))
		pe->ev.exit_code = (int)json_integer_value(code);

	attrs = json_object_get(j, "Attributes");
	if (json_is_object(attrs)) {
		json_object_foreach(attrs, k, v)
		{
			if (n == PODMAN_EVENT_LABELS_MAX)
				break;
			if (docker_event_meta_attr(k) || !json_is_string(v))
				continue;
			berth__v1__key_value__init(&pe->kvs[n]);
			pe->kvs[n].key = (char *)k;
			pe->kvs[n].value = (char *)json_string_value(v);
			pe->kvp[n] = &pe->kvs[n];
			n++;
		}
	}
	pe->ev.labels = pe->kvp;
	pe->ev.nlabels = n;
	return true;
}
