/*
 * One write per reply.  civetweb's mg_response_header_*() calls write the
 * status line and every header with a separate mg_printf(), about eight
 * send() calls for a 191-byte /health, each of them paying for the
 * seccomp filter and for our own sendto probe.  Here the head is built in
 * memory with the headers civetweb would have added itself (Date,
 * Connection), in its order, and goes out with the body in one mg_write().
 * civetweb takes a handler's raw output as the response and records the
 * status the handler returns.
 *
 * On top of that, what every handler shares: JSON replies and errors, the
 * route check, reading a body, the bearer token, civetweb's own errors.
 * This is the lower unit of httpd/: api.c, list.c, meta.c and stream.c
 * include it, and it includes none of them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <civetweb.h>
#include <jansson.h>

#include "httpd/json.h"
#include "httpd/reply.h"
#include "httpd/request.h"
#include "util/fmt.h"
#include "util/log.h"
#include "util/timefmt.h"

/*
 * Debian's civetweb (its webdav-uploads patch) can make a handler close the
 * connection; upstream 1.15 cannot.  Weak, so that we still link against
 * an upstream civetweb, where the pointer is NULL.
 */
void mg_disable_keep_alive(struct mg_connection *conn) __attribute__((weak));

/* This request's reply closes the connection.  A worker serves one
 * request at a time, so the flag is the worker thread's. */
static __thread int tl_close;

/* The Date header of the current second, formatted once a second. */
static __thread time_t tl_date_sec = -1;
static __thread char tl_date[40];

void
reply_begin(void)
{
	tl_close = 0;
}

void
reply_close_after(struct mg_connection *conn)
{
	tl_close = 1;
	if (mg_disable_keep_alive)
		mg_disable_keep_alive(conn);
}

/* Whether the comma-separated header value h lists token t. */
static int
has_token(const char *h, const char *t)
{
	size_t n = strlen(t), len;

	while (*h) {
		while (*h == ' ' || *h == '\t' || *h == ',')
			h++;
		for (len = 0; h[len] && h[len] != ','; len++)
			;
		while (len && (h[len - 1] == ' ' || h[len - 1] == '\t'))
			len--;
		if (len == n && strncasecmp(h, t, n) == 0)
			return 1;
		h += len;
		while (*h && *h != ',')
			h++;
	}
	return 0;
}

/* civetweb's should_keep_alive(), which it does not export: the client's
 * Connection header decides, else HTTP/1.1 keeps the connection. */
static int
keeps_alive(struct mg_connection *conn, const struct mg_request_info *ri)
{
	const char *h;

	if (tl_close)
		return 0;
	if ((h = mg_get_header(conn, "Connection")) != NULL)
		return has_token(h, "keep-alive");
	return ri && ri->http_version && strcmp(ri->http_version, "1.1") == 0;
}

static const char *
date_now(void)
{
	time_t now = time(NULL);
	struct tm tm;

	if (now != tl_date_sec) {
		/* As civetweb's gmt_time_string(). */
		if (gmtime_r(&now, &tm))
			strftime(tl_date, sizeof(tl_date),
			    "%a, %d %b %Y %H:%M:%S GMT", &tm);
		else
			strcpy(tl_date, "Thu, 01 Jan 1970 00:00:00 GMT");
		tl_date_sec = now;
	}
	return tl_date;
}

/* A reply's head: REPLY_ROOM bytes at most, in a jbuf that never grows
 * (a longer head fails it). */
struct head {
	struct jbuf b;
	char room[REPLY_ROOM + 1];
};

static void
header(struct jbuf *h, const char *name, const char *value)
{
	jbuf_str(h, name);
	jbuf_raw(h, ": ", 2);
	jbuf_str(h, value);
	jbuf_raw(h, "\r\n", 2);
}

/* The head of a reply, byte for byte what mg_response_header_start(),
 * _add() for each of ours and _send() wrote.  Returns 0 or -1. */
