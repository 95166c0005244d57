/*
 * Request parsing and validation.  Everything here is a pure function of
 * its arguments: the handlers in api.c do the I/O, this file decides what
 * is acceptable and says precisely what is not, so that a client who sent
 * "duration":"60" learns that it must be a number instead of getting a
 * bare 400.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <jansson.h>

#include "httpd/request.h"
#include "util/event.h"
#include "util/timefmt.h"

/* Longest query parameter name and value we decode.  Every value we accept
 * is far shorter; longer ones are rejected, not truncated. */
#define QKEY_MAX 32
#define QVAL_MAX 64

/* One query parameter an endpoint accepts, and its decoded value. */
struct qparam {
	const char *name;
	int seen;
	char value[QVAL_MAX];
};

static int reject(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int query_uint(const char *name, const char *s, unsigned long min,
    unsigned long max, unsigned long *out, char *err, size_t errlen);

/* Write the message for the client and return -EINVAL, so that every error
 * path is one line. */
static int
reject(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* "got a string": the type of what the client sent, for messages. */
static const char *
type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a non-integer number";
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	case JSON_NULL:
		return "null";
	}
	return "an unknown type";
}

/*
 * Parse body as exactly one JSON object.  The length is passed on so that a
 * raw NUL byte is a syntax error instead of the end of the input, and
 * without JSON_ALLOW_NUL "\u0000" is rejected too: every string we get can
 * be used as a C string.  Duplicate keys are rejected because it is not
 * clear which one the client meant.  JSON_DECODE_ANY lets a bare "60"
 * parse, so that the client hears "must be a JSON object, got an integer"
 * rather than a syntax error.  jansson limits nesting
 * (JSON_PARSER_MAX_DEPTH, which the GNUmakefile sets to 32 instead of
 * 2048: at 2048, 100 000 '[' overflowed a worker's stack), so deep input
 * fails here instead of exhausting the stack.  Returns a new reference or
 * NULL.
 */
