/*
 * test_unit_state_cache.c: the runtime's state cache on its own: list
 * filters with the engine's semantics, lookups by id, name and prefix,
 * ticket ordering (a slow answer never brings back an old state),
 * resync by replace-all, remembered exits, and Docker's status text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/alloc.h"
#include "lib/engine.h"
#include "services/runtime/state_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static Berth__V1__KeyValue *kv(const char *k, const char *v)
{
	Berth__V1__KeyValue *p = berth_malloc(sizeof(*p));

	berth__v1__key_value__init(p);
	p->key = berth_strdup(k);
	p->value = berth_strdup(v);
	return p;
}

/* A detail as the driver builds it (malloc'd fields only). */
static Berth__V1__ContainerDetail *detail(const char *id, const char *name,
                                          const char *state, int64_t created,
                                          bool managed)
{
	Berth__V1__ContainerDetail *d = berth_malloc(sizeof(*d));
	Berth__V1__ContainerSummary *s = berth_malloc(sizeof(*s));

	berth__v1__container_detail__init(d);
	berth__v1__container_summary__init(s);
	d->summary = s;
	s->id = berth_strdup(id);
	s->name = berth_strdup(name);
	s->image = berth_strdup("img");
	s->state = berth_strdup(state);
	s->status = berth_strdup(state);
	s->created = created;
	s->labels = berth_calloc(2, sizeof(*s->labels));
	s->labels[s->n_labels++] = kv("team", "a");
	if (managed)
		s->labels[s->n_labels++] = kv(BERTH_LABEL_MANAGED, "true");
	d->running = strcmp(state, "running") == 0;
	d->started_at = berth_strdup("2020-01-01T00:00:00.123Z");
	d->finished_at = berth_strdup("2020-01-01T00:01:00Z");
	return d;
}

#define ID_A "aaaa1111000000000000000000000000000000000000000000000000000000aa"
#define ID_B "bbbb2222000000000000000000000000000000000000000000000000000000bb"
#define ID_C "aaaa3333000000000000000000000000000000000000000000000000000000cc"

static struct state_cache *filled(void)
{
	struct state_cache *c = state_cache_new();
	Berth__V1__ContainerDetail **ds = berth_calloc(3, sizeof(*ds));
	uint64_t t = state_cache_ticket(c);

	ds[0] = detail(ID_A, "web-1", "running", 100, true);
	ds[1] = detail(ID_B, "db", "exited", 200, false);
	ds[2] = detail(ID_C, "web-2", "created", 300, true);
	state_cache_replace_all(c, t, ds, 3, false);
	return c;
}

/* The ids of a list reply in order, one line each. */
static void ids_of(const Berth__V1__ListContainersReply *r, char *out,
                   size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < r->n_containers && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s\n",
		                         r->containers[i]->id);
}

static void borrowed_ids(void *arg, const Berth__V1__ListContainersReply *r)
{
	ids_of(r, arg, 1024);
}

/* Lists through both paths (copied and borrowed): they must agree. */
static size_t list_n(struct state_cache *c,
                     const Berth__V1__ListContainersRequest *f,
                     char first_id[80])
{
	Berth__V1__ListContainersReply *r = NULL;
	char copied[1024], borrowed[1024] = "unset";
	size_t n;

	assert_true(state_cache_list(c, f, &r));
	assert_true(state_cache_list_borrowed(c, f, borrowed_ids, borrowed));
	ids_of(r, copied, sizeof(copied));
	assert_string_equal(copied, borrowed);
	n = r->n_containers;
	if (first_id != NULL)
		snprintf(first_id, 80, "%s", n > 0 ? r->containers[0]->id : "");
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return n;
}

static void test_out_of_sync_until_resync(void **state)
{
	struct state_cache *c = state_cache_new();
	Berth__V1__ListContainersReply *r = NULL;
	Berth__V1__ContainerDetail *d = NULL;

	(void)state;
	assert_false(state_cache_in_sync(c));
	assert_false(state_cache_list(c, NULL, &r));
	assert_false(state_cache_inspect(c, "x", &d));
	state_cache_replace_all(c, state_cache_ticket(c), NULL, 0, false);
	assert_true(state_cache_in_sync(c));
	state_cache_lost(c);
	assert_false(state_cache_list(c, NULL, &r));
	state_cache_free(c);
}

