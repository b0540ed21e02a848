/*
 * test_unit_rpc.c: the RPC core over real nng sockets (inproc, ipc, tcp)
 * with the test-only TestEcho service (proto/berth/v1/testsvc.proto):
 * round trips, status propagation, deadlines, fail-fast when no server
 * is there, concurrency, message limits, dial mode load balancing,
 * shutdown with calls in flight, and the async completion contract.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/alloc.h"
#include "lib/rpc.h"
#include "lib/rpc_envelope.h"
#include "tests/support/testsupport.h"

#include "berth/v1/rpc.pb-c.h"
#include "berth/v1/testsvc.pb-c.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------- test service */

struct echo_srv {
	Berth__V1__TestEcho_Service svc; /* first: handlers cast back */
	int instance;
	atomic_int calls;
	struct berth_rpc_server *rpc;
	pthread_mutex_t linger_mu; /* held by a "linger" echo */
	atomic_int lingered;       /* a "linger" echo finished its work */
};

/* How long a "linger" echo works on after answering. */
#define LINGER_MS 1500

static void fill_meta(Berth__V1__TestEchoReply *r, struct berth_rpc_call *call)
{
	const char *v;

	v = berth_rpc_call_metadata(call, "caller");
	r->caller = (char *)(v != NULL ? v : "");
	v = berth_rpc_call_metadata(call, "trace_id");
	r->trace_id = (char *)(v != NULL ? v : "");
	r->request_id = (char *)berth_rpc_call_request_id(call);
}

static void t_echo(Berth__V1__TestEcho_Service *svc,
                   const Berth__V1__TestEchoRequest *in,
                   Berth__V1__TestEchoReply_Closure closure, void *closure_data)
{
	struct echo_srv *es = (struct echo_srv *)svc;
	struct berth_rpc_call *call = closure_data;
	Berth__V1__TestEchoReply r = BERTH__V1__TEST_ECHO_REPLY__INIT;

	atomic_fetch_add(&es->calls, 1);
	if (in->no_answer)
		return;
	if (in->fail_code > 0) {
		berth_rpc_call_fail(call, -in->fail_code, in->fail_retryable,
		                    "%s", in->fail_message);
		closure(NULL, closure_data);
		return;
	}
	r.text = in->text;
	r.blob = in->blob;
	r.instance = es->instance;
	fill_meta(&r, call);
	if (in->text != NULL && strcmp(in->text, "linger") == 0) {
		/* Answers while holding a lock, then works on: the reply
		 * must already be on its way (test_reply_leaves_on_answer). */
		pthread_mutex_lock(&es->linger_mu);
		closure(&r, closure_data);
		usleep(LINGER_MS * 1000);
		atomic_store(&es->lingered, 1);
		pthread_mutex_unlock(&es->linger_mu);
		return;
	}
	closure(&r, closure_data);
}

static void t_sleep(Berth__V1__TestEcho_Service *svc,
                    const Berth__V1__TestSleepRequest *in,
                    Berth__V1__TestEchoReply_Closure closure,
                    void *closure_data)
{
	struct echo_srv *es = (struct echo_srv *)svc;
	Berth__V1__TestEchoReply r = BERTH__V1__TEST_ECHO_REPLY__INIT;
	int ms = in->ms > 0 && in->ms < 10000 ? in->ms : 0;

	atomic_fetch_add(&es->calls, 1);
	usleep((useconds_t)ms * 1000);
	r.text = "slept";
	r.instance = es->instance;
	closure(&r, closure_data);
}

static struct echo_srv *srv_start_opts(const char *url,
                                       const struct berth_rpc_server_opts *o,
                                       int instance)
{
	static const Berth__V1__TestEcho_Service init
	    = BERTH__V1__TEST_ECHO__INIT(t_);
	struct echo_srv *es = berth_calloc(1, sizeof(*es));
	struct berth_err err;

	es->svc = init;
	es->instance = instance;
	atomic_init(&es->calls, 0);
	atomic_init(&es->lingered, 0);
	pthread_mutex_init(&es->linger_mu, NULL);
	assert_ok(berth_rpc_server_alloc(&es->rpc, url, o, &err), &err);
	assert_ok(berth_rpc_server_add_service(es->rpc, &es->svc.base, &err),
	          &err);
	assert_ok(berth_rpc_server_start(es->rpc, &err), &err);
	return es;
}

static struct echo_srv *srv_start(const char *url)
{
	return srv_start_opts(url, NULL, 1);
}

static void srv_free(struct echo_srv *es)
{
	if (es == NULL)
		return;
	berth_rpc_server_free(es->rpc);
	pthread_mutex_destroy(&es->linger_mu);
	free(es);
}

static struct berth_rpc_client *cli_new(const char *url,
                                        const struct berth_rpc_client_opts *o)
{
	struct berth_rpc_client *cli = NULL;
	struct berth_err err;
	const char *urls[1] = { url };

	assert_ok(berth_rpc_client_alloc(&cli, urls, 1, o, &err), &err);
	return cli;
}

