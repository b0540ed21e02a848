/*
 * state_cache.c: the runtime's in-memory container table (state_cache.h).
 *
 * A flat array under one mutex: a runtime holds hundreds of containers,
 * not millions, and a scan of a few hundred entries costs less than
 * one engine round trip by orders of magnitude. Answers are deep
 * copies (packed and unpacked), made under the lock; nothing here calls
 * the engine.
 */
#include "services/runtime/state_cache.h"

#include "lib/alloc.h"
#include "lib/clock.h"
#include "lib/engine.h"

#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct entry {
	char *id;
	Berth__V1__ContainerDetail *d;
	uint64_t ticket;
	/* Only the summary is known (from a list or an event): inspect
	 * asks the engine, list keeps the engine's status text. */
	bool partial;
};

struct exit_rec {
	char *id;
	char *name;
	int exit_code;
	bool oom_killed;
	bool have_exit; /* exit_code / oom_killed are known */
	bool removed;
	uint64_t removed_ticket; /* puts older than this are stale */
	int64_t at_ms;           /* monotonic */
};

struct state_cache {
	pthread_mutex_t mu;
	uint64_t next_ticket;
	bool in_sync;
	struct entry *v;
	size_t n, cap;
	struct exit_rec *x;
	size_t nx, capx;
};

struct state_cache *state_cache_new(void)
{
	struct state_cache *c = berth_calloc(1, sizeof(*c));

	pthread_mutex_init(&c->mu, NULL);
	c->next_ticket = 1;
	return c;
}

static void entry_fini(struct entry *e)
{
	free(e->id);
	if (e->d != NULL)
		protobuf_c_message_free_unpacked(&e->d->base, NULL);
}

static void exit_fini(struct exit_rec *x)
{
	free(x->id);
	free(x->name);
}

void state_cache_free(struct state_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++)
		entry_fini(&c->v[i]);
	for (size_t i = 0; i < c->nx; i++)
		exit_fini(&c->x[i]);
	free(c->v);
	free(c->x);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

uint64_t state_cache_ticket(struct state_cache *c)
{
	uint64_t t;

	pthread_mutex_lock(&c->mu);
	t = c->next_ticket++;
	pthread_mutex_unlock(&c->mu);
	return t;
}

bool state_cache_in_sync(struct state_cache *c)
{
	bool s;

	pthread_mutex_lock(&c->mu);
	s = c->in_sync;
	pthread_mutex_unlock(&c->mu);
	return s;
}

void state_cache_lost(struct state_cache *c)
{
	pthread_mutex_lock(&c->mu);
	c->in_sync = false;
	pthread_mutex_unlock(&c->mu);
}

/* A deep copy through the wire form: the copy owns all its fields. */
static ProtobufCMessage *msg_copy(const ProtobufCMessage *m)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = berth_malloc(len > 0 ? len : 1);
	ProtobufCMessage *out;

	protobuf_c_message_pack(m, buf);
	out = protobuf_c_message_unpack(m->descriptor, NULL, len, buf);
	free(buf);
	if (out == NULL)
		abort(); /* our own packing: only out of memory gets here */
	return out;
}

/* Under mu. */
static struct entry *find_id(struct state_cache *c, const char *id)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->v[i].id, id) == 0)
			return &c->v[i];
	return NULL;
}

/* Under mu: full id, then name, then unique id prefix (the engine's
 * order). */
static struct entry *find_ref(struct state_cache *c, const char *ref)
{
	struct entry *hit = NULL;
	size_t rlen = strlen(ref);

	if (rlen == 0)
		return NULL;
	hit = find_id(c, ref);
	if (hit != NULL)
		return hit;
	for (size_t i = 0; i < c->n; i++) {
		const char *name = c->v[i].d->summary->name;

		if (name != NULL && strcmp(name, ref) == 0)
			return &c->v[i];
	}
	for (size_t i = 0; i < c->n; i++) {
		if (strncmp(c->v[i].id, ref, rlen) != 0)
			continue;
		if (hit != NULL)
			return NULL; /* ambiguous: let the engine say so */
		hit = &c->v[i];
	}
	return hit;
}

/* Under mu. */
static struct exit_rec *find_exit(struct state_cache *c, const char *id)
{
	for (size_t i = 0; i < c->nx; i++)
		if (strcmp(c->x[i].id, id) == 0)
			return &c->x[i];
	return NULL;
}

