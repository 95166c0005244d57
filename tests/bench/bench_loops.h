/*
 * The loops `make bench` times: connect() of three kinds and getppid(),
 * each on one socket made before the clock starts, so that a loop times the
 * system call and whatever hangs off it, nothing else.  Header-only, like
 * tests/integration/itest.h.
 */
#ifndef BENCH_LOOPS_H
#define BENCH_LOOPS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

enum loop_kind { LOOP_UDP, LOOP_TCP_REFUSED, LOOP_UNIX, LOOP_GETPPID };

/*
 * The loop thread's own CPU time: the system call and every probe on it
 * run on that clock, while the time other tenants of a shared machine
 * take the CPU away does not.  (The server's reader runs on its own
 * thread; make bench reports its cost per event separately.)
 */
static inline uint64_t
bl_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* An abstract unix datagram socket to connect to; its fd, or -1. */
static inline int
bl_unix_target(const char *name, struct sockaddr_un *u, socklen_t *len)
{
	int fd;

	memset(u, 0, sizeof(*u));
	u->sun_family = AF_UNIX;
	memcpy(u->sun_path + 1, name, strlen(name));
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM, 0)) < 0)
		return -1;
	if (bind(fd, (void *)u, *len) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Run n iterations of kind and return the nanoseconds per call, or -1.
 * UDP: connect() to 127.0.0.1:9 again and again on one socket (no packet
 * is sent).  TCP: connect() to a closed port on one socket: refused each
 * time, and Linux lets the same socket try again.  Unix: connect() of a
 * datagram socket to an abstract name.  port is the closed TCP port.
 */
static inline double
bl_run(enum loop_kind kind, long n, int port)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	struct sockaddr_un u;
	socklen_t ulen = 0;
	const void *addr = &a4;
	socklen_t alen = sizeof(a4);
	char name[64];
	int fd = -1, target = -1;
	uint64_t t0, t1;
	long i;

	a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	switch (kind) {
	case LOOP_UDP:
		a4.sin_port = htons(9);
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		break;
	case LOOP_TCP_REFUSED:
		a4.sin_port = htons((uint16_t)port);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		break;
	case LOOP_UNIX:
		snprintf(name, sizeof(name), "ebpf-bench-%d", (int)getpid());
		if ((target = bl_unix_target(name, &u, &ulen)) < 0)
			return -1;
		addr = &u;
		alen = ulen;
		fd = socket(AF_UNIX, SOCK_DGRAM, 0);
		break;
	case LOOP_GETPPID:
		t0 = bl_ns();
		for (i = 0; i < n; i++)
			syscall(SYS_getppid); /* not cached by any libc */
		t1 = bl_ns();
		return (double)(t1 - t0) / (double)n;
	}
	if (fd < 0)
		return -1;
	t0 = bl_ns();
	for (i = 0; i < n; i++)
		connect(fd, addr, alen);
	t1 = bl_ns();
	close(fd);
	if (target >= 0)
		close(target);
	return (double)(t1 - t0) / (double)n;
}

#endif