static bool wait_peers(struct berth_rpc_client *cli, int n, int ms)
{
	int64_t until = ts_now_ms() + ms;

	while (berth_rpc_client_peers(cli) < n && ts_now_ms() < until)
		usleep(5000);
	return berth_rpc_client_peers(cli) >= n;
}

/* One Echo call; returns rv, the reply in *out on success. */
static int echo(struct berth_rpc_client *cli, Berth__V1__TestEchoRequest *in,
                const struct berth_rpc_opts *o, Berth__V1__TestEchoReply **out,
                struct berth_err *err)
{
	ProtobufCMessage *m = NULL;
	int rv;

	berth_err_clear(err);
	rv = berth_rpc_call(cli, &berth__v1__test_echo__descriptor, "Echo",
	                    &in->base, &m, o, err);
	if (rv == 0)
		*out = (Berth__V1__TestEchoReply *)m;
	return rv;
}

static void round_trip(const char *url)
{
	struct echo_srv *es = srv_start(url);
	struct berth_rpc_client *cli = cli_new(url, NULL);
	Berth__V1__TestEchoRequest in = BERTH__V1__TEST_ECHO_REQUEST__INIT;
	Berth__V1__TestEchoReply *out = NULL;
	struct berth_rpc_opts o = { 0 };
	struct berth_err err;

	in.text = "hello";
	o.timeout_ms = 5000;
	o.caller = "alice";
	o.trace_id = "trace-1";
	o.request_id = "req-1";
	assert_ok(echo(cli, &in, &o, &out, &err), &err);
	assert_string_equal(out->text, "hello");
	assert_string_equal(out->caller, "alice");
	assert_string_equal(out->trace_id, "trace-1");
	assert_string_equal(out->request_id, "req-1");
	assert_int_equal(out->instance, 1);
	protobuf_c_message_free_unpacked(&out->base, NULL);
	assert_true(wait_peers(cli, 1, 2000));
	assert_int_equal(berth_rpc_client_peers(cli), 1);

	/* No metadata: the handler sees none and an empty request id. */
	out = NULL;
	assert_ok(echo(cli, &in, NULL, &out, &err), &err);
	assert_string_equal(out->caller, "");
	assert_string_equal(out->request_id, "");
	protobuf_c_message_free_unpacked(&out->base, NULL);
	berth_rpc_client_free(cli);
	srv_free(es);
}

/* ------------------------------------------------------------- tests */

static void test_round_trip_inproc(void **state)
{
	(void)state;
	round_trip("inproc://berth-rpc-test-rt");
}

static void test_round_trip_ipc_modes(void **state)
{
	char *dir = ts_tmpdir("rpc");
	char *sub = berth_asprintf("%s/run/berth", dir);
	char *path = berth_asprintf("%s/rt.sock", sub);
	char *url = berth_asprintf("ipc://%s", path);
	struct echo_srv *es;
	struct stat st;

	(void)state;
	es = srv_start(url);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	srv_free(es);
	round_trip(url);
	free(url);
	free(path);
	free(sub);
	ts_rmtree(dir);
	free(dir);
}

static int free_tcp_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int port;

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static void test_round_trip_tcp(void **state)
{
	char url[64];

	(void)state;
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", free_tcp_port());
	round_trip(url);
}

static void test_bad_urls_and_address_in_use(void **state)
{
	struct berth_rpc_server *srv = NULL;
	struct berth_rpc_client *cli = NULL;
	struct echo_srv *es;
	const char *bad[1] = { "ws://127.0.0.1:1/x" };
	struct berth_err err;

	(void)state;
	assert_int_equal(berth_rpc_server_alloc(&srv, "http://x", NULL, &err),
	                 BERTH_EINVAL);
	assert_null(srv);
	assert_int_equal(berth_rpc_client_alloc(&cli, bad, 1, NULL, &err),
	                 BERTH_EINVAL);
	assert_null(cli);

	es = srv_start("inproc://berth-rpc-test-inuse");
	assert_ok(berth_rpc_server_alloc(&srv, "inproc://berth-rpc-test-inuse",
	                                 NULL, &err),
	          &err);
	assert_int_equal(berth_rpc_server_start(srv, &err), BERTH_EUNAVAIL);
	berth_rpc_server_close(srv);
	berth_rpc_server_close(srv); /* idempotent */
	berth_rpc_server_free(srv);
	berth_rpc_server_free(NULL);
	berth_rpc_client_free(NULL);
	srv_free(es);
}

