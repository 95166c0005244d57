/*
 * Per-second counters of connects and of datagrams, by pid and by command,
 * for the last CNT_WINDOW seconds: what keeps store_count() exact after
 * the ring evicted the raw events, with a bounded number of keys per
 * second.  Internal to the store and not thread-safe: the store's mutex
 * guards every call.
 */
#ifndef COUNTERS_H
#define COUNTERS_H

#include <stddef.h>
#include <stdint.h>

#define CNT_COMM_LEN 16
/* Seconds kept: the store's window (store.c asserts STORE_WINDOW_MAX is
 * the same). */
#define CNT_WINDOW 3600

/* What is counted, each kind apart. */
enum cnt_kind {
	CNT_CONNECT,     /* connect() attempts */
	CNT_DATAGRAM,    /* datagrams sent to an explicit address */
	CNT_KINDS
};

struct counters;

/* Returns new, empty counters keeping at most keys pids and keys commands
 * per second, or NULL (errno set); free with counters_free(). */
struct counters *counters_new(uint32_t keys);
void counters_free(struct counters *c);

/* The clock now reads now_s: release the seconds that left the window. */
void counters_advance(struct counters *c, uint64_t now_s);

/*
 * Add n of kind (enum cnt_kind) at second sec by pid and by comm
 * (CNT_COMM_LEN bytes, zero padded after the name).  A sec after now_s
 * counts as now_s; one that is already out of the window is ignored.
 * Returns 0, or -ENOMEM when a table could not grow (they are then not
 * counted).
 */
int counters_add(struct counters *c, uint64_t now_s, uint64_t sec,
    uint32_t pid, const char *comm, unsigned kind, uint64_t n);

/*
 * Sum of the counts of kind in seconds (now_s - duration_s, now_s] by pid
 * (has_pid), or else by comm (zero padded like above), or else, comm being
 * NULL, of all of them.  duration_s is capped at CNT_WINDOW.  The true
 * count is between the sum and the sum + *err (err may be NULL); *err is
 * 0 unless a second of the window had more distinct pids (or commands)
 * than the counters keep.
 */
uint64_t counters_count(const struct counters *c, int has_pid, uint32_t pid,
    const char *comm, uint64_t now_s, unsigned duration_s, unsigned kind,
    uint64_t *err);

/* Bytes of memory held by the counters, and the most they ever hold. */
size_t counters_bytes(const struct counters *c);
size_t counters_max_bytes(uint32_t keys);

#endif
