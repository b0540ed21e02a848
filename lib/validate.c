/*
 * validate.c: allow-list checks for everything a user names (validate.h).
 *
 * Each check is a small hand-written matcher, not a regex: the grammars
 * are short, and a matcher gives a precise message. The image reference
 * parser follows distribution/reference's grammar; messages echo at most
 * BERTH_QUOTE_MAX bytes of the bad value with control bytes replaced, so
 * nothing a client sends can forge a log line or flood a reply.
 */
#include "lib/validate.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define NAME_MAX_LEN     128
#define IMAGE_REF_MAX    255
#define TAG_MAX_LEN      128
#define ENV_KEY_MAX      256
#define LABEL_KEY_MAX    128
#define CPATH_MAX        4096
#define REQUEST_ID_MAX   128
#define CONTAINER_ID_MAX 64

size_t berth_utf8_seq_len(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	uint32_t cp, min;
	size_t len;

	if (n == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		len = 2;
		cp = s[0] & 0x1F;
		min = 0x80;
	} else if ((s[0] & 0xF0) == 0xE0) {
		len = 3;
		cp = s[0] & 0x0F;
		min = 0x800;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		len = 4;
		cp = s[0] & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

bool berth_utf8_valid(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	for (size_t i = 0; i < n;) {
		size_t k = berth_utf8_seq_len(s + i, n - i);

		if (k == 0)
			return false;
		i += k;
	}
	return true;
}

void berth_quote_for_msg(char *dst, size_t n, const char *s)
{
	size_t o = 0, i = 0, slen;

	if (n == 0)
		return;
	if (s == NULL)
		s = "(null)";
	slen = strlen(s);
	/* Leave room for "..." and the NUL. */
	while (i < slen && i < BERTH_QUOTE_MAX && o + 4 < n) {
		unsigned char c = (unsigned char)s[i];
		size_t k = berth_utf8_seq_len(s + i, slen - i);

		if (c < 0x20 || c == 0x7F || k == 0) {
			dst[o++] = '?';
			i++;
			continue;
		}
		if (i + k > BERTH_QUOTE_MAX || o + k + 4 > n)
			break;
		memcpy(dst + o, s + i, k);
		o += k;
		i += k;
	}
	if (i < slen && o + 3 < n) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

/* "field: <what> (got "<value>")" */
static int refuse(struct berth_err *err, const char *field, const char *s,
                  const char *what)
{
	char q[BERTH_QUOTE_MAX * 2];

	berth_quote_for_msg(q, sizeof(q), s);
	return berth_err_set(err, BERTH_EINVAL, "%s: %s (got \"%s\")",
	                     field != NULL ? field : "value", what, q);
}

static int missing(struct berth_err *err, const char *field)
{
	return berth_err_set(err, BERTH_EINVAL, "%s: required",
	                     field != NULL ? field : "value");
}

static bool is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool is_alpha(char c)
{
	return is_lower(c) || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
	return is_alpha(c) || is_digit(c);
}

static bool is_lower_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f');
}

static bool is_word(char c)
{
	return is_alnum(c) || c == '_';
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > NAME_MAX_LEN || !is_alnum(s[0]))
		return false;
	for (size_t i = 1; i < n; i++) {
		if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '.'
		    && s[i] != '-')
			return false;
	}
	return true;
}

int berth_validate_name(const char *field, const char *s, struct berth_err *err)
{
	if (s == NULL)
		return missing(err, field);
	if (!name_ok(s))
		return refuse(err, field, s,
		              "must match [a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}");
	return 0;
}

int berth_validate_container_ref(const char *field, const char *s,
                                 struct berth_err *err)
{
	size_t n;
	bool all_hex = true;

	if (s == NULL)
		return missing(err, field);
	n = strlen(s);
	for (size_t i = 0; i < n && all_hex; i++)
		all_hex = is_lower_hex(s[i]);
	/* A hex string longer than an id is a mistyped id, not a name. */
	if (n > 0 && all_hex && n <= CONTAINER_ID_MAX)
		return 0;
	if (!all_hex && name_ok(s))
		return 0;
	return refuse(err, field, s,
	              "must be a container id (1 to 64 of [0-9a-f]) or a "
	              "name matching [a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}");
}

int berth_validate_job_id(const char *field, const char *s,
                          struct berth_err *err)
{
	static const size_t dash[] = { 8, 13, 18, 23 };
	size_t d = 0;

