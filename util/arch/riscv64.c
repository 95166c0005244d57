/*
 * RISC-V 64: arguments in a0-a5; a0 takes the return value and the kernel
 * keeps the first argument in orig_a0.  The generic system call table
 * (util/arch/generic.h).
 */
#include <sys/syscall.h>

#include <linux/audit.h>

#include "util/arch.h"
#include "util/arch/generic.h"

static const unsigned syscalls[] = { ARCH_GENERIC_SYSCALLS };

const struct arch arch_cpu = {
	.name = "riscv64",
	.audit = AUDIT_ARCH_RISCV64,
	.args = {
		{ "orig_a0", 0 }, { "a1", 0 }, { "a2", 0 },
		{ "a3", 0 }, { "a4", 0 }, { "a5", 0 },
	},
	.syscalls = syscalls,
	.nsyscalls = ARCH_NSYSCALLS(syscalls),
	.nr_send = -1,
	.nr_open = -1,
};