static json_t *
load_object(const char *body, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root;
	const char *nul;

	/* jansson reports a raw NUL as "end of file", which would puzzle. */
	if ((nul = memchr(body, '\0', len)) != NULL) {
		reject(err, errlen, "invalid JSON: NUL byte at byte %zu",
		    (size_t)(nul - body));
		return NULL;
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (!root) {
		reject(err, errlen, "invalid JSON: %s at line %d, column %d (byte %d)",
		    je.text, je.line, je.column, je.position);
		return NULL;
	}
	if (!json_is_object(root)) {
		reject(err, errlen, "request body must be a JSON object, got %s",
		    type_name(root));
		json_decref(root);
		return NULL;
	}
	return root;
}

/* An integer member in [min, max].  Strings, reals, booleans and null are
 * refused: "60" and 60.5 are client bugs we would rather show than guess. */
static int
get_int(const json_t *v, const char *name, json_int_t min, json_int_t max,
    json_int_t *out, char *err, size_t errlen)
{
	json_int_t n;

	if (!json_is_integer(v))
		return reject(err, errlen, "%s must be an integer between %lld and "
		    "%lld, got %s", name, (long long)min, (long long)max,
		    type_name(v));
	n = json_integer_value(v);
	if (n < min || n > max)
		return reject(err, errlen, "%s must be between %lld and %lld, got %lld",
		    name, (long long)min, (long long)max, (long long)n);
	*out = n;
	return 0;
}

/* A command name as the kernel stores it: 1 to REQ_COMM_MAX bytes.  A
 * longer name could never match, so it is an error rather than an empty
 * result.  The caller has rejected embedded NULs already. */
static int
check_name(const char *field, const char *s, size_t n, char *out, char *err,
    size_t errlen)
{
	if (n == 0)
		return reject(err, errlen, "%s must not be empty", field);
	if (n > REQ_COMM_MAX)
		return reject(err, errlen, "%s is %zu bytes long, but the kernel "
		    "keeps only the first %d bytes of a command name", field, n,
		    REQ_COMM_MAX);
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

static int
check_command(const char *s, size_t n, char *out, char *err, size_t errlen)
{
	return check_name("command", s, n, out, err, errlen);
}

/* "command", or "process_name", the original server's other name for it. */
static int
get_name(const char *field, const json_t *v, char *out, char *err,
    size_t errlen)
{
	if (!json_is_string(v))
		return reject(err, errlen, "%s must be a string, got %s", field,
		    type_name(v));
	return check_name(field, json_string_value(v), json_string_length(v),
	    out, err, errlen);
}

static int
get_command(const json_t *v, char *out, char *err, size_t errlen)
{
	return get_name("command", v, out, err, errlen);
}

/* The names of the shared filters, in the order of filter_names[]. */
static const char *const filter_names[] = {
	"port", "ip", "protocol", "family", "failed", "since", "syscall",
};
#define NFILTER (sizeof(filter_names) / sizeof(filter_names[0]))

static int
is_filter(const char *name)
{
	size_t i;

	for (i = 0; i < NFILTER; i++)
		if (strcmp(name, filter_names[i]) == 0)
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
	memset(f->ip, 0, sizeof(f->ip));
	if (inet_pton(AF_INET, addr, f->ip) == 1) {
		f->ip_family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, f->ip) == 1) {
		f->ip_family = AF_INET6;
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
			return reject(err, errlen, "ip: prefix length /%lu is longer "
			    "than %lu bits", bits, max);
	}
	for (i = bits; i < max; i++)
		if (f->ip[i / 8] & (0x80 >> (i % 8)))
			return reject(err, errlen, "ip: \"%.64s\" has bits set "
			    "after the prefix length (did you mean the network "
			    "address?)", v);
	f->has_ip = 1;
	f->prefix = (unsigned)bits;
	return 0;
bad:
	return reject(err, errlen, "ip must be an IPv4 or IPv6 address, "
	    "optionally with a /prefix (CIDR), got \"%.64s\"", v);
}

/*
 * One filter from its text form (query strings, or JSON strings).
 * Returns 0, or -EINVAL with a message.  now is not needed: "since" in
 * seconds is kept relative.
 */
static int
parse_filter(struct req_filter *f, const char *name, const char *v,
    char *err, size_t errlen)
{
	static const char *const protocols[] = {
		"TCP", "UDP", "UNIX", "ICMP", "SCTP", "MPTCP", "RAW", "UNKNOWN",
	};
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
		if ((rc = query_uint("port", v, 0, 65535, &n, err, errlen)) < 0)
			return rc;
		f->has_port = 1;
		f->port = (uint16_t)n;
		return 0;
	}
	if (strcmp(name, "ip") == 0)
		return parse_ip(v, f, err, errlen);
	if (strcmp(name, "protocol") == 0) {
		for (i = 0; i < sizeof(protocols) / sizeof(*protocols); i++) {
			if (strcasecmp(v, protocols[i]) == 0) {
				f->has_protocol = 1;
				strcpy(f->protocol, protocols[i]);
				return 0;
			}
		}
		return reject(err, errlen, "protocol must be one of tcp, udp, unix, "
		    "icmp, sctp, mptcp, raw, unknown; got \"%.32s\"", v);
	}
	if (strcmp(name, "family") == 0) {
		for (i = 0; i < sizeof(families) / sizeof(*families); i++) {
			if (strcasecmp(v, families[i].name) == 0) {
				f->has_family = 1;
				f->family = families[i].family;
				return 0;
			}
		}
		return reject(err, errlen, "family must be AF_INET, AF_INET6 or "
		    "AF_UNIX (or inet, inet6, unix, or 2, 10, 1), got \"%.32s\"", v);
	}
	if (strcmp(name, "failed") == 0) {
		if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
			f->failed = 1;
		else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
			f->failed = 0;
		else
			return reject(err, errlen, "failed must be true or false "
			    "(or 1 or 0), got \"%.32s\"", v);
		f->has_failed = 1;
		return 0;
	}
	if (strcmp(name, "since") == 0) {
		f->has_since = 1;
		if (*v >= '0' && *v <= '9' && !strpbrk(v, "-:T")) {
			if ((rc = query_uint("since", v, 0, REQ_SINCE_MAX, &n, err,
			    errlen)) < 0)
				return rc;
			f->since_relative = 1;
			f->since_ago = n;
			return 0;
		}
		if (time_parse_rfc3339(v, &f->since_ns) < 0 || f->since_ns == 0)
			return reject(err, errlen, "since must be an RFC 3339 time "
			    "(2026-11-25T11:31:15Z) or seconds ago (0 to %d), got "
			    "\"%.40s\"", REQ_SINCE_MAX, v);
		f->since_relative = 0;
		return 0;
	}
	if (strcmp(name, "syscall") == 0) {
		for (i = 0; i < sizeof(syscalls) / sizeof(*syscalls); i++) {
			if (strcmp(v, syscalls[i]) == 0) {
				f->has_syscall = 1;
				f->syscall = (uint8_t)i; /* enum ev_syscall order */
				return 0;
			}
		}
		return reject(err, errlen, "syscall must be connect, sendto or "
		    "sendmsg, got \"%.32s\"", v);
	}
	return reject(err, errlen, "unknown filter \"%s\"", name);
}

