/*
 * s390x, big-endian: arguments in r2-r7 (gprs[2..7]); r2 takes the return
 * value and the kernel keeps the first argument in orig_gpr2.  The socket
 * calls are direct ones (Linux 4.3+), accept4 but no accept.  clone()
 * takes the new stack first and the flags second.
 */
#include <sys/syscall.h>

#include <linux/audit.h>

#include "util/arch.h"

static const unsigned syscalls[] = {
	__NR_mmap, __NR_sigreturn, __NR_clock_gettime,
	__NR_clock_getres, __NR_gettimeofday, __NR_nanosleep,
	__NR_clock_nanosleep, __NR_lseek, __NR_fstat, __NR_newfstatat,
	__NR_fcntl, __NR_getdents, __NR_poll, __NR_select,
	__NR_epoll_wait,
};

const struct arch arch_cpu = {
	.name = "s390x",
	.audit = AUDIT_ARCH_S390X,
	.args = {
		{ "orig_gpr2", 0 }, { "gprs", 3 }, { "gprs", 4 },
		{ "gprs", 5 }, { "gprs", 6 }, { "gprs", 7 },
	},
	.syscalls = syscalls,
	.nsyscalls = ARCH_NSYSCALLS(syscalls),
	.nr_send = -1,
	.nr_open = __NR_open,
	.clone_flags = 1,
};