static void test_unknown_service_and_method(void **state)
{
	const char *url = "inproc://berth-rpc-test-unimpl";
	struct berth_rpc_server *bare = NULL;
	struct berth_rpc_client *cli;
	Berth__V1__TestEchoRequest in = BERTH__V1__TEST_ECHO_REQUEST__INIT;
	Berth__V1__TestEchoReply *out = NULL;
	struct berth_rpc_opts o = { .timeout_ms = 5000 };
	ProtobufCMessage *m = NULL;
	struct berth_err err;

	(void)state;
	/* A server without the TestEcho service answers UNIMPLEMENTED. */
	assert_ok(berth_rpc_server_alloc(&bare, url, NULL, &err), &err);
	assert_ok(berth_rpc_server_start(bare, &err), &err);
	cli = cli_new(url, NULL);
	assert_int_equal(echo(cli, &in, &o, &out, &err), BERTH_EUNIMPL);
	assert_non_null(strstr(err.msg, "berth.v1.TestEcho"));
	assert_null(out);
	/* A method the descriptor does not have never leaves the client. */
	assert_int_equal(berth_rpc_call(cli, &berth__v1__test_echo__descriptor,
	                                "NoSuchMethod", &in.base, &m, &o, &err),
	                 BERTH_EUNIMPL);
	assert_null(m);
	berth_rpc_client_free(cli);
	berth_rpc_server_free(bare);
}

static void test_handler_failure_propagates(void **state)
{
	const char *url = "inproc://berth-rpc-test-fail";
	struct echo_srv *es = srv_start(url);
	struct berth_rpc_client *cli = cli_new(url, NULL);
	Berth__V1__TestEchoRequest in = BERTH__V1__TEST_ECHO_REQUEST__INIT;
	Berth__V1__TestEchoReply *out = NULL;
	struct berth_rpc_opts o = { .timeout_ms = 5000 };
	struct berth_err err;

	(void)state;
	in.fail_code = BERTH__V1__CODE__NOT_FOUND;
	in.fail_message = "no container named web";
	in.fail_retryable = true;
	assert_int_equal(echo(cli, &in, &o, &out, &err), BERTH_ENOTFOUND);
	assert_int_equal(err.code, BERTH_ENOTFOUND);
	assert_string_equal(err.msg, "no container named web");
	assert_true(err.retryable);

	in.fail_code = BERTH__V1__CODE__FAILED_PRECONDITION;
	in.fail_retryable = false;
	assert_int_equal(echo(cli, &in, &o, &out, &err), BERTH_EPRECOND);
	assert_false(err.retryable);

	/* A handler that never answers is INTERNAL, not a hang. */
	in.fail_code = 0;
	in.no_answer = true;
	assert_int_equal(echo(cli, &in, &o, &out, &err), BERTH_EINTERNAL);
	assert_null(out);
	berth_rpc_client_free(cli);
	srv_free(es);
}

/* Sends a hand-made envelope with a bare REQ socket; returns the Reply. */
static Berth__V1__Reply *raw_call(const char *url, Berth__V1__Request *req)
{
	nng_socket s;
	nng_msg *msg;
	Berth__V1__Reply *rep;
	size_t n = protobuf_c_message_get_packed_size(&req->base);

	assert_int_equal(nng_req0_open(&s), 0);
	assert_int_equal(nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 5000), 0);
	assert_int_equal(nng_dial(s, url, NULL, 0), 0);
	assert_int_equal(nng_msg_alloc(&msg, n), 0);
	protobuf_c_message_pack(&req->base, nng_msg_body(msg));
	assert_int_equal(nng_sendmsg(s, msg, 0), 0);
	assert_int_equal(nng_recvmsg(s, &msg, 0), 0);
	rep = berth__v1__reply__unpack(NULL, nng_msg_len(msg),
	                               nng_msg_body(msg));
	assert_non_null(rep);
	nng_msg_free(msg);
	nng_close(s);
	return rep;
}

static void test_bad_payload_and_expired_deadline(void **state)
{
	const char *url = "inproc://berth-rpc-test-raw";
	struct echo_srv *es = srv_start(url);
	Berth__V1__Request req = BERTH__V1__REQUEST__INIT;
	Berth__V1__Reply *rep;
	uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff };
	uint8_t none[1];
	struct berth_rpc_client *cli;

	(void)state;
	req.service = "berth.v1.TestEcho";
	req.method = "Echo";
	req.payload.data = junk;
	req.payload.len = sizeof(junk);
	rep = raw_call(url, &req);
	assert_int_equal(rep->code, BERTH__V1__CODE__INVALID_ARGUMENT);
	berth__v1__reply__free_unpacked(rep, NULL);

	/* Deadline already past: refused without running the handler. */
	req.payload.data = none;
	req.payload.len = 0;
	req.deadline_unix_ms = 1000;
	rep = raw_call(url, &req);
	assert_int_equal(rep->code, BERTH__V1__CODE__DEADLINE_EXCEEDED);
	berth__v1__reply__free_unpacked(rep, NULL);
	assert_int_equal(atomic_load(&es->calls), 0);

	/* A garbage envelope is INVALID_ARGUMENT too. */
	{
		nng_socket s;
		nng_msg *msg;

		assert_int_equal(nng_req0_open(&s), 0);
		assert_int_equal(nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 5000),
		                 0);
		assert_int_equal(nng_dial(s, url, NULL, 0), 0);
		assert_int_equal(nng_send(s, junk, sizeof(junk), 0), 0);
		assert_int_equal(nng_recvmsg(s, &msg, 0), 0);
		rep = berth__v1__reply__unpack(NULL, nng_msg_len(msg),
		                               nng_msg_body(msg));
		assert_non_null(rep);
		assert_int_equal(rep->code, BERTH__V1__CODE__INVALID_ARGUMENT);
		berth__v1__reply__free_unpacked(rep, NULL);
		nng_msg_free(msg);
		nng_close(s);
	}
	/* The server still serves. */
	cli = cli_new(url, NULL);
	{
		Berth__V1__TestEchoRequest in
		    = BERTH__V1__TEST_ECHO_REQUEST__INIT;
		Berth__V1__TestEchoReply *out = NULL;
		struct berth_err err;

		in.text = "still here";
		assert_ok(echo(cli, &in, NULL, &out, &err), &err);
		assert_string_equal(out->text, "still here");
		protobuf_c_message_free_unpacked(&out->base, NULL);
	}
	berth_rpc_client_free(cli);
	srv_free(es);
}