/* A filter from a JSON member: port, since and family may be integers,
 * failed a boolean; everything may be the string the query string would
 * carry. */
static int
json_filter(struct req_filter *f, const char *name, const json_t *v,
    char *err, size_t errlen)
{
	char buf[32];

	if (json_is_string(v))
		return parse_filter(f, name, json_string_value(v), err, errlen);
	if (json_is_integer(v) && (strcmp(name, "port") == 0 ||
	    strcmp(name, "since") == 0 || strcmp(name, "family") == 0)) {
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
		return parse_filter(f, name, buf, err, errlen);
	}
	if (json_is_boolean(v) && strcmp(name, "failed") == 0)
		return parse_filter(f, name, json_is_true(v) ? "true" : "false",
		    err, errlen);
	if (strcmp(name, "port") == 0)
		return reject(err, errlen, "port must be an integer, got %s",
		    type_name(v));
	if (strcmp(name, "failed") == 0)
		return reject(err, errlen, "failed must be true or false, got %s",
		    type_name(v));
	if (strcmp(name, "since") == 0)
		return reject(err, errlen, "since must be an RFC 3339 string or "
		    "seconds ago, got %s", type_name(v));
	return reject(err, errlen, "%s must be a string, got %s", name,
	    type_name(v));
}

int
req_parse_summary(const char *body, size_t len, struct req_summary *out,
    char *err, size_t errlen)
{
	char pname[REQ_COMM_MAX + 1] = "";
	json_t *root, *v;
	const char *key;
	json_int_t n;
	int has_command = 0, has_pname = 0, has_duration = 0, has_filter = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!(root = load_object(body, len, err, errlen)))
		return -EINVAL;
	json_object_foreach(root, key, v) {
		if (strcmp(key, "pid") == 0) {
			rc = get_int(v, "pid", 1, REQ_PID_MAX, &n, err, errlen);
			out->has_pid = 1;
			out->pid = (uint32_t)n;
		} else if (strcmp(key, "command") == 0) {
			rc = get_command(v, out->command, err, errlen);
			has_command = 1;
		} else if (strcmp(key, "process_name") == 0) {
			rc = get_name("process_name", v, pname, err, errlen);
			has_pname = 1;
		} else if (strcmp(key, "duration") == 0) {
			rc = get_int(v, "duration", 1, REQ_DURATION_MAX, &n, err,
			    errlen);
			has_duration = 1;
			out->duration = (unsigned)n;
		} else if (is_filter(key)) {
			rc = json_filter(&out->filter, key, v, err, errlen);
			has_filter = 1;
		} else {
			rc = reject(err, errlen, "unknown field \"%s\"", key);
		}
		if (rc < 0)
			goto out;
	}
	/* The original server takes "process_name" for "command"; both may
	 * be given only when they agree. */
	if (has_pname && has_command && strcmp(pname, out->command) != 0) {
		rc = reject(err, errlen, "\"command\" and \"process_name\" name "
		    "the same thing and differ (\"%s\" and \"%s\"): give one",
		    out->command, pname);
		goto out;
	}
	if (has_pname && !has_command) {
		memcpy(out->command, pname, sizeof(pname));
		has_command = 1;
	}
	/* The original contract: exactly one of pid and command.  A request
	 * that selects by another filter (port, ip, ...) alone counts every
	 * process matching it. */
	if (out->has_pid && has_command)
		rc = reject(err, errlen, "give either \"pid\" or \"command\", not both");
	else if (!out->has_pid && !has_command && !has_filter)
		rc = reject(err, errlen, "missing field \"pid\" or \"command\" "
		    "(or a filter such as \"port\")");
	else if (!has_duration)
		rc = reject(err, errlen, "missing field \"duration\" (seconds, "
		    "1 to %d)", REQ_DURATION_MAX);
out:
	json_decref(root);
	return rc;
}