/* Under mu: forgets exits past their time, and the oldest past the cap. */
static void exits_expire(struct state_cache *c)
{
	int64_t now = berth_clock_mono_ms();
	size_t j = 0;

	for (size_t i = 0; i < c->nx; i++) {
		bool keep = now - c->x[i].at_ms < STATE_CACHE_EXIT_TTL_MS
		    && c->nx - i <= STATE_CACHE_EXITS_MAX;

		if (keep)
			c->x[j++] = c->x[i];
		else
			exit_fini(&c->x[i]);
	}
	c->nx = j;
}

/* Under mu: the exit record of `id`, made when missing. */
static struct exit_rec *exit_rec_get(struct state_cache *c, const char *id)
{
	struct exit_rec *x = find_exit(c, id);

	if (x != NULL)
		return x;
	exits_expire(c);
	if (c->nx == c->capx) {
		c->capx = c->capx * 2 + 16;
		c->x = berth_realloc(c->x, c->capx * sizeof(*c->x));
	}
	x = &c->x[c->nx++];
	memset(x, 0, sizeof(*x));
	x->id = berth_strdup(id);
	x->at_ms = berth_clock_mono_ms();
	return x;
}

/* Under mu: takes ownership of d. */
static void put_locked(struct state_cache *c, uint64_t ticket,
                       Berth__V1__ContainerDetail *d, bool partial)
{
	const char *id = d->summary != NULL ? d->summary->id : NULL;
	struct exit_rec *x;
	struct entry *e;

	if (id == NULL || id[0] == '\0') {
		protobuf_c_message_free_unpacked(&d->base, NULL);
		return;
	}
	x = find_exit(c, id);
	if (x != NULL && x->removed && ticket < x->removed_ticket) {
		protobuf_c_message_free_unpacked(&d->base, NULL);
		return;
	}
	e = find_id(c, id);
	if (e != NULL) {
		if (ticket < e->ticket) {
			protobuf_c_message_free_unpacked(&d->base, NULL);
			return;
		}
		protobuf_c_message_free_unpacked(&e->d->base, NULL);
		e->d = d;
		e->ticket = ticket;
		e->partial = partial;
		return;
	}
	if (c->n == c->cap) {
		c->cap = c->cap * 2 + 64;
		c->v = berth_realloc(c->v, c->cap * sizeof(*c->v));
	}
	e = &c->v[c->n++];
	e->id = berth_strdup(id);
	e->d = d;
	e->ticket = ticket;
	e->partial = partial;
}

void state_cache_put(struct state_cache *c, uint64_t ticket,
                     Berth__V1__ContainerDetail *d)
{
	if (d == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	put_locked(c, ticket, d, false);
	pthread_mutex_unlock(&c->mu);
}

/* Replaces a string field; an unset one holds protobuf-c's static
 * empty string, which is not ours to free. */
static void set_str(char **field, const char *v)
{
	if (*field != protobuf_c_empty_string)
		free(*field);
	*field = berth_strdup(v != NULL ? v : "");
}

/* The engine's RFC 3339 form of unix ns, for started_at / finished_at. */
static void rfc3339(int64_t ns, char *out, size_t len)
{
	time_t secs = (time_t)(ns / 1000000000LL);
	struct tm tm;

	gmtime_r(&secs, &tm);
	snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ",
	         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	         tm.tm_min, tm.tm_sec, (long long)(ns % 1000000000LL));
}

/* Under mu: a minimal entry from a create event. */
static void patch_create(struct state_cache *c, uint64_t ticket,
                         const struct berth_engine_event *ev)
{
	Berth__V1__ContainerDetail *d = berth_malloc(sizeof(*d));
	Berth__V1__ContainerSummary *s = berth_malloc(sizeof(*s));

	berth__v1__container_detail__init(d);
	berth__v1__container_summary__init(s);
	d->summary = s;
	s->id = berth_strdup(ev->id);
	if (ev->name != NULL && ev->name[0] != '\0')
		s->name = berth_strdup(ev->name);
	s->state = berth_strdup("created");
	s->status = berth_strdup("created");
	s->created = ev->time_ns / 1000000000LL;
	if (ev->nlabels > 0) {
		s->labels = berth_calloc(ev->nlabels, sizeof(*s->labels));
		for (size_t i = 0; i < ev->nlabels; i++) {
			Berth__V1__KeyValue *kv = berth_malloc(sizeof(*kv));

			berth__v1__key_value__init(kv);
			kv->key = berth_strdup(ev->labels[i]->key);
			kv->value = berth_strdup(ev->labels[i]->value != NULL
			                             ? ev->labels[i]->value
			                             : "");
			s->labels[s->n_labels++] = kv;
		}
	}
	put_locked(c, ticket, d, true);
}