static void test_deadline_exceeded(void **state)
{
	const char *url = "inproc://berth-rpc-test-deadline";
	struct echo_srv *es = srv_start(url);
	struct berth_rpc_client *cli = cli_new(url, NULL);
	Berth__V1__TestSleepRequest in = BERTH__V1__TEST_SLEEP_REQUEST__INIT;
	struct berth_rpc_opts o = { .timeout_ms = 300 };
	ProtobufCMessage *m = NULL;
	struct berth_err err;
	int64_t t0, took;

	(void)state;
	assert_true(wait_peers(cli, 1, 2000));
	in.ms = 1200;
	t0 = ts_now_ms();
	assert_int_equal(berth_rpc_call(cli, &berth__v1__test_echo__descriptor,
	                                "Sleep", &in.base, &m, &o, &err),
	                 BERTH_ETIMEDOUT);
	took = ts_now_ms() - t0;
	assert_null(m);
	assert_true(took >= 290);
	assert_true(took < 300 + 250);
	berth_rpc_client_free(cli);
	srv_free(es); /* waits for the sleeping handler to answer */
}

static void test_peer_down_fails_fast(void **state)
{
	char *dir = ts_tmpdir("rpc");
	char *url = berth_asprintf("ipc://%s/nobody.sock", dir);
	struct berth_rpc_client *cli = cli_new(url, NULL);
	Berth__V1__TestEchoRequest in = BERTH__V1__TEST_ECHO_REQUEST__INIT;
	Berth__V1__TestEchoReply *out = NULL;
	struct berth_rpc_opts o = { .timeout_ms = 5000 };
	struct berth_err err;
	int64_t t0, took;

	(void)state;
	t0 = ts_now_ms();
	assert_int_equal(echo(cli, &in, &o, &out, &err), BERTH_EUNAVAIL);
	took = ts_now_ms() - t0;
	assert_true(err.retryable);
	assert_non_null(strstr(err.msg, "berth.v1.TestEcho"));
	assert_non_null(strstr(err.msg, url));
	assert_true(took < 800);
	assert_int_equal(berth_rpc_client_peers(cli), 0);
	berth_rpc_client_free(cli);
	free(url);
	ts_rmtree(dir);
	free(dir);
}

/* --- async --- */

struct async_rec {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done;
	int ok;
	int bad;
	int last_rv;
	int dup; /* any index completed twice */
	char seen[64];
	pthread_t caller;
	atomic_bool inside; /* caller is inside berth_rpc_call_async */
	int sync_violation;
};

struct async_one {
	struct async_rec *rec;
	int idx;
};

static void async_done(void *arg, int rv, ProtobufCMessage *output,
                       const struct berth_err *err)
{
	struct async_one *one = arg;
	struct async_rec *rec = one->rec;
	char want[32];

	(void)err;
	snprintf(want, sizeof(want), "msg-%d", one->idx);
	pthread_mutex_lock(&rec->mu);
	if (atomic_load(&rec->inside)
	    && pthread_equal(pthread_self(), rec->caller))
		rec->sync_violation++;
	if (rec->seen[one->idx])
		rec->dup++;
	rec->seen[one->idx] = 1;
	rec->last_rv = rv;
	if (rv == 0 && output != NULL
	    && strcmp(((Berth__V1__TestEchoReply *)output)->text, want) == 0)
		rec->ok++;
	else if (rv == 0)
		rec->bad++;
	rec->done++;
	pthread_cond_broadcast(&rec->cv);
	pthread_mutex_unlock(&rec->mu);
	if (output != NULL)
		protobuf_c_message_free_unpacked(output, NULL);
}

