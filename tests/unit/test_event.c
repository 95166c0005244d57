/* Unit tests for util/event.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "../../util/event.c"
#include "loader/decode.h"

#include <sys/un.h>

static struct kevent
kev(const void *sa, size_t salen)
{
	struct kevent k;

	memset(&k, 0, sizeof(k));
	k.ts = 1000;
	k.cgroup_id = 77;
	k.pid = 10;
	k.tid = 11;
	k.ppid = 1;
	k.uid = 1000;
	k.gid = 100;
	k.ret = -115;
	k.sock_type = SOCK_STREAM;
	k.protocol = IPPROTO_TCP;
	k.syscall = EV_CONNECT;
	k.addrlen = (uint16_t)salen;
	k.count = 1;
	memcpy(k.comm, "curl", 5);
	memcpy(k.addr, sa, salen);
	return k;
}

static void
test_decode_inet(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(443) };
	struct kevent k;
	struct event ev;
	char buf[64];

	(void)state;
	inet_pton(AF_INET, "93.184.216.34", &sin.sin_addr);
	k = kev(&sin, sizeof(sin));
	assert_int_equal(ld_decode(&k, sizeof(k), 5000, &ev), 0);
	assert_true(ev.ts == 6000);
	assert_true(ev.cgroup_id == 77);
	assert_int_equal(ev.pid, 10);
	assert_int_equal(ev.tid, 11);
	assert_int_equal(ev.ppid, 1);
	assert_int_equal(ev.uid, 1000);
	assert_int_equal(ev.gid, 100);
	assert_int_equal(ev.ret, -115);
	assert_int_equal(ev.count, 1);
	assert_int_equal(ev.family, AF_INET);
	assert_int_equal(ev.port, 443);
	assert_memory_equal(ev.ip, &sin.sin_addr, 4);
	assert_string_equal(ev.comm, "curl");
	assert_string_equal(ev.path, "");
	assert_string_equal(ev_family_name(&ev), "AF_INET");
	assert_string_equal(ev_protocol_name(&ev), "TCP");
	assert_string_equal(ev_type_name(&ev), "STREAM");
	assert_string_equal(ev_syscall_name(&ev), "connect");
	assert_string_equal(ev_service(&ev), "https");
	assert_int_equal(ev_destination(&ev, buf, sizeof(buf)), 17);
	assert_string_equal(buf, "93.184.216.34:443");
	ev_ip(&ev, buf, sizeof(buf));
	assert_string_equal(buf, "93.184.216.34");
	/* Truncates like snprintf and still says how long it would be. */
	assert_int_equal(ev_destination(&ev, buf, 5), 17);
	assert_string_equal(buf, "93.1");

	/* A negative offset (boot before the epoch would be odd, but the
	 * arithmetic must not care). */
	assert_int_equal(ld_decode(&k, sizeof(k), -500, &ev), 0);
	assert_true(ev.ts == 500);
}

/* What a return code means, and what a backend without them says. */
static void
test_results(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(443) };
	struct kevent k;
	struct event ev;

	(void)state;
	assert_int_equal(ev_result_of(EV_CONNECT, 0), EV_RESULT_OK);
	assert_int_equal(ev_result_of(EV_CONNECT, -ECONNREFUSED), EV_RESULT_REFUSED);
	assert_int_equal(ev_result_of(EV_CONNECT, -ETIMEDOUT), EV_RESULT_TIMEOUT);
	assert_int_equal(ev_result_of(EV_CONNECT, -ECONNRESET), EV_RESULT_RESET);
	assert_int_equal(ev_result_of(EV_CONNECT, -EINPROGRESS), EV_RESULT_PENDING);
	assert_int_equal(ev_result_of(EV_CONNECT, -ENETUNREACH), EV_RESULT_ERROR);
	assert_int_equal(ev_result_of(EV_SENDTO, 1), EV_RESULT_OK);
	assert_int_equal(ev_result_of(EV_SENDMSG, -EPERM), EV_RESULT_ERROR);

	k = kev(&sin, sizeof(sin));
	k.ret = -ECONNREFUSED;
	assert_int_equal(ld_decode(&k, sizeof(k), 0, &ev), 0);
	assert_int_equal(ev.ret_unknown, 0);
	assert_string_equal(ev_result_name(&ev), "refused");
	k.flags = KEV_RET_UNKNOWN;
	k.ret = 0;
	assert_int_equal(ld_decode(&k, sizeof(k), 0, &ev), 0);
	assert_int_equal(ev.ret_unknown, 1);
	assert_string_equal(ev_result_name(&ev), "unknown");
	ev.result = EV_RESULT_PENDING;  /* in progress shows as unknown */
	assert_string_equal(ev_result_name(&ev), "unknown");
	ev.result = 200;                /* out of range: unknown, no crash */
	assert_string_equal(ev_result_name(&ev), "unknown");
}

