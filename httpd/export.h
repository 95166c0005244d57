/*
 * The fleet: what this host saw, pushed into engines that already scale.
 * Three sinks, each with a thread of its own and each optional:
 *
 *   metrics  the /metrics text, with a host label on every sample, POSTed
 *            every -push-interval seconds (Pushgateway, VictoriaMetrics);
 *   events   the events as NDJSON, the objects of GET /api/stream plus
 *            host, time and time_ns, POSTed in batches of at most one
 *            second or EXPORT_BATCH events (ClickHouse, VictoriaLogs, ...);
 *   syslog   each event as one RFC 5424 line over UDP, TCP (RFC 6587
 *            octet counting) or a local unix socket.
 *
 * The event sinks each hold a bounded queue of -export-queue events that
 * the reader fills without ever waiting: what does not fit is counted as
 * dropped.  A batch leaves its queue only once the engine took it, so an
 * engine that is down loses nothing the queue can hold; a batch whose
 * answer was lost is sent again, which is the one way to get duplicates
 * (at most one batch per failure).  Thread-safe.
 */
#ifndef EXPORT_H
#define EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define EXPORT_QUEUE_DEFAULT 16384 /* -export-queue, events per event sink */
#define EXPORT_BATCH 2000          /* events per POST or syslog batch */
#define EXPORT_BATCH_BYTES (1u << 20) /* and at most this much NDJSON */
#define EXPORT_INTERVAL_DEFAULT 15 /* -push-interval, seconds */
#define EXPORT_HOST_MAX 255        /* -host, as RFC 5424's HOSTNAME */
#define EXPORT_QUEUE_MAX 4194304   /* -export-queue at most */

struct api_state;
struct event;
struct exporter;

/* The flags, as httpd/opts.c's table parses them; strings point into
 * argv, NULL when not given. */
struct export_conf {
	const char *host;               /* -host; NULL: the system's name */
	const char *metrics_url;        /* -push-metrics */
	unsigned long interval;         /* -push-interval, seconds */
	const char *events_url;         /* -push-events */
	const char *syslog;             /* -syslog */
	unsigned long queue;            /* -export-queue, events per sink */
	const char *filter;             /* -export-filter, a stream query */
};

/* What opts.c's table cannot say: -host is a host name, -export-filter
 * a query /api/stream takes, the URLs and the syslog address are well
 * formed and their hosts resolve.  Returns 0, or -EINVAL with a message
 * in err (the caller exits 2). */
int export_conf_check(const struct export_conf *c, char *err, size_t errlen);

/*
 * The most memory the exporter holds for configuration c, in bytes: the
 * queues, the batch being sent and the metrics text.  A constant of the
 * flags, for the process's memory bound.
 */
size_t export_memory(const struct export_conf *c);

/*
 * Resolve the engines' addresses and start one thread per sink, before
 * the sandbox (which then allows the exporter's sockets: see
 * httpd/sandbox.c).  st is read for cgroup paths; it outlives the
 * exporter.  The metrics sink pushes what text(st, x, &len) renders (main
 * passes api_metrics_text(), the text of GET /metrics: handed in, so that
 * meta.c, which reads export_stats(), is not also called from here); NULL
 * when -push-metrics is not used.  Returns the exporter, or NULL with a message
 * in err when an address is wrong; with no sink configured it returns an
 * exporter that does nothing but answer export_stats() with its host.
 */
typedef char *export_text_fn(const struct api_state *st,
    const struct exporter *x, size_t *len);
struct exporter *export_start(const struct export_conf *c,
    const struct api_state *st, export_text_fn *text, char *err,
    size_t errlen);

/* Whether any sink needs sockets of its own. */
int export_uses_net(const struct exporter *x);

/* The host name pushed with everything (-host, or this host's name). */
const char *export_host(const struct exporter *x);

/* From the reader: queue n events for the event sinks; never waits. */
void export_events(struct exporter *x, const struct event *ev, size_t n);

/*
 * Stop: each event sink sends what it holds for at most EXPORT_LINGER_MS
 * more, then the threads end.  Counts what is left as dropped.  Frees x.
 */
#define EXPORT_LINGER_MS 2000
void export_stop(struct exporter *x);

/* One sink's figures for /health and /metrics. */
struct export_stat {
	const char *sink;        /* "metrics", "events", "syslog" */
	uint64_t sent;           /* events (or pushes) the engine took */
	uint64_t dropped;        /* events (or pushes) given up on */
	uint64_t failures;       /* attempts that failed and were retried */
	uint64_t queued;         /* events waiting now */
};
#define EXPORT_SINKS 3

/* The configured sinks' figures into out[EXPORT_SINKS]; returns how many
 * (0 when x is NULL). */
size_t export_stats(const struct exporter *x, struct export_stat *out);

/* All sinks' dropped counts added up (0 when x is NULL). */
uint64_t export_dropped(const struct exporter *x);

#endif
