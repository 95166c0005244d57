/*
 * RISC-V 64: arguments in a0-a5; a0 takes the return value and the kernel
 * keeps the first argument in orig_a0.  The generic system call table, as
 * arm64's.
 */
#include <sys/syscall.h>

#include <linux/audit.h>

#include "util/arch.h"

static const unsigned syscalls[] = {
	__NR_mmap, __NR_clock_gettime, __NR_clock_getres,
	__NR_gettimeofday, __NR_nanosleep, __NR_clock_nanosleep,
	__NR_lseek, __NR_fstat, __NR_newfstatat, __NR_fcntl,
	__NR_accept,
};

const struct arch arch_cpu = {
	.name = "riscv64",
	.audit = AUDIT_ARCH_RISCV64,
	.args = {
		{ "orig_a0", 0 }, { "a1", 0 }, { "a2", 0 },
		{ "a3", 0 }, { "a4", 0 }, { "a5", 0 },
	},
	.syscalls = syscalls,
	.nsyscalls = ARCH_NSYSCALLS(syscalls),
	.nr_open = -1,
};