static int
build_head(struct head *hd, struct mg_connection *conn,
    const struct mg_request_info *ri, int status, const char *ctype,
    size_t len, const char *hname, const char *hvalue)
{
	struct jbuf *h = &hd->b;
	char num[24];

	jbuf_fixed(h, hd->room, sizeof(hd->room), NULL);
	if (status < 100 || status > 999)
		status = 500;
	jbuf_raw(h, "HTTP/", 5);
	jbuf_str(h, ri && ri->http_version ? ri->http_version : "1.0");
	jbuf_raw(h, " ", 1);
	jbuf_raw(h, num, fmt_u64(num, (uint64_t)status));
	jbuf_raw(h, " ", 1);
	jbuf_str(h, mg_get_response_code_text(conn, status));
	jbuf_raw(h, "\r\n", 2);
	header(h, "Content-Type", ctype);
	if (len == REPLY_UNTIL_CLOSE) {
		reply_close_after(conn);
	} else if (len != REPLY_STREAM) {
		num[fmt_u64(num, len)] = '\0';
		header(h, "Content-Length", num);
	} else if (ri && ri->http_version && strcmp(ri->http_version, "1.1") == 0) {
		header(h, "Transfer-Encoding", "chunked");
	} else {
		/* HTTP/1.0 knows no chunks: the body ends when we close. */
		reply_close_after(conn);
	}
	header(h, "Cache-Control", "no-store");
	if (hname)
		header(h, hname, hvalue);
	header(h, "Date", date_now());
	header(h, "Connection", keeps_alive(conn, ri) ? "keep-alive" : "close");
	jbuf_raw(h, "\r\n", 2);
	return h->err ? -1 : 0;
}

int
reply_head(struct mg_connection *conn, int status, const char *ctype,
    size_t len, const char *hname, const char *hvalue, char *dst)
{
	struct head h;

	if (build_head(&h, conn, mg_get_request_info(conn), status, ctype, len,
	    hname, hvalue) < 0)
		return -1;
	memcpy(dst, h.b.p, h.b.len);
	return (int)h.b.len;
}

/* A response to HEAD has the headers of the GET but no body. */
static int
is_head(const struct mg_request_info *ri)
{
	return ri && ri->request_method && strcmp(ri->request_method, "HEAD") == 0;
}

int
reply_is_head(struct mg_connection *conn)
{
	return is_head(mg_get_request_info(conn));
}

int
reply_write(struct mg_connection *conn, const char *p, size_t n)
{
	if (mg_write(conn, p, n) == (int)n)
		return 0;
	reply_close_after(conn);
	return -1;
}

/*
 * Once the first byte is out the reply counts as sent: a handler that
 * returned an error now would make civetweb try its own 404 on the same
 * connection.  A client that went away closes the connection instead.
 */
static int
write_all(struct mg_connection *conn, const char *p, size_t n)
{
	reply_write(conn, p, n);
	return 0;
}

int
reply_send(struct mg_connection *conn, int status, const char *ctype,
    const char *body, size_t len, const char *hname, const char *hvalue)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	char one[REPLY_SMALL];
	struct head h;

	if (build_head(&h, conn, ri, status, ctype, len, hname, hvalue) < 0)
		return -1;
	if (is_head(ri))
		len = 0;
	if (h.b.len + len <= sizeof(one)) {
		memcpy(one, h.b.p, h.b.len);
		if (len)
			memcpy(one + h.b.len, body, len);
		return write_all(conn, one, h.b.len + len);
	}
	/* Large: the copy would cost more than the second write. */
	write_all(conn, h.b.p, h.b.len);
	return write_all(conn, body, len);
}

int
reply_send_room(struct mg_connection *conn, int status, const char *ctype,
    char *buf, size_t len, const char *hname, const char *hvalue)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	struct head h;
	char *start;

	if (build_head(&h, conn, ri, status, ctype, len, hname, hvalue) < 0)
		return -1;
	if (is_head(ri))
		len = 0;
	start = buf + REPLY_ROOM - h.b.len;
	memcpy(start, h.b.p, h.b.len);
	return write_all(conn, start, h.b.len + len);
}

