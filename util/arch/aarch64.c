/*
 * arm64: arguments in x0-x5 (struct pt_regs' regs[]); x0 takes the return
 * value and the kernel keeps the first argument in orig_x0.  The generic
 * system call table (util/arch/generic.h).
 */
#include <sys/syscall.h>

#include <linux/audit.h>

#include "util/arch.h"
#include "util/arch/generic.h"

static const unsigned syscalls[] = { ARCH_GENERIC_SYSCALLS };

const struct arch arch_cpu = {
	.name = "aarch64",
	.audit = AUDIT_ARCH_AARCH64,
	.args = {
		{ "orig_x0", 0 }, { "regs", 1 }, { "regs", 2 },
		{ "regs", 3 }, { "regs", 4 }, { "regs", 5 },
	},
	.syscalls = syscalls,
	.nsyscalls = ARCH_NSYSCALLS(syscalls),
	.nr_send = -1,
	.nr_open = -1,
};