static void rec_init(struct async_rec *rec)
{
	memset(rec, 0, sizeof(*rec));
	pthread_mutex_init(&rec->mu, NULL);
	pthread_cond_init(&rec->cv, NULL);
	rec->caller = pthread_self();
	atomic_init(&rec->inside, false);
}

static bool rec_wait(struct async_rec *rec, int n, int ms)
{
	int64_t until = ts_now_ms() + ms;
	bool ok;

	pthread_mutex_lock(&rec->mu);
	while (rec->done < n && ts_now_ms() < until) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 20 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&rec->cv, &rec->mu, &ts);
	}
	ok = rec->done >= n;
	pthread_mutex_unlock(&rec->mu);
	return ok;
}

static void rec_fini(struct async_rec *rec)
{
	pthread_cond_destroy(&rec->cv);
	pthread_mutex_destroy(&rec->mu);
}

static void start_echo_async(struct berth_rpc_client *cli,
                             struct async_one *one, const char *text,
                             int timeout_ms)
{
	Berth__V1__TestEchoRequest in = BERTH__V1__TEST_ECHO_REQUEST__INIT;
	struct berth_rpc_opts o = { .timeout_ms = timeout_ms };
	struct berth_err err;

	in.text = (char *)text;
	atomic_store(&one->rec->inside, true);
	assert_ok(berth_rpc_call_async(cli, &berth__v1__test_echo__descriptor,
	                               "Echo", &in.base, &o, async_done, one,
	                               &err),
	          &err);
	atomic_store(&one->rec->inside, false);
}

static void test_64_concurrent_async(void **state)
{
	const char *url = "inproc://berth-rpc-test-conc";
	struct echo_srv *es = srv_start(url);
	struct berth_rpc_client *cli = cli_new(url, NULL);
	struct async_one ones[64];
	struct async_rec rec;
	char text[32];

	(void)state;
	rec_init(&rec);
	for (int i = 0; i < 64; i++) {
		ones[i].rec = &rec;
		ones[i].idx = i;
		snprintf(text, sizeof(text), "msg-%d", i);
		start_echo_async(cli, &ones[i], text, 10000);
	}
	assert_true(rec_wait(&rec, 64, 15000));
	usleep(50000); /* a late duplicate would show up here */
	pthread_mutex_lock(&rec.mu);
	assert_int_equal(rec.done, 64);
	assert_int_equal(rec.ok, 64);
	assert_int_equal(rec.dup, 0);
	assert_int_equal(rec.sync_violation, 0);
	pthread_mutex_unlock(&rec.mu);
	berth_rpc_client_free(cli);
	srv_free(es);
	rec_fini(&rec);
}

struct sync_worker {
	struct berth_rpc_client *cli;
	int base;
	int ok;
};

static void *sync_worker_main(void *arg)
{
	struct sync_worker *sw = arg;

	for (int i = 0; i < 8; i++) {
		Berth__V1__TestEchoRequest in
		    = BERTH__V1__TEST_ECHO_REQUEST__INIT;
		Berth__V1__TestEchoReply *out = NULL;
		struct berth_rpc_opts o = { .timeout_ms = 10000 };
		struct berth_err err;
		char text[32];

		snprintf(text, sizeof(text), "t-%d", sw->base + i);
		in.text = text;
		if (echo(sw->cli, &in, &o, &out, &err) == 0) {
			if (strcmp(out->text, text) == 0)
				sw->ok++;
			protobuf_c_message_free_unpacked(&out->base, NULL);
		}
	}
	return NULL;
}

