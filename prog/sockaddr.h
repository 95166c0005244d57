/*
 * The cgroup socket-address programs (BPF_PROG_TYPE_CGROUP_SOCK_ADDR):
 * one per hook, run by the kernel inside connect() and inside sendmsg()
 * of a datagram to an explicit address, before the call does its work.
 * Family, type, protocol, address and port come from the bpf_sock_addr
 * context: no BTF, no pt_regs, no tax on any other system call.  They
 * cannot see the call's return value.
 */
#ifndef PROG_SOCKADDR_H
#define PROG_SOCKADDR_H

#include "prog/connect.h"

struct prog_asm;

/* The hooks, in the order the loader attaches them. */
enum prog_hook {
	HOOK_CONNECT4,
	HOOK_CONNECT6,
	HOOK_SENDMSG4,
	HOOK_SENDMSG6,
	HOOK_CONNECT_UNIX,      /* Linux 6.7+ */
	HOOK_SENDMSG_UNIX,      /* Linux 6.7+ */
	HOOK_N
};

struct prog_sa_conf {
	int hook;               /* enum prog_hook */
	int events_fd;          /* perf event array */
	int batch_fd;           /* per-CPU struct kbatch, or -1: one output
	                         * per event */
	int xchg;               /* take it with BPF_XCHG (else plain) */
	/* The reader thread's pid_tgid, or 0: its IPv4 connect() flushes
	 * this CPU's batch and is no event (prog_emit_trigger()).  Used by
	 * the connect4 program only, the trigger being one. */
	uint64_t trigger;
	/* The reader's flush socket's cookie (SO_COOKIE), or 0: with it the
	 * flush is told by its socket, not by trigger (see reader_socket()
	 * in sockaddr.c), so a PID namespace does not hide it. */
	uint64_t trigger_cookie;
	/* ppid read from the BTF-typed task (bpf_get_current_task_btf(),
	 * plain loads) when 1, else with probe reads. */
	int task_btf;
	/* The time from bpf_ktime_get_coarse_ns() (Linux 5.11+) when 1: the
	 * last tick's, 1-4 ms coarse, for a fifth of bpf_ktime_get_ns()'s
	 * 25 ns, which was a sixth of the hook's whole cost (README). */
	int coarse_time;
	/* The unix hooks read the kernel's copy of the sockaddr through
	 * bpf_rdonly_cast() of the ctx (k.cast_valid, k.sak_btf_id): plain
	 * loads of uaddr and uaddrlen, one probe read for the path, instead
	 * of three. */
	int cast;
	/* ppid from the task (task_real_parent, task_tgid) when k.valid;
	 * the unix hooks need k.sak_valid (struct bpf_sock_addr_kern). */
	struct prog_kern k;
};

/* Emit the program for c->hook into a (initialised with asm_init).
 * Returns the instruction count or -errno; -EINVAL for a unix hook
 * without c->k.sak_valid. */
long prog_sock_addr(struct prog_asm *a, const struct prog_sa_conf *c);

#endif
