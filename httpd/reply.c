/*
 * One write per reply.  civetweb's mg_response_header_*() calls write the
 * status line and every header with a separate mg_printf(), about eight
 * send() calls for a 191-byte /health, each of them paying for the
 * seccomp filter and for our own sendto probe.  Here the head is built in
 * memory with the headers civetweb would have added itself (Date,
 * Connection), in its order, and goes out with the body in one mg_write().
 * civetweb takes a handler's raw output as the response and records the
 * status the handler returns.
 */
#include <string.h>
#include <strings.h>
#include <time.h>

#include <civetweb.h>

#include "httpd/reply.h"
#include "util/fmt.h"

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

struct head {
	char p[REPLY_ROOM];
	size_t n;
	int err;
};

static void
put(struct head *h, const char *s, size_t n)
{
	if (h->err || n > sizeof(h->p) - h->n) {
		h->err = 1;
		return;
	}
	memcpy(h->p + h->n, s, n);
	h->n += n;
}

static void
puts_(struct head *h, const char *s)
{
	put(h, s, strlen(s));
}

static void
header(struct head *h, const char *name, const char *value)
{
	puts_(h, name);
	put(h, ": ", 2);
	puts_(h, value);
	put(h, "\r\n", 2);
}

/* The head of a reply, byte for byte what mg_response_header_start(),
 * _add() for each of ours and _send() wrote.  Returns 0 or -1. */
static int
build_head(struct head *h, struct mg_connection *conn,
    const struct mg_request_info *ri, int status, const char *ctype,
    size_t len, const char *hname, const char *hvalue)
{
	char num[24];

	h->n = 0;
	h->err = 0;
	if (status < 100 || status > 999)
		status = 500;
	put(h, "HTTP/", 5);
	puts_(h, ri && ri->http_version ? ri->http_version : "1.0");
	put(h, " ", 1);
	put(h, num, fmt_u64(num, (uint64_t)status));
	put(h, " ", 1);
	puts_(h, mg_get_response_code_text(conn, status));
	put(h, "\r\n", 2);
	header(h, "Content-Type", ctype);
	if (len != REPLY_STREAM) {
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
	put(h, "\r\n", 2);
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
	memcpy(dst, h.p, h.n);
	return (int)h.n;
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
	if (h.n + len <= sizeof(one)) {
		memcpy(one, h.p, h.n);
		if (len)
			memcpy(one + h.n, body, len);
		return write_all(conn, one, h.n + len);
	}
	/* Large: the copy would cost more than the second write. */
	write_all(conn, h.p, h.n);
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
	start = buf + REPLY_ROOM - h.n;
	memcpy(start, h.p, h.n);
	return write_all(conn, start, h.n + len);
}
