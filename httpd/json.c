/*
 * Events and responses as JSON.  The output must always be valid UTF-8,
 * while the kernel hands us raw bytes: a process can name itself anything
 * with prctl(PR_SET_NAME), and unix socket paths are arbitrary bytes.
 * jansson refuses invalid UTF-8 (json_string() returns NULL), so every
 * string that did not come from a JSON parser goes through
 * json_str_sanitize() first.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "httpd/json.h"
#include "util/event.h"
#include "util/fmt.h"
#include "util/timefmt.h"

/*
 * Length of the well-formed UTF-8 character at s (at most n bytes), or 0
 * if there is none; then *bad is the length of the maximal subpart to
 * replace with one U+FFFD (at least 1), as Unicode recommends (chapter 3,
 * "U+FFFD Substitution of Maximal Subparts"), so that a truncated sequence
 * swallows neither the byte after it nor the rest of the string.  The
 * ranges are Table 3-7's, which excludes overlong forms, surrogates and
 * code points past U+10FFFF.
 */
static size_t
utf8_char(const unsigned char *s, size_t n, size_t *bad)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need, i;

	*bad = 1;
	if (c >= 0x01 && c <= 0x7f)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		if (c == 0xe0)
			lo = 0xa0;        /* overlong */
		else if (c == 0xed)
			hi = 0x9f;        /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		if (c == 0xf0)
			lo = 0x90;        /* overlong */
		else if (c == 0xf4)
			hi = 0x8f;        /* past U+10FFFF */
	} else {
		return 0;                 /* NUL, continuation, C0, C1, F5..FF */
	}
	for (i = 1; i < need; i++) {
		if (i >= n || s[i] < lo || s[i] > hi) {
			*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xbf;
	}
	return need;
}

size_t
json_str_sanitize(const char *s, size_t len, char *out, size_t outlen)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, o = 0, n, bad;
	const char *src;

	if (outlen == 0)
		return 0;
	while (i < len) {
		n = utf8_char(u + i, len - i, &bad);
		if (n > 0) {
			src = s + i;
			i += n;
		} else {
			src = UTF8_REPLACEMENT;
			n = sizeof(UTF8_REPLACEMENT) - 1;
			i += bad;
		}
		if (o + n >= outlen)
			break;
		memcpy(out + o, src, n);
		o += n;
	}
	out[o] = '\0';
	return o;
}

json_t *
json_str_new(const char *s, size_t len)
{
	char small[3 * 128 + 1], *buf = small;
	size_t n;
	json_t *v;

	/* Command names and unix paths fit on the stack; only longer strings
	 * (error messages quoting client input) need the heap. */
	if (len > (SIZE_MAX - 1) / 3)
		return NULL;
	if (len > (sizeof(small) - 1) / 3 && !(buf = malloc(3 * len + 1)))
		return NULL;
	n = json_str_sanitize(s, len, buf, 3 * len + 1);
	v = json_stringn(buf, n);
	if (buf != small)
		free(buf);
	return v;
}

int
json_set(json_t *obj, const char *key, json_t *val)
{
	/* json_object_set_new() steals val even when it fails, and fails
	 * cleanly when val is NULL. */
	return json_object_set_new(obj, key, val) < 0 ? -ENOMEM : 0;
}

