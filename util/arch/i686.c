/*
 * 32-bit x86: arguments in ebx, ecx, edx, esi, edi, ebp.  Its registers
 * are 32-bit, so no exit-only programs.  The same 32-bit names as armhf
 * (*_time64 first, then the old calls, mmap2, the *32 ids); the socket
 * calls are direct ones (Linux 4.3+), accept4 but no accept.
 */
#include <sys/syscall.h>

#include <linux/audit.h>

#include "util/arch.h"

static const unsigned syscalls[] = {
	__NR_mmap, __NR_mmap2, __NR_futex_time64, __NR_sigreturn,
	__NR_rt_sigtimedwait_time64, __NR_clock_gettime32,
	__NR_clock_gettime64, __NR_clock_getres_time32,
	__NR_clock_getres_time64, __NR_gettimeofday_time32, __NR_time,
	__NR_nanosleep, __NR_clock_nanosleep_time32,
	__NR_clock_nanosleep_time64, __NR_lseek, __NR__llseek,
	__NR_fstat, __NR_fstat64, __NR_fstatat64, __NR_fcntl,
	__NR_fcntl64, __NR_getdents, __NR_poll, __NR_ppoll_time64,
	__NR_select, __NR__newselect, __NR_pselect6_time64,
	__NR_epoll_wait, __NR_getuid32, __NR_geteuid32, __NR_getgid32,
	__NR_getegid32,
};

const struct arch arch_cpu = {
	.name = "i686",
	.audit = AUDIT_ARCH_I386,
	.syscalls = syscalls,
	.nsyscalls = ARCH_NSYSCALLS(syscalls),
	.nr_send = -1,
	.nr_open = __NR_open,
};
