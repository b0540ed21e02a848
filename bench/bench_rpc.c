/*
 * bench_rpc.c: the RPC core's overhead. A no-op call (TestEcho.Echo, a
 * short string) through berth_rpc_call against a bare nng REQ/REP round
 * trip carrying the same number of bytes each way, in one run, in
 * alternating blocks so that machine drift hits both alike. Over
 * inproc:// and ipc://. Target: p50(rpc) / p50(bare) <= 1.5.
 */
#include "lib/alloc.h"
#include "lib/rpc.h"
#include "tests/support/testsupport.h"

#include "berth/v1/rpc.pb-c.h"
#include "berth/v1/testsvc.pb-c.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N           20000
#define BLOCK       500
#define WARMUP      500
#define MAX_SECONDS 20
#define TARGET      1.5

static void b_echo(Berth__V1__TestEcho_Service *svc,
                   const Berth__V1__TestEchoRequest *in,
                   Berth__V1__TestEchoReply_Closure closure, void *closure_data)
{
	Berth__V1__TestEchoReply r = BERTH__V1__TEST_ECHO_REPLY__INIT;

	(void)svc;
	r.text = in->text;
	closure(&r, closure_data);
}

static void b_sleep(Berth__V1__TestEcho_Service *svc,
                    const Berth__V1__TestSleepRequest *in,
                    Berth__V1__TestEchoReply_Closure closure,
                    void *closure_data)
{
	Berth__V1__TestEchoReply r = BERTH__V1__TEST_ECHO_REPLY__INIT;

	(void)svc;
	(void)in;
	closure(&r, closure_data);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double pct(double *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	i = (size_t)(p * (double)(n - 1));
	return v[i];
}

/* The bare REP side: echo every message back until the socket closes. */
static void *bare_server(void *arg)
{
	nng_socket *s = arg;

	for (;;) {
		nng_msg *m;

		if (nng_recvmsg(*s, &m, 0) != 0)
			break;
		if (nng_sendmsg(*s, m, 0) != 0)
			nng_msg_free(m);
	}
	return NULL;
}

static int bare_once(nng_socket s, size_t len)
{
	nng_msg *m;
	int rv;

	rv = nng_msg_alloc(&m, len);
	if (rv != 0)
		return rv;
	memset(nng_msg_body(m), 'x', len);
	rv = nng_sendmsg(s, m, 0);
	if (rv != 0) {
		nng_msg_free(m);
		return rv;
	}
	rv = nng_recvmsg(s, &m, 0);
	if (rv == 0)
		nng_msg_free(m);
	return rv;
}

static int rpc_once(struct berth_rpc_client *cli,
                    const Berth__V1__TestEchoRequest *in, struct berth_err *err)
{
	ProtobufCMessage *out = NULL;
	struct berth_rpc_opts o = { .timeout_ms = 5000 };
	int rv;

	rv = berth_rpc_call(cli, &berth__v1__test_echo__descriptor, "Echo",
	                    &in->base, &out, &o, err);
	if (rv == 0)
		protobuf_c_message_free_unpacked(out, NULL);
	return rv;
}

/* The size of the Request envelope an Echo of `in` travels in. */
static size_t envelope_size(const Berth__V1__TestEchoRequest *in)
{
	Berth__V1__Request req = BERTH__V1__REQUEST__INIT;
	uint8_t buf[256];

	req.service = (char *)berth__v1__test_echo__descriptor.name;
	req.method = "Echo";
	req.deadline_unix_ms = 1700000000000;
	req.payload.len = protobuf_c_message_pack(&in->base, buf);
	req.payload.data = buf;
	return protobuf_c_message_get_packed_size(&req.base);
}

static void run(const char *transport, const char *rpc_url,
                const char *bare_url)
{
	static const Berth__V1__TestEcho_Service init
	    = BERTH__V1__TEST_ECHO__INIT(b_);
	Berth__V1__TestEcho_Service svc = init;
	Berth__V1__TestEchoRequest in = BERTH__V1__TEST_ECHO_REQUEST__INIT;
	struct berth_rpc_server *srv = NULL;
	struct berth_rpc_client *cli = NULL;
	const char *urls[1] = { rpc_url };
	nng_socket rep, req;
	pthread_t th;
	double *rpc_us = berth_calloc(N, sizeof(double));
	double *bare_us = berth_calloc(N, sizeof(double));
	size_t nr = 0, nb = 0, len;
	struct berth_err err;
	double deadline, t;
	double p50, p99, b50, b99;
	int fails = 0;

	in.text = "ping";
	len = envelope_size(&in);
	if (berth_rpc_server_alloc(&srv, rpc_url, NULL, &err) != 0
	    || berth_rpc_server_add_service(srv, &svc.base, &err) != 0
	    || berth_rpc_server_start(srv, &err) != 0
	    || berth_rpc_client_alloc(&cli, urls, 1, NULL, &err) != 0) {
		printf("bench=rpc_noop transport=%s error=\"%s\" ok=0\n",
		       transport, err.msg);
		goto out;
	}
	if (nng_rep0_open(&rep) != 0 || nng_listen(rep, bare_url, NULL, 0) != 0
	    || nng_req0_open(&req) != 0 || nng_dial(req, bare_url, NULL, 0) != 0
	    || pthread_create(&th, NULL, bare_server, &rep) != 0) {
		printf("bench=rpc_noop transport=%s error=\"bare nng setup\" "
		       "ok=0\n",
		       transport);
		goto out;
	}
	nng_socket_set_ms(req, NNG_OPT_RECVTIMEO, 5000);
	for (int i = 0; i < WARMUP; i++) {
		fails += rpc_once(cli, &in, &err) != 0;
		fails += bare_once(req, len) != 0;
	}
	deadline = now_us() + MAX_SECONDS * 1e6;
	while (nr < N && now_us() < deadline) {
		for (int i = 0; i < BLOCK && nb < N; i++) {
			t = now_us();
			if (bare_once(req, len) != 0) {
				fails++;
				continue;
			}
			bare_us[nb++] = now_us() - t;
		}
		for (int i = 0; i < BLOCK && nr < N; i++) {
			t = now_us();
			if (rpc_once(cli, &in, &err) != 0) {
				fails++;
				continue;
			}
			rpc_us[nr++] = now_us() - t;
		}
	}
	nng_close(req);
	nng_close(rep);
	pthread_join(th, NULL);
	p50 = pct(rpc_us, nr, 0.50);
	p99 = pct(rpc_us, nr, 0.99);
	b50 = pct(bare_us, nb, 0.50);
	b99 = pct(bare_us, nb, 0.99);
	printf("bench=rpc_noop transport=%s p50_us=%.1f p99_us=%.1f "
	       "bare_p50_us=%.1f bare_p99_us=%.1f ratio_p50=%.2f "
	       "target=%.1f ok=%d\n",
	       transport, p50, p99, b50, b99, b50 > 0 ? p50 / b50 : 0.0, TARGET,
	       fails == 0 && b50 > 0 && p50 / b50 <= TARGET);
	printf("# transport=%s samples=%zu bare_samples=%zu bytes=%zu "
	       "failures=%d\n",
	       transport, nr, nb, len, fails);
out:
	berth_rpc_client_free(cli);
	berth_rpc_server_free(srv);
	free(rpc_us);
	free(bare_us);
}

int main(void)
{
	char *dir = ts_tmpdir("bench-rpc");
	char *ipc_rpc = berth_asprintf("ipc://%s/rpc.sock", dir);
	char *ipc_bare = berth_asprintf("ipc://%s/bare.sock", dir);

	run("inproc", "inproc://berth-bench-rpc", "inproc://berth-bench-bare");
	run("ipc", ipc_rpc, ipc_bare);
	free(ipc_rpc);
	free(ipc_bare);
	ts_rmtree(dir);
	free(dir);
	return 0;
}
