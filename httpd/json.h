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

/* {"error": msg}, msg sanitised.  New reference, NULL when out of memory. */
json_t *json_error_new(const char *msg);

/*
 * Serialise v as a response body: indented by 2 when pretty, compact
 * otherwise, followed by a newline.  Returns a string to free() with its
 * length in *len, or NULL when out of memory.
 */
char *json_body(const json_t *v, int pretty, size_t *len);

/*
 * Set key to a fresh value in obj, stealing val.  Returns 0, or -ENOMEM
 * when val is NULL (a constructor ran out of memory) or the set failed, so
 * that builders can chain calls and check once.
 */
int json_set(json_t *obj, const char *key, json_t *val);

#endif
