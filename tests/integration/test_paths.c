/*
 * The ways to reach an address that are not a plain connect() or
 * sendto(), made by one process on the real kernel under the backend
 * make test names (ITEST_BACKEND, or auto): io_uring's IORING_OP_CONNECT
 * (UDP and TCP) and IORING_OP_SENDMSG, sendmmsg(), TCP Fast Open's
 * sendto(MSG_FASTOPEN), and connect() to an IPv4-mapped IPv6 address.
 * Each must be either recorded exactly (destination, family, protocol,
 * and the call where the backend knows it) or named in /health's
 * not_seen; one that is named there and recorded anyway is a false
 * sentence and fails too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <netinet/tcp.h>
#include <sys/prctl.h>

#include "tests/integration/itest.h"
#include "tests/integration/uring.h"

#define COMM "itest-paths"

#ifndef MSG_FASTOPEN
#define MSG_FASTOPEN 0x20000000
#endif

enum { P_URING_UDP, P_URING_TCP, P_URING_SENDMSG, P_SENDMMSG, P_TFO,
    P_MAPPED, P_N };

static const struct path {
	const char *what;       /* for messages */
	const char *named;      /* how not_seen names it */
	const char *syscall;    /* the call the event must say, if exact */
	int tcp, v6;            /* the socket's protocol and family */
} paths[P_N] = {
	[P_URING_UDP] = { "io_uring UDP connect", "io_uring", "connect", 0, 0 },
	[P_URING_TCP] = { "io_uring TCP connect", "io_uring", "connect", 1, 0 },
	[P_URING_SENDMSG] = { "io_uring sendmsg", "io_uring", "sendmsg", 0, 0 },
	[P_SENDMMSG] = { "sendmmsg()", "sendmmsg", "sendmsg", 0, 0 },
	[P_TFO] = { "TCP Fast Open sendto()", "Fast Open", "connect", 1, 0 },
	[P_MAPPED] = { "connect() to ::ffff:127.0.0.1", "IPv4-mapped", "connect", 0, 1 },
};

static struct server srv;
static pid_t child;
static int port[P_N];
static int uring_errno;         /* the child could not use io_uring */

static void
sin_lo(struct sockaddr_in *a, int p)
{
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)p);
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

/* A TCP listener on 127.0.0.1 (Fast Open allowed); its port. */
static int
listener(int *fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int one = 5;

	sin_lo(&a, 0);
	*fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(*fd, IPPROTO_TCP, TCP_FASTOPEN, &one, sizeof(one));
	if (bind(*fd, (void *)&a, sizeof(a)) < 0 || listen(*fd, 8) < 0 ||
	    getsockname(*fd, (void *)&a, &len) < 0)
		return -1;
	return ntohs(a.sin_port);
}

/* The child: every path once; the first io_uring error, or 0. */
static int
calls(void)
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
		sin_lo(&a, port[P_URING_UDP]);
		memset(&sqe, 0, sizeof(sqe));
		sqe.opcode = IORING_OP_CONNECT;
		sqe.fd = s;
		sqe.addr = (uint64_t)(uintptr_t)&a;
		sqe.off = sizeof(a);
		if ((e = it_uring_run(&u, &sqe)) < 0 && !uerr)
			uerr = -e;
		s = socket(AF_INET, SOCK_STREAM, 0);
		sin_lo(&a, port[P_URING_TCP]);
		sqe.fd = s;
		if ((e = it_uring_run(&u, &sqe)) < 0 && !uerr)
			uerr = -e;
		/* IORING_OP_SENDMSG with a destination. */
		s = socket(AF_INET, SOCK_DGRAM, 0);
		sin_lo(&a, port[P_URING_SENDMSG]);
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
	/* sendmmsg(): two datagrams to one address, in one call. */
	s = socket(AF_INET, SOCK_DGRAM, 0);
	sin_lo(&a, port[P_SENDMMSG]);
	memset(mm, 0, sizeof(mm));
	mm[0].msg_hdr.msg_name = mm[1].msg_hdr.msg_name = &a;
	mm[0].msg_hdr.msg_namelen = mm[1].msg_hdr.msg_namelen = sizeof(a);
	mm[0].msg_hdr.msg_iov = mm[1].msg_hdr.msg_iov = &iov;
	mm[0].msg_hdr.msg_iovlen = mm[1].msg_hdr.msg_iovlen = 1;
	sendmmsg(s, mm, 2, 0);
	/* TCP Fast Open: the connect is inside sendto(). */
	s = socket(AF_INET, SOCK_STREAM, 0);
	sin_lo(&a, port[P_TFO]);
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

