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
#define STORE_DEFAULT_KEYS 32 /* pids, and commands, counted per second */
/* Bytes of interned unix paths; past it a new path is stored as a
 * stand-in that says so. */
#define STORE_PATH_BYTES (8u << 20)

struct store_stats {
	uint64_t capacity;  /* max events kept (-max-events) */
	uint64_t stored;    /* events in the ring now */
	uint64_t added;     /* events ever added */
	uint64_t evicted;   /* events pushed out by newer ones */
	uint64_t lost;      /* events the kernel dropped (PERF_RECORD_LOST,
	                     * refused batches) and records that did not
	                     * decode */
	uint64_t bytes;     /* memory held by the store */
};

/*
 * The filters of list-connections, connection-summary, top and stream.
 * Zero-initialised it matches everything; each has_ flag turns one on.
 */
struct store_filter {
	int has_port;
	uint16_t port;
	int has_ip;
	uint16_t ip_family;  /* AF_INET or AF_INET6 */
	uint8_t ip[16];      /* network order, v4 in the first 4 bytes */
	unsigned prefix;     /* bits of ip that must match (32/128 = exact) */
	int has_protocol;
	char protocol[8];    /* as ev_protocol_name(): "TCP", "UDP", "UNIX" */
	int has_family;
	uint16_t family;     /* AF_INET, AF_INET6, AF_UNIX */
	int has_failed;
	int failed;          /* 1: return code < 0, 0: >= 0 */
	int has_syscall;
	uint8_t syscall;     /* enum ev_syscall */
	uint64_t since_ns;   /* wall clock; 0 for no lower bound */
};

/* What store_list() selects.  Zero-initialise, then set what you need. */
struct store_query {
	int has_pid;
	uint32_t pid;
	const char *command; /* exact comm, NULL for any */
	unsigned limit;      /* max events returned per pid, >= 1 */
	const struct store_filter *filter; /* NULL for none */
};

/* One row of store_top(). */
struct store_top_row {
	struct event *ev;    /* the newest event of the key (command, port or
	                      * destination are the fields that matter) */
	uint64_t count;      /* sum of event counts (an upper bound when
	                      * error is not 0) */
	uint64_t error;      /* count may be this much too high */
	uint64_t events;     /* records (since the key was kept) */
};

enum store_top_by {
	STORE_TOP_COMMAND,
	STORE_TOP_DESTINATION,
	STORE_TOP_PORT,
};

struct store_top {
	size_t n;
	struct store_top_row *rows; /* heaviest first */
	struct event *evs;          /* what rows[i].ev point into */
	uint64_t total;             /* sum of counts over every key */
	size_t keys;                /* distinct keys before the limit (kept
	                             * keys, a lower bound, when not exact) */
	int exact;                  /* every key fit: counts are exact */
	uint64_t error;             /* else the most any key is over, and the
	                             * most a key not shown may have */
};

/* Keys one top query keeps (more distinct keys make it approximate), and
 * how many walks of the whole ring (top, and the pids of a filtered list)
 * run at once; more wait for a turn. */
#define TOP_KEYS 2048
#define STORE_SCANS_MAX 4

struct store_group {
	uint32_t pid;
	size_t n;            /* events in ev */
	struct event *ev;    /* newest first */
};

struct store_list {
	size_t ngroups;
	struct store_group *groups; /* ordered by pid */
	int truncated;       /* some group had more than limit events */
};

/*
 * Returns a new store keeping at most max_events (>= 1) and, in each
 * second's counters, at most keys pids and keys commands (the heaviest:
 * see counters.h), or NULL (errno set).  store_new() keeps
 * STORE_DEFAULT_KEYS.
 */
struct store *store_new_keys(size_t max_events, uint32_t keys);
struct store *store_new(size_t max_events);
void store_free(struct store *s);

/*
 * Append n events (oldest first), evicting the oldest when full.  A
 * datagram event (syscall other than connect) from the same pid, with the
 * same syscall, destination and success, in the same wall-clock second as
 * a recent record is folded into that record: its count is added instead
 * of a new record being appended, so a chatty UDP sender fills one record
 * per destination per second.  Recent records are found through a small
 * direct-mapped table, so this is O(1) per event; two destinations that
 * collide in it just get a record each.
 */
void store_add(struct store *s, const struct event *ev, size_t n);

/*
 * store_add(), and when folded is not NULL, folded[i] is set to 1 when
 * ev[i] was folded into an existing record and to 0 when it was appended
 * (what the live stream shows).  Returns the number appended.
 */
size_t store_add_marked(struct store *s, const struct event *ev, size_t n,
    unsigned char *folded);

/* Whether ev passes f (NULL passes everything). */
int store_filter_match(const struct store_filter *f, const struct event *ev);

/* Records appended so far: the next record appended gets this number
 * (folded events get none). */
uint64_t store_appended(struct store *s);

