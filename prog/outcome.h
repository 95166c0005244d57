/*
 * The outcome of TCP connects without a syscall tracepoint: a program on
 * sock:inet_sock_set_state that reports each socket leaving SYN_SENT
 * (a struct kevent with KEV_OUTCOME).  It runs on TCP state changes only, never on other
 * system calls.
 */
#ifndef PROG_OUTCOME_H
#define PROG_OUTCOME_H

struct prog_asm;

struct prog_outcome_conf {
	int events_fd;          /* perf event array */
	int batch_fd;           /* per-CPU struct kbatch, or -1 */
	int xchg;               /* take it with BPF_XCHG (else plain) */
	/* Field offsets in the tracepoint's record (tracefs format file). */
	int skaddr, oldstate, newstate, protocol;
	int sock_err;           /* struct sock.sk_err from BTF, -1 unknown */
};

/* Returns the instruction count or -errno. */
long prog_tcp_outcome(struct prog_asm *a, const struct prog_outcome_conf *c);

#endif
