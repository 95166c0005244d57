/*
 * What capture.c hands a backend and what a backend gives back, and the
 * helpers every backend shares (load.c, below capture.c).  Private to
 * loader/: main and the rest of the program see loader/capture.h only.
 */
#ifndef LD_BACKEND_H
#define LD_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct bpf_insn;
struct btf;
struct ld_features;
struct prog_kern;

/* What the fault-injection test puts first in a program:
 * r0 = *(u64 *)(r10 + 8), above the frame, which no verifier accepts. */
#define LD_FAULT_INSN BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_10, 8)

/* Everything a backend needs that capture.c set up first. */
struct ld_env {
	FILE *diag;                     /* verifier logs; NULL while auto tries */
	int fault_verifier;             /* tests: break the first program */
	int events_fd;                  /* the perf event array */
	int batch_fd;                   /* per-CPU struct kbatch, or -1 */
	/* The reader thread's pid_tgid when batch_fd >= 0, else 0: its
	 * connects flush a batch and are no events (prog_emit_trigger()). */
	uint64_t trigger;
	/* The flush socket's cookie when the socket hooks may ask for it
	 * (LD_F_SA_COOKIE), else 0: they then know the flush by trigger. */
	uint64_t trigger_cookie;
	const struct prog_kern *k;      /* BTF offsets; k->valid 0 without */
	/* The kernel's BTF, read once by cap_open() for every backend
	 * (about 5 MiB to parse), or NULL; freed when cap_open() returns. */
	const struct btf *btf;
	/* What the kernel's verifier took (loader/probe.h): each backend
	 * chooses its instructions from it, or refuses naming what lacks. */
	const struct ld_features *f;
	/* The batch is taken with BPF_XCHG (LD_F_XCHG); without it only
	 * programs of process context share it (prog/frame.c take_batch()):
	 * the TCP outcome program, which softirqs run, outputs alone. */
	int xchg;
};

struct ld_backend {
	const char *name;
	unsigned exact;                 /* CAP_EXACT_* */
	/* 1: its programs gather events in env->batch_fd and every connect
	 * program recognises env->trigger; 0: each event is output alone. */
	int batched;
	/* Load and attach; 0 and *state, or -errno with err saying why
	 * this backend cannot run here.  On failure nothing stays. */
	int (*open)(const struct ld_env *env, void **state, char *err,
	    size_t errlen);
	/* Detach and free. */
	void (*close)(void *state);
	/* CAP_EXACT_* bits this kernel denies the open backend, and what
	 * each means to a user in why[0..n), NULL-terminated when shorter
	 * (cap_not_seen()). */
	unsigned (*missing)(void *state, const char **why, size_t n);
	/* The ways to reach an address this backend never sees, by its
	 * design and on any kernel, NULL-terminated (cap_not_seen()). */
	const char *const *never;
};

/* What a backend on the system calls' exit (tracepoints, fexit) knows
 * exactly: the CAP_EXACT_* bits of loader/capture.h. */
#define LD_EXACT_AT_EXIT (CAP_EXACT_RETURN_CODE | CAP_EXACT_SOCKET | \
    CAP_EXACT_PPID | CAP_EXACT_UNIX | CAP_EXACT_SYSCALL)

/* In the order -backend auto tries them (capture.c says why). */
extern const struct ld_backend ld_backend_cgroup;
extern const struct ld_backend ld_backend_fexit;
extern const struct ld_backend ld_backend_tracepoint_exit;
extern const struct ld_backend ld_backend_tracepoint;

/* What the syscall-level backends (tracepoint, tracepoint-exit, fexit)
 * never see; tracepoint.c. */
extern const char *const ld_syscall_never[];

/* A printf into err, for the backends' messages. */
void ld_errf(char *err, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* " (run as root, ...)" for EPERM and EACCES, "" otherwise. */
const char *ld_hint(int e);

/*
 * Load insn[0..n) as a program of type (expected attach type attach, for
 * tracing programs the kernel function's BTF id btf_id) named name.  On
 * rejection prints the verifier log and a listing to env->diag and fills
 * err.  Returns the fd or -errno.
 */
int ld_load(const struct ld_env *env, unsigned type, unsigned attach,
    unsigned btf_id, const char *name, struct bpf_insn *insn, size_t n,
    char *err, size_t errlen);

/* Attach prog_fd to tracepoint cat:name with a perf event (one for all
 * CPUs).  Returns the perf event's fd (closing it detaches) or -errno
 * with err. */
int ld_tp_attach(const char *tracefs, const char *cat, const char *name,
    int prog_fd, char *err, size_t errlen);

/* Close each fd >= 0 and set it to -1. */
void ld_close_fds(int *fds, int n);

/* The same, each fd from a thread of its own (up to LD_CLOSE_MAX), for
 * fds whose close waits for an RCU grace period (tracepoint perf events:
 * tracepoint_synchronize_unregister(), 30-200 ms each here). */
#define LD_CLOSE_MAX 16
void ld_close_parallel(int *fds, int n);

#endif
