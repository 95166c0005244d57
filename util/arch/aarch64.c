/*
 * arm64: arguments in x0-x5 (struct pt_regs' regs[]); x0 takes the return
 * value and the kernel keeps the first argument in orig_x0.  The generic
 * system call table: no open(), no poll(), no select().
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
	.name = "aarch64",
	.audit = AUDIT_ARCH_AARCH64,
	.args = {
		{ "orig_x0", 0 }, { "regs", 1 }, { "regs", 2 },
		{ "regs", 3 }, { "regs", 4 }, { "regs", 5 },
	},
	.syscalls = syscalls,
	.nsyscalls = ARCH_NSYSCALLS(syscalls),
	.nr_open = -1,
};