	if (s == NULL)
		return missing(err, field);
	if (strlen(s) != 36)
		goto bad;
	for (size_t i = 0; i < 36; i++) {
		if (d < 4 && i == dash[d]) {
			if (s[i] != '-')
				goto bad;
			d++;
		} else if (!is_lower_hex(s[i])) {
			goto bad;
		}
	}
	return 0;
bad:
	return refuse(err, field, s,
	              "must be a lowercase UUID "
	              "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, x in [0-9a-f])");
}

/* ---- image references (distribution/reference grammar) ---- */

/* domain-component: [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])? */
static bool domain_name_ok(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0)
		return false;
	while (i < n) {
		size_t start = i;

		while (i < n && (is_alnum(s[i]) || s[i] == '-'))
			i++;
		if (i == start || s[start] == '-' || s[i - 1] == '-')
			return false;
		if (i < n) {
			if (s[i] != '.' || i + 1 == n)
				return false;
			i++;
		}
	}
	return true;
}

static bool port_ok(const char *s, size_t n)
{
	unsigned long v = 0;

	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

/* host[:port], host a domain name, IPv4 or [IPv6]. */
static bool domain_ok(const char *s, size_t n)
{
	const char *colon;
	size_t hn;

	if (n > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', n);
		char v6[INET6_ADDRSTRLEN + 1];
		struct in6_addr a;
		size_t an;

		if (close == NULL)
			return false;
		an = (size_t)(close - s) - 1;
		if (an == 0 || an >= sizeof(v6))
			return false;
		memcpy(v6, s + 1, an);
		v6[an] = '\0';
		if (inet_pton(AF_INET6, v6, &a) != 1)
			return false;
		hn = (size_t)(close - s) + 1;
		if (hn == n)
			return true;
		return s[hn] == ':' && port_ok(s + hn + 1, n - hn - 1);
	}
	colon = memchr(s, ':', n);
	hn = colon != NULL ? (size_t)(colon - s) : n;
	if (!domain_name_ok(s, hn))
		return false;
	return colon == NULL || port_ok(colon + 1, n - hn - 1);
}

/* path-component: [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)* */
static bool path_component_ok(const char *s, size_t n)
{
	size_t i = 0;

	for (;;) {
		size_t start = i;

		while (i < n && (is_lower(s[i]) || is_digit(s[i])))
			i++;
		if (i == start)
			return false;
		if (i == n)
			return true;
		if (s[i] == '.') {
			i++;
		} else if (s[i] == '_') {
			i++;
			if (i < n && s[i] == '_')
				i++;
		} else if (s[i] == '-') {
			while (i < n && s[i] == '-')
				i++;
		} else {
			return false;
		}
	}
}

static bool tag_ok(const char *s, size_t n)
{
	if (n == 0 || n > TAG_MAX_LEN || !is_word(s[0]))
		return false;
	for (size_t i = 1; i < n; i++) {
		if (!is_word(s[i]) && s[i] != '.' && s[i] != '-')
			return false;
	}
	return true;
}

static bool digest_ok(const char *s, size_t n)
{
	static const char alg[] = "sha256:";
	size_t an = sizeof(alg) - 1;

	if (n != an + 64 || memcmp(s, alg, an) != 0)
		return false;
	for (size_t i = an; i < n; i++) {
		if (!is_lower_hex(s[i]))
			return false;
	}
	return true;
}

/* Whether the first component of a name is a registry (Docker's rule). */
static bool looks_like_domain(const char *s, size_t n)
{
	return memchr(s, '.', n) != NULL || memchr(s, ':', n) != NULL
	    || (n > 0 && s[0] == '[')
	    || (n == 9 && memcmp(s, "localhost", 9) == 0);
}

int berth_validate_image_ref(const char *field, const char *s,
                             struct berth_err *err)
{
	const char *at, *slash, *colon, *p, *end;
	size_t n;

	if (s == NULL)
		return missing(err, field);
	n = strlen(s);
	if (n == 0)
		return missing(err, field);
	if (n > IMAGE_REF_MAX)
		return refuse(err, field, s,
		              "image reference longer than 255 bytes");
	end = s + n;
	at = memchr(s, '@', n);
	if (at != NULL) {
		if (!digest_ok(at + 1, (size_t)(end - at - 1)))
			return refuse(err, field, s,
			              "digest must be sha256: followed by 64 "
			              "lowercase hex digits");
		end = at;
	}
	/* A tag is a ':' after the last '/'. */
	slash = memrchr(s, '/', (size_t)(end - s));
	p = slash != NULL ? slash + 1 : s;
	colon = memrchr(p, ':', (size_t)(end - p));
	if (colon != NULL) {
		if (!tag_ok(colon + 1, (size_t)(end - colon - 1)))
			return refuse(err, field, s,
			              "tag must match "
			              "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
		end = colon;
	}
	p = s;
	slash = memchr(s, '/', (size_t)(end - s));
	if (slash != NULL && looks_like_domain(s, (size_t)(slash - s))) {
		if (!domain_ok(s, (size_t)(slash - s)))
			return refuse(
			    err, field, s,
			    "registry must be host[:port] (host "
			    "letters, digits, '-' and '.', or [IPv6]; "
			    "port 1-65535)");
		p = slash + 1;
	}
	/* Path components, separated by '/'. */
	for (;;) {
		const char *next = memchr(p, '/', (size_t)(end - p));
		size_t cn
		    = next != NULL ? (size_t)(next - p) : (size_t)(end - p);

		if (!path_component_ok(p, cn))
			return refuse(err, field, s,
			              "repository path components must be "
			              "lowercase [a-z0-9] runs joined by '.', "
			              "'_', '__' or '-'");
		if (next == NULL)
			break;
		p = next + 1;
	}
	return 0;
}

int berth_validate_env_key(const char *field, const char *s,
                           struct berth_err *err)
{
	size_t n;

	if (s == NULL)
		return missing(err, field);
	n = strlen(s);
	if (n == 0 || n > ENV_KEY_MAX || !(is_alpha(s[0]) || s[0] == '_'))
		goto bad;
	for (size_t i = 1; i < n; i++) {
		if (!is_word(s[i]))
			goto bad;
	}
	return 0;
bad:
	return refuse(err, field, s,
	              "must match [A-Za-z_][A-Za-z0-9_]* (at most 256 bytes)");
}

int berth_validate_label_key(const char *field, const char *s,
                             struct berth_err *err)
{
	size_t n;

	if (s == NULL)
		return missing(err, field);
	n = strlen(s);
	if (n == 0 || n > LABEL_KEY_MAX || !(is_lower(s[0]) || is_digit(s[0])))
		goto bad;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];

		if (!is_lower(c) && !is_digit(c) && c != '.' && c != '_'
		    && c != '/' && c != '-')
			goto bad;
	}
	if (strncmp(s, "berth.", 6) == 0)
		return refuse(err, field, s,
		              "keys under \"berth.\" are reserved for berth");
	return 0;
bad:
	return refuse(err, field, s,
	              "must match [a-z0-9][a-z0-9._/-]* (at most 128 bytes)");
}

