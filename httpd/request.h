/*
 * Parsing and validation of what clients send: JSON request bodies and
 * query strings.  Pure functions of their input (no I/O, no globals), so
 * that they can be unit-tested and fuzzed on their own.
 *
 * Every parser fills its struct and returns 0, or returns -EINVAL and
 * writes a message for the client into err (always NUL-terminated, may be
 * truncated; may hold invalid UTF-8 copied from the input, so sanitise it
 * before putting it into JSON).
 */
#ifndef REQUEST_H
#define REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "util/store.h" /* struct store_filter, STORE_WINDOW_MAX */

#define REQ_PID_MAX 4194304     /* PID_MAX_LIMIT on 64-bit kernels */
#define REQ_COMM_MAX 15         /* TASK_COMM_LEN - 1 */
#define REQ_LIMIT_DEFAULT 100
#define REQ_LIMIT_MAX 1000
#define REQ_BODY_MAX 65536      /* larger bodies are answered with 413 */
#define REQ_ERR_MAX 256         /* a big enough err buffer */

#define REQ_TOP_DEFAULT 10
#define REQ_TOP_DURATION_DEFAULT 60
#define REQ_SINCE_MAX 315360000 /* seconds ago: ten years */

/*
 * The filters every event endpoint shares: port, ip (exact or CIDR),
 * protocol, family, failed, since, syscall.  Zeroed, it matches
 * everything.  since is either an absolute time or seconds before the
 * request, which the handler resolves with the clock.
 */
struct req_filter {
	struct store_filter f;          /* all but a relative since */
	int has_since;
	int since_relative;             /* since_ago is meant, not f.since_ns */
	uint64_t since_ago;             /* seconds before the request */
};

/* POST /api/connection-summary: at most one of pid and command. */
struct req_summary {
	int has_pid;
	uint32_t pid;
	char command[REQ_COMM_MAX + 1]; /* "" when filtering by pid */
	unsigned duration;              /* seconds, 1..STORE_WINDOW_MAX */
	struct req_filter filter;
};

/* GET and POST /api/list-connections: every filter is optional. */
struct req_list {
	int has_pid;
	uint32_t pid;
	char command[REQ_COMM_MAX + 1]; /* "" for any command */
	unsigned limit;                 /* per pid, REQ_LIMIT_DEFAULT if not given */
	struct req_filter filter;
};

enum req_top_by { REQ_TOP_COMMAND, REQ_TOP_DESTINATION, REQ_TOP_PORT };

/* GET /api/top. */
struct req_top {
	enum req_top_by by;             /* required */
	unsigned duration;              /* REQ_TOP_DURATION_DEFAULT if not given */
	unsigned limit;                 /* REQ_TOP_DEFAULT if not given */
	char command[REQ_COMM_MAX + 1];
	struct req_filter filter;
};

/* GET /api/stream: the list filters, without limit. */
struct req_stream {
	int has_pid;
	uint32_t pid;
	char command[REQ_COMM_MAX + 1];
	struct req_filter filter;
};

/* Body of POST /api/connection-summary. */
int req_parse_summary(const char *body, size_t len, struct req_summary *out,
    char *err, size_t errlen);

/* Body of POST /api/list-connections; an empty body means no filter. */
int req_parse_list_body(const char *body, size_t len, struct req_list *out,
    char *err, size_t errlen);

/*
 * Query string of GET /api/list-connections (pid, command, limit, pretty).
 * qs is the part after '?' (NULL for none).  *pretty is set to 0 or 1.
 */
int req_parse_list_query(const char *qs, struct req_list *out, int *pretty,
    char *err, size_t errlen);

/* Query string of GET /api/top: by, duration, limit, command, the filters
 * and pretty. */
int req_parse_top_query(const char *qs, struct req_top *out, int *pretty,
    char *err, size_t errlen);

/* Query string of GET /api/stream: pid, command and the filters.  pretty
 * is refused: a stream is one object per line. */
int req_parse_stream_query(const char *qs, struct req_stream *out,
    char *err, size_t errlen);

/* Query string of every other endpoint: only "pretty" is allowed. */
int req_parse_query(const char *qs, int *pretty, char *err, size_t errlen);

/*
 * Best effort for error responses, when the query string could not be
 * parsed: 1 if some parameter is exactly pretty, pretty=1 or pretty=true.
 */
int req_want_pretty(const char *qs);

/*
 * Percent-decode one query component of len bytes ('+' is a space) into
 * out (outlen bytes, NUL-terminated).  Returns the decoded length, or
 * -EINVAL for a malformed escape or an encoded NUL, -ENAMETOOLONG when it
 * does not fit.
 */
int req_url_decode(const char *s, size_t len, char *out, size_t outlen);

/*
 * Whether an Authorization header value is "Bearer <token>" (scheme in any
 * case, RFC 7235) for exactly this token.  The comparison takes the same
 * time wherever the first difference is, so that the token cannot be
 * guessed byte by byte from response times.  Returns 1 or 0.
 */
int req_bearer_ok(const char *header, const char *token);

#endif