static void
test_decode_inet6(void **state)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6,
	    .sin6_port = htons(53) };
	struct kevent k;
	struct event ev;
	char buf[64];

	(void)state;
	inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr);
	k = kev(&sin6, sizeof(sin6));
	k.sock_type = SOCK_DGRAM;
	k.protocol = IPPROTO_UDP;
	k.syscall = EV_SENDTO;
	k.count = 7;
	assert_int_equal(ld_decode(&k, sizeof(k), 0, &ev), 0);
	assert_int_equal(ev.family, AF_INET6);
	assert_int_equal(ev.port, 53);
	assert_int_equal(ev.count, 7);
	assert_memory_equal(ev.ip, &sin6.sin6_addr, 16);
	assert_string_equal(ev_protocol_name(&ev), "UDP");
	assert_string_equal(ev_type_name(&ev), "DGRAM");
	assert_string_equal(ev_syscall_name(&ev), "sendto");
	assert_string_equal(ev_service(&ev), "dns");
	ev_destination(&ev, buf, sizeof(buf));
	assert_string_equal(buf, "[2001:db8::1]:53");
	ev_ip(&ev, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8::1");

	inet_pton(AF_INET6, "::1", &sin6.sin6_addr);
	k = kev(&sin6, sizeof(sin6));
	ld_decode(&k, sizeof(k), 0, &ev);
	ev_ip(&ev, buf, sizeof(buf));
	assert_string_equal(buf, "::1");

	/* Too short for the address: the port is there, the address is not. */
	k = kev(&sin6, 8);
	ld_decode(&k, sizeof(k), 0, &ev);
	assert_int_equal(ev.family, AF_INET6);
	assert_int_equal(ev.port, 53);
	ev_ip(&ev, buf, sizeof(buf));
	assert_string_equal(buf, "::");
}

static void
test_decode_unix(void **state)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct kevent k;
	struct event ev;
	char buf[128];

	(void)state;
	strcpy(sun.sun_path, "/run/systemd/journal/socket");
	k = kev(&sun, offsetof(struct sockaddr_un, sun_path) + 28);
	k.protocol = PF_UNIX; /* what socket(AF_UNIX, ..., PF_UNIX) leaves */
	assert_int_equal(ld_decode(&k, sizeof(k), 0, &ev), 0);
	assert_int_equal(ev.family, AF_UNIX);
	assert_int_equal(ev.port, 0);
	assert_int_equal(ev.protocol, 0);
	assert_string_equal(ev.path, "/run/systemd/journal/socket");
	assert_string_equal(ev_family_name(&ev), "AF_UNIX");
	assert_string_equal(ev_protocol_name(&ev), "UNIX");
	assert_string_equal(ev_service(&ev), "");
	ev_destination(&ev, buf, sizeof(buf));
	assert_string_equal(buf, "/run/systemd/journal/socket");
	assert_int_equal(ev_ip(&ev, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");

	/* sizeof(sun) as addrlen: the path still ends at its NUL. */
	k = kev(&sun, sizeof(sun));
	ld_decode(&k, sizeof(k), 0, &ev);
	assert_string_equal(ev.path, "/run/systemd/journal/socket");

	/* addrlen cuts a path short: only what addrlen covers counts. */
	k = kev(&sun, offsetof(struct sockaddr_un, sun_path) + 4);
	ld_decode(&k, sizeof(k), 0, &ev);
	assert_string_equal(ev.path, "/run");

	/* A full 108-byte path without a NUL. */
	memset(sun.sun_path, 'x', sizeof(sun.sun_path));
	k = kev(&sun, sizeof(sun));
	ld_decode(&k, sizeof(k), 0, &ev);
	assert_int_equal(strlen(ev.path), 108);

	/* Unnamed (autobind) socket: just the family. */
	k = kev(&sun, 2);
	ld_decode(&k, sizeof(k), 0, &ev);
	assert_int_equal(ev.family, AF_UNIX);
	assert_string_equal(ev.path, "");
	ev_destination(&ev, buf, sizeof(buf));
	assert_string_equal(buf, "");
}

static void
test_decode_abstract(void **state)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct kevent k;
	struct event ev;
	char buf[128];

	(void)state;
	memcpy(sun.sun_path, "\0/tmp/.X11-unix/X0", 18);
	k = kev(&sun, offsetof(struct sockaddr_un, sun_path) + 18);
	ld_decode(&k, sizeof(k), 0, &ev);
	assert_string_equal(ev.path, "@/tmp/.X11-unix/X0");
	ev_destination(&ev, buf, sizeof(buf));
	assert_string_equal(buf, "@/tmp/.X11-unix/X0");

	/* Embedded and trailing NULs become '@', up to addrlen exactly. */
	memset(sun.sun_path, 0, sizeof(sun.sun_path));
	memcpy(sun.sun_path, "\0ab\0c", 5);
	k = kev(&sun, offsetof(struct sockaddr_un, sun_path) + 7);
	ld_decode(&k, sizeof(k), 0, &ev);
	assert_string_equal(ev.path, "@ab@c@@");

	/* A lone NUL: the empty abstract name. */
	k = kev(&sun, offsetof(struct sockaddr_un, sun_path) + 1);
	ld_decode(&k, sizeof(k), 0, &ev);
	assert_string_equal(ev.path, "@");

	/* addrlen past sun_path (EV_ADDR_MAX is 112) stops at 108 bytes. */
	k = kev(&sun, sizeof(sun));
	k.addrlen = EV_ADDR_MAX;
	ld_decode(&k, sizeof(k), 0, &ev);
	assert_int_equal(strlen(ev.path), 108);
	k.addrlen = 60000;
	ld_decode(&k, sizeof(k), 0, &ev);
	assert_int_equal(strlen(ev.path), 108);
}

