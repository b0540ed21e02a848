/*
 * http_stream.c: a libcurl client for tests that read a chunked response
 * incrementally and may hang up mid-way (http_stream.h).
 *
 * The transfer is driven with curl's multi interface from inside the
 * calls, so nothing runs in the background between them.
 */
#include "tests/support/http_stream.h"

#include "lib/alloc.h"
#include "lib/clock.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Body bytes kept at most (tests read small streams). */
#define BODY_MAX    (64u * 1024u * 1024u)
#define HEADERS_MAX 32

struct ts_stream {
	CURLM *multi;
	CURL *easy;
	struct curl_slist *req_headers;
	char *url;
	char *body_out; /* the request body, kept for curl */
	long status;
	bool headers_done; /* the final response's headers are in */
	bool ended;
	bool complete;
	char *data;           /* body received, NUL-terminated */
	size_t len, cap, pos; /* pos: bytes already handed out */
	char *hnames[HEADERS_MAX];
	char *hvalues[HEADERS_MAX];
	size_t nheaders;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct ts_stream *s = arg;
	size_t len = size * n;

	if (s->len + len + 1 > BODY_MAX)
		return 0; /* aborts: a test stream should never be this big */
	if (s->len + len + 1 > s->cap) {
		size_t cap = s->cap > 0 ? s->cap : 4096;

		while (cap < s->len + len + 1)
			cap *= 2;
		s->data = berth_realloc(s->data, cap);
		s->cap = cap;
	}
	memcpy(s->data + s->len, p, len);
	s->len += len;
	s->data[s->len] = '\0';
	return len;
}

static void clear_headers(struct ts_stream *s)
{
	for (size_t i = 0; i < s->nheaders; i++) {
		free(s->hnames[i]);
		free(s->hvalues[i]);
	}
	s->nheaders = 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct ts_stream *s = arg;
	size_t len = size * n;
	const char *colon;

	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* A new response (after a 100 Continue): start over. */
		clear_headers(s);
		s->headers_done = false;
		return len;
	}
	if (len <= 2 && (p[0] == '\r' || p[0] == '\n')) {
		long code = 0;

		curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
		if (code >= 200) {
			s->status = code;
			s->headers_done = true;
		}
		return len;
	}
	colon = memchr(p, ':', len);
	if (colon != NULL && s->nheaders < HEADERS_MAX) {
		const char *v = colon + 1;
		size_t vlen = len - (size_t)(v - p);

		while (vlen > 0 && (*v == ' ' || *v == '\t')) {
			v++;
			vlen--;
		}
		while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n'))
			vlen--;
		s->hnames[s->nheaders] = berth_strndup(p, (size_t)(colon - p));
		s->hvalues[s->nheaders] = berth_strndup(v, vlen);
		s->nheaders++;
	}
	return len;
}

/* Moves the transfer along for up to `wait_ms`. */
static void step(struct ts_stream *s, int wait_ms)
{
	int running = 0, left = 0;
	CURLMsg *m;

	if (s->ended)
		return;
	curl_multi_perform(s->multi, &running);
	if (running > 0 && wait_ms > 0) {
		curl_multi_poll(s->multi, NULL, 0, wait_ms, NULL);
		curl_multi_perform(s->multi, &running);
	}
	while ((m = curl_multi_info_read(s->multi, &left)) != NULL) {
		if (m->msg == CURLMSG_DONE) {
			s->ended = true;
			s->complete = m->data.result == CURLE_OK;
			if (!s->headers_done) {
				long code = 0;

				curl_easy_getinfo(
				    s->easy, CURLINFO_RESPONSE_CODE, &code);
				s->status = code;
				s->headers_done = code > 0;
			}
		}
	}
}

