/*
 * What the running kernel lets our programs do, found the way libbpf's
 * libbpf_probes.c finds it: by loading the smallest program that uses a
 * helper or an instruction and looking at the verifier's answer, never by
 * the kernel's version (distributions backport).  Probed once at start-up;
 * each backend chooses its instructions from the answers and, when one it
 * cannot do without is missing, refuses in one line that names it
 * (ld_probe_why()).
 */
#ifndef LD_PROBE_H
#define LD_PROBE_H

#include <stddef.h>

/* One bit per feature; the Linux release that brought it is in the name
 * table of probe.c, for the user's message only. */
enum ld_feature {
	LD_F_XCHG,              /* BPF_ATOMIC BPF_XCHG on a map value */
	LD_F_SA_IDS,            /* cgroup sock_addr: pid_tgid, uid_gid, comm,
	                         * cgroup id helpers */
	LD_F_SA_OUTPUT,         /* cgroup sock_addr: bpf_perf_event_output() */
	LD_F_SA_COARSE,         /* cgroup sock_addr: bpf_ktime_get_coarse_ns() */
	LD_F_SA_TASK_BTF,       /* cgroup sock_addr: bpf_get_current_task_btf() */
	LD_F_SA_TASK,           /* cgroup sock_addr: bpf_get_current_task() and
	                         * bpf_probe_read_kernel() */
	LD_F_SA_SPILL,          /* a helper may read ctx->sk spilled to the
	                         * stack (a pointer, to a privileged program) */
	LD_F_SA_COOKIE,         /* cgroup sock_addr: bpf_get_socket_cookie() */
	LD_F_SA_CAST,           /* cgroup sock_addr: the bpf_rdonly_cast() kfunc */
	LD_F_TP_READ_KERNEL,    /* tracepoint: bpf_probe_read_kernel() */
	LD_F_TP_TASK_BTF,       /* tracepoint: bpf_get_current_task_btf() */
	LD_F_TP_PT_REGS,        /* tracepoint: bpf_task_pt_regs() */
	LD_F_TP_CAST,           /* tracepoint: the bpf_rdonly_cast() kfunc */
	LD_F_N
};

struct ld_features {
	unsigned have;          /* 1 << LD_F_* for each one the kernel took */
	int probed;             /* 1 once ld_probe() ran */
};

/* Run every probe; 0, or -errno when not even a probe's map could be
 * made (no bpf() for us at all).  A refused probe is an answer, not an
 * error.  kf_cast and cast_id are the BTF ids of the bpf_rdonly_cast()
 * kfunc and of a struct to cast to (prog_kern's); 0 when the kernel's
 * BTF has none, and the cast probes then answer no. */
int ld_probe(struct ld_features *f, int kf_cast, int cast_id);

/* 1 when the kernel took feature f. */
int ld_has(const struct ld_features *f, enum ld_feature feat);

/* "bpf_task_pt_regs() in tracepoint programs (Linux 5.15)": what the
 * feature is, for a one-line refusal. */
const char *ld_probe_why(enum ld_feature feat);

/* 0 when the kernel took feat; else -EOPNOTSUPP and err says "backend
 * <backend> needs <ld_probe_why(feat)>", the one line a refusal is. */
int ld_need(const struct ld_features *f, enum ld_feature feat,
    const char *backend, char *err, size_t errlen);

/* Every feature as "name=0|1" words, for -v and /health. */
void ld_probe_list(const struct ld_features *f, char *buf, size_t n);

#endif
