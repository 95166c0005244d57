/*
 * Datagrams sent with sendto()/sendmsg() to an explicit address, on the
 * real kernel: recorded with their syscall, protocol from the kernel, and
 * nothing recorded for sends without a destination or on stream sockets;
 * to unix addresses only by the cgroup backend's sendmsg_unix hook.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sys/prctl.h>
#include <sys/un.h>

#include "tests/integration/itest.h"

#define COMM "itest-dgram"

static struct server srv;
static pid_t child;
static int tcp_port, udp_port;

static void
sends(void)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct iovec iov = { .iov_base = "x", .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int u4, u6, uu, t, l;
	socklen_t len = sizeof(a4);

	a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a6.sin6_addr = in6addr_loopback;
	u4 = socket(AF_INET, SOCK_DGRAM, 0);
	u6 = socket(AF_INET6, SOCK_DGRAM, 0);
	uu = socket(AF_UNIX, SOCK_DGRAM, 0);

	a4.sin_port = htons(udp_port);
	sendto(u4, "x", 1, 0, (void *)&a4, sizeof(a4));         /* recorded */
	a6.sin6_port = htons(514);
	mh.msg_name = &a6;
	mh.msg_namelen = sizeof(a6);
	sendmsg(u6, &mh, 0);                                    /* recorded */
	/* Connected: connect recorded, the send without address not. */
	a4.sin_port = htons(udp_port + 1);
	connect(u4, (void *)&a4, sizeof(a4));
	send(u4, "x", 1, 0);
	sendto(u4, "x", 1, 0, NULL, 0);
	mh.msg_name = NULL;
	mh.msg_namelen = 0;
	sendmsg(u4, &mh, 0);
	/* unix datagram with a path: not an IP destination. */
	strcpy(un.sun_path, "/nonexistent/itest");
	sendto(uu, "x", 1, 0, (void *)&un, sizeof(un));
	/* TCP with an address: stream sockets are not datagrams. */
	l = socket(AF_INET, SOCK_STREAM, 0);
	a4.sin_port = 0;
	bind(l, (void *)&a4, sizeof(a4));
	listen(l, 1);
	getsockname(l, (void *)&a4, &len);
	tcp_port = ntohs(a4.sin_port);
	t = socket(AF_INET, SOCK_STREAM, 0);
	connect(t, (void *)&a4, sizeof(a4));                    /* recorded */
	sendto(t, "x", 1, MSG_NOSIGNAL, (void *)&a4, sizeof(a4));
}

static int
setup(void **state)
{
	int p[2], status;

	(void)state;
	if (it_start(&srv, NULL) < 0)
		return -1;
	udp_port = it_free_port();
	if (pipe(p) < 0)
		return -1;
	if ((child = fork()) == 0) {
		prctl(PR_SET_NAME, COMM);
		sends();
		write(p[1], &tcp_port, sizeof(tcp_port));
		_exit(0);
	}
	close(p[1]);
	read(p[0], &tcp_port, sizeof(tcp_port));
	close(p[0]);
	waitpid(child, &status, 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return it_stop(&srv, NULL) == 0 ? 0 : -1;
}

static json_t *
child_events(struct reply *r, int want)
{
	char path[128], key[32];
	double t0 = it_now();
	json_t *arr;

	snprintf(path, sizeof(path), "/api/list-connections?pid=%d&limit=1000", (int)child);
	snprintf(key, sizeof(key), "%d", (int)child);
	for (;;) {
		if (it_http(srv.port, "GET", path, NULL, r) == 0) {
			arr = json_object_get(json_object_get(r->json, "connections"), key);
			if ((int)json_array_size(arr) >= want || it_now() - t0 > 2)
				return arr;
		}
		it_reply_free(r);
		usleep(50000);
	}
}

static json_t *
find(json_t *arr, const char *syscall_, const char *dest)
{
	size_t i;
	json_t *e;

	json_array_foreach(arr, i, e) {
		if (strcmp(json_string_value(json_object_get(e, "syscall")), syscall_) == 0 &&
		    strcmp(json_string_value(json_object_get(e, "destination")), dest) == 0)
			return e;
	}
	return NULL;
}

static void
test_datagrams_recorded(void **state)
{
	struct reply r;
	char dest[64];
	json_t *arr, *e;

	(void)state;
	/* sendto, sendmsg, UDP connect, TCP connect: exactly four.  The
	 * cgroup backend's sendmsg_unix hook also sees the unix datagram
	 * sent to a path, which the tracepoint backends leave out. */
	int want = 4 + (strcmp(srv.backend, "cgroup") == 0 && it_knows(&srv, "unix"));
	int rc_known = it_knows(&srv, "return_code");
	/* The socket hooks cannot tell sendto from sendmsg, and say so. */
	const char *sendto_ = it_knows(&srv, "syscall") ? "sendto" : "sendto|sendmsg";
	const char *sendmsg_ = it_knows(&srv, "syscall") ? "sendmsg" : "sendto|sendmsg";

	arr = child_events(&r, want);
	if ((int)json_array_size(arr) != want)
		fail_msg("want %d events, got %zu: %s", want, json_array_size(arr),
		    r.body);
	if (want == 5)
		assert_non_null(find(arr, sendmsg_, "/nonexistent/itest"));

	snprintf(dest, sizeof(dest), "127.0.0.1:%d", udp_port);
	e = find(arr, sendto_, dest);
	assert_non_null(e);
	assert_string_equal(json_string_value(json_object_get(e, "protocol")), "UDP");
	assert_string_equal(json_string_value(json_object_get(e, "socket_type")), "DGRAM");
	if (rc_known)
		assert_int_equal(json_integer_value(json_object_get(e, "return_code")), 1);
	else
		assert_true(json_is_null(json_object_get(e, "return_code")));
	assert_int_equal(json_integer_value(json_object_get(e, "count")), 1);
	assert_string_equal(json_string_value(json_object_get(e, "command")), COMM);

	e = find(arr, sendmsg_, "[::1]:514");
	assert_non_null(e);
	assert_string_equal(json_string_value(json_object_get(e, "protocol")), "UDP");
	assert_int_equal(json_integer_value(json_object_get(e, "address_family")), 10);
	assert_string_equal(json_string_value(json_object_get(e, "service")), "syslog");
	if (rc_known)
		assert_int_equal(json_integer_value(json_object_get(e, "return_code")), 1);

	snprintf(dest, sizeof(dest), "127.0.0.1:%d", udp_port + 1);
	assert_non_null(find(arr, "connect", dest));
	snprintf(dest, sizeof(dest), "127.0.0.1:%d", tcp_port);
	assert_non_null(find(arr, "connect", dest));
	it_reply_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_datagrams_recorded),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