static void test_64_concurrent_threads_tcp(void **state)
{
	char url[64];
	struct echo_srv *es;
	struct berth_rpc_client *cli;
	struct sync_worker sw[8];
	pthread_t th[8];
	int ok = 0;

	(void)state;
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", free_tcp_port());
	es = srv_start(url);
	cli = cli_new(url, NULL);
	for (int i = 0; i < 8; i++) {
		sw[i].cli = cli;
		sw[i].base = i * 8;
		sw[i].ok = 0;
		assert_int_equal(
		    pthread_create(&th[i], NULL, sync_worker_main, &sw[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		ok += sw[i].ok;
	}
	assert_int_equal(ok, 64);
	assert_int_equal(atomic_load(&es->calls), 64);
	berth_rpc_client_free(cli);
	srv_free(es);
}

static void test_oversize_refused_server_survives(void **state)
{
	char *dir = ts_tmpdir("rpc");
	char *url = berth_asprintf("ipc://%s/big.sock", dir);
	struct berth_rpc_server_opts so = { .max_msg = 64 * 1024 };
	struct berth_rpc_client_opts co = { .max_msg = 1024 * 1024 };
	struct berth_rpc_client_opts small = { .max_msg = 1024 };
	struct echo_srv *es = srv_start_opts(url, &so, 1);
	struct berth_rpc_client *cli = cli_new(url, &co);
	struct berth_rpc_client *tiny = cli_new(url, &small);
	Berth__V1__TestEchoRequest in = BERTH__V1__TEST_ECHO_REQUEST__INIT;
	Berth__V1__TestEchoReply *out = NULL;
	struct berth_rpc_opts o = { .timeout_ms = 1000 };
	struct berth_err err;
	uint8_t *blob = berth_calloc(1, 200 * 1024);
	int64_t t0;

	(void)state;
	in.blob.data = blob;
	in.blob.len = 200 * 1024;
	/* Above the client's own limit: refused before sending. */
	t0 = ts_now_ms();
	assert_int_equal(echo(tiny, &in, &o, &out, &err), BERTH_ELIMIT);
	assert_true(ts_now_ms() - t0 < 100);
	/* Above the server's limit: nng drops it; the call fails. */
	assert_true(wait_peers(cli, 1, 2000));
	assert_int_not_equal(echo(cli, &in, &o, &out, &err), 0);
	assert_null(out);
	/* ... and the server answers the next call. */
	in.blob.len = 1024;
	in.text = "after";
	o.timeout_ms = 5000;
	assert_ok(echo(cli, &in, &o, &out, &err), &err);
	assert_string_equal(out->text, "after");
	assert_int_equal(out->blob.len, 1024);
	protobuf_c_message_free_unpacked(&out->base, NULL);
	berth_rpc_client_free(tiny);
	berth_rpc_client_free(cli);
	srv_free(es);
	free(blob);
	free(url);
	ts_rmtree(dir);
	free(dir);
}

static void test_dial_mode_two_instances(void **state)
{
	char *dir = ts_tmpdir("rpc");
	char *url = berth_asprintf("ipc://%s/lb/client.sock", dir);
	struct berth_rpc_client_opts co = { .listen = true };
	struct berth_rpc_server_opts so = { .dial = true, .workers = 2 };
	struct berth_rpc_client *cli = cli_new(url, &co);
	struct echo_srv *a = srv_start_opts(url, &so, 1);
	struct echo_srv *b = srv_start_opts(url, &so, 2);
	int per[3] = { 0, 0, 0 };
	struct stat st;

	(void)state;
	assert_int_equal(stat(url + 6, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_true(wait_peers(cli, 2, 5000));
	for (int i = 0; i < 200; i++) {
		Berth__V1__TestEchoRequest in
		    = BERTH__V1__TEST_ECHO_REQUEST__INIT;
		Berth__V1__TestEchoReply *out = NULL;
		struct berth_rpc_opts o = { .timeout_ms = 5000 };
		struct berth_err err;

		in.text = "lb";
		assert_ok(echo(cli, &in, &o, &out, &err), &err);
		assert_true(out->instance == 1 || out->instance == 2);
		per[out->instance]++;
		protobuf_c_message_free_unpacked(&out->base, NULL);
	}
	assert_true(per[1] > 0);
	assert_true(per[2] > 0);
	assert_int_equal(atomic_load(&a->calls), per[1]);
	assert_int_equal(atomic_load(&b->calls), per[2]);
	srv_free(a);
	srv_free(b);
	berth_rpc_client_free(cli);
	free(url);
	ts_rmtree(dir);
	free(dir);
}

static void start_sleep_async(struct berth_rpc_client *cli,
                              struct async_one *one, int ms, int timeout_ms)
{
	Berth__V1__TestSleepRequest in = BERTH__V1__TEST_SLEEP_REQUEST__INIT;
	struct berth_rpc_opts o = { .timeout_ms = timeout_ms };
	struct berth_err err;

	in.ms = ms;
	assert_ok(berth_rpc_call_async(cli, &berth__v1__test_echo__descriptor,
	                               "Sleep", &in.base, &o, async_done, one,
	                               &err),
	          &err);
}

static void test_server_close_with_call_in_flight(void **state)
{
	const char *url = "inproc://berth-rpc-test-close";
	struct echo_srv *es = srv_start(url);
	struct berth_rpc_client *cli = cli_new(url, NULL);
	struct async_rec rec;
	struct async_one one = { &rec, 0 };
	int64_t until = ts_now_ms() + 2000;

	(void)state;
	rec_init(&rec);
	assert_true(wait_peers(cli, 1, 2000));
	start_sleep_async(cli, &one, 300, 3000);
	while (atomic_load(&es->calls) == 0 && ts_now_ms() < until)
		usleep(2000);
	assert_int_equal(atomic_load(&es->calls), 1);
	/* Close while the handler sleeps: it finishes and answers. */
	berth_rpc_server_close(es->rpc);
	assert_true(rec_wait(&rec, 1, 4000));
	berth_rpc_server_close(es->rpc);
	srv_free(es);
	berth_rpc_client_free(cli);
	pthread_mutex_lock(&rec.mu);
	assert_int_equal(rec.done, 1);
	assert_int_equal(rec.dup, 0);
	pthread_mutex_unlock(&rec.mu);
	rec_fini(&rec);
}

/*
 * A handler's reply leaves when it answers, not when it returns: a
 * handler that answers (while holding a lock) and then works on for
 * LINGER_MS has its caller answered well before that, and closing the
 * server still waits for the handler to finish.
 */
static void test_reply_leaves_on_answer(void **state)
{
	const char *url = "inproc://berth-rpc-test-linger";
	struct echo_srv *es = srv_start(url);
	struct berth_rpc_client *cli = cli_new(url, NULL);
	Berth__V1__TestEchoRequest in = BERTH__V1__TEST_ECHO_REQUEST__INIT;
	Berth__V1__TestEchoReply *out = NULL;
	struct berth_rpc_opts o = { 0 };
	struct berth_err err;
	int64_t t0, took;

	(void)state;
	assert_true(wait_peers(cli, 1, 2000));
	in.text = "linger";
	o.timeout_ms = 5000;
	t0 = ts_now_ms();
	assert_ok(echo(cli, &in, &o, &out, &err), &err);
	took = ts_now_ms() - t0;
	assert_string_equal(out->text, "linger");
	protobuf_c_message_free_unpacked(&out->base, NULL);
	assert_true(took < LINGER_MS / 2);
	assert_int_equal(atomic_load(&es->lingered), 0);

	/* Another call meanwhile goes to another worker. */
	out = NULL;
	in.text = "next";
	assert_ok(echo(cli, &in, &o, &out, &err), &err);
	assert_string_equal(out->text, "next");
	protobuf_c_message_free_unpacked(&out->base, NULL);

	/* Close waits for the lingering handler. */
	berth_rpc_server_close(es->rpc);
	assert_int_equal(atomic_load(&es->lingered), 1);
	berth_rpc_client_free(cli);
	srv_free(es);
}

static void test_client_free_cancels_calls(void **state)
{
	const char *url = "inproc://berth-rpc-test-cancel";
	struct echo_srv *es = srv_start(url);
	struct berth_rpc_client *cli = cli_new(url, NULL);
	struct berth_rpc_client *lonely;
	struct async_rec rec;
	struct async_one one[2] = { { &rec, 0 }, { &rec, 1 } };

	(void)state;
	rec_init(&rec);
	assert_true(wait_peers(cli, 1, 2000));
	start_sleep_async(cli, &one[0], 400, 5000);
	/* One more, parked waiting for a server that never comes. */
	lonely = cli_new("inproc://berth-rpc-test-nobody", NULL);
	start_sleep_async(lonely, &one[1], 0, 5000);
	usleep(50000);
	berth_rpc_client_free(cli);
	berth_rpc_client_free(lonely);
	/* Both completed, once each, cancelled, before free returned. */
	pthread_mutex_lock(&rec.mu);
	assert_int_equal(rec.done, 2);
	assert_int_equal(rec.dup, 0);
	assert_int_equal(rec.last_rv, BERTH_ECANCELLED);
	pthread_mutex_unlock(&rec.mu);
	srv_free(es);
	rec_fini(&rec);
}

static void test_async_exactly_once_and_not_inline(void **state)
{
	const char *url = "inproc://berth-rpc-test-once";
	struct echo_srv *es = srv_start(url);
	struct berth_rpc_client *cli = cli_new(url, NULL);
	struct berth_rpc_client *none
	    = cli_new("inproc://berth-rpc-test-void", NULL);
	Berth__V1__TestEchoRequest in = BERTH__V1__TEST_ECHO_REQUEST__INIT;
	struct async_rec rec;
	struct async_one one[3] = { { &rec, 0 }, { &rec, 1 }, { &rec, 2 } };
	struct berth_err err;
	int64_t t0;

	(void)state;
	rec_init(&rec);
	start_echo_async(cli, &one[0], "msg-0", 5000);
	/* No server: fails fast, still through the callback. */
	t0 = ts_now_ms();
	start_echo_async(none, &one[1], "msg-1", 100);
	assert_true(rec_wait(&rec, 2, 5000));
	assert_true(ts_now_ms() - t0 < 1000);
	pthread_mutex_lock(&rec.mu);
	assert_int_equal(rec.seen[1], 1);
	pthread_mutex_unlock(&rec.mu);
	/* A bad method: an error now, and `done` never runs. */
	assert_int_equal(
	    berth_rpc_call_async(cli, &berth__v1__test_echo__descriptor, "Nope",
	                         &in.base, NULL, async_done, &one[2], &err),
	    BERTH_EUNIMPL);
	usleep(100000);
	pthread_mutex_lock(&rec.mu);
	assert_int_equal(rec.done, 2);
	assert_int_equal(rec.ok, 1);
	assert_int_equal(rec.dup, 0);
	assert_int_equal(rec.sync_violation, 0);
	assert_int_equal(rec.seen[2], 0);
	pthread_mutex_unlock(&rec.mu);
	berth_rpc_client_free(none);
	berth_rpc_client_free(cli);
	srv_free(es);
	rec_fini(&rec);
}

/*
 * A slow idempotent call on a live connection runs its handler once:
 * resending is for a server that went away, not for one that is busy
 * (with a 1 s resend timer, a 2.5 s handler ran three times and took
 * three workers).
 */
static void test_slow_idempotent_call_runs_once(void **state)
{
	const char *url = "inproc://berth-rpc-test-slow-once";
	struct echo_srv *es = srv_start(url);
	struct berth_rpc_client *cli = cli_new(url, NULL);
	Berth__V1__TestSleepRequest in = BERTH__V1__TEST_SLEEP_REQUEST__INIT;
	struct berth_rpc_opts o = { 0 };
	ProtobufCMessage *m = NULL;
	struct berth_err err;

	(void)state;
	assert_true(wait_peers(cli, 1, 2000));
	in.ms = 2500;
	o.timeout_ms = 8000;
	o.idempotent = true;
	o.request_id = "slow-1";
	assert_ok(berth_rpc_call(cli, &berth__v1__test_echo__descriptor,
	                         "Sleep", &in.base, &m, &o, &err),
	          &err);
	protobuf_c_message_free_unpacked(m, NULL);
	/* Give a late resend time to land before counting. */
	usleep(300000);
	assert_int_equal(atomic_load(&es->calls), 1);
	berth_rpc_client_free(cli);
	srv_free(es);
}

/* Counts completions of the cap test's calls. */
struct cap_rec {
	atomic_int done;
	atomic_int cancelled;
};

static void cap_done(void *arg, int rv, ProtobufCMessage *output,
                     const struct berth_err *err)
{
	struct cap_rec *cr = arg;

	(void)err;
	if (rv == BERTH_ECANCELLED)
		atomic_fetch_add(&cr->cancelled, 1);
	atomic_fetch_add(&cr->done, 1);
	if (output != NULL)
		protobuf_c_message_free_unpacked(output, NULL);
}

/*
 * Calls under way are capped: past the cap a call fails at once with
 * RESOURCE_EXHAUSTED (retryable) instead of growing without bound.
 */
static void test_inflight_cap(void **state)
{
	const char *url = "inproc://berth-rpc-test-cap";
	struct berth_rpc_server_opts so = { .workers = 1 };
	struct echo_srv *es = srv_start_opts(url, &so, 1);
	struct berth_rpc_client *cli = cli_new(url, NULL);
	Berth__V1__TestSleepRequest in = BERTH__V1__TEST_SLEEP_REQUEST__INIT;
	struct berth_rpc_opts o = { 0 };
	struct cap_rec cr;
	struct berth_err err;
	int n = RPC_MAX_INFLIGHT, rv;

	(void)state;
	atomic_init(&cr.done, 0);
	atomic_init(&cr.cancelled, 0);
	assert_true(wait_peers(cli, 1, 2000));
	in.ms = 200;
	o.timeout_ms = 20000;
	for (int i = 0; i < n; i++)
		assert_ok(berth_rpc_call_async(
		              cli, &berth__v1__test_echo__descriptor, "Sleep",
		              &in.base, &o, cap_done, &cr, &err),
		          &err);
	berth_err_clear(&err);
	rv = berth_rpc_call_async(cli, &berth__v1__test_echo__descriptor,
	                          "Sleep", &in.base, &o, cap_done, &cr, &err);
	assert_int_equal(rv, BERTH_ELIMIT);
	assert_true(err.retryable);
	/* Freeing cancels the rest; each ends exactly once. */
	berth_rpc_client_free(cli);
	assert_int_equal(atomic_load(&cr.done), n);
	assert_true(atomic_load(&cr.cancelled) >= n - 2);
	srv_free(es);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_inproc),
		cmocka_unit_test(test_round_trip_ipc_modes),
		cmocka_unit_test(test_round_trip_tcp),
		cmocka_unit_test(test_bad_urls_and_address_in_use),
		cmocka_unit_test(test_unknown_service_and_method),
		cmocka_unit_test(test_handler_failure_propagates),
		cmocka_unit_test(test_bad_payload_and_expired_deadline),
		cmocka_unit_test(test_deadline_exceeded),
		cmocka_unit_test(test_peer_down_fails_fast),
		cmocka_unit_test(test_64_concurrent_async),
		cmocka_unit_test(test_64_concurrent_threads_tcp),
		cmocka_unit_test(test_oversize_refused_server_survives),
		cmocka_unit_test(test_dial_mode_two_instances),
		cmocka_unit_test(test_server_close_with_call_in_flight),
		cmocka_unit_test(test_reply_leaves_on_answer),
		cmocka_unit_test(test_client_free_cancels_calls),
		cmocka_unit_test(test_async_exactly_once_and_not_inline),
		cmocka_unit_test(test_slow_idempotent_call_runs_once),
		cmocka_unit_test(test_inflight_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
