/*
 * The sandbox's own calls of the architectures on the kernel's generic
 * system call table (asm-generic/unistd.h: arm64, riscv64): no open(),
 * poll() or select(), and the 64-bit time_t calls under their plain names.
 */
#ifndef ARCH_GENERIC_H
#define ARCH_GENERIC_H

#define ARCH_GENERIC_SYSCALLS \
	__NR_mmap, __NR_clock_gettime, __NR_clock_getres, \
	__NR_gettimeofday, __NR_nanosleep, __NR_clock_nanosleep, \
	__NR_lseek, __NR_fstat, __NR_newfstatat, __NR_fcntl, \
	__NR_accept

#endif