int berth_validate_container_path(const char *field, const char *s,
                                  struct berth_err *err)
{
	size_t n;
	const char *p;

	if (s == NULL)
		return missing(err, field);
	n = strlen(s);
	if (n == 0 || s[0] != '/' || n > CPATH_MAX)
		return refuse(err, field, s,
		              "must be an absolute path (starting with '/', "
		              "at most 4096 bytes)");
	/* Each component, between slashes, must not be "..". */
	p = s;
	while (p < s + n) {
		const char *next = strchr(p + 1, '/');
		const char *cend = next != NULL ? next : s + n;

		if (cend - (p + 1) == 2 && p[1] == '.' && p[2] == '.')
			return refuse(err, field, s,
			              "must not contain a \"..\" component");
		p = cend;
	}
	return 0;
}

int berth_validate_request_id(const char *field, const char *s,
                              struct berth_err *err)
{
	size_t n;

	if (s == NULL)
		return missing(err, field);
	n = strlen(s);
	if (n == 0 || n > REQUEST_ID_MAX)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!is_word(c) && c != '.' && c != ':' && c != '-')
			goto bad;
	}
	return 0;
bad:
	return refuse(err, field, s, "must match [A-Za-z0-9_.:-]{1,128}");
}

int berth_validate_text(const char *field, const char *s, size_t max,
                        struct berth_err *err)
{
	size_t n, i = 0;