/* Set the result (enum ev_result) of record number seq, learnt after it
 * was stored (a TCP connect's outcome).  Returns 0, or -ENOENT when the
 * record has been evicted. */
int store_set_result(struct store *s, uint64_t seq, uint8_t result);

/* Count n events lost in the kernel. */
void store_lost(struct store *s, uint64_t n);

void store_stats(struct store *s, struct store_stats *st);

/* Events ever added, appended or folded: nothing a query can see changed
 * while this stays the same (the key of the HTTP reply cache). */
uint64_t store_added(struct store *s);

/* What store_count() counts, apart: connect() attempts, and datagrams
 * (sendto/sendmsg records with their folded counts). */
struct store_counts {
	uint64_t connects;
	uint64_t datagrams;
	uint64_t error;      /* each true count is at most this much higher:
	                      * 0 unless a second had more distinct pids or
	                      * commands than the counters keep */
};

/*
 * Events (sum of event counts) whose timestamp falls in the last
 * duration_s seconds before now_ns, by pid (has_pid) or by command.
 * Exact for duration_s <= STORE_WINDOW_MAX even after eviction.  Returns
 * connects + datagrams, and fills *out with each apart when not NULL.
 */
uint64_t store_count(struct store *s, int has_pid, uint32_t pid,
    const char *command, uint64_t now_ns, unsigned duration_s,
    struct store_counts *out);

/*
 * Like store_count(), with filters.  With no filter beyond pid or command
 * (f NULL or empty and no since) it is store_count() and *exact is 1;
 * otherwise the events still in the ring are scanned and *exact is 1 only
 * if nothing in the window was evicted yet.
 */
uint64_t store_count_filter(struct store *s, int has_pid, uint32_t pid,
    const char *command, const struct store_filter *f, uint64_t now_ns,
    unsigned duration_s, struct store_counts *out, int *exact);

/*
 * The heaviest keys among the stored events matching f (and command when
 * not NULL) with a timestamp in the last duration_s seconds before now_ns.
 * By port, only TCP/UDP-style (AF_INET, AF_INET6) events count.
 * At most limit rows.  With more than TOP_KEYS distinct keys the heaviest
 * are kept, with exact 0 and error set (Space-Saving).  The store's lock
 * is taken for one chunk of records at a time.  Returns 0 or -ENOMEM;
 * free out with store_top_free().
 */
int store_top(struct store *s, enum store_top_by by, const char *command,
    const struct store_filter *f, uint64_t now_ns, unsigned duration_s,
    size_t limit, struct store_top *out);
void store_top_free(struct store_top *t);

/*
 * A list in bounded pieces, so that neither the store's lock nor a copy of
 * the whole answer is held while a client reads it.  store_iter_begin()
 * takes the pids with a matching event (ascending) and the append count;
 * then for each store_iter_group(), store_iter_events() copies the next
 * at most max events of that pid, newest first, under the lock.  Events
 * appended after begin are left out, and events evicted meanwhile are
 * skipped: on a busy store a slow reader's group can come out shorter
 * than it was at begin, even empty.  The cursor is an append number, so
 * it survives eviction.
 */
struct store_iter {
	struct store_query q;       /* a copy; q.filter is borrowed */
	char key[16];               /* q.command as stored (EV_COMM_LEN) */
	int has_key;
	uint64_t upto;              /* append count at begin */
	uint32_t *pids;             /* the groups, ascending */
	size_t npids;               /* how many: total_pids */
	size_t gi;                  /* the current group */
	uint64_t next;              /* its next record's append number */
	unsigned taken;             /* events of it given out */
	int state;                  /* 0 not started, 1 going, 2 done */
	int truncated;              /* a group had more than q.limit */
	int big;                    /* one of the STORE_BIG_LISTS */
};

/* A list of more than STORE_SMALL_LIST pids is big; at most
 * STORE_BIG_LISTS are in flight at once, each holding 4 bytes a pid. */
#define STORE_SMALL_LIST 8192
#define STORE_BIG_LISTS 4

/* Returns 0, -ENOMEM, or -EBUSY when STORE_BIG_LISTS big lists are in
 * flight already; release it with store_iter_end() either way. */
int store_iter_begin(struct store *s, const struct store_query *q,
    struct store_iter *it);
/* The next group: 1 with its pid, 0 after the last.  it->truncated is
 * final once this returned 0. */
int store_iter_group(struct store_iter *it, uint32_t *pid);
/* Up to max (>= 1) more events of the current group into ev; 0 when it
 * has no more. */
size_t store_iter_events(struct store *s, struct store_iter *it,
    struct event *ev, size_t max);
void store_iter_end(struct store_iter *it);

/*
 * The whole list at once, through the iterator: the events matching q,
 * grouped by pid, newest first, at most q->limit per pid.  Returns 0 or
 * -ENOMEM; free out with store_list_free().
 */
int store_list(struct store *s, const struct store_query *q, struct store_list *out);
void store_list_free(struct store_list *l);

#endif