bool state_cache_patch(struct state_cache *c, uint64_t ticket,
                       const struct berth_engine_event *ev)
{
	const char *a = ev->action;
	const char *state = NULL;
	struct entry *e;
	char when[48];
	bool inspect = true;

	if (strncmp(a, "exec_", 5) == 0 || strcmp(a, "attach") == 0
	    || strcmp(a, "detach") == 0 || strcmp(a, "resize") == 0
	    || strcmp(a, "top") == 0 || strcmp(a, "copy") == 0
	    || strcmp(a, "archive-path") == 0
	    || strcmp(a, "extract-to-dir") == 0 || strcmp(a, "export") == 0
	    || strcmp(a, "commit") == 0 || strcmp(a, "mount") == 0
	    || strcmp(a, "unmount") == 0)
		return false;
	rfc3339(ev->time_ns, when, sizeof(when));
	pthread_mutex_lock(&c->mu);
	e = find_id(c, ev->id);
	if (e == NULL || ticket < e->ticket) {
		if (e == NULL && strcmp(a, "create") == 0)
			patch_create(c, ticket, ev);
		pthread_mutex_unlock(&c->mu);
		return inspect;
	}
	if (strcmp(a, "start") == 0 || strcmp(a, "restart") == 0
	    || strcmp(a, "unpause") == 0) {
		state = "running";
		if (strcmp(a, "unpause") != 0)
			set_str(&e->d->started_at, when);
		e->d->running = true;
	} else if (strcmp(a, "die") == 0) {
		state = "exited";
		e->d->running = false;
		e->d->exit_code = ev->exit_code;
		set_str(&e->d->finished_at, when);
	} else if (strcmp(a, "pause") == 0) {
		state = "paused";
	} else if (strcmp(a, "health_status") == 0) {
		set_str(&e->d->health_status, ev->health_status);
	}
	if (state != NULL) {
		char text[96];

		set_str(&e->d->summary->state, state);
		/* A partial entry keeps its status text in the summary. */
		state_cache_status_text(e->d, ev->time_ns / 1000000, text,
		                        sizeof(text));
		set_str(&e->d->summary->status, e->partial ? text : state);
	}
	e->ticket = ticket;
	pthread_mutex_unlock(&c->mu);
	return inspect;
}

void state_cache_drop(struct state_cache *c, uint64_t ticket, const char *id)
{
	struct exit_rec *x;
	struct entry *e;

	pthread_mutex_lock(&c->mu);
	e = find_id(c, id);
	x = exit_rec_get(c, id);
	x->removed = true;
	if (ticket > x->removed_ticket)
		x->removed_ticket = ticket;
	if (e != NULL) {
		const Berth__V1__ContainerDetail *d = e->d;

		if (x->name == NULL && d->summary->name != NULL)
			x->name = berth_strdup(d->summary->name);
		/* A partial entry (summary only) does not know the code. */
		if (!x->have_exit && !e->partial && d->summary->state != NULL
		    && strcmp(d->summary->state, "exited") == 0) {
			x->exit_code = d->exit_code;
			x->oom_killed = d->oom_killed;
			x->have_exit = true;
		}
		entry_fini(e);
		*e = c->v[--c->n];
	}
	pthread_mutex_unlock(&c->mu);
}

void state_cache_replace_all(struct state_cache *c, uint64_t ticket,
                             Berth__V1__ContainerDetail **ds, size_t n,
                             bool partial)
{
	pthread_mutex_lock(&c->mu);
	/* Entries the engine no longer lists are gone; those stored after
	 * this resync's list began stay (they are newer than the list). */
	for (size_t i = 0; i < c->n;) {
		bool listed = false;

		for (size_t k = 0; k < n && !listed; k++)
			listed = ds[k] != NULL
			    && strcmp(ds[k]->summary->id, c->v[i].id) == 0;
		if (listed || c->v[i].ticket > ticket) {
			i++;
			continue;
		}
		struct exit_rec *x = exit_rec_get(c, c->v[i].id);

		x->removed = true;
		x->removed_ticket = ticket;
		entry_fini(&c->v[i]);
		c->v[i] = c->v[--c->n];
	}
	for (size_t k = 0; k < n; k++)
		if (ds[k] != NULL)
			put_locked(c, ticket, ds[k], partial);
	free(ds);
	c->in_sync = true;
	pthread_mutex_unlock(&c->mu);
}

