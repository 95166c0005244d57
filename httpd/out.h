/*
 * A reply of any size from one fixed buffer per worker.  What fits in the
 * buffer leaves in one write with its Content-Length; a larger reply
 * leaves in chunks of the buffer's size (chunked transfer encoding, or
 * for HTTP/1.0 no length and a close), so that a reply never holds more
 * memory than the buffer, whatever the client asked for.
 *
 * The buffer keeps the last whole reply's body: out_cached() sends it
 * again for the same request while the data behind it has not changed.
 */
#ifndef OUT_H
#define OUT_H

#include <stddef.h>
#include <stdint.h>

#include "httpd/json.h" /* struct jbuf */
#include "httpd/reply.h" /* REPLY_ROOM */

struct mg_connection;

/* The buffer of each worker, allocated on its first large reply. */
#define OUT_CAP (64 * 1024)

struct out {
	/* The body, written with the jbuf_*() functions: the worker's
	 * buffer from REPLY_ROOM on, OUT_CAP bytes, sent as a chunk when
	 * full. */
	struct jbuf b;
	struct mg_connection *conn;
	int status;
	const char *ctype;
	int streaming;      /* the head went out: chunks follow */
	int chunked;        /* in chunks (HTTP/1.1), else until the close */
	int err;            /* nothing more goes out: the client went away,
	                     * or a HEAD request's head was sent */
};

/* Start a reply.  Returns 0, or -ENOMEM (then nothing was sent, and the
 * caller answers 500). */
int out_begin(struct out *o, struct mg_connection *conn, int status,
    const char *ctype);

/* Whether the reply cannot go on (the client went away): stop early. */
static inline int
out_failed(const struct out *o)
{
	return o->err != 0 || o->b.err != 0;
}

/*
 * Finish the reply.  When key is not NULL and the whole body fit in the
 * buffer, it is remembered under (key, version) for out_cached().
 * Returns the status sent, or 500 when out of memory before anything was
 * sent (a 500 went out instead).
 */
int out_end(struct out *o, const char *key, uint64_t version);

/*
 * Send the remembered body again if this worker's last whole reply was
 * for (key, version).  Returns its status, or 0 when there is none.
 */
int out_cached(struct mg_connection *conn, const char *key, uint64_t version);

/* Free the calling worker's buffer. */
void out_thread_exit(void);

#endif