const char *
json_status_text(int status)
{
	/* Go's net/http StatusText(), which the original server's "error"
	 * holds, for the statuses we or civetweb can send. */
	static const struct {
		int code;
		const char *text;
	} t[] = {
		{ 400, "Bad Request" }, { 401, "Unauthorized" },
		{ 403, "Forbidden" }, { 404, "Not Found" },
		{ 405, "Method Not Allowed" }, { 406, "Not Acceptable" },
		{ 408, "Request Timeout" }, { 411, "Length Required" },
		{ 413, "Request Entity Too Large" }, { 414, "Request URI Too Long" },
		{ 415, "Unsupported Media Type" }, { 417, "Expectation Failed" },
		{ 429, "Too Many Requests" },
		{ 431, "Request Header Fields Too Large" },
		{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
		{ 503, "Service Unavailable" },
		{ 505, "HTTP Version Not Supported" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].code == status)
			return t[i].text;
	return status >= 500 ? "Internal Server Error" : "Bad Request";
}

json_t *
json_error_new(int status, const char *msg)
{
	json_t *o;
	int rc = 0;

	if (!(o = json_object()))
		return NULL;
	rc |= json_set(o, "error", json_string(json_status_text(status)));
	rc |= json_set(o, "message", json_str_new(msg, strlen(msg)));
	if (rc < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

char *
json_body(const json_t *v, int pretty, size_t *len)
{
	char *s, *t;
	size_t n;

	s = json_dumps(v, pretty ? JSON_INDENT(2) : JSON_COMPACT);
	if (!s)
		return NULL;
	n = strlen(s);
	if (!(t = realloc(s, n + 2))) {
		free(s);
		return NULL;
	}
	t[n] = '\n';
	t[n + 1] = '\0';
	*len = n + 1;
	return t;
}

/* Room for n more bytes and a NUL.  Returns 0, or -1 (b->err set). */
static int
reserve(struct jbuf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->err)
		return -1;
	if (b->len + n + 1 <= b->cap)
		return 0;
	if (b->fixed) {
		b->err = -ENOSPC;
		return -1;
	}
	for (cap = b->cap > 4096 ? b->cap : 4096; cap < b->len + n + 1;
	    cap *= 2)
		;
	if (!(p = realloc(b->borrowed ? NULL : b->p, cap))) {
		b->err = -ENOMEM;
		return -1;
	}
	if (b->borrowed) {
		memcpy(p, b->p, b->len);
		p[b->len] = '\0';
	}
	b->p = p;
	b->cap = cap;
	b->borrowed = 0;
	return 0;
}

void
jbuf_init(struct jbuf *b, char *room, size_t n)
{
	b->p = room;
	b->len = 0;
	b->cap = n;
	b->err = 0;
	b->borrowed = 1;
	b->fixed = 0;
	b->full = NULL;
	room[0] = '\0';
}

void
jbuf_fixed(struct jbuf *b, char *room, size_t n, int (*full)(struct jbuf *b))
{
	jbuf_init(b, room, n);
	b->fixed = 1;
	b->full = full;
}

void
jbuf_free(struct jbuf *b)
{
	if (!b->borrowed)
		free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->borrowed = 0;
}

void
jbuf_raw(struct jbuf *b, const char *s, size_t n)
{
	size_t room;
	int e;

	/* A fixed buffer that drains is filled to its last byte, then
	 * drained: out.c's chunks are all of the buffer's size. */
	while (b->full && !b->err && n > (room = b->cap - 1 - b->len)) {
		memcpy(b->p + b->len, s, room);
		b->len += room;
		s += room;
		n -= room;
		if ((e = b->full(b)) < 0)
			b->err = e;
	}
	if (reserve(b, n) < 0)
		return;
	/* Most pieces are a few bytes: a plain loop beats the "rep movsb"
	 * that -Os makes of memcpy() for them. */
	if (n < 32) {
		char *d = b->p + b->len;
		size_t i;

		for (i = 0; i < n; i++)
			d[i] = s[i];
	} else {
		memcpy(b->p + b->len, s, n);
	}
	b->len += n;
	b->p[b->len] = '\0';
}

void
jbuf_printf(struct jbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->err = -EINVAL;
		return;
	}
	if (b->full) {
		/* Through jbuf_raw(), which drains: short lines only. */
		char line[256];

		va_start(ap, fmt);
		vsnprintf(line, sizeof(line), fmt, ap);
		va_end(ap);
		if ((size_t)n >= sizeof(line))
			b->err = -ENOSPC;
		else
			jbuf_raw(b, line, (size_t)n);
		return;
	}
	if (reserve(b, (size_t)n) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
jbuf_str(struct jbuf *b, const char *s)
{
	jbuf_raw(b, s, strlen(s));
}

void
jbuf_int(struct jbuf *b, long long v)
{
	char num[24];

	jbuf_raw(b, num, fmt_i64(num, v));
}

/* As jansson's dump_string() without flags: quote, backslash and control
 * characters escaped, everything else (valid UTF-8 by now) as is. */
void
jbuf_json_str(struct jbuf *b, const char *s, size_t len)
{
	char small[3 * 128 + 1], *buf = small, esc[8];
	size_t n, i, run;

	if (len > (SIZE_MAX - 1) / 3) {
		b->err = -ENOMEM;
		return;
	}
	if (len > (sizeof(small) - 1) / 3 && !(buf = malloc(3 * len + 1))) {
		b->err = -ENOMEM;
		return;
	}
	n = json_str_sanitize(s, len, buf, 3 * len + 1);
	jbuf_raw(b, "\"", 1);
	for (i = run = 0; i < n; i++) {
		unsigned char c = (unsigned char)buf[i];
		const char *e = NULL;

		switch (c) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\b': e = "\\b"; break;
		case '\f': e = "\\f"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		default:
			if (c < 0x20) {
				snprintf(esc, sizeof(esc), "\\u%04X", c);
				e = esc;
			}
		}
		if (!e)
			continue;
		jbuf_raw(b, buf + run, i - run);
		jbuf_str(b, e);
		run = i + 1;
	}
	jbuf_raw(b, buf + run, n - run);
	jbuf_raw(b, "\"", 1);
	if (buf != small)
		free(buf);
}

/*
 * Layout as jansson's dumps: depth < 0 is JSON_COMPACT; otherwise
 * JSON_INDENT(2) for a value nested depth levels deep, each member on a
 * line of its own indented by 2 * (depth + 1).
 */
static void
indent(struct jbuf *b, int depth)
{
	static const char sp[] = "                                ";
	size_t n = 2 * (size_t)depth, k;

	jbuf_raw(b, "\n", 1);
	for (; n > 0; n -= k) {
		k = n < sizeof(sp) - 1 ? n : sizeof(sp) - 1;
		jbuf_raw(b, sp, k);
	}
}

void
jbuf_sep(struct jbuf *b, int first, int depth)
{
	if (!first)
		jbuf_raw(b, ",", 1);
	if (depth >= 0)
		indent(b, depth);
}

void
jbuf_close(struct jbuf *b, char bracket, int empty, int depth)
{
	if (!empty && depth >= 0)
		indent(b, depth);
	jbuf_raw(b, &bracket, 1);
}

void
jbuf_key(struct jbuf *b, const char *k, int first, int depth)
{
	if (depth < 0) {
		jbuf_raw(b, first ? "{\"" : ",\"", 2);
		jbuf_str(b, k);
		jbuf_raw(b, "\":", 2);
		return;
	}
	jbuf_raw(b, first ? "{" : ",", 1);
	indent(b, depth + 1);
	jbuf_raw(b, "\"", 1);
	jbuf_str(b, k);
	jbuf_raw(b, "\": ", 3);
}

/* "s" for a string known to need no escaping. */
static void
name(struct jbuf *b, const char *s)
{
	jbuf_raw(b, "\"", 1);
	jbuf_str(b, s);
	jbuf_raw(b, "\"", 1);
}

void
jbuf_event(struct jbuf *b, const struct event *ev, const char *cg,
    size_t cglen, int depth)
{
	char dst[EV_PATH_MAX + 64], ip[64], ts[40];

	/* The API's order of fields, which the fixtures and the OpenAPI
	 * examples hold. */
	ev_destination(ev, dst, sizeof(dst));
	ev_ip(ev, ip, sizeof(ip));
	if (time_rfc3339(ev->ts, ts, sizeof(ts)) < 0)
		ts[0] = '\0';
	jbuf_key(b, "pid", 1, depth);
	jbuf_int(b, ev->pid);
	jbuf_key(b, "tid", 0, depth);
	jbuf_int(b, ev->tid);
	jbuf_key(b, "ppid", 0, depth);
	jbuf_int(b, ev->ppid);
	jbuf_key(b, "uid", 0, depth);
	jbuf_int(b, ev->uid);
	jbuf_key(b, "gid", 0, depth);
	jbuf_int(b, ev->gid);
	jbuf_key(b, "command", 0, depth);
	jbuf_json_str(b, ev->comm, strnlen(ev->comm, sizeof(ev->comm)));
	jbuf_key(b, "destination", 0, depth);
	jbuf_json_str(b, dst, strnlen(dst, sizeof(dst)));
	jbuf_key(b, "destination_ip", 0, depth);
	jbuf_json_str(b, ip, strlen(ip));
	jbuf_key(b, "destination_port", 0, depth);
	jbuf_int(b, ev->port);
	/* A number (2, 10, 1), as the original server sends it. */
	jbuf_key(b, "address_family", 0, depth);
	jbuf_int(b, ev->family);
	/* Our own names are plain ASCII: no sanitising or escaping. */
	jbuf_key(b, "protocol", 0, depth);
	name(b, ev_protocol_name(ev));
	jbuf_key(b, "socket_type", 0, depth);
	name(b, ev_type_name(ev));
	jbuf_key(b, "service", 0, depth);
	name(b, ev_service(ev));
	jbuf_key(b, "syscall", 0, depth);
	name(b, ev_syscall_name(ev));
	jbuf_key(b, "count", 0, depth);
	jbuf_int(b, ev->count);
	jbuf_key(b, "return_code", 0, depth);
	/* null, never 0, when the backend does not see return codes. */
	if (ev->ret_unknown)
		jbuf_raw(b, "null", 4);
	else
		jbuf_int(b, ev->ret);
	jbuf_key(b, "result", 0, depth);
	name(b, ev_result_name(ev));
	/* cgroup ids are kernfs node ids, far below 2^63. */
	jbuf_key(b, "cgroup_id", 0, depth);
	jbuf_int(b, (long long)ev->cgroup_id);
	jbuf_key(b, "timestamp", 0, depth);
	name(b, ts);
	if (cg) {
		jbuf_key(b, "cgroup", 0, depth);
		jbuf_json_str(b, cg, cglen);
	}
	jbuf_close(b, '}', 0, depth);
}
