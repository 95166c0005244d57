/*
 * The ways to reach an address that are not a plain connect() or
 * sendto(), for itest_paths on this machine and the qemu guests' client
 * alike: io_uring's IORING_OP_CONNECT (UDP and TCP) and IORING_OP_SENDMSG,
 * sendmmsg(), TCP Fast Open's sendto(MSG_FASTOPEN), and connect() to an
 * IPv4-mapped IPv6 address.  Each must be either recorded exactly
 * (destination, family, protocol, and the call where the backend knows
 * it) or named in /health's not_seen; one named there and recorded
 * anyway is a false sentence and fails too.
 */
#ifndef IT_PATHS_H
#define IT_PATHS_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>

#include "tests/integration/uring.h"

#ifndef MSG_FASTOPEN
#define MSG_FASTOPEN 0x20000000
#endif

enum { P_URING_UDP, P_URING_TCP, P_URING_SENDMSG, P_SENDMMSG, P_TFO,
    P_MAPPED, P_N };

static const struct it_path {
	const char *what;       /* for messages */
	const char *named;      /* how not_seen names it */
	const char *syscall;    /* the call the event must say, if exact */
	int tcp, v6;            /* the socket's protocol and family */
} it_paths[P_N] = {
	[P_URING_UDP] = { "io_uring UDP connect", "io_uring", "connect", 0, 0 },
	[P_URING_TCP] = { "io_uring TCP connect", "io_uring", "connect", 1, 0 },
	[P_URING_SENDMSG] = { "io_uring sendmsg", "io_uring", "sendmsg", 0, 0 },
	[P_SENDMMSG] = { "sendmmsg()", "sendmmsg", "sendmsg", 0, 0 },
	[P_TFO] = { "TCP Fast Open sendto()", "Fast Open", "connect", 1, 0 },
	[P_MAPPED] = { "connect() to ::ffff:127.0.0.1", "IPv4-mapped", "connect", 0, 1 },
};

static inline void
it_sin_lo(struct sockaddr_in *a, int p)
{
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)p);
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

/* A TCP listener on 127.0.0.1 that takes Fast Open; its port, or -1. */
static inline int
it_paths_listener(int *fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int qlen = 5;

	it_sin_lo(&a, 0);
	*fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(*fd, IPPROTO_TCP, TCP_FASTOPEN, &qlen, sizeof(qlen));
	if (bind(*fd, (void *)&a, sizeof(a)) < 0 || listen(*fd, 8) < 0 ||
	    getsockname(*fd, (void *)&a, &len) < 0)
		return -1;
	return ntohs(a.sin_port);
}

/* Every path once, to port[i] of 127.0.0.1 (port[P_URING_TCP] and
 * port[P_TFO] listening).  Returns 0, or the errno io_uring was refused
 * with (its three paths were then not made). */
static inline int
it_paths_make(const int *port)
{
	struct sockaddr_in a;
	struct sockaddr_in6 a6;
	struct iovec iov = { .iov_base = "x", .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct mmsghdr mm[2];
	struct io_uring_sqe sqe;
	struct it_uring u;
	int s, e, uerr = 0;

	if ((e = it_uring_open(&u)) < 0) {
		uerr = -e;
	} else {
		/* IORING_OP_CONNECT, UDP then TCP (to the listener). */
		s = socket(AF_INET, SOCK_DGRAM, 0);
		it_sin_lo(&a, port[P_URING_UDP]);
		memset(&sqe, 0, sizeof(sqe));
		sqe.opcode = IORING_OP_CONNECT;
		sqe.fd = s;
		sqe.addr = (uint64_t)(uintptr_t)&a;
		sqe.off = sizeof(a);
		if ((e = it_uring_run(&u, &sqe)) < 0 && !uerr)
			uerr = -e;
		s = socket(AF_INET, SOCK_STREAM, 0);
		it_sin_lo(&a, port[P_URING_TCP]);
		sqe.fd = s;
		if ((e = it_uring_run(&u, &sqe)) < 0 && !uerr)
			uerr = -e;
		/* IORING_OP_SENDMSG with a destination. */
		s = socket(AF_INET, SOCK_DGRAM, 0);
		it_sin_lo(&a, port[P_URING_SENDMSG]);
		mh.msg_name = &a;
		mh.msg_namelen = sizeof(a);
		memset(&sqe, 0, sizeof(sqe));
		sqe.opcode = IORING_OP_SENDMSG;
		sqe.fd = s;
		sqe.addr = (uint64_t)(uintptr_t)&mh;
		if ((e = it_uring_run(&u, &sqe)) < 0 && !uerr)
			uerr = -e;
		it_uring_close(&u);
	}
	/* sendmmsg(): two datagrams to one address, in one call: the system
	 * call itself (64-bit musl's sendmmsg() is a loop of sendmsg()). */
	s = socket(AF_INET, SOCK_DGRAM, 0);
	it_sin_lo(&a, port[P_SENDMMSG]);
	memset(mm, 0, sizeof(mm));
	mm[0].msg_hdr.msg_name = mm[1].msg_hdr.msg_name = &a;
	mm[0].msg_hdr.msg_namelen = mm[1].msg_hdr.msg_namelen = sizeof(a);
	mm[0].msg_hdr.msg_iov = mm[1].msg_hdr.msg_iov = &iov;
	mm[0].msg_hdr.msg_iovlen = mm[1].msg_hdr.msg_iovlen = 1;
	syscall(__NR_sendmmsg, s, mm, 2, 0);
	/* TCP Fast Open: the connect is inside sendto(). */
	s = socket(AF_INET, SOCK_STREAM, 0);
	it_sin_lo(&a, port[P_TFO]);
	sendto(s, "x", 1, MSG_FASTOPEN | MSG_NOSIGNAL, (void *)&a, sizeof(a));
	/* An IPv6 socket to an IPv4 host, as dual-stack programs do. */
	s = socket(AF_INET6, SOCK_DGRAM, 0);
	memset(&a6, 0, sizeof(a6));
	a6.sin6_family = AF_INET6;
	a6.sin6_port = htons((uint16_t)port[P_MAPPED]);
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &a6.sin6_addr);
	connect(s, (void *)&a6, sizeof(a6));
	return uerr;
}