static const char *label_of(const Berth__V1__ContainerSummary *s,
                            const char *key)
{
	for (size_t i = 0; i < s->n_labels; i++)
		if (strcmp(s->labels[i]->key, key) == 0)
			return s->labels[i]->value != NULL ? s->labels[i]->value
			                                   : "";
	return NULL;
}

/* The engine matches the name filter as a regular expression against
 * "/name"; a pattern that does not compile is matched as a substring. */
static bool name_matches(const char *name, const char *pat, const regex_t *re,
                         bool have_re)
{
	char slashed[300];

	if (name == NULL)
		return false;
	snprintf(slashed, sizeof(slashed), "/%s", name);
	if (have_re)
		return regexec(re, slashed, 0, NULL, 0) == 0;
	return strstr(slashed, pat) != NULL;
}

static bool matches(const Berth__V1__ContainerSummary *s,
                    const Berth__V1__ListContainersRequest *f,
                    const regex_t *re, bool have_re)
{
	const char *st = s->state != NULL ? s->state : "";
	bool want_state = f != NULL && f->state != NULL && f->state[0] != '\0';

	if (want_state && strcmp(st, f->state) != 0)
		return false;
	/* Without `all` (or a state filter, which implies it) only live
	 * containers are listed, as by the engine. */
	if ((f == NULL || !f->all) && !want_state && strcmp(st, "running") != 0
	    && strcmp(st, "paused") != 0 && strcmp(st, "restarting") != 0)
		return false;
	if (f == NULL)
		return true;
	for (size_t i = 0; i < f->n_labels; i++) {
		const char *v = label_of(s, f->labels[i]->key);
		const char *want = f->labels[i]->value;

		if (v == NULL)
			return false;
		if (want != NULL && want[0] != '\0' && strcmp(v, want) != 0)
			return false;
	}
	if (f->berth_only && !berth_summary_managed(s))
		return false;
	if (f->name != NULL && f->name[0] != '\0'
	    && !name_matches(s->name, f->name, re, have_re))
		return false;
	return true;
}

static int newest_first(const void *a, const void *b)
{
	const Berth__V1__ContainerSummary *x
	    = *(Berth__V1__ContainerSummary *const *)a;
	const Berth__V1__ContainerSummary *y
	    = *(Berth__V1__ContainerSummary *const *)b;

	if (x->created != y->created)
		return x->created > y->created ? -1 : 1;
	return strcmp(x->id, y->id);
}

bool state_cache_list(struct state_cache *c,
                      const Berth__V1__ListContainersRequest *f,
                      Berth__V1__ListContainersReply **out)
{
	Berth__V1__ListContainersReply *rep;
	regex_t re;
	bool have_re = false;
	int64_t now = berth_clock_unix_ms();

	if (f != NULL && f->name != NULL && f->name[0] != '\0')
		have_re = regcomp(&re, f->name, REG_EXTENDED | REG_NOSUB) == 0;
	pthread_mutex_lock(&c->mu);
	if (!c->in_sync) {
		pthread_mutex_unlock(&c->mu);
		if (have_re)
			regfree(&re);
		return false;
	}
	rep = berth_malloc(sizeof(*rep));
	berth__v1__list_containers_reply__init(rep);
	if (c->n > 0)
		rep->containers = berth_calloc(c->n, sizeof(*rep->containers));
	for (size_t i = 0; i < c->n; i++) {
		const Berth__V1__ContainerDetail *d = c->v[i].d;
		Berth__V1__ContainerSummary *s;
		char text[96];

		if (!matches(d->summary, f, &re, have_re))
			continue;
		s = (Berth__V1__ContainerSummary *)msg_copy(&d->summary->base);
		if (!c->v[i].partial) {
			state_cache_status_text(d, now, text, sizeof(text));
			set_str(&s->status, text);
		}
		rep->containers[rep->n_containers++] = s;
	}
	pthread_mutex_unlock(&c->mu);
	if (have_re)
		regfree(&re);
	if (rep->n_containers > 1)
		qsort(rep->containers, rep->n_containers,
		      sizeof(*rep->containers), newest_first);
	*out = rep;
	return true;
}

/* The status text of one borrowed summary. */
struct status_text {
	char text[96];
};

