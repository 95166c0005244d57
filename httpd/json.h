/*
 * JSON for the HTTP API: events as objects, strings that are always valid
 * UTF-8, and response bodies.  Everything returns fresh values, never
 * shared ones, because handlers run concurrently on civetweb's threads and
 * jansson's reference counts are not meant to be shared across them.
 */
#ifndef JSON_H
#define JSON_H

#include <stddef.h>

#include <jansson.h>

struct event;

/* U+FFFD in UTF-8, which replaces every invalid sequence. */
#define UTF8_REPLACEMENT "\xef\xbf\xbd"

/*
 * Copy len bytes of s into out (outlen bytes, NUL-terminated), replacing
 * each maximal invalid UTF-8 subsequence (stray continuation bytes,
 * truncated, overlong or surrogate encodings, code points past U+10FFFF)
 * with U+FFFD, and each NUL byte too.  A character that does not fit is
 * dropped whole, never cut.  3 * len + 1 bytes of out are always enough.
 * Returns the length written.
 */
size_t json_str_sanitize(const char *s, size_t len, char *out, size_t outlen);

/* A JSON string from len raw bytes, sanitised first: kernel strings such
 * as command names and unix paths are not guaranteed UTF-8, and
 * json_stringn() refuses those.  Returns a new reference, NULL only when
 * out of memory. */
json_t *json_str_new(const char *s, size_t len);

/* The reason phrase of an HTTP status, as Go's net/http names it ("Bad
 * Request"); a generic one for a status it does not know.  Static. */
const char *json_status_text(int status);

/* {"error": json_status_text(status), "message": msg}, msg sanitised: the
 * body of every error we send.  New reference, NULL when out of memory. */
json_t *json_error_new(int status, const char *msg);

/*
 * Serialise v as a response body: indented by 2 when pretty, compact
 * otherwise, followed by a newline.  Returns a string to free() with its
 * length in *len, or NULL when out of memory.
 */
char *json_body(const json_t *v, int pretty, size_t *len);

/*
 * The output buffer, the one buffer type of httpd/: the event encoder
 * below writes into it (building events as jansson objects, a hash table
 * and a dozen allocations each, cost more than everything else a list
 * did), and so do the metrics, the replies' heads (reply.c) and the
 * replies of any size (out.c).  Three ways to start it:
 *   zeroed          it grows on the heap (free p, or jbuf_free(), when done)
 *   jbuf_init()     on the caller's storage, moving to the heap when a
 *                   document outgrows it (jbuf_free() when done)
 *   jbuf_fixed()    on the caller's storage only: when it is full, full()
 *                   drains it (out.c sends a chunk), or without full()
 *                   the append fails with -ENOSPC
 */
struct jbuf {
	char *p;
	size_t len, cap;
	int err;        /* -ENOMEM, -ENOSPC or full()'s error once an append
	                 * failed; sticky */
	int borrowed;   /* p is the caller's storage, not malloc'd */
	int fixed;      /* never moves to the heap */
	/* jbuf_fixed(): send or keep b->p[0..len) and set len to 0; returns
	 * 0, or -errno to fail b. */
	int (*full)(struct jbuf *b);
};

/*
 * Start b on the caller's n bytes at room (n >= 1), so that a document
 * that fits costs no allocation: under musl's one malloc lock, and with
 * its allocator handing a freed 4 KiB group back to the kernel, a malloc
 * and free per request made the workers of /health queue and the CPUs
 * flush each other's TLBs.  A longer document moves to the heap.
 */
void jbuf_init(struct jbuf *b, char *room, size_t n);

/*
 * Start b on the caller's n bytes at room (n >= 2: one is for the NUL),
 * never to move: appends that do not fit fill it to the last byte and
 * call full() to drain it, as often as it takes; full NULL fails them.
 */
void jbuf_fixed(struct jbuf *b, char *room, size_t n, int (*full)(struct jbuf *b));

/* Free what b holds on the heap, if anything; b is empty afterwards. */
void jbuf_free(struct jbuf *b);

/* Append n raw bytes / a C string / a sanitised, escaped JSON string /
 * a signed integer. */
void jbuf_raw(struct jbuf *b, const char *s, size_t n);
void jbuf_str(struct jbuf *b, const char *s);
void jbuf_json_str(struct jbuf *b, const char *s, size_t len);
void jbuf_int(struct jbuf *b, long long v);
/* Append printf-style text (the metrics). */
void jbuf_printf(struct jbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * The one encoder of an event: its fields, then "cgroup" when cg is not
 * NULL (cglen bytes, sanitised), as jansson would dump the object: depth
 * < 0 for JSON_COMPACT, else JSON_INDENT(2) for an object nested depth
 * levels deep (the unit tests hold it to jansson's bytes).
 */
void jbuf_event(struct jbuf *b, const struct event *ev, const char *cg,
    size_t cglen, int depth);

/*
 * The pieces of a document laid out the same way.  jbuf_key() writes the
 * member's separator ("{" for the first, else ","), its line and
 * "\"k\": " (depth is the object's); jbuf_sep() what goes before an
 * array element at depth (a comma unless first, its line); jbuf_close()
 * the line and bracket that close a container at depth (empty: nothing
 * was put in it, and it stays "[]" or "{}").
 */
void jbuf_key(struct jbuf *b, const char *k, int first, int depth);
void jbuf_sep(struct jbuf *b, int first, int depth);
void jbuf_close(struct jbuf *b, char bracket, int empty, int depth);

/*
 * Set key to a fresh value in obj, stealing val.  Returns 0, or -ENOMEM
 * when val is NULL (a constructor ran out of memory) or the set failed, so
 * that builders can chain calls and check once.
 */
int json_set(json_t *obj, const char *key, json_t *val);

#endif
