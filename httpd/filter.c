/*
 * The filters every event endpoint takes, from the query string or a JSON
 * body alike: port, ip (exact or CIDR), protocol, family, failed, since,
 * syscall; and the checks that query strings (qs.c) and JSON bodies
 * (request.c) share: req_reject(), req_query_uint(), req_check_name().
 * The floor below both, so that neither needs the other.  Pure
 * functions, like the rest of the request parsing.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include "httpd/request.h"
#include "httpd/request_impl.h"
#include "util/event.h"
#include "util/timefmt.h"

/* Write the message for the client and return -EINVAL, so that every error
 * path is one line. */
int
req_reject(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/*
 * A decimal integer in [min, max]: digits only, so "12abc", " 1", "+1",
 * "0x10" and "1.5" are all refused.  Accumulation stops once past max, so
 * "99999999999999999999" cannot overflow; it is reported as out of range.
 */
int
req_query_uint(const char *name, const char *s, unsigned long min,
    unsigned long max, unsigned long *out, char *err, size_t errlen)
{
	const char *p = s;
	unsigned long v = 0;
	int neg = 0, over = 0;

	if (*p == '-') {
		neg = 1;
		p++;
	}
	if (*p == '\0')
		goto notint;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			goto notint;
		if (v > max)
			over = 1;
		else
			v = v * 10 + (unsigned long)(*p - '0');
	}
	if (neg || over || v < min || v > max)
		return req_reject(err, errlen, "%s must be between %lu and %lu, got %.32s%s",
		    name, min, max, s, strlen(s) > 32 ? "..." : "");
	*out = v;
	return 0;
notint:
	return req_reject(err, errlen, "%s must be an integer between %lu and %lu, "
	    "got \"%.32s%s\"", name, min, max, s, strlen(s) > 32 ? "..." : "");
}

/* A command name as the kernel stores it: 1 to REQ_COMM_MAX bytes.  A
 * longer name could never match, so it is an error rather than an empty
 * result.  The caller has rejected embedded NULs already. */
int
req_check_name(const char *field, const char *s, size_t n, char *out, char *err,
    size_t errlen)
{
	if (n == 0)
		return req_reject(err, errlen, "%s must not be empty", field);
	if (n > REQ_COMM_MAX)
		return req_reject(err, errlen, "%s is %zu bytes long, but the kernel "
		    "keeps only the first %d bytes of a command name", field, n,
		    REQ_COMM_MAX);
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

/* The names of the shared filters, in the order of req_filter_names[]. */
const char *const req_filter_names[REQ_NFILTER] = {
	"port", "ip", "protocol", "family", "failed", "since", "syscall",
};

int
req_is_filter(const char *name)
{
	size_t i;

	for (i = 0; i < REQ_NFILTER; i++)
		if (strcmp(name, req_filter_names[i]) == 0)
			return 1;
	return 0;
}

/* "10.0.0.0/8", "::1", "2001:db8::/32": an address and an optional prefix
 * length; the host bits must be zero, so that "10.1.2.3/8" (most likely a
 * typo) is refused rather than silently widened. */
static int
parse_ip(const char *v, struct req_filter *f, char *err, size_t errlen)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(v, '/'), *p;
	size_t alen = slash ? (size_t)(slash - v) : strlen(v);
	unsigned long bits, max, i;

	if (alen == 0 || alen >= sizeof(addr))
		goto bad;
	memcpy(addr, v, alen);
	addr[alen] = '\0';
	memset(f->f.ip, 0, sizeof(f->f.ip));
	if (inet_pton(AF_INET, addr, f->f.ip) == 1) {
		f->f.ip_family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, f->f.ip) == 1) {
		f->f.ip_family = AF_INET6;
		max = 128;
	} else {
		goto bad;
	}
	bits = max;
	if (slash) {
		p = slash + 1;
		if (!*p || strlen(p) > 3)
			goto bad;
		for (bits = 0; *p; p++) {
			if (*p < '0' || *p > '9')
				goto bad;
			bits = bits * 10 + (unsigned long)(*p - '0');
		}
		if (bits > max)
			return req_reject(err, errlen, "ip: prefix length /%lu is longer "
			    "than %lu bits", bits, max);
	}
	for (i = bits; i < max; i++)
		if (f->f.ip[i / 8] & (0x80 >> (i % 8)))
			return req_reject(err, errlen, "ip: \"%.64s\" has bits set "
			    "after the prefix length (did you mean the network "
			    "address?)", v);
	f->f.has_ip = 1;
	f->f.prefix = (unsigned)bits;
	/* ::ffff:a.b.c.d/96+ is an IPv4 network, as destinations of that
	 * form are to the filters (store_filter_match()). */
	if (f->f.ip_family == AF_INET6 && bits >= 96 &&
	    memcmp(f->f.ip, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
		memmove(f->f.ip, f->f.ip + 12, 4);
		memset(f->f.ip + 4, 0, 12);
		f->f.ip_family = AF_INET;
		f->f.prefix = (unsigned)bits - 96;
	}
	return 0;
bad:
	return req_reject(err, errlen, "ip must be an IPv4 or IPv6 address, "
	    "optionally with a /prefix (CIDR), got \"%.64s\"", v);
}

