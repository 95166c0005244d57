/*
 * x86-64: arguments in rdi, rsi, rdx, r10, r8, r9; rax takes the return
 * value, and the arguments stay where they are.
 */
#include <sys/syscall.h>

#include <asm/unistd.h>
#include <linux/audit.h>

#include "util/arch.h"

static const unsigned syscalls[] = {
	__NR_mmap, __NR_clock_gettime, __NR_clock_getres,
	__NR_gettimeofday, __NR_time, __NR_nanosleep,
	__NR_clock_nanosleep, __NR_lseek, __NR_fstat, __NR_newfstatat,
	__NR_fcntl, __NR_getdents, __NR_poll, __NR_select,
	__NR_epoll_wait, __NR_accept,
};

const struct arch arch_cpu = {
	.name = "x86_64",
	.audit = AUDIT_ARCH_X86_64,
	.abi_bit = __X32_SYSCALL_BIT,
	.args = {
		{ "di", 0 }, { "si", 0 }, { "dx", 0 },
		{ "r10", 0 }, { "r8", 0 }, { "r9", 0 },
	},
	.syscalls = syscalls,
	.nsyscalls = ARCH_NSYSCALLS(syscalls),
	.nr_send = -1,
	.nr_open = __NR_open,
};
