/*
 * engine_http.c: HTTP requests to a container engine through libcurl
 * (see engine_http.h).
 *
 * One easy handle per request keeps the helper thread-safe without
 * locks; the cost (no connection reuse) is small on a unix socket.
 */
#include "lib/engine_http.h"

#include "lib/alloc.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TIMEOUT_MS 60000L
#define CONNECT_TIMEOUT_MS 10000L
#define STREAM_TOTAL_MS    (30L * 60L * 1000L)
#define STREAM_LOW_SPEED_S 300L
#define STREAM_LOW_SPEED_B 1L

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init_once(void)
{
	/* Failure here surfaces later as curl_easy_init() returning NULL. */
	(void)curl_global_init(CURL_GLOBAL_ALL);
}

void berth_http_global_init(void)
{
	pthread_once(&global_once, global_init_once);
}

char *berth_http_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = berth_malloc(n * 3 + 1);
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
		    || (c >= '0' && c <= '9') || c == '-' || c == '.'
		    || c == '_' || c == '~') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 0xf];
		}
	}
	out[o] = '\0';
	return out;
}

/* State shared by the write callbacks of one transfer. */
struct xfer {
	CURL *curl;
	struct berth_buf *buf; /* berth_http_do: the reply */
	bool over_cap;         /* the reply exceeded buf->max */
	/* Streams only. */
	berth_http_chunk_fn fn;
	void *arg;
	int checked; /* 0 = status not looked at yet, 1 = 2xx, -1 = not */
	int cb_rv;   /* the callback's code when it stopped the transfer */
	struct berth_buf *errbody;
	berth_http_tick_fn tick;
	curl_off_t next_tick_us; /* CURLINFO_TOTAL_TIME_T of the next tick */
};

static size_t write_buf(char *p, size_t size, size_t nmemb, void *userdata)
{
	struct xfer *x = userdata;
	size_t n = size * nmemb;

	if (berth_buf_append(x->buf, p, n) != 0) {
		x->over_cap = true;
		return 0; /* aborts with CURLE_WRITE_ERROR */
	}
	return n;
}

static size_t write_stream(char *p, size_t size, size_t nmemb, void *userdata)
{
	struct xfer *x = userdata;
	size_t n = size * nmemb;
	int rv;

	if (x->checked == 0) {
		long code = 0;

		curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &code);
		x->checked = (code >= 200 && code < 300) ? 1 : -1;
	}
	if (x->checked < 0) {
		/* An error body: keep its head, drop the rest quietly. */
		size_t room = x->errbody->max - x->errbody->len;

		(void)berth_buf_append(x->errbody, p, n < room ? n : room);
		return n;
	}
	rv = x->fn(x->arg, p, n);
	if (rv != 0) {
		x->cb_rv = rv < 0 ? rv : BERTH_ECANCELLED;
		return 0;
	}
	return n;
}

/* curl calls this many times a second, idle or not: pass it on to the
 * caller's tick about once a second. */
static int xferinfo(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
                    curl_off_t ultotal, curl_off_t ulnow)
{
	struct xfer *x = userdata;
	curl_off_t now = 0;
	int rv;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	if (curl_easy_getinfo(x->curl, CURLINFO_TOTAL_TIME_T, &now) != CURLE_OK
	    || now < x->next_tick_us)
		return 0;
	x->next_tick_us = now + 1000000;
	rv = x->tick(x->arg);
	if (rv != 0) {
		x->cb_rv = rv < 0 ? rv : BERTH_ECANCELLED;
		return 1; /* aborts with CURLE_ABORTED_BY_CALLBACK */
	}
	return 0;
}