	if (s == NULL)
		return missing(err, field);
	n = strlen(s);
	if (n > max)
		return berth_err_set(err, BERTH_EINVAL,
		                     "%s: longer than %zu bytes",
		                     field != NULL ? field : "value", max);
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t k = berth_utf8_seq_len(s + i, n - i);

		if (k == 0)
			return refuse(err, field, s, "must be valid UTF-8");
		/* C0 controls but tab, DEL, and C1 controls (U+0080..9F). */
		if ((c < 0x20 && c != '\t') || c == 0x7F
		    || (c == 0xC2 && (unsigned char)s[i + 1] < 0xA0))
			return refuse(err, field, s,
			              "must not contain control characters "
			              "(tab is allowed)");
		i += k;
	}
	return 0;
}

int berth_validate_port_protocol(const char *field, const char *proto,
                                 struct berth_err *err)
{
	static const char *const known[] = { "tcp", "udp", "sctp" };

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (strcmp(proto, known[i]) == 0)
			return 0;
	}
	return berth_err_set(err, BERTH_EINVAL,
	                     "%s: protocol must be tcp, udp or sctp", field);
}

/* --- container options ----------------------------------------------- */

/* The kernel's capabilities (linux/capability.h, up to Linux 6.1). */
static const char *const capabilities[] = {
	"AUDIT_CONTROL",   "AUDIT_READ",   "AUDIT_WRITE",
	"BLOCK_SUSPEND",   "BPF",          "CHECKPOINT_RESTORE",
	"CHOWN",           "DAC_OVERRIDE", "DAC_READ_SEARCH",
	"FOWNER",          "FSETID",       "IPC_LOCK",
	"IPC_OWNER",       "KILL",         "LEASE",
	"LINUX_IMMUTABLE", "MAC_ADMIN",    "MAC_OVERRIDE",
	"MKNOD",           "NET_ADMIN",    "NET_BIND_SERVICE",
	"NET_BROADCAST",   "NET_RAW",      "PERFMON",
	"SETFCAP",         "SETGID",       "SETPCAP",
	"SETUID",          "SYSLOG",       "SYS_ADMIN",
	"SYS_BOOT",        "SYS_CHROOT",   "SYS_MODULE",
	"SYS_NICE",        "SYS_PACCT",    "SYS_PTRACE",
	"SYS_RAWIO",       "SYS_RESOURCE", "SYS_TIME",
	"SYS_TTY_CONFIG",  "WAKE_ALARM",
};

int berth_validate_capability(const char *field, const char *s, bool allow_all,
                              struct berth_err *err)
{
	const char *name;

	if (s == NULL)
		return missing(err, field);
	if (strcmp(s, "ALL") == 0) {
		if (allow_all)
			return 0;
		return refuse(err, field, s,
		              "\"ALL\" may only be dropped; adding every "
		              "capability would make a privileged container");
	}
	name = strncmp(s, "CAP_", 4) == 0 ? s + 4 : s;
	for (size_t i = 0; i < sizeof(capabilities) / sizeof(capabilities[0]);
	     i++) {
		if (strcmp(name, capabilities[i]) == 0)
			return 0;
	}
	return refuse(err, field, s,
	              allow_all ? "must be \"ALL\" or a Linux capability name "
	                          "in upper case, e.g. NET_RAW or CAP_CHOWN"
	                        : "must be a Linux capability name in upper "
	                          "case, e.g. NET_BIND_SERVICE or CAP_CHOWN");
}

#define USER_PART_MAX 32

/* One side of "user[:group]": a decimal id below 2^31 or a name. */
static bool user_part_ok(const char *s, size_t n)
{
	bool digits = true;

	if (n == 0 || n > USER_PART_MAX || !(is_word(s[0])))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!is_word(s[i]) && s[i] != '.' && s[i] != '-')
			return false;
		digits = digits && is_digit(s[i]);
	}
	/* 10 digits may pass 2^31 - 1. */
	if (digits && n >= 10) {
		uint64_t v = 0;

		for (size_t i = 0; i < n; i++)
			v = v * 10 + (uint64_t)(s[i] - '0');
		return v <= INT32_MAX && n == 10;
	}
	return true;
}

