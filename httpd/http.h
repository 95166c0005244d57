/* The HTTP server: civetweb with our REST handlers. */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct http;
struct cgmap;
struct metrics;
struct hub;

/* What the handlers read.  Owned by main, outlives the server. */
struct api_state {
	struct store *store;
	uint64_t start_ns;        /* CLOCK_MONOTONIC at start, for uptime */
	const char *backend;      /* how events are captured, for /health */
	const char *const *limits; /* what this kernel cannot give, for
	                           * /health; NULL-terminated, NULL: none */
	size_t max_body;          /* request bodies above this get 413; 0: REQ_BODY_MAX */
	unsigned timeout_ms;      /* a whole body must arrive within this; 0: 10 s */
	struct cgmap *cg;         /* cgroup paths; NULL: always "" */
	struct metrics *metrics;  /* NULL: /metrics counts nothing */
	struct hub *hub;          /* live streams; NULL: /api/stream is 503 */
};

/* civetweb's limit on the request line and headers, in bytes. */
#define HTTP_HEADER_DEFAULT 16384

struct http_conf {
	const char *addr;         /* -addr: ":8080", "127.0.0.1:8080", "[::1]:8080" */
	unsigned threads;         /* worker threads */
	unsigned timeout_ms;      /* request/keep-alive time-out */
	unsigned max_header;      /* request line + headers, bytes; 0: default */
	const char *token;        /* bearer token, or NULL for none; borrowed */
};

/*
 * Start serving.  Returns the server, or NULL with a message for the user
 * in err (e.g. "listen on :8080: address already in use").
 */
struct http *http_start(const struct http_conf *conf, struct api_state *st,
    char *err, size_t errlen);
/* Until this is called, every request gets 503: nothing is served before
 * main has entered the sandbox. */
void http_ready(struct http *h);
void http_stop(struct http *h);

/*
 * The REST handlers (api.c, meta.c), which http_start() registers with
 * civetweb.  cbdata is the struct api_state.  Each returns the HTTP status
 * it sent.
 */
struct mg_connection;
int api_root(struct mg_connection *conn, void *cbdata);   /* GET /, 404 */
int api_health(struct mg_connection *conn, void *cbdata);
int api_summary(struct mg_connection *conn, void *cbdata);
int api_list(struct mg_connection *conn, void *cbdata);
int api_top(struct mg_connection *conn, void *cbdata);
int api_metrics(struct mg_connection *conn, void *cbdata);
int api_openapi(struct mg_connection *conn, void *cbdata);  /* the document */
/* civetweb's http_error callback: its own errors (malformed requests,
 * oversized headers) as JSON too.  Returns 0 when it sent the response. */
/* Free what the calling worker thread keeps between requests. */
void api_thread_exit(void);
int api_http_error(struct mg_connection *conn, int status, const char *msg);
/*
 * With a token, every request but GET /health must carry
 * "Authorization: Bearer <token>".  Returns 0 to go on, or the status of
 * the 401 it sent.
 */
int api_authorize(struct mg_connection *conn, const char *token);

#endif
