/*
 * The bytes of a reply on the wire: status line, headers and body built in
 * one buffer and handed to civetweb in one mg_write(), so that a small
 * reply leaves in one send() instead of one per header line.  Below them,
 * the JSON replies, errors and checks every handler shares.
 */
#ifndef REPLY_H
#define REPLY_H

#include <stddef.h>
#include <stdint.h>

struct mg_connection;

/*
 * Room a caller leaves in front of a body it builds itself, for
 * reply_send_room() to write the status line and headers into: the
 * longest head we write (an Allow or WWW-Authenticate header included) is
 * under 300 bytes.
 */
#define REPLY_ROOM 512

/* Replies up to this size (head and body) are copied into one buffer on
 * the worker's stack and leave in one write; larger bodies are sent in
 * place after their head. */
#define REPLY_SMALL 16384

/* The len of reply_head() for a body of unknown length: chunked
 * transfer encoding for HTTP/1.1, and for HTTP/1.0 no length at all and
 * the connection closed after the body. */
#define REPLY_STREAM ((size_t)-1)
/* The len of reply_head() for a body that ends when the connection
 * closes, whatever the HTTP version (GET /api/stream's lines): no length,
 * no chunks, "Connection: close". */
#define REPLY_UNTIL_CLOSE ((size_t)-2)

/*
 * The status line and headers of a reply (see reply_send()) into dst, at
 * most REPLY_ROOM bytes.  Returns their length, or -1 when they do not
 * fit.
 */
int reply_head(struct mg_connection *conn, int status, const char *ctype,
    size_t len, const char *hname, const char *hvalue, char *dst);

/* Whether this request is a HEAD: its reply has no body. */
int reply_is_head(struct mg_connection *conn);

/* mg_write() of all n bytes at p; a client that went away gets its
 * connection closed.  Returns 0, or -1 when the client went away. */
int reply_write(struct mg_connection *conn, const char *p, size_t n);

/* At the start of every request: forget the previous request's decision
 * to close. */
void reply_begin(void);

/*
 * Close the connection after this request's reply, and say so in its
 * Connection header (Debian's civetweb can be told; an upstream one keeps
 * the connection open, and the client closes it after our header).
 */
void reply_close_after(struct mg_connection *conn);

/*
 * Send a complete reply: the status line, Content-Type ctype,
 * Content-Length, Cache-Control: no-store, the header hname: hvalue when
 * hname is not NULL, Date and Connection, then the body (none for HEAD).
 * Returns 0 once the reply went out (a client that went away meanwhile
 * gets the connection closed), or -1 when nothing could be sent (a head
 * longer than REPLY_ROOM).
 */
int reply_send(struct mg_connection *conn, int status, const char *ctype,
    const char *body, size_t len, const char *hname, const char *hvalue);

/*
 * The same for a body the caller built at buf + REPLY_ROOM (len bytes):
 * the head is written into the room in front of it, so that even a large
 * body leaves in one write without a copy.  buf is the caller's.
 */
int reply_send_room(struct mg_connection *conn, int status,
    const char *ctype, char *buf, size_t len, const char *hname,
    const char *hvalue);

/* --- JSON replies, errors and the checks every handler makes (reply.c) -- */

#include <jansson.h>

struct mg_request_info;

/*
 * Send v (consumed) as the reply, compact or indented.  allow, when not
 * NULL, is the Allow header of a 405.  If the body cannot be built we
 * still answer, with a fixed 500, because a client waiting on a silent
 * socket learns nothing.  Returns the status sent.
 */
int api_reply(struct mg_connection *conn, int status, json_t *v, int pretty,
    const char *allow);

/* 200 with o (consumed), built by json_set() calls that or'ed their
 * results into rc: rc < 0 (or o NULL) means out of memory, and a 500 is
 * sent instead.  Returns the status sent. */
int api_reply_built(struct mg_connection *conn, json_t *o, int rc, int pretty);

/* {"error": "<status text>", "message": "..."} with a printf-style
 * message; returns the status sent. */
int api_reply_error(struct mg_connection *conn, int status, int pretty,
    const char *allow, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* A reply with a ready JSON body of len bytes (not freed).  Returns
 * status. */
int api_send_json(struct mg_connection *conn, int status, const char *body,
    size_t len);

/* Exact path and method checks; 0 to go on, else the status already sent.
 * civetweb hands "/health/x" to the handler of "/health" too. */
int api_check_route(struct mg_connection *conn,
    const struct mg_request_info *ri, const char *path, const char *allow);

/*
 * Read the whole request body into a malloc'd, NUL-terminated buffer,
 * of at most max_body bytes (0: REQ_BODY_MAX) within timeout_ms (0: 10 s).
 * Returns 0 with *out to free(), or the status of the error sent.
 */
int api_read_body(struct mg_connection *conn, const struct mg_request_info *ri,
    size_t max_body, unsigned timeout_ms, int pretty, char **out,
    size_t *outlen);

/* civetweb's http_error callback: its own errors (malformed requests,
 * oversized headers) as JSON too.  Returns 0 when it sent the response. */
int api_http_error(struct mg_connection *conn, int status, const char *msg);

/*
 * With a token, every request but GET /health must carry
 * "Authorization: Bearer <token>".  Returns 0 to go on, or the status of
 * the 401 it sent.
 */
int api_authorize(struct mg_connection *conn, const char *token);

/* "1 process", "2 processes": the noun in the number it counts. */
static inline const char *
api_plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

#endif