int berth_validate_user(const char *field, const char *s, struct berth_err *err)
{
	const char *colon;

	if (s == NULL)
		return missing(err, field);
	colon = strchr(s, ':');
	if (colon == NULL ? user_part_ok(s, strlen(s))
	                  : user_part_ok(s, (size_t)(colon - s))
	            && user_part_ok(colon + 1, strlen(colon + 1)))
		return 0;
	return refuse(err, field, s,
	              "must be \"uid[:gid]\" (decimal ids) or a user name "
	              "the image knows, optionally with \":group\" (each "
	              "[A-Za-z0-9_][A-Za-z0-9_.-]{0,31})");
}

int berth_validate_network_name(const char *field, const char *s,
                                struct berth_err *err)
{
	if (s == NULL)
		return missing(err, field);
	if (strcmp(s, "host") == 0)
		return refuse(err, field, s,
		              "the host's network namespace is not offered: a "
		              "container in it reaches every service the host "
		              "listens on");
	if (!name_ok(s))
		return refuse(err, field, s,
		              "must be a network name matching "
		              "[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}");
	return 0;
}

#define DURATION_MAX_MS (10LL * 24 * 3600 * 1000)

int berth_parse_duration_ms(const char *field, const char *s, int64_t *ms,
                            struct berth_err *err)
{
	int64_t total = 0;
	const char *p = s;

	if (s == NULL)
		return missing(err, field);
	if (*p == '\0')
		goto bad;
	while (*p != '\0') {
		int64_t v = 0, unit;
		size_t nd = 0;

		while (is_digit(*p)) {
			if (++nd > 12)
				goto bad;
			v = v * 10 + (*p++ - '0');
		}
		if (nd == 0)
			goto bad;
		if (p[0] == 'm' && p[1] == 's') {
			unit = 1;
			p += 2;
		} else if (*p == 's') {
			unit = 1000;
			p++;
		} else if (*p == 'm') {
			unit = 60 * 1000;
			p++;
		} else if (*p == 'h') {
			unit = 3600 * 1000;
			p++;
		} else {
			goto bad;
		}
		/* v < 10^12 and unit <= 3.6e6: no overflow below 2^63. */
		total += v * unit;
		if (total > DURATION_MAX_MS)
			return refuse(err, field, s, "must be at most 10 days");
	}
	*ms = total;
	return 0;
bad:
	return refuse(err, field, s,
	              "must be a duration like \"500ms\", \"30s\", \"1m\" or "
	              "\"1h30m\" (units ms, s, m, h)");
}

int berth_parse_bytes(const char *field, const char *s, int64_t *bytes,
                      struct berth_err *err)
{
	static const char units[] = "bkmgt";
	const char *p = s, *u;
	uint64_t v = 0;
	size_t nd = 0;
	int shift = 0;

	if (s == NULL)
		return missing(err, field);
	while (is_digit(*p)) {
		if (++nd > 15)
			goto bad;
		v = v * 10 + (uint64_t)(*p++ - '0');
	}
	if (nd == 0)
		goto bad;
	if (*p != '\0') {
		char c = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);

		u = strchr(units, c);
		if (u == NULL || c == '\0')
			goto bad;
		shift = (int)(u - units) * 10;
		p++;
		/* "k", "kb", "kib" in either case; "b" alone. */
		if (shift > 0) {
			if ((p[0] == 'i' || p[0] == 'I')
			    && (p[1] == 'b' || p[1] == 'B'))
				p += 2;
			else if (p[0] == 'b' || p[0] == 'B')
				p++;
		}
		if (*p != '\0')
			goto bad;
	}
	/* v < 10^15 < 2^50: a shift past 2^62 is too much for anyone. */
	if (shift > 0 && v > (UINT64_C(1) << (62 - shift)))
		return refuse(err, field, s, "is too large");
	*bytes = (int64_t)(v << shift);
	return 0;
bad:
	return refuse(err, field, s,
	              "must be a size like \"512m\", \"1g\" or \"64MiB\" "
	              "(units b, k, m, g, t: powers of 1024)");
}

static int duration_bounds(const char *field, const char *member, int64_t v,
                           int64_t min, struct berth_err *err)
{
	if (v == 0 || (v >= min && v <= BERTH_HEALTH_MAX_MS))
		return 0;
	return berth_err_set(err, BERTH_EINVAL,
	                     "%s.%s: must be 0 (the engine's default) or "
	                     "between %lld ms and 24 h (got %lld ms)",
	                     field, member, (long long)min, (long long)v);
}

