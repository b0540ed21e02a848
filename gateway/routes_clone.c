/*
 * routes_clone.c: a git repository into a container over REST (see the
 * route table in router.c):
 *   POST /api/v1/containers/{id}/clone
 *        {"repo_url","target_dir","branch","commit",
 *         "credentials":{"username","password","ssh_private_key",
 *                        "ssh_passphrase","ssh_known_hosts"},
 *         "timeout_ms","max_bytes"}
 *        -> Runtime.CloneRepo -> 200 {"commit","bytes","entries"}
 *           (commit: the checked-out id; bytes: the tar uploaded;
 *           entries: files, folders and links, .git not included)
 * A git server that refuses or wants credentials is 403
 * PERMISSION_DENIED (401 is kept for berth's own token); past
 * timeout_ms 504 DEADLINE_EXCEEDED; past max_bytes 429
 * RESOURCE_EXHAUSTED; no such repository, branch or commit 404.
 * The gateway checks the shape (fields, types, URL scheme, paths, refs)
 * and answers 400 naming the field; the runtime checks it all again.
 * Credentials are copied into memory the request owns, wiped when it is
 * freed, and never written to a message or a log; the raw body is wiped
 * once parsed. (jansson's own parse tree is freed, not wiped.)
 */
#include "gateway/respond.h"
#include "gateway/router.h"

#include "lib/alloc.h"
#include "lib/git_clone.h"
#include "lib/validate.h"

#include <stdlib.h>
#include <string.h>

/* The RPC outlives the clone's own deadline by this much (upload). */
#define CLONE_RPC_MARGIN_MS (2 * 60 * 1000)

/* What a clone request owns until it is freed (rq->ext). */
struct clone_in {
	char *strs[9]; /* url, target, branch, commit, 5 credentials */
	Berth__V1__GitCredentials cred;
};

static void wipe_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

static void clone_in_free(void *p)
{
	struct clone_in *x = p;

	if (x == NULL)
		return;
	for (size_t i = 0; i < sizeof(x->strs) / sizeof(x->strs[0]); i++)
		wipe_free(x->strs[i]);
	free(x);
}

static void finish_clone(struct gw_req *rq, const ProtobufCMessage *out)
{
	const Berth__V1__CloneRepoReply *r
	    = (const Berth__V1__CloneRepoReply *)out;

	gw_respond_json(rq, 200,
	                json_pack("{s:s,s:I,s:I}", "commit",
	                          r->commit != NULL ? r->commit : "", "bytes",
	                          (json_int_t)r->bytes, "entries",
	                          (json_int_t)r->entries));
}

/* Refuses members of `obj` not in `allowed`; names the key only. */
static int only_keys(const json_t *obj, const char *const *allowed,
                     const char *prefix, struct berth_err *err)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v)
	{
		bool ok = false;
		char safe[65];
		size_t i;

		for (i = 0; allowed[i] != NULL && !ok; i++)
			ok = strcmp(key, allowed[i]) == 0;
		if (ok)
			continue;
		for (i = 0; i < 64 && key[i] != '\0'; i++)
			safe[i]
			    = (key[i] >= 0x20 && key[i] < 0x7f && key[i] != '"')
			    ? key[i]
			    : '?';
		safe[i] = '\0';
		return berth_err_set(err, BERTH_EINVAL,
		                     "unknown field \"%s%s\"", prefix, safe);
	}
	return 0;
}

/* An optional string member, copied into `*dst` (NULL when absent). */
static int opt_str(const json_t *obj, const char *key, const char *field,
                   size_t max, char **dst, struct berth_err *err)
{
	const json_t *v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return berth_err_set(err, BERTH_EINVAL, "%s: expected a string",
		                     field);
	if (json_string_length(v) > max)
		return berth_err_set(err, BERTH_EINVAL,
		                     "%s: longer than %zu bytes", field, max);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return berth_err_set(err, BERTH_EINVAL,
		                     "%s: NUL bytes are not allowed", field);
	*dst = berth_strdup(json_string_value(v));
	return 0;
}

/* An optional non-negative integer member at most `max`. */
static int opt_uint(const json_t *obj, const char *key, json_int_t max,
                    json_int_t *out, struct berth_err *err)
{
	const json_t *v = json_object_get(obj, key);

	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0
	    || json_integer_value(v) > max)
		return berth_err_set(err, BERTH_EINVAL,
		                     "%s: expected an integer from 0 to %lld",
		                     key, (long long)max);
	*out = json_integer_value(v);
	return 0;
}

