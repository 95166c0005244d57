/*
 * 64-bit MIPS, little-endian, n64 ABI: arguments in a0-a5 (regs[4..9]).
 * The return value goes to v0 (regs[2]) and the error flag to a3 (regs[7]),
 * so argument 3 is gone at exit; the programs never read it (connect()
 * uses 0-2, sendto() 0, 4 and 5).  n64's numbers start at 5000.
 *
 * The syscall tracepoints are listed in tracefs but never fire for n64
 * calls: on Debian's 6.1 5kc-malta kernel raw_syscalls:sys_enter sees
 * connect() as 5041 while an enabled syscalls:sys_enter_connect records
 * nothing (Linux fills its syscall trace metadata for numbers below
 * NR_syscalls, o32's range).  The cgroup backend is the one to use.
 */
#include <sys/syscall.h>

#include <linux/audit.h>

#include "util/arch.h"

static const unsigned syscalls[] = {
	__NR_mmap, __NR_clock_gettime, __NR_clock_getres,
	__NR_gettimeofday, __NR_nanosleep, __NR_clock_nanosleep,
	__NR_lseek, __NR_fstat, __NR_newfstatat, __NR_fcntl,
	__NR_getdents, __NR_poll, __NR__newselect, __NR_epoll_wait,
	__NR_accept,
};

const struct arch arch_cpu = {
	.name = "mips64el",
	.audit = AUDIT_ARCH_MIPSEL64,
	.args = {
		{ "regs", 4 }, { "regs", 5 }, { "regs", 6 },
		{ "regs", 7 }, { "regs", 8 }, { "regs", 9 },
	},
	.syscalls = syscalls,
	.nsyscalls = ARCH_NSYSCALLS(syscalls),
	.nr_send = -1,
	.nr_open = __NR_open,
	.no_syscall_tracepoints = "the syscall tracepoints never fire for "
	    "n64 system calls",
};
