/*
 * 64-bit PowerPC, little-endian: arguments in r3-r8 (gpr[3..8]); r3 takes
 * the return value and the kernel keeps the first argument in orig_gpr3.
An error is flagged in CR0.SO with the positive errno in r3, and that is
what the sys_exit tracepoints report as ret.
 */
#include <sys/syscall.h>

#include <linux/audit.h>

#include "util/arch.h"

static const unsigned syscalls[] = {
	__NR_mmap, __NR_sigreturn, __NR_clock_gettime,
	__NR_clock_getres, __NR_gettimeofday, __NR_time, __NR_nanosleep,
	__NR_clock_nanosleep, __NR_lseek, __NR__llseek, __NR_fstat,
	__NR_newfstatat, __NR_fcntl, __NR_getdents, __NR_poll,
	__NR_select, __NR__newselect, __NR_epoll_wait, __NR_accept,
	__NR_send, __NR_recv,
};

const struct arch arch_cpu = {
	.name = "ppc64le",
	.audit = AUDIT_ARCH_PPC64LE,
	.args = {
		{ "orig_gpr3", 0 }, { "gpr", 4 }, { "gpr", 5 },
		{ "gpr", 6 }, { "gpr", 7 }, { "gpr", 8 },
	},
	.syscalls = syscalls,
	.nsyscalls = ARCH_NSYSCALLS(syscalls),
	.nr_send = __NR_send,
	.nr_open = __NR_open,
	.exit_ret_positive = 1,
};
