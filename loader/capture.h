/*
 * Capture: the kernel side of the pipeline behind one small interface.
 * A backend (cgroup socket hooks, syscall tracepoints, ...) loads and
 * attaches its programs; every backend's records arrive through the same
 * perf event array and per-CPU rings, which this module owns and drains.
 *
 *	cap_open()    pick and attach a backend, map the rings
 *	cap_poll()    wait until a ring passed its watermark (or a
 *	              time-out), then cap_drain()
 *	cap_drain()   hand every pending record to a callback
 *	cap_stats()   what was read and lost
 *	cap_close()   detach everything
 *
 * Setup code: cap_open() may write diagnostics (verifier log, program
 * listing) to conf->diag.
 */
#ifndef LD_CAPTURE_H
#define LD_CAPTURE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "loader/ring.h"

struct capture;

struct cap_conf {
	unsigned ring_pages;    /* per CPU, power of two; 0: ld_ring_pages() */
	FILE *diag;             /* where the verifier log goes, or NULL */
	/* Tests only: make the first program read beyond the stack so that
	 * the verifier rejects it (main sets it from EBPF_SERVER_FAULT). */
	int fault_verifier;
	/* NULL or "auto": the cheapest backend that works here; else one of
	 * cap_backend_names(), or fail saying why it cannot run. */
	const char *backend;
	/* 1: gather events in per-CPU batches, which the thread that calls
	 * cap_open() and cap_drain() flushes (see loader/batch.c); turned
	 * off, with a line on diag, where that thread cannot reach every
	 * CPU.  0: one perf output per event. */
	int batch;
	int verbose;            /* -v: say what the kernel's probes found */
};

/* Which event fields a backend knows exactly (cap_exact()). */
enum {
	CAP_EXACT_RETURN_CODE = 1 << 0, /* the system call's return value */
	CAP_EXACT_SOCKET = 1 << 1,      /* socket_type and protocol */
	CAP_EXACT_PPID = 1 << 2,
	CAP_EXACT_TCP_RESULT = 1 << 3,  /* result of TCP connects, async too */
	CAP_EXACT_UNIX = 1 << 4,        /* unix connects and sends are seen */
	CAP_EXACT_SYSCALL = 1 << 5,     /* sendto told from sendmsg */
};

struct cap_stats {
	uint64_t records;       /* samples read from the rings */
	uint64_t lost;          /* records the kernel dropped (ring full) */
	uint64_t flushes;       /* the reader's flush connects, one per CPU */
};

/* Returns 0 and *out, or -errno with a message for the user in err that
 * says which backend failed and why. */
int cap_open(const struct cap_conf *conf, struct capture **out, char *err,
    size_t errlen);

/* The socket the flush connect()s (a sandbox allows connect() on it
 * alone, and sched_setaffinity()), or -1 when batches are off. */
int cap_trigger_fd(const struct capture *c);

/*
 * Drain every ring into sample/lost; first, every flush interval, hands
 * over the records waiting in the kernel's per-CPU batches, so that none
 * waits long: call it from the thread that called cap_open() (the flush
 * moves that thread to each CPU in turn and connects a socket of its own;
 * from another thread it is skipped).  Returns the records read or
 * -errno.
 */
long cap_drain(struct capture *c, ld_sample_fn sample, ld_lost_fn lost,
    void *ctx);

/* Wait up to timeout_ms for a ring to pass its watermark (an epoll over
 * the rings), then cap_drain(). */
long cap_poll(struct capture *c, int timeout_ms, ld_sample_fn sample,
    ld_lost_fn lost, void *ctx);

void cap_stats(const struct capture *c, struct cap_stats *out);

/* Short name of the backend in use ("cgroup", "tracepoint-exit", ...). */
const char *cap_backend(const struct capture *c);
/* CAP_EXACT_* bits of the backend in use. */
unsigned cap_exact(const struct capture *c);
/* What this backend cannot see on this kernel, for /health's not_seen
 * and the log: the ways to reach an address it never sees ("datagrams
 * sent with sendmmsg(): use -backend cgroup") and the fields this kernel
 * denies it ("unix socket connects ... (Linux 6.7+)").  Fills out[0..n)
 * with static strings; returns how many. */
#define CAP_NOT_SEEN_MAX 8
size_t cap_not_seen(const struct capture *c, const char **out, size_t n);

/* 1 when the programs gather events in per-CPU batches. */
int cap_batched(const struct capture *c);

/* The i-th backend -backend auto passed over before the one in use, and
 * why (one line), or NULL past the last; *name its name. */
const char *cap_refused(const struct capture *c, size_t i, const char **name);

/* Names -backend accepts, NULL-terminated, cheapest first ("auto" too). */
const char *const *cap_backend_names(void);

/* The CAP_EXACT_* bits as JSON-ish field names: "return_code", ...;
 * NULL past the last.  i from 0. */
const char *cap_exact_name(unsigned bit);

/* The names of cap_exact(c)'s bits into out[0..max-1), NULL after the
 * last.  Returns how many. */
size_t cap_exact_names(const struct capture *c, const char **out, size_t max);

/* Detach and free everything; NULL is fine. */
void cap_close(struct capture *c);

#endif
