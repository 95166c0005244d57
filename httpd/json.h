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

/* The API's object for one event.  New reference, NULL when out of memory. */
json_t *json_event_new(const struct event *ev);

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
 * A growing output buffer for the hand-written encoder below: the list
 * response holds hundreds of events, and building them as jansson objects
 * (a hash table and a dozen allocations each) cost more than everything
 * else the request does.  Zero-initialise; free p when done.
 */
struct jbuf {
	char *p;
	size_t len, cap;
	int err;        /* -ENOMEM once an append failed; sticky */
};

/* Append n raw bytes / a C string / a sanitised, escaped JSON string /
 * a signed integer. */
void jbuf_raw(struct jbuf *b, const char *s, size_t n);
void jbuf_str(struct jbuf *b, const char *s);
void jbuf_json_str(struct jbuf *b, const char *s, size_t len);
void jbuf_int(struct jbuf *b, long long v);

/* Append ev exactly as json_dumps(json_event_new(ev), JSON_COMPACT) would
 * write it (the unit tests compare the two). */
void jbuf_event(struct jbuf *b, const struct event *ev);
/* The same without the closing brace, for callers that add fields. */
void jbuf_event_open(struct jbuf *b, const struct event *ev);

/*
 * Set key to a fresh value in obj, stealing val.  Returns 0, or -ENOMEM
 * when val is NULL (a constructor ran out of memory) or the set failed, so
 * that builders can chain calls and check once.
 */
int json_set(json_t *obj, const char *key, json_t *val);

#endif
