/* The HTTP server: civetweb with our REST handlers. */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>
#include <stdint.h>

struct api_state;
struct http;

/*
 * Worker threads by default.  civetweb gives each connection one worker
 * from accept to close, idle keep-alive time and slow headers included,
 * so the pool must be larger than the number of idle or slow clients a
 * host sees at once; an idle worker costs its stack's touched pages and a
 * header buffer, about 30 KiB.
 */
#define HTTP_THREADS_DEFAULT 128
#define HTTP_THREADS_MAX 1024

/* The listening socket's accept queue. */
#define HTTP_BACKLOG 4096

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
/* Whether -addr listens on loopback only (127.0.0.0/8, ::1, localhost). */
int http_addr_loopback(const char *addr);
/* The port of -addr, 0 when it is not one http_start() takes (which then
 * says why): main keeps CAP_NET_BIND_SERVICE for one below 1024. */
int http_addr_port(const char *addr);

/* Until this is called, every request gets 503: nothing is served before
 * main has entered the sandbox. */
void http_ready(struct http *h);
void http_stop(struct http *h);

#endif