static void
test_decode_short_and_padded(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(80) };
	struct kevent k = kev(&sin, sizeof(sin));
	unsigned char big[sizeof(k) + 4];
	struct event ev;

	(void)state;
	memset(&ev, 0x5a, sizeof(ev));
	assert_int_equal(ld_decode(&k, KEV_HEAD - 1, 0, &ev), -EINVAL);
	assert_int_equal(ld_decode(&k, 0, 0, &ev), -EINVAL);

	/* A short record (KEV_SIZE(16) for inet4) decodes whole; one cut
	 * inside its address gives the address up to the cut only. */
	assert_int_equal(ld_decode(&k, KEV_SIZE(16), 0, &ev), 0);
	assert_int_equal(ev.port, 80);
	assert_int_equal(ld_decode(&k, KEV_HEAD + 2, 0, &ev), 0);
	assert_int_equal(ev.family, AF_INET);
	assert_int_equal(ev.port, 0);
	assert_int_equal(ld_decode(&k, KEV_HEAD, 0, &ev), 0);
	assert_int_equal(ev.family, 0);
	assert_int_equal(ld_decode(NULL, sizeof(k), 0, &ev), -EINVAL);

	/* perf pads raw samples to 8 bytes: longer records are fine. */
	memcpy(big, &k, sizeof(k));
	memset(big + sizeof(k), 0xee, 4);
	assert_int_equal(ld_decode(big, sizeof(big), 0, &ev), 0);
	assert_int_equal(ev.port, 80);
	assert_string_equal(ev_service(&ev), "http");

	/* No address at all, and one too short for a family. */
	k = kev(&sin, 0);
	ld_decode(&k, sizeof(k), 0, &ev);
	assert_int_equal(ev.family, 0);
	assert_string_equal(ev_family_name(&ev), "UNKNOWN");
	k = kev(&sin, 1);
	ld_decode(&k, sizeof(k), 0, &ev);
	assert_int_equal(ev.family, 0);

	/* count 0 is still one attempt; comm is always terminated. */
	k = kev(&sin, sizeof(sin));
	k.count = 0;
	memset(k.comm, 'a', sizeof(k.comm));
	ld_decode(&k, sizeof(k), 0, &ev);
	assert_int_equal(ev.count, 1);
	assert_int_equal(strlen(ev.comm), 15);
}

/* As in the perf ring: the record follows a u32 size, 4-byte aligned.
 * Under UBSan (make test-asan) reading it in place was an error. */
static void
test_decode_misaligned(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(443) };
	struct kevent k = kev(&sin, sizeof(sin));
	uint64_t store[sizeof(k) / 8 + 2];
	unsigned char *p = (unsigned char *)store + 4;
	struct event ev;

	(void)state;
	memcpy(p, &k, sizeof(k));
	assert_int_equal(ld_decode(p, sizeof(k), 5000, &ev), 0);
	assert_true(ev.ts == 6000);
	assert_true(ev.cgroup_id == 77);
	assert_int_equal(ev.port, 443);
}