/* Maps a curl failure to a berth code and a message naming the target. */
static int map_curl_error(const struct berth_http_target *t, CURL *c,
                          CURLcode cc, struct berth_err *err)
{
	long oserr = 0;
	char ebuf[128];
	const char *what = curl_easy_strerror(cc);
	const char *display = t->display != NULL ? t->display : "engine";

	curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr);
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		return berth_err_set_retryable(
		    err, BERTH_ETIMEDOUT, "engine at %s did not answer in time",
		    display);
	case CURLE_OUT_OF_MEMORY:
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_BAD_FUNCTION_ARGUMENT:
	case CURLE_FAILED_INIT:
		return berth_err_set(err, BERTH_EINTERNAL,
		                     "request to engine at %s failed: %s",
		                     display, what);
	default: break;
	}
	if (oserr != 0)
		return berth_err_set_retryable(
		    err, BERTH_EUNAVAIL, "engine at %s unreachable: %s (%s)",
		    display, what, strerror_r((int)oserr, ebuf, sizeof(ebuf)));
	return berth_err_set_retryable(
	    err, BERTH_EUNAVAIL, "engine at %s unreachable: %s", display, what);
}

/* curl_slist_append() fails only without memory: fatal, as in alloc.h. */
static struct curl_slist *header_add(struct curl_slist *h, const char *line)
{
	struct curl_slist *n = curl_slist_append(h, line);

	if (n == NULL)
		abort();
	return n;
}

/*
 * Sets up `c` for `req` against `t`. `url` and `headers` are handed back
 * so the caller frees them after the transfer.
 */
static int prepare(CURL *c, const struct berth_http_target *t,
                   const struct berth_http_req *req, char **url,
                   struct curl_slist **headers, struct berth_err *err)
{
	const char *method = req->method != NULL ? req->method : "GET";
	struct curl_slist *h = NULL;
	long timeout = req->timeout_ms != 0 ? req->timeout_ms : t->timeout_ms;

	if (req->path == NULL || req->path[0] != '/')
		return berth_err_set(err, BERTH_EINVAL,
		                     "engine request path must start with '/'");
	if (t->socket_path != NULL) {
		*url = berth_asprintf("http://localhost%s", req->path);
		curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, t->socket_path);
	} else if (t->base_url != NULL) {
		*url = berth_asprintf("%s%s", t->base_url, req->path);
	} else {
		return berth_err_set(err, BERTH_EINVAL,
		                     "engine target has no socket and no url");
	}
	if (timeout == 0)
		timeout = DEFAULT_TIMEOUT_MS;

	curl_easy_setopt(c, CURLOPT_URL, *url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	                 timeout > 0 && timeout < CONNECT_TIMEOUT_MS
	                     ? timeout
	                     : CONNECT_TIMEOUT_MS);
	if (timeout > 0)
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);

	/* No "Expect: 100-continue" round trip for JSON bodies. */
	h = header_add(h, "Expect:");
	if (req->body != NULL || strcmp(method, "POST") == 0) {
		char *ct = berth_asprintf("Content-Type: %s",
		                          req->content_type != NULL
		                              ? req->content_type
		                              : "application/json");

		h = header_add(h, ct);
		free(ct);
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS,
		                 req->body != NULL ? req->body : "");
		curl_easy_setopt(
		    c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(req->body != NULL ? req->body_len : 0));
	}
	for (size_t i = 0; i < req->nheaders; i++)
		h = header_add(h, req->headers[i]);
	if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	*headers = h;
	return 0;
}

int berth_http_do(const struct berth_http_target *t,
                  const struct berth_http_req *req, long *status,
                  struct berth_buf *reply, struct berth_err *err)
{
	CURL *c = NULL;
	char *url = NULL;
	struct curl_slist *headers = NULL;
	struct xfer x = { 0 };
	size_t len0 = reply->len;
	long code = 0;
	CURLcode cc;
	int rv;