/* True when body holds nothing but JSON whitespace. */
static int
is_blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return 0;
	return 1;
}

int
req_parse_list_body(const char *body, size_t len, struct req_list *out,
    char *err, size_t errlen)
{
	json_t *root, *v;
	const char *key;
	json_int_t n;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->limit = REQ_LIMIT_DEFAULT;
	/* curl -X POST sends no body at all; that means "everything". */
	if (is_blank(body, len))
		return 0;
	if (!(root = load_object(body, len, err, errlen)))
		return -EINVAL;
	json_object_foreach(root, key, v) {
		if (strcmp(key, "pid") == 0) {
			rc = get_int(v, "pid", 1, REQ_PID_MAX, &n, err, errlen);
			out->has_pid = 1;
			out->pid = (uint32_t)n;
		} else if (strcmp(key, "command") == 0) {
			rc = get_command(v, out->command, err, errlen);
		} else if (strcmp(key, "limit") == 0) {
			rc = get_int(v, "limit", 1, REQ_LIMIT_MAX, &n, err, errlen);
			out->limit = (unsigned)n;
		} else if (is_filter(key)) {
			rc = json_filter(&out->filter, key, v, err, errlen);
		} else {
			rc = reject(err, errlen, "unknown field \"%s\"", key);
		}
		if (rc < 0)
			break;
	}
	json_decref(root);
	return rc;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
req_url_decode(const char *s, size_t len, char *out, size_t outlen)
{
	size_t i, o = 0;
	int hi, lo;
	char c;

	if (outlen == 0)
		return -ENAMETOOLONG;
	for (i = 0; i < len; i++) {
		c = s[i];
		if (c == '%') {
			/* Unlike mg_get_var(), a stray '%' is an error: it is
			 * more likely a client bug than a literal percent. */
			if (len - i < 3 || (hi = hexval(s[i + 1])) < 0 ||
			    (lo = hexval(s[i + 2])) < 0)
				return -EINVAL;
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		/* A NUL would silently cut the value short. */
		if (c == '\0')
			return -EINVAL;
		if (o + 1 >= outlen)
			return -ENAMETOOLONG;
		out[o++] = c;
	}
	out[o] = '\0';
	return (int)o;
}

/*
 * Split qs at '&' into the parameters in p[0..np).  A parameter we do not
 * know, or one given twice, is an error: silently ignoring "?pid=1&pid=2"
 * or a misspelt "?lmit=5" would answer a question the client did not ask.
 * Empty segments ("a=1&&b=2", a trailing '&') are skipped.
 */
static int
query_split(const char *qs, struct qparam *p, size_t np, char *err,
    size_t errlen)
{
	const char *s, *end, *eq;
	char key[QKEY_MAX];
	size_t klen, i;
	int n;

	for (s = qs; s && *s; s = *end ? end + 1 : end) {
		end = strchr(s, '&');
		if (!end)
			end = s + strlen(s);
		if (end == s)
			continue;
		eq = memchr(s, '=', (size_t)(end - s));
		klen = (size_t)((eq ? eq : end) - s);
		n = req_url_decode(s, klen, key, sizeof(key));
		if (n == -EINVAL)
			return reject(err, errlen, "malformed percent-encoding in query "
			    "parameter name \"%.*s\"", (int)(klen > 40 ? 40 : klen), s);
		for (i = 0; n >= 0 && i < np; i++)
			if (strcmp(key, p[i].name) == 0)
				break;
		if (n < 0 || i == np)
			return reject(err, errlen, "unknown query parameter \"%.*s\"",
			    (int)(klen > 40 ? 40 : klen), s);
		if (p[i].seen)
			return reject(err, errlen, "query parameter \"%s\" given more "
			    "than once", p[i].name);
		p[i].seen = 1;
		if (!eq)
			continue;
		n = req_url_decode(eq + 1, (size_t)(end - eq - 1), p[i].value,
		    sizeof(p[i].value));
		if (n == -EINVAL)
			return reject(err, errlen, "malformed percent-encoding in query "
			    "parameter \"%s\"", p[i].name);
		if (n < 0)
			return reject(err, errlen, "query parameter \"%s\" is too long",
			    p[i].name);
	}
	return 0;
}

/*
 * A decimal integer in [min, max]: digits only, so "12abc", " 1", "+1",
 * "0x10" and "1.5" are all refused.  Accumulation stops once past max, so
 * "99999999999999999999" cannot overflow; it is reported as out of range.
 */
static int
query_uint(const char *name, const char *s, unsigned long min,
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
		return reject(err, errlen, "%s must be between %lu and %lu, got %.32s%s",
		    name, min, max, s, strlen(s) > 32 ? "..." : "");
	*out = v;
	return 0;
notint:
	return reject(err, errlen, "%s must be an integer between %lu and %lu, "
	    "got \"%.32s%s\"", name, min, max, s, strlen(s) > 32 ? "..." : "");
}

/* ?pretty, ?pretty=1 and ?pretty=true indent; 0 and false do not. */
static int
query_pretty(const struct qparam *q, int *pretty, char *err, size_t errlen)
{
	const char *v = q->value;

	*pretty = 0;
	if (!q->seen)
		return 0;
	if (!*v || strcmp(v, "1") == 0 || strcmp(v, "true") == 0) {
		*pretty = 1;
		return 0;
	}
	if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
		return 0;
	return reject(err, errlen, "pretty must be 1, 0, true or false, got "
	    "\"%.32s\"", v);
}

int
req_parse_query(const char *qs, int *pretty, char *err, size_t errlen)
{
	struct qparam p[] = { { .name = "pretty" } };
	int rc;

	*pretty = 0;
	if ((rc = query_split(qs, p, 1, err, errlen)) < 0)
		return rc;
	return query_pretty(&p[0], pretty, err, errlen);
}

/* The shared filters among the parameters p[from..from+NFILTER). */
static void
filter_params(struct qparam *p)
{
	size_t i;

	for (i = 0; i < NFILTER; i++)
		p[i].name = filter_names[i];
}

static int
filter_apply(const struct qparam *p, struct req_filter *f, char *err,
    size_t errlen)
{
	size_t i;
	int rc;

	for (i = 0; i < NFILTER; i++)
		if (p[i].seen && (rc = parse_filter(f, p[i].name, p[i].value, err,
		    errlen)) < 0)
			return rc;
	return 0;
}

/* pid and command, shared by list and stream. */
static int
pid_command(const struct qparam *pid, const struct qparam *command,
    int *has_pid, uint32_t *outpid, char *outcmd, char *err, size_t errlen)
{
	unsigned long v;
	int rc;

	if (pid->seen) {
		if ((rc = query_uint("pid", pid->value, 1, REQ_PID_MAX, &v, err,
		    errlen)) < 0)
			return rc;
		*has_pid = 1;
		*outpid = (uint32_t)v;
	}
	if (command->seen && (rc = check_command(command->value,
	    strlen(command->value), outcmd, err, errlen)) < 0)
		return rc;
	return 0;
}

int
req_parse_list_query(const char *qs, struct req_list *out, int *pretty,
    char *err, size_t errlen)
{
	enum { PID, COMMAND, LIMIT, PRETTY, FILTERS, NPARAM = FILTERS + NFILTER };
	struct qparam p[NPARAM] = {
		[PID] = { .name = "pid" },
		[COMMAND] = { .name = "command" },
		[LIMIT] = { .name = "limit" },
		[PRETTY] = { .name = "pretty" },
	};
	unsigned long v;
	int rc;

	memset(out, 0, sizeof(*out));
	out->limit = REQ_LIMIT_DEFAULT;
	*pretty = 0;
	filter_params(p + FILTERS);
	if ((rc = query_split(qs, p, NPARAM, err, errlen)) < 0)
		return rc;
	if ((rc = pid_command(&p[PID], &p[COMMAND], &out->has_pid, &out->pid,
	    out->command, err, errlen)) < 0)
		return rc;
	if (p[LIMIT].seen) {
		if ((rc = query_uint("limit", p[LIMIT].value, 1, REQ_LIMIT_MAX, &v,
		    err, errlen)) < 0)
			return rc;
		out->limit = (unsigned)v;
	}
	if ((rc = filter_apply(p + FILTERS, &out->filter, err, errlen)) < 0)
		return rc;
	return query_pretty(&p[PRETTY], pretty, err, errlen);
}

int
req_parse_top_query(const char *qs, struct req_top *out, int *pretty,
    char *err, size_t errlen)
{
	enum { BY, DURATION, LIMIT, COMMAND, PRETTY, FILTERS,
	    NPARAM = FILTERS + NFILTER };
	struct qparam p[NPARAM] = {
		[BY] = { .name = "by" },
		[DURATION] = { .name = "duration" },
		[LIMIT] = { .name = "limit" },
		[COMMAND] = { .name = "command" },
		[PRETTY] = { .name = "pretty" },
	};
	unsigned long v;
	int rc;

	memset(out, 0, sizeof(*out));
	out->duration = REQ_TOP_DURATION_DEFAULT;
	out->limit = REQ_TOP_DEFAULT;
	*pretty = 0;
	filter_params(p + FILTERS);
	if ((rc = query_split(qs, p, NPARAM, err, errlen)) < 0)
		return rc;
	if (!p[BY].seen)
		return reject(err, errlen, "missing query parameter \"by\" "
		    "(command, destination or port)");
	if (strcmp(p[BY].value, "command") == 0)
		out->by = REQ_TOP_COMMAND;
	else if (strcmp(p[BY].value, "destination") == 0)
		out->by = REQ_TOP_DESTINATION;
	else if (strcmp(p[BY].value, "port") == 0)
		out->by = REQ_TOP_PORT;
	else
		return reject(err, errlen, "by must be command, destination or "
		    "port, got \"%.32s\"", p[BY].value);
	if (p[DURATION].seen) {
		if ((rc = query_uint("duration", p[DURATION].value, 1,
		    REQ_DURATION_MAX, &v, err, errlen)) < 0)
			return rc;
		out->duration = (unsigned)v;
	}
	if (p[LIMIT].seen) {
		if ((rc = query_uint("limit", p[LIMIT].value, 1, REQ_LIMIT_MAX, &v,
		    err, errlen)) < 0)
			return rc;
		out->limit = (unsigned)v;
	}
	if (p[COMMAND].seen && (rc = check_command(p[COMMAND].value,
	    strlen(p[COMMAND].value), out->command, err, errlen)) < 0)
		return rc;
	if ((rc = filter_apply(p + FILTERS, &out->filter, err, errlen)) < 0)
		return rc;
	return query_pretty(&p[PRETTY], pretty, err, errlen);
}

int
req_parse_stream_query(const char *qs, struct req_stream *out, char *err,
    size_t errlen)
{
	enum { PID, COMMAND, FILTERS, NPARAM = FILTERS + NFILTER };
	struct qparam p[NPARAM] = {
		[PID] = { .name = "pid" },
		[COMMAND] = { .name = "command" },
	};
	int rc;

	memset(out, 0, sizeof(*out));
	filter_params(p + FILTERS);
	if (req_want_pretty(qs))
		return reject(err, errlen, "pretty is not available on a stream: "
		    "it sends one JSON object per line");
	if ((rc = query_split(qs, p, NPARAM, err, errlen)) < 0)
		return rc;
	if ((rc = pid_command(&p[PID], &p[COMMAND], &out->has_pid, &out->pid,
	    out->command, err, errlen)) < 0)
		return rc;
	return filter_apply(p + FILTERS, &out->filter, err, errlen);
}

int
req_want_pretty(const char *qs)
{
	const char *s, *end;
	size_t n;

	for (s = qs; s && *s; s = *end ? end + 1 : end) {
		end = strchr(s, '&');
		if (!end)
			end = s + strlen(s);
		n = (size_t)(end - s);
		if ((n == 6 && memcmp(s, "pretty", 6) == 0) ||
		    (n == 8 && memcmp(s, "pretty=1", 8) == 0) ||
		    (n == 11 && memcmp(s, "pretty=true", 11) == 0))
			return 1;
	}
	return 0;
}

int
req_bearer_ok(const char *header, const char *token)
{
	const volatile unsigned char *a, *b;
	size_t alen, blen, i;
	unsigned diff;

	if (strncasecmp(header, "Bearer ", 7) != 0)
		return 0;
	header += 7;
	while (*header == ' ')
		header++;
	a = (const volatile unsigned char *)header;
	b = (const volatile unsigned char *)token;
	alen = strlen(header);
	blen = strlen(token);
	/* Trailing spaces are allowed by the header grammar. */
	while (alen > 0 && header[alen - 1] == ' ')
		alen--;
	/* Always walk the whole token, whatever the client sent. */
	diff = alen != blen;
	for (i = 0; i < blen; i++)
		diff |= (unsigned)(b[i] ^ (i < alen ? a[i] : 0u));
	return diff == 0;
}