struct ts_stream *ts_stream_open(const char *base, const char *method,
                                 const char *path, const char *body,
                                 const char *token, int timeout_ms)
{
	struct ts_stream *s = berth_calloc(1, sizeof(*s));
	int64_t deadline = berth_clock_mono_ms() + timeout_ms;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	s->multi = curl_multi_init();
	s->easy = curl_easy_init();
	if (s->multi == NULL || s->easy == NULL)
		goto fail;
	s->url = berth_asprintf("%s%s", base, path);
	curl_easy_setopt(s->easy, CURLOPT_URL, s->url);
	curl_easy_setopt(s->easy, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(s->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(s->easy, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(s->easy, CURLOPT_FORBID_REUSE, 1L);
	if (token != NULL) {
		char *h = berth_asprintf("Authorization: Bearer %s", token);

		s->req_headers = curl_slist_append(s->req_headers, h);
		free(h);
	}
	if (body != NULL) {
		s->body_out = berth_strdup(body);
		s->req_headers = curl_slist_append(
		    s->req_headers, "Content-Type: application/json");
		curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->body_out);
		curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE,
		                 (long)strlen(s->body_out));
	}
	curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->req_headers);
	if (curl_multi_add_handle(s->multi, s->easy) != CURLM_OK)
		goto fail;
	while (!s->headers_done && !s->ended) {
		int64_t left = deadline - berth_clock_mono_ms();

		if (left <= 0)
			break;
		step(s, left > 100 ? 100 : (int)left);
	}
	if (!s->headers_done)
		goto fail;
	return s;
fail:
	ts_stream_close(s);
	return NULL;
}

long ts_stream_status(const struct ts_stream *s)
{
	return s->status;
}

const char *ts_stream_header(const struct ts_stream *s, const char *name)
{
	for (size_t i = s->nheaders; i > 0; i--)
		if (strcasecmp(s->hnames[i - 1], name) == 0)
			return s->hvalues[i - 1];
	return NULL;
}

char *ts_stream_line(struct ts_stream *s, int timeout_ms)
{
	int64_t deadline = berth_clock_mono_ms() + timeout_ms;

	for (;;) {
		const char *start = s->data != NULL ? s->data + s->pos : NULL;
		const char *nl = start != NULL
		    ? memchr(start, '\n', s->len - s->pos)
		    : NULL;
		int64_t left;

		if (nl != NULL) {
			char *line = berth_strndup(start, (size_t)(nl - start));

			s->pos += (size_t)(nl - start) + 1;
			return line;
		}
		if (s->ended) {
			if (s->pos < s->len) {
				char *line
				    = berth_strndup(start, s->len - s->pos);

				s->pos = s->len;
				return line;
			}
			return NULL;
		}
		left = deadline - berth_clock_mono_ms();
		if (left <= 0)
			return NULL;
		step(s, left > 50 ? 50 : (int)left);
	}
}

json_t *ts_stream_json(struct ts_stream *s, int timeout_ms)
{
	char *line = ts_stream_line(s, timeout_ms);
	json_error_t jerr;
	json_t *j;

	if (line == NULL)
		return NULL;
	j = json_loads(line, 0, &jerr);
	if (j == NULL)
		fprintf(stderr, "ts_stream_json: not JSON: %.200s\n", line);
	free(line);
	return j;
}

char *ts_stream_rest(struct ts_stream *s, int timeout_ms, size_t *len)
{
	int64_t deadline = berth_clock_mono_ms() + timeout_ms;
	char *out;
	size_t n;

	while (!s->ended) {
		int64_t left = deadline - berth_clock_mono_ms();

		if (left <= 0)
			break;
		step(s, left > 50 ? 50 : (int)left);
	}
	n = s->len - s->pos;
	out = berth_malloc(n + 1);
	if (n > 0)
		memcpy(out, s->data + s->pos, n);
	out[n] = '\0';
	s->pos = s->len;
	if (len != NULL)
		*len = n;
	return out;
}

bool ts_stream_ended(const struct ts_stream *s)
{
	return s->ended;
}

bool ts_stream_complete(const struct ts_stream *s)
{
	return s->complete;
}

void ts_stream_close(struct ts_stream *s)
{
	if (s == NULL)
		return;
	if (s->multi != NULL && s->easy != NULL)
		curl_multi_remove_handle(s->multi, s->easy);
	if (s->easy != NULL)
		curl_easy_cleanup(s->easy); /* closes the connection */
	if (s->multi != NULL)
		curl_multi_cleanup(s->multi);
	curl_slist_free_all(s->req_headers);
	clear_headers(s);
	free(s->url);
	free(s->body_out);
	free(s->data);
	free(s);
}
