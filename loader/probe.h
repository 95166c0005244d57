/*
 * The connect() probe as a whole: maps, programs, tracepoint attachment and
 * the per-CPU perf rings.  Setup code: it may write diagnostics (verifier
 * log, program listing) to conf->diag.
 */
#ifndef LD_PROBE_H
#define LD_PROBE_H

#include <stddef.h>
#include <stdio.h>

#include "loader/ring.h"

struct probe;

struct probe_conf {
	unsigned ring_pages;    /* per CPU, power of two */
	unsigned watermark;     /* bytes pending before a wakeup */
	FILE *diag;             /* where the verifier log goes, or NULL */
	const char *btf_path;   /* NULL: /sys/kernel/btf/vmlinux */
	/* Tests only: make the enter program read beyond the stack so that
	 * the verifier rejects it (main sets it from EBPF_SERVER_FAULT). */
	int fault_verifier;
	/* NULL: the cheapest the kernel allows; "tracepoint-exit": one
	 * program per call at sys_exit, or fail; "tracepoint": the
	 * enter/exit pair with a stash map. */
	const char *backend;
};

/* Returns 0 and *out, or -errno with a message for the user in err. */
int probe_open(const struct probe_conf *conf, struct probe **out, char *err,
    size_t errlen);

/*
 * Wait up to timeout_ms for a watermark wakeup, then drain every ring (so
 * nothing waits longer than timeout_ms however slow the rate).  Returns the
 * records read, or -errno.
 */
long probe_poll(struct probe *p, int timeout_ms, ld_sample_fn sample,
    ld_lost_fn lost, void *ctx);

/* Short name of the capture mechanism, for /health. */
const char *probe_backend(const struct probe *p);
/* 1 when socket type and protocol are read from the kernel. */
int probe_has_socket_info(const struct probe *p);

/* Detach and free everything. */
void probe_close(struct probe *p);

#endif