static void
test_names(void **state)
{
	struct event ev;

	(void)state;
	memset(&ev, 0, sizeof(ev));
	ev.family = AF_INET;
	ev.sock_type = SOCK_STREAM;
	ev.protocol = 0;
	assert_string_equal(ev_protocol_name(&ev), "TCP");
	ev.sock_type = SOCK_DGRAM;
	assert_string_equal(ev_protocol_name(&ev), "UDP");
	ev.sock_type = SOCK_SEQPACKET;
	assert_string_equal(ev_protocol_name(&ev), "UNKNOWN");
	ev.sock_type = SOCK_RAW;
	ev.protocol = IPPROTO_RAW;
	assert_string_equal(ev_protocol_name(&ev), "RAW");
	ev.protocol = IPPROTO_ICMP;
	assert_string_equal(ev_protocol_name(&ev), "ICMP");
	ev.family = AF_INET6;
	ev.sock_type = SOCK_DGRAM;
	ev.protocol = IPPROTO_ICMPV6;
	assert_string_equal(ev_protocol_name(&ev), "ICMP");
	ev.sock_type = SOCK_SEQPACKET;
	ev.protocol = IPPROTO_SCTP;
	assert_string_equal(ev_protocol_name(&ev), "SCTP");
	ev.sock_type = SOCK_STREAM;
	ev.protocol = 262;
	assert_string_equal(ev_protocol_name(&ev), "MPTCP");
	ev.protocol = EV_UNKNOWN;
	ev.sock_type = EV_UNKNOWN;
	assert_string_equal(ev_protocol_name(&ev), "UNKNOWN");
	assert_string_equal(ev_type_name(&ev), "UNKNOWN");
	ev.protocol = 0;
	assert_string_equal(ev_protocol_name(&ev), "UNKNOWN");
	ev.family = AF_NETLINK;
	ev.sock_type = SOCK_RAW;
	assert_string_equal(ev_protocol_name(&ev), "UNKNOWN");
	assert_string_equal(ev_family_name(&ev), "UNKNOWN");

	ev.sock_type = (uint16_t)(SOCK_STREAM | SOCK_NONBLOCK);
	assert_string_equal(ev_type_name(&ev), "STREAM");
	ev.sock_type = SOCK_DGRAM;
	assert_string_equal(ev_type_name(&ev), "DGRAM");
	ev.sock_type = SOCK_SEQPACKET;
	assert_string_equal(ev_type_name(&ev), "SEQPACKET");
	ev.sock_type = SOCK_RAW;
	assert_string_equal(ev_type_name(&ev), "RAW");
	ev.sock_type = SOCK_RDM;
	assert_string_equal(ev_type_name(&ev), "RDM");
	ev.sock_type = 10; /* SOCK_PACKET */
	assert_string_equal(ev_type_name(&ev), "UNKNOWN");

	ev.syscall = EV_SENDMSG;
	assert_string_equal(ev_syscall_name(&ev), "sendmsg");
	ev.syscall = EV_SEND;
	assert_string_equal(ev_syscall_name(&ev), "sendto|sendmsg");
	assert_true(ev_syscall_matches(EV_SENDTO, EV_SEND));
	assert_true(ev_syscall_matches(EV_SENDMSG, EV_SEND));
	assert_false(ev_syscall_matches(EV_CONNECT, EV_SEND));
	assert_false(ev_syscall_matches(EV_SENDTO, EV_SENDMSG));
	assert_true(ev_syscall_matches(EV_SENDMSG, EV_SENDMSG));
	ev.syscall = 9;
	assert_string_equal(ev_syscall_name(&ev), "UNKNOWN");
}

static void
test_services(void **state)
{
	static const struct { uint16_t port; const char *name; } want[] = {
		{ 20, "ftp" }, { 21, "ftp" }, { 22, "ssh" }, { 25, "smtp" },
		{ 67, "dhcp" }, { 68, "dhcp" }, { 123, "ntp" }, { 443, "https" },
		{ 853, "dns-over-tls" }, { 5353, "mdns" },
		{ 6443, "kubernetes-api" }, { 27017, "mongodb" },
		{ 0, "" }, { 19, "" }, { 24, "" }, { 444, "" }, { 65535, "" },
	};
	struct event ev;
	size_t i;

	(void)state;
	/* The binary search needs the table sorted and without duplicates. */
	for (i = 1; i < sizeof(services) / sizeof(services[0]); i++)
		assert_true(services[i - 1].port < services[i].port);
	assert_int_equal(sizeof(services) / sizeof(services[0]), 36);
	memset(&ev, 0, sizeof(ev));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		ev.family = i % 2 ? AF_INET : AF_INET6;
		ev.port = want[i].port;
		assert_string_equal(ev_service(&ev), want[i].name);
	}
	/* Every entry is found by its own port. */
	for (i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
		ev.port = services[i].port;
		assert_string_equal(ev_service(&ev), services[i].name);
	}
	/* Ports mean nothing outside INET. */
	ev.family = AF_UNIX;
	ev.port = 80;
	assert_string_equal(ev_service(&ev), "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_inet),
		cmocka_unit_test(test_results),
		cmocka_unit_test(test_decode_misaligned),
		cmocka_unit_test(test_decode_inet6),
		cmocka_unit_test(test_decode_unix),
		cmocka_unit_test(test_decode_abstract),
		cmocka_unit_test(test_decode_short_and_padded),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_services),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