/* --- JSON replies, errors and the checks every handler makes ------------ */

/*
 * Send a complete response in one write (reply.c).  Returns 0, or -1 when
 * the client went away.
 */
static int
send_body(struct mg_connection *conn, int status, const char *body,
    size_t len, const char *hname, const char *hvalue)
{
	return reply_send(conn, status, "application/json", body, len, hname,
	    hvalue);
}

/*
 * Send v (consumed) as the response.  allow, when not NULL, is the Allow
 * header of a 405.  If the body cannot be built we still answer, with a
 * fixed 500, because a client waiting on a silent socket learns nothing.
 * Returns the status sent.
 */
int
api_reply(struct mg_connection *conn, int status, json_t *v, int pretty,
    const char *allow)
{
	static const char oom[] = "{\"error\":\"Internal Server Error\","
	    "\"message\":\"out of memory\"}\n";
	char *body = NULL;
	size_t len = 0;
	int rc;

	if (v)
		body = json_body(v, pretty, &len);
	json_decref(v);
	if (!body) {
		log_debug("api: out of memory building a %d response", status);
		rc = send_body(conn, 500, oom, sizeof(oom) - 1, NULL, NULL);
		return rc < 0 ? rc : 500;
	}
	rc = send_body(conn, status, body, len, allow ? "Allow" : NULL, allow);
	free(body);
	return rc < 0 ? rc : status;
}

int
api_reply_built(struct mg_connection *conn, json_t *o, int rc, int pretty)
{
	if (rc < 0) {
		json_decref(o);
		o = NULL;
	}
	return api_reply(conn, 200, o, pretty, NULL);
}

/* {"error": "<status text>", "message": "..."} with a printf-style
 * message (api.h). */
