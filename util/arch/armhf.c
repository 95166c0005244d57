/*
 * 32-bit ARM (EABI, hard float): arguments in r0-r5 (uregs[0..5]).  Its
 * registers are 32-bit, so no exit-only programs.  musl uses the 64-bit
 * time_t calls (*_time64) and falls back to the old ones on kernels before
 * 5.1; mmap2 maps, sigreturn returns from handlers without SA_SIGINFO, and
 * the ids are the *32 calls.
 */
#include <sys/syscall.h>

#include <linux/audit.h>

#include "util/arch.h"

static const unsigned syscalls[] = {
	__NR_mmap2, __NR_futex_time64, __NR_sigreturn,
	__NR_rt_sigtimedwait_time64, __NR_clock_gettime32,
	__NR_clock_gettime64, __NR_clock_getres_time32,
	__NR_clock_getres_time64, __NR_gettimeofday_time32,
	__NR_nanosleep, __NR_clock_nanosleep_time32,
	__NR_clock_nanosleep_time64, __NR_lseek, __NR__llseek,
	__NR_fstat, __NR_fstat64, __NR_fstatat64, __NR_fcntl,
	__NR_fcntl64, __NR_getdents, __NR_poll, __NR_ppoll_time64,
	__NR__newselect, __NR_pselect6_time64, __NR_epoll_wait,
	__NR_accept, __NR_send, __NR_recv, __NR_getuid32,
	__NR_geteuid32, __NR_getgid32, __NR_getegid32,
};

const struct arch arch_cpu = {
	.name = "armhf",
	.audit = AUDIT_ARCH_ARM,
	.syscalls = syscalls,
	.nsyscalls = ARCH_NSYSCALLS(syscalls),
	.nr_send = __NR_send,
	.nr_open = __NR_open,
};
