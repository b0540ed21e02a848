/*
 * error.h: berth's one error enum and the error detail struct.
 *
 * Every fallible function returns int: 0 on success or a negative code
 * from enum berth_code. The codes are gRPC's status codes negated, so the
 * RPC layer maps them without a table (-BERTH_ENOTFOUND == NOT_FOUND).
 * Detail for a person goes into a caller-provided struct berth_err, never
 * a thread-local "last error": nng and libmicrohttpd run callbacks on
 * their own threads.
 */
#ifndef BERTH_LIB_ERROR_H
#define BERTH_LIB_ERROR_H

#include <stdbool.h>
#include <stddef.h>

enum berth_code {
	BERTH_OK = 0,
	BERTH_ECANCELLED = -1, /* CANCELLED */
	BERTH_EUNKNOWN = -2,   /* UNKNOWN */
	BERTH_EINVAL = -3,     /* INVALID_ARGUMENT */
	BERTH_ETIMEDOUT = -4,  /* DEADLINE_EXCEEDED */
	BERTH_ENOTFOUND = -5,  /* NOT_FOUND */
	BERTH_EEXISTS = -6,    /* ALREADY_EXISTS */
	BERTH_EPERM = -7,      /* PERMISSION_DENIED */
	BERTH_ELIMIT = -8,     /* RESOURCE_EXHAUSTED */
	BERTH_EPRECOND = -9,   /* FAILED_PRECONDITION */
	BERTH_EABORTED = -10,  /* ABORTED */
	BERTH_ERANGE = -11,    /* OUT_OF_RANGE */
	BERTH_EUNIMPL = -12,   /* UNIMPLEMENTED */
	BERTH_EINTERNAL = -13, /* INTERNAL */
	BERTH_EUNAVAIL = -14,  /* UNAVAILABLE */
	BERTH_EDATALOSS = -15, /* DATA_LOSS */
	BERTH_EUNAUTH = -16,   /* UNAUTHENTICATED */
};

#define BERTH_ERR_MSG_MAX 256

/*
 * Error detail filled by the function that failed. `code` repeats the
 * return value; `retryable` says the same call may succeed later (engine
 * down, peer restarting); `msg` is one line a person can act on and never
 * holds a credential.
 */
struct berth_err {
	int code;
	bool retryable;
	char msg[BERTH_ERR_MSG_MAX];
};

/* Resets `err` to "no error". Accepts NULL. */
void berth_err_clear(struct berth_err *err);

/*
 * Records `code` and a printf-style message in `err` (which may be NULL)
 * and returns `code`, so callers can write `return berth_err_set(...)`.
 * Messages longer than BERTH_ERR_MSG_MAX are cut.
 */
int berth_err_set(struct berth_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* As berth_err_set(), and marks the error retryable. */
int berth_err_set_retryable(struct berth_err *err, int code, const char *fmt,
                            ...) __attribute__((format(printf, 3, 4)));

/*
 * The code's name in gRPC's spelling ("NOT_FOUND"). Static string.
 * Unknown values give "UNKNOWN".
 */
const char *berth_code_name(int code);

/* A short English description of the code. Static string. */
const char *berth_strerror(int code);

/*
 * Parses a gRPC code name ("NOT_FOUND") into a berth code. Returns
 * BERTH_EUNKNOWN for names it does not know.
 */
int berth_code_from_name(const char *name);

/* The HTTP status the gateway answers for this code (404 for NOT_FOUND). */
int berth_code_http_status(int code);

#endif