	berth_http_global_init();
	c = curl_easy_init();
	if (c == NULL) {
		rv = berth_err_set(err, BERTH_EINTERNAL,
		                   "curl_easy_init failed");
		goto out;
	}
	rv = prepare(c, t, req, &url, &headers, err);
	if (rv != 0)
		goto out;
	x.curl = c;
	x.buf = reply;
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_buf);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);

	cc = curl_easy_perform(c);
	if (cc == CURLE_WRITE_ERROR && x.over_cap) {
		rv = berth_err_set(err, BERTH_ELIMIT,
		                   "engine reply larger than %zu bytes",
		                   reply->max);
		goto out;
	}
	if (cc != CURLE_OK) {
		rv = map_curl_error(t, c, cc, err);
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	*status = code;
	rv = 0;
out:
	if (rv != 0) {
		/* Leave the reply as the caller gave it. */
		reply->len = len0;
		if (reply->data != NULL)
			reply->data[len0] = '\0';
	}
	curl_slist_free_all(headers);
	free(url);
	if (c != NULL)
		curl_easy_cleanup(c);
	return rv;
}

int berth_http_stream(const struct berth_http_target *t,
                      const struct berth_http_req *req,
                      const struct berth_http_stream_limits *limits,
                      berth_http_chunk_fn fn, void *arg, long *status,
                      struct berth_buf *errbody, struct berth_err *err)
{
	CURL *c = NULL;
	char *url = NULL;
	struct curl_slist *headers = NULL;
	struct xfer x = { 0 };
	struct berth_http_req r = *req;
	long total = STREAM_TOTAL_MS;
	long low_b = STREAM_LOW_SPEED_B, low_s = STREAM_LOW_SPEED_S;
	long code = 0;
	CURLcode cc;
	int rv;

	if (limits != NULL) {
		if (limits->total_ms > 0)
			total = limits->total_ms;
		if (limits->low_speed_bytes > 0)
			low_b = limits->low_speed_bytes;
		if (limits->low_speed_s > 0)
			low_s = limits->low_speed_s;
	}
	r.timeout_ms = total;

	berth_http_global_init();
	c = curl_easy_init();
	if (c == NULL) {
		rv = berth_err_set(err, BERTH_EINTERNAL,
		                   "curl_easy_init failed");
		goto out;
	}
	rv = prepare(c, t, &r, &url, &headers, err);
	if (rv != 0)
		goto out;
	x.curl = c;
	x.fn = fn;
	x.arg = arg;
	x.errbody = errbody;
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_stream);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, low_b);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, low_s);
	if (limits != NULL && limits->tick != NULL) {
		x.tick = limits->tick;
		x.next_tick_us = 1000000;
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, xferinfo);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, &x);
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	}

	cc = curl_easy_perform(c);
	if ((cc == CURLE_WRITE_ERROR || cc == CURLE_ABORTED_BY_CALLBACK)
	    && x.cb_rv != 0) {
		rv = x.cb_rv;
		if (err != NULL && err->code != rv)
			berth_err_set(err, rv, "engine stream stopped");
		goto out;
	}
	if (cc != CURLE_OK) {
		rv = map_curl_error(t, c, cc, err);
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	*status = code;
	rv = 0;
out:
	curl_slist_free_all(headers);
	free(url);
	if (c != NULL)
		curl_easy_cleanup(c);
	return rv;
}

void berth_http_engine_message(const char *body, size_t len, char *out,
                               size_t max)
{
	json_t *root = NULL;
	const char *text = body;
	size_t tlen = len;
	size_t o = 0;

	if (max == 0)
		return;
	if (body != NULL && len > 0) {
		root = json_loadb(body, len, 0, NULL);
		if (root != NULL) {
			json_t *m = json_object_get(root, "message");

			if (json_is_string(m)) {
				text = json_string_value(m);
				tlen = json_string_length(m);
			}
		}
	}
	for (size_t i = 0; text != NULL && i < tlen && o + 1 < max; i++) {
		unsigned char ch = (unsigned char)text[i];

		out[o++] = (ch < 0x20 || ch == 0x7f) ? ' ' : (char)ch;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	json_decref(root);
}