bool state_cache_list_borrowed(struct state_cache *c,
                               const Berth__V1__ListContainersRequest *f,
                               state_cache_reply_fn fn, void *arg)
{
	Berth__V1__ListContainersReply rep
	    = BERTH__V1__LIST_CONTAINERS_REPLY__INIT;
	Berth__V1__ContainerSummary *shallow = NULL;
	Berth__V1__ContainerSummary **ptrs = NULL;
	struct status_text *status = NULL;
	regex_t re;
	bool have_re = false;
	int64_t now = berth_clock_unix_ms();

	if (f != NULL && f->name != NULL && f->name[0] != '\0')
		have_re = regcomp(&re, f->name, REG_EXTENDED | REG_NOSUB) == 0;
	pthread_mutex_lock(&c->mu);
	if (!c->in_sync) {
		pthread_mutex_unlock(&c->mu);
		if (have_re)
			regfree(&re);
		return false;
	}
	if (c->n > 0) {
		shallow = berth_calloc(c->n, sizeof(*shallow));
		ptrs = berth_calloc(c->n, sizeof(*ptrs));
		status = berth_calloc(c->n, sizeof(*status));
	}
	for (size_t i = 0; i < c->n; i++) {
		const Berth__V1__ContainerDetail *d = c->v[i].d;
		size_t k = rep.n_containers;

		if (!matches(d->summary, f, &re, have_re))
			continue;
		shallow[k] = *d->summary; /* borrows every field */
		if (!c->v[i].partial) {
			state_cache_status_text(d, now, status[k].text,
			                        sizeof(status[k].text));
			shallow[k].status = status[k].text;
		}
		ptrs[k] = &shallow[k];
		rep.n_containers++;
	}
	if (rep.n_containers > 1)
		qsort(ptrs, rep.n_containers, sizeof(*ptrs), newest_first);
	rep.containers = ptrs;
	fn(arg, &rep);
	pthread_mutex_unlock(&c->mu);
	if (have_re)
		regfree(&re);
	free(status);
	free(ptrs);
	free(shallow);
	return true;
}

bool state_cache_inspect(struct state_cache *c, const char *ref,
                         Berth__V1__ContainerDetail **out)
{
	struct entry *e;
	bool ok = false;

	pthread_mutex_lock(&c->mu);
	if (c->in_sync) {
		e = find_ref(c, ref);
		if (e != NULL && !e->partial) {
			*out = (Berth__V1__ContainerDetail *)msg_copy(
			    &e->d->base);
			ok = true;
		}
	}
	pthread_mutex_unlock(&c->mu);
	return ok;
}

void state_cache_note_exit(struct state_cache *c, const char *id,
                           const char *name, int exit_code, bool oom_killed)
{
	struct exit_rec *x;

	pthread_mutex_lock(&c->mu);
	x = exit_rec_get(c, id);
	x->exit_code = exit_code;
	x->oom_killed = x->oom_killed || oom_killed;
	x->have_exit = true;
	x->at_ms = berth_clock_mono_ms();
	if (name != NULL && name[0] != '\0') {
		free(x->name);
		x->name = berth_strdup(name);
	}
	pthread_mutex_unlock(&c->mu);
}

bool state_cache_last_exit(struct state_cache *c, const char *ref,
                           int *exit_code, bool *oom_killed, bool *removed)
{
	struct exit_rec *hit = NULL;
	size_t rlen = strlen(ref);
	bool ok = false;

	pthread_mutex_lock(&c->mu);
	exits_expire(c);
	hit = find_exit(c, ref);
	/* Newest first: a name may have been reused. */
	for (size_t i = c->nx; hit == NULL && i > 0; i--) {
		struct exit_rec *x = &c->x[i - 1];

		if ((x->name != NULL && strcmp(x->name, ref) == 0)
		    || (rlen >= 4 && strncmp(x->id, ref, rlen) == 0))
			hit = x;
	}
	/* Removed with no exit code seen is not an exit code of 0. */
	if (hit != NULL)
		*removed = hit->removed;
	if (hit != NULL && hit->have_exit) {
		*exit_code = hit->exit_code;
		*oom_killed = hit->oom_killed;
		ok = true;
	}
	pthread_mutex_unlock(&c->mu);
	return ok;
}

/* RFC 3339 (the engine's, with nanoseconds) to unix ms; 0 if unset. */
static int64_t rfc3339_ms(const char *s)
{
	struct tm tm;
	const char *rest;

	if (s == NULL || s[0] == '\0' || strncmp(s, "0001-", 5) == 0)
		return 0;
	memset(&tm, 0, sizeof(tm));
	rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (rest == NULL)
		return 0;
	return (int64_t)timegm(&tm) * 1000;
}