/* /health's not_seen array as one "a; b; " string into buf. */
static inline void
it_paths_not_seen(json_t *health, char *buf, size_t n)
{
	json_t *v;
	size_t j, len = 0;

	buf[0] = '\0';
	json_array_foreach(json_object_get(health, "not_seen"), j, v)
		if (json_is_string(v) && len < n)
			len += (size_t)snprintf(buf + len, n - len, "%s; ",
			    json_string_value(v));
}

/* The event in arr to port p, or NULL. */
static inline json_t *
it_paths_event(json_t *arr, int p)
{
	size_t i;
	json_t *e;

	json_array_foreach(arr, i, e)
		if (json_integer_value(json_object_get(e, "destination_port")) == p)
			return e;
	return NULL;
}

/* 1 when every path is either in arr or named in not_seen. */
static inline int
it_paths_done(json_t *arr, const int *port, const char *not_seen)
{
	int i;

	for (i = 0; i < P_N; i++)
		if (!strstr(not_seen, it_paths[i].named) && !it_paths_event(arr, port[i]))
			return 0;
	return 1;
}

/*
 * Path i against the events arr of the process that made it (comm) and
 * not_seen, under a backend that knows the call exactly or not
 * (syscall_exact), and the socket's type (type_exact).  Returns 1
 * recorded exactly, 0 not seen as not_seen says, -1 wrong, with why.
 */
static inline int
it_paths_check(int i, json_t *arr, const int *port, const char *not_seen,
    const char *comm, int syscall_exact, int type_exact, char *why, size_t n)
{
	const struct it_path *p = &it_paths[i];
	const char *ip = p->v6 ? "::ffff:127.0.0.1" : "127.0.0.1";
	const char *sc, *want;
	int said = strstr(not_seen, p->named) != NULL;
	json_t *e = it_paths_event(arr, port[i]);

	if (!e && !said) {
		snprintf(why, n, "%s neither recorded nor in not_seen (%.700s)",
		    p->what, not_seen);
		return -1;
	}
	/* A syscall backend without BTF cannot tell a stream socket's
	 * sendto() from a datagram's: the Fast Open connect shows as a
	 * sendto of unknown protocol, not as the connect it is. */
	if (e && said && i == P_TFO && !type_exact &&
	    strcmp(json_string_value(json_object_get(e, "syscall")), "sendto") == 0)
		return 0;
	if (e && said) {
		snprintf(why, n, "%s recorded, yet not_seen says it is not: %.700s",
		    p->what, not_seen);
		return -1;
	}
	if (!e)
		return 0;
	/* A datagram whose call the backend cannot tell says so. */
	want = syscall_exact || strcmp(p->syscall, "connect") == 0 ?
	    p->syscall : "sendto|sendmsg";
	sc = json_string_value(json_object_get(e, "syscall"));
	if (strcmp(json_string_value(json_object_get(e, "destination_ip")), ip) != 0 ||
	    json_integer_value(json_object_get(e, "address_family")) != (p->v6 ? 10 : 2) ||
	    (type_exact && strcmp(json_string_value(json_object_get(e,
	    "protocol")), p->tcp ? "TCP" : "UDP") != 0) ||
	    strcmp(json_string_value(json_object_get(e, "command")), comm) != 0 ||
	    !sc || strcmp(sc, want) != 0) {
		char *d = json_dumps(e, JSON_COMPACT);

		snprintf(why, n, "%s recorded wrong (want %s, %s, %s): %s",
		    p->what, ip, p->tcp ? "TCP" : "UDP", want, d ? d : "?");
		free(d);
		return -1;
	}
	return 1;
}

#endif