int berth_validate_health(const char *field, const char *const *test,
                          size_t ntest, int64_t interval_ms, int64_t timeout_ms,
                          uint32_t retries, int64_t start_period_ms,
                          struct berth_err *err)
{
	char f[96];
	int rv;

	if (field == NULL)
		field = "health";
	if (ntest > 0) {
		const char *kind = test[0];

		snprintf(f, sizeof(f), "%s.test[0]", field);
		if (kind == NULL)
			return missing(err, f);
		if (strcmp(kind, "NONE") == 0) {
			if (ntest != 1)
				return berth_err_set(
				    err, BERTH_EINVAL,
				    "%s.test: [\"NONE\"] takes nothing after "
				    "it",
				    field);
		} else if (strcmp(kind, "CMD") == 0) {
			if (ntest < 2)
				return berth_err_set(
				    err, BERTH_EINVAL,
				    "%s.test: [\"CMD\", ...] needs the "
				    "program to run after \"CMD\"",
				    field);
		} else if (strcmp(kind, "CMD-SHELL") == 0) {
			if (ntest != 2)
				return berth_err_set(
				    err, BERTH_EINVAL,
				    "%s.test: [\"CMD-SHELL\", line] takes "
				    "exactly one command line",
				    field);
		} else {
			return refuse(err, f, kind,
			              "must be \"CMD\", \"CMD-SHELL\" or "
			              "\"NONE\"");
		}
		for (size_t i = 1; i < ntest; i++) {
			snprintf(f, sizeof(f), "%s.test[%zu]", field, i);
			rv = berth_validate_text(f, test[i],
			                         BERTH_HEALTH_TEST_MAX, err);
			if (rv != 0)
				return rv;
			if (test[i][0] == '\0')
				return berth_err_set(err, BERTH_EINVAL,
				                     "%s: empty", f);
		}
	}
	rv = duration_bounds(field, "interval_ms", interval_ms,
	                     BERTH_HEALTH_MIN_MS, err);
	if (rv == 0)
		rv = duration_bounds(field, "timeout_ms", timeout_ms,
		                     BERTH_HEALTH_MIN_MS, err);
	if (rv == 0)
		rv = duration_bounds(field, "start_period_ms", start_period_ms,
		                     1, err);
	if (rv != 0)
		return rv;
	if (retries > BERTH_HEALTH_MAX_RETRIES)
		return berth_err_set(err, BERTH_EINVAL,
		                     "%s.retries: must be at most %d (got %u)",
		                     field, BERTH_HEALTH_MAX_RETRIES, retries);
	return 0;
}

int berth_validate_memory_bytes(const char *field, int64_t v,
                                struct berth_err *err)
{
	if (v == 0 || (v >= BERTH_MEMORY_MIN && v <= BERTH_MEMORY_MAX))
		return 0;
	if (v > 0 && v < BERTH_MEMORY_MIN)
		return berth_err_set(err, BERTH_EINVAL,
		                     "%s: %lld bytes is below the engine's "
		                     "minimum of 6 MiB (6291456 bytes)",
		                     field, (long long)v);
	return berth_err_set(err, BERTH_EINVAL,
	                     "%s: must be 0 (no limit) or between 6 MiB and "
	                     "16 TiB (got %lld)",
	                     field, (long long)v);
}

int berth_validate_nano_cpus(const char *field, int64_t v,
                             struct berth_err *err)
{
	if (v == 0 || (v >= 10000000LL && v <= 1024LL * 1000000000LL))
		return 0;
	return berth_err_set(err, BERTH_EINVAL,
	                     "%s: must be 0 (no limit) or between 0.01 and "
	                     "1024 CPUs (10000000..1024000000000 nano CPUs; "
	                     "got %lld)",
	                     field, (long long)v);
}

int berth_validate_pids_limit(const char *field, int64_t v,
                              struct berth_err *err)
{
	if (v < 0)
		return berth_err_set(err, BERTH_EINVAL,
		                     "%s: berth never creates a container "
		                     "without a pids limit; give 1..%lld, or 0 "
		                     "for berth's default (4096)",
		                     field, (long long)BERTH_PIDS_MAX);
	if (v > BERTH_PIDS_MAX)
		return berth_err_set(
		    err, BERTH_EINVAL, "%s: must be at most %lld (got %lld)",
		    field, (long long)BERTH_PIDS_MAX, (long long)v);
	return 0;
}
