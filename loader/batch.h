/*
 * The per-CPU batches of the capture (see batch.c): the map the programs
 * gather events in, and the reader's flush, which needs no bpf().
 * Private to loader/: capture.c owns one.
 */
#ifndef LD_BATCH_H
#define LD_BATCH_H

#include <stddef.h>
#include <stdint.h>

struct ld_ring;

struct ld_batch {
	int map_fd;             /* per-CPU struct kbatch, -1: batches off */
	int sock_fd;            /* the reader's UDP socket, -1 */
	uint64_t trigger;       /* the reader thread's pid_tgid, 0 when off */
	uint64_t cookie;        /* sock_fd's SO_COOKIE, 0 when unknown */
	int tid;                /* the reader thread */
	uint64_t last_ns;       /* the last flush, CLOCK_MONOTONIC */
	uint64_t flushes;       /* flush connects made, one per CPU */
};

/* Before the backend: the map, the socket, and the reader pinned to each
 * of the rings' CPUs once.  0, or -errno with err (b is then to be
 * closed).  The calling thread is the reader from now on. */
int ld_batch_open(struct ld_batch *b, const struct ld_ring *rings, int n,
    char *err, size_t errlen);

/* After the backend is attached with b->map_fd and b->trigger: a flush
 * round, and every ring's CPU must have run it (backend names the
 * backend for err).  0 or -errno with err. */
int ld_batch_check(struct ld_batch *b, const struct ld_ring *rings, int n,
    const char *backend, char *err, size_t errlen);

/* Flush every ring's CPU when the last flush is older than the interval
 * and the caller is the reader thread; else nothing. */
void ld_batch_tick(struct ld_batch *b, const struct ld_ring *rings, int n);

/* Close what is open and turn batches off; b stays usable. */
void ld_batch_close(struct ld_batch *b);

#endif