/*
 * One filter from its text form (query strings, or JSON strings).
 * Returns 0, or -EINVAL with a message.  now is not needed: "since" in
 * seconds is kept relative.
 */
int
req_filter_parse(struct req_filter *f, const char *name, const char *v,
    char *err, size_t errlen)
{
	static const struct {
		const char *name;
		uint16_t family;
	} families[] = {
		{ "AF_INET", AF_INET }, { "inet", AF_INET }, { "ipv4", AF_INET },
		{ "AF_INET6", AF_INET6 }, { "inet6", AF_INET6 },
		{ "ipv6", AF_INET6 }, { "AF_UNIX", AF_UNIX }, { "unix", AF_UNIX },
		/* The numbers events carry in address_family. */
		{ "2", AF_INET }, { "10", AF_INET6 }, { "1", AF_UNIX },
	};
	static const char *const syscalls[] = { "connect", "sendto", "sendmsg" };
	unsigned long n;
	size_t i;
	int rc;

	if (strcmp(name, "port") == 0) {
		if ((rc = req_query_uint("port", v, 0, 65535, &n, err, errlen)) < 0)
			return rc;
		f->f.has_port = 1;
		f->f.port = (uint16_t)n;
		return 0;
	}
	if (strcmp(name, "ip") == 0)
		return parse_ip(v, f, err, errlen);
	if (strcmp(name, "protocol") == 0) {
		for (i = 0; i < EV_NPROTO; i++) {
			if (strcasecmp(v, ev_protocols[i]) == 0) {
				f->f.has_protocol = 1;
				strcpy(f->f.protocol, ev_protocols[i]);
				return 0;
			}
		}
		return req_reject(err, errlen, "protocol must be one of tcp, udp, unix, "
		    "icmp, sctp, mptcp, raw, unknown; got \"%.32s\"", v);
	}
	if (strcmp(name, "family") == 0) {
		for (i = 0; i < sizeof(families) / sizeof(*families); i++) {
			if (strcasecmp(v, families[i].name) == 0) {
				f->f.has_family = 1;
				f->f.family = families[i].family;
				return 0;
			}
		}
		return req_reject(err, errlen, "family must be AF_INET, AF_INET6 or "
		    "AF_UNIX (or inet, inet6, unix, or 2, 10, 1), got \"%.32s\"", v);
	}
	if (strcmp(name, "failed") == 0) {
		if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
			f->f.failed = 1;
		else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
			f->f.failed = 0;
		else
			return req_reject(err, errlen, "failed must be true or false "
			    "(or 1 or 0), got \"%.32s\"", v);
		f->f.has_failed = 1;
		return 0;
	}
	if (strcmp(name, "since") == 0) {
		f->has_since = 1;
		if (*v >= '0' && *v <= '9' && !strpbrk(v, "-:T")) {
			if ((rc = req_query_uint("since", v, 0, REQ_SINCE_MAX, &n, err,
			    errlen)) < 0)
				return rc;
			f->since_relative = 1;
			f->since_ago = n;
			return 0;
		}
		if (time_parse_rfc3339(v, &f->f.since_ns) < 0 || f->f.since_ns == 0)
			return req_reject(err, errlen, "since must be an RFC 3339 time "
			    "(2026-11-25T11:31:15Z) or seconds ago (0 to %d), got "
			    "\"%.40s\"", REQ_SINCE_MAX, v);
		f->since_relative = 0;
		return 0;
	}
	if (strcmp(name, "syscall") == 0) {
		for (i = 0; i < sizeof(syscalls) / sizeof(*syscalls); i++) {
			if (strcmp(v, syscalls[i]) == 0) {
				f->f.has_syscall = 1;
				f->f.syscall = (uint8_t)i; /* enum ev_syscall order */
				return 0;
			}
		}
		return req_reject(err, errlen, "syscall must be connect, sendto or "
		    "sendmsg, got \"%.32s\"", v);
	}
	return req_reject(err, errlen, "unknown filter \"%s\"", name);
}

