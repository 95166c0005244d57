/*
 * Prometheus metrics: counters the reader and the HTTP handlers feed, and
 * their text exposition (format 0.0.4).  Label sets are bounded: the
 * METRICS_COMMANDS busiest commands of the last minute or so (a
 * heavy-hitter summary whose weights halve every 10 s) get a series of
 * their own, every other one is counted as command="other", so a host
 * that runs thousands of distinct programs cannot blow up a Prometheus
 * server, and names seen once at start hold no series for ever.
 * Thread-safe.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>
#include <stdint.h>

#define METRICS_COMMANDS 64

struct event;
struct export_stat;
struct metrics;
struct store_stats;

/* Endpoints for ebpf_server_http_requests_total{endpoint=...}. */
enum metrics_ep {
	EP_ROOT, EP_HEALTH, EP_SUMMARY, EP_LIST, EP_TOP, EP_STREAM, EP_METRICS,
	EP_OPENAPI, EP_OTHER, EP_COUNT
};

/* Figures the text needs from elsewhere, sampled by the caller. */
struct metrics_extra {
	unsigned stream_clients;
	uint64_t stream_dropped;
	const struct export_stat *exp; /* the fleet sinks' figures, nexp */
	size_t nexp;
};

/* Returns new metrics, or NULL (errno set).  Free with metrics_free(). */
struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/* Count n events (each with its count of attempts or datagrams). */
void metrics_events(struct metrics *m, const struct event *ev, size_t n);

/* Count one HTTP response. */
void metrics_http(struct metrics *m, enum metrics_ep ep, int status);

/*
 * The exposition text: our counters, the store's figures and the process
 * figures from /proc/self.  Returns a string to free() with its length in
 * *len, or NULL when out of memory.
 */
char *metrics_render(struct metrics *m, const struct store_stats *ss,
    const struct metrics_extra *x, size_t *len);

/*
 * A label value for the exposition format: valid UTF-8 (invalid bytes and
 * control characters but newline replaced by U+FFFD), with backslash,
 * double quote and newline escaped.
 * Writes at most n bytes including the NUL; returns the length.
 */
size_t metrics_label(const char *s, size_t len, char *out, size_t n);

#endif