/* Docker's units.HumanDuration. */
static void human_duration(int64_t ms, char *out, size_t len)
{
	int64_t s = ms / 1000;
	int64_t h = s / 3600;

	if (s < 1)
		snprintf(out, len, "Less than a second");
	else if (s == 1)
		snprintf(out, len, "1 second");
	else if (s < 60)
		snprintf(out, len, "%lld seconds", (long long)s);
	else if (s / 60 == 1)
		snprintf(out, len, "About a minute");
	else if (s < 3600)
		snprintf(out, len, "%lld minutes", (long long)(s / 60));
	else if (h == 1)
		snprintf(out, len, "About an hour");
	else if (h < 48)
		snprintf(out, len, "%lld hours", (long long)h);
	else if (h < 24 * 7 * 2)
		snprintf(out, len, "%lld days", (long long)(h / 24));
	else if (h < 24 * 30 * 2)
		snprintf(out, len, "%lld weeks", (long long)(h / 24 / 7));
	else if (h < 24 * 365 * 2)
		snprintf(out, len, "%lld months", (long long)(h / 24 / 30));
	else
		snprintf(out, len, "%lld years", (long long)(h / 24 / 365));
}

void state_cache_status_text(const Berth__V1__ContainerDetail *d,
                             int64_t now_ms, char *out, size_t len)
{
	const char *st = d->summary->state != NULL ? d->summary->state : "";
	char dur[48];
	int64_t t;

	if (strcmp(st, "running") == 0 || strcmp(st, "paused") == 0) {
		t = rfc3339_ms(d->started_at);
		human_duration(t > 0 ? now_ms - t : 0, dur, sizeof(dur));
		if (strcmp(st, "paused") == 0)
			snprintf(out, len, "Up %s (Paused)", dur);
		else if (d->health_status != NULL
		         && d->health_status[0] != '\0')
			snprintf(out, len, "Up %s (%s)", dur,
			         strcmp(d->health_status, "starting") == 0
			             ? "health: starting"
			             : d->health_status);
		else
			snprintf(out, len, "Up %s", dur);
	} else if (strcmp(st, "exited") == 0) {
		t = rfc3339_ms(d->finished_at);
		human_duration(t > 0 ? now_ms - t : 0, dur, sizeof(dur));
		snprintf(out, len, "Exited (%d) %s ago", (int)d->exit_code,
		         dur);
	} else if (strcmp(st, "created") == 0) {
		snprintf(out, len, "Created");
	} else if (strcmp(st, "restarting") == 0) {
		t = rfc3339_ms(d->finished_at);
		human_duration(t > 0 ? now_ms - t : 0, dur, sizeof(dur));
		snprintf(out, len, "Restarting (%d) %s ago", (int)d->exit_code,
		         dur);
	} else if (strcmp(st, "removing") == 0) {
		snprintf(out, len, "Removal In Progress");
	} else if (strcmp(st, "dead") == 0) {
		snprintf(out, len, "Dead");
	} else {
		snprintf(out, len, "%s", st);
	}
}

void state_cache_health_checked(struct state_cache *c, size_t max,
                                struct state_cache_health **out, size_t *n)
{
	struct state_cache_health *v = NULL;
	size_t k = 0;

	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < c->n && k < max; i++) {
		const Berth__V1__ContainerDetail *d = c->v[i].d;
		const Berth__V1__HealthCheck *h;

		if (c->v[i].partial || d == NULL || !d->running
		    || (h = d->health) == NULL || h->n_test == 0
		    || strcmp(h->test[0], "NONE") == 0
		    || !berth_summary_managed(d->summary))
			continue;
		if (v == NULL)
			v = berth_calloc(c->n < max ? c->n : max, sizeof(*v));
		v[k].id = berth_strdup(c->v[i].id);
		v[k].started_at
		    = berth_strdup(d->started_at != NULL ? d->started_at : "");
		v[k].status = berth_strdup(
		    d->health_status != NULL ? d->health_status : "");
		v[k].interval_ms = h->interval_ms;
		v[k].timeout_ms = h->timeout_ms;
		v[k].start_period_ms = h->start_period_ms;
		k++;
	}
	pthread_mutex_unlock(&c->mu);
	*out = v;
	*n = k;
}

void state_cache_health_free(struct state_cache_health *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(v[i].id);
		free(v[i].started_at);
		free(v[i].status);
	}
	free(v);
}
