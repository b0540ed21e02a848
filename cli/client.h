/*
 * client.h: the REST client behind berth's command-line commands.
 *
 * Where berth is: BERTH_URL (default http://127.0.0.1:8080). The token:
 * BERTH_TOKEN, else the file BERTH_TOKEN_FILE, else
 * $BERTH_DATA/admin.token (BERTH_DATA defaults to ./var, as for
 * `berth serve`). The token never appears in output or errors.
 */
#ifndef BERTH_CLI_CLIENT_H
#define BERTH_CLI_CLIENT_H

#include <jansson.h>

struct cli_client {
	char *base;  /* "http://127.0.0.1:8080", no trailing slash */
	char *token; /* may be NULL: requests go without Authorization */
};

/* Reads the environment (see above). Returns 0, or 2 after printing why
 * the token file could not be read. */
int cli_client_init(struct cli_client *c);

/* Frees the strings. */
void cli_client_fini(struct cli_client *c);

/*
 * One request. `body` (may be NULL) is sent as JSON. Returns the HTTP
 * status, or -1 when berth could not be reached (printed). `*reply` gets
 * the parsed JSON reply or NULL; caller owns it (json_decref()).
 */
long cli_request(const struct cli_client *c, const char *method,
                 const char *path, const json_t *body, json_t **reply);

/*
 * Called with each piece of a streamed 2xx reply as it arrives. Return
 * 0 to go on, non-zero to stop reading (the request is then abandoned).
 */
typedef int (*cli_chunk_fn)(void *arg, const char *data, size_t len);

/*
 * One request whose 2xx reply is streamed to `fn` (logs, events,
 * streamed exec); no overall timeout. `idle_s` > 0 ends a stream that
 * sends nothing for that long (for streams the server keeps alive, so
 * a peer that died without closing is noticed); 0 waits for ever. A
 * non-2xx reply is parsed as JSON into `*reply` as cli_request() does.
 * Returns the HTTP status, or -1 when berth could not be reached or the
 * stream broke or went idle (printed).
 */
long cli_stream(const struct cli_client *c, const char *method,
                const char *path, const json_t *body, int idle_s,
                cli_chunk_fn fn, void *arg, json_t **reply);

/*
 * Prints a failed reply as "berth: CODE: message" on stderr and returns
 * the exit status for it (1).
 */
int cli_fail(long status, const json_t *reply);

/* Percent-encodes `s` for a path segment or query value. Caller frees. */
char *cli_escape(const char *s);

#endif
