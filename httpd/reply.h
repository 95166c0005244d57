/*
 * The bytes of a reply on the wire: status line, headers and body built in
 * one buffer and handed to civetweb in one mg_write(), so that a small
 * reply leaves in one send() instead of one per header line.
 */
#ifndef REPLY_H
#define REPLY_H

#include <stddef.h>

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

#endif
