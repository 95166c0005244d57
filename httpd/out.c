/*
 * Replies from a fixed buffer per worker (out.h).  The buffer has room in
 * front for the head and a chunk's size line, and two bytes behind for
 * the chunk's end, so that every piece leaves in one write without a
 * copy:
 *
 *   [ ... head | size\r\n | body piece (<= OUT_CAP) | \r\n | 0\r\n\r\n ]
 *            p + REPLY_ROOM ^
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>

#include "httpd/out.h"
#include "httpd/reply.h"

#define TAIL 8               /* "\r\n" and the last chunk "0\r\n\r\n" */
#define KEY_MAX 512

/* The calling worker's buffer, and what its body holds. */
static __thread char *tl_buf;
static __thread int tl_valid;        /* the body is a whole reply for: */
static __thread char tl_key[KEY_MAX];
static __thread uint64_t tl_version;
static __thread size_t tl_len;
static __thread int tl_status;
static __thread const char *tl_ctype;

static int drain(struct jbuf *b);

int
out_begin(struct out *o, struct mg_connection *conn, int status,
    const char *ctype)
{
	memset(o, 0, sizeof(*o));
	if (!tl_buf && !(tl_buf = malloc(REPLY_ROOM + OUT_CAP + TAIL)))
		return -ENOMEM;
	tl_valid = 0; /* about to be overwritten */
	/* OUT_CAP bytes of body, and one for the jbuf's NUL, from TAIL. */
	jbuf_fixed(&o->b, tl_buf + REPLY_ROOM, OUT_CAP + 1, drain);
	o->conn = conn;
	o->status = status;
	o->ctype = ctype;
	return 0;
}

/* "%zx\r\n" of n into the end of dst[]; returns where it starts. */
static char *
size_line(char *end, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char *p = end;

	*--p = '\n';
	*--p = '\r';
	do
		*--p = hex[n & 15];
	while ((n >>= 4) != 0);
	return p;
}

/* Send what the buffer holds as the next piece; last adds the final
 * chunk.  The head goes first, in the same write, the first time. */
static void
flush(struct out *o, int last)
{
	char *body = o->b.p, *start = body, *end = body + o->b.len;
	char head[REPLY_ROOM];
	int hlen = 0;

	if (o->err)
		return;
	if (!o->streaming) {
		if ((hlen = reply_head(o->conn, o->status, o->ctype, REPLY_STREAM,
		    NULL, NULL, head)) < 0) {
			o->err = -EINVAL;
			return;
		}
		o->chunked = strcmp(mg_get_request_info(o->conn)->http_version,
		    "1.1") == 0;
		o->streaming = 1;
		if (reply_is_head(o->conn)) {
			reply_write(o->conn, head, (size_t)hlen);
			o->err = -ECANCELED; /* a HEAD: no body */
			return;
		}
	}
	if (o->chunked && o->b.len) {
		start = size_line(body, o->b.len);
		*end++ = '\r';
		*end++ = '\n';
	}
	if (o->chunked && last) {
		memcpy(end, "0\r\n\r\n", 5);
		end += 5;
	}
	/* The head in front, where the room is: 300 bytes at most, and the
	 * size line 18. */
	start -= hlen;
	memcpy(start, head, (size_t)hlen);
	if (end > start && reply_write(o->conn, start, (size_t)(end - start)) < 0)
		o->err = -EPIPE;
	o->b.len = 0;
}

/* The jbuf is full: its bytes go out as the next piece. */
static int
drain(struct jbuf *b)
{
	struct out *o = (struct out *)((char *)b - offsetof(struct out, b));

	flush(o, 0);
	return o->err;
}

int
out_end(struct out *o, const char *key, uint64_t version)
{
	if (o->streaming) {
		flush(o, 1);
		return o->status;
	}
	if (o->err || o->b.err)
		return o->status;
	reply_send_room(o->conn, o->status, o->ctype, tl_buf, o->b.len, NULL, NULL);
	if (key && strlen(key) < sizeof(tl_key)) {
		strcpy(tl_key, key);
		tl_version = version;
		tl_len = o->b.len;
		tl_status = o->status;
		tl_ctype = o->ctype;
		tl_valid = 1;
	}
	return o->status;
}

int
out_cached(struct mg_connection *conn, const char *key, uint64_t version)
{
	if (!tl_valid || version != tl_version || strcmp(key, tl_key) != 0)
		return 0;
	reply_send_room(conn, tl_status, tl_ctype, tl_buf, tl_len, NULL, NULL);
	return tl_status;
}

void
out_thread_exit(void)
{
	free(tl_buf);
	tl_buf = NULL;
	tl_valid = 0;
}
