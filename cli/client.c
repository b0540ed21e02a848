/*
 * client.c: the REST client behind berth's command-line commands (see
 * client.h).
 */
#include "cli/client.h"

#include "lib/alloc.h"
#include "lib/buf.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLY_MAX (64u << 20)

static char *read_token_file(const char *path)
{
	char buf[512];
	FILE *f = fopen(path, "re");
	char *tok = NULL;

	if (f == NULL)
		return NULL;
	if (fgets(buf, sizeof(buf), f) != NULL) {
		buf[strcspn(buf, "\r\n")] = '\0';
		if (buf[0] != '\0')
			tok = berth_strdup(buf);
	}
	fclose(f);
	return tok;
}

int cli_client_init(struct cli_client *c)
{
	const char *url = getenv("BERTH_URL");
	const char *tok = getenv("BERTH_TOKEN");
	const char *file = getenv("BERTH_TOKEN_FILE");
	const char *data = getenv("BERTH_DATA");
	char *path = NULL;
	size_t n;

	c->base = berth_strdup(
	    url != NULL && url[0] != '\0' ? url : "http://127.0.0.1:8080");
	n = strlen(c->base);
	while (n > 0 && c->base[n - 1] == '/')
		c->base[--n] = '\0';
	c->token = NULL;
	if (tok != NULL && tok[0] != '\0') {
		c->token = berth_strdup(tok);
		return 0;
	}
	if (file != NULL && file[0] != '\0')
		path = berth_strdup(file);
	else
		path = berth_asprintf(
		    "%s/admin.token",
		    data != NULL && data[0] != '\0' ? data : "./var");
	c->token = read_token_file(path);
	if (c->token == NULL && file != NULL && file[0] != '\0') {
		fprintf(stderr, "berth: cannot read the token file %s\n", path);
		free(path);
		return 2;
	}
	free(path);
	return 0;
}

void cli_client_fini(struct cli_client *c)
{
	free(c->base);
	free(c->token);
	c->base = NULL;
	c->token = NULL;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	return berth_buf_append(arg, p, size * n) == 0 ? size * n : 0;
}

/* A streamed reply: 2xx bodies go to the caller, others are kept. */
struct stream_sink {
	CURL *h;
	cli_chunk_fn fn;
	void *arg;
	struct berth_buf errbody;
	bool stopped;
};

static size_t on_stream(char *p, size_t size, size_t n, void *arg)
{
	struct stream_sink *s = arg;
	long status = 0;

	curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status >= 300)
		return on_body(p, size, n, &s->errbody);
	if (s->fn(s->arg, p, size * n) != 0) {
		s->stopped = true;
		return 0;
	}
	return size * n;
}

/* A curl handle with berth's URL, method, auth and JSON body set. The
 * strings it needs are left in *auth and *text for the caller to free. */
static CURL *request_new(const struct cli_client *c, const char *method,
                         const char *url, const json_t *body,
                         struct curl_slist **hl, char **auth, char **text)
{
	CURL *h = curl_easy_init();

	*hl = NULL;
	*auth = NULL;
	*text = NULL;
	if (h == NULL)
		return NULL;
	if (c->token != NULL) {
		*auth = berth_asprintf("Authorization: Bearer %s", c->token);
		*hl = curl_slist_append(*hl, *auth);
	}
	if (body != NULL) {
		*text = json_dumps(body, JSON_COMPACT);
		*hl = curl_slist_append(*hl, "Content-Type: application/json");
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, *text);
	} else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hl);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	return h;
}

long cli_stream(const struct cli_client *c, const char *method,
                const char *path, const json_t *body, int idle_s,
                cli_chunk_fn fn, void *arg, json_t **reply)
{
	struct stream_sink sink = { 0 };
	struct curl_slist *hl = NULL;
	char *url = berth_asprintf("%s%s", c->base, path);
	char *auth = NULL, *text = NULL;
	long status = -1;
	CURLcode rc;

	*reply = NULL;
	berth_buf_init(&sink.errbody, REPLY_MAX);
	sink.fn = fn;
	sink.arg = arg;
	sink.h = request_new(c, method, url, body, &hl, &auth, &text);
	if (sink.h == NULL) {
		fprintf(stderr, "berth: cannot start a request\n");
		goto out;
	}
	curl_easy_setopt(sink.h, CURLOPT_WRITEFUNCTION, on_stream);
	curl_easy_setopt(sink.h, CURLOPT_WRITEDATA, &sink);
	if (idle_s > 0) {
		curl_easy_setopt(sink.h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(sink.h, CURLOPT_LOW_SPEED_TIME, (long)idle_s);
	}
	rc = curl_easy_perform(sink.h);
	if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && sink.stopped)) {
		curl_easy_getinfo(sink.h, CURLINFO_RESPONSE_CODE, &status);
		if (sink.errbody.len > 0)
			*reply = json_loadb(sink.errbody.data, sink.errbody.len,
			                    0, NULL);
	} else {
		fprintf(stderr, "berth: the stream from %s broke: %s\n",
		        c->base, curl_easy_strerror(rc));
	}
out:
	curl_easy_cleanup(sink.h);
	curl_slist_free_all(hl);
	berth_buf_fini(&sink.errbody);
	free(text);
	free(auth);
	free(url);
	return status;
}

long cli_request(const struct cli_client *c, const char *method,
                 const char *path, const json_t *body, json_t **reply)
{
	struct curl_slist *hl = NULL;
	struct berth_buf buf;
	char *url = berth_asprintf("%s%s", c->base, path);
	char *auth = NULL, *text = NULL;
	long status = -1;
	CURLcode rc;
	CURL *h;

	*reply = NULL;
	berth_buf_init(&buf, REPLY_MAX);
	h = request_new(c, method, url, body, &hl, &auth, &text);
	if (h == NULL) {
		fprintf(stderr, "berth: cannot start a request\n");
		goto out;
	}
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 600000L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &buf);
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		if (buf.len > 0)
			*reply = json_loadb(buf.data, buf.len, 0, NULL);
	} else {
		/* curl's message names the address, never the headers. */
		fprintf(stderr, "berth: cannot reach berth at %s: %s\n",
		        c->base, curl_easy_strerror(rc));
	}
out:
	curl_easy_cleanup(h);
	curl_slist_free_all(hl);
	berth_buf_fini(&buf);
	free(text);
	free(auth);
	free(url);
	return status;
}

int cli_fail(long status, const json_t *reply)
{
	const json_t *e = json_object_get(reply, "error");
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));

	if (status < 0)
		return 1;
	fprintf(stderr, "berth: %s: %s\n", code != NULL ? code : "HTTP",
	        msg != NULL ? msg : "unexpected reply");
	if (status == 401)
		fprintf(stderr,
		        "berth: set BERTH_TOKEN, BERTH_TOKEN_FILE or "
		        "BERTH_DATA to find the token\n");
	return 1;
}

char *cli_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = berth_malloc(3 * n + 1), *o = out;

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0';
	     p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
		    || (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL) {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}