static int parse_clone(const json_t *obj, struct clone_in *x,
                       Berth__V1__CloneRepoRequest *in, struct berth_err *err)
{
	static const char *const keys[]
	    = { "repo_url",    "target_dir", "branch",    "commit",
		"credentials", "timeout_ms", "max_bytes", NULL };
	static const char *const ckeys[]
	    = { "username",       "password",        "ssh_private_key",
		"ssh_passphrase", "ssh_known_hosts", NULL };
	const json_t *creds;
	json_int_t tmo, maxb;
	int rv;

	rv = only_keys(obj, keys, "", err);
	if (rv == 0)
		rv = opt_str(obj, "repo_url", "repo_url", BERTH_GIT_MAX_URL,
		             &x->strs[0], err);
	if (rv == 0)
		rv = berth_git_url_check("repo_url", x->strs[0], false, err);
	if (rv == 0)
		rv = opt_str(obj, "target_dir", "target_dir", 4096, &x->strs[1],
		             err);
	if (rv == 0 && x->strs[1] == NULL)
		rv = berth_err_set(err, BERTH_EINVAL, "target_dir: required");
	if (rv == 0)
		rv = berth_validate_container_path("target_dir", x->strs[1],
		                                   err);
	if (rv == 0)
		rv = opt_str(obj, "branch", "branch", 255, &x->strs[2], err);
	if (rv == 0)
		rv = opt_str(obj, "commit", "commit", 64, &x->strs[3], err);
	if (rv == 0)
		rv = berth_git_ref_check(x->strs[2], x->strs[3], err);
	if (rv == 0)
		rv = opt_uint(obj, "timeout_ms", BERTH_GIT_MAX_TIMEOUT_MS, &tmo,
		              err);
	if (rv == 0)
		rv = opt_uint(obj, "max_bytes", 1024ll * 1024 * 1024, &maxb,
		              err);
	if (rv != 0)
		return rv;
	creds = json_object_get(obj, "credentials");
	if (creds != NULL && !json_is_null(creds)) {
		if (!json_is_object(creds))
			return berth_err_set(err, BERTH_EINVAL,
			                     "credentials: expected an object");
		rv = only_keys(creds, ckeys, "credentials.", err);
		for (size_t i = 0; rv == 0 && ckeys[i] != NULL; i++) {
			char field[48];

			snprintf(field, sizeof(field), "credentials.%s",
			         ckeys[i]);
			rv = opt_str(creds, ckeys[i], field,
			             BERTH_GIT_MAX_SECRET, &x->strs[4 + i],
			             err);
		}
		if (rv != 0)
			return rv;
		berth__v1__git_credentials__init(&x->cred);
		if (x->strs[4] != NULL)
			x->cred.username = x->strs[4];
		if (x->strs[5] != NULL)
			x->cred.password = x->strs[5];
		if (x->strs[6] != NULL)
			x->cred.ssh_private_key = x->strs[6];
		if (x->strs[7] != NULL)
			x->cred.ssh_passphrase = x->strs[7];
		if (x->strs[8] != NULL)
			x->cred.ssh_known_hosts = x->strs[8];
		in->credentials = &x->cred;
	}
	in->repo_url = x->strs[0];
	in->target_dir = x->strs[1];
	if (x->strs[2] != NULL)
		in->branch = x->strs[2];
	if (x->strs[3] != NULL)
		in->commit = x->strs[3];
	in->timeout_ms = (int32_t)tmo;
	in->max_bytes = (uint64_t)maxb;
	return 0;
}

void gw_h_container_clone(struct gw_req *rq)
{
	static const char *const keys[] = { NULL };
	Berth__V1__CloneRepoRequest *in = &rq->in.clone;
	struct berth_err err;
	struct clone_in *x;
	json_error_t jerr;
	json_t *obj;
	int rv, tmo;

	if (gw_req_query_only(rq, keys) != 0)
		return;
	if (berth_validate_container_ref("id", rq->params[0], &err) != 0) {
		gw_respond_err(rq, &err);
		return;
	}
	if (rq->body.len == 0) {
		gw_respond_error(rq, BERTH_EINVAL, false,
		                 "a JSON body is required");
		return;
	}
	obj = json_loadb(rq->body.data, rq->body.len, JSON_REJECT_DUPLICATES,
	                 &jerr);
	/* The body holds the credentials: gone from it once parsed (the
	 * copies this route keeps are wiped when the request is freed). */
	explicit_bzero(rq->body.data, rq->body.len);
	if (obj == NULL || !json_is_object(obj)) {
		/* jansson's text may quote the body (a secret): not shown. */
		gw_respond_error(rq, BERTH_EINVAL, false,
		                 "body: expected one JSON object without "
		                 "duplicate keys (error at line %d column %d)",
		                 jerr.line, jerr.column);
		json_decref(obj);
		return;
	}
	x = berth_calloc(1, sizeof(*x));
	rq->ext = x;
	rq->ext_free = clone_in_free;
	berth__v1__clone_repo_request__init(in);
	in->id = rq->params[0];
	rv = parse_clone(obj, x, in, &err);
	json_decref(obj);
	if (rv != 0) {
		gw_respond_err(rq, &err);
		return;
	}
	tmo = in->timeout_ms > 0 ? in->timeout_ms
	                         : BERTH_GIT_DEFAULT_TIMEOUT_MS;
	gw_rpc_start(rq, "CloneRepo", &in->base, true,
	             tmo + CLONE_RPC_MARGIN_MS, finish_clone);
}
