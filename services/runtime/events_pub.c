/*
 * events_pub.c: the runtime's event publisher (events_pub.h).
 *
 * One mutex orders seq with the send, so subscribers see seq strictly
 * increasing in the order the runtime decided the events.
 */
#include "services/runtime/events_pub.h"
#include "services/runtime/runtime_internal.h"

#include "lib/alloc.h"
#include "lib/clock.h"
#include "lib/rpc_envelope.h"

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Nothing is received on a PUB socket; keep the limit small anyway. */
#define PUB_RECV_MAX (64u * 1024u)

struct events_pub {
	nng_socket sock;
	bool open;
	char *source;
	pthread_mutex_t mu;
	uint64_t seq;
};

int events_pub_open(struct events_pub **out, const char *url, bool dial,
                    const char *source, struct berth_err *err)
{
	struct events_pub *p = berth_calloc(1, sizeof(*p));
	int rv = 0;

	pthread_mutex_init(&p->mu, NULL);
	p->source = berth_strdup(source != NULL ? source : "");
	if (url == NULL || url[0] == '\0')
		goto done;
	rv = rpc_url_check(url, err);
	if (rv != 0)
		goto fail;
	rv = nng_pub0_open(&p->sock);
	if (rv != 0) {
		rv = berth_err_set(err, BERTH_EINTERNAL,
		                   "cannot open the event socket: %s",
		                   nng_strerror(rv));
		goto fail;
	}
	p->open = true;
	nng_socket_set_size(p->sock, NNG_OPT_RECVMAXSZ, PUB_RECV_MAX);
	if (dial) {
		nng_dialer d;

		rv = nng_dialer_create(&d, p->sock, url);
		if (rv == 0) {
			nng_dialer_set_ms(d, NNG_OPT_RECONNMINT, 100);
			nng_dialer_set_ms(d, NNG_OPT_RECONNMAXT, 2000);
			rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK);
		}
		if (rv != 0) {
			rv = berth_err_set(err, rpc_code_from_nng(rv),
			                   "cannot dial events address %s: %s",
			                   url, nng_strerror(rv));
			goto fail;
		}
		goto done;
	}
	rv = rpc_url_prepare_listen(url, err);
	if (rv != 0)
		goto fail;
	rv = nng_listen(p->sock, url, NULL, 0);
	if (rv != 0) {
		rv = berth_err_set(err, rpc_code_from_nng(rv),
		                   "cannot listen on events address %s: %s",
		                   url, nng_strerror(rv));
		goto fail;
	}
	rv = rpc_url_finish_listen(url, err);
	if (rv != 0)
		goto fail;
done:
	*out = p;
	return 0;
fail:
	events_pub_free(p);
	return rv;
}

void events_pub_free(struct events_pub *p)
{
	if (p == NULL)
		return;
	if (p->open)
		nng_close(p->sock);
	pthread_mutex_destroy(&p->mu);
	free(p->source);
	free(p);
}

void events_pub_send(struct events_pub *p, Berth__V1__Event *ev)
{
	size_t len;
	uint8_t *buf;

	if (p == NULL || !p->open)
		return;
	if (ev->time_ms == 0)
		ev->time_ms = berth_clock_unix_ms();
	ev->source = p->source;
	pthread_mutex_lock(&p->mu);
	ev->seq = ++p->seq;
	len = berth__v1__event__get_packed_size(ev);
	buf = berth_malloc(len > 0 ? len : 1);
	berth__v1__event__pack(ev, buf);
	/* PUB never blocks: a subscriber that cannot keep up loses
	 * messages, and no subscriber at all drops them. */
	(void)nng_send(p->sock, buf, len, NNG_FLAG_NONBLOCK);
	pthread_mutex_unlock(&p->mu);
	free(buf);
}

void events_pub_container(struct events_pub *p,
                          const struct berth_engine_event *e)
{
	Berth__V1__Event ev = BERTH__V1__EVENT__INIT;

	if (p == NULL || !p->open)
		return;
	ev.type = (char *)"container";
	ev.action = (char *)(e->action != NULL ? e->action : "");
	ev.id = (char *)(e->id != NULL ? e->id : "");
	ev.name = (char *)(e->name != NULL ? e->name : "");
	ev.time_ms = e->time_ns / 1000000;
	ev.exit_code = e->exit_code;
	ev.health_status
	    = (char *)(e->health_status != NULL ? e->health_status : "");
	ev.labels = (Berth__V1__KeyValue **)e->labels;
	ev.n_labels = e->nlabels;
	events_pub_send(p, &ev);
}

void events_pub_job(struct events_pub *p, const char *action,
                    const struct berth_job *job)
{
	Berth__V1__Event ev = BERTH__V1__EVENT__INIT;
	Berth__V1__Job j = BERTH__V1__JOB__INIT;

	if (p == NULL || !p->open || job == NULL)
		return;
	runtime_job_to_proto(job, &j);
	ev.type = (char *)"job";
	ev.action = (char *)action;
	ev.id = j.id;
	ev.job = &j;
	events_pub_send(p, &ev);
}
