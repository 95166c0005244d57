/*
 * What differs between the CPUs the server runs on, in one small table per
 * architecture (util/arch/<arch>.c), as ply keeps its src/libply/arch/:
 * the GNUmakefile compiles the one of the target and no other, so nothing
 * else needs an #if per CPU.  System call numbers come from the target's
 * own <asm/unistd.h> (its linux-libc-dev), never from the build machine.
 */
#ifndef ARCH_H
#define ARCH_H

#include <stddef.h>

#include "prog/abi.h"   /* ARCH_BIG_ENDIAN, ARCH_LO32() */

/* A member of the kernel's struct pt_regs, and the index of the register
 * in it when it is an array (gpr[4] on ppc64le, regs[1] on arm64). */
struct arch_reg {
	const char *member;
	int index;
};

struct arch {
	const char *name;       /* ours: x86_64, armhf, ppc64le, ... */
	unsigned audit;         /* AUDIT_ARCH_*: seccomp_data.arch */
	/* System call numbers with this bit set belong to another ABI on
	 * the same audit architecture (x86-64's x32); 0: none. */
	unsigned abi_bit;
	/* Where the saved user registers hold system call arguments 0-5 when
	 * the call returns (the exit-only programs read them there).  The
	 * return value overwrites one argument register on every CPU, so
	 * argument 0 is its saved copy (orig_x0, orig_gpr2, ...).  A NULL
	 * member: this kernel's registers are not 64-bit, and the exit-only
	 * programs (which load 64-bit pointers) cannot run. */
	struct arch_reg args[6];
	/* The sandbox's allow-list beyond the calls every architecture has:
	 * this ABI's names for mapping, time, stat, seek, select, ... */
	const unsigned *syscalls;
	size_t nsyscalls;
	int nr_open;            /* open(2), which the sandbox allows read-only; -1: none */
	int nr_send;            /* send(2), -1 where there is none */
	/* The argument of clone() that holds the flags: 1 on s390x, whose
	 * first two are the other way round, else 0. */
	int clone_flags;
	/* The sys_exit tracepoints' ret holds a failed call's errno as a
	 * positive number (64-bit PowerPC's sc ABI flags an error in CR0.SO,
	 * not in the sign; seen on Debian's 6.1 ppc64el kernel), so there
	 * an error cannot be told from a count: 1. */
	int exit_ret_positive;
	/* Why the syscalls:sys_{enter,exit}_* tracepoints never fire for
	 * this ABI's calls, which the tracepoint backends then refuse with;
	 * NULL: they do. */
	const char *no_syscall_tracepoints;
};

/* The CPU this binary was built for. */
extern const struct arch arch_cpu;

#define ARCH_NSYSCALLS(a) (sizeof(a) / sizeof((a)[0]))
/* The longest nsyscalls the sandbox makes room for. */
#define ARCH_SYSCALLS_MAX 40

#endif
