/*
 * The REST API: what its handlers read, and the handlers, which
 * http_start() registers with civetweb.  The pieces they share (replies,
 * errors, the route check, reading a body) are in reply.h, one level
 * lower; the event encoder is in json.h.
 */
#ifndef API_H
#define API_H

#include <stddef.h>
#include <stdint.h>

/* How many slots an array has (api_state's NULL-terminated lists). */
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct cgmap;
struct exporter;
struct hub;
struct metrics;
struct mg_connection;
struct req_filter;
struct store;
struct store_filter;

/* What the handlers read.  Owned by main, outlives the server. */
struct api_state {
	struct store *store;
	uint64_t start_ns;        /* CLOCK_MONOTONIC at start, for uptime */
	const char *backend;      /* how events are captured, for /health */
	/* Fields the backend knows exactly, NULL-terminated, for /health. */
	const char *exact_fields[8];
	/* What the backend cannot see here, NULL-terminated, for /health's
	 * not_seen. */
	const char *not_seen[9];
	int batches;              /* events gathered in per-CPU batches */
	/* The cheaper backends -backend auto passed over and why, NULL-
	 * terminated, for /health's refused. */
	const char *refused_name[5], *refused_why[5];
	size_t max_body;          /* request bodies above this get 413; 0: REQ_BODY_MAX */
	unsigned timeout_ms;      /* a whole body must arrive within this; 0: 10 s */
	struct cgmap *cg;         /* cgroup paths; NULL: always "" */
	struct metrics *metrics;  /* NULL: /metrics counts nothing */
	struct hub *hub;          /* live streams; NULL: /api/stream is 503 */
	/* The fleet sinks, for /health's host and export_dropped and for
	 * /metrics; NULL: neither is shown. */
	struct exporter *exporter;
};

/*
 * The handlers.  cbdata is the struct api_state.  Each returns the HTTP
 * status it sent.
 */
int api_root(struct mg_connection *conn, void *cbdata);    /* meta.c: GET /, 404 */
int api_health(struct mg_connection *conn, void *cbdata);  /* meta.c */
int api_openapi(struct mg_connection *conn, void *cbdata); /* meta.c */
int api_metrics(struct mg_connection *conn, void *cbdata); /* meta.c */
int api_summary(struct mg_connection *conn, void *cbdata); /* api.c */
int api_top(struct mg_connection *conn, void *cbdata);     /* api.c */
int api_list(struct mg_connection *conn, void *cbdata);    /* list.c */
int api_stream(struct mg_connection *conn, void *cbdata);  /* stream.c */

/*
 * The text of GET /metrics, with x's sinks' figures (x may be NULL):
 * what a scrape gets and what the exporter pushes.  Returns a string to
 * free() with its length in *len, or NULL when out of memory.
 */
char *api_metrics_text(const struct api_state *st, const struct exporter *x,
    size_t *len);

/* Free what the calling worker thread keeps between requests. */
void api_thread_exit(void);

/* The store's form of parsed filters, "since N seconds" resolved against
 * now_ns.  out points into rf (the protocol name): keep rf alive. */
void api_store_filter(const struct req_filter *rf, uint64_t now_ns,
    struct store_filter *out);

#endif
