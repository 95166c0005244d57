/*
 * The event store: a bounded ring of the newest events plus per-second
 * counters that keep connection-summary exact for an hour after the raw
 * events were evicted.  Thread-safe: one internal mutex; the reader adds a
 * whole batch under one lock, HTTP workers copy out what they need.
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

struct event;
struct store;

#define STORE_DEFAULT_MAX 262144
#define STORE_WINDOW_MAX 3600 /* seconds of per-second counters kept */

struct store_stats {
	uint64_t capacity;  /* max events kept (-max-events) */
	uint64_t stored;    /* events in the ring now */
	uint64_t added;     /* events ever added */
	uint64_t evicted;   /* events pushed out by newer ones */
	uint64_t lost;      /* events the kernel dropped (PERF_RECORD_LOST) */
	uint64_t bytes;     /* memory held by the store */
};

/* What store_list() selects.  Zero-initialise, then set what you need. */
struct store_query {
	int has_pid;
	uint32_t pid;
	const char *command; /* exact comm, NULL for any */
	unsigned limit;      /* max events returned per pid, >= 1 */
};

struct store_group {
	uint32_t pid;
	size_t n;            /* events in ev */
	size_t total;        /* matching events stored for this pid (>= n) */
	struct event *ev;    /* newest first */
};

struct store_list {
	size_t ngroups;
	struct store_group *groups; /* ordered by pid */
	int truncated;       /* some group had more than limit events */
};

/* Returns a new store keeping at most max_events (>= 1), or NULL (errno set). */
struct store *store_new(size_t max_events);
void store_free(struct store *s);

/* Append n events (oldest first), evicting the oldest when full. */
void store_add(struct store *s, const struct event *ev, size_t n);

/* Count n events lost in the kernel. */
void store_lost(struct store *s, uint64_t n);

void store_stats(struct store *s, struct store_stats *st);

/*
 * Connection attempts (sum of event counts) whose timestamp falls in the
 * last duration_s seconds before now_ns, by pid (has_pid) or by command.
 * Exact for duration_s <= STORE_WINDOW_MAX even after eviction.
 */
uint64_t store_count(struct store *s, int has_pid, uint32_t pid,
    const char *command, uint64_t now_ns, unsigned duration_s);

/*
 * Copy out the events matching q, grouped by pid, newest first, at most
 * q->limit per pid.  Returns 0 or -ENOMEM; free out with store_list_free().
 */
int store_list(struct store *s, const struct store_query *q, struct store_list *out);
void store_list_free(struct store_list *l);

#endif