static void test_filters(void **state)
{
	struct state_cache *c = filled();
	Berth__V1__ListContainersRequest f
	    = BERTH__V1__LIST_CONTAINERS_REQUEST__INIT;
	Berth__V1__KeyValue l = BERTH__V1__KEY_VALUE__INIT;
	Berth__V1__KeyValue *ls[] = { &l };
	char first[80];

	(void)state;
	/* Without all: live ones only. */
	assert_int_equal(list_n(c, &f, first), 1);
	assert_string_equal(first, ID_A);
	f.all = true;
	assert_int_equal(list_n(c, &f, first), 3);
	assert_string_equal(first, ID_C); /* newest first */
	f.berth_only = true;
	assert_int_equal(list_n(c, &f, NULL), 2);
	f.berth_only = false;
	f.name = (char *)"web";
	assert_int_equal(list_n(c, &f, NULL), 2);
	f.name = (char *)"^/web-1$";
	assert_int_equal(list_n(c, &f, NULL), 1);
	f.name = (char *)"";
	/* A state filter implies all. */
	f.all = false;
	f.state = (char *)"exited";
	assert_int_equal(list_n(c, &f, first), 1);
	assert_string_equal(first, ID_B);
	f.state = (char *)"";
	f.all = true;
	l.key = (char *)"team";
	l.value = (char *)"";
	f.labels = ls;
	f.n_labels = 1;
	assert_int_equal(list_n(c, &f, NULL), 3);
	l.value = (char *)"b";
	assert_int_equal(list_n(c, &f, NULL), 0);
	l.key = (char *)"absent";
	l.value = (char *)"";
	assert_int_equal(list_n(c, &f, NULL), 0);
	state_cache_free(c);
}

static void test_lookup_by_ref(void **state)
{
	struct state_cache *c = filled();
	Berth__V1__ContainerDetail *d = NULL;

	(void)state;
	assert_true(state_cache_inspect(c, ID_B, &d));
	assert_string_equal(d->summary->name, "db");
	protobuf_c_message_free_unpacked(&d->base, NULL);
	assert_true(state_cache_inspect(c, "web-2", &d));
	assert_string_equal(d->summary->id, ID_C);
	protobuf_c_message_free_unpacked(&d->base, NULL);
	assert_true(state_cache_inspect(c, "bbbb", &d));
	protobuf_c_message_free_unpacked(&d->base, NULL);
	/* An ambiguous prefix is the engine's to answer. */
	assert_false(state_cache_inspect(c, "aaaa", &d));
	assert_false(state_cache_inspect(c, "nope", &d));
	state_cache_free(c);
}

static void test_tickets_order_puts(void **state)
{
	struct state_cache *c = filled();
	Berth__V1__ContainerDetail *d = NULL;
	uint64_t old = state_cache_ticket(c);
	uint64_t newer = state_cache_ticket(c);

	(void)state;
	state_cache_put(c, newer, detail(ID_A, "web-1", "exited", 100, true));
	/* A slower answer that started earlier loses. */
	state_cache_put(c, old, detail(ID_A, "web-1", "running", 100, true));
	assert_true(state_cache_inspect(c, ID_A, &d));
	assert_string_equal(d->summary->state, "exited");
	protobuf_c_message_free_unpacked(&d->base, NULL);
	/* Dropped: an inspect that began before the removal stays out. */
	old = state_cache_ticket(c);
	state_cache_drop(c, state_cache_ticket(c), ID_A);
	state_cache_put(c, old, detail(ID_A, "web-1", "running", 100, true));
	assert_false(state_cache_inspect(c, ID_A, &d));
	state_cache_free(c);
}

static void test_resync_drops_vanished(void **state)
{
	struct state_cache *c = filled();
	Berth__V1__ContainerDetail **ds = berth_calloc(1, sizeof(*ds));
	Berth__V1__ContainerDetail *d = NULL;
	int code = -1;
	bool oom = true, removed = false;

	(void)state;
	ds[0] = detail(ID_B, "db", "running", 200, false);
	state_cache_replace_all(c, state_cache_ticket(c), ds, 1, false);
	assert_false(state_cache_inspect(c, ID_A, &d));
	assert_true(state_cache_inspect(c, ID_B, &d));
	assert_string_equal(d->summary->state, "running");
	protobuf_c_message_free_unpacked(&d->base, NULL);
	/* The vanished one is remembered as removed, but it was running:
	 * its exit code is unknown, which is not an exit code of 0. */
	assert_false(state_cache_last_exit(c, ID_A, &code, &oom, &removed));
	assert_true(removed);
	state_cache_free(c);
}