int
api_reply_error(struct mg_connection *conn, int status, int pretty,
    const char *allow, const char *fmt, ...)
{
	char msg[REQ_ERR_MAX + 128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return api_reply(conn, status, json_error_new(status, msg), pretty, allow);
}

/* The decoded path without the query string, "" if civetweb has none
 * (absolute-form requests, which it refuses anyway). */
static const char *
path_of(const struct mg_request_info *ri)
{
	if (ri->local_uri)
		return ri->local_uri;
	return ri->request_uri ? ri->request_uri : "";
}

/* Whether method is one of allow ("GET, POST"); HEAD is where GET is
 * (its reply is the GET's head without the body). */
static int
method_allowed(const char *method, const char *allow)
{
	size_t n;
	const char *p;

	if (strcmp(method, "HEAD") == 0 && method_allowed("GET", allow))
		return 1;
	n = strlen(method);

	for (p = allow; (p = strstr(p, method)) != NULL; p += n)
		if ((p == allow || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

/*
 * What every endpoint checks first.  civetweb hands "/health/x" to the
 * handler of "/health" too, so the path is compared exactly here.  Returns
 * 0 to go on, or the status of the error already sent.
 */
int
api_check_route(struct mg_connection *conn, const struct mg_request_info *ri,
    const char *path, const char *allow)
{
	int pretty = req_want_pretty(ri->query_string);

	if (strcmp(path_of(ri), path) != 0)
		return api_reply_error(conn, 404, pretty, NULL, "not found: %s",
		    path_of(ri));
	if (!method_allowed(ri->request_method, allow))
		return api_reply_error(conn, 405, pretty, allow, "method %s not "
		    "allowed on %s (allowed: %s)", ri->request_method, path, allow);
	return 0;
}

int
api_send_json(struct mg_connection *conn, int status, const char *body,
    size_t len)
{
	int rc = send_body(conn, status, body, len, NULL, NULL);

	return rc < 0 ? rc : status;
}

/*
 * Read the whole request body into a malloc'd, NUL-terminated buffer.
 * Content-Length is checked before reading anything, and reading stops one
 * byte past the limit, so that chunked bodies without a length are capped
 * too.  The whole body must arrive within the request time-out: civetweb
 * starts its time-out afresh on every mg_read(), so a client sending a
 * byte a second would otherwise hold a worker for as long as it likes.
 * Returns 0 with *out to free(), or the status of the error sent.
 */
int
api_read_body(struct mg_connection *conn, const struct mg_request_info *ri,
    size_t max_body, unsigned timeout_ms, int pretty, char **out,
    size_t *outlen)
{
	size_t max = max_body ? max_body : REQ_BODY_MAX;
	uint64_t deadline = time_mono_ns() + (uint64_t)(timeout_ms ?
	    timeout_ms : 10000) * 1000000u;
	long long want = ri->content_length;
	size_t cap, len = 0;
	char *buf;
	int n = 0;

	*out = NULL;
	if (want > (long long)max) {
		reply_close_after(conn);
		return api_reply_error(conn, 413, pretty, NULL, "request body is %lld "
		    "bytes, the limit is %zu", want, max);
	}
	cap = want >= 0 ? (size_t)want : max + 1;
	if (!(buf = malloc(cap + 1)))
		return api_reply(conn, 500, NULL, pretty, NULL);
	while (len < cap && (n = mg_read(conn, buf + len, cap - len)) > 0) {
		len += (size_t)n;
		if (len < cap && time_mono_ns() > deadline) {
			free(buf);
			reply_close_after(conn);
			return api_reply_error(conn, 408, pretty, NULL, "request body "
			    "not received within the time-out (%zu %s so far)",
			    len, api_plural(len, "byte", "bytes"));
		}
	}
	if (len > max) {
		free(buf);
		reply_close_after(conn);
		return api_reply_error(conn, 413, pretty, NULL, "request body is larger "
		    "than %zu bytes", max);
	}
	if (n < 0 || (want >= 0 && len < (size_t)want)) {
		free(buf);
		reply_close_after(conn);
		return api_reply_error(conn, 400, pretty, NULL, "request body ended "
		    "after %zu %s, before its Content-Length", len,
		    api_plural(len, "byte", "bytes"));
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
}

int
api_http_error(struct mg_connection *conn, int status, const char *msg)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	int pretty = ri ? req_want_pretty(ri->query_string) : 0;

	log_debug("civetweb: %d %s", status, msg ? msg : "");
	/* civetweb's own error page closes the connection after a bad
	 * request; so do we, the stream may be out of step. */
	reply_close_after(conn);
	if (api_reply(conn, status, json_error_new(status, msg && *msg ? msg :
	    json_status_text(status)), pretty, NULL) < 0)
		return 1;
	return 0;
}

int
api_authorize(struct mg_connection *conn, const char *token)
{
	static const char challenge[] = "Bearer realm=\"ebpf-server\"";
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *auth;
	char *body;
	size_t len;
	json_t *e;

	/* Health checks of load balancers and orchestrators carry no
	 * secrets, and /health shows counters only. */
	if (!token || strcmp(path_of(ri), "/health") == 0)
		return 0;
	auth = mg_get_header(conn, "Authorization");
	if (auth && req_bearer_ok(auth, token))
		return 0;
	log_debug("api: 401 for %s %s: %s", ri->request_method, path_of(ri),
	    auth ? "wrong token" : "no Authorization header");
	e = json_error_new(401, auth ? "invalid bearer token" : "authorization "
	    "required: send \"Authorization: Bearer <token>\"");
	body = e ? json_body(e, req_want_pretty(ri->query_string), &len) : NULL;
	json_decref(e);
	if (!body)
		return api_reply(conn, 500, NULL, 0, NULL);
	/* The body of an unauthorised request is not read: do not try to
	 * find the next request in it. */
	reply_close_after(conn);
	send_body(conn, 401, body, len, "WWW-Authenticate", challenge);
	free(body);
	return 401;
}
