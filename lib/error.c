/*
 * error.c: names, descriptions and HTTP statuses of berth's error codes.
 *
 * Each table is a switch without `default:` so that -Wswitch flags a code
 * added to enum berth_code but forgotten here.
 */
#include "lib/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void berth_err_clear(struct berth_err *err)
{
	if (err == NULL)
		return;
	err->code = BERTH_OK;
	err->retryable = false;
	err->msg[0] = '\0';
}

static int err_vset(struct berth_err *err, int code, bool retryable,
                    const char *fmt, va_list ap)
{
	if (err == NULL)
		return code;
	err->code = code;
	err->retryable = retryable;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	return code;
}

int berth_err_set(struct berth_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = err_vset(err, code, false, fmt, ap);
	va_end(ap);
	return code;
}

int berth_err_set_retryable(struct berth_err *err, int code, const char *fmt,
                            ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = err_vset(err, code, true, fmt, ap);
	va_end(ap);
	return code;
}

const char *berth_code_name(int code)
{
	switch ((enum berth_code)code) {
	case BERTH_OK: return "OK";
	case BERTH_ECANCELLED: return "CANCELLED";
	case BERTH_EUNKNOWN: return "UNKNOWN";
	case BERTH_EINVAL: return "INVALID_ARGUMENT";
	case BERTH_ETIMEDOUT: return "DEADLINE_EXCEEDED";
	case BERTH_ENOTFOUND: return "NOT_FOUND";
	case BERTH_EEXISTS: return "ALREADY_EXISTS";
	case BERTH_EPERM: return "PERMISSION_DENIED";
	case BERTH_ELIMIT: return "RESOURCE_EXHAUSTED";
	case BERTH_EPRECOND: return "FAILED_PRECONDITION";
	case BERTH_EABORTED: return "ABORTED";
	case BERTH_ERANGE: return "OUT_OF_RANGE";
	case BERTH_EUNIMPL: return "UNIMPLEMENTED";
	case BERTH_EINTERNAL: return "INTERNAL";
	case BERTH_EUNAVAIL: return "UNAVAILABLE";
	case BERTH_EDATALOSS: return "DATA_LOSS";
	case BERTH_EUNAUTH: return "UNAUTHENTICATED";
	}
	return "UNKNOWN";
}

const char *berth_strerror(int code)
{
	switch ((enum berth_code)code) {
	case BERTH_OK: return "success";
	case BERTH_ECANCELLED: return "operation cancelled";
	case BERTH_EUNKNOWN: return "unknown error";
	case BERTH_EINVAL: return "invalid argument";
	case BERTH_ETIMEDOUT: return "deadline exceeded";
	case BERTH_ENOTFOUND: return "not found";
	case BERTH_EEXISTS: return "already exists";
	case BERTH_EPERM: return "permission denied";
	case BERTH_ELIMIT: return "resource limit exceeded";
	case BERTH_EPRECOND: return "failed precondition";
	case BERTH_EABORTED: return "aborted";
	case BERTH_ERANGE: return "out of range";
	case BERTH_EUNIMPL: return "not implemented";
	case BERTH_EINTERNAL: return "internal error";
	case BERTH_EUNAVAIL: return "service unavailable";
	case BERTH_EDATALOSS: return "data loss";
	case BERTH_EUNAUTH: return "not authenticated";
	}
	return "unknown error";
}

int berth_code_from_name(const char *name)
{
	for (int c = BERTH_OK; c >= BERTH_EUNAUTH; c--) {
		if (name != NULL && strcmp(name, berth_code_name(c)) == 0)
			return c;
	}
	return BERTH_EUNKNOWN;
}

int berth_code_http_status(int code)
{
	switch ((enum berth_code)code) {
	case BERTH_OK: return 200;
	case BERTH_ECANCELLED: return 499;
	case BERTH_EUNKNOWN: return 500;
	case BERTH_EINVAL: return 400;
	case BERTH_ETIMEDOUT: return 504;
	case BERTH_ENOTFOUND: return 404;
	case BERTH_EEXISTS: return 409;
	case BERTH_EPERM: return 403;
	case BERTH_ELIMIT: return 429;
	case BERTH_EPRECOND: return 409;
	case BERTH_EABORTED: return 409;
	case BERTH_ERANGE: return 400;
	case BERTH_EUNIMPL: return 501;
	case BERTH_EINTERNAL: return 500;
	case BERTH_EUNAVAIL: return 503;
	case BERTH_EDATALOSS: return 500;
	case BERTH_EUNAUTH: return 401;
	}
	return 500;
}