static void test_exits_remembered(void **state)
{
	struct state_cache *c = filled();
	int code = 0;
	bool oom = false, removed = true;

	(void)state;
	assert_false(state_cache_last_exit(c, ID_B, &code, &oom, &removed));
	state_cache_note_exit(c, ID_B, "db", 42, true);
	assert_true(state_cache_last_exit(c, "db", &code, &oom, &removed));
	assert_int_equal(code, 42);
	assert_true(oom);
	assert_false(removed);
	state_cache_drop(c, state_cache_ticket(c), ID_B);
	assert_true(
	    state_cache_last_exit(c, "bbbb2222", &code, &oom, &removed));
	assert_int_equal(code, 42);
	assert_true(removed);
	state_cache_free(c);
}

static void test_patch_from_events(void **state)
{
	struct state_cache *c = filled();
	Berth__V1__ContainerDetail *d = NULL;
	const Berth__V1__KeyValue *labels[1];
	Berth__V1__KeyValue l = BERTH__V1__KEY_VALUE__INIT;
	struct berth_engine_event ev;

	(void)state;
	memset(&ev, 0, sizeof(ev));
	ev.type = "container";
	ev.id = ID_A;
	ev.action = "die";
	ev.exit_code = 9;
	ev.time_ns = 1577836800000000000LL;
	/* Unset string fields hold protobuf-c's static "": replaced, not
	 * freed (an earlier version crashed here). */
	assert_true(state_cache_patch(c, state_cache_ticket(c), &ev));
	ev.action = "health_status";
	ev.health_status = "healthy";
	assert_true(state_cache_patch(c, state_cache_ticket(c), &ev));
	assert_true(state_cache_inspect(c, ID_A, &d));
	assert_string_equal(d->summary->state, "exited");
	assert_int_equal(d->exit_code, 9);
	assert_false(d->running);
	assert_string_equal(d->health_status, "healthy");
	assert_string_equal(d->finished_at, "2020-01-01T00:00:00.000000000Z");
	protobuf_c_message_free_unpacked(&d->base, NULL);
	ev.action = "exec_start";
	assert_false(state_cache_patch(c, state_cache_ticket(c), &ev));
	/* A create for an unknown id makes a minimal entry at once. */
	l.key = (char *)"k";
	l.value = (char *)"v";
	labels[0] = &l;
	ev.id = "dddd0000000000000000000000000000000000000000000000000000000000"
	        "00";
	ev.name = "new-one";
	ev.action = "create";
	ev.labels = labels;
	ev.nlabels = 1;
	assert_true(state_cache_patch(c, state_cache_ticket(c), &ev));
	{
		Berth__V1__ListContainersRequest f
		    = BERTH__V1__LIST_CONTAINERS_REQUEST__INIT;
		Berth__V1__ListContainersReply *r = NULL;

		f.all = true;
		f.name = (char *)"new-one";
		assert_true(state_cache_list(c, &f, &r));
		assert_int_equal(r->n_containers, 1);
		assert_string_equal(r->containers[0]->state, "created");
		assert_int_equal(r->containers[0]->n_labels, 1);
		protobuf_c_message_free_unpacked(&r->base, NULL);
	}
	/* Known by its summary only: inspect is the engine's. */
	assert_false(state_cache_inspect(c, "new-one", &d));
	state_cache_free(c);
}

static void test_status_text(void **state)
{
	Berth__V1__ContainerDetail *d
	    = detail(ID_A, "web-1", "running", 100, true);
	/* 2020-01-01T00:00:00Z in unix ms. */
	int64_t t0 = 1577836800000LL;
	char out[96];

	(void)state;
	state_cache_status_text(d, t0 + 3000, out, sizeof(out));
	assert_string_equal(out, "Up 3 seconds");
	state_cache_status_text(d, t0 + 2 * 3600 * 1000, out, sizeof(out));
	assert_string_equal(out, "Up 2 hours");
	free(d->summary->state);
	d->summary->state = berth_strdup("exited");
	d->exit_code = 3;
	state_cache_status_text(d, t0 + 60500, out, sizeof(out));
	assert_string_equal(out, "Exited (3) Less than a second ago");
	state_cache_status_text(d, t0 + 60000 + 5 * 60000, out, sizeof(out));
	assert_string_equal(out, "Exited (3) 5 minutes ago");
	free(d->summary->state);
	d->summary->state = berth_strdup("created");
	state_cache_status_text(d, t0, out, sizeof(out));
	assert_string_equal(out, "Created");
	protobuf_c_message_free_unpacked(&d->base, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_out_of_sync_until_resync),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_lookup_by_ref),
		cmocka_unit_test(test_tickets_order_puts),
		cmocka_unit_test(test_resync_drops_vanished),
		cmocka_unit_test(test_exits_remembered),
		cmocka_unit_test(test_patch_from_events),
		cmocka_unit_test(test_status_text),
	};

	return cmocka_run_group_tests_name("state_cache", tests, NULL, NULL);
}
