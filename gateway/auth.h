/*
 * auth.h: the gateway's bearer tokens.
 *
 * A token is 32 random bytes shown once as "berth_" + base64url (no
 * padding). Only its SHA-256 (hex) is stored, in the tokens table of
 * <data_dir>/gateway.db: tokens(id, name, hash UNIQUE, created_ms,
 * revoked). A request's token is hashed, looked up by hash, and the
 * hashes compared again in constant time.
 *
 * First start (no token in the db) makes an "admin" token and writes it
 * to <data_dir>/admin.token (O_EXCL, 0600); the db only ever holds the
 * hash. When admin.token exists but the db has no token, opening fails
 * rather than overwrite a file someone may rely on.
 */
#ifndef BERTH_GATEWAY_AUTH_H
#define BERTH_GATEWAY_AUTH_H

#include "lib/error.h"

#include <stddef.h>

struct gw_auth;

/* Longest token name, NUL included. */
#define GW_AUTH_NAME_MAX 64

/*
 * Opens (creating 0700 when missing) `data_dir`, its gateway.db, and on
 * first start the admin token. Caller owns `*out`; free with
 * gw_auth_close(). Errors: BERTH_EPRECOND (admin.token without tokens;
 * data_dir not a directory, not writable, or writable by group/others),
 * BERTH_EINTERNAL / store errors.
 */
int gw_auth_open(struct gw_auth **out, const char *data_dir,
                 struct berth_err *err);

/* Closes the store. Accepts NULL. */
void gw_auth_close(struct gw_auth *auth);

/* <data_dir>/admin.token. Borrowed; valid until gw_auth_close(). */
const char *gw_auth_admin_token_path(const struct gw_auth *auth);

/*
 * Checks an Authorization header value ("Bearer <token>"; may be NULL).
 * On success copies the token's name into `name` (GW_AUTH_NAME_MAX).
 * Errors: BERTH_EUNAUTH with one message whatever was wrong (missing,
 * malformed, unknown or revoked), BERTH_EUNAVAIL when the store is busy.
 */
int gw_auth_check(struct gw_auth *auth, const char *authorization,
                  char name[GW_AUTH_NAME_MAX], struct berth_err *err);

/*
 * Makes a new token called `name` ([a-zA-Z0-9_.-]{1,63}) and stores its
 * hash. Caller owns `*token` (the only copy of the secret); free with
 * free() after wiping it. Errors: BERTH_EINVAL, BERTH_EEXISTS.
 */
int gw_auth_create_token(struct gw_auth *auth, char **token, const char *name,
                         struct berth_err *err);

#endif