static int
setup(void **state)
{
	int p[2], status, l1, l2, i;

	(void)state;
	if (it_start(&srv, NULL) < 0)
		return -1;
	for (i = 0; i < P_N; i++)
		port[i] = it_free_port();
	port[P_URING_TCP] = listener(&l1);
	port[P_TFO] = listener(&l2);
	if (pipe(p) < 0)
		return -1;
	if ((child = fork()) == 0) {
		int e;

		prctl(PR_SET_NAME, COMM);
		e = calls();
		write(p[1], &e, sizeof(e));
		_exit(0);
	}
	close(p[1]);
	read(p[0], &uring_errno, sizeof(uring_errno));
	close(p[0]);
	waitpid(child, &status, 0);
	close(l1);
	close(l2);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return it_stop(&srv, NULL) == 0 ? 0 : -1;
}

/* The child's event to port p, or NULL. */
static json_t *
event_to(json_t *arr, int p)
{
	size_t i;
	json_t *e;

	json_array_foreach(arr, i, e)
		if (json_integer_value(json_object_get(e, "destination_port")) == p)
			return e;
	return NULL;
}

static void
test_paths_seen_or_said(void **state)
{
	char path[128], key[32], why[4096] = "";
	struct reply r, h;
	json_t *arr = NULL, *ns, *v, *e;
	double t0 = it_now();
	size_t j;
	int i, said, seen_all;

	(void)state;
	assert_int_equal(it_http(srv.port, "GET", "/health", NULL, &h), 0);
	ns = json_object_get(h.json, "not_seen");
	assert_true(json_is_array(ns));
	json_array_foreach(ns, j, v) {
		assert_true(json_is_string(v));
		snprintf(why + strlen(why), sizeof(why) - strlen(why), "%s; ",
		    json_string_value(v));
	}
	/* Wait for every path this backend claims to see, a few flush
	 * periods at most. */
	snprintf(path, sizeof(path), "/api/list-connections?pid=%d&limit=1000",
	    (int)child);
	snprintf(key, sizeof(key), "%d", (int)child);
	for (;;) {
		assert_int_equal(it_http(srv.port, "GET", path, NULL, &r), 0);
		arr = json_object_get(json_object_get(r.json, "connections"), key);
		for (i = 0, seen_all = 1; i < P_N; i++)
			if (!strstr(why, paths[i].named) && !event_to(arr, port[i]))
				seen_all = 0;
		if (seen_all || it_now() - t0 > 3)
			break;
		it_reply_free(&r);
		usleep(50000);
	}
	for (i = 0; i < P_N; i++) {
		const char *sc;

		said = strstr(why, paths[i].named) != NULL;
		e = event_to(arr, port[i]);
		if (i <= P_URING_SENDMSG && uring_errno) {
			/* No io_uring for us here: nothing to assert. */
			print_message("%s: io_uring refused (%s), not tried\n",
			    paths[i].what, strerror(uring_errno));
			continue;
		}
		if (!e && !said)
			fail_msg("backend %s: %s neither recorded nor in not_seen "
			    "(%s): %s", srv.backend, paths[i].what, why, r.body);
		if (e && said)
			fail_msg("backend %s: %s recorded, yet not_seen says it "
			    "is not: %s", srv.backend, paths[i].what, why);
		if (!e) {
			print_message("%s: %s not seen, as /health says\n",
			    srv.backend, paths[i].what);
			continue;
		}
		assert_string_equal(json_string_value(json_object_get(e,
		    "destination_ip")), paths[i].v6 ? "::ffff:127.0.0.1" : "127.0.0.1");
		assert_int_equal(json_integer_value(json_object_get(e,
		    "address_family")), paths[i].v6 ? 10 : 2);
		assert_string_equal(json_string_value(json_object_get(e,
		    "protocol")), paths[i].tcp ? "TCP" : "UDP");
		assert_string_equal(json_string_value(json_object_get(e,
		    "command")), COMM);
		sc = json_string_value(json_object_get(e, "syscall"));
		if (it_knows(&srv, "syscall") || strcmp(paths[i].syscall, "connect") == 0)
			assert_string_equal(sc, paths[i].syscall);
		else    /* a datagram whose call the backend cannot tell */
			assert_string_equal(sc, "sendto|sendmsg");
		print_message("%s: %s recorded exactly\n", srv.backend, paths[i].what);
	}
	/* A v4-mapped destination is the IPv4 address it is to the
	 * filters, while address_family stays the socket's. */
	if ((e = event_to(arr, port[P_MAPPED])) != NULL) {
		struct reply f;
		char q[160];

		snprintf(q, sizeof(q), "/api/list-connections?pid=%d&port=%d&"
		    "ip=127.0.0.0/8&family=inet", (int)child, port[P_MAPPED]);
		assert_int_equal(it_http(srv.port, "GET", q, NULL, &f), 0);
		assert_int_equal(json_array_size(json_object_get(json_object_get(
		    f.json, "connections"), key)), 1);
		it_reply_free(&f);
	}
	it_reply_free(&r);
	it_reply_free(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths_seen_or_said),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
