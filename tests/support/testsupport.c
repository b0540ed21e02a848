/*
 * testsupport.c: helpers shared by berth's test programs (see testsupport.h).
 */
#include "tests/support/testsupport.h"

#include "lib/alloc.h"
#include "lib/clock.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);

	return (v != NULL && v[0] != '\0') ? v : fallback;
}

const char *ts_engine_runtime(void)
{
	return env_or("BERTH_TEST_RUNTIME", "docker");
}

bool ts_engine_is_podman(void)
{
	return strcmp(ts_engine_runtime(), "podman") == 0;
}

const char *ts_docker_socket(void)
{
	return env_or("BERTH_TEST_DOCKER_SOCKET", "/var/run/docker.sock");
}

const char *ts_test_image(void)
{
	return env_or("BERTH_TEST_IMAGE", "berth-test/busybox:latest");
}

const char *ts_run_label(void)
{
	return env_or("BERTH_TEST_RUN", "local");
}

char *ts_tmpdir(const char *tag)
{
	char *tmpl = berth_asprintf("%s/berth-%s-XXXXXX",
	                            env_or("TMPDIR", "/tmp"), tag);

	if (mkdtemp(tmpl) == NULL) {
		perror("mkdtemp");
		abort();
	}
	return tmpl;
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void ts_rmtree(const char *path)
{
	if (path == NULL)
		return;
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int64_t ts_now_ms(void)
{
	return berth_clock_mono_ms();
}

static size_t engine_sink(char *p, size_t size, size_t n, void *arg)
{
	return berth_buf_append(arg, p, size * n) == 0 ? size * n : 0;
}

long ts_engine_call(const char *method, const char *path, const char *body,
                    struct berth_buf *out)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char *url = berth_asprintf("http://localhost/v1.41%s", path);
	long st = -1;

	berth_buf_reset(out);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, ts_docker_socket());
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, engine_sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (body != NULL) {
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	}
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	free(url);
	return st;
}
